//! Webhook deliveries from the Cloud API: the envelope, split into one queue
//! message per customer message and per status, keeping every field that arrives.

use crate::domain::identity::{Handle, ParentUserId, Phone, Sender, UserId, Username};
use crate::domain::ids::{CustomerId, fifo_key};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The business number a delivery was addressed to (a deployment may serve several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BusinessNumber {
    pub phone_number_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
}

/// What the bot receives: from `inbound.fifo` a customer message, a delivery
/// status, or a message the business sent from the WhatsApp Business app
/// (coexistence); from the turns queue, a customer's turn falling due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InboundEvent {
    Message(InboundMessage),
    Status(DeliveryStatus),
    Echo(EchoMessage),
    TurnDue(TurnDue),
    AgentOpens(AgentOpens),
}

/// An agent writes first to a customer who opted in (`POST
/// /api/customers/{id}/messages`). The bot, which keeps the customer's
/// conversation, puts it on the customer's open ticket or on `ticket_id`
/// (handed to humans, so the bot stays silent when the customer answers),
/// then has `tickets` send the template there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentOpens {
    pub customer: CustomerId,
    pub phone_number_id: String,
    /// The ticket to open when the conversation has no open one.
    pub ticket_id: crate::domain::ids::TicketId,
    pub agent: String,
    pub team: String,
    pub tier: u8,
    pub body: crate::domain::outbound::OutboundBody,
    pub at_ms: i64,
    pub request_id: String,
}

/// A customer's messages have waited the quiet period: if no newer message
/// arrived since (`last_wamid` is still the last pending one), the bot answers
/// them together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnDue {
    pub customer: CustomerId,
    pub phone_number_id: String,
    pub last_wamid: String,
}

/// A message the webhook acknowledged that names no customer (no phone, no
/// valid user id): kept whole where an admin can read it, never dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unattributed {
    pub business: BusinessNumber,
    #[serde(default)]
    pub waba_id: Option<String>,
    pub wamid: String,
    /// When the bot received it.
    pub received_at_ms: i64,
    pub message_type: String,
    /// Why it names nobody.
    pub reason: String,
    /// The message object as Meta sent it.
    pub raw: Value,
}

impl InboundEvent {
    /// FIFO message group: one customer's events stay in order.
    pub fn group_key(&self) -> String {
        match self {
            InboundEvent::Message(m) => match &m.customer {
                Some(c) => fifo_key(c.as_str()),
                None => fifo_key(&format!("business-{}", m.business.phone_number_id)),
            },
            InboundEvent::Status(s) => match &s.recipient {
                Some(c) => fifo_key(c.as_str()),
                None => fifo_key(&s.wamid),
            },
            InboundEvent::Echo(e) => match e.to.first_key() {
                Some(c) => fifo_key(c.as_str()),
                None => fifo_key(&format!("business-{}", e.business.phone_number_id)),
            },
            InboundEvent::TurnDue(t) => fifo_key(t.customer.as_str()),
            InboundEvent::AgentOpens(a) => fifo_key(a.customer.as_str()),
        }
    }

    /// FIFO deduplication id: the wamid for a message; wamid + status for a status.
    pub fn dedupe_key(&self) -> String {
        match self {
            InboundEvent::Message(m) => fifo_key(&m.wamid),
            InboundEvent::Status(s) => fifo_key(&format!("{}:{}", s.wamid, s.status)),
            InboundEvent::Echo(e) => fifo_key(&format!("echo:{}", e.wamid)),
            InboundEvent::TurnDue(t) => fifo_key(&format!("turn:{}", t.last_wamid)),
            InboundEvent::AgentOpens(a) => fifo_key(&format!("opens:{}", a.request_id)),
        }
    }
}

/// A customer message, with the raw message object kept whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub business: BusinessNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    /// The sender's first key (BSUID, else phone); the bot resolves the
    /// customer it belongs to through the identity map. None when the payload
    /// names nobody (kept rather than dropped).
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// Every handle the message and its contact carry, each checked.
    #[serde(default)]
    pub sender: Sender,
    /// Handles that were present but not valid (why a message names nobody).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_errors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    pub wamid: String,
    /// Unix seconds, as Meta stamped the message (0 when absent).
    pub timestamp: i64,
    pub message_type: String,
    pub message: Value,
}

impl InboundMessage {
    /// A message queued before senders were kept (during a deployment) names
    /// its customer only: its sender is read from that key.
    pub fn with_legacy_sender(mut self) -> Self {
        if self.sender.is_anonymous()
            && let Some(handle) = self.customer.as_ref().and_then(|c| Handle::parse(c.as_str()))
        {
            match handle {
                Handle::Phone(p) => self.sender.phone = Some(p),
                Handle::User(u) => self.sender.user_id = Some(u),
                Handle::Parent(p) => self.sender.parent_user_id = Some(p),
            }
        }
        self
    }

    /// What the message says, for the bot and the timeline.
    pub fn content(&self) -> MessageContent {
        MessageContent::of(&self.message_type, &self.message)
    }
}

/// A status callback for a message the business sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    pub business: BusinessNumber,
    pub wamid: String,
    pub status: String,
    pub timestamp: i64,
    #[serde(default)]
    pub recipient: Option<CustomerId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Value>,
    pub raw: Value,
}

impl DeliveryStatus {
    /// What Meta charges for the message (`pricing_model`, `type`, `category`), when the status says.
    pub fn pricing(&self) -> Option<Pricing> {
        Pricing::of(self.raw.get("pricing")?)
    }
}

/// The price of a message as status webhooks report it (per-message pricing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    /// `PMP` (per-message pricing) since 2025-07-01.
    #[serde(default)]
    pub model: String,
    /// `regular` (billed), `free_customer_service`, `free_entry_point`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `service`, `utility`, `marketing`, `authentication`…
    #[serde(default)]
    pub category: String,
}

impl Pricing {
    fn of(v: &Value) -> Option<Pricing> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let category = text("category");
        (!category.is_empty()).then(|| Pricing {
            model: text("pricing_model"),
            // `billable` is deprecated; without a type it tells whether it was charged.
            kind: match text("type") {
                t if !t.is_empty() => t,
                _ if v.get("billable") == Some(&Value::Bool(false)) => "free".into(),
                _ => "regular".into(),
            },
            category,
        })
    }

    /// Charged at the category's rate.
    pub fn billable(&self) -> bool {
        self.kind == "regular"
    }
}

/// A message the business sent from the WhatsApp Business app on a number it
/// also uses through the API (`smb_message_echoes`): kept on the customer's
/// ticket; it never opens the 24-hour window and never reaches the bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EchoMessage {
    pub business: BusinessNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    /// The customer it was sent to.
    pub to: Sender,
    pub wamid: String,
    pub timestamp: i64,
    pub message_type: String,
    pub message: Value,
}

/// A change of another field (`account_update`, template status…): acknowledged and logged.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherNotification {
    pub field: String,
    pub waba_id: Option<String>,
}

/// Everything one webhook delivery carried.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Delivery {
    pub events: Vec<InboundEvent>,
    pub others: Vec<OtherNotification>,
    /// `value.errors` entries (problems Meta reports about the business number).
    pub errors: Vec<Value>,
}

/// Why a body is not a WhatsApp webhook envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("`object` must be \"whatsapp_business_account\"")]
    WrongObject,
    #[error("`entry` must be an array")]
    NoEntries,
    #[error("entry {0}: `changes` must be an array")]
    NoChanges(usize),
}

/// Splits a delivery into its events. Every entry, change, message and status is
/// read (never only `[0]`); unknown types and fields are kept, not refused.
pub fn parse_delivery(body: &[u8]) -> Result<Delivery, EnvelopeError> {
    let root: Value = serde_json::from_slice(body).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
    if root.get("object").and_then(Value::as_str) != Some("whatsapp_business_account") {
        return Err(EnvelopeError::WrongObject);
    }
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(EnvelopeError::NoEntries)?;
    let mut delivery = Delivery::default();
    for (index, entry) in entries.iter().enumerate() {
        let waba_id = entry.get("id").map(text_of);
        let changes = entry
            .get("changes")
            .and_then(Value::as_array)
            .ok_or(EnvelopeError::NoChanges(index))?;
        for change in changes {
            let field = change.get("field").and_then(Value::as_str).unwrap_or("");
            let value = change.get("value").unwrap_or(&Value::Null);
            if field == "messages" {
                read_messages_change(value, waba_id.as_deref(), &mut delivery);
                // Echoes belong in `smb_message_echoes`; one found here is kept all the same.
                read_echoes_change(value, waba_id.as_deref(), &mut delivery);
            } else if field == "smb_message_echoes" {
                read_echoes_change(value, waba_id.as_deref(), &mut delivery);
            } else {
                delivery.others.push(OtherNotification {
                    field: if field.is_empty() {
                        "<none>".into()
                    } else {
                        field.into()
                    },
                    waba_id: waba_id.clone(),
                });
            }
        }
    }
    Ok(delivery)
}

fn business_of(value: &Value) -> BusinessNumber {
    let metadata = value.get("metadata");
    BusinessNumber {
        phone_number_id: metadata
            .and_then(|m| m.get("phone_number_id"))
            .map(text_of)
            .unwrap_or_default(),
        display_phone_number: metadata.and_then(|m| m.get("display_phone_number")).map(text_of),
    }
}

/// Reads the handles of one person from `fields` of `item` (`from`,
/// `from_user_id`…), completed by their entry in `contacts` (matched by phone
/// or user id, else the delivery's single contact). Returns the sender, the
/// contact's profile name, and the handles that were present but invalid.
fn sender_of(item: &Value, fields: [&str; 3], contacts: &[Value]) -> (Sender, Option<String>, Vec<String>) {
    let [phone_field, user_field, parent_field] = fields;
    let mut errors = Vec::new();
    let mut sender = Sender::default();
    let mut read = |field: &str, value: &Value, sender: &mut Sender| {
        let text = text_of(value);
        let parsed = match field {
            "phone" => Phone::parse(&text).map(|p| sender.phone = Some(p)),
            "user" => UserId::parse(&text).map(|u| sender.user_id = Some(u)),
            "parent" => ParentUserId::parse(&text).map(|p| sender.parent_user_id = Some(p)),
            _ => Username::parse(&text).map(|n| sender.username = Some(n)),
        };
        if let Err(e) = parsed {
            errors.push(format!("{field}: {e}"));
        }
    };
    if let Some(v) = item.get(phone_field) {
        // Some payloads put a BSUID in `from`.
        match UserId::parse(&text_of(v)) {
            Ok(user) => sender.user_id = Some(user),
            Err(_) => read("phone", v, &mut sender),
        }
    }
    if let Some(v) = item.get(user_field) {
        read("user", v, &mut sender);
    }
    if let Some(v) = item.get(parent_field) {
        read("parent", v, &mut sender);
    }
    let matches = |c: &&Value| {
        let same = |key: &str, mine: Option<&str>| mine.is_some() && c.get(key).map(text_of).as_deref() == mine;
        same("wa_id", sender.phone.as_ref().map(Phone::as_str))
            || same("user_id", sender.user_id.as_ref().map(UserId::as_str))
    };
    let contact = contacts
        .iter()
        .find(matches)
        .or_else(|| (contacts.len() == 1).then(|| &contacts[0]));
    if let Some(contact) = contact {
        for (key, field) in [("wa_id", "phone"), ("user_id", "user"), ("parent_user_id", "parent")] {
            let missing = match field {
                "phone" => sender.phone.is_none(),
                "user" => sender.user_id.is_none(),
                _ => sender.parent_user_id.is_none(),
            };
            if let Some(v) = contact.get(key).filter(|_| missing) {
                read(field, v, &mut sender);
            }
        }
        if let Some(v) = contact.pointer("/profile/username") {
            read("username", v, &mut sender);
        }
    }
    let name = contact.and_then(|c| c.pointer("/profile/name")).map(text_of);
    (sender, name, errors)
}

fn message_type_of(message: &Value) -> String {
    message
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| infer_type(message))
}

fn read_messages_change(value: &Value, waba_id: Option<&str>, out: &mut Delivery) {
    let business = business_of(value);
    let contacts = array(value, "contacts");

    for message in array(value, "messages") {
        let (sender, contact_name, identity_errors) =
            sender_of(message, ["from", "from_user_id", "from_parent_user_id"], contacts);
        out.events.push(InboundEvent::Message(InboundMessage {
            business: business.clone(),
            waba_id: waba_id.map(str::to_owned),
            customer: sender.first_key(),
            sender,
            identity_errors,
            contact_name,
            wamid: message.get("id").map(text_of).unwrap_or_else(|| synthetic_id(message)),
            timestamp: message.get("timestamp").map(number_of).unwrap_or(0),
            message_type: message_type_of(message),
            message: message.clone(),
        }));
    }

    for status in array(value, "statuses") {
        let (recipient, _, _) = sender_of(
            status,
            ["recipient_id", "recipient_user_id", "recipient_parent_user_id"],
            &[],
        );
        out.events.push(InboundEvent::Status(DeliveryStatus {
            business: business.clone(),
            wamid: status.get("id").map(text_of).unwrap_or_else(|| synthetic_id(status)),
            status: status.get("status").map(text_of).unwrap_or_else(|| "unknown".into()),
            timestamp: status.get("timestamp").map(number_of).unwrap_or(0),
            recipient: recipient.first_key(),
            errors: array(status, "errors").to_vec(),
            raw: status.clone(),
        }));
    }

    out.errors.extend(array(value, "errors").iter().cloned());
}

/// `smb_message_echoes`: what the business sent from the WhatsApp Business app.
fn read_echoes_change(value: &Value, waba_id: Option<&str>, out: &mut Delivery) {
    let business = business_of(value);
    for echo in array(value, "message_echoes") {
        let (to, _, _) = sender_of(echo, ["to", "to_user_id", "to_parent_user_id"], &[]);
        out.events.push(InboundEvent::Echo(EchoMessage {
            business: business.clone(),
            waba_id: waba_id.map(str::to_owned),
            to,
            wamid: echo.get("id").map(text_of).unwrap_or_else(|| synthetic_id(echo)),
            timestamp: echo.get("timestamp").map(number_of).unwrap_or(0),
            message_type: message_type_of(echo),
            message: echo.clone(),
        }));
    }
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Meta sends ids and timestamps as strings; some libraries' payloads use numbers.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn number_of(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// A message without `type` is named after the content key it carries.
fn infer_type(message: &Value) -> String {
    const KINDS: [&str; 14] = [
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "system",
        "referral",
    ];
    KINDS
        .iter()
        .find(|k| message.get(**k).is_some())
        .map(|k| (*k).to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// An id for a message that arrived without one, stable across Meta's retries.
fn synthetic_id(v: &Value) -> String {
    format!("noid.{}", hex::encode(&Sha256::digest(v.to_string().as_bytes())[..16]))
}

/// What a customer message means, reduced to what the bot acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageContent {
    Text(String),
    /// A reply button or list row, identified by its id (never by its title).
    Choice {
        id: String,
        title: String,
    },
    /// A template quick-reply button (`type: button`).
    QuickReply {
        payload: String,
        text: String,
    },
    Media {
        kind: String,
        caption: Option<String>,
    },
    Reaction {
        to: String,
        emoji: String,
    },
    Location,
    Contacts,
    /// The customer shared their own phone at the business's request
    /// (`contacts` with `origin: "contact_request"`).
    PhoneShared {
        phone: Option<Phone>,
    },
    /// The customer edited an earlier message; the original stays on the timeline.
    Edit {
        original: String,
        text: String,
    },
    /// The customer withdrew an earlier message (its content is no longer shown).
    Revoke {
        original: String,
    },
    /// The answers of a WhatsApp Flow (`nfm_reply`): its `response_json`, read.
    FlowAnswer {
        fields: serde_json::Map<String, Value>,
    },
    /// The customer's answer to a request to call them: `accept` or `reject`,
    /// and until when an accepted permission lasts (unix seconds).
    CallPermission {
        response: String,
        expires_at: Option<i64>,
    },
    /// A message WhatsApp could not pass on, with the type it was (`poll`…).
    Unsupported {
        kind: String,
    },
    /// Anything else (order, system, call permission…), by type.
    Other(String),
}

impl MessageContent {
    pub fn of(message_type: &str, m: &Value) -> Self {
        let s = |p: &str| m.pointer(p).and_then(Value::as_str).unwrap_or("").to_owned();
        match message_type {
            "text" => MessageContent::Text(s("/text/body")),
            "interactive" => {
                let kind = s("/interactive/type");
                match kind.as_str() {
                    "button_reply" => MessageContent::Choice {
                        id: s("/interactive/button_reply/id"),
                        title: s("/interactive/button_reply/title"),
                    },
                    "list_reply" => MessageContent::Choice {
                        id: s("/interactive/list_reply/id"),
                        title: s("/interactive/list_reply/title"),
                    },
                    // `response_json` is a JSON string; a broken one keeps its text.
                    "nfm_reply" => MessageContent::FlowAnswer {
                        fields: match serde_json::from_str::<Value>(&s("/interactive/nfm_reply/response_json")) {
                            Ok(Value::Object(fields)) => fields,
                            _ => {
                                let mut raw = serde_json::Map::new();
                                raw.insert(
                                    "response_json".into(),
                                    Value::String(s("/interactive/nfm_reply/response_json")),
                                );
                                raw
                            }
                        },
                    },
                    "call_permission_reply" => call_permission(m.pointer("/interactive/call_permission_reply")),
                    _ => MessageContent::Other(format!("interactive.{kind}")),
                }
            }
            "call_permission_reply" => call_permission(m.pointer("/call_permission_reply")),
            "button" => MessageContent::QuickReply {
                payload: s("/button/payload"),
                text: s("/button/text"),
            },
            "image" | "video" | "audio" | "document" | "sticker" => MessageContent::Media {
                kind: message_type.to_owned(),
                caption: m
                    .pointer(&format!("/{message_type}/caption"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            "reaction" => MessageContent::Reaction {
                to: s("/reaction/message_id"),
                emoji: s("/reaction/emoji"),
            },
            "location" => MessageContent::Location,
            "contacts" => {
                let shared = m.pointer("/contacts").and_then(Value::as_array).and_then(|c| {
                    c.iter()
                        .find(|c| c.get("origin").and_then(Value::as_str) == Some("contact_request"))
                });
                match shared {
                    Some(contact) => MessageContent::PhoneShared {
                        phone: contact
                            .pointer("/phones")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .find_map(|p| {
                                let number = p.get("wa_id").or_else(|| p.get("phone"))?;
                                Phone::parse(&text_of(number)).ok()
                            }),
                    },
                    None => MessageContent::Contacts,
                }
            }
            "edit" => MessageContent::Edit {
                original: s("/edit/original_message_id"),
                text: m
                    .pointer("/edit/message/text/body")
                    .or_else(|| m.pointer("/edit/text/body"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
            "revoke" => MessageContent::Revoke {
                original: s("/revoke/original_message_id"),
            },
            "unsupported" => MessageContent::Unsupported {
                kind: m
                    .pointer("/unsupported/type")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_owned(),
            },
            other => MessageContent::Other(other.to_owned()),
        }
    }

    /// A short human-readable form for the timeline (the full message is kept beside it).
    pub fn summary(&self) -> String {
        match self {
            MessageContent::Text(t) => t.clone(),
            MessageContent::Choice { title, id } => format!("[choice] {title} ({id})"),
            MessageContent::QuickReply { text, .. } => format!("[button] {text}"),
            MessageContent::Media { kind, caption } => match caption {
                Some(c) => format!("[{kind}] {c}"),
                None => format!("[{kind}]"),
            },
            MessageContent::Reaction { emoji, .. } if emoji.is_empty() => "[reaction removed]".into(),
            MessageContent::Reaction { emoji, .. } => format!("[reaction] {emoji}"),
            MessageContent::Location => "[location]".into(),
            MessageContent::Contacts => "[contacts]".into(),
            MessageContent::PhoneShared { phone: Some(p) } => format!("[shared their phone number] {}", p.masked()),
            MessageContent::PhoneShared { phone: None } => "[answered the phone-number request]".into(),
            MessageContent::Edit { text, .. } => format!("[edited] {text}"),
            MessageContent::Revoke { .. } => "[withdrew a message]".into(),
            MessageContent::FlowAnswer { fields } => {
                let answers: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => format!("{k}: {s}"),
                        other => format!("{k}: {other}"),
                    })
                    .collect();
                format!("[form] {}", answers.join(", "))
            }
            MessageContent::CallPermission { response, .. } => match response.as_str() {
                "accept" => "[call permission] accepted".into(),
                "reject" => "[call permission] declined".into(),
                other => format!("[call permission] {other}"),
            },
            MessageContent::Unsupported { kind } => format!("[unsupported: {kind}]"),
            MessageContent::Other(kind) => format!("[{kind}]"),
        }
    }
}

fn call_permission(reply: Option<&Value>) -> MessageContent {
    let reply = reply.unwrap_or(&Value::Null);
    MessageContent::CallPermission {
        response: reply
            .get("response")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned(),
        expires_at: reply.get("expiration_timestamp").map(number_of).filter(|t| *t > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(value: Value) -> Vec<u8> {
        json!({"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":value}]}]})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn every_message_and_status_of_every_change_and_entry_is_read() {
        let body = json!({"object":"whatsapp_business_account","entry":[
            {"id":"1","changes":[
                {"field":"messages","value":{"metadata":{"phone_number_id":"P1"},"messages":[
                    {"from":"111","id":"w1","timestamp":"10","type":"text","text":{"body":"a"}},
                    {"from":"222","id":"w2","timestamp":"11","type":"text","text":{"body":"b"}}]}},
                {"field":"messages","value":{"metadata":{"phone_number_id":"P1"},"statuses":[
                    {"id":"w9","status":"read","timestamp":"12","recipient_id":"111"}]}}]},
            {"id":"2","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"P2"},"messages":[
                {"from":"333","id":"w3","timestamp":13,"type":"image","image":{"id":"m1","caption":"broken"}}]}}]}]});
        let d = parse_delivery(body.to_string().as_bytes()).unwrap();
        assert_eq!(d.events.len(), 4);
        let InboundEvent::Message(third) = &d.events[3] else {
            panic!("expected a message")
        };
        assert_eq!(third.business.phone_number_id, "P2");
        assert_eq!(third.timestamp, 13);
        assert_eq!(
            third.content(),
            MessageContent::Media {
                kind: "image".into(),
                caption: Some("broken".into())
            }
        );
    }

    #[test]
    fn a_message_without_from_takes_the_single_contact_and_keeps_its_name() {
        let body = envelope(json!({"metadata":{"phone_number_id":"P"},
            "contacts":[{"profile":{"name":"Ana"},"user_id":"US.123"}],
            "messages":[{"id":"w","timestamp":"1","type":"text","text":{"body":"hi"}}]}));
        let d = parse_delivery(&body).unwrap();
        let InboundEvent::Message(m) = &d.events[0] else {
            panic!("expected a message")
        };
        assert_eq!(m.customer.as_ref().map(CustomerId::as_str), Some("US.123"));
        assert_eq!(m.contact_name.as_deref(), Some("Ana"));
    }

    #[test]
    fn other_fields_are_acknowledged_not_treated_as_messages() {
        let body = json!({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
            {"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]});
        let d = parse_delivery(body.to_string().as_bytes()).unwrap();
        assert!(d.events.is_empty());
        assert_eq!(d.others[0].field, "account_update");
    }

    #[test]
    fn a_body_that_is_not_an_envelope_is_refused_with_the_reason() {
        assert!(matches!(parse_delivery(b"{"), Err(EnvelopeError::NotJson(_))));
        assert_eq!(
            parse_delivery(b"{\"object\":\"page\",\"entry\":[]}"),
            Err(EnvelopeError::WrongObject)
        );
        assert_eq!(
            parse_delivery(b"{\"object\":\"whatsapp_business_account\"}"),
            Err(EnvelopeError::NoEntries)
        );
        assert_eq!(parse_delivery(b"[]"), Err(EnvelopeError::WrongObject));
    }

    #[test]
    fn a_message_without_a_type_is_named_after_its_content() {
        let body = envelope(json!({"messages":[{"from":"1","id":"w","location":{"latitude":1.0}}]}));
        let d = parse_delivery(&body).unwrap();
        let InboundEvent::Message(m) = &d.events[0] else {
            panic!("expected a message")
        };
        assert_eq!(m.message_type, "location");
    }

    #[test]
    fn replies_are_routed_by_id_not_title() {
        let m = json!({"interactive":{"type":"button_reply","button_reply":{"id":"menu.agent","title":"Anything"}}});
        assert_eq!(
            MessageContent::of("interactive", &m),
            MessageContent::Choice {
                id: "menu.agent".into(),
                title: "Anything".into()
            }
        );
    }

    #[test]
    fn queue_keys_group_by_customer_and_dedupe_by_wamid_and_status() {
        let body = envelope(
            json!({"messages":[{"from":"15551230001","id":"w1","type":"text","text":{"body":"x"}}],
            "statuses":[{"id":"w0","status":"delivered","recipient_id":"15551230001"}]}),
        );
        let d = parse_delivery(&body).unwrap();
        assert_eq!(d.events[0].group_key(), "15551230001");
        assert_eq!(d.events[1].group_key(), "15551230001");
        assert_eq!(d.events[0].dedupe_key(), "w1");
        assert_eq!(d.events[1].dedupe_key(), "w0:delivered");
    }

    fn only_message(value: Value) -> InboundMessage {
        match parse_delivery(&envelope(value)).unwrap().events.remove(0) {
            InboundEvent::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn a_2026_message_carries_the_phone_the_bsuid_and_the_username_and_is_grouped_by_the_bsuid() {
        let m = only_message(json!({"metadata":{"phone_number_id":"P"},
            "contacts":[{"profile":{"name":"Ana","username":"@ana.s"},"wa_id":"15551230001","user_id":"US.13491208655302741918"}],
            "messages":[{"from":"15551230001","from_user_id":"US.13491208655302741918","id":"w","timestamp":"1","type":"text","text":{"body":"hi"}}]}));

        assert_eq!(m.sender.phone.as_ref().map(Phone::as_str), Some("15551230001"));
        assert_eq!(
            m.sender.user_id.as_ref().map(UserId::as_str),
            Some("US.13491208655302741918")
        );
        assert_eq!(m.sender.username.as_ref().map(Username::as_str), Some("@ana.s"));
        assert_eq!(
            m.customer.as_ref().map(CustomerId::as_str),
            Some("US.13491208655302741918")
        );
        assert_eq!(InboundEvent::Message(m).group_key(), "US.13491208655302741918");
    }

    #[test]
    fn a_person_who_hid_their_phone_is_named_by_their_bsuid_alone() {
        let m = only_message(
            json!({"contacts":[{"profile":{"name":"Ana","username":"@ana"},"user_id":"US.134912"}],
            "messages":[{"from_user_id":"US.134912","id":"w","type":"text","text":{"body":"hi"}}]}),
        );

        assert_eq!(m.sender.phone, None);
        assert_eq!(m.customer.as_ref().map(CustomerId::as_str), Some("US.134912"));
        assert_eq!(m.contact_name.as_deref(), Some("Ana"));
    }

    #[test]
    fn a_bsuid_of_the_documented_maximum_length_is_kept_whole() {
        let longest = format!("BR.{}", "x9".repeat(64));
        let m =
            only_message(json!({"messages":[{"from_user_id": longest,"id":"w","type":"text","text":{"body":"hi"}}]}));

        assert_eq!(m.customer.as_ref().map(CustomerId::as_str), Some(longest.as_str()));
        assert!(m.identity_errors.is_empty());
    }

    #[test]
    fn an_id_that_breaks_its_format_is_noted_and_names_nobody() {
        let too_long = format!("BR.{}", "x".repeat(129));
        let m =
            only_message(json!({"messages":[{"from_user_id": too_long,"id":"w","type":"text","text":{"body":"hi"}}]}));

        assert!(m.sender.is_anonymous());
        assert_eq!(m.customer, None);
        assert_eq!(m.identity_errors.len(), 1, "{:?}", m.identity_errors);
    }

    #[test]
    fn echoes_of_the_business_app_are_read_as_echoes_not_as_customer_messages() {
        let body = json!({"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"smb_message_echoes",
            "value":{"metadata":{"phone_number_id":"P","display_phone_number":"15550000001"},
            "message_echoes":[{"from":"15550000001","to":"15551230001","id":"wamid.E1","timestamp":"5","type":"text","text":{"body":"On my way"}}]}}]}]});

        let d = parse_delivery(body.to_string().as_bytes()).unwrap();

        let [InboundEvent::Echo(echo)] = &d.events[..] else {
            panic!("{:?}", d.events)
        };
        assert_eq!(echo.to.phone.as_ref().map(Phone::as_str), Some("15551230001"));
        assert_eq!((echo.wamid.as_str(), echo.timestamp), ("wamid.E1", 5));
        assert_eq!(d.events[0].group_key(), "15551230001");
    }

    #[test]
    fn a_status_says_what_the_message_cost() {
        let body = envelope(
            json!({"statuses":[{"id":"w0","status":"sent","recipient_user_id":"US.134912",
            "pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"service"}}]}),
        );
        let InboundEvent::Status(s) = &parse_delivery(&body).unwrap().events[0] else {
            panic!("a status")
        };

        let pricing = s.pricing().unwrap();
        assert_eq!((pricing.model.as_str(), pricing.category.as_str()), ("PMP", "service"));
        assert!(pricing.billable());
        assert_eq!(s.recipient.as_ref().map(CustomerId::as_str), Some("US.134912"));
    }

    #[test]
    fn an_echo_found_under_the_messages_field_is_kept_as_an_echo() {
        let body = envelope(
            json!({"messages":[{"from":"15551230002","id":"w1","type":"text","text":{"body":"hi"}}],
            "message_echoes":[{"from":"15550000001","to":"15551230002","id":"e1","type":"text","text":{"body":"hello"}}]}),
        );

        let events = parse_delivery(&body).unwrap().events;

        assert!(
            matches!(&events[..], [InboundEvent::Message(m), InboundEvent::Echo(e)] if m.wamid == "w1" && e.wamid == "e1")
        );
    }

    #[test]
    fn a_call_permission_reply_is_read_as_interactive_or_as_its_own_type() {
        let interactive = json!({"type":"interactive","interactive":{"type":"call_permission_reply",
            "call_permission_reply":{"response":"accept","expiration_timestamp":"1795900000","response_source":"user_action"}}});
        let own = json!({"type":"call_permission_reply","call_permission_reply":{"response":"reject"}});

        let accepted = MessageContent::of("interactive", &interactive);
        let rejected = MessageContent::of("call_permission_reply", &own);

        assert_eq!(
            accepted,
            MessageContent::CallPermission {
                response: "accept".into(),
                expires_at: Some(1_795_900_000)
            }
        );
        assert_eq!(accepted.summary(), "[call permission] accepted");
        assert_eq!(rejected.summary(), "[call permission] declined");
    }
}
