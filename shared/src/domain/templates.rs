//! Approved message templates: once a customer's 24-hour window has closed,
//! the only messages that reach them. What the Graph API lists
//! (`GET /{waba-id}/message_templates`) is read into [`MessageTemplate`]; an
//! agent's send is checked against that list ([`check_send`]) before it is
//! queued, so a wrong name, language or parameter is refused where it is made
//! (with why) rather than by Meta later (132000, 132001).

use crate::domain::i18n::Lang;
use crate::domain::outbound::{MAX_TEMPLATE_PARAMETER, OutboundBody};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// Meta's review status of a template that may be sent.
pub const APPROVED: &str = "APPROVED";

/// One template in one language, as the Business Account has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    /// `order_update`.
    pub name: String,
    /// The language code it was approved in: `en`, `en_US`, `pt_PT`.
    pub language: String,
    /// Meta's category in lower case: `utility`, `marketing`, `authentication`
    /// (also the pricing category of its sends).
    pub category: String,
    /// Meta's review status in upper case: `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`…
    pub status: String,
    /// The body text with its `{{1}}`, `{{2}}`… placeholders.
    pub body: String,
    /// How many body parameters a send gives: the highest `{{n}}` of the body.
    pub body_parameters: usize,
    /// The labels of its quick-reply buttons, in order.
    #[serde(default)]
    pub quick_replies: Vec<String>,
}

/// Why a template listed by the Graph API is not offered to agents: a send
/// carries body parameters only, so a template that needs anything else
/// (a header's media or variable, a button's variable, named parameters,
/// a one-time code) cannot be sent from the workspace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("not a template: {0} is missing")]
    Missing(&'static str),
    #[error("authentication templates carry one-time codes, not replies")]
    Authentication,
    #[error("its parameters are named; sends carry positional ones")]
    NamedParameters,
    #[error("its header needs a parameter ({0})")]
    Header(String),
    #[error("its {0} button needs a parameter")]
    Button(String),
    #[error("it has a {0} component")]
    Component(String),
}

impl MessageTemplate {
    /// Reads one item of the Graph API's `message_templates` list
    /// (`name`, `language`, `status`, `category`, `parameter_format`,
    /// `components`), whatever its status.
    pub fn from_graph(item: &Value) -> Result<MessageTemplate, Unsupported> {
        let text = |key: &'static str| {
            item.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .ok_or(Unsupported::Missing(key))
        };
        let name = text("name")?;
        let language = text("language")?;
        let status = text("status")?;
        let category = item.get("category").and_then(Value::as_str).unwrap_or_default();
        if category.eq_ignore_ascii_case("authentication") {
            return Err(Unsupported::Authentication);
        }
        if item
            .get("parameter_format")
            .and_then(Value::as_str)
            .is_some_and(|f| f.eq_ignore_ascii_case("named"))
        {
            return Err(Unsupported::NamedParameters);
        }
        let mut body = None;
        let mut quick_replies = Vec::new();
        let components = item.get("components").and_then(Value::as_array);
        for component in components.into_iter().flatten() {
            let kind = component
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_uppercase();
            let component_text = component.get("text").and_then(Value::as_str).unwrap_or_default();
            match kind.as_str() {
                "BODY" => body = Some(component_text.to_owned()),
                "FOOTER" => {}
                "HEADER" => {
                    let format = component
                        .get("format")
                        .and_then(Value::as_str)
                        .unwrap_or("TEXT")
                        .to_ascii_uppercase();
                    if format != "TEXT" {
                        return Err(Unsupported::Header(format.to_lowercase()));
                    }
                    if component_text.contains("{{") {
                        return Err(Unsupported::Header("text".into()));
                    }
                }
                "BUTTONS" => {
                    let buttons = component.get("buttons").and_then(Value::as_array);
                    for button in buttons.into_iter().flatten() {
                        let kind = button
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_ascii_uppercase();
                        let label = button.get("text").and_then(Value::as_str).unwrap_or_default();
                        match kind.as_str() {
                            "QUICK_REPLY" => quick_replies.push(label.to_owned()),
                            "PHONE_NUMBER" => {}
                            "URL"
                                if !button
                                    .get("url")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .contains("{{") => {}
                            other => return Err(Unsupported::Button(other.to_lowercase())),
                        }
                    }
                }
                other => return Err(Unsupported::Component(other.to_lowercase())),
            }
        }
        let body = body.ok_or(Unsupported::Missing("the body"))?;
        let body_parameters = placeholders(&body).ok_or(Unsupported::NamedParameters)?;
        Ok(MessageTemplate {
            name: name.to_owned(),
            language: language.to_owned(),
            category: category.to_ascii_lowercase(),
            status: status.to_ascii_uppercase(),
            body,
            body_parameters,
            quick_replies,
        })
    }

    pub fn is_approved(&self) -> bool {
        self.status.eq_ignore_ascii_case(APPROVED)
    }

    /// Whether it is in `lang` (any region: `en_US` is English, `pt_PT` Portuguese).
    pub fn speaks(&self, lang: Lang) -> bool {
        Lang::parse(&self.language) == Some(lang)
    }

    /// What the customer reads: the body with `parameters` in place of its
    /// placeholders, then the quick-reply buttons.
    pub fn preview(&self, parameters: &[String]) -> String {
        let mut out = String::new();
        let mut rest = self.body.as_str();
        while let Some(open) = rest.find("{{") {
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else { break };
            out.push_str(&rest[..open]);
            let value = after[..close]
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| parameters.get(i));
            match value {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[open..open + 2 + close + 2]),
            }
            rest = &after[close + 2..];
        }
        out.push_str(rest);
        if !self.quick_replies.is_empty() {
            out.push_str(&format!(" [{}]", self.quick_replies.join(" | ")));
        }
        out
    }

    /// The message that sends it with `parameters` (checked by [`check_send`]).
    pub fn message(&self, parameters: Vec<String>) -> OutboundBody {
        OutboundBody::Template {
            name: self.name.clone(),
            language: self.language.clone(),
            parameters,
            // A tap then comes back with the button's label as its payload.
            quick_replies: Vec::new(),
        }
    }
}

/// The number of parameters a body takes: its highest `{{n}}` (Meta numbers
/// them from 1 without gaps); `None` when a placeholder is not a number.
fn placeholders(body: &str) -> Option<usize> {
    let mut seen = BTreeSet::new();
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        seen.insert(after[..close].trim().parse::<usize>().ok().filter(|n| *n > 0)?);
        rest = &after[close + 2..];
    }
    Some(seen.last().copied().unwrap_or(0))
}

/// Why an agent's template send is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateRefusal {
    #[error("name: no approved template is named {0:?}")]
    Unknown(String),
    #[error("language: {name:?} is not approved in {language:?}; it is in {}", available.join(", "))]
    Language {
        name: String,
        language: String,
        available: Vec<String>,
    },
    #[error("name: {name:?} in {language:?} is {status}, not approved")]
    NotApproved {
        name: String,
        language: String,
        status: String,
    },
    #[error("parameters: {name:?} takes {expected} parameters; {given} given")]
    ParameterCount {
        name: String,
        expected: usize,
        given: usize,
    },
    #[error("parameters: parameter {index} is empty")]
    EmptyParameter { index: usize },
    #[error("parameters: parameter {index} has {len} characters; the limit is {MAX_TEMPLATE_PARAMETER}")]
    ParameterTooLong { index: usize, len: usize },
    #[error("parameters: parameter {index} holds a new line, a tab or more than 4 spaces in a row")]
    ParameterFormat { index: usize },
}

/// Language codes compared as Meta writes them (`pt_PT`), whatever the case or separator.
fn same_language(a: &str, b: &str) -> bool {
    a.trim()
        .replace('-', "_")
        .eq_ignore_ascii_case(&b.trim().replace('-', "_"))
}

/// Checks a send of template `name` in `language` with `parameters` (for
/// `{{1}}`, `{{2}}`… in order) against `templates`: it exists in that
/// language, is approved, and takes exactly these parameters, each 1 to
/// 1024 characters on one line. Answers the template to send.
pub fn check_send<'t>(
    templates: &'t [MessageTemplate],
    name: &str,
    language: &str,
    parameters: &[String],
) -> Result<&'t MessageTemplate, TemplateRefusal> {
    let named: Vec<&MessageTemplate> = templates.iter().filter(|t| t.name == name.trim()).collect();
    if named.is_empty() {
        return Err(TemplateRefusal::Unknown(name.to_owned()));
    }
    let template = named
        .iter()
        .find(|t| same_language(&t.language, language))
        .ok_or_else(|| TemplateRefusal::Language {
            name: name.to_owned(),
            language: language.to_owned(),
            available: named
                .iter()
                .filter(|t| t.is_approved())
                .map(|t| t.language.clone())
                .collect(),
        })?;
    if !template.is_approved() {
        return Err(TemplateRefusal::NotApproved {
            name: template.name.clone(),
            language: template.language.clone(),
            status: template.status.clone(),
        });
    }
    if parameters.len() != template.body_parameters {
        return Err(TemplateRefusal::ParameterCount {
            name: template.name.clone(),
            expected: template.body_parameters,
            given: parameters.len(),
        });
    }
    for (i, parameter) in parameters.iter().enumerate() {
        let index = i + 1;
        let len = parameter.chars().count();
        if parameter.trim().is_empty() {
            return Err(TemplateRefusal::EmptyParameter { index });
        }
        if len > MAX_TEMPLATE_PARAMETER {
            return Err(TemplateRefusal::ParameterTooLong { index, len });
        }
        if parameter.contains(['\n', '\t']) || parameter.contains("     ") {
            return Err(TemplateRefusal::ParameterFormat { index });
        }
    }
    Ok(template)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(name: &str, language: &str, body: &str) -> MessageTemplate {
        MessageTemplate {
            name: name.into(),
            language: language.into(),
            category: "utility".into(),
            status: APPROVED.into(),
            body: body.into(),
            body_parameters: placeholders(body).unwrap(),
            quick_replies: vec![],
        }
    }

    fn catalogue() -> Vec<MessageTemplate> {
        vec![
            template("order_update", "en", "There is an update on your order {{1}}."),
            template("order_update", "pt_PT", "Há novidades sobre a sua encomenda {{1}}."),
            template(
                "sla_update",
                "en",
                "An update on your request: the {{1}} team has it and will answer {{2}}.",
            ),
            MessageTemplate {
                status: "PAUSED".into(),
                ..template("promo", "en", "Hello")
            },
        ]
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_send_with_the_right_name_language_and_parameters_answers_its_template() {
        let all = catalogue();

        let found = check_send(&all, "sla_update", "en", &strings(&["billing", "within 2 hours"])).unwrap();

        assert_eq!(found.name, "sla_update");
        assert_eq!(
            found.preview(&strings(&["billing", "within 2 hours"])),
            "An update on your request: the billing team has it and will answer within 2 hours."
        );
        assert_eq!(
            check_send(&all, "order_update", "pt-pt", &strings(&["AB-1234"])).map(|t| t.language.as_str()),
            Ok("pt_PT")
        );
    }

    #[test]
    fn an_unknown_name_or_language_or_an_unapproved_template_is_refused_saying_why() {
        let all = catalogue();

        let unknown = check_send(&all, "nope", "en", &[]).unwrap_err();
        let language = check_send(&all, "order_update", "fr", &strings(&["AB-1234"])).unwrap_err();
        let paused = check_send(&all, "promo", "en", &[]).unwrap_err();

        assert_eq!(unknown.to_string(), "name: no approved template is named \"nope\"");
        assert_eq!(
            language.to_string(),
            "language: \"order_update\" is not approved in \"fr\"; it is in en, pt_PT"
        );
        assert_eq!(paused.to_string(), "name: \"promo\" in \"en\" is PAUSED, not approved");
    }

    #[test]
    fn parameters_must_match_in_number_and_each_be_one_line_of_1_to_1024_characters() {
        let all = catalogue();
        let send = |p: &[String]| check_send(&all, "sla_update", "en", p).map(|t| t.name.clone());

        assert_eq!(
            send(&strings(&["billing"])).unwrap_err().to_string(),
            "parameters: \"sla_update\" takes 2 parameters; 1 given"
        );
        assert_eq!(
            send(&strings(&["billing", "x", "y"])).unwrap_err(),
            TemplateRefusal::ParameterCount {
                name: "sla_update".into(),
                expected: 2,
                given: 3
            }
        );
        assert_eq!(
            send(&strings(&["billing", "  "])).unwrap_err(),
            TemplateRefusal::EmptyParameter { index: 2 }
        );
        assert_eq!(
            send(&["é".repeat(1025), "today".into()]).unwrap_err(),
            TemplateRefusal::ParameterTooLong { index: 1, len: 1025 }
        );
        assert!(send(&["é".repeat(1024), "today".into()]).is_ok());
        assert_eq!(
            send(&strings(&["billing", "to\nday"])).unwrap_err(),
            TemplateRefusal::ParameterFormat { index: 2 }
        );
    }

    #[test]
    fn the_graph_api_listing_is_read_with_its_parameters_and_quick_replies() {
        let item = json!({
            "name": "csat_request", "parameter_format": "POSITIONAL", "language": "pt_PT",
            "status": "APPROVED", "category": "UTILITY", "id": "1",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Help desk"},
                {"type": "BODY", "text": "Rate {{1}} from 1 to 5, {{2}}?",
                 "example": {"body_text": [["us", "please"]]}},
                {"type": "FOOTER", "text": "Acme"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "1"}, {"type": "QUICK_REPLY", "text": "5"},
                    {"type": "URL", "text": "Site", "url": "https://acme.example/help"}
                ]}
            ]
        });

        let read = MessageTemplate::from_graph(&item).unwrap();

        assert_eq!(
            read,
            MessageTemplate {
                name: "csat_request".into(),
                language: "pt_PT".into(),
                category: "utility".into(),
                status: "APPROVED".into(),
                body: "Rate {{1}} from 1 to 5, {{2}}?".into(),
                body_parameters: 2,
                quick_replies: strings(&["1", "5"]),
            }
        );
        assert!(read.speaks(Lang::Pt) && !read.speaks(Lang::En));
        assert_eq!(
            read.preview(&strings(&["us", "please"])),
            "Rate us from 1 to 5, please? [1 | 5]"
        );
        assert_eq!(
            read.message(strings(&["us", "please"])),
            OutboundBody::Template {
                name: "csat_request".into(),
                language: "pt_PT".into(),
                parameters: strings(&["us", "please"]),
                quick_replies: vec![],
            }
        );
    }

    #[test]
    fn templates_a_reply_cannot_fill_are_not_offered() {
        let with = |extra: Value| {
            let mut item = json!({"name": "t", "language": "en", "status": "APPROVED", "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Hi {{1}}"}]});
            for (k, v) in extra.as_object().unwrap() {
                item[k] = v.clone();
            }
            MessageTemplate::from_graph(&item)
        };
        let components = |c: Value| with(json!({ "components": c }));

        assert!(with(json!({})).is_ok());
        assert_eq!(
            with(json!({"category": "AUTHENTICATION"})),
            Err(Unsupported::Authentication)
        );
        assert_eq!(
            with(json!({"parameter_format": "NAMED"})),
            Err(Unsupported::NamedParameters)
        );
        assert_eq!(
            components(json!([{"type": "BODY", "text": "Hi {{first_name}}"}])),
            Err(Unsupported::NamedParameters)
        );
        assert_eq!(
            components(json!([{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Hi"}])),
            Err(Unsupported::Header("image".into()))
        );
        assert_eq!(
            components(
                json!([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, {"type": "BODY", "text": "Hi"}])
            ),
            Err(Unsupported::Header("text".into()))
        );
        assert_eq!(
            components(json!([{"type": "BODY", "text": "Hi"}, {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Track", "url": "https://acme.example/t/{{1}}"}]}])),
            Err(Unsupported::Button("url".into()))
        );
        assert_eq!(
            components(json!([{"type": "FOOTER", "text": "x"}])),
            Err(Unsupported::Missing("the body"))
        );
        assert_eq!(with(json!({"name": ""})), Err(Unsupported::Missing("name")));
    }

    #[test]
    fn the_parameter_count_is_the_highest_placeholder_and_a_preview_keeps_what_it_cannot_fill() {
        assert_eq!(placeholders("no parameters"), Some(0));
        assert_eq!(placeholders("{{1}} and {{ 2 }} and {{1}}"), Some(2));
        assert_eq!(placeholders("{{0}}"), None);
        assert_eq!(placeholders("{{name}}"), None);
        let t = template("t", "en", "Hi {{1}}, see {{2}}");
        assert_eq!(t.preview(&strings(&["Ana"])), "Hi Ana, see {{2}}");
    }
}
