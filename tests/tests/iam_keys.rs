//! The partition keys each restricted function really writes, measured on
//! moto, fit the `dynamodb:LeadingKeys` its policy in template.yaml grants.
//! moto does not enforce IAM, so without this a function that starts writing
//! a new kind of item passes every test and is refused once deployed.
//!
//! Each function runs over a DynamoDB client whose interceptor records the
//! partition key of every write request (put, update, delete, transaction)
//! before it is sent.

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_write_item::BatchWriteItemInput, delete_item::DeleteItemInput, put_item::PutItemInput,
    transact_write_items::TransactWriteItemsInput, update_item::UpdateItemInput,
};
use aws_sdk_dynamodb::types::AttributeValue;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::keys;
use helpdesk::adapters::memory::{
    ManualClock, MemoryDelayedQueue, MemoryGraph, MemoryMedia, MemoryMediaStore, MemoryOrders, MemoryQueue,
    MemoryVision,
};
use helpdesk::domain::commands::MediaJob;
use helpdesk::domain::desk::{Desk, EMBEDDED_CONFIG};
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::domain::sla::{Deadline, DeadlineKind, Stage};
use helpdesk::domain::vision::VisionReport;
use helpdesk::ports::DeadlineIndex;
use helpdesk_tests::LocalAws;
use helpdesk_tests::template::{key_matches, leading_key_conditions};
use lambda_runtime::{Context, LambdaEvent};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Records the partition key of every write the client sends.
#[derive(Debug, Clone, Default)]
struct WrittenKeys(Arc<Mutex<Vec<String>>>);

impl WrittenKeys {
    fn keys(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn note(&self, item: Option<&HashMap<String, AttributeValue>>) {
        if let Some(AttributeValue::S(pk)) = item.and_then(|i| i.get(keys::PK)) {
            self.0.lock().unwrap().push(pk.clone());
        }
    }
}

impl Intercept for WrittenKeys {
    fn name(&self) -> &'static str {
        "WrittenKeys"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        if let Some(put) = input.downcast_ref::<PutItemInput>() {
            self.note(put.item());
        } else if let Some(update) = input.downcast_ref::<UpdateItemInput>() {
            self.note(update.key());
        } else if let Some(delete) = input.downcast_ref::<DeleteItemInput>() {
            self.note(delete.key());
        } else if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
            for item in transaction.transact_items() {
                self.note(item.put().map(|p| p.item()));
                self.note(item.update().map(|u| u.key()));
                self.note(item.delete().map(|d| d.key()));
                self.note(item.condition_check().map(|c| c.key()));
            }
        } else if let Some(batch) = input.downcast_ref::<BatchWriteItemInput>() {
            for request in batch.request_items().into_iter().flat_map(|r| r.values()).flatten() {
                self.note(request.put_request().map(|p| p.item()));
                self.note(request.delete_request().map(|d| d.key()));
            }
        }
        Ok(())
    }
}

/// The stack's table through a client that records what it writes.
async fn recorded_store(aws: &LocalAws) -> (DynamoStore, WrittenKeys) {
    let written = WrittenKeys::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&aws.sdk().await)
        .interceptor(written.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    (DynamoStore::new(client, aws.output("HelpdeskTableName")), written)
}

/// Every key `function` wrote fits a pattern its policy grants.
fn assert_granted(function: &str, written: &[String]) {
    assert!(
        !written.is_empty(),
        "{function} wrote nothing: the run did not exercise it"
    );
    let conditions = leading_key_conditions();
    let granted = conditions
        .iter()
        .find(|(name, _)| name == function)
        .map(|(_, patterns)| patterns)
        .unwrap_or_else(|| panic!("{function} has no leading-key condition in template.yaml"));
    for pk in written {
        assert!(
            granted.iter().any(|pattern| key_matches(pattern, pk)),
            "{function} wrote partition key `{pk}`, which its policy does not grant (only {granted:?})"
        );
    }
}

fn desk() -> (Desk, Catalog) {
    let catalog = Catalog::builtin();
    let desk = Desk::from_toml(EMBEDDED_CONFIG, &catalog).expect("the shipped desk");
    (desk, catalog)
}

/// The sample batch (a 2026 customer with phone, BSUID and username, and
/// a status), the turn it schedules once it falls due, and a message that
/// names nobody: conversations, identities, the identity map and the
/// unattributed list.
#[tokio::test]
async fn the_bot_writes_only_the_customer_items_its_policy_grants() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (store, written) = recorded_store(&aws).await;
    let (desk, catalog) = desk();
    let turns = MemoryDelayedQueue::default();
    let bot = bot::Bot::new(
        bot::Ports {
            store,
            tickets: MemoryQueue::default(),
            outbound: MemoryQueue::default(),
            media: MemoryQueue::default(),
            turns: turns.clone(),
            orders: MemoryOrders::default(),
            clock: ManualClock::at(1_795_237_200_000),
        },
        desk,
        catalog,
    );
    let path = devstack::repo_root().join("events/bot-inbound.json");
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let anonymous: InboundEvent = serde_json::from_value(serde_json::json!({
        "kind": "message",
        "business": {"phone_number_id": "100000000000001"},
        "wamid": "wamid.IAM-NOBODY",
        "timestamp": 1_795_237_200,
        "message_type": "text",
        "message": {"id": "wamid.IAM-NOBODY", "type": "text", "text": {"body": "hi"}}
    }))?;

    let batch = bot.handle(LambdaEvent::new(event, Context::default())).await;
    let due = turns.take();
    assert_eq!(due.len(), 1, "the customer's turn is scheduled");
    for (item, _) in due {
        bot.process(vec![item]).await?;
    }
    bot.process(vec![anonymous]).await?;

    assert!(batch.map_err(|e| anyhow::anyhow!(e))?.batch_item_failures.is_empty());
    let keys = written.keys();
    for family in [keys::CUSTOMER_PREFIX, keys::IDENTITY_PREFIX, keys::UNATTRIBUTED_PREFIX] {
        assert!(
            keys.iter().any(|k| k.starts_with(family)),
            "the run wrote no {family} item: {keys:?}"
        );
    }
    assert_granted("BotFunction", &keys);
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_sla_sweep_writes_only_deadline_claims_and_its_cursor() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let now_ms = 1_795_237_200_000;
    let ticket = TicketId::parse("TK-IAM000000001")?;
    let due = Deadline {
        kind: DeadlineKind::FirstResponse,
        stage: Stage::Warn,
        at_ms: now_ms - 60_000,
    };
    let customer = CustomerId::parse("15551230001")?;
    aws.store()
        .await
        .sync_deadlines(&ticket, &customer, &[due], None)
        .await?;
    let (store, written) = recorded_store(&aws).await;
    let sweep = sla::Sweep::new(store, MemoryQueue::default(), ManualClock::at(now_ms));

    let report = sweep.sweep().await?;

    assert_eq!(report.acted, 1, "{report:?}");
    assert_granted("SlaFunction", &written.keys());
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_media_function_writes_only_the_fingerprint_index() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (index, written) = recorded_store(&aws).await;
    let graph = MemoryGraph::new();
    graph.add_media("MEDIA-1", MemoryMedia::new("image/jpeg", photo()));
    let (desk, catalog) = desk();
    let media = media::Media::new(
        graph,
        MemoryMediaStore::default(),
        MemoryVision::answering(VisionReport::default()),
        index,
        MemoryQueue::default(),
        MemoryQueue::default(),
        desk,
        catalog,
    );
    let job = MediaJob {
        ticket_id: TicketId::parse("TK-IAM000000002")?,
        customer: CustomerId::parse("15551230002")?,
        phone_number_id: "100000000000001".into(),
        wamid: "wamid.IAM-PHOTO".into(),
        message_type: "image".into(),
        media_id: "MEDIA-1".into(),
        claimed_mime: "image/jpeg".into(),
        caption: None,
        language: "en".into(),
        answers_turn: true,
        at_ms: 1_795_237_200_000,
    };

    media.process(job, 1).await?;

    assert_granted("MediaFunction", &written.keys());
    aws.stop().await;
    Ok(())
}

/// A fair photo as a JPEG.
fn photo() -> Vec<u8> {
    let image = helpdesk_tests::fair_photo();
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut bytes, image::ImageFormat::Jpeg)
        .expect("encodes");
    bytes.into_inner()
}

/// The agent API reads the table and writes only its audit trail.
#[tokio::test]
async fn the_agent_api_writes_only_its_audit_trail() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (store, written) = recorded_store(&aws).await;
    let (desk, _) = desk();
    let claims = agent_api::ClaimNames {
        name: "cognito:username".into(),
        teams: "cognito:groups".into(),
    };
    let api = agent_api::AgentApi::new(
        store,
        MemoryQueue::default(),
        MemoryQueue::default(),
        ManualClock::at(1_795_237_200_000),
        claims,
        desk,
        MemoryMediaStore::default(),
    );
    let event = include_str!("../../events/agent-api-queue.json").replace("\"/api/tickets\"", "\"/api/search\"");
    let mut event: serde_json::Value = serde_json::from_str(&event)?;
    event["rawQueryString"] = "q=TK-IAM000000001".into();
    let request = lambda_http::request::from_str(&event.to_string())?;

    let response = api.handle(request).await?;

    assert_eq!(response.status(), 200);
    assert_granted("AgentApiFunction", &written.keys());
    aws.stop().await;
    Ok(())
}
