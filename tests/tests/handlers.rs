//! Each SQS and HTTP function's handler, called with the same `events/*.json`
//! that `sam local invoke -e` and `cargo lambda invoke --data-file` use, wired
//! by its own `from_env` against a stack in moto (no runner polling it).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use helpdesk::config::Env;
use helpdesk::domain::commands::{RecordOutbound, RecordSendFailure, SlaDue, TicketCommand};
use helpdesk::domain::ids::TicketId;
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::domain::outbound::OutboundRequest;
use helpdesk::ports::TicketReader;
use helpdesk_tests::{LocalAws, PHONE_NUMBER_ID, eventually, start_simulator};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

fn sqs_event(name: &str) -> LambdaEvent<SqsEvent> {
    LambdaEvent::new(
        serde_json::from_str(&read_event(name)).expect("an SQS event"),
        Context::default(),
    )
}

fn read_event(name: &str) -> String {
    let path = devstack::repo_root().join("events").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn env(aws: &LocalAws, function: &str, graph_url: &str) -> Env {
    let options = devstack::RunnerOptions {
        graph_url: graph_url.to_owned(),
        phone_number_id: PHONE_NUMBER_ID.into(),
        ..Default::default()
    };
    Env::from_map(devstack::function_environment(&aws.stack, function, &options))
}

fn no_failures(response: &SqsBatchResponse) -> bool {
    response.batch_item_failures.is_empty()
}

#[tokio::test]
async fn the_bot_handler_passes_the_status_on_and_greets_a_new_customer_once_the_quiet_period_passed()
-> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let bot = bot::Bot::from_env(&env(&aws, "BotFunction", ""), &sdk)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;

    let response = bot
        .handle(sqs_event("bot-inbound.json"))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;

    assert!(no_failures(&response));
    let commands: Vec<TicketCommand> = aws.drain("TicketsQueueUrl").await?;
    let names: Vec<_> = commands.iter().map(TicketCommand::name).collect();
    assert_eq!(names, ["record_status"], "statuses pass straight through");
    let typing: Vec<OutboundRequest> = aws.drain("OutboundQueueUrl").await?;
    assert_eq!(typing.len(), 1, "the typing indicator while the quiet period runs");
    assert_eq!(typing[0].body.visible_text(), None);

    // The turns queue hands the turn back once the quiet period has passed.
    let due: Vec<(String, InboundEvent)> = eventually("the customer's turn", || async {
        let due = aws.drain_raw("TurnsQueueUrl").await?;
        Ok((!due.is_empty()).then_some(due))
    })
    .await?;
    assert!(matches!(due[..], [(_, InboundEvent::TurnDue(_))]), "{due:?}");
    let response = bot.handle(sqs_records(&due)).await.map_err(|e| anyhow::anyhow!(e))?;

    assert!(no_failures(&response));
    let commands: Vec<TicketCommand> = aws.drain("TicketsQueueUrl").await?;
    let names: Vec<_> = commands.iter().map(TicketCommand::name).collect();
    assert_eq!(names, ["record_inbound", "set_customer_language"]);
    let replies: Vec<OutboundRequest> = aws.drain("OutboundQueueUrl").await?;
    assert_eq!(replies.len(), 1, "one answer: {replies:?}");
    assert_eq!(replies[0].phone_number_id, "100000000000001");
    aws.stop().await;
    Ok(())
}

/// Records as a standard queue delivers them: `(body, item)` pairs.
fn sqs_records(items: &[(String, InboundEvent)]) -> LambdaEvent<SqsEvent> {
    let mut event = SqsEvent::default();
    for (n, (body, _)) in items.iter().enumerate() {
        let mut record = SqsMessage::default();
        record.message_id = Some(format!("turn-{n}"));
        record.body = Some(body.clone());
        event.records.push(record);
    }
    LambdaEvent::new(event, Context::default())
}

#[tokio::test]
async fn the_tickets_handler_opens_the_ticket_once_even_when_the_command_is_redelivered() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let tickets = tickets::Tickets::from_env(&env(&aws, "TicketsFunction", ""), &sdk)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;

    for _ in 0..2 {
        let response = tickets
            .handle(sqs_event("tickets-record-inbound.json"))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        assert!(no_failures(&response));
    }

    let store = aws.store().await;
    let id = TicketId::parse("TK-3F9A0C51D2E7").unwrap();
    let ticket = store.ticket(&id).await?.expect("the ticket was opened");
    assert_eq!((ticket.tier, ticket.team.as_str(), ticket.version), (1, "support", 1));
    assert_eq!(ticket.contact_name.as_deref(), Some("Ana Souza"));
    assert_eq!(store.timeline(&id).await?.len(), 1);
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_tickets_handler_reports_a_malformed_command_for_redelivery() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let tickets = tickets::Tickets::from_env(&env(&aws, "TicketsFunction", ""), &sdk)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut event = sqs_event("tickets-record-inbound.json");
    event.payload.records[0].body = Some("{\"command\":\"no_such_command\"}".into());

    let response = tickets.handle(event).await.map_err(|e| anyhow::anyhow!(e))?;

    assert_eq!(response.batch_item_failures.len(), 1);
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_sender_handler_records_a_closed_window_then_delivers_once_the_customer_wrote() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let sim = start_simulator(false).await?;
    let sender = sender::Sender::from_env(&env(&aws, "SenderFunction", &sim.url), &sdk)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;

    // The customer never wrote: WhatsApp refuses with 131047, recorded and not retried.
    let response = sender
        .handle(sqs_event("sender-outbound-text.json"))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    assert!(no_failures(&response));
    let recorded: Vec<TicketCommand> = aws.drain("TicketsQueueUrl").await?;
    assert!(
        matches!(
            &recorded[..],
            [TicketCommand::RecordSendFailure(RecordSendFailure {
                code: Some(131047),
                ..
            })]
        ),
        "{recorded:?}"
    );

    // Once the customer writes (the webhook target is down, which does not matter here), the send goes through.
    let http = reqwest::Client::new();
    http.post(format!("{}/_sim/faults", sim.url))
        .json(&json!({"webhook_retry": {"attempts": 1, "initial_backoff_ms": 1}}))
        .send()
        .await?;
    http.post(format!("{}/_sim/customers/15551230001/messages", sim.url))
        .json(&json!({"type":"text","text":{"body":"hi"}}))
        .send()
        .await?;
    let response = sender
        .handle(sqs_event("sender-outbound-text.json"))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    assert!(no_failures(&response));
    let recorded: Vec<TicketCommand> = aws.drain("TicketsQueueUrl").await?;
    assert!(
        matches!(&recorded[..], [TicketCommand::RecordOutbound(RecordOutbound { .. })]),
        "{recorded:?}"
    );
    let inbox: Vec<Value> = http
        .get(format!("{}/_sim/customers/15551230001/inbox", sim.url))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(inbox.len(), 1);
    sim.shutdown().await;
    aws.stop().await;
    Ok(())
}

/// The Graph API version is the template's `GraphApiVersion` (what `make dev`
/// sets from `WHATSAPP_API_VERSION`): a retired one is refused by the Cloud
/// API (2635), recorded on the ticket, not retried.
#[tokio::test]
async fn the_sender_calls_the_graph_api_version_the_stack_was_given() -> anyhow::Result<()> {
    let aws = LocalAws::start_with(&[("GraphApiVersion", "v20.0")]).await?;
    let sdk = aws.sdk().await;
    let sim = start_simulator(false).await?;
    let environment = env(&aws, "SenderFunction", &sim.url);
    assert_eq!(environment.get("WHATSAPP_API_VERSION"), Some("v20.0"));
    let sender = sender::Sender::from_env(&environment, &sdk)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;

    let response = sender
        .handle(sqs_event("sender-outbound-text.json"))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;

    assert!(no_failures(&response));
    let recorded: Vec<TicketCommand> = aws.drain("TicketsQueueUrl").await?;
    assert!(
        matches!(
            &recorded[..],
            [TicketCommand::RecordSendFailure(RecordSendFailure {
                code: Some(2635),
                ..
            })]
        ),
        "{recorded:?}"
    );
    sim.shutdown().await;
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_agent_api_handler_lists_the_queue_of_the_agents_teams_and_refuses_a_request_without_claims()
-> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let api = agent_api::AgentApi::from_env(&env(&aws, "AgentApiFunction", ""), &sdk)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let event = read_event("agent-api-queue.json");

    let response = api.handle(lambda_http::request::from_str(&event)?).await?;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = serde_json::from_slice(response.body().as_ref())?;
    assert_eq!(body["teams"], json!(["support", "billing"]));
    assert_eq!(body["tickets"], json!([]));

    let mut without_claims: Value = serde_json::from_str(&event)?;
    without_claims["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let response = api
        .handle(lambda_http::request::from_str(&without_claims.to_string())?)
        .await?;
    assert_eq!(response.status().as_u16(), 401);
    aws.stop().await;
    Ok(())
}

#[test]
fn the_bot_event_carries_what_the_webhook_queues() {
    let event: SqsEvent = serde_json::from_str(&read_event("bot-inbound.json")).unwrap();
    for record in event.records {
        let item: InboundEvent = serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
        assert_eq!(record.attributes["MessageGroupId"], item.group_key());
        assert_eq!(record.attributes["MessageDeduplicationId"], item.dedupe_key());
    }
}

#[tokio::test]
async fn the_sla_handler_hands_a_due_deadline_to_tickets_on_the_scheduled_event() -> anyhow::Result<()> {
    use helpdesk::domain::ids::CustomerId;
    use helpdesk::domain::sla::{Deadline, DeadlineKind, Stage};
    use helpdesk::ports::{Clock, DeadlineIndex};
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let environment = env(&aws, "SlaFunction", "");
    let due = Deadline {
        kind: DeadlineKind::FirstResponse,
        stage: Stage::Breach,
        at_ms: environment.clock().now_ms() - 60_000,
    };
    let (ticket, customer) = (TicketId::parse("TK-3F9A0C51D2E7")?, CustomerId::parse("15551230001")?);
    aws.store()
        .await
        .sync_deadlines(&ticket, &customer, &[due], None)
        .await?;
    let sweep = sla::Sweep::from_env(&environment, &sdk)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let event = LambdaEvent::new(
        serde_json::from_str(&read_event("sla-schedule.json"))?,
        Context::default(),
    );

    let report = sweep.handle(event).await.map_err(|e| anyhow::anyhow!(e))?;

    assert_eq!((report.acted, report.items_read), (1, 1));
    let commands: Vec<TicketCommand> = aws.drain("TicketsQueueUrl").await?;
    assert!(
        matches!(&commands[..], [TicketCommand::SlaDue(SlaDue { ticket_id, deadline, .. })] if *ticket_id == ticket && *deadline == due),
        "{commands:?}"
    );
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_tickets_handler_removes_a_stale_deadline_from_the_index_instead_of_acting_on_it() -> anyhow::Result<()> {
    use helpdesk::domain::ids::CustomerId;
    use helpdesk::domain::sla::{Deadline, DeadlineKind, Stage};
    use helpdesk::ports::DeadlineIndex;
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let tickets = tickets::Tickets::from_env(&env(&aws, "TicketsFunction", ""), &sdk)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let response = tickets
        .handle(sqs_event("tickets-record-inbound.json"))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    assert!(no_failures(&response));
    // The bot still owns the ticket, so it has no deadline: this one is stale.
    let (ticket, customer) = (TicketId::parse("TK-3F9A0C51D2E7")?, CustomerId::parse("15551230001")?);
    let stale = Deadline {
        kind: DeadlineKind::FirstResponse,
        stage: Stage::Breach,
        at_ms: 1_795_237_260_000,
    };
    let store = aws.store().await;
    store.sync_deadlines(&ticket, &customer, &[stale], None).await?;

    tickets
        .apply(TicketCommand::SlaDue(SlaDue {
            ticket_id: ticket.clone(),
            customer,
            deadline: stale,
            at_ms: stale.at_ms + 60_000,
        }))
        .await?;

    let (due, _) = store.due_in(stale.at_ms / 60_000, stale.at_ms + 60_000).await?;
    assert!(due.is_empty(), "{due:?}");
    assert_eq!(store.timeline(&ticket).await?.len(), 1, "nothing was recorded");
    aws.stop().await;
    Ok(())
}
