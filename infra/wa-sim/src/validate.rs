//! Validation of outbound message bodies against the Cloud API's rules and limits.

use crate::errors::{self, GraphError};
use crate::identity;
use serde_json::Value;
use std::collections::HashSet;

/// Message types the send endpoint accepts.
pub const SEND_TYPES: &[&str] = &[
    "text",
    "interactive",
    "template",
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "reaction",
];

/// Media message types.
pub const MEDIA_TYPES: &[&str] = &["image", "document", "audio", "video", "sticker"];

/// Who a send goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// `to`: a phone number, its digits.
    Phone(String),
    /// `recipient`: a business-scoped user id.
    UserId(String),
}

/// A send request that passed validation.
#[derive(Debug, Clone)]
pub struct ValidSend {
    /// `to` or `recipient` as given.
    pub input: String,
    /// The recipient it names.
    pub recipient: Recipient,
    /// The message type.
    pub kind: String,
}

fn len(s: &str) -> usize {
    s.chars().count()
}

fn object<'a>(value: &'a Value, name: &str) -> Result<&'a serde_json::Map<String, Value>, GraphError> {
    match value.get(name) {
        None | Some(Value::Null) => Err(errors::required_parameter(name)),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(errors::invalid_parameter(format!("{name} must be an object"))),
    }
}

fn string<'a>(map: &'a serde_json::Map<String, Value>, path: &str, key: &str) -> Result<&'a str, GraphError> {
    match map.get(key) {
        None | Some(Value::Null) => Err(errors::required_parameter(&format!("{path}.{key}"))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(errors::invalid_parameter(format!("{path}.{key} must be a string"))),
    }
}

fn optional_string<'a>(
    map: &'a serde_json::Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<Option<&'a str>, GraphError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(errors::invalid_parameter(format!("{path}.{key} must be a string"))),
    }
}

fn non_empty_max(value: &str, field: &str, max: usize) -> Result<(), GraphError> {
    if value.trim().is_empty() {
        return Err(errors::invalid_parameter(format!("{field} must not be empty")));
    }
    max_len(value, field, max)
}

fn max_len(value: &str, field: &str, max: usize) -> Result<(), GraphError> {
    let n = len(value);
    if n > max {
        return Err(errors::invalid_parameter(format!(
            "{field} is too long: {n} characters, the maximum is {max}"
        )));
    }
    Ok(())
}

/// Checks a send body; `media_known` tells whether a media id exists.
pub fn validate_send(body: &Value, media_known: &dyn Fn(&str) -> bool) -> Result<ValidSend, GraphError> {
    let map = body
        .as_object()
        .ok_or_else(|| errors::invalid_parameter("The request body must be a JSON object"))?;
    match map.get("messaging_product") {
        None | Some(Value::Null) => return Err(errors::required_parameter("messaging_product")),
        Some(Value::String(p)) if p == "whatsapp" => {}
        Some(other) => {
            return Err(errors::invalid_parameter(format!(
                "messaging_product must be \"whatsapp\", got {other}"
            )));
        }
    }
    if let Some(rt) = map.get("recipient_type")
        && rt.as_str() != Some("individual")
    {
        return Err(errors::invalid_parameter("recipient_type must be \"individual\""));
    }
    let (input, recipient) = recipient_of(map)?;
    let kind = match map.get("type") {
        None | Some(Value::Null) => "text".to_string(),
        Some(Value::String(t)) => t.clone(),
        Some(_) => return Err(errors::invalid_parameter("type must be a string")),
    };
    if !SEND_TYPES.contains(&kind.as_str()) {
        return Err(errors::invalid_parameter(format!(
            "type: unsupported message type \"{kind}\"; expected one of {}",
            SEND_TYPES.join(", ")
        )));
    }
    if let Some(context) = map.get("context") {
        let ok = context
            .get("message_id")
            .and_then(Value::as_str)
            .is_some_and(|id| !id.is_empty());
        if !ok {
            return Err(errors::invalid_parameter("context.message_id is required in context"));
        }
    }
    match kind.as_str() {
        "text" => {
            let text = object(body, "text")?;
            let body_text = string(text, "text", "body")?;
            non_empty_max(body_text, "text.body", 4096)?;
            if let Some(p) = text.get("preview_url")
                && !p.is_boolean()
            {
                return Err(errors::invalid_parameter("text.preview_url must be a boolean"));
            }
        }
        "interactive" => validate_interactive(object(body, "interactive")?, media_known)?,
        "template" => {
            let template = object(body, "template")?;
            non_empty_max(string(template, "template", "name")?, "template.name", 512)?;
            let language = match template.get("language") {
                Some(Value::Object(l)) => l,
                None | Some(Value::Null) => return Err(errors::required_parameter("template.language")),
                Some(_) => return Err(errors::invalid_parameter("template.language must be an object")),
            };
            non_empty_max(
                string(language, "template.language", "code")?,
                "template.language.code",
                15,
            )?;
            match template.get("components") {
                None | Some(Value::Null) => {}
                Some(Value::Array(components)) => validate_template_components(components)?,
                Some(_) => return Err(errors::invalid_parameter("template.components must be an array")),
            }
        }
        "reaction" => {
            let reaction = object(body, "reaction")?;
            non_empty_max(string(reaction, "reaction", "message_id")?, "reaction.message_id", 512)?;
            // An empty emoji removes a reaction, so only the type is checked.
            string(reaction, "reaction", "emoji")?;
        }
        media => validate_media(object(body, media)?, media, media_known)?,
    }
    Ok(ValidSend { input, recipient, kind })
}

/// `to` (a phone number) or `recipient` (a business-scoped user id), exactly one of them.
fn recipient_of(map: &serde_json::Map<String, Value>) -> Result<(String, Recipient), GraphError> {
    let field = |name: &str| match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(errors::invalid_parameter(format!("{name} must be a string"))),
    };
    match (field("to")?, field("recipient")?) {
        (Some(_), Some(_)) => Err(errors::invalid_parameter(
            "Give either to (a phone number) or recipient (a business-scoped user id), not both",
        )),
        (None, None) => Err(errors::required_parameter("to")),
        (Some(to), None) => {
            let trimmed = to.trim();
            if identity::parse_user_id(trimmed).is_ok() || identity::parse_parent_user_id(trimmed).is_ok() {
                // Reports say Meta silently drops a BSUID placed in `to`; refusing makes the mistake loud.
                return Err(errors::invalid_parameter(format!(
                    "to: \"{to}\" is a business-scoped user id, not a phone number; send to it with \"recipient\" (and \"recipient_type\": \"individual\")"
                )));
            }
            let digits: String = to.chars().filter(|c| c.is_ascii_digit()).collect();
            let formatting_only = to
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
            if digits.is_empty() || !formatting_only || digits.len() > 20 {
                return Err(errors::invalid_parameter("Invalid recipient"));
            }
            Ok((to, Recipient::Phone(digits)))
        }
        (None, Some(recipient)) => match identity::parse_user_id(&recipient) {
            Ok(id) => Ok((recipient, Recipient::UserId(id))),
            Err(reason) => Err(errors::invalid_parameter(format!(
                "recipient: {reason}; the simulator delivers to a customer's own business-scoped user id"
            ))),
        },
    }
}

/// Template buttons: at most 10, indexed 0 to 9.
const MAX_TEMPLATE_BUTTONS: usize = 10;

/// The values sent for a template's variables. The approved template itself is
/// not known here, so the number of parameters is not checked (132000).
fn validate_template_components(components: &[Value]) -> Result<(), GraphError> {
    let mut indexes = HashSet::new();
    for (c, component) in components.iter().enumerate() {
        let path = format!("template.components[{c}]");
        let component = component
            .as_object()
            .ok_or_else(|| errors::invalid_parameter(format!("{path} must be an object")))?;
        let kind = string(component, &path, "type")?.to_ascii_lowercase();
        let parameters = match component.get("parameters") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(p)) => p.as_slice(),
            Some(_) => return Err(errors::invalid_parameter(format!("{path}.parameters must be an array"))),
        };
        match kind.as_str() {
            "header" | "body" | "footer" => {
                for (i, parameter) in parameters.iter().enumerate() {
                    validate_template_parameter(parameter, &format!("{path}.parameters[{i}]"))?;
                }
            }
            "button" => {
                let sub_type = string(component, &path, "sub_type")?.to_ascii_lowercase();
                // Meta documents the index as a string and accepts a number.
                let index = match component.get("index") {
                    Some(Value::String(i)) => i.parse::<usize>().ok(),
                    Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
                    None | Some(Value::Null) => return Err(errors::required_parameter(&format!("{path}.index"))),
                    Some(_) => None,
                };
                let index = index
                    .filter(|i| *i < MAX_TEMPLATE_BUTTONS)
                    .ok_or_else(|| errors::invalid_parameter(format!("{path}.index must be a number from 0 to 9")))?;
                if !indexes.insert(index) {
                    return Err(errors::invalid_parameter(format!(
                        "{path}.index: two button components share the index {index}"
                    )));
                }
                if sub_type == "quick_reply" {
                    if parameters.len() != 1 {
                        return Err(errors::invalid_parameter(format!(
                            "{path}.parameters: a quick_reply button takes exactly one payload parameter"
                        )));
                    }
                    let ppath = format!("{path}.parameters[0]");
                    let parameter = parameters[0]
                        .as_object()
                        .ok_or_else(|| errors::invalid_parameter(format!("{ppath} must be an object")))?;
                    if string(parameter, &ppath, "type")? != "payload" {
                        return Err(errors::invalid_parameter(format!("{ppath}.type must be \"payload\"")));
                    }
                    non_empty_max(string(parameter, &ppath, "payload")?, &format!("{ppath}.payload"), 256)?;
                } else if !matches!(
                    sub_type.as_str(),
                    "url" | "copy_code" | "flow" | "catalog" | "mpm" | "voice_call"
                ) {
                    return Err(errors::invalid_parameter(format!(
                        "{path}.sub_type: unsupported button sub_type \"{sub_type}\""
                    )));
                }
            }
            other => {
                return Err(errors::invalid_parameter(format!(
                    "{path}.type: unsupported component type \"{other}\"; expected header, body, footer or button"
                )));
            }
        }
    }
    Ok(())
}

/// A header or body parameter; text values follow Meta's format rule.
fn validate_template_parameter(parameter: &Value, path: &str) -> Result<(), GraphError> {
    let parameter = parameter
        .as_object()
        .ok_or_else(|| errors::invalid_parameter(format!("{path} must be an object")))?;
    if string(parameter, path, "type")? == "text" {
        let text = string(parameter, path, "text")?;
        non_empty_max(text, &format!("{path}.text"), 32768)?;
        if text.contains(['\n', '\t']) || text.contains("     ") {
            return Err(errors::invalid_parameter(format!(
                "{path}.text: Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
            )));
        }
    }
    Ok(())
}

fn validate_media(
    media: &serde_json::Map<String, Value>,
    path: &str,
    media_known: &dyn Fn(&str) -> bool,
) -> Result<(), GraphError> {
    let id = optional_string(media, path, "id")?;
    let link = optional_string(media, path, "link")?;
    match (id, link) {
        (Some(_), Some(_)) => {
            return Err(errors::invalid_parameter(format!(
                "{path}: give exactly one of id and link, not both"
            )));
        }
        (None, None) => {
            return Err(errors::invalid_parameter(format!(
                "{path}: one of id and link is required"
            )));
        }
        (Some(id), None) => {
            if !media_known(id) {
                return Err(errors::invalid_parameter(format!(
                    "{path}.id: media id {id} does not exist or has expired"
                )));
            }
        }
        (None, Some(link)) => {
            if !(link.starts_with("http://") || link.starts_with("https://")) {
                return Err(errors::invalid_parameter(format!("{path}.link must be an http(s) URL")));
            }
        }
    }
    if let Some(caption) = optional_string(media, path, "caption")? {
        if matches!(path, "audio" | "sticker") {
            return Err(errors::invalid_parameter(format!(
                "{path}.caption is not allowed on {path}"
            )));
        }
        max_len(caption, &format!("{path}.caption"), 1024)?;
    }
    optional_string(media, path, "filename")?;
    Ok(())
}

fn validate_interactive(
    interactive: &serde_json::Map<String, Value>,
    media_known: &dyn Fn(&str) -> bool,
) -> Result<(), GraphError> {
    let kind = string(interactive, "interactive", "type")?;
    if !matches!(kind, "button" | "list" | "request_contact_info") {
        return Err(errors::invalid_parameter(format!(
            "interactive.type: unsupported interactive type \"{kind}\"; expected button, list or request_contact_info"
        )));
    }
    let body = match interactive.get("body") {
        Some(Value::Object(b)) => b,
        None | Some(Value::Null) => return Err(errors::required_parameter("interactive.body")),
        Some(_) => return Err(errors::invalid_parameter("interactive.body must be an object")),
    };
    non_empty_max(string(body, "interactive.body", "text")?, "interactive.body.text", 1024)?;
    if kind == "request_contact_info" && interactive.get("header").is_some_and(|h| !h.is_null()) {
        // Meta's examples of this message show a body and the action only.
        return Err(errors::invalid_parameter(
            "interactive.header is not allowed on request_contact_info messages",
        ));
    }
    if let Some(header) = interactive.get("header").filter(|h| !h.is_null()) {
        let header = header
            .as_object()
            .ok_or_else(|| errors::invalid_parameter("interactive.header must be an object"))?;
        let header_type = string(header, "interactive.header", "type")?;
        match header_type {
            "text" => non_empty_max(
                string(header, "interactive.header", "text")?,
                "interactive.header.text",
                60,
            )?,
            "image" | "video" | "document" if kind == "button" => {
                let media = match header.get(header_type) {
                    Some(Value::Object(m)) => m,
                    _ => {
                        return Err(errors::required_parameter(&format!("interactive.header.{header_type}")));
                    }
                };
                validate_media(media, &format!("interactive.header.{header_type}"), media_known)?;
            }
            other => {
                return Err(errors::invalid_parameter(format!(
                    "interactive.header.type \"{other}\" is not allowed for {kind} messages"
                )));
            }
        }
    }
    if let Some(footer) = interactive.get("footer").filter(|f| !f.is_null()) {
        let footer = footer
            .as_object()
            .ok_or_else(|| errors::invalid_parameter("interactive.footer must be an object"))?;
        non_empty_max(
            string(footer, "interactive.footer", "text")?,
            "interactive.footer.text",
            60,
        )?;
    }
    let action = match interactive.get("action") {
        Some(Value::Object(a)) => a,
        None | Some(Value::Null) => return Err(errors::required_parameter("interactive.action")),
        Some(_) => return Err(errors::invalid_parameter("interactive.action must be an object")),
    };
    if kind == "request_contact_info" {
        if string(action, "interactive.action", "name")? != "request_contact_info" {
            return Err(errors::invalid_parameter(
                "interactive.action.name must be \"request_contact_info\"",
            ));
        }
        if let Some(other) = action.keys().find(|k| k.as_str() != "name") {
            return Err(errors::invalid_parameter(format!(
                "interactive.action.{other} is not allowed on request_contact_info messages"
            )));
        }
    } else if kind == "button" {
        let buttons = match action.get("buttons") {
            Some(Value::Array(b)) => b,
            None | Some(Value::Null) => {
                return Err(errors::required_parameter("interactive.action.buttons"));
            }
            Some(_) => {
                return Err(errors::invalid_parameter("interactive.action.buttons must be an array"));
            }
        };
        if buttons.is_empty() || buttons.len() > 3 {
            return Err(errors::invalid_parameter(format!(
                "interactive.action.buttons: {} buttons given, between 1 and 3 are allowed",
                buttons.len()
            )));
        }
        let mut ids = HashSet::new();
        for (i, button) in buttons.iter().enumerate() {
            let path = format!("interactive.action.buttons[{i}]");
            let button = button
                .as_object()
                .ok_or_else(|| errors::invalid_parameter(format!("{path} must be an object")))?;
            if string(button, &path, "type")? != "reply" {
                return Err(errors::invalid_parameter(format!("{path}.type must be \"reply\"")));
            }
            let reply = match button.get("reply") {
                Some(Value::Object(r)) => r,
                _ => return Err(errors::required_parameter(&format!("{path}.reply"))),
            };
            let rpath = format!("{path}.reply");
            let id = string(reply, &rpath, "id")?;
            non_empty_max(id, &format!("{rpath}.id"), 256)?;
            non_empty_max(string(reply, &rpath, "title")?, &format!("{rpath}.title"), 20)?;
            if !ids.insert(id.to_string()) {
                return Err(errors::invalid_parameter(format!(
                    "{rpath}.id: duplicate button id \"{id}\"; button ids must be unique"
                )));
            }
        }
    } else {
        non_empty_max(
            string(action, "interactive.action", "button")?,
            "interactive.action.button",
            20,
        )?;
        let sections = match action.get("sections") {
            Some(Value::Array(s)) => s,
            None | Some(Value::Null) => {
                return Err(errors::required_parameter("interactive.action.sections"));
            }
            Some(_) => {
                return Err(errors::invalid_parameter(
                    "interactive.action.sections must be an array",
                ));
            }
        };
        if sections.is_empty() || sections.len() > 10 {
            return Err(errors::invalid_parameter(format!(
                "interactive.action.sections: {} sections given, between 1 and 10 are allowed",
                sections.len()
            )));
        }
        let mut ids = HashSet::new();
        let mut total = 0usize;
        for (s, section) in sections.iter().enumerate() {
            let path = format!("interactive.action.sections[{s}]");
            let section = section
                .as_object()
                .ok_or_else(|| errors::invalid_parameter(format!("{path} must be an object")))?;
            match optional_string(section, &path, "title")? {
                Some(title) => non_empty_max(title, &format!("{path}.title"), 24)?,
                None if sections.len() > 1 => {
                    return Err(errors::required_parameter(&format!("{path}.title")));
                }
                None => {}
            }
            let rows = match section.get("rows") {
                Some(Value::Array(r)) => r,
                _ => return Err(errors::required_parameter(&format!("{path}.rows"))),
            };
            if rows.is_empty() {
                return Err(errors::invalid_parameter(format!("{path}.rows must not be empty")));
            }
            for (r, row) in rows.iter().enumerate() {
                total += 1;
                let rpath = format!("{path}.rows[{r}]");
                let row = row
                    .as_object()
                    .ok_or_else(|| errors::invalid_parameter(format!("{rpath} must be an object")))?;
                let id = string(row, &rpath, "id")?;
                non_empty_max(id, &format!("{rpath}.id"), 200)?;
                non_empty_max(string(row, &rpath, "title")?, &format!("{rpath}.title"), 24)?;
                if let Some(d) = optional_string(row, &rpath, "description")? {
                    max_len(d, &format!("{rpath}.description"), 72)?;
                }
                if !ids.insert(id.to_string()) {
                    return Err(errors::invalid_parameter(format!(
                        "{rpath}.id: duplicate row id \"{id}\"; row ids must be unique"
                    )));
                }
            }
        }
        if total > 10 {
            return Err(errors::invalid_parameter(format!(
                "interactive.action.sections: {total} rows in total, at most 10 are allowed"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(result: Result<ValidSend, GraphError>) -> i64 {
        result.unwrap_err().body["error"]["code"].as_i64().unwrap()
    }

    #[test]
    fn a_plain_text_message_passes_and_normalises_the_recipient() {
        let body = json!({"messaging_product":"whatsapp","to":"+1 555 0100","type":"text","text":{"body":"hi"}});
        let ok = validate_send(&body, &|_| false).unwrap();
        assert_eq!(ok.recipient, Recipient::Phone("15550100".into()));
        assert_eq!(ok.input, "+1 555 0100");
    }

    #[test]
    fn a_bsuid_goes_in_recipient_and_is_refused_in_to() {
        let by_id = json!({"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.13491208655302741918",
            "type":"text","text":{"body":"hi"}});
        let in_to =
            json!({"messaging_product":"whatsapp","to":"US.13491208655302741918","type":"text","text":{"body":"hi"}});
        let both =
            json!({"messaging_product":"whatsapp","to":"1555","recipient":"US.1","type":"text","text":{"body":"hi"}});
        let bad = json!({"messaging_product":"whatsapp","recipient":"15551234567","type":"text","text":{"body":"hi"}});

        assert_eq!(
            validate_send(&by_id, &|_| false).unwrap().recipient,
            Recipient::UserId("US.13491208655302741918".into())
        );
        assert_eq!(code(validate_send(&in_to, &|_| false)), 100);
        assert_eq!(code(validate_send(&both, &|_| false)), 100);
        assert_eq!(code(validate_send(&bad, &|_| false)), 100);
    }

    #[test]
    fn a_request_contact_info_message_needs_its_body_and_action_name() {
        let ask = |interactive: Value| json!({"messaging_product":"whatsapp","recipient":"US.1","type":"interactive","interactive":interactive});
        let good = ask(
            json!({"type":"request_contact_info","body":{"text":"Share your number?"},
            "action":{"name":"request_contact_info"}}),
        );
        assert!(validate_send(&good, &|_| false).is_ok());
        for bad in [
            json!({"type":"request_contact_info","action":{"name":"request_contact_info"}}),
            json!({"type":"request_contact_info","body":{"text":"x"},"action":{"name":"send_location"}}),
            json!({"type":"request_contact_info","body":{"text":"x"}}),
            json!({"type":"request_contact_info","body":{"text":"x"},"action":{"name":"request_contact_info","buttons":[]}}),
            json!({"type":"request_contact_info","header":{"type":"text","text":"h"},"body":{"text":"x"},
                "action":{"name":"request_contact_info"}}),
        ] {
            assert_eq!(code(validate_send(&ask(bad.clone()), &|_| false)), 100, "{bad}");
        }
    }

    #[test]
    fn a_list_with_eleven_rows_is_refused() {
        let rows: Vec<_> = (0..11).map(|i| json!({"id": format!("r{i}"), "title": "t"})).collect();
        let body = json!({"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{
            "type":"list","body":{"text":"b"},"action":{"button":"Pick","sections":[{"rows":rows}]}}});
        assert_eq!(code(validate_send(&body, &|_| false)), 100);
    }

    #[test]
    fn duplicate_button_ids_are_refused() {
        let b = json!({"type":"reply","reply":{"id":"x","title":"X"}});
        let body = json!({"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{
            "type":"button","body":{"text":"b"},"action":{"buttons":[b, b]}}});
        assert_eq!(code(validate_send(&body, &|_| false)), 100);
    }

    fn template(components: Value) -> Value {
        json!({"messaging_product":"whatsapp","to":"1","type":"template","template":{
            "name":"csat_request","language":{"code":"pt_PT"},"components":components}})
    }

    #[test]
    fn a_template_with_body_parameters_and_quick_reply_payloads_passes() {
        let body = template(json!([
            {"type":"body","parameters":[{"type":"text","text":"billing"},{"type":"text","text":"by Monday at 09:00"}]},
            {"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"csat:TK-1:1"}]},
            {"type":"button","sub_type":"quick_reply","index":1,"parameters":[{"type":"payload","payload":"csat:TK-1:2"}]}
        ]));
        assert_eq!(validate_send(&body, &|_| false).unwrap().kind, "template");
    }

    #[test]
    fn template_components_meta_would_refuse_are_refused() {
        let quick = |index: Value, payload: &str| json!({"type":"button","sub_type":"quick_reply","index":index,"parameters":[{"type":"payload","payload":payload}]});
        for components in [
            json!([{"type":"body","parameters":[{"type":"text","text":"two\nlines"}]}]),
            json!([{"type":"body","parameters":[{"type":"text","text":"wide     gap"}]}]),
            json!([quick(json!("0"), "a"), quick(json!("0"), "b")]),
            json!([quick(json!("10"), "a")]),
            json!([quick(json!("0"), "")]),
            json!([{"type":"button","sub_type":"quick_reply","parameters":[{"type":"payload","payload":"a"}]}]),
            json!([{"type":"sidebar"}]),
        ] {
            assert_eq!(
                code(validate_send(&template(components.clone()), &|_| false)),
                100,
                "{components}"
            );
        }
    }

    #[test]
    fn media_needs_exactly_one_of_id_and_link() {
        let both =
            json!({"messaging_product":"whatsapp","to":"1","type":"image","image":{"id":"1","link":"https://x"}});
        assert_eq!(code(validate_send(&both, &|_| true)), 100);
        let unknown = json!({"messaging_product":"whatsapp","to":"1","type":"image","image":{"id":"1"}});
        assert_eq!(code(validate_send(&unknown, &|_| false)), 100);
        let link = json!({"messaging_product":"whatsapp","to":"1","type":"image","image":{"link":"https://x/y.jpg"}});
        assert!(validate_send(&link, &|_| false).is_ok());
    }
}
