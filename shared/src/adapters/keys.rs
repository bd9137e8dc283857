//! The single-table layout: every key and key attribute name of the helpdesk
//! table is spelled here and nowhere else.

use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::ticket::{Priority, TicketStatus};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// Agents' queue view: `QUEUE#<team>#<status>` / `<priority rank>#<created ms>#<ticket>`.
pub const GSI_QUEUE: &str = "gsi1";
pub const GSI_QUEUE_PK: &str = "gsi1pk";
pub const GSI_QUEUE_SK: &str = "gsi1sk";
/// DynamoDB's TTL attribute (unix seconds).
pub const TTL: &str = "expires_at";
/// Optimistic-concurrency attribute.
pub const VERSION: &str = "version";
/// Rank of an outbound entry's delivery state (conditional forward-only updates).
pub const DELIVERY_RANK: &str = "delivery_rank";

pub fn customer_pk(customer: &CustomerId) -> String {
    format!("CUST#{}", customer.as_str())
}
pub const CONVERSATION_SK: &str = "CONV";
pub const PROFILE_SK: &str = "PROFILE";

pub fn ticket_pk(ticket: &TicketId) -> String {
    format!("TICKET#{}", ticket.as_str())
}
pub const TICKET_META_SK: &str = "META";
/// Timeline entries sort by time, then message id.
pub const TIMELINE_PREFIX: &str = "MSG#";
pub fn timeline_sk(at_ms: i64, id: &str) -> String {
    format!("{TIMELINE_PREFIX}{at_ms:013}#{id}")
}

/// A ticket's attachments: `TICKET#<id>` / `MEDIA#<wamid>`.
pub const MEDIA_PREFIX: &str = "MEDIA#";
pub fn media_sk(wamid: &str) -> String {
    format!("{MEDIA_PREFIX}{wamid}")
}

/// The near-duplicate index: `PHASH#<band>` / `<hash>#<ticket>#<wamid>`.
pub fn phash_pk(band: &str) -> String {
    format!("PHASH#{band}")
}
pub fn phash_sk(hash: &str, ticket: &TicketId, wamid: &str) -> String {
    format!("{hash}#{}#{wamid}", ticket.as_str())
}

pub fn wamid_pk(wamid: &str) -> String {
    format!("WAMID#{wamid}")
}
/// Points an outbound wamid at its ticket entry.
pub const OUTBOUND_LINK_SK: &str = "OUT";
/// A status that arrived before its message was recorded.
pub const PARKED_STATUS_SK: &str = "STATUS";

pub fn queue_pk(team: &str, status: TicketStatus) -> String {
    format!("QUEUE#{team}#{}", status.as_str())
}
pub fn queue_sk(priority: Priority, created_at_ms: i64, ticket: &TicketId) -> String {
    format!("{}#{created_at_ms:013}#{}", priority.queue_rank(), ticket.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_keys_sort_in_time_order() {
        assert!(timeline_sk(999, "b") < timeline_sk(1_000, "a"));
    }

    #[test]
    fn queue_keys_put_urgent_tickets_first_then_the_oldest() {
        let t = TicketId::parse("TK-1").unwrap();
        assert!(queue_sk(Priority::Urgent, 9, &t) < queue_sk(Priority::Normal, 1, &t));
        assert!(queue_sk(Priority::Normal, 1, &t) < queue_sk(Priority::Normal, 2, &t));
    }
}
