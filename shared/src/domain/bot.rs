//! Tier 1: the bot's decision for one customer message. Pure: it takes the
//! conversation and the ticket's status, and returns the new conversation, the
//! ticket commands and the replies. The `bot` function does the I/O.

use crate::domain::commands::TicketCommand;
use crate::domain::conversation::{Conversation, Mode, Step};
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::{InboundMessage, MessageContent};
use crate::domain::outbound::{Author, Button, OutboundBody, OutboundRequest};
use crate::domain::ticket::{Priority, TicketStatus};

/// Reply-button ids. The bot routes by these, never by the titles shown.
pub mod ids {
    pub const MENU_ORDER_STATUS: &str = "menu.order_status";
    pub const MENU_FAQ: &str = "menu.faq";
    pub const MENU_AGENT: &str = "menu.agent";
    pub const FAQ_DELIVERY: &str = "faq.delivery";
    pub const FAQ_RETURNS: &str = "faq.returns";
    pub const FAQ_PAYMENT: &str = "faq.payment";
}

/// Settings the bot needs from the desk's configuration.
#[derive(Debug, Clone)]
pub struct BotSettings {
    /// The team that owns new tickets and receives agent handoffs.
    pub default_team: String,
    /// Consecutive failed bot replies before a human takes over.
    pub failure_limit: u32,
}

impl Default for BotSettings {
    fn default() -> Self {
        BotSettings {
            default_team: "support".into(),
            failure_limit: 3,
        }
    }
}

/// What the bot decided for one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub conversation: Conversation,
    pub commands: Vec<TicketCommand>,
    pub replies: Vec<OutboundRequest>,
}

/// What the customer wants, read from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Greeting,
    Agent { words: String },
    OrderStatus,
    Faq,
    FaqTopic(&'static str),
    Text(String),
    Unrecognised,
}

const AGENT_WORDS: [&str; 8] = [
    "agent",
    "human",
    "person",
    "representative",
    "operator",
    "someone",
    "real person",
    "speak to someone",
];
const GREETING_WORDS: [&str; 8] = [
    "hi",
    "hello",
    "hey",
    "menu",
    "start",
    "good morning",
    "good afternoon",
    "good evening",
];

/// Reads the customer's intent: buttons and list rows by id; text by whole words.
pub fn intent_of(content: &MessageContent) -> Intent {
    let by_id = |id: &str| match id {
        ids::MENU_AGENT => Some(Intent::Agent {
            words: "the \"talk to an agent\" button".into(),
        }),
        ids::MENU_ORDER_STATUS => Some(Intent::OrderStatus),
        ids::MENU_FAQ => Some(Intent::Faq),
        ids::FAQ_DELIVERY => Some(Intent::FaqTopic(ids::FAQ_DELIVERY)),
        ids::FAQ_RETURNS => Some(Intent::FaqTopic(ids::FAQ_RETURNS)),
        ids::FAQ_PAYMENT => Some(Intent::FaqTopic(ids::FAQ_PAYMENT)),
        _ => None,
    };
    match content {
        MessageContent::Choice { id, .. } => by_id(id).unwrap_or(Intent::Unrecognised),
        MessageContent::QuickReply { payload, .. } => by_id(payload).unwrap_or(Intent::Unrecognised),
        MessageContent::Text(text) => {
            let words = normalise(text);
            if let Some(w) = AGENT_WORDS.iter().find(|w| contains_phrase(&words, w)) {
                Intent::Agent { words: (*w).to_owned() }
            } else if GREETING_WORDS.iter().any(|w| words.join(" ") == *w) {
                Intent::Greeting
            } else if contains_phrase(&words, "order status") || contains_phrase(&words, "where is my order") {
                Intent::OrderStatus
            } else if contains_phrase(&words, "faq") {
                Intent::Faq
            } else if words.is_empty() {
                Intent::Unrecognised
            } else {
                Intent::Text(text.trim().to_owned())
            }
        }
        _ => Intent::Unrecognised,
    }
}

fn normalise(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// True when the words contain the phrase as whole consecutive words.
fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let needle: Vec<&str> = phrase.split(' ').collect();
    words
        .windows(needle.len())
        .any(|w| w.iter().zip(&needle).all(|(a, b)| a == b))
}

/// An order number: 4 to 20 letters, digits or dashes, with an optional leading `#`.
pub fn parse_order_number(text: &str) -> Option<String> {
    let t = text.trim().trim_start_matches('#');
    let ok = (4..=20).contains(&t.len())
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then(|| t.to_uppercase())
}

pub mod texts {
    pub const GREETING: &str = "Hi! I'm the virtual assistant. How can I help you today?";
    pub const MENU_FOOTER: &str = "You can also type your question.";
    pub const ASK_ORDER: &str = "Please send your order number (for example #12345).";
    pub const BAD_ORDER: &str =
        "That doesn't look like an order number. It has 4 to 20 letters or digits, for example #12345.";
    pub const FAQ_INTRO: &str = "Here are our most asked questions. Pick one:";
    pub const FAQ_DELIVERY: &str = "Orders ship within 1 business day. Delivery takes 2 to 5 business days; you receive a tracking link by email when your parcel leaves.";
    pub const FAQ_RETURNS: &str = "You can return any item within 30 days of delivery. Start the return from your order page; the refund follows within 5 business days of receiving it.";
    pub const FAQ_PAYMENT: &str =
        "We accept cards (Visa, Mastercard, Amex), PayPal and bank transfer. You are charged when your order ships.";
    pub const ANYTHING_ELSE: &str = "Anything else I can help with?";
    pub const NOT_UNDERSTOOD: &str = "Sorry, I didn't understand that. Please pick an option:";
    pub const HANDOFF: &str = "I'm passing you to our support team. An agent will reply here as soon as possible, with your conversation so far, so you won't need to repeat yourself.";
    pub const HANDOFF_AFTER_FAILURES: &str =
        "I'm sorry I couldn't help. I'm passing you to our support team; an agent will reply here as soon as possible.";
}

fn main_menu(body: &str) -> OutboundBody {
    OutboundBody::Buttons {
        body: body.to_owned(),
        buttons: vec![
            Button {
                id: ids::MENU_ORDER_STATUS.into(),
                title: "Order status".into(),
            },
            Button {
                id: ids::MENU_FAQ.into(),
                title: "FAQ".into(),
            },
            Button {
                id: ids::MENU_AGENT.into(),
                title: "Talk to an agent".into(),
            },
        ],
        footer: Some(texts::MENU_FOOTER.into()),
    }
}

fn faq_menu() -> OutboundBody {
    OutboundBody::Buttons {
        body: texts::FAQ_INTRO.into(),
        buttons: vec![
            Button {
                id: ids::FAQ_DELIVERY.into(),
                title: "Delivery times".into(),
            },
            Button {
                id: ids::FAQ_RETURNS.into(),
                title: "Returns".into(),
            },
            Button {
                id: ids::FAQ_PAYMENT.into(),
                title: "Payment methods".into(),
            },
        ],
        footer: None,
    }
}

fn faq_answer(topic: &str) -> &'static str {
    match topic {
        ids::FAQ_DELIVERY => texts::FAQ_DELIVERY,
        ids::FAQ_RETURNS => texts::FAQ_RETURNS,
        _ => texts::FAQ_PAYMENT,
    }
}

/// Decides the bot's answer to one customer message.
///
/// `ticket_status` is the stored status of the conversation's ticket, if any:
/// a resolved ticket means the next message opens a new one; a ticket a human
/// owns means the bot stays silent and only records the message.
pub fn respond(
    mut conversation: Conversation,
    customer: &CustomerId,
    message: &InboundMessage,
    ticket_status: Option<TicketStatus>,
    now_ms: i64,
    settings: &BotSettings,
) -> Outcome {
    let at_ms = if message.timestamp > 0 {
        message.timestamp * 1000
    } else {
        now_ms
    };
    let content = message.content();
    let intent = intent_of(&content);

    let live = conversation.ticket_id.is_some() && ticket_status != Some(TicketStatus::Resolved);
    let new_ticket = !live;
    if new_ticket {
        conversation.ticket_id = Some(TicketId::opened_by(&message.wamid));
        conversation.mode = Mode::Bot;
        conversation.step = Step::Menu;
        conversation.failed_replies = 0;
    }
    let ticket_id = conversation.ticket_id.clone().expect("set above");
    if ticket_status.is_some_and(TicketStatus::human_owned) {
        conversation.mode = Mode::Human;
    }

    let mut out = Turn {
        ticket_id: &ticket_id,
        customer,
        message,
        at_ms,
        replies: Vec::new(),
        commands: Vec::new(),
    };
    out.commands.push(TicketCommand::RecordInbound {
        ticket_id: ticket_id.clone(),
        customer: customer.clone(),
        phone_number_id: message.business.phone_number_id.clone(),
        team: settings.default_team.clone(),
        contact_name: message.contact_name.clone(),
        wamid: message.wamid.clone(),
        at_ms,
        message_type: message.message_type.clone(),
        summary: content.summary(),
        message: message.message.clone(),
    });

    if conversation.mode == Mode::Human {
        conversation.remember(&message.wamid);
        return out.finish(conversation);
    }

    match (intent, conversation.step.clone()) {
        (Intent::Agent { words }, _) => {
            let reason = format!("The customer asked for an agent ({words}).");
            out.escalate(&mut conversation, settings, "direct_request", reason, None);
            out.reply(OutboundBody::text(texts::HANDOFF));
        }
        (Intent::Greeting, _) => {
            conversation.step = Step::Menu;
            out.reply(main_menu(texts::GREETING));
        }
        (_, _) if new_ticket => {
            conversation.step = Step::Menu;
            out.reply(main_menu(texts::GREETING));
        }
        (Intent::OrderStatus, _) => {
            conversation.step = Step::AwaitingOrderNumber;
            out.reply(OutboundBody::text(texts::ASK_ORDER));
        }
        (Intent::Faq, _) => {
            conversation.step = Step::Menu;
            out.reply(faq_menu());
        }
        (Intent::FaqTopic(topic), _) => {
            conversation.failed_replies = 0;
            conversation.step = Step::AnsweredFaq {
                topic: topic.to_owned(),
            };
            out.reply(OutboundBody::text(faq_answer(topic)));
            out.reply(main_menu(texts::ANYTHING_ELSE));
        }
        (Intent::Text(text), Step::AwaitingOrderNumber) => match parse_order_number(&text) {
            Some(order) => {
                // Order lookups need a data source; until one is configured an agent checks it.
                let reason = format!("Order status requested for order {order}.");
                out.escalate(&mut conversation, settings, "order_status", reason, Some(order.clone()));
                out.reply(OutboundBody::text(format!(
                    "Thanks! I've noted order {order}. {}",
                    texts::HANDOFF
                )));
            }
            None => out.fail(&mut conversation, settings, OutboundBody::text(texts::BAD_ORDER)),
        },
        (Intent::Text(_) | Intent::Unrecognised, _) => {
            out.fail(&mut conversation, settings, main_menu(texts::NOT_UNDERSTOOD));
        }
    }
    conversation.remember(&message.wamid);
    out.finish(conversation)
}

struct Turn<'a> {
    ticket_id: &'a TicketId,
    customer: &'a CustomerId,
    message: &'a InboundMessage,
    at_ms: i64,
    replies: Vec<OutboundRequest>,
    commands: Vec<TicketCommand>,
}

impl Turn<'_> {
    fn reply(&mut self, body: OutboundBody) {
        self.replies.push(OutboundRequest {
            idempotency_key: format!("bot:{}:{}", self.message.wamid, self.replies.len()),
            ticket_id: self.ticket_id.clone(),
            customer: self.customer.clone(),
            phone_number_id: self.message.business.phone_number_id.clone(),
            author: Author::Bot,
            body,
        });
    }

    fn escalate(
        &mut self,
        conversation: &mut Conversation,
        settings: &BotSettings,
        trigger: &str,
        reason: String,
        order_number: Option<String>,
    ) {
        conversation.mode = Mode::Human;
        conversation.step = Step::Menu;
        conversation.failed_replies = 0;
        self.commands.push(TicketCommand::Escalate {
            ticket_id: self.ticket_id.clone(),
            customer: self.customer.clone(),
            tier: 2,
            team: settings.default_team.clone(),
            priority: Priority::Normal,
            trigger: trigger.to_owned(),
            reason,
            order_number,
            at_ms: self.at_ms,
            cause: self.message.wamid.clone(),
        });
    }

    /// A failed bot reply: reprompt, or hand over once the limit is reached.
    fn fail(&mut self, conversation: &mut Conversation, settings: &BotSettings, reprompt: OutboundBody) {
        conversation.failed_replies += 1;
        if conversation.failed_replies >= settings.failure_limit {
            let reason = format!("{} bot replies in a row did not help.", conversation.failed_replies);
            self.escalate(conversation, settings, "failed_replies", reason, None);
            self.reply(OutboundBody::text(texts::HANDOFF_AFTER_FAILURES));
        } else {
            self.reply(reprompt);
        }
    }

    fn finish(self, conversation: Conversation) -> Outcome {
        Outcome {
            conversation,
            commands: self.commands,
            replies: self.replies,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::inbound::BusinessNumber;
    use serde_json::json;

    fn customer() -> CustomerId {
        CustomerId::parse("15550001111").unwrap()
    }

    fn text(wamid: &str, body: &str) -> InboundMessage {
        message(wamid, "text", json!({"type":"text","text":{"body":body}}))
    }

    fn button(wamid: &str, id: &str) -> InboundMessage {
        message(
            wamid,
            "interactive",
            json!({"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":id,"title":"whatever"}}}),
        )
    }

    fn message(wamid: &str, kind: &str, body: serde_json::Value) -> InboundMessage {
        InboundMessage {
            business: BusinessNumber {
                phone_number_id: "P1".into(),
                display_phone_number: None,
            },
            waba_id: None,
            customer: Some(customer()),
            contact_name: Some("Ana".into()),
            wamid: wamid.into(),
            timestamp: 1_700_000_000,
            message_type: kind.into(),
            message: body,
        }
    }

    fn step(conv: Conversation, m: &InboundMessage, status: Option<TicketStatus>) -> Outcome {
        respond(conv, &customer(), m, status, 0, &BotSettings::default())
    }

    fn escalations(o: &Outcome) -> Vec<&str> {
        o.commands
            .iter()
            .filter_map(|c| match c {
                TicketCommand::Escalate { trigger, .. } => Some(trigger.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_first_message_opens_a_ticket_and_gets_the_menu_as_reply_buttons() {
        let o = step(Conversation::new(customer()), &text("w1", "hi"), None);
        assert_eq!(o.conversation.ticket_id, Some(TicketId::opened_by("w1")));
        assert!(matches!(o.commands[0], TicketCommand::RecordInbound { .. }));
        let OutboundBody::Buttons { buttons, .. } = &o.replies[0].body else {
            panic!("expected buttons")
        };
        let ids: Vec<_> = buttons.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, [ids::MENU_ORDER_STATUS, ids::MENU_FAQ, ids::MENU_AGENT]);
        assert_eq!(o.replies[0].phone_number_id, "P1");
        o.replies.iter().for_each(|r| r.body.validate().unwrap());
    }

    #[test]
    fn the_agent_button_hands_the_ticket_to_tier_two_and_tells_the_customer() {
        let first = step(Conversation::new(customer()), &text("w1", "hi"), None);
        let o = step(
            first.conversation,
            &button("w2", ids::MENU_AGENT),
            Some(TicketStatus::Bot),
        );
        assert_eq!(escalations(&o), ["direct_request"]);
        assert_eq!(o.conversation.mode, Mode::Human);
        assert_eq!(o.replies[0].body, OutboundBody::text(texts::HANDOFF));
    }

    #[test]
    fn the_words_talk_to_an_agent_escalate_even_as_a_first_message() {
        let o = step(
            Conversation::new(customer()),
            &text("w1", "Can I talk to an AGENT please?"),
            None,
        );
        assert_eq!(escalations(&o), ["direct_request"]);
    }

    #[test]
    fn agent_inside_another_word_is_not_a_request() {
        assert_eq!(
            intent_of(&MessageContent::Text("the reagent spilled".into())),
            Intent::Text("the reagent spilled".into())
        );
    }

    #[test]
    fn while_a_human_owns_the_ticket_the_bot_records_but_stays_silent() {
        let first = step(Conversation::new(customer()), &text("w1", "agent"), None);
        let o = step(first.conversation, &text("w2", "hello?"), Some(TicketStatus::Queued));
        assert!(o.replies.is_empty());
        assert_eq!(o.commands.len(), 1);
        assert!(matches!(o.commands[0], TicketCommand::RecordInbound { .. }));
    }

    #[test]
    fn after_resolution_the_next_message_opens_a_new_ticket_and_the_bot_greets_again() {
        let first = step(Conversation::new(customer()), &text("w1", "agent"), None);
        let o = step(
            first.conversation,
            &text("w2", "thanks, one more thing"),
            Some(TicketStatus::Resolved),
        );
        assert_eq!(o.conversation.ticket_id, Some(TicketId::opened_by("w2")));
        assert_eq!(o.conversation.mode, Mode::Bot);
        assert!(matches!(&o.replies[0].body, OutboundBody::Buttons { body, .. } if body == texts::GREETING));
    }

    #[test]
    fn three_failed_replies_in_a_row_escalate_with_the_count_as_reason() {
        let mut conv = step(Conversation::new(customer()), &text("w0", "hi"), None).conversation;
        for i in 1..=2 {
            let o = step(conv, &text(&format!("w{i}"), "blorp"), Some(TicketStatus::Bot));
            assert!(escalations(&o).is_empty());
            conv = o.conversation;
        }
        let o = step(conv, &text("w3", "blorp"), Some(TicketStatus::Bot));
        assert_eq!(escalations(&o), ["failed_replies"]);
        let TicketCommand::Escalate { reason, .. } = &o.commands[1] else {
            panic!("expected an escalation")
        };
        assert!(reason.starts_with("3 bot replies"));
    }

    #[test]
    fn an_order_number_is_validated_then_handed_to_an_agent_with_the_number() {
        let conv = step(Conversation::new(customer()), &text("w0", "hi"), None).conversation;
        let conv = step(conv, &button("w1", ids::MENU_ORDER_STATUS), Some(TicketStatus::Bot)).conversation;
        assert_eq!(conv.step, Step::AwaitingOrderNumber);
        let bad = step(conv.clone(), &text("w2", "no idea"), Some(TicketStatus::Bot));
        assert_eq!(bad.replies[0].body, OutboundBody::text(texts::BAD_ORDER));
        let good = step(conv, &text("w3", "#ab-12345"), Some(TicketStatus::Bot));
        let TicketCommand::Escalate {
            order_number, trigger, ..
        } = &good.commands[1]
        else {
            panic!()
        };
        assert_eq!(
            (order_number.as_deref(), trigger.as_str()),
            (Some("AB-12345"), "order_status")
        );
    }

    #[test]
    fn an_faq_topic_is_answered_and_the_menu_offered_again() {
        let conv = step(Conversation::new(customer()), &text("w0", "hi"), None).conversation;
        let o = step(conv, &button("w1", ids::FAQ_RETURNS), Some(TicketStatus::Bot));
        assert_eq!(o.replies[0].body, OutboundBody::text(texts::FAQ_RETURNS));
        assert_eq!(o.replies.len(), 2);
    }

    #[test]
    fn reply_keys_are_stable_so_a_redelivered_message_is_deduplicated_downstream() {
        let a = step(Conversation::new(customer()), &text("w1", "hi"), None);
        let b = step(Conversation::new(customer()), &text("w1", "hi"), None);
        assert_eq!(a.replies[0].idempotency_key, b.replies[0].idempotency_key);
        assert_eq!(a.commands[0].dedupe_key(), b.commands[0].dedupe_key());
    }
}
