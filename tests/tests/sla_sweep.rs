//! The SLA sweep against the stack's real table and queue: it reads only the
//! deadlines that are due, however many tickets are open, and hands each due
//! deadline over once even when sweeps overlap or run late.

use futures::{StreamExt, TryStreamExt, stream};
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::domain::commands::{SlaDue, TicketCommand};
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::sla::{Deadline, DeadlineKind, Stage};
use helpdesk::ports::{Clock, DeadlineIndex};
use helpdesk_tests::LocalAws;
use sla::{CLAIM_LEASE_MS, Sweep};
use std::collections::HashSet;

const MINUTE: i64 = 60_000;
/// 2026-11-23 10:00:00 UTC.
const NOW: i64 = 1_795_428_000_000;

/// A fixed instant: the sweep reads time only through its clock.
#[derive(Clone, Copy)]
struct At(i64);

impl Clock for At {
    fn now_ms(&self) -> i64 {
        self.0
    }
}

fn ticket(n: usize) -> (TicketId, CustomerId) {
    (
        TicketId::parse(format!("TK-{n:012X}")).unwrap(),
        CustomerId::parse(format!("1555{n:07}")).unwrap(),
    )
}

/// What `tickets` writes when a ticket reaches a human queue: its first-response warning.
async fn file_deadlines(
    aws: &LocalAws,
    range: std::ops::Range<usize>,
    at: impl Fn(usize) -> i64,
) -> anyhow::Result<()> {
    let store = aws.store().await;
    stream::iter(range)
        .map(|n| {
            let store = &store;
            let at_ms = at(n);
            async move {
                let (id, customer) = ticket(n);
                let deadline = Deadline {
                    kind: DeadlineKind::FirstResponse,
                    stage: Stage::Warn,
                    at_ms,
                };
                store.sync_deadlines(&id, &customer, &[deadline], Some(&[])).await
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

async fn sweep_at(
    aws: &LocalAws,
    now_ms: i64,
) -> anyhow::Result<Sweep<helpdesk::adapters::dynamo::DynamoStore, SqsQueue<TicketCommand>, At>> {
    let sqs = aws_sdk_sqs::Client::new(&aws.sdk().await);
    Ok(Sweep::new(
        aws.store().await,
        SqsQueue::new(sqs, aws.output("TicketsQueueUrl")),
        At(now_ms),
    ))
}

#[tokio::test]
async fn with_ten_thousand_open_tickets_and_ten_due_the_sweep_reads_about_ten_items_and_hands_each_over_once()
-> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    // 10,000 open tickets whose deadlines are spread over the next week…
    file_deadlines(&aws, 0..10_000, |n| {
        NOW + 5 * MINUTE + (n as i64 * 61_000) % (7 * 24 * 60 * MINUTE)
    })
    .await?;
    // …and 10 due in the last few minutes.
    file_deadlines(&aws, 10_000..10_010, |n| NOW - (n as i64 % 5) * MINUTE - 1_000).await?;

    // Two sweeps overlap, a third runs right after.
    let (a, b) = tokio::join!(
        async { sweep_at(&aws, NOW).await?.sweep().await.map_err(anyhow::Error::from) },
        async { sweep_at(&aws, NOW).await?.sweep().await.map_err(anyhow::Error::from) }
    );
    let (a, b) = (a?, b?);
    let c = sweep_at(&aws, NOW + 30_000).await?.sweep().await?;

    assert!(a.items_read <= 12, "the first sweep read {} items", a.items_read);
    assert!(b.items_read <= 12, "the overlapping sweep read {} items", b.items_read);
    assert!(c.items_read <= 12, "the next sweep read {} items", c.items_read);
    assert_eq!(
        a.acted + b.acted + c.acted,
        10,
        "each due deadline is claimed once: {a:?} {b:?} {c:?}"
    );
    let commands = aws.drain::<TicketCommand>("TicketsQueueUrl").await?;
    let tickets: HashSet<String> = commands
        .iter()
        .map(|c| match c {
            TicketCommand::SlaDue(SlaDue {
                ticket_id, deadline, ..
            }) => {
                assert_eq!(deadline.stage, Stage::Warn);
                ticket_id.to_string()
            }
            other => panic!("unexpected command {other:?}"),
        })
        .collect();
    assert_eq!((commands.len(), tickets.len()), (10, 10));
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_late_sweep_catches_up_on_the_minutes_it_missed_and_a_claim_left_by_a_crashed_sweep_expires()
-> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    file_deadlines(&aws, 0..3, |n| NOW + n as i64 * 20 * MINUTE).await?;
    let first = sweep_at(&aws, NOW - MINUTE).await?.sweep().await?;
    assert_eq!(first.acted, 0);

    // The schedule stalls for 45 minutes: the next sweep reads every bucket it
    // missed, from the minute the last sweep ran in (a deadline later in that
    // minute was not due yet then).
    let late = sweep_at(&aws, NOW + 45 * MINUTE).await?.sweep().await?;
    assert_eq!(
        (late.from_minute, late.to_minute),
        ((NOW - MINUTE) / MINUTE, (NOW + 45 * MINUTE) / MINUTE)
    );
    assert_eq!(late.acted, 3);
    assert_eq!(aws.drain::<TicketCommand>("TicketsQueueUrl").await?.len(), 3);

    // Nobody moved the deadlines (as if `tickets` never got them): they stay
    // held while the claim lasts, and are handed over again once it expires.
    let held = sweep_at(&aws, NOW + 46 * MINUTE).await?.sweep().await?;
    assert_eq!((held.acted, held.held_elsewhere), (0, 3));
    let retried = sweep_at(&aws, NOW + 45 * MINUTE + CLAIM_LEASE_MS + MINUTE)
        .await?
        .sweep()
        .await?;
    assert_eq!(retried.acted, 3);
    aws.stop().await;
    Ok(())
}
