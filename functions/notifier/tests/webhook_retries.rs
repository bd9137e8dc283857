//! The retry policy of webhook posts, against a scripted local webhook.

mod common;

use common::{Answer, Hooks, status};
use notifier::webhook::{Deadline, Delivered, DeliveryError, Failure, RetryPolicy, WebhookClient};
use serde_json::json;
use std::time::{Duration, Instant};

fn client() -> WebhookClient {
    WebhookClient::new(RetryPolicy::default()).unwrap()
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_next_success_ends_the_post() {
    // Arrange
    let hooks = Hooks::start().await;
    hooks.script("/slack", &[status(500)]);

    // Act
    let outcome = client()
        .post(&hooks.url_of("/slack"), &json!({"text": "hi"}), Deadline::none())
        .await;

    // Assert
    assert_eq!(outcome, Ok(Delivered { attempts: 2 }));
    let received = hooks.received("/slack");
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].body, json!({"text": "hi"}));
    assert!(received[1].at - received[0].at >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_gets_three_posts_with_doubling_backoff() {
    let hooks = Hooks::start().await;
    hooks.always("/teams", status(503));

    let outcome = client()
        .post(&hooks.url_of("/teams"), &json!({}), Deadline::none())
        .await;

    assert_eq!(
        outcome,
        Err(DeliveryError::Unavailable {
            attempts: 3,
            last: Failure::Status(503)
        })
    );
    let received = hooks.received("/teams");
    assert_eq!(received.len(), 3);
    assert!(received[1].at - received[0].at >= Duration::from_millis(200));
    assert!(received[2].at - received[1].at >= Duration::from_millis(400));
}

#[tokio::test]
async fn a_client_error_other_than_429_is_not_retried() {
    let hooks = Hooks::start().await;
    hooks.always("/slack", status(404));

    let outcome = client()
        .post(&hooks.url_of("/slack"), &json!({}), Deadline::none())
        .await;

    assert_eq!(outcome, Err(DeliveryError::Rejected { status: 404 }));
    assert_eq!(hooks.received("/slack").len(), 1);
}

#[tokio::test]
async fn a_429_is_retried_after_the_time_its_retry_after_asks() {
    let hooks = Hooks::start().await;
    hooks.script(
        "/slack",
        &[Answer {
            status: 429,
            retry_after: Some(1),
        }],
    );

    let outcome = client()
        .post(&hooks.url_of("/slack"), &json!({}), Deadline::none())
        .await;

    assert_eq!(outcome, Ok(Delivered { attempts: 2 }));
    let received = hooks.received("/slack");
    assert!(received[1].at - received[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_long_retry_after_is_cut_to_the_policy_s_maximum() {
    let hooks = Hooks::start().await;
    hooks.script(
        "/slack",
        &[Answer {
            status: 429,
            retry_after: Some(3600),
        }],
    );
    let policy = RetryPolicy {
        max_retry_after: Duration::from_millis(300),
        ..RetryPolicy::default()
    };
    let started = Instant::now();

    let outcome = WebhookClient::new(policy)
        .unwrap()
        .post(&hooks.url_of("/slack"), &json!({}), Deadline::none())
        .await;

    assert_eq!(outcome, Ok(Delivered { attempts: 2 }));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_network_error_is_retried_and_reported_without_the_url() {
    // A port nothing listens on: bind, note it, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T000/B000/secret-token",
        listener.local_addr().unwrap()
    );
    drop(listener);
    let policy = RetryPolicy {
        first_backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    };

    let outcome = WebhookClient::new(policy)
        .unwrap()
        .post(&url, &json!({}), Deadline::none())
        .await;

    let Err(
        error @ DeliveryError::Unavailable {
            attempts: 3,
            last: Failure::Network(_),
        },
    ) = outcome
    else {
        panic!("expected a network failure after 3 attempts, got {outcome:?}");
    };
    assert!(!format!("{error} {error:?}").contains("secret-token"));
}

#[tokio::test]
async fn no_post_starts_when_the_invocation_deadline_leaves_no_time() {
    let hooks = Hooks::start().await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;

    let outcome = client()
        .post(
            &hooks.url_of("/slack"),
            &json!({}),
            Deadline::from_epoch_ms(now_ms + 1_000),
        )
        .await;

    assert_eq!(
        outcome,
        Err(DeliveryError::Unavailable {
            attempts: 0,
            last: Failure::OutOfTime
        })
    );
    assert!(hooks.received("/slack").is_empty());
}
