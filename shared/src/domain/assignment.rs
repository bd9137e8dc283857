//! Who gets a ticket when a team assigns round-robin: among the team's agents
//! who said they are available and have room under the team's capacity, the
//! one assigned least recently (then the least loaded, then by name).

use serde::{Deserialize, Serialize};

/// How a team's tickets find an agent (`[teams.assignment]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentConfig {
    /// Assign queued tickets to available agents in turn; otherwise agents
    /// claim them (and leads assign them).
    #[serde(default)]
    pub round_robin: bool,
    /// Open tickets an agent holds at most before the next goes to someone else.
    #[serde(default = "default_capacity")]
    pub capacity: u32,
}

impl Default for AssignmentConfig {
    fn default() -> Self {
        AssignmentConfig {
            round_robin: false,
            capacity: default_capacity(),
        }
    }
}

fn default_capacity() -> u32 {
    5
}

/// An agent available on a team (what they said, and when they last got a ticket there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub agent: String,
    pub team: String,
    pub since_ms: i64,
    #[serde(default)]
    pub last_assigned_at_ms: Option<i64>,
}

/// An available agent and how many open tickets they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub availability: Availability,
    pub open_tickets: u64,
}

/// The agent the next ticket goes to, if anyone has room.
pub fn pick<'a>(config: &AssignmentConfig, candidates: &'a [Candidate]) -> Option<&'a Candidate> {
    candidates
        .iter()
        .filter(|c| c.open_tickets < u64::from(config.capacity))
        .min_by(|a, b| {
            let key = |c: &Candidate| (c.availability.last_assigned_at_ms.unwrap_or(i64::MIN), c.open_tickets);
            key(a)
                .cmp(&key(b))
                .then_with(|| a.availability.agent.cmp(&b.availability.agent))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(agent: &str, last: Option<i64>, open: u64) -> Candidate {
        Candidate {
            availability: Availability {
                agent: agent.into(),
                team: "support".into(),
                since_ms: 0,
                last_assigned_at_ms: last,
            },
            open_tickets: open,
        }
    }

    #[test]
    fn the_agent_assigned_least_recently_with_room_goes_next() {
        let config = AssignmentConfig {
            round_robin: true,
            capacity: 2,
        };
        let team = [
            candidate("ana", Some(30), 0),
            candidate("bob", Some(10), 2),
            candidate("cid", Some(20), 1),
            candidate("dee", None, 1),
        ];
        assert_eq!(
            pick(&config, &team).unwrap().availability.agent,
            "dee",
            "never assigned goes first"
        );
        assert_eq!(
            pick(&config, &team[..3]).unwrap().availability.agent,
            "cid",
            "bob is full"
        );
        assert!(pick(&config, &[candidate("bob", None, 2)]).is_none());
        assert!(pick(&config, &[]).is_none());
    }

    #[test]
    fn ties_go_to_the_least_loaded_then_by_name() {
        let config = AssignmentConfig::default();
        let team = [
            candidate("bob", None, 1),
            candidate("ana", None, 1),
            candidate("cid", None, 0),
        ];
        assert_eq!(pick(&config, &team).unwrap().availability.agent, "cid");
        assert_eq!(pick(&config, &team[..2]).unwrap().availability.agent, "ana");
    }
}
