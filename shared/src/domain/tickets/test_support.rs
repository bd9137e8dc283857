//! What the decider's tests share: the shipped desk with every team open
//! around the clock, a customer and a ticket, commands and stored tickets at
//! the usual stages, and readers of a decision's effects.

use super::{Decision, Effect, Loaded, Rules, decide};
use crate::domain::attachment::MediaAttachment;
use crate::domain::commands::{AgentReplied, Escalate, RecordInbound, TicketCommand};
use crate::domain::desk::{Desk, EMBEDDED_CONFIG};
use crate::domain::i18n::Catalog;
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::outbound::OutboundRequest;
use crate::domain::reports::Counters;
use crate::domain::ticket::{Priority, Ticket};
use std::sync::LazyLock;

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::builtin);

/// The shipped configuration, with every calendar removed (always open).
static DESK: LazyLock<Desk> = LazyLock::new(|| {
    let mut config: toml::Table = toml::from_str(EMBEDDED_CONFIG).expect("the shipped desk parses");
    for team in config["teams"].as_array_mut().expect("teams") {
        team.as_table_mut().expect("a team").remove("calendar");
    }
    Desk::from_toml(&toml::to_string(&config).expect("serialises"), &CATALOG).expect("a valid desk")
});

pub fn rules() -> Rules<'static> {
    Rules {
        retention_days: super::DEFAULT_RETENTION_DAYS,
        desk: &DESK,
        catalog: &CATALOG,
    }
}

pub fn ticket_id() -> TicketId {
    TicketId::parse("TK-1").unwrap()
}

pub fn customer() -> CustomerId {
    CustomerId::parse("15551230001").unwrap()
}

pub fn loaded(ticket: Option<Ticket>) -> Loaded {
    Loaded {
        ticket,
        ..Loaded::default()
    }
}

/// As the store gives it back after a save.
pub fn saved(mut t: Ticket) -> Ticket {
    t.version += 1;
    t
}

pub fn inbound(wamid: &str, at_ms: i64) -> TicketCommand {
    TicketCommand::RecordInbound(RecordInbound {
        ticket_id: ticket_id(),
        customer: customer(),
        phone_number_id: "100000000000001".into(),
        team: "support".into(),
        contact_name: Some("Ana".into()),
        wamid: wamid.into(),
        at_ms,
        message_type: "text".into(),
        summary: "hello".into(),
        message: serde_json::json!({"type": "text", "text": {"body": "hello"}}),
    })
}

/// A ticket the bot handles, opened by a message at 0.
pub fn ticket() -> Ticket {
    let d = decide(&loaded(None), &inbound("wamid.0", 0), &rules()).unwrap();
    saved(d.ticket.unwrap())
}

/// The bot escalates to `team`, with priority high and what it learnt.
pub fn escalate(team: &str, tier: u8, at_ms: i64) -> TicketCommand {
    TicketCommand::Escalate(Escalate {
        ticket_id: ticket_id(),
        customer: customer(),
        tier,
        team: team.into(),
        priority: Priority::High,
        trigger: "direct_request".into(),
        reason: "asked for an agent".into(),
        order_number: Some("AB-1234".into()),
        at_ms,
        cause: format!("wamid.{at_ms}"),
        triggers: Vec::new(),
        intent: Some("talk_to_agent".into()),
        category: Some("billing".into()),
        language: Some("en".into()),
        frustration: None,
        excerpt: Some("agent please".into()),
    })
}

/// Waiting in `team`'s queue since `at_ms`, its clocks running.
pub fn queued_ticket_on(team: &str, at_ms: i64) -> Ticket {
    let d = decide(&loaded(Some(ticket())), &escalate(team, 2, at_ms), &rules()).unwrap();
    saved(d.ticket.unwrap())
}

/// Waiting in the support queue since `at_ms` (the standard policy: 30
/// minutes to answer, 80% at 24).
pub fn queued_ticket(at_ms: i64) -> Ticket {
    queued_ticket_on("support", at_ms)
}

/// Queued at `at_ms`, then answered by ana five minutes later.
pub fn answered_ticket(at_ms: i64) -> Ticket {
    let reply = TicketCommand::AgentReplied(AgentReplied {
        ticket_id: ticket_id(),
        customer: customer(),
        agent: "ana".into(),
        at_ms: at_ms + 5 * 60_000,
        idempotency_key: "k".into(),
        body: None,
        expected_version: None,
    });
    let d = decide(&loaded(Some(queued_ticket(at_ms))), &reply, &rules()).unwrap();
    saved(d.ticket.unwrap())
}

/// Answered, then the customer wrote again ten minutes after `at_ms`: a next
/// response is owed, and ana's silence will cost her the ticket.
pub fn answered_then_customer_wrote(at_ms: i64) -> Ticket {
    let d = decide(
        &loaded(Some(answered_ticket(at_ms))),
        &inbound("wamid.again", at_ms + 10 * 60_000),
        &rules(),
    )
    .unwrap();
    saved(d.ticket.unwrap())
}

pub fn attachment(wamid: &str) -> MediaAttachment {
    serde_json::from_value(serde_json::json!({
        "wamid": wamid, "kind": "image", "at_ms": 1_000, "mime": "image/jpeg", "size": 2048,
        "sha256": "ab", "s3_key": "media/TK-1/x.jpg"
    }))
    .expect("an attachment")
}

/// The ids of the KPI facts, in order.
pub fn facts(d: &Decision) -> Vec<String> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Count(f) => Some(f.id.clone()),
            _ => None,
        })
        .collect()
}

/// The counters of the fact `id`.
pub fn counters(d: &Decision, id: &str) -> Counters {
    d.effects
        .iter()
        .find_map(|e| match e {
            Effect::Count(f) if f.id == id => Some(f.counters.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no fact {id} in {:?}", facts(d)))
}

/// The messages to the customer, in order.
pub fn sent(d: &Decision) -> Vec<OutboundRequest> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// The kinds of the timeline entries, in order.
pub fn entry_kinds(d: &Decision) -> Vec<String> {
    d.entries().map(|e| e.kind.clone()).collect()
}
