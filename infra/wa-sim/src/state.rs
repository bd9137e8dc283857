//! Shared in-memory state of one running simulator: simulated clock, business numbers, customers
//! and their inboxes, media, templates, faults and limits.

use crate::identity::{self, CustomerRef};
use crate::media::Media;
use crate::templates::Templates;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a customer message keeps the customer service window open.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a media download URL stays valid.
pub const MEDIA_URL_TTL_S: i64 = 5 * 60;

/// How long a typing indicator shows, unless a reply comes first (Meta: up to 25 seconds).
pub const TYPING_MS: i64 = 25_000;

/// One business phone number the simulator serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BusinessNumber {
    /// Its phone number id, e.g. `100000000000001`.
    pub phone_number_id: String,
    /// Its display phone number, e.g. `15550000001`.
    pub display_phone_number: String,
}

/// Everything one simulator instance shares between its handlers.
pub struct Shared {
    /// Base URL of this simulator, e.g. `http://127.0.0.1:3001`.
    pub base_url: String,
    /// HMAC key for webhook signatures.
    pub app_secret: String,
    /// Bearer token the Graph side accepts.
    pub access_token: String,
    /// The business numbers; the first is the one customers write to by default.
    pub numbers: Vec<BusinessNumber>,
    /// The WhatsApp Business Account id.
    pub waba_id: String,
    /// Where webhooks go; may change while running.
    pub webhook_url: RwLock<String>,
    /// Whether accepted sends produce sent/delivered/read status webhooks.
    pub status_callbacks: AtomicBool,
    /// Client for webhook deliveries.
    pub http: reqwest::Client,
    inner: Mutex<Inner>,
}

impl Shared {
    /// Builds the state for a simulator reachable at `base_url`.
    pub fn new(config: &crate::SimConfig, base_url: String) -> anyhow::Result<Self> {
        let mut numbers = vec![BusinessNumber {
            phone_number_id: config.phone_number_id.clone(),
            display_phone_number: config.display_phone_number.clone(),
        }];
        for (id, display) in &config.extra_numbers {
            if numbers.iter().any(|n| &n.phone_number_id == id) {
                anyhow::bail!("business phone number id {id} is configured twice");
            }
            numbers.push(BusinessNumber {
                phone_number_id: id.clone(),
                display_phone_number: display.clone(),
            });
        }
        Ok(Self {
            base_url,
            app_secret: config.app_secret.clone(),
            access_token: config.access_token.clone(),
            numbers,
            waba_id: config.waba_id.clone(),
            webhook_url: RwLock::new(config.webhook_url.clone()),
            status_callbacks: AtomicBool::new(config.status_callbacks),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// The first business number, the default one.
    pub fn primary(&self) -> &BusinessNumber {
        &self.numbers[0]
    }

    /// The business number with this phone number id.
    pub fn number(&self, phone_number_id: &str) -> Option<&BusinessNumber> {
        self.numbers.iter().find(|n| n.phone_number_id == phone_number_id)
    }

    /// Locks the mutable state; never held across an await.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current webhook target.
    pub fn webhook_url(&self) -> String {
        self.webhook_url.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the webhook target.
    pub fn set_webhook_url(&self, url: String) {
        *self.webhook_url.write().unwrap_or_else(|e| e.into_inner()) = url;
    }

    /// Whether status webhooks are produced.
    pub fn status_callbacks(&self) -> bool {
        self.status_callbacks.load(Ordering::Relaxed)
    }
}

/// A customer's stable key inside the simulator (phones and BSUIDs may change).
pub type CustomerKey = u64;

/// The mutable part of the state.
#[derive(Default)]
pub struct Inner {
    /// Offset of the simulated clock from the real one, in milliseconds.
    pub clock_offset_ms: i64,
    /// Customers by key, in creation order.
    pub customers: BTreeMap<CustomerKey, Customer>,
    /// The key the next customer gets.
    next_customer: CustomerKey,
    /// Ids of messages customers sent (valid for mark-as-read, edit, revoke), with their sender.
    pub inbound_ids: HashMap<String, CustomerKey>,
    /// Ids of messages the business sent, with their recipient.
    pub outbound_ids: HashMap<String, CustomerKey>,
    /// Media by id.
    pub media: HashMap<String, Media>,
    /// Approved templates.
    pub templates: Templates,
    /// Faults and limits in force.
    pub faults: Faults,
    /// Simulated times (ms) of recent accepted sends, by business phone number id, for the throughput limit.
    pub recent_sends: HashMap<String, VecDeque<i64>>,
}

impl Inner {
    /// Simulated time, in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.clock_offset_ms
    }

    /// Simulated time, in unix seconds.
    pub fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The customer with this phone or BSUID.
    pub fn find(&self, who: &CustomerRef) -> Option<CustomerKey> {
        self.customers
            .iter()
            .find(|(_, c)| match who {
                CustomerRef::Phone(phone) => c.phone.as_deref() == Some(phone.as_str()),
                CustomerRef::UserId(id) => c.user_id == *id,
            })
            .map(|(key, _)| *key)
    }

    /// Whether a customer other than `except` has this BSUID.
    pub fn user_id_taken(&self, user_id: &str, except: Option<CustomerKey>) -> bool {
        self.customers
            .iter()
            .any(|(key, c)| Some(*key) != except && c.user_id == user_id)
    }

    /// Whether a customer other than `except` has this phone.
    pub fn phone_taken(&self, phone: &str, except: Option<CustomerKey>) -> bool {
        self.customers
            .iter()
            .any(|(key, c)| Some(*key) != except && c.phone.as_deref() == Some(phone))
    }

    /// `wanted`, or the next ids after it until one is free.
    pub fn free_user_id(&self, wanted: String) -> String {
        let mut id = wanted;
        while self.user_id_taken(&id, None) {
            id = identity::next_user_id(&id);
        }
        id
    }

    /// The customer with this phone or BSUID, created on first use (a phone gets its default BSUID).
    pub fn find_or_create(&mut self, who: &CustomerRef) -> CustomerKey {
        if let Some(key) = self.find(who) {
            return key;
        }
        let (phone, user_id) = match who {
            CustomerRef::Phone(phone) => (Some(phone.clone()), self.free_user_id(identity::default_user_id(phone))),
            CustomerRef::UserId(id) => (None, id.clone()),
        };
        self.insert(Customer::new(
            phone,
            user_id,
            self.faults.limits.pair_burst as f64,
            self.now_ms(),
        ))
    }

    /// Adds a customer and returns its key.
    pub fn insert(&mut self, customer: Customer) -> CustomerKey {
        let key = self.next_customer;
        self.next_customer += 1;
        self.customers.insert(key, customer);
        key
    }

    /// The customer with this key.
    pub fn get_mut(&mut self, key: CustomerKey) -> Option<&mut Customer> {
        self.customers.get_mut(&key)
    }

    /// Clears everything but the configuration; templates go back to the seed.
    pub fn reset(&mut self) {
        *self = Inner::default();
    }
}

fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// One typing indicator the business showed.
#[derive(Debug, Clone, Serialize)]
pub struct TypingIndication {
    /// The customer message it answers (and marked read).
    pub message_id: String,
    /// The business number that showed it.
    pub phone_number_id: String,
    /// Simulated unix seconds when it was shown.
    pub at: i64,
    /// Simulated unix milliseconds, for telling whether it still shows.
    #[serde(skip)]
    pub at_ms: i64,
}

/// One customer as the simulator knows them.
pub struct Customer {
    /// Phone number in digits, when the customer has one.
    pub phone: Option<String>,
    /// Business-scoped user id, e.g. `US.13491208655302741918`.
    pub user_id: String,
    /// Parent business-scoped user id, e.g. `US.ENT.11815799212886844830`.
    pub parent_user_id: Option<String>,
    /// Username, e.g. `@ana`.
    pub username: Option<String>,
    /// Display name sent in webhooks' `contacts[].profile.name`.
    pub profile_name: Option<String>,
    /// Whether webhooks leave the phone out (`from`, `wa_id`, `recipient_id`).
    pub phone_withheld: bool,
    /// Simulated time of the customer's last message to each business number (opens its 24 h window).
    pub last_inbound_ms: HashMap<String, i64>,
    /// What the business sent to this customer, in order.
    pub inbox: Vec<InboxEntry>,
    /// Webhook deliveries made for this customer.
    pub deliveries: Vec<Value>,
    /// Ids of this customer's messages the business marked as read.
    pub read_marks: Vec<String>,
    /// Typing indicators the business showed this customer, in order.
    pub typing: Vec<TypingIndication>,
    /// Pair-rate bucket tokens.
    pub bucket_tokens: f64,
    /// Simulated time the bucket was last refilled.
    pub bucket_at_ms: i64,
}

impl Customer {
    /// A customer with this phone (if any) and BSUID, a full pair-rate bucket and nothing else.
    pub fn new(phone: Option<String>, user_id: String, bucket_tokens: f64, now_ms: i64) -> Self {
        Self {
            phone,
            user_id,
            parent_user_id: None,
            username: None,
            profile_name: None,
            phone_withheld: false,
            last_inbound_ms: HashMap::new(),
            inbox: Vec::new(),
            deliveries: Vec::new(),
            read_marks: Vec::new(),
            typing: Vec::new(),
            bucket_tokens,
            bucket_at_ms: now_ms,
        }
    }

    /// The phone as webhooks may show it: known and not withheld.
    pub fn visible_phone(&self) -> Option<&str> {
        self.phone.as_deref().filter(|_| !self.phone_withheld)
    }

    /// The phone, or else the BSUID: what wamids are built from.
    pub fn address(&self) -> &str {
        self.phone.as_deref().unwrap_or(&self.user_id)
    }

    /// The profile name, or `Customer <last four digits>`.
    pub fn display_name(&self) -> String {
        self.profile_name.clone().unwrap_or_else(|| {
            let id = self.address();
            let tail: String = id.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            format!("Customer {tail}")
        })
    }

    /// The `contacts[]` entry of webhooks about this customer.
    pub fn contact(&self) -> Value {
        let mut profile = json!({"name": self.display_name()});
        if let Some(username) = &self.username {
            profile["username"] = json!(username);
        }
        let mut contact = Map::new();
        contact.insert("profile".into(), profile);
        if let Some(phone) = self.visible_phone() {
            contact.insert("wa_id".into(), json!(phone));
        }
        contact.insert("user_id".into(), json!(self.user_id));
        if let Some(parent) = &self.parent_user_id {
            contact.insert("parent_user_id".into(), json!(parent));
        }
        Value::Object(contact)
    }

    /// `from`, `from_user_id` and `from_parent_user_id` of a message from this customer.
    pub fn sender_fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        if let Some(phone) = self.visible_phone() {
            fields.insert("from".into(), json!(phone));
        }
        fields.insert("from_user_id".into(), json!(self.user_id));
        if let Some(parent) = &self.parent_user_id {
            fields.insert("from_parent_user_id".into(), json!(parent));
        }
        fields
    }

    /// Whether the 24-hour window with this business number is open at `now_ms`.
    pub fn window_open(&self, phone_number_id: &str, now_ms: i64) -> bool {
        self.last_inbound_ms
            .get(phone_number_id)
            .is_some_and(|t| now_ms - t <= WINDOW_MS)
    }

    /// Whether a typing indicator still shows at `now_ms`: shown less than 25 s ago and not
    /// followed by a message from the business.
    pub fn typing_now(&self, now_ms: i64) -> bool {
        self.typing.last().is_some_and(|t| {
            now_ms - t.at_ms < TYPING_MS
                && !self
                    .inbox
                    .iter()
                    .any(|e| e.timestamp_ms >= t.at_ms && e.phone_number_id == t.phone_number_id)
        })
    }
}

/// Who sent a message in a customer's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Sent through the Graph API.
    Api,
    /// Sent from the WhatsApp Business app (a coexistence echo).
    BusinessApp,
}

/// One message the business sent, as listed by `GET /_sim/customers/{customer}/inbox`.
#[derive(Debug, Clone, Serialize)]
pub struct InboxEntry {
    /// The wamid answered to the business.
    pub id: String,
    /// The message type (text, interactive, template, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The request body as received.
    pub message: Value,
    /// The business number it was sent from.
    pub phone_number_id: String,
    /// Simulated unix seconds when it was accepted.
    pub timestamp: i64,
    /// Simulated unix milliseconds when it was accepted.
    #[serde(skip)]
    pub timestamp_ms: i64,
    /// sent, delivered or read (an echo stays sent).
    pub status: String,
    /// Whether it came through the API or from the WhatsApp Business app.
    pub source: Source,
}

/// Limits in force; each can be changed through `POST /_sim/faults`.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    /// Accepted sends per business number in any 1-second window.
    pub throughput_per_second: u32,
    /// Pair-rate bucket size per recipient.
    pub pair_burst: u32,
    /// Milliseconds to refill one pair-rate token.
    pub pair_refill_ms: u64,
    /// Webhook delivery attempts per delivery.
    pub webhook_attempts: u32,
    /// First retry delay for webhook deliveries, doubled after each failure.
    pub webhook_initial_backoff_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            throughput_per_second: 80,
            pair_burst: 10,
            pair_refill_ms: 6_000,
            webhook_attempts: 6,
            webhook_initial_backoff_ms: 200,
        }
    }
}

/// Faults queued for Graph sends, and the limits.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Faults {
    /// Queued send faults, applied in order.
    pub graph_send: VecDeque<SendFault>,
    /// Limits in force.
    pub limits: Limits,
}

/// One injected fault for `POST /{version}/{phone-number-id}/messages` sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SendFault {
    /// HTTP status to answer (default from the code: 500 for 131000, else 400; 429 → code 130429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Meta error code to answer (default 131000, or 130429 with status 429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// Error message title to use instead of Meta's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Delay before answering; alone (without status or code) the send then succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// How many sends it applies to (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Only sends to this recipient: phone digits (`to`) or BSUID (`recipient`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}
