//! What agents read: the views of their teams' tickets with an opaque cursor,
//! the counts per view, search (ticket id, phone, business-scoped id,
//! username, order number, name), a customer's ticket history, one ticket
//! with its timeline, canned responses, and short-lived links to media.

use crate::AgentStore;
use crate::auth::{Agent, Role};
use crate::error::ApiError;
use crate::http::{Answer, query_param};
use crate::{AgentApi, MEDIA_LINK_TTL};
use helpdesk::domain::audit::{PRESENCE_TTL_MS, Presence};
use helpdesk::domain::canned::{self, PlaceholderValues};
use helpdesk::domain::i18n::Lang;
use helpdesk::domain::identity::{Handle, Identity, Username};
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::privacy::mask_cards_in_entry;
use helpdesk::domain::ticket::{Ticket, TicketStatus};
use helpdesk::domain::views::{Cursor, ListPage, Listing, merge, normalise_name, normalise_order};
use helpdesk::ports::{Clock, MediaLinks, StoreError};
use lambda_http::Request;
use serde_json::{Value, json};

/// Largest page an agent can ask for.
pub const MAX_PAGE: usize = 100;
/// How many timeline entries a 412 shows of what changed.
const RECENT_ENTRIES: usize = 5;

/// The views of the workspace.
pub const VIEWS: [&str; 7] = ["mine", "unassigned", "open", "at_risk", "waiting", "resolved", "bot"];

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: AgentStore,
    C: Clock,
    L: MediaLinks,
{
    /// The teams a request is about: `team` (one the agent is in), else all theirs.
    fn teams_of(&self, request: &Request, agent: &Agent) -> Result<Vec<String>, ApiError> {
        match query_param(request, "team") {
            Some(team) if agent.in_team(&team) || (agent.is(Role::Admin) && self.desk.team(&team).is_some()) => {
                Ok(vec![team])
            }
            Some(team) => Err(ApiError::NotInTeam(team)),
            None => Ok(agent.teams.clone()),
        }
    }

    /// `GET /api/tickets?view=open&team=support&tag=refund&limit=50&cursor=…`:
    /// a view of the agent's teams (see [`VIEWS`]); open views urgent first
    /// then oldest, resolved newest first. `status=` (bot, queued, assigned,
    /// resolved) lists one status. A tag filters a page after it is read, so
    /// a page may hold fewer tickets; `next_cursor` goes on.
    pub(crate) async fn list(&self, request: &Request, agent: &Agent) -> Result<Answer, ApiError> {
        let teams = self.teams_of(request, agent)?;
        let limit = match query_param(request, "limit") {
            None => 50,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| ApiError::BadRequest(format!("limit must be between 1 and {MAX_PAGE}")))?,
        };
        let (view, listings) = match (query_param(request, "view"), query_param(request, "status")) {
            (Some(_), Some(_)) => return Err(ApiError::BadRequest("give view or status, not both".into())),
            (None, Some(status)) => {
                let s = TicketStatus::parse(&status).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "status must be one of bot, queued, assigned, resolved; not {status:?}"
                    ))
                })?;
                (
                    format!("status:{status}"),
                    per_team(&teams, |team| vec![queue(team, s)]),
                )
            }
            (view, None) => {
                let view = view.unwrap_or_else(|| "unassigned".into());
                let listings = match view.as_str() {
                    "mine" => vec![Listing::Assignee {
                        agent: agent.name.clone(),
                    }],
                    "unassigned" => per_team(&teams, |t| vec![queue(t, TicketStatus::Queued)]),
                    "open" => per_team(&teams, |t| {
                        vec![queue(t, TicketStatus::Queued), queue(t, TicketStatus::Assigned)]
                    }),
                    "at_risk" => per_team(&teams, |t| vec![Listing::AtRisk { team: t.to_owned() }]),
                    "waiting" => per_team(&teams, |t| vec![Listing::Waiting { team: t.to_owned() }]),
                    "resolved" => per_team(&teams, |t| vec![queue(t, TicketStatus::Resolved)]),
                    "bot" => per_team(&teams, |t| vec![queue(t, TicketStatus::Bot)]),
                    other => {
                        return Err(ApiError::BadRequest(format!(
                            "view must be one of {}; not {other:?}",
                            VIEWS.join(", ")
                        )));
                    }
                };
                (view, listings)
            }
        };
        let tag = query_param(request, "tag").map(|t| t.to_lowercase());
        let key = format!("{view}|{}|{}", teams.join(","), tag.clone().unwrap_or_default());
        let (tickets, next) = self
            .read_view(&key, &listings, query_param(request, "cursor"), limit)
            .await?;
        let tickets: Vec<Ticket> = tickets
            .into_iter()
            .filter(|t| view != "mine" || teams.contains(&t.team))
            .filter(|t| tag.as_ref().is_none_or(|tag| t.tags.contains(tag)))
            .collect();
        Ok(Answer::ok(json!({
            "view": view, "status": query_param(request, "status"), "teams": teams, "tickets": tickets,
            "next_cursor": next.map(|c| c.encode()),
        })))
    }

    /// Reads a view's next page: one page of each of its lists after the
    /// cursor, merged.
    async fn read_view(
        &self,
        key: &str,
        listings: &[Listing],
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<Ticket>, Option<Cursor>), ApiError> {
        let cursor = match cursor {
            Some(text) => {
                Cursor::decode(&text, key, listings.len()).map_err(|e| ApiError::BadRequest(e.to_string()))?
            }
            None => Cursor::start(key, listings.len()),
        };
        let mut pages = Vec::with_capacity(listings.len());
        for (i, listing) in listings.iter().enumerate() {
            pages.push(match cursor.done[i] {
                true => ListPage::default(),
                false => self.store.list(listing, cursor.after[i].as_deref(), limit).await?,
            });
        }
        let descending = listings.first().is_some_and(Listing::descending);
        Ok(merge(&cursor, pages, limit, descending))
    }

    /// `GET /api/tickets/counts`: how many tickets each view holds, per team.
    pub(crate) async fn counts(&self, agent: &Agent) -> Result<Answer, ApiError> {
        let mine = self
            .store
            .count(&Listing::Assignee {
                agent: agent.name.clone(),
            })
            .await?;
        let mut teams = serde_json::Map::new();
        for team in &agent.teams {
            let unassigned = self.store.count(&queue(team, TicketStatus::Queued)).await?;
            let assigned = self.store.count(&queue(team, TicketStatus::Assigned)).await?;
            let at_risk = self.store.count(&Listing::AtRisk { team: team.clone() }).await?;
            let waiting = self.store.count(&Listing::Waiting { team: team.clone() }).await?;
            teams.insert(
                team.clone(),
                json!({"unassigned": unassigned, "open": unassigned + assigned, "at_risk": at_risk, "waiting": waiting}),
            );
        }
        Ok(Answer::ok(json!({"mine": mine, "teams": teams})))
    }

    /// Whether the agent may see tickets of `team` (admins see every team's).
    pub(crate) fn sees(&self, agent: &Agent, team: &str) -> bool {
        agent.in_team(team) || agent.is(Role::Admin)
    }

    pub(crate) async fn visible_ticket(&self, id: &str, agent: &Agent) -> Result<Ticket, ApiError> {
        let id = TicketId::parse(id).map_err(|_| ApiError::NotFound)?;
        let ticket = self.store.ticket(&id).await?.ok_or(ApiError::NotFound)?;
        if !self.sees(agent, &ticket.team) {
            return Err(ApiError::Forbidden(id));
        }
        Ok(ticket)
    }

    /// `GET /api/tickets/{id}`: the ticket and its whole timeline (oldest
    /// first), the customer, their media, the 24-hour window; its version as ETag.
    pub(crate) async fn show(&self, id: &str, agent: &Agent) -> Result<Answer, ApiError> {
        // The timeline first: `tickets` saves a change and its entries together,
        // so the ticket read after it is at least as new as every entry shown.
        let ticket_id = TicketId::parse(id).map_err(|_| ApiError::NotFound)?;
        let mut timeline = self.store.timeline(&ticket_id).await?;
        timeline.iter_mut().for_each(mask_cards_in_entry);
        let ticket = self.visible_ticket(id, agent).await?;
        let profile = self.store.profile(&ticket.customer).await?;
        let identity = self.identity_of(&ticket.customer).await?;
        let media = self.store.attachments(&ticket.id).await?;
        let now = self.clock.now_ms();
        let presence = self.store.presence(&ticket.id, now).await?;
        Ok(Answer::Json {
            status: lambda_http::http::StatusCode::OK,
            etag: Some(ticket.version),
            body: json!({
                "ticket": ticket, "version": ticket.version,
                "customer_profile": profile, "customer": customer_view(&identity),
                "history": format!("/api/customers/{}/tickets", ticket.customer.as_str()),
                "window": {"open": ticket.window_open(now), "closes_at_ms": ticket.window_closes_at_ms()},
                "presence": presence, "media": media, "timeline": timeline,
            }),
        })
    }

    /// The ticket now and its latest entries: what a 412 shows of what changed.
    pub(crate) async fn what_changed(&self, ticket: &Ticket) -> Result<Value, ApiError> {
        let timeline = self.store.timeline(&ticket.id).await?;
        let mut recent: Vec<_> = timeline.into_iter().rev().take(RECENT_ENTRIES).collect();
        recent.reverse();
        recent.iter_mut().for_each(mask_cards_in_entry);
        Ok(json!({"ticket": ticket, "version": ticket.version, "recent": recent}))
    }

    pub(crate) async fn identity_of(&self, customer: &CustomerId) -> Result<Identity, StoreError> {
        Ok(self
            .store
            .identity(customer)
            .await?
            .unwrap_or_else(|| Identity::from_key(customer)))
    }

    /// `GET /api/search?q=…&by=…`: `by` is `ticket`, `phone`, `user_id`,
    /// `username`, `order` or `name`; without it the query's form chooses
    /// (`TK-…`, `@name`, a business-scoped id, a phone, an order number, else a
    /// name prefix). Customers found and their tickets, newest first, among
    /// the teams the agent sees.
    pub(crate) async fn search(&self, request: &Request, agent: &Agent) -> Result<Answer, ApiError> {
        let q = query_param(request, "q")
            .map(|q| q.trim().to_owned())
            .unwrap_or_default();
        if q.is_empty() || q.chars().count() > 200 {
            return Err(ApiError::BadRequest("q: 1 to 200 characters".into()));
        }
        let by = match query_param(request, "by") {
            Some(by) => by,
            None => self.guess_search(&q).await?.to_owned(),
        };
        let mut customers: Vec<CustomerId> = Vec::new();
        let mut listings: Vec<Listing> = Vec::new();
        let mut tickets: Vec<Ticket> = Vec::new();
        match by.as_str() {
            "ticket" => {
                if let Ok(id) = TicketId::parse(q.to_uppercase()) {
                    tickets.extend(self.store.ticket(&id).await?);
                }
            }
            "phone" | "user_id" => {
                let handle = Handle::parse(&q)
                    .ok_or_else(|| ApiError::BadRequest("q: a phone number or a WhatsApp user id (CC.…)".into()))?;
                customers.extend(self.store.owner(&handle).await?);
                if customers.is_empty()
                    && let Ok(key) = CustomerId::parse(q.trim_start_matches('+'))
                {
                    // A customer stored before identities were kept.
                    customers.push(key);
                }
            }
            "username" => {
                let name = Username::parse(&format!("@{}", q.trim_start_matches('@')))
                    .map_err(|e| ApiError::BadRequest(format!("q: {e}")))?;
                customers.extend(self.store.owners_of_username(&name).await?);
            }
            "order" => listings.push(Listing::Order {
                number: normalise_order(&q),
            }),
            "name" => {
                let prefix = normalise_name(&q);
                if prefix.chars().count() < 2 {
                    return Err(ApiError::BadRequest("q: at least two letters of a name".into()));
                }
                listings.push(Listing::Name { prefix });
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "by must be one of ticket, phone, user_id, username, order, name; not {other:?}"
                )));
            }
        }
        for customer in &customers {
            listings.push(Listing::Customer {
                customer: customer.clone(),
            });
        }
        for listing in &listings {
            let page = self.store.list(listing, None, 50).await?;
            tickets.extend(page.items.into_iter().map(|l| l.ticket));
        }
        tickets.retain(|t| self.sees(agent, &t.team));
        tickets.sort_by(|a, b| {
            b.created_at_ms
                .cmp(&a.created_at_ms)
                .then(a.id.as_str().cmp(b.id.as_str()))
        });
        tickets.dedup_by(|a, b| a.id == b.id);
        if customers.is_empty() {
            customers = tickets.iter().map(|t| t.customer.clone()).collect();
            customers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            customers.dedup();
        }
        let mut found = Vec::new();
        for customer in customers.iter().take(20) {
            found.push(customer_view(&self.identity_of(customer).await?));
        }
        Ok(Answer::ok(
            json!({"q": q, "by": by, "customers": found, "tickets": tickets}),
        ))
    }

    /// What a query without `by` looks like.
    async fn guess_search(&self, q: &str) -> Result<&'static str, ApiError> {
        if q.to_uppercase().starts_with("TK-") {
            return Ok("ticket");
        }
        if q.starts_with('@') {
            return Ok("username");
        }
        if let Some(handle) = Handle::parse(q) {
            let known = self.store.owner(&handle).await?.is_some();
            if known || self.desk.parse_order_number(q).is_none() {
                return Ok(match handle {
                    Handle::Phone(_) => "phone",
                    _ => "user_id",
                });
            }
        }
        // An order number has a digit; a word without one is a name.
        if self.desk.parse_order_number(q).is_some() && q.chars().any(|c| c.is_ascii_digit()) {
            return Ok("order");
        }
        Ok("name")
    }

    /// `GET /api/customers/{id}/tickets?cursor=…`: every ticket of the
    /// customer, newest first; those of teams the agent is not in show only
    /// their id, team, status and dates.
    pub(crate) async fn history(&self, request: &Request, customer: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let customer = self.customer_named(customer).await?;
        let listing = [Listing::Customer {
            customer: customer.clone(),
        }];
        let key = format!("history|{}", customer.as_str());
        let (tickets, next) = self
            .read_view(&key, &listing, query_param(request, "cursor"), 50)
            .await?;
        let tickets: Vec<Value> = tickets
            .into_iter()
            .map(|t| match self.sees(agent, &t.team) {
                true => json!(t),
                false => json!({"id": t.id, "team": t.team, "status": t.status,
                    "created_at_ms": t.created_at_ms, "resolved_at_ms": t.resolved_at_ms}),
            })
            .collect();
        let identity = self.identity_of(&customer).await?;
        Ok(Answer::ok(json!({
            "customer": customer_view(&identity), "tickets": tickets, "next_cursor": next.map(|c| c.encode()),
        })))
    }

    /// `GET /api/canned?ticket=TK-…&q=refund` (or `team=…&lang=fr`): the
    /// canned responses for the ticket's team and customer's language, each
    /// filled for that ticket, or with the placeholders still missing.
    pub(crate) async fn canned(&self, request: &Request, agent: &Agent) -> Result<Answer, ApiError> {
        let q = query_param(request, "q").unwrap_or_default();
        let default = self.desk.config.desk.default_language;
        let (team, lang, values) = match query_param(request, "ticket") {
            Some(id) => {
                let t = self.visible_ticket(&id, agent).await?;
                let lang = t.context.language.as_deref().and_then(Lang::parse).unwrap_or(default);
                let values = PlaceholderValues {
                    customer_name: t.contact_name.clone(),
                    ticket_id: Some(t.id.as_str().to_owned()),
                    agent_name: Some(agent.name.clone()),
                    order_number: t.order_number.clone(),
                };
                (t.team.clone(), lang, Some(values))
            }
            None => {
                let team = self
                    .teams_of(request, agent)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| ApiError::BadRequest("team: you are in no team; name one".into()))?;
                let lang = match query_param(request, "lang") {
                    Some(l) => Lang::parse(&l).ok_or_else(|| ApiError::BadRequest(format!("lang: unknown {l:?}")))?,
                    None => default,
                };
                (team, lang, None)
            }
        };
        let responses: Vec<Value> = self
            .desk
            .search_canned(&team, lang, &q)
            .into_iter()
            .map(|r| {
                let filled = values.as_ref().map(|v| canned::fill(r, v));
                json!({
                    "id": r.id, "title": r.title, "language": r.language.code(), "tags": r.tags,
                    "template": r.text,
                    "text": filled.as_ref().and_then(|f| f.as_ref().ok()),
                    "missing": match filled {
                        Some(Err(canned::FillError::Missing { missing, .. })) => missing.iter().map(|p| p.name()).collect(),
                        _ => Vec::new(),
                    },
                })
            })
            .collect();
        Ok(Answer::ok(
            json!({"team": team, "language": lang.code(), "responses": responses}),
        ))
    }

    /// `GET /api/tickets/{id}/media/{wamid}`: a presigned link valid 5 minutes,
    /// for agents of the ticket's team only; every access is logged for audit.
    pub(crate) async fn media_link(&self, id: &str, wamid: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let ticket = self.visible_ticket(id, agent).await?;
        let attachments = self.store.attachments(&ticket.id).await?;
        let item = attachments
            .into_iter()
            .find(|a| a.wamid == wamid)
            .ok_or(ApiError::NotFound)?;
        let Some(key) = item.s3_key.as_deref() else {
            return Err(ApiError::Conflict(
                "file_refused",
                format!(
                    "this file was refused and not stored: {}",
                    item.refused.unwrap_or_default()
                ),
            ));
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
        Ok(Answer::ok(
            json!({"url": url, "expires_in": MEDIA_LINK_TTL.as_secs(), "mime": item.mime, "warning": warning}),
        ))
    }

    /// `POST /api/tickets/{id}/presence {"activity": "viewing" | "typing"}`:
    /// the agent is on the ticket for the next 30 seconds (the console
    /// renews it); others see it with the ticket. The answer lists everyone on
    /// the ticket now (`present`), so a console renewing its own presence
    /// learns who else is there without reading the ticket again.
    pub(crate) async fn set_presence(&self, request: &Request, id: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let ticket = self.visible_ticket(id, agent).await?;
        let body: PresenceBody = crate::http::parse_body(request, "{\"activity\": \"viewing\" | \"typing\"}")?;
        let presence = Presence {
            agent: agent.name.clone(),
            activity: body.activity.as_str().to_owned(),
            until_ms: self.clock.now_ms() + PRESENCE_TTL_MS,
        };
        self.store.set_presence(&ticket.id, &presence).await?;
        let present = self.store.presence(&ticket.id, self.clock.now_ms()).await?;
        let mut answer = json!(presence);
        answer["present"] = json!(present);
        Ok(Answer::ok(answer))
    }

    /// `PUT /api/me/availability {"status": "available" | "away"}`: on every
    /// team of the agent. Teams that assign round-robin give available agents
    /// queued tickets in turn, up to the team's capacity.
    pub(crate) async fn set_availability(&self, request: &Request, agent: &Agent) -> Result<Answer, ApiError> {
        let body: AvailabilityBody = crate::http::parse_body(request, "{\"status\": \"available\" | \"away\"}")?;
        match body.status {
            AvailabilityStatus::Available => {
                self.store
                    .set_available(&agent.name, &agent.teams, self.clock.now_ms())
                    .await?
            }
            AvailabilityStatus::Away => self.store.set_away(&agent.name, &agent.teams).await?,
        }
        Ok(Answer::ok(
            json!({"agent": agent.name, "status": body.status, "teams": agent.teams}),
        ))
    }

    /// `GET /api/teams/{team}/agents` (leads): who is available on the team,
    /// with their open tickets and the team's capacity.
    pub(crate) async fn team_agents(&self, team: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let config = self
            .desk
            .team(team)
            .map(|t| t.config.assignment.clone())
            .ok_or(ApiError::NotFound)?;
        if !self.sees(agent, team) {
            return Err(ApiError::NotInTeam(team.to_owned()));
        }
        let mut agents = Vec::new();
        for a in self.store.available(team).await? {
            let open = self.store.count(&Listing::Assignee { agent: a.agent.clone() }).await?;
            agents.push(json!({"agent": a.agent, "since_ms": a.since_ms,
                "last_assigned_at_ms": a.last_assigned_at_ms, "open_tickets": open}));
        }
        Ok(Answer::ok(json!({
            "team": team, "round_robin": config.round_robin, "capacity": config.capacity, "available": agents,
        })))
    }

    /// The customer a path names: a phone, a business-scoped user id or a
    /// customer key (404 when unknown, 400 when it is none of these).
    pub(crate) async fn customer_named(&self, named: &str) -> Result<CustomerId, ApiError> {
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

fn queue(team: &str, status: TicketStatus) -> Listing {
    Listing::Queue {
        team: team.to_owned(),
        status,
    }
}

fn per_team(teams: &[String], lists: impl Fn(&str) -> Vec<Listing>) -> Vec<Listing> {
    teams.iter().flat_map(|t| lists(t)).collect()
}

/// How agents see a customer: the phone masked, the ids and username as Meta gives them.
pub(crate) fn customer_view(identity: &Identity) -> Value {
    json!({
        "id": identity.customer,
        "phone": identity.phone.as_ref().map(|p| p.masked()),
        "phone_withheld": identity.phone_withheld,
        "user_id": identity.user_id.as_ref().map(|u| u.as_str()),
        "parent_user_id": identity.parent_user_id.as_ref().map(|p| p.as_str()),
        "username": identity.username.as_ref().map(|u| u.as_str()),
    })
}

fn short_hash(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// What an agent is doing on a ticket.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Viewing,
    Typing,
}

impl Activity {
    fn as_str(self) -> &'static str {
        match self {
            Activity::Viewing => "viewing",
            Activity::Typing => "typing",
        }
    }
}

/// `POST /api/tickets/{id}/presence`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    pub activity: Activity,
}

/// Whether an agent takes tickets now.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityStatus {
    Available,
    Away,
}

/// `PUT /api/me/availability`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityBody {
    pub status: AvailabilityStatus,
}
