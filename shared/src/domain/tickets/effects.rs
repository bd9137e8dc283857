//! Collects what a change to a ticket sets off, kept apart by kind while the
//! change runs and handed over in the order they are carried out: events,
//! KPI facts, messages, the deadline index, timeline entries, then metrics.

use super::{Effect, Figure, Measure};
use crate::domain::events::DomainEvent;
use crate::domain::outbound::{Author, OutboundBody, OutboundRequest};
use crate::domain::privacy::mask_cards_in_entry;
use crate::domain::reports::{Counters, ReportFact, day_of};
use crate::domain::sla::{ClockOutcome, Deadline, Metric};
use crate::domain::ticket::{Ticket, TimelineEntry};

#[derive(Default)]
pub(super) struct Effects {
    events: Vec<DomainEvent>,
    facts: Vec<ReportFact>,
    outbound: Vec<OutboundRequest>,
    deadlines: Vec<Effect>,
    entries: Vec<TimelineEntry>,
    measures: Vec<Measure>,
    /// Clocks decided by this change (met, or breached), for the metrics.
    outcomes: Vec<ClockOutcome>,
    breaches: usize,
}

impl Effects {
    pub fn publish(&mut self, event: DomainEvent) {
        self.events.push(event);
    }

    /// Counts `counters` once under `id`, on the ticket's team and priority,
    /// and on the agent the fact is about, told by what it counts:
    /// - a resolution (the ticket resolved, or its resolution clock met): the
    ///   agent who resolved it, else (resolved by the system) the assignee;
    ///   none when the bot resolved it;
    /// - a first or next response given: the assignee (who just answered);
    /// - a satisfaction score: the assignee, else the agent who resolved it.
    ///
    /// Every other fact (opened, escalated, warnings, breaches, reassigned,
    /// reopened, messages) is about no one agent. A breach counts a response
    /// missed, never one given, so it is no agent's.
    pub fn fact(&mut self, t: &Ticket, id: String, at_ms: i64, counters: Counters) {
        let resolver = match &t.resolved_by {
            Some(Author::Agent(name)) => Some(name.clone()),
            _ => None,
        };
        let agent = if counters.resolved > 0 || counters.resolution_count > 0 {
            match &t.resolved_by {
                Some(Author::Bot) => None,
                _ => resolver.or_else(|| t.assignee.clone()),
            }
        } else if counters.first_response_count > 0 || counters.next_response_count > 0 {
            t.assignee.clone()
        } else if counters.csat_count > 0 {
            t.assignee.clone().or(resolver)
        } else {
            None
        };
        self.facts.push(ReportFact {
            id: format!("{}:{id}", t.id),
            day: day_of(at_ms),
            team: t.team.clone(),
            priority: t.priority,
            agent,
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

    /// An event on the ticket's timeline (escalated, resolved, SLA warning…),
    /// card numbers masked as [`Self::timeline`] does.
    pub fn entry(&mut self, id: String, at_ms: i64, author: Author, kind: &str, summary: String) {
        self.timeline(event_entry(id, at_ms, author, kind, summary));
    }

    /// An entry for the ticket's timeline. Payment-card numbers in what it
    /// says are masked here, before anything stores or shows it.
    pub fn timeline(&mut self, mut entry: TimelineEntry) {
        mask_cards_in_entry(&mut entry);
        self.entries.push(entry);
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

    /// A breach the sweep fired: counted as missed at once, whatever happens next.
    pub fn breach(&mut self, t: &Ticket, key: &str, metric: Metric, at_ms: i64) {
        let mut counters = Counters {
            sla_breaches: 1,
            ..Counters::default()
        };
        *metric_counters(&mut counters, metric).3 = 1;
        self.fact(t, format!("breach:{key}"), at_ms, counters);
        self.breaches += 1;
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

    /// A message an agent wrote, sent under the request's key.
    pub fn send_for_agent(&mut self, t: &Ticket, agent: &str, idempotency_key: String, body: OutboundBody) {
        self.outbound.push(OutboundRequest {
            idempotency_key,
            ticket_id: t.id.clone(),
            customer: t.customer.clone(),
            phone_number_id: t.phone_number_id.clone(),
            author: Author::Agent(agent.to_owned()),
            body,
        });
    }

    pub fn sync_deadlines(&mut self, t: &Ticket, deadlines: Vec<Deadline>, previous: Option<Vec<Deadline>>) {
        self.deadlines.push(Effect::SyncDeadlines {
            ticket: t.id.clone(),
            customer: t.customer.clone(),
            deadlines,
            previous,
        });
    }

    pub fn measure(&mut self, measure: Measure) {
        self.measures.push(measure);
    }

    /// Only the timeline entries (what a repeated command completes).
    pub fn into_entries(self, t: &Ticket) -> Vec<Effect> {
        self.entries
            .into_iter()
            .map(|entry| Effect::Append {
                ticket: t.id.clone(),
                entry,
            })
            .collect()
    }

    /// Everything, in the order it is carried out.
    pub fn into_effects(mut self, t: &Ticket) -> Vec<Effect> {
        if let Some(measure) = self.sla_measure(t) {
            self.measures.insert(0, measure);
        }
        let mut effects: Vec<Effect> = Vec::new();
        effects.extend(self.events.into_iter().map(Effect::Publish));
        effects.extend(self.facts.into_iter().map(Effect::Count));
        effects.extend(self.outbound.into_iter().map(Effect::Send));
        effects.extend(self.deadlines);
        effects.extend(self.entries.into_iter().map(|entry| Effect::Append {
            ticket: t.id.clone(),
            entry,
        }));
        effects.extend(self.measures.into_iter().map(Effect::Measure));
        effects
    }

    /// SLA figures: each clock is decided once, at its breach or when it ends unbreached.
    fn sla_measure(&self, t: &Ticket) -> Option<Measure> {
        if self.outcomes.is_empty() && self.breaches == 0 {
            return None;
        }
        let decided = self.outcomes.iter().filter(|o| !o.breached).count() + self.breaches;
        let mut figures = vec![
            Figure {
                name: "SlaClocksDecided",
                value: decided as f64,
                count: true,
            },
            Figure {
                name: "SlaBreaches",
                value: self.breaches as f64,
                count: true,
            },
        ];
        for outcome in self.outcomes.iter().filter(|o| o.met) {
            let name = match outcome.metric {
                Metric::FirstResponse => "FirstResponseMinutes",
                Metric::NextResponse => "NextResponseMinutes",
                Metric::Resolution => "ResolutionMinutes",
            };
            figures.push(Figure {
                name,
                value: outcome.minutes as f64,
                count: false,
            });
        }
        Some(Measure {
            team: t.team.clone(),
            desk_wide: true,
            figures,
        })
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

pub(super) fn event_entry(id: String, at_ms: i64, author: Author, kind: &str, summary: String) -> TimelineEntry {
    TimelineEntry::event(id, at_ms, author, kind, summary)
}
