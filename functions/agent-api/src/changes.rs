//! `GET /api/changes`: the change feed the console follows, long-polled. A
//! client starts without `since` (and loads its views), then asks again with
//! each answer's `next`: it receives every change of the tickets it may see
//! once, in the order they were saved (per ticket, by version). A cursor older
//! than the feed's retention answers 410: the client loads its views again.

use crate::auth::Agent;
use crate::error::ApiError;
use crate::http::{Answer, query_param};
use crate::{AgentApi, AgentStore};
use helpdesk::domain::feed::{self, Change, RETENTION_MS, SETTLE_MS};
use helpdesk::ports::{Clock, MediaLinks};
use lambda_http::Request;
use serde_json::{Value, json};
use std::time::Duration;

/// The longest a request waits for a change (API Gateway's limit is 30 s).
pub const MAX_WAIT_S: u64 = 25;
/// Changes in one answer at most.
const PAGE: usize = 200;
/// How often a waiting request looks again.
const POLL: Duration = Duration::from_millis(500);

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: AgentStore,
    C: Clock,
    L: MediaLinks,
{
    /// `GET /api/changes?since=<next>&wait=25`.
    pub(crate) async fn changes(&self, request: &Request, agent: &Agent) -> Result<Answer, ApiError> {
        let wait = match query_param(request, "wait") {
            None => MAX_WAIT_S,
            Some(w) => w
                .parse::<u64>()
                .ok()
                .filter(|w| *w <= MAX_WAIT_S)
                .ok_or_else(|| ApiError::BadRequest(format!("wait: 0 to {MAX_WAIT_S} seconds")))?,
        };
        let Some(since) = query_param(request, "since") else {
            // A new client starts at the feed's edge: what it loads next is newer.
            let edge = feed::position_upto(self.clock.now_ms() - SETTLE_MS);
            return Ok(Answer::ok(json!({"changes": [], "next": encode(&edge)})));
        };
        let mut position = decode(&since)?;
        let since_ms = feed::time_of(&position).ok_or_else(unreadable)?;
        if since_ms < self.clock.now_ms() - RETENTION_MS {
            return Err(ApiError::Gone(
                "cursor_expired",
                "this cursor is older than the change feed keeps: load the views again".into(),
            ));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
        loop {
            let upto = self.clock.now_ms() - SETTLE_MS;
            let changes = self.store.changes(Some(&position), since_ms, upto, PAGE).await?;
            let full = changes.len() == PAGE;
            if let Some(last) = changes.last() {
                position = last.position.clone();
            }
            if !full {
                // Everything up to the settle point is read: the next read starts there.
                let edge = feed::position_upto(upto);
                if edge > position {
                    position = edge;
                }
            }
            let visible: Vec<Value> = changes.iter().filter_map(|c| self.view_of(c, agent)).collect();
            if !visible.is_empty() || full || tokio::time::Instant::now() >= deadline {
                return Ok(Answer::ok(json!({"changes": visible, "next": encode(&position)})));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// What the agent sees of a change: the whole ticket for its team, only
    /// that it left for the team it left; nothing for other teams.
    fn view_of(&self, change: &Change, agent: &Agent) -> Option<Value> {
        if self.sees(agent, &change.team) {
            return Some(json!(change));
        }
        let left = change.left_team.as_deref().is_some_and(|t| agent.in_team(t));
        left.then(|| {
            json!({"position": change.position, "at_ms": change.at_ms, "ticket_id": change.ticket_id,
                "version": change.version, "team": change.team, "left_team": change.left_team})
        })
    }
}

fn encode(position: &str) -> String {
    hex::encode(position)
}

fn unreadable() -> ApiError {
    ApiError::BadRequest("since: not a cursor this API gave".into())
}

fn decode(text: &str) -> Result<String, ApiError> {
    let bytes = hex::decode(text).map_err(|_| unreadable())?;
    let position = String::from_utf8(bytes).map_err(|_| unreadable())?;
    feed::time_of(&position).ok_or_else(unreadable)?;
    Ok(position)
}
