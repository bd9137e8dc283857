//! The agent API (`/api/...`, behind the JWT authorizer): a team's queue, a
//! ticket with its whole timeline, replying and resolving. It reads DynamoDB and
//! writes only through `tickets.fifo` and `outbound.fifo`, so `tickets` stays
//! the single writer. Agents see only the tickets of their own teams. KPI
//! reports are in `reports.rs`.

mod reports;

use helpdesk::adapters::clock::SharedClock;
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::s3::{S3MediaStore, s3_client};
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::commands::{AgentReplied, Resolve, SetCustomerTier, TicketCommand, Transfer};
use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::identity::{Handle, Identity};
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::outbound::{Author, OutboundBody, OutboundError, OutboundRequest};
use helpdesk::domain::reports::{DateRange, ReportKind};
use helpdesk::domain::ticket::{CustomerTier, Ticket, TicketStatus};
use helpdesk::ports::{
    Clock, IdentityReader, MediaLinks, Queue, QueueError, ReportStore, StoreError, TicketReader, UnattributedStore,
};
use lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizerJwtDescription;
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use serde_json::{Value, json};

/// Largest queue page an agent can ask for.
const MAX_PAGE: usize = 100;

/// Every way a request can fail; the status is chosen in [`ApiError::status`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or unusable identity claims")]
    Unauthorized,
    #[error("ticket {0} belongs to a team you are not in")]
    Forbidden(TicketId),
    #[error("you are not a member of team {0}")]
    NotInTeam(String),
    #[error("only members of the {ADMIN_GROUP} group may do this")]
    NotAdmin,
    #[error("not found")]
    NotFound,
    #[error("no report named {0:?}; the reports are {names}", names = ReportKind::ALL.map(ReportKind::as_str).join(", "))]
    NoReport(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("ticket {0} is resolved")]
    Resolved(TicketId),
    #[error("store unavailable")]
    Store(#[from] StoreError),
    #[error("queue unavailable")]
    Queue(#[from] QueueError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::NotInTeam(_) | ApiError::NotAdmin => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NoReport(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Resolved(_) => StatusCode::CONFLICT,
            ApiError::Store(_) | ApiError::Queue(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<OutboundError> for ApiError {
    fn from(e: OutboundError) -> Self {
        ApiError::BadRequest(format!("text: {e}"))
    }
}

/// The agent, as the JWT authorizer's claims describe them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub name: String,
    pub teams: Vec<String>,
}

/// The group (team claim) whose members administer the desk: they read what
/// no team owns, such as messages that name no customer.
pub const ADMIN_GROUP: &str = "admins";

impl Agent {
    pub fn in_team(&self, team: &str) -> bool {
        self.teams.iter().any(|t| t == team)
    }

    pub fn is_admin(&self) -> bool {
        self.in_team(ADMIN_GROUP)
    }
}

/// Which claims name the agent and their teams (Cognito's by default).
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
        let teams = match serde_json::from_str::<Vec<String>>(raw) {
            Ok(list) => list,
            Err(_) => raw
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split([' ', ','])
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        (!name.is_empty()).then_some(Agent { name, teams })
    }
}

#[derive(Deserialize)]
struct ReplyBody {
    text: String,
}

#[derive(Deserialize)]
struct TransferBody {
    team: String,
    reason: String,
}

#[derive(Deserialize)]
struct TierBody {
    tier: CustomerTier,
}

fn parse_body<T: serde::de::DeserializeOwned>(request: &Request, shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(request.body().as_ref())
        .map_err(|e| ApiError::BadRequest(format!("body must be {shape}: {e}")))
}

/// What a route answers: JSON, or a CSV file to download.
pub(crate) enum Answer {
    Json(StatusCode, Value),
    Csv { filename: String, body: String },
}

/// The agent API over its ports: ticket and report reads, the tickets and
/// outbound queues, the clock, and short-lived links to stored files.
pub struct AgentApi<S, T, O, C, L> {
    store: S,
    tickets: T,
    outbound: O,
    clock: C,
    claims: ClaimNames,
    desk: Desk,
    media: L,
}

/// The agent API as Lambda runs it.
pub type AwsAgentApi =
    AgentApi<DynamoStore, SqsQueue<TicketCommand>, SqsQueue<OutboundRequest>, SharedClock, S3MediaStore>;

/// How long a media link stays valid: agents see files only through short-lived links.
pub const MEDIA_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);

impl AwsAgentApi {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_http::Error> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let tickets = SqsQueue::new(sqs.clone(), env.require("TICKETS_QUEUE_URL")?);
        let outbound = SqsQueue::new(sqs, env.require("OUTBOUND_QUEUE_URL")?);
        let claims = ClaimNames {
            name: env.or("AGENT_NAME_CLAIM", "cognito:username").to_owned(),
            teams: env.or("AGENT_TEAMS_CLAIM", "cognito:groups").to_owned(),
        };
        let desk = load_desk(env, &Catalog::builtin())?;
        let media = S3MediaStore::new(s3_client(sdk), env.require("MEDIA_BUCKET_NAME")?);
        Ok(AgentApi::new(
            store,
            tickets,
            outbound,
            env.clock(),
            claims,
            desk,
            media,
        ))
    }
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: TicketReader + ReportStore + IdentityReader + UnattributedStore,
    T: Queue<TicketCommand>,
    O: Queue<OutboundRequest>,
    C: Clock,
    L: MediaLinks,
{
    pub fn new(store: S, tickets: T, outbound: O, clock: C, claims: ClaimNames, desk: Desk, media: L) -> Self {
        AgentApi {
            store,
            tickets,
            outbound,
            clock,
            claims,
            desk,
            media,
        }
    }

    pub async fn handle(&self, request: Request) -> Result<Response<Body>, std::convert::Infallible> {
        let started = self.clock.now_ms();
        let result = self.route(&request).await;
        let response = match result {
            Ok(Answer::Json(status, body)) => json_response(status, body),
            Ok(Answer::Csv { filename, body }) => csv_response(&filename, body),
            Err(error) => {
                if error.status().is_server_error() {
                    tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "agent API request failed");
                }
                let message = if error.status().is_server_error() {
                    "temporarily unavailable".to_owned()
                } else {
                    error.to_string()
                };
                json_response(error.status(), json!({ "error": message }))
            }
        };
        tracing::info!(
            method = %request.method(),
            route = route_name(request.uri().path()),
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

    async fn route(&self, request: &Request) -> Result<Answer, ApiError> {
        let agent = self.agent(request)?;
        let path: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
        let json = match (request.method(), path.as_slice()) {
            (&Method::GET, ["api", "reports", report]) => return self.report(request, report).await,
            (&Method::GET, ["api", "me"]) => Ok((StatusCode::OK, json!({"agent": agent.name, "teams": agent.teams}))),
            (&Method::GET, ["api", "tickets"]) => self.list(request, &agent).await,
            (&Method::GET, ["api", "tickets", id]) => self.show(id, &agent).await,
            (&Method::POST, ["api", "tickets", id, "reply"]) => self.reply(request, id, &agent).await,
            (&Method::POST, ["api", "tickets", id, "resolve"]) => self.resolve(request, id, &agent).await,
            (&Method::POST, ["api", "tickets", id, "transfer"]) => self.transfer(request, id, &agent).await,
            (&Method::GET, ["api", "tickets", id, "media", wamid]) => self.media_link(id, wamid, &agent).await,
            (&Method::PUT, ["api", "customers", customer, "tier"]) => self.set_tier(request, customer, &agent).await,
            (&Method::GET, ["api", "admin", "unattributed"]) => self.unattributed(request, &agent).await,
            _ => Err(ApiError::NotFound),
        };
        json.map(|(status, body)| Answer::Json(status, body))
    }

    /// `GET /api/tickets?status=queued&team=support&limit=50`: urgent first, then oldest.
    async fn list(&self, request: &Request, agent: &Agent) -> Result<(StatusCode, Value), ApiError> {
        let query = request.uri().query().unwrap_or("");
        let param = |name: &str| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let status_text = param("status").unwrap_or_else(|| "queued".into());
        let status = TicketStatus::parse(&status_text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status must be one of bot, queued, assigned, resolved; not {status_text:?}"
            ))
        })?;
        let limit = match param("limit") {
            None => 50,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| ApiError::BadRequest(format!("limit must be between 1 and {MAX_PAGE}")))?,
        };
        let teams = match param("team") {
            Some(team) if agent.in_team(&team) => vec![team],
            Some(team) => return Err(ApiError::NotInTeam(team)),
            None => agent.teams.clone(),
        };
        let mut tickets = Vec::new();
        for team in &teams {
            tickets.extend(self.store.queue(team, status, limit).await?);
        }
        tickets.sort_by_key(|t| (t.priority.queue_rank(), t.created_at_ms));
        tickets.truncate(limit);
        Ok((
            StatusCode::OK,
            json!({ "status": status, "teams": teams, "tickets": tickets }),
        ))
    }

    async fn visible_ticket(&self, id: &str, agent: &Agent) -> Result<Ticket, ApiError> {
        let id = TicketId::parse(id).map_err(|_| ApiError::NotFound)?;
        let ticket = self.store.ticket(&id).await?.ok_or(ApiError::NotFound)?;
        if !agent.in_team(&ticket.team) {
            return Err(ApiError::Forbidden(id));
        }
        Ok(ticket)
    }

    /// `GET /api/tickets/{id}`: the ticket and its whole timeline, oldest first.
    async fn show(&self, id: &str, agent: &Agent) -> Result<(StatusCode, Value), ApiError> {
        // The timeline first: `tickets` saves a change and its entries together,
        // so the ticket read after it is at least as new as every entry shown.
        let ticket_id = TicketId::parse(id).map_err(|_| ApiError::NotFound)?;
        let timeline = self.store.timeline(&ticket_id).await?;
        let ticket = self.visible_ticket(id, agent).await?;
        let profile = self.store.profile(&ticket.customer).await?;
        let identity = self
            .store
            .identity(&ticket.customer)
            .await?
            .unwrap_or_else(|| Identity::from_key(&ticket.customer));
        let media = self.store.attachments(&ticket.id).await?;
        Ok((
            StatusCode::OK,
            json!({ "ticket": ticket, "customer_profile": profile, "customer": customer_view(&identity),
                "media": media, "timeline": timeline }),
        ))
    }

    /// `GET /api/admin/unattributed?from=2026-11-01&to=2026-11-30`: messages the
    /// webhook acknowledged that name no customer, with their payloads; admins only.
    async fn unattributed(&self, request: &Request, agent: &Agent) -> Result<(StatusCode, Value), ApiError> {
        if !agent.is_admin() {
            return Err(ApiError::NotAdmin);
        }
        let query = request.uri().query().unwrap_or("");
        let param = |name: &str| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let range = DateRange::parse(param("from").as_deref(), param("to").as_deref(), self.clock.now_ms())
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let messages = self.store.unattributed(&range.from(), &range.to()).await?;
        tracing::info!(audit = "unattributed_read", agent = %agent.name, count = messages.len(), "unattributed messages read");
        Ok((
            StatusCode::OK,
            json!({"from": range.from(), "to": range.to(), "messages": messages}),
        ))
    }

    /// `POST /api/tickets/{id}/reply {"text": "..."}`: queued for sending; 202.
    async fn reply(&self, request: &Request, id: &str, agent: &Agent) -> Result<(StatusCode, Value), ApiError> {
        let ticket = self.visible_ticket(id, agent).await?;
        if ticket.status == TicketStatus::Resolved {
            return Err(ApiError::Resolved(ticket.id));
        }
        let body: ReplyBody = parse_body(request, "{\"text\": \"...\"}")?;
        let message = OutboundBody::text(body.text);
        message.validate()?;
        let key = idempotency_key(request);
        let now = self.clock.now_ms();
        // The ticket changes hands first, so the bot is silent before the reply lands.
        self.tickets
            .send(&[TicketCommand::AgentReplied(AgentReplied {
                ticket_id: ticket.id.clone(),
                customer: ticket.customer.clone(),
                agent: agent.name.clone(),
                at_ms: now,
                idempotency_key: key.clone(),
            })])
            .await?;
        self.outbound
            .send(&[OutboundRequest {
                idempotency_key: format!("agent:{key}"),
                ticket_id: ticket.id.clone(),
                customer: ticket.customer.clone(),
                phone_number_id: ticket.phone_number_id.clone(),
                author: Author::Agent(agent.name.clone()),
                body: message,
            }])
            .await?;
        Ok((
            StatusCode::ACCEPTED,
            json!({ "status": "queued", "ticket_id": ticket.id, "idempotency_key": key }),
        ))
    }

    /// `POST /api/tickets/{id}/resolve`: 202 while it is applied; 200 when already resolved.
    async fn resolve(&self, request: &Request, id: &str, agent: &Agent) -> Result<(StatusCode, Value), ApiError> {
        let ticket = self.visible_ticket(id, agent).await?;
        if ticket.status == TicketStatus::Resolved {
            return Ok((StatusCode::OK, json!({ "status": "resolved", "ticket_id": ticket.id })));
        }
        self.tickets
            .send(&[TicketCommand::Resolve(Resolve {
                ticket_id: ticket.id.clone(),
                customer: ticket.customer.clone(),
                by: Author::Agent(agent.name.clone()),
                at_ms: self.clock.now_ms(),
                request_id: idempotency_key(request),
            })])
            .await?;
        Ok((
            StatusCode::ACCEPTED,
            json!({ "status": "resolving", "ticket_id": ticket.id }),
        ))
    }
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: TicketReader + ReportStore + IdentityReader + UnattributedStore,
    T: Queue<TicketCommand>,
    O: Queue<OutboundRequest>,
    C: Clock,
    L: MediaLinks,
{
    /// `POST /api/tickets/{id}/transfer {"team": "tech", "reason": "..."}`: to another
    /// team at that team's tier (3 for specialists); 202.
    async fn transfer(&self, request: &Request, id: &str, agent: &Agent) -> Result<(StatusCode, Value), ApiError> {
        let ticket = self.visible_ticket(id, agent).await?;
        if ticket.status == TicketStatus::Resolved {
            return Err(ApiError::Resolved(ticket.id));
        }
        let body: TransferBody = parse_body(request, "{\"team\": \"...\", \"reason\": \"...\"}")?;
        let team = self
            .desk
            .team(&body.team)
            .ok_or_else(|| ApiError::BadRequest(format!("team: no team has the id {:?}", body.team)))?;
        let reason = body.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(ApiError::BadRequest("reason: must have 1 to 500 characters".into()));
        }
        self.tickets
            .send(&[TicketCommand::Transfer(Transfer {
                ticket_id: ticket.id.clone(),
                customer: ticket.customer.clone(),
                team: team.config.id.clone(),
                tier: team.config.tier,
                agent: agent.name.clone(),
                reason: reason.to_owned(),
                at_ms: self.clock.now_ms(),
                request_id: idempotency_key(request),
            })])
            .await?;
        let answer =
            json!({"status": "transferring", "ticket_id": ticket.id, "team": team.config.id, "tier": team.config.tier});
        Ok((StatusCode::ACCEPTED, answer))
    }

    /// `GET /api/tickets/{id}/media/{wamid}`: a presigned link valid 5 minutes,
    /// for agents of the ticket's team only; every access is logged for audit.
    async fn media_link(&self, id: &str, wamid: &str, agent: &Agent) -> Result<(StatusCode, Value), ApiError> {
        let ticket = self.visible_ticket(id, agent).await?;
        let attachments = self.store.attachments(&ticket.id).await?;
        let item = attachments
            .into_iter()
            .find(|a| a.wamid == wamid)
            .ok_or(ApiError::NotFound)?;
        let Some(key) = item.s3_key.as_deref() else {
            return Err(ApiError::BadRequest(format!(
                "this file was refused and not stored: {}",
                item.refused.unwrap_or_default()
            )));
        };
        let url = self
            .media
            .presign_get(key, MEDIA_LINK_TTL)
            .await
            .map_err(|e| ApiError::Store(StoreError::Backend(e)))?;
        // The audit line: who, when, which item (the wamid hashed: it encodes the phone number).
        tracing::info!(audit = "media_access", agent = %agent.name, ticket = %ticket.id, item = %short_hash(wamid), hidden = item.hidden, "media link issued");
        let warning = item
            .hidden
            .then_some("This file may show inappropriate content (moderation). Open it only if needed.");
        Ok((
            StatusCode::OK,
            json!({"url": url, "expires_in": MEDIA_LINK_TTL.as_secs(), "mime": item.mime, "warning": warning}),
        ))
    }

    /// `PUT /api/customers/{wa_id}/tier {"tier": "vip"}`: 202.
    async fn set_tier(
        &self,
        request: &Request,
        customer: &str,
        agent: &Agent,
    ) -> Result<(StatusCode, Value), ApiError> {
        let customer = self.customer_named(customer).await?;
        let body: TierBody = parse_body(request, "{\"tier\": \"standard\" | \"vip\"}")?;
        self.tickets
            .send(&[TicketCommand::SetCustomerTier(SetCustomerTier {
                customer,
                tier: body.tier,
                by: agent.name.clone(),
                at_ms: self.clock.now_ms(),
                request_id: idempotency_key(request),
            })])
            .await?;
        Ok((StatusCode::ACCEPTED, json!({"status": "updating", "tier": body.tier})))
    }
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: TicketReader + ReportStore + IdentityReader + UnattributedStore,
{
    /// The customer a path names: a phone, a business-scoped user id or a
    /// customer key (404 when unknown, 400 when it is none of these).
    async fn customer_named(&self, named: &str) -> Result<CustomerId, ApiError> {
        let handle = Handle::parse(named).ok_or_else(|| {
            ApiError::BadRequest("customer: a phone number, a WhatsApp user id (CC.…) or a customer key".into())
        })?;
        match self.store.owner(&handle).await? {
            Some(customer) => Ok(customer),
            // A customer stored before identities were kept is named by their key.
            None => CustomerId::parse(named).map_err(|e| ApiError::BadRequest(format!("customer: {e}"))),
        }
    }
}

/// How agents see a customer: the phone masked, the ids and username as Meta gives them.
fn customer_view(identity: &Identity) -> Value {
    json!({
        "id": identity.customer,
        "phone": identity.phone.as_ref().map(|p| p.masked()),
        "phone_withheld": identity.phone_withheld,
        "user_id": identity.user_id.as_ref().map(|u| u.as_str()),
        "parent_user_id": identity.parent_user_id.as_ref().map(|p| p.as_str()),
        "username": identity.username.as_ref().map(|u| u.as_str()),
    })
}

/// The client's `Idempotency-Key` header (a retried request is applied once),
/// else the API Gateway request id.
fn idempotency_key(request: &Request) -> String {
    let header = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100);
    match header {
        Some(h) => h.to_owned(),
        None => match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_default(),
            _ => String::new(),
        },
    }
}

fn short_hash(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The route for logs, without ids.
fn route_name(path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", "me"] => "/api/me",
        ["api", "tickets"] => "/api/tickets",
        ["api", "tickets", _] => "/api/tickets/{id}",
        ["api", "tickets", _, "reply"] => "/api/tickets/{id}/reply",
        ["api", "tickets", _, "resolve"] => "/api/tickets/{id}/resolve",
        ["api", "tickets", _, "transfer"] => "/api/tickets/{id}/transfer",
        ["api", "customers", _, "tier"] => "/api/customers/{id}/tier",
        ["api", "tickets", _, "media", _] => "/api/tickets/{id}/media/{wamid}",
        ["api", "reports", _] => "/api/reports/{report}",
        ["api", "admin", "unattributed"] => "/api/admin/unattributed",
        _ => "unknown",
    }
}

fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("static response parts are valid")
}

/// `filename` is ours (a report name and dates), never the client's text.
fn csv_response(filename: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        )
        .body(Body::from(body))
        .expect("static response parts are valid")
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
                teams: vec!["support".into(), "billing".into()]
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
    fn an_agent_without_a_name_claim_is_unauthorised() {
        assert_eq!(names().agent(&claims(&[("cognito:groups", "[support]")])), None);
    }
}
