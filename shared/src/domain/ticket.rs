//! Tickets and their timeline: the states a ticket moves through and the rules
//! of each move. The `tickets` function is the only writer.

use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::Pricing;
use crate::domain::outbound::Author;
use crate::domain::sla::TicketSla;
use crate::domain::triggers::{FrustrationScore, TriggerHit};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Tier 1: the bot is handling it.
    Bot,
    /// Waiting in a team's queue for an agent.
    Queued,
    /// An agent has answered and owns it.
    Assigned,
    Resolved,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 4] = [
        TicketStatus::Bot,
        TicketStatus::Queued,
        TicketStatus::Assigned,
        TicketStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Bot => "bot",
            TicketStatus::Queued => "queued",
            TicketStatus::Assigned => "assigned",
            TicketStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// While a human owns the ticket the bot stays silent.
    pub fn human_owned(self) -> bool {
        matches!(self, TicketStatus::Queued | TicketStatus::Assigned)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Sorts a queue: urgent first.
    pub fn queue_rank(self) -> u8 {
        match self {
            Priority::Urgent => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }
}

/// Why and how a ticket left the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// The trigger's name, e.g. `direct_request`, `failed_replies`.
    pub trigger: String,
    /// A sentence for the agent: which words, which count.
    pub reason: String,
    pub at_ms: i64,
    /// Every trigger that fired (the first is `trigger`).
    #[serde(default)]
    pub triggers: Vec<TriggerHit>,
}

/// A customer's tier, from their profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CustomerTier {
    #[default]
    Standard,
    Vip,
}

impl CustomerTier {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerTier::Standard => "standard",
            CustomerTier::Vip => "vip",
        }
    }
}

/// The satisfaction survey of a resolution: asked once, answered once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csat {
    pub asked_at_ms: i64,
    /// 1 (very poor) to 5 (excellent).
    #[serde(default)]
    pub score: Option<u8>,
    #[serde(default)]
    pub answered_at_ms: Option<i64>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// What the bot learnt before the handoff, so the agent starts with it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TicketContext {
    #[serde(default)]
    pub intent: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub frustration: Option<FrustrationScore>,
}

impl CustomerProfile {
    pub fn new(customer: crate::domain::ids::CustomerId, at_ms: i64) -> Self {
        CustomerProfile {
            customer,
            tier: CustomerTier::Standard,
            language: None,
            consent: None,
            updated_at_ms: at_ms,
        }
    }
}

/// A customer's profile: written by `tickets`, read by the bot and agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerProfile {
    pub customer: crate::domain::ids::CustomerId,
    #[serde(default)]
    pub tier: CustomerTier,
    #[serde(default)]
    pub language: Option<String>,
    /// Whether the customer agreed to hear from the business first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<crate::domain::consent::Consent>,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub customer: CustomerId,
    pub phone_number_id: String,
    #[serde(default)]
    pub contact_name: Option<String>,
    pub status: TicketStatus,
    pub tier: u8,
    pub team: String,
    pub priority: Priority,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub escalations: Vec<Escalation>,
    #[serde(default)]
    pub order_number: Option<String>,
    #[serde(default)]
    pub context: TicketContext,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    #[serde(default)]
    pub last_customer_message_at_ms: Option<i64>,
    #[serde(default)]
    pub first_response_at_ms: Option<i64>,
    #[serde(default)]
    pub resolved_at_ms: Option<i64>,
    #[serde(default)]
    pub resolved_by: Option<Author>,
    /// The customer's tier when the ticket reached humans (chooses the SLA policy).
    #[serde(default)]
    pub customer_tier: CustomerTier,
    /// Service-level clocks, while humans own the ticket.
    #[serde(default)]
    pub sla: Option<TicketSla>,
    #[serde(default)]
    pub csat: Option<Csat>,
    /// Messages the desk sent on this ticket (each one is billed since 2026-10-01).
    #[serde(default)]
    pub messages_sent: u32,
    /// Free labels agents put on the ticket (lower case, filterable).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// When an agent last handed the ticket back to the bot: the bot answers
    /// the customer again from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_back_at_ms: Option<i64>,
    /// When `tickets` saved this version (its clock, not the event's time):
    /// the change feed's order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_at_ms: Option<i64>,
    /// The team this save took the ticket from (set by `tickets` on the save
    /// that moves it, so that team's agents hear it left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_team: Option<String>,
    /// When the latest internal note was written (a note changes the ticket,
    /// so its version moves and others see it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_note_at_ms: Option<i64>,
    /// A resolved ticket is forgotten after the desk's retention: until
    /// then (DynamoDB's TTL removes it and its items). `None` while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_until_ms: Option<i64>,
    /// Optimistic concurrency: bumped by every save.
    #[serde(default)]
    pub version: u64,
}

/// A move a ticket cannot make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("ticket {0} is resolved")]
    Resolved(TicketId),
    #[error("tier must be 2 or 3 for an escalation, not {0}")]
    BadTier(u8),
    #[error("ticket {0} is with the bot; escalate or transfer it to a team first")]
    WithBot(TicketId),
    #[error("ticket {0} is not resolved")]
    NotResolved(TicketId),
}

impl Ticket {
    /// A ticket opened by a customer's first message, handled by the bot.
    pub fn open(id: TicketId, customer: CustomerId, phone_number_id: String, team: String, at_ms: i64) -> Self {
        Ticket {
            id,
            customer,
            phone_number_id,
            contact_name: None,
            status: TicketStatus::Bot,
            tier: 1,
            team,
            priority: Priority::Normal,
            assignee: None,
            escalations: Vec::new(),
            order_number: None,
            context: TicketContext::default(),
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
            last_customer_message_at_ms: None,
            first_response_at_ms: None,
            resolved_at_ms: None,
            resolved_by: None,
            customer_tier: CustomerTier::Standard,
            sla: None,
            csat: None,
            messages_sent: 0,
            tags: Vec::new(),
            handed_back_at_ms: None,
            last_note_at_ms: None,
            saved_at_ms: None,
            left_team: None,
            keep_until_ms: None,
            version: 0,
        }
    }

    /// A customer message arrived. A resolved ticket stays resolved (the bot opens a new one).
    pub fn customer_wrote(&mut self, at_ms: i64, contact_name: Option<String>) {
        self.last_customer_message_at_ms = Some(self.last_customer_message_at_ms.unwrap_or(0).max(at_ms));
        if contact_name.is_some() {
            self.contact_name = contact_name;
        }
        self.touch(at_ms);
    }

    /// Moves the ticket to a human queue. Escalating again to the same place is a no-op
    /// (returns false), so a redelivered command changes nothing.
    pub fn escalate(
        &mut self,
        tier: u8,
        team: &str,
        priority: Priority,
        escalation: Escalation,
    ) -> Result<bool, TransitionError> {
        if self.status == TicketStatus::Resolved {
            return Err(TransitionError::Resolved(self.id.clone()));
        }
        if !(2..=3).contains(&tier) {
            return Err(TransitionError::BadTier(tier));
        }
        if self.tier == tier && self.team == team && self.status.human_owned() {
            return Ok(false);
        }
        self.tier = tier;
        self.team = team.to_owned();
        self.priority = self.priority.max(priority);
        self.status = TicketStatus::Queued;
        self.assignee = None;
        let at = escalation.at_ms;
        self.escalations.push(escalation);
        self.touch(at);
        Ok(true)
    }

    /// A customer waiting in a queue went back to the bot: tier 1 again, on `team`.
    /// Only while no agent owns it; returns whether it moved.
    pub fn return_to_bot(&mut self, team: &str, at_ms: i64) -> bool {
        if self.status != TicketStatus::Queued {
            return false;
        }
        self.status = TicketStatus::Bot;
        self.tier = 1;
        self.team = team.to_owned();
        self.touch(at_ms);
        true
    }

    /// An agent answered: they own the ticket now.
    pub fn agent_replied(&mut self, agent: &str, at_ms: i64) -> Result<(), TransitionError> {
        if self.status == TicketStatus::Resolved {
            return Err(TransitionError::Resolved(self.id.clone()));
        }
        self.status = TicketStatus::Assigned;
        self.tier = self.tier.max(2);
        self.assignee = Some(agent.to_owned());
        self.first_response_at_ms.get_or_insert(at_ms);
        self.touch(at_ms);
        Ok(())
    }

    /// The assignee stayed silent too long: the ticket goes back to its team's queue.
    /// Returns the agent it was taken from.
    pub fn unassign(&mut self, at_ms: i64) -> Option<String> {
        if self.status != TicketStatus::Assigned {
            return None;
        }
        self.status = TicketStatus::Queued;
        self.touch(at_ms);
        self.assignee.take()
    }

    /// Resolves the ticket. Resolving a resolved ticket is a no-op (returns false).
    pub fn resolve(&mut self, by: Author, at_ms: i64) -> bool {
        if self.status == TicketStatus::Resolved {
            return false;
        }
        self.status = TicketStatus::Resolved;
        self.resolved_at_ms = Some(at_ms);
        self.resolved_by = Some(by);
        self.touch(at_ms);
        true
    }

    /// An agent takes the ticket (claims it, or a lead assigns it to them)
    /// without answering yet: the owed response stays owed. Returns whether
    /// the assignee changed.
    pub fn assign(&mut self, agent: &str, at_ms: i64) -> Result<bool, TransitionError> {
        match self.status {
            TicketStatus::Resolved => return Err(TransitionError::Resolved(self.id.clone())),
            TicketStatus::Bot => return Err(TransitionError::WithBot(self.id.clone())),
            TicketStatus::Queued | TicketStatus::Assigned => {}
        }
        if self.assignee.as_deref() == Some(agent) {
            return Ok(false);
        }
        self.status = TicketStatus::Assigned;
        self.assignee = Some(agent.to_owned());
        self.touch(at_ms);
        Ok(true)
    }

    /// An agent hands the ticket back to the bot (tier 1, on `team`): the
    /// bot answers the customer again. Returns whether it moved.
    pub fn hand_back(&mut self, team: &str, at_ms: i64) -> Result<bool, TransitionError> {
        match self.status {
            TicketStatus::Resolved => Err(TransitionError::Resolved(self.id.clone())),
            TicketStatus::Bot => Ok(false),
            TicketStatus::Queued | TicketStatus::Assigned => {
                self.status = TicketStatus::Bot;
                self.tier = 1;
                self.team = team.to_owned();
                self.assignee = None;
                self.handed_back_at_ms = Some(at_ms);
                self.touch(at_ms);
                Ok(true)
            }
        }
    }

    /// An internal note was written at `at_ms`: the same note again changes nothing.
    pub fn noted(&mut self, at_ms: i64) {
        self.last_note_at_ms = Some(at_ms);
        self.touch(at_ms);
    }

    /// A resolved ticket is worked again: back in its team's queue, or with
    /// `agent` when they take it at once.
    pub fn reopen(&mut self, agent: Option<&str>, at_ms: i64) -> Result<(), TransitionError> {
        if self.status != TicketStatus::Resolved {
            return Err(TransitionError::NotResolved(self.id.clone()));
        }
        self.status = match agent {
            Some(_) => TicketStatus::Assigned,
            None => TicketStatus::Queued,
        };
        self.tier = self.tier.max(2);
        self.assignee = agent.map(str::to_owned);
        self.resolved_at_ms = None;
        self.resolved_by = None;
        self.touch(at_ms);
        Ok(())
    }

    /// When WhatsApp's 24-hour customer service window closes (free-form
    /// messages reach the customer only until then; templates after).
    pub fn window_closes_at_ms(&self) -> Option<i64> {
        self.last_customer_message_at_ms
            .map(|last| last + crate::domain::tickets::WINDOW_MS)
    }

    /// Whether free-form messages may still reach the customer at `at_ms`.
    pub fn window_open(&self, at_ms: i64) -> bool {
        self.window_closes_at_ms().is_some_and(|closes| at_ms < closes)
    }

    /// Open with humans, and a running clock already warned or breached.
    pub fn at_risk(&self) -> bool {
        self.status.human_owned()
            && self.sla.as_ref().is_some_and(|sla| {
                sla.clocks
                    .iter()
                    .any(|c| c.running_since_ms.is_some() && (c.warned_at_ms.is_some() || c.breached_at_ms.is_some()))
            })
    }

    /// An agent answered last: the ticket waits on the customer.
    pub fn waiting_on_customer(&self) -> bool {
        self.status == TicketStatus::Assigned
            && self
                .sla
                .as_ref()
                .is_some_and(|sla| sla.waiting_on_customer_since_ms.is_some())
    }

    /// Whether a person (not only the bot) worked on it: escalated, at
    /// tier 2 or 3, or answered by an agent.
    pub fn reached_a_human(&self) -> bool {
        !self.escalations.is_empty() || self.tier > 1 || self.first_response_at_ms.is_some()
    }

    /// Something happened on the ticket at `at_ms` (the last activity only moves forward).
    pub fn touch(&mut self, at_ms: i64) {
        self.updated_at_ms = self.updated_at_ms.max(at_ms);
    }
}

/// Delivery of an outbound message, as status webhooks report it. Only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// The Graph API accepted it.
    Accepted,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryState {
    pub fn parse(status: &str) -> Option<Self> {
        match status {
            "sent" => Some(Self::Sent),
            "delivered" => Some(Self::Delivered),
            "read" => Some(Self::Read),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    /// Rank used in conditional writes: a state replaces only a lower rank.
    /// `failed` is final; it can still follow sent or delivered, never read.
    pub fn rank(self) -> u8 {
        match self {
            Self::Accepted => 0,
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Failed => 4,
        }
    }

    pub fn can_follow(self, current: DeliveryState) -> bool {
        match (current, self) {
            (Self::Failed, _) => false,
            (Self::Read, Self::Failed) => false,
            _ => self.rank() > current.rank(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
    Event,
    /// Between agents only (a note): never sent to the customer.
    Internal,
}

/// One line of a ticket's history. `id` is the wamid for messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: String,
    pub at_ms: i64,
    pub direction: Direction,
    pub author: Author,
    /// Message type (`text`, `image`…) or event name (`escalated`, `resolved`, `send_failed`).
    pub kind: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_error: Option<String>,
    /// Structured content: a Flow's answers, the message an edit or a
    /// withdrawal refers to, what a message cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The customer withdrew this message: its content is no longer kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
    /// What an outbound message cost, as its status reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
}

impl TimelineEntry {
    /// Something that happened to the ticket (not a message).
    pub fn event(id: String, at_ms: i64, author: Author, kind: &str, summary: String) -> TimelineEntry {
        TimelineEntry {
            id,
            at_ms,
            direction: Direction::Event,
            author,
            kind: kind.to_owned(),
            summary,
            message: None,
            delivery: None,
            delivery_error: None,
            data: None,
            withdrawn: false,
            pricing: None,
        }
    }
}

/// A delivery status for an outbound message: its state, why it failed, and
/// what it cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryUpdate {
    pub state: DeliveryState,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub pricing: Option<Pricing>,
}

impl DeliveryUpdate {
    pub fn state(state: DeliveryState) -> DeliveryUpdate {
        DeliveryUpdate {
            state,
            error: None,
            pricing: None,
        }
    }
}

/// Which ticket entry an outbound message is, and the team and priority its
/// ticket had when it was sent (its cost is counted there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundLink {
    pub ticket_id: TicketId,
    pub at_ms: i64,
    #[serde(default)]
    pub team: String,
    #[serde(default = "normal")]
    pub priority: Priority,
}

fn normal() -> Priority {
    Priority::Normal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket::open(
            TicketId::parse("TK-1").unwrap(),
            CustomerId::parse("1555").unwrap(),
            "P".into(),
            "support".into(),
            1_000,
        )
    }

    fn reason(at_ms: i64) -> Escalation {
        Escalation {
            trigger: "direct_request".into(),
            reason: "asked for an agent".into(),
            at_ms,
            triggers: vec![],
        }
    }

    #[test]
    fn an_escalated_ticket_waits_in_the_team_queue_at_tier_two() {
        let mut t = ticket();
        assert_eq!(t.escalate(2, "support", Priority::Normal, reason(2_000)), Ok(true));
        assert_eq!((t.status, t.tier, t.updated_at_ms), (TicketStatus::Queued, 2, 2_000));
        assert!(t.status.human_owned());
    }

    #[test]
    fn escalating_twice_to_the_same_place_changes_nothing() {
        let mut t = ticket();
        t.escalate(2, "support", Priority::Normal, reason(2_000)).unwrap();
        assert_eq!(t.escalate(2, "support", Priority::Normal, reason(3_000)), Ok(false));
        assert_eq!(t.escalations.len(), 1);
    }

    #[test]
    fn a_resolved_ticket_cannot_be_escalated_or_answered() {
        let mut t = ticket();
        assert!(t.resolve(Author::Agent("ana".into()), 5_000));
        assert!(!t.resolve(Author::Agent("ana".into()), 6_000));
        assert!(t.escalate(2, "support", Priority::High, reason(7_000)).is_err());
        assert!(t.agent_replied("ana", 7_000).is_err());
    }

    #[test]
    fn a_waiting_customer_can_go_back_to_the_bot_but_not_once_an_agent_owns_the_ticket() {
        let mut t = ticket();
        t.escalate(2, "billing", Priority::High, reason(2_000)).unwrap();
        assert!(t.return_to_bot("support", 3_000));
        assert_eq!((t.status, t.tier, t.team.as_str()), (TicketStatus::Bot, 1, "support"));
        t.escalate(2, "billing", Priority::High, reason(4_000)).unwrap();
        t.agent_replied("ana", 5_000).unwrap();
        assert!(!t.return_to_bot("support", 6_000));
    }

    #[test]
    fn the_first_agent_reply_is_kept_as_the_first_response() {
        let mut t = ticket();
        t.agent_replied("ana", 3_000).unwrap();
        t.agent_replied("bob", 4_000).unwrap();
        assert_eq!(t.first_response_at_ms, Some(3_000));
        assert_eq!(t.assignee.as_deref(), Some("bob"));
        assert_eq!(t.status, TicketStatus::Assigned);
    }

    #[test]
    fn a_delivery_state_only_moves_forward_and_failed_is_final() {
        use DeliveryState::*;
        assert!(Delivered.can_follow(Sent));
        assert!(!Sent.can_follow(Delivered));
        assert!(!Read.can_follow(Read));
        assert!(Failed.can_follow(Sent));
        assert!(!Failed.can_follow(Read));
        assert!(!Read.can_follow(Failed));
    }
}
