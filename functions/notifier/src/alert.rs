//! The ticket events agents are notified about, as EventBridge delivers them
//! to the notify queue: one envelope per SQS record body.

use helpdesk::domain::ids::TicketId;
use serde::Deserialize;
use std::fmt;

/// An EventBridge event envelope (`{"version","id","detail-type","source",
/// "time","detail",...}`) carrying a ticket event. Only the fields a
/// notification uses are read; anything else in `detail` (a phone number, a
/// message text) is never even parsed, so it cannot reach a notification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Alert {
    /// EventBridge's event id: the same on every redelivery of this event.
    pub id: String,
    /// The event's `detail-type`.
    #[serde(rename = "detail-type")]
    pub kind: AlertKind,
    /// What happened to which ticket.
    pub detail: AlertDetail,
}

/// The `detail-type`s the notify rule lets through. Any other one fails to
/// parse, so its record goes to the DLQ rather than being dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AlertKind {
    /// A ticket was handed to a team of humans.
    TicketEscalated,
    /// A ticket is close to one of its SLA deadlines.
    SlaWarning,
    /// A ticket missed one of its SLA deadlines.
    SlaBreached,
    /// An assignee stayed silent too long: the ticket went back to the queue.
    TicketReassigned,
}

impl AlertKind {
    /// The `detail-type` as published.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::TicketEscalated => "TicketEscalated",
            AlertKind::SlaWarning => "SlaWarning",
            AlertKind::SlaBreached => "SlaBreached",
            AlertKind::TicketReassigned => "TicketReassigned",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `detail` of a ticket event. `ticket_id` and `team` are always there;
/// SLA events (`SlaWarning`, `SlaBreached`) may carry only those and a `reason`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AlertDetail {
    /// `TK-3F9A0C51D2E7`.
    pub ticket_id: TicketId,
    /// The id of the team that owns the ticket now.
    pub team: String,
    /// 2 for agents, 3 for specialists.
    #[serde(default)]
    pub tier: Option<u8>,
    /// `low`, `normal`, `high` or `urgent`.
    #[serde(default)]
    pub priority: Option<String>,
    /// What escalated the ticket (`frustration`, `direct_request`, ...).
    #[serde(default)]
    pub trigger: Option<String>,
    /// Why, in a sentence for agents.
    #[serde(default)]
    pub reason: Option<String>,
    /// When it happened, in milliseconds since the epoch.
    #[serde(default)]
    pub at_ms: Option<i64>,
    /// A short, already masked excerpt of the customer's last message.
    #[serde(default)]
    pub excerpt: Option<String>,
    /// The customer's language (`fr`).
    #[serde(default)]
    pub language: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn an_sla_event_with_only_its_ticket_team_and_reason_is_read() {
        let body = r#"{"id":"e-2","detail-type":"SlaBreached","source":"helpdesk.tickets",
            "detail":{"ticket_id":"TK-1","team":"support","reason":"first response overdue","excerpt":null}}"#;

        let alert: Alert = serde_json::from_str(body).unwrap();

        assert_eq!(alert.kind, AlertKind::SlaBreached);
        assert_eq!(alert.detail.reason.as_deref(), Some("first response overdue"));
        assert_eq!(alert.detail.priority, None);
        assert_eq!(alert.detail.excerpt, None);
    }

    #[test]
    fn an_unknown_detail_type_or_a_bad_ticket_id_is_refused() {
        let other = r#"{"id":"e","detail-type":"TicketResolved","detail":{"ticket_id":"TK-1","team":"support"}}"#;
        let bad_id = r#"{"id":"e","detail-type":"SlaWarning","detail":{"ticket_id":"TK 1/../x","team":"support"}}"#;

        assert!(serde_json::from_str::<Alert>(other).is_err());
        assert!(serde_json::from_str::<Alert>(bad_id).is_err());
    }
}
