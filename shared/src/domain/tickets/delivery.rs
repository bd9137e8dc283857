//! Delivery of what the desk sends: the Graph API accepted a message (it joins
//! the timeline under its wamid), refused it for good (recorded with a reason
//! an agent can act on), and status webhooks move its delivery state forward
//! only, even when they overtake the message they are about.

use super::{Decision, Effect, Loaded};
use crate::domain::commands::{RecordOutbound, RecordSendFailure, RecordStatus};
use crate::domain::outbound::{Author, OutboundBody};
use crate::domain::ticket::{DeliveryState, Direction, TimelineEntry};

/// The Graph API accepted a message: its entry, the wamid's link to it, and a
/// status that arrived first applied now.
pub(super) fn accepted(loaded: &Loaded, c: &RecordOutbound) -> Decision {
    let entry = outbound_entry(
        c.wamid.clone(),
        c.at_ms,
        &c.author,
        &c.body,
        DeliveryState::Accepted,
        None,
    );
    let mut effects = vec![
        Effect::Append {
            ticket: c.ticket_id.clone(),
            entry,
        },
        Effect::LinkOutbound {
            wamid: c.wamid.clone(),
            ticket: c.ticket_id.clone(),
            at_ms: c.at_ms,
        },
    ];
    if let Some((state, error)) = &loaded.parked_status {
        effects.push(Effect::AdvanceDelivery {
            ticket: c.ticket_id.clone(),
            at_ms: c.at_ms,
            wamid: c.wamid.clone(),
            state: *state,
            error: error.clone(),
        });
    }
    Decision::effects(effects)
}

/// The Graph API refused a message for good: a failed entry with the reason.
pub(super) fn refused(c: &RecordSendFailure) -> Decision {
    let error = match c.code {
        Some(code) => format!("{} (code {code})", c.reason),
        None => c.reason.clone(),
    };
    let entry = outbound_entry(
        format!("failed.{}", c.idempotency_key),
        c.at_ms,
        &c.author,
        &c.body,
        DeliveryState::Failed,
        Some(error),
    );
    Decision::effects(vec![Effect::Append {
        ticket: c.ticket_id.clone(),
        entry,
    }])
}

/// A status webhook: applied to the message's entry, or kept until the
/// message is recorded. A status that is not a delivery state is ignored.
pub(super) fn status(loaded: &Loaded, c: &RecordStatus) -> Decision {
    let Some(state) = DeliveryState::parse(&c.status) else {
        return Decision::nothing();
    };
    let error = c.errors.first().map(|e| {
        let code = e.get("code").map(|c| c.to_string()).unwrap_or_default();
        let title = e.get("title").and_then(|t| t.as_str()).unwrap_or("delivery failed");
        format!("{title} (code {code})")
    });
    let effect = match &loaded.outbound_link {
        Some((ticket, at_ms)) => Effect::AdvanceDelivery {
            ticket: ticket.clone(),
            at_ms: *at_ms,
            wamid: c.wamid.clone(),
            state,
            error,
        },
        None => Effect::ParkStatus {
            wamid: c.wamid.clone(),
            state,
            error,
        },
    };
    Decision::effects(vec![effect])
}

fn outbound_entry(
    id: String,
    at_ms: i64,
    author: &Author,
    body: &OutboundBody,
    state: DeliveryState,
    error: Option<String>,
) -> TimelineEntry {
    let kind = match body {
        OutboundBody::Text { .. } => "text",
        OutboundBody::Buttons { .. } | OutboundBody::List { .. } => "interactive",
        OutboundBody::Template { .. } => "template",
    };
    TimelineEntry {
        id,
        at_ms,
        direction: Direction::Outbound,
        author: author.clone(),
        kind: kind.to_owned(),
        summary: body.summary(),
        message: serde_json::to_value(body).ok(),
        delivery: Some(state),
        delivery_error: error,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Effect, Loaded, decide};
    use crate::domain::commands::{RecordOutbound, RecordSendFailure, RecordStatus, TicketCommand};
    use crate::domain::outbound::{Author, OutboundBody};
    use crate::domain::ticket::DeliveryState;
    use serde_json::json;

    fn accepted() -> TicketCommand {
        TicketCommand::RecordOutbound(RecordOutbound {
            ticket_id: ticket_id(),
            customer: customer(),
            idempotency_key: "k1".into(),
            wamid: "wamid.OUT".into(),
            at_ms: 5_000,
            author: Author::Bot,
            body: OutboundBody::text("hello"),
        })
    }

    fn status(status: &str, errors: Vec<serde_json::Value>) -> TicketCommand {
        TicketCommand::RecordStatus(RecordStatus {
            wamid: "wamid.OUT".into(),
            status: status.into(),
            at_ms: 6_000,
            recipient: Some(customer()),
            errors,
        })
    }

    #[test]
    fn an_accepted_message_joins_the_timeline_and_its_wamid_is_linked() {
        let d = decide(&Loaded::default(), &accepted(), &rules()).unwrap();

        assert_eq!(d.ticket, None);
        assert!(matches!(&d.effects[0], Effect::Append { entry, .. }
            if entry.id == "wamid.OUT" && entry.delivery == Some(DeliveryState::Accepted) && entry.kind == "text"));
        assert!(matches!(&d.effects[1], Effect::LinkOutbound { wamid, at_ms: 5_000, .. } if wamid == "wamid.OUT"));
        assert_eq!(d.effects.len(), 2);
    }

    #[test]
    fn a_status_that_overtook_its_message_is_applied_when_the_message_is_recorded() {
        let loaded = Loaded {
            parked_status: Some((DeliveryState::Delivered, None)),
            ..Loaded::default()
        };

        let d = decide(&loaded, &accepted(), &rules()).unwrap();

        assert!(matches!(
            &d.effects[2],
            Effect::AdvanceDelivery {
                state: DeliveryState::Delivered,
                at_ms: 5_000,
                ..
            }
        ));
    }

    #[test]
    fn a_status_moves_the_linked_entry_or_waits_for_it() {
        let linked = Loaded {
            outbound_link: Some((ticket_id(), 5_000)),
            ..Loaded::default()
        };
        let d = decide(&linked, &status("read", vec![]), &rules()).unwrap();
        assert!(matches!(
            &d.effects[..],
            [Effect::AdvanceDelivery {
                state: DeliveryState::Read,
                at_ms: 5_000,
                error: None,
                ..
            }]
        ));

        let failed = json!({"code": 131026, "title": "Message undeliverable"});
        let d = decide(&Loaded::default(), &status("failed", vec![failed]), &rules()).unwrap();
        assert!(
            matches!(&d.effects[..], [Effect::ParkStatus { state: DeliveryState::Failed, error: Some(e), .. }]
            if e == "Message undeliverable (code 131026)")
        );
    }

    #[test]
    fn a_status_that_is_not_a_delivery_state_is_ignored() {
        let d = decide(&Loaded::default(), &status("deleted", vec![]), &rules()).unwrap();
        assert!(d.effects.is_empty());
    }

    #[test]
    fn a_refused_message_is_recorded_as_failed_with_its_reason_and_code() {
        let command = TicketCommand::RecordSendFailure(RecordSendFailure {
            ticket_id: ticket_id(),
            customer: customer(),
            idempotency_key: "k2".into(),
            at_ms: 7_000,
            author: Author::Agent("ana".into()),
            body: OutboundBody::text("hello"),
            code: Some(131047),
            reason: "the 24-hour window is closed".into(),
        });

        let d = decide(&Loaded::default(), &command, &rules()).unwrap();

        assert!(matches!(&d.effects[..], [Effect::Append { entry, .. }]
            if entry.id == "failed.k2" && entry.delivery == Some(DeliveryState::Failed)
                && entry.delivery_error.as_deref() == Some("the 24-hour window is closed (code 131047)")));
    }
}
