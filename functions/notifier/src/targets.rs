//! Where a team's notifications go: its Slack and Microsoft Teams incoming
//! webhooks, resolved once at init from the desk configuration, with
//! `${NAME}` read from the function's environment.

use helpdesk::config::Env;
use helpdesk::domain::ids::TicketId;
use std::fmt;

/// A notification channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// A Slack incoming webhook (Block Kit message).
    Slack,
    /// A Microsoft Teams incoming webhook (Adaptive Card).
    Teams,
}

impl Channel {
    /// Both channels, Slack first.
    pub const ALL: [Channel; 2] = [Channel::Slack, Channel::Teams];

    /// `slack` or `teams`, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Slack => "slack",
            Channel::Teams => "teams",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One team's notification targets. The webhook URLs are secrets (anyone
/// holding one can post to the channel): `Debug` hides them and nothing logs them.
#[derive(Clone, PartialEq, Eq)]
pub struct Targets {
    /// The Slack incoming webhook URL.
    pub slack: Option<String>,
    /// The Microsoft Teams incoming webhook URL.
    pub teams: Option<String>,
    /// The team's name as agents read it.
    pub team_name: String,
    /// The agents' console page of a ticket, `{ticket}` standing for its id.
    pub ticket_url: Option<String>,
}

impl Targets {
    /// The webhook URL of `channel`, if the team has one.
    pub fn url(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Slack => self.slack.as_deref(),
            Channel::Teams => self.teams.as_deref(),
        }
    }

    /// The link to `ticket` in the agents' console.
    pub fn ticket_link(&self, ticket: &TicketId) -> Option<String> {
        // A ticket id holds only letters, digits, `.`, `_` and `-`: safe in a URL as is.
        self.ticket_url
            .as_deref()
            .map(|template| template.replace("{ticket}", ticket.as_str()))
    }
}

impl fmt::Debug for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |url: &Option<String>| url.as_ref().map(|_| "<redacted>");
        f.debug_struct("Targets")
            .field("slack", &hidden(&self.slack))
            .field("teams", &hidden(&self.teams))
            .field("team_name", &self.team_name)
            .field("ticket_url", &self.ticket_url)
            .finish()
    }
}

/// Why a configured webhook URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The URL names an environment variable that is not set (or blank).
    #[error("environment variable {0} is not set")]
    Unset(String),
    /// `${` without its `}`, or `${}`.
    #[error("a `${{` has no variable name or no closing `}}`")]
    BadPlaceholder,
    /// What the URL became is not an absolute http(s) URL.
    #[error("not an absolute http(s) URL")]
    NotHttp,
}

/// Replaces each `${NAME}` in `template` by `lookup(NAME)`.
pub fn expand_variables<'a>(template: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> Result<String, UrlError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(UrlError::BadPlaceholder)?;
        let name = &after[..end];
        if name.is_empty() {
            return Err(UrlError::BadPlaceholder);
        }
        out.push_str(lookup(name).ok_or_else(|| UrlError::Unset(name.to_owned()))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A configured webhook URL with its `${NAME}`s read from `env`, checked to
/// be an absolute http(s) URL.
pub fn webhook_url(template: &str, env: &Env) -> Result<String, UrlError> {
    let url = expand_variables(template, |name| env.get(name))?;
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(url),
        _ => Err(UrlError::NotHttp),
    }
}

/// A team's targets from its configured webhook URL templates. A URL that
/// cannot be used is left out and logged here, at init, with the reason but
/// never the URL (a secret).
pub fn resolve_targets(
    team_id: &str,
    team_name: String,
    slack: Option<&str>,
    teams: Option<&str>,
    ticket_url: Option<&str>,
    env: &Env,
) -> Targets {
    let usable = |channel: Channel, template: Option<&str>| {
        let template = template.filter(|t| !t.trim().is_empty())?;
        match webhook_url(template, env) {
            Ok(url) => Some(url),
            Err(error) => {
                tracing::warn!(team = %team_id, channel = %channel, reason = %error, "webhook URL skipped; this team gets no notification on this channel");
                None
            }
        }
    };
    Targets {
        slack: usable(Channel::Slack, slack),
        teams: usable(Channel::Teams, teams),
        team_name,
        ticket_url: ticket_link_template(ticket_url, env),
    }
}

/// The desk's `ticket_url` with its `${NAME}`s read from `env` (for example
/// `${CONSOLE_URL}/tickets/{ticket}`, the deployment's console); `{ticket}`
/// stays for [`Targets::ticket_link`]. A template that cannot be used is
/// left out, and notifications go without the link.
pub fn ticket_link_template(template: Option<&str>, env: &Env) -> Option<String> {
    let template = template.filter(|t| !t.trim().is_empty())?;
    match webhook_url(template, env) {
        Ok(url) => Some(url),
        Err(error) => {
            tracing::warn!(reason = %error, "ticket_url skipped; notifications carry no link to the console");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        )
    }

    #[test]
    fn a_variable_in_a_webhook_url_is_read_from_the_environment() {
        let env = env(&[("LOCAL_HOOKS_URL", "http://127.0.0.1:3000/_local/hooks")]);

        let url = webhook_url("${LOCAL_HOOKS_URL}/slack/support", &env);

        assert_eq!(url.as_deref(), Ok("http://127.0.0.1:3000/_local/hooks/slack/support"));
    }

    #[test]
    fn a_webhook_url_naming_an_unset_or_blank_variable_is_refused() {
        let env = env(&[("BLANK", "")]);

        assert_eq!(
            webhook_url("${LOCAL_HOOKS_URL}/slack/support", &env),
            Err(UrlError::Unset("LOCAL_HOOKS_URL".into()))
        );
        assert_eq!(webhook_url("${BLANK}/x", &env), Err(UrlError::Unset("BLANK".into())));
        assert_eq!(webhook_url("https://x/${NAME", &env), Err(UrlError::BadPlaceholder));
        assert_eq!(webhook_url("not a url", &env), Err(UrlError::NotHttp));
        assert_eq!(webhook_url("file:///etc/passwd", &env), Err(UrlError::NotHttp));
    }

    #[test]
    fn a_team_keeps_its_usable_urls_and_loses_the_unusable_one() {
        let env = env(&[("HOOKS", "https://hooks.example")]);

        let targets = resolve_targets(
            "support",
            "support".into(),
            Some("${HOOKS}/slack"),
            Some("${MISSING}/teams"),
            Some("https://console.example/tickets/{ticket}"),
            &env,
        );

        assert_eq!(targets.url(Channel::Slack), Some("https://hooks.example/slack"));
        assert_eq!(targets.url(Channel::Teams), None);
        let ticket = TicketId::parse("TK-3F9A0C51D2E7").unwrap();
        assert_eq!(
            targets.ticket_link(&ticket).as_deref(),
            Some("https://console.example/tickets/TK-3F9A0C51D2E7")
        );
    }

    #[test]
    fn the_ticket_link_reads_the_console_url_from_the_environment() {
        let env = env(&[(
            "CONSOLE_URL",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/console",
        )]);

        let targets = resolve_targets(
            "support",
            "support".into(),
            None,
            None,
            Some("${CONSOLE_URL}/tickets/{ticket}"),
            &env,
        );

        let ticket = TicketId::parse("TK-3F9A0C51D2E7").unwrap();
        assert_eq!(
            targets.ticket_link(&ticket).as_deref(),
            Some("https://abc123.execute-api.eu-west-1.amazonaws.com/console/tickets/TK-3F9A0C51D2E7")
        );
    }

    #[test]
    fn a_ticket_link_naming_an_unset_variable_or_no_url_is_left_out() {
        let env = env(&[("BLANK", " ")]);

        assert_eq!(
            ticket_link_template(Some("${CONSOLE_URL}/tickets/{ticket}"), &env),
            None
        );
        assert_eq!(ticket_link_template(Some("${BLANK}/tickets/{ticket}"), &env), None);
        assert_eq!(ticket_link_template(Some("tickets/{ticket}"), &env), None);
        assert_eq!(ticket_link_template(Some(""), &env), None);
        assert_eq!(ticket_link_template(None, &env), None);
    }

    #[test]
    fn the_debug_form_of_targets_hides_the_webhook_urls() {
        let targets = Targets {
            slack: Some("https://hooks.slack.com/services/T0/B0/secret".into()),
            teams: None,
            team_name: "support".into(),
            ticket_url: None,
        };

        assert!(!format!("{targets:?}").contains("secret"));
    }
}
