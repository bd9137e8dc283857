//! Escalation and transfer: the bot hands a ticket to humans, an agent moves it
//! to another team, a waiting customer goes back to the bot. Clocks start when
//! a ticket leaves the bot and carry on under the new team's policy when it
//! moves between teams.

use super::effects::Effects;
use super::{DecideError, Decision, Loaded, Rules, change};
use crate::domain::commands::{Escalate, ReturnToBot, Transfer};
use crate::domain::events::{DomainEvent, TicketEscalated, TicketRef};
use crate::domain::outbound::Author;
use crate::domain::reports::Counters;
use crate::domain::sla::TicketSla;
use crate::domain::ticket::{CustomerTier, Escalation, Priority, Ticket};
use crate::domain::triggers::TriggerHit;

/// The bot escalates: the ticket joins the team's queue with what the bot
/// learnt (intent, category, order, language, frustration).
pub(super) fn escalate(loaded: &Loaded, c: &Escalate, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    let customer_tier = loaded.profile.as_ref().map(|p| p.tier).unwrap_or_default();
    let escalation = Escalation {
        trigger: c.trigger.clone(),
        reason: c.reason.clone(),
        at_ms: c.at_ms,
        triggers: c.triggers.clone(),
    };
    change(loaded, &c.ticket_id, None, |t, fx| {
        if c.order_number.is_some() {
            t.order_number = c.order_number.clone();
        }
        let context = &mut t.context;
        context.intent = c.intent.clone().or(context.intent.take());
        context.category = c.category.clone().or(context.category.take());
        context.language = c.language.clone().or(context.language.take());
        context.frustration = c.frustration.clone().or(context.frustration.take());
        let to = Queue {
            tier: c.tier,
            team: &c.team,
            priority: c.priority,
            customer_tier,
        };
        if move_to_queue(rules, t, fx, to, escalation) {
            fx.publish(escalated(t, &c.trigger, &c.reason, c.at_ms, c.excerpt.clone()));
            let summary = format!("Escalated to {} (tier {}): {}", c.team, c.tier, c.reason);
            fx.entry(
                format!("escalated.{}", c.at_ms),
                c.at_ms,
                Author::Bot,
                "escalated",
                summary,
            );
        }
    })
}

/// An agent moves the ticket to another team (specialists, say), keeping its priority.
pub(super) fn transfer(loaded: &Loaded, c: &Transfer, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    let why = format!("{} transferred the ticket: {}", c.agent, c.reason);
    let escalation = Escalation {
        trigger: "transfer".into(),
        reason: why.clone(),
        at_ms: c.at_ms,
        triggers: vec![TriggerHit::new("transfer", why.clone())],
    };
    change(loaded, &c.ticket_id, None, |t, fx| {
        let to = Queue {
            tier: c.tier,
            team: &c.team,
            priority: t.priority,
            customer_tier: t.customer_tier,
        };
        if move_to_queue(rules, t, fx, to, escalation) {
            fx.publish(escalated(t, "transfer", &why, c.at_ms, None));
            let summary = format!(
                "Transferred to {} (tier {}) by {}: {}",
                c.team, c.tier, c.agent, c.reason
            );
            fx.entry(
                format!("transferred.{}", c.at_ms),
                c.at_ms,
                Author::Agent(c.agent.clone()),
                "transferred",
                summary,
            );
        }
    })
}

/// A customer waiting in a queue cancelled their request: back to the bot, clocks stopped.
pub(super) fn return_to_bot(loaded: &Loaded, c: &ReturnToBot) -> Result<Decision, DecideError> {
    change(loaded, &c.ticket_id, None, |t, fx| {
        if t.return_to_bot(&c.team, c.at_ms) {
            t.sla = None;
            let summary = "The customer cancelled the request for an agent".to_owned();
            fx.entry(
                format!("returned.{}", c.at_ms),
                c.at_ms,
                Author::Customer,
                "returned_to_bot",
                summary,
            );
        }
    })
}

/// Where a ticket is going.
struct Queue<'a> {
    tier: u8,
    team: &'a str,
    priority: Priority,
    /// The customer's tier, for a ticket reaching humans for the first time.
    customer_tier: CustomerTier,
}

/// Moves a ticket to a human queue and keeps its SLA in step: clocks start
/// when it leaves the bot, and carry on under the new team's policy and
/// calendar when it moves between teams. False when it was already there (or
/// cannot move: a resolved ticket, a tier that is not 2 or 3).
fn move_to_queue(rules: &Rules<'_>, t: &mut Ticket, fx: &mut Effects, to: Queue<'_>, escalation: Escalation) -> bool {
    let at_ms = escalation.at_ms;
    let (was_tier, was_human) = (t.tier, t.status.human_owned());
    let old = (t.team.clone(), t.priority, t.customer_tier);
    if t.escalate(to.tier, to.team, to.priority, escalation) != Ok(true) {
        return false;
    }
    if !was_human || t.sla.is_none() {
        t.customer_tier = to.customer_tier;
        t.sla = Some(TicketSla::start(&rules.sla_context(t), at_ms));
        let counters = Counters {
            to_human: 1,
            ..Counters::default()
        };
        fx.fact(t, format!("to_human:{at_ms}"), at_ms, counters);
    } else if let Some(sla) = &mut t.sla {
        let before = rules.desk.sla_context(&old.0, old.1, old.2);
        let after = rules.desk.sla_context(&t.team, t.priority, t.customer_tier);
        sla.retarget(&before, &after, at_ms);
    }
    fx.tier_moved(t, was_tier, at_ms);
    true
}

/// `TicketEscalated`: what the notifier tells the team.
fn escalated(t: &Ticket, trigger: &str, reason: &str, at_ms: i64, excerpt: Option<String>) -> DomainEvent {
    DomainEvent::TicketEscalated(TicketEscalated {
        ticket: TicketRef::of(t, at_ms),
        trigger: trigger.to_owned(),
        reason: reason.to_owned(),
        excerpt,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{DecideError, Effect, decide};
    use crate::domain::commands::{ReturnToBot, TicketCommand, Transfer};
    use crate::domain::events::DomainEvent;
    use crate::domain::ticket::{CustomerProfile, CustomerTier, Priority, TicketStatus};

    #[test]
    fn an_escalation_queues_the_ticket_starts_its_clocks_and_tells_the_team() {
        let d = decide(&loaded(Some(ticket())), &escalate("support", 2, 10_000), &rules()).unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!(
            (t.status, t.tier, t.priority),
            (TicketStatus::Queued, 2, Priority::High)
        );
        assert_eq!(t.context.category.as_deref(), Some("billing"));
        assert_eq!(t.order_number.as_deref(), Some("AB-1234"));
        assert!(t.sla.is_some());
        assert!(
            matches!(&d.effects[0], Effect::Publish(DomainEvent::TicketEscalated(e)) if e.trigger == "direct_request" && e.excerpt.as_deref() == Some("agent please"))
        );
        assert_eq!(facts(&d), ["TK-1:to_human:10000"]);
        assert!(d.effects.iter().any(|e| matches!(e, Effect::SyncDeadlines { previous: Some(p), deadlines, .. } if p.is_empty() && deadlines.len() == 2)));
        assert_eq!(entry_kinds(&d), ["escalated"]);
    }

    #[test]
    fn a_vip_customers_ticket_runs_on_the_vip_policy() {
        let mut l = loaded(Some(ticket()));
        let mut profile = CustomerProfile::new(customer(), 0);
        profile.tier = CustomerTier::Vip;
        l.profile = Some(profile);

        let d = decide(&l, &escalate("support", 2, 10_000), &rules()).unwrap();

        let t = d.ticket.unwrap();
        assert_eq!(t.customer_tier, CustomerTier::Vip);
        assert_eq!(t.sla.unwrap().policy, "vip");
    }

    #[test]
    fn escalating_again_to_the_same_place_changes_nothing() {
        let first = decide(&loaded(Some(ticket())), &escalate("support", 2, 10_000), &rules()).unwrap();
        let stored = saved(first.ticket.unwrap());

        let again = decide(&loaded(Some(stored)), &escalate("support", 2, 10_000), &rules()).unwrap();

        assert_eq!(again.ticket, None);
        assert!(again.effects.is_empty());
    }

    #[test]
    fn an_escalation_before_the_ticket_is_stored_waits() {
        assert_eq!(
            decide(&loaded(None), &escalate("support", 2, 10_000), &rules()),
            Err(DecideError::UnknownTicket(ticket_id()))
        );
    }

    #[test]
    fn a_transfer_to_specialists_counts_the_move_to_tier_three_and_keeps_the_clocks_running() {
        let queued = saved(
            decide(&loaded(Some(ticket())), &escalate("support", 2, 10_000), &rules())
                .unwrap()
                .ticket
                .unwrap(),
        );
        let command = TicketCommand::Transfer(Transfer {
            ticket_id: ticket_id(),
            customer: customer(),
            team: "tech".into(),
            tier: 3,
            agent: "lena".into(),
            reason: "needs a specialist".into(),
            at_ms: 20_000,
            request_id: "r1".into(),
        });

        let d = decide(&loaded(Some(queued.clone())), &command, &rules()).unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!((t.team.as_str(), t.tier, t.status), ("tech", 3, TicketStatus::Queued));
        let started = queued.sla.unwrap().clocks[0].started_at_ms;
        assert_eq!(t.sla.as_ref().unwrap().clocks[0].started_at_ms, started);
        assert_eq!(facts(&d), ["TK-1:to_tier3:20000"]);
        assert!(
            matches!(&d.effects[0], Effect::Publish(DomainEvent::TicketEscalated(e)) if e.trigger == "transfer" && e.reason.contains("lena"))
        );
        assert_eq!(entry_kinds(&d), ["transferred"]);
    }

    #[test]
    fn a_waiting_customer_who_cancels_goes_back_to_the_bot_and_the_clocks_stop() {
        let queued = saved(
            decide(&loaded(Some(ticket())), &escalate("billing", 2, 10_000), &rules())
                .unwrap()
                .ticket
                .unwrap(),
        );
        let command = TicketCommand::ReturnToBot(ReturnToBot {
            ticket_id: ticket_id(),
            customer: customer(),
            team: "support".into(),
            at_ms: 11_000,
            cause: "wamid.9".into(),
        });

        let d = decide(&loaded(Some(queued)), &command, &rules()).unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!((t.status, t.tier, t.sla.is_none()), (TicketStatus::Bot, 1, true));
        assert!(
            d.effects
                .iter()
                .any(|e| matches!(e, Effect::SyncDeadlines { deadlines, .. } if deadlines.is_empty()))
        );
        assert_eq!(entry_kinds(&d), ["returned_to_bot"]);
    }
}
