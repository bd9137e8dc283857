//! The single-table layout: every key and key attribute name of the helpdesk
//! table is spelled here and nowhere else.

use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::ticket::{Priority, Ticket, TicketStatus};
use crate::domain::views::{Listing, name_key, normalise_order};

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
pub const AUDIT_PREFIX: &str = "AUDIT#";
pub const FEED_PREFIX: &str = "FEED#";
pub const PRESENCE_PREFIX: &str = "PRESENCE#";
pub const AVAILABLE_PREFIX: &str = "AVAIL#";
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
    AUDIT_PREFIX,
    FEED_PREFIX,
    PRESENCE_PREFIX,
    AVAILABLE_PREFIX,
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

/// The audit trail: `AUDIT#<yyyy-mm-dd>` / `<ms>#<agent>#<request id>`.
pub fn audit_pk(day: &str) -> String {
    format!("{AUDIT_PREFIX}{day}")
}
pub fn audit_sk(at_ms: i64, agent: &str, request_id: &str) -> String {
    format!("{at_ms:013}#{agent}#{request_id}")
}

/// The change feed: `FEED#<yyyy-mm-ddThh>` (one partition per hour) /
/// the change's position (`domain::feed::position`).
pub fn feed_pk(at_ms: i64) -> String {
    let hour = jiff::Timestamp::from_millisecond(at_ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H")
        .to_string();
    format!("{FEED_PREFIX}{hour}")
}
pub const FEED_HOUR_MS: i64 = 60 * 60 * 1000;

/// The agents available on a team: `AVAIL#<team>` / `<agent>`.
pub fn available_pk(team: &str) -> String {
    format!("{AVAILABLE_PREFIX}{team}")
}

/// Who is on a ticket: `PRESENCE#<ticket>` / `<agent>`, gone after its TTL.
pub fn presence_pk(ticket: &TicketId) -> String {
    format!("{PRESENCE_PREFIX}{}", ticket.as_str())
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

/// The workspace's lists, each a sparse index over tickets' `META` items
/// (DynamoDB keeps them as tickets are saved; nothing else writes them):
/// `gsi1` a team's queue per status (above), `gsi3` an agent's assigned
/// tickets `AGENT#<name>`, `gsi4` a customer's tickets `HIST#<customer>`,
/// `gsi5` lookups `ORDER#<number>` (and `USERNAME#<name>` on identity items),
/// `gsi6` names `NAME#<first letter>` / `<name>#<ticket>`, `gsi7` a team's
/// tickets at risk `RISK#<team>`, `gsi8` those waiting on the customer `WAIT#<team>`.
pub const GSI_OWNER: (&str, &str, &str) = ("gsi3", "gsi3pk", "gsi3sk");
pub const GSI_HISTORY: (&str, &str, &str) = ("gsi4", "gsi4pk", "gsi4sk");
pub const GSI_LOOKUP: (&str, &str, &str) = ("gsi5", "gsi5pk", "gsi5sk");
pub const GSI_NAME: (&str, &str, &str) = ("gsi6", "gsi6pk", "gsi6sk");
pub const GSI_RISK: (&str, &str, &str) = ("gsi7", "gsi7pk", "gsi7sk");
pub const GSI_WAITING: (&str, &str, &str) = ("gsi8", "gsi8pk", "gsi8sk");
/// Every index of the table: (name, partition attribute, sort attribute).
pub const INDEXES: [(&str, &str, &str); 8] = [
    (GSI_QUEUE, GSI_QUEUE_PK, GSI_QUEUE_SK),
    (GSI_DUE, GSI_DUE_PK, GSI_DUE_SK),
    GSI_OWNER,
    GSI_HISTORY,
    GSI_LOOKUP,
    GSI_NAME,
    GSI_RISK,
    GSI_WAITING,
];

/// A resolved ticket in its team's resolved queue: by resolution time (read newest first).
pub fn resolved_sk(resolved_at_ms: i64, ticket: &TicketId) -> String {
    format!("{resolved_at_ms:013}#{}", ticket.as_str())
}
fn created_sk(t: &Ticket) -> String {
    format!("{:013}#{}", t.created_at_ms, t.id.as_str())
}
fn name_pk(name: &str) -> String {
    format!("NAME#{}", name.chars().next().unwrap_or('_'))
}
/// A username in the lookup index (on the customer's identity item).
pub fn username_pk(username: &str) -> String {
    format!("USERNAME#{}", username.to_lowercase())
}

/// Where a listing is read: index (name, partition attribute, sort
/// attribute), partition, and the prefix its sort keys start with.
pub fn listing_key(l: &Listing) -> ((&'static str, &'static str, &'static str), String, Option<String>) {
    match l {
        Listing::Queue { team, status } => ((GSI_QUEUE, GSI_QUEUE_PK, GSI_QUEUE_SK), queue_pk(team, *status), None),
        Listing::Assignee { agent } => (GSI_OWNER, format!("AGENT#{agent}"), None),
        Listing::AtRisk { team } => (GSI_RISK, format!("RISK#{team}"), None),
        Listing::Waiting { team } => (GSI_WAITING, format!("WAIT#{team}"), None),
        Listing::Customer { customer } => (GSI_HISTORY, format!("HIST#{}", customer.as_str()), None),
        Listing::Order { number } => (GSI_LOOKUP, format!("ORDER#{number}"), None),
        Listing::Name { prefix } => (GSI_NAME, name_pk(prefix), Some(prefix.clone())),
    }
}

/// The ticket a position (a listing's sort key) ends with.
pub fn ticket_of_position(position: &str) -> Option<TicketId> {
    TicketId::parse(position.rsplit('#').next()?).ok()
}

/// The index entries of a ticket's `META` item: (partition attribute, value,
/// sort attribute, value) for each list the ticket is in.
pub fn ticket_index_keys(t: &Ticket) -> Vec<(&'static str, String, &'static str, String)> {
    let queue = queue_sk(t.priority, t.created_at_ms, &t.id);
    let mut keys = vec![
        (
            GSI_QUEUE_PK,
            queue_pk(&t.team, t.status),
            GSI_QUEUE_SK,
            match (t.status, t.resolved_at_ms) {
                (TicketStatus::Resolved, Some(at)) => resolved_sk(at, &t.id),
                _ => queue.clone(),
            },
        ),
        (
            GSI_HISTORY.1,
            format!("HIST#{}", t.customer.as_str()),
            GSI_HISTORY.2,
            created_sk(t),
        ),
    ];
    if let (TicketStatus::Assigned, Some(agent)) = (t.status, &t.assignee) {
        keys.push((GSI_OWNER.1, format!("AGENT#{agent}"), GSI_OWNER.2, queue.clone()));
    }
    if let Some(number) = t.order_number.as_deref().map(normalise_order).filter(|n| !n.is_empty()) {
        keys.push((GSI_LOOKUP.1, format!("ORDER#{number}"), GSI_LOOKUP.2, created_sk(t)));
    }
    if let Some(name) = name_key(t) {
        keys.push((
            GSI_NAME.1,
            name_pk(&name),
            GSI_NAME.2,
            format!("{name}#{}", t.id.as_str()),
        ));
    }
    if t.at_risk() {
        keys.push((GSI_RISK.1, format!("RISK#{}", t.team), GSI_RISK.2, queue.clone()));
    }
    if t.waiting_on_customer() {
        keys.push((GSI_WAITING.1, format!("WAIT#{}", t.team), GSI_WAITING.2, queue));
    }
    keys
}

/// A ticket's position in `l` (its sort key in the listing's index).
pub fn listing_position(l: &Listing, t: &Ticket) -> Option<String> {
    let (index, pk, _) = listing_key(l);
    ticket_index_keys(t)
        .into_iter()
        .find(|(attr, value, _, _)| *attr == index.1 && *value == pk)
        .map(|(_, _, _, sk)| sk)
}

/// KPI aggregates: `REPORT#<yyyy-mm-dd>` / `<team>#<priority>`, counters added
/// as events happen; `FACT#<fact id>` / `FACT` marks a fact as counted, so a
/// repeated command adds nothing.
pub fn report_pk(day: &str) -> String {
    format!("{REPORT_PREFIX}{day}")
}
pub fn report_sk(team: &str, priority: Priority) -> String {
    format!("{team}#{}", priority.as_str())
}
/// What every per-agent aggregate's sort key starts with. Team ids are lower
/// case (see `check_id`), so no `<team>#<priority>` key starts so.
pub const AGENT_REPORT_SK_PREFIX: &str = "AGENT#";
/// A per-agent aggregate: `REPORT#<yyyy-mm-dd>` / `AGENT#<agent>`, added in
/// the same transaction as the fact's team aggregate.
pub fn agent_report_sk(agent: &str) -> String {
    format!("{AGENT_REPORT_SK_PREFIX}{agent}")
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
            audit_pk("2026-11-21"),
            feed_pk(1_795_237_200_000),
            presence_pk(&t),
            available_pk("support"),
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
    fn a_feed_partition_is_one_utc_hour() {
        assert_eq!(feed_pk(1_795_237_200_000), "FEED#2026-11-21T05");
        assert_eq!(feed_pk(1_795_237_200_000 + FEED_HOUR_MS - 1), "FEED#2026-11-21T05");
        assert_eq!(feed_pk(1_795_237_200_000 + FEED_HOUR_MS), "FEED#2026-11-21T06");
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
