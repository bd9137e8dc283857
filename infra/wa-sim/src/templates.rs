//! Approved message templates: the registry a template send is checked against (name, language,
//! category, body parameters, quick replies), its seed, and its listing in Meta's shape.

use crate::errors::{self, GraphError};
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// Languages the seed templates are approved in: the ones the helpdesk sends templates in.
const SEED_LANGUAGES: &[&str] = &["en", "fr", "es", "it", "pt_PT", "de"];

/// Most buttons a template may have (Meta: 10).
const MAX_BUTTONS: usize = 10;

/// Page size of the template listing when `limit` is not given.
const DEFAULT_PAGE: usize = 25;

/// A template's category, which is also the pricing category of its sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Transactional updates.
    Utility,
    /// Promotions.
    Marketing,
    /// One-time codes; cannot be sent to a business-scoped user id (131062).
    Authentication,
    /// Service templates.
    Service,
}

impl Category {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "utility" => Some(Self::Utility),
            "marketing" => Some(Self::Marketing),
            "authentication" => Some(Self::Authentication),
            "service" => Some(Self::Service),
            _ => None,
        }
    }

    /// The lowercase name status webhooks use in `pricing.category`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utility => "utility",
            Self::Marketing => "marketing",
            Self::Authentication => "authentication",
            Self::Service => "service",
        }
    }
}

/// One approved template in one language.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    /// Template name, e.g. `sla_update`.
    pub name: String,
    /// Language code, e.g. `en` or `pt_PT`.
    pub language: String,
    /// Category.
    pub category: Category,
    /// How many `{{n}}` parameters its body takes.
    pub body_parameters: usize,
    /// Labels of its quick-reply buttons, in order (button indexes 0, 1, ...).
    pub quick_replies: Vec<String>,
    /// Body text with `{{1}}`, `{{2}}`... placeholders.
    pub body_text: String,
    /// Numeric template id.
    pub id: String,
}

impl Template {
    fn new(
        name: &str,
        language: &str,
        category: Category,
        body_text: &str,
        body_parameters: usize,
        quick_replies: Vec<String>,
    ) -> Self {
        let digest = Sha256::digest(format!("template:{name}:{language}").as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // 16 digits, like Meta's template ids.
        let id = 1_000_000_000_000_000 + u64::from_be_bytes(first) % 9_000_000_000_000_000;
        Self {
            name: name.into(),
            language: language.into(),
            category,
            body_parameters,
            quick_replies,
            body_text: body_text.into(),
            id: id.to_string(),
        }
    }

    /// The template as `GET /{version}/{waba-id}/message_templates` lists it.
    fn listing(&self) -> Value {
        let mut body = json!({"type": "BODY", "text": self.body_text});
        if self.body_parameters > 0 {
            let examples: Vec<String> = (1..=self.body_parameters).map(|i| format!("example {i}")).collect();
            body["example"] = json!({"body_text": [examples]});
        }
        let mut components = vec![body];
        if self.category == Category::Authentication {
            // Meta lists an authentication template's copy-code button as a URL button.
            components.push(json!({"type": "BUTTONS", "buttons": [{
                "type": "URL",
                "text": "Copy code",
                "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}",
            }]}));
        } else if !self.quick_replies.is_empty() {
            let buttons: Vec<Value> = self
                .quick_replies
                .iter()
                .map(|label| json!({"type": "QUICK_REPLY", "text": label}))
                .collect();
            components.push(json!({"type": "BUTTONS", "buttons": buttons}));
        }
        json!({
            "name": self.name,
            "parameter_format": "POSITIONAL",
            "components": components,
            "language": self.language,
            "status": "APPROVED",
            "category": self.category.as_str().to_ascii_uppercase(),
            "id": self.id,
        })
    }
}

/// The registry of approved templates, in the order they were added.
#[derive(Debug, Clone)]
pub struct Templates {
    list: Vec<Template>,
}

impl Default for Templates {
    /// The seed: `sla_update` (utility, 2 body parameters), `csat_request` (utility, quick replies
    /// 1 to 5), `order_update` (utility, 1 parameter) and `login_code` (authentication, 1
    /// parameter), each in en, fr, es, it, pt_PT and de.
    fn default() -> Self {
        let scores: Vec<String> = (1..=5).map(|s| s.to_string()).collect();
        let mut list = Vec::new();
        for language in SEED_LANGUAGES {
            list.push(Template::new(
                "sla_update",
                language,
                Category::Utility,
                "An update on your request: the {{1}} team has it and will answer {{2}}.",
                2,
                Vec::new(),
            ));
            list.push(Template::new(
                "csat_request",
                language,
                Category::Utility,
                "How would you rate the help you received, from 1 to 5?",
                0,
                scores.clone(),
            ));
            list.push(Template::new(
                "order_update",
                language,
                Category::Utility,
                "There is an update on your order {{1}}.",
                1,
                Vec::new(),
            ));
            list.push(Template::new(
                "login_code",
                language,
                Category::Authentication,
                "*{{1}}* is your verification code.",
                1,
                Vec::new(),
            ));
        }
        Self { list }
    }
}

fn count_parameters(component: &Map<String, Value>) -> usize {
    component
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

fn button_index(component: &Map<String, Value>) -> Option<usize> {
    match component.get("index")? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        _ => None,
    }
}

fn params_mismatch(part: &str, got: usize, want: usize) -> GraphError {
    errors::with_details(
        132000,
        &format!("{part}: number of localizable_params ({got}) does not match the expected number of params ({want})"),
    )
}

impl Templates {
    /// Every template, in order.
    pub fn all(&self) -> &[Template] {
        &self.list
    }

    /// The template `name` approved in `language`.
    pub fn find(&self, name: &str, language: &str) -> Option<&Template> {
        self.list.iter().find(|t| t.name == name && t.language == language)
    }

    /// Adds a template, or replaces the one with the same name and language.
    pub fn upsert(&mut self, template: Template) {
        match self
            .list
            .iter_mut()
            .find(|t| t.name == template.name && t.language == template.language)
        {
            Some(existing) => *existing = template,
            None => self.list.push(template),
        }
    }

    /// Removes `name` in `language`, or in every language; returns how many were removed.
    pub fn remove(&mut self, name: &str, language: Option<&str>) -> usize {
        let before = self.list.len();
        self.list
            .retain(|t| !(t.name == name && language.is_none_or(|l| l == t.language)));
        before - self.list.len()
    }

    /// Checks a validated `template` send object against the registry: an unknown name or
    /// language answers 132001, a wrong number of parameters 132000, both in Meta's wording.
    pub fn check_send(&self, template: &Map<String, Value>) -> Result<&Template, GraphError> {
        let name = template.get("name").and_then(Value::as_str).unwrap_or_default();
        let language = template
            .get("language")
            .and_then(|l| l.get("code"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let approved = self.find(name, language).ok_or_else(|| {
            errors::with_details(132001, &format!("template name ({name}) does not exist in {language}"))
        })?;
        let components = template
            .get("components")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let (mut body, mut header) = (0, 0);
        for component in components.iter().filter_map(Value::as_object) {
            let kind = component
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            match kind.as_str() {
                "body" => body += count_parameters(component),
                "header" => header += count_parameters(component),
                "button" => {
                    let quick = component
                        .get("sub_type")
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.eq_ignore_ascii_case("quick_reply"));
                    let index = button_index(component).unwrap_or_default();
                    if quick && index >= approved.quick_replies.len() {
                        // Meta's docs do not give this case's wording; this follows 132000's style.
                        return Err(errors::with_details(
                            132000,
                            &format!(
                                "buttons: the template has {} quick reply buttons, so there is no button at index {index}",
                                approved.quick_replies.len()
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        if header != 0 {
            return Err(params_mismatch("header", header, 0));
        }
        if body != approved.body_parameters {
            return Err(params_mismatch("body", body, approved.body_parameters));
        }
        Ok(approved)
    }

    /// One page of `GET /{version}/{waba-id}/message_templates` in Meta's shape (`data` and
    /// `paging`). Filters: `name` (part of the name), `language`, `category`, `status`; paging:
    /// `limit` (default 25) and `after` (a cursor from an earlier page). `url` is the listing's
    /// own URL, for `paging.next`.
    pub fn page(&self, query: &HashMap<String, String>, url: &str) -> Result<Value, GraphError> {
        let limit = match query.get("limit") {
            None => DEFAULT_PAGE,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => return Err(errors::invalid_parameter("limit must be a number from 1 to 1000")),
            },
        };
        let start = match query.get("after") {
            None => 0,
            Some(cursor) => decode_cursor(cursor)
                .map(|i| i + 1)
                .ok_or_else(|| errors::invalid_parameter("after: the cursor is not one this API gave"))?,
        };
        let keep = |t: &Template| {
            query.get("name").is_none_or(|n| t.name.contains(n.as_str()))
                && query.get("language").is_none_or(|l| *l == t.language)
                && query
                    .get("category")
                    .is_none_or(|c| c.eq_ignore_ascii_case(t.category.as_str()))
                && query.get("status").is_none_or(|s| s.eq_ignore_ascii_case("approved"))
        };
        let matching: Vec<(usize, &Template)> = self.list.iter().enumerate().filter(|(_, t)| keep(t)).collect();
        let page: Vec<&(usize, &Template)> = matching.iter().filter(|(i, _)| *i >= start).take(limit).collect();
        let data: Vec<Value> = page.iter().map(|(_, t)| t.listing()).collect();
        let mut answer = json!({ "data": data });
        if let (Some((first, _)), Some((last, _))) = (page.first(), page.last()) {
            answer["paging"] = json!({"cursors": {"before": encode_cursor(*first), "after": encode_cursor(*last)}});
            if matching.iter().any(|(i, _)| i > last) {
                let mut params: Vec<(String, String)> = query
                    .iter()
                    .filter(|(k, _)| k.as_str() != "after" && k.as_str() != "limit")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                params.sort();
                params.push(("limit".into(), limit.to_string()));
                params.push(("after".into(), encode_cursor(*last)));
                if let Ok(next) = reqwest::Url::parse_with_params(url, &params) {
                    answer["paging"]["next"] = json!(next.as_str());
                }
            }
        }
        Ok(answer)
    }
}

fn encode_cursor(index: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("template:{index}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("template:")?.parse().ok()
}

/// Distinct `{{n}}` placeholders in a body text.
fn placeholders(text: &str) -> usize {
    let mut seen = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                if let Ok(n) = after[..close].trim().parse::<u32>() {
                    seen.insert(n);
                }
                rest = &after[close + 2..];
            }
            None => break,
        }
    }
    seen.len()
}

fn usize_field(map: &Map<String, Value>, key: &str, max: usize) -> Result<Option<usize>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n <= max)
            .map(Some)
            .ok_or_else(|| format!("{key} must be a whole number from 0 to {max}")),
    }
}

/// Reads one template for `POST /_sim/templates`: `{"name", "language": "en" | ["en", "fr"],
/// "category": "utility|marketing|authentication|service", "body_parameters": 2,
/// "quick_replies": 5 | ["Yes", "No"], "body_text": "..."}`; one template per language.
pub fn parse_registration(value: &Value) -> Result<Vec<Template>, String> {
    let map = value.as_object().ok_or("each template must be a JSON object")?;
    const KEYS: &[&str] = &[
        "name",
        "language",
        "category",
        "body_parameters",
        "quick_replies",
        "body_text",
    ];
    if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field \"{unknown}\"; a template has {}",
            KEYS.join(", ")
        ));
    }
    let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
    let name_ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(format!(
            "name must be 1 to 512 lowercase letters, digits and underscores (as Meta requires); got \"{name}\""
        ));
    }
    let languages: Vec<String> = match map.get("language") {
        Some(Value::String(l)) => vec![l.clone()],
        Some(Value::Array(ls)) if !ls.is_empty() => ls
            .iter()
            .map(|l| l.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or("language must be a code or a list of codes")?,
        _ => return Err("language is required: a code such as \"en\" or \"pt_PT\", or a list of them".into()),
    };
    for language in &languages {
        let ok = !language.is_empty()
            && language.len() <= 15
            && language.chars().all(|c| c.is_ascii_alphabetic() || c == '_');
        if !ok {
            return Err(format!(
                "language \"{language}\" is not a language code such as en or pt_PT"
            ));
        }
    }
    let category = map
        .get("category")
        .and_then(Value::as_str)
        .and_then(Category::parse)
        .ok_or("category must be one of utility, marketing, authentication, service")?;
    let body_text = match map.get("body_text") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if !t.trim().is_empty() => Some(t.clone()),
        Some(_) => return Err("body_text must be a non-empty string".into()),
    };
    let declared = usize_field(map, "body_parameters", 100)?;
    let body_parameters = match (declared, &body_text) {
        (Some(n), Some(text)) if placeholders(text) != n => {
            return Err(format!(
                "body_text has {} placeholders but body_parameters is {n}",
                placeholders(text)
            ));
        }
        (Some(n), _) => n,
        (None, Some(text)) => placeholders(text),
        (None, None) => 0,
    };
    let quick_replies: Vec<String> = match map.get("quick_replies") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(labels)) => labels
            .iter()
            .map(|l| {
                l.as_str()
                    .filter(|s| !s.is_empty() && s.chars().count() <= 25)
                    .map(str::to_string)
            })
            .collect::<Option<_>>()
            .ok_or("quick_replies labels must be strings of 1 to 25 characters")?,
        Some(_) => {
            let n = usize_field(map, "quick_replies", MAX_BUTTONS)?.unwrap_or_default();
            (1..=n).map(|i| format!("Option {i}")).collect()
        }
    };
    if quick_replies.len() > MAX_BUTTONS {
        return Err(format!("a template has at most {MAX_BUTTONS} buttons"));
    }
    if category == Category::Authentication && !quick_replies.is_empty() {
        return Err("authentication templates have a copy-code button, not quick replies".into());
    }
    let text = body_text.unwrap_or_else(|| {
        let params: Vec<String> = (1..=body_parameters).map(|i| format!("{{{{{i}}}}}")).collect();
        format!("{name} {}", params.join(" ")).trim_end().to_string()
    });
    Ok(languages
        .iter()
        .map(|language| Template::new(name, language, category, &text, body_parameters, quick_replies.clone()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(name: &str, language: &str, components: Value) -> Map<String, Value> {
        json!({"name": name, "language": {"code": language}, "components": components})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    fn code(result: Result<&Template, GraphError>) -> (i64, String) {
        let err = result.expect_err("an error");
        (
            err.body["error"]["code"].as_i64().unwrap_or_default(),
            err.body["error"]["error_data"]["details"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }

    #[test]
    fn the_seed_templates_pass_with_the_right_number_of_parameters() {
        let t = Templates::default();
        let body = json!([{"type": "body", "parameters": [{"type": "text", "text": "billing"}, {"type": "text", "text": "today"}]}]);
        let quick: Vec<Value> = (0..5)
            .map(|i| json!({"type": "button", "sub_type": "quick_reply", "index": i.to_string(), "parameters": [{"type": "payload", "payload": "x"}]}))
            .collect();

        assert_eq!(
            t.check_send(&send("sla_update", "pt_PT", body))
                .ok()
                .map(|t| t.category),
            Some(Category::Utility)
        );
        assert!(t.check_send(&send("csat_request", "de", json!(quick))).is_ok());
        assert_eq!(t.all().len(), 24);
    }

    #[test]
    fn unknown_names_or_languages_are_132001_and_wrong_counts_132000() {
        let t = Templates::default();
        let one = json!([{"type": "body", "parameters": [{"type": "text", "text": "x"}]}]);
        let sixth = json!([{"type": "button", "sub_type": "quick_reply", "index": "5", "parameters": [{"type": "payload", "payload": "x"}]}]);

        assert_eq!(
            code(t.check_send(&send("nope", "en", json!([])))),
            (132001, "template name (nope) does not exist in en".into())
        );
        assert_eq!(code(t.check_send(&send("sla_update", "en_US", json!([])))).0, 132001);
        assert_eq!(
            code(t.check_send(&send("sla_update", "en", one))),
            (
                132000,
                "body: number of localizable_params (1) does not match the expected number of params (2)".into()
            )
        );
        assert_eq!(code(t.check_send(&send("order_update", "en", json!([])))).0, 132000);
        assert_eq!(code(t.check_send(&send("csat_request", "en", sixth))).0, 132000);
    }

    #[test]
    fn a_registration_takes_one_template_per_language_and_counts_placeholders() {
        let parsed = parse_registration(
            &json!({"name": "welcome", "language": ["en", "fr"], "category": "marketing",
            "body_text": "Hi {{1}}, see {{2}} and {{1}}", "quick_replies": ["Yes", "No"]}),
        )
        .unwrap_or_default();

        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].language, "fr");
        assert_eq!(parsed[0].body_parameters, 2);
        assert_eq!(parsed[0].quick_replies, ["Yes", "No"]);
        for bad in [
            json!({"name": "Bad Name", "language": "en", "category": "utility"}),
            json!({"name": "x", "language": "en", "category": "promo"}),
            json!({"name": "x", "category": "utility"}),
            json!({"name": "x", "language": "en", "category": "utility", "body_parameters": 1, "body_text": "none"}),
            json!({"name": "x", "language": "en", "category": "utility", "quick_replies": 11}),
            json!({"name": "x", "language": "en", "category": "utility", "colour": "red"}),
        ] {
            assert!(parse_registration(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_listing_pages_with_cursors_in_metas_shape() {
        let t = Templates::default();
        let query: HashMap<String, String> = [("limit".to_string(), "10".to_string())].into();

        let first = t
            .page(&query, "http://sim/v26.0/1/message_templates")
            .unwrap_or_default();
        let after = first["paging"]["cursors"]["after"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut next_query = query.clone();
        next_query.insert("after".into(), after);
        let second = t
            .page(&next_query, "http://sim/v26.0/1/message_templates")
            .unwrap_or_default();

        assert_eq!(first["data"].as_array().map(Vec::len), Some(10));
        assert_eq!(first["data"][0]["name"], "sla_update");
        assert_eq!(first["data"][0]["status"], "APPROVED");
        assert_eq!(first["data"][0]["category"], "UTILITY");
        assert!(first["paging"]["next"].as_str().unwrap_or_default().contains("after="));
        assert_eq!(second["data"][0]["name"], "order_update");
        assert_eq!(second["data"][0]["language"], "es");
        assert!(
            t.page(&[("after".to_string(), "zzz".to_string())].into(), "http://x")
                .is_err()
        );
    }
}
