//! What agents do to a ticket in the workspace besides answering: take it,
//! give it to a colleague or back to the queue or the bot, leave internal
//! notes that mention colleagues, reopen it, set its priority, category and
//! tags. An action on a version of the ticket that is no longer current
//! (`If-Match`) changes nothing, and the timeline says why.

use super::agent::stale;
use super::effects::Effects;
use super::{DecideError, Decision, Loaded, Rules, change, window_open};
use crate::domain::commands::{Action, AgentAction, OpenProactive};
use crate::domain::consent::may_contact;
use crate::domain::events::{AgentMentioned, DomainEvent, TicketAssigned, TicketRef};
use crate::domain::outbound::{Author, OutboundBody};
use crate::domain::reports::Counters;
use crate::domain::sla::TicketSla;
use crate::domain::ticket::{Ticket, TicketStatus};

/// The longest internal note.
pub const MAX_NOTE_CHARS: usize = 4096;
/// The most tags a ticket carries, and the longest tag.
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 40;

pub(super) fn act(loaded: &Loaded, c: &AgentAction, rules: &Rules<'_>) -> Result<Decision, DecideError> {
    change(loaded, &c.ticket_id, None, |t, fx| {
        let by = Author::Agent(c.agent.clone());
        let id = |what: &str| format!("{what}.{}", c.request_id);
        if let Some(why) = stale(t, c.expected_version) {
            let summary = format!(
                "{}'s {} was not applied: {why}",
                c.agent,
                c.action.name().replace('_', " ")
            );
            fx.entry(id("refused"), c.at_ms, by, "action_refused", summary);
            return;
        }
        match &c.action {
            Action::Claim => give(t, fx, &c.agent, &c.agent, c.at_ms, id("assigned")),
            Action::Assign { to } => give(t, fx, to, &c.agent, c.at_ms, id("assigned")),
            Action::Unassign => {
                if let Some(previous) = t.unassign(c.at_ms) {
                    let summary = format!(
                        "{} put the ticket back in the {} queue (was {previous})",
                        c.agent, t.team
                    );
                    fx.entry(id("unassigned"), c.at_ms, by, "unassigned", summary);
                }
            }
            Action::HandBack { team } => {
                if t.hand_back(team, c.at_ms) == Ok(true) {
                    // The bot has it again: no human clock runs.
                    t.sla = None;
                    let summary = format!("{} handed the ticket back to the bot", c.agent);
                    fx.entry(id("handed_back"), c.at_ms, by, "handed_back", summary);
                }
            }
            Action::Note { text, mentions } => {
                t.noted(c.at_ms);
                let mut entry = super::effects::event_entry(id("note"), c.at_ms, by, "note", text.clone());
                entry.direction = crate::domain::ticket::Direction::Internal;
                if !mentions.is_empty() {
                    entry.data = Some(serde_json::json!({ "mentions": mentions }));
                }
                fx.timeline(entry);
                for agent in mentions {
                    fx.publish(DomainEvent::AgentMentioned(AgentMentioned {
                        ticket: TicketRef::of(t, c.at_ms),
                        agent: agent.clone(),
                        by: c.agent.clone(),
                    }));
                }
            }
            Action::Reopen => {
                if t.reopen(Some(&c.agent), c.at_ms).is_ok() {
                    t.sla = Some(TicketSla::start(&rules.sla_context(t), c.at_ms));
                    // The survey of the resolution no longer applies.
                    t.csat = None;
                    let counters = Counters {
                        reopened: 1,
                        ..Counters::default()
                    };
                    fx.fact(t, format!("reopened:{}", c.at_ms), c.at_ms, counters);
                    fx.entry(
                        id("reopened"),
                        c.at_ms,
                        by,
                        "reopened",
                        format!("Reopened by {}", c.agent),
                    );
                }
            }
            Action::SetPriority { priority } => {
                if t.status != TicketStatus::Resolved && t.priority != *priority {
                    let before = rules.sla_context(t);
                    let was = t.priority;
                    t.priority = *priority;
                    let after = rules.sla_context(t);
                    if let Some(sla) = &mut t.sla {
                        sla.retarget(&before, &after, c.at_ms);
                    }
                    let summary = format!(
                        "{} changed the priority from {} to {}",
                        c.agent,
                        was.as_str(),
                        priority.as_str()
                    );
                    fx.entry(id("priority"), c.at_ms, by, "priority_changed", summary);
                }
            }
            Action::SetCategory { category } => {
                if t.context.category.as_deref() != Some(category) {
                    t.context.category = Some(category.clone());
                    let summary = format!("{} set the category to {category}", c.agent);
                    fx.entry(id("category"), c.at_ms, by, "category_changed", summary);
                }
            }
            Action::Tag { add, remove } => {
                let before = t.tags.clone();
                t.tags.retain(|tag| !remove.contains(tag));
                for tag in add {
                    if !t.tags.contains(tag) && t.tags.len() < MAX_TAGS {
                        t.tags.push(tag.clone());
                    }
                }
                t.tags.sort();
                if t.tags != before {
                    let summary = format!("{} set the tags: {}", c.agent, t.tags.join(", "));
                    fx.entry(id("tags"), c.at_ms, by, "tags_changed", summary);
                }
            }
            Action::React { message_id, emoji } => {
                let refusal = match t.status {
                    TicketStatus::Resolved => Some("the ticket is resolved"),
                    _ if !window_open(t, c.at_ms) => Some("the 24-hour window is closed"),
                    _ => None,
                };
                match refusal {
                    Some(why) => {
                        let summary = format!("{}'s reaction was not sent: {why}", c.agent);
                        fx.entry(id("refused"), c.at_ms, by, "action_refused", summary);
                    }
                    None => {
                        // Saved with the ticket, so a redelivered command sends it once.
                        t.touch(c.at_ms);
                        let reaction = OutboundBody::Reaction {
                            message_id: message_id.clone(),
                            emoji: emoji.clone(),
                        };
                        fx.send_for_agent(t, &c.agent, format!("react:{}:{}", t.id, c.request_id), reaction);
                    }
                }
            }
        }
    })
}

/// An agent writes first, with a template, to a customer who opted in: on
/// the ticket the bot linked to the conversation, opened assigned to the
/// agent when it is new (no clock runs: nobody is waiting). The customer's
/// consent is checked again here, on the profile as it is now: an opt-out
/// that arrived in between wins, and the timeline says so.
pub(super) fn open_proactive(loaded: &Loaded, c: &OpenProactive) -> Result<Decision, DecideError> {
    let mut opened = Ticket::open(
        c.ticket_id.clone(),
        c.customer.clone(),
        c.phone_number_id.clone(),
        c.team.clone(),
        c.at_ms,
    );
    opened.status = TicketStatus::Assigned;
    opened.assignee = Some(c.agent.clone());
    opened.tier = c.tier;
    let consent = loaded.profile.as_ref().and_then(|p| p.consent.as_ref());
    let refusal = match (may_contact(consent), &loaded.ticket) {
        (Err(refused), _) => Some(refused.to_string()),
        (Ok(()), Some(t)) if t.status == TicketStatus::Resolved => Some("the ticket is resolved".into()),
        (Ok(()), _) => None,
    };
    change(loaded, &c.ticket_id, Some(opened), |t, fx| {
        let by = Author::Agent(c.agent.clone());
        if let Some(why) = refusal {
            let summary = format!("{}'s message was not sent: {why}", c.agent);
            fx.entry(
                format!("refused.{}", c.request_id),
                c.at_ms,
                by,
                "reply_refused",
                summary,
            );
            return;
        }
        t.touch(c.at_ms);
        let summary = format!("{} wrote to the customer first", c.agent);
        fx.entry(format!("proactive.{}", c.request_id), c.at_ms, by, "proactive", summary);
        fx.send_for_agent(
            t,
            &c.agent,
            format!("proactive:{}:{}", t.id, c.request_id),
            c.body.clone(),
        );
    })
}

/// Gives the ticket to `agent` (on `by`'s action) and tells them when it is
/// someone else's doing.
fn give(t: &mut Ticket, fx: &mut Effects, agent: &str, by: &str, at_ms: i64, entry_id: String) {
    let previous = t.assignee.clone();
    if t.assign(agent, at_ms) != Ok(true) {
        return;
    }
    let summary = match (agent == by, previous) {
        (true, None) => format!("{agent} took the ticket"),
        (true, Some(p)) => format!("{agent} took the ticket from {p}"),
        (false, _) => format!("{by} assigned the ticket to {agent}"),
    };
    fx.entry(entry_id, at_ms, Author::Agent(by.to_owned()), "assigned", summary);
    fx.publish(DomainEvent::TicketAssigned(TicketAssigned {
        ticket: TicketRef::of(t, at_ms),
        agent: agent.to_owned(),
        by: by.to_owned(),
    }));
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Effect, decide};
    use crate::domain::commands::{Action, AgentAction, TicketCommand};
    use crate::domain::events::DomainEvent;
    use crate::domain::ticket::{Direction, Priority, Ticket, TicketStatus};

    fn act(agent: &str, action: Action, at_ms: i64) -> TicketCommand {
        TicketCommand::AgentAction(AgentAction {
            ticket_id: ticket_id(),
            customer: customer(),
            agent: agent.into(),
            at_ms,
            request_id: format!("r{at_ms}"),
            expected_version: None,
            action,
        })
    }

    fn changed(d: &super::super::Decision) -> &Ticket {
        d.ticket.as_ref().expect("the ticket changed")
    }

    fn events(d: &super::super::Decision) -> Vec<&DomainEvent> {
        d.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Publish(ev) => Some(ev),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_claim_gives_the_ticket_to_the_agent_without_meeting_the_owed_response() {
        let d = decide(
            &loaded(Some(queued_ticket(0))),
            &act("ana", Action::Claim, 60_000),
            &rules(),
        )
        .unwrap();

        let t = changed(&d);
        assert_eq!((t.status, t.assignee.as_deref()), (TicketStatus::Assigned, Some("ana")));
        assert_eq!(t.first_response_at_ms, None);
        assert_eq!(entry_kinds(&d), ["assigned"]);
        assert!(matches!(events(&d)[..], [DomainEvent::TicketAssigned(e)] if e.agent == "ana" && e.by == "ana"));
    }

    #[test]
    fn a_reaction_is_sent_while_the_window_is_open_and_refused_after_it_without_answering() {
        let react = |at_ms| {
            act(
                "ana",
                Action::React {
                    message_id: "wamid.customer".into(),
                    emoji: "👍".into(),
                },
                at_ms,
            )
        };
        let t = queued_ticket(0);

        let d = decide(&loaded(Some(t.clone())), &react(60_000), &rules()).unwrap();
        let sent = sent(&d);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].body,
            crate::domain::outbound::OutboundBody::Reaction {
                message_id: "wamid.customer".into(),
                emoji: "👍".into()
            }
        );
        // A reaction is not an answer: the owed response still runs.
        assert_eq!(changed(&d).first_response_at_ms, None);

        let d = decide(&loaded(Some(t)), &react(25 * 3_600_000), &rules()).unwrap();
        assert!(super::super::test_support::sent(&d).is_empty());
        assert_eq!(entry_kinds(&d), ["action_refused"]);
    }

    fn proactive(at_ms: i64) -> TicketCommand {
        TicketCommand::OpenProactive(crate::domain::commands::OpenProactive {
            ticket_id: ticket_id(),
            customer: customer(),
            phone_number_id: "P1".into(),
            agent: "ana".into(),
            team: "support".into(),
            tier: 2,
            body: crate::domain::outbound::OutboundBody::Template {
                name: "order_update".into(),
                language: "en".into(),
                parameters: vec!["AB-1".into()],
                quick_replies: vec![],
            },
            at_ms,
            request_id: "p1".into(),
        })
    }

    fn with_consent(status: Option<crate::domain::consent::ConsentStatus>) -> super::super::Loaded {
        let mut profile = crate::domain::ticket::CustomerProfile::new(customer(), 0);
        profile.consent = status.map(|status| crate::domain::consent::Consent {
            status,
            at_ms: 0,
            by: "ana".into(),
            source: "form".into(),
        });
        super::super::Loaded {
            profile: Some(profile),
            ..loaded(None)
        }
    }

    #[test]
    fn a_proactive_template_opens_a_ticket_assigned_to_the_agent_only_for_a_customer_who_opted_in() {
        use crate::domain::consent::ConsentStatus;
        let d = decide(&with_consent(Some(ConsentStatus::OptedIn)), &proactive(5), &rules()).unwrap();
        let t = changed(&d);
        assert_eq!(
            (t.status, t.assignee.as_deref(), t.tier, t.sla.is_none()),
            (TicketStatus::Assigned, Some("ana"), 2, true)
        );
        assert_eq!(sent(&d).len(), 1);
        assert_eq!(entry_kinds(&d), ["proactive"]);

        // An opt-out (or no opt-in) that reached `tickets` first: not sent, and the timeline says why.
        for consent in [Some(ConsentStatus::OptedOut), None] {
            let d = decide(&with_consent(consent), &proactive(5), &rules()).unwrap();
            assert!(sent(&d).is_empty(), "{consent:?}");
            assert_eq!(entry_kinds(&d), ["reply_refused"]);
        }
    }

    #[test]
    fn a_ticket_with_the_bot_or_resolved_cannot_be_claimed() {
        let mut with_bot = queued_ticket(0);
        with_bot.status = TicketStatus::Bot;
        let d = decide(&loaded(Some(with_bot)), &act("ana", Action::Claim, 1), &rules()).unwrap();
        assert!(d.ticket.is_none() && d.effects.is_empty());
    }

    #[test]
    fn an_action_on_an_old_version_changes_nothing_and_the_timeline_says_why() {
        let mut t = queued_ticket(0);
        t.version = 7;
        let mut command = act("bob", Action::Claim, 1);
        if let TicketCommand::AgentAction(a) = &mut command {
            a.expected_version = Some(6);
        }

        let d = decide(&loaded(Some(t)), &command, &rules()).unwrap();

        assert!(d.ticket.is_none());
        let refused: Vec<_> = d.entries().collect();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].kind, "action_refused");
        assert!(
            refused[0].summary.contains("changed since version 6 (now 7)"),
            "{}",
            refused[0].summary
        );
    }

    #[test]
    fn a_lead_assigns_and_the_agent_is_told_then_unassign_puts_it_back_in_the_queue() {
        let d = decide(
            &loaded(Some(queued_ticket(0))),
            &act("lea", Action::Assign { to: "bob".into() }, 5),
            &rules(),
        )
        .unwrap();
        let t = changed(&d).clone();
        assert_eq!(t.assignee.as_deref(), Some("bob"));
        assert!(matches!(events(&d)[..], [DomainEvent::TicketAssigned(e)] if e.agent == "bob" && e.by == "lea"));

        let d = decide(&loaded(Some(t)), &act("lea", Action::Unassign, 6), &rules()).unwrap();
        let t = changed(&d);
        assert_eq!((t.status, t.assignee.as_deref()), (TicketStatus::Queued, None));
    }

    #[test]
    fn a_note_stays_internal_and_notifies_every_mentioned_agent() {
        let note = Action::Note {
            text: "@lea can you check the refund?".into(),
            mentions: vec!["lea".into()],
        };
        let d = decide(&loaded(Some(queued_ticket(0))), &act("ana", note, 9), &rules()).unwrap();

        let entries: Vec<_> = d.entries().collect();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].direction, Direction::Internal);
        assert!(
            d.effects.iter().all(|e| !matches!(e, Effect::Send(_))),
            "a note is never sent"
        );
        assert!(matches!(events(&d)[..], [DomainEvent::AgentMentioned(e)] if e.agent == "lea" && e.by == "ana"));
    }

    #[test]
    fn reopening_puts_a_resolved_ticket_with_the_agent_and_restarts_its_clocks() {
        let mut t = queued_ticket(0);
        t.resolve(crate::domain::outbound::Author::Agent("ana".into()), 100);
        t.sla = None;

        let d = decide(&loaded(Some(t)), &act("bob", Action::Reopen, 200), &rules()).unwrap();

        let t = changed(&d);
        assert_eq!((t.status, t.assignee.as_deref()), (TicketStatus::Assigned, Some("bob")));
        assert!(t.sla.is_some() && t.resolved_at_ms.is_none());
        assert!(
            d.effects
                .iter()
                .any(|e| matches!(e, Effect::Count(f) if f.counters.reopened == 1))
        );
        assert!(d.effects.iter().any(|e| matches!(e, Effect::SyncDeadlines { .. })));
    }

    #[test]
    fn hand_back_returns_the_ticket_to_the_bot_and_stops_the_clocks() {
        let d = decide(
            &loaded(Some(queued_ticket(0))),
            &act("ana", Action::HandBack { team: "support".into() }, 30),
            &rules(),
        )
        .unwrap();
        let t = changed(&d);
        assert_eq!(
            (t.status, t.tier, t.handed_back_at_ms),
            (TicketStatus::Bot, 1, Some(30))
        );
        assert!(t.sla.is_none());
    }

    #[test]
    fn priority_and_tags_change_once_and_a_repeat_changes_nothing() {
        let d = decide(
            &loaded(Some(queued_ticket(0))),
            &act(
                "ana",
                Action::SetPriority {
                    priority: Priority::Urgent,
                },
                3,
            ),
            &rules(),
        )
        .unwrap();
        let t = changed(&d).clone();
        assert_eq!(t.priority, Priority::Urgent);

        let tag = Action::Tag {
            add: vec!["refund".into(), "damaged".into()],
            remove: vec![],
        };
        let d = decide(&loaded(Some(t)), &act("ana", tag.clone(), 4), &rules()).unwrap();
        let t = changed(&d).clone();
        assert_eq!(t.tags, ["damaged", "refund"]);
        let again = decide(&loaded(Some(t)), &act("ana", tag, 4), &rules()).unwrap();
        assert!(again.ticket.is_none());
    }
}
