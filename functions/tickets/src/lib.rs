//! The tickets function: the one writer of tickets. For each command of
//! `tickets.fifo` it loads what the command needs, asks the pure decider
//! (`helpdesk::domain::tickets::decide`) what it comes to, carries the effects
//! out (events, messages, KPI facts, the deadline index…) and saves the ticket
//! with its new timeline entries under a version check. Every effect is
//! idempotent, so a redelivered command leaves one of each.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::clock::SharedClock;
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::events::EventBridgePublisher;
use helpdesk::adapters::lambda_sqs::handle_in_order;
use helpdesk::adapters::metrics::{self, Metric, Unit};
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::attachment::Fingerprint;
use helpdesk::domain::commands::{EraseCustomer, TicketCommand};
use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::identity::Identity;
use helpdesk::domain::ids::TicketId;
use helpdesk::domain::media::phash_bands;
use helpdesk::domain::outbound::{Author, OutboundRequest};
use helpdesk::domain::privacy;
use helpdesk::domain::ticket::TimelineEntry;
use helpdesk::domain::tickets::{
    DEFAULT_RETENTION_DAYS, DecideError, Decision, Effect, Loaded, Measure, Rules, decide, needs,
};
use helpdesk::domain::views::Listing;
use helpdesk::ports::{
    BoxError, Clock, DeadlineIndex, Erasure, EventPublisher, IdentityReader, Queue, QueueError, ReportStore,
    StoreError, TicketStore,
};
use lambda_runtime::LambdaEvent;
use std::sync::Arc;

/// Attempts at an optimistic-concurrency save before the command is redelivered.
const SAVE_ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum TicketsError {
    #[error(transparent)]
    Undecided(#[from] DecideError),
    #[error("ticket store failed")]
    Store(#[from] StoreError),
    #[error("event bus failed")]
    Events(#[source] BoxError),
    #[error("outbound queue failed")]
    Outbound(#[from] QueueError),
    #[error("the {0} command's ticket kept changing under concurrent writes")]
    Contended(&'static str),
}

pub struct Tickets<S, E, O> {
    store: S,
    events: E,
    outbound: O,
    desk: Arc<Desk>,
    catalog: Arc<Catalog>,
    /// When a change is saved: the change feed's order.
    clock: SharedClock,
    /// Days a resolved ticket is kept.
    retention_days: u32,
}

impl Tickets<DynamoStore, EventBridgePublisher, SqsQueue<OutboundRequest>> {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let catalog = Catalog::builtin();
        let desk = load_desk(env, &catalog)?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let events = EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(sdk), env.require("EVENT_BUS_NAME")?);
        let outbound = SqsQueue::new(aws_sdk_sqs::Client::new(sdk), env.require("OUTBOUND_QUEUE_URL")?);
        let retention_days = match env.get("TICKET_RETENTION_DAYS") {
            Some(days) => days
                .parse()
                .map_err(|_| format!("TICKET_RETENTION_DAYS must be a number of days, not {days:?}"))?,
            None => DEFAULT_RETENTION_DAYS,
        };
        Ok(Tickets::new(store, events, outbound, Arc::new(desk), Arc::new(catalog))
            .with_clock(env.clock())
            .with_retention_days(retention_days))
    }
}

impl<S, E, O> Tickets<S, E, O>
where
    S: TicketStore + DeadlineIndex + ReportStore + Erasure + IdentityReader,
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
            clock: SharedClock::system(),
            retention_days: DEFAULT_RETENTION_DAYS,
        }
    }

    /// Keeps resolved tickets `days` days.
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }

    /// Saves changes at `clock`'s time (the local runner's clock in tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        // Boxed: nesting `apply` inline makes the handler's future too deep for
        // the compiler's layout queries.
        Ok(handle_in_order(event.payload, |command: TicketCommand| Box::pin(self.apply(command))).await)
    }

    /// Applies one command: load, decide, carry out, save. A version conflict
    /// (another writer saved first) starts over from a fresh load.
    pub async fn apply(&self, command: TicketCommand) -> Result<(), TicketsError> {
        let rules = Rules {
            desk: &self.desk,
            catalog: &self.catalog,
            retention_days: self.retention_days,
        };
        if let TicketCommand::EraseCustomer(erase) = &command {
            return self.erase(erase).await;
        }
        for _ in 0..SAVE_ATTEMPTS {
            let loaded = self.load(&command).await?;
            let decision = decide(&loaded, &command, &rules)?;
            let expected = loaded.ticket.as_ref().map(|t| t.version);
            let previous_team = loaded.ticket.as_ref().map(|t| t.team.clone());
            match self.carry_out(&command, decision, expected, previous_team).await {
                Err(TicketsError::Store(StoreError::Conflict)) => continue,
                outcome => return outcome,
            }
        }
        Err(TicketsError::Contended(command.name()))
    }

    /// A privacy erasure: every ticket of the customer saved without what it
    /// held about them ([`privacy::erase_ticket`]), its timeline's contents and
    /// its files' records and fingerprints removed (the agent API deleted the
    /// files), then the customer's own items and identity links. KPI counts
    /// stay. Each step is idempotent: a redelivered erasure completes it.
    async fn erase(&self, c: &EraseCustomer) -> Result<(), TicketsError> {
        let identity = self.store.identity(&c.customer).await?;
        let listing = Listing::Customer {
            customer: c.customer.clone(),
        };
        let mut tickets = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list(&listing, after.as_deref(), 100).await?;
            after = page.items.last().map(|l| l.position.clone());
            tickets.extend(page.items.into_iter().map(|l| l.ticket.id));
            if !page.more || after.is_none() {
                break;
            }
        }
        for id in &tickets {
            self.erase_ticket(id, c).await?;
            for attachment in self.store.erase_ticket_contents(id).await? {
                let Some(phash) = attachment.phash.clone() else {
                    continue;
                };
                let fingerprint = Fingerprint {
                    phash: phash.clone(),
                    ticket_id: id.clone(),
                    customer: c.customer.clone(),
                    wamid: attachment.wamid.clone(),
                };
                for band in phash_bands(&phash) {
                    self.store.forget_fingerprint(&band, &fingerprint).await?;
                }
            }
            let note = TimelineEntry::event(
                format!("erased.{}", c.request_id),
                c.at_ms,
                Author::Agent(c.by.clone()),
                "erased",
                "The customer's data was erased on request".into(),
            );
            self.store.append_entry(id, &note).await?;
        }
        let handles = identity
            .map(|i| i.handles())
            .unwrap_or_else(|| Identity::from_key(&c.customer).handles());
        self.store.forget_customer(&c.customer, &handles).await?;
        tracing::info!(tickets = tickets.len(), "customer erased");
        Ok(())
    }

    /// Saves the ticket without what it held about the customer (retried on
    /// a concurrent save).
    async fn erase_ticket(&self, id: &TicketId, c: &EraseCustomer) -> Result<(), TicketsError> {
        for _ in 0..SAVE_ATTEMPTS {
            let Some(stored) = self.store.ticket(id).await? else {
                return Ok(());
            };
            let mut erased = stored.clone();
            privacy::erase_ticket(&mut erased);
            // Nobody can answer an erased customer: an open ticket closes, its clocks with it.
            erased.resolve(Author::System, c.at_ms);
            let deadlines = erased.sla.take().map(|sla| sla.deadlines());
            if erased == stored {
                return Ok(());
            }
            erased.saved_at_ms = Some(self.clock.now_ms());
            erased.left_team = None;
            match self.store.save_ticket(&erased, Some(stored.version), &[]).await {
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
                Ok(()) => {}
            }
            if let Some(previous) = deadlines {
                self.store
                    .sync_deadlines(&erased.id, &stored.customer, &[], Some(&previous))
                    .await?;
            }
            return Ok(());
        }
        Err(TicketsError::Contended(TicketCommand::EraseCustomer(c.clone()).name()))
    }

    async fn load(&self, command: &TicketCommand) -> Result<Loaded, StoreError> {
        let needs = needs(command);
        let mut loaded = Loaded::default();
        if let Some(id) = &needs.ticket {
            loaded.ticket = self.store.ticket(id).await?;
        }
        if let Some(customer) = &needs.profile {
            loaded.profile = self.store.profile(customer).await?;
        }
        if let Some(wamid) = &needs.outbound_link {
            loaded.outbound_link = self.store.find_outbound(wamid).await?;
        }
        if let Some(wamid) = &needs.parked_status {
            loaded.parked_status = self.store.parked_status(wamid).await?;
        }
        if let Some((ticket, id)) = &needs.entry {
            loaded.entry = self.store.timeline_entry(ticket, id).await?;
        }
        Ok(loaded)
    }

    /// Carries the effects out in order. With a ticket to save, its timeline
    /// entries are written in the same transaction as the ticket, after every
    /// other effect; metrics only once it is saved.
    async fn carry_out(
        &self,
        command: &TicketCommand,
        decision: Decision,
        expected_version: Option<u64>,
        previous_team: Option<String>,
    ) -> Result<(), TicketsError> {
        let name = command.name();
        let saving = decision.ticket.is_some();
        let entries: Vec<_> = decision.entries().cloned().collect();
        let mut measures = Vec::new();
        let after_save = decision.after_save;
        let mut effects = decision.effects.into_iter().peekable();
        while let Some(effect) = effects.next() {
            match effect {
                Effect::Append { .. } if saving => {}
                Effect::Measure(measure) => measures.push(measure),
                // Events and messages next to each other go out in one call.
                Effect::Publish(event) => {
                    let mut events = vec![event];
                    while let Some(Effect::Publish(next)) = effects.next_if(|e| matches!(e, Effect::Publish(_))) {
                        events.push(next);
                    }
                    self.events.publish(&events).await.map_err(TicketsError::Events)?;
                }
                Effect::Send(request) => {
                    let mut requests = vec![request];
                    while let Some(Effect::Send(next)) = effects.next_if(|e| matches!(e, Effect::Send(_))) {
                        requests.push(next);
                    }
                    self.outbound.send(&requests).await?;
                }
                effect => self.carry_out_one(effect, name).await?,
            }
        }
        if let Some(mut ticket) = decision.ticket {
            // The feed orders changes by when they are saved, and tells the
            // team a ticket leaves.
            ticket.saved_at_ms = Some(self.clock.now_ms());
            ticket.left_team = previous_team.filter(|team| *team != ticket.team);
            self.store.save_ticket(&ticket, expected_version, &entries).await?;
            tracing::info!(ticket = %ticket.id, command = name, status = ticket.status.as_str(), tier = ticket.tier, team = %ticket.team, entries = entries.len(), "ticket saved");
        }
        for effect in after_save {
            self.carry_out_one(effect, name).await?;
        }
        measures.iter().for_each(emit);
        Ok(())
    }

    async fn carry_out_one(&self, effect: Effect, command: &str) -> Result<(), TicketsError> {
        match effect {
            Effect::Publish(event) => self.events.publish(&[event]).await.map_err(TicketsError::Events)?,
            Effect::Send(request) => self.outbound.send(&[request]).await?,
            Effect::Count(fact) => {
                self.store.record_fact(&fact).await?;
            }
            Effect::SyncDeadlines {
                ticket,
                customer,
                deadlines,
                previous,
            } => {
                self.store
                    .sync_deadlines(&ticket, &customer, &deadlines, previous.as_deref())
                    .await?;
                if previous.is_none() {
                    tracing::info!(ticket = %ticket, deadlines = deadlines.len(), "deadline index rewritten");
                }
            }
            Effect::Append { ticket, entry } => {
                let added = self.store.append_entry(&ticket, &entry).await?;
                tracing::info!(ticket = %ticket, command, kind = %entry.kind, duplicate = !added, "timeline entry");
            }
            Effect::SaveProfile(profile) => self.store.save_profile(&profile).await?,
            Effect::SaveAttachment { ticket, attachment } => self.store.save_attachment(&ticket, &attachment).await?,
            Effect::ReplaceEntry { ticket, entry } => {
                self.store.replace_entry(&ticket, &entry).await?;
                tracing::info!(ticket = %ticket, command, kind = %entry.kind, withdrawn = entry.withdrawn, "timeline entry replaced");
            }
            Effect::LinkOutbound { wamid, link } => self.store.link_outbound(&wamid, &link).await?,
            Effect::AdvanceDelivery {
                ticket,
                at_ms,
                wamid,
                update,
            } => {
                let moved = self.store.advance_delivery(&ticket, at_ms, &wamid, &update).await?;
                tracing::info!(ticket = %ticket, state = ?update.state, moved, "delivery status recorded");
            }
            Effect::ParkStatus { wamid, update } => {
                self.store.park_status(&wamid, &update).await?;
                tracing::info!(state = ?update.state, "delivery status parked until its message is recorded");
            }
            Effect::Measure(measure) => emit(&measure),
            Effect::KeepItemsUntil { ticket, until_ms } => {
                self.store.keep_ticket_items_until(&ticket, until_ms).await?;
                tracing::info!(ticket = %ticket, kept = until_ms.is_some(), "ticket retention set");
            }
        }
        Ok(())
    }
}

/// CloudWatch embedded metrics: per team, and desk-wide when asked.
fn emit(measure: &Measure) {
    let figures: Vec<Metric> = measure
        .figures
        .iter()
        .map(|f| Metric::new(f.name, f.value, if f.count { Unit::Count } else { Unit::None }))
        .collect();
    if measure.desk_wide {
        metrics::emit(metrics::NAMESPACE, &[], &figures);
    }
    metrics::emit(metrics::NAMESPACE, &[("Team", measure.team.as_str())], &figures);
}
