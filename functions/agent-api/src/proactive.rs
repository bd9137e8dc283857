//! Writing first: an agent records a customer's opt-in or opt-out, and sends
//! an approved template to a customer who opted in. The message goes through
//! the bot (which keeps the customer's conversation: the customer's answer
//! must land on the same ticket) and `tickets` (which checks the consent
//! again before anything is sent).

use crate::auth::Agent;
use crate::error::ApiError;
use crate::http::{Answer, idempotency_key, parse_body};
use crate::templates::TemplateReply;
use crate::{AgentApi, AgentStore};
use helpdesk::domain::commands::{SetConsent, TicketCommand};
use helpdesk::domain::consent::{ConsentStatus, Refused, may_contact};
use helpdesk::domain::ids::TicketId;
use helpdesk::domain::inbound::{AgentOpens, InboundEvent};
use helpdesk::domain::ticket::TicketStatus;
use helpdesk::domain::views::Listing;
use helpdesk::ports::{Clock, MediaLinks, Queue};
use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;

/// `PUT /api/customers/{id}/consent`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    #[schema(value_type = String, example = "opted_in")]
    pub status: ConsentStatus,
    /// Where the customer gave it: 1 to 200 characters ("signed form
    /// 2026-11-02", "asked on the phone").
    pub source: String,
}

/// `POST /api/customers/{id}/messages`: an approved template to a customer
/// who opted in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProactiveBody {
    #[schema(inline)]
    pub template: TemplateReply,
    /// The business number to write from (default: the one of the
    /// customer's latest ticket).
    #[serde(default)]
    pub phone_number_id: Option<String>,
    /// The agent's team that owns the new ticket (default: their first).
    #[serde(default)]
    pub team: Option<String>,
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: AgentStore,
    T: Queue<TicketCommand>,
    O: Queue<InboundEvent>,
    C: Clock,
    L: MediaLinks,
{
    /// `PUT /api/customers/{id}/consent {"status": "opted_in", "source": "..."}`: 202.
    pub(crate) async fn set_consent(
        &self,
        request: &Request,
        customer: &str,
        agent: &Agent,
    ) -> Result<Answer, ApiError> {
        let customer = self.customer_named(customer).await?;
        let body: ConsentBody = parse_body(
            request,
            "{\"status\": \"opted_in\" | \"opted_out\", \"source\": \"...\"}",
        )?;
        let source = body.source.trim();
        if source.is_empty() || source.chars().count() > 200 {
            return Err(ApiError::BadRequest("source: must have 1 to 200 characters".into()));
        }
        self.tickets
            .send(&[TicketCommand::SetConsent(SetConsent {
                customer,
                status: body.status,
                by: agent.name.clone(),
                source: source.to_owned(),
                at_ms: self.clock.now_ms(),
                request_id: idempotency_key(request),
            })])
            .await?;
        Ok(Answer::accepted(json!({"status": "recording", "consent": body.status})))
    }

    /// `POST /api/customers/{id}/messages {"template": {...}}`: 202 with the
    /// ticket the message opens (assigned to the agent). 409 `opted_out` or
    /// `no_opt_in` without the customer's opt-in; 409 `open_ticket` when the
    /// customer has an open ticket on that number (reply there).
    pub(crate) async fn write_first(
        &self,
        request: &Request,
        customer: &str,
        agent: &Agent,
    ) -> Result<Answer, ApiError> {
        let customer = self.customer_named(customer).await?;
        let body: ProactiveBody = parse_body(
            request,
            "{\"template\": {\"name\": \"...\", \"language\": \"en\", \"parameters\": [\"...\"]}, \"phone_number_id\": \"...\"}",
        )?;
        let consent = self.store.profile(&customer).await?.and_then(|p| p.consent);
        match may_contact(consent.as_ref()) {
            Ok(()) => {}
            Err(refused @ Refused::OptedOut { .. }) => {
                return Err(ApiError::Conflict("opted_out", refused.to_string()));
            }
            Err(refused @ Refused::NoOptIn) => {
                return Err(ApiError::Conflict(
                    "no_opt_in",
                    format!("{refused} (PUT /api/customers/{{id}}/consent)"),
                ));
            }
        }
        let team_id = match body.team {
            Some(team) if agent.teams.contains(&team) => team,
            Some(team) => return Err(ApiError::NotInTeam(team)),
            None => agent.teams.first().cloned().ok_or(ApiError::Unauthorized)?,
        };
        let team = self
            .desk
            .team(&team_id)
            .ok_or_else(|| ApiError::BadRequest(format!("team: no team has the id {team_id:?}")))?;
        let listing = Listing::Customer {
            customer: customer.clone(),
        };
        let latest = self.store.list(&listing, None, 20).await?.items;
        let phone_number_id = match body
            .phone_number_id
            .or_else(|| latest.first().map(|l| l.ticket.phone_number_id.clone()))
        {
            Some(number) if !number.trim().is_empty() => number,
            _ => {
                return Err(ApiError::BadRequest(
                    "phone_number_id: the customer has no ticket yet; name the business number to write from".into(),
                ));
            }
        };
        if let Some(open) = latest
            .iter()
            .map(|l| &l.ticket)
            .find(|t| t.phone_number_id == phone_number_id && t.status != TicketStatus::Resolved)
        {
            return Err(ApiError::Conflict(
                "open_ticket",
                format!("the customer has an open ticket, {}: reply there", open.id),
            ));
        }
        let now = self.clock.now_ms();
        let (message, shown) = self.template_message(body.template, now).await?;
        let key = idempotency_key(request);
        let ticket_id = TicketId::opened_by(&format!("proactive:{}:{key}", customer.as_str()));
        self.inbound
            .send(&[InboundEvent::AgentOpens(AgentOpens {
                customer,
                phone_number_id,
                ticket_id: ticket_id.clone(),
                agent: agent.name.clone(),
                team: team.config.id.clone(),
                tier: team.config.tier,
                body: message,
                at_ms: now,
                request_id: key,
            })])
            .await?;
        Ok(Answer::accepted(
            json!({"status": "queued", "ticket_id": ticket_id, "template": shown}),
        ))
    }
}
