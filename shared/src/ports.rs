//! Ports: what handlers need from the outside world, as small traits. Each
//! function's handler is generic over the ports it uses, so its signature
//! matches its IAM policy and unit tests can use in-memory implementations.

use crate::domain::assignment::Availability;
use crate::domain::attachment::{Fingerprint, MediaAttachment};
use crate::domain::audit::{AuditRecord, Presence};
use crate::domain::conversation::Conversation;
use crate::domain::events::DomainEvent;
use crate::domain::feed::Change;
use crate::domain::identity::{Address, Handle, Identity, Username};
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::Unattributed;
use crate::domain::outbound::OutboundBody;
use crate::domain::reports::{AggregateRow, ReportFact};
use crate::domain::sla::Deadline;
use crate::domain::ticket::{CustomerProfile, DeliveryUpdate, OutboundLink, Ticket, TimelineEntry};
use crate::domain::views::{ListPage, Listing};
use serde::Serialize;
use std::error::Error as StdError;

pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The current time. Tests and the local runner may move it.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;

    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.now_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// An item of a FIFO queue: its message group and its deduplication id.
pub trait QueueMessage: Serialize {
    fn group_key(&self) -> String;
    fn dedupe_key(&self) -> String;
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{failed} of {total} messages were not accepted by the queue")]
    Partial { failed: usize, total: usize },
    #[error("a message of {size} bytes exceeds the queue's 256 KiB limit")]
    TooLarge { size: usize },
    #[error("the queue could not be reached")]
    Backend(#[source] BoxError),
}

/// Sends to one FIFO queue. Contract: returns `Ok` only when every item was
/// accepted; items keep their order within a message group; an item resent with
/// the same dedupe key within five minutes is stored once.
pub trait Queue<T: QueueMessage>: Send + Sync {
    async fn send(&self, items: &[T]) -> Result<(), QueueError>;
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the item changed since it was read (version conflict)")]
    Conflict,
    #[error("a stored item could not be read: {0}")]
    Corrupt(String),
    #[error("the store could not be reached")]
    Backend(#[source] BoxError),
}

/// Reads tickets. Used by the bot (status only) and the agent API.
pub trait TicketReader: Send + Sync {
    async fn ticket(&self, id: &TicketId) -> Result<Option<Ticket>, StoreError>;
    /// The whole timeline, oldest first (paginates internally).
    async fn timeline(&self, id: &TicketId) -> Result<Vec<TimelineEntry>, StoreError>;
    /// One page of a list (see [`Listing`]): at most `limit` tickets in the
    /// list's order, after the position `after` (a position this list gave).
    /// Read through an index, never a scan.
    async fn list(&self, listing: &Listing, after: Option<&str>, limit: usize) -> Result<ListPage, StoreError>;
    /// How many tickets a list holds.
    async fn count(&self, listing: &Listing) -> Result<u64, StoreError>;
    async fn profile(&self, customer: &CustomerId) -> Result<Option<CustomerProfile>, StoreError>;
    /// A ticket's attachments, in wamid order.
    async fn attachments(&self, ticket: &TicketId) -> Result<Vec<MediaAttachment>, StoreError>;
    /// One entry of a ticket's timeline, by its id (a wamid for messages).
    async fn timeline_entry(&self, ticket: &TicketId, id: &str) -> Result<Option<TimelineEntry>, StoreError> {
        Ok(self.timeline(ticket).await?.into_iter().find(|e| e.id == id))
    }
}

/// The near-duplicate image index (written by the media function only).
pub trait FingerprintIndex: Send + Sync {
    /// Every fingerprint filed under `band`.
    async fn fingerprints(&self, band: &str) -> Result<Vec<Fingerprint>, StoreError>;
    /// Files a fingerprint under `band` (idempotent).
    async fn file_fingerprint(&self, band: &str, fingerprint: &Fingerprint) -> Result<(), StoreError>;
}

/// Writes tickets. Only the `tickets` function holds one. Every method is
/// idempotent: applying the same change twice leaves one effect.
pub trait TicketStore: TicketReader {
    /// Saves `ticket` if the stored version is `expected_version` (`None`: must not
    /// exist yet), storing `version + 1`, together with `entries` on its
    /// timeline: all or nothing, so no reader sees an entry whose ticket change
    /// is not saved. An entry already stored is kept as it is (a redelivered
    /// command's entry; its delivery state may have moved on). The change
    /// goes on the change feed in the same write. `Conflict` when the version
    /// does not match (nothing is written).
    async fn save_ticket(
        &self,
        ticket: &Ticket,
        expected_version: Option<u64>,
        entries: &[TimelineEntry],
    ) -> Result<(), StoreError>;
    /// Adds a timeline entry; `false` when that entry (same time and id) exists already.
    async fn append_entry(&self, ticket: &TicketId, entry: &TimelineEntry) -> Result<bool, StoreError>;
    /// Replaces a timeline entry whole (a message the customer withdrew).
    async fn replace_entry(&self, ticket: &TicketId, entry: &TimelineEntry) -> Result<(), StoreError>;
    /// Remembers which ticket entry an outbound wamid belongs to.
    async fn link_outbound(&self, wamid: &str, link: &OutboundLink) -> Result<(), StoreError>;
    async fn find_outbound(&self, wamid: &str) -> Result<Option<OutboundLink>, StoreError>;
    /// Moves an outbound entry's delivery state forward, with its error and
    /// price when given; `false` when the stored state is already at or past it
    /// (statuses arrive duplicated and out of order).
    async fn advance_delivery(
        &self,
        ticket: &TicketId,
        at_ms: i64,
        wamid: &str,
        update: &DeliveryUpdate,
    ) -> Result<bool, StoreError>;
    /// Keeps a status that arrived before its message was recorded (forward only).
    async fn park_status(&self, wamid: &str, update: &DeliveryUpdate) -> Result<(), StoreError>;
    async fn parked_status(&self, wamid: &str) -> Result<Option<DeliveryUpdate>, StoreError>;
    /// Stores an attachment (idempotent: the same wamid replaces itself).
    async fn save_attachment(&self, ticket: &TicketId, attachment: &MediaAttachment) -> Result<(), StoreError>;
    /// Stores a profile (the tickets function applies a customer's commands in order).
    async fn save_profile(&self, profile: &CustomerProfile) -> Result<(), StoreError>;
    /// Keeps every item stored under the ticket (its timeline, its files'
    /// records) until `until_ms` (DynamoDB's TTL), or for good with `None`.
    /// The ticket's own item follows its `keep_until_ms` when it is saved.
    async fn keep_ticket_items_until(&self, ticket: &TicketId, until_ms: Option<i64>) -> Result<(), StoreError>;
}

/// A deadline the sweep found in a due bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDeadline {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub deadline: Deadline,
    /// A sweep claimed it and holds it until then.
    pub claimed_until_ms: Option<i64>,
    /// When a sweep first claimed it (kept across later claims, gone when
    /// `tickets` moves the deadline): how long it has waited for `tickets`.
    pub first_claimed_ms: Option<i64>,
}

/// The SLA deadline index. `tickets` keeps it in step with each ticket; the
/// `sla` sweep reads the due buckets and claims what it acts on.
pub trait DeadlineIndex: Send + Sync {
    /// Makes the index hold exactly `deadlines` for the ticket. With `previous`
    /// (what the index held) only the differences are written; without it every
    /// kind is rewritten (a repair). Idempotent.
    async fn sync_deadlines(
        &self,
        ticket: &TicketId,
        customer: &CustomerId,
        deadlines: &[Deadline],
        previous: Option<&[Deadline]>,
    ) -> Result<(), StoreError>;
    /// The deadlines of one minute bucket (every shard) due at `now_ms`, and
    /// how many items the reads returned.
    async fn due_in(&self, minute: i64, now_ms: i64) -> Result<(Vec<DueDeadline>, usize), StoreError>;
    /// Claims a due deadline until `until_ms`, noting `now_ms` as its first
    /// claim if it had none. `false` when another sweep holds it, or it has
    /// moved or gone since it was read.
    async fn claim(&self, due: &DueDeadline, now_ms: i64, until_ms: i64) -> Result<bool, StoreError>;
    /// The first minute bucket not yet fully handled.
    async fn sweep_cursor(&self) -> Result<Option<i64>, StoreError>;
    /// Moves the cursor from `previous` to `minute`; `false` when another sweep moved it first.
    async fn move_sweep_cursor(&self, previous: Option<i64>, minute: i64) -> Result<bool, StoreError>;
}

/// KPI aggregates. `tickets` records facts; the agent API reads reports.
pub trait ReportStore: Send + Sync {
    /// Adds a fact's counters to its day, team and priority, once per fact id:
    /// `false` when that fact was counted before.
    async fn record_fact(&self, fact: &ReportFact) -> Result<bool, StoreError>;
    /// The aggregates of the days from `from` to `to` (inclusive, `2026-11-21`).
    async fn aggregates(&self, from: &str, to: &str) -> Result<Vec<AggregateRow>, StoreError>;
    /// The per-agent aggregates of the days from `from` to `to` (inclusive),
    /// in day and agent order: the counters of the facts about an agent,
    /// added (once per fact, with the team aggregate) by
    /// [`ReportStore::record_fact`].
    async fn agent_aggregates(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<crate::domain::reports::AgentAggregateRow>, StoreError>;
}

/// The bot's conversation state: one per customer and business number. Only
/// the `bot` function holds one.
pub trait ConversationStore: Send + Sync {
    async fn conversation(
        &self,
        customer: &CustomerId,
        phone_number_id: &str,
    ) -> Result<Option<Conversation>, StoreError>;
    /// Saves if the stored version equals `conversation.version` (0: new), storing version + 1.
    async fn save_conversation(&self, conversation: &Conversation) -> Result<(), StoreError>;
}

/// The identity map and customers' identities. The bot writes them as
/// messages arrive; the sender and the agent API read them.
pub trait IdentityReader: Send + Sync {
    /// The customer a handle (phone, BSUID, parent id) belongs to.
    async fn owner(&self, handle: &Handle) -> Result<Option<CustomerId>, StoreError>;
    /// The customers whose identity shows this username now (a lookup for
    /// agents, never for telling who wrote: usernames change hands).
    async fn owners_of_username(&self, username: &Username) -> Result<Vec<CustomerId>, StoreError>;
    /// What is known of a customer's identity (none for a customer stored
    /// before identities were kept).
    async fn identity(&self, customer: &CustomerId) -> Result<Option<Identity>, StoreError>;
}

/// Writes the identity map. Idempotent: linking a handle again to the same
/// customer changes nothing; linking it to another customer moves it.
pub trait IdentityStore: IdentityReader {
    async fn link(&self, handle: &Handle, customer: &CustomerId) -> Result<(), StoreError>;
    async fn save_identity(&self, identity: &Identity) -> Result<(), StoreError>;
}

/// Messages the webhook acknowledged that name no customer, kept whole for
/// an admin to read. Written by the bot, read by the agent API.
pub trait UnattributedStore: Send + Sync {
    /// Keeps one (idempotent by its wamid and time).
    async fn keep(&self, message: &Unattributed) -> Result<(), StoreError>;
    /// Those received on the days from `from` to `to` (inclusive, `2026-11-21`), oldest first.
    async fn unattributed(&self, from: &str, to: &str) -> Result<Vec<Unattributed>, StoreError>;
}

/// The change feed (written with every ticket save, see
/// [`TicketStore::save_ticket`]).
pub trait ChangeFeed: Send + Sync {
    /// Changes after position `after` (or from `from_ms` without one) up to
    /// `upto_ms` inclusive, in position order; at most `limit`.
    async fn changes(
        &self,
        after: Option<&str>,
        from_ms: i64,
        upto_ms: i64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError>;
}

/// Which agents are available on which team (written by the agent API as
/// agents come and go; read, and their last assignment noted, by the sweep
/// that assigns round-robin).
pub trait AvailabilityStore: Send + Sync {
    /// The agent is available on each of `teams` from `at_ms` (kept: when
    /// they were last assigned there).
    async fn set_available(&self, agent: &str, teams: &[String], at_ms: i64) -> Result<(), StoreError>;
    /// The agent is away on each of `teams`.
    async fn set_away(&self, agent: &str, teams: &[String]) -> Result<(), StoreError>;
    /// The agents available on `team`, by name.
    async fn available(&self, team: &str) -> Result<Vec<Availability>, StoreError>;
    /// The agent was given a ticket of `team` at `at_ms` (nothing if they went away).
    async fn note_assigned(&self, team: &str, agent: &str, at_ms: i64) -> Result<(), StoreError>;
}

/// Who is viewing or typing on a ticket (written by the agent API).
pub trait PresenceStore: Send + Sync {
    /// Records (or renews) `agent`'s presence on the ticket.
    async fn set_presence(&self, ticket: &TicketId, presence: &Presence) -> Result<(), StoreError>;
    /// The presences on the ticket that still hold at `now_ms`, by agent.
    async fn presence(&self, ticket: &TicketId, now_ms: i64) -> Result<Vec<Presence>, StoreError>;
}

/// Forgets a customer (a privacy erasure, carried out by `tickets`). Each
/// method is idempotent: an erasure retried after a failure completes it.
pub trait Erasure: Send + Sync {
    /// Rewrites every timeline entry of the ticket without its contents and
    /// deletes its files' records; answers the records deleted (their S3 keys
    /// and fingerprints, for whoever removes those).
    async fn erase_ticket_contents(&self, ticket: &TicketId) -> Result<Vec<MediaAttachment>, StoreError>;
    /// Removes a fingerprint from the near-duplicate index.
    async fn forget_fingerprint(&self, band: &str, fingerprint: &Fingerprint) -> Result<(), StoreError>;
    /// Removes the customer's items (identity, profile, conversations) and
    /// the identity map's links of `handles`.
    async fn forget_customer(&self, customer: &CustomerId, handles: &[Handle]) -> Result<(), StoreError>;
}

/// The workspace's audit trail (written by the agent API).
pub trait AuditLog: Send + Sync {
    /// Keeps one record (idempotent by its time, agent and request id).
    async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError>;
    /// The records of the days from `from` to `to` (inclusive, `2026-11-21`), oldest first.
    async fn audit_trail(&self, from: &str, to: &str) -> Result<Vec<AuditRecord>, StoreError>;
}

/// Hands an item to a queue that delivers it after a delay (SQS `DelaySeconds`,
/// at most 15 minutes). Contract: `Ok` once accepted; delivery is at least
/// once and unordered, so the consumer checks the item is still current.
pub trait DelayedQueue<T: Serialize>: Send + Sync {
    async fn send_after(&self, item: &T, delay: std::time::Duration) -> Result<(), QueueError>;
}

/// Publishes domain events. Contract: `Ok` only when every event was accepted;
/// delivery order is not promised, and a retried publish may deliver an event
/// twice (consumers key on the event).
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), BoxError>;
}

/// A Graph API refusal, decided by code (never by message text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Graph API error {code} (HTTP {http_status})")]
pub struct GraphError {
    pub http_status: u16,
    /// Meta's `error.code`; 0 when the answer had no error envelope (network, 5xx page).
    pub code: i64,
    pub subcode: Option<i64>,
    /// Seconds from a `Retry-After` header, when given.
    pub retry_after: Option<u64>,
}

impl GraphError {
    /// Retry only what is transient: rate limits, pair rate, 5xx and maintenance.
    /// A 131047 (window closed) needs a template instead; 100, 190… need a person.
    pub fn is_transient(&self) -> bool {
        matches!(self.code, 130429 | 131056 | 131057 | 131000 | 1 | 2 | 4 | 80007)
            || self.http_status >= 500
            || self.http_status == 429
            || (self.code == 0 && self.http_status == 0)
    }
}

/// The Cloud API's sending side.
pub trait GraphApi: Send + Sync {
    /// Sends one message from `phone_number_id` to `to`; the wamid Meta
    /// assigned on success. A [`OutboundBody::MarkRead`] answers no wamid: `Ok("")`.
    async fn send_message(
        &self,
        phone_number_id: &str,
        to: &Address,
        body: &OutboundBody,
    ) -> Result<String, GraphError>;

    /// Uploads a file the business sends (`POST /{phone-number-id}/media`);
    /// the media id a message then names. Contract: the id is valid for the
    /// number it was uploaded to; an upload is not idempotent (a retry gets
    /// another id, and Meta forgets unused ones).
    async fn upload_media(
        &self,
        phone_number_id: &str,
        bytes: Vec<u8>,
        mime: &str,
        filename: &str,
    ) -> Result<String, GraphError>;
}

/// The Business Account's message templates (Graph API
/// `GET /{waba-id}/message_templates`). Contract: every approved template
/// that a send with body parameters can fill, in every language, and no
/// other; `Err` when the list cannot be read whole (no partial list). The
/// future is `Send` so a handler may hold the source behind a trait object.
pub trait TemplateSource: Send + Sync {
    fn approved_templates(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::domain::templates::MessageTemplate>, GraphError>> + Send;
}

macro_rules! fifo_message {
    ($($t:ty),*) => {$(
        impl QueueMessage for $t {
            fn group_key(&self) -> String {
                <$t>::group_key(self)
            }
            fn dedupe_key(&self) -> String {
                <$t>::dedupe_key(self)
            }
        }
    )*};
}

fifo_message!(
    crate::domain::inbound::InboundEvent,
    crate::domain::commands::TicketCommand,
    crate::domain::commands::MediaJob,
    crate::domain::outbound::OutboundRequest
);

/// What `GET /{media-id}` answers: a short-lived download URL and the file's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    pub url: String,
    pub mime_type: Option<String>,
    /// Hex SHA-256 of the file.
    pub sha256: Option<String>,
    pub file_size: Option<u64>,
}

/// A download in progress, read chunk by chunk so a large file never sits
/// whole in memory.
pub trait MediaDownload: Send {
    /// The next chunk; `None` at the end. An error means the body broke off.
    async fn chunk(&mut self) -> Result<Option<Vec<u8>>, BoxError>;
}

/// The Cloud API's media side: customers' files by media id. Contract: an
/// unknown or expired id is an error that is not transient; the URL of
/// [`MediaInfo`] is valid for minutes and needs the same credentials.
pub trait MediaSource: Send + Sync {
    type Download: MediaDownload;
    async fn media_info(&self, media_id: &str) -> Result<MediaInfo, GraphError>;
    async fn download(&self, url: &str) -> Result<Self::Download, GraphError>;
}

/// An object the media store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
}

/// An upload in progress: written in order, then finished (stored whole and
/// encrypted) or aborted (nothing stored).
pub trait MediaUpload: Send {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), BoxError>;
    async fn finish(self) -> Result<StoredObject, BoxError>;
    async fn abort(self);
}

/// Customers' files at rest (S3). Contract: an object appears only once its
/// upload finished; writing the same key again replaces it; memory is bounded
/// by one part whatever the object's size.
pub trait MediaStore: Send + Sync {
    type Upload: MediaUpload;
    async fn begin_upload(&self, key: &str, content_type: &str) -> Result<Self::Upload, BoxError>;
    /// The whole object (files small enough to analyse).
    async fn get(&self, key: &str) -> Result<Vec<u8>, BoxError>;
}

/// Short-lived links to stored files, for agents. Contract: a link expires
/// after `ttl` (at most five minutes) and names one object.
pub trait MediaLinks: Send + Sync {
    async fn presign_get(&self, key: &str, ttl: std::time::Duration) -> Result<String, BoxError>;
    /// Deletes a stored file (a privacy erasure). Deleting what is not there succeeds.
    async fn delete(&self, key: &str) -> Result<(), BoxError>;
    /// A link an agent's browser uploads one file to with `PUT`, valid for
    /// `ttl` (at most five minutes), and the headers the `PUT` must send
    /// (`Content-Type: content_type`, and what the store signs besides, such as
    /// its encryption).
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        ttl: std::time::Duration,
    ) -> Result<PresignedUpload, BoxError>;
    /// A stored file's size, type and first `max` bytes (a ranged read);
    /// `None` when nothing is stored under `key`.
    async fn read_head(&self, key: &str, max: u64) -> Result<Option<ObjectHead>, BoxError>;
}

/// The start of a stored file: enough to tell its real type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    pub content_type: Option<String>,
    pub head: Vec<u8>,
}

/// The business's order source. Contract: `Ok(None)` when the order does not
/// exist; `Err` when the source cannot answer (down, slow, malformed answer).
pub trait OrderLookup: Send + Sync {
    async fn status(&self, order: &str) -> Result<Option<String>, BoxError>;
}

/// A vision service (Amazon Rekognition). Contract: never fails as a whole;
/// a part that could not be analysed is named in `VisionReport::partial`, and
/// a transient failure of every part is reported as `Err` so the job is retried.
pub trait Vision: Send + Sync {
    async fn analyse(&self, image: &[u8]) -> Result<crate::domain::vision::VisionReport, BoxError>;
}

/// Where a browser uploads one file, and the headers its `PUT` must carry
/// (they are part of the link's signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUpload {
    pub url: String,
    pub headers: Vec<(String, String)>,
}
