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

/// Partition-key prefixes of the table's items. IAM policies in template.yaml
/// name them in `dynamodb:LeadingKeys` conditions; a test holds the two together.
pub const CUSTOMER_PREFIX: &str = "CUST#";
pub const TICKET_PREFIX: &str = "TICKET#";
pub const PHASH_PREFIX: &str = "PHASH#";
pub const WAMID_PREFIX: &str = "WAMID#";
pub const REPORT_PREFIX: &str = "REPORT#";
pub const FACT_PREFIX: &str = "FACT#";
pub const IDENTITY_PREFIX: &str = "IDENT#";
pub const UNATTRIBUTED_PREFIX: &str = "UNATTRIBUTED#";
/// Every partition-key prefix an item of the table has.
pub const PARTITION_PREFIXES: &[&str] = &[
    CUSTOMER_PREFIX,
    TICKET_PREFIX,
    PHASH_PREFIX,
    WAMID_PREFIX,
    REPORT_PREFIX,
    FACT_PREFIX,
    IDENTITY_PREFIX,
    UNATTRIBUTED_PREFIX,
];
/// Partition keys that are whole keys, not prefixes.
pub const FIXED_PARTITIONS: &[&str] = &[SWEEP_PK];

pub fn customer_pk(customer: &CustomerId) -> String {
    format!("{CUSTOMER_PREFIX}{}", customer.as_str())
}
/// A conversation stored before there was one per business number.
pub const LEGACY_CONVERSATION_SK: &str = "CONV";
/// The bot's conversation with a customer on one business number.
pub fn conversation_sk(phone_number_id: &str) -> String {
    format!("{LEGACY_CONVERSATION_SK}#{phone_number_id}")
}
pub const PROFILE_SK: &str = "PROFILE";
/// What is known of the customer's identity (phone, BSUID, username).
pub const IDENTITY_SK: &str = "IDENTITY";

/// The identity map: `IDENT#<kind>#<value>` / `LINK` names the customer a
/// phone, BSUID or parent id belongs to.
pub fn identity_pk(kind: &str, value: &str) -> String {
    format!("{IDENTITY_PREFIX}{kind}#{value}")
}
pub const IDENTITY_LINK_SK: &str = "LINK";

/// Messages that name no customer: `UNATTRIBUTED#<yyyy-mm-dd>` / `<ms>#<wamid>`.
pub fn unattributed_pk(day: &str) -> String {
    format!("{UNATTRIBUTED_PREFIX}{day}")
}
pub fn unattributed_sk(at_ms: i64, wamid: &str) -> String {
    format!("{at_ms:013}#{wamid}")
}

pub fn ticket_pk(ticket: &TicketId) -> String {
    format!("{TICKET_PREFIX}{}", ticket.as_str())
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
    format!("{PHASH_PREFIX}{band}")
}
pub fn phash_sk(hash: &str, ticket: &TicketId, wamid: &str) -> String {
    format!("{hash}#{}#{wamid}", ticket.as_str())
}

pub fn wamid_pk(wamid: &str) -> String {
    format!("{WAMID_PREFIX}{wamid}")
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

/// The SLA deadline index: one item per ticket and deadline kind,
/// `TICKET#<id>` / `SLA#<kind>`, also in gsi2 under
/// `DUE#<epoch minute>#<shard>` / `<deadline ms>#<ticket>#<kind>`. The sweep
/// queries only the minute buckets that are due; shards spread a busy minute.
pub const GSI_DUE: &str = "gsi2";
pub const GSI_DUE_PK: &str = "gsi2pk";
pub const GSI_DUE_SK: &str = "gsi2sk";
pub const DUE_SHARDS: u32 = 4;
pub const DEADLINE_PREFIX: &str = "SLA#";
pub fn deadline_sk(kind: &str) -> String {
    format!("{DEADLINE_PREFIX}{kind}")
}
pub fn due_pk(minute: i64, shard: u32) -> String {
    format!("DUE#{minute}#{shard}")
}
/// Sorts by deadline; `due_sk_upto(now)` is the greatest key due at `now`.
pub fn due_sk(at_ms: i64, ticket: &TicketId, kind: &str) -> String {
    format!("{at_ms:013}#{}#{kind}", ticket.as_str())
}
pub fn due_sk_upto(now_ms: i64) -> String {
    format!("{now_ms:013}#~")
}
/// The shard of a ticket's deadlines (FNV-1a of its id: stable across builds).
pub fn due_shard(ticket: &TicketId) -> u32 {
    let hash = ticket
        .as_str()
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    hash % DUE_SHARDS
}
/// Attributes of a deadline item that conditions test.
pub const DEADLINE_AT: &str = "at_ms";
pub const DEADLINE_STAGE: &str = "stage_key";
pub const DEADLINE_CLAIMED_UNTIL: &str = "claimed_until_ms";
pub const DEADLINE_FIRST_CLAIMED: &str = "first_claimed_ms";
/// Where the sweep has got to: the first minute bucket not fully handled.
pub const SWEEP_PK: &str = "SLA#SWEEP";
pub const SWEEP_SK: &str = "CURSOR";
pub const SWEEP_MINUTE: &str = "minute";

/// KPI aggregates: `REPORT#<yyyy-mm-dd>` / `<team>#<priority>`, counters added
/// as events happen; `FACT#<fact id>` / `FACT` marks a fact as counted, so a
/// repeated command adds nothing.
pub fn report_pk(day: &str) -> String {
    format!("{REPORT_PREFIX}{day}")
}
pub fn report_sk(team: &str, priority: Priority) -> String {
    format!("{team}#{}", priority.as_str())
}
pub fn fact_pk(fact: &str) -> String {
    format!("{FACT_PREFIX}{fact}")
}
pub const FACT_SK: &str = "FACT";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_keys_sort_by_deadline_and_the_upper_bound_covers_the_whole_millisecond() {
        let t = TicketId::parse("TK-1").unwrap();
        assert!(due_sk(999, &t, "resolution") < due_sk(1_000, &t, "first_response"));
        assert!(due_sk(1_000, &t, "resolution") <= due_sk_upto(1_000));
        assert!(due_sk(1_001, &t, "first_response") > due_sk_upto(1_000));
        assert!(due_shard(&t) < DUE_SHARDS);
    }

    #[test]
    fn every_partition_key_built_here_has_a_listed_prefix_or_is_a_listed_key() {
        let t = TicketId::parse("TK-1").unwrap();
        let c = CustomerId::parse("15551230001").unwrap();
        let built = [
            customer_pk(&c),
            ticket_pk(&t),
            phash_pk("0:ab"),
            wamid_pk("wamid.1"),
            report_pk("2026-11-21"),
            fact_pk("TK-1:opened"),
            identity_pk("user", "US.1349"),
            unattributed_pk("2026-11-21"),
        ];
        for pk in &built {
            assert!(PARTITION_PREFIXES.iter().any(|p| pk.starts_with(p)), "{pk}");
        }
        assert!(FIXED_PARTITIONS.contains(&SWEEP_PK));
        // Each listed prefix is built by one builder above (none is dead).
        for prefix in PARTITION_PREFIXES {
            assert!(built.iter().any(|pk| pk.starts_with(prefix)), "{prefix}");
        }
    }

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
