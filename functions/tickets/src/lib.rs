//! The tickets function: the one writer of tickets. Applies each command from
//! `tickets.fifo` idempotently (a redelivered command leaves one effect),
//! keeps every ticket's SLA clocks and its entries in the deadline index,
//! counts the KPI facts, and publishes domain events (escalations,
//! resolutions, SLA warnings and breaches, reassignments).

mod effects;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use effects::{Effects, deadline_fired, escalated_event, language, window_open};
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::events::EventBridgePublisher;
use helpdesk::adapters::lambda_sqs::handle_in_order;
use helpdesk::adapters::metrics::{self, Metric as EmfMetric, Unit};
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::commands::TicketCommand;
use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::notices;
use helpdesk::domain::outbound::{Author, OutboundBody, OutboundRequest};
use helpdesk::domain::reports::Counters;
use helpdesk::domain::sla::{Deadline, Escalated, Fired, Metric, SlaContext, TicketSla};
use helpdesk::domain::ticket::{
    Csat, CustomerProfile, CustomerTier, DeliveryState, Direction, Escalation, Ticket, TicketStatus, TimelineEntry,
};
use helpdesk::domain::triggers::TriggerHit;
use helpdesk::ports::{
    BoxError, DeadlineIndex, DomainEvent, EventPublisher, Queue, QueueError, ReportStore, StoreError, TicketStore,
};
use lambda_runtime::LambdaEvent;
use serde_json::json;
use std::sync::Arc;

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
    #[error("outbound queue failed")]
    Outbound(#[from] QueueError),
    #[error("ticket {0} kept changing under concurrent writes")]
    Contended(TicketId),
}

pub struct Tickets<S, E, O> {
    store: S,
    events: E,
    outbound: O,
    desk: Arc<Desk>,
    catalog: Arc<Catalog>,
}

impl Tickets<DynamoStore, EventBridgePublisher, SqsQueue<OutboundRequest>> {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let catalog = Catalog::builtin();
        let desk = load_desk(env, &catalog)?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let events = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(sdk), env.require("EVENT_BUS_NAME")?);
        let outbound = SqsQueue::new(aws_sdk_sqs::Client::new(sdk), env.require("OUTBOUND_QUEUE_URL")?);
        Ok(Tickets::new(store, events, outbound, Arc::new(desk), Arc::new(catalog)))
    }
}

impl<S, E, O> Tickets<S, E, O>
where
    S: TicketStore + DeadlineIndex + ReportStore,
    E: EventPublisher,
    O: Queue<OutboundRequest>,
{
    pub fn new(store: S, events: E, outbound: O, desk: Arc<Desk>, catalog: Arc<Catalog>) -> Self {
        Tickets {
            store,
            events,
            outbound,
            desk,
            catalog,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        // Boxed: `apply` is a large state machine, and nesting it inline makes the
        // handler's future too deep for the compiler's layout queries.
        Ok(handle_in_order(event.payload, |command: TicketCommand| Box::pin(self.apply(command))).await)
    }

    fn sla_context(&self, t: &Ticket) -> SlaContext<'_> {
        self.desk.sla_context(&t.team, t.priority, t.customer_tier)
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
                self.update(&ticket_id, Some(opened), name, |t, fx| {
                    if t.version == 0 {
                        fx.fact(
                            t,
                            "opened".into(),
                            at_ms,
                            Counters {
                                tickets: 1,
                                ..Counters::default()
                            },
                        );
                    }
                    t.customer_wrote(at_ms, contact_name.clone());
                    if t.status.human_owned() {
                        let ctx = self.sla_context(t);
                        let assigned = t.status == TicketStatus::Assigned;
                        if let Some(sla) = &mut t.sla {
                            sla.customer_wrote(&ctx, at_ms, assigned);
                        }
                    }
                    fx.entries.push(TimelineEntry {
                        id: wamid.clone(),
                        at_ms,
                        direction: Direction::Inbound,
                        author: Author::Customer,
                        kind: message_type.clone(),
                        summary: summary.clone(),
                        message: Some(message.clone()),
                        delivery: None,
                        delivery_error: None,
                    });
                    Ok(())
                })
                .await?;
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
                customer,
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
                let customer_tier = self.store.profile(&customer).await?.map(|p| p.tier).unwrap_or_default();
                let escalation = Escalation {
                    trigger: trigger.clone(),
                    reason: reason.clone(),
                    at_ms,
                    triggers,
                };
                self.update(&ticket_id, None, name, |t, fx| {
                    if order_number.is_some() {
                        t.order_number = order_number.clone();
                    }
                    let context = &mut t.context;
                    context.intent = intent.clone().or(context.intent.take());
                    context.category = category.clone().or(context.category.take());
                    context.language = language.clone().or(context.language.take());
                    context.frustration = frustration.clone().or(context.frustration.take());
                    self.move_to_queue(
                        t,
                        fx,
                        tier,
                        &team,
                        priority,
                        escalation.clone(),
                        customer_tier,
                        |t, fx| {
                            fx.events
                                .push(escalated_event(t, &trigger, &reason, at_ms, excerpt.as_deref()));
                            let summary = format!("Escalated to {team} (tier {tier}): {reason}");
                            fx.entry(format!("escalated.{at_ms}"), at_ms, Author::Bot, "escalated", summary);
                        },
                    );
                    Ok(())
                })
                .await?;
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
                self.update(&ticket_id, None, name, |t, fx| {
                    let (priority, customer_tier) = (t.priority, t.customer_tier);
                    self.move_to_queue(
                        t,
                        fx,
                        tier,
                        &team,
                        priority,
                        escalation.clone(),
                        customer_tier,
                        |t, fx| {
                            fx.events.push(escalated_event(t, "transfer", &why, at_ms, None));
                            let summary = format!("Transferred to {team} (tier {tier}) by {agent}: {reason}");
                            fx.entry(
                                format!("transferred.{at_ms}"),
                                at_ms,
                                Author::Agent(agent.clone()),
                                "transferred",
                                summary,
                            );
                        },
                    );
                    Ok(())
                })
                .await?;
            }
            TicketCommand::ReturnToBot {
                ticket_id, team, at_ms, ..
            } => {
                self.update(&ticket_id, None, name, |t, fx| {
                    if t.return_to_bot(&team, at_ms) {
                        t.sla = None;
                        let summary = "The customer cancelled the request for an agent".to_owned();
                        fx.entry(
                            format!("returned.{at_ms}"),
                            at_ms,
                            Author::Customer,
                            "returned_to_bot",
                            summary,
                        );
                    }
                    Ok(())
                })
                .await?;
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
                    self.update(&id, None, name, |t, _| {
                        t.context.language = Some(language.clone());
                        Ok(())
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
                self.update(&ticket_id, None, name, |t, fx| {
                    if let Err(e) = t.agent_replied(&agent, at_ms) {
                        tracing::warn!(ticket = %t.id, error = %e, "agent reply not applied");
                        return Ok(());
                    }
                    let ctx = self.sla_context(t);
                    if let Some(sla) = &mut t.sla {
                        let outcomes = sla.agent_replied(&ctx, at_ms);
                        fx.clock_outcomes(t, outcomes);
                    }
                    Ok(())
                })
                .await?;
            }
            TicketCommand::Resolve {
                ticket_id, by, at_ms, ..
            } => {
                self.update(&ticket_id, None, name, |t, fx| {
                    let ctx = self.sla_context(t);
                    let outcomes = t.sla.as_mut().map(|sla| sla.resolved(&ctx, at_ms)).unwrap_or_default();
                    if !t.resolve(by.clone(), at_ms) {
                        return Ok(());
                    }
                    t.sla = None;
                    fx.clock_outcomes(t, outcomes);
                    fx.events.push(DomainEvent {
                        kind: "TicketResolved",
                        detail: json!({"ticket_id": t.id, "team": t.team, "tier": t.tier, "at_ms": at_ms}),
                    });
                    let by_bot = by == Author::Bot;
                    fx.fact(
                        t,
                        "resolved".into(),
                        at_ms,
                        Counters {
                            resolved: 1,
                            resolved_by_bot: u64::from(by_bot),
                            ..Counters::default()
                        },
                    );
                    let who = match &by {
                        Author::Agent(name) => name.clone(),
                        other => format!("{other:?}").to_lowercase(),
                    };
                    fx.entry(
                        format!("resolved.{at_ms}"),
                        at_ms,
                        by.clone(),
                        "resolved",
                        format!("Resolved by {who}"),
                    );
                    if self.desk.config.sla.csat && matches!(by, Author::Agent(_)) && t.csat.is_none() {
                        t.csat = Some(Csat {
                            asked_at_ms: at_ms,
                            score: None,
                            answered_at_ms: None,
                            comment: None,
                        });
                        let lang = language(t, &self.desk);
                        let survey = notices::csat_survey(
                            &self.desk.config.sla,
                            &self.catalog,
                            lang,
                            &t.id,
                            window_open(t, at_ms),
                        );
                        fx.tell_customer(t, format!("csat:{}", t.id), survey);
                    }
                    Ok(())
                })
                .await?;
            }
            TicketCommand::SlaDue {
                ticket_id,
                deadline,
                at_ms,
                ..
            } => {
                let mut fired = false;
                let mut held = None;
                self.update(&ticket_id, None, name, |t, fx| {
                    fired = self.deadline_due(t, fx, &deadline, at_ms);
                    if !fired {
                        let deadlines = t.sla.as_ref().map(TicketSla::deadlines).unwrap_or_default();
                        held = Some((t.customer.clone(), deadlines));
                    }
                    // A late sweep may find the next stage of this deadline due
                    // already (the warning and the breach together): act on it now.
                    let mut current = deadline;
                    while fired
                        && let Some(due) = t
                            .sla
                            .as_ref()
                            .and_then(|sla| sla.deadlines().into_iter().find(|d| d.kind == current.kind))
                            .filter(|d| d.at_ms <= at_ms && *d != current)
                    {
                        if !self.deadline_due(t, fx, &due, at_ms) {
                            break;
                        }
                        current = due;
                    }
                    Ok(())
                })
                .await?;
                if let (false, Some((customer, deadlines))) = (fired, held) {
                    // Not (or no longer) this ticket's deadline: make the index
                    // hold exactly what the ticket says, so it is not swept again.
                    self.store
                        .sync_deadlines(&ticket_id, &customer, &deadlines, None)
                        .await?;
                    tracing::info!(ticket = %ticket_id, kind = deadline.kind.as_str(), "stale deadline repaired");
                }
            }
            TicketCommand::RecordCsat {
                ticket_id,
                score,
                at_ms,
                ..
            } => {
                self.update(&ticket_id, None, name, |t, fx| {
                    let Some(csat) = t.csat.as_mut().filter(|c| c.score.is_none()) else {
                        tracing::info!(ticket = %t.id, "satisfaction score ignored: not asked, or answered already");
                        return Ok(());
                    };
                    if !(1..=5).contains(&score) {
                        tracing::warn!(ticket = %t.id, score, "satisfaction score out of range ignored");
                        return Ok(());
                    }
                    csat.score = Some(score);
                    csat.answered_at_ms = Some(at_ms);
                    let mut counters = Counters {
                        csat_count: 1,
                        csat_sum: u64::from(score),
                        ..Counters::default()
                    };
                    match score {
                        1 => counters.csat_1 = 1,
                        2 => counters.csat_2 = 1,
                        3 => counters.csat_3 = 1,
                        4 => counters.csat_4 = 1,
                        _ => counters.csat_5 = 1,
                    }
                    fx.fact(t, "csat".into(), at_ms, counters);
                    let summary = format!("The customer rated the help {score}/5");
                    fx.entry(format!("csat.{at_ms}"), at_ms, Author::Customer, "csat", summary);
                    metrics::emit(
                        metrics::NAMESPACE,
                        &[("Team", t.team.as_str())],
                        &[EmfMetric::new("CsatScore", f64::from(score), Unit::None)],
                    );
                    Ok(())
                })
                .await?;
            }
            TicketCommand::RecordCsatComment {
                ticket_id,
                comment,
                at_ms,
                ..
            } => {
                self.update(&ticket_id, None, name, |t, fx| {
                    if let Some(csat) = t.csat.as_mut().filter(|c| c.score.is_some() && c.comment.is_none()) {
                        csat.comment = Some(comment.chars().take(1000).collect());
                        let summary = "The customer commented on their rating".to_owned();
                        fx.entry(
                            format!("csat-comment.{at_ms}"),
                            at_ms,
                            Author::Customer,
                            "csat_comment",
                            summary,
                        );
                    }
                    Ok(())
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Moves a ticket to a human queue (an escalation or a transfer) and keeps
    /// its SLA in step: clocks start when it leaves the bot, and carry on under
    /// the new team's policy and calendar when it moves between teams.
    #[allow(clippy::too_many_arguments)]
    fn move_to_queue(
        &self,
        t: &mut Ticket,
        fx: &mut Effects,
        tier: u8,
        team: &str,
        priority: helpdesk::domain::ticket::Priority,
        escalation: Escalation,
        customer_tier: CustomerTier,
        announce: impl FnOnce(&Ticket, &mut Effects),
    ) {
        let at_ms = escalation.at_ms;
        let (was_tier, was_human) = (t.tier, t.status.human_owned());
        let old = (t.team.clone(), t.priority, t.customer_tier);
        match t.escalate(tier, team, priority, escalation) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(ticket = %t.id, error = %e, "escalation ignored");
                return;
            }
        }
        if !was_human || t.sla.is_none() {
            t.customer_tier = customer_tier;
            t.sla = Some(TicketSla::start(&self.sla_context(t), at_ms));
            fx.fact(
                t,
                format!("to_human:{at_ms}"),
                at_ms,
                Counters {
                    to_human: 1,
                    ..Counters::default()
                },
            );
        } else if let Some(sla) = &mut t.sla {
            let before = self.desk.sla_context(&old.0, old.1, old.2);
            let after = self.desk.sla_context(&t.team, t.priority, t.customer_tier);
            sla.retarget(&before, &after, at_ms);
        }
        fx.tier_moved(t, was_tier, at_ms);
        announce(t, fx);
    }

    /// Acts on a deadline the sweep found due; false when it is stale.
    fn deadline_due(&self, t: &mut Ticket, fx: &mut Effects, deadline: &Deadline, at_ms: i64) -> bool {
        if !t.status.human_owned() {
            return false;
        }
        let ctx = self.sla_context(t);
        let Some(fired) = t.sla.as_mut().and_then(|sla| sla.fire(&ctx, deadline, at_ms)) else {
            return false;
        };
        let mut previous_assignee = None;
        match &fired {
            Fired::Breached {
                metric,
                action: Escalated::Team(team),
                ..
            } => {
                let specialists = self.desk.team(team).map_or(3, |s| s.config.tier);
                let why = format!("the {} target was missed", metric.label());
                let escalation = Escalation {
                    trigger: "sla_breach".into(),
                    reason: why.clone(),
                    at_ms,
                    triggers: vec![TriggerHit::new("sla_breach", why)],
                };
                let (was_tier, priority) = (t.tier, t.priority);
                if let Ok(true) = t.escalate(specialists, team, priority, escalation) {
                    let ctx = self.sla_context(t);
                    if let Some(sla) = &mut t.sla {
                        // The specialists owe what was missed, on their own target.
                        sla.restart_clock(&ctx, *metric, at_ms);
                    }
                    fx.tier_moved(t, was_tier, at_ms);
                }
            }
            Fired::Breached {
                metric,
                action: Escalated::Level { name, .. },
                ..
            } => {
                let why = format!("the {} target was missed: the {name} was alerted", metric.label());
                t.escalations.push(Escalation {
                    trigger: "sla_breach".into(),
                    reason: why.clone(),
                    at_ms,
                    triggers: vec![TriggerHit::new("sla_breach", why)],
                });
            }
            Fired::Reassign => previous_assignee = t.unassign(at_ms),
            Fired::Warning { .. } | Fired::Level { .. } => {}
        }
        deadline_fired(
            fx,
            &self.desk,
            &self.catalog,
            t,
            deadline,
            &fired,
            previous_assignee.as_deref(),
            at_ms,
        );
        true
    }

    /// Loads, changes and saves a ticket with optimistic concurrency. The
    /// change's effects (events, customer messages, KPI facts, timeline entries,
    /// deadline index) are carried out before the save, each idempotent, so a
    /// retried command never loses one. Creates the ticket from `open` when it
    /// does not exist. Returns whether the ticket changed.
    async fn update<F>(
        &self,
        id: &TicketId,
        open: Option<Ticket>,
        command: &str,
        mut change: F,
    ) -> Result<bool, TicketsError>
    where
        F: FnMut(&mut Ticket, &mut Effects) -> Result<(), TicketsError>,
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
            let mut fx = Effects::default();
            change(&mut ticket, &mut fx)?;
            if expected.is_some() && ticket == before {
                // Nothing changed, but a redelivered command still completes its entries.
                for entry in &fx.entries {
                    self.append(id, entry, command).await?;
                }
                return Ok(false);
            }
            self.carry_out(&before, &ticket, &fx, command, expected.is_none())
                .await?;
            match self.store.save_ticket(&ticket, expected).await {
                Ok(()) => {
                    tracing::info!(ticket = %id, status = ticket.status.as_str(), tier = ticket.tier, team = %ticket.team, "ticket saved");
                    emit_metrics(&ticket, &fx);
                    return Ok(true);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(TicketsError::Contended(id.clone()))
    }

    async fn carry_out(
        &self,
        before: &Ticket,
        after: &Ticket,
        fx: &Effects,
        command: &str,
        created: bool,
    ) -> Result<(), TicketsError> {
        if !fx.events.is_empty() {
            self.events.publish(&fx.events).await.map_err(TicketsError::Events)?;
        }
        for fact in &fx.facts {
            self.store.record_fact(fact).await?;
        }
        if !fx.outbound.is_empty() {
            self.outbound.send(&fx.outbound).await?;
        }
        for entry in &fx.entries {
            self.append(&after.id, entry, command).await?;
        }
        let held = before.sla.as_ref().map(TicketSla::deadlines).unwrap_or_default();
        let wanted = after.sla.as_ref().map(TicketSla::deadlines).unwrap_or_default();
        if held != wanted || created {
            let previous = (!created).then_some(held.as_slice());
            if !(created && wanted.is_empty()) {
                self.store
                    .sync_deadlines(&after.id, &after.customer, &wanted, previous)
                    .await?;
            }
        }
        Ok(())
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

/// SLA figures as CloudWatch embedded metrics, once the change is saved.
fn emit_metrics(t: &Ticket, fx: &Effects) {
    if fx.outcomes.is_empty() && fx.breaches == 0 {
        return;
    }
    // Each clock is decided once: at its breach, or when it ends unbreached.
    let decided = fx.outcomes.iter().filter(|o| !o.breached).count() + fx.breaches;
    let mut figures = vec![
        EmfMetric::new("SlaClocksDecided", decided as f64, Unit::Count),
        EmfMetric::new("SlaBreaches", fx.breaches as f64, Unit::Count),
    ];
    for outcome in fx.outcomes.iter().filter(|o| o.met) {
        let name = match outcome.metric {
            Metric::FirstResponse => "FirstResponseMinutes",
            Metric::NextResponse => "NextResponseMinutes",
            Metric::Resolution => "ResolutionMinutes",
        };
        figures.push(EmfMetric::new(name, outcome.minutes as f64, Unit::None));
    }
    metrics::emit(metrics::NAMESPACE, &[], &figures);
    metrics::emit(metrics::NAMESPACE, &[("Team", t.team.as_str())], &figures);
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
