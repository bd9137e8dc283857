//! Tier 1: the bot's decision for a customer's new messages. Pure: it takes the
//! conversation, the ticket's status and what the handler looked up, and
//! returns the new conversation, the ticket commands and the replies. The
//! `bot` function does the I/O.

mod handoff;
mod reply;
mod survey;
#[cfg(test)]
mod testkit;

use crate::domain::commands::{MediaJob, Resolve, ReturnToBot, TicketCommand};
use crate::domain::consent::{ConsentStatus, keyword};
use crate::domain::conversation::{CSAT_COMMENT_WINDOW_MS, Conversation, Mode, Step};
use crate::domain::desk::{Desk, MenuItem, OrderSource};
use crate::domain::i18n::{Catalog, detect_language};
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::{InboundMessage, MessageContent};
use crate::domain::notices::parse_csat_reply;
use crate::domain::outbound::{Author, OutboundBody, OutboundRequest};
use crate::domain::ticket::TicketStatus;
use crate::domain::triggers::{FrustrationScore, Normalised, TriggerHit};
use jiff::Timestamp;
use reply::Reply;
use survey::{comment, rate, survey_comment, survey_reply};

pub use survey::MAX_CSAT_COMMENT;

/// Reply ids of the bot's own lists and buttons (the menu's are [`MenuItem::id`]).
pub mod ids {
    pub const FAQ_PREFIX: &str = "faq.";
    pub const LANG_PREFIX: &str = "lang.";
    pub const SOLVED_YES: &str = "solved.yes";
    pub const SOLVED_NO: &str = "solved.no";
}

/// What the handler found when asked to look an order up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderAnswer {
    Found {
        status: String,
    },
    NotFound,
    /// The source did not answer in time or failed.
    Unavailable,
}

/// Everything the decision reads besides the conversation.
#[derive(Debug, Clone)]
pub struct Turn<'a> {
    pub customer: &'a CustomerId,
    /// The customer's messages not handled yet, in order (one batch gets one reply).
    pub messages: &'a [InboundMessage],
    /// The stored status of the conversation's ticket, if any.
    pub ticket_status: Option<TicketStatus>,
    /// When an agent last handed that ticket back to the bot.
    pub ticket_handed_back_at_ms: Option<i64>,
    /// The customer's tier on their profile.
    pub vip: bool,
    /// The helpdesk knows the customer's phone (a team that needs it asks otherwise).
    pub phone_known: bool,
    /// The answer to [`order_to_look_up`], when it asked for one.
    pub order: Option<OrderAnswer>,
    /// The ticket named by a satisfaction-survey reply in `messages` (see
    /// [`rated_ticket_to_look_up`]), when the handler found it among the
    /// customer's tickets. A survey reply naming no such ticket is a stale button.
    pub rated_ticket: Option<TicketId>,
    pub now: Timestamp,
}

/// What the bot decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub conversation: Conversation,
    pub commands: Vec<TicketCommand>,
    pub replies: Vec<OutboundRequest>,
    /// Files the customer sent, for the media function.
    pub media: Vec<MediaJob>,
}

/// An agent gave the ticket back to the bot after the bot's latest handoff.
/// (Right after a handoff the ticket still reads `bot` until `tickets` applies
/// the escalation: that is not a hand-back.)
fn handed_back(conversation: &Conversation, turn: &Turn<'_>) -> bool {
    conversation.mode == Mode::Human
        && turn.ticket_status == Some(TicketStatus::Bot)
        && turn
            .ticket_handed_back_at_ms
            .is_some_and(|back| conversation.handed_at_ms.is_none_or(|handed| back > handed))
}

/// The order number the bot needs looked up before it can answer, if any.
pub fn order_to_look_up(conversation: &Conversation, messages: &[InboundMessage], desk: &Desk) -> Option<String> {
    if conversation.step != Step::AwaitingOrderNumber || desk.config.order_lookup.source == OrderSource::None {
        return None;
    }
    let text = texts_of(messages);
    desk.parse_order_number(&text)
}

/// The ticket a satisfaction-survey reply among `messages` rates, for the handler
/// to check that it exists and is the customer's before [`respond`].
pub fn rated_ticket_to_look_up(messages: &[InboundMessage]) -> Option<TicketId> {
    messages
        .iter()
        .rev()
        .filter_map(choice_of)
        .find_map(|id| parse_csat_reply(&id))
        .map(|(ticket, _)| ticket)
}

/// The id of a reply button or list row, or the payload of a template's quick reply.
fn choice_of(message: &InboundMessage) -> Option<String> {
    match message.content() {
        MessageContent::Choice { id, .. } => Some(id),
        MessageContent::QuickReply { payload, .. } => Some(payload),
        _ => None,
    }
}

fn texts_of(messages: &[InboundMessage]) -> String {
    messages
        .iter()
        .filter_map(|m| match m.content() {
            MessageContent::Text(t) => Some(t),
            MessageContent::Media { caption: Some(c), .. } => Some(c),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Decides the bot's answer to a customer's new messages.
pub fn respond(mut conversation: Conversation, turn: &Turn<'_>, desk: &Desk, catalog: &Catalog) -> Outcome {
    let first = &turn.messages[0];
    let now_ms = turn.now.as_millisecond();
    let live = conversation.ticket_id.is_some() && turn.ticket_status != Some(TicketStatus::Resolved);

    // A survey reply scores the ticket it names, whatever the conversation was
    // doing; its messages go on that ticket, and no new one opens.
    if let Some(reply) = survey_reply(turn) {
        return rate(conversation, turn, desk, catalog, reply, live);
    }
    if let Step::AwaitingCsatComment { ticket_id, asked_at_ms } = conversation.step.clone() {
        conversation.step = Step::Menu;
        if now_ms - asked_at_ms <= CSAT_COMMENT_WINDOW_MS
            && let Some(answer) = survey_comment(turn.messages)
        {
            return comment(conversation, turn, desk, catalog, &ticket_id, answer);
        }
    }

    let new_ticket = !live;
    if new_ticket {
        conversation.start_ticket(TicketId::opened_by(&first.wamid));
    }
    let ticket_id = conversation.ticket_id.clone().expect("set above");
    let text = texts_of(turn.messages);
    let words = Normalised::new(&text);

    let mut turn_out = Reply::new(desk, catalog, turn, &ticket_id, &conversation);
    turn_out.record(&mut conversation);

    // The customer's language: detected from what they write, unless they chose one.
    if !conversation.language_chosen
        && let Some(lang) = detect_language(&text).or_else(|| desk.language_hint(&words))
        && conversation.language != Some(lang)
    {
        conversation.language = Some(lang);
        turn_out.set_language(lang);
    }
    turn_out.lang = conversation.language.unwrap_or(desk.config.desk.default_language);

    // "STOP" or "START" alone: `tickets` records it; the bot confirms it
    // (while humans own the ticket, they see it on the timeline instead).
    if conversation.mode == Mode::Bot
        && !turn.ticket_status.is_some_and(TicketStatus::human_owned)
        && let Some(status) = keyword(&text)
    {
        let key = match status {
            ConsentStatus::OptedOut => "consent-opted-out",
            ConsentStatus::OptedIn => "consent-opted-in",
        };
        let body = turn_out.t(key, &[]);
        turn_out.reply(OutboundBody::text(body));
        // Nothing more to do on the ticket the keyword is on.
        turn_out.commands.push(TicketCommand::Resolve(Resolve {
            ticket_id: ticket_id.clone(),
            customer: turn.customer.clone(),
            by: Author::Bot,
            at_ms: now_ms,
            request_id: first.wamid.clone(),
        }));
        return turn_out.finish(conversation);
    }
    if turn.ticket_status.is_some_and(TicketStatus::human_owned) {
        conversation.mode = Mode::Human;
    } else if handed_back(&conversation, turn) {
        conversation.mode = Mode::Bot;
        conversation.step = Step::Menu;
        conversation.failed_replies = 0;
    }
    if conversation.mode == Mode::Human {
        // A customer still waiting in the queue may go back to the bot.
        // Waiting: queued, or the escalation the bot just sent is not applied yet.
        // Once an agent has answered, the customer is theirs.
        let waiting = turn.ticket_status != Some(TicketStatus::Assigned);
        if waiting && is_cancel(desk, &words) {
            conversation.mode = Mode::Bot;
            conversation.step = Step::Menu;
            conversation.failed_replies = 0;
            turn_out.commands.push(TicketCommand::ReturnToBot(ReturnToBot {
                ticket_id: ticket_id.clone(),
                customer: turn.customer.clone(),
                team: desk.config.desk.default_team.clone(),
                at_ms: now_ms,
                cause: first.wamid.clone(),
            }));
            let body = turn_out.t("back-to-bot", &[]);
            let menu = turn_out.menu(body);
            turn_out.reply(menu);
        }
        return turn_out.finish(conversation);
    }

    let choice = turn.messages.iter().rev().find_map(choice_of);

    // Escalation triggers, all recorded when several fire.
    let mut hits = Vec::new();
    if choice.as_deref() == Some(MenuItem::Agent.id()) {
        hits.push(TriggerHit::new("direct_request", "the \"talk to an agent\" option"));
    } else if let Some(word) = desk.find_keyword(&desk.config.keywords.agent, &words) {
        hits.push(TriggerHit::new("direct_request", format!("the words {word:?}")));
    }
    let category = desk.detect_category(&words);
    if let Some((c, word)) = category {
        conversation.category = Some(c.id.clone());
        if c.sensitive {
            hits.push(TriggerHit::new(
                "sensitive_topic",
                format!("{}: the words {word:?}", c.id),
            ));
        }
    }
    let fingerprint = words.fingerprint();
    let repeated = !words.words.is_empty() && conversation.recent_texts.contains(&fingerprint);
    let mut negative: Vec<String> = desk
        .config
        .keywords
        .negative
        .values()
        .flatten()
        .filter(|w| words.contains_phrase(&Normalised::new(w)))
        .cloned()
        .collect();
    // The same word may be listed in several languages ("inutile").
    negative.sort();
    negative.dedup();
    let frustration = FrustrationScore::of(&text, negative, repeated, &desk.config.frustration);
    if !words.words.is_empty() {
        conversation.remember_text(fingerprint);
    }
    if frustration.reaches(&desk.config.frustration) {
        hits.push(TriggerHit::new("frustration", frustration.explain()));
    }
    if new_ticket && turn.vip && desk.config.vip.skip_menu {
        hits.push(TriggerHit::new("vip", "VIP customer: straight to an agent"));
    }
    if !hits.is_empty() {
        turn_out.escalate(&mut conversation, hits, Some(frustration));
        return turn_out.finish(conversation);
    }

    if let Some(id) = choice {
        turn_out.choose(&mut conversation, &id);
        return turn_out.finish(conversation);
    }

    // Reactions: a thumbs up or down on an answer is its feedback.
    if let Some((_, emoji)) = turn.messages.iter().rev().find_map(|m| match m.content() {
        MessageContent::Reaction { to, emoji } => Some((to, emoji)),
        _ => None,
    }) {
        if matches!(conversation.step, Step::AnsweredFaq { .. }) {
            if emoji.starts_with('👍') {
                turn_out.choose(&mut conversation, ids::SOLVED_YES);
            } else if emoji.starts_with('👎') {
                turn_out.choose(&mut conversation, ids::SOLVED_NO);
            }
        }
        return turn_out.finish(conversation);
    }

    // A file in the turn: the media function answers once it has checked it
    // (a better photo, the answer its text found, or that it was received),
    // so the bot adds no second message of its own below.
    let has_media = turn
        .messages
        .iter()
        .any(|m| matches!(m.content(), MessageContent::Media { .. }));

    if words.words.is_empty() {
        let last = turn.messages.last().map(InboundMessage::content);
        match last {
            // The media function answers once it has checked the file; a photo the
            // bot asked for hands the ticket over with it.
            Some(MessageContent::Media { kind, .. }) => {
                if let Step::AwaitingPhoto { category } = conversation.step.clone()
                    && (kind == "image" || kind == "document")
                {
                    let hit = TriggerHit::new(
                        "guided_capture",
                        format!("{category}: the customer sent the photo asked for"),
                    );
                    turn_out.escalate(&mut conversation, vec![hit], None);
                }
            }
            Some(MessageContent::Location) => {
                let body = turn_out.t("received-location", &[]);
                turn_out.reply(OutboundBody::text(body));
            }
            Some(MessageContent::Contacts) => {
                let body = turn_out.t("received-contact", &[]);
                turn_out.reply(OutboundBody::text(body));
            }
            Some(MessageContent::Unsupported { .. }) => {
                let body = turn_out.t("unsupported-message", &[]);
                let menu = turn_out.menu(body);
                turn_out.reply(menu);
            }
            Some(MessageContent::Other(kind)) if kind == "unknown" => {
                let body = turn_out.t("unsupported-message", &[]);
                let menu = turn_out.menu(body);
                turn_out.reply(menu);
            }
            Some(MessageContent::Other(kind)) if kind == "request_welcome" => turn_out.greet(&mut conversation),
            // System notices, edits, revocations, orders, empty text: recorded, no reply.
            _ => {}
        }
        return turn_out.finish(conversation);
    }

    let greeting_only = words.words.len() <= 3 && desk.find_keyword(&desk.config.keywords.greeting, &words).is_some();
    if greeting_only && !has_media {
        turn_out.greet(&mut conversation);
        return turn_out.finish(conversation);
    }

    if conversation.step == Step::AwaitingOrderNumber {
        match desk.parse_order_number(&text) {
            Some(order) => turn_out.answer_order(&mut conversation, order, turn.order.clone()),
            None => {
                let example = desk.config.order_lookup.example.clone();
                let body = turn_out.t("bad-order-number", &[("example", example.into())]);
                turn_out.fail(&mut conversation, OutboundBody::text(body));
            }
        }
        return turn_out.finish(conversation);
    }
    if desk.find_keyword(&desk.config.keywords.order_status, &words).is_some() {
        turn_out.ask_order(&mut conversation);
        return turn_out.finish(conversation);
    }
    if let Some(entry) = desk.match_faq(&words) {
        let id = format!("{}{}", ids::FAQ_PREFIX, entry.id);
        turn_out.choose(&mut conversation, &id);
        return turn_out.finish(conversation);
    }
    if let Some((c, _)) = category
        && c.needs_photo
        && !matches!(conversation.step, Step::AwaitingPhoto { .. })
    {
        conversation.step = Step::AwaitingPhoto { category: c.id.clone() };
        let body = turn_out.t("photo-request", &[]);
        turn_out.reply(OutboundBody::text(body));
        return turn_out.finish(conversation);
    }
    if let Some((c, word)) = category {
        // A topic the bot cannot answer goes to the team that can.
        let hit = TriggerHit::new("topic", format!("{}: the words {word:?}", c.id));
        turn_out.escalate(&mut conversation, vec![hit], None);
        return turn_out.finish(conversation);
    }
    if has_media {
        return turn_out.finish(conversation);
    }
    if new_ticket {
        turn_out.greet(&mut conversation);
        return turn_out.finish(conversation);
    }
    let body = turn_out.t("not-understood", &[]);
    let menu = turn_out.menu(body);
    turn_out.fail(&mut conversation, menu);
    turn_out.finish(conversation)
}

fn is_cancel(desk: &Desk, words: &Normalised) -> bool {
    // Only a short message that is the phrase: "cancel my order" is not "cancel".
    desk.config.keywords.cancel.values().flatten().any(|k| {
        let phrase = Normalised::new(k);
        words.contains_phrase(&phrase) && words.words.len() <= phrase.words.len() + 1
    })
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use crate::domain::commands::{Escalate, RecordInbound, Resolve};
    use crate::domain::i18n::Lang;
    use crate::domain::ticket::Priority;
    use serde_json::json;

    #[test]
    fn frustration_after_a_failed_answer_escalates_with_the_score_parts() {
        let mut chat = Chat::new();
        chat.say("Bonjour");
        let failed = chat.say("Je ne comprends pas du tout votre menu");
        assert_eq!(body_text(&failed.replies[0]), chat.t(Lang::Fr, "not-understood"));
        let o = chat.say("C'EST INUTILE !!!");
        assert_eq!(trigger_names(&o), ["frustration"]);
        let Some(TicketCommand::Escalate(Escalate {
            frustration: Some(score),
            priority,
            language,
            ..
        })) = escalation(&o)
        else {
            panic!()
        };
        assert_eq!((score.caps, score.punctuation), (1.5, 1.0));
        assert_eq!(score.lexicon_words, ["inutile"]);
        assert_eq!(*priority, Priority::High);
        assert_eq!(language.as_deref(), Some("fr"));
        assert!(
            body_text(&o.replies[0]).starts_with("Je vous transfère")
                || body_text(&o.replies[0]).contains("support client")
        );
    }

    #[test]
    fn stop_alone_is_confirmed_once_and_closes_the_bots_ticket_but_waiting_for_an_agent_it_is_silent() {
        let mut chat = Chat::new();
        let o = chat.say("STOP");
        assert_eq!(o.replies.len(), 1);
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "consent-opted-out"));
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::Resolve(r) if r.by == Author::Bot))
        );

        let mut waiting = Chat::new();
        waiting.say("agent");
        let silent = waiting.say("stop");
        assert!(silent.replies.is_empty());
    }

    #[test]
    fn the_same_message_three_times_is_frustration() {
        let mut chat = Chat::new();
        chat.say("hi");
        chat.say("where is the thing I bought");
        let o = chat.say("where is the thing I bought");
        assert!(escalation(&o).is_none());
        let o = chat.say("WHERE IS THE THING I BOUGHT");
        assert_eq!(trigger_names(&o), ["frustration"]);
    }

    #[test]
    fn a_waiting_customer_who_writes_cancel_goes_back_to_the_bot_but_cancel_my_order_is_not_that() {
        let mut chat = Chat::new();
        chat.say("agent");
        let silent = chat.say("hello?");
        assert!(silent.replies.is_empty());
        let o = chat.say("never mind");
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::ReturnToBot(ReturnToBot { .. })))
        );
        assert_eq!(chat.conversation.mode, Mode::Bot);
        assert!(body_text(&o.replies[0]).contains("cancelled your request"));

        let mut chat = Chat::new();
        chat.say("agent");
        let o = chat.say("cancel my order now");
        assert!(
            o.replies.is_empty()
                && !o
                    .commands
                    .iter()
                    .any(|c| matches!(c, TicketCommand::ReturnToBot(ReturnToBot { .. })))
        );
    }

    #[test]
    fn cancel_works_even_before_the_escalation_reached_the_ticket() {
        let mut chat = Chat::new();
        chat.say("agent");
        // The tickets function has not applied the escalation yet.
        chat.status = Some(TicketStatus::Bot);
        let o = chat.say("never mind");
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::ReturnToBot(ReturnToBot { .. })))
        );
    }

    #[test]
    fn once_an_agent_owns_the_ticket_the_bot_is_silent_even_to_cancel() {
        let mut chat = Chat::new();
        chat.say("agent");
        chat.status = Some(TicketStatus::Assigned);
        let o = chat.say("cancel");
        assert!(o.replies.is_empty());
        assert!(
            !o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::ReturnToBot(ReturnToBot { .. })))
        );
        assert!(matches!(
            o.commands[0],
            TicketCommand::RecordInbound(RecordInbound { .. })
        ));
    }

    #[test]
    fn a_thumbs_up_on_an_answer_is_a_yes() {
        let mut chat = Chat::new();
        chat.tap("faq.payment");
        let m = message(
            "r1",
            "reaction",
            json!({"type":"reaction","reaction":{"message_id":"wamid.A","emoji":"👍"}}),
        );
        let o = chat.send(vec![m], None);
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::Resolve(Resolve { .. })))
        );
    }

    #[test]
    fn several_short_messages_in_one_batch_get_one_reply() {
        let mut chat = Chat::new();
        let o = chat.send(
            vec![text("a", "hi"), text("b", "how long does"), text("c", "delivery take?")],
            None,
        );
        assert_eq!(
            o.commands
                .iter()
                .filter(|c| matches!(c, TicketCommand::RecordInbound(RecordInbound { .. })))
                .count(),
            3
        );
        assert_eq!(o.replies.len(), 1, "one answer, asking whether it helped");
        assert!(body_text(&o.replies[0]).starts_with("Orders ship"));
    }

    #[test]
    fn locations_contacts_and_unsupported_messages_are_answered_gracefully() {
        let mut chat = Chat::new();
        chat.say("hi");
        let o = chat.send(
            vec![message(
                "l",
                "location",
                json!({"type":"location","location":{"latitude":1.0}}),
            )],
            None,
        );
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "received-location"));
        let o = chat.send(
            vec![message(
                "u",
                "unsupported",
                json!({"type":"unsupported","errors":[{"code":131051}]}),
            )],
            None,
        );
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "unsupported-message"));
        let o = chat.send(
            vec![message(
                "s",
                "system",
                json!({"type":"system","system":{"body":"changed"}}),
            )],
            None,
        );
        assert!(o.replies.is_empty());
        assert_eq!(chat.conversation.failed_replies, 0);
    }

    #[test]
    fn a_technical_topic_the_bot_cannot_answer_goes_to_the_specialists() {
        let mut chat = Chat::new();
        chat.say("hi");
        let o = chat.say("my device won't start, it shows an error code");
        let Some(TicketCommand::Escalate(Escalate { team, tier, .. })) = escalation(&o) else {
            panic!()
        };
        assert_eq!((team.as_str(), *tier), ("tech", 3));
    }

    #[test]
    fn after_resolution_the_next_message_opens_a_new_ticket() {
        let mut chat = Chat::new();
        chat.say("agent");
        let first = chat.conversation.ticket_id.clone();
        chat.status = Some(TicketStatus::Resolved);
        let o = chat.say("hello again");
        assert_ne!(chat.conversation.ticket_id, first);
        assert_eq!(row_ids(&o.replies[0])[0], "menu.order_status");
    }

    #[test]
    fn damaged_goods_get_a_photo_request_and_the_photo_hands_the_ticket_over_with_a_media_job() {
        let mut chat = Chat::new();
        chat.say("hi");
        let asked = chat.say("my parcel arrived broken");
        assert_eq!(body_text(&asked.replies[0]), chat.t(Lang::En, "photo-request"));
        assert!(escalation(&asked).is_none());
        let photo = message(
            "p1",
            "image",
            json!({"type":"image","image":{"id":"MEDIA-1","mime_type":"image/jpeg","sha256":"x"}}),
        );
        let o = chat.send(vec![photo], None);
        assert_eq!(trigger_names(&o), ["guided_capture"]);
        assert_eq!(o.media.len(), 1);
        assert_eq!(
            (o.media[0].media_id.as_str(), o.media[0].claimed_mime.as_str()),
            ("MEDIA-1", "image/jpeg")
        );
        assert!(!o.media[0].answers_turn, "a human owns the ticket now");
    }
}
