//! The tickets function's handler on SQS batches as Lambda delivers them, over
//! the in-memory ports: what it leaves in the table, on the bus and in the
//! outbound queue, when records are redelivered, malformed, or meet a failing
//! store, bus or a concurrent writer.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::memory::{MemoryEvents, MemoryQueue, MemoryStore};
use helpdesk::config::Env;
use helpdesk::domain::attachment::MediaAttachment;
use helpdesk::domain::commands::{
    AgentReplied, Escalate, RecordInbound, RecordOutbound, RecordStatus, Resolve, SlaDue, TicketCommand,
};
use helpdesk::domain::desk::{Desk, EMBEDDED_CONFIG};
use helpdesk::domain::events::DomainEvent;
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::outbound::{Author, OutboundBody, OutboundRequest};
use helpdesk::domain::reports::{AggregateRow, Counters, ReportFact};
use helpdesk::domain::sla::{Deadline, DeadlineKind, Metric, Stage};
use helpdesk::domain::ticket::{
    CustomerProfile, DeliveryState, DeliveryUpdate, OutboundLink, Priority, Ticket, TicketStatus, TimelineEntry,
};
use helpdesk::domain::views::{ListPage, Listing};
use helpdesk::ports::{
    DeadlineIndex, DueDeadline, Erasure, IdentityReader, ReportStore, StoreError, TicketReader, TicketStore,
};
use lambda_runtime::{Context, LambdaEvent};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use tickets::Tickets;

const MINUTE: i64 = 60_000;
/// When the customer first wrote: the time of `events/tickets-record-inbound.json`.
const T0: i64 = 1_795_237_200_000;
/// The ticket, customer and message of `events/tickets-record-inbound.json`.
const TICKET: &str = "TK-3F9A0C51D2E7";
const CUSTOMER: &str = "15551230001";
const FIRST_WAMID: &str = "wamid.HBgLMTU1NTEyMzAwMDEVAgASGBQzQUZGMDA2QjJBRkU0RTZCMEMwNwA=";
const PHONE_NUMBER_ID: &str = "100000000000001";

static CATALOG: LazyLock<Arc<Catalog>> = LazyLock::new(|| Arc::new(Catalog::builtin()));

/// The shipped desk with every calendar removed: open around the clock, so
/// SLA deadlines fall at wall-clock minutes (the decider's tests do the same).
static ALWAYS_OPEN: LazyLock<Arc<Desk>> = LazyLock::new(|| {
    let mut config: toml::Table = toml::from_str(EMBEDDED_CONFIG).expect("the shipped desk parses");
    for team in config["teams"].as_array_mut().expect("teams") {
        team.as_table_mut().expect("a team").remove("calendar");
    }
    let text = toml::to_string(&config).expect("the desk serialises");
    Arc::new(Desk::from_toml(&text, &CATALOG).expect("a valid desk"))
});

/// The tickets function over `store`, with what it publishes and sends kept
/// for the test; `table` is the table underneath, read back by the asserts.
struct Helpdesk<S> {
    tickets: Tickets<S, MemoryEvents, MemoryQueue<OutboundRequest>>,
    table: MemoryStore,
    events: MemoryEvents,
    outbound: MemoryQueue<OutboundRequest>,
}

fn helpdesk() -> Helpdesk<MemoryStore> {
    let table = MemoryStore::new();
    helpdesk_over(table.clone(), table, ALWAYS_OPEN.clone())
}

fn helpdesk_over<S>(store: S, table: MemoryStore, desk: Arc<Desk>) -> Helpdesk<S>
where
    S: TicketStore + DeadlineIndex + ReportStore + Erasure + IdentityReader,
{
    let events = MemoryEvents::default();
    let outbound = MemoryQueue::default();
    Helpdesk {
        tickets: Tickets::new(store, events.clone(), outbound.clone(), desk, CATALOG.clone()),
        table,
        events,
        outbound,
    }
}

impl<S: TicketStore + DeadlineIndex + ReportStore + Erasure + IdentityReader> Helpdesk<S> {
    /// Hands `records` to the handler as one batch; the ids it reports for redelivery.
    async fn deliver(&self, records: Vec<SqsMessage>) -> Vec<String> {
        let mut event = SqsEvent::default();
        event.records = records;
        let response = self
            .tickets
            .handle(LambdaEvent::new(event, Context::default()))
            .await
            .expect("the handler answers a batch response");
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    /// Delivers `command` alone under `message_id`; the ids reported for redelivery.
    async fn deliver_one(&self, message_id: &str, command: &TicketCommand) -> Vec<String> {
        self.deliver(vec![record(message_id, command)]).await
    }

    /// The customer's first message, then the bot's escalation a minute later.
    async fn open_and_escalate(&self) {
        assert!(self.deliver_one("m-open", &inbound(FIRST_WAMID, T0)).await.is_empty());
        assert!(self.deliver_one("m-esc", &escalate(ESCALATED_AT)).await.is_empty());
    }

    fn ticket(&self) -> Ticket {
        self.ticket_of(TICKET)
    }

    fn ticket_of(&self, id: &str) -> Ticket {
        self.table
            .tickets()
            .into_iter()
            .find(|t| t.id.as_str() == id)
            .unwrap_or_else(|| panic!("ticket {id} is not stored"))
    }

    fn timeline(&self, id: &str) -> Vec<TimelineEntry> {
        self.table.timeline_of(&TicketId::parse(id).unwrap())
    }

    fn timeline_kinds(&self) -> Vec<String> {
        self.timeline(TICKET).into_iter().map(|e| e.kind).collect()
    }

    /// `(kind, stage, at)` of each item of the deadline index.
    fn deadlines(&self) -> Vec<(DeadlineKind, Stage, i64)> {
        self.table
            .deadline_items()
            .into_iter()
            .map(|item| (item.deadline.kind, item.deadline.stage, item.deadline.at_ms))
            .collect()
    }

    /// A KPI counter summed over every day, team and priority.
    fn counted(&self, counter: impl Fn(&Counters) -> u64) -> u64 {
        self.table
            .aggregate_rows()
            .iter()
            .map(|row: &AggregateRow| counter(&row.counters))
            .sum()
    }

    /// The `detail-type` of each event published, in order.
    fn published(&self) -> Vec<&'static str> {
        self.events.published().iter().map(DomainEvent::kind).collect()
    }
}

/// The bot escalates a minute after the first message.
const ESCALATED_AT: i64 = T0 + MINUTE;

/// A record of `tickets.fifo` carrying `command`, in the command's message group.
fn record(message_id: &str, command: &TicketCommand) -> SqsMessage {
    let body = serde_json::to_string(command).expect("a command serialises");
    raw_record(message_id, &command.group_key(), &body)
}

fn raw_record(message_id: &str, group: &str, body: &str) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(message_id.to_owned());
    message.body = Some(body.to_owned());
    message.attributes.insert("MessageGroupId".into(), group.to_owned());
    message.attributes.insert("ApproximateReceiveCount".into(), "1".into());
    message
}

fn customer() -> CustomerId {
    CustomerId::parse(CUSTOMER).unwrap()
}

fn ticket_id() -> TicketId {
    TicketId::parse(TICKET).unwrap()
}

fn inbound(wamid: &str, at_ms: i64) -> TicketCommand {
    inbound_from(CUSTOMER, TICKET, wamid, at_ms)
}

fn inbound_from(customer: &str, ticket: &str, wamid: &str, at_ms: i64) -> TicketCommand {
    TicketCommand::RecordInbound(RecordInbound {
        ticket_id: TicketId::parse(ticket).unwrap(),
        customer: CustomerId::parse(customer).unwrap(),
        phone_number_id: PHONE_NUMBER_ID.into(),
        team: "support".into(),
        contact_name: Some("Ana Souza".into()),
        wamid: wamid.into(),
        at_ms,
        message_type: "text".into(),
        summary: "hi".into(),
        message: serde_json::json!({"type": "text", "text": {"body": "hi"}}),
    })
}

/// The bot hands the ticket to the support agents, priority high.
fn escalate(at_ms: i64) -> TicketCommand {
    TicketCommand::Escalate(Escalate {
        ticket_id: ticket_id(),
        customer: customer(),
        tier: 2,
        team: "support".into(),
        priority: Priority::High,
        trigger: "direct_request".into(),
        reason: "asked for an agent".into(),
        order_number: None,
        at_ms,
        cause: format!("wamid.esc.{at_ms}"),
        triggers: Vec::new(),
        intent: Some("talk_to_agent".into()),
        category: None,
        language: Some("en".into()),
        frustration: None,
        excerpt: Some("an agent please".into()),
    })
}

fn agent_replied(agent: &str, at_ms: i64) -> TicketCommand {
    TicketCommand::AgentReplied(AgentReplied {
        ticket_id: ticket_id(),
        customer: customer(),
        agent: agent.into(),
        at_ms,
        idempotency_key: format!("reply.{at_ms}"),
        body: None,
        expected_version: None,
    })
}

fn resolve_by(agent: &str, at_ms: i64) -> TicketCommand {
    TicketCommand::Resolve(Resolve {
        ticket_id: ticket_id(),
        customer: customer(),
        by: Author::Agent(agent.into()),
        at_ms,
        request_id: format!("req.{at_ms}"),
    })
}

fn sla_due(deadline: Deadline, at_ms: i64) -> TicketCommand {
    TicketCommand::SlaDue(SlaDue {
        ticket_id: ticket_id(),
        customer: customer(),
        deadline,
        at_ms,
    })
}

fn status(wamid: &str, status: &str, at_ms: i64) -> TicketCommand {
    TicketCommand::RecordStatus(RecordStatus {
        wamid: wamid.into(),
        status: status.into(),
        at_ms,
        recipient: Some(customer()),
        errors: Vec::new(),
        pricing: None,
    })
}

fn accepted(wamid: &str, at_ms: i64) -> TicketCommand {
    TicketCommand::RecordOutbound(RecordOutbound {
        ticket_id: ticket_id(),
        customer: customer(),
        idempotency_key: format!("reply.{at_ms}"),
        wamid: wamid.into(),
        at_ms,
        author: Author::Agent("ana".into()),
        body: OutboundBody::text("Your refund is on its way."),
    })
}

// ------------------------------------------------------------- a racing store

/// The table as another writer shares it: after the next load of a ticket,
/// before the handler saves, `interloper` is applied by a second tickets
/// function on the same table; and the next saves can be made to fail.
#[derive(Clone)]
struct RacingStore {
    table: MemoryStore,
    interloper: Arc<Mutex<Option<TicketCommand>>>,
    failing_saves: Arc<AtomicUsize>,
    conflicts: Arc<AtomicUsize>,
}

impl RacingStore {
    fn over(table: &MemoryStore) -> Self {
        RacingStore {
            table: table.clone(),
            interloper: Arc::default(),
            failing_saves: Arc::default(),
            conflicts: Arc::default(),
        }
    }

    /// Another writer applies `command` right after the handler's next load.
    fn race_next_load_with(&self, command: TicketCommand) {
        *self.interloper.lock().unwrap() = Some(command);
    }

    /// The next `n` ticket saves fail as an unreachable table would.
    fn fail_next_saves(&self, n: usize) {
        self.failing_saves.store(n, Ordering::SeqCst);
    }

    /// Saves refused because the version had moved.
    fn conflicts(&self) -> usize {
        self.conflicts.load(Ordering::SeqCst)
    }
}

impl TicketReader for RacingStore {
    async fn ticket(&self, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        let loaded = self.table.ticket(id).await;
        let interloper = self.interloper.lock().unwrap().take();
        if let Some(command) = interloper {
            let other = helpdesk_over(self.table.clone(), self.table.clone(), ALWAYS_OPEN.clone());
            other.tickets.apply(command).await.expect("the other writer saves");
        }
        loaded
    }

    async fn timeline(&self, id: &TicketId) -> Result<Vec<TimelineEntry>, StoreError> {
        self.table.timeline(id).await
    }

    async fn list(&self, listing: &Listing, after: Option<&str>, limit: usize) -> Result<ListPage, StoreError> {
        self.table.list(listing, after, limit).await
    }

    async fn count(&self, listing: &Listing) -> Result<u64, StoreError> {
        self.table.count(listing).await
    }

    async fn profile(&self, customer: &CustomerId) -> Result<Option<CustomerProfile>, StoreError> {
        self.table.profile(customer).await
    }

    async fn attachments(&self, ticket: &TicketId) -> Result<Vec<MediaAttachment>, StoreError> {
        self.table.attachments(ticket).await
    }
}

impl TicketStore for RacingStore {
    async fn save_ticket(
        &self,
        ticket: &Ticket,
        expected_version: Option<u64>,
        entries: &[TimelineEntry],
    ) -> Result<(), StoreError> {
        let failing = self
            .failing_saves
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(StoreError::Backend(Box::new(std::io::Error::other(
                "the table could not be reached",
            ))));
        }
        let saved = self.table.save_ticket(ticket, expected_version, entries).await;
        if matches!(saved, Err(StoreError::Conflict)) {
            self.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        saved
    }

    async fn append_entry(&self, ticket: &TicketId, entry: &TimelineEntry) -> Result<bool, StoreError> {
        self.table.append_entry(ticket, entry).await
    }

    async fn replace_entry(&self, ticket: &TicketId, entry: &TimelineEntry) -> Result<(), StoreError> {
        self.table.replace_entry(ticket, entry).await
    }

    async fn link_outbound(&self, wamid: &str, link: &OutboundLink) -> Result<(), StoreError> {
        self.table.link_outbound(wamid, link).await
    }

    async fn find_outbound(&self, wamid: &str) -> Result<Option<OutboundLink>, StoreError> {
        self.table.find_outbound(wamid).await
    }

    async fn advance_delivery(
        &self,
        ticket: &TicketId,
        at_ms: i64,
        wamid: &str,
        update: &DeliveryUpdate,
    ) -> Result<bool, StoreError> {
        self.table.advance_delivery(ticket, at_ms, wamid, update).await
    }

    async fn park_status(&self, wamid: &str, update: &DeliveryUpdate) -> Result<(), StoreError> {
        self.table.park_status(wamid, update).await
    }

    async fn parked_status(&self, wamid: &str) -> Result<Option<DeliveryUpdate>, StoreError> {
        self.table.parked_status(wamid).await
    }

    async fn save_attachment(&self, ticket: &TicketId, attachment: &MediaAttachment) -> Result<(), StoreError> {
        self.table.save_attachment(ticket, attachment).await
    }

    async fn save_profile(&self, profile: &CustomerProfile) -> Result<(), StoreError> {
        self.table.save_profile(profile).await
    }

    async fn keep_ticket_items_until(&self, ticket: &TicketId, until_ms: Option<i64>) -> Result<(), StoreError> {
        self.table.keep_ticket_items_until(ticket, until_ms).await
    }
}

impl DeadlineIndex for RacingStore {
    async fn sync_deadlines(
        &self,
        ticket: &TicketId,
        customer: &CustomerId,
        deadlines: &[Deadline],
        previous: Option<&[Deadline]>,
    ) -> Result<(), StoreError> {
        self.table.sync_deadlines(ticket, customer, deadlines, previous).await
    }

    async fn due_in(&self, minute: i64, now_ms: i64) -> Result<(Vec<DueDeadline>, usize), StoreError> {
        self.table.due_in(minute, now_ms).await
    }

    async fn claim(&self, due: &DueDeadline, now_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
        self.table.claim(due, now_ms, until_ms).await
    }

    async fn sweep_cursor(&self) -> Result<Option<i64>, StoreError> {
        self.table.sweep_cursor().await
    }

    async fn move_sweep_cursor(&self, previous: Option<i64>, minute: i64) -> Result<bool, StoreError> {
        self.table.move_sweep_cursor(previous, minute).await
    }
}

impl Erasure for RacingStore {
    async fn erase_ticket_contents(&self, ticket: &TicketId) -> Result<Vec<MediaAttachment>, StoreError> {
        self.table.erase_ticket_contents(ticket).await
    }

    async fn forget_fingerprint(
        &self,
        band: &str,
        fingerprint: &helpdesk::domain::attachment::Fingerprint,
    ) -> Result<(), StoreError> {
        self.table.forget_fingerprint(band, fingerprint).await
    }

    async fn forget_customer(
        &self,
        customer: &CustomerId,
        handles: &[helpdesk::domain::identity::Handle],
    ) -> Result<(), StoreError> {
        self.table.forget_customer(customer, handles).await
    }
}

impl IdentityReader for RacingStore {
    async fn owner(&self, handle: &helpdesk::domain::identity::Handle) -> Result<Option<CustomerId>, StoreError> {
        self.table.owner(handle).await
    }

    async fn identity(
        &self,
        customer: &CustomerId,
    ) -> Result<Option<helpdesk::domain::identity::Identity>, StoreError> {
        self.table.identity(customer).await
    }

    async fn owners_of_username(
        &self,
        username: &helpdesk::domain::identity::Username,
    ) -> Result<Vec<CustomerId>, StoreError> {
        self.table.owners_of_username(username).await
    }
}

impl ReportStore for RacingStore {
    async fn record_fact(&self, fact: &ReportFact) -> Result<bool, StoreError> {
        self.table.record_fact(fact).await
    }

    async fn aggregates(&self, from: &str, to: &str) -> Result<Vec<AggregateRow>, StoreError> {
        self.table.aggregates(from, to).await
    }

    async fn agent_aggregates(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<helpdesk::domain::reports::AgentAggregateRow>, StoreError> {
        self.table.agent_aggregates(from, to).await
    }
}

// ---------------------------------------------------------------------- tests

#[tokio::test]
async fn the_sam_event_delivered_twice_opens_the_ticket_once_with_one_timeline_entry_at_version_1() {
    // Arrange: the shipped desk, loaded as the function loads it.
    let shipped = load_desk(&Env::from_map(Default::default()), &CATALOG).expect("the shipped desk loads");
    let table = MemoryStore::new();
    let desk = helpdesk_over(table.clone(), table, Arc::new(shipped));
    let event: SqsEvent = serde_json::from_str(include_str!("../../../events/tickets-record-inbound.json"))
        .expect("the sam event parses");

    // Act
    let first = desk.deliver(event.records.clone()).await;
    let redelivered = desk.deliver(event.records).await;

    // Assert
    assert!(first.is_empty() && redelivered.is_empty(), "{first:?} {redelivered:?}");
    let stored = desk.table.tickets();
    assert_eq!(stored.len(), 1);
    let ticket = &stored[0];
    assert_eq!(ticket.id.as_str(), TICKET);
    assert_eq!((ticket.version, ticket.status, ticket.tier), (1, TicketStatus::Bot, 1));
    assert_eq!(ticket.contact_name.as_deref(), Some("Ana Souza"));
    let timeline = desk.timeline(TICKET);
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].id, FIRST_WAMID);
    assert_eq!(desk.counted(|c| c.tickets), 1);
    assert!(desk.events.published().is_empty());
    assert!(desk.outbound.sent().is_empty());
}

#[tokio::test]
async fn a_malformed_record_is_reported_for_redelivery_and_nothing_is_written() {
    // Arrange: a command missing its customer and message.
    let desk = helpdesk();
    let body = r#"{"command": "record_inbound", "ticket_id": "TK-3F9A0C51D2E7", "at_ms": 1795237200000}"#;

    // Act
    let failed = desk.deliver(vec![raw_record("m1", CUSTOMER, body)]).await;

    // Assert
    assert_eq!(failed, ["m1"]);
    assert!(desk.table.tickets().is_empty());
    assert!(desk.timeline(TICKET).is_empty());
    assert_eq!(desk.table.facts_counted(), 0);
    assert!(desk.events.published().is_empty());
    assert!(desk.outbound.sent().is_empty());
}

#[tokio::test]
async fn a_record_the_store_fails_on_is_redelivered_with_the_rest_of_its_group_while_another_group_is_handled() {
    // Arrange: two messages of one customer, one of another.
    let desk = helpdesk();
    let other = "15551230002";
    let first = record("m1", &inbound("wamid.A1", T0));
    let second = record("m2", &inbound("wamid.A2", T0 + MINUTE));
    let elsewhere = record("m3", &inbound_from(other, "TK-B00000000001", "wamid.B1", T0));
    desk.table.fail_next(1);

    // Act
    let failed = desk.deliver(vec![first.clone(), second.clone(), elsewhere]).await;
    let stored_after_the_failure: Vec<String> = desk.table.tickets().iter().map(|t| t.id.as_str().to_owned()).collect();
    let redelivered = desk.deliver(vec![first, second]).await;

    // Assert
    assert_eq!(failed, ["m1", "m2"]);
    assert_eq!(stored_after_the_failure, ["TK-B00000000001"]);
    assert!(redelivered.is_empty(), "{redelivered:?}");
    let ids: Vec<String> = desk.timeline(TICKET).into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["wamid.A1", "wamid.A2"]);
    assert_eq!(desk.ticket().version, 2);
}

#[tokio::test]
async fn a_command_for_a_ticket_that_does_not_exist_yet_is_redelivered_until_the_ticket_is_opened() {
    // Arrange
    let desk = helpdesk();
    let escalation = escalate(ESCALATED_AT);

    // Act
    let too_early = desk.deliver_one("m-esc", &escalation).await;
    let written_too_early = (
        desk.table.tickets().len(),
        desk.deadlines().len(),
        desk.table.facts_counted(),
    );
    let published_too_early = desk.published();
    desk.deliver_one("m-open", &inbound(FIRST_WAMID, T0)).await;
    let redelivered = desk.deliver_one("m-esc", &escalation).await;

    // Assert
    assert_eq!(too_early, ["m-esc"]);
    assert_eq!(written_too_early, (0, 0, 0));
    assert!(published_too_early.is_empty());
    assert!(redelivered.is_empty(), "{redelivered:?}");
    assert_eq!(desk.ticket().status, TicketStatus::Queued);
    assert_eq!(desk.published(), ["TicketEscalated"]);
}

#[tokio::test]
async fn an_escalation_tells_the_team_files_its_deadlines_and_counts_it_once_even_when_redelivered() {
    // Arrange
    let desk = helpdesk();
    desk.deliver_one("m-open", &inbound(FIRST_WAMID, T0)).await;

    // Act
    let first = desk.deliver_one("m-esc", &escalate(ESCALATED_AT)).await;
    let redelivered = desk.deliver_one("m-esc", &escalate(ESCALATED_AT)).await;

    // Assert
    assert!(first.is_empty() && redelivered.is_empty(), "{first:?} {redelivered:?}");
    let events = desk.events.published();
    let [DomainEvent::TicketEscalated(escalated)] = events.as_slice() else {
        panic!("expected one TicketEscalated, got {events:?}");
    };
    assert_eq!(escalated.ticket.ticket_id.as_str(), TICKET);
    assert_eq!(
        (
            escalated.ticket.team.as_str(),
            escalated.ticket.tier,
            escalated.ticket.priority
        ),
        ("support", 2, Priority::High)
    );
    assert_eq!(escalated.trigger, "direct_request");
    // The standard policy: 30 minutes to answer, 2,880 to resolve, warned at 80%.
    assert_eq!(
        desk.deadlines(),
        [
            (DeadlineKind::FirstResponse, Stage::Warn, ESCALATED_AT + 24 * MINUTE),
            (DeadlineKind::Resolution, Stage::Warn, ESCALATED_AT + 2_304 * MINUTE),
        ]
    );
    assert_eq!((desk.counted(|c| c.tickets), desk.counted(|c| c.to_human)), (1, 1));
    let ticket = desk.ticket();
    assert_eq!((ticket.status, ticket.version), (TicketStatus::Queued, 2));
    assert_eq!(desk.timeline_kinds(), ["text", "escalated"]);
}

#[tokio::test]
async fn a_first_response_warning_tells_the_team_and_moves_the_deadline_to_the_breach() {
    // Arrange: the sweep found the warning due and claimed it.
    let desk = helpdesk();
    desk.open_and_escalate().await;
    let warning = desk
        .table
        .deadline_items()
        .into_iter()
        .find(|item| item.deadline.kind == DeadlineKind::FirstResponse)
        .expect("a first-response deadline");
    let due_at = warning.deadline.at_ms;
    assert!(desk.table.claim(&warning, due_at, due_at + 2 * MINUTE).await.unwrap());
    desk.events.take();

    // Act
    let failed = desk.deliver_one("m-due", &sla_due(warning.deadline, due_at)).await;

    // Assert
    assert!(failed.is_empty(), "{failed:?}");
    let events = desk.events.published();
    let [DomainEvent::SlaWarning(warned)] = events.as_slice() else {
        panic!("expected one SlaWarning, got {events:?}");
    };
    assert_eq!((warned.metric, warned.percent), (Metric::FirstResponse, 80));
    assert_eq!(warned.due_at_ms, ESCALATED_AT + 30 * MINUTE);
    let first_response = desk
        .table
        .deadline_items()
        .into_iter()
        .find(|item| item.deadline.kind == DeadlineKind::FirstResponse)
        .expect("the first-response deadline is still filed");
    assert_eq!(
        (first_response.deadline.stage, first_response.deadline.at_ms),
        (Stage::Breach, ESCALATED_AT + 30 * MINUTE)
    );
    assert_eq!(
        first_response.claimed_until_ms, None,
        "a new deadline, free for the sweep"
    );
    assert_eq!(desk.counted(|c| c.sla_warnings), 1);
    assert_eq!(desk.timeline_kinds().last().map(String::as_str), Some("sla_warning"));
    assert!(desk.outbound.sent().is_empty(), "the customer is not told of a warning");
}

#[tokio::test]
async fn a_version_conflict_is_retried_on_a_fresh_load_and_both_changes_are_kept() {
    // Arrange: while the escalation is applied, another writer records the
    // customer's next message between its load and its save.
    let table = MemoryStore::new();
    let racing = RacingStore::over(&table);
    let desk = helpdesk_over(racing.clone(), table, ALWAYS_OPEN.clone());
    desk.deliver_one("m-open", &inbound(FIRST_WAMID, T0)).await;
    racing.race_next_load_with(inbound("wamid.meanwhile", T0 + 2 * MINUTE));

    // Act
    let failed = desk.deliver_one("m-esc", &escalate(ESCALATED_AT)).await;

    // Assert
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(racing.conflicts(), 1);
    let ticket = desk.ticket();
    assert_eq!(ticket.version, 3, "opened, the other writer's message, the escalation");
    assert_eq!(ticket.status, TicketStatus::Queued);
    assert_eq!(ticket.last_customer_message_at_ms, Some(T0 + 2 * MINUTE));
    assert_eq!(desk.timeline_kinds(), ["text", "escalated", "text"]);
    assert_eq!(desk.counted(|c| c.to_human), 1);
    assert_eq!(desk.deadlines().len(), 2);
    // The attempt that lost the race had published already: the retry repeats
    // the same event, which the bus's consumers key on.
    let escalations: Vec<i64> = desk
        .events
        .published()
        .iter()
        .map(|e| match e {
            DomainEvent::TicketEscalated(e) => e.ticket.at_ms,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert!(
        !escalations.is_empty() && escalations.iter().all(|at| *at == ESCALATED_AT),
        "{escalations:?}"
    );
}

#[tokio::test]
async fn an_agents_resolution_sends_the_survey_once_even_when_the_command_is_redelivered() {
    // Arrange
    let desk = helpdesk();
    desk.open_and_escalate().await;
    desk.deliver_one("m-reply", &agent_replied("ana", ESCALATED_AT + 5 * MINUTE))
        .await;
    let resolution = resolve_by("ana", ESCALATED_AT + 20 * MINUTE);

    // Act
    let first = desk.deliver_one("m-res", &resolution).await;
    let redelivered = desk.deliver_one("m-res", &resolution).await;

    // Assert
    assert!(first.is_empty() && redelivered.is_empty(), "{first:?} {redelivered:?}");
    let sent = desk.outbound.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].idempotency_key, format!("csat:{TICKET}"));
    assert_eq!(sent[0].customer, customer());
    assert!(
        matches!(sent[0].body, OutboundBody::List { .. }),
        "the window is open: a list"
    );
    assert_eq!(desk.published(), ["TicketEscalated", "TicketResolved"]);
    let ticket = desk.ticket();
    assert_eq!(ticket.status, TicketStatus::Resolved);
    assert_eq!(ticket.csat.map(|c| c.asked_at_ms), Some(ESCALATED_AT + 20 * MINUTE));
    assert_eq!(desk.counted(|c| c.resolved), 1);
}

#[tokio::test]
async fn a_resolution_whose_save_failed_is_redelivered_and_the_survey_still_goes_out_once() {
    // Arrange
    let table = MemoryStore::new();
    let racing = RacingStore::over(&table);
    let desk = helpdesk_over(racing.clone(), table, ALWAYS_OPEN.clone());
    desk.open_and_escalate().await;
    let resolution = resolve_by("ana", ESCALATED_AT + 20 * MINUTE);
    racing.fail_next_saves(1);

    // Act
    let failed = desk.deliver_one("m-res", &resolution).await;
    let status_after_the_failure = desk.ticket().status;
    let redelivered = desk.deliver_one("m-res", &resolution).await;

    // Assert
    assert_eq!(failed, ["m-res"]);
    assert_eq!(status_after_the_failure, TicketStatus::Queued);
    assert!(redelivered.is_empty(), "{redelivered:?}");
    assert_eq!(desk.ticket().status, TicketStatus::Resolved);
    let keys: Vec<String> = desk.outbound.sent().into_iter().map(|r| r.idempotency_key).collect();
    assert_eq!(keys, [format!("csat:{TICKET}")]);
    assert_eq!(desk.counted(|c| c.resolved), 1);
}

#[tokio::test]
async fn a_status_that_overtakes_its_message_is_parked_and_applied_when_the_message_is_recorded() {
    // Arrange
    let desk = helpdesk();
    desk.open_and_escalate().await;
    let sent_at = ESCALATED_AT + 5 * MINUTE;

    // Act
    let early = desk
        .deliver_one("m-st", &status("wamid.OUT", "delivered", sent_at + 2_000))
        .await;
    let timeline_before = desk.timeline_kinds();
    let recorded = desk.deliver_one("m-out", &accepted("wamid.OUT", sent_at)).await;
    let late = desk
        .deliver_one("m-st2", &status("wamid.OUT", "sent", sent_at + 1_000))
        .await;

    // Assert
    assert!(early.is_empty() && recorded.is_empty() && late.is_empty());
    assert_eq!(timeline_before, ["text", "escalated"]);
    let outbound = desk
        .timeline(TICKET)
        .into_iter()
        .find(|e| e.id == "wamid.OUT")
        .expect("the message is on the timeline");
    assert_eq!(outbound.delivery, Some(DeliveryState::Delivered));
    assert_eq!(outbound.author, Author::Agent("ana".into()));
}

#[tokio::test]
async fn an_event_bus_failure_leaves_the_ticket_unsaved_and_the_redelivery_does_the_whole_escalation() {
    // Arrange
    let desk = helpdesk();
    desk.deliver_one("m-open", &inbound(FIRST_WAMID, T0)).await;
    desk.events.fail_next(1);

    // Act
    let failed = desk.deliver_one("m-esc", &escalate(ESCALATED_AT)).await;
    let after_the_failure = desk.ticket();
    let deadlines_after_the_failure = desk.deadlines();
    let kinds_after_the_failure = desk.timeline_kinds();
    let redelivered = desk.deliver_one("m-esc", &escalate(ESCALATED_AT)).await;

    // Assert
    assert_eq!(failed, ["m-esc"]);
    assert_eq!(
        (after_the_failure.status, after_the_failure.version),
        (TicketStatus::Bot, 1)
    );
    assert!(deadlines_after_the_failure.is_empty());
    assert_eq!(kinds_after_the_failure, ["text"]);
    assert!(redelivered.is_empty(), "{redelivered:?}");
    assert_eq!(desk.published(), ["TicketEscalated"]);
    let ticket = desk.ticket();
    assert_eq!((ticket.status, ticket.version), (TicketStatus::Queued, 2));
    assert_eq!(desk.deadlines().len(), 2);
    assert_eq!(desk.counted(|c| c.to_human), 1);
    assert_eq!(desk.timeline_kinds(), ["text", "escalated"]);
}

// ------------------------------------------------------------------- erasure

fn erase(request: &str, at_ms: i64) -> TicketCommand {
    TicketCommand::EraseCustomer(helpdesk::domain::commands::EraseCustomer {
        customer: customer(),
        by: "root".into(),
        at_ms,
        request_id: request.into(),
    })
}

#[tokio::test]
async fn an_erasure_leaves_the_tickets_shape_and_the_counts_and_nothing_about_the_customer() {
    // Arrange: an escalated ticket with a fingerprinted photo, the customer's
    // identity, profile and conversation.
    use helpdesk::domain::attachment::Fingerprint;
    use helpdesk::domain::conversation::Conversation;
    use helpdesk::domain::identity::{Handle, Identity};
    use helpdesk::ports::{ConversationStore, FingerprintIndex, IdentityStore};
    let desk = helpdesk();
    desk.deliver_one("m-open", &inbound(FIRST_WAMID, T0)).await;
    desk.deliver_one("m-esc", &escalate(ESCALATED_AT)).await;
    let photo: MediaAttachment = serde_json::from_value(serde_json::json!({
        "wamid": "wamid.PHOTO", "kind": "image", "at_ms": T0,
        "s3_key": "media/TK/wamid.PHOTO.jpg", "phash": "8f0f0f0f0f0f0f0f",
    }))
    .unwrap();
    desk.table.save_attachment(&ticket_id(), &photo).await.unwrap();
    let fingerprint = Fingerprint {
        phash: "8f0f0f0f0f0f0f0f".into(),
        ticket_id: ticket_id(),
        customer: customer(),
        wamid: "wamid.PHOTO".into(),
    };
    for band in helpdesk::domain::media::phash_bands("8f0f0f0f0f0f0f0f") {
        desk.table.file_fingerprint(&band, &fingerprint).await.unwrap();
    }
    let identity = Identity::from_key(&customer());
    desk.table.save_identity(&identity).await.unwrap();
    let handle = Handle::parse(CUSTOMER).unwrap();
    desk.table.link(&handle, &customer()).await.unwrap();
    desk.table
        .save_conversation(&Conversation::new(customer(), PHONE_NUMBER_ID))
        .await
        .unwrap();
    let counted_before = desk.counted(|c| c.to_human);

    // Act: the erasure, then its redelivery.
    let first = desk
        .deliver_one("m-erase", &erase("req-1", ESCALATED_AT + MINUTE))
        .await;
    let again = desk
        .deliver_one("m-erase-2", &erase("req-1", ESCALATED_AT + MINUTE))
        .await;

    // Assert
    assert!(first.is_empty() && again.is_empty(), "{first:?} {again:?}");
    let ticket = desk.ticket();
    assert_eq!(ticket.customer, CustomerId::erased(&ticket_id()));
    assert_eq!(
        (ticket.status, ticket.contact_name.as_deref()),
        (TicketStatus::Resolved, None)
    );
    assert!(desk.deadlines().is_empty(), "no deadline names the customer any more");
    let timeline = desk.table.timeline_of(&ticket_id());
    let stored = serde_json::to_string(&timeline).unwrap();
    assert!(!stored.contains("Ana Souza") && !stored.contains("\"hi\""), "{stored}");
    assert_eq!(timeline.last().unwrap().kind, "erased");
    assert!(desk.table.attachments(&ticket_id()).await.unwrap().is_empty());
    for band in helpdesk::domain::media::phash_bands("8f0f0f0f0f0f0f0f") {
        assert!(desk.table.fingerprints(&band).await.unwrap().is_empty());
    }
    assert_eq!(desk.table.identity(&customer()).await.unwrap(), None);
    assert_eq!(desk.table.owner(&handle).await.unwrap(), None);
    assert_eq!(
        desk.table.conversation(&customer(), PHONE_NUMBER_ID).await.unwrap(),
        None
    );
    assert_eq!(desk.counted(|c| c.to_human), counted_before, "the counts stay");
}
