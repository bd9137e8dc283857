//! Messages the business sends: what the bot, agents and the SLA sweep ask the
//! `sender` to deliver, checked against the Cloud API's limits before queueing.

use crate::domain::ids::{CustomerId, TicketId, fifo_key};
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
    Template {
        name: String,
        language: String,
    },
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
            OutboundBody::Template { name, language } => {
                limit("template name", name, 512)?;
                limit("template language", language, 16)
            }
        }
    }

    /// The Graph API request body for `POST /{phone-number-id}/messages`.
    pub fn to_graph_json(&self, to: &CustomerId) -> Value {
        let base = |kind: &str, payload: Value| {
            let mut v =
                json!({"messaging_product":"whatsapp","recipient_type":"individual","to":to.as_str(),"type":kind});
            v[kind] = payload;
            v
        };
        match self {
            OutboundBody::Text { body } => base("text", json!({"preview_url": false, "body": body})),
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
            OutboundBody::Template { name, language } => {
                base("template", json!({"name": name, "language": {"code": language}}))
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
            OutboundBody::Template { name, .. } => format!("[template] {name}"),
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
        let to = CustomerId::parse("1").unwrap();
        assert_eq!(
            list(2).to_graph_json(&to)["interactive"]["action"]["sections"][0]["rows"][1]["id"],
            "r1"
        );
    }

    #[test]
    fn buttons_become_an_interactive_reply_message() {
        let to = CustomerId::parse("15550001111").unwrap();
        let v = buttons(&["Yes"]).to_graph_json(&to);
        assert_eq!(v["type"], "interactive");
        assert_eq!(v["to"], "15550001111");
        assert_eq!(v["interactive"]["action"]["buttons"][0]["reply"]["id"], "b0");
    }
}
