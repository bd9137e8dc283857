//! Webhook deliveries from the Cloud API: the envelope, split into one queue
//! message per customer message and per status, keeping every field that arrives.

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

/// One item of `inbound.fifo`: a customer message or a delivery status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InboundEvent {
    Message(InboundMessage),
    Status(DeliveryStatus),
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
        }
    }

    /// FIFO deduplication id: the wamid for a message; wamid + status for a status.
    pub fn dedupe_key(&self) -> String {
        match self {
            InboundEvent::Message(m) => fifo_key(&m.wamid),
            InboundEvent::Status(s) => fifo_key(&format!("{}:{}", s.wamid, s.status)),
        }
    }
}

/// A customer message, with the raw message object kept whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub business: BusinessNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    /// `from`, else `from_user_id`, else the delivery's single contact. None when
    /// the payload names nobody (kept rather than dropped).
    #[serde(default)]
    pub customer: Option<CustomerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    pub wamid: String,
    /// Unix seconds, as Meta stamped the message (0 when absent).
    pub timestamp: i64,
    pub message_type: String,
    pub message: Value,
}

impl InboundMessage {
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

fn read_messages_change(value: &Value, waba_id: Option<&str>, out: &mut Delivery) {
    let metadata = value.get("metadata");
    let business = BusinessNumber {
        phone_number_id: metadata
            .and_then(|m| m.get("phone_number_id"))
            .map(text_of)
            .unwrap_or_default(),
        display_phone_number: metadata.and_then(|m| m.get("display_phone_number")).map(text_of),
    };
    let contacts = array(value, "contacts");
    let single_contact = (contacts.len() == 1).then(|| &contacts[0]);

    for message in array(value, "messages") {
        let from = ["from", "from_user_id"]
            .iter()
            .find_map(|k| message.get(*k).map(text_of))
            .or_else(|| single_contact.and_then(contact_id));
        let customer = from.and_then(|f| CustomerId::parse(f).ok());
        let contact_name = contacts
            .iter()
            .find(|c| {
                customer
                    .as_ref()
                    .is_some_and(|id| contact_id(c).as_deref() == Some(id.as_str()))
            })
            .or(single_contact)
            .and_then(|c| c.pointer("/profile/name"))
            .map(text_of);
        let message_type = message
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| infer_type(message));
        out.events.push(InboundEvent::Message(InboundMessage {
            business: business.clone(),
            waba_id: waba_id.map(str::to_owned),
            customer,
            contact_name,
            wamid: message.get("id").map(text_of).unwrap_or_else(|| synthetic_id(message)),
            timestamp: message.get("timestamp").map(number_of).unwrap_or(0),
            message_type,
            message: message.clone(),
        }));
    }

    for status in array(value, "statuses") {
        let recipient = ["recipient_id", "recipient_user_id"]
            .iter()
            .find_map(|k| status.get(*k).map(text_of))
            .and_then(|r| CustomerId::parse(r).ok());
        out.events.push(InboundEvent::Status(DeliveryStatus {
            business: business.clone(),
            wamid: status.get("id").map(text_of).unwrap_or_else(|| synthetic_id(status)),
            status: status.get("status").map(text_of).unwrap_or_else(|| "unknown".into()),
            timestamp: status.get("timestamp").map(number_of).unwrap_or(0),
            recipient,
            errors: array(status, "errors").to_vec(),
            raw: status.clone(),
        }));
    }

    out.errors.extend(array(value, "errors").iter().cloned());
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn contact_id(contact: &Value) -> Option<String> {
    contact.get("wa_id").or_else(|| contact.get("user_id")).map(text_of)
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
    /// Anything else (order, system, edit, revoke, unsupported…), by type.
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
                    _ => MessageContent::Other(format!("interactive.{kind}")),
                }
            }
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
            "contacts" => MessageContent::Contacts,
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
            MessageContent::Other(kind) => format!("[{kind}]"),
        }
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
            json!({"messages":[{"from":"111","id":"w1","type":"text","text":{"body":"x"}}],
            "statuses":[{"id":"w0","status":"delivered","recipient_id":"111"}]}),
        );
        let d = parse_delivery(&body).unwrap();
        assert_eq!(d.events[0].group_key(), "111");
        assert_eq!(d.events[1].group_key(), "111");
        assert_eq!(d.events[0].dedupe_key(), "w1");
        assert_eq!(d.events[1].dedupe_key(), "w0:delivered");
    }
}
