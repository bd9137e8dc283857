//! The messages posted to the teams' webhooks: a Slack Block Kit message and a
//! Microsoft Teams Adaptive Card, both built from one [`Summary`] of the event,
//! which holds only what agents need and only text that went through
//! [`crate::redact`].

use crate::alert::{Alert, AlertKind};
use crate::redact::{LABEL_MAX_CHARS, REASON_MAX_CHARS, safe_excerpt, safe_text};
use crate::targets::Targets;
use serde_json::{Value, json};

/// Slack's limit on a header block's text.
const SLACK_HEADER_MAX_CHARS: usize = 150;

/// What a notification says, in the words both channels show.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// `Ticket TK-1 escalated to billing`.
    pub title: String,
    /// Which kind of event this is.
    pub kind: AlertKind,
    /// The ticket's id.
    pub ticket_id: String,
    /// Labelled facts: Team, Priority, Tier, Trigger (those the event has).
    pub facts: Vec<(&'static str, String)>,
    /// Why, masked and shortened.
    pub reason: Option<String>,
    /// The customer's words, masked and at most 120 characters.
    pub excerpt: Option<String>,
    /// The ticket in the agents' console.
    pub link: Option<String>,
    /// When it happened, RFC 3339 in UTC.
    pub at: Option<String>,
    /// The customer's language code.
    pub language: Option<String>,
}

impl Summary {
    /// Summarises `alert` for the team described by `targets`.
    pub fn of(alert: &Alert, targets: &Targets) -> Summary {
        let detail = &alert.detail;
        let ticket_id = detail.ticket_id.as_str().to_owned();
        let team = safe_text(&targets.team_name, LABEL_MAX_CHARS);
        let label = |value: &Option<String>| {
            value
                .as_deref()
                .map(|v| safe_text(v, LABEL_MAX_CHARS))
                .filter(|v| !v.is_empty())
        };
        let title = match alert.kind {
            AlertKind::TicketEscalated => format!("Ticket {ticket_id} escalated to {team}"),
            AlertKind::SlaWarning => format!("SLA deadline near for ticket {ticket_id}"),
            AlertKind::SlaBreached => format!("SLA deadline missed for ticket {ticket_id}"),
            AlertKind::TicketReassigned => format!("Ticket {ticket_id} is back in the {team} queue"),
            AlertKind::AgentMentioned => format!(
                "@{} mentioned on ticket {ticket_id}",
                label(&detail.agent).unwrap_or_else(|| "someone".into())
            ),
            AlertKind::TicketAssigned => format!(
                "Ticket {ticket_id} assigned to @{}",
                label(&detail.agent).unwrap_or_else(|| "someone".into())
            ),
        };
        let mut facts = vec![("Team", team)];
        if let Some(priority) = label(&detail.priority) {
            facts.push(("Priority", priority));
        }
        if let Some(tier) = detail.tier {
            facts.push(("Tier", tier.to_string()));
        }
        if let Some(trigger) = label(&detail.trigger) {
            facts.push(("Trigger", trigger));
        }
        Summary {
            title,
            kind: alert.kind,
            ticket_id,
            facts,
            reason: detail
                .reason
                .as_deref()
                .map(|r| safe_text(r, REASON_MAX_CHARS))
                .filter(|r| !r.is_empty()),
            excerpt: safe_excerpt(detail.excerpt.as_deref()),
            link: targets.ticket_link(&detail.ticket_id),
            at: detail
                .at_ms
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
            language: label(&detail.language),
        }
    }

    /// One line for clients that cannot show blocks or cards (and for
    /// push notifications).
    pub fn fallback_text(&self) -> String {
        let mut text = self.title.clone();
        if let Some((_, priority)) = self.facts.iter().find(|(label, _)| *label == "Priority") {
            text.push_str(&format!(" ({priority})"));
        }
        if let Some(reason) = &self.reason {
            text.push_str(": ");
            text.push_str(reason);
        }
        text
    }

    /// The context line: ticket id, time and customer language.
    fn context_line(&self) -> String {
        let mut parts = vec![self.ticket_id.clone()];
        if let Some(at) = &self.at {
            parts.push(at.clone());
        }
        if let Some(language) = &self.language {
            parts.push(format!("customer language: {language}"));
        }
        parts.join(" · ")
    }

    fn emoji(&self) -> &'static str {
        match self.kind {
            AlertKind::TicketEscalated => "🙋",
            AlertKind::SlaWarning => "⏳",
            AlertKind::SlaBreached => "🚨",
            AlertKind::TicketReassigned => "↩️",
            AlertKind::AgentMentioned => "💬",
            AlertKind::TicketAssigned => "👤",
        }
    }
}

/// Escapes the three characters Slack's `mrkdwn` gives meaning to, so that
/// text cannot become a link or an `@channel` mention.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Slack incoming-webhook message: `{"text": fallback, "blocks": [header,
/// facts section, reason and quoted excerpt, context, "Open ticket" button]}`.
pub fn slack_message(summary: &Summary) -> Value {
    let header: String = format!("{} {}", summary.emoji(), summary.title)
        .chars()
        .take(SLACK_HEADER_MAX_CHARS)
        .collect();
    let fields: Vec<Value> = summary
        .facts
        .iter()
        .map(|(label, value)| json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", slack_escape(value))}))
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": header, "emoji": true}}),
        json!({"type": "section", "fields": fields}),
    ];
    let mut body = Vec::new();
    if let Some(reason) = &summary.reason {
        body.push(format!("*Reason:* {}", slack_escape(reason)));
    }
    if let Some(excerpt) = &summary.excerpt {
        body.push(format!(">{}", slack_escape(excerpt)));
    }
    if !body.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": body.join("\n")}}));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": slack_escape(&summary.context_line())}],
    }));
    if let Some(link) = &summary.link {
        blocks.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": "Open ticket"},
                "url": link,
                "style": "primary",
            }],
        }));
    }
    json!({"text": slack_escape(&summary.fallback_text()), "blocks": blocks})
}

/// A Microsoft Teams incoming-webhook message with one Adaptive Card 1.4
/// attachment: title, a fact set, the reason, the excerpt in an emphasis
/// container, and an "Open ticket" action. Customer-derived text goes in
/// `RichTextBlock` runs, which Teams shows as plain text (no markdown links).
pub fn teams_message(summary: &Summary) -> Value {
    let urgent = matches!(summary.kind, AlertKind::SlaBreached);
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": format!("{} {}", summary.emoji(), summary.title),
        "size": "Large",
        "weight": "Bolder",
        "color": if urgent { "Attention" } else { "Default" },
        "wrap": true,
    })];
    let facts: Vec<Value> = summary
        .facts
        .iter()
        .map(|(label, value)| json!({"title": label, "value": value}))
        .collect();
    body.push(json!({"type": "FactSet", "facts": facts}));
    if let Some(reason) = &summary.reason {
        body.push(json!({
            "type": "RichTextBlock",
            "inlines": [
                {"type": "TextRun", "text": "Reason: ", "weight": "Bolder"},
                {"type": "TextRun", "text": reason},
            ],
        }));
    }
    if let Some(excerpt) = &summary.excerpt {
        body.push(json!({
            "type": "Container",
            "style": "emphasis",
            "items": [{"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": excerpt, "italic": true}]}],
        }));
    }
    body.push(json!({
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": summary.context_line(), "isSubtle": true, "size": "Small"}],
    }));
    let actions: Vec<Value> = summary
        .link
        .iter()
        .map(|link| json!({"type": "Action.OpenUrl", "title": "Open ticket", "url": link}))
        .collect();
    json!({
        "type": "message",
        "summary": summary.fallback_text(),
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(detail: Value) -> Alert {
        serde_json::from_value(json!({
            "version": "0", "id": "ev-1", "detail-type": "TicketEscalated", "source": "helpdesk.tickets",
            "account": "123456789012", "time": "2026-11-20T10:00:00Z", "region": "eu-west-1", "resources": [],
            "detail": detail,
        }))
        .unwrap()
    }

    fn escalation() -> Alert {
        alert(json!({
            "ticket_id": "TK-3F9A0C51D2E7", "team": "billing", "tier": 2, "priority": "high",
            "trigger": "frustration", "reason": "three negative words in a row", "at_ms": 1795237200000i64,
            "excerpt": "I was charged twice <!channel>, call me on +33 6 12 34 56 78 or I go to a lawyer about this order right now, seriously, this is the worst service ever",
            "language": "fr",
            "customer": "15551230001", "wa_id": "15551230001", "phone": "+15551230001",
            "text": "full message 15551230001",
        }))
    }

    fn targets() -> Targets {
        Targets {
            slack: Some("https://hooks.example/slack".into()),
            teams: Some("https://hooks.example/teams".into()),
            team_name: "facturation".into(),
            ticket_url: Some("https://console.example/tickets/{ticket}".into()),
        }
    }

    /// Every string anywhere in `value`.
    fn strings(value: &Value) -> Vec<String> {
        match value {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items.iter().flat_map(strings).collect(),
            Value::Object(map) => map.values().flat_map(strings).collect(),
            _ => Vec::new(),
        }
    }

    fn text_of(value: &Value) -> String {
        strings(value).join("\n")
    }

    #[test]
    fn the_slack_message_shows_team_priority_tier_trigger_reason_and_link() {
        let message = slack_message(&Summary::of(&escalation(), &targets()));

        let blocks = message["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[1]["type"], "section");
        let fields = text_of(&blocks[1]["fields"]);
        for expected in [
            "*Team*\nfacturation",
            "*Priority*\nhigh",
            "*Tier*\n2",
            "*Trigger*\nfrustration",
        ] {
            assert!(fields.contains(expected), "{expected} missing from {fields}");
        }
        let body = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(body.contains("*Reason:* three negative words in a row"));
        assert!(body.contains("\n>I was charged twice"));
        let button = blocks.iter().find(|b| b["type"] == "actions").unwrap();
        assert_eq!(
            button["elements"][0]["url"],
            "https://console.example/tickets/TK-3F9A0C51D2E7"
        );
        assert!(message["text"].as_str().unwrap().contains("TK-3F9A0C51D2E7"));
    }

    #[test]
    fn the_teams_card_shows_team_priority_tier_trigger_reason_and_link() {
        let message = teams_message(&Summary::of(&escalation(), &targets()));

        assert_eq!(message["type"], "message");
        let attachment = &message["attachments"][0];
        assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
        let card = &attachment["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        let facts = card["body"][1]["facts"].as_array().unwrap();
        let pairs: Vec<(&str, &str)> = facts
            .iter()
            .map(|f| (f["title"].as_str().unwrap(), f["value"].as_str().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Team", "facturation"),
                ("Priority", "high"),
                ("Tier", "2"),
                ("Trigger", "frustration")
            ]
        );
        assert!(text_of(&card["body"]).contains("three negative words in a row"));
        assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
        assert_eq!(card["actions"][0]["title"], "Open ticket");
        assert_eq!(
            card["actions"][0]["url"],
            "https://console.example/tickets/TK-3F9A0C51D2E7"
        );
    }

    #[test]
    fn the_excerpt_is_cut_to_120_characters_and_its_digit_runs_are_masked() {
        let summary = Summary::of(&escalation(), &targets());

        let excerpt = summary.excerpt.clone().unwrap();
        assert!(excerpt.chars().count() <= 120);
        assert!(excerpt.ends_with('…'));
        assert!(excerpt.contains("call me on •••"));
        let teams = teams_message(&summary);
        assert!(text_of(&teams).contains(&excerpt));
    }

    #[test]
    fn no_phone_number_from_the_event_reaches_either_message() {
        let summary = Summary::of(&escalation(), &targets());

        for message in [slack_message(&summary), teams_message(&summary)] {
            let text = text_of(&message);
            for forbidden in ["15551230001", "5551230001", "+33 6 12", "12 34 56 78", "full message"] {
                assert!(!text.contains(forbidden), "{forbidden} leaked into {text}");
            }
        }
    }

    #[test]
    fn slack_markup_in_customer_text_is_escaped() {
        let message = slack_message(&Summary::of(&escalation(), &targets()));

        let text = text_of(&message);
        assert!(!text.contains("<!channel>"));
        assert!(text.contains("&lt;!channel&gt;"));
    }

    #[test]
    fn an_sla_event_without_priority_tier_trigger_or_link_still_makes_both_messages() {
        let mut alert = escalation();
        alert.kind = AlertKind::SlaBreached;
        alert.detail = crate::alert::AlertDetail {
            ticket_id: helpdesk::domain::ids::TicketId::parse("TK-1").unwrap(),
            team: "support".into(),
            tier: None,
            priority: None,
            trigger: None,
            reason: Some("first response overdue".into()),
            agent: None,
            at_ms: None,
            excerpt: None,
            language: None,
        };
        let targets = Targets {
            ticket_url: None,
            ..targets()
        };

        let summary = Summary::of(&alert, &targets);
        let slack = slack_message(&summary);
        let teams = teams_message(&summary);

        assert_eq!(summary.facts, [("Team", "facturation".to_owned())]);
        assert!(text_of(&slack).contains("SLA deadline missed for ticket TK-1"));
        assert!(text_of(&slack).contains("first response overdue"));
        assert!(
            !slack["blocks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["type"] == "actions")
        );
        assert_eq!(teams["attachments"][0]["content"]["actions"], json!([]));
        assert!(text_of(&teams).contains("first response overdue"));
    }
}
