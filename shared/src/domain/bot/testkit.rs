//! Test helpers shared by the bot's unit tests: the shipped desk, customer messages,
//! and a conversation driven message by message.

use super::{OrderAnswer, Outcome, Turn, rated_ticket_to_look_up, respond};
use crate::domain::commands::{Escalate, TicketCommand};
use crate::domain::conversation::Conversation;
use crate::domain::desk::{Desk, EMBEDDED_CONFIG};
use crate::domain::i18n::{Catalog, Lang};
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::{BusinessNumber, InboundMessage};
use crate::domain::outbound::{OutboundBody, OutboundRequest};
use crate::domain::ticket::TicketStatus;
use jiff::Timestamp;
use serde_json::{Value, json};

/// Tuesday 24 November 2026, 10:00 in Paris: every team of the shipped configuration is open.
const OPEN: &str = "2026-11-24T09:00:00Z";

fn desk() -> Desk {
    Desk::from_toml(EMBEDDED_CONFIG, &Catalog::builtin()).unwrap()
}

fn customer() -> CustomerId {
    CustomerId::parse("15550001111").unwrap()
}

pub(super) fn message(wamid: &str, kind: &str, body: Value) -> InboundMessage {
    InboundMessage {
        business: BusinessNumber {
            phone_number_id: "P1".into(),
            display_phone_number: None,
        },
        waba_id: None,
        customer: Some(customer()),
        sender: crate::domain::identity::Sender {
            phone: crate::domain::identity::Phone::parse(customer().as_str()).ok(),
            ..Default::default()
        },
        identity_errors: Vec::new(),
        contact_name: Some("Ana".into()),
        wamid: wamid.into(),
        timestamp: 1_795_000_000,
        message_type: kind.into(),
        message: body,
    }
}

pub(super) fn text(wamid: &str, body: &str) -> InboundMessage {
    message(wamid, "text", json!({"type":"text","text":{"body":body}}))
}

fn tap(wamid: &str, id: &str) -> InboundMessage {
    message(
        wamid,
        "interactive",
        json!({"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":id,"title":"x"}}}),
    )
}

/// A conversation driven message by message, as the bot function does.
pub(super) struct Chat {
    pub(super) desk: Desk,
    pub(super) catalog: Catalog,
    pub(super) conversation: Conversation,
    pub(super) status: Option<TicketStatus>,
    pub(super) handed_back_at_ms: Option<i64>,
    pub(super) vip: bool,
    pub(super) now: Timestamp,
    pub(super) n: usize,
    /// Every ticket the conversation opened: the tickets a survey reply may rate.
    tickets: Vec<TicketId>,
}

impl Chat {
    pub(super) fn new() -> Chat {
        Chat::with(desk())
    }
    pub(super) fn with(desk: Desk) -> Chat {
        Chat {
            desk,
            catalog: Catalog::builtin(),
            conversation: Conversation::new(customer(), "P1"),
            status: None,
            handed_back_at_ms: None,
            vip: false,
            now: OPEN.parse().unwrap(),
            n: 0,
            tickets: Vec::new(),
        }
    }
    pub(super) fn send(&mut self, messages: Vec<InboundMessage>, order: Option<OrderAnswer>) -> Outcome {
        let turn = Turn {
            customer: &customer(),
            messages: &messages,
            ticket_status: self.status,
            ticket_handed_back_at_ms: self.handed_back_at_ms,
            vip: self.vip,
            phone_known: true,
            order,
            rated_ticket: rated_ticket_to_look_up(&messages).filter(|t| self.tickets.contains(t)),
            now: self.now,
        };
        let outcome = respond(self.conversation.clone(), &turn, &self.desk, &self.catalog);
        self.conversation = outcome.conversation.clone();
        if let Some(ticket) = &self.conversation.ticket_id
            && !self.tickets.contains(ticket)
        {
            self.tickets.push(ticket.clone());
        }
        if self.status.is_none() {
            self.status = Some(TicketStatus::Bot);
        }
        if outcome
            .commands
            .iter()
            .any(|c| matches!(c, TicketCommand::Escalate(Escalate { .. })))
        {
            self.status = Some(TicketStatus::Queued);
        }
        outcome
    }
    pub(super) fn say(&mut self, body: &str) -> Outcome {
        self.n += 1;
        let m = text(&format!("w{}", self.n), body);
        self.send(vec![m], None)
    }
    pub(super) fn tap(&mut self, id: &str) -> Outcome {
        self.n += 1;
        let m = tap(&format!("w{}", self.n), id);
        self.send(vec![m], None)
    }
    pub(super) fn t(&self, lang: Lang, key: &str) -> String {
        self.catalog.text(lang, key, &[])
    }
}

pub(super) fn escalation(o: &Outcome) -> Option<&TicketCommand> {
    o.commands
        .iter()
        .find(|c| matches!(c, TicketCommand::Escalate(Escalate { .. })))
}

pub(super) fn trigger_names(o: &Outcome) -> Vec<String> {
    match escalation(o) {
        Some(TicketCommand::Escalate(Escalate { triggers, .. })) => triggers.iter().map(|t| t.name.clone()).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn body_text(r: &OutboundRequest) -> String {
    match &r.body {
        OutboundBody::Template { name, .. } => name.clone(),
        other => other.visible_text().unwrap_or_default().to_owned(),
    }
}

pub(super) fn row_ids(r: &OutboundRequest) -> Vec<String> {
    match &r.body {
        OutboundBody::List { sections, .. } => sections.iter().flat_map(|s| &s.rows).map(|r| r.id.clone()).collect(),
        OutboundBody::Buttons { buttons, .. } => buttons.iter().map(|b| b.id.clone()).collect(),
        _ => Vec::new(),
    }
}
