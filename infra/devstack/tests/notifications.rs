//! Agent notifications locally: an event put on the stack's bus reaches the
//! notify queue through the template's rule, the runner hands it to the real
//! notifier, and its Slack and Teams posts land on the runner's local webhooks.

mod common;

use common::{http_client, local_stack};
use devstack::{Runner, RunnerOptions, StackDescription};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn options() -> RunnerOptions {
    RunnerOptions {
        poll_wait_seconds: 1,
        ..Default::default()
    }
}

async fn notifications(runner: &Runner) -> Vec<Value> {
    http_client()
        .get(format!("{}/_local/notifications", runner.http_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_escalation_on_the_bus_is_posted_to_the_team_s_slack_and_teams_webhooks() {
    // Arrange
    let local = local_stack("notify", &[]).await;
    let runner = Runner::start(&local.stack.only_functions(&["NotifierFunction"]), options())
        .await
        .unwrap();
    let events = aws_sdk_eventbridge::Client::new(&devstack::sdk_config(&local.stack).await);
    let detail = json!({
        "ticket_id": "TK-3F9A0C51D2E7", "team": "support", "tier": 2, "priority": "high",
        "trigger": "direct_request", "reason": "the customer asked for an agent",
        "at_ms": 1795237200000i64, "excerpt": "I want to talk to a person", "language": "en",
    });

    // Act
    let put = events
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(&local.stack.outputs["EventBusName"])
                .source("helpdesk.tickets")
                .detail_type("TicketEscalated")
                .detail(detail.to_string())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.failed_entry_count(), 0);
    let started = Instant::now();
    let mut posts = notifications(&runner).await;
    while posts.len() < 2 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        posts = notifications(&runner).await;
    }

    // Assert
    let mut kinds: Vec<&str> = posts.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["slack", "teams"], "{posts:#?}");
    for post in &posts {
        assert_eq!(post["team"], "support");
        assert!(post["at"].as_str().is_some_and(|at| at.ends_with('Z')));
        assert!(post["body"].to_string().contains("TK-3F9A0C51D2E7"), "{post:#}");
        // "Open ticket" points at the console this runner serves.
        let link = format!("{}/console/tickets/TK-3F9A0C51D2E7", runner.http_url);
        assert!(post["body"].to_string().contains(&link), "{post:#}");
    }
    runner.shutdown().await;
}

fn stack_without_functions() -> StackDescription {
    StackDescription {
        endpoint: "http://127.0.0.1:1".into(),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        stack_name: "hooks".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_local_webhooks_capture_posts_list_them_newest_last_and_clear_them() {
    // Arrange
    let runner = Runner::start(&stack_without_functions(), options()).await.unwrap();
    let client = http_client();
    let post = |path: &str, body: &str| {
        client
            .post(format!("{}{path}", runner.http_url))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
    };

    // Act
    let slack = post("/_local/hooks/slack/support", r#"{"text":"first"}"#)
        .await
        .unwrap();
    let slack_status = slack.status().as_u16();
    let slack_answer = slack.text().await.unwrap();
    let teams = post("/_local/hooks/teams/billing", r#"{"type":"message"}"#)
        .await
        .unwrap();
    let unknown_kind = post("/_local/hooks/email/support", "{}").await.unwrap();
    let not_json = post("/_local/hooks/slack/support", "text=hi").await.unwrap();
    let listed = notifications(&runner).await;
    let cleared = client
        .delete(format!("{}/_local/notifications", runner.http_url))
        .send()
        .await
        .unwrap();
    let after_clear = notifications(&runner).await;

    // Assert
    assert_eq!((slack_status, slack_answer.as_str()), (200, "ok"));
    assert_eq!(teams.status(), 200);
    assert_eq!(unknown_kind.status(), 404);
    assert_eq!(not_json.status(), 400);
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (&listed[0]["kind"], &listed[0]["team"], &listed[0]["body"]),
        (&json!("slack"), &json!("support"), &json!({"text": "first"}))
    );
    assert_eq!(
        (&listed[1]["kind"], &listed[1]["team"]),
        (&json!("teams"), &json!("billing"))
    );
    assert!(cleared.status().is_success());
    assert!(after_clear.is_empty());
    assert_eq!(runner.hooks_url, format!("{}/_local/hooks", runner.http_url));
    runner.shutdown().await;
}
