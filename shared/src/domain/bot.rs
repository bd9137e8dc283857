//! Tier 1: the bot's decision for a customer's new messages. Pure: it takes the
//! conversation, the ticket's status and what the handler looked up, and
//! returns the new conversation, the ticket commands and the replies. The
//! `bot` function does the I/O.

use crate::domain::commands::{MediaJob, TicketCommand};
use crate::domain::conversation::{CSAT_COMMENT_WINDOW_MS, Conversation, Mode, Step};
use crate::domain::desk::{Desk, MenuItem, MenuStyle, OrderSource, Team};
use crate::domain::i18n::{Arg, Catalog, Lang, detect_language};
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::{InboundMessage, MessageContent};
use crate::domain::notices::{CSAT_NO_COMMENT, csat_thanks, parse_csat_reply, wait_text, when_text};
use crate::domain::outbound::{Author, Button, OutboundBody, OutboundRequest, Row, Section};
use crate::domain::privacy::excerpt;
use crate::domain::sla::{Expected, expected_first_response};
use crate::domain::ticket::{CustomerTier, Priority, TicketStatus};
use crate::domain::triggers::{FrustrationScore, Normalised, TriggerHit};
use jiff::Timestamp;

/// The longest survey comment kept; the rest is cut.
pub const MAX_CSAT_COMMENT: usize = 1000;

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
    /// The customer's tier on their profile.
    pub vip: bool,
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

    if turn.ticket_status.is_some_and(TicketStatus::human_owned) {
        conversation.mode = Mode::Human;
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
            turn_out.commands.push(TicketCommand::ReturnToBot {
                ticket_id: ticket_id.clone(),
                customer: turn.customer.clone(),
                team: desk.config.desk.default_team.clone(),
                at_ms: now_ms,
                cause: first.wamid.clone(),
            });
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
            Some(MessageContent::Other(kind)) if kind == "unsupported" || kind == "unknown" => {
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
    if greeting_only {
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
    if new_ticket {
        turn_out.greet(&mut conversation);
        return turn_out.finish(conversation);
    }
    let body = turn_out.t("not-understood", &[]);
    let menu = turn_out.menu(body);
    turn_out.fail(&mut conversation, menu);
    turn_out.finish(conversation)
}

/// A score tapped in a satisfaction survey.
struct SurveyReply {
    ticket: TicketId,
    score: u8,
    /// The message carrying it.
    wamid: String,
}

/// The last survey reply naming the ticket the handler found.
fn survey_reply(turn: &Turn<'_>) -> Option<SurveyReply> {
    let rated = turn.rated_ticket.as_ref()?;
    turn.messages.iter().rev().find_map(|m| {
        let (ticket, score) = parse_csat_reply(&choice_of(m)?)?;
        (&ticket == rated).then(|| SurveyReply {
            ticket,
            score,
            wamid: m.wamid.clone(),
        })
    })
}

/// Records a survey score and thanks the customer, inviting a comment unless
/// humans are working on a newer ticket (the customer's next words are for them).
fn rate(
    mut conversation: Conversation,
    turn: &Turn<'_>,
    desk: &Desk,
    catalog: &Catalog,
    reply: SurveyReply,
    live: bool,
) -> Outcome {
    let mut out = Reply::new(desk, catalog, turn, &reply.ticket, &conversation);
    out.record(&mut conversation);
    out.commands.push(TicketCommand::RecordCsat {
        ticket_id: reply.ticket.clone(),
        customer: turn.customer.clone(),
        score: reply.score,
        wamid: reply.wamid.clone(),
        at_ms: out.at_ms(),
    });
    let ask_comment = !(live && conversation.mode == Mode::Human);
    if ask_comment {
        conversation.step = Step::AwaitingCsatComment {
            ticket_id: reply.ticket.clone(),
            asked_at_ms: out.at_ms(),
        };
    }
    out.reply(csat_thanks(catalog, out.lang, ask_comment));
    out.finish(conversation)
}

/// What the customer answered to the invitation to comment on their score.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SurveyAnswer {
    Comment(String),
    Declined,
}

/// Texts only are a comment (joined, trimmed, cut at [`MAX_CSAT_COMMENT`]); the
/// "No, thanks" button declines. Anything else (a file, another button) is not
/// an answer, and is handled as usual.
fn survey_comment(messages: &[InboundMessage]) -> Option<SurveyAnswer> {
    let contents: Vec<MessageContent> = messages.iter().map(InboundMessage::content).collect();
    if contents.iter().all(|c| matches!(c, MessageContent::Text(_))) {
        let texts: Vec<&str> = contents
            .iter()
            .filter_map(|c| match c {
                MessageContent::Text(t) => Some(t.trim()),
                _ => None,
            })
            .filter(|t| !t.is_empty())
            .collect();
        let comment: String = texts.join("\n").chars().take(MAX_CSAT_COMMENT).collect();
        let comment = comment.trim_end();
        return (!comment.is_empty()).then(|| SurveyAnswer::Comment(comment.to_owned()));
    }
    messages
        .iter()
        .any(|m| choice_of(m).as_deref() == Some(CSAT_NO_COMMENT))
        .then_some(SurveyAnswer::Declined)
}

/// Records the comment (if any) on the rated ticket and closes the survey with thanks.
fn comment(
    mut conversation: Conversation,
    turn: &Turn<'_>,
    desk: &Desk,
    catalog: &Catalog,
    rated: &TicketId,
    answer: SurveyAnswer,
) -> Outcome {
    let mut out = Reply::new(desk, catalog, turn, rated, &conversation);
    out.record(&mut conversation);
    if let SurveyAnswer::Comment(comment) = answer {
        out.commands.push(TicketCommand::RecordCsatComment {
            ticket_id: rated.clone(),
            customer: turn.customer.clone(),
            comment,
            wamid: out.cause().to_owned(),
            at_ms: out.at_ms(),
        });
    }
    out.reply(csat_thanks(catalog, out.lang, false));
    out.finish(conversation)
}

fn is_cancel(desk: &Desk, words: &Normalised) -> bool {
    // Only a short message that is the phrase: "cancel my order" is not "cancel".
    desk.config.keywords.cancel.values().flatten().any(|k| {
        let phrase = Normalised::new(k);
        words.contains_phrase(&phrase) && words.words.len() <= phrase.words.len() + 1
    })
}

/// Builds one turn's commands and replies.
struct Reply<'a> {
    desk: &'a Desk,
    catalog: &'a Catalog,
    turn: &'a Turn<'a>,
    ticket_id: &'a TicketId,
    lang: Lang,
    replies: Vec<OutboundRequest>,
    commands: Vec<TicketCommand>,
}

impl<'a> Reply<'a> {
    fn new(
        desk: &'a Desk,
        catalog: &'a Catalog,
        turn: &'a Turn<'a>,
        ticket_id: &'a TicketId,
        c: &Conversation,
    ) -> Self {
        Reply {
            desk,
            catalog,
            turn,
            ticket_id,
            lang: c.language.unwrap_or(desk.config.desk.default_language),
            replies: Vec::new(),
            commands: Vec::new(),
        }
    }

    fn t(&self, key: &str, args: &[(&str, Arg)]) -> String {
        self.catalog.text(self.lang, key, args)
    }

    /// Records the turn's messages on the reply's ticket (opening it when new).
    fn record(&mut self, conversation: &mut Conversation) {
        for message in self.turn.messages {
            let at_ms = if message.timestamp > 0 {
                message.timestamp * 1000
            } else {
                self.at_ms()
            };
            self.commands.push(TicketCommand::RecordInbound {
                ticket_id: self.ticket_id.clone(),
                customer: self.turn.customer.clone(),
                phone_number_id: message.business.phone_number_id.clone(),
                team: self.desk.config.desk.default_team.clone(),
                contact_name: message.contact_name.clone(),
                wamid: message.wamid.clone(),
                at_ms,
                message_type: message.message_type.clone(),
                summary: message.content().summary(),
                message: message.message.clone(),
            });
            conversation.remember(&message.wamid);
        }
    }

    fn at_ms(&self) -> i64 {
        self.turn.now.as_millisecond()
    }

    fn cause(&self) -> &str {
        &self.turn.messages[0].wamid
    }

    fn reply(&mut self, body: OutboundBody) {
        self.replies.push(OutboundRequest {
            idempotency_key: format!("bot:{}:{}", self.cause(), self.replies.len()),
            ticket_id: self.ticket_id.clone(),
            customer: self.turn.customer.clone(),
            phone_number_id: self.turn.messages[0].business.phone_number_id.clone(),
            author: Author::Bot,
            body,
        });
    }

    fn set_language(&mut self, lang: Lang) {
        self.commands.push(TicketCommand::SetCustomerLanguage {
            customer: self.turn.customer.clone(),
            ticket_id: Some(self.ticket_id.clone()),
            language: lang.code().to_owned(),
            at_ms: self.at_ms(),
        });
    }

    /// The main menu, as reply buttons or a list, with `body` above it.
    fn menu(&self, body: String) -> OutboundBody {
        let items = &self.desk.config.menu.items;
        let footer = Some(self.t("menu-footer", &[]));
        match self.desk.config.menu.style {
            MenuStyle::Buttons => OutboundBody::Buttons {
                body,
                buttons: items
                    .iter()
                    .map(|i| Button {
                        id: i.id().into(),
                        title: self.t(i.title_key(), &[]),
                    })
                    .collect(),
                footer,
            },
            MenuStyle::List => OutboundBody::List {
                body,
                button: self.t("list-button", &[]),
                sections: vec![Section {
                    title: None,
                    rows: items
                        .iter()
                        .map(|i| Row {
                            id: i.id().into(),
                            title: self.t(i.title_key(), &[]),
                            description: None,
                        })
                        .collect(),
                }],
                footer,
            },
        }
    }

    /// Greets the customer by the name on their WhatsApp profile, when it has one.
    fn greet(&mut self, conversation: &mut Conversation) {
        conversation.step = Step::Menu;
        let name = self
            .turn
            .messages
            .iter()
            .find_map(|m| m.contact_name.clone())
            .filter(|n| !n.trim().is_empty());
        let body = match name {
            Some(name) => self.t("greeting", &[("name", name.trim().to_owned().into())]),
            None => self.t("greeting-anonymous", &[]),
        };
        let menu = self.menu(body);
        self.reply(menu);
    }

    fn ask_order(&mut self, conversation: &mut Conversation) {
        conversation.step = Step::AwaitingOrderNumber;
        let example = self.desk.config.order_lookup.example.clone();
        let body = self.t("ask-order-number", &[("example", example.into())]);
        self.reply(OutboundBody::text(body));
    }

    fn answer_order(&mut self, conversation: &mut Conversation, order: String, answer: Option<OrderAnswer>) {
        conversation.order_number = Some(order.clone());
        conversation.step = Step::Menu;
        match answer {
            // No source configured: an agent looks it up.
            None => {
                let hit = TriggerHit::new("order_lookup", format!("order {order}: no order source is configured"));
                self.escalate(conversation, vec![hit], None);
            }
            Some(OrderAnswer::Found { status }) => {
                conversation.failed_replies = 0;
                let body = self.t("order-status", &[("order", order.into()), ("status", status.into())]);
                self.reply(OutboundBody::text(body));
                let more = self.t("menu-footer", &[]);
                let menu = self.menu(more);
                self.reply(menu);
            }
            Some(OrderAnswer::NotFound) => {
                let body = self.t("order-not-found", &[("order", order.into())]);
                let menu = self.menu(body);
                self.fail(conversation, menu);
            }
            Some(OrderAnswer::Unavailable) => {
                let body = self.t("order-source-down", &[]);
                let menu = self.menu(body);
                self.reply(menu);
            }
        }
    }

    /// A reply-button or list-row id.
    fn choose(&mut self, conversation: &mut Conversation, id: &str) {
        match MenuItem::from_id(id) {
            Some(MenuItem::OrderStatus) => return self.ask_order(conversation),
            Some(MenuItem::Faq) => {
                conversation.step = Step::Menu;
                let list = self.faq_list();
                return self.reply(list);
            }
            Some(MenuItem::Language) => {
                conversation.step = Step::ChoosingLanguage;
                let list = self.language_list();
                return self.reply(list);
            }
            Some(MenuItem::Agent) | None => {}
        }
        if let Some(faq) = id.strip_prefix(ids::FAQ_PREFIX).and_then(|f| self.desk.faq(f)) {
            conversation.step = Step::AnsweredFaq { topic: faq.id.clone() };
            conversation.intent = Some(format!("faq:{}", faq.id));
            let answer = faq
                .answer
                .get(&self.lang)
                .or_else(|| faq.answer.get(&Lang::En))
                .cloned()
                .unwrap_or_default();
            self.reply(OutboundBody::text(answer));
            let question = self.t("faq-solved-question", &[]);
            let buttons = vec![
                Button {
                    id: ids::SOLVED_YES.into(),
                    title: self.t("faq-yes", &[]),
                },
                Button {
                    id: ids::SOLVED_NO.into(),
                    title: self.t("faq-no", &[]),
                },
            ];
            return self.reply(OutboundBody::Buttons {
                body: question,
                buttons,
                footer: None,
            });
        }
        if let Some(lang) = id.strip_prefix(ids::LANG_PREFIX).and_then(Lang::parse) {
            conversation.language = Some(lang);
            conversation.language_chosen = true;
            conversation.step = Step::Menu;
            self.lang = lang;
            self.set_language(lang);
            let body = self.t("language-changed", &[("language", lang.native_name().into())]);
            let menu = self.menu(body);
            return self.reply(menu);
        }
        match id {
            ids::SOLVED_YES if matches!(conversation.step, Step::AnsweredFaq { .. }) => {
                conversation.step = Step::Menu;
                conversation.failed_replies = 0;
                let body = self.t("faq-glad", &[]);
                self.reply(OutboundBody::text(body));
                self.commands.push(TicketCommand::Resolve {
                    ticket_id: self.ticket_id.clone(),
                    customer: self.turn.customer.clone(),
                    by: Author::Bot,
                    at_ms: self.at_ms(),
                    request_id: self.cause().to_owned(),
                });
            }
            ids::SOLVED_NO if matches!(conversation.step, Step::AnsweredFaq { .. }) => {
                conversation.step = Step::Menu;
                let body = self.t("faq-sorry", &[]);
                let menu = self.menu(body);
                self.fail(conversation, menu);
            }
            // A stale or unknown button: show the menu again, without counting a failure.
            _ => {
                let body = self.t("not-understood", &[]);
                let menu = self.menu(body);
                self.reply(menu);
            }
        }
    }

    fn faq_list(&self) -> OutboundBody {
        let text = |m: &crate::domain::desk::LangMap<String>| {
            m.get(&self.lang)
                .or_else(|| m.get(&Lang::En))
                .cloned()
                .unwrap_or_default()
        };
        let mut rows: Vec<Row> = self
            .desk
            .config
            .faq
            .iter()
            .map(|e| Row {
                id: format!("{}{}", ids::FAQ_PREFIX, e.id),
                title: text(&e.title),
                description: Some(text(&e.question)),
            })
            .collect();
        rows.push(Row {
            id: MenuItem::Agent.id().into(),
            title: self.t(MenuItem::Agent.title_key(), &[]),
            description: None,
        });
        OutboundBody::List {
            body: self.t("faq-list-intro", &[]),
            button: self.t("list-button", &[]),
            sections: vec![Section { title: None, rows }],
            footer: None,
        }
    }

    fn language_list(&self) -> OutboundBody {
        OutboundBody::List {
            body: self.t("language-prompt", &[]),
            button: self.t("list-button", &[]),
            sections: vec![Section {
                title: None,
                rows: Lang::ALL
                    .iter()
                    .map(|l| Row {
                        id: format!("{}{}", ids::LANG_PREFIX, l.code()),
                        title: l.native_name().into(),
                        description: None,
                    })
                    .collect(),
            }],
            footer: None,
        }
    }

    /// A failed bot reply: reprompt, or hand over once the limit is reached.
    fn fail(&mut self, conversation: &mut Conversation, reprompt: OutboundBody) {
        conversation.failed_replies += 1;
        if conversation.failed_replies >= self.desk.config.desk.failure_limit {
            let hit = TriggerHit::new(
                "failed_replies",
                format!("{} bot replies in a row did not help", conversation.failed_replies),
            );
            self.escalate(conversation, vec![hit], None);
        } else {
            self.reply(reprompt);
        }
    }

    /// Hands the ticket to humans: routes it, records why, tells the customer what happens next.
    fn escalate(
        &mut self,
        conversation: &mut Conversation,
        mut hits: Vec<TriggerHit>,
        frustration: Option<FrustrationScore>,
    ) {
        let desk = self.desk;
        let category = conversation.category.as_deref().and_then(|c| desk.category(c));
        let team: &Team = category
            .and_then(|c| desk.team(&c.team))
            .unwrap_or_else(|| desk.default_team());
        let tier = category.and_then(|c| c.tier).unwrap_or(team.config.tier);
        let mut priority = category.map(|c| c.priority).unwrap_or(Priority::Normal);
        if self.turn.vip {
            priority = priority.max(desk.config.vip.priority);
        }
        if hits.iter().any(|h| h.name == "frustration") {
            priority = priority.max(Priority::High);
        }
        let team_name = team.name(self.lang).to_owned();
        let now = self.turn.now;
        let tz = team.calendar.time_zone();
        if !team.calendar.is_open(now) {
            let when = team
                .calendar
                .next_open(now)
                .map(|at| when_text(self.catalog, self.lang, tz, at))
                .unwrap_or_default();
            hits.push(TriggerHit::new(
                "out_of_hours",
                format!("{} is closed; it opens {when}", team.config.id),
            ));
        }
        // The customer hears what the ticket's SLA policy promises, counted in the team's calendar.
        let customer_tier = if self.turn.vip {
            CustomerTier::Vip
        } else {
            CustomerTier::Standard
        };
        let expected = expected_first_response(&desk.sla_context(&team.config.id, priority, customer_tier), now);
        let flavour = if hits.iter().any(|h| h.name == "vip") {
            "handoff-vip"
        } else if hits.iter().any(|h| h.name == "failed_replies") {
            "handoff-failures"
        } else {
            "handoff"
        };
        let body = match expected {
            Expected::Within(minutes) => {
                let wait = wait_text(self.catalog, self.lang, minutes);
                Some(self.t(flavour, &[("team", team_name.into()), ("wait", wait.into())]))
            }
            Expected::By(at) => {
                let when = when_text(self.catalog, self.lang, tz, at);
                let key = format!("{flavour}-by");
                Some(self.t(&key, &[("team", team_name.into()), ("when", when.into())]))
            }
            // Told once a day (the team's day): a customer who comes back after
            // cancelling already knows the team is away.
            Expected::Reopens(at) => {
                let today = now.to_zoned(tz.clone()).date();
                (conversation.out_of_hours_told_on != Some(today)).then(|| {
                    conversation.out_of_hours_told_on = Some(today);
                    let when = when_text(self.catalog, self.lang, tz, at);
                    let email = team
                        .config
                        .email
                        .clone()
                        .unwrap_or_else(|| desk.config.desk.support_email.clone());
                    self.t(
                        "handoff-out-of-hours",
                        &[
                            ("team", team_name.into()),
                            ("when", when.into()),
                            ("email", email.into()),
                        ],
                    )
                })
            }
        };
        let primary = hits[0].clone();
        let reason = hits
            .iter()
            .map(|h| format!("{}: {}", h.name, h.detail))
            .collect::<Vec<_>>()
            .join("; ");
        conversation.mode = Mode::Human;
        conversation.step = Step::Menu;
        conversation.failed_replies = 0;
        let text = texts_of(self.turn.messages);
        self.commands.push(TicketCommand::Escalate {
            ticket_id: self.ticket_id.clone(),
            customer: self.turn.customer.clone(),
            tier,
            team: team.config.id.clone(),
            priority,
            trigger: primary.name,
            reason,
            order_number: conversation.order_number.clone(),
            at_ms: self.at_ms(),
            cause: self.cause().to_owned(),
            triggers: hits,
            intent: conversation.intent.clone(),
            category: conversation.category.clone(),
            language: Some(self.lang.code().to_owned()),
            frustration,
            excerpt: (!text.is_empty()).then(|| excerpt(&text)),
        });
        if let Some(body) = body {
            self.reply(OutboundBody::text(body));
        }
    }

    fn finish(self, conversation: Conversation) -> Outcome {
        let bot_may_reply = conversation.mode == Mode::Bot;
        let lang = self.lang.code().to_owned();
        let media = self
            .turn
            .messages
            .iter()
            .filter_map(|m| {
                let MessageContent::Media { kind, caption } = m.content() else {
                    return None;
                };
                let payload = m.message.get(&kind)?;
                Some(MediaJob {
                    ticket_id: self.ticket_id.clone(),
                    customer: self.turn.customer.clone(),
                    phone_number_id: m.business.phone_number_id.clone(),
                    wamid: m.wamid.clone(),
                    media_id: payload.get("id")?.as_str()?.to_owned(),
                    claimed_mime: payload
                        .get("mime_type")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    message_type: kind,
                    caption,
                    language: lang.clone(),
                    bot_may_reply,
                    at_ms: if m.timestamp > 0 {
                        m.timestamp * 1000
                    } else {
                        self.at_ms()
                    },
                })
            })
            .collect();
        Outcome {
            conversation,
            commands: self.commands,
            replies: self.replies,
            media,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::desk::EMBEDDED_CONFIG;
    use crate::domain::inbound::BusinessNumber;
    use crate::domain::notices::csat_reply_id;
    use serde_json::{Value, json};

    /// Tuesday 24 November 2026, 10:00 in Paris: every team of the shipped configuration is open.
    const OPEN: &str = "2026-11-24T09:00:00Z";
    /// Sunday 22 November 2026, 10:00 in Paris: every team is closed.
    const CLOSED: &str = "2026-11-22T09:00:00Z";

    fn desk() -> Desk {
        Desk::from_toml(EMBEDDED_CONFIG, &Catalog::builtin()).unwrap()
    }

    fn desk_with_order_source() -> Desk {
        let text = EMBEDDED_CONFIG.replace(
            "[order_lookup.source]\nkind = \"none\"",
            "[order_lookup.source]\nkind = \"http\"\nurl = \"http://orders.example/{order}\"",
        );
        Desk::from_toml(&text, &Catalog::builtin()).unwrap()
    }

    fn customer() -> CustomerId {
        CustomerId::parse("15550001111").unwrap()
    }

    fn message(wamid: &str, kind: &str, body: Value) -> InboundMessage {
        InboundMessage {
            business: BusinessNumber {
                phone_number_id: "P1".into(),
                display_phone_number: None,
            },
            waba_id: None,
            customer: Some(customer()),
            contact_name: Some("Ana".into()),
            wamid: wamid.into(),
            timestamp: 1_795_000_000,
            message_type: kind.into(),
            message: body,
        }
    }

    fn text(wamid: &str, body: &str) -> InboundMessage {
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
    struct Chat {
        desk: Desk,
        catalog: Catalog,
        conversation: Conversation,
        status: Option<TicketStatus>,
        vip: bool,
        now: Timestamp,
        n: usize,
        /// Every ticket the conversation opened: the tickets a survey reply may rate.
        tickets: Vec<TicketId>,
    }

    impl Chat {
        fn new() -> Chat {
            Chat::with(desk())
        }
        fn with(desk: Desk) -> Chat {
            Chat {
                desk,
                catalog: Catalog::builtin(),
                conversation: Conversation::new(customer()),
                status: None,
                vip: false,
                now: OPEN.parse().unwrap(),
                n: 0,
                tickets: Vec::new(),
            }
        }
        fn send(&mut self, messages: Vec<InboundMessage>, order: Option<OrderAnswer>) -> Outcome {
            let turn = Turn {
                customer: &customer(),
                messages: &messages,
                ticket_status: self.status,
                vip: self.vip,
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
                .any(|c| matches!(c, TicketCommand::Escalate { .. }))
            {
                self.status = Some(TicketStatus::Queued);
            }
            outcome
        }
        fn say(&mut self, body: &str) -> Outcome {
            self.n += 1;
            let m = text(&format!("w{}", self.n), body);
            self.send(vec![m], None)
        }
        fn tap(&mut self, id: &str) -> Outcome {
            self.n += 1;
            let m = tap(&format!("w{}", self.n), id);
            self.send(vec![m], None)
        }
        fn t(&self, lang: Lang, key: &str) -> String {
            self.catalog.text(lang, key, &[])
        }
    }

    fn escalation(o: &Outcome) -> Option<&TicketCommand> {
        o.commands.iter().find(|c| matches!(c, TicketCommand::Escalate { .. }))
    }

    fn trigger_names(o: &Outcome) -> Vec<String> {
        match escalation(o) {
            Some(TicketCommand::Escalate { triggers, .. }) => triggers.iter().map(|t| t.name.clone()).collect(),
            _ => Vec::new(),
        }
    }

    fn body_text(r: &OutboundRequest) -> String {
        match &r.body {
            OutboundBody::Text { body } | OutboundBody::Buttons { body, .. } | OutboundBody::List { body, .. } => {
                body.clone()
            }
            OutboundBody::Template { name, .. } => name.clone(),
        }
    }

    fn row_ids(r: &OutboundRequest) -> Vec<String> {
        match &r.body {
            OutboundBody::List { sections, .. } => {
                sections.iter().flat_map(|s| &s.rows).map(|r| r.id.clone()).collect()
            }
            OutboundBody::Buttons { buttons, .. } => buttons.iter().map(|b| b.id.clone()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn a_greeting_gets_the_main_menu_routed_by_ids_within_the_cloud_api_limits() {
        let mut chat = Chat::new();
        let o = chat.say("hello");
        assert_eq!(
            row_ids(&o.replies[0]),
            ["menu.order_status", "menu.faq", "menu.agent", "menu.language"]
        );
        let hello_ana = chat.catalog.text(Lang::En, "greeting", &[("name", "Ana".into())]);
        assert_eq!(body_text(&o.replies[0]), hello_ana);
        assert!(hello_ana.starts_with("Hi Ana!"), "{hello_ana}");
        o.replies.iter().for_each(|r| r.body.validate().unwrap());
    }

    #[test]
    fn the_words_for_an_agent_in_french_escalate_and_the_customer_is_told_in_french_with_the_wait() {
        let mut chat = Chat::new();
        let o = chat.say("Bonjour, je voudrais parler à un conseiller s'il vous plaît");
        assert_eq!(trigger_names(&o), ["direct_request"]);
        let reply = body_text(&o.replies[0]);
        assert!(reply.contains("30 minutes"), "{reply}");
        assert_eq!(chat.conversation.language, Some(Lang::Fr));
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::SetCustomerLanguage { language, .. } if language == "fr"))
        );
    }

    #[test]
    fn a_sensitive_topic_goes_to_its_team_with_its_priority() {
        let mut chat = Chat::new();
        let o = chat.say("I was charged twice for my order, I need a refund");
        let Some(TicketCommand::Escalate {
            team,
            priority,
            tier,
            category,
            ..
        }) = escalation(&o)
        else {
            panic!()
        };
        assert_eq!((team.as_str(), *priority, *tier), ("billing", Priority::High, 2));
        assert_eq!(category.as_deref(), Some("billing"));
        assert_eq!(trigger_names(&o), ["sensitive_topic"]);
    }

    #[test]
    fn frustration_after_a_failed_answer_escalates_with_the_score_parts() {
        let mut chat = Chat::new();
        chat.say("Bonjour");
        let failed = chat.say("Je ne comprends pas du tout votre menu");
        assert_eq!(body_text(&failed.replies[0]), chat.t(Lang::Fr, "not-understood"));
        let o = chat.say("C'EST INUTILE !!!");
        assert_eq!(trigger_names(&o), ["frustration"]);
        let Some(TicketCommand::Escalate {
            frustration: Some(score),
            priority,
            language,
            ..
        }) = escalation(&o)
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
    fn a_vip_customer_skips_the_menu_with_a_higher_priority() {
        let mut chat = Chat::new();
        chat.vip = true;
        let o = chat.say("hello");
        let Some(TicketCommand::Escalate { priority, .. }) = escalation(&o) else {
            panic!()
        };
        assert_eq!(*priority, Priority::High);
        assert_eq!(trigger_names(&o), ["vip"]);
        assert!(body_text(&o.replies[0]).contains("valued customer"));
    }

    #[test]
    fn three_failed_replies_escalate_with_the_count() {
        let mut chat = Chat::new();
        chat.say("hi");
        assert!(escalation(&chat.say("qwerty")).is_none());
        assert!(escalation(&chat.say("asdfgh")).is_none());
        let o = chat.say("zxcvbn");
        assert_eq!(trigger_names(&o), ["failed_replies"]);
        assert!(body_text(&o.replies[0]).contains("couldn't help"));
    }

    #[test]
    fn out_of_hours_the_customer_learns_when_the_team_is_back_and_gets_the_email() {
        let mut chat = Chat::new();
        chat.now = CLOSED.parse().unwrap();
        let o = chat.say("talk to an agent please");
        assert_eq!(trigger_names(&o), ["direct_request", "out_of_hours"]);
        let reply = body_text(&o.replies[0]);
        assert!(reply.contains("Monday at 08:00"), "{reply}");
        assert!(reply.contains("help@acme.example"), "{reply}");
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
                .any(|c| matches!(c, TicketCommand::ReturnToBot { .. }))
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
                    .any(|c| matches!(c, TicketCommand::ReturnToBot { .. }))
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
                .any(|c| matches!(c, TicketCommand::ReturnToBot { .. }))
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
                .any(|c| matches!(c, TicketCommand::ReturnToBot { .. }))
        );
        assert!(matches!(o.commands[0], TicketCommand::RecordInbound { .. }));
    }

    #[test]
    fn an_faq_question_is_answered_then_yes_closes_the_ticket_as_solved_by_the_bot() {
        let mut chat = Chat::new();
        chat.say("hi");
        let o = chat.say("How long does delivery take?");
        assert!(body_text(&o.replies[0]).starts_with("Orders ship within 1 business day"));
        assert_eq!(row_ids(&o.replies[1]), [ids::SOLVED_YES, ids::SOLVED_NO]);
        let o = chat.tap(ids::SOLVED_YES);
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::Resolve { by: Author::Bot, .. }))
        );
    }

    #[test]
    fn no_to_an_faq_answer_counts_as_a_failed_reply() {
        let mut chat = Chat::new();
        chat.tap("faq.returns");
        let o = chat.tap(ids::SOLVED_NO);
        assert_eq!(chat.conversation.failed_replies, 1);
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "faq-sorry"));
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
        assert!(o.commands.iter().any(|c| matches!(c, TicketCommand::Resolve { .. })));
    }

    #[test]
    fn the_language_chosen_from_the_menu_sticks() {
        let mut chat = Chat::new();
        chat.tap("menu.language");
        let o = chat.tap("lang.de");
        assert!(body_text(&o.replies[0]).contains("Deutsch"));
        let o = chat.say("Hello, how long does delivery take please?");
        assert!(body_text(&o.replies[0]).starts_with("Bestellungen"));
    }

    #[test]
    fn an_order_number_is_validated_and_looked_up() {
        let mut chat = Chat::with(desk_with_order_source());
        chat.tap("menu.order_status");
        let bad = chat.say("no idea");
        assert!(body_text(&bad.replies[0]).contains("#12345"));
        assert_eq!(
            order_to_look_up(&chat.conversation, &[text("x", "#ab-1234")], &chat.desk),
            Some("AB-1234".into())
        );
        chat.n += 1;
        let found = chat.send(
            vec![text("w99", "#ab-1234")],
            Some(OrderAnswer::Found {
                status: "shipped".into(),
            }),
        );
        assert_eq!(body_text(&found.replies[0]), "Order AB-1234: shipped.");
    }

    #[test]
    fn an_unknown_order_or_a_source_that_is_down_gets_an_apology_never_an_error() {
        let mut chat = Chat::with(desk_with_order_source());
        chat.tap("menu.order_status");
        let o = chat.send(vec![text("w50", "ZZ-9999")], Some(OrderAnswer::NotFound));
        assert!(body_text(&o.replies[0]).contains("couldn't find order ZZ-9999"));
        chat.tap("menu.order_status");
        let o = chat.send(vec![text("w51", "AB-1234")], Some(OrderAnswer::Unavailable));
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "order-source-down"));
        assert!(row_ids(&o.replies[0]).contains(&"menu.agent".to_owned()));
    }

    #[test]
    fn without_an_order_source_an_agent_gets_the_order_number() {
        let mut chat = Chat::new();
        chat.tap("menu.order_status");
        let o = chat.say("AB-1234");
        let Some(TicketCommand::Escalate {
            order_number, trigger, ..
        }) = escalation(&o)
        else {
            panic!()
        };
        assert_eq!(
            (order_number.as_deref(), trigger.as_str()),
            (Some("AB-1234"), "order_lookup")
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
                .filter(|c| matches!(c, TicketCommand::RecordInbound { .. }))
                .count(),
            3
        );
        assert_eq!(o.replies.len(), 2, "one answer and its question");
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
        let Some(TicketCommand::Escalate { team, tier, .. }) = escalation(&o) else {
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
        assert!(!o.media[0].bot_may_reply, "a human owns the ticket now");
    }

    #[test]
    fn a_file_sent_to_the_bot_becomes_a_media_job_and_the_media_function_answers() {
        let mut chat = Chat::new();
        chat.say("hi");
        let doc = message(
            "d1",
            "document",
            json!({"type":"document","document":{"id":"MEDIA-2","mime_type":"application/pdf","filename":"invoice.pdf"}}),
        );
        let o = chat.send(vec![doc], None);
        assert!(o.replies.is_empty());
        assert_eq!(o.media.len(), 1);
        assert!(o.media[0].bot_may_reply);
        assert_eq!(o.media[0].message_type, "document");
    }

    /// A customer whose ticket an agent resolved, and the survey's reply id for `score`.
    fn resolved_chat() -> (Chat, TicketId) {
        let mut chat = Chat::new();
        chat.say("agent");
        chat.status = Some(TicketStatus::Resolved);
        let ticket = chat.conversation.ticket_id.clone().unwrap();
        (chat, ticket)
    }

    fn recorded_on(o: &Outcome) -> Vec<TicketId> {
        o.commands
            .iter()
            .filter_map(|c| match c {
                TicketCommand::RecordInbound { ticket_id, .. } => Some(ticket_id.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_survey_score_is_recorded_on_the_resolved_ticket_without_opening_another() {
        let (mut chat, ticket) = resolved_chat();
        let o = chat.tap(&csat_reply_id(&ticket, 4));
        assert_eq!(recorded_on(&o), std::slice::from_ref(&ticket));
        assert!(o.commands.iter().any(
            |c| matches!(c, TicketCommand::RecordCsat { ticket_id, score: 4, wamid, .. } if *ticket_id == ticket && wamid == "w2")
        ));
        assert!(escalation(&o).is_none());
        assert_eq!(chat.conversation.ticket_id, Some(ticket.clone()));
        assert_eq!(chat.conversation.failed_replies, 0);
        assert_eq!(o.replies[0].ticket_id, ticket);
        assert_eq!(o.replies[0].body, csat_thanks(&chat.catalog, Lang::En, true));
        assert!(matches!(&chat.conversation.step, Step::AwaitingCsatComment { ticket_id, .. } if *ticket_id == ticket));
    }

    #[test]
    fn a_score_tapped_on_the_closed_window_template_counts_like_a_list_reply() {
        let (mut chat, ticket) = resolved_chat();
        let payload = csat_reply_id(&ticket, 2);
        let m = message(
            "t1",
            "button",
            json!({"type":"button","button":{"payload": payload, "text":"⭐⭐"}}),
        );
        let o = chat.send(vec![m], None);
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::RecordCsat { score: 2, .. }))
        );
        assert_eq!(recorded_on(&o), [ticket]);
    }

    #[test]
    fn the_comment_after_a_score_is_recorded_trimmed_and_then_the_next_message_opens_a_new_ticket() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 5));
        let o = chat.say("  Quick and friendly, thank you!  ");
        assert_eq!(recorded_on(&o), std::slice::from_ref(&ticket));
        assert!(o.commands.iter().any(|c| matches!(
            c,
            TicketCommand::RecordCsatComment { ticket_id, comment, .. }
                if *ticket_id == ticket && comment == "Quick and friendly, thank you!"
        )));
        assert_eq!(body_text(&o.replies[0]), "Thank you for your feedback.");
        assert_eq!(chat.conversation.step, Step::Menu);

        let o = chat.say("hello again");
        assert_ne!(chat.conversation.ticket_id, Some(ticket));
        assert_eq!(row_ids(&o.replies[0])[0], "menu.order_status");
    }

    #[test]
    fn no_thanks_to_the_comment_ends_the_survey_with_thanks_and_records_no_comment() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 3));
        let o = chat.tap(CSAT_NO_COMMENT);
        assert_eq!(recorded_on(&o), [ticket]);
        assert!(
            !o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::RecordCsatComment { .. }))
        );
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "csat-thanks"));
        assert_eq!(chat.conversation.step, Step::Menu);
    }

    #[test]
    fn a_survey_comment_is_cut_at_a_thousand_characters() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 1));
        let o = chat.say(&"é".repeat(1500));
        let Some(TicketCommand::RecordCsatComment { comment, .. }) = o
            .commands
            .iter()
            .find(|c| matches!(c, TicketCommand::RecordCsatComment { .. }))
        else {
            panic!("no comment")
        };
        assert_eq!(comment.chars().count(), MAX_CSAT_COMMENT);
    }

    #[test]
    fn a_text_a_day_after_the_score_is_a_new_request_not_a_comment() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 4));
        chat.now += jiff::SignedDuration::from_hours(25);
        let o = chat.say("How long does delivery take?");
        assert!(
            !o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::RecordCsatComment { .. }))
        );
        assert_ne!(chat.conversation.ticket_id, Some(ticket));
        assert!(body_text(&o.replies[0]).starts_with("Orders ship"));
    }

    #[test]
    fn a_photo_instead_of_a_comment_leaves_the_survey_and_is_handled_as_usual() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 4));
        let photo = message(
            "p9",
            "image",
            json!({"type":"image","image":{"id":"MEDIA-9","mime_type":"image/jpeg"}}),
        );
        let o = chat.send(vec![photo], None);
        assert_eq!(chat.conversation.step, Step::Menu);
        assert_ne!(recorded_on(&o), [ticket]);
        assert_eq!(o.media.len(), 1);
    }

    #[test]
    fn a_survey_reply_for_a_ticket_the_handler_did_not_find_is_a_stale_button() {
        let mut chat = Chat::new();
        chat.say("hi");
        let unknown = TicketId::parse("TK-000000000000").unwrap();
        let o = chat.tap(&csat_reply_id(&unknown, 5));
        assert!(!o.commands.iter().any(|c| matches!(c, TicketCommand::RecordCsat { .. })));
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "not-understood"));
        assert_eq!(chat.conversation.failed_replies, 0);
    }

    #[test]
    fn a_score_while_an_agent_handles_a_newer_ticket_is_thanked_without_asking_for_a_comment() {
        let (mut chat, old) = resolved_chat();
        chat.say("I need an agent again");
        chat.status = Some(TicketStatus::Assigned);
        let o = chat.tap(&csat_reply_id(&old, 5));
        assert_eq!(recorded_on(&o), [old]);
        assert_eq!(o.replies[0].body, csat_thanks(&chat.catalog, Lang::En, false));
        assert_eq!(chat.conversation.step, Step::Menu);
        assert_eq!(chat.conversation.mode, Mode::Human);
    }

    /// Tuesday 24 November 2026, 19:45 in Paris: support closes at 20:00, 15 minutes into its 30.
    const CLOSING: &str = "2026-11-24T18:45:00Z";

    #[test]
    fn a_handoff_whose_wait_runs_past_closing_time_promises_an_answer_by_the_next_morning() {
        let mut chat = Chat::new();
        chat.now = CLOSING.parse().unwrap();
        let o = chat.say("talk to an agent please");
        assert_eq!(trigger_names(&o), ["direct_request"]);
        assert_eq!(
            body_text(&o.replies[0]),
            "I'm passing you to our support team. You'll get an answer by Wednesday at 08:15. \
             They'll see our conversation, so you won't need to repeat yourself."
        );
    }

    #[test]
    fn the_out_of_hours_reply_is_sent_once_a_day_but_every_handoff_records_the_trigger() {
        let mut chat = Chat::new();
        chat.now = CLOSED.parse().unwrap();
        let first = chat.say("talk to an agent please");
        assert_eq!(first.replies.len(), 1);
        chat.say("never mind");
        chat.status = Some(TicketStatus::Bot);
        let again = chat.say("talk to an agent please");
        assert_eq!(trigger_names(&again), ["direct_request", "out_of_hours"]);
        assert!(again.replies.is_empty(), "{:?}", again.replies);

        // Monday 00:30 in Paris: another day, still closed.
        chat.now = "2026-11-22T23:30:00Z".parse().unwrap();
        chat.say("never mind");
        chat.status = Some(TicketStatus::Bot);
        let next_day = chat.say("talk to an agent please");
        assert!(body_text(&next_day.replies[0]).contains("Monday at 08:00"));
    }

    #[test]
    fn a_redelivered_message_produces_the_same_dedupe_keys() {
        let a = Chat::new().say("hi");
        let b = Chat::new().say("hi");
        assert_eq!(a.replies[0].idempotency_key, b.replies[0].idempotency_key);
        assert_eq!(a.commands[0].dedupe_key(), b.commands[0].dedupe_key());
    }
}
