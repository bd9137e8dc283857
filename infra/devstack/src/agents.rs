//! The people to sign in as on the local stack (`config/local-agents.toml`),
//! listed at `GET /_local/agents` for the console's local sign-in page; each
//! signs in with `GET /_local/token?agent=<name>&teams=<teams joined by ,>`.

use agent_api::{ADMIN_GROUP, LEAD_GROUP, Role};
use serde::{Deserialize, Serialize};

/// `config/local-agents.toml`, built into the runner.
pub const LOCAL_AGENTS_TOML: &str = include_str!("../../../config/local-agents.toml");

/// One person to sign in as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalAgent {
    /// The agent's name (`cognito:username` of the token).
    pub name: String,
    /// The token's groups, as `/_local/token?teams=` takes them: teams, and
    /// the role groups `leads` and `admins`.
    pub teams: Vec<String>,
    /// The role the agent API gives those groups.
    pub role: Role,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    agents: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    teams: Vec<String>,
}

/// The agents of a `local-agents.toml` text, with their roles.
pub fn parse(text: &str) -> Result<Vec<LocalAgent>, toml::de::Error> {
    let file: File = toml::from_str(text)?;
    Ok(file
        .agents
        .into_iter()
        .map(|entry| LocalAgent {
            role: role_of(&entry.teams),
            name: entry.name,
            teams: entry.teams,
        })
        .collect())
}

/// The local agents built into the runner. The file is checked by this
/// crate's tests, so it parses.
pub fn local_agents() -> Vec<LocalAgent> {
    parse(LOCAL_AGENTS_TOML).unwrap_or_else(|error| {
        tracing::error!(error = %error, "config/local-agents.toml is not valid; no local agent is listed");
        Vec::new()
    })
}

/// The role the agent API gives a token with these groups.
fn role_of(groups: &[String]) -> Role {
    if groups.iter().any(|g| g == ADMIN_GROUP) {
        Role::Admin
    } else if groups.iter().any(|g| g == LEAD_GROUP) {
        Role::Lead
    } else {
        Role::Agent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk::domain::desk::{Desk, EMBEDDED_CONFIG};
    use helpdesk::domain::i18n::Catalog;

    #[test]
    fn the_shipped_local_agents_cover_each_role_and_a_specialist() {
        let agents = parse(LOCAL_AGENTS_TOML).unwrap();

        let summary: Vec<(&str, Vec<&str>, Role)> = agents
            .iter()
            .map(|a| (a.name.as_str(), a.teams.iter().map(String::as_str).collect(), a.role))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("ana", vec!["support"], Role::Agent),
                ("ben", vec!["support", "billing"], Role::Agent),
                ("lea", vec!["support", "leads"], Role::Lead),
                ("max", vec!["support", "admins"], Role::Admin),
                ("eva", vec!["billing-experts"], Role::Agent),
            ]
        );
    }

    #[test]
    fn every_group_of_a_local_agent_is_a_team_of_the_desk_or_a_role() {
        let desk = Desk::from_toml(EMBEDDED_CONFIG, &Catalog::builtin()).unwrap();

        for agent in parse(LOCAL_AGENTS_TOML).unwrap() {
            for group in &agent.teams {
                assert!(
                    group == LEAD_GROUP || group == ADMIN_GROUP || desk.team(group).is_some(),
                    "{}: {group} is neither a team of config/desk.toml nor a role group",
                    agent.name
                );
            }
        }
    }

    #[test]
    fn an_unknown_field_in_the_file_is_refused() {
        assert!(parse("[[agents]]\nname = \"x\"\nteams = []\nrole = \"admin\"\n").is_err());
    }
}
