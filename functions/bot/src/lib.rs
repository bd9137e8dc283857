//! The bot function: tier 1. For each customer it works out who they are
//! (whatever Meta calls them: phone, business-scoped user id, parent id) and
//! keeps their messages, per business number, until a quiet period passes
//! with nothing new; then it decides one coherent answer to all of them (see
//! `helpdesk::domain::bot`), records the messages on the ticket and hands
//! escalations to humans. Delivery statuses pass through to `tickets`, echoes
//! of the WhatsApp Business app go on the customer's ticket, and a message that
//! names no customer is kept for admins, never dropped.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::clock::SharedClock;
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::lambda_sqs::handle_grouped;
use helpdesk::adapters::orders::OrderClient;
use helpdesk::adapters::sqs::{SqsDelayQueue, SqsQueue};
use helpdesk::config::Env;
use helpdesk::domain::bot::{OrderAnswer, Turn, order_to_look_up, rated_ticket_to_look_up, respond};
use helpdesk::domain::commands::{MediaJob, OpenProactive, RecordEcho, RecordStatus, TicketCommand};
use helpdesk::domain::conversation::{Conversation, MAX_PENDING, Mode};
use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::identity::{Identity, Phone, Sender, UserId, resolve};
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::inbound::{
    AgentOpens, DeliveryStatus, EchoMessage, InboundEvent, InboundMessage, MessageContent, TurnDue, Unattributed,
};
use helpdesk::domain::outbound::{Author, OutboundBody, OutboundRequest};
use helpdesk::domain::ticket::{CustomerTier, TicketStatus};
use helpdesk::ports::{
    Clock, ConversationStore, DelayedQueue, IdentityStore, OrderLookup, Queue, QueueError, StoreError, TicketReader,
    UnattributedStore,
};
use lambda_runtime::LambdaEvent;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("store failed")]
    Store(#[from] StoreError),
    #[error("queue failed")]
    Queue(#[from] QueueError),
}

/// How often a conversation is read again when its save met a newer version.
const SAVE_ATTEMPTS: u32 = 3;

/// The bot over its ports: the table (conversations, ticket reads, the
/// identity map, messages naming nobody), the tickets, outbound and media
/// queues, the turns queue (delayed), the order source and the clock.
pub struct Bot<S, T, O, M, D, L, C> {
    store: S,
    tickets: T,
    outbound: O,
    media: M,
    turns: D,
    orders: L,
    clock: C,
    desk: Desk,
    catalog: Catalog,
}

/// The bot as Lambda runs it.
pub type AwsBot = Bot<
    DynamoStore,
    SqsQueue<TicketCommand>,
    SqsQueue<OutboundRequest>,
    SqsQueue<MediaJob>,
    SqsDelayQueue<InboundEvent>,
    OrderClient,
    SharedClock,
>;

impl AwsBot {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let catalog = Catalog::builtin();
        let desk = load_desk(env, &catalog)?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let tickets = SqsQueue::new(sqs.clone(), env.require("TICKETS_QUEUE_URL")?);
        let outbound = SqsQueue::new(sqs.clone(), env.require("OUTBOUND_QUEUE_URL")?);
        let media = SqsQueue::new(sqs.clone(), env.require("MEDIA_QUEUE_URL")?);
        let turns = SqsDelayQueue::new(sqs, env.require("TURNS_QUEUE_URL")?);
        let orders = OrderClient::from_source(&desk.config.order_lookup.source, sdk)?;
        let ports = Ports {
            store,
            tickets,
            outbound,
            media,
            turns,
            orders,
            clock: env.clock(),
        };
        Ok(Bot::new(ports, desk, catalog))
    }
}

/// What [`Bot::new`] takes: one value per port.
pub struct Ports<S, T, O, M, D, L, C> {
    pub store: S,
    pub tickets: T,
    pub outbound: O,
    pub media: M,
    pub turns: D,
    pub orders: L,
    pub clock: C,
}

impl<S, T, O, M, D, L, C> Bot<S, T, O, M, D, L, C>
where
    S: ConversationStore + TicketReader + IdentityStore + UnattributedStore,
    T: Queue<TicketCommand>,
    O: Queue<OutboundRequest>,
    M: Queue<MediaJob>,
    D: DelayedQueue<InboundEvent>,
    L: OrderLookup,
    C: Clock,
{
    pub fn new(ports: Ports<S, T, O, M, D, L, C>, desk: Desk, catalog: Catalog) -> Self {
        Bot {
            store: ports.store,
            tickets: ports.tickets,
            outbound: ports.outbound,
            media: ports.media,
            turns: ports.turns,
            orders: ports.orders,
            clock: ports.clock,
            desk,
            catalog,
        }
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(handle_grouped(event.payload, |items: Vec<InboundEvent>| self.process(items)).await)
    }

    /// One message group's records from a batch (one customer, in order), or
    /// one turn falling due.
    pub async fn process(&self, items: Vec<InboundEvent>) -> Result<(), BotError> {
        let mut messages: Vec<InboundMessage> = Vec::new();
        for item in items {
            let item = match item {
                InboundEvent::Message(m) => InboundEvent::Message(m.with_legacy_sender()),
                other => other,
            };
            match item {
                InboundEvent::Status(status) => self.pass_status(status).await?,
                InboundEvent::Echo(echo) => self.record_echo(echo).await?,
                InboundEvent::TurnDue(due) => self.turn_due(due).await?,
                InboundEvent::AgentOpens(opens) => self.agent_opens(opens).await?,
                InboundEvent::Message(m) if m.sender.is_anonymous() => self.keep_unattributed(m).await?,
                InboundEvent::Message(m) => messages.push(m),
            }
        }
        // One person's messages (their first key), in order, per run.
        while !messages.is_empty() {
            let key = messages[0].customer.clone();
            let split = messages
                .iter()
                .position(|m| m.customer != key)
                .unwrap_or(messages.len());
            let rest = messages.split_off(split);
            self.intake(messages).await?;
            messages = rest;
        }
        Ok(())
    }

    async fn pass_status(&self, status: DeliveryStatus) -> Result<(), BotError> {
        let pricing = status.pricing();
        let command = TicketCommand::RecordStatus(RecordStatus {
            wamid: status.wamid,
            status: status.status,
            at_ms: status.timestamp * 1000,
            recipient: status.recipient,
            errors: status.errors,
            pricing,
        });
        Ok(self.tickets.send(&[command]).await?)
    }

    /// A message that names no customer is kept whole for admins.
    async fn keep_unattributed(&self, m: InboundMessage) -> Result<(), BotError> {
        let reason = if m.identity_errors.is_empty() {
            "the message names no phone number and no WhatsApp user id".to_owned()
        } else {
            format!("no valid id: {}", m.identity_errors.join("; "))
        };
        self.keep(Unattributed {
            business: m.business,
            waba_id: m.waba_id,
            wamid: m.wamid,
            received_at_ms: self.clock.now_ms(),
            message_type: m.message_type,
            reason,
            raw: m.message,
        })
        .await
    }

    /// Keeps what names no customer where admins read it.
    async fn keep(&self, kept: Unattributed) -> Result<(), BotError> {
        self.store.keep(&kept).await?;
        tracing::warn!(message_type = %kept.message_type, "message names no customer; kept for admins");
        Ok(())
    }

    /// Who sent `messages` (one person), and what their messages teach: a
    /// phone shared at the desk's request, a changed number or user id. Every
    /// handle is linked to the customer, whose identity is kept up to date.
    async fn identify(&self, sender: &Sender, messages: &[InboundMessage]) -> Result<Option<Identity>, BotError> {
        let mut found = Vec::new();
        for handle in sender.handles() {
            let owner = self.store.owner(&handle).await?;
            found.push((handle, owner));
        }
        let nobody_known = found.iter().all(|(_, owner)| owner.is_none());
        let stored_by_phone = match (&sender.phone, messages.first()) {
            (Some(phone), Some(first)) if nobody_known => {
                self.stored_under(phone, &first.business.phone_number_id).await?
            }
            _ => None,
        };
        let Some((customer, mut links)) = resolve(sender, &found, stored_by_phone) else {
            return Ok(None);
        };
        let learned = learned_from(messages);
        for handle in learned.handles() {
            if self.store.owner(&handle).await?.as_ref() != Some(&customer) {
                links.push(handle);
            }
        }
        for handle in &links {
            self.store.link(handle, &customer).await?;
        }
        let stored = self.store.identity(&customer).await?;
        let mut identity = stored.clone().unwrap_or_else(|| Identity::from_key(&customer));
        let at_ms = self.clock.now_ms();
        // What the messages teach is newer than who sent them.
        let changed = identity.learn(sender, at_ms) | identity.learn(&learned, at_ms);
        if changed || stored.is_none() {
            self.store.save_identity(&identity).await?;
        }
        Ok(Some(identity))
    }

    /// The phone as a customer key, when a conversation or a profile is
    /// stored under it from before the identity map (or set by an agent for
    /// a phone number that had not written yet).
    async fn stored_under(&self, phone: &Phone, phone_number_id: &str) -> Result<Option<CustomerId>, BotError> {
        let Ok(key) = CustomerId::parse(phone.as_str()) else {
            return Ok(None);
        };
        let known = self.store.conversation(&key, phone_number_id).await?.is_some()
            || self.store.profile(&key).await?.is_some();
        Ok(known.then_some(key))
    }

    /// One person's new messages: kept on their conversation with each
    /// business number they wrote to, answered once the quiet period passes.
    async fn intake(&self, messages: Vec<InboundMessage>) -> Result<(), BotError> {
        let sender = merged_sender(&messages);
        let Some(identity) = self.identify(&sender, &messages).await? else {
            for m in messages {
                self.keep_unattributed(m).await?;
            }
            return Ok(());
        };
        let mut by_number: Vec<(String, Vec<InboundMessage>)> = Vec::new();
        for m in messages {
            let number = m.business.phone_number_id.clone();
            match by_number.iter_mut().find(|(n, _)| *n == number) {
                Some((_, list)) => list.push(m),
                None => by_number.push((number, vec![m])),
            }
        }
        for (number, messages) in by_number {
            let mut attempts = 0;
            loop {
                match self.keep_pending(&identity, &number, &messages).await {
                    // Messages of the same person arrived on another delivery, or a
                    // turn was answered meanwhile: read the conversation again.
                    Err(BotError::Store(StoreError::Conflict)) if attempts < SAVE_ATTEMPTS => attempts += 1,
                    result => {
                        result?;
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds one person's new messages to their conversation with one business
    /// number, then answers them now (no quiet period, or too many waiting) or
    /// schedules their turn.
    async fn keep_pending(
        &self,
        identity: &Identity,
        number: &str,
        messages: &[InboundMessage],
    ) -> Result<(), BotError> {
        let customer = &identity.customer;
        let mut conversation = self
            .store
            .conversation(customer, number)
            .await?
            .unwrap_or_else(|| Conversation::new(customer.clone(), number));
        let fresh: Vec<InboundMessage> = messages
            .iter()
            .filter(|m| !conversation.has_seen(&m.wamid))
            .cloned()
            .collect();
        if fresh.is_empty() {
            tracing::info!(ticket = ?conversation.ticket_id, "messages already handled; skipped");
            return Ok(());
        }
        for m in &fresh {
            conversation.remember(&m.wamid);
        }
        conversation.pending.extend(fresh);
        let quiet = Duration::from_millis(self.desk.config.desk.quiet_period_ms);
        if quiet.is_zero() || conversation.pending.len() >= MAX_PENDING {
            return self.answer(conversation, identity).await;
        }
        let last = conversation.pending.last().map(|m| m.wamid.clone()).unwrap_or_default();
        let due = InboundEvent::TurnDue(TurnDue {
            customer: customer.clone(),
            phone_number_id: number.to_owned(),
            last_wamid: last.clone(),
        });
        // Queued before the save: a failed save redelivers the messages,
        // and this turn, stale then, is ignored.
        self.turns.send_after(&due, quiet).await?;
        if self.desk.config.desk.typing_indicator && conversation.mode == Mode::Bot {
            self.outbound.send(&[typing(&conversation, &last)]).await?;
        }
        self.store.save_conversation(&conversation).await?;
        tracing::info!(ticket = ?conversation.ticket_id, pending = conversation.pending.len(), "messages kept for the quiet period");
        Ok(())
    }

    /// The quiet period passed: answer the pending messages if no newer one came.
    async fn turn_due(&self, due: TurnDue) -> Result<(), BotError> {
        let Some(conversation) = self.store.conversation(&due.customer, &due.phone_number_id).await? else {
            return Ok(());
        };
        let still_last = conversation.pending.last().is_some_and(|m| m.wamid == due.last_wamid);
        if !still_last {
            tracing::info!(ticket = ?conversation.ticket_id, "turn superseded by newer messages, or answered");
            return Ok(());
        }
        let identity = self
            .store
            .identity(&due.customer)
            .await?
            .unwrap_or_else(|| Identity::from_key(&due.customer));
        self.answer(conversation, &identity).await
    }

    /// Decides one answer to the pending messages. The commands and replies go
    /// out before the conversation is saved: if the save fails, the turn is
    /// redelivered and the same decision is sent again with the same dedupe
    /// ids, so nothing is lost and nothing doubled.
    async fn answer(&self, mut conversation: Conversation, identity: &Identity) -> Result<(), BotError> {
        let messages = std::mem::take(&mut conversation.pending);
        let customer = conversation.customer.clone();
        let ticket = match &conversation.ticket_id {
            Some(id) => self.store.ticket(id).await?,
            None => None,
        };
        let ticket_status = ticket.as_ref().map(|t| t.status);
        let ticket_handed_back_at_ms = ticket.as_ref().and_then(|t| t.handed_back_at_ms);
        let vip = self
            .store
            .profile(&customer)
            .await?
            .is_some_and(|p| p.tier == CustomerTier::Vip);
        let order = match order_to_look_up(&conversation, &messages, &self.desk) {
            Some(number) => Some(match self.orders.status(&number).await {
                Ok(Some(status)) => OrderAnswer::Found { status },
                Ok(None) => OrderAnswer::NotFound,
                Err(e) => {
                    tracing::warn!(error = %e, "order source unavailable");
                    OrderAnswer::Unavailable
                }
            }),
            None => None,
        };
        // A survey reply counts only for a ticket of this customer's that exists.
        let rated_ticket = match rated_ticket_to_look_up(&messages) {
            Some(id) => self
                .store
                .ticket(&id)
                .await?
                .filter(|t| t.customer == customer)
                .map(|t| t.id),
            None => None,
        };
        let turn = Turn {
            customer: &customer,
            messages: &messages,
            ticket_status,
            ticket_handed_back_at_ms,
            vip,
            phone_known: identity.phone.is_some(),
            order,
            rated_ticket,
            now: self.clock.now(),
        };
        let outcome = respond(conversation, &turn, &self.desk, &self.catalog);
        self.tickets.send(&outcome.commands).await?;
        self.outbound.send(&outcome.replies).await?;
        self.media.send(&outcome.media).await?;
        let answered: Vec<String> = messages.iter().map(|m| m.wamid.clone()).collect();
        let mut saved = outcome.conversation.clone();
        let mut attempts = 0;
        loop {
            match self.store.save_conversation(&saved).await {
                Ok(()) => break,
                Err(StoreError::Conflict) if attempts < SAVE_ATTEMPTS => {
                    attempts += 1;
                    let stored = self
                        .store
                        .conversation(&saved.customer, &saved.phone_number_id)
                        .await?
                        .ok_or(StoreError::Conflict)?;
                    if !saved.carry_over(stored, &answered) {
                        tracing::info!(ticket = ?saved.ticket_id, "turn answered by another delivery");
                        return Ok(());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        tracing::info!(
            ticket = ?outcome.conversation.ticket_id,
            mode = ?outcome.conversation.mode,
            messages = messages.len(),
            replies = outcome.replies.len(),
            commands = outcome.commands.len(),
            "messages handled"
        );
        Ok(())
    }

    /// The customer's conversation on a business number, and whether its
    /// ticket goes on: unless it is resolved. One the bot just opened may not
    /// be stored yet, and what comes next joins it (a ticket of its own would
    /// split the conversation).
    async fn conversation_of(&self, customer: &CustomerId, number: &str) -> Result<(Conversation, bool), BotError> {
        let conversation = self
            .store
            .conversation(customer, number)
            .await?
            .unwrap_or_else(|| Conversation::new(customer.clone(), number));
        let live = match &conversation.ticket_id {
            Some(id) => self
                .store
                .ticket(id)
                .await?
                .is_none_or(|t| t.status != TicketStatus::Resolved),
            None => false,
        };
        Ok((conversation, live))
    }

    /// An agent writes first: the conversation goes on its open ticket, or
    /// on the agent's new one, handed to humans (the bot stays silent when
    /// the customer answers); `tickets` then checks the customer's consent
    /// again and sends the template.
    async fn agent_opens(&self, opens: AgentOpens) -> Result<(), BotError> {
        let (mut conversation, live) = self.conversation_of(&opens.customer, &opens.phone_number_id).await?;
        if !live {
            conversation.start_ticket(opens.ticket_id.clone());
            conversation.mode = Mode::Human;
            conversation.handed_at_ms = Some(opens.at_ms);
            self.store.save_conversation(&conversation).await?;
        }
        let Some(ticket_id) = conversation.ticket_id else {
            return Ok(());
        };
        tracing::info!(ticket = %ticket_id, joined = live, "an agent writes first");
        let command = TicketCommand::OpenProactive(OpenProactive {
            ticket_id,
            customer: opens.customer,
            phone_number_id: opens.phone_number_id,
            agent: opens.agent,
            team: opens.team,
            tier: opens.tier,
            body: opens.body,
            at_ms: opens.at_ms,
            request_id: opens.request_id,
        });
        Ok(self.tickets.send(&[command]).await?)
    }

    /// What the business sent from the WhatsApp Business app goes on the
    /// customer's ticket (opened when there is none); the bot stays silent.
    async fn record_echo(&self, echo: EchoMessage) -> Result<(), BotError> {
        let Some(identity) = self.identify(&echo.to, &[]).await? else {
            return self
                .keep(Unattributed {
                    business: echo.business,
                    waba_id: echo.waba_id,
                    wamid: echo.wamid,
                    received_at_ms: self.clock.now_ms(),
                    message_type: format!("echo:{}", echo.message_type),
                    reason: "an echo from the WhatsApp Business app that names no recipient".into(),
                    raw: echo.message,
                })
                .await;
        };
        let customer = identity.customer;
        let number = echo.business.phone_number_id.clone();
        let (mut conversation, live) = self.conversation_of(&customer, &number).await?;
        if !live {
            conversation.start_ticket(TicketId::opened_by(&echo.wamid));
            self.store.save_conversation(&conversation).await?;
        }
        let Some(ticket_id) = conversation.ticket_id else {
            return Ok(());
        };
        let content = MessageContent::of(&echo.message_type, &echo.message);
        let at_ms = if echo.timestamp > 0 {
            echo.timestamp * 1000
        } else {
            self.clock.now_ms()
        };
        let command = TicketCommand::RecordEcho(RecordEcho {
            ticket_id,
            customer,
            phone_number_id: number,
            team: self.desk.config.desk.default_team.clone(),
            wamid: echo.wamid,
            at_ms,
            message_type: echo.message_type,
            summary: content.summary(),
            message: echo.message,
        });
        Ok(self.tickets.send(&[command]).await?)
    }
}

/// Every handle the messages carry (a username may appear on a later one).
fn merged_sender(messages: &[InboundMessage]) -> Sender {
    let mut sender = Sender::default();
    for m in messages {
        let s = &m.sender;
        sender.phone = s.phone.clone().or(sender.phone);
        sender.user_id = s.user_id.clone().or(sender.user_id);
        sender.parent_user_id = s.parent_user_id.clone().or(sender.parent_user_id);
        sender.username = s.username.clone().or(sender.username);
    }
    sender
}

/// What messages' content says about their sender: the phone shared at the
/// desk's request, or a new number or user id (system messages).
fn learned_from(messages: &[InboundMessage]) -> Sender {
    let mut learned = Sender::default();
    for m in messages {
        match m.content() {
            MessageContent::PhoneShared { phone: Some(phone) } => learned.phone = Some(phone),
            MessageContent::Other(kind) if kind == "system" => {
                let system = &m.message["system"];
                let text = |key: &str| system.get(key).and_then(|v| v.as_str());
                if let Some(phone) = text("wa_id").and_then(|p| Phone::parse(p).ok()) {
                    learned.phone = Some(phone);
                }
                let user = text("new_user_id").or_else(|| text("user_id"));
                if let Some(user) = user.and_then(|u| UserId::parse(u).ok()) {
                    learned.user_id = Some(user);
                }
            }
            _ => {}
        }
    }
    learned
}

/// "typing…" while the bot works on an answer to `wamid`.
fn typing(conversation: &Conversation, wamid: &str) -> OutboundRequest {
    let ticket_id = conversation
        .ticket_id
        .clone()
        .unwrap_or_else(|| TicketId::opened_by(conversation.pending.first().map_or(wamid, |m| &m.wamid)));
    OutboundRequest {
        idempotency_key: format!("typing:{wamid}"),
        ticket_id,
        customer: conversation.customer.clone(),
        phone_number_id: conversation.phone_number_id.clone(),
        author: Author::Bot,
        body: OutboundBody::MarkRead {
            message_id: wamid.to_owned(),
            typing: true,
        },
    }
}
