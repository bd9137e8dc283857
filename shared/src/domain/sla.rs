//! Service levels: the policies of the desk configuration, the clocks a ticket
//! runs against while humans own it, and the deadlines the scheduled sweep acts
//! on. Pure: the calendar arithmetic lives in [`crate::domain::calendar`], the
//! storage of deadlines in the adapters.
//!
//! A ticket that reaches a human queue starts two clocks, *first response* and
//! *resolution*. An agent's reply meets the first response (or the running *next
//! response*) and pauses the resolution clock: the ticket now waits on the
//! customer. The customer's next message resumes the resolution clock and starts
//! a next-response clock. Each running clock has a warning instant (a percentage
//! of its target) and a due instant; a breached clock may climb hierarchical
//! escalation levels, or move the ticket to a specialist team (functional).

use crate::domain::calendar::BusinessCalendar;
use crate::domain::ticket::{CustomerTier, Priority};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

const MS_PER_MINUTE: i64 = 60_000;

/// What a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// From the handoff to the first human reply.
    FirstResponse,
    /// From a customer's message (after the first response) to the next human reply.
    NextResponse,
    /// From the handoff to the resolution, paused while waiting on the customer.
    Resolution,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::FirstResponse, Metric::NextResponse, Metric::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::NextResponse => "next_response",
            Metric::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// For agents' notifications: "first response".
    pub fn label(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first response",
            Metric::NextResponse => "next response",
            Metric::Resolution => "resolution",
        }
    }
}

/// Whether a target counts the team's business hours or every minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockMode {
    #[default]
    Business,
    Calendar,
}

/// One target of a policy: `{ minutes = 30 }` or `{ minutes = 1440, clock = "calendar" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub minutes: u32,
    #[serde(default)]
    pub clock: ClockMode,
}

/// What a breach sets off.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "escalation", rename_all = "snake_case", deny_unknown_fields)]
pub enum BreachAction {
    /// Up the hierarchy: the levels of `[[sla.levels]]`, the first at the breach,
    /// the next ones after their delays.
    #[default]
    Hierarchical,
    /// To a specialist team, which takes the ticket over.
    Functional { team: String },
}

/// A policy: which tickets it covers (empty lists match everything; the first
/// matching policy wins) and their targets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub name: String,
    #[serde(default)]
    pub priorities: Vec<Priority>,
    #[serde(default)]
    pub tiers: Vec<CustomerTier>,
    #[serde(default)]
    pub teams: Vec<String>,
    pub first_response: Target,
    pub next_response: Target,
    pub resolution: Target,
    /// Overrides `sla.warn_at_percent`.
    #[serde(default)]
    pub warn_at_percent: Option<u8>,
    #[serde(default)]
    pub breach: BreachAction,
}

impl PolicyConfig {
    pub fn covers(&self, team: &str, priority: Priority, tier: CustomerTier) -> bool {
        (self.priorities.is_empty() || self.priorities.contains(&priority))
            && (self.tiers.is_empty() || self.tiers.contains(&tier))
            && (self.teams.is_empty() || self.teams.iter().any(|t| t == team))
    }

    pub fn target(&self, metric: Metric) -> Target {
        match metric {
            Metric::FirstResponse => self.first_response,
            Metric::NextResponse => self.next_response,
            Metric::Resolution => self.resolution,
        }
    }
}

/// A level of hierarchical escalation: who is alerted, and how long after the breach.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelConfig {
    /// "team lead", "support manager"…: named in the alert and on the ticket.
    pub name: String,
    /// Minutes after the breach (calendar time); the first level is usually 0.
    pub after_minutes: u32,
}

/// The `[sla]` section of the desk configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    #[serde(default = "default_warn_at_percent")]
    pub warn_at_percent: u8,
    /// An assigned ticket whose agent stays silent this long after the customer
    /// wrote goes back to the team queue (business minutes; 0 never).
    #[serde(default)]
    pub reassign_after_minutes: u32,
    /// The approved template that tells the customer about a breach when the
    /// 24-hour window has closed.
    #[serde(default)]
    pub breach_template: Option<String>,
    /// Ask for a satisfaction score after a human resolved the ticket.
    #[serde(default = "yes")]
    pub csat: bool,
    /// The approved template (with five quick replies) asking for the score when
    /// the window has closed.
    #[serde(default)]
    pub csat_template: Option<String>,
    #[serde(default)]
    pub levels: Vec<LevelConfig>,
    pub policies: Vec<PolicyConfig>,
}

fn default_warn_at_percent() -> u8 {
    80
}

fn yes() -> bool {
    true
}

impl SlaConfig {
    /// Checks the section against the desk's teams. `Err((field, why))`.
    pub fn check(&self, teams: &[(&str, u8)]) -> Result<(), (String, String)> {
        let bad = |field: String, why: String| Err((field, why));
        if !(1..=99).contains(&self.warn_at_percent) {
            return bad("sla.warn_at_percent".into(), "must be between 1 and 99".into());
        }
        let mut previous = None;
        for (i, level) in self.levels.iter().enumerate() {
            if level.name.trim().is_empty() {
                return bad(format!("sla.levels[{i}].name"), "is empty".into());
            }
            if previous.is_some_and(|p| level.after_minutes <= p) {
                return bad(
                    format!("sla.levels[{i}].after_minutes"),
                    "must be later than the level before".into(),
                );
            }
            previous = Some(level.after_minutes);
        }
        if self.levels.len() > 4 {
            return bad("sla.levels".into(), "at most 4 levels".into());
        }
        for (i, policy) in self.policies.iter().enumerate() {
            let field = |f: &str| format!("sla.policies[{i}].{f}");
            if policy.name.trim().is_empty() {
                return bad(field("name"), "is empty".into());
            }
            for metric in Metric::ALL {
                if policy.target(metric).minutes == 0 {
                    return bad(
                        field(&format!("{}.minutes", metric.as_str())),
                        "must be at least 1".into(),
                    );
                }
            }
            if policy.warn_at_percent.is_some_and(|p| !(1..=99).contains(&p)) {
                return bad(field("warn_at_percent"), "must be between 1 and 99".into());
            }
            for team in &policy.teams {
                if !teams.iter().any(|(id, _)| id == team) {
                    return bad(field("teams"), format!("no team has the id {team:?}"));
                }
            }
            match &policy.breach {
                BreachAction::Functional { team } => {
                    if !teams.iter().any(|(id, _)| id == team) {
                        return bad(field("breach.team"), format!("no team has the id {team:?}"));
                    }
                }
                BreachAction::Hierarchical if self.levels.is_empty() => {
                    return bad(
                        field("breach"),
                        "hierarchical escalation needs at least one [[sla.levels]]".into(),
                    );
                }
                BreachAction::Hierarchical => {}
            }
        }
        for (team, _) in teams {
            for priority in [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent] {
                for tier in [CustomerTier::Standard, CustomerTier::Vip] {
                    if !self.policies.iter().any(|p| p.covers(team, priority, tier)) {
                        return bad(
                            "sla.policies".into(),
                            format!(
                                "no policy covers team {team:?}, priority {}, tier {}",
                                priority.as_str(),
                                tier.as_str()
                            ),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// The first policy covering the ticket. [`Self::check`] makes sure there is one.
    pub fn policy(&self, team: &str, priority: Priority, tier: CustomerTier) -> &PolicyConfig {
        self.policies
            .iter()
            .find(|p| p.covers(team, priority, tier))
            .or(self.policies.last())
            .expect("a checked SLA configuration has policies")
    }

    pub fn warn_percent(&self, policy: &PolicyConfig) -> u8 {
        policy.warn_at_percent.unwrap_or(self.warn_at_percent)
    }
}

/// What a ticket's clocks are measured with: its policy and its team's calendar.
#[derive(Debug, Clone, Copy)]
pub struct SlaContext<'a> {
    pub config: &'a SlaConfig,
    pub policy: &'a PolicyConfig,
    pub calendar: &'a BusinessCalendar,
    pub always: &'a BusinessCalendar,
}

impl SlaContext<'_> {
    fn calendar(&self, mode: ClockMode) -> &BusinessCalendar {
        match mode {
            ClockMode::Business => self.calendar,
            ClockMode::Calendar => self.always,
        }
    }

    /// Minutes of `mode` time in `[from, to)`.
    pub fn minutes_between(&self, mode: ClockMode, from_ms: i64, to_ms: i64) -> i64 {
        self.calendar(mode).business_minutes_between(ts(from_ms), ts(to_ms))
    }

    /// The instant `minutes` of `mode` time after `from`; `None` when the calendar never opens.
    pub fn add_minutes(&self, mode: ClockMode, from_ms: i64, minutes: i64) -> Option<i64> {
        self.calendar(mode)
            .add_business_minutes(ts(from_ms), minutes.max(0))
            .map(|t| t.as_millisecond())
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// One clock of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    pub metric: Metric,
    pub target_minutes: u32,
    pub mode: ClockMode,
    pub warn_percent: u8,
    pub started_at_ms: i64,
    /// Minutes counted before the running stretch (stretches before pauses).
    #[serde(default)]
    pub elapsed_minutes: i64,
    /// Since when it runs; `None` while paused (waiting on the customer).
    #[serde(default)]
    pub running_since_ms: Option<i64>,
    /// When the warning is due (while running and not yet warned).
    #[serde(default)]
    pub warn_at_ms: Option<i64>,
    /// When the target is reached (while running).
    #[serde(default)]
    pub due_at_ms: Option<i64>,
    #[serde(default)]
    pub warned_at_ms: Option<i64>,
    #[serde(default)]
    pub breached_at_ms: Option<i64>,
    /// Hierarchical escalation levels reached (1 = the first level).
    #[serde(default)]
    pub level: u8,
    #[serde(default)]
    pub next_level_at_ms: Option<i64>,
}

impl SlaClock {
    fn start(ctx: &SlaContext<'_>, metric: Metric, now_ms: i64) -> SlaClock {
        let target = ctx.policy.target(metric);
        let mut clock = SlaClock {
            metric,
            target_minutes: target.minutes,
            mode: target.clock,
            warn_percent: ctx.config.warn_percent(ctx.policy),
            started_at_ms: now_ms,
            elapsed_minutes: 0,
            running_since_ms: Some(now_ms),
            warn_at_ms: None,
            due_at_ms: None,
            warned_at_ms: None,
            breached_at_ms: None,
            level: 0,
            next_level_at_ms: None,
        };
        clock.schedule(ctx);
        clock
    }

    /// Minutes counted so far, up to `now`.
    pub fn minutes_at(&self, ctx: &SlaContext<'_>, now_ms: i64) -> i64 {
        self.elapsed_minutes
            + self
                .running_since_ms
                .map_or(0, |since| ctx.minutes_between(self.mode, since, now_ms))
    }

    fn warn_minutes(&self) -> i64 {
        (i64::from(self.target_minutes) * i64::from(self.warn_percent) + 99) / 100
    }

    /// Recomputes the warning and due instants from the running stretch.
    fn schedule(&mut self, ctx: &SlaContext<'_>) {
        let Some(since) = self.running_since_ms else {
            self.warn_at_ms = None;
            self.due_at_ms = None;
            return;
        };
        if self.breached_at_ms.is_none() {
            let remaining = i64::from(self.target_minutes) - self.elapsed_minutes;
            self.due_at_ms = ctx.add_minutes(self.mode, since, remaining);
        }
        self.warn_at_ms = if self.warned_at_ms.is_none() && self.breached_at_ms.is_none() {
            ctx.add_minutes(self.mode, since, self.warn_minutes() - self.elapsed_minutes)
        } else {
            None
        };
    }

    fn pause(&mut self, ctx: &SlaContext<'_>, now_ms: i64) {
        if self.running_since_ms.is_some() {
            self.elapsed_minutes = self.minutes_at(ctx, now_ms);
            self.running_since_ms = None;
            self.schedule(ctx);
        }
    }

    fn resume(&mut self, ctx: &SlaContext<'_>, now_ms: i64) {
        if self.running_since_ms.is_none() {
            self.running_since_ms = Some(now_ms);
            self.schedule(ctx);
        }
    }

    /// The next thing the sweep must do for this clock, and when.
    pub fn next_deadline(&self) -> Option<(Stage, i64)> {
        self.running_since_ms?;
        if self.breached_at_ms.is_none() {
            if let Some(at) = self.warn_at_ms
                && self.warned_at_ms.is_none()
            {
                return Some((Stage::Warn, at));
            }
            return self.due_at_ms.map(|at| (Stage::Breach, at));
        }
        self.next_level_at_ms.map(|at| (Stage::Level(self.level + 1), at))
    }

    fn outcome(&self, minutes: i64, now_ms: i64) -> ClockOutcome {
        ClockOutcome {
            metric: self.metric,
            minutes,
            target_minutes: self.target_minutes,
            within: self.breached_at_ms.is_none() && minutes <= i64::from(self.target_minutes),
            met: true,
            breached: self.breached_at_ms.is_some(),
            at_ms: now_ms,
        }
    }
}

/// The sweep's step for a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "stage", content = "level")]
pub enum Stage {
    /// The warning percentage is reached.
    Warn,
    /// The target is reached.
    Breach,
    /// Hierarchical escalation level N (2 and up; level 1 comes with the breach).
    Level(u8),
    /// The assignee stayed silent too long: back to the queue.
    Reassign,
}

impl Stage {
    pub fn as_str(self) -> String {
        match self {
            Stage::Warn => "warn".into(),
            Stage::Breach => "breach".into(),
            Stage::Level(n) => format!("level{n}"),
            Stage::Reassign => "reassign".into(),
        }
    }
}

/// What a deadline is about: one of the clocks, or the reassignment timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    FirstResponse,
    NextResponse,
    Resolution,
    Reassign,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 4] = [
        DeadlineKind::FirstResponse,
        DeadlineKind::NextResponse,
        DeadlineKind::Resolution,
        DeadlineKind::Reassign,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::FirstResponse => "first_response",
            DeadlineKind::NextResponse => "next_response",
            DeadlineKind::Resolution => "resolution",
            DeadlineKind::Reassign => "reassign",
        }
    }

    pub fn parse(s: &str) -> Option<DeadlineKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn metric(self) -> Option<Metric> {
        match self {
            DeadlineKind::FirstResponse => Some(Metric::FirstResponse),
            DeadlineKind::NextResponse => Some(Metric::NextResponse),
            DeadlineKind::Resolution => Some(Metric::Resolution),
            DeadlineKind::Reassign => None,
        }
    }

    fn of(metric: Metric) -> DeadlineKind {
        match metric {
            Metric::FirstResponse => DeadlineKind::FirstResponse,
            Metric::NextResponse => DeadlineKind::NextResponse,
            Metric::Resolution => DeadlineKind::Resolution,
        }
    }
}

/// An entry of the deadline index: at most one per ticket and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub stage: Stage,
    pub at_ms: i64,
}

/// How a clock ended, for the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockOutcome {
    pub metric: Metric,
    /// Minutes it took (its own clock mode); for a clock dropped unmet, the minutes counted.
    pub minutes: i64,
    pub target_minutes: u32,
    /// Met within the target, never breached.
    pub within: bool,
    /// False when the clock was dropped unmet after a breach (resolved without a reply).
    pub met: bool,
    /// The sweep had fired its breach (so it was counted as missed then).
    pub breached: bool,
    pub at_ms: i64,
}

/// What the sweep's deadline set off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    Warning {
        metric: Metric,
        percent: u8,
        due_at_ms: i64,
    },
    Breached {
        metric: Metric,
        due_at_ms: i64,
        action: Escalated,
    },
    /// A further hierarchical level was reached.
    Level {
        metric: Metric,
        level: u8,
        name: String,
    },
    Reassign,
}

/// The escalation a breach causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escalated {
    /// The first level of the hierarchy is alerted (none when no level is configured).
    Level { level: u8, name: String },
    /// The ticket moves to this specialist team.
    Team(String),
}

/// A ticket's service-level state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSla {
    /// The policy's name.
    pub policy: String,
    pub clocks: Vec<SlaClock>,
    /// Since when the ticket waits on the customer (an agent replied last).
    #[serde(default)]
    pub waiting_on_customer_since_ms: Option<i64>,
    /// When the assignee's silence sends the ticket back to the queue.
    #[serde(default)]
    pub reassign_at_ms: Option<i64>,
}

impl TicketSla {
    /// The clocks of a ticket that just reached a human queue.
    pub fn start(ctx: &SlaContext<'_>, now_ms: i64) -> TicketSla {
        TicketSla {
            policy: ctx.policy.name.clone(),
            clocks: vec![
                SlaClock::start(ctx, Metric::FirstResponse, now_ms),
                SlaClock::start(ctx, Metric::Resolution, now_ms),
            ],
            waiting_on_customer_since_ms: None,
            reassign_at_ms: None,
        }
    }

    pub fn clock(&self, metric: Metric) -> Option<&SlaClock> {
        self.clocks.iter().find(|c| c.metric == metric)
    }

    fn clock_mut(&mut self, metric: Metric) -> Option<&mut SlaClock> {
        self.clocks.iter_mut().find(|c| c.metric == metric)
    }

    /// The team, priority or tier changed: the running clocks keep what they
    /// counted (under `old`) and continue under `new`'s policy and calendar.
    pub fn retarget(&mut self, old: &SlaContext<'_>, new: &SlaContext<'_>, now_ms: i64) {
        self.policy = new.policy.name.clone();
        for clock in &mut self.clocks {
            let running = clock.running_since_ms.is_some();
            clock.pause(old, now_ms);
            let target = new.policy.target(clock.metric);
            clock.target_minutes = target.minutes;
            clock.mode = target.clock;
            clock.warn_percent = new.config.warn_percent(new.policy);
            if running {
                clock.resume(new, now_ms);
            }
        }
    }

    /// Starts `metric` afresh under `ctx` (a specialist team took the ticket
    /// over after a breach: they owe the customer an answer of their own).
    pub fn restart_clock(&mut self, ctx: &SlaContext<'_>, metric: Metric, now_ms: i64) {
        self.policy = ctx.policy.name.clone();
        self.clocks.retain(|c| c.metric != metric);
        self.clocks.push(SlaClock::start(ctx, metric, now_ms));
    }

    /// A customer message: the wait on the customer ends; while an agent owns
    /// the ticket and has answered before, a next response is now owed.
    pub fn customer_wrote(&mut self, ctx: &SlaContext<'_>, now_ms: i64, assigned: bool) {
        self.waiting_on_customer_since_ms = None;
        if let Some(resolution) = self.clock_mut(Metric::Resolution) {
            resolution.resume(ctx, now_ms);
        }
        let first_response_open = self.clock(Metric::FirstResponse).is_some();
        if assigned && !first_response_open && self.clock(Metric::NextResponse).is_none() {
            self.clocks.push(SlaClock::start(ctx, Metric::NextResponse, now_ms));
        }
        if assigned && ctx.config.reassign_after_minutes > 0 && self.reassign_at_ms.is_none() {
            self.reassign_at_ms = ctx.add_minutes(
                ClockMode::Business,
                now_ms,
                i64::from(ctx.config.reassign_after_minutes),
            );
        }
    }

    /// An agent answered: the owed response is met, and the ticket waits on the customer.
    pub fn agent_replied(&mut self, ctx: &SlaContext<'_>, now_ms: i64) -> Vec<ClockOutcome> {
        let mut outcomes = Vec::new();
        self.clocks.retain(|clock| {
            if matches!(clock.metric, Metric::FirstResponse | Metric::NextResponse) {
                outcomes.push(clock.outcome(clock.minutes_at(ctx, now_ms), now_ms));
                false
            } else {
                true
            }
        });
        if let Some(resolution) = self.clock_mut(Metric::Resolution) {
            resolution.pause(ctx, now_ms);
        }
        self.waiting_on_customer_since_ms = Some(now_ms);
        self.reassign_at_ms = None;
        outcomes
    }

    /// The ticket is resolved: the resolution clock is met; an owed response
    /// that had already breached counts as missed, one that had not is dropped.
    pub fn resolved(&mut self, ctx: &SlaContext<'_>, now_ms: i64) -> Vec<ClockOutcome> {
        let outcomes = self
            .clocks
            .iter()
            .filter_map(|clock| {
                let minutes = clock.minutes_at(ctx, now_ms);
                match clock.metric {
                    Metric::Resolution => Some(clock.outcome(minutes, now_ms)),
                    _ if clock.breached_at_ms.is_some() => Some(ClockOutcome {
                        met: false,
                        within: false,
                        ..clock.outcome(minutes, now_ms)
                    }),
                    _ => None,
                }
            })
            .collect();
        self.clocks.clear();
        self.reassign_at_ms = None;
        self.waiting_on_customer_since_ms = None;
        outcomes
    }

    /// Every deadline the index should hold for this ticket, one per kind at most.
    pub fn deadlines(&self) -> Vec<Deadline> {
        let mut deadlines: Vec<Deadline> = self
            .clocks
            .iter()
            .filter_map(|clock| {
                clock.next_deadline().map(|(stage, at_ms)| Deadline {
                    kind: DeadlineKind::of(clock.metric),
                    stage,
                    at_ms,
                })
            })
            .collect();
        if let Some(at_ms) = self.reassign_at_ms {
            deadlines.push(Deadline {
                kind: DeadlineKind::Reassign,
                stage: Stage::Reassign,
                at_ms,
            });
        }
        deadlines.sort_by_key(|d| d.kind);
        deadlines
    }

    /// Acts on a deadline the sweep found due. `None` when it is no longer the
    /// ticket's deadline (met, moved or already acted on): a repeated or stale
    /// sweep changes nothing.
    pub fn fire(&mut self, ctx: &SlaContext<'_>, deadline: &Deadline, now_ms: i64) -> Option<Fired> {
        if deadline.at_ms > now_ms || !self.deadlines().contains(deadline) {
            return None;
        }
        if deadline.kind == DeadlineKind::Reassign {
            self.reassign_at_ms = None;
            return Some(Fired::Reassign);
        }
        let levels = &ctx.config.levels;
        let action = ctx.policy.breach.clone();
        let clock = self.clock_mut(deadline.kind.metric()?)?;
        match deadline.stage {
            Stage::Warn => {
                clock.warned_at_ms = Some(deadline.at_ms);
                clock.warn_at_ms = None;
                Some(Fired::Warning {
                    metric: clock.metric,
                    percent: clock.warn_percent,
                    due_at_ms: clock.due_at_ms.unwrap_or(deadline.at_ms),
                })
            }
            Stage::Breach => {
                clock.breached_at_ms = Some(deadline.at_ms);
                clock.warn_at_ms = None;
                let escalated = match action {
                    BreachAction::Functional { team } => Escalated::Team(team),
                    BreachAction::Hierarchical => {
                        clock.level = 1;
                        clock.next_level_at_ms = levels.get(1).map(|next| {
                            deadline.at_ms + i64::from(next.after_minutes - levels[0].after_minutes) * MS_PER_MINUTE
                        });
                        Escalated::Level {
                            level: 1,
                            name: levels.first().map(|l| l.name.clone()).unwrap_or_default(),
                        }
                    }
                };
                Some(Fired::Breached {
                    metric: clock.metric,
                    due_at_ms: deadline.at_ms,
                    action: escalated,
                })
            }
            Stage::Level(n) => {
                let index = usize::from(n).checked_sub(1)?;
                let level = levels.get(index)?;
                clock.level = n;
                clock.next_level_at_ms = levels
                    .get(index + 1)
                    .map(|next| deadline.at_ms + i64::from(next.after_minutes - level.after_minutes) * MS_PER_MINUTE);
                Some(Fired::Level {
                    metric: clock.metric,
                    level: n,
                    name: level.name.clone(),
                })
            }
            Stage::Reassign => None,
        }
    }

    /// When the owed response is due, if one is running (for the customer).
    pub fn response_due_at_ms(&self) -> Option<i64> {
        [Metric::FirstResponse, Metric::NextResponse]
            .iter()
            .filter_map(|m| self.clock(*m))
            .find_map(|c| c.due_at_ms)
    }
}

/// When a customer handed to `ctx`'s team at `now` can expect the first answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Within this many minutes (the team is open for the whole wait).
    Within(u32),
    /// The team is closed; it opens at this instant.
    Reopens(Timestamp),
    /// The wait runs past closing time: by this instant.
    By(Timestamp),
}

pub fn expected_first_response(ctx: &SlaContext<'_>, now: Timestamp) -> Expected {
    let target = ctx.policy.first_response;
    let now_ms = now.as_millisecond();
    if target.clock == ClockMode::Business
        && !ctx.calendar.is_open(now)
        && let Some(at) = ctx.calendar.next_open(now)
    {
        return Expected::Reopens(at);
    }
    match ctx.add_minutes(target.clock, now_ms, i64::from(target.minutes)) {
        Some(due) if due - now_ms <= i64::from(target.minutes) * MS_PER_MINUTE + MS_PER_MINUTE => {
            Expected::Within(target.minutes)
        }
        Some(due) => Expected::By(ts(due)),
        None => Expected::Within(target.minutes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::CalendarSpec;
    use std::collections::BTreeMap;

    const MIN: i64 = MS_PER_MINUTE;

    fn config(breach: BreachAction) -> SlaConfig {
        let target = |minutes| Target {
            minutes,
            clock: ClockMode::Business,
        };
        SlaConfig {
            warn_at_percent: 80,
            reassign_after_minutes: 20,
            breach_template: None,
            csat: true,
            csat_template: None,
            levels: vec![
                LevelConfig {
                    name: "team lead".into(),
                    after_minutes: 0,
                },
                LevelConfig {
                    name: "manager".into(),
                    after_minutes: 60,
                },
            ],
            policies: vec![
                PolicyConfig {
                    name: "vip".into(),
                    priorities: vec![],
                    tiers: vec![CustomerTier::Vip],
                    teams: vec![],
                    first_response: target(5),
                    next_response: target(10),
                    resolution: target(60),
                    warn_at_percent: None,
                    breach: breach.clone(),
                },
                PolicyConfig {
                    name: "standard".into(),
                    priorities: vec![],
                    tiers: vec![],
                    teams: vec![],
                    first_response: target(10),
                    next_response: target(30),
                    resolution: target(120),
                    warn_at_percent: None,
                    breach,
                },
            ],
        }
    }

    /// Open 09:00-17:00 on weekdays in UTC.
    fn office() -> BusinessCalendar {
        let hours: BTreeMap<String, Vec<String>> = ["monday", "tuesday", "wednesday", "thursday", "friday"]
            .iter()
            .map(|d| (d.to_string(), vec!["09:00-17:00".to_string()]))
            .collect();
        BusinessCalendar::from_spec(&CalendarSpec {
            time_zone: "UTC".into(),
            hours,
            holidays: vec![],
        })
        .unwrap()
    }

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    struct Fixture {
        config: SlaConfig,
        calendar: BusinessCalendar,
        always: BusinessCalendar,
    }

    impl Fixture {
        fn new(breach: BreachAction) -> Self {
            Fixture {
                config: config(breach),
                calendar: office(),
                always: BusinessCalendar::always_open(),
            }
        }
        fn ctx(&self, tier: CustomerTier) -> SlaContext<'_> {
            SlaContext {
                config: &self.config,
                policy: self.config.policy("support", Priority::Normal, tier),
                calendar: &self.calendar,
                always: &self.always,
            }
        }
    }

    fn due(sla: &TicketSla, kind: DeadlineKind) -> Option<Deadline> {
        sla.deadlines().into_iter().find(|d| d.kind == kind)
    }

    #[test]
    fn a_handoff_starts_first_response_and_resolution_with_a_warning_at_eighty_percent() {
        let f = Fixture::new(BreachAction::Hierarchical);
        // Monday 10:00 UTC.
        let sla = TicketSla::start(&f.ctx(CustomerTier::Standard), at("2026-11-23T10:00:00Z"));
        assert_eq!(sla.policy, "standard");
        assert_eq!(
            due(&sla, DeadlineKind::FirstResponse),
            Some(Deadline {
                kind: DeadlineKind::FirstResponse,
                stage: Stage::Warn,
                at_ms: at("2026-11-23T10:08:00Z")
            })
        );
        assert_eq!(
            sla.clock(Metric::FirstResponse).unwrap().due_at_ms,
            Some(at("2026-11-23T10:10:00Z"))
        );
    }

    #[test]
    fn a_vip_ticket_gets_the_shorter_targets() {
        let f = Fixture::new(BreachAction::Hierarchical);
        let sla = TicketSla::start(&f.ctx(CustomerTier::Vip), at("2026-11-23T10:00:00Z"));
        assert_eq!(sla.policy, "vip");
        assert_eq!(
            sla.clock(Metric::FirstResponse).unwrap().due_at_ms,
            Some(at("2026-11-23T10:05:00Z"))
        );
    }

    #[test]
    fn business_minutes_stop_at_closing_time_and_resume_the_next_working_day() {
        let f = Fixture::new(BreachAction::Hierarchical);
        // Friday 16:55: 5 minutes today, 5 on Monday.
        let sla = TicketSla::start(&f.ctx(CustomerTier::Standard), at("2026-11-27T16:55:00Z"));
        assert_eq!(
            sla.clock(Metric::FirstResponse).unwrap().due_at_ms,
            Some(at("2026-11-30T09:05:00Z"))
        );
    }

    #[test]
    fn the_sweep_warns_then_breaches_then_climbs_the_levels_each_once() {
        let f = Fixture::new(BreachAction::Hierarchical);
        let ctx = f.ctx(CustomerTier::Standard);
        let start = at("2026-11-23T10:00:00Z");
        let mut sla = TicketSla::start(&ctx, start);
        let warn = due(&sla, DeadlineKind::FirstResponse).unwrap();
        assert_eq!(sla.fire(&ctx, &warn, warn.at_ms - 1), None, "not yet due");
        assert!(matches!(
            sla.fire(&ctx, &warn, warn.at_ms),
            Some(Fired::Warning { percent: 80, .. })
        ));
        assert_eq!(
            sla.fire(&ctx, &warn, warn.at_ms + 1),
            None,
            "a repeated sweep does nothing"
        );
        let breach = due(&sla, DeadlineKind::FirstResponse).unwrap();
        assert_eq!((breach.stage, breach.at_ms), (Stage::Breach, start + 10 * MIN));
        assert_eq!(
            sla.fire(&ctx, &breach, breach.at_ms + 30_000),
            Some(Fired::Breached {
                metric: Metric::FirstResponse,
                due_at_ms: start + 10 * MIN,
                action: Escalated::Level {
                    level: 1,
                    name: "team lead".into()
                }
            })
        );
        let level2 = due(&sla, DeadlineKind::FirstResponse).unwrap();
        assert_eq!((level2.stage, level2.at_ms), (Stage::Level(2), start + 70 * MIN));
        assert!(matches!(
            sla.fire(&ctx, &level2, level2.at_ms),
            Some(Fired::Level { level: 2, .. })
        ));
        assert_eq!(
            due(&sla, DeadlineKind::FirstResponse),
            None,
            "no third level configured"
        );
    }

    #[test]
    fn a_functional_policy_names_the_specialist_team_at_breach() {
        let f = Fixture::new(BreachAction::Functional { team: "tech".into() });
        let ctx = f.ctx(CustomerTier::Standard);
        let mut sla = TicketSla::start(&ctx, at("2026-11-23T10:00:00Z"));
        let warn = due(&sla, DeadlineKind::FirstResponse).unwrap();
        sla.fire(&ctx, &warn, warn.at_ms);
        let breach = due(&sla, DeadlineKind::FirstResponse).unwrap();
        assert!(matches!(
            sla.fire(&ctx, &breach, breach.at_ms),
            Some(Fired::Breached { action: Escalated::Team(t), .. }) if t == "tech"
        ));
    }

    #[test]
    fn a_stale_deadline_from_before_a_move_changes_nothing() {
        let f = Fixture::new(BreachAction::Hierarchical);
        let ctx = f.ctx(CustomerTier::Standard);
        let mut sla = TicketSla::start(&ctx, at("2026-11-23T10:00:00Z"));
        let old = Deadline {
            at_ms: at("2026-11-23T10:01:00Z"),
            ..due(&sla, DeadlineKind::FirstResponse).unwrap()
        };
        assert_eq!(sla.fire(&ctx, &old, at("2026-11-23T12:00:00Z")), None);
    }

    #[test]
    fn waiting_on_the_customer_pauses_resolution_and_their_reply_resumes_it() {
        let f = Fixture::new(BreachAction::Hierarchical);
        let ctx = f.ctx(CustomerTier::Standard);
        let start = at("2026-11-23T10:00:00Z");
        let mut sla = TicketSla::start(&ctx, start);
        let met = sla.agent_replied(&ctx, start + 4 * MIN);
        assert_eq!(met.len(), 1);
        assert_eq!(
            (met[0].metric, met[0].minutes, met[0].within),
            (Metric::FirstResponse, 4, true)
        );
        assert!(sla.deadlines().is_empty(), "nothing runs while waiting on the customer");
        // The customer answers a day later: 116 resolution minutes remain, a next response is owed.
        let back = at("2026-11-24T10:00:00Z");
        sla.customer_wrote(&ctx, back, true);
        assert_eq!(sla.clock(Metric::Resolution).unwrap().due_at_ms, Some(back + 116 * MIN));
        assert_eq!(
            sla.clock(Metric::NextResponse).unwrap().due_at_ms,
            Some(back + 30 * MIN)
        );
        assert_eq!(
            due(&sla, DeadlineKind::Reassign).map(|d| d.at_ms),
            Some(back + 20 * MIN)
        );
        let met = sla.agent_replied(&ctx, back + 45 * MIN);
        assert_eq!(
            (met[0].metric, met[0].minutes, met[0].within),
            (Metric::NextResponse, 45, false)
        );
        let done = sla.resolved(&ctx, back + 50 * MIN);
        assert_eq!(
            (done[0].metric, done[0].minutes, done[0].within),
            (Metric::Resolution, 49, true)
        );
        assert!(sla.deadlines().is_empty());
    }

    #[test]
    fn a_breached_response_still_owed_at_resolution_counts_as_missed() {
        let f = Fixture::new(BreachAction::Hierarchical);
        let ctx = f.ctx(CustomerTier::Standard);
        let start = at("2026-11-23T10:00:00Z");
        let mut sla = TicketSla::start(&ctx, start);
        for _ in 0..2 {
            let d = due(&sla, DeadlineKind::FirstResponse).unwrap();
            sla.fire(&ctx, &d, d.at_ms);
        }
        let done = sla.resolved(&ctx, start + 30 * MIN);
        let first = done.iter().find(|o| o.metric == Metric::FirstResponse).unwrap();
        assert!(!first.met && !first.within);
    }

    #[test]
    fn a_move_to_another_policy_keeps_the_minutes_already_counted() {
        let f = Fixture::new(BreachAction::Hierarchical);
        let standard = f.ctx(CustomerTier::Standard);
        let vip = f.ctx(CustomerTier::Vip);
        let start = at("2026-11-23T10:00:00Z");
        let mut sla = TicketSla::start(&standard, start);
        sla.retarget(&standard, &vip, start + 3 * MIN);
        assert_eq!(sla.policy, "vip");
        // 3 of the VIP's 5 minutes are gone.
        assert_eq!(
            sla.clock(Metric::FirstResponse).unwrap().due_at_ms,
            Some(start + 5 * MIN)
        );
    }

    #[test]
    fn the_expected_answer_is_a_duration_while_open_and_the_opening_time_while_closed() {
        let f = Fixture::new(BreachAction::Hierarchical);
        let ctx = f.ctx(CustomerTier::Standard);
        assert_eq!(
            expected_first_response(&ctx, "2026-11-23T10:00:00Z".parse().unwrap()),
            Expected::Within(10)
        );
        assert_eq!(
            expected_first_response(&ctx, "2026-11-28T10:00:00Z".parse().unwrap()),
            Expected::Reopens("2026-11-30T09:00:00Z".parse().unwrap())
        );
        assert_eq!(
            expected_first_response(&ctx, "2026-11-23T16:55:00Z".parse().unwrap()),
            Expected::By("2026-11-24T09:05:00Z".parse().unwrap())
        );
    }

    #[test]
    fn the_configuration_must_cover_every_team_priority_and_tier() {
        let mut c = config(BreachAction::Hierarchical);
        c.policies.retain(|p| p.name == "vip");
        let err = c.check(&[("support", 2)]).unwrap_err();
        assert_eq!(err.0, "sla.policies");
        assert!(err.1.contains("tier standard"), "{}", err.1);
        let mut c = config(BreachAction::Functional { team: "nobody".into() });
        c.policies.truncate(2);
        assert_eq!(c.check(&[("support", 2)]).unwrap_err().0, "sla.policies[0].breach.team");
    }
}
