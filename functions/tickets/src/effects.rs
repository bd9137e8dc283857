//! What applying a command does besides changing the ticket: events on the
//! bus, messages to the customer, KPI facts and timeline entries. They are
//! carried out before the ticket is saved, each idempotent by its own key, so a
//! command retried after a failed save repeats none of them twice.

use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::{Catalog, Lang};
use helpdesk::domain::notices::{self, BreachNotice};
use helpdesk::domain::outbound::{Author, OutboundBody, OutboundRequest};
use helpdesk::domain::reports::{Counters, ReportFact, day_of};
use helpdesk::domain::sla::{ClockOutcome, Deadline, Escalated, Fired, Metric, expected_first_response};
use helpdesk::domain::ticket::{Direction, Ticket, TimelineEntry};
use helpdesk::ports::DomainEvent;
use serde_json::json;

/// WhatsApp's customer service window: free-form messages only within 24 hours
/// of the customer's last message; templates otherwise.
const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Default)]
pub struct Effects {
    pub events: Vec<DomainEvent>,
    pub outbound: Vec<OutboundRequest>,
    pub facts: Vec<ReportFact>,
    pub entries: Vec<TimelineEntry>,
    /// Clock outcomes and breaches, for the embedded metrics once saved.
    pub outcomes: Vec<ClockOutcome>,
    pub breaches: usize,
}

impl Effects {
    /// Counts `counters` once under `id`, on the ticket's team and priority.
    pub fn fact(&mut self, t: &Ticket, id: String, at_ms: i64, counters: Counters) {
        self.facts.push(ReportFact {
            id: format!("{}:{id}", t.id),
            day: day_of(at_ms),
            team: t.team.clone(),
            priority: t.priority,
            counters,
        });
    }

    /// Counts a move from agents to specialists (tier 2 to 3), if that is what happened.
    pub fn tier_moved(&mut self, t: &Ticket, was_tier: u8, at_ms: i64) {
        if was_tier == 2 && t.tier == 3 {
            let counters = Counters {
                to_tier3: 1,
                ..Counters::default()
            };
            self.fact(t, format!("to_tier3:{at_ms}"), at_ms, counters);
        }
    }

    pub fn entry(&mut self, id: String, at_ms: i64, author: Author, kind: &str, summary: String) {
        self.entries.push(event_entry(id, at_ms, author, kind, summary));
    }

    /// The KPI facts of clocks that ended. A clock whose breach the sweep
    /// fired was counted as missed then, so compliance reflects a breach as
    /// soon as it happens; one met late before any sweep saw it is missed now.
    pub fn clock_outcomes(&mut self, t: &Ticket, outcomes: Vec<ClockOutcome>) {
        for outcome in outcomes {
            let mut c = Counters::default();
            let (count, sum, within, missed) = metric_counters(&mut c, outcome.metric);
            if outcome.met {
                *count = 1;
                *sum = outcome.minutes.max(0) as u64;
            }
            if outcome.within {
                *within = 1;
            } else if !outcome.breached {
                *missed = 1;
            }
            self.fact(
                t,
                format!("{}:{}", outcome.metric.as_str(), outcome.at_ms),
                outcome.at_ms,
                c,
            );
            self.outcomes.push(outcome);
        }
    }

    /// A message from the desk to the ticket's customer.
    pub fn tell_customer(&mut self, t: &Ticket, idempotency_key: String, body: OutboundBody) {
        self.outbound.push(OutboundRequest {
            idempotency_key,
            ticket_id: t.id.clone(),
            customer: t.customer.clone(),
            phone_number_id: t.phone_number_id.clone(),
            author: Author::System,
            body,
        });
    }
}

/// The count, minutes, within and missed counters of `metric`.
fn metric_counters(c: &mut Counters, metric: Metric) -> (&mut u64, &mut u64, &mut u64, &mut u64) {
    match metric {
        Metric::FirstResponse => (
            &mut c.first_response_count,
            &mut c.first_response_minutes,
            &mut c.first_response_within,
            &mut c.first_response_missed,
        ),
        Metric::NextResponse => (
            &mut c.next_response_count,
            &mut c.next_response_minutes,
            &mut c.next_response_within,
            &mut c.next_response_missed,
        ),
        Metric::Resolution => (
            &mut c.resolution_count,
            &mut c.resolution_minutes,
            &mut c.resolution_within,
            &mut c.resolution_missed,
        ),
    }
}

/// Whether free-form messages may still reach the customer at `at_ms`.
pub fn window_open(t: &Ticket, at_ms: i64) -> bool {
    t.last_customer_message_at_ms
        .is_some_and(|last| at_ms - last < WINDOW_MS)
}

pub fn language(t: &Ticket, desk: &Desk) -> Lang {
    t.context
        .language
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(desk.config.desk.default_language)
}

/// `TicketEscalated` on the bus: what the notifier tells the team. No phone
/// number; the customer's words only as the bot's short masked excerpt.
pub fn escalated_event(t: &Ticket, trigger: &str, reason: &str, at_ms: i64, excerpt: Option<&str>) -> DomainEvent {
    DomainEvent {
        kind: "TicketEscalated",
        detail: json!({"ticket_id": t.id, "team": t.team, "tier": t.tier, "priority": t.priority,
            "trigger": trigger, "reason": reason, "at_ms": at_ms, "excerpt": excerpt,
            "language": t.context.language}),
    }
}

pub fn event_entry(id: String, at_ms: i64, author: Author, kind: &str, summary: String) -> TimelineEntry {
    TimelineEntry {
        id,
        at_ms,
        direction: Direction::Event,
        author,
        kind: kind.to_owned(),
        summary,
        message: None,
        delivery: None,
        delivery_error: None,
    }
}

fn clock_time(desk: &Desk, t: &Ticket, at_ms: i64) -> String {
    let tz = desk
        .team(&t.team)
        .map(|team| team.calendar.time_zone().clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|at| at.to_zoned(tz).strftime("%a %H:%M %Z").to_string())
        .unwrap_or_default()
}

fn sla_event(
    kind: &'static str,
    t: &Ticket,
    metric: Metric,
    reason: &str,
    at_ms: i64,
    extra: serde_json::Value,
) -> DomainEvent {
    let mut detail = json!({"ticket_id": t.id, "team": t.team, "tier": t.tier, "priority": t.priority,
        "trigger": format!("sla_{}", metric.as_str()), "reason": reason, "at_ms": at_ms,
        "metric": metric.as_str(), "assignee": t.assignee, "language": t.context.language});
    if let (Some(detail), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
        detail.extend(extra.clone());
    }
    DomainEvent { kind, detail }
}

/// The effects of a deadline the sweep found due, after `fired` changed the
/// ticket's clocks (and, for a functional escalation, its team).
#[allow(clippy::too_many_arguments)] // the deadline, what it set off, and where it happened
pub fn deadline_fired(
    fx: &mut Effects,
    desk: &Desk,
    catalog: &Catalog,
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
    match fired {
        Fired::Warning {
            metric,
            percent,
            due_at_ms,
        } => {
            let reason = format!(
                "{percent}% of the {} target used ({owner}); due {}",
                metric.label(),
                clock_time(desk, t, *due_at_ms)
            );
            fx.events.push(sla_event(
                "SlaWarning",
                t,
                *metric,
                &reason,
                at_ms,
                json!({"percent": percent, "due_at_ms": due_at_ms}),
            ));
            fx.entry(
                format!("sla.{key}"),
                at_ms,
                Author::System,
                "sla_warning",
                format!("SLA warning: {reason}"),
            );
            fx.fact(
                t,
                format!("warn:{key}"),
                at_ms,
                Counters {
                    sla_warnings: 1,
                    ..Counters::default()
                },
            );
        }
        Fired::Breached {
            metric,
            due_at_ms,
            action,
        } => {
            let (escalated_to, notice_team) = match action {
                Escalated::Level { level, name } => (format!("escalated to the {name} (level {level})"), None),
                Escalated::Team(team) => (format!("passed to the {team} team"), Some(team.as_str())),
            };
            let reason = format!(
                "{} target missed at {} ({owner}); {escalated_to}",
                metric.label(),
                clock_time(desk, t, *due_at_ms)
            );
            fx.events.push(sla_event(
                "SlaBreached",
                t,
                *metric,
                &reason,
                at_ms,
                json!({"due_at_ms": due_at_ms, "escalation": escalated_to}),
            ));
            fx.entry(
                format!("sla.{key}"),
                at_ms,
                Author::System,
                "sla_breached",
                format!("SLA breached: {reason}"),
            );
            let mut counters = Counters {
                sla_breaches: 1,
                ..Counters::default()
            };
            // A breached clock is missed now, whatever happens next.
            *metric_counters(&mut counters, *metric).3 = 1;
            fx.fact(t, format!("breach:{key}"), at_ms, counters);
            fx.breaches += 1;
            tell_about_breach(fx, desk, catalog, t, notice_team, &key, at_ms);
        }
        Fired::Level { metric, level, name } => {
            let reason = format!(
                "{} still missed ({owner}); escalated to the {name} (level {level})",
                metric.label()
            );
            fx.events.push(sla_event(
                "SlaBreached",
                t,
                *metric,
                &reason,
                at_ms,
                json!({"level": level, "escalation": name}),
            ));
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
            fx.events.push(DomainEvent {
                kind: "TicketReassigned",
                detail: json!({"ticket_id": t.id, "team": t.team, "tier": t.tier, "priority": t.priority,
                    "trigger": "reassigned", "reason": reason, "at_ms": at_ms, "previous_assignee": previous_assignee,
                    "language": t.context.language}),
            });
            fx.entry(format!("sla.{key}"), at_ms, Author::System, "reassigned", reason);
            fx.fact(
                t,
                format!("reassign:{key}"),
                at_ms,
                Counters {
                    reassigned: 1,
                    ..Counters::default()
                },
            );
        }
    }
}

/// Tells the customer, in their language, who has their request now and when
/// they will hear from us; a template when the 24-hour window has closed.
fn tell_about_breach(
    fx: &mut Effects,
    desk: &Desk,
    catalog: &Catalog,
    t: &Ticket,
    specialists: Option<&str>,
    key: &str,
    at_ms: i64,
) {
    let lang = language(t, desk);
    let ctx = desk.sla_context(&t.team, t.priority, t.customer_tier);
    let now = jiff::Timestamp::from_millisecond(at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let expected = expected_first_response(&ctx, now);
    let tz = ctx.calendar.time_zone().clone();
    let expected = notices::expected_text(catalog, lang, &tz, expected);
    let team_name = desk.team(&t.team).map(|team| team.name(lang)).unwrap_or(&t.team);
    let notice = match specialists {
        Some(_) => BreachNotice::Specialists { team_name },
        None => BreachNotice::Senior { team_name },
    };
    let body = notices::breach_notice(
        &desk.config.sla,
        catalog,
        lang,
        notice,
        &expected,
        window_open(t, at_ms),
    );
    fx.tell_customer(t, format!("sla:{}:{key}", t.id), body);
}
