//! The ticket core as a pure decider: from what was loaded (the ticket as
//! stored, or none; the customer's profile; an outbound message's link), one
//! command of `tickets.fifo` and the desk's rules, [`decide`] returns the
//! ticket to save and the effects to carry out — timeline entries, messages to
//! the customer, events, deadline index changes, KPI facts, metrics. The
//! `tickets` function only loads, decides, carries out and saves; every rule
//! lives here, one file per group of commands, and is tested in milliseconds.
//!
//! The ticket model itself is [`crate::domain::ticket`]. Commands carry the
//! time of what happened (`at_ms`), so deciding the same command twice gives
//! the same decision: what makes a redelivered command safe.

mod agent;
mod csat;
mod delivery;
mod effects;
mod escalation;
mod intake;
mod sla;
mod workspace;

pub use workspace::{MAX_NOTE_CHARS, MAX_TAG_CHARS, MAX_TAGS};

use crate::domain::attachment::MediaAttachment;
use crate::domain::commands::TicketCommand;
use crate::domain::desk::Desk;
use crate::domain::events::DomainEvent;
use crate::domain::i18n::{Catalog, Lang};
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::outbound::OutboundRequest;
use crate::domain::reports::ReportFact;
use crate::domain::sla::{Deadline, SlaContext, TicketSla};
use crate::domain::ticket::{CustomerProfile, DeliveryUpdate, OutboundLink, Ticket, TicketStatus, TimelineEntry};
use effects::Effects;

/// WhatsApp's customer service window: free-form messages reach the customer
/// only within 24 hours of their last message; templates otherwise.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// The desk's rules a decision follows: teams, calendars, SLA policies, and the
/// texts the customer is told.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub desk: &'a Desk,
    pub catalog: &'a Catalog,
    /// Days a resolved ticket is kept before DynamoDB's TTL removes it.
    pub retention_days: u32,
}

/// How long resolved tickets are kept unless the deployment says otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

impl Rules<'_> {
    fn sla_context(&self, t: &Ticket) -> SlaContext<'_> {
        self.desk.sla_context(&t.team, t.priority, t.customer_tier)
    }

    /// The customer's language on this ticket, else the desk's default.
    fn language(&self, t: &Ticket) -> Lang {
        t.context
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(self.desk.config.desk.default_language)
    }
}

/// What the `tickets` function reads before deciding a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// The ticket the command is about.
    pub ticket: Option<TicketId>,
    pub profile: Option<CustomerId>,
    /// The ticket entry an outbound wamid belongs to.
    pub outbound_link: Option<String>,
    /// A status that arrived before its message was recorded.
    pub parked_status: Option<String>,
    /// One entry of the ticket's timeline (the message a withdrawal names).
    pub entry: Option<(TicketId, String)>,
}

/// What was read for [`Needs`]: `None` where nothing is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub ticket: Option<Ticket>,
    pub profile: Option<CustomerProfile>,
    /// Where an outbound wamid's entry is, and its ticket's team then.
    pub outbound_link: Option<OutboundLink>,
    pub parked_status: Option<DeliveryUpdate>,
    pub entry: Option<TimelineEntry>,
}

/// What to read before deciding `command`.
pub fn needs(command: &TicketCommand) -> Needs {
    use TicketCommand::*;
    let ticket = |id: &TicketId| Needs {
        ticket: Some(id.clone()),
        ..Needs::default()
    };
    match command {
        RecordInbound(c) if c.message_type == "revoke" => Needs {
            entry: c
                .message
                .pointer("/revoke/original_message_id")
                .and_then(serde_json::Value::as_str)
                .map(|original| (c.ticket_id.clone(), original.to_owned())),
            ..ticket(&c.ticket_id)
        },
        RecordInbound(c) if intake::consent_keyword(c).is_some() => Needs {
            profile: Some(c.customer.clone()),
            ..ticket(&c.ticket_id)
        },
        RecordInbound(c) => ticket(&c.ticket_id),
        RecordEcho(c) => ticket(&c.ticket_id),
        SetConsent(c) => Needs {
            profile: Some(c.customer.clone()),
            ..Needs::default()
        },
        OpenProactive(c) => Needs {
            profile: Some(c.customer.clone()),
            ..ticket(&c.ticket_id)
        },
        Escalate(c) => Needs {
            profile: Some(c.customer.clone()),
            ..ticket(&c.ticket_id)
        },
        Transfer(c) => ticket(&c.ticket_id),
        ReturnToBot(c) => ticket(&c.ticket_id),
        AgentReplied(c) => ticket(&c.ticket_id),
        Resolve(c) => ticket(&c.ticket_id),
        SlaDue(c) => ticket(&c.ticket_id),
        RecordCsat(c) => ticket(&c.ticket_id),
        RecordCsatComment(c) => ticket(&c.ticket_id),
        AgentAction(c) => ticket(&c.ticket_id),
        SetCustomerLanguage(c) => Needs {
            ticket: c.ticket_id.clone(),
            profile: Some(c.customer.clone()),
            ..Needs::default()
        },
        SetCustomerTier(c) => Needs {
            profile: Some(c.customer.clone()),
            ..Needs::default()
        },
        RecordOutbound(c) => Needs {
            parked_status: Some(c.wamid.clone()),
            // Recorded already (a redelivery): counted once.
            entry: Some((c.ticket_id.clone(), c.wamid.clone())),
            ..ticket(&c.ticket_id)
        },
        RecordStatus(c) => Needs {
            outbound_link: Some(c.wamid.clone()),
            ..Needs::default()
        },
        // An erasure reads every ticket of the customer: the function does.
        RecordSendFailure(_) | AttachMedia(_) | EraseCustomer(_) => Needs::default(),
    }
}

/// One thing to carry out besides saving the ticket. Each is idempotent by its
/// own key, so a command retried after a failed save repeats none twice.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Publish(DomainEvent),
    /// A message to the customer, through `outbound.fifo`.
    Send(OutboundRequest),
    /// A KPI fact, counted once by its id.
    Count(ReportFact),
    /// Makes the deadline index hold exactly `deadlines` for the ticket; with
    /// `previous` (what it held) only the differences are written.
    SyncDeadlines {
        ticket: TicketId,
        customer: CustomerId,
        deadlines: Vec<Deadline>,
        previous: Option<Vec<Deadline>>,
    },
    /// A timeline entry. With a ticket to save it is written in the same
    /// transaction, so nobody reads an entry whose ticket change is not saved;
    /// alone, it is added unless it exists.
    Append {
        ticket: TicketId,
        entry: TimelineEntry,
    },
    SaveProfile(CustomerProfile),
    SaveAttachment {
        ticket: TicketId,
        attachment: Box<MediaAttachment>,
    },
    /// Replaces a timeline entry (a message the customer withdrew).
    ReplaceEntry {
        ticket: TicketId,
        entry: TimelineEntry,
    },
    /// Remembers which ticket entry an outbound wamid belongs to.
    LinkOutbound {
        wamid: String,
        link: OutboundLink,
    },
    /// Moves an outbound entry's delivery state forward (never back).
    AdvanceDelivery {
        ticket: TicketId,
        at_ms: i64,
        wamid: String,
        update: DeliveryUpdate,
    },
    /// Keeps a status whose message is not recorded yet (forward only).
    ParkStatus {
        wamid: String,
        update: DeliveryUpdate,
    },
    /// CloudWatch figures, emitted once the ticket is saved.
    Measure(Measure),
    /// Every stored item of the ticket is kept until then (DynamoDB's TTL),
    /// or for good (`None`, a reopened ticket).
    KeepItemsUntil {
        ticket: TicketId,
        until_ms: Option<i64>,
    },
}

/// Figures for CloudWatch: low-cardinality dimensions only.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub team: String,
    /// Emitted without dimensions too (the desk's totals), besides per team.
    pub desk_wide: bool,
    pub figures: Vec<Figure>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    /// A count; otherwise a plain number (minutes, a score).
    pub count: bool,
}

/// What a command comes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The ticket to save (new or changed), under the loaded ticket's version;
    /// `None` when the ticket stays as it is.
    pub ticket: Option<Ticket>,
    /// In the order they are carried out, before the ticket is saved (its
    /// timeline entries are written with it).
    pub effects: Vec<Effect>,
    /// Carried out once the ticket is saved: they need what the save wrote
    /// (a link to an entry saved with the ticket).
    pub after_save: Vec<Effect>,
}

impl Decision {
    fn nothing() -> Decision {
        Decision::effects(Vec::new())
    }

    fn effects(effects: Vec<Effect>) -> Decision {
        Decision {
            ticket: None,
            effects,
            after_save: Vec::new(),
        }
    }

    /// The timeline entries to write with the ticket.
    pub fn entries(&self) -> impl Iterator<Item = &TimelineEntry> {
        self.effects.iter().filter_map(|e| match e {
            Effect::Append { entry, .. } => Some(entry),
            _ => None,
        })
    }
}

/// A command that cannot be decided yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    /// The ticket is not stored (yet): the command is redelivered, and ends in
    /// the DLQ if the ticket never appears.
    #[error("ticket {0} does not exist yet")]
    UnknownTicket(TicketId),
}

/// Decides one command. Pure: the same inputs give the same decision.
pub fn decide(loaded: &Loaded, command: &TicketCommand, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    let mut decision = decide_command(loaded, command, rules)?;
    keep_for_retention(&mut decision, rules.retention_days);
    Ok(decision)
}

/// A ticket saved resolved is kept `days` from its resolution, then
/// forgotten with every item it has; one saved open again is kept for good.
/// When that changes, the ticket's items already stored follow once it is saved.
fn keep_for_retention(decision: &mut Decision, days: u32) {
    let Some(t) = decision.ticket.as_mut() else {
        return;
    };
    let wanted = match (t.status, t.resolved_at_ms) {
        (TicketStatus::Resolved, Some(at_ms)) => Some(at_ms + i64::from(days) * 24 * 60 * 60 * 1000),
        (TicketStatus::Resolved, None) => Some(t.updated_at_ms + i64::from(days) * 24 * 60 * 60 * 1000),
        _ => None,
    };
    if t.keep_until_ms != wanted {
        t.keep_until_ms = wanted;
        decision.after_save.push(Effect::KeepItemsUntil {
            ticket: t.id.clone(),
            until_ms: wanted,
        });
    }
}

fn decide_command(loaded: &Loaded, command: &TicketCommand, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    use TicketCommand::*;
    match command {
        RecordInbound(c) => intake::record_inbound(loaded, c, rules),
        SetCustomerLanguage(c) => intake::set_language(loaded, c),
        SetCustomerTier(c) => Ok(intake::set_tier(loaded, c)),
        AttachMedia(c) => Ok(intake::attach_media(c)),
        Escalate(c) => escalation::escalate(loaded, c, rules),
        Transfer(c) => escalation::transfer(loaded, c, rules),
        ReturnToBot(c) => escalation::return_to_bot(loaded, c),
        AgentReplied(c) => agent::replied(loaded, c, rules),
        Resolve(c) => agent::resolve(loaded, c, rules),
        SlaDue(c) => sla::due(loaded, c, rules),
        RecordCsat(c) => csat::score(loaded, c),
        RecordCsatComment(c) => csat::comment(loaded, c),
        RecordOutbound(c) => delivery::accepted(loaded, c),
        RecordEcho(c) => intake::record_echo(loaded, c),
        AgentAction(c) => workspace::act(loaded, c, rules),
        SetConsent(c) => Ok(intake::set_consent(loaded, c)),
        OpenProactive(c) => workspace::open_proactive(loaded, c),
        // Not one ticket's decision: the function applies
        // `privacy::erase_ticket` to each of the customer's tickets.
        EraseCustomer(_) => Ok(Decision::nothing()),
        RecordSendFailure(c) => Ok(delivery::refused(c)),
        RecordStatus(c) => Ok(delivery::status(loaded, c)),
    }
}

/// Changes the loaded ticket (or opens `open` when none is stored) with
/// `change`, then turns what changed into a decision: the ticket to save, the
/// effects `change` asked for, and the deadline index brought in step with the
/// ticket's clocks. A change that leaves the ticket as it was keeps only its
/// timeline entries (a redelivered command completes what it wrote).
fn change(
    loaded: &Loaded,
    id: &TicketId,
    open: Option<Ticket>,
    change: impl FnOnce(&mut Ticket, &mut Effects),
) -> Result<Decision, DecideError> {
    let (before, created) = match (&loaded.ticket, open) {
        (Some(t), _) => (t.clone(), false),
        (None, Some(t)) => (t, true),
        (None, None) => return Err(DecideError::UnknownTicket(id.clone())),
    };
    let mut after = before.clone();
    let mut fx = Effects::default();
    change(&mut after, &mut fx);
    if !created && after == before {
        return Ok(Decision::effects(fx.into_entries(&after)));
    }
    let held = before.sla.as_ref().map(TicketSla::deadlines).unwrap_or_default();
    let wanted = after.sla.as_ref().map(TicketSla::deadlines).unwrap_or_default();
    let deadlines = match (created, held == wanted) {
        // A new ticket writes its deadlines whole (if it has any).
        (true, _) if !wanted.is_empty() => Some((wanted, None)),
        (true, _) | (false, true) => None,
        (false, false) => Some((wanted, Some(held))),
    };
    if let Some((deadlines, previous)) = deadlines {
        fx.sync_deadlines(&after, deadlines, previous);
    }
    Ok(Decision {
        effects: fx.into_effects(&after),
        ticket: Some(after),
        after_save: Vec::new(),
    })
}

/// Whether free-form messages may still reach the customer at `at_ms`.
fn window_open(t: &Ticket, at_ms: i64) -> bool {
    t.window_open(at_ms)
}

#[cfg(test)]
pub(crate) mod test_support;
