//! Items of `tickets.fifo`: every change to a ticket is one of these commands,
//! applied by the `tickets` function, the single writer of tickets.

use crate::domain::ids::{CustomerId, TicketId, fifo_key};
use crate::domain::outbound::{Author, OutboundBody};
use crate::domain::sla::Deadline;
use crate::domain::ticket::{CustomerTier, Priority};
use crate::domain::triggers::{FrustrationScore, TriggerHit};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum TicketCommand {
    /// A customer message. Opens the ticket (on `team`) when it does not exist yet.
    RecordInbound {
        ticket_id: TicketId,
        customer: CustomerId,
        phone_number_id: String,
        team: String,
        #[serde(default)]
        contact_name: Option<String>,
        wamid: String,
        at_ms: i64,
        message_type: String,
        summary: String,
        message: Value,
    },
    /// The Graph API accepted an outbound message under `wamid`.
    RecordOutbound {
        ticket_id: TicketId,
        customer: CustomerId,
        idempotency_key: String,
        wamid: String,
        at_ms: i64,
        author: Author,
        body: OutboundBody,
    },
    /// An outbound message the Graph API refused for good (not retried).
    RecordSendFailure {
        ticket_id: TicketId,
        customer: CustomerId,
        idempotency_key: String,
        at_ms: i64,
        author: Author,
        body: OutboundBody,
        #[serde(default)]
        code: Option<i64>,
        reason: String,
    },
    /// A status webhook for an outbound message.
    RecordStatus {
        wamid: String,
        status: String,
        at_ms: i64,
        #[serde(default)]
        recipient: Option<CustomerId>,
        #[serde(default)]
        errors: Vec<Value>,
    },
    Escalate {
        ticket_id: TicketId,
        customer: CustomerId,
        tier: u8,
        team: String,
        priority: Priority,
        trigger: String,
        reason: String,
        #[serde(default)]
        order_number: Option<String>,
        at_ms: i64,
        /// What caused it (the customer's wamid, or a request id): the dedupe key.
        cause: String,
        /// Every trigger that fired, with what set it off.
        #[serde(default)]
        triggers: Vec<TriggerHit>,
        #[serde(default)]
        intent: Option<String>,
        #[serde(default)]
        category: Option<String>,
        #[serde(default)]
        language: Option<String>,
        #[serde(default)]
        frustration: Option<FrustrationScore>,
        /// A short masked excerpt of the customer's words, for notifications.
        #[serde(default)]
        excerpt: Option<String>,
    },
    /// An agent moves the ticket to another team (a tier-3 specialist team, say).
    Transfer {
        ticket_id: TicketId,
        customer: CustomerId,
        team: String,
        tier: u8,
        agent: String,
        reason: String,
        at_ms: i64,
        request_id: String,
    },
    /// A customer waiting for an agent went back to the bot.
    ReturnToBot {
        ticket_id: TicketId,
        customer: CustomerId,
        team: String,
        at_ms: i64,
        cause: String,
    },
    SetCustomerLanguage {
        customer: CustomerId,
        #[serde(default)]
        ticket_id: Option<TicketId>,
        language: String,
        at_ms: i64,
    },
    /// A file checked, stored and analysed by the media function (or refused).
    AttachMedia {
        ticket_id: TicketId,
        customer: CustomerId,
        attachment: Box<crate::domain::attachment::MediaAttachment>,
    },
    SetCustomerTier {
        customer: CustomerId,
        tier: CustomerTier,
        by: String,
        at_ms: i64,
        request_id: String,
    },
    AgentReplied {
        ticket_id: TicketId,
        customer: CustomerId,
        agent: String,
        at_ms: i64,
        idempotency_key: String,
    },
    Resolve {
        ticket_id: TicketId,
        customer: CustomerId,
        by: Author,
        at_ms: i64,
        request_id: String,
    },
    /// The SLA sweep found one of the ticket's deadlines due.
    SlaDue {
        ticket_id: TicketId,
        customer: CustomerId,
        deadline: Deadline,
        at_ms: i64,
    },
    /// The customer answered the satisfaction survey (1 to 5).
    RecordCsat {
        ticket_id: TicketId,
        customer: CustomerId,
        score: u8,
        wamid: String,
        at_ms: i64,
    },
    /// The customer's optional comment after their score.
    RecordCsatComment {
        ticket_id: TicketId,
        customer: CustomerId,
        comment: String,
        wamid: String,
        at_ms: i64,
    },
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
    /// The bot owns the conversation: the media function may answer (a better
    /// photo, a known error's answer). Refusals are always told.
    pub bot_may_reply: bool,
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
        match self {
            RecordInbound { customer, .. }
            | RecordOutbound { customer, .. }
            | RecordSendFailure { customer, .. }
            | Escalate { customer, .. }
            | AgentReplied { customer, .. }
            | Transfer { customer, .. }
            | ReturnToBot { customer, .. }
            | SetCustomerLanguage { customer, .. }
            | SetCustomerTier { customer, .. }
            | AttachMedia { customer, .. }
            | Resolve { customer, .. }
            | SlaDue { customer, .. }
            | RecordCsat { customer, .. }
            | RecordCsatComment { customer, .. } => fifo_key(customer.as_str()),
            RecordStatus { recipient: Some(c), .. } => fifo_key(c.as_str()),
            RecordStatus { wamid, .. } => fifo_key(wamid),
        }
    }

    /// FIFO deduplication id: the same logical command always gets the same id.
    pub fn dedupe_key(&self) -> String {
        use TicketCommand::*;
        fifo_key(&match self {
            RecordInbound { wamid, .. } => format!("in:{wamid}"),
            RecordOutbound { idempotency_key, .. } => format!("out:{idempotency_key}"),
            RecordSendFailure { idempotency_key, .. } => format!("fail:{idempotency_key}"),
            RecordStatus { wamid, status, .. } => format!("st:{status}:{wamid}"),
            Escalate { ticket_id, cause, .. } => format!("esc:{ticket_id}:{cause}"),
            AgentReplied { idempotency_key, .. } => format!("agent:{idempotency_key}"),
            Resolve {
                ticket_id, request_id, ..
            } => format!("res:{ticket_id}:{request_id}"),
            Transfer {
                ticket_id, request_id, ..
            } => format!("xfer:{ticket_id}:{request_id}"),
            ReturnToBot { ticket_id, cause, .. } => format!("back:{ticket_id}:{cause}"),
            SetCustomerLanguage {
                customer,
                language,
                at_ms,
                ..
            } => {
                format!("lang:{}:{language}:{at_ms}", customer.as_str())
            }
            SetCustomerTier { request_id, .. } => format!("tier:{request_id}"),
            AttachMedia { attachment, .. } => format!("media:{}", attachment.wamid),
            SlaDue {
                ticket_id, deadline, ..
            } => format!(
                "sla:{ticket_id}:{}:{}:{}",
                deadline.kind.as_str(),
                deadline.stage.as_str(),
                deadline.at_ms
            ),
            RecordCsat { wamid, .. } => format!("csat:{wamid}"),
            RecordCsatComment { wamid, .. } => format!("csat-comment:{wamid}"),
        })
    }

    pub fn name(&self) -> &'static str {
        use TicketCommand::*;
        match self {
            RecordInbound { .. } => "record_inbound",
            RecordOutbound { .. } => "record_outbound",
            RecordSendFailure { .. } => "record_send_failure",
            RecordStatus { .. } => "record_status",
            Escalate { .. } => "escalate",
            AgentReplied { .. } => "agent_replied",
            Resolve { .. } => "resolve",
            Transfer { .. } => "transfer",
            ReturnToBot { .. } => "return_to_bot",
            SetCustomerLanguage { .. } => "set_customer_language",
            SetCustomerTier { .. } => "set_customer_tier",
            AttachMedia { .. } => "attach_media",
            SlaDue { .. } => "sla_due",
            RecordCsat { .. } => "record_csat",
            RecordCsatComment { .. } => "record_csat_comment",
        }
    }
}
