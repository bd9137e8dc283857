//! KPI aggregates in the helpdesk table: one item per day, team and priority
//! whose counters are added in the same transaction that marks the fact as
//! counted, so a redelivered event adds nothing.

use super::dynamo::{DynamoStore, backend, first_condition_failed, key, n, s};
use super::keys;
use crate::domain::reports::{AggregateRow, Counters, DateRange, ReportFact};
use crate::domain::ticket::Priority;
use crate::ports::{ReportStore, StoreError};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use serde::Deserialize;

/// How long a fact marker is kept (TTL from the fact's day): longer than any
/// redelivery, and than the longest report range.
const FACT_MARKER_DAYS: i64 = 400;

/// Days read at once by [`ReportStore::aggregates`]: each day is its own partition.
const DAYS_IN_FLIGHT: usize = 10;

#[derive(Deserialize)]
struct AggregateItem {
    day: String,
    team: String,
    priority: Priority,
    #[serde(flatten)]
    counters: Counters,
}

impl DynamoStore {
    /// The aggregates of one day, every team and priority.
    async fn day_aggregates(&self, day: &str) -> Result<Vec<AggregateRow>, StoreError> {
        let items: Vec<AggregateItem> = self.query_partition(keys::report_pk(day)).await?;
        Ok(items
            .into_iter()
            .map(|item| AggregateRow {
                day: item.day,
                team: item.team,
                priority: item.priority,
                counters: item.counters,
            })
            .collect())
    }
}

/// The TTL of a fact marker: [`FACT_MARKER_DAYS`] after the start of its day
/// (UTC); `None` when `day` is not a `YYYY-MM-DD` date.
fn marker_expiry(day: &str) -> Option<i64> {
    DateRange::between(day, day).ok()?;
    let start = day
        .parse::<jiff::civil::Date>()
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()?;
    Some(start.timestamp().as_second() + FACT_MARKER_DAYS * 86_400)
}

/// A transaction part the SDK could not build (a required field missing: a bug here).
fn built<T>(part: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    part.map_err(backend)
}

impl ReportStore for DynamoStore {
    /// One `TransactWriteItems`: the conditional put of `FACT#<id>` / `FACT`
    /// and the `ADD` of the fact's counters to `REPORT#<day>` / `<team>#<priority>`.
    /// Two facts racing on one aggregate may cancel each other
    /// (`TransactionConflict`): that is an error, and the event is retried.
    async fn record_fact(&self, fact: &ReportFact) -> Result<bool, StoreError> {
        let counters = fact.counters.non_zero();
        if counters.is_empty() {
            return Ok(false);
        }
        let expires_at = marker_expiry(&fact.day)
            .ok_or_else(|| StoreError::Corrupt(format!("report fact {}: day {:?} is not a date", fact.id, fact.day)))?;

        let mut marker = key(keys::fact_pk(&fact.id), keys::FACT_SK);
        marker.insert(keys::TTL.to_owned(), n(expires_at));
        let marker = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(marker))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK)
                .build(),
        )?;

        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::report_pk(&fact.day),
                &keys::report_sk(&fact.team, fact.priority),
            )))
            .expression_attribute_names("#day", "day")
            .expression_attribute_names("#team", "team")
            .expression_attribute_names("#priority", "priority")
            .expression_attribute_values(":day", s(&fact.day))
            .expression_attribute_values(":team", s(&fact.team))
            .expression_attribute_values(":priority", s(fact.priority.as_str()));
        let mut adds = Vec::with_capacity(counters.len());
        for (i, (name, value)) in counters.into_iter().enumerate() {
            adds.push(format!("#c{i} :c{i}"));
            update = update
                .expression_attribute_names(format!("#c{i}"), name)
                .expression_attribute_values(format!(":c{i}"), n(value));
        }
        let update = built(
            update
                .update_expression(format!(
                    "SET #day = :day, #team = :team, #priority = :priority ADD {}",
                    adds.join(", ")
                ))
                .build(),
        )?;

        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            // The fact marker's condition failed: the fact was counted before.
            Err(e) if first_condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    /// One query per day (a partition holds a day's teams and priorities),
    /// [`DAYS_IN_FLIGHT`] at a time; rows in day, team, priority order.
    async fn aggregates(&self, from: &str, to: &str) -> Result<Vec<AggregateRow>, StoreError> {
        // The API validates ranges first; this refuses what slipped through.
        let range = DateRange::between(from, to).map_err(|e| StoreError::Corrupt(format!("report range: {e}")))?;
        let mut rows = Vec::new();
        for days in range.days().chunks(DAYS_IN_FLIGHT) {
            let mut reads = tokio::task::JoinSet::new();
            for day in days {
                let store = DynamoStore::new(self.client.clone(), self.table.clone());
                let day = day.clone();
                reads.spawn(async move { store.day_aggregates(&day).await });
            }
            while let Some(read) = reads.join_next().await {
                rows.extend(read.map_err(backend)??);
            }
        }
        rows.sort_by(|a, b| (&a.day, &a.team, a.priority).cmp(&(&b.day, &b.team, b.priority)));
        Ok(rows)
    }
}
