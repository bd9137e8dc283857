//! SQS batches as Lambda delivers them: each record handled in order, failures
//! reported item by item (`ReportBatchItemFailures`), and per-group order kept.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::error::Error;
use std::future::Future;

/// Why a record was not handled.
#[derive(Debug, thiserror::Error)]
pub enum RecordError<E> {
    #[error("the record's body is not a valid message")]
    Malformed(#[source] serde_json::Error),
    #[error(transparent)]
    Failed(E),
    #[error("an earlier record of the same message group failed")]
    GroupBlocked,
}

/// An error and every cause under it, `outer: cause: root`, for a log line.
/// The helpdesk's own errors never carry personal data; the one outside text
/// that can reach a cause is the value serde could not read (`invalid type:
/// string "…"`), which is masked.
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = mask_string_values(&e.to_string());
        // `#[error(transparent)]` and wrappers repeat their cause's words.
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Replaces the quoted value after serde's `string ` with `…`.
fn mask_string_values(text: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at + MARK.len()]);
        rest = &rest[at + MARK.len()..];
        // serde escapes quotes inside the value, so the next bare quote ends it.
        let mut end = rest.len();
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = i;
                    break;
                }
                _ => escaped = false,
            }
        }
        out.push('…');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Handles each record of a FIFO batch in order. A record that fails is
/// reported for redelivery (SQS retries it, then moves it to the DLQ), and so is
/// every later record of the same message group, which is not handled at all:
/// a customer's messages never overtake one another. A malformed body is
/// reported too (never dropped), so it ends in the DLQ for a person to look at.
pub async fn handle_in_order<T, E, F, Fut>(event: SqsEvent, mut handle: F) -> SqsBatchResponse
where
    T: DeserializeOwned,
    E: Error + 'static,
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    handle_attempts_in_order(event, |item, _| handle(item)).await
}

/// [`handle_in_order`], also giving each record's delivery attempt (SQS's
/// `ApproximateReceiveCount`, 1 the first time), for handlers that degrade
/// gracefully once retries are spent.
pub async fn handle_attempts_in_order<T, E, F, Fut>(event: SqsEvent, mut handle: F) -> SqsBatchResponse
where
    T: DeserializeOwned,
    E: Error + 'static,
    F: FnMut(T, u32) -> Fut,
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
                Ok(item) => {
                    let attempt = record
                        .attributes
                        .get("ApproximateReceiveCount")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1);
                    handle(item, attempt).await.map_err(RecordError::Failed)
                }
            }
        };
        if let Err(error) = outcome {
            tracing::warn!(message_id = %id, error = %error_chain(&error), "record not handled; it will be redelivered");
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

/// Like [`handle_in_order`], but hands each message group's records of the
/// batch to `handle` together (in order), so a customer's burst of messages can
/// get one answer. When the call fails, every record of the group is reported;
/// a malformed record is reported with the rest of its group after it, and the
/// records before it are handled.
pub async fn handle_grouped<T, E, F, Fut>(event: SqsEvent, mut handle: F) -> SqsBatchResponse
where
    T: DeserializeOwned,
    E: Error + 'static,
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    // Groups in the order they first appear; records in batch order within each.
    let mut groups: Vec<(Option<String>, Vec<SqsMessage>)> = Vec::new();
    for record in event.records {
        let group = group_of(&record);
        match groups.iter_mut().find(|(g, _)| group.is_some() && *g == group) {
            Some((_, records)) => records.push(record),
            None => groups.push((group, vec![record])),
        }
    }
    let mut failures = Vec::new();
    for (_, records) in groups {
        let mut items = Vec::new();
        let mut failed_from = records.len();
        for (i, record) in records.iter().enumerate() {
            match serde_json::from_str::<T>(record.body.as_deref().unwrap_or("")) {
                Ok(item) => items.push(item),
                Err(e) => {
                    let error: RecordError<E> = RecordError::Malformed(e);
                    tracing::warn!(message_id = ?record.message_id, error = %error_chain(&error), "record not handled; it will be redelivered");
                    failed_from = i;
                    break;
                }
            }
        }
        if !items.is_empty()
            && let Err(e) = handle(items).await
        {
            tracing::warn!(records = records.len(), error = %error_chain(&e), "message group not handled; it will be redelivered");
            failed_from = 0;
        }
        for record in &records[failed_from..] {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
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

    #[derive(Debug, thiserror::Error)]
    #[error("boom")]
    struct Boom;

    #[derive(Debug, thiserror::Error)]
    #[error("ticket store failed")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("ConditionalCheckFailedException: the conditional request failed")]
    struct Inner;

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
            async move { if n == 2 { Err(Boom) } else { Ok(()) } }
        })
        .await;
        assert_eq!(ids(&response), ["2", "4"]);
        assert_eq!(handled, [1, 2, 3]);
    }

    #[tokio::test]
    async fn records_of_one_group_are_handled_together_and_fail_together() {
        let mut event = SqsEvent::default();
        event.records = vec![
            record("1", "a", "1"),
            record("2", "b", "2"),
            record("3", "a", "3"),
            record("4", "b", "4"),
        ];
        let mut calls = Vec::new();
        let response = handle_grouped(event, |items: Vec<u32>| {
            let fail = items.contains(&2);
            calls.push(items);
            async move { if fail { Err(Boom) } else { Ok(()) } }
        })
        .await;
        assert_eq!(calls, [vec![1, 3], vec![2, 4]]);
        assert_eq!(ids(&response), ["2", "4"]);
    }

    #[tokio::test]
    async fn a_malformed_record_reports_itself_and_the_rest_of_its_group_only() {
        let mut event = SqsEvent::default();
        event.records = vec![record("1", "a", "1"), record("2", "a", "oops"), record("3", "a", "3")];
        let mut calls = Vec::new();
        let response = handle_grouped(event, |items: Vec<u32>| {
            calls.push(items);
            async { Ok::<(), Boom>(()) }
        })
        .await;
        assert_eq!(calls, [vec![1]]);
        assert_eq!(ids(&response), ["2", "3"]);
    }

    #[tokio::test]
    async fn a_malformed_body_is_reported_not_dropped() {
        let mut event = SqsEvent::default();
        event.records = vec![record("1", "a", "not json")];
        let response = handle_in_order(event, |_: u32| async { Ok::<(), Boom>(()) }).await;
        assert_eq!(ids(&response), ["1"]);
    }

    #[test]
    fn a_logged_error_names_its_causes_without_personal_data() {
        let chain = error_chain(&Outer(Inner));
        assert_eq!(
            chain,
            "ticket store failed: ConditionalCheckFailedException: the conditional request failed"
        );

        let unreadable = serde_json::from_str::<u32>(r#""call \"me\" on 0612345678""#).unwrap_err();
        let chain = error_chain(&RecordError::<Boom>::Malformed(unreadable));
        assert_eq!(
            chain,
            "the record's body is not a valid message: invalid type: string \"…\", expected u32 at line 1 column 27"
        );
    }
}
