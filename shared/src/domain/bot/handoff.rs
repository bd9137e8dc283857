//! The handoff to humans: which team, tier and priority a ticket goes to, why, and
//! what the customer is told about the wait (or the team's opening hours).

use super::reply::Reply;
use super::texts_of;
use crate::domain::commands::{Escalate, TicketCommand};
use crate::domain::conversation::{Conversation, Mode, Step};
use crate::domain::desk::Team;
use crate::domain::notices::{wait_text, when_text};
use crate::domain::outbound::OutboundBody;
use crate::domain::privacy::excerpt;
use crate::domain::sla::{Expected, expected_first_response};
use crate::domain::ticket::{CustomerTier, Priority};
use crate::domain::triggers::{FrustrationScore, TriggerHit};

impl Reply<'_> {
    /// Hands the ticket to humans: routes it, records why, tells the customer what happens next.
    pub(super) fn escalate(
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
        conversation.handed_at_ms = Some(self.turn.now.as_millisecond());
        conversation.step = Step::Menu;
        conversation.failed_replies = 0;
        let text = texts_of(self.turn.messages);
        self.commands.push(TicketCommand::Escalate(Escalate {
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
        }));
        // A team that needs the customer's phone asks for it in the same message.
        let ask_phone = category.is_some_and(|c| c.needs_phone) && !self.turn.phone_known;
        match (body, ask_phone) {
            (Some(body), true) => {
                let ask = self.t("contact-request", &[]);
                self.reply(OutboundBody::RequestContactInfo {
                    body: format!("{body}\n\n{ask}"),
                })
            }
            (None, true) => {
                let ask = self.t("contact-request", &[]);
                self.reply(OutboundBody::RequestContactInfo { body: ask })
            }
            (Some(body), false) => self.reply(OutboundBody::text(body)),
            (None, false) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::bot::testkit::*;
    use crate::domain::commands::SetCustomerLanguage;
    use crate::domain::i18n::Lang;
    use crate::domain::ticket::TicketStatus;

    /// Sunday 22 November 2026, 10:00 in Paris: every team is closed.
    const CLOSED: &str = "2026-11-22T09:00:00Z";
    /// Tuesday 24 November 2026, 19:45 in Paris: support closes at 20:00, 15 minutes into its 30.
    const CLOSING: &str = "2026-11-24T18:45:00Z";

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
                .any(|c| matches!(c, TicketCommand::SetCustomerLanguage(SetCustomerLanguage { language, .. }) if language == "fr"))
        );
    }

    #[test]
    fn a_ticket_an_agent_handed_back_gets_the_bot_again_but_a_pending_handoff_does_not() {
        let mut chat = Chat::new();
        chat.say("I want to talk to an agent");
        assert_eq!(chat.conversation.mode, Mode::Human);
        let handed = chat.conversation.handed_at_ms.unwrap();

        // The escalation is not applied yet: the ticket still reads `bot`.
        chat.status = Some(TicketStatus::Bot);
        let waiting = chat.say("hello?");
        assert!(waiting.replies.is_empty(), "{:?}", waiting.replies);

        // An agent hands it back after the handoff: the bot answers again.
        chat.handed_back_at_ms = Some(handed + 60_000);
        let back = chat.say("hi");
        assert_eq!(chat.conversation.mode, Mode::Bot);
        assert_eq!(back.replies.len(), 1);
    }

    #[test]
    fn a_sensitive_topic_goes_to_its_team_with_its_priority() {
        let mut chat = Chat::new();
        let o = chat.say("I was charged twice for my order, I need a refund");
        let Some(TicketCommand::Escalate(Escalate {
            team,
            priority,
            tier,
            category,
            ..
        })) = escalation(&o)
        else {
            panic!()
        };
        assert_eq!((team.as_str(), *priority, *tier), ("billing", Priority::High, 2));
        assert_eq!(category.as_deref(), Some("billing"));
        assert_eq!(trigger_names(&o), ["sensitive_topic"]);
    }

    #[test]
    fn a_vip_customer_skips_the_menu_with_a_higher_priority() {
        let mut chat = Chat::new();
        chat.vip = true;
        let o = chat.say("hello");
        let Some(TicketCommand::Escalate(Escalate { priority, .. })) = escalation(&o) else {
            panic!()
        };
        assert_eq!(*priority, Priority::High);
        assert_eq!(trigger_names(&o), ["vip"]);
        assert!(body_text(&o.replies[0]).contains("valued customer"));
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
}
