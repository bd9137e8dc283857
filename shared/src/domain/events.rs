//! Domain events: what the `tickets` function tells the rest of the system on
//! the EventBridge bus. One typed enum, serialised here and nowhere else, is
//! both what `tickets` publishes and what consumers (the notifier) read, so a
//! renamed event or field fails to compile instead of failing in production.
//!
//! On the bus an event is EventBridge's envelope: the variant's name is the
//! `detail-type` and its fields are the `detail`. No event carries a phone
//! number or a customer's words, apart from the bot's short masked excerpt.

use crate::domain::ids::TicketId;
use crate::domain::sla::Metric;
use crate::domain::ticket::{Priority, Ticket};
use serde::{Deserialize, Serialize};

/// The `source` of every event the helpdesk publishes.
pub const EVENT_SOURCE: &str = "helpdesk.tickets";

/// Which ticket an event is about, and where the ticket stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRef {
    pub ticket_id: TicketId,
    /// The team that owns the ticket now.
    pub team: String,
    /// 1 for the bot, 2 for agents, 3 for specialists.
    pub tier: u8,
    pub priority: Priority,
    /// When it happened, in milliseconds since the epoch.
    pub at_ms: i64,
    /// The customer's language code (`fr`), when known.
    #[serde(default)]
    pub language: Option<String>,
}

impl TicketRef {
    pub fn of(ticket: &Ticket, at_ms: i64) -> TicketRef {
        TicketRef {
            ticket_id: ticket.id.clone(),
            team: ticket.team.clone(),
            tier: ticket.tier,
            priority: ticket.priority,
            at_ms,
            language: ticket.context.language.clone(),
        }
    }
}

/// A ticket was handed to a team of humans (by the bot, or an agent's transfer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEscalated {
    #[serde(flatten)]
    pub ticket: TicketRef,
    /// What escalated it (`frustration`, `direct_request`, `transfer`…).
    pub trigger: String,
    /// Why, in a sentence for agents.
    pub reason: String,
    /// A short, already masked excerpt of the customer's words.
    #[serde(default)]
    pub excerpt: Option<String>,
}

/// A ticket used the warning share (80% by default) of one of its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaWarning {
    #[serde(flatten)]
    pub ticket: TicketRef,
    /// `sla_<metric>`.
    pub trigger: String,
    pub reason: String,
    pub metric: Metric,
    #[serde(default)]
    pub assignee: Option<String>,
    pub percent: u8,
    pub due_at_ms: i64,
}

/// A ticket missed one of its targets, or is still missing it at a further
/// escalation level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaBreached {
    #[serde(flatten)]
    pub ticket: TicketRef,
    /// `sla_<metric>`.
    pub trigger: String,
    pub reason: String,
    pub metric: Metric,
    #[serde(default)]
    pub assignee: Option<String>,
    /// Who was alerted, or where the ticket went.
    pub escalation: String,
    /// When the target fell due (the breach itself).
    #[serde(default)]
    pub due_at_ms: Option<i64>,
    /// The hierarchical level reached (a further level after the breach).
    #[serde(default)]
    pub level: Option<u8>,
}

/// An assignee stayed silent too long: the ticket went back to its team's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketReassigned {
    #[serde(flatten)]
    pub ticket: TicketRef,
    /// `reassigned`.
    pub trigger: String,
    pub reason: String,
    #[serde(default)]
    pub previous_assignee: Option<String>,
}

/// A ticket was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketResolved {
    #[serde(flatten)]
    pub ticket: TicketRef,
}

/// An agent was named (`@ana`) in an internal note: they are told where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMentioned {
    #[serde(flatten)]
    pub ticket: TicketRef,
    /// Who is mentioned.
    pub agent: String,
    /// Who wrote the note.
    pub by: String,
}

/// A ticket was given to an agent (claimed, assigned by a lead, reopened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketAssigned {
    #[serde(flatten)]
    pub ticket: TicketRef,
    pub agent: String,
    /// Who gave it (the agent themselves for a claim).
    pub by: String,
}

/// Every event the helpdesk publishes. The variant name is the `detail-type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "detail-type", content = "detail")]
pub enum DomainEvent {
    TicketEscalated(TicketEscalated),
    SlaWarning(SlaWarning),
    SlaBreached(SlaBreached),
    TicketReassigned(TicketReassigned),
    TicketResolved(TicketResolved),
    AgentMentioned(AgentMentioned),
    TicketAssigned(TicketAssigned),
}

impl DomainEvent {
    /// Every `detail-type`, in declaration order.
    pub const KINDS: [&'static str; 7] = [
        "TicketEscalated",
        "SlaWarning",
        "SlaBreached",
        "TicketReassigned",
        "TicketResolved",
        "AgentMentioned",
        "TicketAssigned",
    ];

    /// The `detail-type`s the team is notified about (Slack, Teams): what the
    /// template's notify rule lets through to the notifier.
    pub const NOTIFIED: [&'static str; 6] = [
        "TicketEscalated",
        "SlaWarning",
        "SlaBreached",
        "TicketReassigned",
        "AgentMentioned",
        "TicketAssigned",
    ];

    /// The `detail-type`.
    pub fn kind(&self) -> &'static str {
        match self {
            DomainEvent::TicketEscalated(_) => "TicketEscalated",
            DomainEvent::SlaWarning(_) => "SlaWarning",
            DomainEvent::SlaBreached(_) => "SlaBreached",
            DomainEvent::TicketReassigned(_) => "TicketReassigned",
            DomainEvent::TicketResolved(_) => "TicketResolved",
            DomainEvent::AgentMentioned(_) => "AgentMentioned",
            DomainEvent::TicketAssigned(_) => "TicketAssigned",
        }
    }

    pub fn ticket(&self) -> &TicketRef {
        match self {
            DomainEvent::TicketEscalated(e) => &e.ticket,
            DomainEvent::SlaWarning(e) => &e.ticket,
            DomainEvent::SlaBreached(e) => &e.ticket,
            DomainEvent::TicketReassigned(e) => &e.ticket,
            DomainEvent::TicketResolved(e) => &e.ticket,
            DomainEvent::AgentMentioned(e) => &e.ticket,
            DomainEvent::TicketAssigned(e) => &e.ticket,
        }
    }

    /// What set it off, for agents (`frustration`, `sla_first_response`…).
    pub fn trigger(&self) -> Option<&str> {
        match self {
            DomainEvent::TicketEscalated(e) => Some(&e.trigger),
            DomainEvent::SlaWarning(e) => Some(&e.trigger),
            DomainEvent::SlaBreached(e) => Some(&e.trigger),
            DomainEvent::TicketReassigned(e) => Some(&e.trigger),
            DomainEvent::AgentMentioned(_) => Some("mention"),
            DomainEvent::TicketAssigned(_) => Some("assigned"),
            DomainEvent::TicketResolved(_) => None,
        }
    }

    /// Why, in a sentence for agents.
    pub fn reason(&self) -> Option<&str> {
        match self {
            DomainEvent::TicketEscalated(e) => Some(&e.reason),
            DomainEvent::SlaWarning(e) => Some(&e.reason),
            DomainEvent::SlaBreached(e) => Some(&e.reason),
            DomainEvent::TicketReassigned(e) => Some(&e.reason),
            DomainEvent::AgentMentioned(_) | DomainEvent::TicketAssigned(_) | DomainEvent::TicketResolved(_) => None,
        }
    }

    /// The customer's masked words, when the event carries them.
    pub fn excerpt(&self) -> Option<&str> {
        match self {
            DomainEvent::TicketEscalated(e) => e.excerpt.as_deref(),
            _ => None,
        }
    }

    /// The `detail` as EventBridge takes it: a JSON object in a string.
    pub fn detail_json(&self) -> String {
        // The adjacently tagged form is `{"detail-type": …, "detail": {…}}`.
        serde_json::to_value(self)
            .ok()
            .and_then(|mut v| v.get_mut("detail").map(serde_json::Value::take))
            .unwrap_or_default()
            .to_string()
    }
}

/// An event as EventBridge delivers it to a queue: its envelope, with the id
/// that stays the same on every redelivery. Other envelope fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(flatten)]
    pub event: DomainEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> TicketRef {
        TicketRef {
            ticket_id: TicketId::parse("TK-1").unwrap(),
            team: "support".into(),
            tier: 2,
            priority: Priority::High,
            at_ms: 1_000,
            language: Some("fr".into()),
        }
    }

    /// One event of each kind. The `match` fails to compile when a variant is added.
    fn one_of_each() -> Vec<DomainEvent> {
        let events = vec![
            DomainEvent::TicketEscalated(TicketEscalated {
                ticket: ticket(),
                trigger: "frustration".into(),
                reason: "three angry words".into(),
                excerpt: Some("useless".into()),
            }),
            DomainEvent::SlaWarning(SlaWarning {
                ticket: ticket(),
                trigger: "sla_first_response".into(),
                reason: "80% used".into(),
                metric: Metric::FirstResponse,
                assignee: None,
                percent: 80,
                due_at_ms: 2_000,
            }),
            DomainEvent::SlaBreached(SlaBreached {
                ticket: ticket(),
                trigger: "sla_first_response".into(),
                reason: "missed".into(),
                metric: Metric::FirstResponse,
                assignee: Some("ana".into()),
                escalation: "escalated to the team lead (level 1)".into(),
                due_at_ms: Some(2_000),
                level: None,
            }),
            DomainEvent::TicketReassigned(TicketReassigned {
                ticket: ticket(),
                trigger: "reassigned".into(),
                reason: "silent".into(),
                previous_assignee: Some("ana".into()),
            }),
            DomainEvent::TicketResolved(TicketResolved { ticket: ticket() }),
            DomainEvent::AgentMentioned(AgentMentioned {
                ticket: ticket(),
                agent: "lea".into(),
                by: "ana".into(),
            }),
            DomainEvent::TicketAssigned(TicketAssigned {
                ticket: ticket(),
                agent: "ana".into(),
                by: "lea".into(),
            }),
        ];
        for e in &events {
            match e {
                DomainEvent::TicketEscalated(_)
                | DomainEvent::SlaWarning(_)
                | DomainEvent::SlaBreached(_)
                | DomainEvent::TicketReassigned(_)
                | DomainEvent::TicketResolved(_)
                | DomainEvent::AgentMentioned(_)
                | DomainEvent::TicketAssigned(_) => {}
            }
        }
        events
    }

    #[test]
    fn every_variant_has_one_kind_and_the_kind_is_its_detail_type() {
        let events = one_of_each();
        let kinds: Vec<&str> = events.iter().map(DomainEvent::kind).collect();
        assert_eq!(kinds, DomainEvent::KINDS);
        for e in &events {
            let tagged = serde_json::to_value(e).unwrap();
            assert_eq!(tagged["detail-type"], e.kind());
        }
        assert!(DomainEvent::NOTIFIED.iter().all(|k| DomainEvent::KINDS.contains(k)));
    }

    #[test]
    fn an_event_published_as_a_detail_reads_back_from_eventbridges_envelope() {
        for event in one_of_each() {
            let body = format!(
                r#"{{"version":"0","id":"ev-1","detail-type":"{}","source":"{EVENT_SOURCE}","account":"1","time":"2026-11-20T10:00:00Z","region":"eu-west-1","resources":[],"detail":{}}}"#,
                event.kind(),
                event.detail_json()
            );
            let envelope: Envelope = serde_json::from_str(&body).unwrap();
            assert_eq!(envelope.id, "ev-1");
            assert_eq!(envelope.event, event);
        }
    }

    #[test]
    fn the_detail_keeps_the_field_names_consumers_read() {
        let escalated = &one_of_each()[0];
        let detail: serde_json::Value = serde_json::from_str(&escalated.detail_json()).unwrap();
        for field in [
            "ticket_id",
            "team",
            "tier",
            "priority",
            "trigger",
            "reason",
            "at_ms",
            "excerpt",
            "language",
        ] {
            assert!(detail.get(field).is_some(), "{field} in {detail}");
        }
        assert_eq!(detail["ticket_id"], "TK-1");
        assert_eq!(detail["priority"], "high");
    }

    #[test]
    fn an_unknown_detail_type_does_not_read_as_an_event() {
        let body = r#"{"id":"e","detail-type":"SomethingElse","detail":{"ticket_id":"TK-1"}}"#;
        assert!(serde_json::from_str::<Envelope>(body).is_err());
    }
}
