//! In-memory implementations of every port, for the tests of handlers and of
//! the domain. Each honours the contract of the adapter it stands in for (the
//! shared contract suite in `helpdesk-tests` runs the same checks against
//! both), keeps what it was given for tests to read back, and can be told to
//! fail its next calls the way an unreachable service would.

use super::keys;
use super::s3::{MAX_PRESIGN_TTL, S3Error};
use crate::domain::assignment::Availability;
use crate::domain::attachment::{Fingerprint, MediaAttachment};
use crate::domain::audit::{AuditRecord, Presence};
use crate::domain::conversation::Conversation;
use crate::domain::events::DomainEvent;
use crate::domain::feed::{self, Change};
use crate::domain::identity::{Address, Handle, Identity, Username};
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::Unattributed;
use crate::domain::outbound::OutboundBody;
use crate::domain::privacy;
use crate::domain::reports::{AggregateRow, Counters, DateRange, ReportFact, day_of};
use crate::domain::sla::{Deadline, DeadlineKind};
use crate::domain::ticket::{
    CustomerProfile, DeliveryState, DeliveryUpdate, OutboundLink, Priority, Ticket, TimelineEntry,
};
use crate::domain::views::{ListPage, Listed, Listing};
use crate::domain::vision::VisionReport;
use crate::ports::{
    AuditLog, AvailabilityStore, BoxError, ChangeFeed, Clock, ConversationStore, DeadlineIndex, DelayedQueue,
    DueDeadline, Erasure, EventPublisher, FingerprintIndex, GraphApi, GraphError, IdentityReader, IdentityStore,
    MediaDownload, MediaInfo, MediaLinks, MediaSource, MediaStore, MediaUpload, ObjectHead, OrderLookup, PresenceStore,
    PresignedUpload, Queue, QueueError, QueueMessage, ReportStore, StoreError, StoredObject, TicketReader, TicketStore,
    UnattributedStore, Vision,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A failure a test asked for (`fail_next`): what an unreachable service answers.
#[derive(Debug, thiserror::Error)]
#[error("the in-memory {0} was told to fail")]
pub struct InjectedFailure(&'static str);

/// How many of the next calls fail; shared by every clone of a fake.
#[derive(Debug, Clone, Default)]
struct Faults(Arc<AtomicUsize>);

impl Faults {
    fn arm(&self, n: usize) {
        self.0.store(n, Ordering::SeqCst);
    }

    /// True when this call is one of those told to fail (and counts it).
    fn trip(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// Locks `mutex`, recovering the data of a thread that panicked while holding
/// it (a failed assertion in another test thread must not cascade).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ------------------------------------------------------------------- queue

/// SQS `SendMessageBatch` limits, as [`super::sqs::SqsQueue`] applies them.
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;

struct QueueState<T> {
    items: Vec<T>,
    /// `(message group, deduplication id)` of everything accepted so far.
    seen: HashSet<(String, String)>,
}

/// Stands in for [`super::sqs::SqsQueue`] and honours its contract: `Ok` only
/// when every item was accepted, order kept, and an item whose dedupe key was
/// sent before in its message group stored once. The template's FIFO queues
/// deduplicate per message group (`DeduplicationScope: messageGroup`); their
/// five-minute window outlasts any test, so here it never closes (not even
/// once the items are taken). Items are checked and stored batch by batch like
/// the real adapter: an item over 256 KiB fails the send after the batches
/// before it were stored. Clones share the queue.
pub struct MemoryQueue<T> {
    state: Arc<Mutex<QueueState<T>>>,
    faults: Faults,
}

impl<T> Default for MemoryQueue<T> {
    fn default() -> Self {
        MemoryQueue {
            state: Arc::new(Mutex::new(QueueState {
                items: Vec::new(),
                seen: HashSet::new(),
            })),
            faults: Faults::default(),
        }
    }
}

impl<T> Clone for MemoryQueue<T> {
    fn clone(&self) -> Self {
        MemoryQueue {
            state: Arc::clone(&self.state),
            faults: self.faults.clone(),
        }
    }
}

impl<T: Clone> MemoryQueue<T> {
    /// The next `n` sends fail as an unreachable queue would (nothing stored).
    pub fn fail_next(&self, n: usize) {
        self.faults.arm(n);
    }

    /// What the queue holds, oldest first.
    pub fn sent(&self) -> Vec<T> {
        lock(&self.state).items.clone()
    }

    /// Removes and answers what the queue holds, as a consumer would. The
    /// deduplication window stays: a duplicate sent later is still dropped.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut lock(&self.state).items)
    }
}

impl<T: QueueMessage> MemoryQueue<T> {
    fn store_batch(&self, batch: Vec<&T>)
    where
        T: Clone,
    {
        let mut state = lock(&self.state);
        for item in batch {
            if state.seen.insert((item.group_key(), item.dedupe_key())) {
                state.items.push(item.clone());
            }
        }
    }
}

impl<T: QueueMessage + Clone + Send + Sync> Queue<T> for MemoryQueue<T> {
    async fn send(&self, items: &[T]) -> Result<(), QueueError> {
        if self.faults.trip() {
            return Err(QueueError::Backend(Box::new(InjectedFailure("queue"))));
        }
        let mut batch: Vec<&T> = Vec::new();
        let mut batch_bytes = 0;
        for item in items {
            let size = serde_json::to_string(item)
                .map_err(|e| QueueError::Backend(Box::new(e)))?
                .len();
            if size > BATCH_BYTES {
                return Err(QueueError::TooLarge { size });
            }
            if batch.len() == BATCH_ENTRIES || batch_bytes + size > BATCH_BYTES {
                self.store_batch(std::mem::take(&mut batch));
                batch_bytes = 0;
            }
            batch_bytes += size;
            batch.push(item);
        }
        self.store_batch(batch);
        Ok(())
    }
}

// ------------------------------------------------------------------- table

/// A parked delivery status (`WAMID#<wamid>` / `STATUS`).
#[derive(Debug, Clone)]

/// The helpdesk table, one map per item family, each keyed by the item's
/// sort key (from [`keys`]) wherever DynamoDB's order is read back.
#[derive(Default)]
struct Tables {
    tickets: BTreeMap<TicketId, Ticket>,
    /// Ticket → `timeline_sk` → entry.
    timelines: HashMap<TicketId, BTreeMap<String, TimelineEntry>>,
    /// Ticket → `media_sk` → attachment.
    attachments: HashMap<TicketId, BTreeMap<String, MediaAttachment>>,
    outbound_links: HashMap<String, OutboundLink>,
    parked: HashMap<String, DeliveryUpdate>,
    profiles: BTreeMap<CustomerId, CustomerProfile>,
    /// `(customer, business number)` → conversation.
    conversations: BTreeMap<(CustomerId, String), Conversation>,
    /// `(kind, value)` of a handle → its customer.
    identity_links: HashMap<(&'static str, String), CustomerId>,
    identities: BTreeMap<CustomerId, Identity>,
    /// `(day, unattributed_sk)` → message.
    unattributed: BTreeMap<(String, String), Unattributed>,
    audit: BTreeMap<(String, String), AuditRecord>,
    /// The change feed, by position.
    feed: BTreeMap<String, Change>,
    /// Who is on each ticket, by agent.
    presence: HashMap<TicketId, BTreeMap<String, Presence>>,
    /// Team → agent → availability.
    available: HashMap<String, BTreeMap<String, Availability>>,
    /// `(ticket, kind)` → the deadline item.
    deadlines: BTreeMap<(TicketId, DeadlineKind), DueDeadline>,
    sweep_minute: Option<i64>,
    /// Fact ids already counted.
    facts: HashSet<String>,
    aggregates: BTreeMap<(String, String, Priority), Counters>,
    /// `(day, agent)` → the counters of the facts about that agent.
    agent_aggregates: BTreeMap<(String, String), Counters>,
    /// Band → `phash_sk` → fingerprint.
    fingerprints: HashMap<String, BTreeMap<String, Fingerprint>>,
    /// Until when a ticket's items are kept (DynamoDB's TTL on them).
    kept_until: HashMap<TicketId, i64>,
}

/// DynamoDB's `TransactWriteItems` takes at most 100 items.
const TRANSACTION_ITEMS: usize = 100;

/// A request DynamoDB itself refuses (a `ValidationException`), whatever the data.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB would refuse this request: {0}")]
pub struct RefusedRequest(&'static str);

/// The condition that lets `state` replace a stored delivery rank, as
/// `DynamoStore::put_forward` writes it: only forward, `failed` never after `read`.
fn moves_forward(stored: Option<DeliveryState>, state: DeliveryState) -> bool {
    let limit = match state {
        DeliveryState::Failed => DeliveryState::Read.rank(),
        other => other.rank(),
    };
    stored.is_none_or(|s| s.rank() < limit)
}

/// Stands in for [`super::dynamo::DynamoStore`] (tickets, conversations,
/// fingerprints), [`super::deadlines`] (the SLA deadline index) and
/// [`super::reports`] (KPI aggregates) over one DynamoDB table, and honours
/// their contracts: conditional versions, all-or-nothing ticket saves (with
/// DynamoDB's transaction limits), forward-only delivery states, the due
/// buckets and claims of the sweep, facts counted once. Reads come back in
/// the order of the table's sort keys. Clones share the table.
#[derive(Clone, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
    faults: Faults,
    /// Failures of the audit trail alone (the rest of the table works).
    audit_faults: Faults,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// The next `n` calls of any port method fail with [`StoreError::Backend`]
    /// and change nothing. The read helpers below never fail.
    pub fn fail_next(&self, n: usize) {
        self.faults.arm(n);
    }

    /// The next `n` audit records cannot be kept (the rest of the table works).
    pub fn fail_audit_next(&self, n: usize) {
        self.audit_faults.arm(n);
    }

    /// Every ticket, by id.
    pub fn tickets(&self) -> Vec<Ticket> {
        self.tables().tickets.values().cloned().collect()
    }

    /// Until when the ticket's items are kept (`keep_ticket_items_until`).
    pub fn items_kept_until(&self, ticket: &TicketId) -> Option<i64> {
        self.tables().kept_until.get(ticket).copied()
    }

    /// A ticket's timeline, oldest first.
    pub fn timeline_of(&self, ticket: &TicketId) -> Vec<TimelineEntry> {
        self.tables()
            .timelines
            .get(ticket)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every customer profile, by customer.
    pub fn profiles(&self) -> Vec<CustomerProfile> {
        self.tables().profiles.values().cloned().collect()
    }

    /// Every conversation, by customer and business number.
    pub fn conversations(&self) -> Vec<Conversation> {
        self.tables().conversations.values().cloned().collect()
    }

    /// Every customer's identity, by customer.
    pub fn identities(&self) -> Vec<Identity> {
        self.tables().identities.values().cloned().collect()
    }

    /// Every message kept as naming no customer, oldest first.
    pub fn unattributed_messages(&self) -> Vec<Unattributed> {
        self.tables().unattributed.values().cloned().collect()
    }

    /// Every item of the deadline index (with its claim), by ticket then kind.
    pub fn deadline_items(&self) -> Vec<DueDeadline> {
        self.tables().deadlines.values().cloned().collect()
    }

    /// Where the sweep's cursor stands.
    pub fn sweep_minute(&self) -> Option<i64> {
        self.tables().sweep_minute
    }

    /// Every aggregate, in day, team and priority order.
    pub fn aggregate_rows(&self) -> Vec<AggregateRow> {
        self.tables()
            .aggregates
            .iter()
            .map(|((day, team, priority), counters)| AggregateRow {
                day: day.clone(),
                team: team.clone(),
                priority: *priority,
                counters: counters.clone(),
            })
            .collect()
    }

    /// How many facts were counted.
    pub fn facts_counted(&self) -> usize {
        self.tables().facts.len()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        lock(&self.tables)
    }

    /// The table for one port call, or the failure a test asked for.
    fn call(&self) -> Result<MutexGuard<'_, Tables>, StoreError> {
        if self.faults.trip() {
            return Err(StoreError::Backend(Box::new(InjectedFailure("table"))));
        }
        Ok(self.tables())
    }
}

impl TicketReader for MemoryStore {
    async fn ticket(&self, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        Ok(self.call()?.tickets.get(id).cloned())
    }

    async fn timeline(&self, id: &TicketId) -> Result<Vec<TimelineEntry>, StoreError> {
        let tables = self.call()?;
        Ok(tables
            .timelines
            .get(id)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn list(&self, listing: &Listing, after: Option<&str>, limit: usize) -> Result<ListPage, StoreError> {
        let tables = self.call()?;
        let descending = listing.descending();
        let mut listed: Vec<Listed> = tables
            .tickets
            .values()
            .filter(|t| listing.holds(t))
            .filter_map(|t| {
                keys::listing_position(listing, t).map(|position| Listed {
                    position,
                    ticket: t.clone(),
                })
            })
            .filter(|l| match after {
                None => true,
                Some(a) if descending => l.position.as_str() < a,
                Some(a) => l.position.as_str() > a,
            })
            .collect();
        listed.sort_by(|a, b| {
            let order = a.position.cmp(&b.position);
            if descending { order.reverse() } else { order }
        });
        let limit = limit.clamp(1, 100);
        let more = listed.len() > limit;
        listed.truncate(limit);
        Ok(ListPage { items: listed, more })
    }

    async fn count(&self, listing: &Listing) -> Result<u64, StoreError> {
        let tables = self.call()?;
        Ok(tables.tickets.values().filter(|t| listing.holds(t)).count() as u64)
    }

    async fn profile(&self, customer: &CustomerId) -> Result<Option<CustomerProfile>, StoreError> {
        Ok(self.call()?.profiles.get(customer).cloned())
    }

    async fn attachments(&self, ticket: &TicketId) -> Result<Vec<MediaAttachment>, StoreError> {
        let tables = self.call()?;
        Ok(tables
            .attachments
            .get(ticket)
            .map(|a| a.values().cloned().collect())
            .unwrap_or_default())
    }
}

impl TicketStore for MemoryStore {
    async fn save_ticket(
        &self,
        ticket: &Ticket,
        expected_version: Option<u64>,
        entries: &[TimelineEntry],
    ) -> Result<(), StoreError> {
        let mut tables = self.call()?;
        if !entries.is_empty() {
            // One transaction: the ticket, its change on the feed and each
            // entry, every item once.
            if entries.len() + 2 > TRANSACTION_ITEMS {
                return Err(StoreError::Backend(Box::new(RefusedRequest(
                    "a transaction of more than 100 items",
                ))));
            }
            let distinct: HashSet<String> = entries.iter().map(|e| keys::timeline_sk(e.at_ms, &e.id)).collect();
            if distinct.len() != entries.len() {
                return Err(StoreError::Backend(Box::new(RefusedRequest(
                    "a transaction naming one item twice",
                ))));
            }
        }
        let stored_version = tables.tickets.get(&ticket.id).map(|t| t.version);
        let holds = match expected_version {
            None => stored_version.is_none(),
            Some(v) => stored_version == Some(v),
        };
        if !holds {
            return Err(StoreError::Conflict);
        }
        let mut stored = ticket.clone();
        stored.version = expected_version.unwrap_or(0) + 1;
        let change = feed::change_of(&stored, stored.version);
        tables.feed.insert(change.position.clone(), change);
        tables.tickets.insert(ticket.id.clone(), stored);
        let timeline = tables.timelines.entry(ticket.id.clone()).or_default();
        for entry in entries {
            // An entry already stored is kept as it is.
            timeline
                .entry(keys::timeline_sk(entry.at_ms, &entry.id))
                .or_insert_with(|| entry.clone());
        }
        Ok(())
    }

    async fn append_entry(&self, ticket: &TicketId, entry: &TimelineEntry) -> Result<bool, StoreError> {
        let mut tables = self.call()?;
        let timeline = tables.timelines.entry(ticket.clone()).or_default();
        let sk = keys::timeline_sk(entry.at_ms, &entry.id);
        if timeline.contains_key(&sk) {
            return Ok(false);
        }
        timeline.insert(sk, entry.clone());
        Ok(true)
    }

    async fn replace_entry(&self, ticket: &TicketId, entry: &TimelineEntry) -> Result<(), StoreError> {
        self.call()?
            .timelines
            .entry(ticket.clone())
            .or_default()
            .insert(keys::timeline_sk(entry.at_ms, &entry.id), entry.clone());
        Ok(())
    }

    async fn link_outbound(&self, wamid: &str, link: &OutboundLink) -> Result<(), StoreError> {
        self.call()?.outbound_links.insert(wamid.to_owned(), link.clone());
        Ok(())
    }

    async fn find_outbound(&self, wamid: &str) -> Result<Option<OutboundLink>, StoreError> {
        Ok(self.call()?.outbound_links.get(wamid).cloned())
    }

    async fn advance_delivery(
        &self,
        ticket: &TicketId,
        at_ms: i64,
        wamid: &str,
        update: &DeliveryUpdate,
    ) -> Result<bool, StoreError> {
        let mut tables = self.call()?;
        let entry = tables
            .timelines
            .get_mut(ticket)
            .and_then(|t| t.get_mut(&keys::timeline_sk(at_ms, wamid)));
        match entry {
            Some(entry) if moves_forward(entry.delivery, update.state) => {
                entry.delivery = Some(update.state);
                if let Some(error) = &update.error {
                    entry.delivery_error = Some(error.clone());
                }
                if let Some(pricing) = &update.pricing {
                    entry.pricing = Some(pricing.clone());
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn park_status(&self, wamid: &str, update: &DeliveryUpdate) -> Result<(), StoreError> {
        let mut tables = self.call()?;
        let parked = tables.parked.get(wamid).cloned();
        if moves_forward(parked.as_ref().map(|p| p.state), update.state) {
            let kept = parked.unwrap_or_else(|| DeliveryUpdate::state(update.state));
            let moved = DeliveryUpdate {
                state: update.state,
                error: update.error.clone().or(kept.error),
                pricing: update.pricing.clone().or(kept.pricing),
            };
            tables.parked.insert(wamid.to_owned(), moved);
        }
        Ok(())
    }

    async fn parked_status(&self, wamid: &str) -> Result<Option<DeliveryUpdate>, StoreError> {
        Ok(self.call()?.parked.get(wamid).cloned())
    }

    async fn save_attachment(&self, ticket: &TicketId, attachment: &MediaAttachment) -> Result<(), StoreError> {
        self.call()?
            .attachments
            .entry(ticket.clone())
            .or_default()
            .insert(keys::media_sk(&attachment.wamid), attachment.clone());
        Ok(())
    }

    async fn save_profile(&self, profile: &CustomerProfile) -> Result<(), StoreError> {
        self.call()?.profiles.insert(profile.customer.clone(), profile.clone());
        Ok(())
    }

    async fn keep_ticket_items_until(&self, ticket: &TicketId, until_ms: Option<i64>) -> Result<(), StoreError> {
        let mut tables = self.call()?;
        match until_ms {
            Some(ms) => tables.kept_until.insert(ticket.clone(), ms),
            None => tables.kept_until.remove(ticket),
        };
        Ok(())
    }
}

impl FingerprintIndex for MemoryStore {
    async fn fingerprints(&self, band: &str) -> Result<Vec<Fingerprint>, StoreError> {
        let tables = self.call()?;
        Ok(tables
            .fingerprints
            .get(band)
            .map(|f| f.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn file_fingerprint(&self, band: &str, fingerprint: &Fingerprint) -> Result<(), StoreError> {
        let sk = keys::phash_sk(&fingerprint.phash, &fingerprint.ticket_id, &fingerprint.wamid);
        self.call()?
            .fingerprints
            .entry(band.to_owned())
            .or_default()
            .insert(sk, fingerprint.clone());
        Ok(())
    }
}

impl ConversationStore for MemoryStore {
    async fn conversation(
        &self,
        customer: &CustomerId,
        phone_number_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let key = (customer.clone(), phone_number_id.to_owned());
        Ok(self.call()?.conversations.get(&key).cloned())
    }

    async fn save_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        let mut tables = self.call()?;
        let expected = conversation.version;
        let key = (conversation.customer.clone(), conversation.phone_number_id.clone());
        let stored = tables.conversations.get(&key).map(|c| c.version);
        let holds = match expected {
            0 => stored.is_none(),
            v => stored == Some(v),
        };
        if !holds {
            return Err(StoreError::Conflict);
        }
        let mut saved = conversation.clone();
        saved.version = expected + 1;
        tables.conversations.insert(key, saved);
        Ok(())
    }
}

impl IdentityReader for MemoryStore {
    async fn owner(&self, handle: &Handle) -> Result<Option<CustomerId>, StoreError> {
        let key = (handle.kind(), handle.value().to_owned());
        Ok(self.call()?.identity_links.get(&key).cloned())
    }

    async fn identity(&self, customer: &CustomerId) -> Result<Option<Identity>, StoreError> {
        Ok(self.call()?.identities.get(customer).cloned())
    }

    async fn owners_of_username(&self, username: &Username) -> Result<Vec<CustomerId>, StoreError> {
        let mut owners: Vec<CustomerId> = self
            .call()?
            .identities
            .values()
            .filter(|i| {
                i.username
                    .as_ref()
                    .is_some_and(|u| u.as_str().eq_ignore_ascii_case(username.as_str()))
            })
            .map(|i| i.customer.clone())
            .collect();
        owners.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(owners)
    }
}

impl IdentityStore for MemoryStore {
    async fn link(&self, handle: &Handle, customer: &CustomerId) -> Result<(), StoreError> {
        let key = (handle.kind(), handle.value().to_owned());
        self.call()?.identity_links.insert(key, customer.clone());
        Ok(())
    }

    async fn save_identity(&self, identity: &Identity) -> Result<(), StoreError> {
        self.call()?
            .identities
            .insert(identity.customer.clone(), identity.clone());
        Ok(())
    }
}

impl UnattributedStore for MemoryStore {
    async fn keep(&self, message: &Unattributed) -> Result<(), StoreError> {
        let key = (
            day_of(message.received_at_ms),
            keys::unattributed_sk(message.received_at_ms, &message.wamid),
        );
        self.call()?.unattributed.insert(key, message.clone());
        Ok(())
    }

    async fn unattributed(&self, from: &str, to: &str) -> Result<Vec<Unattributed>, StoreError> {
        let range = DateRange::between(from, to).map_err(|e| StoreError::Corrupt(format!("range: {e}")))?;
        let days = range.days();
        Ok(self
            .call()?
            .unattributed
            .iter()
            .filter(|((day, _), _)| days.contains(day))
            .map(|(_, m)| m.clone())
            .collect())
    }
}

impl ChangeFeed for MemoryStore {
    async fn changes(
        &self,
        after: Option<&str>,
        from_ms: i64,
        upto_ms: i64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError> {
        let lower = after
            .map(str::to_owned)
            .unwrap_or_else(|| feed::position_upto(from_ms - 1));
        let upper = feed::position_upto(upto_ms);
        Ok(self
            .call()?
            .feed
            .range(lower.clone()..=upper)
            .filter(|(position, _)| **position != lower || after.is_none())
            .take(limit)
            .map(|(_, c)| c.clone())
            .collect())
    }
}

impl Erasure for MemoryStore {
    async fn erase_ticket_contents(&self, ticket: &TicketId) -> Result<Vec<MediaAttachment>, StoreError> {
        let mut tables = self.call()?;
        if let Some(timeline) = tables.timelines.get_mut(ticket) {
            timeline.values_mut().for_each(privacy::erase_entry);
        }
        Ok(tables
            .attachments
            .remove(ticket)
            .map(|by_wamid| by_wamid.into_values().collect())
            .unwrap_or_default())
    }

    async fn forget_fingerprint(&self, band: &str, fingerprint: &Fingerprint) -> Result<(), StoreError> {
        let sk = keys::phash_sk(&fingerprint.phash, &fingerprint.ticket_id, &fingerprint.wamid);
        if let Some(filed) = self.call()?.fingerprints.get_mut(band) {
            filed.remove(&sk);
        }
        Ok(())
    }

    async fn forget_customer(&self, customer: &CustomerId, handles: &[Handle]) -> Result<(), StoreError> {
        let mut tables = self.call()?;
        tables.identities.remove(customer);
        tables.profiles.remove(customer);
        tables.conversations.retain(|(c, _), _| c != customer);
        for handle in handles {
            let key = (handle.kind(), handle.value().to_owned());
            // A link that moved to someone else stays theirs.
            if tables.identity_links.get(&key) == Some(customer) {
                tables.identity_links.remove(&key);
            }
        }
        Ok(())
    }
}

impl AvailabilityStore for MemoryStore {
    async fn set_available(&self, agent: &str, teams: &[String], at_ms: i64) -> Result<(), StoreError> {
        let mut tables = self.call()?;
        for team in teams {
            let by_agent = tables.available.entry(team.clone()).or_default();
            let last = by_agent.get(agent).and_then(|a| a.last_assigned_at_ms);
            by_agent.insert(
                agent.to_owned(),
                Availability {
                    agent: agent.to_owned(),
                    team: team.clone(),
                    since_ms: at_ms,
                    last_assigned_at_ms: last,
                },
            );
        }
        Ok(())
    }

    async fn set_away(&self, agent: &str, teams: &[String]) -> Result<(), StoreError> {
        let mut tables = self.call()?;
        for team in teams {
            if let Some(by_agent) = tables.available.get_mut(team) {
                by_agent.remove(agent);
            }
        }
        Ok(())
    }

    async fn available(&self, team: &str) -> Result<Vec<Availability>, StoreError> {
        Ok(self
            .call()?
            .available
            .get(team)
            .map(|by_agent| by_agent.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn note_assigned(&self, team: &str, agent: &str, at_ms: i64) -> Result<(), StoreError> {
        if let Some(a) = self.call()?.available.get_mut(team).and_then(|t| t.get_mut(agent)) {
            a.last_assigned_at_ms = Some(at_ms);
        }
        Ok(())
    }
}

impl PresenceStore for MemoryStore {
    async fn set_presence(&self, ticket: &TicketId, presence: &Presence) -> Result<(), StoreError> {
        self.call()?
            .presence
            .entry(ticket.clone())
            .or_default()
            .insert(presence.agent.clone(), presence.clone());
        Ok(())
    }

    async fn presence(&self, ticket: &TicketId, now_ms: i64) -> Result<Vec<Presence>, StoreError> {
        Ok(self
            .call()?
            .presence
            .get(ticket)
            .map(|by_agent| by_agent.values().filter(|p| p.until_ms > now_ms).cloned().collect())
            .unwrap_or_default())
    }
}

impl AuditLog for MemoryStore {
    async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        if self.audit_faults.trip() {
            return Err(StoreError::Backend(Box::new(InjectedFailure("audit trail"))));
        }
        let key = (
            day_of(record.at_ms),
            keys::audit_sk(record.at_ms, &record.agent, &record.request_id),
        );
        self.call()?.audit.insert(key, record.clone());
        Ok(())
    }

    async fn audit_trail(&self, from: &str, to: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let range = DateRange::between(from, to).map_err(|e| StoreError::Corrupt(format!("range: {e}")))?;
        let days = range.days();
        Ok(self
            .call()?
            .audit
            .iter()
            .filter(|((day, _), _)| days.contains(day))
            .map(|(_, r)| r.clone())
            .collect())
    }
}

const MS_PER_MINUTE: i64 = 60_000;

impl DeadlineIndex for MemoryStore {
    async fn sync_deadlines(
        &self,
        ticket: &TicketId,
        customer: &CustomerId,
        deadlines: &[Deadline],
        previous: Option<&[Deadline]>,
    ) -> Result<(), StoreError> {
        let mut tables = self.call()?;
        for kind in DeadlineKind::ALL {
            let wanted = deadlines.iter().find(|d| d.kind == kind);
            let held = previous.map(|p| p.iter().find(|d| d.kind == kind));
            let key = (ticket.clone(), kind);
            match (wanted, held) {
                // Unchanged: not written, so a claim on it stays.
                (Some(w), Some(Some(h))) if w == h => {}
                // Written whole: a claim on the old item is gone.
                (Some(w), _) => {
                    tables.deadlines.insert(
                        key,
                        DueDeadline {
                            ticket_id: ticket.clone(),
                            customer: customer.clone(),
                            deadline: *w,
                            claimed_until_ms: None,
                            first_claimed_ms: None,
                        },
                    );
                }
                (None, Some(None)) => {}
                (None, _) => {
                    tables.deadlines.remove(&key);
                }
            }
        }
        Ok(())
    }

    async fn due_in(&self, minute: i64, now_ms: i64) -> Result<(Vec<DueDeadline>, usize), StoreError> {
        let tables = self.call()?;
        let upto = keys::due_sk_upto(now_ms);
        // As gsi2 answers: shard by shard, each in deadline order.
        let mut due: Vec<(u32, String, DueDeadline)> = tables
            .deadlines
            .values()
            .filter(|item| item.deadline.at_ms.div_euclid(MS_PER_MINUTE) == minute)
            .map(|item| {
                let sk = keys::due_sk(item.deadline.at_ms, &item.ticket_id, item.deadline.kind.as_str());
                (keys::due_shard(&item.ticket_id), sk, item.clone())
            })
            .filter(|(_, sk, _)| *sk <= upto)
            .collect();
        due.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let read = due.len();
        Ok((due.into_iter().map(|(_, _, item)| item).collect(), read))
    }

    async fn claim(&self, due: &DueDeadline, now_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
        let mut tables = self.call()?;
        let key = (due.ticket_id.clone(), due.deadline.kind);
        match tables.deadlines.get_mut(&key) {
            Some(item)
                if item.deadline.at_ms == due.deadline.at_ms
                    && item.deadline.stage.as_str() == due.deadline.stage.as_str()
                    && item.claimed_until_ms.is_none_or(|claimed| claimed <= now_ms) =>
            {
                item.claimed_until_ms = Some(until_ms);
                item.first_claimed_ms.get_or_insert(now_ms);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn sweep_cursor(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.call()?.sweep_minute)
    }

    async fn move_sweep_cursor(&self, previous: Option<i64>, minute: i64) -> Result<bool, StoreError> {
        let mut tables = self.call()?;
        // The DynamoDB adapter compares with the previous minute floored at 0.
        let holds = match previous.map(|m| m.max(0)) {
            None => tables.sweep_minute.is_none(),
            Some(m) => tables.sweep_minute == Some(m),
        };
        if holds {
            tables.sweep_minute = Some(minute);
        }
        Ok(holds)
    }
}

impl ReportStore for MemoryStore {
    async fn record_fact(&self, fact: &ReportFact) -> Result<bool, StoreError> {
        let mut tables = self.call()?;
        if fact.counters.non_zero().is_empty() {
            return Ok(false);
        }
        // The fact marker's expiry is computed from its day: a day that is not
        // a date is refused before anything is written.
        if DateRange::between(&fact.day, &fact.day).is_err() {
            return Err(StoreError::Corrupt(format!(
                "report fact {}: day {:?} is not a date",
                fact.id, fact.day
            )));
        }
        if !tables.facts.insert(fact.id.clone()) {
            return Ok(false);
        }
        tables
            .aggregates
            .entry((fact.day.clone(), fact.team.clone(), fact.priority))
            .or_default()
            .add(&fact.counters);
        // In the same transaction as the marker and the team aggregate.
        if let Some(agent) = &fact.agent {
            tables
                .agent_aggregates
                .entry((fact.day.clone(), agent.clone()))
                .or_default()
                .add(&fact.counters);
        }
        Ok(true)
    }

    async fn aggregates(&self, from: &str, to: &str) -> Result<Vec<AggregateRow>, StoreError> {
        let tables = self.call()?;
        let range = DateRange::between(from, to).map_err(|e| StoreError::Corrupt(format!("report range: {e}")))?;
        let days: HashSet<String> = range.days().into_iter().collect();
        // The map's order is day, team, priority: the order the adapter sorts into.
        Ok(tables
            .aggregates
            .iter()
            .filter(|((day, _, _), _)| days.contains(day))
            .map(|((day, team, priority), counters)| AggregateRow {
                day: day.clone(),
                team: team.clone(),
                priority: *priority,
                counters: counters.clone(),
            })
            .collect())
    }

    async fn agent_aggregates(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<crate::domain::reports::AgentAggregateRow>, StoreError> {
        let tables = self.call()?;
        let range = DateRange::between(from, to).map_err(|e| StoreError::Corrupt(format!("report range: {e}")))?;
        let days: HashSet<String> = range.days().into_iter().collect();
        // The map's order is day, agent: the order the adapter sorts into.
        Ok(tables
            .agent_aggregates
            .iter()
            .filter(|((day, _), _)| days.contains(day))
            .map(|((day, agent), counters)| crate::domain::reports::AgentAggregateRow {
                day: day.clone(),
                agent: agent.clone(),
                counters: counters.clone(),
            })
            .collect())
    }
}

// ------------------------------------------------------------------ events

/// Stands in for [`super::events::EventBridgePublisher`] and honours its
/// contract: `Ok` only when every event was accepted, kept in order. Clones
/// share what was published.
#[derive(Clone, Default)]
pub struct MemoryEvents {
    published: Arc<Mutex<Vec<DomainEvent>>>,
    faults: Faults,
}

impl MemoryEvents {
    /// The next `n` publishes fail as an unreachable bus would (nothing published).
    pub fn fail_next(&self, n: usize) {
        self.faults.arm(n);
    }

    /// Every event published, in order.
    pub fn published(&self) -> Vec<DomainEvent> {
        lock(&self.published).clone()
    }

    /// Removes and answers every event published.
    pub fn take(&self) -> Vec<DomainEvent> {
        std::mem::take(&mut *lock(&self.published))
    }
}

impl EventPublisher for MemoryEvents {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), BoxError> {
        if self.faults.trip() {
            return Err(Box::new(InjectedFailure("event bus")));
        }
        lock(&self.published).extend(events.iter().cloned());
        Ok(())
    }
}

// ------------------------------------------------------------------- media

/// An object of [`MemoryMediaStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// S3 refuses an empty key and one over 1024 bytes, as [`super::s3`] checks.
fn check_key(key: &str) -> Result<(), S3Error> {
    if key.is_empty() || key.len() > 1024 {
        return Err(S3Error::InvalidKey);
    }
    Ok(())
}

fn injected_s3_failure(operation: &'static str) -> S3Error {
    S3Error::Service {
        operation,
        code: "InjectedFailure".to_owned(),
        transient: true,
        source: Box::new(InjectedFailure("media store")),
    }
}

/// Stands in for [`super::s3::S3MediaStore`] (its [`MediaStore`] and
/// [`MediaLinks`] sides) and honours its contract: an object appears only
/// when its upload finishes, an aborted upload stores nothing, the same key
/// replaces; errors are the S3 adapter's own [`S3Error`] (`InvalidKey`,
/// `NotFound`, a transient `Service` for injected failures). Links are
/// `memory://<key>?ttl=<seconds>`, the ttl clamped like a presigned URL's.
/// Clones share the bucket.
#[derive(Clone, Default)]
pub struct MemoryMediaStore {
    objects: Arc<Mutex<BTreeMap<String, MemoryObject>>>,
    faults: Faults,
}

impl MemoryMediaStore {
    /// The next `n` calls (`begin_upload`, `write`, `finish`, `get`,
    /// `presign_get`) fail as an unreachable S3 would; a failed `finish`
    /// stores nothing.
    pub fn fail_next(&self, n: usize) {
        self.faults.arm(n);
    }

    /// The object at `key`, with its content type.
    pub fn object(&self, key: &str) -> Option<MemoryObject> {
        lock(&self.objects).get(key).cloned()
    }

    /// Every key stored, in order.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.objects).keys().cloned().collect()
    }

    /// Stores `bytes` at `key` at once, as a browser's `PUT` to a presigned link does.
    pub fn put(&self, key: &str, content_type: &str, bytes: impl Into<Vec<u8>>) {
        lock(&self.objects).insert(
            key.to_owned(),
            MemoryObject {
                bytes: bytes.into(),
                content_type: content_type.to_owned(),
            },
        );
    }
}

/// An upload of [`MemoryMediaStore`]: buffered until `finish`.
pub struct MemoryUpload {
    key: String,
    content_type: String,
    buffer: Vec<u8>,
    objects: Arc<Mutex<BTreeMap<String, MemoryObject>>>,
    faults: Faults,
}

// By hand: the buffer holds a customer's file and never reaches a log.
impl std::fmt::Debug for MemoryUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryUpload")
            .field("key", &self.key)
            .field("content_type", &self.content_type)
            .field("size", &self.buffer.len())
            .finish()
    }
}

impl MediaUpload for MemoryUpload {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), BoxError> {
        if self.faults.trip() {
            return Err(Box::new(injected_s3_failure("UploadPart")));
        }
        self.buffer.extend_from_slice(chunk);
        Ok(())
    }

    async fn finish(self) -> Result<StoredObject, BoxError> {
        if self.faults.trip() {
            return Err(Box::new(injected_s3_failure("PutObject")));
        }
        let size = self.buffer.len() as u64;
        lock(&self.objects).insert(
            self.key.clone(),
            MemoryObject {
                bytes: self.buffer,
                content_type: self.content_type,
            },
        );
        Ok(StoredObject { key: self.key, size })
    }

    async fn abort(self) {}
}

impl MediaStore for MemoryMediaStore {
    type Upload = MemoryUpload;

    async fn begin_upload(&self, key: &str, content_type: &str) -> Result<MemoryUpload, BoxError> {
        check_key(key)?;
        if self.faults.trip() {
            return Err(Box::new(injected_s3_failure("CreateMultipartUpload")));
        }
        Ok(MemoryUpload {
            key: key.to_owned(),
            content_type: content_type.to_owned(),
            buffer: Vec::new(),
            objects: Arc::clone(&self.objects),
            faults: self.faults.clone(),
        })
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BoxError> {
        check_key(key)?;
        if self.faults.trip() {
            return Err(Box::new(injected_s3_failure("GetObject")));
        }
        match lock(&self.objects).get(key) {
            Some(object) => Ok(object.bytes.clone()),
            None => Err(Box::new(S3Error::NotFound { key: key.to_owned() })),
        }
    }
}

impl MediaLinks for MemoryMediaStore {
    /// Like a presigned GET: the ttl clamped to between one second and
    /// [`MAX_PRESIGN_TTL`]; the object need not exist yet.
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<String, BoxError> {
        check_key(key)?;
        if self.faults.trip() {
            return Err(Box::new(S3Error::Presign(Box::new(InjectedFailure("media store")))));
        }
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_PRESIGN_TTL);
        Ok(format!("memory://{key}?ttl={}", ttl.as_secs()))
    }

    async fn delete(&self, key: &str) -> Result<(), BoxError> {
        check_key(key)?;
        if self.faults.trip() {
            return Err(Box::new(injected_s3_failure("DeleteObject")));
        }
        lock(&self.objects).remove(key);
        Ok(())
    }

    /// `memory-put://<key>?type=…&ttl=…`: a test stores what the browser
    /// would send with [`MemoryMediaStore::put`].
    async fn presign_put(&self, key: &str, content_type: &str, ttl: Duration) -> Result<PresignedUpload, BoxError> {
        check_key(key)?;
        if self.faults.trip() {
            return Err(Box::new(S3Error::Presign(Box::new(InjectedFailure("media store")))));
        }
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_PRESIGN_TTL);
        Ok(PresignedUpload {
            url: format!("memory-put://{key}?type={content_type}&ttl={}", ttl.as_secs()),
            headers: vec![("Content-Type".into(), content_type.into())],
        })
    }

    async fn read_head(&self, key: &str, max: u64) -> Result<Option<ObjectHead>, BoxError> {
        check_key(key)?;
        if self.faults.trip() {
            return Err(Box::new(injected_s3_failure("GetObject")));
        }
        Ok(lock(&self.objects).get(key).map(|object| ObjectHead {
            size: object.bytes.len() as u64,
            content_type: Some(object.content_type.clone()),
            head: object
                .bytes
                .iter()
                .take(usize::try_from(max).unwrap_or(usize::MAX))
                .copied()
                .collect(),
        }))
    }
}

// ------------------------------------------------------------------- graph

/// A message [`MemoryGraph`] accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub phone_number_id: String,
    pub to: Address,
    pub body: OutboundBody,
    /// The wamid it was answered with.
    pub wamid: String,
}

/// A file [`MemoryGraph`] took through `upload_media`, under `media.MEM.<n>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedMedia {
    pub phone_number_id: String,
    pub media_id: String,
    pub mime: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A customer's file as [`MemoryGraph`] serves it. The facts `media_info`
/// answers are public so a test can make Meta claim something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryMedia {
    pub bytes: Vec<u8>,
    pub mime_type: Option<String>,
    /// Hex SHA-256 claimed for the file.
    pub sha256: Option<String>,
    /// Size claimed for the file.
    pub file_size: Option<u64>,
}

impl MemoryMedia {
    /// A file whose claimed facts are true.
    pub fn new(mime_type: &str, bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        MemoryMedia {
            sha256: Some(hex::encode(Sha256::digest(&bytes))),
            file_size: Some(bytes.len() as u64),
            mime_type: Some(mime_type.to_owned()),
            bytes,
        }
    }
}

#[derive(Default)]
struct GraphState {
    sent: Vec<SentMessage>,
    uploads: Vec<UploadedMedia>,
    attempts: usize,
    send_errors: VecDeque<GraphError>,
    media: HashMap<String, MemoryMedia>,
    media_errors: VecDeque<GraphError>,
    /// Downloads break off after this many bytes.
    break_after: Option<usize>,
}

/// Where a media id's file is served (what `media_info` answers as its URL).
const MEDIA_URL_PREFIX: &str = "memory://graph/media/";

/// Bytes per chunk of a download unless told otherwise: small, so that code
/// reading a download exercises its loop.
pub const DEFAULT_DOWNLOAD_CHUNK: usize = 4 * 1024;

/// Stands in for [`super::graph::GraphClient`] (its [`GraphApi`] and
/// [`MediaSource`] sides) and honours its contract: errors are decided by
/// code like Meta's, an unknown media id answers code 100 (subcode 33) with
/// HTTP 400, a media URL not served answers 404, a download comes in chunks.
/// Every accepted send is recorded and answered `wamid.MEM.<n>`; scripted
/// errors are answered first. Clones share the state.
#[derive(Clone)]
pub struct MemoryGraph {
    state: Arc<Mutex<GraphState>>,
    chunk_size: usize,
}

impl Default for MemoryGraph {
    fn default() -> Self {
        MemoryGraph {
            state: Arc::default(),
            chunk_size: DEFAULT_DOWNLOAD_CHUNK,
        }
    }
}

impl MemoryGraph {
    pub fn new() -> Self {
        MemoryGraph::default()
    }

    /// Downloads come in chunks of `bytes` (at least one).
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// The next sends answer these errors, in order, before any is accepted.
    pub fn fail_sends_with(&self, errors: impl IntoIterator<Item = GraphError>) {
        lock(&self.state).send_errors.extend(errors);
    }

    /// The next `media_info` or `download` calls answer these errors, in order.
    pub fn fail_media_with(&self, errors: impl IntoIterator<Item = GraphError>) {
        lock(&self.state).media_errors.extend(errors);
    }

    /// Every accepted message, in order.
    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.state).sent.clone()
    }

    /// Every file uploaded, in order.
    pub fn uploads(&self) -> Vec<UploadedMedia> {
        lock(&self.state).uploads.clone()
    }

    /// Every call of `send_message` and `upload_media`, refused ones included.
    pub fn attempts(&self) -> usize {
        lock(&self.state).attempts
    }

    /// Serves `media` under `media_id` (replacing what it served before).
    pub fn add_media(&self, media_id: &str, media: MemoryMedia) {
        lock(&self.state).media.insert(media_id.to_owned(), media);
    }

    /// Forgets `media_id`, as Meta does after about seven days.
    pub fn expire_media(&self, media_id: &str) {
        lock(&self.state).media.remove(media_id);
    }

    /// Downloads started from now on break off (an error) after `bytes`.
    pub fn break_downloads_after(&self, bytes: usize) {
        lock(&self.state).break_after = Some(bytes);
    }
}

/// What Meta answers for an id it does not know: `GraphMethodException`, code 100, subcode 33.
fn unknown_object() -> GraphError {
    GraphError {
        http_status: 400,
        code: 100,
        subcode: Some(33),
        retry_after: None,
    }
}

impl GraphApi for MemoryGraph {
    async fn send_message(
        &self,
        phone_number_id: &str,
        to: &Address,
        body: &OutboundBody,
    ) -> Result<String, GraphError> {
        let mut state = lock(&self.state);
        state.attempts += 1;
        if let Some(error) = state.send_errors.pop_front() {
            return Err(error);
        }
        // As the Cloud API: marking read answers no message id.
        let wamid = match body.is_message() {
            true => format!("wamid.MEM.{}", state.sent.len() + 1),
            false => String::new(),
        };
        state.sent.push(SentMessage {
            phone_number_id: phone_number_id.to_owned(),
            to: to.clone(),
            body: body.clone(),
            wamid: wamid.clone(),
        });
        Ok(wamid)
    }

    /// Scripted errors ([`MemoryGraph::fail_sends_with`]) are answered first, as for sends.
    async fn upload_media(
        &self,
        phone_number_id: &str,
        bytes: Vec<u8>,
        mime: &str,
        filename: &str,
    ) -> Result<String, GraphError> {
        let mut state = lock(&self.state);
        state.attempts += 1;
        if let Some(error) = state.send_errors.pop_front() {
            return Err(error);
        }
        let media_id = format!("media.MEM.{}", state.uploads.len() + 1);
        state.uploads.push(UploadedMedia {
            phone_number_id: phone_number_id.to_owned(),
            media_id: media_id.clone(),
            mime: mime.to_owned(),
            filename: filename.to_owned(),
            bytes,
        });
        Ok(media_id)
    }
}

/// A download of [`MemoryGraph`], served chunk by chunk.
#[derive(Debug)]
pub struct MemoryDownload {
    bytes: Vec<u8>,
    position: usize,
    chunk_size: usize,
    break_after: Option<usize>,
}

/// The body of a download broke off (`MemoryGraph::break_downloads_after`).
#[derive(Debug, thiserror::Error)]
#[error("the download broke off after {0} bytes")]
pub struct BrokenDownload(usize);

impl MediaDownload for MemoryDownload {
    async fn chunk(&mut self) -> Result<Option<Vec<u8>>, BoxError> {
        if self.position >= self.bytes.len() {
            return Ok(None);
        }
        let mut end = (self.position + self.chunk_size).min(self.bytes.len());
        if let Some(limit) = self.break_after {
            if self.position >= limit {
                return Err(Box::new(BrokenDownload(self.position)));
            }
            end = end.min(limit);
        }
        let chunk = self.bytes[self.position..end].to_vec();
        self.position = end;
        Ok(Some(chunk))
    }
}

impl MediaSource for MemoryGraph {
    type Download = MemoryDownload;

    async fn media_info(&self, media_id: &str) -> Result<MediaInfo, GraphError> {
        let mut state = lock(&self.state);
        if let Some(error) = state.media_errors.pop_front() {
            return Err(error);
        }
        let media = state.media.get(media_id).ok_or_else(unknown_object)?;
        Ok(MediaInfo {
            url: format!("{MEDIA_URL_PREFIX}{media_id}"),
            mime_type: media.mime_type.clone(),
            sha256: media.sha256.clone(),
            file_size: media.file_size,
        })
    }

    async fn download(&self, url: &str) -> Result<MemoryDownload, GraphError> {
        let mut state = lock(&self.state);
        if let Some(error) = state.media_errors.pop_front() {
            return Err(error);
        }
        let not_found = GraphError {
            http_status: 404,
            code: 0,
            subcode: None,
            retry_after: None,
        };
        let media = url
            .strip_prefix(MEDIA_URL_PREFIX)
            .and_then(|id| state.media.get(id))
            .ok_or(not_found)?;
        Ok(MemoryDownload {
            bytes: media.bytes.clone(),
            position: 0,
            chunk_size: self.chunk_size,
            break_after: state.break_after,
        })
    }
}

/// Stands in for [`super::sqs::SqsDelayQueue`] and honours its contract:
/// keeps each item with the delay it was sent with (a test delivers it when it
/// likes, as the queue would after the delay). Clones share the items.
pub struct MemoryDelayedQueue<T> {
    items: Arc<Mutex<Vec<(T, Duration)>>>,
    faults: Faults,
}

impl<T> Default for MemoryDelayedQueue<T> {
    fn default() -> Self {
        MemoryDelayedQueue {
            items: Arc::new(Mutex::new(Vec::new())),
            faults: Faults::default(),
        }
    }
}

impl<T> Clone for MemoryDelayedQueue<T> {
    fn clone(&self) -> Self {
        MemoryDelayedQueue {
            items: Arc::clone(&self.items),
            faults: self.faults.clone(),
        }
    }
}

impl<T: Clone> MemoryDelayedQueue<T> {
    /// The next `n` sends fail as an unreachable queue would.
    pub fn fail_next(&self, n: usize) {
        self.faults.arm(n);
    }

    /// What was sent, with its delay, oldest first.
    pub fn sent(&self) -> Vec<(T, Duration)> {
        lock(&self.items).clone()
    }

    /// Takes what was sent (as the queue's consumer would).
    pub fn take(&self) -> Vec<(T, Duration)> {
        std::mem::take(&mut *lock(&self.items))
    }
}

impl<T: serde::Serialize + Clone + Send + Sync> DelayedQueue<T> for MemoryDelayedQueue<T> {
    async fn send_after(&self, item: &T, delay: Duration) -> Result<(), QueueError> {
        if self.faults.trip() {
            return Err(QueueError::Backend(Box::new(InjectedFailure("delayed queue"))));
        }
        let size = serde_json::to_string(item)
            .map_err(|e| QueueError::Backend(Box::new(e)))?
            .len();
        if size > BATCH_BYTES {
            return Err(QueueError::TooLarge { size });
        }
        lock(&self.items).push((item.clone(), delay));
        Ok(())
    }
}

// ------------------------------------------------------ vision, orders, clock

/// Stands in for [`super::rekognition::RekognitionVision`] and honours its
/// contract: a report (whatever `partial` it is given), or `Err` for a
/// transient failure of the whole analysis. Clones share the state.
#[derive(Clone, Default)]
pub struct MemoryVision {
    report: Arc<Mutex<VisionReport>>,
    analysed: Arc<AtomicUsize>,
    faults: Faults,
}

impl MemoryVision {
    /// Answers `report` for every image.
    pub fn answering(report: VisionReport) -> Self {
        let vision = MemoryVision::default();
        vision.answer(report);
        vision
    }

    /// Answers `report` from now on.
    pub fn answer(&self, report: VisionReport) {
        *lock(&self.report) = report;
    }

    /// The next `n` analyses fail as a throttled service would.
    pub fn fail_next(&self, n: usize) {
        self.faults.arm(n);
    }

    /// How many images were analysed (failed attempts included).
    pub fn calls(&self) -> usize {
        self.analysed.load(Ordering::SeqCst)
    }
}

impl Vision for MemoryVision {
    async fn analyse(&self, _image: &[u8]) -> Result<VisionReport, BoxError> {
        self.analysed.fetch_add(1, Ordering::SeqCst);
        if self.faults.trip() {
            return Err(Box::new(InjectedFailure("vision service")));
        }
        Ok(lock(&self.report).clone())
    }
}

/// Stands in for [`super::orders::OrderClient`] and honours its contract:
/// `Ok(None)` for an unknown order, `Err` while the source is unavailable.
/// Clones share the orders.
#[derive(Clone, Default)]
pub struct MemoryOrders {
    statuses: Arc<Mutex<HashMap<String, String>>>,
    unavailable: Arc<std::sync::atomic::AtomicBool>,
}

impl MemoryOrders {
    /// Knows `order` with `status`.
    pub fn with(self, order: &str, status: &str) -> Self {
        lock(&self.statuses).insert(order.to_owned(), status.to_owned());
        self
    }

    /// Makes the source unavailable (`true`) or available again.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }
}

impl OrderLookup for MemoryOrders {
    async fn status(&self, order: &str) -> Result<Option<String>, BoxError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(Box::new(InjectedFailure("order source")));
        }
        Ok(lock(&self.statuses).get(order).cloned())
    }
}

/// Stands in for [`super::clock::SharedClock`]: a clock that moves only when
/// told to. Clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now_ms: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `now_ms`.
    pub fn at(now_ms: i64) -> Self {
        ManualClock {
            now_ms: Arc::new(AtomicI64::new(now_ms)),
        }
    }

    pub fn set(&self, now_ms: i64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the clock `ms` forward (back when negative); answers the new time.
    pub fn advance(&self, ms: i64) -> i64 {
        let previous = self
            .now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| Some(now.saturating_add(ms)))
            .unwrap_or_else(|unchanged| unchanged);
        previous.saturating_add(ms)
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// Stands in for [`super::graph::GraphTemplates`] and honours its contract:
/// only approved templates are answered, the whole list or an error. Knows
/// the templates it was given (any status); counts its calls (a cache in
/// front of it shows in the count). Clones share the state.
#[derive(Clone, Default)]
pub struct MemoryTemplates {
    templates: Arc<Mutex<Vec<crate::domain::templates::MessageTemplate>>>,
    unavailable: Arc<std::sync::atomic::AtomicBool>,
    calls: Arc<AtomicUsize>,
}

impl MemoryTemplates {
    /// Knows `template` too.
    pub fn with(self, template: crate::domain::templates::MessageTemplate) -> Self {
        lock(&self.templates).push(template);
        self
    }

    /// Makes the Graph API unreachable (`true`) or reachable again.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// How many times the list was asked for.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl crate::ports::TemplateSource for MemoryTemplates {
    async fn approved_templates(&self) -> Result<Vec<crate::domain::templates::MessageTemplate>, GraphError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            // What an unreachable Graph API answers (see `GraphError::is_transient`).
            return Err(GraphError {
                http_status: 0,
                code: 0,
                subcode: None,
                retry_after: None,
            });
        }
        Ok(lock(&self.templates)
            .iter()
            .filter(|t| t.is_approved())
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    //! What the shared contract suite cannot reach: the failures tests inject,
    //! and the fakes of services that have no moto (the Graph API, vision, orders).
    use super::*;
    use serde::Serialize;

    #[derive(Debug, Clone, Serialize)]
    struct Item {
        group: String,
        id: String,
        padding: String,
    }

    impl QueueMessage for Item {
        fn group_key(&self) -> String {
            self.group.clone()
        }
        fn dedupe_key(&self) -> String {
            self.id.clone()
        }
    }

    fn item(group: &str, id: &str) -> Item {
        Item {
            group: group.into(),
            id: id.into(),
            padding: String::new(),
        }
    }

    fn ids(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.id.as_str()).collect()
    }

    fn ticket(id: &str) -> Ticket {
        Ticket::open(
            TicketId::parse(id).unwrap(),
            CustomerId::parse("15550001111").unwrap(),
            "100000000000001".into(),
            "support".into(),
            1_000,
        )
    }

    #[tokio::test]
    async fn a_queue_told_to_fail_refuses_the_next_sends_then_accepts_again() {
        let queue = MemoryQueue::default();
        let handle = queue.clone();
        handle.fail_next(2);

        assert!(matches!(
            queue.send(&[item("g", "1")]).await,
            Err(QueueError::Backend(_))
        ));
        assert!(matches!(
            queue.send(&[item("g", "1")]).await,
            Err(QueueError::Backend(_))
        ));
        queue.send(&[item("g", "1")]).await.unwrap();

        assert_eq!(ids(&handle.sent()), ["1"]);
    }

    #[tokio::test]
    async fn a_duplicate_is_dropped_even_after_the_queue_was_drained_but_only_within_its_group() {
        let queue = MemoryQueue::default();
        queue.send(&[item("a", "1"), item("a", "2")]).await.unwrap();

        assert_eq!(ids(&queue.take()), ["1", "2"]);
        queue
            .send(&[item("a", "2"), item("b", "2"), item("a", "3")])
            .await
            .unwrap();

        assert_eq!(ids(&queue.sent()), ["2", "3"]);
        assert_eq!(queue.sent()[0].group, "b");
    }

    #[tokio::test]
    async fn an_item_over_256_kib_fails_the_send_after_the_batches_before_it_were_stored() {
        let queue = MemoryQueue::default();
        let mut items: Vec<Item> = (0..11).map(|i| item("g", &i.to_string())).collect();
        items.push(Item {
            padding: "x".repeat(256 * 1024),
            ..item("g", "big")
        });

        let sent = queue.send(&items).await;

        assert!(matches!(sent, Err(QueueError::TooLarge { .. })), "{sent:?}");
        // The first batch of ten went out; the eleventh waited in the batch that failed.
        assert_eq!(queue.sent().len(), 10);
    }

    #[tokio::test]
    async fn a_store_told_to_fail_changes_nothing_and_every_clone_sees_it() {
        let store = MemoryStore::new();
        let clone = store.clone();
        clone.fail_next(1);

        let failed = store.save_ticket(&ticket("TK-1"), None, &[]).await;

        assert!(matches!(failed, Err(StoreError::Backend(_))), "{failed:?}");
        assert!(store.tickets().is_empty());
        store.save_ticket(&ticket("TK-1"), None, &[]).await.unwrap();
        assert_eq!(clone.tickets().len(), 1);
        assert_eq!(clone.tickets()[0].version, 1);
    }

    #[tokio::test]
    async fn every_store_port_honours_an_injected_failure() {
        let store = MemoryStore::new();
        let id = TicketId::parse("TK-1").unwrap();
        let customer = CustomerId::parse("1555").unwrap();
        store.fail_next(6);

        assert!(store.timeline(&id).await.is_err());
        assert!(store.conversation(&customer, "P1").await.is_err());
        assert!(store.due_in(0, 0).await.is_err());
        assert!(store.aggregates("2026-01-01", "2026-01-01").await.is_err());
        assert!(store.fingerprints("b").await.is_err());
        assert!(store.move_sweep_cursor(None, 1).await.is_err());

        assert_eq!(store.sweep_cursor().await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_read_helpers_answer_copies_in_key_order() {
        let store = MemoryStore::new();
        let customer = CustomerId::parse("1555").unwrap();
        let deadline = |kind, at_ms| Deadline {
            kind,
            stage: crate::domain::sla::Stage::Breach,
            at_ms,
        };
        for id in ["TK-2", "TK-1"] {
            let t = TicketId::parse(id).unwrap();
            let deadlines = [
                deadline(DeadlineKind::Resolution, 9),
                deadline(DeadlineKind::FirstResponse, 5),
            ];
            store.sync_deadlines(&t, &customer, &deadlines, None).await.unwrap();
        }

        let items = store.deadline_items();

        let order: Vec<(&str, DeadlineKind)> = items.iter().map(|d| (d.ticket_id.as_str(), d.deadline.kind)).collect();
        assert_eq!(
            order,
            [
                ("TK-1", DeadlineKind::FirstResponse),
                ("TK-1", DeadlineKind::Resolution),
                ("TK-2", DeadlineKind::FirstResponse),
                ("TK-2", DeadlineKind::Resolution),
            ]
        );
    }

    #[tokio::test]
    async fn a_bus_told_to_fail_publishes_nothing() {
        let events = MemoryEvents::default();
        events.fail_next(1);
        let event = DomainEvent::TicketResolved(crate::domain::events::TicketResolved {
            ticket: crate::domain::events::TicketRef::of(&ticket("TK-1"), 1_000),
        });

        assert!(events.publish(std::slice::from_ref(&event)).await.is_err());
        events.publish(std::slice::from_ref(&event)).await.unwrap();

        assert_eq!(events.take(), [event]);
        assert!(events.published().is_empty());
    }

    #[tokio::test]
    async fn a_media_store_told_to_fail_loses_the_upload_and_says_it_is_transient() {
        let store = MemoryMediaStore::default();
        let mut upload = store.begin_upload("media/TK-1/w.jpg", "image/jpeg").await.unwrap();
        upload.write(b"abc").await.unwrap();
        store.fail_next(1);

        let failed = upload.finish().await.map_err(|e| e.downcast::<S3Error>());

        match failed {
            Err(Ok(e)) => assert!(e.is_transient(), "{e}"),
            other => panic!("expected an S3 error, got {other:?}"),
        }
        assert_eq!(store.object("media/TK-1/w.jpg"), None);
        assert!(store.keys().is_empty());
    }

    #[tokio::test]
    async fn a_missing_object_and_a_bad_key_are_the_s3_adapters_errors() {
        let store = MemoryMediaStore::default();

        let missing = store.get("media/none.jpg").await.map_err(|e| e.downcast::<S3Error>());
        let bad = store
            .begin_upload("", "image/jpeg")
            .await
            .map_err(|e| e.downcast::<S3Error>());

        assert!(matches!(missing, Err(Ok(e)) if matches!(*e, S3Error::NotFound { .. })));
        assert!(matches!(bad, Err(Ok(e)) if matches!(*e, S3Error::InvalidKey)));
    }

    fn error(code: i64, http_status: u16) -> GraphError {
        GraphError {
            http_status,
            code,
            subcode: None,
            retry_after: None,
        }
    }

    #[tokio::test]
    async fn the_graph_answers_scripted_errors_first_then_numbered_wamids() {
        let graph = MemoryGraph::new();
        graph.fail_sends_with([error(130429, 400), error(131047, 400)]);
        let to = Address::Phone(crate::domain::identity::Phone::parse("15550001111").unwrap());
        let body = OutboundBody::text("hello");

        let first = graph.send_message("P1", &to, &body).await;
        let second = graph.send_message("P1", &to, &body).await;
        let third = graph.send_message("P1", &to, &body).await;
        let fourth = graph.send_message("P2", &to, &body).await;

        assert_eq!(first, Err(error(130429, 400)));
        assert_eq!(second, Err(error(131047, 400)));
        assert_eq!(third.as_deref(), Ok("wamid.MEM.1"));
        assert_eq!(fourth.as_deref(), Ok("wamid.MEM.2"));
        assert_eq!(graph.attempts(), 4);
        let sent = graph.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].phone_number_id, "P2");
        assert_eq!(sent[1].to, to);
        assert_eq!(sent[1].body, body);
        assert_eq!(sent[1].wamid, "wamid.MEM.2");
    }

    #[tokio::test]
    async fn an_unknown_media_id_is_meta_s_code_100_and_is_not_transient() {
        let graph = MemoryGraph::new();

        let answer = graph.media_info("404404").await;

        let err = answer.expect_err("unknown id");
        assert_eq!((err.http_status, err.code, err.subcode), (400, 100, Some(33)));
        assert!(!err.is_transient());
        let gone = graph
            .download("https://example.invalid/x")
            .await
            .expect_err("not served");
        assert_eq!(gone.http_status, 404);
    }

    async fn read_all(download: &mut MemoryDownload) -> Result<Vec<Vec<u8>>, BoxError> {
        let mut chunks = Vec::new();
        while let Some(chunk) = download.chunk().await? {
            chunks.push(chunk);
        }
        Ok(chunks)
    }

    #[tokio::test]
    async fn a_download_comes_in_chunks_of_the_configured_size_with_true_facts() {
        let graph = MemoryGraph::new().with_chunk_size(4);
        let bytes: Vec<u8> = (0u8..10).collect();
        graph.add_media("m1", MemoryMedia::new("image/jpeg", bytes.clone()));

        let info = graph.media_info("m1").await.unwrap();
        let mut download = graph.download(&info.url).await.unwrap();
        let chunks = read_all(&mut download).await.unwrap();

        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
        assert_eq!(chunks.concat(), bytes);
        assert_eq!(info.mime_type.as_deref(), Some("image/jpeg"));
        assert_eq!(info.file_size, Some(10));
        assert_eq!(info.sha256, Some(hex::encode(Sha256::digest(&bytes))));
    }

    #[tokio::test]
    async fn a_download_can_break_off_and_media_calls_can_fail_and_expire() {
        let graph = MemoryGraph::new().with_chunk_size(4);
        graph.add_media("m1", MemoryMedia::new("application/pdf", vec![7u8; 10]));
        graph.break_downloads_after(6);
        let info = graph.media_info("m1").await.unwrap();

        let mut download = graph.download(&info.url).await.unwrap();
        assert_eq!(download.chunk().await.unwrap().map(|c| c.len()), Some(4));
        assert_eq!(download.chunk().await.unwrap().map(|c| c.len()), Some(2));
        assert!(download.chunk().await.is_err());

        graph.fail_media_with([error(0, 503)]);
        assert_eq!(graph.media_info("m1").await, Err(error(0, 503)));
        graph.expire_media("m1");
        assert_eq!(graph.media_info("m1").await.map_err(|e| e.code), Err(100));
    }

    #[tokio::test]
    async fn vision_answers_its_report_unless_told_to_fail() {
        let report = VisionReport {
            text: vec!["E-42".into()],
            ..VisionReport::default()
        };
        let vision = MemoryVision::answering(report.clone());
        vision.fail_next(1);

        assert!(vision.analyse(b"img").await.is_err());
        assert_eq!(vision.analyse(b"img").await.unwrap(), report);
        assert_eq!(vision.calls(), 2);
    }

    #[tokio::test]
    async fn orders_are_known_unknown_or_unavailable() {
        let orders = MemoryOrders::default().with("AB-1234", "shipped");

        assert_eq!(orders.status("AB-1234").await.unwrap().as_deref(), Some("shipped"));
        assert_eq!(orders.status("ZZ-0000").await.unwrap(), None);
        orders.set_unavailable(true);
        assert!(orders.status("AB-1234").await.is_err());
        orders.set_unavailable(false);
        assert!(orders.status("AB-1234").await.is_ok());
    }

    #[test]
    fn a_manual_clock_moves_only_when_told_and_every_clone_follows() {
        let clock = ManualClock::at(1_000);
        let seen_by_a_handler = clock.clone();

        assert_eq!(clock.advance(500), 1_500);
        clock.set(10_000);

        assert_eq!(seen_by_a_handler.now_ms(), 10_000);
        assert_eq!(seen_by_a_handler.now().as_millisecond(), 10_000);
        assert_eq!(clock.advance(i64::MAX), i64::MAX);
    }
}
