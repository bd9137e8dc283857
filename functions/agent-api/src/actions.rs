//! What agents change: replies, resolution, transfer, and the workspace's
//! actions (claim, assign, unassign, hand back to the bot, notes, reopen,
//! priority, category, tags), plus a customer's tier. Each is checked here
//! against the ticket as read (role, team, status, `If-Match`), then sent to
//! `tickets`, which decides it again against the ticket as it is then: a
//! change that raced another is refused there and the timeline says so.

use crate::auth::{Agent, Role};
use crate::error::ApiError;
use crate::http::{Answer, idempotency_key, if_match, parse_body};
use crate::{AgentApi, AgentStore};
use helpdesk::domain::commands::{
    Action, AgentAction, AgentReplied, Resolve, SetCustomerTier, TicketCommand, Transfer,
};
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::domain::outbound::{Author, OutboundBody};
use helpdesk::domain::ticket::{CustomerTier, Priority, Ticket, TicketStatus};
use helpdesk::domain::tickets::{MAX_NOTE_CHARS, MAX_TAG_CHARS, MAX_TAGS};
use helpdesk::domain::views::Listing;
use helpdesk::ports::{Clock, MediaLinks, Queue};
use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;

/// `POST /api/tickets/{id}/reply`: exactly one of `text`, `template` or
/// `attachment`, and optionally the customer's message it quotes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1, max_properties = 2)]
pub struct ReplyBody {
    /// A message of 1 to 4096 characters: only while the customer's 24-hour
    /// window is open (after it, 409 `window_closed` offers the templates).
    #[serde(default)]
    pub text: Option<String>,
    /// An approved template (`GET /api/templates`), window open or closed:
    /// `{"name": "order_update", "language": "en", "parameters": ["AB-1234"]}`.
    #[serde(default)]
    #[schema(inline)]
    pub template: Option<crate::templates::TemplateReply>,
    /// A file uploaded through `POST /api/tickets/{id}/attachments`, with an
    /// optional caption: only while the 24-hour window is open.
    #[serde(default)]
    #[schema(inline)]
    pub attachment: Option<crate::attachments::AttachmentReply>,
    /// The customer's message this reply quotes (its wamid): WhatsApp shows
    /// it above the reply.
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// `POST /api/tickets/{id}/transfer`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// The team's id (`tech`, `billing`…).
    pub team: String,
    /// Why, for the next team: 1 to 500 characters.
    pub reason: String,
}

/// `POST /api/tickets/{id}/assign` (leads).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The agent's user name.
    pub agent: String,
}

/// `POST /api/tickets/{id}/notes`: never sent to the customer; `@name`
/// mentions notify those agents.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub text: String,
}

/// `PUT /api/tickets/{id}/priority`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityBody {
    #[schema(value_type = String, example = "high")]
    pub priority: Priority,
}

/// `PUT /api/tickets/{id}/category`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    /// One of the desk's categories.
    pub category: String,
}

/// `POST /api/tickets/{id}/tags`: labels added and removed (lower case
/// letters, digits, `-` and `_`, up to 40 characters; 20 per ticket).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsBody {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// `PUT /api/customers/{id}/tier` (leads).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierBody {
    #[schema(value_type = String, example = "vip")]
    pub tier: CustomerTier,
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: AgentStore,
    T: Queue<TicketCommand>,
    O: Queue<InboundEvent>,
    C: Clock,
    L: MediaLinks,
{
    /// The ticket, if `If-Match` (when given) names its version; else a 412
    /// showing what changed.
    pub(crate) async fn current(
        &self,
        request: &Request,
        id: &str,
        agent: &Agent,
    ) -> Result<(Ticket, Option<u64>), ApiError> {
        let ticket = self.visible_ticket(id, agent).await?;
        let expected = if_match(request)?;
        if let Some(expected) = expected
            && expected != ticket.version
        {
            return Err(ApiError::Changed {
                id: ticket.id.clone(),
                expected,
                current: ticket.version,
                now: Box::new(self.what_changed(&ticket).await?),
            });
        }
        Ok((ticket, expected))
    }

    /// `POST /api/tickets/{id}/reply {"text": "..."}` or `{"template": {...}}`:
    /// 202 while `tickets` gives the agent the ticket and sends the reply (one
    /// decision, so a refused reply is never sent). A text needs the
    /// customer's 24-hour window open; an approved template reaches them either way.
    pub(crate) async fn reply(&self, request: &Request, id: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let (ticket, expected_version) = self.current(request, id, agent).await?;
        if ticket.status == TicketStatus::Resolved {
            return Err(ApiError::Resolved(ticket.id));
        }
        let body: ReplyBody = parse_body(
            request,
            "{\"text\": \"...\"}, {\"template\": {\"name\": \"...\", \"language\": \"en\", \"parameters\": [\"...\"]}} \
             or {\"attachment\": {\"id\": \"...\"}}, with an optional \"reply_to\"",
        )?;
        let now = self.clock.now_ms();
        let (message, template) = match (body.text, body.template, body.attachment) {
            (Some(text), None, None) => {
                let message = OutboundBody::text(text);
                message.validate()?;
                (message, None)
            }
            (None, Some(template), None) => {
                let (message, shown) = self.template_message(template, now).await?;
                (message, Some(shown))
            }
            (None, None, Some(attachment)) => (self.attachment_message(&ticket, attachment).await?, None),
            _ => {
                return Err(ApiError::BadRequest(
                    "body must have exactly one of text, template or attachment".into(),
                ));
            }
        };
        let message = match body.reply_to {
            Some(wamid) => {
                self.customer_message(&ticket, &wamid, "reply_to").await?;
                let quoted = OutboundBody::Quote {
                    message_id: wamid,
                    message: Box::new(message),
                };
                quoted.validate()?;
                quoted
            }
            None => message,
        };
        if message.needs_window() && !ticket.window_open(now) {
            return Err(self.window_closed(&ticket, now).await);
        }
        let key = idempotency_key(request);
        self.tickets
            .send(&[TicketCommand::AgentReplied(AgentReplied {
                ticket_id: ticket.id.clone(),
                customer: ticket.customer.clone(),
                agent: agent.name.clone(),
                at_ms: now,
                idempotency_key: key.clone(),
                body: Some(message),
                expected_version,
            })])
            .await?;
        let mut answer = json!({ "status": "queued", "ticket_id": ticket.id, "idempotency_key": key });
        if let Some(template) = template {
            answer["template"] = template;
        }
        Ok(Answer::accepted(answer))
    }

    /// `POST /api/tickets/{id}/resolve`: 202 while it is applied; 200 when already resolved.
    pub(crate) async fn resolve(&self, request: &Request, id: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let (ticket, _) = self.current(request, id, agent).await?;
        if ticket.status == TicketStatus::Resolved {
            return Ok(Answer::ok(json!({ "status": "resolved", "ticket_id": ticket.id })));
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
        Ok(Answer::accepted(
            json!({ "status": "resolving", "ticket_id": ticket.id }),
        ))
    }

    /// `POST /api/tickets/{id}/transfer {"team": "tech", "reason": "..."}`: to another
    /// team at that team's tier (3 for specialists); 202.
    pub(crate) async fn transfer(&self, request: &Request, id: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let (ticket, _) = self.current(request, id, agent).await?;
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
        Ok(Answer::accepted(
            json!({"status": "transferring", "ticket_id": ticket.id, "team": team.config.id, "tier": team.config.tier}),
        ))
    }

    /// The workspace actions: checked against the ticket as read, then sent
    /// to `tickets` with the version they were checked on; 202.
    pub(crate) async fn work(
        &self,
        request: &Request,
        route: &str,
        id: &str,
        agent: &Agent,
    ) -> Result<Answer, ApiError> {
        let (ticket, expected_version) = self.current(request, id, agent).await?;
        let open = |what: &str| match ticket.status {
            TicketStatus::Resolved => Err(ApiError::Resolved(ticket.id.clone())),
            TicketStatus::Bot => Err(ApiError::Conflict(
                "with_bot",
                format!("the bot has this ticket: transfer it to a team before you {what} it"),
            )),
            TicketStatus::Queued | TicketStatus::Assigned => Ok(()),
        };
        let action = match route {
            "/api/tickets/{id}/claim" => {
                open("claim")?;
                match &ticket.assignee {
                    Some(other) if other != &agent.name && !agent.is(Role::Lead) => {
                        return Err(ApiError::Conflict(
                            "assigned_to_someone_else",
                            format!("{other} has this ticket; a lead can give it to you"),
                        ));
                    }
                    _ => Action::Claim,
                }
            }
            "/api/tickets/{id}/assign" => {
                open("assign")?;
                let body: AssignBody = parse_body(request, "{\"agent\": \"name\"}")?;
                Action::Assign {
                    to: agent_name(&body.agent)?,
                }
            }
            "/api/tickets/{id}/unassign" => {
                if ticket.status != TicketStatus::Assigned {
                    return Err(ApiError::Conflict("not_assigned", "nobody has this ticket".into()));
                }
                if ticket.assignee.as_deref() != Some(&agent.name) && !agent.is(Role::Lead) {
                    return Err(ApiError::NeedsRole(Role::Lead));
                }
                Action::Unassign
            }
            "/api/tickets/{id}/hand-back" => {
                open("hand back")?;
                Action::HandBack {
                    team: self.desk.config.desk.default_team.clone(),
                }
            }
            "/api/tickets/{id}/notes" => {
                let body: NoteBody = parse_body(request, "{\"text\": \"...\"}")?;
                let text = body.text.trim().to_owned();
                if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
                    return Err(ApiError::BadRequest(format!(
                        "text: must have 1 to {MAX_NOTE_CHARS} characters"
                    )));
                }
                let mentions = mentions(&text);
                Action::Note { text, mentions }
            }
            "/api/tickets/{id}/reopen" => {
                if ticket.status != TicketStatus::Resolved {
                    return Err(ApiError::Conflict("not_resolved", "the ticket is open".into()));
                }
                self.check_latest(&ticket).await?;
                Action::Reopen
            }
            "/api/tickets/{id}/priority" => {
                open("prioritise")?;
                let body: PriorityBody =
                    parse_body(request, "{\"priority\": \"low\" | \"normal\" | \"high\" | \"urgent\"}")?;
                Action::SetPriority {
                    priority: body.priority,
                }
            }
            "/api/tickets/{id}/category" => {
                let body: CategoryBody = parse_body(request, "{\"category\": \"...\"}")?;
                let category = self.desk.category(&body.category).ok_or_else(|| {
                    let known: Vec<&str> = self.desk.config.categories.iter().map(|c| c.id.as_str()).collect();
                    ApiError::BadRequest(format!(
                        "category: no category {:?}; the categories are {}",
                        body.category,
                        known.join(", ")
                    ))
                })?;
                Action::SetCategory {
                    category: category.id.clone(),
                }
            }
            "/api/tickets/{id}/tags" => {
                let body: TagsBody = parse_body(request, "{\"add\": [\"tag\"], \"remove\": [\"tag\"]}")?;
                let add = tags(&body.add)?;
                let remove = tags(&body.remove)?;
                let after = ticket
                    .tags
                    .iter()
                    .filter(|t| !remove.contains(t))
                    .chain(add.iter().filter(|t| !ticket.tags.contains(t)))
                    .count();
                if after > MAX_TAGS {
                    return Err(ApiError::BadRequest(format!("tags: at most {MAX_TAGS} per ticket")));
                }
                Action::Tag { add, remove }
            }
            other => unreachable!("{other} is not a workspace action"),
        };
        let name = action.name();
        self.tickets
            .send(&[TicketCommand::AgentAction(AgentAction {
                ticket_id: ticket.id.clone(),
                customer: ticket.customer.clone(),
                agent: agent.name.clone(),
                at_ms: self.clock.now_ms(),
                request_id: idempotency_key(request),
                expected_version: Some(expected_version.unwrap_or(ticket.version)),
                action,
            })])
            .await?;
        Ok(Answer::accepted(
            json!({"status": "accepted", "ticket_id": ticket.id, "action": name}),
        ))
    }

    /// A ticket is reopened only while it is the customer's latest: once they
    /// opened another, that one is where the conversation goes on.
    async fn check_latest(&self, ticket: &Ticket) -> Result<(), ApiError> {
        let listing = Listing::Customer {
            customer: ticket.customer.clone(),
        };
        let page = self.store.list(&listing, None, 5).await?;
        let newer = page.items.iter().map(|l| &l.ticket).find(|t| {
            t.id != ticket.id && t.phone_number_id == ticket.phone_number_id && t.created_at_ms > ticket.created_at_ms
        });
        match newer {
            Some(t) => Err(ApiError::Conflict(
                "newer_ticket",
                format!("the customer has a newer ticket, {}: continue there", t.id),
            )),
            None => Ok(()),
        }
    }

    /// `PUT /api/customers/{id}/tier {"tier": "vip"}` (leads): 202.
    pub(crate) async fn set_tier(&self, request: &Request, customer: &str, agent: &Agent) -> Result<Answer, ApiError> {
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
        Ok(Answer::accepted(json!({"status": "updating", "tier": body.tier})))
    }
}

/// An agent's user name as tokens carry it: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
fn agent_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    ok.then(|| name.to_owned())
        .ok_or_else(|| ApiError::BadRequest("agent: 1 to 64 letters, digits, '.', '_', '-' or '@'".into()))
}

/// The agents a note mentions: each `@name` (letters, digits, `.`, `_`, `-`), once.
pub fn mentions(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '@');
        if *c != '@' || !starts_word {
            continue;
        }
        let name: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect();
        let name = name.trim_end_matches(['.', '-', '_']).to_owned();
        if !name.is_empty() && name.chars().count() <= 64 && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// Tags as stored: trimmed, lower case; each checked.
fn tags(list: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for tag in list {
        let tag = tag.trim().to_lowercase();
        let ok = (1..=MAX_TAG_CHARS).contains(&tag.chars().count())
            && tag.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_'));
        if !ok {
            return Err(ApiError::BadRequest(format!(
                "tags: {tag:?} is not a tag (1 to {MAX_TAG_CHARS} letters, digits, '-' or '_')"
            )));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_once_and_an_email_address_is_not_a_mention() {
        assert_eq!(
            mentions("@lea can you check? cc @bob.smith, @lea. mail ana@example.com"),
            ["lea", "bob.smith"]
        );
        assert!(mentions("no one @ all").is_empty());
    }

    #[test]
    fn tags_are_lower_case_and_checked() {
        assert_eq!(tags(&[" Refund ".into(), "refund".into()]).unwrap(), ["refund"]);
        assert!(tags(&["two words".into()]).is_err());
        assert!(tags(&["".into()]).is_err());
    }
}
