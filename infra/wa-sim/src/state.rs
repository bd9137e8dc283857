//! Shared in-memory state of one running simulator: simulated clock, customers and their inboxes, media, faults and limits.

use crate::media::Media;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a customer message keeps the customer service window open.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a media download URL stays valid.
pub const MEDIA_URL_TTL_S: i64 = 5 * 60;

/// Everything one simulator instance shares between its handlers.
pub struct Shared {
    /// Base URL of this simulator, e.g. `http://127.0.0.1:3001`.
    pub base_url: String,
    /// HMAC key for webhook signatures.
    pub app_secret: String,
    /// Bearer token the Graph side accepts.
    pub access_token: String,
    /// The business phone number id.
    pub phone_number_id: String,
    /// The business display phone number.
    pub display_phone_number: String,
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
        Ok(Self {
            base_url,
            app_secret: config.app_secret.clone(),
            access_token: config.access_token.clone(),
            phone_number_id: config.phone_number_id.clone(),
            display_phone_number: config.display_phone_number.clone(),
            waba_id: config.waba_id.clone(),
            webhook_url: RwLock::new(config.webhook_url.clone()),
            status_callbacks: AtomicBool::new(config.status_callbacks),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
            inner: Mutex::new(Inner::default()),
        })
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

/// The mutable part of the state.
#[derive(Default)]
pub struct Inner {
    /// Offset of the simulated clock from the real one, in milliseconds.
    pub clock_offset_ms: i64,
    /// Customers by wa_id.
    pub customers: HashMap<String, Customer>,
    /// Ids of messages customers sent (valid for mark-as-read), with their sender.
    pub inbound_ids: HashMap<String, String>,
    /// Ids of messages the business sent, with their recipient.
    pub outbound_ids: HashMap<String, String>,
    /// Media by id.
    pub media: HashMap<String, Media>,
    /// Faults and limits in force.
    pub faults: Faults,
    /// Simulated times (ms) of recent accepted sends, for the throughput limit.
    pub recent_sends: VecDeque<i64>,
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

    /// The customer `wa_id`, created on first use.
    pub fn customer(&mut self, wa_id: &str) -> &mut Customer {
        let burst = self.faults.limits.pair_burst as f64;
        let now = self.now_ms();
        self.customers.entry(wa_id.to_string()).or_insert_with(|| Customer {
            profile_name: None,
            last_inbound_ms: None,
            inbox: Vec::new(),
            deliveries: Vec::new(),
            read_marks: Vec::new(),
            bucket_tokens: burst,
            bucket_at_ms: now,
        })
    }

    /// Clears everything but the configuration.
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

/// One customer as the simulator knows them.
pub struct Customer {
    /// Display name sent in webhooks' `contacts[].profile.name`.
    pub profile_name: Option<String>,
    /// Simulated time of the customer's last message (opens the 24 h window).
    pub last_inbound_ms: Option<i64>,
    /// What the business sent to this customer, in order.
    pub inbox: Vec<InboxEntry>,
    /// Webhook deliveries made for this customer.
    pub deliveries: Vec<Value>,
    /// Ids of this customer's messages the business marked as read.
    pub read_marks: Vec<String>,
    /// Pair-rate bucket tokens.
    pub bucket_tokens: f64,
    /// Simulated time the bucket was last refilled.
    pub bucket_at_ms: i64,
}

/// One message the business sent, as listed by `GET /_sim/customers/{wa_id}/inbox`.
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
    /// sent, delivered or read.
    pub status: String,
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
    /// Only sends to this recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}
