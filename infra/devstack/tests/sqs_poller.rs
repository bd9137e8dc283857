//! The runner's SQS event source over a real stack on moto: batches reach the
//! handler as Lambda builds them, and only what succeeded is deleted.

mod common;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use common::{local_stack, sqs_client};
use devstack::registry::Handler;
use devstack::{Runner, RunnerOptions};
use lambda_runtime::LambdaEvent;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

fn options() -> RunnerOptions {
    RunnerOptions {
        poll_wait_seconds: 1,
        ..Default::default()
    }
}

/// Every record the handler saw, in order.
async fn next_record(seen: &mut mpsc::UnboundedReceiver<SqsMessage>) -> SqsMessage {
    tokio::time::timeout(Duration::from_secs(15), seen.recv())
        .await
        .expect("a record arrives in time")
        .expect("the runner is still up")
}

async fn send(client: &aws_sdk_sqs::Client, queue_url: &str, body: &str, group: &str) {
    client
        .send_message()
        .queue_url(queue_url)
        .message_body(body)
        .message_group_id(group)
        .message_deduplication_id(format!("{group}-{body}"))
        .send()
        .await
        .unwrap();
}

/// A handler for the bot's binary that reports `fail` as failed on its first
/// receive, or the whole batch as an error when `fail_all` is set.
fn recording_handler(fail_all: bool) -> (Handler, mpsc::UnboundedReceiver<SqsMessage>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = Handler::sqs(move |event: LambdaEvent<SqsEvent>| {
        let tx = tx.clone();
        async move {
            let mut response = SqsBatchResponse::default();
            let first_receive = event
                .payload
                .records
                .iter()
                .all(|r| r.attributes["ApproximateReceiveCount"] == "1");
            for record in event.payload.records {
                if record.body.as_deref() == Some("fail") && record.attributes["ApproximateReceiveCount"] == "1" {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = record.message_id.clone().unwrap();
                    response.batch_item_failures.push(failure);
                }
                tx.send(record).unwrap();
            }
            if fail_all && first_receive {
                return Err::<SqsBatchResponse, lambda_runtime::Error>("the whole batch failed".into());
            }
            Ok(response)
        }
    });
    (handler, rx)
}

#[tokio::test]
async fn a_message_reported_as_failed_comes_back_after_the_visibility_timeout_and_the_other_is_deleted() {
    // Arrange
    let local = local_stack("sqs-partial", &[("QueueVisibilityTimeout", "1")]).await;
    let stack = local.stack.only_functions(&["BotFunction"]);
    let (handler, mut seen) = recording_handler(false);
    let runner = Runner::start_with_handlers(&stack, options(), HashMap::from([("bot".to_owned(), handler)]))
        .await
        .unwrap();
    let client = sqs_client(&local.stack).await;
    let inbound = &local.stack.outputs["InboundQueueUrl"];

    // Act
    send(&client, inbound, "ok", "customer-a").await;
    send(&client, inbound, "fail", "customer-b").await;
    let mut records = Vec::new();
    while !records
        .iter()
        .any(|r: &SqsMessage| r.body.as_deref() == Some("fail") && r.attributes["ApproximateReceiveCount"] == "2")
    {
        records.push(next_record(&mut seen).await);
    }
    // Long enough for anything undeleted to come back once more.
    let late = tokio::time::timeout(Duration::from_secs(3), seen.recv()).await;

    // Assert
    let oks: Vec<&SqsMessage> = records.iter().filter(|r| r.body.as_deref() == Some("ok")).collect();
    let fails: Vec<&SqsMessage> = records.iter().filter(|r| r.body.as_deref() == Some("fail")).collect();
    assert_eq!(oks.len(), 1, "the successful message is delivered once");
    assert_eq!(fails.len(), 2, "the failed message is delivered twice");
    assert_eq!(fails[0].attributes["ApproximateReceiveCount"], "1");
    assert_eq!(fails[1].attributes["ApproximateReceiveCount"], "2");
    assert!(late.is_err(), "nothing comes back once both succeeded");
    let record = oks[0];
    assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
    assert_eq!(
        record.event_source_arn.as_deref(),
        Some(stack.functions["BotFunction"].events_queue_arn(inbound).as_str())
    );
    assert_eq!(record.aws_region.as_deref(), Some("us-east-1"));
    assert_eq!(record.attributes["MessageGroupId"], "customer-a");
    assert_eq!(record.attributes["MessageDeduplicationId"], "customer-a-ok");
    for name in ["SentTimestamp", "SequenceNumber", "ApproximateFirstReceiveTimestamp"] {
        assert!(record.attributes.contains_key(name), "{name} is passed on");
    }
    assert!(record.md5_of_body.is_some() && record.receipt_handle.is_some());
    runner.shutdown().await;
}

#[tokio::test]
async fn a_failed_invocation_deletes_none_of_its_batch() {
    // Arrange
    let local = local_stack("sqs-error", &[("QueueVisibilityTimeout", "1")]).await;
    let stack = local.stack.only_functions(&["BotFunction"]);
    let (handler, mut seen) = recording_handler(true);
    let runner = Runner::start_with_handlers(&stack, options(), HashMap::from([("bot".to_owned(), handler)]))
        .await
        .unwrap();
    let client = sqs_client(&local.stack).await;
    let inbound = &local.stack.outputs["InboundQueueUrl"];

    // Act
    send(&client, inbound, "one", "customer-a").await;
    let first = next_record(&mut seen).await;
    let second = next_record(&mut seen).await;

    // Assert
    assert_eq!(first.body.as_deref(), Some("one"));
    assert_eq!(second.body.as_deref(), Some("one"));
    assert_eq!(second.attributes["ApproximateReceiveCount"], "2");
    runner.shutdown().await;
}

trait QueueArn {
    /// The ARN of the SQS event source that polls `queue_url`.
    fn events_queue_arn(&self, queue_url: &str) -> String;
}

impl QueueArn for devstack::FunctionDescription {
    fn events_queue_arn(&self, url: &str) -> String {
        self.events
            .iter()
            .find_map(|e| match e {
                devstack::EventSource::Sqs {
                    queue_arn, queue_url, ..
                } if queue_url == url => Some(queue_arn.clone()),
                _ => None,
            })
            .unwrap()
    }
}
