//! The change feed agents' consoles follow: every saved change of a ticket,
//! in the order it was saved, read from a position and resumed from the last
//! one a client received (nothing missed, nothing twice).
//!
//! A change is positioned by the time `tickets` saved it (its clock when it
//! saves, not the time of what happened), the ticket and the version. Readers
//! stop a settle period short of now: a save that started before a reader's
//! read but committed after it still lands ahead of the reader's position.

use crate::domain::ids::TicketId;
use crate::domain::ticket::Ticket;
use serde::{Deserialize, Serialize};

/// How far behind now readers stay, so saves in flight have committed.
pub const SETTLE_MS: i64 = 3_000;
/// How long changes are kept: a client away longer resynchronises in full.
pub const RETENTION_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// One saved change: the ticket as saved, without what it holds about the
/// customer (see [`change_of`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Where it is in the feed (opaque to clients; ordered).
    pub position: String,
    /// When `tickets` saved it.
    pub at_ms: i64,
    pub ticket_id: TicketId,
    pub version: u64,
    pub team: String,
    /// The team it left with this change (a transfer), whose agents hear of it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_team: Option<String>,
    /// The ticket as saved, without who the customer is or anything they
    /// said (see [`change_of`]).
    pub ticket: serde_json::Value,
}

/// The position of a change: saved time, ticket, version.
pub fn position(at_ms: i64, ticket: &TicketId, version: u64) -> String {
    format!("{at_ms:013}#{}#{version:010}", ticket.as_str())
}

/// The greatest position saved at or before `at_ms`.
pub fn position_upto(at_ms: i64) -> String {
    format!("{at_ms:013}#~")
}

/// The time a position names (`None` for what no feed gave).
pub fn time_of(position: &str) -> Option<i64> {
    let (ms, rest) = position.split_once('#')?;
    (ms.len() == 13 && !rest.is_empty()).then(|| ms.parse().ok()).flatten()
}

/// The change a save makes: `saved_at_ms` (else the ticket's update time),
/// the version it is saved under, and the team it left, if it moved.
pub fn change_of(ticket: &Ticket, version: u64) -> Change {
    let at_ms = ticket.saved_at_ms.unwrap_or(ticket.updated_at_ms);
    let mut ticket = ticket.clone();
    ticket.version = version;
    // The feed carries nothing about the customer (who, name, order, their
    // words): an erasure need not reach it; a client reads those with the ticket.
    crate::domain::privacy::erase_ticket(&mut ticket);
    let mut snapshot = serde_json::to_value(&ticket).unwrap_or_default();
    if let Some(fields) = snapshot.as_object_mut() {
        fields.remove("customer");
    }
    Change {
        position: position(at_ms, &ticket.id, version),
        at_ms,
        ticket_id: ticket.id.clone(),
        version,
        team: ticket.team.clone(),
        left_team: ticket.left_team.clone().filter(|t| *t != ticket.team),
        ticket: snapshot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_sort_by_time_then_ticket_then_version_and_the_bound_covers_the_millisecond() {
        let a = TicketId::parse("TK-A").unwrap();
        let b = TicketId::parse("TK-B").unwrap();
        assert!(position(5, &a, 9) < position(5, &a, 10));
        assert!(position(5, &a, 10) < position(5, &b, 1));
        assert!(position(5, &b, 1) <= position_upto(5));
        assert!(position(6, &a, 1) > position_upto(5));
        assert_eq!(time_of(&position(1_795_237_200_000, &a, 3)), Some(1_795_237_200_000));
        assert_eq!(time_of("garbage"), None);
    }
}
