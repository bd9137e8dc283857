//! The bot's memory of a customer: which ticket, which step, how many failed
//! replies. Written by the `bot` function only, with a version for optimistic
//! concurrency.

use crate::domain::i18n::Lang;
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::InboundMessage;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// How many processed message ids the conversation remembers, to drop redeliveries.
pub const REMEMBERED_MESSAGES: usize = 32;
/// How many of the customer's last messages count for "the same message repeated".
pub const REMEMBERED_TEXTS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Bot,
    /// Handed to humans: the bot stays silent until the ticket is resolved.
    Human,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    #[default]
    Menu,
    AwaitingOrderNumber,
    /// An FAQ answer was given; the customer may say whether it helped.
    AnsweredFaq {
        topic: String,
    },
    ChoosingLanguage,
    /// The bot asked for a photo of the problem (guided capture) for this category.
    /// Renamed because the step is flattened into the conversation, whose own
    /// `category` would otherwise take the key and leave the step unreadable.
    AwaitingPhoto {
        #[serde(rename = "photo_category", default)]
        category: String,
    },
    /// The customer scored a resolved ticket and was invited to add a comment:
    /// their next text is that comment. Left after [`CSAT_COMMENT_WINDOW_MS`] of
    /// silence, or when a new ticket starts. The fields are renamed because the
    /// step is flattened into the conversation, which has its own `ticket_id`.
    AwaitingCsatComment {
        #[serde(rename = "csat_ticket_id")]
        ticket_id: TicketId,
        #[serde(rename = "csat_asked_at_ms", default)]
        asked_at_ms: i64,
    },
}

/// How long a survey's invitation to comment stays open: a text after a day of
/// silence is a new request, not a comment.
pub const CSAT_COMMENT_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Messages held for the quiet period at most: past this many the turn is answered at once.
pub const MAX_PENDING: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub customer: CustomerId,
    /// The business number the customer writes to: a customer writing to two
    /// numbers of the desk has two conversations (and tickets), one profile.
    #[serde(default)]
    pub phone_number_id: String,
    /// Messages received and not answered yet: the bot waits a quiet period so
    /// a burst of short lines gets one answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<InboundMessage>,
    #[serde(default)]
    pub ticket_id: Option<TicketId>,
    #[serde(default)]
    pub mode: Mode,
    /// When the bot last handed the customer to humans: a hand-back by an
    /// agent after it gives the customer to the bot again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_at_ms: Option<i64>,
    #[serde(default, flatten)]
    pub step: Step,
    #[serde(default)]
    pub failed_replies: u32,
    #[serde(default)]
    pub recent_wamids: Vec<String>,
    /// Fingerprints (not texts) of the customer's last messages.
    #[serde(default)]
    pub recent_texts: Vec<String>,
    /// The customer's language: detected, or chosen from the menu.
    #[serde(default)]
    pub language: Option<Lang>,
    /// Chosen from the menu: detection no longer changes it.
    #[serde(default)]
    pub language_chosen: bool,
    /// Context gathered for the handoff, so nobody asks twice.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub intent: Option<String>,
    #[serde(default)]
    pub order_number: Option<String>,
    /// The day (in the team's time zone) the customer was last told the team
    /// was away: one out-of-hours reply a day is enough.
    #[serde(default)]
    pub out_of_hours_told_on: Option<Date>,
    #[serde(default)]
    pub version: u64,
}

impl Conversation {
    pub fn new(customer: CustomerId, phone_number_id: &str) -> Self {
        Conversation {
            customer,
            phone_number_id: phone_number_id.to_owned(),
            pending: Vec::new(),
            ticket_id: None,
            mode: Mode::Bot,
            handed_at_ms: None,
            step: Step::Menu,
            failed_replies: 0,
            recent_wamids: Vec::new(),
            recent_texts: Vec::new(),
            language: None,
            language_chosen: false,
            category: None,
            intent: None,
            order_number: None,
            out_of_hours_told_on: None,
            version: 0,
        }
    }

    /// A new ticket: the bot again, with a clean slate (the language stays).
    pub fn start_ticket(&mut self, ticket: TicketId) {
        self.ticket_id = Some(ticket);
        self.mode = Mode::Bot;
        self.step = Step::Menu;
        self.failed_replies = 0;
        self.category = None;
        self.intent = None;
        self.order_number = None;
    }

    pub fn remember_text(&mut self, fingerprint: String) {
        self.recent_texts.push(fingerprint);
        let excess = self.recent_texts.len().saturating_sub(REMEMBERED_TEXTS);
        self.recent_texts.drain(..excess);
    }

    pub fn has_seen(&self, wamid: &str) -> bool {
        self.recent_wamids.iter().any(|w| w == wamid)
    }

    pub fn remember(&mut self, wamid: &str) {
        self.recent_wamids.push(wamid.to_owned());
        let excess = self.recent_wamids.len().saturating_sub(REMEMBERED_MESSAGES);
        self.recent_wamids.drain(..excess);
    }

    /// This conversation answered `answered`, and its save found `stored`
    /// newer: messages arrived meanwhile (only intake saves a conversation
    /// outside a turn, and it only adds pending messages). Takes those on,
    /// still pending for their own turn, at the stored version. `false` when
    /// `stored` no longer holds the answered messages: another delivery of the
    /// same turn answered them already.
    pub fn carry_over(&mut self, stored: Conversation, answered: &[String]) -> bool {
        let holds_all = answered.iter().all(|w| stored.pending.iter().any(|m| &m.wamid == w));
        if !holds_all {
            return false;
        }
        self.pending = stored
            .pending
            .into_iter()
            .filter(|m| !answered.contains(&m.wamid))
            .collect();
        for wamid in &stored.recent_wamids {
            if !self.has_seen(wamid) {
                self.remember(wamid);
            }
        }
        self.version = stored.version;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_survives_being_stored_beside_the_conversations_own_fields() {
        let steps = [
            Step::Menu,
            Step::AwaitingOrderNumber,
            Step::AnsweredFaq {
                topic: "returns".into(),
            },
            Step::ChoosingLanguage,
            Step::AwaitingPhoto {
                category: "damaged".into(),
            },
            Step::AwaitingCsatComment {
                ticket_id: TicketId::parse("TK-3F9A0C51D2E7").unwrap(),
                asked_at_ms: 5,
            },
        ];
        for step in steps {
            let mut c = Conversation::new(CustomerId::parse("1").unwrap(), "P");
            c.category = Some("billing".into());
            c.ticket_id = Some(TicketId::parse("TK-000000000001").unwrap());
            c.step = step;
            let stored = serde_json::to_value(&c).unwrap();
            let read: Conversation = serde_json::from_value(stored.clone()).unwrap_or_else(|e| panic!("{stored}: {e}"));
            assert_eq!(read, c);
        }
    }

    #[test]
    fn a_conversation_stored_with_the_photo_category_under_its_old_key_is_read() {
        let stored = serde_json::json!({
            "customer": "1", "step": "awaiting_photo", "category": "damaged"
        });
        let read: Conversation = serde_json::from_value(stored).unwrap();
        assert_eq!(
            read.step,
            Step::AwaitingPhoto {
                category: String::new()
            }
        );
        assert_eq!(read.category.as_deref(), Some("damaged"));
    }

    #[test]
    fn a_conversation_remembers_only_the_latest_message_ids() {
        let mut c = Conversation::new(CustomerId::parse("1").unwrap(), "P");
        for i in 0..40 {
            c.remember(&format!("w{i}"));
        }
        assert_eq!(c.recent_wamids.len(), REMEMBERED_MESSAGES);
        assert!(c.has_seen("w39") && !c.has_seen("w0"));
    }

    #[test]
    fn a_conversation_awaiting_a_survey_comment_keeps_both_tickets_apart_when_stored() {
        let mut c = Conversation::new(CustomerId::parse("1").unwrap(), "P");
        c.ticket_id = Some(TicketId::parse("TK-NEW").unwrap());
        c.step = Step::AwaitingCsatComment {
            ticket_id: TicketId::parse("TK-OLD").unwrap(),
            asked_at_ms: 42,
        };
        c.out_of_hours_told_on = Some(jiff::civil::date(2026, 11, 22));
        let stored = serde_json::to_value(&c).unwrap();
        assert_eq!(stored["ticket_id"], "TK-NEW");
        assert_eq!(stored["csat_ticket_id"], "TK-OLD");
        assert_eq!(stored["out_of_hours_told_on"], "2026-11-22");
        assert_eq!(serde_json::from_value::<Conversation>(stored).unwrap(), c);
    }

    fn pending(c: &mut Conversation, wamid: &str) {
        let message: crate::domain::inbound::InboundMessage = serde_json::from_value(serde_json::json!({
            "business": {"phone_number_id": "P"}, "customer": "1", "wamid": wamid,
            "timestamp": 1, "message_type": "text", "message": {"type": "text", "text": {"body": "hi"}}
        }))
        .unwrap();
        c.remember(wamid);
        c.pending.push(message);
    }

    #[test]
    fn an_answer_whose_save_met_newer_messages_keeps_them_pending_and_drops_what_it_answered() {
        let mut stored = Conversation::new(CustomerId::parse("1").unwrap(), "P");
        pending(&mut stored, "w1");
        pending(&mut stored, "w2");
        let mut answered = stored.clone();
        answered.pending.clear();
        answered.step = Step::AwaitingOrderNumber;
        pending(&mut stored, "w3");
        stored.version = 4;

        assert!(answered.carry_over(stored, &["w1".into(), "w2".into()]));

        let left: Vec<&str> = answered.pending.iter().map(|m| m.wamid.as_str()).collect();
        assert_eq!(left, ["w3"]);
        assert!(answered.has_seen("w3"));
        assert_eq!((answered.version, answered.step), (4, Step::AwaitingOrderNumber));
    }

    #[test]
    fn an_answer_already_saved_by_another_delivery_of_its_turn_is_not_carried_over() {
        let mut stored = Conversation::new(CustomerId::parse("1").unwrap(), "P");
        pending(&mut stored, "w1");
        let mut answered = stored.clone();
        answered.pending.clear();
        stored.pending.clear();

        assert!(!answered.carry_over(stored, &["w1".into()]));
    }

    #[test]
    fn a_conversation_stored_before_the_survey_existed_still_reads() {
        let c: Conversation = serde_json::from_value(serde_json::json!({"customer": "1", "step": "menu"})).unwrap();
        assert_eq!((c.step, c.out_of_hours_told_on), (Step::Menu, None));
    }
}
