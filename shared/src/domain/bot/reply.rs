//! The reply builder: one turn's ticket commands and bot messages (the menu, FAQ
//! answers, the language list, order look-ups, reprompts) and the media jobs it starts.

use super::{OrderAnswer, Outcome, Turn, ids};
use crate::domain::commands::{MediaJob, RecordInbound, Resolve, SetCustomerLanguage, TicketCommand};
use crate::domain::conversation::{Conversation, Mode, Step};
use crate::domain::desk::{Desk, MenuItem, MenuStyle};
use crate::domain::i18n::{Arg, Catalog, Lang};
use crate::domain::ids::TicketId;
use crate::domain::inbound::MessageContent;
use crate::domain::outbound::{Author, Button, MAX_INTERACTIVE_BODY, OutboundBody, OutboundRequest, Row, Section};
use crate::domain::triggers::TriggerHit;

/// Builds one turn's commands and replies.
pub(super) struct Reply<'a> {
    pub(super) desk: &'a Desk,
    pub(super) catalog: &'a Catalog,
    pub(super) turn: &'a Turn<'a>,
    pub(super) ticket_id: &'a TicketId,
    pub(super) lang: Lang,
    replies: Vec<OutboundRequest>,
    pub(super) commands: Vec<TicketCommand>,
}

impl<'a> Reply<'a> {
    pub(super) fn new(
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

    pub(super) fn t(&self, key: &str, args: &[(&str, Arg)]) -> String {
        self.catalog.text(self.lang, key, args)
    }

    /// Records the turn's messages on the reply's ticket (opening it when new).
    pub(super) fn record(&mut self, conversation: &mut Conversation) {
        for message in self.turn.messages {
            let at_ms = if message.timestamp > 0 {
                message.timestamp * 1000
            } else {
                self.at_ms()
            };
            self.commands.push(TicketCommand::RecordInbound(RecordInbound {
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
            }));
            conversation.remember(&message.wamid);
        }
    }

    pub(super) fn at_ms(&self) -> i64 {
        self.turn.now.as_millisecond()
    }

    pub(super) fn cause(&self) -> &str {
        &self.turn.messages[0].wamid
    }

    pub(super) fn reply(&mut self, body: OutboundBody) {
        self.replies.push(OutboundRequest {
            idempotency_key: format!("bot:{}:{}", self.cause(), self.replies.len()),
            ticket_id: self.ticket_id.clone(),
            customer: self.turn.customer.clone(),
            phone_number_id: self.turn.messages[0].business.phone_number_id.clone(),
            author: Author::Bot,
            body,
        });
    }

    pub(super) fn set_language(&mut self, lang: Lang) {
        self.commands
            .push(TicketCommand::SetCustomerLanguage(SetCustomerLanguage {
                customer: self.turn.customer.clone(),
                ticket_id: Some(self.ticket_id.clone()),
                language: lang.code().to_owned(),
                at_ms: self.at_ms(),
                cause: self.cause().to_owned(),
            }));
    }

    /// The main menu, as reply buttons or a list, with `body` above it.
    pub(super) fn menu(&self, body: String) -> OutboundBody {
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
    pub(super) fn greet(&mut self, conversation: &mut Conversation) {
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

    pub(super) fn ask_order(&mut self, conversation: &mut Conversation) {
        conversation.step = Step::AwaitingOrderNumber;
        let example = self.desk.config.order_lookup.example.clone();
        let body = self.t("ask-order-number", &[("example", example.into())]);
        self.reply(OutboundBody::text(body));
    }

    pub(super) fn answer_order(&mut self, conversation: &mut Conversation, order: String, answer: Option<OrderAnswer>) {
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
                // One message: the status above the menu (its footer asks what else).
                let body = self.t("order-status", &[("order", order.into()), ("status", status.into())]);
                let menu = self.menu(body);
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
    pub(super) fn choose(&mut self, conversation: &mut Conversation, id: &str) {
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
            // One message, the answer above the yes/no buttons; an answer too
            // long for an interactive body goes first, as text.
            let body = format!("{answer}\n\n{question}");
            if body.chars().count() <= MAX_INTERACTIVE_BODY {
                return self.reply(OutboundBody::Buttons {
                    body,
                    buttons,
                    footer: None,
                });
            }
            self.reply(OutboundBody::text(answer));
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
                self.commands.push(TicketCommand::Resolve(Resolve {
                    ticket_id: self.ticket_id.clone(),
                    customer: self.turn.customer.clone(),
                    by: Author::Bot,
                    at_ms: self.at_ms(),
                    request_id: self.cause().to_owned(),
                }));
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
    pub(super) fn fail(&mut self, conversation: &mut Conversation, reprompt: OutboundBody) {
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

    pub(super) fn finish(self, conversation: Conversation) -> Outcome {
        // One turn, one answer: when the bot said nothing, the media function's
        // message about the turn's last file is the answer (an album gets one).
        let bot_silent = conversation.mode == Mode::Bot && self.replies.is_empty();
        let last_file = self
            .turn
            .messages
            .iter()
            .rev()
            .find(|m| matches!(m.content(), MessageContent::Media { .. }))
            .map(|m| m.wamid.clone());
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
                    answers_turn: bot_silent && last_file.as_deref() == Some(m.wamid.as_str()),
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
    use crate::domain::bot::order_to_look_up;
    use crate::domain::bot::testkit::*;
    use crate::domain::commands::Escalate;
    use crate::domain::desk::EMBEDDED_CONFIG;
    use serde_json::json;

    fn desk_with_order_source() -> Desk {
        let text = EMBEDDED_CONFIG.replace(
            "[order_lookup.source]\nkind = \"none\"",
            "[order_lookup.source]\nkind = \"http\"\nurl = \"http://orders.example/{order}\"",
        );
        Desk::from_toml(&text, &Catalog::builtin()).unwrap()
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
    fn an_faq_question_is_answered_then_yes_closes_the_ticket_as_solved_by_the_bot() {
        let mut chat = Chat::new();
        chat.say("hi");
        let o = chat.say("How long does delivery take?");
        assert_eq!(o.replies.len(), 1, "the answer and its question are one message");
        assert!(body_text(&o.replies[0]).starts_with("Orders ship within 1 business day"));
        assert!(body_text(&o.replies[0]).ends_with("Did this answer your question?"));
        assert_eq!(row_ids(&o.replies[0]), [ids::SOLVED_YES, ids::SOLVED_NO]);
        let o = chat.tap(ids::SOLVED_YES);
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::Resolve(Resolve { by: Author::Bot, .. })))
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
        assert_eq!(found.replies.len(), 1, "the status and the menu are one message");
        assert_eq!(body_text(&found.replies[0]), "Order AB-1234: shipped.");
        assert_eq!(row_ids(&found.replies[0]).len(), chat.desk.config.menu.items.len());
    }

    #[test]
    fn an_faq_answer_too_long_for_an_interactive_body_goes_first_as_text() {
        let long = "x".repeat(MAX_INTERACTIVE_BODY);
        let config = EMBEDDED_CONFIG.replacen(
            "Orders ship within 1 business day",
            &format!("{long} Orders ship within 1 business day"),
            1,
        );
        assert_ne!(config, EMBEDDED_CONFIG, "the shipped delivery answer changed");
        let mut chat = Chat::with(Desk::from_toml(&config, &Catalog::builtin()).unwrap());
        chat.say("hi");

        let o = chat.say("How long does delivery take?");

        assert_eq!(o.replies.len(), 2);
        assert!(body_text(&o.replies[0]).starts_with(&long));
        assert_eq!(row_ids(&o.replies[1]), [ids::SOLVED_YES, ids::SOLVED_NO]);
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
        let Some(TicketCommand::Escalate(Escalate {
            order_number, trigger, ..
        })) = escalation(&o)
        else {
            panic!()
        };
        assert_eq!(
            (order_number.as_deref(), trigger.as_str()),
            (Some("AB-1234"), "order_lookup")
        );
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
        assert!(o.media[0].answers_turn);
        assert_eq!(o.media[0].message_type, "document");
    }

    #[test]
    fn an_album_of_three_photos_in_the_menu_gets_one_answer_about_the_last() {
        let mut chat = Chat::new();
        chat.say("hi");
        let photo = |n: u32| {
            message(
                &format!("p{n}"),
                "image",
                json!({"type":"image","image":{"id": format!("MEDIA-{n}"),"mime_type":"image/jpeg"}}),
            )
        };

        let o = chat.send(vec![photo(1), photo(2), photo(3)], None);

        assert!(o.replies.is_empty(), "never \"not understood\": {:?}", o.replies);
        let answering: Vec<(&str, bool)> = o.media.iter().map(|m| (m.wamid.as_str(), m.answers_turn)).collect();
        assert_eq!(answering, [("p1", false), ("p2", false), ("p3", true)]);
    }

    #[test]
    fn a_redelivered_message_produces_the_same_dedupe_keys() {
        let a = Chat::new().say("hi");
        let b = Chat::new().say("hi");
        assert_eq!(a.replies[0].idempotency_key, b.replies[0].idempotency_key);
        assert_eq!(a.commands[0].dedupe_key(), b.commands[0].dedupe_key());
    }
}
