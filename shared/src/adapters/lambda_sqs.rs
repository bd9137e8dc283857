//! SQS batches as Lambda delivers them: each record handled in order, failures
//! reported item by item (`ReportBatchItemFailures`), and per-group order kept.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt::Display;
use std::future::Future;

/// Why a record was not handled.
#[derive(Debug, thiserror::Error)]
pub enum RecordError<E> {
    #[error("the record's body is not a valid message: {0}")]
    Malformed(serde_json::Error),
    #[error(transparent)]
    Failed(E),
    #[error("an earlier record of the same message group failed")]
    GroupBlocked,
}

/// Handles each record of a FIFO batch in order. A record that fails is
/// reported for redelivery (SQS retries it, then moves it to the DLQ), and so is
/// every later record of the same message group, which is not handled at all:
/// a customer's messages never overtake one another. A malformed body is
/// reported too (never dropped), so it ends in the DLQ for a person to look at.
pub async fn handle_in_order<T, E, F, Fut>(event: SqsEvent, mut handle: F) -> SqsBatchResponse
where
    T: DeserializeOwned,
    E: Display,
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut blocked_groups: HashSet<String> = HashSet::new();
    let mut failures = Vec::new();
    for record in event.records {
        let group = group_of(&record);
        let id = record.message_id.clone().unwrap_or_default();
        let outcome = if group.as_ref().is_some_and(|g| blocked_groups.contains(g)) {
            Err(RecordError::GroupBlocked)
        } else {
            match serde_json::from_str::<T>(record.body.as_deref().unwrap_or("")) {
                Err(e) => Err(RecordError::Malformed(e)),
                Ok(item) => handle(item).await.map_err(RecordError::Failed),
            }
        };
        if let Err(error) = outcome {
            tracing::warn!(message_id = %id, error = %error, "record not handled; it will be redelivered");
            if let Some(g) = group {
                blocked_groups.insert(g);
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

fn group_of(record: &SqsMessage) -> Option<String> {
    record.attributes.get("MessageGroupId").cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, group: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m.attributes.insert("MessageGroupId".into(), group.into());
        m
    }

    fn ids(r: &SqsBatchResponse) -> Vec<&str> {
        r.batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    #[tokio::test]
    async fn a_failure_blocks_the_rest_of_its_group_but_not_other_groups() {
        let mut event = SqsEvent::default();
        event.records = vec![
            record("1", "a", "1"),
            record("2", "a", "2"),
            record("3", "b", "3"),
            record("4", "a", "4"),
        ];
        let mut handled = Vec::new();
        let response = handle_in_order(event, |n: u32| {
            handled.push(n);
            async move { if n == 2 { Err("boom") } else { Ok(()) } }
        })
        .await;
        assert_eq!(ids(&response), ["2", "4"]);
        assert_eq!(handled, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_malformed_body_is_reported_not_dropped() {
        let mut event = SqsEvent::default();
        event.records = vec![record("1", "a", "not json")];
        let response = handle_in_order(event, |_: u32| async { Ok::<(), &str>(()) }).await;
        assert_eq!(ids(&response), ["1"]);
    }
}
