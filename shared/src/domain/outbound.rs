//! Messages the business sends: what the bot, agents and the SLA sweep ask the
//! `sender` to deliver, checked against the Cloud API's limits before queueing.

use crate::domain::identity::Address;
use crate::domain::ids::{CustomerId, TicketId, fifo_key};
use crate::domain::media::{MediaKind, Refusal};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Who wrote an outbound message or took an action on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Author {
    Customer,
    Bot,
    Agent(String),
    System,
    /// Someone at the business, from the WhatsApp Business app (coexistence).
    BusinessApp,
}

/// A reply button: routed by `id`, shown as `title`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub id: String,
    pub title: String,
}

/// What to send. Each variant maps to one Cloud API message type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundBody {
    Text {
        body: String,
    },
    Buttons {
        body: String,
        buttons: Vec<Button>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
    },
    /// A list message: a button that opens rows grouped in sections.
    List {
        body: String,
        button: String,
        sections: Vec<Section>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
    },
    /// An approved template: the only kind of message allowed once the
    /// customer's 24-hour window has closed.
    Template {
        name: String,
        /// The template's language code as approved ("en", "pt_PT").
        language: String,
        /// Values of the body's `{{1}}`, `{{2}}`… in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parameters: Vec<String>,
        /// Payloads of the template's quick-reply buttons, in the buttons' order:
        /// a tap comes back as a `button` message carrying the payload.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        quick_replies: Vec<String>,
    },
    /// Asks a customer known only by their business-scoped id to share their
    /// phone number with one tap (WhatsApp's own button); the answer comes back
    /// as a `contacts` message with `origin: "contact_request"`.
    RequestContactInfo {
        body: String,
    },
    /// Marks the customer's message read and, with `typing`, shows "typing…"
    /// (up to 25 s, or until the answer). Not a message: not billed, not on the timeline.
    MarkRead {
        message_id: String,
        #[serde(default)]
        typing: bool,
    },
    /// A message that quotes one of the customer's: WhatsApp shows the quoted
    /// message above it (the Cloud API's `context.message_id`).
    Quote {
        message_id: String,
        message: Box<OutboundBody>,
    },
    /// A reaction to one of the customer's messages; an empty emoji removes it.
    Reaction {
        message_id: String,
        emoji: String,
    },
    /// A file from the media bucket: the sender uploads it to the Graph API
    /// (`POST /{phone-number-id}/media`) and sends it by the id it gets back.
    Media {
        kind: SentMedia,
        /// The object's key in the media bucket.
        key: String,
        /// Its type, as checked from its first bytes.
        mime: String,
        /// A document's file name, shown to the customer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        /// The Graph API's id of the uploaded file, set by the sender just before sending.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_id: Option<String>,
    },
}

/// The kinds of file the desk sends (a customer's stickers are not among them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentMedia {
    Image,
    Video,
    Audio,
    Document,
}

impl SentMedia {
    /// The Cloud API's message type.
    pub fn as_str(self) -> &'static str {
        match self {
            SentMedia::Image => "image",
            SentMedia::Video => "video",
            SentMedia::Audio => "audio",
            SentMedia::Document => "document",
        }
    }

    /// The customers' media kind with the same size limit and accepted types.
    pub fn kind(self) -> MediaKind {
        match self {
            SentMedia::Image => MediaKind::Image,
            SentMedia::Video => MediaKind::Video,
            SentMedia::Audio => MediaKind::Audio,
            SentMedia::Document => MediaKind::Document,
        }
    }

    /// The largest file of this kind the desk sends: WhatsApp's limit for
    /// the kind, and at most 16 MB (the sender holds a file in memory while
    /// it uploads it; WhatsApp would take documents up to 100 MB).
    pub fn max_bytes(self) -> u64 {
        self.kind().max_bytes().min(MAX_SENT_FILE)
    }

    /// `Err(Refusal::TooLarge)` over [`SentMedia::max_bytes`], `Err(Refusal::Empty)` at 0.
    pub fn check_size(self, size: u64) -> Result<(), Refusal> {
        match size {
            0 => Err(Refusal::Empty),
            size if size > self.max_bytes() => Err(Refusal::TooLarge {
                limit: self.max_bytes(),
                size,
            }),
            _ => Ok(()),
        }
    }

    /// Whether WhatsApp delivers a file of this (sniffed) type as this kind
    /// (Meta's supported media types for sending).
    pub fn sends(self, mime: &str) -> bool {
        let accepted: &[&str] = match self {
            SentMedia::Image => &["image/jpeg", "image/png"],
            SentMedia::Video => &["video/mp4", "video/3gpp"],
            SentMedia::Audio => &["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"],
            SentMedia::Document => &[
                "application/pdf",
                "text/plain",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ],
        };
        let essence = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        accepted.contains(&essence.as_str())
    }

    /// The kind a file of this mime type is sent as: images, videos and
    /// audio as themselves, everything else as a document.
    pub fn of_mime(mime: &str) -> SentMedia {
        let essence = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match essence.split('/').next() {
            Some("image") => SentMedia::Image,
            Some("video") => SentMedia::Video,
            Some("audio") => SentMedia::Audio,
            _ => SentMedia::Document,
        }
    }
}

/// A section of a list message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<Row>,
}

/// A row of a list message: routed by `id`, shown as `title` and `description`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A file name as the customer will see it: path separators, control and
/// markup characters replaced, at most [`MAX_FILENAME`] characters; `None`
/// when nothing usable is left.
pub fn safe_filename(name: &str) -> Option<String> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let cleaned: String = name
        .chars()
        .map(
            |c| match c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                true => c,
                false => '_',
            },
        )
        .take(MAX_FILENAME)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_owned();
    (!cleaned.is_empty() && cleaned.chars().any(char::is_alphanumeric)).then_some(cleaned)
}

/// Cloud API limits (see Meta's interactive message reference).
pub const MAX_TEXT: usize = 4096;
pub const MAX_INTERACTIVE_BODY: usize = 1024;
pub const MAX_BUTTONS: usize = 3;
pub const MAX_BUTTON_TITLE: usize = 20;
pub const MAX_BUTTON_ID: usize = 256;
pub const MAX_FOOTER: usize = 60;
pub const MAX_LIST_BUTTON: usize = 20;
pub const MAX_LIST_ROWS: usize = 10;
pub const MAX_ROW_TITLE: usize = 24;
pub const MAX_ROW_DESCRIPTION: usize = 72;
pub const MAX_ROW_ID: usize = 200;
pub const MAX_SECTION_TITLE: usize = 24;
/// Template limits (Meta's template reference): the name and language code,
/// at most 10 buttons, a button's payload as long as a reply id. A body
/// parameter may not be longer than the body itself (1024), nor hold a new
/// line, a tab or more than 4 spaces in a row (Meta refuses it with error 100).
pub const MAX_TEMPLATE_NAME: usize = 512;
pub const MAX_TEMPLATE_LANGUAGE: usize = 15;
pub const MAX_TEMPLATE_PARAMETER: usize = 1024;
pub const MAX_QUICK_REPLIES: usize = 10;
pub const MAX_QUICK_REPLY_PAYLOAD: usize = 256;
/// A media caption (Meta's limit) and a document's file name.
pub const MAX_CAPTION: usize = 1024;
pub const MAX_FILENAME: usize = 240;
/// A message id as the Cloud API spells it (`wamid.…`).
pub const MAX_MESSAGE_ID: usize = 512;
/// The largest file the desk sends, whatever its kind (16 MB).
pub const MAX_SENT_FILE: u64 = 16 * 1024 * 1024;
/// A reaction is one emoji: a few code points at most (skin tones, joiners).
pub const MAX_EMOJI_CHARS: usize = 16;

/// Why a message would be refused by the Cloud API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} has {len} characters; the limit is {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{len} buttons; between 1 and {MAX_BUTTONS} are allowed")]
    ButtonCount { len: usize },
    #[error("two buttons share the id {0:?}")]
    DuplicateButton(String),
    #[error("{len} list rows; between 1 and {MAX_LIST_ROWS} are allowed")]
    RowCount { len: usize },
    #[error("two list rows share the id {0:?}")]
    DuplicateRow(String),
    #[error("{len} quick replies; at most {MAX_QUICK_REPLIES} are allowed")]
    QuickReplyCount { len: usize },
    #[error("template parameter {index} holds a new line, a tab or more than 4 spaces in a row")]
    ParameterFormat { index: usize },
    #[error("a reaction is one emoji, not letters or digits")]
    NotAnEmoji,
    #[error("only a text, a file or a template can quote a message")]
    CannotQuote,
}

fn limit(field: &'static str, s: &str, max: usize) -> Result<(), OutboundError> {
    let len = s.chars().count();
    if s.trim().is_empty() {
        Err(OutboundError::Empty { field })
    } else if len > max {
        Err(OutboundError::TooLong { field, len, max })
    } else {
        Ok(())
    }
}

impl OutboundBody {
    pub fn text(body: impl Into<String>) -> Self {
        OutboundBody::Text { body: body.into() }
    }

    /// Checks the Cloud API's limits, so a bad message fails where it is made.
    /// Whether it reaches the customer only inside the 24-hour window
    /// (everything but a template).
    pub fn needs_window(&self) -> bool {
        match self {
            OutboundBody::Quote { message, .. } => message.needs_window(),
            other => !matches!(other, OutboundBody::Template { .. } | OutboundBody::MarkRead { .. }),
        }
    }

    /// The message without its quote.
    pub fn unquoted(&self) -> &OutboundBody {
        match self {
            OutboundBody::Quote { message, .. } => message.unquoted(),
            other => other,
        }
    }

    /// The file to upload before sending, quoted or not.
    pub fn media_mut(&mut self) -> Option<(&str, &str, &mut Option<String>)> {
        match self {
            OutboundBody::Quote { message, .. } => message.media_mut(),
            OutboundBody::Media {
                key, mime, media_id, ..
            } => Some((key.as_str(), mime.as_str(), media_id)),
            _ => None,
        }
    }

    pub fn validate(&self) -> Result<(), OutboundError> {
        match self {
            OutboundBody::Text { body } => limit("text body", body, MAX_TEXT),
            OutboundBody::Buttons { body, buttons, footer } => {
                limit("interactive body", body, MAX_INTERACTIVE_BODY)?;
                if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
                    return Err(OutboundError::ButtonCount { len: buttons.len() });
                }
                for (i, b) in buttons.iter().enumerate() {
                    limit("button title", &b.title, MAX_BUTTON_TITLE)?;
                    limit("button id", &b.id, MAX_BUTTON_ID)?;
                    if buttons[..i].iter().any(|o| o.id == b.id) {
                        return Err(OutboundError::DuplicateButton(b.id.clone()));
                    }
                }
                match footer {
                    Some(f) => limit("footer", f, MAX_FOOTER),
                    None => Ok(()),
                }
            }
            OutboundBody::List {
                body,
                button,
                sections,
                footer,
            } => {
                limit("interactive body", body, MAX_INTERACTIVE_BODY)?;
                limit("list button", button, MAX_LIST_BUTTON)?;
                let rows: Vec<&Row> = sections.iter().flat_map(|s| &s.rows).collect();
                if rows.is_empty() || rows.len() > MAX_LIST_ROWS {
                    return Err(OutboundError::RowCount { len: rows.len() });
                }
                for section in sections {
                    if let Some(title) = &section.title {
                        limit("section title", title, MAX_SECTION_TITLE)?;
                    }
                }
                for (i, row) in rows.iter().enumerate() {
                    limit("row title", &row.title, MAX_ROW_TITLE)?;
                    limit("row id", &row.id, MAX_ROW_ID)?;
                    if let Some(d) = &row.description {
                        limit("row description", d, MAX_ROW_DESCRIPTION)?;
                    }
                    if rows[..i].iter().any(|o| o.id == row.id) {
                        return Err(OutboundError::DuplicateRow(row.id.clone()));
                    }
                }
                match footer {
                    Some(f) => limit("footer", f, MAX_FOOTER),
                    None => Ok(()),
                }
            }
            OutboundBody::Template {
                name,
                language,
                parameters,
                quick_replies,
            } => {
                limit("template name", name, MAX_TEMPLATE_NAME)?;
                limit("template language", language, MAX_TEMPLATE_LANGUAGE)?;
                for (index, p) in parameters.iter().enumerate() {
                    limit("template parameter", p, MAX_TEMPLATE_PARAMETER)?;
                    if p.contains(['\n', '\t']) || p.contains("     ") {
                        return Err(OutboundError::ParameterFormat { index });
                    }
                }
                if quick_replies.len() > MAX_QUICK_REPLIES {
                    return Err(OutboundError::QuickReplyCount {
                        len: quick_replies.len(),
                    });
                }
                for payload in quick_replies {
                    limit("quick reply payload", payload, MAX_QUICK_REPLY_PAYLOAD)?;
                }
                Ok(())
            }
            OutboundBody::RequestContactInfo { body } => limit("interactive body", body, MAX_INTERACTIVE_BODY),
            OutboundBody::MarkRead { message_id, .. } => limit("message id", message_id, MAX_BUTTON_ID),
            OutboundBody::Quote { message_id, message } => {
                limit("quoted message id", message_id, MAX_MESSAGE_ID)?;
                match **message {
                    OutboundBody::Text { .. } | OutboundBody::Media { .. } | OutboundBody::Template { .. } => {
                        message.validate()
                    }
                    _ => Err(OutboundError::CannotQuote),
                }
            }
            OutboundBody::Reaction { message_id, emoji } => {
                limit("reaction message id", message_id, MAX_MESSAGE_ID)?;
                let len = emoji.chars().count();
                if len > MAX_EMOJI_CHARS {
                    return Err(OutboundError::TooLong {
                        field: "emoji",
                        len,
                        max: MAX_EMOJI_CHARS,
                    });
                }
                // Letters, digits and spaces are not an emoji (the keycap and
                // flag sequences are: they carry a combining mark or are symbols).
                let plain = emoji.chars().all(|c| c.is_alphanumeric() || c.is_whitespace());
                match !emoji.is_empty() && plain {
                    true => Err(OutboundError::NotAnEmoji),
                    false => Ok(()),
                }
            }
            OutboundBody::Media {
                key,
                mime,
                filename,
                caption,
                ..
            } => {
                limit("media key", key, MAX_BUTTON_ID)?;
                limit("media type", mime, MAX_TEMPLATE_NAME)?;
                if let Some(name) = filename {
                    limit("file name", name, MAX_FILENAME)?;
                }
                match caption {
                    Some(c) => limit("caption", c, MAX_CAPTION),
                    None => Ok(()),
                }
            }
        }
    }

    /// The text the customer reads, for what has one (a template's is Meta's).
    pub fn visible_text(&self) -> Option<&str> {
        match self {
            OutboundBody::Text { body }
            | OutboundBody::Buttons { body, .. }
            | OutboundBody::List { body, .. }
            | OutboundBody::RequestContactInfo { body } => Some(body),
            OutboundBody::Media { caption, .. } => caption.as_deref(),
            OutboundBody::Quote { message, .. } => message.visible_text(),
            OutboundBody::Template { .. } | OutboundBody::MarkRead { .. } | OutboundBody::Reaction { .. } => None,
        }
    }

    /// A message the customer sees (and that is billed): all but [`OutboundBody::MarkRead`].
    pub fn is_message(&self) -> bool {
        !matches!(self, OutboundBody::MarkRead { .. })
    }

    /// The Graph API request body for `POST /{phone-number-id}/messages`: to a
    /// phone with `to`, to a business-scoped user id with `recipient` (a BSUID
    /// placed in `to` is dropped by Meta).
    pub fn to_graph_json(&self, address: &Address) -> Value {
        let base = |kind: &str, payload: Value| {
            let mut v = json!({"messaging_product":"whatsapp","recipient_type":"individual","type":kind});
            match address {
                Address::Phone(phone) => v["to"] = json!(phone.as_str()),
                Address::User(user) => v["recipient"] = json!(user.as_str()),
            }
            v[kind] = payload;
            v
        };
        match self {
            OutboundBody::MarkRead { message_id, typing } => {
                let mut v = json!({"messaging_product": "whatsapp", "status": "read", "message_id": message_id});
                if *typing {
                    v["typing_indicator"] = json!({"type": "text"});
                }
                v
            }
            OutboundBody::RequestContactInfo { body } => base(
                "interactive",
                json!({"type": "request_contact_info", "body": {"text": body}, "action": {"name": "request_contact_info"}}),
            ),
            OutboundBody::Text { body } => base("text", json!({"preview_url": false, "body": body})),
            OutboundBody::Quote { message_id, message } => {
                let mut v = message.to_graph_json(address);
                v["context"] = json!({ "message_id": message_id });
                v
            }
            OutboundBody::Reaction { message_id, emoji } => {
                base("reaction", json!({"message_id": message_id, "emoji": emoji}))
            }
            OutboundBody::Media {
                kind,
                filename,
                caption,
                media_id,
                ..
            } => {
                let mut media = json!({ "id": media_id.as_deref().unwrap_or_default() });
                // Meta shows no caption under audio.
                if let Some(c) = caption.as_ref().filter(|_| *kind != SentMedia::Audio) {
                    media["caption"] = json!(c);
                }
                if let Some(name) = filename.as_ref().filter(|_| *kind == SentMedia::Document) {
                    media["filename"] = json!(name);
                }
                base(kind.as_str(), media)
            }
            OutboundBody::Buttons { body, buttons, footer } => {
                let mut interactive = json!({
                    "type": "button",
                    "body": {"text": body},
                    "action": {"buttons": buttons.iter()
                        .map(|b| json!({"type":"reply","reply":{"id":b.id,"title":b.title}}))
                        .collect::<Vec<_>>()},
                });
                if let Some(f) = footer {
                    interactive["footer"] = json!({ "text": f });
                }
                base("interactive", interactive)
            }
            OutboundBody::List {
                body,
                button,
                sections,
                footer,
            } => {
                let sections: Vec<Value> = sections
                    .iter()
                    .map(|s| {
                        let rows: Vec<Value> = s
                            .rows
                            .iter()
                            .map(|r| match &r.description {
                                Some(d) => json!({"id": r.id, "title": r.title, "description": d}),
                                None => json!({"id": r.id, "title": r.title}),
                            })
                            .collect();
                        match &s.title {
                            Some(t) => json!({"title": t, "rows": rows}),
                            None => json!({"rows": rows}),
                        }
                    })
                    .collect();
                let mut interactive = json!({
                    "type": "list",
                    "body": {"text": body},
                    "action": {"button": button, "sections": sections},
                });
                if let Some(f) = footer {
                    interactive["footer"] = json!({ "text": f });
                }
                base("interactive", interactive)
            }
            OutboundBody::Template {
                name,
                language,
                parameters,
                quick_replies,
            } => {
                let mut template = json!({"name": name, "language": {"code": language}});
                let mut components = Vec::new();
                if !parameters.is_empty() {
                    let parameters: Vec<Value> =
                        parameters.iter().map(|p| json!({"type": "text", "text": p})).collect();
                    components.push(json!({"type": "body", "parameters": parameters}));
                }
                // One component per button; Meta wants the index as a string.
                components.extend(quick_replies.iter().enumerate().map(|(i, payload)| {
                    json!({
                        "type": "button",
                        "sub_type": "quick_reply",
                        "index": i.to_string(),
                        "parameters": [{"type": "payload", "payload": payload}],
                    })
                }));
                if !components.is_empty() {
                    template["components"] = Value::Array(components);
                }
                base("template", template)
            }
        }
    }

    /// A short form for the timeline.
    pub fn summary(&self) -> String {
        match self {
            OutboundBody::Text { body } => body.clone(),
            OutboundBody::Buttons { body, buttons, .. } => {
                let titles: Vec<_> = buttons.iter().map(|b| b.title.as_str()).collect();
                format!("{body} [{}]", titles.join(" | "))
            }
            OutboundBody::List { body, sections, .. } => {
                let titles: Vec<_> = sections
                    .iter()
                    .flat_map(|s| &s.rows)
                    .map(|r| r.title.as_str())
                    .collect();
                format!("{body} [{}]", titles.join(" | "))
            }
            OutboundBody::Template { name, parameters, .. } if parameters.is_empty() => format!("[template] {name}"),
            OutboundBody::Template { name, parameters, .. } => format!("[template] {name}: {}", parameters.join(" | ")),
            OutboundBody::RequestContactInfo { body } => format!("{body} [share contact info]"),
            OutboundBody::MarkRead { typing: true, .. } => "[read, typing]".into(),
            OutboundBody::MarkRead { .. } => "[read]".into(),
            OutboundBody::Quote { message, .. } => message.summary(),
            OutboundBody::Reaction { emoji, .. } if emoji.is_empty() => "[reaction removed]".into(),
            OutboundBody::Reaction { emoji, .. } => format!("[reaction] {emoji}"),
            OutboundBody::Media {
                kind,
                filename,
                caption,
                ..
            } => {
                let what = filename.as_deref().unwrap_or(kind.as_str());
                match caption {
                    Some(c) => format!("[{}] {what}: {c}", kind.as_str()),
                    None => format!("[{}] {what}", kind.as_str()),
                }
            }
        }
    }
}

/// One item of `outbound.fifo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundRequest {
    /// Unique per logical message: the FIFO dedupe id and the timeline's link
    /// between the request and the message Meta accepted.
    pub idempotency_key: String,
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    /// The business number the customer wrote to; replies leave from it.
    pub phone_number_id: String,
    pub author: Author,
    pub body: OutboundBody,
}

impl OutboundRequest {
    pub fn group_key(&self) -> String {
        fifo_key(self.customer.as_str())
    }
    pub fn dedupe_key(&self) -> String {
        fifo_key(&self.idempotency_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buttons(titles: &[&str]) -> OutboundBody {
        OutboundBody::Buttons {
            body: "Pick one".into(),
            buttons: titles
                .iter()
                .enumerate()
                .map(|(i, t)| Button {
                    id: format!("b{i}"),
                    title: (*t).into(),
                })
                .collect(),
            footer: None,
        }
    }

    #[test]
    fn messages_within_the_cloud_api_limits_are_valid() {
        assert_eq!(OutboundBody::text("x".repeat(4096)).validate(), Ok(()));
        assert_eq!(buttons(&["a", "b", "12345678901234567890"]).validate(), Ok(()));
    }

    #[test]
    fn messages_over_the_limits_name_the_limit_they_break() {
        assert!(matches!(
            OutboundBody::text("x".repeat(4097)).validate(),
            Err(OutboundError::TooLong { max: 4096, .. })
        ));
        assert_eq!(
            buttons(&["a", "b", "c", "d"]).validate(),
            Err(OutboundError::ButtonCount { len: 4 })
        );
        assert!(matches!(
            buttons(&["123456789012345678901"]).validate(),
            Err(OutboundError::TooLong { max: 20, .. })
        ));
        assert!(matches!(
            OutboundBody::text("  ").validate(),
            Err(OutboundError::Empty { .. })
        ));
    }

    fn list(rows: usize) -> OutboundBody {
        OutboundBody::List {
            body: "Pick".into(),
            button: "See options".into(),
            sections: vec![Section {
                title: None,
                rows: (0..rows)
                    .map(|i| Row {
                        id: format!("r{i}"),
                        title: format!("Row {i}"),
                        description: None,
                    })
                    .collect(),
            }],
            footer: None,
        }
    }

    #[test]
    fn a_list_holds_one_to_ten_rows_with_unique_ids() {
        assert_eq!(list(10).validate(), Ok(()));
        assert_eq!(list(11).validate(), Err(OutboundError::RowCount { len: 11 }));
        assert_eq!(list(0).validate(), Err(OutboundError::RowCount { len: 0 }));
        let to = Address::Phone(crate::domain::identity::Phone::parse("15550001111").unwrap());
        assert_eq!(
            list(2).to_graph_json(&to)["interactive"]["action"]["sections"][0]["rows"][1]["id"],
            "r1"
        );
    }

    fn template(parameters: &[&str], quick_replies: usize) -> OutboundBody {
        OutboundBody::Template {
            name: "sla_update".into(),
            language: "fr".into(),
            parameters: parameters.iter().map(|p| (*p).to_owned()).collect(),
            quick_replies: (1..=quick_replies).map(|i| format!("csat:TK-1:{i}")).collect(),
        }
    }

    #[test]
    fn a_template_carries_its_body_parameters_and_quick_reply_payloads_as_components() {
        let to = Address::Phone(crate::domain::identity::Phone::parse("15550001111").unwrap());
        let v = template(&["facturation", "d'ici mardi à 10:30"], 2).to_graph_json(&to);
        assert_eq!(v["type"], "template");
        assert_eq!(v["template"]["language"]["code"], "fr");
        let components = &v["template"]["components"];
        assert_eq!(
            components[0],
            json!({"type":"body","parameters":[
                {"type":"text","text":"facturation"},{"type":"text","text":"d'ici mardi à 10:30"}]})
        );
        assert_eq!(
            components[2],
            json!({"type":"button","sub_type":"quick_reply","index":"1",
                "parameters":[{"type":"payload","payload":"csat:TK-1:2"}]})
        );
        let bare = template(&[], 0).to_graph_json(&to);
        assert!(bare["template"].get("components").is_none());
    }

    #[test]
    fn a_template_is_refused_with_more_than_ten_quick_replies_or_a_parameter_with_a_new_line() {
        assert_eq!(template(&["a"], 10).validate(), Ok(()));
        assert_eq!(
            template(&[], 11).validate(),
            Err(OutboundError::QuickReplyCount { len: 11 })
        );
        assert_eq!(
            template(&["ok", "two\nlines"], 0).validate(),
            Err(OutboundError::ParameterFormat { index: 1 })
        );
        assert!(matches!(
            template(&[""], 0).validate(),
            Err(OutboundError::Empty { .. })
        ));
    }

    #[test]
    fn a_template_stored_before_parameters_existed_still_reads() {
        let old: OutboundBody =
            serde_json::from_value(json!({"type":"template","name":"hello","language":"en"})).unwrap();
        assert_eq!(
            old,
            OutboundBody::Template {
                name: "hello".into(),
                language: "en".into(),
                parameters: Vec::new(),
                quick_replies: Vec::new(),
            }
        );
        assert_eq!(
            serde_json::to_value(&old).unwrap(),
            json!({"type":"template","name":"hello","language":"en"})
        );
    }

    #[test]
    fn a_quoted_reply_a_reaction_and_a_file_become_their_cloud_api_messages() {
        let to = Address::Phone(crate::domain::identity::Phone::parse("15550001111").unwrap());
        let quoted = OutboundBody::Quote {
            message_id: "wamid.C".into(),
            message: Box::new(OutboundBody::text("Here it is")),
        };
        let v = quoted.to_graph_json(&to);
        assert_eq!(
            (v["type"].as_str(), v["context"]["message_id"].as_str()),
            (Some("text"), Some("wamid.C"))
        );
        assert_eq!(quoted.summary(), "Here it is");
        assert!(quoted.needs_window());

        let reaction = OutboundBody::Reaction {
            message_id: "wamid.C".into(),
            emoji: "\u{1F44D}".into(),
        };
        assert_eq!(
            reaction.to_graph_json(&to)["reaction"],
            json!({"message_id": "wamid.C", "emoji": "\u{1F44D}"})
        );
        assert_eq!(reaction.validate(), Ok(()));
        let removed = OutboundBody::Reaction {
            message_id: "wamid.C".into(),
            emoji: String::new(),
        };
        assert_eq!(
            (removed.validate(), removed.summary().as_str()),
            (Ok(()), "[reaction removed]")
        );
        let word = OutboundBody::Reaction {
            message_id: "wamid.C".into(),
            emoji: "ok".into(),
        };
        assert_eq!(word.validate(), Err(OutboundError::NotAnEmoji));

        let file = OutboundBody::Media {
            kind: SentMedia::Document,
            key: "media/TK-1/out/abc/invoice.pdf".into(),
            mime: "application/pdf".into(),
            filename: Some("invoice.pdf".into()),
            caption: Some("Your invoice".into()),
            media_id: Some("123".into()),
        };
        assert_eq!(
            file.to_graph_json(&to)["document"],
            json!({"id": "123", "caption": "Your invoice", "filename": "invoice.pdf"})
        );
        assert_eq!(file.summary(), "[document] invoice.pdf: Your invoice");
        // Only a text, a file or a template quotes.
        let nested = OutboundBody::Quote {
            message_id: "wamid.C".into(),
            message: Box::new(reaction),
        };
        assert_eq!(nested.validate(), Err(OutboundError::CannotQuote));
    }

    #[test]
    fn files_are_sent_as_the_kind_their_type_names_and_only_in_types_whatsapp_delivers() {
        assert_eq!(SentMedia::of_mime("image/png"), SentMedia::Image);
        assert_eq!(SentMedia::of_mime("Audio/OGG; codecs=opus"), SentMedia::Audio);
        assert_eq!(SentMedia::of_mime("application/pdf"), SentMedia::Document);
        assert!(SentMedia::Audio.sends("audio/ogg; codecs=opus"));
        assert!(!SentMedia::Image.sends("image/webp"));
        assert!(!SentMedia::Document.sends("text/html"));
        assert_eq!(SentMedia::Image.max_bytes(), 5 * 1024 * 1024);
        assert_eq!(SentMedia::Document.max_bytes(), MAX_SENT_FILE);
        assert!(SentMedia::Document.check_size(MAX_SENT_FILE + 1).is_err());
    }

    #[test]
    fn file_names_lose_their_path_and_unsafe_characters() {
        assert_eq!(
            safe_filename("C:\\Users\\x\\Rechnung März.pdf").as_deref(),
            Some("Rechnung März.pdf")
        );
        assert_eq!(safe_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(safe_filename("<script>.pdf").as_deref(), Some("_script_.pdf"));
        assert_eq!(safe_filename("..."), None);
        assert_eq!(
            safe_filename(&"a".repeat(300)).map(|n| n.chars().count()),
            Some(MAX_FILENAME)
        );
    }

    #[test]
    fn buttons_become_an_interactive_reply_message() {
        let to = Address::Phone(crate::domain::identity::Phone::parse("15550001111").unwrap());
        let v = buttons(&["Yes"]).to_graph_json(&to);
        assert_eq!(v["type"], "interactive");
        assert_eq!(v["to"], "15550001111");
        assert_eq!(v["interactive"]["action"]["buttons"][0]["reply"]["id"], "b0");
    }
}
