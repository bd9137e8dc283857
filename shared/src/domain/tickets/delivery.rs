//! Delivery of what the desk sends: the Graph API accepted a message (it joins
//! the timeline under its wamid and counts on its ticket), refused it for good
//! (recorded with a reason an agent can act on), and status webhooks move its
//! delivery state forward only, even when they overtake the message they are
//! about, and say what it cost (counted once, by pricing category).

use super::{DecideError, Decision, Effect, Figure, Loaded, Measure, change};
use crate::domain::commands::{RecordOutbound, RecordSendFailure, RecordStatus};
use crate::domain::outbound::{Author, OutboundBody};
use crate::domain::privacy::mask_cards_in_entry;
use crate::domain::reports::{Counters, ReportFact, day_of};
use crate::domain::ticket::{
    DeliveryState, DeliveryUpdate, Direction, OutboundLink, Priority, TicketStatus, TimelineEntry,
};

/// The Graph API accepted a message: its entry, the wamid's link to it, the
/// ticket's count of messages sent (once), and a status that arrived first.
pub(super) fn accepted(loaded: &Loaded, c: &RecordOutbound) -> Result<Decision, DecideError> {
    let (team, priority) = loaded
        .ticket
        .as_ref()
        .map(|t| (t.team.clone(), t.priority))
        .unwrap_or((String::new(), Priority::Normal));
    let mut linked = vec![Effect::LinkOutbound {
        wamid: c.wamid.clone(),
        link: OutboundLink {
            ticket_id: c.ticket_id.clone(),
            at_ms: c.at_ms,
            team,
            priority,
        },
    }];
    if let Some(update) = &loaded.parked_status {
        linked.push(Effect::AdvanceDelivery {
            ticket: c.ticket_id.clone(),
            at_ms: c.at_ms,
            wamid: c.wamid.clone(),
            update: update.clone(),
        });
    }
    let entry = outbound_entry(
        c.wamid.clone(),
        c.at_ms,
        &c.author,
        &c.body,
        DeliveryState::Accepted,
        None,
    );
    if loaded.entry.is_some() || loaded.ticket.is_none() {
        // Recorded before (a redelivery: counted then), or no ticket to count
        // it on: the entry (if missing), then what points at it.
        let mut effects = vec![Effect::Append {
            ticket: c.ticket_id.clone(),
            entry,
        }];
        effects.extend(linked);
        return Ok(Decision::effects(effects));
    }
    // Saved with the ticket that counts it; the link needs the entry stored.
    let mut decision = change(loaded, &c.ticket_id, None, |t, fx| {
        t.messages_sent += 1;
        // A message after the resolution (the bot's "glad it helped", a
        // survey) still counts on the resolved ticket, on the day it was resolved.
        if let Some(resolved_at) = t.resolved_at_ms.filter(|_| t.status == TicketStatus::Resolved) {
            let counters = Counters::resolved_messages(t, 1);
            fx.fact(t, format!("resolved-message:{}", c.wamid), resolved_at, counters);
        }
        fx.timeline(entry);
    })?;
    decision.after_save = linked;
    Ok(decision)
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
/// message is recorded. A status that is not a delivery state is ignored. The
/// first status that says what the message cost counts it, once, on the team
/// its ticket had when it was sent.
pub(super) fn status(loaded: &Loaded, c: &RecordStatus) -> Decision {
    let Some(state) = DeliveryState::parse(&c.status) else {
        return Decision::nothing();
    };
    let error = c.errors.first().map(|e| {
        let code = e.get("code").map(|c| c.to_string()).unwrap_or_default();
        let title = e.get("title").and_then(|t| t.as_str()).unwrap_or("delivery failed");
        format!("{title} (code {code})")
    });
    let update = DeliveryUpdate {
        state,
        error,
        pricing: c.pricing.clone(),
    };
    let Some(link) = &loaded.outbound_link else {
        return Decision::effects(vec![Effect::ParkStatus {
            wamid: c.wamid.clone(),
            update,
        }]);
    };
    let mut effects = Vec::new();
    if let Some(pricing) = &c.pricing {
        let mut counters = Counters {
            messages_sent: 1,
            messages_billable: u64::from(pricing.billable()),
            ..Counters::default()
        };
        match pricing.category.as_str() {
            "service" => counters.messages_service = 1,
            "utility" => counters.messages_utility = 1,
            "marketing" => counters.messages_marketing = 1,
            "authentication" => counters.messages_authentication = 1,
            _ => counters.messages_other = 1,
        }
        let at_ms = link.at_ms;
        effects.push(Effect::Count(ReportFact {
            id: format!("{}:message:{}", link.ticket_id, c.wamid),
            day: day_of(at_ms),
            team: link.team.clone(),
            priority: link.priority,
            agent: None,
            counters,
        }));
    }
    // The metric once per message: on its `sent` status (the fact above counts once by its id).
    if let Some(pricing) = c.pricing.as_ref().filter(|_| state == DeliveryState::Sent) {
        effects.push(Effect::Measure(Measure {
            team: link.team.clone(),
            desk_wide: true,
            figures: vec![
                Figure {
                    name: "MessagesSent",
                    value: 1.0,
                    count: true,
                },
                Figure {
                    name: "MessagesBillable",
                    value: if pricing.billable() { 1.0 } else { 0.0 },
                    count: true,
                },
            ],
        }));
    }
    effects.push(Effect::AdvanceDelivery {
        ticket: link.ticket_id.clone(),
        at_ms: link.at_ms,
        wamid: c.wamid.clone(),
        update,
    });
    Decision::effects(effects)
}

fn outbound_entry(
    id: String,
    at_ms: i64,
    author: &Author,
    body: &OutboundBody,
    state: DeliveryState,
    error: Option<String>,
) -> TimelineEntry {
    let kind = match body.unquoted() {
        OutboundBody::Text { .. } => "text",
        OutboundBody::Reaction { .. } => "reaction",
        OutboundBody::Media { kind, .. } => kind.as_str(),
        OutboundBody::Buttons { .. } | OutboundBody::List { .. } | OutboundBody::RequestContactInfo { .. } => {
            "interactive"
        }
        OutboundBody::Template { .. } => "template",
        OutboundBody::MarkRead { .. } => "read",
        OutboundBody::Quote { .. } => unreachable!("unquoted"),
    };
    let mut entry = TimelineEntry {
        id,
        at_ms,
        direction: Direction::Outbound,
        author: author.clone(),
        kind: kind.to_owned(),
        summary: body.summary(),
        message: serde_json::to_value(body).ok(),
        delivery: Some(state),
        delivery_error: error,
        data: None,
        withdrawn: false,
        pricing: None,
    };
    // Some of these entries are appended without `Effects`: masked here.
    mask_cards_in_entry(&mut entry);
    entry
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Effect, Loaded, decide};
    use crate::domain::commands::{RecordOutbound, RecordSendFailure, RecordStatus, TicketCommand};
    use crate::domain::inbound::Pricing;
    use crate::domain::outbound::{Author, OutboundBody};
    use crate::domain::ticket::{DeliveryState, DeliveryUpdate, OutboundLink, Priority};
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

    fn status(status: &str, errors: Vec<serde_json::Value>, pricing: Option<Pricing>) -> TicketCommand {
        TicketCommand::RecordStatus(RecordStatus {
            wamid: "wamid.OUT".into(),
            status: status.into(),
            at_ms: 6_000,
            recipient: Some(customer()),
            errors,
            pricing,
        })
    }

    fn service() -> Pricing {
        Pricing {
            model: "PMP".into(),
            kind: "regular".into(),
            category: "service".into(),
        }
    }

    fn link() -> OutboundLink {
        OutboundLink {
            ticket_id: ticket_id(),
            at_ms: 5_000,
            team: "support".into(),
            priority: Priority::High,
        }
    }

    #[test]
    fn an_accepted_message_joins_the_timeline_with_its_ticket_counts_it_and_then_links_its_wamid() {
        let d = decide(&loaded(Some(ticket())), &accepted(), &rules()).unwrap();

        assert_eq!(d.ticket.as_ref().unwrap().messages_sent, 1);
        let entries: Vec<_> = d.entries().collect();
        assert!(matches!(&entries[..], [entry]
            if entry.id == "wamid.OUT" && entry.delivery == Some(DeliveryState::Accepted) && entry.kind == "text"));
        assert!(matches!(&d.after_save[..], [Effect::LinkOutbound { wamid, link }]
            if wamid == "wamid.OUT" && link.at_ms == 5_000 && link.team == "support"));
    }

    #[test]
    fn a_message_after_the_resolution_counts_on_the_resolved_ticket_on_the_day_it_was_resolved() {
        let mut resolved = ticket();
        resolved.resolve(Author::Bot, 4_000);

        let d = decide(&loaded(Some(resolved)), &accepted(), &rules()).unwrap();

        let counted = counters(&d, "TK-1:resolved-message:wamid.OUT");
        assert_eq!(
            (counted.resolved_bot_only_messages, counted.resolved_human_messages),
            (1, 0)
        );
        let day = d.effects.iter().find_map(|e| match e {
            Effect::Count(f) => Some(f.day.clone()),
            _ => None,
        });
        assert_eq!(day, Some(crate::domain::reports::day_of(4_000)));
    }

    #[test]
    fn a_redelivered_acceptance_is_counted_once() {
        let first = decide(&loaded(Some(ticket())), &accepted(), &rules()).unwrap();
        let entry = first.entries().next().cloned();
        let mut again = loaded(Some(saved(first.ticket.unwrap())));
        again.entry = entry;

        let d = decide(&again, &accepted(), &rules()).unwrap();

        assert_eq!(d.ticket, None, "not counted twice");
        assert!(matches!(
            &d.effects[..],
            [Effect::Append { .. }, Effect::LinkOutbound { .. }]
        ));
    }

    #[test]
    fn a_status_that_overtook_its_message_is_applied_once_the_message_is_saved() {
        let mut l = loaded(Some(ticket()));
        l.parked_status = Some(DeliveryUpdate::state(DeliveryState::Delivered));

        let d = decide(&l, &accepted(), &rules()).unwrap();

        assert!(
            matches!(&d.after_save[1], Effect::AdvanceDelivery { update, at_ms: 5_000, .. } if update.state == DeliveryState::Delivered)
        );
    }

    #[test]
    fn a_status_moves_the_linked_entry_or_waits_for_it() {
        let linked = Loaded {
            outbound_link: Some(link()),
            ..Loaded::default()
        };
        let d = decide(&linked, &status("read", vec![], None), &rules()).unwrap();
        assert!(
            matches!(&d.effects[..], [Effect::AdvanceDelivery { update, at_ms: 5_000, .. }]
            if update.state == DeliveryState::Read && update.error.is_none())
        );

        let failed = json!({"code": 131026, "title": "Message undeliverable"});
        let d = decide(&Loaded::default(), &status("failed", vec![failed], None), &rules()).unwrap();
        assert!(matches!(&d.effects[..], [Effect::ParkStatus { update, .. }]
            if update.state == DeliveryState::Failed && update.error.as_deref() == Some("Message undeliverable (code 131026)")));
    }

    #[test]
    fn what_a_message_cost_is_kept_on_its_entry_and_counted_once_on_its_team() {
        let linked = Loaded {
            outbound_link: Some(link()),
            ..Loaded::default()
        };

        let sent = decide(&linked, &status("sent", vec![], Some(service())), &rules()).unwrap();
        let delivered = decide(&linked, &status("delivered", vec![], Some(service())), &rules()).unwrap();

        let counted = counters(&sent, "TK-1:message:wamid.OUT");
        assert_eq!(
            (
                counted.messages_sent,
                counted.messages_billable,
                counted.messages_service
            ),
            (1, 1, 1)
        );
        assert_eq!(facts(&delivered), facts(&sent), "the same fact: counted once by its id");
        assert!(
            sent.effects
                .iter()
                .any(|e| matches!(e, Effect::Measure(m) if m.figures[0].name == "MessagesSent"))
        );
        assert!(
            !delivered.effects.iter().any(|e| matches!(e, Effect::Measure(_))),
            "one metric per message"
        );
        assert!(
            sent.effects
                .iter()
                .any(|e| matches!(e, Effect::AdvanceDelivery { update, .. } if update.pricing == Some(service())))
        );
    }

    #[test]
    fn a_status_that_is_not_a_delivery_state_is_ignored() {
        let d = decide(&Loaded::default(), &status("deleted", vec![], None), &rules()).unwrap();
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
