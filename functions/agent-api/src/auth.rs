//! Who is calling: the agent's name, teams and role, from the claims the
//! HTTP API's JWT authorizer checked. Roles come from the same groups claim as
//! teams: `leads` and `admins` are roles, every other group is a team.

use lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizerJwtDescription;
use serde::Serialize;

/// The group whose members lead teams: they assign tickets to others, read
/// reports and set customers' tiers, for the teams they are in.
pub const LEAD_GROUP: &str = "leads";
/// The group whose members administer the desk: the audit, privacy requests,
/// messages that name no customer; they have every lead's rights too.
pub const ADMIN_GROUP: &str = "admins";

/// What a person may do. Each role has the rights of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Lead,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Lead => "lead",
            Role::Admin => "admin",
        }
    }
}

/// The agent, as the JWT authorizer's claims describe them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub name: String,
    /// The teams they work in (role groups excluded).
    pub teams: Vec<String>,
    pub role: Role,
}

impl Agent {
    pub fn in_team(&self, team: &str) -> bool {
        self.teams.iter().any(|t| t == team)
    }

    pub fn is(&self, role: Role) -> bool {
        self.role >= role
    }
}

/// Which claims name the agent and their groups (Cognito's by default).
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub name: String,
    pub teams: String,
}

impl ClaimNames {
    /// Reads the agent from the authorizer's claims. API Gateway passes every
    /// claim as a string and flattens arrays to `[a b]`; JSON arrays and
    /// comma-separated lists are read too, for other issuers.
    pub fn agent(&self, jwt: &ApiGatewayRequestAuthorizerJwtDescription) -> Option<Agent> {
        let name = jwt
            .claims
            .get(&self.name)
            .or_else(|| jwt.claims.get("sub"))?
            .trim()
            .to_owned();
        let raw = jwt.claims.get(&self.teams).map(String::as_str).unwrap_or("");
        let groups = match serde_json::from_str::<Vec<String>>(raw) {
            Ok(list) => list,
            Err(_) => raw
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split([' ', ','])
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let role = if groups.iter().any(|g| g == ADMIN_GROUP) {
            Role::Admin
        } else if groups.iter().any(|g| g == LEAD_GROUP) {
            Role::Lead
        } else {
            Role::Agent
        };
        let teams = groups
            .into_iter()
            .filter(|g| g != ADMIN_GROUP && g != LEAD_GROUP)
            .collect();
        (!name.is_empty()).then_some(Agent { name, teams, role })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn claims(pairs: &[(&str, &str)]) -> ApiGatewayRequestAuthorizerJwtDescription {
        let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
        jwt.claims = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>();
        jwt
    }

    fn names() -> ClaimNames {
        ClaimNames {
            name: "cognito:username".into(),
            teams: "cognito:groups".into(),
        }
    }

    #[test]
    fn teams_are_read_from_api_gateways_flattened_array_claim() {
        let agent = names()
            .agent(&claims(&[
                ("cognito:username", "ana"),
                ("cognito:groups", "[support billing]"),
            ]))
            .unwrap();
        assert_eq!(
            agent,
            Agent {
                name: "ana".into(),
                teams: vec!["support".into(), "billing".into()],
                role: Role::Agent,
            }
        );
    }

    #[test]
    fn teams_are_read_from_a_json_array_or_a_comma_list_too() {
        let json = names()
            .agent(&claims(&[("sub", "bob"), ("cognito:groups", "[\"a\",\"b\"]")]))
            .unwrap();
        assert_eq!(json.teams, ["a", "b"]);
        let commas = names()
            .agent(&claims(&[("sub", "bob"), ("cognito:groups", "a,b")]))
            .unwrap();
        assert_eq!(commas.teams, ["a", "b"]);
    }

    #[test]
    fn role_groups_give_the_role_and_are_not_teams() {
        let lead = names()
            .agent(&claims(&[("sub", "lea"), ("cognito:groups", "[support leads]")]))
            .unwrap();
        assert_eq!(
            (lead.role, lead.teams.as_slice()),
            (Role::Lead, &["support".to_owned()][..])
        );
        assert!(lead.is(Role::Agent) && lead.is(Role::Lead) && !lead.is(Role::Admin));
        let admin = names()
            .agent(&claims(&[("sub", "root"), ("cognito:groups", "[leads admins]")]))
            .unwrap();
        assert_eq!((admin.role, admin.teams.len()), (Role::Admin, 0));
    }

    #[test]
    fn an_agent_without_a_name_claim_is_unauthorised() {
        assert_eq!(names().agent(&claims(&[("cognito:groups", "[support]")])), None);
    }
}
