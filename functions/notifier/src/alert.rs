//! The ticket events agents are notified about, as EventBridge delivers them
//! to the notify queue: one envelope per SQS record body, read through the
//! helpdesk's one event type ([`helpdesk::domain::events::DomainEvent`]), so
//! what `tickets` publishes and what is read here cannot drift apart.

use helpdesk::domain::events::{DomainEvent, Envelope};
use helpdesk::domain::ids::TicketId;
use serde::Deserialize;
use std::fmt;

/// A ticket event the team is told about, with only the fields a notification
/// uses. Anything else an event might carry is never read, so it cannot reach
/// a notification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "Envelope")]
pub struct Alert {
    /// EventBridge's event id: the same on every redelivery of this event.
    pub id: String,
    /// The event's `detail-type`.
    pub kind: AlertKind,
    /// What happened to which ticket.
    pub detail: AlertDetail,
}

/// The `detail-type`s the notify rule lets through ([`DomainEvent::NOTIFIED`]).
/// Any other event is refused, so its record goes to the DLQ rather than being dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// A ticket was handed to a team of humans.
    TicketEscalated,
    /// A ticket is close to one of its SLA deadlines.
    SlaWarning,
    /// A ticket missed one of its SLA deadlines.
    SlaBreached,
    /// An assignee stayed silent too long: the ticket went back to the queue.
    TicketReassigned,
    /// An agent was mentioned (`@lea`) in an internal note.
    AgentMentioned,
    /// A ticket was given to an agent.
    TicketAssigned,
}

impl AlertKind {
    /// The `detail-type` as published.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::TicketEscalated => "TicketEscalated",
            AlertKind::SlaWarning => "SlaWarning",
            AlertKind::SlaBreached => "SlaBreached",
            AlertKind::TicketReassigned => "TicketReassigned",
            AlertKind::AgentMentioned => "AgentMentioned",
            AlertKind::TicketAssigned => "TicketAssigned",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a notification says about the ticket. `ticket_id` and `team` are
/// always there; the rest depends on the event.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertDetail {
    /// `TK-3F9A0C51D2E7`.
    pub ticket_id: TicketId,
    /// The id of the team that owns the ticket now.
    pub team: String,
    /// 2 for agents, 3 for specialists.
    pub tier: Option<u8>,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: Option<String>,
    /// What escalated the ticket (`frustration`, `direct_request`, ...).
    pub trigger: Option<String>,
    /// Why, in a sentence for agents.
    pub reason: Option<String>,
    /// The agent the notification is for (mentioned, or given the ticket).
    pub agent: Option<String>,
    /// When it happened, in milliseconds since the epoch.
    pub at_ms: Option<i64>,
    /// A short, already masked excerpt of the customer's last message.
    pub excerpt: Option<String>,
    /// The customer's language (`fr`).
    pub language: Option<String>,
}

/// An event agents are not notified about reached the notify queue.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not an event agents are notified about")]
pub struct NotNotified(&'static str);

impl TryFrom<Envelope> for Alert {
    type Error = NotNotified;

    fn try_from(envelope: Envelope) -> Result<Self, NotNotified> {
        let event = &envelope.event;
        let kind = match event {
            DomainEvent::TicketEscalated(_) => AlertKind::TicketEscalated,
            DomainEvent::SlaWarning(_) => AlertKind::SlaWarning,
            DomainEvent::SlaBreached(_) => AlertKind::SlaBreached,
            DomainEvent::TicketReassigned(_) => AlertKind::TicketReassigned,
            DomainEvent::AgentMentioned(_) => AlertKind::AgentMentioned,
            DomainEvent::TicketAssigned(_) => AlertKind::TicketAssigned,
            DomainEvent::TicketResolved(_) => return Err(NotNotified(event.kind())),
        };
        // Who the notification is for, and by whom (agent names, never a customer's data).
        let (agent, reason) = match event {
            DomainEvent::AgentMentioned(e) => (
                Some(e.agent.clone()),
                Some(format!("{} mentioned @{} in a note", e.by, e.agent)),
            ),
            DomainEvent::TicketAssigned(e) if e.by == e.agent => {
                (Some(e.agent.clone()), Some(format!("{} took the ticket", e.agent)))
            }
            DomainEvent::TicketAssigned(e) => (
                Some(e.agent.clone()),
                Some(format!("{} assigned the ticket to @{}", e.by, e.agent)),
            ),
            _ => (None, event.reason().map(str::to_owned)),
        };
        let ticket = event.ticket();
        let detail = AlertDetail {
            ticket_id: ticket.ticket_id.clone(),
            team: ticket.team.clone(),
            tier: Some(ticket.tier),
            priority: Some(ticket.priority.as_str().to_owned()),
            trigger: event.trigger().map(str::to_owned),
            reason,
            agent,
            at_ms: Some(ticket.at_ms),
            excerpt: event.excerpt().map(str::to_owned),
            language: ticket.language.clone(),
        };
        Ok(Alert {
            id: envelope.id,
            kind,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_names_the_agent_it_is_for_and_who_wrote_the_note() {
        let body = r#"{"version":"0","id":"m-1","detail-type":"AgentMentioned","source":"helpdesk.tickets",
            "detail":{"ticket_id":"TK-1","team":"support","tier":2,"priority":"normal","at_ms":5,
            "agent":"lea","by":"ana"}}"#;

        let alert: Alert = serde_json::from_str(body).unwrap();

        assert_eq!(alert.kind, AlertKind::AgentMentioned);
        assert_eq!(alert.detail.agent.as_deref(), Some("lea"));
        assert_eq!(alert.detail.reason.as_deref(), Some("ana mentioned @lea in a note"));
    }

    #[test]
    fn an_escalation_envelope_as_eventbridge_delivers_it_is_read() {
        let body = r#"{"version":"0","id":"6f1c-1","detail-type":"TicketEscalated","source":"helpdesk.tickets",
            "account":"123456789012","time":"2026-11-20T10:00:00Z","region":"eu-west-1","resources":[],
            "detail":{"ticket_id":"TK-3F9A0C51D2E7","team":"billing","tier":2,"priority":"high",
            "trigger":"frustration","reason":"three negative words","at_ms":1795237200000,
            "excerpt":"this is USELESS","language":"fr","customer":"15551230001"}}"#;

        let alert: Alert = serde_json::from_str(body).unwrap();

        assert_eq!(alert.id, "6f1c-1");
        assert_eq!(alert.kind, AlertKind::TicketEscalated);
        assert_eq!(alert.detail.ticket_id.as_str(), "TK-3F9A0C51D2E7");
        assert_eq!(alert.detail.team, "billing");
        assert_eq!(alert.detail.tier, Some(2));
        assert_eq!(alert.detail.excerpt.as_deref(), Some("this is USELESS"));
        assert_eq!(alert.detail.language.as_deref(), Some("fr"));
    }

    #[test]
    fn an_sla_breach_as_tickets_publishes_it_is_read() {
        let body = r#"{"id":"e-2","detail-type":"SlaBreached","source":"helpdesk.tickets",
            "detail":{"ticket_id":"TK-1","team":"support","tier":2,"priority":"normal","at_ms":5,"language":null,
            "trigger":"sla_first_response","reason":"first response overdue","metric":"first_response",
            "assignee":null,"escalation":"escalated to the team lead (level 1)","due_at_ms":4,"level":null}}"#;

        let alert: Alert = serde_json::from_str(body).unwrap();

        assert_eq!(alert.kind, AlertKind::SlaBreached);
        assert_eq!(alert.detail.reason.as_deref(), Some("first response overdue"));
        assert_eq!(alert.detail.priority.as_deref(), Some("normal"));
        assert_eq!(alert.detail.excerpt, None);
    }

    #[test]
    fn an_unknown_detail_type_or_a_bad_ticket_id_is_refused() {
        let other = r#"{"id":"e","detail-type":"TicketResolved","detail":{"ticket_id":"TK-1","team":"support","tier":2,"priority":"normal","at_ms":5}}"#;
        let bad_id = r#"{"id":"e","detail-type":"SlaWarning","detail":{"ticket_id":"TK 1/../x","team":"support"}}"#;

        assert!(serde_json::from_str::<Alert>(other).is_err());
        assert!(serde_json::from_str::<Alert>(bad_id).is_err());
    }
}
