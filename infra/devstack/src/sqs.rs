//! The SQS event source mapping, played locally: long-polls a queue on moto,
//! hands each batch to the function's handler, and deletes only the messages
//! the handler did not report as failed. The rest reappear after the queue's
//! visibility timeout and reach the DLQ after `maxReceiveCount`, as on AWS.

use crate::registry::SqsFn;
use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use lambda_runtime::LambdaEvent;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a poller waits before retrying after moto failed to answer.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// One queue feeding one function.
#[derive(Clone, Debug)]
pub struct SqsSource {
    /// The function's logical id.
    pub function: String,
    /// The function's ARN, for the Lambda context.
    pub function_arn: String,
    /// The queue's URL.
    pub queue_url: String,
    /// The queue's ARN (`eventSourceARN` of each record).
    pub queue_arn: String,
    /// Records per invocation, 1 to 10.
    pub batch_size: i32,
    /// Whether `batchItemFailures` is honoured; without it, any success deletes the whole batch.
    pub report_batch_item_failures: bool,
    /// The stack's region.
    pub region: String,
}

impl SqsSource {
    /// The queue's name, for logs.
    pub fn queue_name(&self) -> &str {
        self.queue_arn.rsplit(':').next().unwrap_or(&self.queue_arn)
    }
}

/// Polls `source` until `stop` turns true (or its sender is dropped).
pub async fn poll(
    client: aws_sdk_sqs::Client,
    source: SqsSource,
    handler: SqsFn,
    wait_seconds: i32,
    mut stop: watch::Receiver<bool>,
) {
    tracing::debug!(function = %source.function, queue = source.queue_name(), "poller started");
    loop {
        if *stop.borrow() {
            break;
        }
        let receive = client
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(source.batch_size.clamp(1, 10))
            .wait_time_seconds(wait_seconds.max(0))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send();
        let received = tokio::select! {
            _ = stop.changed() => break,
            received = receive => received,
        };
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(
                    function = %source.function,
                    queue = source.queue_name(),
                    error = %aws_sdk_sqs::error::DisplayErrorContext(&error),
                    "receive failed; retrying"
                );
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(RETRY_AFTER) => continue,
                }
            }
        };
        if messages.is_empty() {
            continue;
        }
        deliver(&client, &source, &handler, messages).await;
    }
    tracing::debug!(function = %source.function, queue = source.queue_name(), "poller stopped");
}

/// One invocation: the batch to the handler, then the deletes.
async fn deliver(client: &aws_sdk_sqs::Client, source: &SqsSource, handler: &SqsFn, messages: Vec<Message>) {
    let records = messages.len();
    let mut event = SqsEvent::default();
    event.records = messages.iter().map(|m| record(source, m)).collect();
    let mut context = lambda_runtime::Context::default();
    context.request_id = crate::random_id();
    context.invoked_function_arn = source.function_arn.clone();
    context.deadline = deadline_ms();

    let started = Instant::now();
    // A panic fails the batch like a crashed Lambda runtime, without taking the poller down.
    let outcome = tokio::spawn(handler(LambdaEvent::new(event, context))).await;
    let duration_ms = started.elapsed().as_millis() as u64;

    let ids: HashSet<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
    let failed: Option<HashSet<String>> = match outcome {
        Ok(Ok(response)) => failures(source, &response, &ids),
        Ok(Err(error)) => {
            tracing::error!(function = %source.function, queue = source.queue_name(), error = %error, "handler failed; the batch will be retried");
            None
        }
        Err(error) => {
            tracing::error!(function = %source.function, queue = source.queue_name(), error = %error, "handler panicked; the batch will be retried");
            None
        }
    };
    let failures = failed.as_ref().map_or(records, HashSet::len);
    tracing::info!(
        function = %source.function,
        trigger = source.queue_name(),
        records,
        failures,
        duration_ms,
        "invoked"
    );
    let Some(failed) = failed else { return };
    let to_delete: Vec<&Message> = messages
        .iter()
        .filter(|m| m.message_id().is_none_or(|id| !failed.contains(id)))
        .collect();
    delete(client, source, &to_delete).await;
}

/// The ids to keep, or `None` when the whole batch counts as failed: Lambda
/// fails the batch when an identifier is empty or not one of the batch's.
fn failures(source: &SqsSource, response: &SqsBatchResponse, ids: &HashSet<&str>) -> Option<HashSet<String>> {
    if !source.report_batch_item_failures {
        return Some(HashSet::new());
    }
    let mut failed = HashSet::new();
    for failure in &response.batch_item_failures {
        if !ids.contains(failure.item_identifier.as_str()) {
            tracing::warn!(
                function = %source.function,
                queue = source.queue_name(),
                "batchItemFailures names an id not in the batch; the whole batch will be retried"
            );
            return None;
        }
        failed.insert(failure.item_identifier.clone());
    }
    Some(failed)
}

async fn delete(client: &aws_sdk_sqs::Client, source: &SqsSource, messages: &[&Message]) {
    for chunk in messages.chunks(10) {
        let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
            .iter()
            .enumerate()
            .filter_map(|(index, message)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(message.receipt_handle()?)
                    .build()
                    .ok()
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        match client
            .delete_message_batch()
            .queue_url(&source.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(output) if !output.failed().is_empty() => tracing::warn!(
                function = %source.function,
                queue = source.queue_name(),
                failed = output.failed().len(),
                "some messages could not be deleted; they will be redelivered"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(
                function = %source.function,
                queue = source.queue_name(),
                error = %aws_sdk_sqs::error::DisplayErrorContext(&error),
                "delete failed; the batch will be redelivered"
            ),
        }
    }
}

/// One record as Lambda builds it from a received message.
fn record(source: &SqsSource, message: &Message) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = message.message_id().map(str::to_owned);
    record.receipt_handle = message.receipt_handle().map(str::to_owned);
    record.body = message.body().map(str::to_owned);
    record.md5_of_body = message.md5_of_body().map(str::to_owned);
    record.md5_of_message_attributes = message.md5_of_message_attributes().map(str::to_owned);
    record.attributes = message
        .attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                .collect()
        })
        .unwrap_or_default();
    record.message_attributes = message
        .message_attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| {
                    let mut attribute = SqsMessageAttribute::default();
                    attribute.string_value = value.string_value().map(str::to_owned);
                    attribute.binary_value = value.binary_value().map(|b| base64_data(b.as_ref()));
                    attribute.string_list_values = value.string_list_values().to_vec();
                    attribute.binary_list_values = value
                        .binary_list_values()
                        .iter()
                        .map(|b| base64_data(b.as_ref()))
                        .collect();
                    attribute.data_type = Some(value.data_type().to_owned());
                    (name.clone(), attribute)
                })
                .collect()
        })
        .unwrap_or_default();
    record.event_source = Some("aws:sqs".to_owned());
    record.event_source_arn = Some(source.queue_arn.clone());
    record.aws_region = Some(source.region.clone());
    record
}

fn base64_data(bytes: &[u8]) -> Base64Data {
    // The type is non-exhaustive: built empty, then filled through `DerefMut`.
    let mut data = Base64Data::default();
    data.extend_from_slice(bytes);
    data
}

/// A deadline a minute away: local invocations are not timed out, but
/// handlers that read the remaining time see a sensible one.
pub(crate) fn deadline_ms() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    now + 60_000
}
