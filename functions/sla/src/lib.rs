//! The SLA sweep, fired every minute by an EventBridge schedule. It reads only
//! the minute buckets of the deadline index that are due (from where the last
//! sweep stopped up to now), claims each due deadline with a conditional write
//! so overlapping, retried or late sweeps act on it once, and hands it to
//! `tickets` (the single writer) as an `SlaDue` command. Its reads grow with
//! due deadlines and elapsed minutes, never with open tickets.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use futures::stream::{self, StreamExt};
use helpdesk::adapters::clock::SharedClock;
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::lambda_sqs::error_chain;
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::commands::{SlaDue, TicketCommand};
use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::Catalog;
use helpdesk::ports::{AvailabilityStore, Clock, DeadlineIndex, DueDeadline, Queue, StoreError, TicketReader};
use lambda_runtime::LambdaEvent;
use serde::Serialize;

mod assign;

pub use assign::ROUND_ROBIN;

const MS_PER_MINUTE: i64 = 60_000;
/// A first sweep (no cursor yet) looks this many minutes back.
pub const FIRST_LOOKBACK_MINUTES: i64 = 60;
/// A sweep that runs very late catches up at most this many minutes per run;
/// the next runs continue from where it stopped.
pub const MAX_MINUTES_PER_RUN: i64 = 24 * 60;
/// Deadlines older than this (a schedule stalled for a month) are given up.
pub const MAX_BACKLOG_MINUTES: i64 = 30 * MAX_MINUTES_PER_RUN;
/// How long a claim keeps other sweeps off a deadline while `tickets` acts on it.
pub const CLAIM_LEASE_MS: i64 = 2 * MS_PER_MINUTE;
/// A deadline first handed over this long ago and still in the index no
/// longer holds the cursor back: `tickets` retries a command five times (a few
/// minutes) before its DLQ keeps it, so by then it will not move.
pub const STUCK_AFTER_MINUTES: i64 = 30;
/// Buckets read at once.
const CONCURRENT_BUCKETS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("deadline index failed")]
    Index(#[from] StoreError),
}

/// What one sweep did: logged, and returned to the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// The first and last minute buckets read.
    pub from_minute: i64,
    pub to_minute: i64,
    /// Items the index reads returned.
    pub items_read: usize,
    /// Deadlines this sweep claimed and handed to `tickets`.
    pub acted: usize,
    /// Due deadlines another sweep holds.
    pub held_elsewhere: usize,
    /// Deadlines that could not be handed over (retried by the next sweep).
    pub failed: usize,
    /// Deadlines handed over long ago that `tickets` never moved: the cursor
    /// passes them (see [`STUCK_AFTER_MINUTES`]).
    pub given_up: usize,
    /// Queued tickets handed to available agents round-robin.
    pub assigned: usize,
}

pub struct Sweep<I, Q, C> {
    index: I,
    tickets: Q,
    clock: C,
    /// The desk whose round-robin teams the schedule also assigns.
    desk: Option<std::sync::Arc<Desk>>,
}

impl Sweep<DynamoStore, SqsQueue<TicketCommand>, SharedClock> {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let index = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let tickets = SqsQueue::new(aws_sdk_sqs::Client::new(sdk), env.require("TICKETS_QUEUE_URL")?);
        let desk = load_desk(env, &Catalog::builtin())?;
        Ok(Sweep::new(index, tickets, env.clock()).with_assignment(std::sync::Arc::new(desk)))
    }
}

impl<I: DeadlineIndex + TicketReader + AvailabilityStore, Q: Queue<TicketCommand>, C: Clock> Sweep<I, Q, C> {
    pub fn new(index: I, tickets: Q, clock: C) -> Self {
        Sweep {
            index,
            tickets,
            clock,
            desk: None,
        }
    }

    /// Also assigns the round-robin teams of `desk` on each run.
    pub fn with_assignment(mut self, desk: std::sync::Arc<Desk>) -> Self {
        self.desk = Some(desk);
        self
    }

    /// The SLA sweep, then round-robin assignment. A failed assignment is
    /// logged and tried again next minute; the sweep's report stands.
    pub async fn handle(&self, _event: LambdaEvent<EventBridgeEvent>) -> Result<SweepReport, lambda_runtime::Error> {
        let mut report = self.sweep().await?;
        if let Some(desk) = &self.desk {
            match self.assign(desk).await {
                Ok(n) => report.assigned = n,
                Err(e) => tracing::error!(error = %error_chain(&e), "round-robin assignment failed"),
            }
        }
        Ok(report)
    }

    /// One sweep at the clock's current time.
    pub async fn sweep(&self) -> Result<SweepReport, SweepError> {
        let now_ms = self.clock.now_ms();
        let now_minute = now_ms.div_euclid(MS_PER_MINUTE);
        let cursor = self.index.sweep_cursor().await?;
        let from = cursor
            .unwrap_or(now_minute - FIRST_LOOKBACK_MINUTES)
            .max(now_minute - MAX_BACKLOG_MINUTES)
            .min(now_minute);
        let to = (from + MAX_MINUTES_PER_RUN).min(now_minute);
        let mut report = SweepReport {
            from_minute: from,
            to_minute: to,
            ..SweepReport::default()
        };
        // The first bucket that still holds a deadline not yet handed over, or
        // handed over but not yet moved by `tickets`: the next sweep starts there.
        let mut unfinished: Option<i64> = None;
        let buckets: Vec<_> = stream::iter(from..=to)
            .map(|minute| async move { (minute, self.index.due_in(minute, now_ms).await) })
            .buffered(CONCURRENT_BUCKETS)
            .collect()
            .await;
        for (minute, read) in buckets {
            let (due, read) = read?;
            report.items_read += read;
            for item in due {
                let handed_over = match self.act(&item, now_ms).await {
                    Ok(true) => {
                        report.acted += 1;
                        true
                    }
                    Ok(false) => {
                        report.held_elsewhere += 1;
                        true
                    }
                    Err(e) => {
                        report.failed += 1;
                        tracing::warn!(ticket = %item.ticket_id, kind = item.deadline.kind.as_str(), error = %error_chain(e.as_ref()), "deadline not handed over; the next sweep retries it");
                        false
                    }
                };
                // First handed over long ago and still here: `tickets` could
                // not act on it (its command is in the tickets DLQ for a person
                // to look at). It no longer holds the cursor back.
                let waiting_since = item.first_claimed_ms.unwrap_or(now_ms);
                if handed_over && now_ms - waiting_since > STUCK_AFTER_MINUTES * MS_PER_MINUTE {
                    report.given_up += 1;
                    tracing::warn!(ticket = %item.ticket_id, kind = item.deadline.kind.as_str(), due_at_ms = item.deadline.at_ms, first_claimed_ms = waiting_since, "deadline handed over long ago and never acted on; the sweep moves on (see the tickets DLQ)");
                    continue;
                }
                // Buckets come in minute order: the first one kept is the earliest.
                unfinished.get_or_insert(minute);
            }
        }
        // Never past the current minute: a deadline later in it is not due yet.
        let next = unfinished.unwrap_or(to + 1).min(now_minute);
        if cursor != Some(next) && !self.index.move_sweep_cursor(cursor, next).await? {
            tracing::info!("another sweep moved the cursor first");
        }
        tracing::info!(
            from_minute = report.from_minute,
            to_minute = report.to_minute,
            items_read = report.items_read,
            acted = report.acted,
            held_elsewhere = report.held_elsewhere,
            failed = report.failed,
            given_up = report.given_up,
            "sla sweep"
        );
        Ok(report)
    }

    /// Claims a due deadline and hands it to `tickets`. `Ok(false)` when another
    /// sweep holds it or it moved since it was read.
    async fn act(&self, item: &DueDeadline, now_ms: i64) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        if item.claimed_until_ms.is_some_and(|until| until > now_ms) {
            return Ok(false);
        }
        if !self.index.claim(item, now_ms, now_ms + CLAIM_LEASE_MS).await? {
            return Ok(false);
        }
        let command = TicketCommand::SlaDue(SlaDue {
            ticket_id: item.ticket_id.clone(),
            customer: item.customer.clone(),
            deadline: item.deadline,
            at_ms: now_ms,
        });
        self.tickets.send(&[command]).await?;
        tracing::info!(ticket = %item.ticket_id, kind = item.deadline.kind.as_str(), stage = %item.deadline.stage.as_str(), "deadline due");
        Ok(true)
    }
}
