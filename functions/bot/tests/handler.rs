//! The bot's handler on `inbound.fifo` batches as Lambda delivers them, over
//! the in-memory ports: what the customer is told, what reaches the tickets and
//! media queues, and what the conversation remembers.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use bot::Bot;
use helpdesk::adapters::memory::{ManualClock, MemoryDelayedQueue, MemoryOrders, MemoryQueue, MemoryStore};
use helpdesk::domain::commands::{Escalate, MediaJob, RecordInbound, RecordStatus, SetCustomerLanguage, TicketCommand};
use helpdesk::domain::conversation::{Conversation, Mode};
use helpdesk::domain::desk::{Desk, EMBEDDED_CONFIG};
use helpdesk::domain::i18n::{Arg, Catalog, Lang};
use helpdesk::domain::identity::{Handle, ParentUserId, Phone, Sender, UserId};
use helpdesk::domain::ids::CustomerId;
use helpdesk::domain::inbound::{BusinessNumber, InboundEvent, InboundMessage, TurnDue};
use helpdesk::domain::outbound::{OutboundBody, OutboundRequest};
use helpdesk::domain::ticket::{CustomerProfile, CustomerTier, Ticket, TicketStatus};
use helpdesk::ports::{
    ConversationStore, IdentityReader, Queue, QueueError, QueueMessage, TicketStore, UnattributedStore,
};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Tuesday 24 November 2026, 10:00 in Paris: every team of the shipped desk is open.
const TUESDAY_10_IN_PARIS: &str = "2026-11-24T09:00:00Z";
/// The business number the customers write to.
const BUSINESS: &str = "100000000000001";
/// The visibility timeout of `inbound.fifo` (template.yaml's default): when a failed group comes back.
const REDELIVERY_DELAY_MS: i64 = 60_000;

// ----------------------------------------------------------------- fixture

/// The bot's ports, kept by the test to read back (clones share their state).
struct Ports {
    store: MemoryStore,
    tickets: MemoryQueue<TicketCommand>,
    outbound: MemoryQueue<OutboundRequest>,
    media: MemoryQueue<MediaJob>,
    turns: MemoryDelayedQueue<InboundEvent>,
    orders: MemoryOrders,
    clock: ManualClock,
}

type MemoryBot<T, O> =
    Bot<MemoryStore, T, O, MemoryQueue<MediaJob>, MemoryDelayedQueue<InboundEvent>, MemoryOrders, ManualClock>;

impl Ports {
    fn new() -> Ports {
        let now: jiff::Timestamp = TUESDAY_10_IN_PARIS.parse().unwrap();
        Ports {
            store: MemoryStore::new(),
            tickets: MemoryQueue::default(),
            outbound: MemoryQueue::default(),
            media: MemoryQueue::default(),
            turns: MemoryDelayedQueue::default(),
            orders: MemoryOrders::default(),
            clock: ManualClock::at(now.as_millisecond()),
        }
    }

    /// The bot with the shipped desk.
    fn bot(&self) -> MemoryBot<MemoryQueue<TicketCommand>, MemoryQueue<OutboundRequest>> {
        self.bot_with(shipped_desk())
    }

    fn bot_with(&self, desk: Desk) -> MemoryBot<MemoryQueue<TicketCommand>, MemoryQueue<OutboundRequest>> {
        self.bot_over(self.tickets.clone(), self.outbound.clone(), desk)
    }

    fn bot_over<T, O>(&self, tickets: T, outbound: O, desk: Desk) -> MemoryBot<T, O>
    where
        T: Queue<TicketCommand>,
        O: Queue<OutboundRequest>,
    {
        let ports = bot::Ports {
            store: self.store.clone(),
            tickets,
            outbound,
            media: self.media.clone(),
            turns: self.turns.clone(),
            orders: self.orders.clone(),
            clock: self.clock.clone(),
        };
        Bot::new(ports, desk, Catalog::builtin())
    }

    /// The bot whose tickets and outbound queues also keep every item offered to them.
    fn recorded_bot(
        &self,
        tickets: &Recorded<TicketCommand>,
        outbound: &Recorded<OutboundRequest>,
    ) -> MemoryBot<Recorded<TicketCommand>, Recorded<OutboundRequest>> {
        self.bot_over(tickets.clone(), outbound.clone(), shipped_desk())
    }

    /// The texts of every reply queued for `customer`, in order.
    fn told(&self, customer: &str) -> Vec<String> {
        self.outbound
            .sent()
            .iter()
            .filter(|r| r.customer.as_str() == customer)
            .map(text_of)
            .collect()
    }

    /// The ticket commands queued for `customer`, by name, in order.
    fn commands_for(&self, customer: &str) -> Vec<&'static str> {
        self.tickets
            .sent()
            .iter()
            .filter(|c| c.group_key() == customer)
            .map(TicketCommand::name)
            .collect()
    }
}

/// A queue that also keeps every item offered to it, duplicates and failed
/// sends included, so a test can compare what two deliveries sent.
struct Recorded<T> {
    queue: MemoryQueue<T>,
    offered: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for Recorded<T> {
    fn clone(&self) -> Self {
        Recorded {
            queue: self.queue.clone(),
            offered: Arc::clone(&self.offered),
        }
    }
}

impl<T: Clone> Recorded<T> {
    fn around(queue: &MemoryQueue<T>) -> Self {
        Recorded {
            queue: queue.clone(),
            offered: Arc::default(),
        }
    }

    /// Removes and answers what was offered since the last call.
    fn take_offered(&self) -> Vec<T> {
        std::mem::take(&mut *self.offered.lock().unwrap())
    }
}

impl<T: QueueMessage + Clone + Send + Sync> Queue<T> for Recorded<T> {
    async fn send(&self, items: &[T]) -> Result<(), QueueError> {
        self.offered.lock().unwrap().extend_from_slice(items);
        self.queue.send(items).await
    }
}

/// The shipped desk, answering at once: the quiet period has tests of its own.
fn shipped_desk() -> Desk {
    desk_with_quiet_period(0)
}

/// The shipped desk with a quiet period of `ms` before each answer.
fn desk_with_quiet_period(ms: u64) -> Desk {
    let shipped = "quiet_period_ms = 3000";
    assert!(
        EMBEDDED_CONFIG.contains(shipped),
        "the shipped desk changed its quiet period"
    );
    let text = EMBEDDED_CONFIG.replace(shipped, &format!("quiet_period_ms = {ms}"));
    Desk::from_toml(&text, &Catalog::builtin()).unwrap()
}

/// The shipped desk with an order source, so the bot looks orders up itself.
fn desk_with_order_source() -> Desk {
    let shipped_source = "[order_lookup.source]\nkind = \"none\"";
    assert!(
        EMBEDDED_CONFIG.contains(shipped_source),
        "the shipped desk changed its order source"
    );
    let text = EMBEDDED_CONFIG
        .replace(
            shipped_source,
            "[order_lookup.source]\nkind = \"http\"\nurl = \"http://orders.invalid/{order}\"",
        )
        .replace("quiet_period_ms = 3000", "quiet_period_ms = 0");
    Desk::from_toml(&text, &Catalog::builtin()).unwrap()
}

fn english(key: &str, args: &[(&str, Arg)]) -> String {
    Catalog::builtin().text(Lang::En, key, args)
}

// ----------------------------------------------------------------- messages

fn message(customer: &str, wamid: &str, body: Value) -> InboundEvent {
    InboundEvent::Message(InboundMessage {
        business: BusinessNumber {
            phone_number_id: BUSINESS.into(),
            display_phone_number: Some("15550000001".into()),
        },
        waba_id: Some("200000000000001".into()),
        customer: Some(CustomerId::parse(customer).unwrap()),
        sender: helpdesk::domain::identity::Sender {
            phone: helpdesk::domain::identity::Phone::parse(customer).ok(),
            ..Default::default()
        },
        identity_errors: Vec::new(),
        contact_name: Some("Ana".into()),
        wamid: wamid.into(),
        timestamp: 1_795_950_000,
        message_type: body["type"].as_str().unwrap().into(),
        message: body,
    })
}

fn text(customer: &str, wamid: &str, body: &str) -> InboundEvent {
    message(customer, wamid, json!({"type": "text", "text": {"body": body}}))
}

/// A batch as Lambda delivers it from `inbound.fifo`: group and dedupe id as the webhook set them.
fn batch(events: &[InboundEvent]) -> LambdaEvent<SqsEvent> {
    let mut event = SqsEvent::default();
    event.records = events
        .iter()
        .map(|e| {
            let mut record = SqsMessage::default();
            record.message_id = Some(format!("msg-{}", e.dedupe_key()));
            record.body = Some(serde_json::to_string(e).unwrap());
            record.attributes.insert("MessageGroupId".into(), e.group_key());
            record
                .attributes
                .insert("MessageDeduplicationId".into(), e.dedupe_key());
            record.attributes.insert("ApproximateReceiveCount".into(), "1".into());
            record
        })
        .collect();
    LambdaEvent::new(event, Context::default())
}

/// The batch `sam local invoke -e events/bot-inbound.json` delivers.
fn sam_local_event() -> LambdaEvent<SqsEvent> {
    let event: SqsEvent = serde_json::from_str(include_str!("../../../events/bot-inbound.json")).unwrap();
    LambdaEvent::new(event, Context::default())
}

fn failed(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

fn text_of(reply: &OutboundRequest) -> String {
    match &reply.body {
        OutboundBody::Template { name, .. } => name.clone(),
        other => other.visible_text().unwrap_or_default().to_owned(),
    }
}

fn dedupe_keys<T: QueueMessage>(items: &[T]) -> Vec<String> {
    items.iter().map(QueueMessage::dedupe_key).collect()
}

// -------------------------------------------------------------------- tests

#[tokio::test]
async fn the_sam_local_event_greets_a_new_customer_from_the_number_they_wrote_to_after_passing_the_status_on() {
    // Arrange
    let ports = Ports::new();
    let bot = ports.bot();

    // Act
    let response = bot.handle(sam_local_event()).await.unwrap();

    // Assert
    assert!(failed(&response).is_empty(), "{response:?}");
    let commands = ports.tickets.sent();
    let names: Vec<&str> = commands.iter().map(TicketCommand::name).collect();
    assert_eq!(names, ["record_status", "record_inbound", "set_customer_language"]);
    let TicketCommand::RecordStatus(RecordStatus {
        wamid, status, at_ms, ..
    }) = &commands[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (wamid.as_str(), status.as_str(), *at_ms),
        ("wamid.OUTBOUND-EXAMPLE-1", "delivered", 1_795_237_205_000)
    );
    let TicketCommand::RecordInbound(inbound) = &commands[1] else {
        unreachable!()
    };
    assert_eq!(
        inbound.customer.as_str(),
        "US.13491208655302741918",
        "keyed by the business-scoped id"
    );
    assert_eq!(inbound.contact_name.as_deref(), Some("Ana Souza"));
    assert_eq!(inbound.at_ms, 1_795_237_200_000);
    let TicketCommand::SetCustomerLanguage(SetCustomerLanguage { language, .. }) = &commands[2] else {
        unreachable!()
    };
    assert_eq!(language, "en");

    let replies = ports.outbound.sent();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].phone_number_id, BUSINESS);
    assert_eq!(replies[0].customer.as_str(), "US.13491208655302741918");
    assert_eq!(replies[0].ticket_id, inbound.ticket_id);
    assert_eq!(
        text_of(&replies[0]),
        english("greeting", &[("name", "Ana Souza".into())])
    );

    let conversations = ports.store.conversations();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].ticket_id.as_ref(), Some(&inbound.ticket_id));
    assert!(conversations[0].has_seen(&inbound.wamid));
    assert!(ports.media.sent().is_empty());
}

#[tokio::test]
async fn the_same_batch_redelivered_sends_nothing_new() {
    // Arrange
    let ports = Ports::new();
    let tickets = Recorded::around(&ports.tickets);
    let outbound = Recorded::around(&ports.outbound);
    let bot = ports.recorded_bot(&tickets, &outbound);
    bot.handle(sam_local_event()).await.unwrap();
    let (commands_before, replies_before) = (ports.tickets.sent(), ports.outbound.sent());
    let conversation_before = ports.store.conversations();
    tickets.take_offered();
    outbound.take_offered();

    // Act
    ports.clock.advance(REDELIVERY_DELAY_MS);
    let response = bot.handle(sam_local_event()).await.unwrap();

    // Assert: the message is skipped (its wamid is remembered); only the status passes through again.
    assert!(failed(&response).is_empty(), "{response:?}");
    let offered: Vec<&str> = tickets.take_offered().iter().map(TicketCommand::name).collect();
    assert_eq!(offered, ["record_status"]);
    assert!(outbound.take_offered().is_empty());
    assert_eq!(ports.tickets.sent(), commands_before);
    assert_eq!(ports.outbound.sent(), replies_before);
    assert_eq!(ports.store.conversations(), conversation_before);
}

#[tokio::test]
async fn three_messages_of_one_customer_in_one_batch_get_one_reply() {
    // Arrange
    let ports = Ports::new();
    let bot = ports.bot();
    let burst = [
        text("15551230002", "wamid.B1", "hello"),
        text("15551230002", "wamid.B2", "my parcel"),
        text("15551230002", "wamid.B3", "where is my order"),
    ];

    // Act
    let response = bot.handle(batch(&burst)).await.unwrap();

    // Assert
    assert!(failed(&response).is_empty(), "{response:?}");
    assert_eq!(
        ports.told("15551230002"),
        [english("ask-order-number", &[("example", "#12345".into())])]
    );
    let recorded: Vec<(String, String)> = ports
        .tickets
        .sent()
        .iter()
        .filter_map(|c| match c {
            TicketCommand::RecordInbound(RecordInbound { ticket_id, wamid, .. }) => {
                Some((ticket_id.to_string(), wamid.clone()))
            }
            _ => None,
        })
        .collect();
    let ticket = recorded[0].0.clone();
    assert_eq!(
        recorded,
        [
            (ticket.clone(), "wamid.B1".to_owned()),
            (ticket.clone(), "wamid.B2".to_owned()),
            (ticket, "wamid.B3".to_owned()),
        ]
    );
    let conversation = &ports.store.conversations()[0];
    assert!(
        ["wamid.B1", "wamid.B2", "wamid.B3"]
            .iter()
            .all(|w| conversation.has_seen(w))
    );
}

#[tokio::test]
async fn a_customer_asking_for_an_agent_is_escalated_and_the_bot_stays_silent_while_a_human_owns_the_ticket() {
    // Arrange
    let ports = Ports::new();
    let bot = ports.bot();
    let customer = "15551230003";

    // Act: the customer asks for a person.
    bot.handle(batch(&[text(customer, "wamid.C1", "I want to talk to a human please")]))
        .await
        .unwrap();

    // Assert: escalated with the trigger, and told who answers and when.
    let escalation = ports
        .tickets
        .sent()
        .into_iter()
        .find_map(|c| match c {
            TicketCommand::Escalate(e) => Some(e),
            _ => None,
        })
        .expect("an escalation");
    let Escalate {
        ticket_id,
        trigger,
        team,
        cause,
        ..
    } = &escalation;
    assert_eq!(
        (trigger.as_str(), team.as_str(), cause.as_str()),
        ("direct_request", "support", "wamid.C1")
    );
    let handoff = english("handoff", &[("team", "support".into()), ("wait", "30 minutes".into())]);
    assert_eq!(ports.told(customer), [handoff.as_str()]);

    // Arrange: the tickets function queued the ticket for the support team.
    let mut queued = Ticket::open(
        ticket_id.clone(),
        CustomerId::parse(customer).unwrap(),
        BUSINESS.into(),
        "support".into(),
        escalation.at_ms,
    );
    queued.status = TicketStatus::Queued;
    ports.store.save_ticket(&queued, None, &[]).await.unwrap();
    ports.tickets.take();

    // Act: the customer writes while waiting.
    ports.clock.advance(5 * 60_000);
    let response = bot
        .handle(batch(&[text(customer, "wamid.C2", "hello? is anyone there")]))
        .await
        .unwrap();

    // Assert: recorded for the agent, nothing said, nothing escalated again.
    assert!(failed(&response).is_empty(), "{response:?}");
    assert_eq!(ports.told(customer), [handoff]);
    assert_eq!(ports.commands_for(customer), ["record_inbound"]);
    let conversation = &ports.store.conversations()[0];
    assert_eq!(conversation.mode, Mode::Human);
    assert!(conversation.has_seen("wamid.C2"));
}

#[tokio::test]
async fn an_order_number_is_looked_up_and_its_status_answered() {
    // Arrange
    let mut ports = Ports::new();
    ports.orders = MemoryOrders::default().with("AB-1234", "shipped, arriving Thursday");
    let bot = ports.bot_with(desk_with_order_source());
    let customer = "15551230004";
    bot.handle(batch(&[text(customer, "wamid.D1", "where is my order")]))
        .await
        .unwrap();

    // Act
    let response = bot
        .handle(batch(&[text(customer, "wamid.D2", "#ab-1234")]))
        .await
        .unwrap();

    // Assert
    assert!(failed(&response).is_empty(), "{response:?}");
    let told = ports.told(customer);
    assert_eq!(told.len(), 2, "the question, then the status above the menu: {told:?}");
    assert_eq!(
        told[1],
        english(
            "order-status",
            &[
                ("order", "AB-1234".into()),
                ("status", "shipped, arriving Thursday".into())
            ]
        )
    );
    assert!(!ports.commands_for(customer).contains(&"escalate"));
    assert_eq!(ports.store.conversations()[0].order_number.as_deref(), Some("AB-1234"));
}

#[tokio::test]
async fn an_unavailable_order_source_gets_the_apology_and_the_menu() {
    // Arrange
    let ports = Ports::new();
    ports.orders.set_unavailable(true);
    let bot = ports.bot_with(desk_with_order_source());
    let customer = "15551230005";
    bot.handle(batch(&[text(customer, "wamid.E1", "where is my order")]))
        .await
        .unwrap();

    // Act
    let response = bot
        .handle(batch(&[text(customer, "wamid.E2", "AB-1234")]))
        .await
        .unwrap();

    // Assert
    assert!(failed(&response).is_empty(), "{response:?}");
    let replies = ports.outbound.sent();
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert_eq!(text_of(&replies[1]), english("order-source-down", &[]));
    assert!(
        matches!(replies[1].body, OutboundBody::List { .. }),
        "the menu comes with it"
    );
    assert!(!ports.commands_for(customer).contains(&"escalate"));
}

#[tokio::test]
async fn a_photo_is_handed_to_the_media_queue_which_may_answer_while_the_bot_owns_the_conversation() {
    // Arrange
    let ports = Ports::new();
    let bot = ports.bot();
    let customer = "15551230006";
    let photo = message(
        customer,
        "wamid.F1",
        json!({"type": "image", "image": {"id": "MEDIA-F1", "mime_type": "image/jpeg", "sha256": "abc"}}),
    );

    // Act
    let response = bot.handle(batch(&[photo])).await.unwrap();

    // Assert
    assert!(failed(&response).is_empty(), "{response:?}");
    let jobs = ports.media.sent();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(
        (
            job.media_id.as_str(),
            job.claimed_mime.as_str(),
            job.message_type.as_str()
        ),
        ("MEDIA-F1", "image/jpeg", "image")
    );
    assert_eq!(
        (job.wamid.as_str(), job.phone_number_id.as_str()),
        ("wamid.F1", BUSINESS)
    );
    assert!(job.answers_turn);
    assert_eq!(Some(&job.ticket_id), ports.store.conversations()[0].ticket_id.as_ref());
    assert!(
        ports.told(customer).is_empty(),
        "the media function answers once it checked the file"
    );
    assert_eq!(ports.commands_for(customer), ["record_inbound"]);
}

#[tokio::test]
async fn a_store_failure_reports_the_whole_message_group_and_saves_nothing_while_another_customer_is_answered() {
    // Arrange
    let ports = Ports::new();
    let bot = ports.bot();
    let events = [
        text("15551230007", "wamid.G1", "hi"),
        text("15551230008", "wamid.H1", "hello"),
        text("15551230007", "wamid.G2", "are you there?"),
    ];
    ports.store.fail_next(1);

    // Act
    let response = bot.handle(batch(&events)).await.unwrap();

    // Assert
    assert_eq!(failed(&response), ["msg-wamid.G1", "msg-wamid.G2"]);
    assert!(ports.told("15551230007").is_empty());
    assert!(ports.commands_for("15551230007").is_empty());
    assert_eq!(
        ports.told("15551230008"),
        [english("greeting", &[("name", "Ana".into())])]
    );
    let saved: Vec<String> = ports
        .store
        .conversations()
        .iter()
        .map(|c| c.customer.as_str().to_owned())
        .collect();
    assert_eq!(saved, ["15551230008"]);
}

#[tokio::test]
async fn a_queue_failure_leaves_the_conversation_unsaved_so_the_redelivery_sends_the_same_decision_again() {
    // Arrange: a customer the bot already greeted.
    let ports = Ports::new();
    let tickets = Recorded::around(&ports.tickets);
    let outbound = Recorded::around(&ports.outbound);
    let bot = ports.recorded_bot(&tickets, &outbound);
    let customer = "15551230009";
    bot.handle(batch(&[text(customer, "wamid.J1", "hi")])).await.unwrap();
    tickets.take_offered();
    outbound.take_offered();
    let greeted = ports.store.conversations()[0].clone();
    let asking = [text(customer, "wamid.J2", "where is my order")];

    // Act: the reply cannot be queued; SQS hands the message back after the visibility timeout.
    ports.outbound.fail_next(1);
    ports.clock.advance(1_000);
    let first = bot.handle(batch(&asking)).await.unwrap();
    let unsaved = ports.store.conversations()[0].clone();
    let (first_commands, first_replies) = (tickets.take_offered(), outbound.take_offered());
    ports.clock.advance(REDELIVERY_DELAY_MS);
    let second = bot.handle(batch(&asking)).await.unwrap();
    let (second_commands, second_replies) = (tickets.take_offered(), outbound.take_offered());

    // Assert
    assert_eq!(failed(&first), ["msg-wamid.J2"]);
    assert_eq!(unsaved, greeted, "nothing saved while the reply was not queued");
    assert!(failed(&second).is_empty(), "{second:?}");
    assert!(!first_commands.is_empty() && !first_replies.is_empty());
    assert_eq!(dedupe_keys(&second_commands), dedupe_keys(&first_commands));
    assert_eq!(second_replies, first_replies);
    assert_eq!(
        ports.told(customer)[1..],
        [english("ask-order-number", &[("example", "#12345".into())])]
    );
    assert_eq!(
        ports.commands_for(customer),
        ["record_inbound", "set_customer_language", "record_inbound"]
    );
    assert!(ports.store.conversations()[0].has_seen("wamid.J2"));
}

#[tokio::test]
async fn a_first_message_redelivered_after_a_queue_failure_sets_the_customer_language_once() {
    // Arrange
    let ports = Ports::new();
    let tickets = Recorded::around(&ports.tickets);
    let outbound = Recorded::around(&ports.outbound);
    let bot = ports.recorded_bot(&tickets, &outbound);
    let customer = "15551230010";
    let greeting = [text(customer, "wamid.K1", "hello")];
    ports.outbound.fail_next(1);

    // Act
    let first = bot.handle(batch(&greeting)).await.unwrap();
    ports.clock.advance(REDELIVERY_DELAY_MS);
    let second = bot.handle(batch(&greeting)).await.unwrap();

    // Assert
    assert_eq!(failed(&first), ["msg-wamid.K1"]);
    assert!(failed(&second).is_empty(), "{second:?}");
    let offered = tickets.take_offered();
    let (first_commands, second_commands) = offered.split_at(offered.len() / 2);
    assert_eq!(dedupe_keys(second_commands), dedupe_keys(first_commands));
    assert_eq!(
        ports.commands_for(customer),
        ["record_inbound", "set_customer_language"]
    );
}

// ------------------------------------------------------------ WhatsApp 2026

const BSUID: &str = "US.13491208655302741918";

fn sender(phone: Option<&str>, user: Option<&str>) -> Sender {
    Sender {
        phone: phone.map(|p| Phone::parse(p).unwrap()),
        user_id: user.map(|u| UserId::parse(u).unwrap()),
        ..Sender::default()
    }
}

/// A message as a 2026 webhook reads it, to `business`.
fn message_from(from: Sender, business: &str, wamid: &str, body: Value) -> InboundEvent {
    InboundEvent::Message(InboundMessage {
        business: BusinessNumber {
            phone_number_id: business.into(),
            display_phone_number: None,
        },
        waba_id: None,
        customer: from.first_key(),
        sender: from,
        identity_errors: Vec::new(),
        contact_name: Some("Ana".into()),
        wamid: wamid.into(),
        timestamp: 1_795_950_000,
        message_type: body["type"].as_str().unwrap().into(),
        message: body,
    })
}

fn said(from: Sender, wamid: &str, body: &str) -> InboundEvent {
    message_from(from, BUSINESS, wamid, json!({"type": "text", "text": {"body": body}}))
}

fn customer_key(s: &str) -> CustomerId {
    CustomerId::parse(s).unwrap()
}

#[tokio::test]
async fn a_person_who_hides_their_phone_stays_one_customer_with_one_conversation() {
    let ports = Ports::new();
    let bot = ports.bot();

    bot.handle(batch(&[said(
        sender(Some("15551230001"), Some(BSUID)),
        "wamid.A1",
        "hello",
    )]))
    .await
    .unwrap();
    bot.handle(batch(&[said(
        sender(None, Some(BSUID)),
        "wamid.A2",
        "talk to an agent",
    )]))
    .await
    .unwrap();

    let conversations = ports.store.conversations();
    assert_eq!(conversations.len(), 1, "one conversation: {conversations:?}");
    assert_eq!(conversations[0].customer, customer_key(BSUID));
    let tickets: std::collections::HashSet<String> = ports
        .tickets
        .sent()
        .iter()
        .filter_map(|c| match c {
            TicketCommand::RecordInbound(r) => Some(r.ticket_id.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(tickets.len(), 1, "both messages on one ticket");
    let identity = ports.store.identity(&customer_key(BSUID)).await.unwrap().unwrap();
    assert_eq!(
        identity.phone,
        Phone::parse("15551230001").ok(),
        "the phone is kept once hidden"
    );
    assert_eq!(
        ports
            .store
            .owner(&Handle::Phone(Phone::parse("15551230001").unwrap()))
            .await
            .unwrap(),
        Some(customer_key(BSUID))
    );
}

#[tokio::test]
async fn a_customer_stored_under_their_phone_keeps_their_conversation_when_their_bsuid_appears() {
    let ports = Ports::new();
    let bot = ports.bot();
    // Before 2026 payloads the customer was keyed by their phone.
    bot.handle(batch(&[said(sender(Some("15551230001"), None), "wamid.L1", "hello")]))
        .await
        .unwrap();

    bot.handle(batch(&[said(
        sender(Some("15551230001"), Some(BSUID)),
        "wamid.L2",
        "talk to an agent",
    )]))
    .await
    .unwrap();

    let conversations = ports.store.conversations();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].customer, customer_key("15551230001"));
    assert_eq!(
        ports
            .store
            .owner(&Handle::User(UserId::parse(BSUID).unwrap()))
            .await
            .unwrap(),
        Some(customer_key("15551230001")),
        "the BSUID is linked to the customer, not made a second one"
    );
}

#[tokio::test]
async fn a_customer_stored_before_the_identity_map_keeps_their_phone_key() {
    let ports = Ports::new();
    let bot = ports.bot();
    // Data from before identities were kept: a conversation under the phone, no link.
    let mut old = Conversation::new(customer_key("15551230001"), BUSINESS);
    old.remember("wamid.OLD");
    ports.store.save_conversation(&old).await.unwrap();

    bot.handle(batch(&[said(
        sender(Some("15551230001"), Some(BSUID)),
        "wamid.M1",
        "hello",
    )]))
    .await
    .unwrap();

    let conversations = ports.store.conversations();
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    assert_eq!(conversations[0].customer, customer_key("15551230001"));
    assert!(
        conversations[0].has_seen("wamid.OLD"),
        "the same conversation carries on"
    );
    for handle in [
        Handle::User(UserId::parse(BSUID).unwrap()),
        Handle::Phone(Phone::parse("15551230001").unwrap()),
    ] {
        assert_eq!(
            ports.store.owner(&handle).await.unwrap(),
            Some(customer_key("15551230001"))
        );
    }
}

#[tokio::test]
async fn a_phone_made_vip_before_it_ever_wrote_is_that_customer_when_they_write() {
    let ports = Ports::new();
    let bot = ports.bot();
    let mut profile = CustomerProfile::new(customer_key("15551230001"), 1_000);
    profile.tier = CustomerTier::Vip;
    ports.store.save_profile(&profile).await.unwrap();

    bot.handle(batch(&[said(
        sender(Some("15551230001"), Some(BSUID)),
        "wamid.V1",
        "hello",
    )]))
    .await
    .unwrap();

    let escalations: Vec<(String, String)> = ports
        .tickets
        .sent()
        .into_iter()
        .filter_map(|c| match c {
            TicketCommand::Escalate(e) => Some((e.customer.as_str().to_owned(), e.trigger)),
            _ => None,
        })
        .collect();
    assert_eq!(
        escalations,
        [("15551230001".to_owned(), "vip".to_owned())],
        "the VIP goes straight to an agent, as the customer the tier was set on"
    );
}

#[tokio::test]
async fn a_bsuid_of_the_documented_maximum_length_gets_the_menu() {
    let ports = Ports::new();
    let bot = ports.bot();
    let longest = format!("BR.{}", "7k".repeat(64));

    bot.handle(batch(&[said(sender(None, Some(&longest)), "wamid.M1", "hi")]))
        .await
        .unwrap();

    assert_eq!(ports.told(&longest), [english("greeting", &[("name", "Ana".into())])]);
}

#[tokio::test]
async fn a_message_naming_nobody_is_kept_for_admins_with_its_payload() {
    let ports = Ports::new();
    let bot = ports.bot();
    let nobody = message_from(
        Sender::default(),
        BUSINESS,
        "wamid.N1",
        json!({"type": "text", "text": {"body": "hi"}}),
    );

    let response = bot.handle(batch(&[nobody])).await.unwrap();

    assert!(failed(&response).is_empty());
    let kept = ports.store.unattributed("2026-01-01", "2026-12-31").await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].wamid, "wamid.N1");
    assert_eq!(kept[0].raw["text"]["body"], "hi");
    assert!(kept[0].reason.contains("no phone number and no WhatsApp user id"));
    assert!(ports.outbound.sent().is_empty() && ports.tickets.sent().is_empty());
}

#[tokio::test]
async fn two_business_numbers_keep_two_conversations_and_replies_leave_from_each() {
    let ports = Ports::new();
    let bot = ports.bot();
    let ana = sender(Some("15551230001"), Some(BSUID));

    bot.handle(batch(&[message_from(
        ana.clone(),
        BUSINESS,
        "wamid.B1",
        json!({"type": "text", "text": {"body": "hi"}}),
    )]))
    .await
    .unwrap();
    bot.handle(batch(&[message_from(
        ana,
        "100000000000002",
        "wamid.B2",
        json!({"type": "text", "text": {"body": "hi"}}),
    )]))
    .await
    .unwrap();

    let mut numbers: Vec<String> = ports
        .store
        .conversations()
        .into_iter()
        .map(|c| c.phone_number_id)
        .collect();
    numbers.sort();
    assert_eq!(numbers, [BUSINESS, "100000000000002"]);
    let from: Vec<String> = ports.outbound.sent().into_iter().map(|r| r.phone_number_id).collect();
    assert_eq!(from, [BUSINESS, "100000000000002"]);
    let tickets: std::collections::HashSet<String> = ports
        .outbound
        .sent()
        .into_iter()
        .map(|r| r.ticket_id.to_string())
        .collect();
    assert_eq!(tickets.len(), 2, "a ticket per number");
    assert_eq!(ports.store.identities().len(), 1, "one customer");
}

#[tokio::test]
async fn a_burst_over_several_batches_gets_one_answer_after_the_quiet_period_with_typing_meanwhile() {
    let ports = Ports::new();
    let bot = ports.bot_with(desk_with_quiet_period(3_000));
    let ana = sender(Some("15551230001"), Some(BSUID));

    for (n, line) in ["hi", "my order", "is late"].iter().enumerate() {
        bot.handle(batch(&[said(ana.clone(), &format!("wamid.T{n}"), line)]))
            .await
            .unwrap();
        ports.clock.advance(1_000);
    }

    // Nothing answered yet; the customer sees "typing…" for the latest line.
    let typing: Vec<OutboundRequest> = ports.outbound.take();
    assert_eq!(typing.len(), 3);
    assert!(
        typing
            .iter()
            .all(|r| matches!(r.body, OutboundBody::MarkRead { typing: true, .. }))
    );
    assert!(
        ports.tickets.sent().is_empty(),
        "kept on the conversation until the answer"
    );
    let turns = ports.turns.take();
    assert_eq!(turns.len(), 3);
    assert!(turns.iter().all(|(_, delay)| delay.as_millis() == 3_000));

    // The first two turns are superseded; the last answers all three lines once.
    for (turn, _) in turns {
        bot.process(vec![turn]).await.unwrap();
    }
    let answers = ports.outbound.sent();
    assert_eq!(answers.len(), 1, "{answers:?}");
    let recorded = ports
        .tickets
        .sent()
        .iter()
        .filter(|c| matches!(c, TicketCommand::RecordInbound(_)))
        .count();
    assert_eq!(recorded, 3);
    let conversation = ports
        .store
        .conversation(&customer_key(BSUID), BUSINESS)
        .await
        .unwrap()
        .unwrap();
    assert!(conversation.pending.is_empty());
}

/// An outbound queue that, when the first answer (not a typing indicator)
/// goes out, lets another delivery of the bot take in a message first: a
/// customer writing again while their turn is being answered.
#[derive(Clone)]
struct WritesDuringTheAnswer {
    queue: MemoryQueue<OutboundRequest>,
    other: Arc<MemoryBot<MemoryQueue<TicketCommand>, MemoryQueue<OutboundRequest>>>,
    message: Arc<Mutex<Option<InboundEvent>>>,
}

impl Queue<OutboundRequest> for WritesDuringTheAnswer {
    async fn send(&self, items: &[OutboundRequest]) -> Result<(), QueueError> {
        let answering = items.iter().any(|r| r.body.is_message());
        let message = if answering {
            self.message.lock().unwrap().take()
        } else {
            None
        };
        if let Some(message) = message {
            self.other.process(vec![message]).await.unwrap();
        }
        self.queue.send(items).await
    }
}

#[tokio::test]
async fn a_message_arriving_while_its_turn_is_answered_waits_for_its_own_turn_and_nothing_is_answered_twice() {
    let ports = Ports::new();
    let desk = || desk_with_quiet_period(3_000);
    let other = Arc::new(ports.bot_with(desk()));
    let ana = sender(Some("15551230001"), Some(BSUID));
    let outbound = WritesDuringTheAnswer {
        queue: ports.outbound.clone(),
        other,
        message: Arc::new(Mutex::new(Some(said(ana.clone(), "wamid.R2", "talk to an agent")))),
    };
    let bot = ports.bot_over(ports.tickets.clone(), outbound, desk());
    bot.handle(batch(&[said(ana.clone(), "wamid.R1", "hello")]))
        .await
        .unwrap();
    let (first_turn, _) = ports.turns.take().remove(0);

    bot.process(vec![first_turn]).await.unwrap();

    let conversation = ports
        .store
        .conversation(&customer_key(BSUID), BUSINESS)
        .await
        .unwrap()
        .unwrap();
    let waiting: Vec<&str> = conversation.pending.iter().map(|m| m.wamid.as_str()).collect();
    assert_eq!(waiting, ["wamid.R2"], "the new message waits; the answered one is gone");
    for (turn, _) in ports.turns.take() {
        bot.process(vec![turn]).await.unwrap();
    }
    let answers: Vec<String> = ports
        .outbound
        .sent()
        .iter()
        .filter(|r| r.body.is_message())
        .map(text_of)
        .collect();
    assert_eq!(answers.len(), 2, "one answer per turn: {answers:?}");
    assert_eq!(answers[0], english("greeting", &[("name", "Ana".into())]));
    let escalated_by: Vec<String> = ports
        .tickets
        .sent()
        .iter()
        .filter_map(|c| match c {
            TicketCommand::Escalate(e) => Some(e.cause.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        escalated_by,
        ["wamid.R2"],
        "the second turn answered the second message"
    );
    let recorded: Vec<String> = ports
        .tickets
        .sent()
        .iter()
        .filter_map(|c| match c {
            TicketCommand::RecordInbound(r) => Some(r.wamid.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(recorded, ["wamid.R1", "wamid.R2"], "each message recorded once");
}

#[tokio::test]
async fn a_turn_that_fell_due_twice_answers_once() {
    let ports = Ports::new();
    let bot = ports.bot_with(desk_with_quiet_period(3_000));
    bot.handle(batch(&[said(sender(Some("15551230001"), None), "wamid.D1", "hi")]))
        .await
        .unwrap();
    let due = InboundEvent::TurnDue(TurnDue {
        customer: customer_key("15551230001"),
        phone_number_id: BUSINESS.into(),
        last_wamid: "wamid.D1".into(),
    });

    bot.process(vec![due.clone()]).await.unwrap();
    bot.process(vec![due]).await.unwrap();

    let answers: Vec<_> = ports
        .outbound
        .sent()
        .into_iter()
        .filter(|r| r.body.is_message())
        .collect();
    assert_eq!(answers.len(), 1);
}

#[tokio::test]
async fn an_echo_of_the_business_app_goes_on_the_ticket_and_the_bot_stays_silent() {
    let ports = Ports::new();
    let bot = ports.bot_with(desk_with_quiet_period(3_000));
    let echo = InboundEvent::Echo(helpdesk::domain::inbound::EchoMessage {
        business: BusinessNumber {
            phone_number_id: BUSINESS.into(),
            display_phone_number: None,
        },
        waba_id: None,
        to: sender(Some("15551230001"), None),
        wamid: "wamid.ECHO1".into(),
        timestamp: 1_795_950_000,
        message_type: "text".into(),
        message: json!({"type": "text", "text": {"body": "Your parcel left today"}}),
    });

    bot.handle(batch(&[echo])).await.unwrap();

    assert!(
        matches!(&ports.tickets.sent()[..], [TicketCommand::RecordEcho(e)] if e.summary == "Your parcel left today")
    );
    assert!(ports.outbound.sent().is_empty(), "no answer, no typing");
    assert!(ports.turns.sent().is_empty());
}

#[tokio::test]
async fn an_echo_right_after_the_bot_opened_a_ticket_joins_that_ticket_not_yet_stored() {
    use helpdesk::domain::conversation::Conversation;
    use helpdesk::domain::ids::{CustomerId, TicketId};
    use helpdesk::ports::ConversationStore;
    let ports = Ports::new();
    let bot = ports.bot_with(desk_with_quiet_period(3_000));
    let mut conversation = Conversation::new(CustomerId::parse("15551230001").unwrap(), BUSINESS);
    conversation.start_ticket(TicketId::parse("TK-OPENING").unwrap());
    ports.store.save_conversation(&conversation).await.unwrap();
    let echo = InboundEvent::Echo(helpdesk::domain::inbound::EchoMessage {
        business: BusinessNumber {
            phone_number_id: BUSINESS.into(),
            display_phone_number: None,
        },
        waba_id: None,
        to: sender(Some("15551230001"), None),
        wamid: "wamid.ECHO2".into(),
        timestamp: 1_795_950_000,
        message_type: "text".into(),
        message: json!({"type": "text", "text": {"body": "We are on it"}}),
    });

    bot.handle(batch(&[echo])).await.unwrap();

    assert!(
        matches!(&ports.tickets.sent()[..], [TicketCommand::RecordEcho(e)] if e.ticket_id.as_str() == "TK-OPENING"),
        "{:?}",
        ports.tickets.sent()
    );
}

#[tokio::test]
async fn an_echo_that_names_no_recipient_is_kept_for_admins() {
    let ports = Ports::new();
    let bot = ports.bot();
    let echo = InboundEvent::Echo(helpdesk::domain::inbound::EchoMessage {
        business: BusinessNumber {
            phone_number_id: BUSINESS.into(),
            display_phone_number: None,
        },
        waba_id: None,
        to: Sender::default(),
        wamid: "wamid.ECHO-NOBODY".into(),
        timestamp: 1_795_950_000,
        message_type: "text".into(),
        message: json!({"type": "text", "text": {"body": "Your parcel left today"}}),
    });

    bot.handle(batch(&[echo])).await.unwrap();

    let kept = ports.store.unattributed_messages();
    assert!(
        matches!(&kept[..], [k] if k.wamid == "wamid.ECHO-NOBODY" && k.raw["text"]["body"] == "Your parcel left today")
    );
    assert!(ports.tickets.sent().is_empty() && ports.outbound.sent().is_empty());
}

#[tokio::test]
async fn a_refund_for_a_customer_known_only_by_their_user_id_asks_for_their_phone_in_the_handoff() {
    let ports = Ports::new();
    let bot = ports.bot();

    bot.handle(batch(&[said(sender(None, Some(BSUID)), "wamid.R1", "I want a refund")]))
        .await
        .unwrap();

    let replies = ports.outbound.sent();
    assert_eq!(replies.len(), 1, "one message: the handoff and the request");
    let OutboundBody::RequestContactInfo { body } = &replies[0].body else {
        panic!("{:?}", replies[0].body)
    };
    assert!(body.contains(&english("contact-request", &[])), "{body}");
}

#[tokio::test]
async fn a_shared_phone_number_joins_the_customers_identity() {
    let ports = Ports::new();
    let bot = ports.bot();
    let shared = message_from(
        sender(None, Some(BSUID)),
        BUSINESS,
        "wamid.S1",
        json!({"type": "contacts", "contacts": [{"origin": "contact_request",
            "phones": [{"phone": "+1 555 123 0001", "wa_id": "15551230001", "type": "CELL"}]}]}),
    );

    bot.handle(batch(&[shared])).await.unwrap();

    let identity = ports.store.identity(&customer_key(BSUID)).await.unwrap().unwrap();
    assert_eq!(identity.phone, Phone::parse("15551230001").ok());
    assert_eq!(
        ports
            .store
            .owner(&Handle::Phone(Phone::parse("15551230001").unwrap()))
            .await
            .unwrap(),
        Some(customer_key(BSUID))
    );
}

#[tokio::test]
async fn a_changed_phone_number_keeps_the_customer_and_links_the_new_number() {
    let ports = Ports::new();
    let bot = ports.bot();
    bot.handle(batch(&[said(
        sender(Some("15551230001"), Some(BSUID)),
        "wamid.C1",
        "hi",
    )]))
    .await
    .unwrap();
    let changed = message_from(
        sender(Some("15551230001"), Some(BSUID)),
        BUSINESS,
        "wamid.C2",
        json!({"type": "system", "system": {"body": "User changed their number", "wa_id": "15559990001", "type": "user_changed_number"}}),
    );

    bot.handle(batch(&[changed])).await.unwrap();

    let identity = ports.store.identity(&customer_key(BSUID)).await.unwrap().unwrap();
    assert_eq!(identity.phone, Phone::parse("15559990001").ok());
    assert_eq!(ports.store.conversations().len(), 1);
}

#[tokio::test]
async fn a_changed_user_id_keeps_the_customer_and_their_next_message_under_the_new_id_joins_them() {
    let ports = Ports::new();
    let bot = ports.bot();
    bot.handle(batch(&[said(sender(None, Some(BSUID)), "wamid.U1", "hi")]))
        .await
        .unwrap();
    let changed = message_from(
        sender(None, Some(BSUID)),
        BUSINESS,
        "wamid.U2",
        json!({"type": "system", "system": {"body": "User changed their id", "user_id": "US.777", "type": "user_changed_user_id"}}),
    );

    bot.handle(batch(&[changed])).await.unwrap();
    bot.handle(batch(&[said(
        sender(None, Some("US.777")),
        "wamid.U3",
        "talk to an agent",
    )]))
    .await
    .unwrap();

    let identity = ports.store.identity(&customer_key(BSUID)).await.unwrap().unwrap();
    assert_eq!(
        identity.user_id,
        UserId::parse("US.777").ok(),
        "replies go to the new id"
    );
    assert_eq!(
        ports
            .store
            .owner(&Handle::User(UserId::parse("US.777").unwrap()))
            .await
            .unwrap(),
        Some(customer_key(BSUID))
    );
    assert_eq!(ports.store.conversations().len(), 1, "one conversation, one ticket");
}

#[tokio::test]
async fn a_parent_id_shared_across_portfolios_leads_to_the_same_customer() {
    let ports = Ports::new();
    let bot = ports.bot();
    let with_parent = |user: &str| Sender {
        user_id: UserId::parse(user).ok(),
        parent_user_id: ParentUserId::parse("US.ENT.42").ok(),
        ..Sender::default()
    };
    bot.handle(batch(&[said(with_parent("US.111"), "wamid.P1", "hi")]))
        .await
        .unwrap();

    bot.handle(batch(&[said(with_parent("US.222"), "wamid.P2", "hi again")]))
        .await
        .unwrap();

    let conversations = ports.store.conversations();
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    assert_eq!(conversations[0].customer, customer_key("US.111"));
    assert_eq!(
        ports
            .store
            .owner(&Handle::User(UserId::parse("US.222").unwrap()))
            .await
            .unwrap(),
        Some(customer_key("US.111")),
        "the second id is linked to the customer"
    );
}

#[tokio::test]
async fn an_agent_writing_first_links_the_conversation_to_their_ticket_and_the_customers_answer_reaches_it_silently() {
    use helpdesk::domain::ids::{CustomerId, TicketId};
    use helpdesk::domain::inbound::AgentOpens;
    use helpdesk::domain::outbound::OutboundBody;
    use helpdesk::ports::ConversationStore;
    let ports = Ports::new();
    let bot = ports.bot_with(desk_with_quiet_period(0));
    let customer = CustomerId::parse("15551230001").unwrap();
    let opens = InboundEvent::AgentOpens(AgentOpens {
        customer: customer.clone(),
        phone_number_id: BUSINESS.into(),
        ticket_id: TicketId::parse("TK-PROACTIVE1").unwrap(),
        agent: "ana".into(),
        team: "support".into(),
        tier: 2,
        body: OutboundBody::Template {
            name: "order_update".into(),
            language: "en".into(),
            parameters: vec!["AB-1".into()],
            quick_replies: vec![],
        },
        at_ms: 1,
        request_id: "first-1".into(),
    });

    bot.process(vec![opens]).await.unwrap();

    let conversation = ports.store.conversation(&customer, BUSINESS).await.unwrap().unwrap();
    assert_eq!(
        conversation.ticket_id.as_ref().map(TicketId::as_str),
        Some("TK-PROACTIVE1")
    );
    assert!(
        matches!(&ports.tickets.sent()[..], [TicketCommand::OpenProactive(o)] if o.ticket_id.as_str() == "TK-PROACTIVE1" && o.agent == "ana")
    );
    assert!(ports.outbound.sent().is_empty(), "tickets sends it, not the bot");

    // The customer answers (the ticket not even stored yet): it goes on that
    // ticket, and the bot, handed over, says nothing.
    bot.handle(batch(&[said(
        sender(Some("15551230001"), None),
        "wamid.ANSWER",
        "yes please",
    )]))
    .await
    .unwrap();
    assert!(ports.tickets.sent().iter().any(
        |c| matches!(c, TicketCommand::RecordInbound(r) if r.ticket_id.as_str() == "TK-PROACTIVE1" && r.wamid == "wamid.ANSWER")
    ));
    assert!(
        ports.outbound.sent().iter().all(|r| !r.body.is_message()),
        "{:?}",
        ports.outbound.sent()
    );
}
