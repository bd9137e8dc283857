//! Each team's notification targets, from the desk configuration: the file
//! `DESK_CONFIG_FILE` names, or the configuration built into the function.

use crate::InitError;
use crate::targets::{Targets, resolve_targets};
use helpdesk::config::Env;
use helpdesk::domain::desk::{Desk, EMBEDDED_CONFIG};
use helpdesk::domain::i18n::{Catalog, Lang};
use std::collections::HashMap;

/// Every team's targets by team id. Team names are in English, the agents'
/// working language in notifications.
pub fn load(env: &Env) -> Result<HashMap<String, Targets>, InitError> {
    let text = match env.get("DESK_CONFIG_FILE") {
        Some(path) => std::fs::read_to_string(path).map_err(|source| InitError::ReadConfig {
            path: path.to_owned(),
            source,
        })?,
        None => EMBEDDED_CONFIG.to_owned(),
    };
    let desk = Desk::from_toml(&text, &Catalog::builtin()).map_err(|e| InitError::Desk(e.to_string()))?;
    Ok(targets_of(&desk, env))
}

/// The targets of each of `desk`'s teams, URLs resolved from `env`.
pub fn targets_of(desk: &Desk, env: &Env) -> HashMap<String, Targets> {
    let ticket_url = desk.config.desk.ticket_url.as_deref();
    desk.config
        .teams
        .iter()
        .filter_map(|config| desk.team(&config.id))
        .map(|team| {
            let id = team.config.id.clone();
            let notify = &team.config.notify;
            let targets = resolve_targets(
                &id,
                team.name(Lang::En).to_owned(),
                notify.slack_webhook_url.as_deref(),
                notify.teams_webhook_url.as_deref(),
                ticket_url,
                env,
            );
            (id, targets)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::Channel;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn the_shipped_configuration_gives_each_team_its_local_hooks() {
        let env = env(&[
            ("LOCAL_HOOKS_URL", "http://127.0.0.1:3000/_local/hooks"),
            ("CONSOLE_URL", "http://127.0.0.1:3000/console"),
        ]);

        let targets = load(&env).unwrap();

        let support = &targets["support"];
        assert_eq!(
            support.url(Channel::Slack),
            Some("http://127.0.0.1:3000/_local/hooks/slack/support")
        );
        assert_eq!(
            support.url(Channel::Teams),
            Some("http://127.0.0.1:3000/_local/hooks/teams/support")
        );
        assert_eq!(support.team_name, "support");
        assert_eq!(
            support.ticket_url.as_deref(),
            Some("http://127.0.0.1:3000/console/tickets/{ticket}")
        );
        assert_eq!(targets["billing"].url(Channel::Teams), None);
        assert_eq!(targets["tech"].url(Channel::Slack), None);
    }

    #[test]
    fn without_the_hooks_and_console_variables_the_shipped_configuration_still_loads_with_no_urls() {
        let targets = load(&env(&[])).unwrap();

        assert!(
            targets
                .values()
                .all(|t| t.slack.is_none() && t.teams.is_none() && t.ticket_url.is_none())
        );
    }

    #[test]
    fn a_desk_config_file_that_cannot_be_read_stops_the_start() {
        let env = env(&[("DESK_CONFIG_FILE", "/nonexistent/desk.toml")]);

        assert!(matches!(load(&env), Err(InitError::ReadConfig { .. })));
    }
}
