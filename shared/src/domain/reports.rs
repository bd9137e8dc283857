//! KPIs: counters kept per day, team and priority as events happen (never a
//! scan of all tickets per report), and the figures reports derive from them.

use crate::domain::ticket::Priority;
use serde::{Deserialize, Serialize};

macro_rules! counters {
    ($($(#[$doc:meta])* $field:ident),* $(,)?) => {
        /// Additive counters of one day, team and priority. Every field adds up
        /// across days and teams; averages and rates are derived in reports.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct Counters {
            $($(#[$doc])* #[serde(default)] pub $field: u64,)*
        }

        impl Counters {
            /// Every counter's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The counters that are not zero, by name.
            pub fn non_zero(&self) -> Vec<(&'static str, u64)> {
                [$((stringify!($field), self.$field)),*].into_iter().filter(|(_, v)| *v != 0).collect()
            }

            /// Adds `other` into `self`.
            pub fn add(&mut self, other: &Counters) {
                $(self.$field += other.$field;)*
            }
        }
    };
}

counters! {
    /// Tickets opened.
    tickets,
    /// Tickets that reached a human queue from the bot (bot → human).
    to_human,
    /// Transfers from tier 2 to tier 3 (agents → specialists).
    to_tier3,
    /// Tickets resolved, and of those by the bot.
    resolved,
    resolved_by_bot,
    /// First responses given, their minutes in total, how many within target,
    /// and how many missed (late, or never given after a breach).
    first_response_count,
    first_response_minutes,
    first_response_within,
    first_response_missed,
    next_response_count,
    next_response_minutes,
    next_response_within,
    next_response_missed,
    resolution_count,
    resolution_minutes,
    resolution_within,
    resolution_missed,
    /// SLA warnings (80%) and breaches (100%) the sweep fired.
    sla_warnings,
    sla_breaches,
    /// Tickets taken back from a silent assignee.
    reassigned,
    /// Satisfaction scores: how many, their sum, and their distribution.
    csat_count,
    csat_sum,
    csat_1,
    csat_2,
    csat_3,
    csat_4,
    csat_5,
}

/// One event's contribution to the aggregates. `id` makes it count once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFact {
    /// Stable for the event, e.g. `TK-1:first_response:1700000000000`.
    pub id: String,
    /// The UTC date of the event, `2026-11-21`.
    pub day: String,
    pub team: String,
    pub priority: Priority,
    pub counters: Counters,
}

/// The UTC date of an instant, `2026-11-21`.
pub fn day_of(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

/// One stored aggregate: a day, a team and a priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateRow {
    pub day: String,
    pub team: String,
    pub priority: Priority,
    pub counters: Counters,
}
