//! What only the DynamoDB adapter does, against moto on a table created from
//! template.yaml (what both adapters do is the contract suite's,
//! `tests/contract.rs`): reading items written before the current layout.

use aws_sdk_dynamodb::types::AttributeValue;
use helpdesk::adapters::keys;
use helpdesk::domain::conversation::{Conversation, Step};
use helpdesk::domain::ids::CustomerId;
use helpdesk::ports::ConversationStore;
use helpdesk_tests::LocalAws;

/// Before there was a conversation per business number, a customer's was
/// `CUST#<key>` / `CONV`. It is read as the conversation of whichever number
/// the customer writes to next, saved under that number from then on, and a
/// save under the number never touches it.
#[tokio::test]
async fn a_conversation_stored_before_business_numbers_mattered_carries_on() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let client = aws_sdk_dynamodb::Client::new(&aws.sdk().await);
    let table = aws.output("HelpdeskTableName");
    let customer = CustomerId::parse("15550008888")?;
    let mut legacy = Conversation::new(customer.clone(), "");
    legacy.order_number = Some("AB-1234".into());
    legacy.step = Step::AwaitingOrderNumber;
    legacy.version = 7;
    let mut item: std::collections::HashMap<String, AttributeValue> = serde_dynamo::to_item(&legacy)?;
    item.remove("phone_number_id");
    let (pk, sk) = (
        AttributeValue::S(keys::customer_pk(&customer)),
        AttributeValue::S(keys::LEGACY_CONVERSATION_SK.into()),
    );
    item.insert(keys::PK.into(), pk.clone());
    item.insert(keys::SK.into(), sk.clone());
    client.put_item().table_name(&table).set_item(Some(item)).send().await?;

    let read = store
        .conversation(&customer, "100000000000001")
        .await?
        .expect("the stored conversation");
    assert_eq!(
        (
            read.phone_number_id.as_str(),
            read.version,
            read.order_number.as_deref(),
            &read.step
        ),
        ("100000000000001", 0, Some("AB-1234"), &Step::AwaitingOrderNumber),
        "read as this number's, new under its key"
    );
    store.save_conversation(&read).await?;
    let saved = store.conversation(&customer, "100000000000001").await?.expect("saved");
    assert_eq!((saved.version, saved.order_number.as_deref()), (1, Some("AB-1234")));

    let old = client
        .get_item()
        .table_name(&table)
        .key(keys::PK, pk)
        .key(keys::SK, sk)
        .send()
        .await?;
    let old_version = old
        .item()
        .and_then(|i| i.get("version"))
        .and_then(|v| v.as_n().ok())
        .cloned();
    assert_eq!(old_version.as_deref(), Some("7"), "the old item is left as it was");
    aws.stop().await;
    Ok(())
}

/// Functions write to the table at the same time, and a transaction whose
/// condition fails (a ticket's version conflict) is ordinary. No write that
/// was acknowledged may be lost to it: moto undoes a failed transaction by
/// restoring a copy of the whole table, so the local stack applies DynamoDB
/// requests one at a time (`infra/local/moto_server.py`).
#[tokio::test]
async fn an_acknowledged_write_survives_a_concurrent_failed_transaction() -> anyhow::Result<()> {
    use helpdesk::domain::ids::TicketId;
    use helpdesk::domain::outbound::Author;
    use helpdesk::domain::ticket::{Direction, Ticket, TimelineEntry};
    use helpdesk::ports::{StoreError, TicketReader, TicketStore};
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let conflicted = Ticket::open(
        TicketId::parse("TK-CONFLICT0001")?,
        CustomerId::parse("15550007777")?,
        "100000000000001".into(),
        "support".into(),
        1_000,
    );
    store.save_ticket(&conflicted, None, &[]).await?;
    let written = TicketId::parse("TK-WRITTEN00001")?;
    let entry = |n: i64| TimelineEntry {
        id: format!("wamid.{n}"),
        at_ms: n,
        direction: Direction::Inbound,
        author: Author::Customer,
        kind: "text".into(),
        summary: "hello".into(),
        message: None,
        delivery: None,
        delivery_error: None,
        data: None,
        withdrawn: false,
        pricing: None,
    };

    // A transaction of 100 items (the ticket, its change on the feed, 98
    // entries) takes moto long enough to meet the appends.
    let big: Vec<TimelineEntry> = (0..98).map(|n| entry(1_000_000 + n)).collect();
    let conflicts = async {
        for _ in 0..20 {
            let stale = store.save_ticket(&conflicted, Some(99), &big).await;
            assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
        }
    };
    let appends = |from: i64| {
        let (store, written) = (&store, &written);
        async move {
            for n in from..from + 40 {
                assert!(store.append_entry(written, &entry(n)).await.unwrap());
            }
        }
    };
    tokio::join!(conflicts, appends(0), appends(100), appends(200));

    assert_eq!(
        store.timeline(&written).await?.len(),
        120,
        "every acknowledged entry is stored"
    );
    aws.stop().await;
    Ok(())
}

/// A resolved ticket's items carry DynamoDB's TTL: the ticket's own item and
/// the entries saved with it from its `keep_until_ms`, the items stored
/// before (timeline, files' records) once `keep_ticket_items_until` runs;
/// reopened, every item loses it.
#[tokio::test]
async fn a_resolved_tickets_items_expire_with_it_and_a_reopened_ones_are_kept() -> anyhow::Result<()> {
    use helpdesk::domain::ids::TicketId;
    use helpdesk::domain::outbound::Author;
    use helpdesk::domain::ticket::{Ticket, TimelineEntry};
    use helpdesk::ports::TicketStore;

    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let client = aws_sdk_dynamodb::Client::new(&aws.sdk().await);
    let table = aws.output("HelpdeskTableName");
    let id = TicketId::parse("TK-TTLTTLTTLTTL")?;
    let customer = CustomerId::parse("15550007777")?;
    let mut ticket = Ticket::open(id.clone(), customer, "100000000000001".into(), "support".into(), 1_000);
    let entry =
        |name: &str, at_ms| TimelineEntry::event(format!("{name}.{at_ms}"), at_ms, Author::System, name, name.into());
    store.save_ticket(&ticket, None, &[entry("opened", 1_000)]).await?;
    let file: helpdesk::domain::attachment::MediaAttachment = serde_json::from_value(serde_json::json!({
        "wamid": "wamid.TTL", "kind": "image", "at_ms": 1_000, "s3_key": "media/TK-TTLTTLTTLTTL/wamid.TTL.jpg",
    }))?;
    store.save_attachment(&id, &file).await?;

    let ttl_of_every_item = || async {
        let items = client
            .query()
            .table_name(&table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_values(":pk", AttributeValue::S(keys::ticket_pk(&id)))
            .send()
            .await?;
        let ttls: Vec<(String, Option<String>)> = items
            .items()
            .iter()
            .map(|item| {
                let sk = item[keys::SK].as_s().cloned().unwrap_or_default();
                let ttl = item.get(keys::TTL).and_then(|v| v.as_n().ok()).cloned();
                (sk, ttl)
            })
            .collect();
        anyhow::Ok(ttls)
    };
    assert!(ttl_of_every_item().await?.iter().all(|(_, ttl)| ttl.is_none()));

    // Resolved: kept until 2_000_000 ms, i.e. 2000 s.
    ticket.keep_until_ms = Some(2_000_000);
    store.save_ticket(&ticket, Some(1), &[entry("resolved", 2_000)]).await?;
    store.keep_ticket_items_until(&id, Some(2_000_000)).await?;
    let ttls = ttl_of_every_item().await?;
    assert_eq!(ttls.len(), 4, "META, two entries, a file's record: {ttls:?}");
    assert!(ttls.iter().all(|(_, ttl)| ttl.as_deref() == Some("2000")), "{ttls:?}");

    // Reopened: kept for good.
    ticket.keep_until_ms = None;
    store.save_ticket(&ticket, Some(2), &[]).await?;
    store.keep_ticket_items_until(&id, None).await?;
    assert!(ttl_of_every_item().await?.iter().all(|(_, ttl)| ttl.is_none()));
    aws.stop().await;
    Ok(())
}
