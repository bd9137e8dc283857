//! What agents do to a ticket: answer it (they own it from then on, and the
//! owed response is met) and resolve it (the clocks end, the resolution is
//! counted, and the customer is asked to rate the help).

use super::{DecideError, Decision, Figure, Loaded, Measure, Rules, change, csat, window_open};
use crate::domain::commands::{AgentReplied, Resolve};
use crate::domain::events::{DomainEvent, TicketRef, TicketResolved};
use crate::domain::outbound::Author;
use crate::domain::reports::Counters;
use crate::domain::ticket::{Ticket, TicketStatus};

/// An agent answered the customer: they own the ticket, and the first (or
/// next) response is met. The answer is sent from here, so one the ticket
/// cannot take — resolved, changed since the agent's version, a free-form
/// message after the 24-hour window — is never sent, and the timeline says why.
pub(super) fn replied(loaded: &Loaded, c: &AgentReplied, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    change(loaded, &c.ticket_id, None, |t, fx| {
        let refusal = if t.status == TicketStatus::Resolved {
            Some("the ticket is resolved".to_owned())
        } else if let Some(reason) = stale(t, c.expected_version) {
            Some(reason)
        } else if c.body.as_ref().is_some_and(|b| b.needs_window()) && !window_open(t, c.at_ms) {
            Some("the 24-hour window is closed: only a template reaches the customer".to_owned())
        } else {
            None
        };
        if let Some(why) = refusal {
            if c.body.is_some() {
                fx.entry(
                    format!("reply_refused.{}", c.idempotency_key),
                    c.at_ms,
                    Author::Agent(c.agent.clone()),
                    "reply_refused",
                    format!("{}'s reply was not sent: {why}", c.agent),
                );
            }
            return;
        }
        if t.agent_replied(&c.agent, c.at_ms).is_err() {
            return;
        }
        if let Some(body) = &c.body {
            fx.send_for_agent(
                t,
                &c.agent,
                format!("agent:{}:{}", t.id, c.idempotency_key),
                body.clone(),
            );
        }
        let ctx = rules.sla_context(t);
        if let Some(sla) = &mut t.sla {
            let outcomes = sla.agent_replied(&ctx, c.at_ms);
            fx.clock_outcomes(t, outcomes);
        }
    })
}

/// Resolves the ticket once: the clocks end (and are counted), the team's
/// tools hear of it, and an agent's resolution asks the customer for a score.
pub(super) fn resolve(loaded: &Loaded, c: &Resolve, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    change(loaded, &c.ticket_id, None, |t, fx| {
        let ctx = rules.sla_context(t);
        let outcomes = t
            .sla
            .as_mut()
            .map(|sla| sla.resolved(&ctx, c.at_ms))
            .unwrap_or_default();
        if !t.resolve(c.by.clone(), c.at_ms) {
            return;
        }
        t.sla = None;
        fx.clock_outcomes(t, outcomes);
        fx.publish(DomainEvent::TicketResolved(TicketResolved {
            ticket: TicketRef::of(t, c.at_ms),
        }));
        // What a resolved ticket cost in messages, apart for the bot alone and
        // for tickets a human handled (each message is billed since 2026-10-01).
        let reached_human = t.reached_a_human();
        let counters = Counters {
            resolved: 1,
            resolved_by_bot: u64::from(c.by == Author::Bot),
            resolved_bot_only: u64::from(!reached_human),
            resolved_human: u64::from(reached_human),
            ..Counters::resolved_messages(t, u64::from(t.messages_sent))
        };
        fx.fact(t, "resolved".into(), c.at_ms, counters);
        let who = match &c.by {
            Author::Agent(name) => name.clone(),
            other => format!("{other:?}").to_lowercase(),
        };
        fx.entry(
            format!("resolved.{}", c.at_ms),
            c.at_ms,
            c.by.clone(),
            "resolved",
            format!("Resolved by {who}"),
        );
        if matches!(c.by, Author::Agent(_)) {
            csat::ask(rules, t, fx, c.at_ms);
        }
    })
}

/// Why an action on version `expected` cannot apply to `t`: someone changed
/// the ticket in between.
pub(super) fn stale(t: &Ticket, expected: Option<u64>) -> Option<String> {
    expected
        .filter(|v| *v != t.version)
        .map(|v| format!("the ticket changed since version {v} (now {})", t.version))
}

/// The figure of a satisfaction score, per team.
pub(super) fn csat_measure(team: &str, score: u8) -> Measure {
    Measure {
        team: team.to_owned(),
        desk_wide: false,
        figures: vec![Figure {
            name: "CsatScore",
            value: f64::from(score),
            count: false,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Effect, decide};
    use crate::domain::commands::{AgentReplied, Resolve, TicketCommand};
    use crate::domain::events::DomainEvent;
    use crate::domain::outbound::{Author, OutboundBody};
    use crate::domain::sla::Metric;
    use crate::domain::ticket::TicketStatus;

    fn replied(agent: &str, at_ms: i64) -> TicketCommand {
        TicketCommand::AgentReplied(AgentReplied {
            ticket_id: ticket_id(),
            customer: customer(),
            agent: agent.into(),
            at_ms,
            idempotency_key: format!("k{at_ms}"),
            body: None,
            expected_version: None,
        })
    }

    fn reply_with(text: &str, at_ms: i64, expected_version: Option<u64>) -> TicketCommand {
        TicketCommand::AgentReplied(AgentReplied {
            ticket_id: ticket_id(),
            customer: customer(),
            agent: "ana".into(),
            at_ms,
            idempotency_key: format!("k{at_ms}"),
            body: Some(OutboundBody::text(text)),
            expected_version,
        })
    }

    #[test]
    fn a_resolved_ticket_is_kept_for_the_retention_then_for_good_once_reopened() {
        const DAY_MS: i64 = 24 * 60 * 60 * 1000;
        let resolve = TicketCommand::Resolve(Resolve {
            ticket_id: ticket_id(),
            customer: customer(),
            by: Author::Agent("ana".into()),
            at_ms: 60_000,
            request_id: "r".into(),
        });
        let rules = super::super::Rules {
            retention_days: 30,
            ..rules()
        };

        let d = decide(&loaded(Some(queued_ticket(0))), &resolve, &rules).unwrap();

        let resolved = d.ticket.clone().unwrap();
        assert_eq!(resolved.keep_until_ms, Some(60_000 + 30 * DAY_MS));
        assert!(d.after_save.contains(&Effect::KeepItemsUntil {
            ticket: ticket_id(),
            until_ms: Some(60_000 + 30 * DAY_MS),
        }));

        let reopen = TicketCommand::AgentAction(crate::domain::commands::AgentAction {
            ticket_id: ticket_id(),
            customer: customer(),
            agent: "ana".into(),
            at_ms: 120_000,
            request_id: "again".into(),
            expected_version: None,
            action: crate::domain::commands::Action::Reopen,
        });
        let d = decide(&loaded(Some(saved(resolved))), &reopen, &rules).unwrap();
        assert_eq!(d.ticket.as_ref().unwrap().keep_until_ms, None);
        assert!(d.after_save.contains(&Effect::KeepItemsUntil {
            ticket: ticket_id(),
            until_ms: None,
        }));
        // An open ticket that stays open asks for nothing.
        let d = decide(&loaded(Some(queued_ticket(0))), &replied("ana", 1), &rules).unwrap();
        assert!(!d.after_save.iter().any(|e| matches!(e, Effect::KeepItemsUntil { .. })));
    }

    #[test]
    fn an_agents_reply_is_sent_by_the_decision_that_gives_them_the_ticket() {
        let mut t = queued_ticket(0);
        t.last_customer_message_at_ms = Some(0);

        let d = decide(&loaded(Some(t)), &reply_with("On it", 60_000, None), &rules()).unwrap();

        let out = sent(&d);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].author, Author::Agent("ana".into()));
        assert_eq!(out[0].body, OutboundBody::text("On it"));
        assert_eq!(out[0].idempotency_key, format!("agent:{}:k60000", ticket_id()));
        assert_eq!(d.ticket.unwrap().assignee.as_deref(), Some("ana"));
    }

    #[test]
    fn a_reply_on_a_changed_ticket_or_after_the_window_is_not_sent_and_the_timeline_says_why() {
        let mut t = queued_ticket(0);
        t.last_customer_message_at_ms = Some(0);
        t.version = 4;

        let stale = decide(&loaded(Some(t.clone())), &reply_with("late", 60_000, Some(3)), &rules()).unwrap();
        assert!(sent(&stale).is_empty() && stale.ticket.is_none());
        assert_eq!(entry_kinds(&stale), ["reply_refused"]);

        let day = 24 * 60 * 60_000;
        let closed = decide(&loaded(Some(t)), &reply_with("hello?", day + 1, Some(4)), &rules()).unwrap();
        assert!(sent(&closed).is_empty());
        let why: Vec<_> = closed.entries().map(|e| e.summary.clone()).collect();
        assert!(why[0].contains("24-hour window"), "{why:?}");
    }

    fn resolve(by: Author, at_ms: i64) -> TicketCommand {
        TicketCommand::Resolve(Resolve {
            ticket_id: ticket_id(),
            customer: customer(),
            by,
            at_ms,
            request_id: format!("r{at_ms}"),
        })
    }

    #[test]
    fn an_agents_first_reply_meets_the_first_response_and_the_ticket_waits_on_the_customer() {
        let queued = queued_ticket(0);

        let d = decide(&loaded(Some(queued)), &replied("ana", 10 * 60_000), &rules()).unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!((t.status, t.assignee.as_deref()), (TicketStatus::Assigned, Some("ana")));
        let sla = t.sla.as_ref().unwrap();
        assert!(sla.clock(Metric::FirstResponse).is_none());
        assert_eq!(sla.waiting_on_customer_since_ms, Some(10 * 60_000));
        assert_eq!(facts(&d), ["TK-1:first_response:600000"]);
        let counted = counters(&d, "TK-1:first_response:600000");
        assert_eq!(
            (
                counted.first_response_count,
                counted.first_response_minutes,
                counted.first_response_within
            ),
            (1, 10, 1)
        );
        assert!(d.effects.iter().any(|e| matches!(e, Effect::Measure(m) if m.figures.iter().any(|f| f.name == "FirstResponseMinutes" && f.value == 10.0))));
    }

    #[test]
    fn a_reply_to_a_resolved_ticket_changes_nothing() {
        let resolved = saved(
            decide(
                &loaded(Some(queued_ticket(0))),
                &resolve(Author::Agent("ana".into()), 1_000),
                &rules(),
            )
            .unwrap()
            .ticket
            .unwrap(),
        );

        let d = decide(&loaded(Some(resolved)), &replied("ana", 2_000), &rules()).unwrap();

        assert_eq!(d, super::super::Decision::nothing());
    }

    #[test]
    fn an_agents_resolution_ends_the_clocks_counts_it_and_asks_for_a_score() {
        let d = decide(
            &loaded(Some(answered_ticket(0))),
            &resolve(Author::Agent("ana".into()), 30 * 60_000),
            &rules(),
        )
        .unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!((t.status, t.sla.is_none()), (TicketStatus::Resolved, true));
        assert_eq!(t.csat.as_ref().map(|c| c.asked_at_ms), Some(30 * 60_000));
        assert!(matches!(&d.effects[0], Effect::Publish(DomainEvent::TicketResolved(_))));
        assert!(facts(&d).contains(&"TK-1:resolved".to_owned()));
        assert!(facts(&d).contains(&"TK-1:resolution:1800000".to_owned()));
        let survey = sent(&d);
        assert_eq!(survey.len(), 1);
        assert_eq!(survey[0].idempotency_key, "csat:TK-1");
        assert!(
            matches!(survey[0].body, OutboundBody::List { .. }),
            "the window is open: a list"
        );
        assert_eq!(entry_kinds(&d), ["resolved"]);
        // Waiting on the customer, the ticket had no deadline in the index.
        assert!(!d.effects.iter().any(|e| matches!(e, Effect::SyncDeadlines { .. })));
    }

    #[test]
    fn resolving_a_ticket_that_waits_in_a_queue_takes_its_deadlines_out_of_the_index() {
        let d = decide(
            &loaded(Some(queued_ticket(0))),
            &resolve(Author::Agent("ana".into()), 60_000),
            &rules(),
        )
        .unwrap();

        assert!(d.effects.iter().any(
            |e| matches!(e, Effect::SyncDeadlines { deadlines, previous: Some(p), .. } if deadlines.is_empty() && p.len() == 2)
        ));
        let c = counters(&d, "TK-1:resolution:60000");
        assert_eq!((c.resolution_count, c.resolution_within), (1, 1));
    }

    #[test]
    fn a_survey_after_the_window_closed_is_the_configured_template() {
        let ticket = answered_ticket(0);
        let late = 25 * 60 * 60_000;

        let d = decide(
            &loaded(Some(ticket)),
            &resolve(Author::Agent("ana".into()), late),
            &rules(),
        )
        .unwrap();

        assert!(matches!(&sent(&d)[0].body, OutboundBody::Template { quick_replies, .. } if quick_replies.len() == 5));
    }

    #[test]
    fn the_bot_resolving_counts_it_as_the_bots_and_asks_nothing() {
        let d = decide(&loaded(Some(ticket())), &resolve(Author::Bot, 5_000), &rules()).unwrap();

        assert_eq!(counters(&d, "TK-1:resolved").resolved_by_bot, 1);
        assert!(sent(&d).is_empty());
        assert_eq!(d.ticket.unwrap().csat, None);
    }

    #[test]
    fn resolving_twice_changes_nothing() {
        let resolved = saved(
            decide(&loaded(Some(ticket())), &resolve(Author::Bot, 5_000), &rules())
                .unwrap()
                .ticket
                .unwrap(),
        );

        let d = decide(&loaded(Some(resolved)), &resolve(Author::Bot, 6_000), &rules()).unwrap();

        assert_eq!(d, super::super::Decision::nothing());
    }

    #[test]
    fn a_resolution_counts_the_messages_the_ticket_took_for_the_bot_alone_or_for_humans() {
        let mut bot_only = ticket();
        bot_only.messages_sent = 3;
        let mut handled = answered_ticket(0);
        handled.messages_sent = 5;

        let by_bot = decide(&loaded(Some(bot_only)), &resolve(Author::Bot, 5_000), &rules()).unwrap();
        let by_agent = decide(
            &loaded(Some(handled)),
            &resolve(Author::Agent("ana".into()), 5_000),
            &rules(),
        )
        .unwrap();

        let c = counters(&by_bot, "TK-1:resolved");
        assert_eq!(
            (c.resolved_bot_only, c.resolved_bot_only_messages, c.resolved_human),
            (1, 3, 0)
        );
        let c = counters(&by_agent, "TK-1:resolved");
        assert_eq!(
            (c.resolved_human, c.resolved_human_messages, c.resolved_bot_only),
            (1, 5, 0)
        );
    }

    /// The agent a KPI fact of `d` is about.
    fn agent_of(d: &super::super::Decision, id: &str) -> Option<String> {
        d.effects
            .iter()
            .find_map(|e| match e {
                Effect::Count(f) if f.id == id => Some(f.agent.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no fact {id} in {:?}", facts(d)))
    }

    #[test]
    fn response_and_resolution_facts_carry_the_agent_they_are_about() {
        // The first response is ana's; the escalation that queued it is no one's.
        let queued = decide(&loaded(Some(ticket())), &escalate("support", 2, 0), &rules()).unwrap();
        assert_eq!(agent_of(&queued, "TK-1:to_human:0"), None);
        let first = decide(&loaded(Some(queued_ticket(0))), &replied("ana", 60_000), &rules()).unwrap();
        assert_eq!(agent_of(&first, "TK-1:first_response:60000"), Some("ana".into()));

        // bo answers the customer's next message on ana's ticket: the next response is bo's.
        let next = decide(
            &loaded(Some(answered_then_customer_wrote(0))),
            &replied("bo", 20 * 60_000),
            &rules(),
        )
        .unwrap();
        assert_eq!(agent_of(&next, "TK-1:next_response:1200000"), Some("bo".into()));

        // bo resolves ana's ticket: the resolution is bo's, who resolved it.
        let by_bo = decide(
            &loaded(Some(answered_ticket(0))),
            &resolve(Author::Agent("bo".into()), 30 * 60_000),
            &rules(),
        )
        .unwrap();
        assert_eq!(agent_of(&by_bo, "TK-1:resolved"), Some("bo".into()));
        assert_eq!(agent_of(&by_bo, "TK-1:resolution:1800000"), Some("bo".into()));

        // The system resolving it counts for the assignee; the bot's, for no agent.
        let by_system = decide(
            &loaded(Some(answered_ticket(0))),
            &resolve(Author::System, 30 * 60_000),
            &rules(),
        )
        .unwrap();
        assert_eq!(agent_of(&by_system, "TK-1:resolved"), Some("ana".into()));
        let by_bot = decide(&loaded(Some(ticket())), &resolve(Author::Bot, 5_000), &rules()).unwrap();
        assert_eq!(agent_of(&by_bot, "TK-1:resolved"), None);
    }
}
