//! The tickets function: the one writer of tickets. Applies each command from
//! `tickets.fifo` idempotently (a redelivered command leaves one effect) and
//! publishes domain events for escalations and resolutions.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::events::EventBridgePublisher;
use helpdesk::adapters::lambda_sqs::handle_in_order;
use helpdesk::config::Env;
use helpdesk::domain::commands::TicketCommand;
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::outbound::{Author, OutboundBody};
use helpdesk::domain::ticket::{CustomerProfile, DeliveryState, Direction, Escalation, Ticket, TimelineEntry};
use helpdesk::domain::triggers::TriggerHit;
use helpdesk::ports::{BoxError, DomainEvent, EventPublisher, StoreError, TicketStore};
use lambda_runtime::LambdaEvent;
use serde_json::json;

/// Attempts at an optimistic-concurrency save before the command is redelivered.
const SAVE_ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum TicketsError {
    #[error("ticket {0} does not exist yet")]
    UnknownTicket(TicketId),
    #[error("ticket store failed")]
    Store(#[from] StoreError),
    #[error("event bus failed")]
    Events(#[source] BoxError),
    #[error("ticket {0} kept changing under concurrent writes")]
    Contended(TicketId),
}

pub struct Tickets<S, E> {
    store: S,
    events: E,
}

impl Tickets<DynamoStore, EventBridgePublisher> {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let events = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(sdk), env.require("EVENT_BUS_NAME")?);
        Ok(Tickets::new(store, events))
    }
}

impl<S: TicketStore, E: EventPublisher> Tickets<S, E> {
    pub fn new(store: S, events: E) -> Self {
        Tickets { store, events }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        // Boxed: `apply` is a large state machine, and nesting it inline makes the
        // handler's future too deep for the compiler's layout queries.
        Ok(handle_in_order(event.payload, |command: TicketCommand| Box::pin(self.apply(command))).await)
    }

    /// Applies one command. Safe to repeat: each step is idempotent.
    pub async fn apply(&self, command: TicketCommand) -> Result<(), TicketsError> {
        let name = command.name();
        match command {
            TicketCommand::RecordInbound {
                ticket_id,
                customer,
                phone_number_id,
                team,
                contact_name,
                wamid,
                at_ms,
                message_type,
                summary,
                message,
            } => {
                let opened = Ticket::open(ticket_id.clone(), customer, phone_number_id, team, at_ms);
                self.update(&ticket_id, Some(opened), |t| {
                    t.customer_wrote(at_ms, contact_name.clone());
                    Ok(Vec::new())
                })
                .await?;
                let entry = TimelineEntry {
                    id: wamid,
                    at_ms,
                    direction: Direction::Inbound,
                    author: Author::Customer,
                    kind: message_type,
                    summary,
                    message: Some(message),
                    delivery: None,
                    delivery_error: None,
                };
                self.append(&ticket_id, &entry, name).await?;
            }
            TicketCommand::RecordOutbound {
                ticket_id,
                wamid,
                at_ms,
                author,
                body,
                ..
            } => {
                let entry = outbound_entry(wamid.clone(), at_ms, author, &body, DeliveryState::Accepted, None);
                self.append(&ticket_id, &entry, name).await?;
                self.store.link_outbound(&wamid, &ticket_id, at_ms).await?;
                // A status may have overtaken the message it is about.
                if let Some((state, error)) = self.store.parked_status(&wamid).await? {
                    self.store
                        .advance_delivery(&ticket_id, at_ms, &wamid, state, error.as_deref())
                        .await?;
                }
            }
            TicketCommand::RecordSendFailure {
                ticket_id,
                idempotency_key,
                at_ms,
                author,
                body,
                code,
                reason,
                ..
            } => {
                let error = match code {
                    Some(code) => format!("{reason} (code {code})"),
                    None => reason,
                };
                let id = format!("failed.{idempotency_key}");
                let entry = outbound_entry(id, at_ms, author, &body, DeliveryState::Failed, Some(error));
                self.append(&ticket_id, &entry, name).await?;
            }
            TicketCommand::RecordStatus {
                wamid, status, errors, ..
            } => {
                let Some(state) = DeliveryState::parse(&status) else {
                    tracing::info!(status = %status, "status ignored: not a delivery state");
                    return Ok(());
                };
                let error = errors.first().map(|e| {
                    let code = e.get("code").map(|c| c.to_string()).unwrap_or_default();
                    let title = e.get("title").and_then(|t| t.as_str()).unwrap_or("delivery failed");
                    format!("{title} (code {code})")
                });
                match self.store.find_outbound(&wamid).await? {
                    Some((ticket_id, at_ms)) => {
                        let moved = self
                            .store
                            .advance_delivery(&ticket_id, at_ms, &wamid, state, error.as_deref())
                            .await?;
                        tracing::info!(ticket = %ticket_id, status = %status, moved, "delivery status recorded");
                    }
                    None => {
                        self.store.park_status(&wamid, state, error.as_deref()).await?;
                        tracing::info!(status = %status, "delivery status parked until its message is recorded");
                    }
                }
            }
            TicketCommand::Escalate {
                ticket_id,
                tier,
                team,
                priority,
                trigger,
                reason,
                order_number,
                at_ms,
                triggers,
                intent,
                category,
                language,
                frustration,
                excerpt,
                ..
            } => {
                let escalation = Escalation {
                    trigger: trigger.clone(),
                    reason: reason.clone(),
                    at_ms,
                    triggers,
                };
                let changed = self
                    .update(&ticket_id, None, |t| {
                        if order_number.is_some() {
                            t.order_number = order_number.clone();
                        }
                        let context = &mut t.context;
                        context.intent = intent.clone().or(context.intent.take());
                        context.category = category.clone().or(context.category.take());
                        context.language = language.clone().or(context.language.take());
                        context.frustration = frustration.clone().or(context.frustration.take());
                        match t.escalate(tier, &team, priority, escalation.clone()) {
                            Ok(true) => Ok(vec![escalated_event(t, &trigger, &reason, at_ms, excerpt.as_deref())]),
                            Ok(false) => Ok(Vec::new()),
                            Err(e) => {
                                tracing::warn!(ticket = %t.id, error = %e, "escalation ignored");
                                Ok(Vec::new())
                            }
                        }
                    })
                    .await?;
                if changed {
                    let summary = format!("Escalated to {team} (tier {tier}): {reason}");
                    let entry = event_entry(format!("escalated.{at_ms}"), at_ms, Author::Bot, "escalated", summary);
                    self.append(&ticket_id, &entry, name).await?;
                }
            }
            TicketCommand::Transfer {
                ticket_id,
                team,
                tier,
                agent,
                reason,
                at_ms,
                ..
            } => {
                let why = format!("{agent} transferred the ticket: {reason}");
                let hit = TriggerHit::new("transfer", why.clone());
                let escalation = Escalation {
                    trigger: "transfer".into(),
                    reason: why.clone(),
                    at_ms,
                    triggers: vec![hit],
                };
                let changed = self
                    .update(&ticket_id, None, |t| {
                        match t.escalate(tier, &team, t.priority, escalation.clone()) {
                            Ok(true) => Ok(vec![escalated_event(t, "transfer", &why, at_ms, None)]),
                            Ok(false) => Ok(Vec::new()),
                            Err(e) => {
                                tracing::warn!(ticket = %t.id, error = %e, "transfer ignored");
                                Ok(Vec::new())
                            }
                        }
                    })
                    .await?;
                if changed {
                    let summary = format!("Transferred to {team} (tier {tier}) by {agent}: {reason}");
                    let entry = event_entry(
                        format!("transferred.{at_ms}"),
                        at_ms,
                        Author::Agent(agent),
                        "transferred",
                        summary,
                    );
                    self.append(&ticket_id, &entry, name).await?;
                }
            }
            TicketCommand::ReturnToBot {
                ticket_id, team, at_ms, ..
            } => {
                let changed = self
                    .update(&ticket_id, None, |t| {
                        t.return_to_bot(&team, at_ms);
                        Ok(Vec::new())
                    })
                    .await?;
                if changed {
                    let summary = "The customer cancelled the request for an agent".to_owned();
                    let entry = event_entry(
                        format!("returned.{at_ms}"),
                        at_ms,
                        Author::Customer,
                        "returned_to_bot",
                        summary,
                    );
                    self.append(&ticket_id, &entry, name).await?;
                }
            }
            TicketCommand::SetCustomerLanguage {
                customer,
                ticket_id,
                language,
                at_ms,
            } => {
                let mut profile = self.profile_of(&customer, at_ms).await?;
                if profile.language.as_deref() != Some(language.as_str()) {
                    profile.language = Some(language.clone());
                    profile.updated_at_ms = profile.updated_at_ms.max(at_ms);
                    self.store.save_profile(&profile).await?;
                }
                if let Some(id) = ticket_id
                    && self.store.ticket(&id).await?.is_some()
                {
                    self.update(&id, None, |t| {
                        t.context.language = Some(language.clone());
                        Ok(Vec::new())
                    })
                    .await?;
                }
            }
            TicketCommand::AttachMedia {
                ticket_id, attachment, ..
            } => {
                self.store.save_attachment(&ticket_id, &attachment).await?;
                let entry = TimelineEntry {
                    id: format!("media.{}", attachment.wamid),
                    at_ms: attachment.at_ms,
                    direction: Direction::Event,
                    author: Author::System,
                    kind: "attachment".into(),
                    summary: attachment.summary(),
                    message: None,
                    delivery: None,
                    delivery_error: None,
                };
                self.append(&ticket_id, &entry, name).await?;
            }
            TicketCommand::SetCustomerTier {
                customer,
                tier,
                by,
                at_ms,
                ..
            } => {
                let mut profile = self.profile_of(&customer, at_ms).await?;
                if profile.tier != tier {
                    profile.tier = tier;
                    profile.updated_at_ms = profile.updated_at_ms.max(at_ms);
                    self.store.save_profile(&profile).await?;
                    tracing::info!(tier = ?tier, by = %by, "customer tier changed");
                }
            }
            TicketCommand::AgentReplied {
                ticket_id,
                agent,
                at_ms,
                ..
            } => {
                self.update(&ticket_id, None, |t| {
                    if let Err(e) = t.agent_replied(&agent, at_ms) {
                        tracing::warn!(ticket = %t.id, error = %e, "agent reply not applied");
                    }
                    Ok(Vec::new())
                })
                .await?;
            }
            TicketCommand::Resolve {
                ticket_id, by, at_ms, ..
            } => {
                let changed = self
                    .update(&ticket_id, None, |t| {
                        Ok(if t.resolve(by.clone(), at_ms) {
                            vec![DomainEvent {
                                kind: "TicketResolved",
                                detail: json!({"ticket_id": t.id, "team": t.team, "tier": t.tier, "at_ms": at_ms}),
                            }]
                        } else {
                            Vec::new()
                        })
                    })
                    .await?;
                if changed {
                    let who = match &by {
                        Author::Agent(name) => name.clone(),
                        other => format!("{other:?}").to_lowercase(),
                    };
                    let entry = event_entry(
                        format!("resolved.{at_ms}"),
                        at_ms,
                        by,
                        "resolved",
                        format!("Resolved by {who}"),
                    );
                    self.append(&ticket_id, &entry, name).await?;
                }
            }
        }
        Ok(())
    }

    /// Loads, changes and saves a ticket with optimistic concurrency, publishing
    /// the events the change produced before saving it (so an event is never lost:
    /// if the save fails the command is retried and the event may repeat). Creates
    /// the ticket from `open` when it does not exist. Returns whether anything changed.
    async fn update<F>(&self, id: &TicketId, open: Option<Ticket>, mut change: F) -> Result<bool, TicketsError>
    where
        F: FnMut(&mut Ticket) -> Result<Vec<DomainEvent>, TicketsError>,
    {
        for _ in 0..SAVE_ATTEMPTS {
            let (mut ticket, expected) = match self.store.ticket(id).await? {
                Some(t) => {
                    let v = t.version;
                    (t, Some(v))
                }
                None => match &open {
                    Some(t) => (t.clone(), None),
                    None => return Err(TicketsError::UnknownTicket(id.clone())),
                },
            };
            let before = ticket.clone();
            let events = change(&mut ticket)?;
            if expected.is_some() && ticket == before {
                return Ok(false);
            }
            if !events.is_empty() {
                self.events.publish(&events).await.map_err(TicketsError::Events)?;
            }
            match self.store.save_ticket(&ticket, expected).await {
                Ok(()) => {
                    tracing::info!(ticket = %id, status = ticket.status.as_str(), tier = ticket.tier, team = %ticket.team, "ticket saved");
                    return Ok(true);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(TicketsError::Contended(id.clone()))
    }

    async fn profile_of(&self, customer: &CustomerId, at_ms: i64) -> Result<CustomerProfile, TicketsError> {
        Ok(self
            .store
            .profile(customer)
            .await?
            .unwrap_or_else(|| CustomerProfile::new(customer.clone(), at_ms)))
    }

    async fn append(&self, id: &TicketId, entry: &TimelineEntry, command: &str) -> Result<(), TicketsError> {
        let added = self.store.append_entry(id, entry).await?;
        tracing::info!(ticket = %id, command, kind = %entry.kind, duplicate = !added, "timeline entry");
        Ok(())
    }
}

fn outbound_entry(
    id: String,
    at_ms: i64,
    author: Author,
    body: &OutboundBody,
    state: DeliveryState,
    error: Option<String>,
) -> TimelineEntry {
    let kind = match body {
        OutboundBody::Text { .. } => "text",
        OutboundBody::Buttons { .. } | OutboundBody::List { .. } => "interactive",
        OutboundBody::Template { .. } => "template",
    };
    TimelineEntry {
        id,
        at_ms,
        direction: Direction::Outbound,
        author,
        kind: kind.to_owned(),
        summary: body.summary(),
        message: serde_json::to_value(body).ok(),
        delivery: Some(state),
        delivery_error: error,
    }
}

/// `TicketEscalated` on the bus: what the notifier tells the team. No phone
/// number; the customer's words only as the bot's short masked excerpt.
fn escalated_event(t: &Ticket, trigger: &str, reason: &str, at_ms: i64, excerpt: Option<&str>) -> DomainEvent {
    DomainEvent {
        kind: "TicketEscalated",
        detail: json!({"ticket_id": t.id, "team": t.team, "tier": t.tier, "priority": t.priority,
            "trigger": trigger, "reason": reason, "at_ms": at_ms, "excerpt": excerpt,
            "language": t.context.language}),
    }
}

fn event_entry(id: String, at_ms: i64, author: Author, kind: &str, summary: String) -> TimelineEntry {
    TimelineEntry {
        id,
        at_ms,
        direction: Direction::Event,
        author,
        kind: kind.to_owned(),
        summary,
        message: None,
        delivery: None,
        delivery_error: None,
    }
}
