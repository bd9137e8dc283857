//! SLA stages: what a deadline the sweep found due sets off. A warning tells
//! the team; a breach escalates (up the hierarchy, or to a specialist team),
//! is counted as missed at once and is explained to the customer; a further
//! level alerts the next person up; a silent assignee loses the ticket. A stale
//! or repeated deadline changes nothing and repairs the index.

use super::effects::Effects;
use super::{DecideError, Decision, Effect, Loaded, Rules, change, window_open};
use crate::domain::commands::SlaDue;
use crate::domain::events::{self, DomainEvent, TicketRef};
use crate::domain::notices::{self, BreachNotice};
use crate::domain::outbound::Author;
use crate::domain::reports::Counters;
use crate::domain::sla::{Deadline, Escalated, Fired, Metric, TicketSla, expected_first_response};
use crate::domain::ticket::{Escalation, Ticket};
use crate::domain::triggers::TriggerHit;

/// A deadline the sweep claimed. A late sweep may find the next stage of the
/// same deadline due already (the warning and the breach together): each is
/// acted on in turn.
pub(super) fn due(loaded: &Loaded, c: &SlaDue, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    let mut fired = false;
    let mut decision = change(loaded, &c.ticket_id, None, |t, fx| {
        fired = stage_due(rules, t, fx, &c.deadline, c.at_ms);
        let mut current = c.deadline;
        while fired
            && let Some(next) = t
                .sla
                .as_ref()
                .and_then(|sla| sla.deadlines().into_iter().find(|d| d.kind == current.kind))
                .filter(|d| d.at_ms <= c.at_ms && *d != current)
        {
            if !stage_due(rules, t, fx, &next, c.at_ms) {
                break;
            }
            current = next;
        }
    })?;
    if !fired && let Some(t) = &loaded.ticket {
        // Not (or no longer) this ticket's deadline: the index is made to hold
        // exactly what the ticket says, so it is not swept again.
        decision.effects.push(Effect::SyncDeadlines {
            ticket: t.id.clone(),
            customer: t.customer.clone(),
            deadlines: t.sla.as_ref().map(TicketSla::deadlines).unwrap_or_default(),
            previous: None,
        });
    }
    Ok(decision)
}

/// Acts on one due stage; false when it is stale.
fn stage_due(rules: &Rules<'_>, t: &mut Ticket, fx: &mut Effects, deadline: &Deadline, at_ms: i64) -> bool {
    if !t.status.human_owned() {
        return false;
    }
    let ctx = rules.sla_context(t);
    let Some(fired) = t.sla.as_mut().and_then(|sla| sla.fire(&ctx, deadline, at_ms)) else {
        return false;
    };
    let mut previous_assignee = None;
    match &fired {
        Fired::Breached {
            metric,
            action: Escalated::Team(team),
            ..
        } => {
            let specialists = rules.desk.team(team).map_or(3, |s| s.config.tier);
            let why = format!("the {} target was missed", metric.label());
            let (was_tier, priority) = (t.tier, t.priority);
            if t.escalate(specialists, team, priority, breach_escalation(why, at_ms)) == Ok(true) {
                let ctx = rules.sla_context(t);
                if let Some(sla) = &mut t.sla {
                    // The specialists owe what was missed, on their own target.
                    sla.restart_clock(&ctx, *metric, at_ms);
                }
                fx.tier_moved(t, was_tier, at_ms);
            }
        }
        Fired::Breached {
            metric,
            action: Escalated::Level { name, .. },
            ..
        } => {
            let why = format!("the {} target was missed: the {name} was alerted", metric.label());
            t.escalations.push(breach_escalation(why, at_ms));
        }
        Fired::Reassign => previous_assignee = t.unassign(at_ms),
        Fired::Warning { .. } | Fired::Level { .. } => {}
    }
    announce(rules, fx, t, deadline, &fired, previous_assignee.as_deref(), at_ms);
    true
}

fn breach_escalation(why: String, at_ms: i64) -> Escalation {
    Escalation {
        trigger: "sla_breach".into(),
        reason: why.clone(),
        at_ms,
        triggers: vec![TriggerHit::new("sla_breach", why)],
    }
}

/// The event, the timeline entry and the KPI fact of a stage, and for a
/// breach the customer's notice.
fn announce(
    rules: &Rules<'_>,
    fx: &mut Effects,
    t: &Ticket,
    deadline: &Deadline,
    fired: &Fired,
    previous_assignee: Option<&str>,
    at_ms: i64,
) {
    let key = format!(
        "{}.{}.{}",
        deadline.kind.as_str(),
        deadline.stage.as_str(),
        deadline.at_ms
    );
    let owner = match &t.assignee {
        Some(agent) => format!("assigned to {agent}"),
        None => format!("waiting in the {} queue", t.team),
    };
    let ticket = TicketRef::of(t, at_ms);
    let trigger = |metric: &Metric| format!("sla_{}", metric.as_str());
    match fired {
        Fired::Warning {
            metric,
            percent,
            due_at_ms,
        } => {
            let reason = format!(
                "{percent}% of the {} target used ({owner}); due {}",
                metric.label(),
                clock_time(rules, t, *due_at_ms)
            );
            fx.publish(DomainEvent::SlaWarning(events::SlaWarning {
                ticket,
                trigger: trigger(metric),
                reason: reason.clone(),
                metric: *metric,
                assignee: t.assignee.clone(),
                percent: *percent,
                due_at_ms: *due_at_ms,
            }));
            fx.entry(
                format!("sla.{key}"),
                at_ms,
                Author::System,
                "sla_warning",
                format!("SLA warning: {reason}"),
            );
            let counters = Counters {
                sla_warnings: 1,
                ..Counters::default()
            };
            fx.fact(t, format!("warn:{key}"), at_ms, counters);
        }
        Fired::Breached {
            metric,
            due_at_ms,
            action,
        } => {
            let (escalated_to, specialists) = match action {
                Escalated::Level { level, name } => (format!("escalated to the {name} (level {level})"), None),
                Escalated::Team(team) => (format!("passed to the {team} team"), Some(team.as_str())),
            };
            let reason = format!(
                "{} target missed at {} ({owner}); {escalated_to}",
                metric.label(),
                clock_time(rules, t, *due_at_ms)
            );
            fx.publish(DomainEvent::SlaBreached(events::SlaBreached {
                ticket,
                trigger: trigger(metric),
                reason: reason.clone(),
                metric: *metric,
                assignee: t.assignee.clone(),
                escalation: escalated_to,
                due_at_ms: Some(*due_at_ms),
                level: None,
            }));
            fx.entry(
                format!("sla.{key}"),
                at_ms,
                Author::System,
                "sla_breached",
                format!("SLA breached: {reason}"),
            );
            fx.breach(t, &key, *metric, at_ms);
            tell_about_breach(rules, fx, t, specialists, &key, at_ms);
        }
        Fired::Level { metric, level, name } => {
            let reason = format!(
                "{} still missed ({owner}); escalated to the {name} (level {level})",
                metric.label()
            );
            fx.publish(DomainEvent::SlaBreached(events::SlaBreached {
                ticket,
                trigger: trigger(metric),
                reason: reason.clone(),
                metric: *metric,
                assignee: t.assignee.clone(),
                escalation: name.clone(),
                due_at_ms: None,
                level: Some(*level),
            }));
            fx.entry(
                format!("sla.{key}"),
                at_ms,
                Author::System,
                "sla_escalated",
                format!("SLA escalation: {reason}"),
            );
        }
        Fired::Reassign => {
            let agent = previous_assignee.unwrap_or("the assignee");
            let reason = format!(
                "{agent} did not answer the customer in time; the ticket is back in the {} queue",
                t.team
            );
            fx.publish(DomainEvent::TicketReassigned(events::TicketReassigned {
                ticket,
                trigger: "reassigned".into(),
                reason: reason.clone(),
                previous_assignee: previous_assignee.map(str::to_owned),
            }));
            fx.entry(format!("sla.{key}"), at_ms, Author::System, "reassigned", reason);
            let counters = Counters {
                reassigned: 1,
                ..Counters::default()
            };
            fx.fact(t, format!("reassign:{key}"), at_ms, counters);
        }
    }
}

/// "Tue 10:30 CET" in the owning team's time zone.
fn clock_time(rules: &Rules<'_>, t: &Ticket, at_ms: i64) -> String {
    let tz = rules
        .desk
        .team(&t.team)
        .map(|team| team.calendar.time_zone().clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|at| at.to_zoned(tz).strftime("%a %H:%M %Z").to_string())
        .unwrap_or_default()
}

/// Tells the customer, in their language, who has their request now and when
/// they will hear from us; a template when the 24-hour window has closed.
fn tell_about_breach(
    rules: &Rules<'_>,
    fx: &mut Effects,
    t: &Ticket,
    specialists: Option<&str>,
    key: &str,
    at_ms: i64,
) {
    let lang = rules.language(t);
    let ctx = rules.sla_context(t);
    let now = jiff::Timestamp::from_millisecond(at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let expected = expected_first_response(&ctx, now);
    let tz = ctx.calendar.time_zone().clone();
    let expected = notices::expected_text(rules.catalog, lang, &tz, expected);
    let team_name = rules.desk.team(&t.team).map(|team| team.name(lang)).unwrap_or(&t.team);
    let notice = match specialists {
        Some(_) => BreachNotice::Specialists { team_name },
        None => BreachNotice::Senior { team_name },
    };
    let body = notices::breach_notice(
        &rules.desk.config.sla,
        rules.catalog,
        lang,
        notice,
        &expected,
        window_open(t, at_ms),
    );
    fx.tell_customer(t, format!("sla:{}:{key}", t.id), body);
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Effect, decide};
    use crate::domain::commands::{SlaDue, TicketCommand};
    use crate::domain::events::DomainEvent;
    use crate::domain::outbound::OutboundBody;
    use crate::domain::sla::{Deadline, DeadlineKind, Metric, Stage, TicketSla};
    use crate::domain::ticket::{Ticket, TicketStatus};

    const MINUTE: i64 = 60_000;

    fn due(t: &Ticket, kind: DeadlineKind, at_ms: i64) -> TicketCommand {
        let deadline = t
            .sla
            .as_ref()
            .and_then(|sla| sla.deadlines().into_iter().find(|d| d.kind == kind))
            .expect("the ticket has that deadline");
        TicketCommand::SlaDue(SlaDue {
            ticket_id: t.id.clone(),
            customer: t.customer.clone(),
            deadline,
            at_ms,
        })
    }

    fn clock_level(t: &Ticket, metric: Metric) -> u8 {
        t.sla.as_ref().unwrap().clock(metric).unwrap().level
    }

    #[test]
    fn at_80_percent_the_team_is_warned_once() {
        // The standard policy answers in 30 minutes: the warning falls at 24.
        let t = queued_ticket(0);
        let command = due(&t, DeadlineKind::FirstResponse, 24 * MINUTE);

        let d = decide(&loaded(Some(t)), &command, &rules()).unwrap();

        let warned = d.ticket.as_ref().unwrap();
        assert_eq!(
            warned
                .sla
                .as_ref()
                .unwrap()
                .clock(Metric::FirstResponse)
                .unwrap()
                .warned_at_ms,
            Some(24 * MINUTE)
        );
        assert!(
            matches!(&d.effects[0], Effect::Publish(DomainEvent::SlaWarning(w)) if w.percent == 80 && w.reason.contains("first response"))
        );
        assert_eq!(facts(&d), ["TK-1:warn:first_response.warn.1440000"]);
        assert_eq!(entry_kinds(&d), ["sla_warning"]);
        assert!(sent(&d).is_empty(), "the customer is not told of a warning");
        // The index moves to the breach.
        assert!(d.effects.iter().any(|e| matches!(e, Effect::SyncDeadlines { deadlines, .. }
            if deadlines.iter().any(|d| d.kind == DeadlineKind::FirstResponse && d.stage == Stage::Breach && d.at_ms == 30 * MINUTE))));

        let again = decide(&loaded(Some(saved(d.ticket.unwrap()))), &command, &rules()).unwrap();
        assert_eq!(again.ticket, None, "a repeated sweep changes nothing");
        assert!(matches!(
            &again.effects[..],
            [Effect::SyncDeadlines { previous: None, .. }]
        ));
    }

    #[test]
    fn at_breach_the_team_lead_is_alerted_the_miss_is_counted_and_the_customer_is_told() {
        let warned = {
            let t = queued_ticket(0);
            let c = due(&t, DeadlineKind::FirstResponse, 24 * MINUTE);
            saved(decide(&loaded(Some(t)), &c, &rules()).unwrap().ticket.unwrap())
        };
        let command = due(&warned, DeadlineKind::FirstResponse, 30 * MINUTE);

        let d = decide(&loaded(Some(warned)), &command, &rules()).unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!(clock_level(t, Metric::FirstResponse), 1);
        assert_eq!(t.escalations.last().unwrap().trigger, "sla_breach");
        assert!(t.escalations.last().unwrap().reason.contains("team lead"));
        assert!(
            matches!(&d.effects[0], Effect::Publish(DomainEvent::SlaBreached(b)) if b.level.is_none() && b.escalation.contains("level 1"))
        );
        let c = counters(&d, "TK-1:breach:first_response.breach.1800000");
        assert_eq!((c.sla_breaches, c.first_response_missed), (1, 1));
        let notice = sent(&d);
        assert_eq!(notice.len(), 1);
        assert!(matches!(&notice[0].body, OutboundBody::Text { body } if body.contains("senior")));
        assert_eq!(entry_kinds(&d), ["sla_breached"]);
        assert!(d.effects.iter().any(|e| matches!(e, Effect::Measure(m) if m.desk_wide && m.figures.iter().any(|f| f.name == "SlaBreaches" && f.value == 1.0))));
    }

    #[test]
    fn a_late_sweep_acts_on_the_warning_and_the_breach_together() {
        let t = queued_ticket(0);
        let command = due(&t, DeadlineKind::FirstResponse, 31 * MINUTE);

        let d = decide(&loaded(Some(t)), &command, &rules()).unwrap();

        assert_eq!(entry_kinds(&d), ["sla_warning", "sla_breached"]);
        assert_eq!(clock_level(d.ticket.as_ref().unwrap(), Metric::FirstResponse), 1);
    }

    #[test]
    fn an_hour_after_the_breach_the_next_level_is_alerted() {
        let breached = {
            let t = queued_ticket(0);
            let c = due(&t, DeadlineKind::FirstResponse, 30 * MINUTE);
            saved(decide(&loaded(Some(t)), &c, &rules()).unwrap().ticket.unwrap())
        };
        let command = due(&breached, DeadlineKind::FirstResponse, 90 * MINUTE);

        let d = decide(&loaded(Some(breached)), &command, &rules()).unwrap();

        assert_eq!(clock_level(d.ticket.as_ref().unwrap(), Metric::FirstResponse), 2);
        assert!(
            matches!(&d.effects[0], Effect::Publish(DomainEvent::SlaBreached(b)) if b.level == Some(2) && b.escalation == "support manager")
        );
        assert_eq!(entry_kinds(&d), ["sla_escalated"]);
        assert!(sent(&d).is_empty(), "the customer was told at the breach");
    }

    #[test]
    fn a_breach_on_billing_moves_the_ticket_to_the_billing_specialists_with_a_fresh_target() {
        // The billing policy answers in 60 minutes; this sweep comes at the breach.
        let t = queued_ticket_on("billing", 0);
        let command = due(&t, DeadlineKind::FirstResponse, 60 * MINUTE);

        let d = decide(&loaded(Some(t)), &command, &rules()).unwrap();

        let moved = d.ticket.as_ref().unwrap();
        assert_eq!(
            (moved.team.as_str(), moved.tier, moved.status),
            ("billing-experts", 3, TicketStatus::Queued)
        );
        let clock = moved.sla.as_ref().unwrap().clock(Metric::FirstResponse).unwrap();
        assert_eq!(clock.started_at_ms, 60 * MINUTE);
        assert_eq!(moved.sla.as_ref().unwrap().policy, "specialists");
        assert!(facts(&d).contains(&"TK-1:to_tier3:3600000".to_owned()));
        assert_eq!(entry_kinds(&d), ["sla_warning", "sla_breached"]);
        assert!(matches!(&sent(&d)[0].body, OutboundBody::Text { body } if body.contains("billing")));
    }

    #[test]
    fn a_silent_assignee_loses_the_ticket_to_the_queue() {
        let assigned = answered_then_customer_wrote(0);
        let reassign_at = assigned.sla.as_ref().unwrap().reassign_at_ms.unwrap();
        let command = due(&assigned, DeadlineKind::Reassign, reassign_at);

        let d = decide(&loaded(Some(assigned)), &command, &rules()).unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!((t.status, t.assignee.as_deref()), (TicketStatus::Queued, None));
        assert!(
            matches!(&d.effects[0], Effect::Publish(DomainEvent::TicketReassigned(r)) if r.previous_assignee.as_deref() == Some("ana"))
        );
        assert_eq!(entry_kinds(&d), ["reassigned"]);
        assert!(facts(&d)[0].starts_with("TK-1:reassign:"));
    }

    #[test]
    fn a_deadline_that_moved_or_whose_ticket_left_the_queue_repairs_the_index_only() {
        let t = queued_ticket(0);
        let stale = TicketCommand::SlaDue(SlaDue {
            ticket_id: t.id.clone(),
            customer: t.customer.clone(),
            deadline: Deadline {
                kind: DeadlineKind::FirstResponse,
                stage: Stage::Warn,
                at_ms: 5 * MINUTE,
            },
            at_ms: 6 * MINUTE,
        });

        let d = decide(&loaded(Some(t.clone())), &stale, &rules()).unwrap();

        assert_eq!(d.ticket, None);
        let wanted = t.sla.as_ref().map(TicketSla::deadlines).unwrap();
        assert_eq!(
            d.effects,
            [Effect::SyncDeadlines {
                ticket: t.id.clone(),
                customer: t.customer.clone(),
                deadlines: wanted,
                previous: None
            }]
        );
    }

    #[test]
    fn a_breach_notice_after_the_window_closed_is_the_configured_template() {
        let mut t = queued_ticket(0);
        t.last_customer_message_at_ms = Some(-25 * 60 * MINUTE);
        let command = due(&t, DeadlineKind::FirstResponse, 30 * MINUTE);

        let d = decide(&loaded(Some(t)), &command, &rules()).unwrap();

        assert!(matches!(&sent(&d)[0].body, OutboundBody::Template { parameters, .. } if parameters.len() == 2));
    }

    #[test]
    fn warnings_breaches_and_reassignments_on_an_agents_ticket_are_no_agents_facts() {
        let assigned = answered_then_customer_wrote(0);
        let sla = assigned.sla.as_ref().unwrap();
        let breach_at = sla.clock(Metric::NextResponse).unwrap().due_at_ms.unwrap();
        let reassign_at = sla.reassign_at_ms.unwrap();

        let breached = decide(
            &loaded(Some(assigned.clone())),
            &due(&assigned, DeadlineKind::NextResponse, breach_at),
            &rules(),
        )
        .unwrap();
        let reassigned = decide(
            &loaded(Some(assigned.clone())),
            &due(&assigned, DeadlineKind::Reassign, reassign_at),
            &rules(),
        )
        .unwrap();

        let counted: Vec<_> = [&breached, &reassigned]
            .into_iter()
            .flat_map(|d| &d.effects)
            .filter_map(|e| match e {
                Effect::Count(f) => Some((f.id.as_str(), f.agent.as_deref())),
                _ => None,
            })
            .collect();
        assert!(counted.iter().any(|(id, _)| id.contains(":breach:")), "{counted:?}");
        assert!(counted.iter().any(|(id, _)| id.contains(":reassign:")), "{counted:?}");
        assert!(counted.iter().all(|(_, agent)| agent.is_none()), "{counted:?}");
    }
}
