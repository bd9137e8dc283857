//! What customers are told about service levels: when they will hear from us,
//! a breached deadline, and the satisfaction survey with its thanks. Pure: the
//! texts come from the catalogue; once the 24-hour window has closed, the
//! approved template of the `[sla]` configuration takes the text's place.

use crate::domain::i18n::{Catalog, Lang};
use crate::domain::ids::TicketId;
use crate::domain::outbound::{Button, OutboundBody, Row, Section};
use crate::domain::sla::{Expected, SlaConfig};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The reply id of the "No, thanks" button under [`csat_thanks`] with a comment asked.
pub const CSAT_NO_COMMENT: &str = "csat.no_comment";

const CSAT_PREFIX: &str = "csat:";
const CSAT_SCORES: std::ops::RangeInclusive<u8> = 1..=5;

/// "30 minutes", "2 hours", "3 days" in `lang`: minutes under two hours, hours
/// under two days, rounded up.
pub fn wait_text(catalog: &Catalog, lang: Lang, minutes: u32) -> String {
    let m = i64::from(minutes);
    if m < 120 && m % 60 != 0 {
        catalog.text(lang, "wait-minutes", &[("count", m.into())])
    } else if m < 48 * 60 {
        catalog.text(lang, "wait-hours", &[("count", ((m + 59) / 60).into())])
    } else {
        catalog.text(lang, "wait-days", &[("count", ((m + 1439) / 1440).into())])
    }
}

/// "Monday at 09:00": `at` in the team's time zone `tz`, in `lang`.
pub fn when_text(catalog: &Catalog, lang: Lang, tz: &TimeZone, at: Timestamp) -> String {
    let local = at.to_zoned(tz.clone());
    let day = i64::from(local.weekday().to_monday_one_offset());
    let weekday = catalog.text(lang, "weekday", &[("day", day.into())]);
    let time = format!("{:02}:{:02}", local.hour(), local.minute());
    catalog.text(lang, "when-at", &[("weekday", weekday.into()), ("time", time.into())])
}

/// When the customer will hear from us, as a phrase for a sentence: "within 30
/// minutes", "from Monday at 09:00" (the team is closed), "by Tuesday at 10:30"
/// (the wait runs past closing time). Times are in the team's time zone `tz`.
pub fn expected_text(catalog: &Catalog, lang: Lang, tz: &TimeZone, expected: Expected) -> String {
    match expected {
        Expected::Within(minutes) => {
            let wait = wait_text(catalog, lang, minutes);
            catalog.text(lang, "expected-within", &[("wait", wait.into())])
        }
        Expected::Reopens(at) => {
            let when = when_text(catalog, lang, tz, at);
            catalog.text(lang, "expected-from", &[("when", when.into())])
        }
        Expected::By(at) => {
            let when = when_text(catalog, lang, tz, at);
            catalog.text(lang, "expected-by", &[("when", when.into())])
        }
    }
}

/// Who took a breached ticket over, named in the customer's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachNotice<'a> {
    /// Hierarchical escalation: a senior member of the same team.
    Senior { team_name: &'a str },
    /// Functional escalation: a specialist team ("billing specialists").
    Specialists { team_name: &'a str },
}

/// Tells the customer, transparently, that their request went up after a
/// breach and when they will hear from us (`expected`, from [`expected_text`]).
///
/// With the window closed this is the `sla.breach_template` template, its body
/// parameters the team's name and `expected`. Without a configured template the
/// text is returned all the same: the Graph API refuses it (131047) and the
/// sender records that failure on the ticket, where agents see it.
pub fn breach_notice(
    sla: &SlaConfig,
    catalog: &Catalog,
    lang: Lang,
    notice: BreachNotice<'_>,
    expected: &str,
    window_open: bool,
) -> OutboundBody {
    let (key, team_name) = match notice {
        BreachNotice::Senior { team_name } => ("breach-senior", team_name),
        BreachNotice::Specialists { team_name } => ("breach-specialists", team_name),
    };
    match &sla.breach_template {
        Some(name) if !window_open => OutboundBody::Template {
            name: name.clone(),
            language: lang.template_code().to_owned(),
            parameters: vec![team_name.to_owned(), expected.to_owned()],
            quick_replies: Vec::new(),
        },
        _ => OutboundBody::text(catalog.text(lang, key, &[("team", team_name.into()), ("expected", expected.into())])),
    }
}

/// Asks for a score from 1 to 5 after a resolution: a list (five choices do not
/// fit three reply buttons), each row routed by [`csat_reply_id`].
///
/// With the window closed this is the `sla.csat_template` template, its five
/// quick replies carrying the same ids (scores 1 to 5, in the buttons' order).
/// Without a configured template the list is returned all the same, and the
/// sender records the 131047 failure.
pub fn csat_survey(
    sla: &SlaConfig,
    catalog: &Catalog,
    lang: Lang,
    ticket: &TicketId,
    window_open: bool,
) -> OutboundBody {
    match &sla.csat_template {
        Some(name) if !window_open => OutboundBody::Template {
            name: name.clone(),
            language: lang.template_code().to_owned(),
            parameters: Vec::new(),
            quick_replies: CSAT_SCORES.map(|score| csat_reply_id(ticket, score)).collect(),
        },
        _ => OutboundBody::List {
            body: catalog.text(lang, "csat-question", &[]),
            button: catalog.text(lang, "csat-button", &[]),
            sections: vec![Section {
                title: None,
                rows: CSAT_SCORES
                    .map(|score| Row {
                        id: csat_reply_id(ticket, score),
                        title: score_title(catalog, lang, score),
                        description: None,
                    })
                    .collect(),
            }],
            footer: None,
        },
    }
}

/// "⭐⭐⭐⭐⭐ Excellent": within the 24 characters of a list row in every language.
fn score_title(catalog: &Catalog, lang: Lang, score: u8) -> String {
    let label = catalog.text(lang, "csat-score", &[("score", i64::from(score).into())]);
    format!("{} {label}", "⭐".repeat(usize::from(score)))
}

/// The reply id of a score in the survey of `ticket`: `csat:TK-3F9A0C51D2E7:4`.
pub fn csat_reply_id(ticket: &TicketId, score: u8) -> String {
    format!("{CSAT_PREFIX}{ticket}:{score}")
}

/// The ticket and score of a survey reply id; `None` for any other id, and for
/// a score outside 1 to 5.
pub fn parse_csat_reply(id: &str) -> Option<(TicketId, u8)> {
    let (ticket, score) = id.strip_prefix(CSAT_PREFIX)?.rsplit_once(':')?;
    if score.len() != 1 {
        return None;
    }
    let score: u8 = score.parse().ok()?;
    if !CSAT_SCORES.contains(&score) {
        return None;
    }
    Some((TicketId::parse(ticket).ok()?, score))
}

/// Thanks for a score. With `ask_comment`, it invites a comment and offers a
/// "No, thanks" button ([`CSAT_NO_COMMENT`]); without, it is the plain thanks
/// that closes the survey (after the comment, or when it was declined).
pub fn csat_thanks(catalog: &Catalog, lang: Lang, ask_comment: bool) -> OutboundBody {
    if ask_comment {
        OutboundBody::Buttons {
            body: catalog.text(lang, "csat-thanks-ask", &[]),
            buttons: vec![Button {
                id: CSAT_NO_COMMENT.to_owned(),
                title: catalog.text(lang, "csat-no-comment", &[]),
            }],
            footer: None,
        }
    } else {
        OutboundBody::text(catalog.text(lang, "csat-thanks", &[]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::desk::{Desk, EMBEDDED_CONFIG};

    fn catalog() -> Catalog {
        Catalog::builtin()
    }

    fn sla() -> SlaConfig {
        Desk::from_toml(EMBEDDED_CONFIG, &catalog()).unwrap().config.sla
    }

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }

    fn ticket() -> TicketId {
        TicketId::parse("TK-3F9A0C51D2E7").unwrap()
    }

    fn text(body: &OutboundBody) -> &str {
        match body {
            OutboundBody::Template { name, .. } => name,
            other => other.visible_text().unwrap_or_default(),
        }
    }

    #[test]
    fn waits_are_minutes_under_two_hours_hours_under_two_days_then_days() {
        let c = catalog();
        assert_eq!(wait_text(&c, Lang::En, 30), "30 minutes");
        assert_eq!(wait_text(&c, Lang::En, 60), "1 hour");
        assert_eq!(wait_text(&c, Lang::En, 150), "3 hours");
        assert_eq!(wait_text(&c, Lang::En, 2880), "2 days");
        assert_eq!(wait_text(&c, Lang::Fr, 90), "90 minutes");
    }

    #[test]
    fn a_time_is_told_in_the_teams_time_zone_and_the_customers_language() {
        let c = catalog();
        // Monday 30 November 2026, 08:00 UTC: 09:00 in Paris.
        let at: Timestamp = "2026-11-30T08:00:00Z".parse().unwrap();
        assert_eq!(when_text(&c, Lang::En, &paris(), at), "Monday at 09:00");
        assert_eq!(when_text(&c, Lang::De, &paris(), at), "Montag um 09:00 Uhr");
        assert_eq!(when_text(&c, Lang::En, &TimeZone::UTC, at), "Monday at 08:00");
    }

    #[test]
    fn the_expected_answer_reads_as_a_phrase_for_each_kind_of_wait() {
        let c = catalog();
        let tz = paris();
        let monday: Timestamp = "2026-11-30T08:00:00Z".parse().unwrap();
        let tuesday: Timestamp = "2026-12-01T09:30:00Z".parse().unwrap();
        assert_eq!(
            expected_text(&c, Lang::En, &tz, Expected::Within(30)),
            "within 30 minutes"
        );
        assert_eq!(
            expected_text(&c, Lang::En, &tz, Expected::Reopens(monday)),
            "from Monday at 09:00"
        );
        assert_eq!(
            expected_text(&c, Lang::En, &tz, Expected::By(tuesday)),
            "by Tuesday at 10:30"
        );
        assert_eq!(
            expected_text(&c, Lang::Fr, &tz, Expected::By(tuesday)),
            "d'ici mardi à 10:30"
        );
        assert_eq!(
            expected_text(&c, Lang::Es, &tz, Expected::Reopens(monday)),
            "desde el lunes a las 09:00"
        );
    }

    #[test]
    fn a_breach_is_told_as_text_while_the_window_is_open() {
        let c = catalog();
        let senior = breach_notice(
            &sla(),
            &c,
            Lang::En,
            BreachNotice::Senior { team_name: "support" },
            "within 30 minutes",
            true,
        );
        assert_eq!(
            text(&senior),
            "We're sorry for the wait. Your request has been escalated to a senior member of our support team; \
             you'll hear from us within 30 minutes."
        );
        let specialists = breach_notice(
            &sla(),
            &c,
            Lang::Fr,
            BreachNotice::Specialists {
                team_name: "spécialistes de la facturation",
            },
            "sous 1 heure",
            true,
        );
        assert_eq!(
            text(&specialists),
            "Votre demande a été transmise à nos spécialistes de la facturation\u{a0}; vous aurez de nos nouvelles sous 1 heure."
        );
        for lang in Lang::ALL {
            let body = breach_notice(
                &sla(),
                &c,
                lang,
                BreachNotice::Senior { team_name: "<team>" },
                "<expected>",
                true,
            );
            assert!(
                text(&body).contains("<team>") && text(&body).contains("<expected>"),
                "{lang}"
            );
            body.validate().unwrap();
        }
    }

    #[test]
    fn a_breach_after_the_window_closed_is_the_template_with_the_team_and_the_wait() {
        let body = breach_notice(
            &sla(),
            &catalog(),
            Lang::Pt,
            BreachNotice::Specialists {
                team_name: "especialistas em faturação",
            },
            "até terça-feira às 10:30",
            false,
        );
        assert_eq!(
            body,
            OutboundBody::Template {
                name: "sla_update".into(),
                language: "pt_PT".into(),
                parameters: vec!["especialistas em faturação".into(), "até terça-feira às 10:30".into()],
                quick_replies: Vec::new(),
            }
        );
        body.validate().unwrap();
    }

    #[test]
    fn without_a_breach_template_the_text_goes_out_and_the_sender_records_the_refusal() {
        let mut sla = sla();
        sla.breach_template = None;
        let body = breach_notice(
            &sla,
            &catalog(),
            Lang::En,
            BreachNotice::Senior { team_name: "support" },
            "by Monday at 09:00",
            false,
        );
        assert!(matches!(body, OutboundBody::Text { .. }));
    }

    #[test]
    fn the_survey_is_a_list_of_five_scores_within_the_cloud_api_limits_in_every_language() {
        let c = catalog();
        for lang in Lang::ALL {
            let survey = csat_survey(&sla(), &c, lang, &ticket(), true);
            survey.validate().unwrap_or_else(|e| panic!("{lang}: {e}"));
            let OutboundBody::List { sections, .. } = &survey else {
                panic!("{lang}: not a list")
            };
            let rows = &sections[0].rows;
            assert_eq!(rows.len(), 5);
            for (row, score) in rows.iter().zip(1..) {
                assert_eq!(parse_csat_reply(&row.id), Some((ticket(), score)));
                assert!(row.title.starts_with(&"⭐".repeat(usize::from(score))), "{}", row.title);
            }
        }
        let en = csat_survey(&sla(), &c, Lang::En, &ticket(), true);
        assert_eq!(text(&en), "How would you rate the help you received?");
        let OutboundBody::List { sections, .. } = en else {
            panic!()
        };
        assert_eq!(sections[0].rows[4].title, "⭐⭐⭐⭐⭐ Excellent");
        assert_eq!(sections[0].rows[0].title, "⭐ Very poor");
    }

    #[test]
    fn the_survey_after_the_window_closed_is_the_template_with_five_quick_replies() {
        let body = csat_survey(&sla(), &catalog(), Lang::De, &ticket(), false);
        let OutboundBody::Template {
            name,
            language,
            quick_replies,
            ..
        } = &body
        else {
            panic!("not a template: {body:?}")
        };
        assert_eq!((name.as_str(), language.as_str()), ("csat_request", "de"));
        let scores: Vec<u8> = quick_replies
            .iter()
            .filter_map(|id| parse_csat_reply(id))
            .map(|(_, s)| s)
            .collect();
        assert_eq!(scores, [1, 2, 3, 4, 5]);
        body.validate().unwrap();
    }

    #[test]
    fn a_survey_reply_id_names_the_ticket_and_a_score_from_one_to_five() {
        let id = csat_reply_id(&ticket(), 4);
        assert_eq!(id, "csat:TK-3F9A0C51D2E7:4");
        assert_eq!(parse_csat_reply(&id), Some((ticket(), 4)));
        for bad in [
            "csat:TK-3F9A0C51D2E7:0",
            "csat:TK-3F9A0C51D2E7:6",
            "csat:TK-3F9A0C51D2E7:+5",
            "csat:TK-3F9A0C51D2E7:",
            "csat::4",
            "csat:TK 1:4",
            "menu.agent",
            CSAT_NO_COMMENT,
        ] {
            assert_eq!(parse_csat_reply(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_thanks_invites_a_comment_with_a_no_thanks_button_or_simply_thanks() {
        let c = catalog();
        let ask = csat_thanks(&c, Lang::En, true);
        assert_eq!(
            ask,
            OutboundBody::Buttons {
                body: "Thank you! Anything you'd like to add? Just write it here.".into(),
                buttons: vec![Button {
                    id: CSAT_NO_COMMENT.into(),
                    title: "No, thanks".into()
                }],
                footer: None,
            }
        );
        assert_eq!(
            csat_thanks(&c, Lang::En, false),
            OutboundBody::text("Thank you for your feedback.")
        );
        for lang in Lang::ALL {
            csat_thanks(&c, lang, true)
                .validate()
                .unwrap_or_else(|e| panic!("{lang}: {e}"));
        }
    }
}
