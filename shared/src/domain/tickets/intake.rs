//! Intake and what the customer sends: a message opens the ticket or joins it
//! (and moves its clocks), files are attached, and the customer's profile
//! (language, tier) follows what the bot and agents learn.

use super::{DecideError, Decision, Effect, Loaded, Rules, change};
use crate::domain::commands::{AttachMedia, RecordInbound, SetCustomerLanguage, SetCustomerTier};
use crate::domain::outbound::Author;
use crate::domain::reports::Counters;
use crate::domain::ticket::{CustomerProfile, Direction, Ticket, TicketStatus, TimelineEntry};

/// A customer message: opens the ticket on `team` if it does not exist, keeps
/// the message on the timeline, and, while humans own the ticket, resumes its
/// clocks (a next response is owed once an agent has answered).
pub(super) fn record_inbound(loaded: &Loaded, c: &RecordInbound, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    let opened = Ticket::open(
        c.ticket_id.clone(),
        c.customer.clone(),
        c.phone_number_id.clone(),
        c.team.clone(),
        c.at_ms,
    );
    change(loaded, &c.ticket_id, Some(opened), |t, fx| {
        if loaded.ticket.is_none() {
            let counters = Counters {
                tickets: 1,
                ..Counters::default()
            };
            fx.fact(t, "opened".into(), c.at_ms, counters);
        }
        t.customer_wrote(c.at_ms, c.contact_name.clone());
        if t.status.human_owned() {
            let ctx = rules.sla_context(t);
            let assigned = t.status == TicketStatus::Assigned;
            if let Some(sla) = &mut t.sla {
                sla.customer_wrote(&ctx, c.at_ms, assigned);
            }
        }
        fx.timeline(TimelineEntry {
            id: c.wamid.clone(),
            at_ms: c.at_ms,
            direction: Direction::Inbound,
            author: Author::Customer,
            kind: c.message_type.clone(),
            summary: c.summary.clone(),
            message: Some(c.message.clone()),
            delivery: None,
            delivery_error: None,
        });
    })
}

/// The customer's language, on their profile and on the ticket (when it exists).
pub(super) fn set_language(loaded: &Loaded, c: &SetCustomerLanguage) -> Result<Decision, DecideError> {
    let mut effects = Vec::new();
    let mut profile = profile_of(loaded, c.customer.clone(), c.at_ms);
    if profile.language.as_deref() != Some(c.language.as_str()) {
        profile.language = Some(c.language.clone());
        profile.updated_at_ms = profile.updated_at_ms.max(c.at_ms);
        effects.push(Effect::SaveProfile(profile));
    }
    let mut decision = match (&c.ticket_id, &loaded.ticket) {
        (Some(id), Some(_)) => change(loaded, id, None, |t, _| {
            t.context.language = Some(c.language.clone());
        })?,
        _ => Decision::nothing(),
    };
    effects.append(&mut decision.effects);
    decision.effects = effects;
    Ok(decision)
}

/// The customer's tier (VIP or standard), set by an agent.
pub(super) fn set_tier(loaded: &Loaded, c: &SetCustomerTier) -> Decision {
    let mut profile = profile_of(loaded, c.customer.clone(), c.at_ms);
    if profile.tier == c.tier {
        return Decision::nothing();
    }
    profile.tier = c.tier;
    profile.updated_at_ms = profile.updated_at_ms.max(c.at_ms);
    Decision::effects(vec![Effect::SaveProfile(profile)])
}

/// A file the media function checked, stored and analysed (or refused).
pub(super) fn attach_media(c: &AttachMedia) -> Decision {
    let attachment = c.attachment.as_ref();
    let entry = super::effects::event_entry(
        format!("media.{}", attachment.wamid),
        attachment.at_ms,
        Author::System,
        "attachment",
        attachment.summary(),
    );
    Decision::effects(vec![
        Effect::SaveAttachment {
            ticket: c.ticket_id.clone(),
            attachment: c.attachment.clone(),
        },
        Effect::Append {
            ticket: c.ticket_id.clone(),
            entry,
        },
    ])
}

fn profile_of(loaded: &Loaded, customer: crate::domain::ids::CustomerId, at_ms: i64) -> CustomerProfile {
    loaded
        .profile
        .clone()
        .unwrap_or_else(|| CustomerProfile::new(customer, at_ms))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Effect, decide};
    use crate::domain::commands::TicketCommand;
    use crate::domain::ticket::{CustomerTier, Direction, TicketStatus};

    #[test]
    fn a_first_message_opens_the_ticket_at_tier_one_counts_it_and_keeps_the_message() {
        let d = decide(&loaded(None), &inbound("wamid.1", 1_000), &rules()).unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!((t.status, t.tier, t.team.as_str()), (TicketStatus::Bot, 1, "support"));
        assert_eq!(t.last_customer_message_at_ms, Some(1_000));
        assert_eq!(t.contact_name.as_deref(), Some("Ana"));
        assert_eq!(facts(&d), ["TK-1:opened"]);
        let entries: Vec<_> = d.entries().collect();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].id.as_str(), entries[0].direction),
            ("wamid.1", Direction::Inbound)
        );
        assert!(!d.effects.iter().any(|e| matches!(e, Effect::SyncDeadlines { .. })));
    }

    #[test]
    fn a_redelivered_message_changes_nothing_but_completes_its_entry() {
        let first = decide(&loaded(None), &inbound("wamid.1", 1_000), &rules()).unwrap();
        let stored = saved(first.ticket.unwrap());

        let again = decide(&loaded(Some(stored)), &inbound("wamid.1", 1_000), &rules()).unwrap();

        assert_eq!(again.ticket, None);
        assert_eq!(again.effects.len(), 1);
        assert!(matches!(&again.effects[0], Effect::Append { entry, .. } if entry.id == "wamid.1"));
    }

    #[test]
    fn a_customer_message_on_an_answered_ticket_starts_the_next_response_clock_and_moves_the_index() {
        let t = answered_ticket(10_000);

        let d = decide(&loaded(Some(t)), &inbound("wamid.2", 20_000), &rules()).unwrap();

        let t = d.ticket.unwrap();
        let sla = t.sla.unwrap();
        assert!(sla.clock(crate::domain::sla::Metric::NextResponse).is_some());
        assert!(
            d.effects.iter().any(
                |e| matches!(e, Effect::SyncDeadlines { previous: Some(_), deadlines, .. } if !deadlines.is_empty())
            )
        );
    }

    #[test]
    fn a_new_language_goes_on_the_profile_and_the_ticket() {
        let command = TicketCommand::SetCustomerLanguage(crate::domain::commands::SetCustomerLanguage {
            customer: customer(),
            ticket_id: Some(ticket_id()),
            language: "fr".into(),
            at_ms: 5_000,
            cause: "wamid.5".into(),
        });

        let d = decide(&loaded(Some(ticket())), &command, &rules()).unwrap();

        assert!(matches!(&d.effects[0], Effect::SaveProfile(p) if p.language.as_deref() == Some("fr")));
        assert_eq!(d.ticket.unwrap().context.language.as_deref(), Some("fr"));
    }

    #[test]
    fn a_language_for_a_ticket_not_stored_yet_goes_on_the_profile_only() {
        let command = TicketCommand::SetCustomerLanguage(crate::domain::commands::SetCustomerLanguage {
            customer: customer(),
            ticket_id: Some(ticket_id()),
            language: "fr".into(),
            at_ms: 5_000,
            cause: "wamid.5".into(),
        });

        let d = decide(&loaded(None), &command, &rules()).unwrap();

        assert_eq!(d.ticket, None);
        assert!(matches!(&d.effects[..], [Effect::SaveProfile(_)]));
    }

    #[test]
    fn a_tier_is_saved_once_and_the_same_tier_again_changes_nothing() {
        let command = TicketCommand::SetCustomerTier(crate::domain::commands::SetCustomerTier {
            customer: customer(),
            tier: CustomerTier::Vip,
            by: "lena".into(),
            at_ms: 5_000,
            request_id: "r1".into(),
        });

        let d = decide(&loaded(None), &command, &rules()).unwrap();
        let Effect::SaveProfile(profile) = &d.effects[0] else {
            panic!("{:?}", d.effects)
        };
        assert_eq!(profile.tier, CustomerTier::Vip);

        let mut with_profile = loaded(None);
        with_profile.profile = Some(profile.clone());
        assert!(decide(&with_profile, &command, &rules()).unwrap().effects.is_empty());
    }

    #[test]
    fn an_attachment_is_saved_and_shown_on_the_timeline() {
        let command = TicketCommand::AttachMedia(crate::domain::commands::AttachMedia {
            ticket_id: ticket_id(),
            customer: customer(),
            attachment: Box::new(attachment("wamid.IMG")),
        });

        let d = decide(&loaded(None), &command, &rules()).unwrap();

        assert_eq!(d.ticket, None);
        assert!(matches!(&d.effects[0], Effect::SaveAttachment { attachment, .. } if attachment.wamid == "wamid.IMG"));
        assert!(
            matches!(&d.effects[1], Effect::Append { entry, .. } if entry.id == "media.wamid.IMG" && entry.kind == "attachment")
        );
    }
}
