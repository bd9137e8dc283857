//! The satisfaction survey's answers: a score tapped on a resolved ticket, then the
//! optional comment that follows it, both recorded on the rated ticket.

use super::reply::Reply;
use super::{Outcome, Turn, choice_of};
use crate::domain::commands::{RecordCsat, RecordCsatComment, TicketCommand};
use crate::domain::conversation::{Conversation, Mode, Step};
use crate::domain::desk::Desk;
use crate::domain::i18n::Catalog;
use crate::domain::ids::TicketId;
use crate::domain::inbound::{InboundMessage, MessageContent};
use crate::domain::notices::{CSAT_NO_COMMENT, csat_thanks, parse_csat_reply};

/// The longest survey comment kept; the rest is cut.
pub const MAX_CSAT_COMMENT: usize = 1000;

/// A score tapped in a satisfaction survey.
pub(super) struct SurveyReply {
    ticket: TicketId,
    score: u8,
    /// The message carrying it.
    wamid: String,
}

/// The last survey reply naming the ticket the handler found.
pub(super) fn survey_reply(turn: &Turn<'_>) -> Option<SurveyReply> {
    let rated = turn.rated_ticket.as_ref()?;
    turn.messages.iter().rev().find_map(|m| {
        let (ticket, score) = parse_csat_reply(&choice_of(m)?)?;
        (&ticket == rated).then(|| SurveyReply {
            ticket,
            score,
            wamid: m.wamid.clone(),
        })
    })
}

/// Records a survey score and thanks the customer, inviting a comment unless
/// humans are working on a newer ticket (the customer's next words are for them).
pub(super) fn rate(
    mut conversation: Conversation,
    turn: &Turn<'_>,
    desk: &Desk,
    catalog: &Catalog,
    reply: SurveyReply,
    live: bool,
) -> Outcome {
    let mut out = Reply::new(desk, catalog, turn, &reply.ticket, &conversation);
    out.record(&mut conversation);
    out.commands.push(TicketCommand::RecordCsat(RecordCsat {
        ticket_id: reply.ticket.clone(),
        customer: turn.customer.clone(),
        score: reply.score,
        wamid: reply.wamid.clone(),
        at_ms: out.at_ms(),
    }));
    let ask_comment = !(live && conversation.mode == Mode::Human);
    if ask_comment {
        conversation.step = Step::AwaitingCsatComment {
            ticket_id: reply.ticket.clone(),
            asked_at_ms: out.at_ms(),
        };
    }
    out.reply(csat_thanks(catalog, out.lang, ask_comment));
    out.finish(conversation)
}

/// What the customer answered to the invitation to comment on their score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SurveyAnswer {
    Comment(String),
    Declined,
}

/// Texts only are a comment (joined, trimmed, cut at [`MAX_CSAT_COMMENT`]); the
/// "No, thanks" button declines. Anything else (a file, another button) is not
/// an answer, and is handled as usual.
pub(super) fn survey_comment(messages: &[InboundMessage]) -> Option<SurveyAnswer> {
    let contents: Vec<MessageContent> = messages.iter().map(InboundMessage::content).collect();
    if contents.iter().all(|c| matches!(c, MessageContent::Text(_))) {
        let texts: Vec<&str> = contents
            .iter()
            .filter_map(|c| match c {
                MessageContent::Text(t) => Some(t.trim()),
                _ => None,
            })
            .filter(|t| !t.is_empty())
            .collect();
        let comment: String = texts.join("\n").chars().take(MAX_CSAT_COMMENT).collect();
        let comment = comment.trim_end();
        return (!comment.is_empty()).then(|| SurveyAnswer::Comment(comment.to_owned()));
    }
    messages
        .iter()
        .any(|m| choice_of(m).as_deref() == Some(CSAT_NO_COMMENT))
        .then_some(SurveyAnswer::Declined)
}

/// Records the comment (if any) on the rated ticket and closes the survey with thanks.
pub(super) fn comment(
    mut conversation: Conversation,
    turn: &Turn<'_>,
    desk: &Desk,
    catalog: &Catalog,
    rated: &TicketId,
    answer: SurveyAnswer,
) -> Outcome {
    let mut out = Reply::new(desk, catalog, turn, rated, &conversation);
    out.record(&mut conversation);
    if let SurveyAnswer::Comment(comment) = answer {
        out.commands.push(TicketCommand::RecordCsatComment(RecordCsatComment {
            ticket_id: rated.clone(),
            customer: turn.customer.clone(),
            comment,
            wamid: out.cause().to_owned(),
            at_ms: out.at_ms(),
        }));
    }
    out.reply(csat_thanks(catalog, out.lang, false));
    out.finish(conversation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::bot::testkit::*;
    use crate::domain::commands::RecordInbound;
    use crate::domain::i18n::Lang;
    use crate::domain::notices::csat_reply_id;
    use crate::domain::ticket::TicketStatus;
    use serde_json::json;

    /// A customer whose ticket an agent resolved, and the survey's reply id for `score`.
    fn resolved_chat() -> (Chat, TicketId) {
        let mut chat = Chat::new();
        chat.say("agent");
        chat.status = Some(TicketStatus::Resolved);
        let ticket = chat.conversation.ticket_id.clone().unwrap();
        (chat, ticket)
    }

    fn recorded_on(o: &Outcome) -> Vec<TicketId> {
        o.commands
            .iter()
            .filter_map(|c| match c {
                TicketCommand::RecordInbound(RecordInbound { ticket_id, .. }) => Some(ticket_id.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_survey_score_is_recorded_on_the_resolved_ticket_without_opening_another() {
        let (mut chat, ticket) = resolved_chat();
        let o = chat.tap(&csat_reply_id(&ticket, 4));
        assert_eq!(recorded_on(&o), std::slice::from_ref(&ticket));
        assert!(o.commands.iter().any(
            |c| matches!(c, TicketCommand::RecordCsat(RecordCsat { ticket_id, score: 4, wamid, .. }) if *ticket_id == ticket && wamid == "w2")
        ));
        assert!(escalation(&o).is_none());
        assert_eq!(chat.conversation.ticket_id, Some(ticket.clone()));
        assert_eq!(chat.conversation.failed_replies, 0);
        assert_eq!(o.replies[0].ticket_id, ticket);
        assert_eq!(o.replies[0].body, csat_thanks(&chat.catalog, Lang::En, true));
        assert!(matches!(&chat.conversation.step, Step::AwaitingCsatComment { ticket_id, .. } if *ticket_id == ticket));
    }

    #[test]
    fn a_score_tapped_on_the_closed_window_template_counts_like_a_list_reply() {
        let (mut chat, ticket) = resolved_chat();
        let payload = csat_reply_id(&ticket, 2);
        let m = message(
            "t1",
            "button",
            json!({"type":"button","button":{"payload": payload, "text":"⭐⭐"}}),
        );
        let o = chat.send(vec![m], None);
        assert!(
            o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::RecordCsat(RecordCsat { score: 2, .. })))
        );
        assert_eq!(recorded_on(&o), [ticket]);
    }

    #[test]
    fn the_comment_after_a_score_is_recorded_trimmed_and_then_the_next_message_opens_a_new_ticket() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 5));
        let o = chat.say("  Quick and friendly, thank you!  ");
        assert_eq!(recorded_on(&o), std::slice::from_ref(&ticket));
        assert!(o.commands.iter().any(|c| matches!(
            c,
            TicketCommand::RecordCsatComment(RecordCsatComment { ticket_id, comment, .. })
                if *ticket_id == ticket && comment == "Quick and friendly, thank you!"
        )));
        assert_eq!(body_text(&o.replies[0]), "Thank you for your feedback.");
        assert_eq!(chat.conversation.step, Step::Menu);

        let o = chat.say("hello again");
        assert_ne!(chat.conversation.ticket_id, Some(ticket));
        assert_eq!(row_ids(&o.replies[0])[0], "menu.order_status");
    }

    #[test]
    fn no_thanks_to_the_comment_ends_the_survey_with_thanks_and_records_no_comment() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 3));
        let o = chat.tap(CSAT_NO_COMMENT);
        assert_eq!(recorded_on(&o), [ticket]);
        assert!(
            !o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::RecordCsatComment(RecordCsatComment { .. })))
        );
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "csat-thanks"));
        assert_eq!(chat.conversation.step, Step::Menu);
    }

    #[test]
    fn a_survey_comment_is_cut_at_a_thousand_characters() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 1));
        let o = chat.say(&"é".repeat(1500));
        let Some(TicketCommand::RecordCsatComment(RecordCsatComment { comment, .. })) = o
            .commands
            .iter()
            .find(|c| matches!(c, TicketCommand::RecordCsatComment(RecordCsatComment { .. })))
        else {
            panic!("no comment")
        };
        assert_eq!(comment.chars().count(), MAX_CSAT_COMMENT);
    }

    #[test]
    fn a_text_a_day_after_the_score_is_a_new_request_not_a_comment() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 4));
        chat.now += jiff::SignedDuration::from_hours(25);
        let o = chat.say("How long does delivery take?");
        assert!(
            !o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::RecordCsatComment(RecordCsatComment { .. })))
        );
        assert_ne!(chat.conversation.ticket_id, Some(ticket));
        assert!(body_text(&o.replies[0]).starts_with("Orders ship"));
    }

    #[test]
    fn a_photo_instead_of_a_comment_leaves_the_survey_and_is_handled_as_usual() {
        let (mut chat, ticket) = resolved_chat();
        chat.tap(&csat_reply_id(&ticket, 4));
        let photo = message(
            "p9",
            "image",
            json!({"type":"image","image":{"id":"MEDIA-9","mime_type":"image/jpeg"}}),
        );
        let o = chat.send(vec![photo], None);
        assert_eq!(chat.conversation.step, Step::Menu);
        assert_ne!(recorded_on(&o), [ticket]);
        assert_eq!(o.media.len(), 1);
    }

    #[test]
    fn a_survey_reply_for_a_ticket_the_handler_did_not_find_is_a_stale_button() {
        let mut chat = Chat::new();
        chat.say("hi");
        let unknown = TicketId::parse("TK-000000000000").unwrap();
        let o = chat.tap(&csat_reply_id(&unknown, 5));
        assert!(
            !o.commands
                .iter()
                .any(|c| matches!(c, TicketCommand::RecordCsat(RecordCsat { .. })))
        );
        assert_eq!(body_text(&o.replies[0]), chat.t(Lang::En, "not-understood"));
        assert_eq!(chat.conversation.failed_replies, 0);
    }

    #[test]
    fn a_score_while_an_agent_handles_a_newer_ticket_is_thanked_without_asking_for_a_comment() {
        let (mut chat, old) = resolved_chat();
        chat.say("I need an agent again");
        chat.status = Some(TicketStatus::Assigned);
        let o = chat.tap(&csat_reply_id(&old, 5));
        assert_eq!(recorded_on(&o), [old]);
        assert_eq!(o.replies[0].body, csat_thanks(&chat.catalog, Lang::En, false));
        assert_eq!(chat.conversation.step, Step::Menu);
        assert_eq!(chat.conversation.mode, Mode::Human);
    }
}
