//! Intake and what the customer sends: a message opens the ticket or joins it
//! (and moves its clocks), an edit joins the timeline beside its original, a
//! withdrawn message loses its content, a Flow's answers are kept as data,
//! files are attached, what the business sent from the WhatsApp Business app
//! is kept (without touching the 24-hour window), and the customer's profile
//! (language, tier) follows what the bot and agents learn.

use super::effects::Effects;
use super::{DecideError, Decision, Effect, Loaded, Rules, change};
use crate::domain::commands::{
    AttachMedia, RecordEcho, RecordInbound, SetConsent, SetCustomerLanguage, SetCustomerTier,
};
use crate::domain::consent::{Consent, ConsentStatus, keyword};
use crate::domain::inbound::MessageContent;
use crate::domain::outbound::Author;
use crate::domain::privacy::mask_cards_in_entry;
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
        count_opening(loaded, t, fx, c.at_ms);
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
            data: data_of(&c.message_type, &c.message),
            withdrawn: false,
            pricing: None,
        });
    })
    .map(|mut decision| {
        // "STOP" or "START" alone records the customer's consent.
        if let Some(status) = consent_keyword(c) {
            let mut profile = profile_of(loaded, c.customer.clone(), c.at_ms);
            if profile.consent.as_ref().map(|k| k.status) != Some(status) {
                profile.consent = Some(Consent {
                    status,
                    at_ms: c.at_ms,
                    by: "customer".into(),
                    source: format!("the customer wrote {:?}", c.summary.trim()),
                });
                profile.updated_at_ms = profile.updated_at_ms.max(c.at_ms);
                decision.effects.push(Effect::SaveProfile(profile));
                decision.effects.push(Effect::Append {
                    ticket: c.ticket_id.clone(),
                    entry: super::effects::event_entry(
                        format!("{}.{}", status.as_str(), c.wamid),
                        c.at_ms,
                        Author::Customer,
                        status.as_str(),
                        match status {
                            ConsentStatus::OptedOut => "The customer opted out of messages the business starts".into(),
                            ConsentStatus::OptedIn => "The customer opted in to messages the business starts".into(),
                        },
                    ),
                });
            }
        }
        // A withdrawn message keeps its place on the timeline, not its content.
        if let Some(original) = loaded
            .entry
            .as_ref()
            .filter(|e| !e.withdrawn && e.direction == Direction::Inbound)
        {
            decision.effects.push(Effect::ReplaceEntry {
                ticket: c.ticket_id.clone(),
                entry: withdrawn(original),
            });
        }
        decision
    })
}

/// The consent a customer's text message states by a keyword alone.
pub(super) fn consent_keyword(c: &RecordInbound) -> Option<ConsentStatus> {
    match MessageContent::of(&c.message_type, &c.message) {
        MessageContent::Text(text) => keyword(&text),
        _ => None,
    }
}

/// An agent records the customer's opt-in or opt-out.
pub(super) fn set_consent(loaded: &Loaded, c: &SetConsent) -> Decision {
    let mut profile = profile_of(loaded, c.customer.clone(), c.at_ms);
    let consent = Consent {
        status: c.status,
        at_ms: c.at_ms,
        by: c.by.clone(),
        source: c.source.clone(),
    };
    if profile
        .consent
        .as_ref()
        .is_some_and(|k| k.status == c.status && k.source == c.source)
    {
        return Decision::nothing();
    }
    profile.consent = Some(consent);
    profile.updated_at_ms = profile.updated_at_ms.max(c.at_ms);
    Decision::effects(vec![Effect::SaveProfile(profile)])
}

/// Structured content agents read beside the summary: a Flow's answers, the
/// message an edit or a withdrawal refers to, a call permission's answer.
fn data_of(message_type: &str, message: &serde_json::Value) -> Option<serde_json::Value> {
    match MessageContent::of(message_type, message) {
        MessageContent::FlowAnswer { fields } => Some(serde_json::Value::Object(fields)),
        MessageContent::Edit { original, text } => {
            Some(serde_json::json!({"original_message_id": original, "text": text}))
        }
        MessageContent::Revoke { original } => Some(serde_json::json!({"original_message_id": original})),
        MessageContent::CallPermission { response, expires_at } => {
            Some(serde_json::json!({"response": response, "expires_at": expires_at}))
        }
        _ => None,
    }
}

/// The entry as it stays once the customer withdrew it: where and when, not what.
fn withdrawn(original: &TimelineEntry) -> TimelineEntry {
    let mut entry = TimelineEntry {
        summary: "[withdrawn by the customer]".into(),
        message: None,
        data: None,
        withdrawn: true,
        ..original.clone()
    };
    // Replaced without `Effects`: nothing kept from the original may show a card.
    mask_cards_in_entry(&mut entry);
    entry
}

/// A message the business sent from the WhatsApp Business app: on the
/// customer's ticket (opened when there is none), as the business's; the
/// customer's 24-hour window is neither opened nor extended.
pub(super) fn record_echo(loaded: &Loaded, c: &RecordEcho) -> Result<Decision, DecideError> {
    let opened = Ticket::open(
        c.ticket_id.clone(),
        c.customer.clone(),
        c.phone_number_id.clone(),
        c.team.clone(),
        c.at_ms,
    );
    change(loaded, &c.ticket_id, Some(opened), |t, fx| {
        count_opening(loaded, t, fx, c.at_ms);
        fx.timeline(TimelineEntry {
            id: c.wamid.clone(),
            at_ms: c.at_ms,
            direction: Direction::Outbound,
            author: Author::BusinessApp,
            kind: c.message_type.clone(),
            summary: c.summary.clone(),
            message: Some(c.message.clone()),
            delivery: None,
            delivery_error: None,
            data: None,
            withdrawn: false,
            pricing: None,
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
    let mut entry = super::effects::event_entry(
        format!("media.{}", attachment.wamid),
        attachment.at_ms,
        Author::System,
        "attachment",
        attachment.summary(),
    );
    // Appended without `Effects`: masked here (a caption may hold a card number).
    mask_cards_in_entry(&mut entry);
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

/// A ticket opened by this command (none was loaded) is counted once.
fn count_opening(loaded: &Loaded, t: &Ticket, fx: &mut Effects, at_ms: i64) {
    if loaded.ticket.is_none() {
        let counters = Counters {
            tickets: 1,
            ..Counters::default()
        };
        fx.fact(t, "opened".into(), at_ms, counters);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Effect, decide};
    use crate::domain::commands::TicketCommand;
    use crate::domain::ticket::{CustomerTier, Direction, TicketStatus};

    fn says(text: &str, wamid: &str, at_ms: i64) -> TicketCommand {
        let mut command = inbound(wamid, at_ms);
        if let TicketCommand::RecordInbound(c) = &mut command {
            c.summary = text.into();
            c.message = serde_json::json!({"type": "text", "text": {"body": text}});
        }
        command
    }

    fn saved_consent(d: &super::super::Decision) -> Option<crate::domain::consent::Consent> {
        d.effects.iter().find_map(|e| match e {
            Effect::SaveProfile(p) => p.consent.clone(),
            _ => None,
        })
    }

    #[test]
    fn stop_alone_records_the_customers_opt_out_on_their_profile_and_the_timeline() {
        use crate::domain::consent::ConsentStatus;
        let command = says(" Stop ", "wamid.stop", 5);
        assert!(super::super::needs(&command).profile.is_some(), "the profile is read");

        let d = decide(&loaded(Some(ticket())), &command, &rules()).unwrap();

        let consent = saved_consent(&d).expect("saved");
        assert_eq!(
            (consent.status, consent.by.as_str()),
            (ConsentStatus::OptedOut, "customer")
        );
        assert!(entry_kinds(&d).contains(&"opted_out".to_owned()));

        // Said again: nothing new. A sentence with the word in it is no keyword.
        let mut profile = crate::domain::ticket::CustomerProfile::new(customer(), 0);
        profile.consent = Some(consent);
        let again = super::super::Loaded {
            profile: Some(profile),
            ..loaded(Some(ticket()))
        };
        assert!(saved_consent(&decide(&again, &says("STOP", "wamid.stop2", 6), &rules()).unwrap()).is_none());
        let sentence = says("please stop calling me", "wamid.x", 7);
        assert!(super::super::needs(&sentence).profile.is_none());
        assert!(saved_consent(&decide(&loaded(Some(ticket())), &sentence, &rules()).unwrap()).is_none());
    }

    #[test]
    fn an_agent_records_an_opt_in_with_where_it_comes_from() {
        use crate::domain::commands::SetConsent;
        use crate::domain::consent::ConsentStatus;
        let command = TicketCommand::SetConsent(SetConsent {
            customer: customer(),
            status: ConsentStatus::OptedIn,
            by: "ana".into(),
            source: "signed form 2026-11-02".into(),
            at_ms: 9,
            request_id: "r".into(),
        });

        let d = decide(&loaded(None), &command, &rules()).unwrap();

        let consent = saved_consent(&d).expect("saved");
        assert_eq!(
            (
                consent.status,
                consent.by.as_str(),
                consent.source.as_str(),
                consent.at_ms
            ),
            (ConsentStatus::OptedIn, "ana", "signed form 2026-11-02", 9)
        );
    }

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

    fn inbound_of(wamid: &str, at_ms: i64, message: serde_json::Value) -> TicketCommand {
        let TicketCommand::RecordInbound(mut c) = inbound(wamid, at_ms) else {
            unreachable!("inbound builds a RecordInbound")
        };
        c.message_type = message["type"].as_str().unwrap_or_default().to_owned();
        c.message = message;
        TicketCommand::RecordInbound(c)
    }

    #[test]
    fn a_card_number_a_customer_sends_is_stored_masked_and_the_order_number_kept() {
        let text = "order 123456: pay with 4111 1111 1111 1111 please";
        let TicketCommand::RecordInbound(mut c) = inbound_of(
            "wamid.C",
            1_000,
            serde_json::json!({"type": "text", "text": {"body": text}}),
        ) else {
            unreachable!("inbound builds a RecordInbound")
        };
        c.summary = text.into();
        let command = TicketCommand::RecordInbound(c);
        let masked = "order 123456: pay with •••• 1111 please";

        // Opening the ticket, joining it, and a redelivery completing the entry.
        let opened = decide(&loaded(None), &command, &rules()).unwrap();
        let joined = decide(&loaded(Some(ticket())), &command, &rules()).unwrap();
        let redelivered = decide(&loaded(Some(saved(opened.ticket.clone().unwrap()))), &command, &rules()).unwrap();

        for d in [&opened, &joined, &redelivered] {
            let entries: Vec<_> = d.entries().collect();
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].summary, masked);
            assert_eq!(entries[0].message.as_ref().unwrap()["text"]["body"], masked);
            assert!(!format!("{:?}", d.effects).contains("4111 1111"));
        }
    }

    #[test]
    fn a_flows_answers_are_kept_as_data_beside_the_message() {
        let answer = serde_json::json!({"type": "interactive", "interactive": {"type": "nfm_reply",
            "nfm_reply": {"name": "flow", "response_json": "{\"order\": \"AB-1234\", \"reason\": \"damaged\"}"}}});

        let d = decide(&loaded(Some(ticket())), &inbound_of("wamid.F", 1_000, answer), &rules()).unwrap();

        let entry = d.entries().next().unwrap();
        assert_eq!(
            entry.data,
            Some(serde_json::json!({"order": "AB-1234", "reason": "damaged"}))
        );
    }

    #[test]
    fn an_edit_joins_the_timeline_and_names_its_original_which_stays() {
        let edit = serde_json::json!({"type": "edit", "edit": {"original_message_id": "wamid.0",
            "message": {"type": "text", "text": {"body": "my order AB-1234"}}}});

        let d = decide(&loaded(Some(ticket())), &inbound_of("wamid.E", 1_000, edit), &rules()).unwrap();

        assert_eq!(entry_kinds(&d), ["edit"]);
        assert_eq!(
            d.entries().next().unwrap().data.as_ref().unwrap()["original_message_id"],
            "wamid.0"
        );
        assert!(!d.effects.iter().any(|e| matches!(e, Effect::ReplaceEntry { .. })));
    }

    #[test]
    fn a_withdrawn_message_keeps_its_place_but_loses_its_content() {
        let original = decide(&loaded(None), &inbound("wamid.0", 0), &rules())
            .unwrap()
            .entries()
            .next()
            .cloned()
            .unwrap();
        let mut l = loaded(Some(ticket()));
        l.entry = Some(original);
        let revoke = serde_json::json!({"type": "revoke", "revoke": {"original_message_id": "wamid.0"}});

        let d = decide(&l, &inbound_of("wamid.R", 2_000, revoke), &rules()).unwrap();

        let replaced = d
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::ReplaceEntry { entry, .. } => Some(entry),
                _ => None,
            })
            .expect("the original is replaced");
        assert_eq!(
            (replaced.id.as_str(), replaced.at_ms, replaced.withdrawn),
            ("wamid.0", 0, true)
        );
        assert_eq!(replaced.message, None);
        assert!(!replaced.summary.contains("hello"));
        assert_eq!(entry_kinds(&d), ["revoke"]);
    }

    #[test]
    fn an_echo_of_the_business_app_is_the_businesss_and_leaves_the_window_alone() {
        let command = TicketCommand::RecordEcho(crate::domain::commands::RecordEcho {
            ticket_id: ticket_id(),
            customer: customer(),
            phone_number_id: "100000000000001".into(),
            team: "support".into(),
            wamid: "wamid.ECHO".into(),
            at_ms: 50_000,
            message_type: "text".into(),
            summary: "On my way".into(),
            message: serde_json::json!({"type": "text", "text": {"body": "On my way"}}),
        });

        let on_open = decide(&loaded(Some(ticket())), &command, &rules()).unwrap();
        let opened = decide(&loaded(None), &command, &rules()).unwrap();

        assert_eq!(
            on_open.ticket, None,
            "the ticket is not changed: the window stays where it was"
        );
        let entry = on_open.entries().next().unwrap();
        assert_eq!(
            (entry.direction, &entry.author),
            (Direction::Outbound, &crate::domain::outbound::Author::BusinessApp)
        );
        let t = opened.ticket.unwrap();
        assert_eq!(t.last_customer_message_at_ms, None, "an echo never opens the window");
    }
}
