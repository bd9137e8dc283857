//! Items of `tickets.fifo`: every change to a ticket is one of these commands,
//! applied by the `tickets` function, the single writer of tickets.

use crate::domain::ids::{CustomerId, TicketId, fifo_key};
use crate::domain::inbound::Pricing;
use crate::domain::outbound::{Author, OutboundBody};
use crate::domain::sla::Deadline;
use crate::domain::ticket::{CustomerTier, Priority};
use crate::domain::triggers::{FrustrationScore, TriggerHit};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum TicketCommand {
    RecordInbound(RecordInbound),
    RecordOutbound(RecordOutbound),
    RecordSendFailure(RecordSendFailure),
    RecordStatus(RecordStatus),
    Escalate(Escalate),
    Transfer(Transfer),
    ReturnToBot(ReturnToBot),
    SetCustomerLanguage(SetCustomerLanguage),
    AttachMedia(AttachMedia),
    SetCustomerTier(SetCustomerTier),
    AgentReplied(AgentReplied),
    Resolve(Resolve),
    SlaDue(SlaDue),
    RecordCsat(RecordCsat),
    RecordCsatComment(RecordCsatComment),
    RecordEcho(RecordEcho),
    AgentAction(AgentAction),
    EraseCustomer(EraseCustomer),
    SetConsent(SetConsent),
    OpenProactive(OpenProactive),
}

/// An agent records a customer's opt-in or opt-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetConsent {
    pub customer: CustomerId,
    pub status: crate::domain::consent::ConsentStatus,
    /// The agent who recorded it.
    pub by: String,
    /// Where the customer gave it (a form, a call…).
    pub source: String,
    pub at_ms: i64,
    pub request_id: String,
}

/// An agent writes first, with an approved template, to a customer who
/// opted in: on `ticket_id` (a ticket the bot linked to the customer's
/// conversation, opened here assigned to the agent when it is new).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenProactive {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub phone_number_id: String,
    pub agent: String,
    pub team: String,
    pub tier: u8,
    pub body: OutboundBody,
    pub at_ms: i64,
    pub request_id: String,
}

/// An admin's privacy request: everything about the customer is forgotten
/// (their tickets keep their shape and the KPI counts, without contents).
/// Carried out by the `tickets` function, in the customer's message group, so
/// it follows everything already queued for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EraseCustomer {
    pub customer: CustomerId,
    /// The admin who asked.
    pub by: String,
    pub at_ms: i64,
    pub request_id: String,
}

/// What an agent does to a ticket in the workspace, besides answering the
/// customer: take it, give it to someone, leave a note, reopen it, sort it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentAction {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    /// Who did it.
    pub agent: String,
    pub at_ms: i64,
    /// The request's idempotency key: the same request is applied once.
    pub request_id: String,
    /// The ticket version the agent acted on (`If-Match`): a ticket changed
    /// since is left as it is, and the timeline says why.
    #[serde(default)]
    pub expected_version: Option<u64>,
    pub action: Action,
}

/// One workspace action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The agent takes the ticket.
    Claim,
    /// A lead gives the ticket to an agent.
    Assign {
        to: String,
    },
    /// Back to the team's queue, nobody's.
    Unassign,
    /// Back to the bot (tier 1, on the desk's default team).
    HandBack {
        team: String,
    },
    /// An internal note, never sent to the customer; `mentions` are notified.
    Note {
        text: String,
        mentions: Vec<String>,
    },
    /// A resolved ticket is worked again, by the agent who reopens it.
    Reopen,
    SetPriority {
        priority: Priority,
    },
    SetCategory {
        category: String,
    },
    /// Labels added and removed (lower case).
    Tag {
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// A reaction to one of the customer's messages (an empty emoji removes
    /// it): sent while the 24-hour window is open; not an answer.
    React {
        message_id: String,
        emoji: String,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Claim => "claim",
            Action::Assign { .. } => "assign",
            Action::Unassign => "unassign",
            Action::HandBack { .. } => "hand_back",
            Action::Note { .. } => "note",
            Action::Reopen => "reopen",
            Action::SetPriority { .. } => "set_priority",
            Action::SetCategory { .. } => "set_category",
            Action::Tag { .. } => "tag",
            Action::React { .. } => "react",
        }
    }
}

/// A message the business sent from the WhatsApp Business app (an echo): kept
/// on the customer's ticket (opened on `team` when there is none); it neither
/// opens nor extends the 24-hour window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordEcho {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub phone_number_id: String,
    pub team: String,
    pub wamid: String,
    pub at_ms: i64,
    pub message_type: String,
    pub summary: String,
    pub message: Value,
}

/// A customer message. Opens the ticket (on `team`) when it does not exist yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordInbound {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub phone_number_id: String,
    pub team: String,
    #[serde(default)]
    pub contact_name: Option<String>,
    pub wamid: String,
    pub at_ms: i64,
    pub message_type: String,
    pub summary: String,
    pub message: Value,
}

/// The Graph API accepted an outbound message under `wamid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordOutbound {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub idempotency_key: String,
    pub wamid: String,
    pub at_ms: i64,
    pub author: Author,
    pub body: OutboundBody,
}

/// An outbound message the Graph API refused for good (not retried).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordSendFailure {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub idempotency_key: String,
    pub at_ms: i64,
    pub author: Author,
    pub body: OutboundBody,
    #[serde(default)]
    pub code: Option<i64>,
    pub reason: String,
}

/// A status webhook for an outbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordStatus {
    pub wamid: String,
    pub status: String,
    pub at_ms: i64,
    #[serde(default)]
    pub recipient: Option<CustomerId>,
    #[serde(default)]
    pub errors: Vec<Value>,
    /// What Meta charges for the message, when the status says.
    #[serde(default)]
    pub pricing: Option<Pricing>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalate {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub tier: u8,
    pub team: String,
    pub priority: Priority,
    pub trigger: String,
    pub reason: String,
    #[serde(default)]
    pub order_number: Option<String>,
    pub at_ms: i64,
    /// What caused it (the customer's wamid, or a request id): the dedupe key.
    pub cause: String,
    /// Every trigger that fired, with what set it off.
    #[serde(default)]
    pub triggers: Vec<TriggerHit>,
    #[serde(default)]
    pub intent: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub frustration: Option<FrustrationScore>,
    /// A short masked excerpt of the customer's words, for notifications.
    #[serde(default)]
    pub excerpt: Option<String>,
}

/// An agent moves the ticket to another team (a tier-3 specialist team, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub team: String,
    pub tier: u8,
    pub agent: String,
    pub reason: String,
    pub at_ms: i64,
    pub request_id: String,
}

/// A customer waiting for an agent went back to the bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnToBot {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub team: String,
    pub at_ms: i64,
    pub cause: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetCustomerLanguage {
    pub customer: CustomerId,
    #[serde(default)]
    pub ticket_id: Option<TicketId>,
    pub language: String,
    pub at_ms: i64,
    /// What caused it (the customer's wamid): the dedupe key, the same on a redelivery.
    #[serde(default)]
    pub cause: String,
}

/// A file checked, stored and analysed by the media function (or refused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachMedia {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub attachment: Box<crate::domain::attachment::MediaAttachment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetCustomerTier {
    pub customer: CustomerId,
    pub tier: CustomerTier,
    pub by: String,
    pub at_ms: i64,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReplied {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub agent: String,
    pub at_ms: i64,
    pub idempotency_key: String,
    /// What the agent sends: the decider sends it only if the ticket can take
    /// it (not resolved, not changed since `expected_version`, the 24-hour
    /// window open for free-form messages), so a refused reply is never sent.
    #[serde(default)]
    pub body: Option<OutboundBody>,
    #[serde(default)]
    pub expected_version: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolve {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub by: Author,
    pub at_ms: i64,
    pub request_id: String,
}

/// The SLA sweep found one of the ticket's deadlines due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaDue {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub deadline: Deadline,
    pub at_ms: i64,
}

/// The customer answered the satisfaction survey (1 to 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordCsat {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub score: u8,
    pub wamid: String,
    pub at_ms: i64,
}

/// The customer's optional comment after their score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordCsatComment {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub comment: String,
    pub wamid: String,
    pub at_ms: i64,
}

/// One item of `media.fifo`: a file a customer sent, for the media function to
/// fetch, check, store and analyse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaJob {
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub phone_number_id: String,
    pub wamid: String,
    /// `image`, `video`, `audio`, `document` or `sticker`.
    pub message_type: String,
    pub media_id: String,
    /// The mime type WhatsApp announced (checked against the bytes).
    pub claimed_mime: String,
    #[serde(default)]
    pub caption: Option<String>,
    /// The customer's language code, for what the customer is told.
    pub language: String,
    /// The bot owns the conversation and said nothing this turn, and this is
    /// the turn's last file: the media function's message is the turn's one
    /// answer (a better photo, a known error's answer, or that the file was
    /// received). Refusals are always told.
    #[serde(alias = "bot_may_reply")]
    pub answers_turn: bool,
    pub at_ms: i64,
}

impl MediaJob {
    pub fn group_key(&self) -> String {
        fifo_key(self.customer.as_str())
    }
    pub fn dedupe_key(&self) -> String {
        fifo_key(&format!("media:{}", self.wamid))
    }
}

impl TicketCommand {
    /// FIFO group: the customer, so a customer's commands apply in order.
    pub fn group_key(&self) -> String {
        use TicketCommand::*;
        let customer = match self {
            RecordInbound(c) => &c.customer,
            RecordOutbound(c) => &c.customer,
            RecordSendFailure(c) => &c.customer,
            Escalate(c) => &c.customer,
            AgentReplied(c) => &c.customer,
            Transfer(c) => &c.customer,
            ReturnToBot(c) => &c.customer,
            SetCustomerLanguage(c) => &c.customer,
            SetCustomerTier(c) => &c.customer,
            AttachMedia(c) => &c.customer,
            Resolve(c) => &c.customer,
            SlaDue(c) => &c.customer,
            RecordCsat(c) => &c.customer,
            RecordCsatComment(c) => &c.customer,
            RecordEcho(c) => &c.customer,
            AgentAction(c) => &c.customer,
            EraseCustomer(c) => &c.customer,
            SetConsent(c) => &c.customer,
            OpenProactive(c) => &c.customer,
            RecordStatus(c) => match &c.recipient {
                Some(customer) => customer,
                None => return fifo_key(&c.wamid),
            },
        };
        fifo_key(customer.as_str())
    }

    /// FIFO deduplication id: the same logical command always gets the same id.
    pub fn dedupe_key(&self) -> String {
        use TicketCommand::*;
        fifo_key(&match self {
            RecordInbound(c) => format!("in:{}", c.wamid),
            RecordOutbound(c) => format!("out:{}", c.idempotency_key),
            RecordSendFailure(c) => format!("fail:{}", c.idempotency_key),
            RecordStatus(c) => format!("st:{}:{}", c.status, c.wamid),
            Escalate(c) => format!("esc:{}:{}", c.ticket_id, c.cause),
            AgentReplied(c) => format!("agent:{}:{}", c.ticket_id, c.idempotency_key),
            Resolve(c) => format!("res:{}:{}", c.ticket_id, c.request_id),
            Transfer(c) => format!("xfer:{}:{}", c.ticket_id, c.request_id),
            ReturnToBot(c) => format!("back:{}:{}", c.ticket_id, c.cause),
            SetCustomerLanguage(c) => format!("lang:{}:{}:{}", c.customer.as_str(), c.language, c.cause),
            SetCustomerTier(c) => format!("tier:{}", c.request_id),
            AttachMedia(c) => format!("media:{}", c.attachment.wamid),
            SlaDue(c) => format!(
                "sla:{}:{}:{}:{}",
                c.ticket_id,
                c.deadline.kind.as_str(),
                c.deadline.stage.as_str(),
                c.deadline.at_ms
            ),
            RecordCsat(c) => format!("csat:{}", c.wamid),
            RecordCsatComment(c) => format!("csat-comment:{}", c.wamid),
            RecordEcho(c) => format!("echo:{}", c.wamid),
            AgentAction(c) => format!("act:{}:{}:{}", c.ticket_id, c.action.name(), c.request_id),
            EraseCustomer(c) => format!("erase:{}:{}", c.customer.as_str(), c.request_id),
            SetConsent(c) => format!("consent:{}", c.request_id),
            OpenProactive(c) => format!("proactive:{}", c.request_id),
        })
    }

    pub fn name(&self) -> &'static str {
        use TicketCommand::*;
        match self {
            RecordInbound(_) => "record_inbound",
            RecordOutbound(_) => "record_outbound",
            RecordSendFailure(_) => "record_send_failure",
            RecordStatus(_) => "record_status",
            Escalate(_) => "escalate",
            AgentReplied(_) => "agent_replied",
            Resolve(_) => "resolve",
            Transfer(_) => "transfer",
            ReturnToBot(_) => "return_to_bot",
            SetCustomerLanguage(_) => "set_customer_language",
            SetCustomerTier(_) => "set_customer_tier",
            AttachMedia(_) => "attach_media",
            SlaDue(_) => "sla_due",
            RecordCsat(_) => "record_csat",
            RecordCsatComment(_) => "record_csat_comment",
            RecordEcho(_) => "record_echo",
            AgentAction(_) => "agent_action",
            EraseCustomer(_) => "erase_customer",
            SetConsent(_) => "set_consent",
            OpenProactive(_) => "open_proactive",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_keeps_its_wire_form_a_tag_beside_its_fields() {
        let body = r#"{"command":"resolve","ticket_id":"TK-1","customer":"15551230001",
            "by":{"type":"agent","name":"ana"},"at_ms":5,"request_id":"r1"}"#;

        let command: TicketCommand = serde_json::from_str(body).unwrap();

        let TicketCommand::Resolve(resolve) = &command else {
            panic!("{command:?}")
        };
        assert_eq!(resolve.request_id, "r1");
        let back = serde_json::to_value(&command).unwrap();
        assert_eq!(back["command"], "resolve");
        assert_eq!(back["ticket_id"], "TK-1");
        assert_eq!(command.name(), "resolve");
    }
}
