//! Canned responses: ready-made answers an agent picks instead of typing,
//! configured per language and team in the desk's `[[canned]]` section.
//!
//! A response's text may hold placeholders, filled server-side when the agent
//! sends it: `{customer_name}`, `{ticket_id}`, `{agent_name}` and
//! `{order_number}`. Every `{` opens a placeholder; `{{` and `}}` write a
//! literal brace. A text naming any other placeholder, or with an unclosed or
//! stray brace, is refused when the desk loads.
//!
//! Languages: an agent searches in the customer's language. Each response id
//! is offered in that language when it has a version in it, otherwise in the
//! desk's default language (so an untranslated response stays usable: the
//! returned response's `language` says which one it is); an id with neither
//! version is not offered (it would be in a third language the customer may
//! not read).

use crate::domain::desk::{DeskConfigError, check_id};
use crate::domain::i18n::Lang;
use crate::domain::outbound::MAX_TEXT;
use crate::domain::triggers::Normalised;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

/// A canned response as configured (`[[canned]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedResponse {
    /// A slug shared by the translations of one response, e.g. `refund-timeline`.
    pub id: String,
    /// What agents see in the picker.
    pub title: String,
    /// The message sent to the customer, placeholders included (≤ 4096 characters).
    pub text: String,
    pub language: Lang,
    /// The teams that may use it; empty (or absent) means every team.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Extra words it is found by (synonyms, other languages' words).
    #[serde(default)]
    pub tags: Vec<String>,
}

impl CannedResponse {
    /// True when `team` may use this response.
    pub fn visible_to(&self, team: &str) -> bool {
        self.teams.is_empty() || self.teams.iter().any(|t| t == team)
    }

    /// The placeholders its text uses, in order of first appearance, each once.
    /// Empty for a malformed text (which a loaded desk never holds).
    pub fn placeholders(&self) -> Vec<Placeholder> {
        let mut seen = Vec::new();
        if let Ok(segments) = parse(&self.text) {
            for segment in segments {
                if let Segment::Slot(p) = segment
                    && !seen.contains(&p)
                {
                    seen.push(p);
                }
            }
        }
        seen
    }
}

/// A value filled in server-side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placeholder {
    CustomerName,
    TicketId,
    AgentName,
    OrderNumber,
}

impl Placeholder {
    pub const ALL: [Placeholder; 4] = [
        Placeholder::CustomerName,
        Placeholder::TicketId,
        Placeholder::AgentName,
        Placeholder::OrderNumber,
    ];

    /// The name written between braces: `customer_name`, `ticket_id`, `agent_name`, `order_number`.
    pub fn name(self) -> &'static str {
        match self {
            Placeholder::CustomerName => "customer_name",
            Placeholder::TicketId => "ticket_id",
            Placeholder::AgentName => "agent_name",
            Placeholder::OrderNumber => "order_number",
        }
    }

    pub fn from_name(name: &str) -> Option<Placeholder> {
        Placeholder::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Placeholder {
    /// As written in a text: `{order_number}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

/// The values placeholders are filled with; `None` (or a blank value) is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaceholderValues {
    pub customer_name: Option<String>,
    pub ticket_id: Option<String>,
    pub agent_name: Option<String>,
    pub order_number: Option<String>,
}

impl PlaceholderValues {
    /// The value of `placeholder`, trimmed; `None` when absent or blank.
    pub fn get(&self, placeholder: Placeholder) -> Option<&str> {
        let value = match placeholder {
            Placeholder::CustomerName => &self.customer_name,
            Placeholder::TicketId => &self.ticket_id,
            Placeholder::AgentName => &self.agent_name,
            Placeholder::OrderNumber => &self.order_number,
        };
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Why a canned response could not be filled. The agent sees the message;
/// nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    #[error("canned response {id:?} ({language}) needs a value for {}", list(missing))]
    Missing {
        id: String,
        language: Lang,
        /// In order of first appearance in the text.
        missing: Vec<Placeholder>,
    },
    #[error("canned response {id:?} ({language}) is {chars} characters once filled; WhatsApp allows {MAX_TEXT}")]
    TooLong { id: String, language: Lang, chars: usize },
    /// Only for a response that did not come from a validated desk.
    #[error("canned response {id:?} ({language}): {problem}")]
    Malformed {
        id: String,
        language: Lang,
        problem: String,
    },
}

fn list(placeholders: &[Placeholder]) -> String {
    let names: Vec<String> = placeholders.iter().map(Placeholder::to_string).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The response's text with every placeholder replaced by its value. Values
/// are inserted as they are, never read for placeholders again (a customer
/// named `{ticket_id}` stays `{ticket_id}`); `{{` and `}}` become braces.
/// Every missing value is reported at once, and a text that would exceed
/// WhatsApp's 4096 characters once filled is refused.
pub fn fill(response: &CannedResponse, values: &PlaceholderValues) -> Result<String, FillError> {
    let segments = parse(&response.text).map_err(|e| FillError::Malformed {
        id: response.id.clone(),
        language: response.language,
        problem: e.to_string(),
    })?;
    let missing = response
        .placeholders()
        .into_iter()
        .filter(|p| values.get(*p).is_none())
        .collect::<Vec<_>>();
    if !missing.is_empty() {
        return Err(FillError::Missing {
            id: response.id.clone(),
            language: response.language,
            missing,
        });
    }
    let mut out = String::with_capacity(response.text.len());
    for segment in segments {
        match segment {
            Segment::Text(text) => out.push_str(text),
            Segment::Slot(p) => out.push_str(values.get(p).unwrap_or_default()),
        }
    }
    let chars = out.chars().count();
    if chars > MAX_TEXT {
        return Err(FillError::TooLong {
            id: response.id.clone(),
            language: response.language,
            chars,
        });
    }
    Ok(out)
}

/// The responses `team` may use, in `language` or else `fallback` (the desk's
/// default language, see the module's notes), that match `query`.
///
/// The query matches ignoring case and accents: each of its words must appear
/// in the response's id, title, tags or text (placeholder names are not text).
/// An empty query (or one without letters or digits) matches everything.
/// Ranked: the title starting with the query first, then the id starting with
/// it, then responses whose id, title or tags have words starting with every
/// query word, then those containing the query's words anywhere in them, then
/// those matching only in the text; within a rank by title, then id (ignoring
/// case and accents).
pub fn search<'a>(
    responses: &'a [CannedResponse],
    team: &str,
    language: Lang,
    fallback: Lang,
    query: &str,
) -> Vec<&'a CannedResponse> {
    let query = Normalised::new(query).words;
    let mut ranked: Vec<(u8, String, &CannedResponse)> = offered(responses, team, language, fallback)
        .into_iter()
        .filter_map(|r| rank(r, &query).map(|tier| (tier, fold(&r.title), r)))
        .collect();
    ranked.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| a.2.id.cmp(&b.2.id))
            .then_with(|| a.2.language.cmp(&b.2.language))
    });
    ranked.into_iter().map(|(_, _, r)| r).collect()
}

/// The response `id` as `team` may use it, in `language` or else `fallback`
/// (the version [`search`] offers).
pub fn find<'a>(
    responses: &'a [CannedResponse],
    id: &str,
    team: &str,
    language: Lang,
    fallback: Lang,
) -> Option<&'a CannedResponse> {
    let visible = |lang: Lang| {
        responses
            .iter()
            .find(|r| r.id == id && r.language == lang && r.visible_to(team))
    };
    visible(language).or_else(|| visible(fallback))
}

/// One version per id visible to `team`: in `language`, else in `fallback`.
fn offered<'a>(responses: &'a [CannedResponse], team: &str, language: Lang, fallback: Lang) -> Vec<&'a CannedResponse> {
    let mut ids = HashSet::new();
    responses
        .iter()
        .filter(|r| ids.insert(r.id.as_str()))
        .filter_map(|r| find(responses, &r.id, team, language, fallback))
        .collect()
}

fn fold(text: &str) -> String {
    Normalised::new(text).words.join(" ")
}

/// The rank of a response for the query's words (lower is better), `None` when it does not match.
fn rank(response: &CannedResponse, query: &[String]) -> Option<u8> {
    if query.is_empty() {
        return Some(0);
    }
    let phrase = query.join(" ");
    let title = fold(&response.title);
    let id = fold(&response.id);
    if title.starts_with(&phrase) {
        return Some(0);
    }
    if id.starts_with(&phrase) {
        return Some(1);
    }
    let mut heading = Normalised::new(&response.id).words;
    heading.extend(Normalised::new(&response.title).words);
    heading.extend(response.tags.iter().flat_map(|t| Normalised::new(t).words));
    if query.iter().all(|q| heading.iter().any(|w| w.starts_with(q.as_str()))) {
        return Some(2);
    }
    let heading = heading.join(" ");
    if query.iter().all(|q| heading.contains(q.as_str())) {
        return Some(3);
    }
    let everything = format!("{heading} {}", fold(&searchable_text(&response.text)));
    query.iter().all(|q| everything.contains(q.as_str())).then_some(4)
}

/// The text without its placeholders (`{ticket_id}` is not the word "ticket").
fn searchable_text(text: &str) -> String {
    match parse(text) {
        Ok(segments) => segments
            .into_iter()
            .map(|s| match s {
                Segment::Text(t) => t,
                Segment::Slot(_) => " ",
            })
            .collect(),
        Err(_) => text.to_owned(),
    }
}

/// Checks the `[[canned]]` section against the desk's team ids; the error names
/// the entry (`canned[i].field`) and, in its message, the response's id and language.
pub fn check(responses: &[CannedResponse], team_ids: &[&str]) -> Result<(), DeskConfigError> {
    let mut seen = HashSet::new();
    for (i, r) in responses.iter().enumerate() {
        let field = |f: &str| format!("canned[{i}].{f}");
        let bad = |f: &str, problem: String| DeskConfigError::Invalid {
            field: field(f),
            problem: format!("canned response {:?} ({}): {problem}", r.id, r.language),
        };
        check_id(&field("id"), &r.id)?;
        if !seen.insert((r.id.as_str(), r.language)) {
            return Err(bad(
                "id",
                format!(
                    "is defined twice in {}; each language has one version",
                    r.language.code()
                ),
            ));
        }
        if r.title.trim().is_empty() {
            return Err(bad("title", "is empty".into()));
        }
        if r.text.trim().is_empty() {
            return Err(bad("text", "is empty".into()));
        }
        let chars = r.text.chars().count();
        if chars > MAX_TEXT {
            return Err(bad(
                "text",
                format!("is {chars} characters; WhatsApp allows {MAX_TEXT} in a text message"),
            ));
        }
        parse(&r.text).map_err(|e| bad("text", e.to_string()))?;
        for (j, team) in r.teams.iter().enumerate() {
            if !team_ids.contains(&team.as_str()) {
                return Err(bad(&format!("teams[{j}]"), format!("no team has the id {team:?}")));
            }
        }
        for (j, tag) in r.tags.iter().enumerate() {
            if Normalised::new(tag).words.is_empty() {
                return Err(bad(&format!("tags[{j}]"), format!("{tag:?} has no letters or digits")));
            }
        }
    }
    Ok(())
}

/// A piece of a parsed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Text(&'a str),
    Slot(Placeholder),
}

/// What is wrong with a text's braces.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TemplateError {
    /// Every unknown name, in order, each once.
    Unknown(Vec<String>),
    Unclosed,
    StrayClose,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = list(&Placeholder::ALL).replace(" and ", " or ");
        match self {
            TemplateError::Unknown(names) => {
                let names: Vec<String> = names.iter().map(|n| format!("{{{n}}}")).collect();
                let s = if names.len() == 1 { "" } else { "s" };
                write!(
                    f,
                    "unknown placeholder{s} {}; use {known} (write {{{{ and }}}} for a literal brace)",
                    names.join(", ")
                )
            }
            TemplateError::Unclosed => write!(
                f,
                "a {{ is not closed; placeholders are {known} (write {{{{ for a literal brace)"
            ),
            TemplateError::StrayClose => write!(f, "a }} closes nothing (write }}}} for a literal brace)"),
        }
    }
}

/// Splits a text into literal pieces and placeholders.
fn parse(text: &str) -> Result<Vec<Segment<'_>>, TemplateError> {
    let mut segments = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['{', '}']) {
        if at > 0 {
            segments.push(Segment::Text(&rest[..at]));
        }
        let brace = &rest[at..at + 1];
        let after = &rest[at + 1..];
        if after.starts_with(brace) {
            segments.push(Segment::Text(brace));
            rest = &after[1..];
            continue;
        }
        if brace == "}" {
            return Err(TemplateError::StrayClose);
        }
        let end = match after.find(['{', '}']) {
            Some(end) if after[end..].starts_with('}') => end,
            _ => return Err(TemplateError::Unclosed),
        };
        let name = &after[..end];
        match Placeholder::from_name(name) {
            Some(p) => segments.push(Segment::Slot(p)),
            None if !unknown.iter().any(|u| u == name) => unknown.push(name.to_owned()),
            None => {}
        }
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        segments.push(Segment::Text(rest));
    }
    if unknown.is_empty() {
        Ok(segments)
    } else {
        Err(TemplateError::Unknown(unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::desk::{Desk, EMBEDDED_CONFIG};
    use crate::domain::i18n::Catalog;

    fn response(id: &str, language: Lang, title: &str, text: &str) -> CannedResponse {
        CannedResponse {
            id: id.into(),
            title: title.into(),
            text: text.into(),
            language,
            teams: vec![],
            tags: vec![],
        }
    }

    fn all_values() -> PlaceholderValues {
        PlaceholderValues {
            customer_name: Some("Ana".into()),
            ticket_id: Some("TK-42".into()),
            agent_name: Some("Sam".into()),
            order_number: Some("AB-1234".into()),
        }
    }

    fn shipped() -> Desk {
        Desk::from_toml(EMBEDDED_CONFIG, &Catalog::builtin()).unwrap()
    }

    /// The shipped desk with the first canned entry edited.
    fn with_first(edit: impl FnOnce(&mut toml::Table)) -> Result<Desk, DeskConfigError> {
        with(|canned| edit(canned[0].as_table_mut().unwrap()))
    }

    fn with(edit: impl FnOnce(&mut Vec<toml::Value>)) -> Result<Desk, DeskConfigError> {
        let mut table: toml::Table = toml::from_str(EMBEDDED_CONFIG).unwrap();
        edit(table["canned"].as_array_mut().unwrap());
        Desk::from_toml(&toml::to_string(&table).unwrap(), &Catalog::builtin())
    }

    fn refused(result: Result<Desk, DeskConfigError>) -> (String, String) {
        match result {
            Err(DeskConfigError::Invalid { field, problem }) => (field, problem),
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    fn ids(found: &[&CannedResponse]) -> Vec<(String, Lang)> {
        found.iter().map(|r| (r.id.clone(), r.language)).collect()
    }

    #[test]
    fn fill_replaces_every_placeholder() {
        let r = response(
            "all",
            Lang::En,
            "All",
            "Hi {customer_name}, {agent_name} here about {order_number} ({ticket_id}). Bye {customer_name}.",
        );
        assert_eq!(
            fill(&r, &all_values()).unwrap(),
            "Hi Ana, Sam here about AB-1234 (TK-42). Bye Ana."
        );
    }

    #[test]
    fn missing_values_are_all_listed_and_nothing_is_filled() {
        let r = response(
            "x",
            Lang::Fr,
            "X",
            "{order_number} pour {customer_name}, {agent_name}, {order_number}",
        );
        let values = PlaceholderValues {
            customer_name: Some("Ana".into()),
            agent_name: Some("   ".into()),
            ..PlaceholderValues::default()
        };
        let err = fill(&r, &values).unwrap_err();
        assert_eq!(
            err,
            FillError::Missing {
                id: "x".into(),
                language: Lang::Fr,
                missing: vec![Placeholder::OrderNumber, Placeholder::AgentName],
            }
        );
        assert_eq!(
            err.to_string(),
            "canned response \"x\" (fr) needs a value for {order_number} and {agent_name}"
        );
        // A text without placeholders needs no values.
        assert_eq!(
            fill(&response("y", Lang::En, "Y", "Thanks!"), &PlaceholderValues::default()).unwrap(),
            "Thanks!"
        );
    }

    #[test]
    fn inserted_values_are_never_expanded_again() {
        let r = response("x", Lang::En, "X", "Hi {customer_name}, ticket {ticket_id}");
        let values = PlaceholderValues {
            customer_name: Some("{ticket_id} {{agent_name}}".into()),
            ..all_values()
        };
        assert_eq!(
            fill(&r, &values).unwrap(),
            "Hi {ticket_id} {{agent_name}}, ticket TK-42"
        );
    }

    #[test]
    fn doubled_braces_are_literal_braces() {
        let r = response("x", Lang::En, "X", "Type {{code}} for {customer_name} }}");
        assert_eq!(fill(&r, &all_values()).unwrap(), "Type {code} for Ana }");
        assert_eq!(r.placeholders(), vec![Placeholder::CustomerName]);
    }

    #[test]
    fn a_text_too_long_once_filled_is_refused() {
        // Exactly at the limit as written ("{customer_name}" is 15 characters).
        let text = format!("{}{{customer_name}}", "a".repeat(MAX_TEXT - 15));
        let r = response("x", Lang::En, "X", &text);
        assert!(check(std::slice::from_ref(&r), &[]).is_ok());
        let name = |n: &str| PlaceholderValues {
            customer_name: Some(n.into()),
            ..PlaceholderValues::default()
        };
        assert_eq!(
            fill(&r, &name(&"n".repeat(15))).map(|t| t.chars().count()),
            Ok(MAX_TEXT)
        );
        assert!(matches!(
            fill(&r, &name(&"n".repeat(20))),
            Err(FillError::TooLong { chars, .. }) if chars == MAX_TEXT + 5
        ));
    }

    #[test]
    fn search_ignores_case_and_accents() {
        let desk = shipped();
        let found = |q: &str| ids(&desk.search_canned("billing", Lang::Fr, q));
        let refund = vec![("refund-timeline".to_owned(), Lang::Fr)];
        assert_eq!(found("remboursement"), refund);
        assert_eq!(found("REMBOURSEMENT"), refund);
        assert_eq!(found("delais"), refund);
        assert_eq!(found("  Délais!  "), refund);
        assert_eq!(found("rembours"), refund);
        assert!(found("nothing like this").is_empty());
    }

    #[test]
    fn only_the_teams_listed_see_a_restricted_response() {
        let desk = shipped();
        let found = |team: &str| ids(&desk.search_canned(team, Lang::En, "refund"));
        assert_eq!(found("billing"), vec![("refund-timeline".to_owned(), Lang::En)]);
        assert_eq!(found("billing-experts"), vec![("refund-timeline".to_owned(), Lang::En)]);
        assert!(found("support").is_empty());
        assert!(found("tech").is_empty());
        assert!(desk.canned_response("refund-timeline", "support", Lang::En).is_none());
        assert!(desk.canned_response("device-reset", "tech", Lang::En).is_some());
        assert!(desk.canned_response("device-reset", "billing", Lang::En).is_none());
    }

    #[test]
    fn a_response_missing_in_the_customers_language_falls_back_to_the_default_one() {
        let desk = shipped();
        // German: nothing is translated, every response comes in English.
        let german = desk.search_canned("support", Lang::De, "");
        assert!(!german.is_empty());
        assert!(german.iter().all(|r| r.language == Lang::En));
        // French: the translated ones in French, the others in English, each id once.
        let french = ids(&desk.search_canned("support", Lang::Fr, ""));
        assert!(french.contains(&("introduction".to_owned(), Lang::Fr)));
        assert!(french.contains(&("order-delayed".to_owned(), Lang::En)));
        assert!(!french.contains(&("introduction".to_owned(), Lang::En)));
        assert_eq!(
            desk.canned_response("order-delayed", "support", Lang::Es)
                .map(|r| r.language),
            Some(Lang::En)
        );
        assert_eq!(
            desk.canned_response("introduction", "support", Lang::Es)
                .map(|r| r.language),
            Some(Lang::Es)
        );
        // A version in a third language is never offered.
        let only_spanish = [response("solo", Lang::Es, "Solo", "Hola")];
        assert!(search(&only_spanish, "support", Lang::Fr, Lang::En, "").is_empty());
        assert!(find(&only_spanish, "solo", "support", Lang::Fr, Lang::En).is_none());
    }

    #[test]
    fn title_then_id_prefixes_rank_first_then_words_then_the_text() {
        let mut tagged = response("zz-tagged", Lang::En, "Something else", "Nothing.");
        tagged.tags = vec!["Refunds".into()];
        let responses = [
            response("in-text", Lang::En, "Bank delays", "Your refund is on its way."),
            tagged,
            response("b-refund", Lang::En, "Partial refund", "Half of it."),
            response("refund-late", Lang::En, "Late payment", "Soon."),
            response("a-refund", Lang::En, "Refund approved", "Yes."),
            response("unrelated", Lang::En, "Hello", "Hi {customer_name}"),
        ];
        let order = |q: &str| -> Vec<String> {
            search(&responses, "support", Lang::En, Lang::En, q)
                .iter()
                .map(|r| r.id.clone())
                .collect()
        };
        assert_eq!(
            order("refund"),
            ["a-refund", "refund-late", "b-refund", "zz-tagged", "in-text"]
        );
        assert_eq!(
            order("fund"),
            ["refund-late", "b-refund", "a-refund", "zz-tagged", "in-text"]
        );
        assert_eq!(order("late pay"), ["refund-late"]);
        assert_eq!(order("pay late"), ["refund-late"]);
        // Placeholder names are not searchable text.
        assert!(order("customer").is_empty());
        // An empty query is everything, by title.
        assert_eq!(
            order(""),
            [
                "in-text",
                "unrelated",
                "refund-late",
                "b-refund",
                "a-refund",
                "zz-tagged"
            ]
        );
        assert_eq!(order("?!"), order(""));
    }

    #[test]
    fn the_shipped_desk_loads_its_canned_responses() {
        let desk = shipped();
        let canned = &desk.config.canned;
        assert!(canned.len() >= 8);
        for id in ["introduction", "refund-timeline"] {
            for lang in [Lang::En, Lang::Fr, Lang::Es] {
                assert!(canned.iter().any(|r| r.id == id && r.language == lang), "{id} {lang}");
            }
        }
        assert!(canned.iter().any(|r| r.teams.len() == 1));
        let used: HashSet<Placeholder> = canned.iter().flat_map(CannedResponse::placeholders).collect();
        assert_eq!(used, Placeholder::ALL.into_iter().collect());
        for r in canned {
            let filled = fill(r, &all_values()).unwrap();
            assert!(!filled.contains(['{', '}']), "{filled}");
        }
    }

    #[test]
    fn an_unknown_placeholder_is_refused_naming_the_entry() {
        let (field, problem) = refused(with_first(|c| {
            c.insert("text".into(), "Hi {customer_name}, order {order_nr} {Agent}".into());
        }));
        assert_eq!(field, "canned[0].text");
        assert!(problem.contains("\"introduction\" (en)"), "{problem}");
        assert!(problem.contains("{order_nr}, {Agent}"), "{problem}");
        assert!(problem.contains("{order_number}"), "{problem}");
    }

    #[test]
    fn unbalanced_braces_are_refused() {
        for text in ["Hi {customer_name", "Hi {customer_name {ticket_id}}", "Hi } there"] {
            let (field, problem) = refused(with_first(|c| {
                c.insert("text".into(), text.into());
            }));
            assert_eq!(field, "canned[0].text", "{text}");
            assert!(problem.contains("literal brace"), "{problem}");
        }
    }

    #[test]
    fn an_unknown_team_is_refused() {
        let (field, problem) = refused(with_first(|c| {
            c.insert(
                "teams".into(),
                toml::Value::Array(vec!["support".into(), "ghosts".into()]),
            );
        }));
        assert_eq!(field, "canned[0].teams[1]");
        assert!(problem.contains("\"ghosts\""), "{problem}");
    }

    #[test]
    fn a_second_version_in_the_same_language_is_refused() {
        let (field, problem) = refused(with(|canned| {
            let mut copy = canned[1].clone();
            copy.as_table_mut().unwrap().insert("title".into(), "Autre".into());
            canned.push(copy);
        }));
        assert_eq!(field, format!("canned[{}].id", shipped().config.canned.len()));
        assert!(problem.contains("\"introduction\" (fr)"), "{problem}");
        assert!(problem.contains("twice"), "{problem}");
    }

    #[test]
    fn empty_and_overlong_texts_are_refused() {
        let (field, problem) = refused(with_first(|c| {
            c.insert("text".into(), "  \n ".into());
        }));
        assert_eq!(
            (field.as_str(), problem.ends_with("is empty")),
            ("canned[0].text", true)
        );
        let (field, problem) = refused(with_first(|c| {
            c.insert("text".into(), "é".repeat(MAX_TEXT + 1).into());
        }));
        assert_eq!(field, "canned[0].text");
        assert!(problem.contains("4097 characters"), "{problem}");
        // Exactly the limit (counted in characters, not bytes) is fine.
        with_first(|c| {
            c.insert("text".into(), "é".repeat(MAX_TEXT).into());
        })
        .unwrap();
    }

    #[test]
    fn a_bad_id_title_or_tag_is_refused() {
        let cases: [(&str, toml::Value, &str); 3] = [
            ("id", "Refund Timeline".into(), "canned[0].id"),
            ("title", " ".into(), "canned[0].title"),
            (
                "tags",
                toml::Value::Array(vec!["ok".into(), "!!".into()]),
                "canned[0].tags[1]",
            ),
        ];
        for (key, value, expected) in cases {
            let (field, _) = refused(with_first(|c| {
                c.insert(key.into(), value);
            }));
            assert_eq!(field, expected);
        }
    }

    #[test]
    fn a_desk_without_canned_responses_loads() {
        let mut table: toml::Table = toml::from_str(EMBEDDED_CONFIG).unwrap();
        table.remove("canned");
        let desk = Desk::from_toml(&toml::to_string(&table).unwrap(), &Catalog::builtin()).unwrap();
        assert!(desk.search_canned("support", Lang::En, "").is_empty());
    }
}
