//! The bot function: tier 1. For each customer message on `inbound.fifo` it
//! decides the reply (see `helpdesk::domain::bot`), records the message on the
//! ticket and hands escalations to humans; statuses pass through to `tickets`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::lambda_sqs::handle_in_order;
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::bot::{BotSettings, respond};
use helpdesk::domain::commands::TicketCommand;
use helpdesk::domain::conversation::Conversation;
use helpdesk::domain::inbound::{DeliveryStatus, InboundEvent, InboundMessage};
use helpdesk::domain::outbound::OutboundRequest;
use helpdesk::ports::{Clock, ConversationStore, Queue, QueueError, StoreError, SystemClock, TicketReader};
use lambda_runtime::LambdaEvent;

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("store failed")]
    Store(#[from] StoreError),
    #[error("queue failed")]
    Queue(#[from] QueueError),
}

pub struct Bot<S, T, O, C> {
    store: S,
    tickets: T,
    outbound: O,
    clock: C,
    settings: BotSettings,
}

impl Bot<DynamoStore, SqsQueue<TicketCommand>, SqsQueue<OutboundRequest>, SystemClock> {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let tickets = SqsQueue::new(sqs.clone(), env.require("TICKETS_QUEUE_URL")?);
        let outbound = SqsQueue::new(sqs, env.require("OUTBOUND_QUEUE_URL")?);
        let settings = BotSettings {
            default_team: env.or("DEFAULT_TEAM", "support").to_owned(),
            ..BotSettings::default()
        };
        Ok(Bot::new(store, tickets, outbound, SystemClock, settings))
    }
}

impl<S, T, O, C> Bot<S, T, O, C>
where
    S: ConversationStore + TicketReader,
    T: Queue<TicketCommand>,
    O: Queue<OutboundRequest>,
    C: Clock,
{
    pub fn new(store: S, tickets: T, outbound: O, clock: C, settings: BotSettings) -> Self {
        Bot {
            store,
            tickets,
            outbound,
            clock,
            settings,
        }
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(handle_in_order(event.payload, |item: InboundEvent| self.process(item)).await)
    }

    pub async fn process(&self, item: InboundEvent) -> Result<(), BotError> {
        match item {
            InboundEvent::Message(message) => self.converse(message).await,
            InboundEvent::Status(status) => self.pass_status(status).await,
        }
    }

    /// One customer message. The commands and replies go out before the
    /// conversation is saved: if the save fails the message is redelivered and
    /// the same decision is sent again with the same dedupe ids, so nothing is
    /// lost and nothing is doubled.
    async fn converse(&self, message: InboundMessage) -> Result<(), BotError> {
        let Some(customer) = message.customer.clone() else {
            tracing::warn!(message_type = %message.message_type, "message names no customer; kept in the queue log only");
            return Ok(());
        };
        let conversation = self
            .store
            .conversation(&customer)
            .await?
            .unwrap_or_else(|| Conversation::new(customer.clone()));
        if conversation.has_seen(&message.wamid) {
            tracing::info!(ticket = ?conversation.ticket_id, "message already handled; skipped");
            return Ok(());
        }
        let ticket_status = match &conversation.ticket_id {
            Some(id) => self.store.ticket(id).await?.map(|t| t.status),
            None => None,
        };
        let outcome = respond(
            conversation,
            &customer,
            &message,
            ticket_status,
            self.clock.now_ms(),
            &self.settings,
        );
        self.tickets.send(&outcome.commands).await?;
        self.outbound.send(&outcome.replies).await?;
        self.store.save_conversation(&outcome.conversation).await?;
        tracing::info!(
            ticket = ?outcome.conversation.ticket_id,
            mode = ?outcome.conversation.mode,
            replies = outcome.replies.len(),
            commands = outcome.commands.len(),
            "message handled"
        );
        Ok(())
    }

    async fn pass_status(&self, status: DeliveryStatus) -> Result<(), BotError> {
        let command = TicketCommand::RecordStatus {
            wamid: status.wamid,
            status: status.status,
            at_ms: status.timestamp * 1000,
            recipient: status.recipient,
            errors: status.errors,
        };
        self.tickets.send(&[command]).await?;
        Ok(())
    }
}
