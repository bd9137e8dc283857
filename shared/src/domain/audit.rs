//! The audit trail of the agent workspace, and who is on a ticket now: who did what, when, to which
//! ticket, and how it ended. Never a customer's words, phone or ids: a ticket
//! id says which conversation, and only admins read the trail.

use crate::domain::ids::TicketId;
use serde::{Deserialize, Serialize};

/// One audited request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub at_ms: i64,
    /// The agent's user name.
    pub agent: String,
    /// `agent`, `lead` or `admin`.
    pub role: String,
    /// What they did: `open_ticket`, `reply`, `note`, `claim`, `media_link`…
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketId>,
    /// The HTTP status it ended with (a refusal is audited too).
    pub status: u16,
    /// The request's id (API Gateway's, or the client's idempotency key).
    pub request_id: String,
    /// When the store may forget it (the retention, in milliseconds since the epoch).
    pub keep_until_ms: i64,
}

impl AuditRecord {
    /// Whether it matches an admin's filter.
    pub fn matches(&self, agent: Option<&str>, ticket: Option<&TicketId>) -> bool {
        agent.is_none_or(|a| self.agent == a) && ticket.is_none_or(|t| self.ticket.as_ref() == Some(t))
    }
}

/// How long the trail is kept by default.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// Who is on a ticket right now: short-lived, renewed by the console while
/// the agent has the ticket open or types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub agent: String,
    /// `viewing` or `typing`.
    pub activity: String,
    /// Until when it holds, unless renewed (milliseconds since the epoch).
    pub until_ms: i64,
}

/// How long a presence holds without renewal.
pub const PRESENCE_TTL_MS: i64 = 30_000;
