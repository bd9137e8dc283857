//! The sweep's handler on the in-memory deadline index, tickets queue and a
//! manual clock: which buckets it reads, what it claims and hands over, and
//! where it leaves the cursor.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use helpdesk::adapters::memory::{ManualClock, MemoryQueue, MemoryStore};
use helpdesk::domain::commands::TicketCommand;
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::sla::{Deadline, DeadlineKind, Stage};
use helpdesk::ports::DeadlineIndex;
use lambda_runtime::{Context, LambdaEvent};
use sla::{CLAIM_LEASE_MS, FIRST_LOOKBACK_MINUTES, MAX_MINUTES_PER_RUN, Sweep};

const MINUTE: i64 = 60_000;
/// 2026-11-21T08:00:00Z, the time of `events/sla-schedule.json`.
const EIGHT_O_CLOCK: i64 = 1_795_248_000_000;
/// Half a minute past eight: the sweep runs mid-minute.
const NOW: i64 = EIGHT_O_CLOCK + 30_000;
const NOW_MINUTE: i64 = EIGHT_O_CLOCK / MINUTE;

struct SweepDesk {
    index: MemoryStore,
    tickets: MemoryQueue<TicketCommand>,
    clock: ManualClock,
    sweep: Sweep<MemoryStore, MemoryQueue<TicketCommand>, ManualClock>,
}

/// A sweep over an empty index, the clock at [`NOW`].
fn desk() -> SweepDesk {
    let index = MemoryStore::new();
    let tickets = MemoryQueue::default();
    let clock = ManualClock::at(NOW);
    let sweep = Sweep::new(index.clone(), tickets.clone(), clock.clone());
    SweepDesk {
        index,
        tickets,
        clock,
        sweep,
    }
}

fn customer() -> CustomerId {
    CustomerId::parse("15551230001").unwrap()
}

fn ticket(n: usize) -> TicketId {
    TicketId::parse(format!("TK-{n}")).unwrap()
}

fn first_response(stage: Stage, at_ms: i64) -> Deadline {
    Deadline {
        kind: DeadlineKind::FirstResponse,
        stage,
        at_ms,
    }
}

/// Files `deadline` for ticket `n`, as `tickets` does when it saves the ticket.
async fn file(index: &MemoryStore, n: usize, deadline: Deadline) {
    index
        .sync_deadlines(&ticket(n), &customer(), &[deadline], None)
        .await
        .unwrap();
}

/// The `SlaDue` commands the tickets queue holds: (ticket, deadline, at).
fn handed_over(queue: &MemoryQueue<TicketCommand>) -> Vec<(String, Deadline, i64)> {
    queue
        .sent()
        .into_iter()
        .map(|command| match command {
            TicketCommand::SlaDue(due) => (due.ticket_id.as_str().to_owned(), due.deadline, due.at_ms),
            other => panic!("the sweep handed over {other:?}"),
        })
        .collect()
}

fn claimed_until(index: &MemoryStore, n: usize) -> Option<i64> {
    index
        .deadline_items()
        .into_iter()
        .find(|item| item.ticket_id == ticket(n))
        .and_then(|item| item.claimed_until_ms)
}

#[tokio::test]
async fn the_scheduled_event_with_nothing_due_reads_nothing_and_hands_nothing_over() {
    // Arrange
    let desk = desk();
    file(&desk.index, 1, first_response(Stage::Warn, NOW + 10 * MINUTE)).await;
    let event: EventBridgeEvent =
        serde_json::from_str(include_str!("../../../events/sla-schedule.json")).expect("the sam event parses");

    // Act
    let report = desk
        .sweep
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();

    // Assert
    assert_eq!(report.items_read, 0);
    assert_eq!((report.acted, report.held_elsewhere, report.failed), (0, 0, 0));
    assert_eq!(
        (report.from_minute, report.to_minute),
        (NOW_MINUTE - FIRST_LOOKBACK_MINUTES, NOW_MINUTE)
    );
    assert!(desk.tickets.sent().is_empty());
    assert_eq!(claimed_until(&desk.index, 1), None);
}

#[tokio::test]
async fn a_due_deadline_is_claimed_and_handed_to_tickets_once_and_again_only_after_its_claim_lease_expired() {
    // Arrange
    let desk = desk();
    let deadline = first_response(Stage::Warn, NOW - 5 * MINUTE);
    file(&desk.index, 1, deadline).await;

    // Act
    let first = desk.sweep.sweep().await.unwrap();
    let same_minute = desk.sweep.sweep().await.unwrap();
    desk.clock.set(NOW + CLAIM_LEASE_MS);
    let after_the_lease = desk.sweep.sweep().await.unwrap();

    // Assert
    assert_eq!((first.acted, first.held_elsewhere), (1, 0));
    assert_eq!((same_minute.acted, same_minute.held_elsewhere), (0, 1));
    assert_eq!((after_the_lease.acted, after_the_lease.held_elsewhere), (1, 0));
    // The queue holds one command: the second hand-over carries the same
    // deduplication id, which SQS FIFO drops within its five-minute window.
    assert_eq!(handed_over(&desk.tickets), [("TK-1".to_owned(), deadline, NOW)]);
    assert_eq!(claimed_until(&desk.index, 1), Some(NOW + 2 * CLAIM_LEASE_MS));
}

#[tokio::test]
async fn a_first_sweep_looks_back_sixty_minutes_and_no_further() {
    // Arrange
    let desk = desk();
    let oldest_read = first_response(Stage::Warn, (NOW_MINUTE - FIRST_LOOKBACK_MINUTES) * MINUTE);
    let too_old = first_response(Stage::Warn, (NOW_MINUTE - FIRST_LOOKBACK_MINUTES - 1) * MINUTE);
    file(&desk.index, 1, oldest_read).await;
    file(&desk.index, 2, too_old).await;

    // Act
    let report = desk.sweep.sweep().await.unwrap();

    // Assert
    assert_eq!(FIRST_LOOKBACK_MINUTES, 60);
    assert_eq!(report.from_minute, NOW_MINUTE - FIRST_LOOKBACK_MINUTES);
    assert_eq!((report.items_read, report.acted), (1, 1));
    assert_eq!(handed_over(&desk.tickets), [("TK-1".to_owned(), oldest_read, NOW)]);
    assert_eq!(claimed_until(&desk.index, 2), None);
}

#[tokio::test]
async fn a_late_sweep_catches_up_a_day_of_buckets_and_the_next_sweep_continues_from_there() {
    // Arrange: the last sweep stopped 3,000 minutes ago; a deadline is due
    // 2,000 minutes after that, beyond what one run catches up.
    let desk = desk();
    let stopped_at = NOW_MINUTE - 3_000;
    desk.index.move_sweep_cursor(None, stopped_at).await.unwrap();
    let deadline = first_response(Stage::Breach, (stopped_at + 2_000) * MINUTE);
    file(&desk.index, 1, deadline).await;

    // Act
    let first = desk.sweep.sweep().await.unwrap();
    let cursor_after_first = desk.index.sweep_minute();
    let second = desk.sweep.sweep().await.unwrap();

    // Assert
    assert_eq!(MAX_MINUTES_PER_RUN, 24 * 60);
    assert_eq!(
        (first.from_minute, first.to_minute),
        (stopped_at, stopped_at + MAX_MINUTES_PER_RUN)
    );
    assert_eq!((first.items_read, first.acted), (0, 0));
    assert_eq!(cursor_after_first, Some(stopped_at + MAX_MINUTES_PER_RUN + 1));
    assert_eq!(second.from_minute, stopped_at + MAX_MINUTES_PER_RUN + 1);
    assert_eq!(second.acted, 1);
    assert_eq!(handed_over(&desk.tickets), [("TK-1".to_owned(), deadline, NOW)]);
}

#[tokio::test]
async fn a_deadline_later_in_the_current_minute_is_left_for_the_next_sweep_and_the_cursor_stays_on_its_bucket() {
    // Arrange: the sweep runs at 08:00:30; the deadline falls at 08:00:45.
    let desk = desk();
    let deadline = first_response(Stage::Warn, NOW + 15_000);
    file(&desk.index, 1, deadline).await;

    // Act
    let early = desk.sweep.sweep().await.unwrap();
    let cursor_after_early = desk.index.sweep_minute();
    desk.clock.set(NOW + MINUTE);
    let next = desk.sweep.sweep().await.unwrap();

    // Assert
    assert_eq!((early.items_read, early.acted), (0, 0));
    assert_eq!(
        next.acted, 1,
        "the next sweep reads minutes {}..={}",
        next.from_minute, next.to_minute
    );
    assert_eq!(
        handed_over(&desk.tickets),
        [("TK-1".to_owned(), deadline, NOW + MINUTE)]
    );
    assert_eq!(cursor_after_early, Some(NOW_MINUTE));
}

#[tokio::test]
async fn a_deadline_the_queue_refuses_counts_as_failed_and_the_cursor_waits_on_its_bucket() {
    // Arrange
    let desk = desk();
    desk.index.move_sweep_cursor(None, NOW_MINUTE - 10).await.unwrap();
    let deadline = first_response(Stage::Warn, (NOW_MINUTE - 5) * MINUTE);
    file(&desk.index, 1, deadline).await;
    desk.tickets.fail_next(1);

    // Act
    let refused = desk.sweep.sweep().await.unwrap();
    let cursor_after_refusal = desk.index.sweep_minute();
    desk.clock.set(NOW + CLAIM_LEASE_MS);
    let retried = desk.sweep.sweep().await.unwrap();

    // Assert
    assert_eq!((refused.acted, refused.failed), (0, 1));
    assert_eq!(cursor_after_refusal, Some(NOW_MINUTE - 5));
    assert_eq!(retried.from_minute, NOW_MINUTE - 5);
    assert_eq!((retried.acted, retried.failed), (1, 0));
    assert_eq!(
        handed_over(&desk.tickets),
        [("TK-1".to_owned(), deadline, NOW + CLAIM_LEASE_MS)]
    );
}

#[tokio::test]
async fn the_items_read_stay_at_the_due_deadlines_however_many_deadlines_wait_in_other_buckets() {
    // Arrange: 1,000 deadlines over the coming days, 3 due.
    let desk = desk();
    for n in 0..1_000 {
        let later = NOW + MINUTE + (n as i64) * 7 * MINUTE;
        file(&desk.index, 1_000 + n, first_response(Stage::Warn, later)).await;
    }
    for n in 1..=3 {
        file(&desk.index, n, first_response(Stage::Warn, NOW - (n as i64) * MINUTE)).await;
    }

    // Act
    let report = desk.sweep.sweep().await.unwrap();

    // Assert
    assert_eq!(report.items_read, 3);
    assert_eq!(report.acted, 3);
    let tickets: Vec<String> = handed_over(&desk.tickets).into_iter().map(|(t, _, _)| t).collect();
    assert_eq!(tickets, ["TK-3", "TK-2", "TK-1"]);
}

#[tokio::test]
async fn a_deadline_tickets_never_moves_stops_holding_the_cursor_and_later_deadlines_are_handed_over() {
    // Arrange: a deadline is handed over, and `tickets` never acts on it (its
    // command ended in the tickets DLQ).
    let desk = desk();
    let stuck = first_response(Stage::Warn, NOW - MINUTE);
    file(&desk.index, 1, stuck).await;
    desk.sweep.sweep().await.unwrap();
    desk.clock.set(NOW + (sla::STUCK_AFTER_MINUTES + 1) * MINUTE);
    let passed = desk.sweep.sweep().await.unwrap();
    let later = NOW + 2 * 60 * MINUTE;
    file(&desk.index, 2, first_response(Stage::Warn, later - MINUTE)).await;
    desk.clock.set(later);

    // Act
    let report = desk.sweep.sweep().await.unwrap();

    // Assert: the stuck deadline was passed once its hold ran out, and the
    // later one was read and handed over.
    assert_eq!(passed.given_up, 1, "{passed:?}");
    assert_eq!(report.given_up, 0, "{report:?}");
    assert!(report.from_minute > (NOW - MINUTE) / MINUTE, "{report:?}");
    let tickets: Vec<String> = handed_over(&desk.tickets).into_iter().map(|(t, _, _)| t).collect();
    assert!(tickets.contains(&"TK-2".to_owned()), "handed over: {tickets:?}");
}

// ------------------------------------------------------------- round robin

mod round_robin {
    use super::*;
    use helpdesk::domain::commands::{Action, AgentAction};
    use helpdesk::domain::desk::{Desk, EMBEDDED_CONFIG};
    use helpdesk::domain::i18n::Catalog;
    use helpdesk::domain::ticket::{Priority, Ticket, TicketStatus};
    use helpdesk::ports::{AvailabilityStore, TicketStore};
    use std::sync::Arc;

    /// The shipped desk with support assigning round-robin, one ticket per agent.
    fn round_robin_desk() -> Arc<Desk> {
        let config = EMBEDDED_CONFIG.replacen(
            "id = \"support\"",
            "id = \"support\"\nassignment = { round_robin = true, capacity = 1 }",
            1,
        );
        Arc::new(Desk::from_toml(&config, &Catalog::builtin()).expect("the desk with round-robin support"))
    }

    async fn queued(index: &MemoryStore, n: usize, priority: Priority, created: i64) {
        let mut t = Ticket::open(ticket(n), customer(), "P1".into(), "support".into(), created);
        t.status = TicketStatus::Queued;
        t.tier = 2;
        t.priority = priority;
        index.save_ticket(&t, None, &[]).await.unwrap();
    }

    fn assignments(desk: &SweepDesk) -> Vec<(String, String)> {
        desk.tickets
            .sent()
            .into_iter()
            .filter_map(|c| match c {
                TicketCommand::AgentAction(AgentAction {
                    ticket_id,
                    action: Action::Assign { to },
                    agent,
                    expected_version,
                    ..
                }) => {
                    assert_eq!((agent.as_str(), expected_version), (sla::ROUND_ROBIN, Some(1)));
                    Some((ticket_id.as_str().to_owned(), to))
                }
                _ => None,
            })
            .collect()
    }

    fn schedule_event() -> EventBridgeEvent {
        serde_json::from_str(include_str!("../../../events/sla-schedule.json")).expect("the sam event parses")
    }

    #[tokio::test]
    async fn queued_tickets_go_to_available_agents_in_turn_up_to_their_capacity() {
        let desk = desk();
        let sweep = Sweep::new(desk.index.clone(), desk.tickets.clone(), desk.clock.clone())
            .with_assignment(round_robin_desk());
        queued(&desk.index, 1, Priority::Normal, NOW - 30 * MINUTE).await;
        queued(&desk.index, 2, Priority::Urgent, NOW - 5 * MINUTE).await;
        queued(&desk.index, 3, Priority::Normal, NOW - 20 * MINUTE).await;
        desk.index
            .set_available("bob", &["support".into()], NOW - 60 * MINUTE)
            .await
            .unwrap();
        desk.index
            .set_available("ana", &["support".into(), "billing".into()], NOW - 60 * MINUTE)
            .await
            .unwrap();
        desk.index
            .note_assigned("support", "bob", NOW - 10 * MINUTE)
            .await
            .unwrap();

        let report = sweep
            .handle(LambdaEvent::new(schedule_event(), Context::default()))
            .await
            .unwrap();

        // Urgent first, to ana (never assigned), then the oldest to bob; the third waits.
        assert_eq!(report.assigned, 2);
        assert_eq!(
            assignments(&desk),
            [
                ("TK-2".to_owned(), "ana".to_owned()),
                ("TK-1".to_owned(), "bob".to_owned())
            ]
        );
        let available = desk.index.available("support").await.unwrap();
        assert!(available.iter().all(|a| a.last_assigned_at_ms == Some(NOW)));
    }

    #[tokio::test]
    async fn nobody_available_or_a_team_without_round_robin_assigns_nothing() {
        let desk = desk();
        let sweep = Sweep::new(desk.index.clone(), desk.tickets.clone(), desk.clock.clone())
            .with_assignment(round_robin_desk());
        queued(&desk.index, 1, Priority::Normal, NOW - MINUTE).await;
        desk.index.set_available("ana", &["billing".into()], NOW).await.unwrap();

        let report = sweep
            .handle(LambdaEvent::new(schedule_event(), Context::default()))
            .await
            .unwrap();

        assert_eq!(report.assigned, 0);
        assert!(assignments(&desk).is_empty());
        desk.index.set_away("ana", &["billing".into()]).await.unwrap();
        assert!(desk.index.available("billing").await.unwrap().is_empty());
    }
}
