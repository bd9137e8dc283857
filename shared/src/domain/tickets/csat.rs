//! Customer satisfaction: the survey an agent's resolution sends (a template
//! once the 24-hour window has closed), the score (1 to 5, once) and the
//! optional comment after it.

use super::agent::csat_measure;
use super::effects::Effects;
use super::{DecideError, Decision, Loaded, Rules, change, window_open};
use crate::domain::bot::MAX_CSAT_COMMENT;
use crate::domain::commands::{RecordCsat, RecordCsatComment};
use crate::domain::notices;
use crate::domain::outbound::Author;
use crate::domain::reports::Counters;
use crate::domain::ticket::{Csat, Ticket};

/// Asks the customer to rate the help, once per ticket, when the desk asks at all.
pub(super) fn ask(rules: &Rules<'_>, t: &mut Ticket, fx: &mut Effects, at_ms: i64) {
    if !rules.desk.config.sla.csat || t.csat.is_some() {
        return;
    }
    t.csat = Some(Csat {
        asked_at_ms: at_ms,
        score: None,
        answered_at_ms: None,
        comment: None,
    });
    let survey = notices::csat_survey(
        &rules.desk.config.sla,
        rules.catalog,
        rules.language(t),
        &t.id,
        window_open(t, at_ms),
    );
    fx.tell_customer(t, format!("csat:{}", t.id), survey);
}

/// The customer's score. Only the first answer to a survey that was asked counts.
pub(super) fn score(loaded: &Loaded, c: &RecordCsat) -> Result<Decision, DecideError> {
    change(loaded, &c.ticket_id, None, |t, fx| {
        let Some(csat) = t.csat.as_mut().filter(|c| c.score.is_none()) else {
            return;
        };
        if !(1..=5).contains(&c.score) {
            return;
        }
        csat.score = Some(c.score);
        csat.answered_at_ms = Some(c.at_ms);
        let mut counters = Counters {
            csat_count: 1,
            csat_sum: u64::from(c.score),
            ..Counters::default()
        };
        match c.score {
            1 => counters.csat_1 = 1,
            2 => counters.csat_2 = 1,
            3 => counters.csat_3 = 1,
            4 => counters.csat_4 = 1,
            _ => counters.csat_5 = 1,
        }
        fx.fact(t, "csat".into(), c.at_ms, counters);
        let summary = format!("The customer rated the help {}/5", c.score);
        fx.entry(format!("csat.{}", c.at_ms), c.at_ms, Author::Customer, "csat", summary);
        fx.measure(csat_measure(&t.team, c.score));
    })
}

/// The customer's comment after their score, once.
pub(super) fn comment(loaded: &Loaded, c: &RecordCsatComment) -> Result<Decision, DecideError> {
    change(loaded, &c.ticket_id, None, |t, fx| {
        let Some(csat) = t.csat.as_mut().filter(|c| c.score.is_some() && c.comment.is_none()) else {
            return;
        };
        csat.comment = Some(c.comment.chars().take(MAX_CSAT_COMMENT).collect());
        let summary = "The customer commented on their rating".to_owned();
        fx.entry(
            format!("csat-comment.{}", c.at_ms),
            c.at_ms,
            Author::Customer,
            "csat_comment",
            summary,
        );
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Decision, Effect, decide};
    use crate::domain::commands::{RecordCsat, RecordCsatComment, Resolve, TicketCommand};
    use crate::domain::outbound::Author;

    fn surveyed() -> crate::domain::ticket::Ticket {
        let resolve = TicketCommand::Resolve(Resolve {
            ticket_id: ticket_id(),
            customer: customer(),
            by: Author::Agent("ana".into()),
            at_ms: 60_000,
            request_id: "r".into(),
        });
        saved(
            decide(&loaded(Some(answered_ticket(0))), &resolve, &rules())
                .unwrap()
                .ticket
                .unwrap(),
        )
    }

    fn score(score: u8, at_ms: i64) -> TicketCommand {
        TicketCommand::RecordCsat(RecordCsat {
            ticket_id: ticket_id(),
            customer: customer(),
            score,
            wamid: format!("wamid.{at_ms}"),
            at_ms,
        })
    }

    fn comment(text: &str, at_ms: i64) -> TicketCommand {
        TicketCommand::RecordCsatComment(RecordCsatComment {
            ticket_id: ticket_id(),
            customer: customer(),
            comment: text.into(),
            wamid: format!("wamid.{at_ms}"),
            at_ms,
        })
    }

    #[test]
    fn a_score_is_kept_counted_and_measured_once() {
        let d = decide(&loaded(Some(surveyed())), &score(4, 70_000), &rules()).unwrap();

        let t = d.ticket.as_ref().unwrap();
        assert_eq!(t.csat.as_ref().unwrap().score, Some(4));
        let c = counters(&d, "TK-1:csat");
        assert_eq!((c.csat_count, c.csat_sum, c.csat_4), (1, 4, 1));
        assert_eq!(entry_kinds(&d), ["csat"]);
        assert!(
            d.effects
                .iter()
                .any(|e| matches!(e, Effect::Measure(m) if m.figures[0].name == "CsatScore" && !m.desk_wide))
        );

        let answered = saved(d.ticket.unwrap());
        assert_eq!(
            decide(&loaded(Some(answered)), &score(1, 80_000), &rules()).unwrap(),
            Decision::nothing()
        );
    }

    #[test]
    fn a_score_without_a_survey_or_out_of_range_is_ignored() {
        assert_eq!(
            decide(&loaded(Some(ticket())), &score(5, 1_000), &rules()).unwrap(),
            Decision::nothing()
        );
        assert_eq!(
            decide(&loaded(Some(surveyed())), &score(9, 70_000), &rules()).unwrap(),
            Decision::nothing()
        );
    }

    #[test]
    fn a_comment_follows_a_score_once_and_is_cut_to_its_limit() {
        let scored = saved(
            decide(&loaded(Some(surveyed())), &score(2, 70_000), &rules())
                .unwrap()
                .ticket
                .unwrap(),
        );
        let long = "x".repeat(crate::domain::bot::MAX_CSAT_COMMENT + 50);

        let d = decide(&loaded(Some(scored)), &comment(&long, 80_000), &rules()).unwrap();

        assert_eq!(entry_kinds(&d), ["csat_comment"]);
        let t = d.ticket.unwrap();
        assert_eq!(
            t.csat.as_ref().unwrap().comment.as_ref().unwrap().chars().count(),
            crate::domain::bot::MAX_CSAT_COMMENT
        );
        let commented = saved(t);
        assert_eq!(
            decide(&loaded(Some(commented)), &comment("again", 90_000), &rules()).unwrap(),
            Decision::nothing()
        );
    }

    #[test]
    fn a_comment_before_a_score_is_ignored() {
        assert_eq!(
            decide(&loaded(Some(surveyed())), &comment("hm", 70_000), &rules()).unwrap(),
            Decision::nothing()
        );
    }

    /// The agent of the score's fact, once `ticket` is resolved by `by` and rated.
    fn rated_agent(ticket: crate::domain::ticket::Ticket, by: &str) -> Option<String> {
        let resolve = TicketCommand::Resolve(Resolve {
            ticket_id: ticket_id(),
            customer: customer(),
            by: Author::Agent(by.into()),
            at_ms: 60_000,
            request_id: "r".into(),
        });
        let resolved = saved(
            decide(&loaded(Some(ticket)), &resolve, &rules())
                .unwrap()
                .ticket
                .unwrap(),
        );
        let d = decide(&loaded(Some(resolved)), &score(5, 70_000), &rules()).unwrap();
        d.effects
            .iter()
            .find_map(|e| match e {
                Effect::Count(f) if f.id == "TK-1:csat" => Some(f.agent.clone()),
                _ => None,
            })
            .expect("the score is counted")
    }

    #[test]
    fn a_score_counts_for_the_assignee_else_the_agent_who_resolved_the_ticket() {
        // ana answered and resolved it.
        assert_eq!(rated_agent(answered_ticket(0), "ana"), Some("ana".into()));
        // ana answered, bo resolved: the ticket, and its score, are ana's.
        assert_eq!(rated_agent(answered_ticket(0), "bo"), Some("ana".into()));
        // bo resolved it from the queue, nobody having answered.
        assert_eq!(rated_agent(queued_ticket(0), "bo"), Some("bo".into()));
    }
}
