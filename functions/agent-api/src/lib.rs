//! The agent API (`/api/...`, behind the JWT authorizer): what agents, leads
//! and admins do in a day. It reads DynamoDB and writes only through
//! `tickets.fifo` (and, for a changed ticket, answers 412 before that), so
//! `tickets` stays the single writer and decides every change.
//!
//! Every route is in [`ROUTES`] with the role it needs; the role is checked
//! there and nowhere else. Agents see the tickets of their own teams.
//!
//! - `views.rs`: lists, counts, search, a ticket, a customer's history;
//! - `changes.rs`: the change feed, long-polled;
//! - `actions.rs`: replies and every change to a ticket;
//! - `attachments.rs`: files agents send, quotes and reactions;
//! - `proactive.rs`: a customer's consent, and messages agents start;
//! - `reports.rs`: KPI reports; `admin.rs`: what only admins read (the
//!   audit trail every audited request writes, unattributed messages);
//! - `openapi.rs`: the OpenAPI description of all of it.

mod actions;
mod admin;
mod attachments;
pub mod auth;
mod changes;
pub mod error;
mod http;
pub mod openapi;
mod proactive;
mod reports;
mod templates;
mod views;

pub use auth::{ADMIN_GROUP, Agent, ClaimNames, LEAD_GROUP, Role};
pub use error::ApiError;
pub use http::Answer;

use helpdesk::adapters::clock::SharedClock;
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::s3::{S3MediaStore, s3_client};
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::audit::{AuditRecord, DEFAULT_RETENTION_DAYS};
use helpdesk::domain::commands::TicketCommand;
use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::ids::TicketId;
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::ports::{
    AuditLog, AvailabilityStore, ChangeFeed, Clock, ConversationStore, IdentityReader, MediaLinks, PresenceStore,
    Queue, ReportStore, TicketReader, UnattributedStore,
};
use lambda_http::http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

/// One route: its method, its path (`{name}` matches one segment), the least
/// role that may call it, and what the audit trail calls it (`None`: not
/// audited, it shows no customer's data and changes nothing).
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub role: Role,
    pub audit: Option<&'static str>,
}

const fn route(method: &'static str, path: &'static str, role: Role, audit: Option<&'static str>) -> Route {
    Route {
        method,
        path,
        role,
        audit,
    }
}

/// Every route of the API, in matching order, with the role it needs and its
/// audit name: the one place roles and auditing are decided.
/// `/api/openapi.json` needs no sign-in.
pub const ROUTES: &[Route] = &[
    route("GET", "/api/me", Role::Agent, None),
    route("PUT", "/api/me/availability", Role::Agent, Some("set_availability")),
    route("GET", "/api/teams/{team}/agents", Role::Lead, None),
    route("GET", "/api/tickets", Role::Agent, None),
    route("GET", "/api/tickets/counts", Role::Agent, None),
    route("GET", "/api/changes", Role::Agent, None),
    route("GET", "/api/tickets/{id}", Role::Agent, Some("open_ticket")),
    route("POST", "/api/tickets/{id}/reply", Role::Agent, Some("reply")),
    route(
        "POST",
        "/api/tickets/{id}/attachments",
        Role::Agent,
        Some("upload_attachment"),
    ),
    route("POST", "/api/tickets/{id}/react", Role::Agent, Some("react")),
    route("POST", "/api/tickets/{id}/resolve", Role::Agent, Some("resolve")),
    route("POST", "/api/tickets/{id}/transfer", Role::Agent, Some("transfer")),
    route("POST", "/api/tickets/{id}/claim", Role::Agent, Some("claim")),
    route("POST", "/api/tickets/{id}/assign", Role::Lead, Some("assign")),
    route("POST", "/api/tickets/{id}/unassign", Role::Agent, Some("unassign")),
    route("POST", "/api/tickets/{id}/hand-back", Role::Agent, Some("hand_back")),
    route("POST", "/api/tickets/{id}/notes", Role::Agent, Some("note")),
    route("POST", "/api/tickets/{id}/reopen", Role::Agent, Some("reopen")),
    route("PUT", "/api/tickets/{id}/priority", Role::Agent, Some("set_priority")),
    route("PUT", "/api/tickets/{id}/category", Role::Agent, Some("set_category")),
    route("POST", "/api/tickets/{id}/tags", Role::Agent, Some("tag")),
    route(
        "GET",
        "/api/tickets/{id}/media/{wamid}",
        Role::Agent,
        Some("media_link"),
    ),
    route("POST", "/api/tickets/{id}/presence", Role::Agent, None),
    route("GET", "/api/search", Role::Agent, Some("search")),
    route("GET", "/api/canned", Role::Agent, None),
    route("GET", "/api/templates", Role::Agent, None),
    route(
        "GET",
        "/api/customers/{id}/tickets",
        Role::Agent,
        Some("customer_history"),
    ),
    route("PUT", "/api/customers/{id}/tier", Role::Lead, Some("set_tier")),
    route("PUT", "/api/customers/{id}/consent", Role::Agent, Some("set_consent")),
    route("POST", "/api/customers/{id}/messages", Role::Agent, Some("write_first")),
    route("GET", "/api/customers/{id}/export", Role::Admin, Some("export")),
    route("DELETE", "/api/customers/{id}", Role::Admin, Some("erase")),
    route("GET", "/api/reports/{report}", Role::Lead, None),
    route("GET", "/api/admin/unattributed", Role::Admin, Some("read_unattributed")),
    route("GET", "/api/audit", Role::Admin, Some("read_audit")),
];

/// The description of the API, served without sign-in.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

impl Route {
    /// The path's parameters when `method` and `path` are this route's.
    fn matches<'p>(&self, method: &Method, path: &'p str) -> Option<Vec<&'p str>> {
        if method.as_str() != self.method {
            return None;
        }
        let want: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let got: Vec<&str> = path.trim_matches('/').split('/').collect();
        if want.len() != got.len() {
            return None;
        }
        let mut params = Vec::new();
        for (w, g) in want.iter().zip(&got) {
            if w.starts_with('{') {
                if g.is_empty() {
                    return None;
                }
                params.push(*g);
            } else if w != g {
                return None;
            }
        }
        Some(params)
    }
}

/// The route a request names, and its path parameters.
pub fn find_route<'p>(method: &Method, path: &'p str) -> Option<(&'static Route, Vec<&'p str>)> {
    ROUTES.iter().find_map(|r| r.matches(method, path).map(|p| (r, p)))
}

/// Everything the agent API reads from the table (and its audit trail).
pub trait AgentStore:
    TicketReader
    + ReportStore
    + IdentityReader
    + UnattributedStore
    + AuditLog
    + ChangeFeed
    + ConversationStore
    + PresenceStore
    + AvailabilityStore
{
}

impl<S> AgentStore for S where
    S: TicketReader
        + ReportStore
        + IdentityReader
        + UnattributedStore
        + AuditLog
        + ChangeFeed
        + ConversationStore
        + PresenceStore
        + AvailabilityStore
{
}

/// The agent API over its ports: ticket and report reads, the tickets and
/// inbound queues (the bot's, for a message an agent starts), the clock, and
/// short-lived links to stored files.
pub struct AgentApi<S, T, O, C, L> {
    pub(crate) store: S,
    pub(crate) tickets: T,
    pub(crate) inbound: O,
    pub(crate) clock: C,
    pub(crate) claims: ClaimNames,
    pub(crate) desk: Desk,
    pub(crate) media: L,
    /// How long audit records are kept.
    pub(crate) audit_retention_days: u32,
    /// The approved message templates agents may send ([`AgentApi::with_templates`]).
    pub(crate) templates: templates::TemplateCatalog,
}

/// The agent API as Lambda runs it.
pub type AwsAgentApi =
    AgentApi<DynamoStore, SqsQueue<TicketCommand>, SqsQueue<InboundEvent>, SharedClock, S3MediaStore>;

/// How long a media link stays valid: agents see files only through short-lived links.
pub const MEDIA_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);

impl AwsAgentApi {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_http::Error> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let tickets = SqsQueue::new(sqs.clone(), env.require("TICKETS_QUEUE_URL")?);
        let inbound = SqsQueue::new(sqs, env.require("INBOUND_QUEUE_URL")?);
        let claims = ClaimNames {
            name: env.or("AGENT_NAME_CLAIM", "cognito:username").to_owned(),
            teams: env.or("AGENT_TEAMS_CLAIM", "cognito:groups").to_owned(),
        };
        let desk = load_desk(env, &Catalog::builtin())?;
        let media = S3MediaStore::new(s3_client(sdk), env.require("MEDIA_BUCKET_NAME")?);
        let retention = match env.get("AUDIT_RETENTION_DAYS") {
            Some(days) => days
                .parse()
                .map_err(|_| format!("AUDIT_RETENTION_DAYS must be a number of days, not {days:?}"))?,
            None => DEFAULT_RETENTION_DAYS,
        };
        let api =
            AgentApi::new(store, tickets, inbound, env.clock(), claims, desk, media).with_audit_retention(retention);
        Ok(match templates::graph_templates(env, sdk).await? {
            Some(source) => api.with_templates(source),
            None => api,
        })
    }
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: AgentStore,
    T: Queue<TicketCommand>,
    O: Queue<InboundEvent>,
    C: Clock,
    L: MediaLinks,
{
    pub fn new(store: S, tickets: T, inbound: O, clock: C, claims: ClaimNames, desk: Desk, media: L) -> Self {
        AgentApi {
            store,
            tickets,
            inbound,
            clock,
            claims,
            desk,
            media,
            audit_retention_days: DEFAULT_RETENTION_DAYS,
            templates: templates::TemplateCatalog::default(),
        }
    }

    /// Keeps audit records `days` days.
    pub fn with_audit_retention(mut self, days: u32) -> Self {
        self.audit_retention_days = days;
        self
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, std::convert::Infallible> {
        let started = self.clock.now_ms();
        let found = find_route(request.method(), request.uri().path());
        let response = if request.method() == Method::GET && request.uri().path() == OPENAPI_PATH {
            http::json_response(
                lambda_http::http::StatusCode::OK,
                &serde_json::to_value(openapi::document()).unwrap_or_default(),
                None,
            )
        } else {
            let agent = self.agent(&request);
            let answered = match &agent {
                Ok(agent) => self.route(&request, agent, found.clone()).await,
                Err(_) => Err(ApiError::Unauthorized),
            };
            let mut response = match answered {
                Ok(Answer::Json { status, body, etag }) => http::json_response(status, &body, etag),
                Ok(Answer::Csv { filename, body }) => http::csv_response(&filename, body),
                Err(error) => {
                    if error.status().is_server_error() {
                        tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "agent API request failed");
                    }
                    http::error_response(error)
                }
            };
            if let (Ok(agent), Some((route, params))) = (&agent, &found)
                && let Some(action) = route.audit
            {
                // Nothing is answered that the trail does not hold: without
                // its record, the request fails (and is retried, idempotently).
                if let Err(error) = self
                    .audit(&request, agent, route, action, params, response.status())
                    .await
                {
                    tracing::error!(error = %error, "audit record failed");
                    response = http::error_response(error);
                }
            }
            response
        };
        tracing::info!(
            method = %request.method(),
            route = found.map(|(r, _)| r.path).unwrap_or("unknown"),
            status = response.status().as_u16(),
            ms = self.clock.now_ms() - started,
            "agent API request"
        );
        Ok(response)
    }

    fn agent(&self, request: &Request) -> Result<Agent, ApiError> {
        match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .and_then(|jwt| self.claims.agent(jwt))
                .ok_or(ApiError::Unauthorized),
            _ => Err(ApiError::Unauthorized),
        }
    }

    /// Records an audited request: who, when, what, which ticket, how it ended.
    async fn audit(
        &self,
        request: &Request,
        agent: &Agent,
        route: &Route,
        action: &str,
        params: &[&str],
        status: lambda_http::http::StatusCode,
    ) -> Result<(), ApiError> {
        let at_ms = self.clock.now_ms();
        let ticket = match route.path.starts_with("/api/tickets/{id}") {
            true => params.first().and_then(|id| TicketId::parse(*id).ok()),
            false => None,
        };
        let record = AuditRecord {
            at_ms,
            agent: agent.name.clone(),
            role: agent.role.as_str().to_owned(),
            action: action.to_owned(),
            ticket,
            status: status.as_u16(),
            request_id: http::idempotency_key(request),
            keep_until_ms: at_ms + i64::from(self.audit_retention_days) * 24 * 60 * 60 * 1000,
        };
        self.store.record_audit(&record).await?;
        Ok(())
    }

    async fn route(
        &self,
        request: &Request,
        agent: &Agent,
        found: Option<(&'static Route, Vec<&str>)>,
    ) -> Result<Answer, ApiError> {
        let agent = agent.clone();
        let (route, params) = found.ok_or(ApiError::NotFound)?;
        if !agent.is(route.role) {
            return Err(ApiError::NeedsRole(route.role));
        }
        let p = |i: usize| params.get(i).copied().unwrap_or_default();
        match route.path {
            "/api/me" => Ok(Answer::ok(serde_json::json!({
                "agent": agent.name, "teams": agent.teams, "role": agent.role,
            }))),
            "/api/me/availability" => self.set_availability(request, &agent).await,
            "/api/teams/{team}/agents" => self.team_agents(p(0), &agent).await,
            "/api/tickets" => self.list(request, &agent).await,
            "/api/tickets/counts" => self.counts(&agent).await,
            "/api/changes" => self.changes(request, &agent).await,
            "/api/tickets/{id}" => self.show(p(0), &agent).await,
            "/api/tickets/{id}/reply" => self.reply(request, p(0), &agent).await,
            "/api/tickets/{id}/attachments" => self.request_upload(request, p(0), &agent).await,
            "/api/tickets/{id}/react" => self.react(request, p(0), &agent).await,
            "/api/tickets/{id}/resolve" => self.resolve(request, p(0), &agent).await,
            "/api/tickets/{id}/transfer" => self.transfer(request, p(0), &agent).await,
            "/api/tickets/{id}/claim"
            | "/api/tickets/{id}/assign"
            | "/api/tickets/{id}/unassign"
            | "/api/tickets/{id}/hand-back"
            | "/api/tickets/{id}/notes"
            | "/api/tickets/{id}/reopen"
            | "/api/tickets/{id}/priority"
            | "/api/tickets/{id}/category"
            | "/api/tickets/{id}/tags" => self.work(request, route.path, p(0), &agent).await,
            "/api/tickets/{id}/media/{wamid}" => self.media_link(p(0), p(1), &agent).await,
            "/api/tickets/{id}/presence" => self.set_presence(request, p(0), &agent).await,
            "/api/search" => self.search(request, &agent).await,
            "/api/canned" => self.canned(request, &agent).await,
            "/api/templates" => self.list_templates(request, &agent).await,
            "/api/customers/{id}/tickets" => self.history(request, p(0), &agent).await,
            "/api/customers/{id}/tier" => self.set_tier(request, p(0), &agent).await,
            "/api/customers/{id}/consent" => self.set_consent(request, p(0), &agent).await,
            "/api/customers/{id}/messages" => self.write_first(request, p(0), &agent).await,
            "/api/customers/{id}/export" => self.export(p(0)).await,
            "/api/customers/{id}" => self.erase(request, p(0), &agent).await,
            "/api/reports/{report}" => self.report(request, p(0)).await,
            "/api/admin/unattributed" => self.unattributed(request, &agent).await,
            "/api/audit" => self.audit_trail(request).await,
            other => unreachable!("route {other} has no handler"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_finds_its_route_and_parameters_and_the_fixed_segment_wins() {
        let (r, p) = find_route(&Method::GET, "/api/tickets/counts").unwrap();
        assert_eq!((r.path, p.len()), ("/api/tickets/counts", 0));
        let (r, p) = find_route(&Method::GET, "/api/tickets/TK-1/media/wamid.X").unwrap();
        assert_eq!(
            (r.path, p),
            ("/api/tickets/{id}/media/{wamid}", vec!["TK-1", "wamid.X"])
        );
        assert!(find_route(&Method::DELETE, "/api/tickets/TK-1").is_none());
        assert!(find_route(&Method::GET, "/api/tickets//media/x").is_none());
    }
}
