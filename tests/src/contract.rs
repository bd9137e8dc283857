//! The ports' contracts, written once and run against both implementations:
//! the in-memory adapters that handler tests use, and the real adapters on
//! moto. A fake that passes here behaves like the service it stands in for.
//!
//! Each contract takes the adapter(s) it checks and a [`Unique`] naming this
//! run's tickets, customers, teams, minutes and keys, so contracts can share
//! one stack without reading each other's data.

use anyhow::{Context, ensure};
use helpdesk::adapters::s3::{MAX_PRESIGN_TTL, S3Error};
use helpdesk::domain::attachment::{Fingerprint, MediaAttachment};
use helpdesk::domain::audit::{AuditRecord, Presence};
use helpdesk::domain::conversation::Conversation;
use helpdesk::domain::events::{DomainEvent, TicketEscalated, TicketReassigned, TicketRef};
use helpdesk::domain::identity::{Handle, Identity, Phone, UserId, Username};
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::inbound::{BusinessNumber, Pricing, Unattributed};
use helpdesk::domain::outbound::Author;
use helpdesk::domain::reports::{AggregateRow, Counters, ReportFact};
use helpdesk::domain::sla::{Deadline, DeadlineKind, Stage, TicketSla};
use helpdesk::domain::ticket::{
    CustomerProfile, CustomerTier, DeliveryState, DeliveryUpdate, Direction, OutboundLink, Priority, Ticket,
    TicketStatus, TimelineEntry,
};
use helpdesk::domain::views::Listing;
use helpdesk::ports::{
    AuditLog, AvailabilityStore, ChangeFeed, ConversationStore, DeadlineIndex, DelayedQueue, DueDeadline, Erasure,
    EventPublisher, FingerprintIndex, IdentityStore, MediaLinks, MediaStore, MediaUpload, PresenceStore, Queue,
    QueueError, QueueMessage, ReportStore, StoreError, TicketReader, TicketStore, UnattributedStore,
};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const MS_PER_MINUTE: i64 = 60_000;

/// The names one contract run uses: unique within a process, so runs that
/// share a stack never meet (each process makes stacks of its own).
#[derive(Debug, Clone)]
pub struct Unique {
    tag: String,
    serial: u32,
}

impl Unique {
    pub fn new() -> Unique {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let serial = SERIAL.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        Unique {
            tag: format!("{serial:x}x{:05x}", nanos & 0xf_ffff),
            serial,
        }
    }

    pub fn ticket(&self, n: u32) -> TicketId {
        TicketId::parse(format!("TK-{}-{n}", self.tag)).expect("a valid ticket id")
    }

    pub fn customer(&self, n: u32) -> CustomerId {
        CustomerId::parse(format!("c-{}-{n}", self.tag)).expect("a valid customer id")
    }

    pub fn team(&self, n: u32) -> String {
        format!("{}{n}", self.teams())
    }

    /// What every team name of this run starts with.
    pub fn teams(&self) -> String {
        format!("team-{}-", self.tag)
    }

    /// A business-scoped user id no other run uses.
    pub fn user_id(&self, n: u32) -> UserId {
        UserId::parse(&format!("US.{}u{n}", self.tag)).expect("a valid user id")
    }

    /// A phone number no other run uses.
    pub fn phone(&self, n: u32) -> Phone {
        Phone::parse(&format!("1555{:08}{n:02}", self.serial)).expect("a valid phone")
    }

    /// A business phone number id no other run uses.
    pub fn business(&self, n: u32) -> String {
        format!("9{:08}{n:02}", self.serial)
    }

    pub fn wamid(&self, n: u32) -> String {
        format!("wamid.{}.{n}", self.tag)
    }

    /// The first of eight minute buckets of the deadline index no other run uses.
    pub fn minute(&self) -> i64 {
        // About February 2025: positive, and far from any real ticket's deadline.
        29_000_000 + i64::from(self.serial) * 8
    }

    pub fn key(&self, name: &str) -> String {
        format!("media/TK-{}/{name}", self.tag)
    }

    pub fn band(&self) -> String {
        format!("band-{}", self.tag)
    }

    pub fn fact(&self, name: &str) -> String {
        format!("{}:{name}", self.tag)
    }
}

impl Default for Unique {
    fn default() -> Self {
        Unique::new()
    }
}

fn ticket(id: TicketId, customer: CustomerId, team: &str, created_at_ms: i64) -> Ticket {
    Ticket::open(id, customer, "100000000000001".into(), team.into(), created_at_ms)
}

fn entry(id: &str, at_ms: i64, delivery: Option<DeliveryState>) -> TimelineEntry {
    TimelineEntry {
        id: id.into(),
        at_ms,
        direction: Direction::Outbound,
        author: Author::Bot,
        kind: "text".into(),
        summary: format!("entry {id} «quoted» ✓"),
        message: Some(serde_json::json!({"nested": {"list": [1, 2.5, "x", null]}})),
        delivery,
        delivery_error: None,
        data: None,
        withdrawn: false,
        pricing: None,
    }
}

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict))
}

// ----------------------------------------------------------------- tickets

/// A ticket is saved new only once, then only at the version it was read at;
/// each save stores the next version.
pub async fn ticket_versions_are_checked<S: TicketStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let mut t = ticket(ids.ticket(1), ids.customer(1), &ids.team(1), 1_000);
    let missing = ticket(ids.ticket(2), ids.customer(1), &ids.team(1), 1_000);

    store.save_ticket(&t, None, &[]).await?;
    let again = store.save_ticket(&t, None, &[]).await;
    let stored = store.ticket(&t.id).await?.context("the saved ticket")?;
    ensure!(is_conflict(&again), "a second new save must conflict: {again:?}");
    t.version = 1;
    assert_eq!(stored, t);

    t.contact_name = Some("Ana".into());
    store.save_ticket(&t, Some(1), &[]).await?;
    let stale = store.save_ticket(&t, Some(1), &[]).await;
    let ahead = store.save_ticket(&t, Some(7), &[]).await;
    let never_saved = store.save_ticket(&missing, Some(0), &[]).await;

    ensure!(is_conflict(&stale), "a stale version must conflict: {stale:?}");
    ensure!(is_conflict(&ahead), "a version never stored must conflict: {ahead:?}");
    ensure!(
        is_conflict(&never_saved),
        "a missing ticket has no version: {never_saved:?}"
    );
    let stored = store.ticket(&t.id).await?.context("the saved ticket")?;
    assert_eq!((stored.version, stored.contact_name.as_deref()), (2, Some("Ana")));
    assert_eq!(store.ticket(&missing.id).await?, None);
    Ok(())
}

/// A ticket and its entries are saved together or not at all: a conflicting
/// save writes no entry, and an entry saved again replaces itself.
pub async fn a_ticket_is_saved_with_its_entries_all_or_nothing<S: TicketStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let t = ticket(ids.ticket(1), ids.customer(1), &ids.team(1), 1_000);
    let opened = entry(&ids.wamid(1), 1_000, None);
    let greeted = entry(&ids.wamid(2), 1_001, Some(DeliveryState::Accepted));

    store.save_ticket(&t, None, &[opened.clone(), greeted.clone()]).await?;
    assert_eq!(store.timeline(&t.id).await?, [opened.clone(), greeted.clone()]);

    let late = entry(&ids.wamid(3), 2_000, None);
    let conflicting = store.save_ticket(&t, None, std::slice::from_ref(&late)).await;
    let stale = store.save_ticket(&t, Some(7), std::slice::from_ref(&late)).await;
    ensure!(
        is_conflict(&conflicting) && is_conflict(&stale),
        "{conflicting:?} {stale:?}"
    );
    assert_eq!(
        store.timeline(&t.id).await?,
        [opened.clone(), greeted.clone()],
        "a conflicting save writes no entry"
    );

    // An entry saved again is kept as stored (its delivery state may have moved on).
    let mut resaved = greeted.clone();
    resaved.delivery = Some(DeliveryState::Accepted);
    store
        .advance_delivery(
            &t.id,
            greeted.at_ms,
            &greeted.id,
            &DeliveryUpdate::state(DeliveryState::Read),
        )
        .await?;
    store.save_ticket(&t, Some(1), &[resaved, late.clone()]).await?;
    let mut read = greeted.clone();
    read.delivery = Some(DeliveryState::Read);
    assert_eq!(store.timeline(&t.id).await?, [opened, read, late]);
    assert_eq!(store.ticket(&t.id).await?.map(|t| t.version), Some(2));
    Ok(())
}

/// What one DynamoDB transaction cannot hold (an entry twice, more than 100
/// items: the ticket, its change on the feed and 98 entries) is refused
/// whole, as a failure of the store and not a conflict.
pub async fn a_save_one_transaction_cannot_hold_is_refused_whole<S: TicketStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let t = ticket(ids.ticket(1), ids.customer(1), &ids.team(1), 1_000);
    let twice = entry(&ids.wamid(1), 1_000, None);
    let too_many: Vec<TimelineEntry> = (0..99)
        .map(|i| entry(&ids.wamid(100 + i), 2_000 + i64::from(i), None))
        .collect();

    let repeated = store.save_ticket(&t, None, &[twice.clone(), twice]).await;
    let oversized = store.save_ticket(&t, None, &too_many).await;

    ensure!(matches!(repeated, Err(StoreError::Backend(_))), "{repeated:?}");
    ensure!(matches!(oversized, Err(StoreError::Backend(_))), "{oversized:?}");
    assert_eq!(store.ticket(&t.id).await?, None);
    assert_eq!(store.timeline(&t.id).await?, []);
    store.save_ticket(&t, None, &too_many[..98]).await?;
    assert_eq!(store.timeline(&t.id).await?.len(), 98);
    Ok(())
}

/// An entry is added once (a second append with the same time and id is
/// refused and changes nothing); the timeline reads oldest first, then by id.
pub async fn entries_are_appended_once_and_read_in_time_order<S: TicketStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let id = ids.ticket(1);
    let later_b = entry("b", 10_000, None);
    let later_a = entry("a", 10_000, None);
    let earliest = entry("z", 999, None);
    let middle = entry("y", 1_000, None);

    for e in [&later_b, &earliest, &later_a, &middle] {
        ensure!(store.append_entry(&id, e).await?, "{} is new", e.id);
    }
    let mut changed = middle.clone();
    changed.summary = "another text".into();
    let repeated = store.append_entry(&id, &changed).await?;

    ensure!(!repeated, "the same time and id are refused");
    assert_eq!(store.timeline(&id).await?, [earliest, middle, later_a, later_b]);
    assert_eq!(store.timeline(&ids.ticket(2)).await?, []);
    Ok(())
}

/// A team's queue in one status: urgent first, then the oldest, then by id;
/// at most `limit`; it follows each ticket's saved status and team.
pub async fn a_queue_lists_urgent_tickets_first_then_the_oldest<S: TicketStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let team = ids.team(1);
    let mut saved = Vec::new();
    for (n, created, priority) in [
        (1, 3_000, Priority::Normal),
        (2, 1_000, Priority::Normal),
        (3, 9_000, Priority::Urgent),
        (4, 2_000, Priority::Low),
        (5, 5_000, Priority::High),
        (6, 1_000, Priority::Normal),
    ] {
        let mut t = ticket(ids.ticket(n), ids.customer(n), &team, created);
        t.status = TicketStatus::Queued;
        t.priority = priority;
        store.save_ticket(&t, None, &[]).await?;
        saved.push(t);
    }
    let mut elsewhere = ticket(ids.ticket(7), ids.customer(7), &ids.team(2), 0);
    elsewhere.status = TicketStatus::Queued;
    store.save_ticket(&elsewhere, None, &[]).await?;
    let bot = ticket(ids.ticket(8), ids.customer(8), &team, 0);
    store.save_ticket(&bot, None, &[]).await?;

    let names = |tickets: Vec<Ticket>| tickets.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let queued = names(queue(store, &team, TicketStatus::Queued, 10).await?);
    assert_eq!(
        queued,
        [3, 5, 2, 6, 1, 4].map(|n| ids.ticket(n)),
        "urgent, high, the two oldest normal (by id), normal, low"
    );
    assert_eq!(
        names(queue(store, &team, TicketStatus::Queued, 2).await?),
        [3, 5].map(|n| ids.ticket(n))
    );
    assert_eq!(
        names(queue(store, &team, TicketStatus::Bot, 10).await?),
        [ids.ticket(8)]
    );

    let mut assigned = saved[0].clone();
    assigned.status = TicketStatus::Assigned;
    store.save_ticket(&assigned, Some(1), &[]).await?;
    let queued = names(queue(store, &team, TicketStatus::Queued, 10).await?);
    assert_eq!(queued, [3, 5, 2, 6, 4].map(|n| ids.ticket(n)));
    let assigned = queue(store, &team, TicketStatus::Assigned, 10).await?;
    assert_eq!(
        assigned.iter().map(|t| (&t.id, t.version)).collect::<Vec<_>>(),
        [(&ids.ticket(1), 2)]
    );
    Ok(())
}

async fn queue<S: TicketReader>(
    store: &S,
    team: &str,
    status: TicketStatus,
    limit: usize,
) -> Result<Vec<Ticket>, StoreError> {
    let listing = Listing::Queue {
        team: team.to_owned(),
        status,
    };
    Ok(store
        .list(&listing, None, limit)
        .await?
        .items
        .into_iter()
        .map(|l| l.ticket)
        .collect())
}

/// Every page of a list, reading each after the last position the previous gave.
async fn every_page<S: TicketReader>(store: &S, listing: &Listing, page: usize) -> anyhow::Result<Vec<TicketId>> {
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let got = store.list(listing, after.as_deref(), page).await?;
        anyhow::ensure!(got.items.len() <= page, "a page of {page} held {}", got.items.len());
        if let Some(last) = got.items.last() {
            after = Some(last.position.clone());
        }
        seen.extend(got.items.into_iter().map(|l| l.ticket.id));
        if !got.more {
            return Ok(seen);
        }
    }
}

/// The workspace's lists, each read through its index: every list holds
/// exactly the tickets its rule says, in its order, page after page from the
/// last position, and its count agrees. Tickets leave a list when they change.
pub async fn every_list_holds_its_tickets_in_order_page_after_page<S: TicketStore + IdentityStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let team = ids.team(1);
    let agent = format!("agent-{}", ids.tag);
    let customer = ids.customer(1);
    let order = format!("ORD{}", ids.tag.to_uppercase());
    let surname = format!("zed{}", ids.tag);
    let mut all = Vec::new();
    for n in 1..=7u32 {
        let mut t = ticket(ids.ticket(n), customer.clone(), &team, i64::from(n) * 1_000);
        t.status = TicketStatus::Resolved;
        t.resolved_at_ms = Some(100_000 - i64::from(n) * 1_000 * i64::from(n % 3));
        t.contact_name = Some(format!("Ána {surname}"));
        all.push(t);
    }
    // Two open: one assigned to the agent and waiting on the customer, one queued at risk.
    all[5].status = TicketStatus::Assigned;
    all[5].assignee = Some(agent.clone());
    all[5].order_number = Some(format!("#{}", order.to_lowercase()));
    all[5].resolved_at_ms = None;
    let clocks = |warned: Option<i64>, waiting: Option<i64>| -> anyhow::Result<TicketSla> {
        Ok(serde_json::from_value(serde_json::json!({
            "policy": "standard",
            "clocks": [{"metric": "resolution", "target_minutes": 480, "mode": "calendar", "warn_percent": 80,
                "started_at_ms": 6_000, "running_since_ms": waiting.is_none().then_some(6_000),
                "warned_at_ms": warned}],
            "waiting_on_customer_since_ms": waiting,
        }))?)
    };
    all[5].sla = Some(clocks(None, Some(7_000))?);
    all[6].status = TicketStatus::Queued;
    all[6].resolved_at_ms = None;
    all[6].sla = Some(clocks(Some(8_000), None)?);
    for t in &all {
        store.save_ticket(t, None, &[]).await?;
    }

    let resolved = Listing::Queue {
        team: team.clone(),
        status: TicketStatus::Resolved,
    };
    let mut newest_first: Vec<&Ticket> = all.iter().filter(|t| t.status == TicketStatus::Resolved).collect();
    newest_first.sort_by_key(|t| std::cmp::Reverse((t.resolved_at_ms, t.id.as_str().to_owned())));
    let expected: Vec<TicketId> = newest_first.iter().map(|t| t.id.clone()).collect();
    assert_eq!(
        every_page(store, &resolved, 2).await?,
        expected,
        "resolved: newest first"
    );
    assert_eq!(store.count(&resolved).await?, 5);

    let history = Listing::Customer {
        customer: customer.clone(),
    };
    assert_eq!(
        every_page(store, &history, 3).await?,
        [7, 6, 5, 4, 3, 2, 1].map(|n| ids.ticket(n)),
        "a customer's tickets, newest first"
    );
    let mine = Listing::Assignee { agent: agent.clone() };
    assert_eq!(every_page(store, &mine, 10).await?, [ids.ticket(6)]);
    let waiting = Listing::Waiting { team: team.clone() };
    assert_eq!(every_page(store, &waiting, 10).await?, [ids.ticket(6)]);
    let at_risk = Listing::AtRisk { team: team.clone() };
    assert_eq!(every_page(store, &at_risk, 10).await?, [ids.ticket(7)]);
    let by_order = Listing::Order { number: order.clone() };
    assert_eq!(every_page(store, &by_order, 10).await?, [ids.ticket(6)]);
    let by_name = Listing::Name {
        prefix: format!("ana zed{}", ids.tag),
    };
    assert_eq!(every_page(store, &by_name, 4).await?.len(), 7);
    assert_eq!(store.count(&by_name).await?, 7);
    let nobody = Listing::Name {
        prefix: format!("ana zee{}", ids.tag),
    };
    assert_eq!(every_page(store, &nobody, 4).await?, Vec::<TicketId>::new());

    // The assigned ticket is resolved: it leaves the agent's and the waiting lists.
    let mut done = all[5].clone();
    done.status = TicketStatus::Resolved;
    done.resolved_at_ms = Some(200_000);
    done.sla = None;
    store.save_ticket(&done, Some(1), &[]).await?;
    assert_eq!(every_page(store, &mine, 10).await?, Vec::<TicketId>::new());
    assert_eq!(store.count(&waiting).await?, 0);
    assert_eq!(every_page(store, &resolved, 10).await?[0], ids.ticket(6));

    // A username is found through the identity it is on now.
    let username = Username::parse(&format!("@u{}", ids.tag))?;
    let mut identity = Identity::from_key(&customer);
    identity.username = Some(username.clone());
    store.save_identity(&identity).await?;
    assert_eq!(
        store.owners_of_username(&username).await?,
        std::slice::from_ref(&customer)
    );
    identity.username = None;
    store.save_identity(&identity).await?;
    assert_eq!(store.owners_of_username(&username).await?, Vec::<CustomerId>::new());
    Ok(())
}

/// The audit trail: records read back by day, oldest first, each once
/// however often it is written.
pub async fn audit_records_are_kept_once_and_read_by_day<S: AuditLog>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    // Days no other run uses: ids.minute() is unique per run.
    let day_ms = ids.minute() * 60_000 / 86_400_000 * 86_400_000 + 86_400_000 * i64::from(ids.serial % 1000);
    let record = |n: i64, agent: &str| AuditRecord {
        at_ms: day_ms + n * 3_600_000,
        agent: agent.into(),
        role: "agent".into(),
        action: "reply".into(),
        ticket: Some(ids.ticket(1)),
        status: 202,
        request_id: format!("req-{}-{n}", ids.tag),
        keep_until_ms: day_ms + 365 * 86_400_000,
    };
    let day = helpdesk::domain::reports::day_of(day_ms);
    let next_day = helpdesk::domain::reports::day_of(day_ms + 86_400_000);
    store.record_audit(&record(2, "bob")).await?;
    store.record_audit(&record(1, "ana")).await?;
    store.record_audit(&record(1, "ana")).await?;
    store.record_audit(&record(30, "ana")).await?;
    let first_day = store.audit_trail(&day, &day).await?;
    assert_eq!(first_day, [record(1, "ana"), record(2, "bob")]);
    let both = store.audit_trail(&day, &next_day).await?;
    assert_eq!(both.len(), 3);
    assert_eq!(both[2], record(30, "ana"));
    Ok(())
}

/// Every save puts its change on the feed, in the same write: read after a
/// position, page by page and across hour partitions, each change comes once,
/// in the order saved, and a failed save leaves no change.
pub async fn every_save_is_on_the_change_feed_once_in_order<S: TicketStore + ChangeFeed>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    // Minutes no other run uses, across an hour boundary.
    let hour = 3_600_000;
    let start = (ids.minute() * 60_000 / hour + 1) * hour - 90_000;
    let mut tickets: Vec<Ticket> = (1..=3)
        .map(|n| ticket(ids.ticket(n), ids.customer(n), &ids.team(1), 0))
        .collect();
    let mut saved = Vec::new();
    for i in 0..30i64 {
        let n = (i % 3) as usize;
        let t = &mut tickets[n];
        t.saved_at_ms = Some(start + i * 6_000);
        let expected = (t.version > 0).then_some(t.version);
        store.save_ticket(t, expected, &[]).await?;
        t.version += 1;
        saved.push((t.id.clone(), t.version));
    }
    // A conflicting save writes no change.
    let stale = store.save_ticket(&tickets[0], Some(1), &[]).await;
    ensure!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");

    let upto = start + 30 * 6_000;
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let page = store.changes(after.as_deref(), start, upto, 7).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.position.clone());
        seen.extend(
            page.into_iter()
                .filter(|c| tickets.iter().any(|t| t.id == c.ticket_id))
                .map(|c| (c.ticket_id, c.version)),
        );
    }
    assert_eq!(seen, saved);
    Ok(())
}

/// Who is on a ticket: one presence per agent, renewed in place, read only
/// while it holds.
pub async fn a_presence_holds_until_it_expires_and_renewing_replaces_it<S: PresenceStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let ticket = ids.ticket(1);
    let at = |agent: &str, activity: &str, until_ms: i64| Presence {
        agent: agent.into(),
        activity: activity.into(),
        until_ms,
    };
    store.set_presence(&ticket, &at("ana", "viewing", 10_000)).await?;
    store.set_presence(&ticket, &at("bob", "typing", 5_000)).await?;
    store.set_presence(&ticket, &at("ana", "typing", 20_000)).await?;
    assert_eq!(
        store.presence(&ticket, 1_000).await?,
        [at("ana", "typing", 20_000), at("bob", "typing", 5_000)]
    );
    assert_eq!(store.presence(&ticket, 5_000).await?, [at("ana", "typing", 20_000)]);
    assert_eq!(store.presence(&ids.ticket(2), 0).await?, []);
    Ok(())
}

/// A privacy erasure's store steps: a ticket's entries keep their shape
/// without their contents and its files' records go (answered, for their
/// files and fingerprints); a fingerprint is forgotten; the customer's items
/// and links go, but a link that moved to someone else stays. Each step again
/// changes nothing.
pub async fn an_erasure_forgets_contents_records_fingerprints_and_the_customer<S>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()>
where
    S: TicketStore + Erasure + FingerprintIndex + IdentityStore + ConversationStore,
{
    let t = ticket(ids.ticket(1), ids.customer(1), &ids.team(1), 1_000);
    let said = entry(&ids.wamid(1), 1_000, None);
    store.save_ticket(&t, None, std::slice::from_ref(&said)).await?;
    let photo: MediaAttachment = serde_json::from_value(serde_json::json!({
        "wamid": ids.wamid(2), "kind": "image", "at_ms": 1_500,
        "s3_key": ids.key("photo.jpg"), "phash": "00ff00ff00ff00ff",
    }))?;
    store.save_attachment(&t.id, &photo).await?;
    let fingerprint = Fingerprint {
        phash: "00ff00ff00ff00ff".into(),
        ticket_id: t.id.clone(),
        customer: ids.customer(1),
        wamid: ids.wamid(2),
    };
    store.file_fingerprint(&ids.band(), &fingerprint).await?;
    let (phone, moved) = (Handle::Phone(ids.phone(1)), Handle::Phone(ids.phone(2)));
    store.save_identity(&Identity::from_key(&ids.customer(1))).await?;
    store.link(&phone, &ids.customer(1)).await?;
    store.link(&moved, &ids.customer(2)).await?;
    store
        .save_conversation(&Conversation::new(ids.customer(1), "P1"))
        .await?;

    let removed = store.erase_ticket_contents(&t.id).await?;
    assert_eq!(removed, [photo]);
    assert_eq!(store.erase_ticket_contents(&t.id).await?, []);
    let timeline = store.timeline(&t.id).await?;
    assert_eq!(timeline.len(), 1);
    assert_eq!(
        (timeline[0].summary.as_str(), &timeline[0].message, &timeline[0].kind),
        ("[erased]", &None, &said.kind)
    );
    assert_eq!(store.attachments(&t.id).await?, []);
    store.forget_fingerprint(&ids.band(), &fingerprint).await?;
    store.forget_fingerprint(&ids.band(), &fingerprint).await?;
    assert_eq!(store.fingerprints(&ids.band()).await?, []);

    store
        .forget_customer(&ids.customer(1), &[phone.clone(), moved.clone()])
        .await?;
    store
        .forget_customer(&ids.customer(1), std::slice::from_ref(&phone))
        .await?;
    assert_eq!(store.identity(&ids.customer(1)).await?, None);
    assert_eq!(store.owner(&phone).await?, None);
    assert_eq!(
        store.owner(&moved).await?,
        Some(ids.customer(2)),
        "someone else's link stays"
    );
    assert_eq!(store.conversation(&ids.customer(1), "P1").await?, None);
    Ok(())
}

/// Agents' availability per team: coming back keeps when they were last
/// assigned; going away removes them; an assignment noted for an agent who
/// went away changes nothing.
pub async fn availability_is_kept_per_team_with_the_last_assignment<S: AvailabilityStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let (support, billing) = (ids.team(1), ids.team(2));
    let teams = [support.clone(), billing.clone()];
    store.set_available("ana", &teams, 1_000).await?;
    store.set_available("bob", &teams[..1], 2_000).await?;
    store.note_assigned(&support, "ana", 3_000).await?;
    store.set_available("ana", &teams, 4_000).await?;
    let on_support = store.available(&support).await?;
    let seen: Vec<(&str, i64, Option<i64>)> = on_support
        .iter()
        .map(|a| (a.agent.as_str(), a.since_ms, a.last_assigned_at_ms))
        .collect();
    assert_eq!(seen, [("ana", 4_000, Some(3_000)), ("bob", 2_000, None)]);
    store.set_away("ana", &teams).await?;
    store.note_assigned(&billing, "ana", 5_000).await?;
    assert_eq!(store.available(&billing).await?, []);
    assert_eq!(store.available(&support).await?.len(), 1);
    Ok(())
}

/// An outbound entry's delivery state moves only forward (statuses arrive
/// duplicated and out of order); `failed` follows sent or delivered, never
/// read; only an entry that exists moves.
pub async fn a_delivery_state_moves_only_forward<S: TicketStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let id = ids.ticket(1);
    let (read, failed, blank) = (ids.wamid(1), ids.wamid(2), ids.wamid(3));
    store
        .append_entry(&id, &entry(&read, 5_000, Some(DeliveryState::Accepted)))
        .await?;
    store
        .append_entry(&id, &entry(&failed, 6_000, Some(DeliveryState::Sent)))
        .await?;
    store.append_entry(&id, &entry(&blank, 7_000, None)).await?;
    let advance = |at_ms, wamid: &str, state, error: Option<&str>| {
        let id = id.clone();
        let wamid = wamid.to_owned();
        let update = DeliveryUpdate {
            state,
            error: error.map(str::to_owned),
            pricing: None,
        };
        async move { store.advance_delivery(&id, at_ms, &wamid, &update).await }
    };

    let moves = [
        advance(5_000, &read, DeliveryState::Sent, None).await?,
        advance(5_000, &read, DeliveryState::Sent, None).await?,
        advance(5_000, &read, DeliveryState::Read, None).await?,
        advance(5_000, &read, DeliveryState::Delivered, None).await?,
        advance(5_000, &read, DeliveryState::Failed, Some("131026")).await?,
    ];
    assert_eq!(moves, [true, false, true, false, false]);

    let moves = [
        advance(6_000, &failed, DeliveryState::Delivered, None).await?,
        advance(6_000, &failed, DeliveryState::Failed, Some("131026")).await?,
        advance(6_000, &failed, DeliveryState::Read, None).await?,
        advance(6_000, &failed, DeliveryState::Failed, Some("again")).await?,
    ];
    assert_eq!(moves, [true, true, false, false]);

    ensure!(
        advance(7_000, &blank, DeliveryState::Failed, None).await?,
        "no state yet: any moves"
    );
    let missing = advance(8_000, &ids.wamid(4), DeliveryState::Sent, None).await?;
    let wrong_time = advance(5_001, &read, DeliveryState::Sent, None).await?;
    ensure!(!missing && !wrong_time, "only an entry that exists moves");

    let timeline = store.timeline(&id).await?;
    let states: Vec<_> = timeline
        .iter()
        .map(|e| (e.id.as_str(), e.delivery, e.delivery_error.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            (read.as_str(), Some(DeliveryState::Read), None),
            (failed.as_str(), Some(DeliveryState::Failed), Some("131026")),
            (blank.as_str(), Some(DeliveryState::Failed), None),
        ],
        "no entry was created for a missing one"
    );
    Ok(())
}

fn priced(category: &str) -> Pricing {
    Pricing {
        model: "PMP".into(),
        kind: "regular".into(),
        category: category.into(),
    }
}

fn update(state: DeliveryState, error: Option<&str>, pricing: Option<Pricing>) -> DeliveryUpdate {
    DeliveryUpdate {
        state,
        error: error.map(str::to_owned),
        pricing,
    }
}

/// A status's price is kept on its entry with the state it came with; a
/// later status without one keeps it; a status that does not move the state
/// changes nothing, its price included.
pub async fn a_delivery_keeps_the_price_meta_reported<S: TicketStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let id = ids.ticket(1);
    let wamid = ids.wamid(1);
    store
        .append_entry(&id, &entry(&wamid, 5_000, Some(DeliveryState::Accepted)))
        .await?;

    let sent = store
        .advance_delivery(
            &id,
            5_000,
            &wamid,
            &update(DeliveryState::Sent, None, Some(priced("utility"))),
        )
        .await?;
    let read = store
        .advance_delivery(&id, 5_000, &wamid, &update(DeliveryState::Read, None, None))
        .await?;
    let late = store
        .advance_delivery(
            &id,
            5_000,
            &wamid,
            &update(DeliveryState::Delivered, None, Some(priced("marketing"))),
        )
        .await?;

    assert_eq!((sent, read, late), (true, true, false));
    let stored = store.timeline(&id).await?;
    assert_eq!(
        stored
            .iter()
            .map(|e| (e.delivery, e.pricing.clone()))
            .collect::<Vec<_>>(),
        [(Some(DeliveryState::Read), Some(priced("utility")))]
    );
    Ok(())
}

/// A status that arrived before its message is parked, forward only like a
/// delivery state, keeping the error and price it came with; the parked
/// item need not exist first.
pub async fn a_parked_status_moves_only_forward<S: TicketStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let (early, read) = (ids.wamid(1), ids.wamid(2));
    assert_eq!(store.parked_status(&early).await?, None);

    store
        .park_status(&early, &update(DeliveryState::Delivered, None, Some(priced("service"))))
        .await?;
    store
        .park_status(&early, &update(DeliveryState::Sent, None, None))
        .await?;
    assert_eq!(
        store.parked_status(&early).await?,
        Some(update(DeliveryState::Delivered, None, Some(priced("service"))))
    );
    store
        .park_status(&early, &update(DeliveryState::Failed, Some("131026"), None))
        .await?;
    store
        .park_status(&early, &update(DeliveryState::Read, None, None))
        .await?;
    assert_eq!(
        store.parked_status(&early).await?,
        Some(update(DeliveryState::Failed, Some("131026"), Some(priced("service"))))
    );

    store
        .park_status(&read, &update(DeliveryState::Read, None, None))
        .await?;
    store
        .park_status(&read, &update(DeliveryState::Failed, Some("late"), None))
        .await?;
    assert_eq!(
        store.parked_status(&read).await?,
        Some(update(DeliveryState::Read, None, None))
    );
    Ok(())
}

/// An outbound wamid leads back to its ticket entry, with the team and
/// priority its cost is counted under; linking again replaces.
pub async fn an_outbound_wamid_leads_back_to_its_entry<S: TicketStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let wamid = ids.wamid(1);
    assert_eq!(store.find_outbound(&wamid).await?, None);
    let link = |at_ms, priority| OutboundLink {
        ticket_id: ids.ticket(1),
        at_ms,
        team: ids.team(1),
        priority,
    };

    store.link_outbound(&wamid, &link(5_000, Priority::Normal)).await?;
    assert_eq!(store.find_outbound(&wamid).await?, Some(link(5_000, Priority::Normal)));
    store.link_outbound(&wamid, &link(6_000, Priority::Urgent)).await?;
    assert_eq!(store.find_outbound(&wamid).await?, Some(link(6_000, Priority::Urgent)));
    Ok(())
}

/// An entry is replaced whole where it stands (a message the customer
/// edited or withdrew); the rest of the timeline is untouched.
pub async fn an_entry_is_replaced_where_it_stands<S: TicketStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let id = ids.ticket(1);
    let (first, second) = (entry(&ids.wamid(1), 1_000, None), entry(&ids.wamid(2), 2_000, None));
    store.append_entry(&id, &first).await?;
    store.append_entry(&id, &second).await?;

    let mut withdrawn = first.clone();
    withdrawn.withdrawn = true;
    withdrawn.summary = "(deleted by the customer)".into();
    withdrawn.message = None;
    store.replace_entry(&id, &withdrawn).await?;

    assert_eq!(store.timeline(&id).await?, [withdrawn, second]);
    Ok(())
}

fn attachment(wamid: &str, caption: &str) -> MediaAttachment {
    MediaAttachment {
        wamid: wamid.into(),
        kind: "image".into(),
        at_ms: 1_000,
        mime: Some("image/jpeg".into()),
        size: Some(2_048),
        sha256: Some("ab".repeat(32)),
        s3_key: Some(format!("media/x/{wamid}.jpg")),
        caption: Some(caption.into()),
        refused: None,
        quality: None,
        exif: None,
        phash: Some("f0f0f0f0f0f0f0f0".into()),
        vision: None,
        duplicates: Vec::new(),
        signals: vec!["a signal".into()],
        hidden: false,
        suggested_category: None,
        suggested_team: None,
        matched_faq: None,
        partial: Vec::new(),
    }
}

/// A ticket's attachments come back in wamid order; the same wamid replaces itself.
pub async fn attachments_are_listed_in_wamid_order_and_replace_themselves<S: TicketStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let id = ids.ticket(1);
    for (wamid, caption) in [("wamid.B", "b"), ("wamid.A", "a"), ("wamid.C", "c")] {
        store.save_attachment(&id, &attachment(wamid, caption)).await?;
    }
    store
        .save_attachment(&id, &attachment("wamid.A", "a, analysed"))
        .await?;

    let listed = store.attachments(&id).await?;

    assert_eq!(
        listed,
        [
            attachment("wamid.A", "a, analysed"),
            attachment("wamid.B", "b"),
            attachment("wamid.C", "c")
        ]
    );
    assert_eq!(store.attachments(&ids.ticket(2)).await?, []);
    Ok(())
}

/// A profile is stored and replaced whole.
pub async fn a_profile_is_stored_and_replaced<S: TicketStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let customer = ids.customer(1);
    assert_eq!(store.profile(&customer).await?, None);

    let mut profile = CustomerProfile::new(customer.clone(), 1_000);
    profile.language = Some("fr".into());
    store.save_profile(&profile).await?;
    assert_eq!(store.profile(&customer).await?, Some(profile.clone()));

    profile.tier = CustomerTier::Vip;
    profile.language = None;
    profile.updated_at_ms = 2_000;
    store.save_profile(&profile).await?;
    assert_eq!(store.profile(&customer).await?, Some(profile));
    assert_eq!(store.profile(&ids.customer(2)).await?, None);
    Ok(())
}

// ----------------------------------------------------------- conversations

/// A conversation is saved new at version 0, then only at the version it was
/// read at; each save stores the next version. A customer has one per
/// business number, each with its own version.
pub async fn conversation_versions_are_checked<S: ConversationStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let customer = ids.customer(1);
    let (number, other_number) = (ids.business(1), ids.business(2));
    assert_eq!(store.conversation(&customer, &number).await?, None);
    let mut conversation = Conversation::new(customer.clone(), &number);
    conversation.order_number = Some("AB-1234".into());

    store.save_conversation(&conversation).await?;
    let again = store.save_conversation(&conversation).await;
    ensure!(is_conflict(&again), "a second new save must conflict: {again:?}");
    let mut loaded = store
        .conversation(&customer, &number)
        .await?
        .context("the saved conversation")?;
    assert_eq!(loaded.version, 1);
    assert_eq!(loaded.order_number.as_deref(), Some("AB-1234"));
    assert_eq!(
        store.conversation(&customer, &other_number).await?,
        None,
        "another business number has a conversation of its own"
    );

    loaded.failed_replies = 2;
    store.save_conversation(&loaded).await?;
    let stale = store.save_conversation(&loaded).await;
    ensure!(is_conflict(&stale), "a stale version must conflict: {stale:?}");
    let mut stranger = Conversation::new(ids.customer(2), &number);
    stranger.version = 3;
    let never_saved = store.save_conversation(&stranger).await;
    ensure!(
        is_conflict(&never_saved),
        "a missing conversation has no version: {never_saved:?}"
    );
    let elsewhere = Conversation::new(customer.clone(), &other_number);
    store.save_conversation(&elsewhere).await?;

    let stored = store
        .conversation(&customer, &number)
        .await?
        .context("the saved conversation")?;
    assert_eq!((stored.version, stored.failed_replies), (2, 2));
    let other = store.conversation(&customer, &other_number).await?;
    assert_eq!(other.map(|c| (c.version, c.failed_replies)), Some((1, 0)));
    assert_eq!(store.conversation(&ids.customer(2), &number).await?, None);
    Ok(())
}

// -------------------------------------------------------------- identities

/// A handle (phone, BSUID, parent id) leads to the customer it was linked
/// to; linking it again to the same customer changes nothing, to another
/// moves it (a recycled phone number). A customer's identity is stored and
/// replaced whole.
pub async fn a_handle_leads_to_its_customer_until_it_moves<S: IdentityStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let (ana, bea) = (ids.customer(1), ids.customer(2));
    let phone = Handle::Phone(ids.phone(1));
    let user = Handle::User(ids.user_id(1));
    assert_eq!(store.owner(&phone).await?, None);
    assert_eq!(store.identity(&ana).await?, None);

    store.link(&user, &ana).await?;
    store.link(&phone, &ana).await?;
    store.link(&phone, &ana).await?;
    assert_eq!(store.owner(&user).await?, Some(ana.clone()));
    assert_eq!(store.owner(&phone).await?, Some(ana.clone()));

    store.link(&phone, &bea).await?;
    assert_eq!(store.owner(&phone).await?, Some(bea.clone()), "the phone moved");
    assert_eq!(store.owner(&user).await?, Some(ana.clone()), "the BSUID stayed");
    assert_eq!(store.owner(&Handle::Phone(ids.phone(2))).await?, None);

    let mut identity = Identity::new(ana.clone(), 1_000);
    identity.user_id = Some(ids.user_id(1));
    identity.phone = Some(ids.phone(1));
    identity.username = Some(Username::parse("@Ana.Support")?);
    store.save_identity(&identity).await?;
    assert_eq!(store.identity(&ana).await?, Some(identity.clone()));

    identity.phone = None;
    identity.updated_at_ms = 2_000;
    store.save_identity(&identity).await?;
    assert_eq!(store.identity(&ana).await?, Some(identity));
    assert_eq!(store.identity(&bea).await?, None);
    Ok(())
}

fn unattributed(ids: &Unique, n: u32, received_at_ms: i64) -> Unattributed {
    Unattributed {
        business: BusinessNumber {
            phone_number_id: ids.business(1),
            display_phone_number: Some("15550001111".into()),
        },
        waba_id: Some("1234567890".into()),
        wamid: ids.wamid(n),
        received_at_ms,
        message_type: "text".into(),
        reason: "names no customer".into(),
        raw: serde_json::json!({"id": ids.wamid(n), "type": "text", "text": {"body": "«hi» ✓"}}),
    }
}

/// A message that names no customer is kept whole, once however often it
/// is kept, and read by the day it was received, oldest first; a bad range
/// is refused.
pub async fn unattributed_messages_are_kept_once_and_read_by_day<S: UnattributedStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    // Days in 1990, far from any other run's messages.
    const DAY: i64 = 86_400_000;
    let first_day = 7_300 * DAY + i64::from(ids.serial % 1_000) * 3 * DAY;
    let morning = unattributed(ids, 1, first_day + 1_000);
    let evening = unattributed(ids, 2, first_day + DAY - 1);
    let next_day = unattributed(ids, 3, first_day + DAY + 5);
    for m in [&next_day, &evening, &morning, &morning] {
        store.keep(m).await?;
    }
    let day = |ms: i64| helpdesk::domain::reports::day_of(ms);

    let one = store.unattributed(&day(first_day), &day(first_day)).await?;
    let both = store.unattributed(&day(first_day), &day(first_day + DAY)).await?;
    let bad = store.unattributed(&day(first_day + DAY), &day(first_day)).await;

    assert_eq!(one, [morning.clone(), evening.clone()]);
    assert_eq!(both, [morning, evening, next_day]);
    ensure!(bad.is_err(), "a range that ends before it starts: {bad:?}");
    Ok(())
}

// --------------------------------------------------------------- deadlines

fn deadline(kind: DeadlineKind, stage: Stage, at_ms: i64) -> Deadline {
    Deadline { kind, stage, at_ms }
}

/// Due deadlines in a stable order (the index answers shard by shard).
fn sorted(mut due: Vec<DueDeadline>) -> Vec<DueDeadline> {
    due.sort_by(|a, b| (a.deadline.at_ms, a.ticket_id.as_str()).cmp(&(b.deadline.at_ms, b.ticket_id.as_str())));
    due
}

fn due(ticket: &TicketId, customer: &CustomerId, deadline: Deadline, claimed_until_ms: Option<i64>) -> DueDeadline {
    DueDeadline {
        ticket_id: ticket.clone(),
        customer: customer.clone(),
        deadline,
        claimed_until_ms,
        first_claimed_ms: None,
    }
}

/// A minute bucket answers the deadlines due by `now` (its deadline at or
/// before `now`), of every shard, and how many items were read; a deadline
/// is in the bucket of its own minute only.
pub async fn a_due_bucket_answers_what_is_due_by_now<S: DeadlineIndex>(index: &S, ids: &Unique) -> anyhow::Result<()> {
    let minute = ids.minute();
    let start = minute * MS_PER_MINUTE;
    let customer = ids.customer(1);
    let mut expected = Vec::new();
    // Enough tickets that every shard is likely to hold one.
    for n in 0..8 {
        let ticket = ids.ticket(n);
        let first = deadline(DeadlineKind::FirstResponse, Stage::Warn, start + 5_000 * i64::from(n));
        let resolution = deadline(
            DeadlineKind::Resolution,
            Stage::Breach,
            start + MS_PER_MINUTE + i64::from(n),
        );
        index
            .sync_deadlines(&ticket, &customer, &[first, resolution], None)
            .await?;
        expected.push(due(&ticket, &customer, first, None));
    }

    let (early, early_read) = index.due_in(minute, start + 10_000).await?;
    let (whole, whole_read) = index.due_in(minute, start + MS_PER_MINUTE - 1).await?;
    let (next, next_read) = index.due_in(minute + 1, start + 2 * MS_PER_MINUTE).await?;
    let (before, before_read) = index.due_in(minute, start - 1).await?;

    assert_eq!(
        sorted(early),
        expected[..3],
        "due at or before now, its own minute only"
    );
    assert_eq!(early_read, 3);
    assert_eq!(sorted(whole), expected);
    assert_eq!(whole_read, 8);
    assert_eq!(next.len(), 8);
    assert_eq!(next_read, 8);
    ensure!(next.iter().all(|d| d.deadline.kind == DeadlineKind::Resolution));
    assert_eq!((before.len(), before_read), (0, 0));
    Ok(())
}

/// Syncing with what the index held writes only the differences (an
/// unchanged deadline keeps its claim, a moved one loses it and changes
/// bucket, a dropped one goes); without it every kind is rewritten.
pub async fn deadlines_are_synced_by_difference_and_repaired_whole<S: DeadlineIndex>(
    index: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let (ticket, customer) = (ids.ticket(1), ids.customer(1));
    let minute = ids.minute();
    let start = minute * MS_PER_MINUTE;
    let now = start + MS_PER_MINUTE - 1;
    let first = deadline(DeadlineKind::FirstResponse, Stage::Warn, start + 1_000);
    let resolution = deadline(DeadlineKind::Resolution, Stage::Breach, start + 2_000);
    let reassign = deadline(DeadlineKind::Reassign, Stage::Reassign, start + 3_000);
    index
        .sync_deadlines(&ticket, &customer, &[first, resolution, reassign], None)
        .await?;
    for held in [first, resolution] {
        ensure!(
            index
                .claim(&due(&ticket, &customer, held, None), start, start + 600_000)
                .await?
        );
    }

    let moved = deadline(DeadlineKind::Resolution, Stage::Breach, start + MS_PER_MINUTE + 500);
    index
        .sync_deadlines(
            &ticket,
            &customer,
            &[first, moved],
            Some(&[first, resolution, reassign]),
        )
        .await?;

    let (this_minute, _) = index.due_in(minute, now).await?;
    let (next_minute, _) = index.due_in(minute + 1, now + MS_PER_MINUTE).await?;
    let mut claimed = due(&ticket, &customer, first, Some(start + 600_000));
    claimed.first_claimed_ms = Some(start);
    assert_eq!(this_minute, [claimed], "unchanged keeps its claim");
    assert_eq!(
        next_minute,
        [due(&ticket, &customer, moved, None)],
        "moved: a new bucket, no claim"
    );

    index.sync_deadlines(&ticket, &customer, &[first, moved], None).await?;
    let (repaired, _) = index.due_in(minute, now).await?;
    assert_eq!(
        repaired,
        [due(&ticket, &customer, first, None)],
        "a repair rewrites, so the claim is gone"
    );

    let warn_again = deadline(DeadlineKind::FirstResponse, Stage::Breach, first.at_ms);
    index
        .sync_deadlines(&ticket, &customer, &[warn_again], Some(&[first, moved]))
        .await?;
    let (this_minute, _) = index.due_in(minute, now).await?;
    let (next_minute, read) = index.due_in(minute + 1, now + MS_PER_MINUTE).await?;
    assert_eq!(
        this_minute,
        [due(&ticket, &customer, warn_again, None)],
        "a new stage is a new item"
    );
    assert_eq!((next_minute.len(), read), (0, 0), "the dropped deadline is gone");

    index.sync_deadlines(&ticket, &customer, &[], None).await?;
    assert_eq!(index.due_in(minute, now).await?, (vec![], 0));
    Ok(())
}

/// A claim holds only while the item still names the deadline that was read
/// (same time and stage), and only when it is unclaimed or its claim expired.
pub async fn a_claim_holds_until_it_expires_and_only_on_the_deadline_read<S: DeadlineIndex>(
    index: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let (ticket, customer) = (ids.ticket(1), ids.customer(1));
    let minute = ids.minute();
    let start = minute * MS_PER_MINUTE;
    let warn = deadline(DeadlineKind::FirstResponse, Stage::Warn, start + 1_000);
    index.sync_deadlines(&ticket, &customer, &[warn], None).await?;
    let (read, _) = index.due_in(minute, start + 2_000).await?;
    let found = read.first().context("the deadline is due")?.clone();

    let first = index.claim(&found, start + 2_000, start + 62_000).await?;
    let while_held = index.claim(&found, start + 61_999, start + 90_000).await?;
    let once_expired = index.claim(&found, start + 62_000, start + 120_000).await?;
    assert_eq!([first, while_held, once_expired], [true, false, true]);
    let claimed = index.due_in(minute, start + 2_000).await?.0[0].clone();
    assert_eq!(
        (claimed.claimed_until_ms, claimed.first_claimed_ms),
        (Some(start + 120_000), Some(start + 2_000)),
        "a later claim keeps the first one's time"
    );

    let breach = deadline(DeadlineKind::FirstResponse, Stage::Breach, warn.at_ms);
    let other_stage = due(&ticket, &customer, breach, None);
    let other_time = due(
        &ticket,
        &customer,
        deadline(DeadlineKind::FirstResponse, Stage::Warn, warn.at_ms + 1),
        None,
    );
    let other_kind = due(
        &ticket,
        &customer,
        deadline(DeadlineKind::Resolution, Stage::Warn, warn.at_ms),
        None,
    );
    for stale in [&other_stage, &other_time, &other_kind] {
        ensure!(
            !index.claim(stale, start + 200_000, start + 260_000).await?,
            "{stale:?}"
        );
    }

    index
        .sync_deadlines(&ticket, &customer, &[breach], Some(&[warn]))
        .await?;
    ensure!(
        !index.claim(&found, start + 200_000, start + 260_000).await?,
        "the deadline moved on"
    );
    ensure!(
        index.claim(&other_stage, start + 2_000, start + 62_000).await?,
        "the new stage is unclaimed"
    );
    index.sync_deadlines(&ticket, &customer, &[], Some(&[breach])).await?;
    ensure!(
        !index.claim(&other_stage, start + 200_000, start + 260_000).await?,
        "the deadline is gone"
    );
    Ok(())
}

/// The sweep's cursor is created once and then moves only from where it
/// stands. `index` must be one whose cursor never moved (each table has one).
pub async fn the_sweep_cursor_moves_only_from_where_it_stands<S: DeadlineIndex>(index: &S) -> anyhow::Result<()> {
    assert_eq!(index.sweep_cursor().await?, None);

    let created = index.move_sweep_cursor(None, 29_000_000).await?;
    let created_again = index.move_sweep_cursor(None, 29_000_005).await?;
    assert_eq!([created, created_again], [true, false]);
    assert_eq!(index.sweep_cursor().await?, Some(29_000_000));

    let moved = index.move_sweep_cursor(Some(29_000_000), 29_000_002).await?;
    let raced = index.move_sweep_cursor(Some(29_000_000), 29_000_001).await?;
    let from_elsewhere = index.move_sweep_cursor(Some(29_000_001), 29_000_003).await?;
    assert_eq!([moved, raced, from_elsewhere], [true, false, false]);
    assert_eq!(index.sweep_cursor().await?, Some(29_000_002));
    Ok(())
}

// ----------------------------------------------------------------- reports

fn fact(id: String, day: &str, team: &str, priority: Priority, counters: Counters) -> ReportFact {
    ReportFact {
        id,
        day: day.into(),
        team: team.into(),
        priority,
        agent: None,
        counters,
    }
}

fn opened(n: u64) -> Counters {
    Counters {
        tickets: n,
        ..Counters::default()
    }
}

fn answered(minutes: u64) -> Counters {
    Counters {
        first_response_count: 1,
        first_response_minutes: minutes,
        first_response_within: 1,
        ..Counters::default()
    }
}

/// The rows of this run's teams only (the table may hold others' on the same days).
fn rows_of(rows: Vec<AggregateRow>, ids: &Unique) -> Vec<AggregateRow> {
    let teams = ids.teams();
    rows.into_iter().filter(|r| r.team.starts_with(&teams)).collect()
}

/// A fact adds its counters once (a repeat answers `false` and adds
/// nothing); a fact with every counter zero adds nothing and is not marked.
pub async fn a_fact_is_counted_once<S: ReportStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    let team = ids.team(1);
    let day = "2026-11-21";
    let first = fact(ids.fact("opened-1"), day, &team, Priority::High, opened(1));
    let second = fact(ids.fact("opened-2"), day, &team, Priority::High, opened(1));
    let nothing = fact(ids.fact("late"), day, &team, Priority::High, Counters::default());

    let counted = [
        store.record_fact(&first).await?,
        store.record_fact(&first).await?,
        store.record_fact(&second).await?,
        store.record_fact(&nothing).await?,
    ];
    assert_eq!(counted, [true, false, true, false]);

    let late_answer = fact(ids.fact("late"), day, &team, Priority::High, answered(12));
    ensure!(
        store.record_fact(&late_answer).await?,
        "a zero fact was not marked as counted"
    );
    let rows = rows_of(store.aggregates(day, day).await?, ids);
    let mut expected = opened(2);
    expected.add(&answered(12));
    assert_eq!(
        rows,
        [AggregateRow {
            day: day.into(),
            team,
            priority: Priority::High,
            counters: expected,
        }]
    );
    Ok(())
}

/// Aggregates are read for the days asked (both ends included), one row per
/// day, team and priority, in that order.
pub async fn aggregates_are_read_by_day_team_and_priority<S: ReportStore>(
    store: &S,
    ids: &Unique,
) -> anyhow::Result<()> {
    let (a, b) = (ids.team(1), ids.team(2));
    let facts = [
        ("2026-02-28", &b, Priority::Low, 1),
        ("2026-03-01", &b, Priority::Urgent, 2),
        ("2026-03-01", &a, Priority::Urgent, 3),
        ("2026-03-01", &a, Priority::Low, 4),
        ("2026-03-01", &a, Priority::Low, 5),
        ("2026-02-27", &a, Priority::Normal, 6),
        ("2026-03-02", &a, Priority::Normal, 7),
    ];
    for (n, (day, team, priority, tickets)) in facts.into_iter().enumerate() {
        let id = ids.fact(&format!("fact-{n}"));
        store
            .record_fact(&fact(id, day, team, priority, opened(tickets)))
            .await?;
    }

    let rows = rows_of(store.aggregates("2026-02-28", "2026-03-01").await?, ids);

    let row = |day: &str, team: &String, priority, tickets| AggregateRow {
        day: day.into(),
        team: team.clone(),
        priority,
        counters: opened(tickets),
    };
    assert_eq!(
        rows,
        [
            row("2026-02-28", &b, Priority::Low, 1),
            row("2026-03-01", &a, Priority::Low, 9),
            row("2026-03-01", &a, Priority::Urgent, 3),
            row("2026-03-01", &b, Priority::Urgent, 2),
        ]
    );
    assert_eq!(rows_of(store.aggregates("2026-03-03", "2026-03-09").await?, ids), []);
    Ok(())
}

/// A range that is not two `YYYY-MM-DD` dates in order, at most 366 days
/// apart, is refused; so is a fact whose day is not a date.
pub async fn a_bad_range_or_day_is_refused<S: ReportStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    for (from, to) in [
        ("2026-13-01", "2026-12-31"),
        ("2026-3-1", "2026-03-02"),
        ("2026-03-02", "2026-03-01"),
        ("2025-01-01", "2026-01-02"),
    ] {
        let answer = store.aggregates(from, to).await;
        ensure!(
            matches!(answer, Err(StoreError::Corrupt(_))),
            "{from}..{to}: {answer:?}"
        );
    }

    let undated = fact(ids.fact("undated"), "yesterday", &ids.team(1), Priority::Low, opened(1));
    let answer = store.record_fact(&undated).await;
    ensure!(matches!(answer, Err(StoreError::Corrupt(_))), "{answer:?}");
    Ok(())
}

// ------------------------------------------------------------ fingerprints

/// Fingerprints are filed by band, once each, and listed by hash.
pub async fn fingerprints_are_filed_by_band_once<S: FingerprintIndex>(index: &S, ids: &Unique) -> anyhow::Result<()> {
    let band = ids.band();
    let print = |phash: &str, n| Fingerprint {
        phash: phash.into(),
        ticket_id: ids.ticket(n),
        customer: ids.customer(n),
        wamid: ids.wamid(n),
    };
    let (later, earlier) = (print("ff00ff00ff00ff00", 1), print("00ff00ff00ff00ff", 2));

    index.file_fingerprint(&band, &later).await?;
    index.file_fingerprint(&band, &earlier).await?;
    index.file_fingerprint(&band, &later).await?;

    assert_eq!(index.fingerprints(&band).await?, [earlier, later]);
    assert_eq!(index.fingerprints(&format!("{band}-other")).await?, []);
    Ok(())
}

// ------------------------------------------------------------------- queue

/// A message of the queue contracts: its group, its deduplication id and a payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub group: String,
    pub id: String,
    pub payload: String,
}

impl QueueMessage for Probe {
    fn group_key(&self) -> String {
        self.group.clone()
    }
    fn dedupe_key(&self) -> String {
        self.id.clone()
    }
}

/// A delayed queue holds an item for its delay: `due_now` answers what a
/// consumer could receive right away (the item sent without delay, not the
/// one sent for two minutes). An item over 256 KiB is refused.
pub async fn a_delayed_item_waits_for_its_delay<Q, F, Fut>(queue: &Q, ids: &Unique, due_now: F) -> anyhow::Result<()>
where
    Q: DelayedQueue<Probe>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<Probe>>>,
{
    let probe = |n: u32, payload: String| Probe {
        group: ids.team(1),
        id: ids.wamid(n),
        payload,
    };
    let (now, later) = (probe(1, "now".into()), probe(2, "later".into()));
    queue.send_after(&later, Duration::from_secs(120)).await?;
    queue.send_after(&now, Duration::ZERO).await?;
    let oversized = queue
        .send_after(&probe(3, "x".repeat(256 * 1024)), Duration::ZERO)
        .await;

    ensure!(matches!(oversized, Err(QueueError::TooLarge { .. })), "{oversized:?}");
    assert_eq!(due_now().await?, [now]);
    Ok(())
}

/// A queue keeps order within a message group across batches, and stores an
/// item resent with the same dedupe key once. `delivered` answers what the
/// queue holds, oldest first.
pub async fn a_queue_keeps_order_and_stores_a_resent_item_once<Q, F, Fut>(
    queue: &Q,
    ids: &Unique,
    delivered: F,
) -> anyhow::Result<()>
where
    Q: Queue<Probe>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<Probe>>>,
{
    let (g, h) = (ids.team(1), ids.team(2));
    let probe = |group: &String, n: u32| Probe {
        group: group.clone(),
        id: ids.wamid(n),
        payload: format!("payload {n}"),
    };
    // Twelve of one group cross a batch (ten entries), the other group interleaved.
    let mut first: Vec<Probe> = (1..=12).map(|n| probe(&g, n)).collect();
    first.insert(4, probe(&h, 101));
    first.push(probe(&h, 102));
    queue.send(&first).await?;
    queue
        .send(&[probe(&g, 3), probe(&h, 102), probe(&g, 13), probe(&g, 5)])
        .await?;

    let held: Vec<Probe> = delivered()
        .await?
        .into_iter()
        .filter(|p| p.group == g || p.group == h)
        .collect();

    let of = |group: &String| {
        held.iter()
            .filter(|p| &p.group == group)
            .map(|p| p.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(of(&g), (1..=13).map(|n| ids.wamid(n)).collect::<Vec<_>>());
    assert_eq!(of(&h), [ids.wamid(101), ids.wamid(102)]);
    Ok(())
}

/// A message over the 256 KiB limit is refused by name.
pub async fn a_message_over_256_kib_is_refused<Q: Queue<Probe>>(queue: &Q, ids: &Unique) -> anyhow::Result<()> {
    let huge = Probe {
        group: ids.team(1),
        id: ids.wamid(1),
        payload: "x".repeat(256 * 1024),
    };
    let answer = queue.send(&[huge]).await;
    ensure!(matches!(answer, Err(QueueError::TooLarge { .. })), "{answer:?}");
    Ok(())
}

// ------------------------------------------------------------------ events

/// Events are accepted, more than one `PutEvents` batch (ten) at a time, each
/// delivered once. `delivered` answers the events the bus passed on.
pub async fn every_event_is_accepted_once<P, F, Fut>(publisher: &P, ids: &Unique, delivered: F) -> anyhow::Result<()>
where
    P: EventPublisher,
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<DomainEvent>>>,
{
    let reference = |n: i64| TicketRef {
        ticket_id: ids.ticket(1),
        team: ids.team(1),
        tier: 2,
        priority: Priority::High,
        at_ms: 1_000 + n,
        language: Some("fr".into()),
    };
    let events: Vec<DomainEvent> = (0..12)
        .map(|n| match n % 2 {
            0 => DomainEvent::TicketEscalated(TicketEscalated {
                ticket: reference(n),
                trigger: "direct_request".into(),
                reason: format!("asked for a person ({n})"),
                excerpt: Some("a masked excerpt".into()),
            }),
            _ => DomainEvent::TicketReassigned(TicketReassigned {
                ticket: reference(n),
                trigger: "reassigned".into(),
                reason: format!("silent for too long ({n})"),
                previous_assignee: Some("ana".into()),
            }),
        })
        .collect();

    publisher
        .publish(&events)
        .await
        .map_err(|e| anyhow::anyhow!("publishing failed: {e}"))?;

    // EventBridge does not promise delivery order to a queue: every event
    // accepted once, whatever the order it arrives in.
    let mut mine: Vec<DomainEvent> = delivered()
        .await?
        .into_iter()
        .filter(|e| e.ticket().ticket_id == ids.ticket(1))
        .collect();
    mine.sort_by_key(|e| e.ticket().at_ms);
    assert_eq!(mine, events);
    Ok(())
}

// ------------------------------------------------------------------- media

/// Deterministic bytes that do not repeat one pattern.
fn content(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

fn is_not_found(answer: &Result<Vec<u8>, helpdesk::ports::BoxError>) -> bool {
    matches!(answer, Err(e) if matches!(e.downcast_ref::<S3Error>(), Some(S3Error::NotFound { .. })))
}

/// An object appears only once its upload finished, whole; writing the same
/// key again replaces it.
pub async fn an_object_appears_only_when_its_upload_finishes<M: MediaStore>(
    store: &M,
    ids: &Unique,
) -> anyhow::Result<()> {
    let key = ids.key("photo.jpg");
    let bytes = content(300 * 1024);

    let mut upload = store
        .begin_upload(&key, "image/jpeg")
        .await
        .map_err(anyhow::Error::from_boxed)?;
    for chunk in bytes.chunks(70_000) {
        upload.write(chunk).await.map_err(anyhow::Error::from_boxed)?;
    }
    let before = store.get(&key).await;
    let stored = upload.finish().await.map_err(anyhow::Error::from_boxed)?;

    ensure!(
        is_not_found(&before),
        "nothing before finish: {:?}",
        before.map(|b| b.len())
    );
    assert_eq!((stored.key.as_str(), stored.size), (key.as_str(), bytes.len() as u64));
    ensure!(
        store.get(&key).await.map_err(anyhow::Error::from_boxed)? == bytes,
        "read back whole"
    );

    let mut replacement = store
        .begin_upload(&key, "image/png")
        .await
        .map_err(anyhow::Error::from_boxed)?;
    replacement
        .write(b"a smaller file")
        .await
        .map_err(anyhow::Error::from_boxed)?;
    let stored = replacement.finish().await.map_err(anyhow::Error::from_boxed)?;
    assert_eq!(stored.size, 14);
    assert_eq!(
        store.get(&key).await.map_err(anyhow::Error::from_boxed)?,
        b"a smaller file"
    );
    Ok(())
}

/// An aborted upload stores nothing and leaves an object at its key as it was.
pub async fn an_aborted_upload_stores_nothing<M: MediaStore>(store: &M, ids: &Unique) -> anyhow::Result<()> {
    let (fresh, kept) = (ids.key("aborted.mp4"), ids.key("kept.pdf"));
    let mut original = store
        .begin_upload(&kept, "application/pdf")
        .await
        .map_err(anyhow::Error::from_boxed)?;
    original
        .write(b"%PDF-1.4 original")
        .await
        .map_err(anyhow::Error::from_boxed)?;
    original.finish().await.map_err(anyhow::Error::from_boxed)?;

    for key in [&fresh, &kept] {
        let mut upload = store
            .begin_upload(key, "video/mp4")
            .await
            .map_err(anyhow::Error::from_boxed)?;
        upload
            .write(&content(10_000))
            .await
            .map_err(anyhow::Error::from_boxed)?;
        upload.abort().await;
    }

    ensure!(
        is_not_found(&store.get(&fresh).await),
        "the aborted upload stored nothing"
    );
    assert_eq!(
        store.get(&kept).await.map_err(anyhow::Error::from_boxed)?,
        b"%PDF-1.4 original"
    );
    Ok(())
}

/// A missing object and a key S3 cannot take are the S3 adapter's errors.
pub async fn a_missing_object_and_a_bad_key_are_told_apart<M: MediaStore>(
    store: &M,
    ids: &Unique,
) -> anyhow::Result<()> {
    let missing = store.get(&ids.key("nothing.jpg")).await;
    let empty = store.begin_upload("", "image/jpeg").await.err();
    let too_long = store.get(&"k".repeat(1025)).await;

    ensure!(is_not_found(&missing), "{:?}", missing.map(|b| b.len()));
    let invalid = |e: Option<&helpdesk::ports::BoxError>| {
        matches!(e.and_then(|e| e.downcast_ref::<S3Error>()), Some(S3Error::InvalidKey))
    };
    ensure!(invalid(empty.as_ref()), "{empty:?}");
    ensure!(invalid(too_long.as_ref().err()), "{:?}", too_long.map(|b| b.len()));
    Ok(())
}

/// The start of a stored object tells its whole size, its type and its
/// first bytes; nothing stored is `None`, and an empty object has no bytes.
pub async fn the_start_of_an_object_tells_its_size_and_type<M: MediaStore + MediaLinks>(
    store: &M,
    ids: &Unique,
) -> anyhow::Result<()> {
    let key = ids.key("head.pdf");
    ensure!(
        store
            .read_head(&key, 100)
            .await
            .map_err(anyhow::Error::from_boxed)?
            .is_none(),
        "nothing stored yet"
    );
    let bytes: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let mut upload = store
        .begin_upload(&key, "application/pdf")
        .await
        .map_err(anyhow::Error::from_boxed)?;
    upload.write(&bytes).await.map_err(anyhow::Error::from_boxed)?;
    upload.finish().await.map_err(anyhow::Error::from_boxed)?;

    let head = store
        .read_head(&key, 100)
        .await
        .map_err(anyhow::Error::from_boxed)?
        .context("stored")?;
    ensure!(head.size == 20_000, "size {}", head.size);
    ensure!(head.head == bytes[..100], "the first 100 bytes");
    ensure!(
        head.content_type.as_deref() == Some("application/pdf"),
        "{:?}",
        head.content_type
    );
    let whole = store
        .read_head(&key, 50_000)
        .await
        .map_err(anyhow::Error::from_boxed)?
        .context("stored")?;
    ensure!(whole.head == bytes, "a head longer than the object is the object");
    Ok(())
}

/// A link names its object and lives `ttl`, clamped to at most five minutes.
/// `ttl_of` reads the lifetime a link states (its own syntax per adapter).
pub async fn a_link_names_its_object_and_lives_at_most_five_minutes<L, F>(
    links: &L,
    ids: &Unique,
    ttl_of: F,
) -> anyhow::Result<()>
where
    L: MediaLinks,
    F: Fn(&str) -> Option<u64>,
{
    let key = ids.key("linked.png");

    let long = links
        .presign_get(&key, Duration::from_secs(3_600))
        .await
        .map_err(anyhow::Error::from_boxed)?;
    let short = links
        .presign_get(&key, Duration::from_secs(30))
        .await
        .map_err(anyhow::Error::from_boxed)?;
    let bad = links.presign_get("", Duration::from_secs(30)).await;

    ensure!(long.contains(&key) && short.contains(&key), "{long} {short}");
    assert_eq!(ttl_of(&long), Some(MAX_PRESIGN_TTL.as_secs()), "{long}");
    assert_eq!(ttl_of(&short), Some(30), "{short}");
    ensure!(bad.is_err(), "an empty key has no link: {bad:?}");
    Ok(())
}

// ------------------------------------------------------- per-agent reports

/// A fact about an agent adds its counters to that agent's aggregate of its
/// day as well as to its team's, both once per fact id (a repeat adds to
/// neither); a fact about no agent, or with every counter zero, adds no
/// agent's row. Per-agent rows come back in day and agent order, for the
/// days asked only, and never among the team aggregates of their day.
pub async fn per_agent_aggregates_count_each_fact_once<S: ReportStore>(store: &S, ids: &Unique) -> anyhow::Result<()> {
    use helpdesk::domain::reports::AgentAggregateRow;

    let agent = |name: &str| format!("agent-{}", ids.fact(name));
    let ours = agent("");
    let agent_fact = |id: &str, day: &str, team: &str, priority, who: Option<&str>, counters| ReportFact {
        agent: who.map(agent),
        ..fact(ids.fact(id), day, team, priority, counters)
    };
    let (d1, d2) = ("2026-04-10", "2026-04-11");
    let (a, b) = (ids.team(1), ids.team(2));
    let resolved = Counters {
        resolved: 1,
        ..Counters::default()
    };
    let rated = Counters {
        csat_count: 1,
        csat_sum: 4,
        csat_4: 1,
        ..Counters::default()
    };
    let answer = agent_fact("fr-1", d1, &a, Priority::High, Some("ana"), answered(12));

    let counted = [
        store.record_fact(&answer).await?,
        store.record_fact(&answer).await?,
        store
            .record_fact(&agent_fact(
                "res-1",
                d1,
                &b,
                Priority::Low,
                Some("ana"),
                resolved.clone(),
            ))
            .await?,
        store
            .record_fact(&agent_fact("csat-1", d2, &a, Priority::High, Some("bo"), rated.clone()))
            .await?,
        store
            .record_fact(&agent_fact("fr-2", d1, &a, Priority::High, Some("bo"), answered(3)))
            .await?,
        store
            .record_fact(&agent_fact("opened-1", d1, &a, Priority::High, None, opened(1)))
            .await?,
        store
            .record_fact(&agent_fact(
                "zero",
                d1,
                &a,
                Priority::High,
                Some("cy"),
                Counters::default(),
            ))
            .await?,
    ];
    assert_eq!(counted, [true, false, true, true, true, true, false]);

    let agents: Vec<AgentAggregateRow> = store
        .agent_aggregates(d1, d2)
        .await?
        .into_iter()
        .filter(|r| r.agent.starts_with(&ours))
        .collect();
    let mut anas = answered(12);
    anas.add(&resolved);
    let row = |day: &str, who: &str, counters| AgentAggregateRow {
        day: day.into(),
        agent: agent(who),
        counters,
    };
    assert_eq!(
        agents,
        [row(d1, "ana", anas), row(d1, "bo", answered(3)), row(d2, "bo", rated),]
    );

    // The team aggregates hold every fact once, and no agent's row.
    let mut high = answered(12);
    high.add(&answered(3));
    high.add(&opened(1));
    assert_eq!(
        rows_of(store.aggregates(d1, d1).await?, ids),
        [
            AggregateRow {
                day: d1.into(),
                team: a.clone(),
                priority: Priority::High,
                counters: high,
            },
            AggregateRow {
                day: d1.into(),
                team: b,
                priority: Priority::Low,
                counters: resolved,
            },
        ]
    );

    let later = store.agent_aggregates("2026-04-12", "2026-04-30").await?;
    ensure!(
        !later.iter().any(|r| r.agent.starts_with(&ours)),
        "a range reads only its days: {later:?}"
    );
    let reversed = store.agent_aggregates(d2, d1).await;
    ensure!(matches!(reversed, Err(StoreError::Corrupt(_))), "{reversed:?}");
    Ok(())
}
