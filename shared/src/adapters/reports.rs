//! KPI aggregates in the helpdesk table: one item per day, team and priority
//! (and one per day and agent, for the facts about an agent) whose counters
//! are added in the same transaction that marks the fact as counted, so a
//! redelivered event adds nothing.

use super::dynamo::{DynamoStore, backend, corrupt, first_condition_failed, key, n, s};
use super::keys;
use crate::domain::reports::{AgentAggregateRow, AggregateRow, Counters, DateRange, ReportFact};
use crate::domain::ticket::Priority;
use crate::ports::{ReportStore, StoreError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
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

#[derive(Deserialize)]
struct AgentAggregateItem {
    day: String,
    agent: String,
    #[serde(flatten)]
    counters: Counters,
}

/// Whether an item of a `REPORT#<day>` partition is a per-agent aggregate.
fn is_agent_aggregate(item: &std::collections::HashMap<String, AttributeValue>) -> bool {
    item.get(keys::SK)
        .and_then(|sk| sk.as_s().ok())
        .is_some_and(|sk| sk.starts_with(keys::AGENT_REPORT_SK_PREFIX))
}

impl DynamoStore {
    /// The aggregates of one day, every team and priority (the partition's
    /// per-agent aggregates left out).
    /// `read` for every day of the range, [`DAYS_IN_FLIGHT`] at a time; the
    /// rows of all days, in no particular order.
    async fn each_day<T, F, Fut>(&self, from: &str, to: &str, read: F) -> Result<Vec<T>, StoreError>
    where
        T: Send + 'static,
        F: Fn(DynamoStore, String) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<T>, StoreError>> + Send + 'static,
    {
        // The API validates ranges first; this refuses what slipped through.
        let range = DateRange::between(from, to).map_err(|e| StoreError::Corrupt(format!("report range: {e}")))?;
        let mut rows = Vec::new();
        for days in range.days().chunks(DAYS_IN_FLIGHT) {
            let mut reads = tokio::task::JoinSet::new();
            for day in days {
                let store = DynamoStore::new(self.client.clone(), self.table.clone());
                reads.spawn(read(store, day.clone()));
            }
            while let Some(rows_of_day) = reads.join_next().await {
                rows.extend(rows_of_day.map_err(backend)??);
            }
        }
        Ok(rows)
    }

    async fn day_aggregates(&self, day: &str) -> Result<Vec<AggregateRow>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_values(":pk", s(keys::report_pk(day)));
        let items = self.query_all(request, usize::MAX).await?;
        items
            .into_iter()
            .filter(|item| !is_agent_aggregate(item))
            .map(|item| {
                let item: AggregateItem = serde_dynamo::from_item(item).map_err(corrupt)?;
                Ok(AggregateRow {
                    day: item.day,
                    team: item.team,
                    priority: item.priority,
                    counters: item.counters,
                })
            })
            .collect()
    }

    /// The per-agent aggregates of one day, in agent order.
    async fn day_agent_aggregates(&self, day: &str) -> Result<Vec<AgentAggregateRow>, StoreError> {
        let items: Vec<AgentAggregateItem> = self
            .query_prefix(keys::report_pk(day), keys::AGENT_REPORT_SK_PREFIX)
            .await?;
        Ok(items
            .into_iter()
            .map(|item| AgentAggregateRow {
                day: item.day,
                agent: item.agent,
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

/// The `ADD` of `counters` (the non-zero ones) to the aggregate at `sk` of
/// `day`, setting `attributes` (name, value) that say which aggregate it is.
fn add_counters(
    store: &DynamoStore,
    day: &str,
    sk: &str,
    attributes: &[(&str, String)],
    counters: &[(&'static str, u64)],
) -> Result<Update, StoreError> {
    let mut update = Update::builder()
        .table_name(&store.table)
        .set_key(Some(key(keys::report_pk(day), sk)));
    let mut sets = Vec::with_capacity(attributes.len());
    for (i, (name, value)) in attributes.iter().enumerate() {
        sets.push(format!("#a{i} = :a{i}"));
        update = update
            .expression_attribute_names(format!("#a{i}"), *name)
            .expression_attribute_values(format!(":a{i}"), s(value));
    }
    let mut adds = Vec::with_capacity(counters.len());
    for (i, (name, value)) in counters.iter().enumerate() {
        adds.push(format!("#c{i} :c{i}"));
        update = update
            .expression_attribute_names(format!("#c{i}"), *name)
            .expression_attribute_values(format!(":c{i}"), n(value));
    }
    built(
        update
            .update_expression(format!("SET {} ADD {}", sets.join(", "), adds.join(", ")))
            .build(),
    )
}

impl ReportStore for DynamoStore {
    /// One `TransactWriteItems`: the conditional put of `FACT#<id>` / `FACT`,
    /// the `ADD` of the fact's counters to `REPORT#<day>` / `<team>#<priority>`
    /// and, for a fact about an agent, to `REPORT#<day>` / `AGENT#<agent>`.
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

        let team = add_counters(
            self,
            &fact.day,
            &keys::report_sk(&fact.team, fact.priority),
            &[
                ("day", fact.day.clone()),
                ("team", fact.team.clone()),
                ("priority", fact.priority.as_str().to_owned()),
            ],
            &counters,
        )?;
        let agent = match &fact.agent {
            Some(agent) => Some(add_counters(
                self,
                &fact.day,
                &keys::agent_report_sk(agent),
                &[("day", fact.day.clone()), ("agent", agent.clone())],
                &counters,
            )?),
            None => None,
        };

        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .transact_items(TransactWriteItem::builder().update(team).build());
        if let Some(agent) = agent {
            transaction = transaction.transact_items(TransactWriteItem::builder().update(agent).build());
        }
        let result = transaction.send().await;
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
        let mut rows = self
            .each_day(from, to, |store, day| async move { store.day_aggregates(&day).await })
            .await?;
        rows.sort_by(|a, b| (&a.day, &a.team, a.priority).cmp(&(&b.day, &b.team, b.priority)));
        Ok(rows)
    }

    /// One query per day of its `AGENT#` sort keys, [`DAYS_IN_FLIGHT`] at a
    /// time; rows in day and agent order.
    async fn agent_aggregates(&self, from: &str, to: &str) -> Result<Vec<AgentAggregateRow>, StoreError> {
        let mut rows = self
            .each_day(
                from,
                to,
                |store, day| async move { store.day_agent_aggregates(&day).await },
            )
            .await?;
        rows.sort_by(|a, b| (&a.day, &a.agent).cmp(&(&b.day, &b.agent)));
        Ok(rows)
    }
}
