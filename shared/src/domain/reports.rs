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
    /// Resolved tickets agents reopened.
    reopened,
    /// Satisfaction scores: how many, their sum, and their distribution.
    csat_count,
    csat_sum,
    csat_1,
    csat_2,
    csat_3,
    csat_4,
    csat_5,
    /// Messages the desk sent (counted once, from the first status with a
    /// price), those billed, and by Meta's pricing category.
    messages_sent,
    messages_billable,
    messages_service,
    messages_utility,
    messages_marketing,
    messages_authentication,
    messages_other,
    /// Resolved tickets the bot handled alone, and the messages it took them;
    /// resolved tickets that reached a human, and theirs.
    resolved_bot_only,
    resolved_bot_only_messages,
    resolved_human,
    resolved_human_messages,
}

impl Counters {
    /// `messages` sent on a resolved ticket, counted apart for tickets the bot
    /// handled alone and those a human worked on.
    pub fn resolved_messages(t: &crate::domain::ticket::Ticket, messages: u64) -> Counters {
        if t.reached_a_human() {
            Counters {
                resolved_human_messages: messages,
                ..Counters::default()
            }
        } else {
            Counters {
                resolved_bot_only_messages: messages,
                ..Counters::default()
            }
        }
    }
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
    /// The agent the fact is about (who gave the response, resolved the
    /// ticket, or whose ticket was rated), counted in their own aggregate
    /// too; `None` for facts about no one agent.
    #[serde(default)]
    pub agent: Option<String>,
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

/// One stored per-agent aggregate: a day and an agent, every team and priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentAggregateRow {
    pub day: String,
    pub agent: String,
    pub counters: Counters,
}

/// The longest range a report covers, in days (a leap year and a day).
pub const MAX_REPORT_DAYS: i64 = 366;
/// The range of a report when none is given: this many days up to today.
pub const DEFAULT_REPORT_DAYS: i64 = 30;

/// An inclusive range of UTC dates, at most [`MAX_REPORT_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    from: jiff::civil::Date,
    to: jiff::civil::Date,
}

/// Why a range was refused; each message names the query parameter at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("{param} must be a UTC date written YYYY-MM-DD, not {value:?}")]
    NotADate { param: &'static str, value: String },
    #[error("from ({from}) must not be after to ({to})")]
    Reversed { from: String, to: String },
    #[error("from {from} to {to} covers {days} days; a report covers at most {MAX_REPORT_DAYS}")]
    TooLong { from: String, to: String, days: i64 },
}

/// A date written exactly `YYYY-MM-DD` (jiff alone would also take other ISO 8601 forms).
fn parse_day(param: &'static str, text: &str) -> Result<jiff::civil::Date, RangeError> {
    text.parse::<jiff::civil::Date>()
        .ok()
        .filter(|date| date.to_string() == text)
        .ok_or_else(|| RangeError::NotADate {
            param,
            value: text.to_owned(),
        })
}

impl DateRange {
    /// The range from the `from` and `to` parameters. Missing ends default to the
    /// [`DEFAULT_REPORT_DAYS`] ending today (the UTC date of `now_ms`): `to` is
    /// today, `from` is that many days before `to`, counting `to`.
    pub fn parse(from: Option<&str>, to: Option<&str>, now_ms: i64) -> Result<DateRange, RangeError> {
        let to = match to {
            Some(text) => parse_day("to", text)?,
            None => jiff::Timestamp::from_millisecond(now_ms)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date(),
        };
        let from = match from {
            Some(text) => parse_day("from", text)?,
            None => to.saturating_sub(jiff::Span::new().days(DEFAULT_REPORT_DAYS - 1)),
        };
        let range = DateRange { from, to };
        if from > to {
            return Err(RangeError::Reversed {
                from: range.from(),
                to: range.to(),
            });
        }
        if range.len_days() > MAX_REPORT_DAYS {
            return Err(RangeError::TooLong {
                from: range.from(),
                to: range.to(),
                days: range.len_days(),
            });
        }
        Ok(range)
    }

    /// Both ends given, e.g. `2026-11-01` and `2026-11-30`.
    pub fn between(from: &str, to: &str) -> Result<DateRange, RangeError> {
        DateRange::parse(Some(from), Some(to), 0)
    }

    pub fn from(&self) -> String {
        self.from.to_string()
    }

    pub fn to(&self) -> String {
        self.to.to_string()
    }

    /// How many days the range covers, both ends counted.
    pub fn len_days(&self) -> i64 {
        i64::from((self.to - self.from).get_days()) + 1
    }

    /// Every day of the range, in order, written as in [`day_of`].
    pub fn days(&self) -> Vec<String> {
        std::iter::successors(Some(self.from), |day| day.tomorrow().ok())
            .take_while(|day| *day <= self.to)
            .map(|day| day.to_string())
            .collect()
    }
}

/// The reports of the agent API, by the name in `GET /api/reports/{report}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Per metric: responses, average minutes, within and missed target, compliance.
    Sla,
    /// Average first response, next response and resolution minutes.
    Times,
    /// Bot → human and tier 2 → 3 rates, reassignments.
    Escalations,
    /// Satisfaction: count, average, distribution.
    Csat,
    /// The headline figures of all the others.
    Summary,
    /// Messages sent by pricing category and billing, per day and team, and
    /// messages per resolved ticket (every message is billed since 2026-10-01).
    Messages,
    /// Per agent: first responses, resolutions and satisfaction scores. Built
    /// from the per-agent aggregates, which are not kept per team.
    Agents,
}

impl ReportKind {
    pub const ALL: [ReportKind; 7] = [
        ReportKind::Sla,
        ReportKind::Times,
        ReportKind::Escalations,
        ReportKind::Csat,
        ReportKind::Summary,
        ReportKind::Messages,
        ReportKind::Agents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Sla => "sla",
            ReportKind::Times => "times",
            ReportKind::Escalations => "escalations",
            ReportKind::Csat => "csat",
            ReportKind::Summary => "summary",
            ReportKind::Messages => "messages",
            ReportKind::Agents => "agents",
        }
    }

    /// Whether the report is built from the per-agent aggregates (and so
    /// cannot be limited to a team) rather than those per team and priority.
    pub fn by_agent(self) -> bool {
        self == ReportKind::Agents
    }

    pub fn parse(name: &str) -> Option<ReportKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// This report over `rows` (the aggregates of `range`), only of `team` when
    /// given; the agents report over `agents` (the per-agent aggregates of
    /// `range`, never limited to a team). Each report reads only its own kind
    /// of aggregates (see [`ReportKind::by_agent`]).
    pub fn build(
        self,
        range: &DateRange,
        team: Option<&str>,
        rows: &[AggregateRow],
        agents: &[AgentAggregateRow],
    ) -> Report {
        match self {
            ReportKind::Sla => Report::Sla(Breakdown::build(self, range, team, rows)),
            ReportKind::Times => Report::Times(Breakdown::build(self, range, team, rows)),
            ReportKind::Escalations => Report::Escalations(Breakdown::build(self, range, team, rows)),
            ReportKind::Csat => Report::Csat(Breakdown::build(self, range, team, rows)),
            ReportKind::Summary => Report::Summary(Breakdown::build(self, range, team, rows)),
            ReportKind::Messages => Report::Messages(Breakdown::build(self, range, team, rows).with_days(team, rows)),
            ReportKind::Agents => Report::Agents(AgentReport::build(range, agents)),
        }
    }
}

/// One report, ready for JSON (serde) or CSV ([`Report::to_csv`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Report {
    Sla(Breakdown<SlaFigures>),
    Times(Breakdown<TimeFigures>),
    Escalations(Breakdown<EscalationFigures>),
    Csat(Breakdown<CsatFigures>),
    Summary(Breakdown<SummaryFigures>),
    Messages(Breakdown<MessageFigures>),
    Agents(AgentReport),
}

impl Report {
    /// One header line, then one line per group: the whole range (`overall`,
    /// `all`), each team, each priority (the agents report: each agent, group
    /// `agent`). Columns are `from,to,group,name` and the figures' JSON field
    /// names; a missing rate is an empty cell.
    pub fn to_csv(&self) -> String {
        match self {
            Report::Sla(b) => b.to_csv(),
            Report::Times(b) => b.to_csv(),
            Report::Escalations(b) => b.to_csv(),
            Report::Csat(b) => b.to_csv(),
            Report::Summary(b) => b.to_csv(),
            Report::Messages(b) => b.to_csv(),
            Report::Agents(a) => a.to_csv(),
        }
    }
}

/// A report's figures over the whole range, per team and per priority (urgent
/// first; every priority is listed, teams only when they have aggregates).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown<F> {
    pub report: ReportKind,
    pub from: String,
    pub to: String,
    /// The team the report is limited to, if any.
    pub team: Option<String>,
    pub overall: F,
    pub by_team: Vec<TeamFigures<F>>,
    pub by_priority: Vec<PriorityFigures<F>>,
    /// Per day and team, oldest first (the messages report).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_day: Vec<DayFigures<F>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayFigures<F> {
    pub day: String,
    pub team: String,
    #[serde(flatten)]
    pub figures: F,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamFigures<F> {
    pub team: String,
    #[serde(flatten)]
    pub figures: F,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorityFigures<F> {
    pub priority: Priority,
    #[serde(flatten)]
    pub figures: F,
}

impl<F: Figures> Breakdown<F> {
    fn build(report: ReportKind, range: &DateRange, team: Option<&str>, rows: &[AggregateRow]) -> Self {
        let mut overall = Counters::default();
        let mut teams = std::collections::BTreeMap::<&str, Counters>::new();
        let mut priorities = std::collections::BTreeMap::<Priority, Counters>::new();
        for row in rows.iter().filter(|row| team.is_none_or(|t| row.team == t)) {
            overall.add(&row.counters);
            teams.entry(&row.team).or_default().add(&row.counters);
            priorities.entry(row.priority).or_default().add(&row.counters);
        }
        let mut by_priority: Vec<_> = Priority::ALL
            .into_iter()
            .map(|priority| PriorityFigures {
                priority,
                figures: F::of(&priorities.remove(&priority).unwrap_or_default()),
            })
            .collect();
        by_priority.sort_by_key(|p| p.priority.queue_rank());
        Breakdown {
            report,
            from: range.from(),
            to: range.to(),
            team: team.map(str::to_owned),
            overall: F::of(&overall),
            by_team: teams
                .into_iter()
                .map(|(team, counters)| TeamFigures {
                    team: team.to_owned(),
                    figures: F::of(&counters),
                })
                .collect(),
            by_priority,
            by_day: Vec::new(),
        }
    }

    /// Adds the figures of each day and team that has aggregates.
    fn with_days(mut self, team: Option<&str>, rows: &[AggregateRow]) -> Self {
        let mut days = std::collections::BTreeMap::<(&str, &str), Counters>::new();
        for row in rows.iter().filter(|row| team.is_none_or(|t| row.team == t)) {
            days.entry((&row.day, &row.team)).or_default().add(&row.counters);
        }
        self.by_day = days
            .into_iter()
            .map(|((day, team), counters)| DayFigures {
                day: day.to_owned(),
                team: team.to_owned(),
                figures: F::of(&counters),
            })
            .collect();
        self
    }

    fn to_csv(&self) -> String {
        let mut csv = String::new();
        let header = ["from", "to", "group", "name"].iter().chain(F::COLUMNS);
        push_csv_line(&mut csv, header.map(|h| h.to_string()));
        let mut line = |group: &str, name: &str, figures: &F| {
            let lead = [self.from.clone(), self.to.clone(), group.to_owned(), name.to_owned()];
            push_csv_line(&mut csv, lead.into_iter().chain(figures.cells()));
        };
        line("overall", "all", &self.overall);
        for t in &self.by_team {
            line("team", &t.team, &t.figures);
        }
        for p in &self.by_priority {
            line("priority", p.priority.as_str(), &p.figures);
        }
        for d in &self.by_day {
            line("day", &format!("{} {}", d.day, d.team), &d.figures);
        }
        csv
    }
}

/// The agents report: one row per agent with aggregates in the range, by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentReport {
    pub report: ReportKind,
    pub from: String,
    pub to: String,
    pub agents: Vec<ByAgent>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByAgent {
    pub agent: String,
    #[serde(flatten)]
    pub figures: AgentFigures,
}

impl AgentReport {
    fn build(range: &DateRange, rows: &[AgentAggregateRow]) -> Self {
        let mut agents = std::collections::BTreeMap::<&str, Counters>::new();
        for row in rows {
            agents.entry(&row.agent).or_default().add(&row.counters);
        }
        AgentReport {
            report: ReportKind::Agents,
            from: range.from(),
            to: range.to(),
            agents: agents
                .into_iter()
                .map(|(agent, counters)| ByAgent {
                    agent: agent.to_owned(),
                    figures: AgentFigures::of(&counters),
                })
                .collect(),
        }
    }

    fn to_csv(&self) -> String {
        let mut csv = String::new();
        let header = ["from", "to", "group", "name"].iter().chain(AgentFigures::COLUMNS);
        push_csv_line(&mut csv, header.map(|h| h.to_string()));
        for a in &self.agents {
            let lead = [self.from.clone(), self.to.clone(), "agent".to_owned(), a.agent.clone()];
            push_csv_line(&mut csv, lead.into_iter().chain(a.figures.cells()));
        }
        csv
    }
}

/// Appends one CSV record (RFC 4180): a field holding a comma, a quote or a
/// line break is quoted, its quotes doubled; lines end with CRLF.
fn push_csv_line(csv: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            csv.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            csv.push('"');
            csv.push_str(&field.replace('"', "\"\""));
            csv.push('"');
        } else {
            csv.push_str(&field);
        }
    }
    csv.push_str("\r\n");
}

/// The figures of one group, derived from its summed counters.
pub trait Figures: Serialize {
    /// The field names, in order: JSON keys and CSV columns alike.
    const COLUMNS: &'static [&'static str];
    fn of(counters: &Counters) -> Self;
    /// The values as CSV cells, in [`Figures::COLUMNS`] order.
    fn cells(&self) -> Vec<String>;
}

/// One figure as a CSV cell: a missing rate (zero denominator) is empty.
trait Cell {
    fn cell(&self) -> String;
}

impl Cell for u64 {
    fn cell(&self) -> String {
        self.to_string()
    }
}

impl Cell for Option<f64> {
    fn cell(&self) -> String {
        self.map(|v| v.to_string()).unwrap_or_default()
    }
}

/// Declares a figures struct from one list, so its JSON fields and CSV
/// columns cannot drift apart: `Name(c) { field: type = expression of c }`.
macro_rules! figures {
    ($(#[$doc:meta])* $name:ident($c:ident) { $($(#[$fdoc:meta])* $field:ident: $ty:ty = $value:expr),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl Figures for $name {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn of($c: &Counters) -> Self {
                $name { $($field: $value,)* }
            }

            fn cells(&self) -> Vec<String> {
                vec![$(self.$field.cell()),*]
            }
        }
    };
}

/// `value`, rounded to `decimals` places.
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Average minutes (one decimal); `None` when nothing was counted.
fn average(total: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| round(total as f64 / count as f64, 1))
}

/// `part` as a percentage of `whole` (one decimal); `None` when `whole` is 0.
fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round(100.0 * part as f64 / whole as f64, 1))
}

/// Deadlines met as a percentage of those decided (met or missed).
fn compliance(within: u64, missed: u64) -> Option<f64> {
    percent(within, within + missed)
}

figures! {
    /// SLA compliance per metric: responses given (`count`) and their average
    /// minutes, deadlines met (`within`) and missed, and the compliance
    /// percentage `within / (within + missed)`; warnings and breaches fired.
    SlaFigures(c) {
        first_response_count: u64 = c.first_response_count,
        first_response_average_minutes: Option<f64> = average(c.first_response_minutes, c.first_response_count),
        first_response_within: u64 = c.first_response_within,
        first_response_missed: u64 = c.first_response_missed,
        first_response_compliance_percent: Option<f64> =
            compliance(c.first_response_within, c.first_response_missed),
        next_response_count: u64 = c.next_response_count,
        next_response_average_minutes: Option<f64> = average(c.next_response_minutes, c.next_response_count),
        next_response_within: u64 = c.next_response_within,
        next_response_missed: u64 = c.next_response_missed,
        next_response_compliance_percent: Option<f64> =
            compliance(c.next_response_within, c.next_response_missed),
        resolution_count: u64 = c.resolution_count,
        resolution_average_minutes: Option<f64> = average(c.resolution_minutes, c.resolution_count),
        resolution_within: u64 = c.resolution_within,
        resolution_missed: u64 = c.resolution_missed,
        resolution_compliance_percent: Option<f64> =
            compliance(c.resolution_within, c.resolution_missed),
        /// All three metrics together.
        compliance_percent: Option<f64> = compliance(all_within(c), all_missed(c)),
        warnings: u64 = c.sla_warnings,
        breaches: u64 = c.sla_breaches,
    }
}

/// The average score, two decimals; `None` before any answer.
fn csat_average(c: &Counters) -> Option<f64> {
    (c.csat_count > 0).then(|| round(c.csat_sum as f64 / c.csat_count as f64, 2))
}

fn all_within(c: &Counters) -> u64 {
    c.first_response_within + c.next_response_within + c.resolution_within
}

fn all_missed(c: &Counters) -> u64 {
    c.first_response_missed + c.next_response_missed + c.resolution_missed
}

figures! {
    /// How long customers wait: how many of each and the average minutes.
    TimeFigures(c) {
        first_response_count: u64 = c.first_response_count,
        first_response_average_minutes: Option<f64> = average(c.first_response_minutes, c.first_response_count),
        next_response_count: u64 = c.next_response_count,
        next_response_average_minutes: Option<f64> = average(c.next_response_minutes, c.next_response_count),
        resolution_count: u64 = c.resolution_count,
        resolution_average_minutes: Option<f64> = average(c.resolution_minutes, c.resolution_count),
    }
}

figures! {
    /// Escalations: tickets opened, those that reached a human (bot → human
    /// rate of the tickets), those moved from tier 2 to tier 3 (rate of those
    /// that reached a human), and tickets taken back from a silent assignee.
    EscalationFigures(c) {
        tickets: u64 = c.tickets,
        to_human: u64 = c.to_human,
        bot_to_human_percent: Option<f64> = percent(c.to_human, c.tickets),
        to_tier3: u64 = c.to_tier3,
        tier2_to_tier3_percent: Option<f64> = percent(c.to_tier3, c.to_human),
        reassigned: u64 = c.reassigned,
    }
}

figures! {
    /// Satisfaction: answers, their average (two decimals), how many gave each
    /// score, and the share of 4s and 5s.
    CsatFigures(c) {
        count: u64 = c.csat_count,
        average: Option<f64> = csat_average(c),
        score_1: u64 = c.csat_1,
        score_2: u64 = c.csat_2,
        score_3: u64 = c.csat_3,
        score_4: u64 = c.csat_4,
        score_5: u64 = c.csat_5,
        satisfied_percent: Option<f64> = percent(c.csat_4 + c.csat_5, c.csat_count),
    }
}

figures! {
    /// Messages the desk sent (counted from the first status that priced
    /// them), billed or free, by pricing category; resolved tickets the bot
    /// handled alone and those a human handled, with their messages per ticket.
    MessageFigures(c) {
        sent: u64 = c.messages_sent,
        billable: u64 = c.messages_billable,
        free: u64 = c.messages_sent - c.messages_billable.min(c.messages_sent),
        service: u64 = c.messages_service,
        utility: u64 = c.messages_utility,
        marketing: u64 = c.messages_marketing,
        authentication: u64 = c.messages_authentication,
        other: u64 = c.messages_other,
        resolved_bot_only: u64 = c.resolved_bot_only,
        messages_per_bot_only_ticket: Option<f64> = average(c.resolved_bot_only_messages, c.resolved_bot_only),
        resolved_human: u64 = c.resolved_human,
        messages_per_human_ticket: Option<f64> = average(c.resolved_human_messages, c.resolved_human),
    }
}

figures! {
    /// One agent's work: the first responses they gave (how many, their
    /// average minutes, and the share given within target), the tickets they
    /// resolved, and the satisfaction scores of their tickets (how many, and
    /// their average, two decimals).
    AgentFigures(c) {
        first_response_count: u64 = c.first_response_count,
        first_response_average_minutes: Option<f64> = average(c.first_response_minutes, c.first_response_count),
        first_response_within_percent: Option<f64> = percent(c.first_response_within, c.first_response_count),
        resolved: u64 = c.resolved,
        csat_count: u64 = c.csat_count,
        csat_average: Option<f64> = csat_average(c),
    }
}

figures! {
    /// The headline figures of the other reports.
    SummaryFigures(c) {
        tickets: u64 = c.tickets,
        to_human: u64 = c.to_human,
        bot_to_human_percent: Option<f64> = percent(c.to_human, c.tickets),
        to_tier3: u64 = c.to_tier3,
        tier2_to_tier3_percent: Option<f64> = percent(c.to_tier3, c.to_human),
        resolved: u64 = c.resolved,
        resolved_by_bot: u64 = c.resolved_by_bot,
        first_response_average_minutes: Option<f64> = average(c.first_response_minutes, c.first_response_count),
        first_response_compliance_percent: Option<f64> =
            compliance(c.first_response_within, c.first_response_missed),
        next_response_average_minutes: Option<f64> = average(c.next_response_minutes, c.next_response_count),
        next_response_compliance_percent: Option<f64> =
            compliance(c.next_response_within, c.next_response_missed),
        resolution_average_minutes: Option<f64> = average(c.resolution_minutes, c.resolution_count),
        resolution_compliance_percent: Option<f64> =
            compliance(c.resolution_within, c.resolution_missed),
        sla_compliance_percent: Option<f64> = compliance(all_within(c), all_missed(c)),
        sla_warnings: u64 = c.sla_warnings,
        sla_breaches: u64 = c.sla_breaches,
        csat_count: u64 = c.csat_count,
        csat_average: Option<f64> = csat_average(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(day: &str, team: &str, priority: Priority, counters: Counters) -> AggregateRow {
        AggregateRow {
            day: day.into(),
            team: team.into(),
            priority,
            counters,
        }
    }

    /// Three aggregates over two days, two teams and two priorities.
    fn known_rows() -> Vec<AggregateRow> {
        vec![
            row(
                "2026-11-01",
                "support",
                Priority::Normal,
                Counters {
                    tickets: 10,
                    to_human: 4,
                    to_tier3: 1,
                    resolved: 8,
                    resolved_by_bot: 5,
                    first_response_count: 4,
                    first_response_minutes: 40,
                    first_response_within: 3,
                    first_response_missed: 1,
                    next_response_count: 2,
                    next_response_minutes: 10,
                    next_response_within: 2,
                    resolution_count: 3,
                    resolution_minutes: 300,
                    resolution_within: 2,
                    resolution_missed: 1,
                    sla_warnings: 2,
                    sla_breaches: 2,
                    reassigned: 1,
                    csat_count: 3,
                    csat_sum: 12,
                    csat_3: 1,
                    csat_4: 1,
                    csat_5: 1,
                    ..Counters::default()
                },
            ),
            row(
                "2026-11-02",
                "billing",
                Priority::Urgent,
                Counters {
                    tickets: 2,
                    to_human: 2,
                    to_tier3: 1,
                    first_response_count: 2,
                    first_response_minutes: 5,
                    first_response_within: 2,
                    resolution_count: 1,
                    resolution_minutes: 60,
                    resolution_missed: 1,
                    sla_breaches: 1,
                    csat_count: 1,
                    csat_sum: 1,
                    csat_1: 1,
                    ..Counters::default()
                },
            ),
            row(
                "2026-11-02",
                "support",
                Priority::Normal,
                Counters {
                    tickets: 5,
                    to_human: 1,
                    first_response_count: 1,
                    first_response_minutes: 20,
                    first_response_missed: 1,
                    csat_count: 1,
                    csat_sum: 5,
                    csat_5: 1,
                    ..Counters::default()
                },
            ),
        ]
    }

    fn november() -> DateRange {
        DateRange::between("2026-11-01", "2026-11-30").unwrap()
    }

    fn sla(team: Option<&str>, rows: &[AggregateRow]) -> Breakdown<SlaFigures> {
        match ReportKind::Sla.build(&november(), team, rows, &[]) {
            Report::Sla(b) => b,
            other => panic!("not an SLA report: {other:?}"),
        }
    }

    #[test]
    fn the_sla_report_adds_up_the_known_rows_overall_by_team_and_by_priority() {
        let report = sla(None, &known_rows());

        assert_eq!(
            report.overall,
            SlaFigures {
                first_response_count: 7,
                first_response_average_minutes: Some(9.3),
                first_response_within: 5,
                first_response_missed: 2,
                first_response_compliance_percent: Some(71.4),
                next_response_count: 2,
                next_response_average_minutes: Some(5.0),
                next_response_within: 2,
                next_response_missed: 0,
                next_response_compliance_percent: Some(100.0),
                resolution_count: 4,
                resolution_average_minutes: Some(90.0),
                resolution_within: 2,
                resolution_missed: 2,
                resolution_compliance_percent: Some(50.0),
                compliance_percent: Some(69.2),
                warnings: 2,
                breaches: 3,
            }
        );
        let teams: Vec<_> = report.by_team.iter().map(|t| t.team.as_str()).collect();
        assert_eq!(teams, ["billing", "support"]);
        let support = &report.by_team[1].figures;
        assert_eq!(
            (support.first_response_count, support.first_response_average_minutes),
            (5, Some(12.0))
        );
        assert_eq!(support.first_response_compliance_percent, Some(60.0));
        let priorities: Vec<_> = report.by_priority.iter().map(|p| p.priority).collect();
        assert_eq!(
            priorities,
            [Priority::Urgent, Priority::High, Priority::Normal, Priority::Low]
        );
        let urgent = &report.by_priority[0].figures;
        assert_eq!(urgent.first_response_average_minutes, Some(2.5));
        assert_eq!(urgent.resolution_compliance_percent, Some(0.0));
        assert_eq!(report.by_priority[1].figures.first_response_count, 0);
    }

    #[test]
    fn the_escalation_csat_times_and_summary_reports_add_up_the_known_rows() {
        let rows = known_rows();
        let Report::Escalations(escalations) = ReportKind::Escalations.build(&november(), None, &rows, &[]) else {
            panic!("not the escalations report");
        };
        assert_eq!(
            escalations.overall,
            EscalationFigures {
                tickets: 17,
                to_human: 7,
                bot_to_human_percent: Some(41.2),
                to_tier3: 2,
                tier2_to_tier3_percent: Some(28.6),
                reassigned: 1,
            }
        );
        let Report::Csat(csat) = ReportKind::Csat.build(&november(), None, &rows, &[]) else {
            panic!("not the CSAT report");
        };
        assert_eq!(
            csat.overall,
            CsatFigures {
                count: 5,
                average: Some(3.6),
                score_1: 1,
                score_2: 0,
                score_3: 1,
                score_4: 1,
                score_5: 2,
                satisfied_percent: Some(60.0),
            }
        );
        assert_eq!(csat.by_team[1].figures.average, Some(4.25));
        let Report::Times(times) = ReportKind::Times.build(&november(), None, &rows, &[]) else {
            panic!("not the times report");
        };
        assert_eq!(times.overall.resolution_average_minutes, Some(90.0));
        assert_eq!(times.by_team[0].figures.resolution_average_minutes, Some(60.0));
        let Report::Summary(summary) = ReportKind::Summary.build(&november(), None, &rows, &[]) else {
            panic!("not the summary");
        };
        let o = &summary.overall;
        assert_eq!((o.tickets, o.resolved, o.resolved_by_bot), (17, 8, 5));
        assert_eq!(o.sla_compliance_percent, Some(69.2));
        assert_eq!((o.sla_warnings, o.sla_breaches), (2, 3));
        assert_eq!((o.csat_count, o.csat_average), (5, Some(3.6)));
    }

    #[test]
    fn rates_and_averages_are_missing_when_nothing_was_counted() {
        let report = ReportKind::Summary.build(&november(), None, &[], &[]);
        let json = serde_json::to_value(&report).unwrap();

        assert_eq!(json["overall"]["tickets"], json!(0));
        for rate in [
            "bot_to_human_percent",
            "tier2_to_tier3_percent",
            "first_response_average_minutes",
            "sla_compliance_percent",
            "csat_average",
        ] {
            assert_eq!(json["overall"][rate], json!(null), "{rate}");
        }
        assert_eq!(json["by_team"], json!([]));
        assert_eq!(json["by_priority"].as_array().unwrap().len(), 4);
        let escalations = ReportKind::Escalations.build(
            &november(),
            None,
            &[row(
                "2026-11-03",
                "support",
                Priority::Low,
                Counters {
                    tickets: 3,
                    ..Counters::default()
                },
            )],
            &[],
        );
        let json = serde_json::to_value(&escalations).unwrap();
        assert_eq!(json["overall"]["bot_to_human_percent"], json!(0.0));
        assert_eq!(json["overall"]["tier2_to_tier3_percent"], json!(null));
    }

    #[test]
    fn a_team_filter_keeps_only_that_teams_aggregates() {
        let report = sla(Some("billing"), &known_rows());

        assert_eq!(report.team.as_deref(), Some("billing"));
        assert_eq!(report.overall.first_response_count, 2);
        assert_eq!(report.overall.breaches, 1);
        assert_eq!(report.by_team.len(), 1);
        assert_eq!(report.by_team[0].team, "billing");
        let normal = &report.by_priority[2];
        assert_eq!(normal.priority, Priority::Normal);
        assert_eq!(normal.figures.first_response_compliance_percent, None);
        assert_eq!(sla(Some("nobody"), &known_rows()).overall.first_response_count, 0);
    }

    #[test]
    fn the_json_names_the_report_its_range_and_each_group() {
        let json = serde_json::to_value(ReportKind::Sla.build(&november(), None, &known_rows(), &[])).unwrap();

        assert_eq!(json["report"], "sla");
        assert_eq!(
            (json["from"].as_str(), json["to"].as_str()),
            (Some("2026-11-01"), Some("2026-11-30"))
        );
        assert_eq!(json["team"], json!(null));
        assert_eq!(json["overall"]["first_response_compliance_percent"], json!(71.4));
        assert_eq!(json["by_team"][0]["team"], "billing");
        assert_eq!(json["by_team"][0]["breaches"], 1);
        assert_eq!(json["by_priority"][0]["priority"], "urgent");
    }

    fn json_keys<F: Figures>(figures: F) -> std::collections::BTreeSet<String> {
        serde_json::to_value(figures)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    fn column_set<F: Figures>() -> std::collections::BTreeSet<String> {
        F::COLUMNS.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn csv_columns_are_the_json_field_names() {
        let c = Counters::default();
        assert_eq!(json_keys(SlaFigures::of(&c)), column_set::<SlaFigures>());
        assert_eq!(json_keys(TimeFigures::of(&c)), column_set::<TimeFigures>());
        assert_eq!(json_keys(EscalationFigures::of(&c)), column_set::<EscalationFigures>());
        assert_eq!(json_keys(CsatFigures::of(&c)), column_set::<CsatFigures>());
        assert_eq!(json_keys(SummaryFigures::of(&c)), column_set::<SummaryFigures>());
        assert_eq!(json_keys(AgentFigures::of(&c)), column_set::<AgentFigures>());
    }

    #[test]
    fn the_csv_has_one_header_then_one_line_per_group_with_empty_cells_for_missing_rates() {
        let csv = ReportKind::Escalations
            .build(&november(), None, &known_rows(), &[])
            .to_csv();
        let lines: Vec<&str> = csv.split_terminator("\r\n").collect();

        assert_eq!(
            lines,
            [
                "from,to,group,name,tickets,to_human,bot_to_human_percent,to_tier3,tier2_to_tier3_percent,reassigned",
                "2026-11-01,2026-11-30,overall,all,17,7,41.2,2,28.6,1",
                "2026-11-01,2026-11-30,team,billing,2,2,100,1,50,0",
                "2026-11-01,2026-11-30,team,support,15,5,33.3,1,20,1",
                "2026-11-01,2026-11-30,priority,urgent,2,2,100,1,50,0",
                "2026-11-01,2026-11-30,priority,high,0,0,,0,,0",
                "2026-11-01,2026-11-30,priority,normal,15,5,33.3,1,20,1",
                "2026-11-01,2026-11-30,priority,low,0,0,,0,,0",
            ]
        );
        assert!(csv.ends_with("\r\n"));
    }

    #[test]
    fn csv_fields_with_commas_quotes_or_line_breaks_are_quoted() {
        let rows = [row(
            "2026-11-01",
            "a \"b\", c\nd",
            Priority::Low,
            Counters {
                csat_count: 1,
                csat_sum: 4,
                csat_4: 1,
                ..Counters::default()
            },
        )];
        let csv = ReportKind::Csat.build(&november(), None, &rows, &[]).to_csv();

        assert!(
            csv.contains("\r\n2026-11-01,2026-11-30,team,\"a \"\"b\"\", c\nd\",1,4,0,0,0,1,0,100\r\n"),
            "{csv}"
        );
    }

    #[test]
    fn a_range_defaults_to_the_last_30_days_ending_today() {
        // 2026-11-21T05:00:00Z
        let now = 1_795_237_200_000;
        let range = DateRange::parse(None, None, now).unwrap();
        assert_eq!(
            (range.from().as_str(), range.to().as_str()),
            ("2026-10-23", "2026-11-21")
        );
        assert_eq!(range.len_days(), 30);
        assert_eq!(range.days().len(), 30);

        let range = DateRange::parse(None, Some("2026-03-01"), now).unwrap();
        assert_eq!(range.from(), "2026-01-31");
        let range = DateRange::parse(Some("2026-11-20"), None, now).unwrap();
        assert_eq!(range.days(), ["2026-11-20", "2026-11-21"]);
    }

    #[test]
    fn a_range_is_refused_when_a_date_is_malformed_reversed_or_too_long() {
        for bad in ["2026-1-01", "20261101", "2026-02-30", "yesterday", "2026-11-01T00:00"] {
            assert_eq!(
                DateRange::between(bad, "2026-12-01"),
                Err(RangeError::NotADate {
                    param: "from",
                    value: bad.into()
                })
            );
        }
        let err = DateRange::between("2026-11-01", "nope").unwrap_err();
        assert!(err.to_string().starts_with("to must be"), "{err}");
        assert!(matches!(
            DateRange::between("2026-11-02", "2026-11-01"),
            Err(RangeError::Reversed { .. })
        ));
        // 2024 is a leap year: 366 days fit, 367 do not.
        assert_eq!(DateRange::between("2024-01-01", "2024-12-31").unwrap().len_days(), 366);
        assert_eq!(
            DateRange::between("2024-01-01", "2025-01-01"),
            Err(RangeError::TooLong {
                from: "2024-01-01".into(),
                to: "2025-01-01".into(),
                days: 367
            })
        );
        assert_eq!(
            DateRange::between("2026-11-01", "2026-11-01").unwrap().days(),
            ["2026-11-01"]
        );
    }

    #[test]
    fn report_names_round_trip() {
        for kind in ReportKind::ALL {
            assert_eq!(ReportKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ReportKind::parse("SLA"), None);
    }

    fn agent_row(day: &str, agent: &str, counters: Counters) -> AgentAggregateRow {
        AgentAggregateRow {
            day: day.into(),
            agent: agent.into(),
            counters,
        }
    }

    /// `ana` on two days, `bo` on one (resolutions only).
    fn known_agent_rows() -> Vec<AgentAggregateRow> {
        vec![
            agent_row(
                "2026-11-01",
                "ana",
                Counters {
                    first_response_count: 2,
                    first_response_minutes: 30,
                    first_response_within: 1,
                    first_response_missed: 1,
                    next_response_count: 4,
                    next_response_minutes: 8,
                    resolved: 1,
                    resolution_count: 1,
                    resolution_minutes: 90,
                    csat_count: 1,
                    csat_sum: 5,
                    csat_5: 1,
                    ..Counters::default()
                },
            ),
            agent_row(
                "2026-11-02",
                "ana",
                Counters {
                    first_response_count: 1,
                    first_response_minutes: 6,
                    first_response_within: 1,
                    resolved: 2,
                    csat_count: 1,
                    csat_sum: 2,
                    csat_2: 1,
                    ..Counters::default()
                },
            ),
            agent_row(
                "2026-11-02",
                "bo",
                Counters {
                    resolved: 1,
                    ..Counters::default()
                },
            ),
        ]
    }

    #[test]
    fn the_agents_report_adds_up_each_agents_days_into_one_row_per_agent() {
        let Report::Agents(report) = ReportKind::Agents.build(&november(), None, &known_rows(), &known_agent_rows())
        else {
            panic!("not the agents report");
        };

        assert_eq!(
            report.agents,
            [
                ByAgent {
                    agent: "ana".into(),
                    figures: AgentFigures {
                        first_response_count: 3,
                        first_response_average_minutes: Some(12.0),
                        first_response_within_percent: Some(66.7),
                        resolved: 3,
                        csat_count: 2,
                        csat_average: Some(3.5),
                    },
                },
                ByAgent {
                    agent: "bo".into(),
                    figures: AgentFigures {
                        first_response_count: 0,
                        first_response_average_minutes: None,
                        first_response_within_percent: None,
                        resolved: 1,
                        csat_count: 0,
                        csat_average: None,
                    },
                },
            ]
        );
        // The team aggregates play no part, and agents none in the team reports.
        let Report::Agents(alone) = ReportKind::Agents.build(&november(), None, &[], &known_agent_rows()) else {
            panic!("not the agents report");
        };
        assert_eq!(alone, report);
        assert_eq!(sla(None, &[]).overall.first_response_count, 0);
        assert!(ReportKind::Agents.by_agent() && !ReportKind::Sla.by_agent());
    }

    #[test]
    fn the_agents_report_json_names_the_report_its_range_and_each_agent() {
        let json = serde_json::to_value(ReportKind::Agents.build(&november(), None, &[], &known_agent_rows())).unwrap();

        assert_eq!(
            json,
            json!({
                "report": "agents",
                "from": "2026-11-01",
                "to": "2026-11-30",
                "agents": [
                    {
                        "agent": "ana",
                        "first_response_count": 3,
                        "first_response_average_minutes": 12.0,
                        "first_response_within_percent": 66.7,
                        "resolved": 3,
                        "csat_count": 2,
                        "csat_average": 3.5
                    },
                    {
                        "agent": "bo",
                        "first_response_count": 0,
                        "first_response_average_minutes": null,
                        "first_response_within_percent": null,
                        "resolved": 1,
                        "csat_count": 0,
                        "csat_average": null
                    }
                ]
            })
        );
        let empty = serde_json::to_value(ReportKind::Agents.build(&november(), None, &[], &[])).unwrap();
        assert_eq!(empty["agents"], json!([]));
    }

    #[test]
    fn the_agents_csv_has_one_line_per_agent_with_empty_cells_for_missing_rates() {
        let csv = ReportKind::Agents
            .build(&november(), None, &[], &known_agent_rows())
            .to_csv();
        let lines: Vec<&str> = csv.split_terminator("\r\n").collect();

        assert_eq!(
            lines,
            [
                "from,to,group,name,first_response_count,first_response_average_minutes,first_response_within_percent,resolved,csat_count,csat_average",
                "2026-11-01,2026-11-30,agent,ana,3,12,66.7,3,2,3.5",
                "2026-11-01,2026-11-30,agent,bo,0,,,1,0,",
            ]
        );
        let quoted = ReportKind::Agents
            .build(
                &november(),
                None,
                &[],
                &[agent_row("2026-11-01", "o'brien, pat", Counters::default())],
            )
            .to_csv();
        assert!(
            quoted.ends_with("\r\n2026-11-01,2026-11-30,agent,\"o'brien, pat\",0,,,0,0,\r\n"),
            "{quoted}"
        );
    }
}
