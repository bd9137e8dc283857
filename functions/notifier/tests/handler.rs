//! The notifier's handler on SQS batches as Lambda delivers them, posting to
//! a scripted local webhook.

mod common;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use common::{Hooks, status};
use lambda_runtime::{Context, LambdaEvent};
use notifier::Notifier;
use notifier::targets::Targets;
use notifier::webhook::RetryPolicy;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        first_backoff: Duration::from_millis(10),
        ..RetryPolicy::default()
    }
}

fn notifier(hooks: &Hooks) -> Notifier {
    let mut targets = HashMap::new();
    targets.insert(
        "support".to_owned(),
        Targets {
            slack: Some(hooks.url_of("/slack/support")),
            teams: Some(hooks.url_of("/teams/support")),
            team_name: "support".into(),
            ticket_url: Some("https://console.example/tickets/{ticket}".into()),
        },
    );
    targets.insert(
        "billing".to_owned(),
        Targets {
            slack: Some(hooks.url_of("/slack/billing")),
            teams: None,
            team_name: "billing".into(),
            ticket_url: None,
        },
    );
    Notifier::new(targets, fast_policy()).unwrap()
}

fn envelope(id: &str, team: &str, ticket: &str) -> String {
    json!({
        "version": "0", "id": id, "detail-type": "TicketEscalated", "source": "helpdesk.tickets",
        "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"ticket_id": ticket, "team": team, "tier": 2, "priority": "high", "trigger": "direct_request",
                   "reason": "asked for an agent", "at_ms": 1795237200000i64, "excerpt": "an agent please", "language": "en"},
    })
    .to_string()
}

fn batch(bodies: &[(&str, String)]) -> LambdaEvent<SqsEvent> {
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .map(|(id, body)| {
            let mut m = SqsMessage::default();
            m.message_id = Some((*id).to_owned());
            m.body = Some(body.clone());
            m
        })
        .collect();
    LambdaEvent::new(event, Context::default())
}

fn failed(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn an_escalation_is_posted_once_to_each_of_the_team_s_channels() {
    // Arrange
    let hooks = Hooks::start().await;
    let notifier = notifier(&hooks);

    // Act
    let response = notifier
        .handle(batch(&[("m1", envelope("ev-1", "support", "TK-3F9A0C51D2E7"))]))
        .await
        .unwrap();

    // Assert
    assert!(failed(&response).is_empty());
    let slack = hooks.received("/slack/support");
    let teams = hooks.received("/teams/support");
    assert_eq!((slack.len(), teams.len()), (1, 1));
    assert!(slack[0].body["text"].as_str().unwrap().contains("TK-3F9A0C51D2E7"));
    assert_eq!(teams[0].body["type"], "message");
}

#[tokio::test]
async fn a_record_whose_teams_post_fails_is_redelivered_and_does_not_post_to_slack_again() {
    // Arrange
    let hooks = Hooks::start().await;
    hooks.always("/teams/support", status(502));
    let notifier = notifier(&hooks);
    let record = ("m1", envelope("ev-1", "support", "TK-1"));

    // Act
    let first = notifier.handle(batch(std::slice::from_ref(&record))).await.unwrap();
    hooks.always("/teams/support", status(200));
    let redelivered = notifier.handle(batch(&[record])).await.unwrap();

    // Assert
    assert_eq!(failed(&first), ["m1"]);
    assert!(failed(&redelivered).is_empty());
    assert_eq!(hooks.received("/slack/support").len(), 1);
    assert_eq!(hooks.received("/teams/support").len(), 4);
}

#[tokio::test]
async fn a_refused_post_is_not_retried_and_the_record_is_not_redelivered() {
    let hooks = Hooks::start().await;
    hooks.always("/slack/billing", status(403));
    let notifier = notifier(&hooks);

    let response = notifier
        .handle(batch(&[("m1", envelope("ev-1", "billing", "TK-1"))]))
        .await
        .unwrap();

    assert!(failed(&response).is_empty());
    assert_eq!(hooks.received("/slack/billing").len(), 1);
}

#[tokio::test]
async fn only_the_failing_record_of_a_batch_is_reported_and_a_malformed_one_too() {
    let hooks = Hooks::start().await;
    hooks.always("/slack/billing", status(500));
    let notifier = notifier(&hooks);

    let response = notifier
        .handle(batch(&[
            ("ok", envelope("ev-1", "support", "TK-1")),
            ("down", envelope("ev-2", "billing", "TK-2")),
            ("junk", "{\"not\":\"an event\"}".to_owned()),
            ("nobody", envelope("ev-3", "unknown-team", "TK-3")),
        ]))
        .await
        .unwrap();

    assert_eq!(failed(&response), ["down", "junk"]);
    assert_eq!(hooks.received("/slack/support").len(), 1);
    assert_eq!(hooks.received("/slack/billing").len(), 3);
}
