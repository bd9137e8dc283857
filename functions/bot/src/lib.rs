//! The bot function: tier 1. For each customer's new messages on
//! `inbound.fifo` it decides one coherent reply (see `helpdesk::domain::bot`),
//! records the messages on the ticket and hands escalations to humans;
//! delivery statuses pass through to `tickets`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::clock::SharedClock;
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::lambda_sqs::handle_grouped;
use helpdesk::adapters::orders::OrderClient;
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::bot::{OrderAnswer, Turn, order_to_look_up, rated_ticket_to_look_up, respond};
use helpdesk::domain::commands::{MediaJob, RecordStatus, TicketCommand};
use helpdesk::domain::conversation::Conversation;
use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::inbound::{InboundEvent, InboundMessage};
use helpdesk::domain::outbound::OutboundRequest;
use helpdesk::domain::ticket::CustomerTier;
use helpdesk::ports::{Clock, ConversationStore, OrderLookup, Queue, QueueError, StoreError, TicketReader};
use lambda_runtime::LambdaEvent;

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("store failed")]
    Store(#[from] StoreError),
    #[error("queue failed")]
    Queue(#[from] QueueError),
}

/// The bot over its ports: the conversation store (and ticket reads), the
/// tickets, outbound and media queues, the order source and the clock.
pub struct Bot<S, T, O, M, L, C> {
    store: S,
    tickets: T,
    outbound: O,
    media: M,
    orders: L,
    clock: C,
    desk: Desk,
    catalog: Catalog,
}

/// The bot as Lambda runs it.
pub type AwsBot =
    Bot<DynamoStore, SqsQueue<TicketCommand>, SqsQueue<OutboundRequest>, SqsQueue<MediaJob>, OrderClient, SharedClock>;

impl AwsBot {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let catalog = Catalog::builtin();
        let desk = load_desk(env, &catalog)?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let tickets = SqsQueue::new(sqs.clone(), env.require("TICKETS_QUEUE_URL")?);
        let outbound = SqsQueue::new(sqs.clone(), env.require("OUTBOUND_QUEUE_URL")?);
        let media = SqsQueue::new(sqs, env.require("MEDIA_QUEUE_URL")?);
        let orders = OrderClient::from_source(&desk.config.order_lookup.source, sdk)?;
        Ok(Bot::new(
            store,
            tickets,
            outbound,
            media,
            orders,
            env.clock(),
            desk,
            catalog,
        ))
    }
}

impl<S, T, O, M, L, C> Bot<S, T, O, M, L, C>
where
    S: ConversationStore + TicketReader,
    T: Queue<TicketCommand>,
    O: Queue<OutboundRequest>,
    M: Queue<MediaJob>,
    L: OrderLookup,
    C: Clock,
{
    #[allow(clippy::too_many_arguments)] // one per port, plus the desk and its texts
    pub fn new(store: S, tickets: T, outbound: O, media: M, orders: L, clock: C, desk: Desk, catalog: Catalog) -> Self {
        Bot {
            store,
            tickets,
            outbound,
            media,
            orders,
            clock,
            desk,
            catalog,
        }
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(handle_grouped(event.payload, |items: Vec<InboundEvent>| self.process(items)).await)
    }

    /// One message group's records from a batch (one customer, in order).
    pub async fn process(&self, items: Vec<InboundEvent>) -> Result<(), BotError> {
        let mut messages: Vec<InboundMessage> = Vec::new();
        for item in items {
            match item {
                InboundEvent::Status(status) => {
                    self.tickets
                        .send(&[TicketCommand::RecordStatus(RecordStatus {
                            wamid: status.wamid,
                            status: status.status,
                            at_ms: status.timestamp * 1000,
                            recipient: status.recipient,
                            errors: status.errors,
                        })])
                        .await?;
                }
                InboundEvent::Message(m) if m.customer.is_none() => {
                    tracing::warn!(message_type = %m.message_type, "message names no customer; acknowledged without a reply");
                }
                InboundEvent::Message(m) => messages.push(m),
            }
        }
        // Several short messages of one customer in one batch get one reply.
        while !messages.is_empty() {
            let customer = messages[0].customer.clone().expect("filtered above");
            let split = messages
                .iter()
                .position(|m| m.customer.as_ref() != Some(&customer))
                .unwrap_or(messages.len());
            let rest = messages.split_off(split);
            self.converse(&customer, messages).await?;
            messages = rest;
        }
        Ok(())
    }

    /// The commands and replies go out before the conversation is saved: if the
    /// save fails, the messages are redelivered and the same decision is sent
    /// again with the same dedupe ids, so nothing is lost and nothing doubled.
    async fn converse(
        &self,
        customer: &helpdesk::domain::ids::CustomerId,
        messages: Vec<InboundMessage>,
    ) -> Result<(), BotError> {
        let conversation = self
            .store
            .conversation(customer)
            .await?
            .unwrap_or_else(|| Conversation::new(customer.clone()));
        let fresh: Vec<InboundMessage> = messages
            .into_iter()
            .filter(|m| !conversation.has_seen(&m.wamid))
            .collect();
        if fresh.is_empty() {
            tracing::info!(ticket = ?conversation.ticket_id, "messages already handled; skipped");
            return Ok(());
        }
        let ticket_status = match &conversation.ticket_id {
            Some(id) => self.store.ticket(id).await?.map(|t| t.status),
            None => None,
        };
        let vip = self
            .store
            .profile(customer)
            .await?
            .is_some_and(|p| p.tier == CustomerTier::Vip);
        let order = match order_to_look_up(&conversation, &fresh, &self.desk) {
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
        let rated_ticket = match rated_ticket_to_look_up(&fresh) {
            Some(id) => self
                .store
                .ticket(&id)
                .await?
                .filter(|t| &t.customer == customer)
                .map(|t| t.id),
            None => None,
        };
        let now = self.clock.now();
        let turn = Turn {
            customer,
            messages: &fresh,
            ticket_status,
            vip,
            order,
            rated_ticket,
            now,
        };
        let outcome = respond(conversation, &turn, &self.desk, &self.catalog);
        self.tickets.send(&outcome.commands).await?;
        self.outbound.send(&outcome.replies).await?;
        self.media.send(&outcome.media).await?;
        self.store.save_conversation(&outcome.conversation).await?;
        tracing::info!(
            ticket = ?outcome.conversation.ticket_id,
            mode = ?outcome.conversation.mode,
            messages = fresh.len(),
            replies = outcome.replies.len(),
            commands = outcome.commands.len(),
            "messages handled"
        );
        Ok(())
    }
}
