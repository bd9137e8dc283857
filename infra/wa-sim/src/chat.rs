//! Terminal chat: a person plays one customer (by phone or business-scoped user id) against a
//! running simulator through its control API.

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// A choice offered by the last interactive message (a reply button or a list
/// row) or template (a quick-reply button).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// `button_reply` or `list_reply`; `button` for a template's quick reply.
    pub reply_type: &'static str,
    /// The id the business gave the button or row; a quick reply's payload.
    pub id: String,
    /// Its title.
    pub title: String,
    /// A list row's description.
    pub description: Option<String>,
}

impl Choice {
    /// The customer message that picks this choice.
    pub fn reply_message(&self) -> Value {
        if self.reply_type == "button" {
            return json!({"type": "button", "button": {"payload": self.id, "text": self.title}});
        }
        let mut reply = json!({"id": self.id, "title": self.title});
        if let Some(d) = &self.description {
            reply["description"] = json!(d);
        }
        json!({"type": "interactive", "interactive": {"type": self.reply_type, self.reply_type: reply}})
    }
}

fn text_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// Renders one inbox entry for the terminal; returns the lines and the choices it offers.
pub fn render(entry: &Value) -> (Vec<String>, Vec<Choice>) {
    let message = &entry["message"];
    let kind = entry["type"].as_str().unwrap_or("?");
    let mut lines = Vec::new();
    let mut choices = Vec::new();
    match kind {
        "text" => lines.push(text_at(message, "/text/body").unwrap_or("").to_string()),
        "interactive" if text_at(message, "/interactive/type") == Some("request_contact_info") => {
            lines.push(text_at(message, "/interactive/body/text").unwrap_or("").to_string());
            lines.push("  [asks for your phone number: /share-phone shares it]".to_string());
        }
        "interactive" => {
            let i = &message["interactive"];
            if let Some(h) = text_at(i, "/header/text") {
                lines.push(format!("*{h}*"));
            }
            lines.push(text_at(i, "/body/text").unwrap_or("").to_string());
            if let Some(f) = text_at(i, "/footer/text") {
                lines.push(format!("_{f}_"));
            }
            if let Some(buttons) = i.pointer("/action/buttons").and_then(Value::as_array) {
                for b in buttons {
                    choices.push(Choice {
                        reply_type: "button_reply",
                        id: text_at(b, "/reply/id").unwrap_or("").to_string(),
                        title: text_at(b, "/reply/title").unwrap_or("").to_string(),
                        description: None,
                    });
                }
            }
            if let Some(sections) = i.pointer("/action/sections").and_then(Value::as_array) {
                if let Some(label) = text_at(i, "/action/button") {
                    lines.push(format!("({label})"));
                }
                for s in sections {
                    if let Some(t) = s["title"].as_str() {
                        lines.push(format!("  {t}"));
                    }
                    for row in s["rows"].as_array().into_iter().flatten() {
                        choices.push(Choice {
                            reply_type: "list_reply",
                            id: row["id"].as_str().unwrap_or("").to_string(),
                            title: row["title"].as_str().unwrap_or("").to_string(),
                            description: row["description"].as_str().map(str::to_string),
                        });
                        let c = choices.last().expect("just pushed");
                        let n = choices.len();
                        match &c.description {
                            Some(d) => lines.push(format!("  [{n}] {} - {d}", c.title)),
                            None => lines.push(format!("  [{n}] {}", c.title)),
                        }
                    }
                }
            } else {
                for (n, c) in choices.iter().enumerate() {
                    lines.push(format!("  [{}] {}", n + 1, c.title));
                }
            }
        }
        "template" => {
            let t = &message["template"];
            let mut params = Vec::new();
            for c in t["components"].as_array().into_iter().flatten() {
                for p in c["parameters"].as_array().into_iter().flatten() {
                    if let Some(text) = p["text"].as_str() {
                        params.push(text.to_string());
                    }
                }
            }
            let mut line = format!(
                "[template {} ({})]",
                t["name"].as_str().unwrap_or("?"),
                text_at(t, "/language/code").unwrap_or("?")
            );
            if !params.is_empty() {
                line.push_str(&format!(" {}", params.join(" | ")));
            }
            lines.push(line);
            // The buttons' labels are in the approved template, unknown here: the payload stands in.
            for c in t["components"].as_array().into_iter().flatten() {
                if c["type"] == "button"
                    && c["sub_type"] == "quick_reply"
                    && let Some(payload) = text_at(c, "/parameters/0/payload")
                {
                    choices.push(Choice {
                        reply_type: "button",
                        id: payload.to_string(),
                        title: payload.to_string(),
                        description: None,
                    });
                    lines.push(format!("  [{}] {payload}", choices.len()));
                }
            }
        }
        "reaction" => lines.push(format!(
            "[reacted {} to {}]",
            text_at(message, "/reaction/emoji").unwrap_or(""),
            text_at(message, "/reaction/message_id").unwrap_or("?")
        )),
        media => {
            let m = &message[media];
            let source = m["id"]
                .as_str()
                .map(|id| format!("media id {id}"))
                .or_else(|| m["link"].as_str().map(str::to_string))
                .unwrap_or_default();
            let mut line = format!("[{media}: {source}]");
            if let Some(name) = m["filename"].as_str() {
                line.push_str(&format!(" {name}"));
            }
            if let Some(caption) = m["caption"].as_str() {
                line.push_str(&format!(" {caption}"));
            }
            lines.push(line);
        }
    }
    (lines, choices)
}

/// What one line typed by the person means.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Nothing to do.
    Empty,
    /// Leave.
    Quit,
    /// Show the commands.
    Help,
    /// Send this customer message.
    Send(Value),
    /// Edit the `nth` last message sent (1 is the last) to this text.
    Edit {
        /// 1 for the last message, 2 for the one before...
        nth: usize,
        /// The new text.
        text: String,
    },
    /// Delete the `nth` last message sent for everyone.
    Revoke {
        /// 1 for the last message, 2 for the one before...
        nth: usize,
    },
    /// Answer the business's contact request with the customer's own phone.
    SharePhone,
    /// Change the customer's settings (`PUT /_sim/customers/{customer}`) without sending anything.
    Configure(Value),
    /// A mistake to report.
    Invalid(String),
}

/// Reads `<n> <rest>` where n counts back from the last message sent (1 is the last).
fn nth_and_rest(args: &str) -> Option<(usize, &str)> {
    let (n, rest) = args.split_once(' ').unwrap_or((args, ""));
    n.parse::<usize>().ok().filter(|n| *n >= 1).map(|n| (n, rest.trim()))
}

fn absolute(path: &str) -> String {
    std::fs::canonicalize(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string())
}

/// Interprets a typed line, given the choices currently offered.
pub fn parse_line(line: &str, choices: &[Choice]) -> Input {
    let line = line.trim();
    if line.is_empty() {
        return Input::Empty;
    }
    if let Some(rest) = line.strip_prefix('/') {
        let (command, args) = rest.split_once(' ').unwrap_or((rest, ""));
        let args = args.trim();
        let (path, caption) = args.split_once(' ').unwrap_or((args, ""));
        let caption = caption.trim();
        let media = |kind: &str, extra: Value| {
            if path.is_empty() {
                return Input::Invalid(format!("usage: /{command} <path> [caption]"));
            }
            let mut object = json!({"path": absolute(path)});
            if !caption.is_empty() {
                object["caption"] = json!(caption);
            }
            if let (Some(o), Value::Object(e)) = (object.as_object_mut(), extra) {
                o.extend(e);
            }
            Input::Send(json!({"type": kind, kind: object}))
        };
        return match command {
            "quit" | "exit" => Input::Quit,
            "help" => Input::Help,
            "photo" | "image" => media("image", json!({})),
            "doc" | "document" => media("document", json!({})),
            "video" => media("video", json!({})),
            "voice" => {
                if path.is_empty() {
                    return Input::Invalid("usage: /voice <path>".into());
                }
                Input::Send(json!({"type": "audio", "audio": {"path": absolute(path), "voice": true}}))
            }
            "edit" => match nth_and_rest(args) {
                Some((nth, text)) if !text.is_empty() => Input::Edit {
                    nth,
                    text: text.to_string(),
                },
                _ => Input::Invalid("usage: /edit <n> <new text>  (n = 1 for your last message)".into()),
            },
            "revoke" | "delete" => match nth_and_rest(args) {
                Some((nth, "")) => Input::Revoke { nth },
                _ => Input::Invalid("usage: /revoke <n>  (n = 1 for your last message)".into()),
            },
            "form" => match serde_json::from_str::<Value>(args) {
                Ok(answer @ Value::Object(_)) => Input::Send(json!({"type": "interactive", "interactive": {
                    "type": "nfm_reply",
                    "nfm_reply": {"response_json": answer.to_string(), "body": "Sent", "name": "flow"}}})),
                _ => Input::Invalid("usage: /form <json object>, e.g. /form {\"rating\":\"5\"}".into()),
            },
            "share-phone" => Input::SharePhone,
            "username" => match args.split_whitespace().collect::<Vec<_>>().as_slice() {
                [name] => Input::Configure(json!({"username": name})),
                _ => Input::Invalid("usage: /username <@name>".into()),
            },
            "withhold" => Input::Configure(json!({"phone_withheld": true})),
            other => Input::Invalid(format!("unknown command /{other}; type /help")),
        };
    }
    if let Ok(n) = line.parse::<usize>()
        && n >= 1
        && n <= choices.len()
    {
        return Input::Send(choices[n - 1].reply_message());
    }
    Input::Send(json!({"type": "text", "text": {"body": line}}))
}

const HELP: &str = "Type a message and press Enter. A number picks an offered choice.\n\
/photo <path> [caption]   send an image\n\
/doc <path> [caption]     send a document\n\
/video <path> [caption]   send a video\n\
/voice <path>             send a voice note\n\
/edit <n> <text>          edit your n-th last message (1 = the last)\n\
/revoke <n>               delete your n-th last message for everyone\n\
/form <json>              answer a Flow, e.g. /form {\"rating\":\"5\"}\n\
/share-phone              share your phone number (answers a contact request)\n\
/username <@name>         take a username\n\
/withhold                 hide your phone number from the business from now on\n\
/quit                     leave";

async fn fetch_inbox(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<Value>> {
    Ok(client.get(url).send().await?.error_for_status()?.json().await?)
}

/// Prints the simulator's answer to a control call: its error, or a delivery that failed.
async fn report(response: reqwest::Result<reqwest::Response>) -> Option<Value> {
    match response {
        Ok(response) => {
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or_default();
            if !status.is_success() {
                println!("! {}", answer["error"]["message"].as_str().unwrap_or("refused"));
                return None;
            }
            if answer.get("delivered").is_some() && answer["delivered"] != json!(true) {
                let last = match (answer["last_status"].as_u64(), answer["error"].as_str()) {
                    (Some(status), _) => format!("last answer HTTP {status}"),
                    (None, Some(error)) => error.to_string(),
                    (None, None) => "no answer".to_string(),
                };
                println!(
                    "! not delivered to the helpdesk after {} attempts ({last})",
                    answer["attempts"]
                );
            }
            Some(answer)
        }
        Err(err) => {
            println!("! cannot reach the simulator: {err}");
            None
        }
    }
}

/// Runs the chat for `customer` (phone digits or business-scoped user id) against the simulator
/// at `sim_url` until `/quit` or end of input.
pub async fn run(sim_url: &str, customer: &str) -> anyhow::Result<()> {
    crate::identity::CustomerRef::parse(customer).map_err(|e| anyhow::anyhow!("--as: {e}"))?;
    let sim_url = sim_url.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let base = format!("{sim_url}/_sim/customers/{customer}");
    let inbox_url = format!("{base}/inbox");
    let send_url = format!("{base}/messages");
    let seen = fetch_inbox(&client, &inbox_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the simulator at {sim_url}: {e}"))?
        .len();
    println!("Chatting as {customer} through {sim_url}. /help for commands.");
    let choices: Arc<Mutex<Vec<Choice>>> = Arc::default();
    let poller = {
        let client = client.clone();
        let choices = choices.clone();
        let customer_url = base.clone();
        tokio::spawn(async move {
            let mut seen = seen;
            let mut typing_seen: Option<usize> = None;
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if let Ok(response) = client.get(&customer_url).send().await
                    && let Ok(view) = response.json::<Value>().await
                    && let Some(typing) = view["typing_indicators"].as_array()
                {
                    // The first look only counts what was there before the chat started.
                    if typing_seen.is_some_and(|n| typing.len() > n) && view["typing"] == json!(true) {
                        println!("business is typing…");
                    }
                    typing_seen = Some(typing.len());
                }
                let Ok(entries) = fetch_inbox(&client, &inbox_url).await else {
                    continue;
                };
                // A reset empties the inbox; start counting again.
                if entries.len() < seen {
                    seen = 0;
                }
                for entry in &entries[seen..] {
                    let (lines, offered) = render(entry);
                    let who = if entry["source"] == "business_app" {
                        "business (app)"
                    } else {
                        "business"
                    };
                    for line in lines {
                        println!("{who}> {line}");
                    }
                    if !offered.is_empty() {
                        *choices.lock().unwrap_or_else(|e| e.into_inner()) = offered;
                    }
                }
                seen = entries.len();
            }
        })
    };
    // Ids of the messages sent here, oldest first, for /edit and /revoke.
    let mut sent: Vec<String> = Vec::new();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let offered = choices.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match parse_line(&line, &offered) {
            Input::Empty => {}
            Input::Quit => break,
            Input::Help => println!("{HELP}"),
            Input::Invalid(message) => println!("! {message}"),
            Input::Send(message) => {
                if let Some(answer) = report(client.post(&send_url).json(&message).send().await).await
                    && let Some(wamid) = answer["wamid"].as_str()
                {
                    sent.push(wamid.to_string());
                }
            }
            Input::Edit { nth, text } => match sent.len().checked_sub(nth).map(|i| sent[i].clone()) {
                Some(original) => {
                    let edit = json!({"type": "edit", "edit": {"original_message_id": original,
                        "message": {"type": "text", "text": {"body": text}}}});
                    report(client.post(&send_url).json(&edit).send().await).await;
                }
                None => println!("! you have sent {} messages here", sent.len()),
            },
            Input::Revoke { nth } => match sent.len().checked_sub(nth) {
                Some(i) => {
                    let revoke = json!({"type": "revoke", "revoke": {"original_message_id": sent[i]}});
                    if report(client.post(&send_url).json(&revoke).send().await)
                        .await
                        .is_some()
                    {
                        sent.remove(i);
                    }
                }
                None => println!("! you have sent {} messages here", sent.len()),
            },
            Input::SharePhone => {
                if let Some(answer) = report(client.post(format!("{base}/share-phone")).send().await).await
                    && let Some(wamid) = answer["wamid"].as_str()
                {
                    sent.push(wamid.to_string());
                }
            }
            Input::Configure(settings) => {
                if let Some(view) = report(client.put(&base).json(&settings).send().await).await {
                    println!(
                        "(username {}, phone {})",
                        view["username"].as_str().unwrap_or("none"),
                        if view["phone_withheld"] == json!(true) {
                            "withheld"
                        } else {
                            "shown"
                        }
                    );
                }
            }
        }
    }
    poller.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_button_message_renders_numbered_choices_and_a_number_picks_the_button_id() {
        let entry = json!({"type": "interactive", "message": {"interactive": {
        "type": "button", "body": {"text": "How can we help?"},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": "menu.order", "title": "Order status"}},
            {"type": "reply", "reply": {"id": "menu.agent", "title": "Talk to an agent"}}
        ]}}}});

        let (lines, choices) = render(&entry);

        assert_eq!(
            lines,
            vec!["How can we help?", "  [1] Order status", "  [2] Talk to an agent"]
        );
        assert_eq!(
            parse_line("2", &choices),
            Input::Send(json!({"type": "interactive", "interactive": {
                "type": "button_reply", "button_reply": {"id": "menu.agent", "title": "Talk to an agent"}}}))
        );
    }

    #[test]
    fn a_templates_quick_replies_are_numbered_and_a_number_taps_the_payload() {
        let entry = json!({"type": "template", "message": {"template": {
        "name": "csat_request", "language": {"code": "en"},
        "components": [
            {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "csat:TK-1:1"}]},
            {"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "payload", "payload": "csat:TK-1:2"}]}
        ]}}});
        let (lines, choices) = render(&entry);
        assert_eq!(lines[1], "  [1] csat:TK-1:1");
        assert_eq!(
            parse_line("2", &choices),
            Input::Send(json!({"type": "button", "button": {"payload": "csat:TK-1:2", "text": "csat:TK-1:2"}}))
        );
    }

    #[test]
    fn a_list_row_number_sends_a_list_reply_and_other_numbers_are_text() {
        let entry = json!({"type": "interactive", "message": {"interactive": {
            "type": "list", "body": {"text": "Pick"},
            "action": {"button": "Options", "sections": [{"title": "S", "rows": [
                {"id": "row.a", "title": "A", "description": "first"}]}]}}}});
        let (_, choices) = render(&entry);

        let picked = parse_line("1", &choices);
        let other = parse_line("7", &choices);

        assert_eq!(
            picked,
            Input::Send(json!({"type": "interactive", "interactive": {
                "type": "list_reply", "list_reply": {"id": "row.a", "title": "A", "description": "first"}}}))
        );
        assert_eq!(other, Input::Send(json!({"type": "text", "text": {"body": "7"}})));
    }

    #[test]
    fn media_commands_build_path_messages() {
        let photo = parse_line("/photo /tmp/x.jpg my receipt", &[]);
        let voice = parse_line("/voice /tmp/v.ogg", &[]);

        assert_eq!(
            photo,
            Input::Send(json!({"type": "image", "image": {"path": "/tmp/x.jpg", "caption": "my receipt"}}))
        );
        assert_eq!(
            voice,
            Input::Send(json!({"type": "audio", "audio": {"path": "/tmp/v.ogg", "voice": true}}))
        );
        assert_eq!(parse_line("/quit", &[]), Input::Quit);
    }

    #[test]
    fn the_2026_commands_parse_into_their_actions() {
        assert_eq!(
            parse_line("/edit 2 actually, tomorrow", &[]),
            Input::Edit {
                nth: 2,
                text: "actually, tomorrow".into()
            }
        );
        assert_eq!(parse_line("/revoke 1", &[]), Input::Revoke { nth: 1 });
        assert_eq!(parse_line("/share-phone", &[]), Input::SharePhone);
        assert_eq!(
            parse_line("/username @ana.s", &[]),
            Input::Configure(json!({"username": "@ana.s"}))
        );
        assert_eq!(
            parse_line("/withhold", &[]),
            Input::Configure(json!({"phone_withheld": true}))
        );
        let Input::Send(form) = parse_line("/form {\"rating\": \"5\"}", &[]) else {
            panic!("a form answer is sent");
        };
        assert_eq!(form["interactive"]["type"], "nfm_reply");
        assert_eq!(form["interactive"]["nfm_reply"]["response_json"], "{\"rating\":\"5\"}");
        for bad in [
            "/edit x hi",
            "/edit 0 hi",
            "/edit 1",
            "/revoke",
            "/revoke 1 2",
            "/form [1]",
            "/username",
        ] {
            assert!(matches!(parse_line(bad, &[]), Input::Invalid(_)), "{bad}");
        }
    }

    #[test]
    fn a_contact_request_is_shown_with_the_command_that_answers_it() {
        let entry = json!({"type": "interactive", "message": {"interactive": {"type": "request_contact_info",
            "body": {"text": "May we have your number?"}, "action": {"name": "request_contact_info"}}}});

        let (lines, choices) = render(&entry);

        assert_eq!(lines[0], "May we have your number?");
        assert!(lines[1].contains("/share-phone"));
        assert!(choices.is_empty());
    }
}
