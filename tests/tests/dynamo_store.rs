//! The DynamoDB adapter against moto (the real wire protocol), on a table
//! created from template.yaml: conditional writes, versions, indexes.

use helpdesk::domain::conversation::Conversation;
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::outbound::Author;
use helpdesk::domain::ticket::{DeliveryState, Direction, Escalation, Priority, Ticket, TicketStatus, TimelineEntry};
use helpdesk::ports::{ConversationStore, StoreError, TicketReader, TicketStore};
use helpdesk_tests::LocalAws;

fn ticket(id: &str, created_at_ms: i64) -> Ticket {
    Ticket::open(
        TicketId::parse(id).unwrap(),
        CustomerId::parse("15550009999").unwrap(),
        "100000000000001".into(),
        "support".into(),
        created_at_ms,
    )
}

fn entry(id: &str, at_ms: i64, delivery: Option<DeliveryState>) -> TimelineEntry {
    TimelineEntry {
        id: id.into(),
        at_ms,
        direction: Direction::Outbound,
        author: Author::Bot,
        kind: "text".into(),
        summary: "hello ✓ «quoted»".into(),
        message: Some(serde_json::json!({"nested": {"list": [1, 2.5, "x", null]}})),
        delivery,
        delivery_error: None,
    }
}

#[tokio::test]
async fn a_ticket_is_saved_once_as_new_then_only_with_the_version_it_was_read_at() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let t = ticket("TK-AAAAAAAAAAAA", 1_000);

    store.save_ticket(&t, None, &[]).await?;
    assert!(matches!(
        store.save_ticket(&t, None, &[]).await,
        Err(StoreError::Conflict)
    ));

    let mut loaded = store.ticket(&t.id).await?.expect("saved");
    assert_eq!(loaded.version, 1);
    assert_eq!(loaded.customer, t.customer);
    loaded.escalate(
        2,
        "billing",
        Priority::High,
        Escalation {
            trigger: "t".into(),
            reason: "r".into(),
            at_ms: 2_000,
            triggers: vec![],
        },
    )?;
    store.save_ticket(&loaded, Some(1), &[]).await?;
    assert!(matches!(
        store.save_ticket(&loaded, Some(1), &[]).await,
        Err(StoreError::Conflict)
    ));

    let stored = store.ticket(&t.id).await?.unwrap();
    assert_eq!(
        (stored.version, stored.status, stored.team.as_str()),
        (2, TicketStatus::Queued, "billing")
    );
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_team_queue_lists_urgent_tickets_first_then_the_oldest() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    for (id, created, priority) in [
        ("TK-000000000001", 3, Priority::Normal),
        ("TK-000000000002", 1, Priority::Normal),
        ("TK-000000000003", 9, Priority::Urgent),
    ] {
        let mut t = ticket(id, created);
        t.escalate(
            2,
            "support",
            priority,
            Escalation {
                trigger: "t".into(),
                reason: "r".into(),
                at_ms: created,
                triggers: vec![],
            },
        )?;
        store.save_ticket(&t, None, &[]).await?;
    }
    store.save_ticket(&ticket("TK-000000000004", 2), None, &[]).await?;

    let queued = store.queue("support", TicketStatus::Queued, 10).await?;
    let ids: Vec<_> = queued.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["TK-000000000003", "TK-000000000002", "TK-000000000001"]);
    assert_eq!(store.queue("support", TicketStatus::Bot, 10).await?.len(), 1);
    assert_eq!(store.queue("support", TicketStatus::Queued, 2).await?.len(), 2);
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_timeline_entry_is_stored_once_and_comes_back_in_time_order() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let id = TicketId::parse("TK-BBBBBBBBBBBB").unwrap();
    assert!(store.append_entry(&id, &entry("wamid.2", 2_000, None)).await?);
    assert!(store.append_entry(&id, &entry("wamid.1", 1_000, None)).await?);
    assert!(
        !store.append_entry(&id, &entry("wamid.1", 1_000, None)).await?,
        "a duplicate is refused"
    );

    let timeline = store.timeline(&id).await?;
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[0], entry("wamid.1", 1_000, None));
    assert_eq!(timeline[1].id, "wamid.2");
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_delivery_state_only_moves_forward_even_when_statuses_arrive_out_of_order() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let id = TicketId::parse("TK-CCCCCCCCCCCC").unwrap();
    store
        .append_entry(&id, &entry("wamid.OUT", 5_000, Some(DeliveryState::Accepted)))
        .await?;
    store.link_outbound("wamid.OUT", &id, 5_000).await?;
    assert_eq!(store.find_outbound("wamid.OUT").await?, Some((id.clone(), 5_000)));

    assert!(
        store
            .advance_delivery(&id, 5_000, "wamid.OUT", DeliveryState::Read, None)
            .await?
    );
    assert!(
        !store
            .advance_delivery(&id, 5_000, "wamid.OUT", DeliveryState::Delivered, None)
            .await?
    );
    assert!(
        !store
            .advance_delivery(&id, 5_000, "wamid.OUT", DeliveryState::Failed, Some("late"))
            .await?
    );
    assert!(
        !store
            .advance_delivery(&id, 9_999, "wamid.NONE", DeliveryState::Sent, None)
            .await?,
        "no such entry"
    );
    assert_eq!(store.timeline(&id).await?[0].delivery, Some(DeliveryState::Read));

    store.park_status("wamid.EARLY", DeliveryState::Delivered, None).await?;
    store.park_status("wamid.EARLY", DeliveryState::Sent, None).await?;
    assert_eq!(
        store.parked_status("wamid.EARLY").await?,
        Some((DeliveryState::Delivered, None))
    );
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_conversation_is_saved_with_optimistic_concurrency() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let customer = CustomerId::parse("15550008888").unwrap();
    assert_eq!(store.conversation(&customer).await?, None);

    let mut conversation = Conversation::new(customer.clone());
    conversation.remember("wamid.1");
    store.save_conversation(&conversation).await?;
    assert!(matches!(
        store.save_conversation(&conversation).await,
        Err(StoreError::Conflict)
    ));

    let loaded = store.conversation(&customer).await?.unwrap();
    assert_eq!(loaded.version, 1);
    assert!(loaded.has_seen("wamid.1"));
    store.save_conversation(&loaded).await?;
    assert_eq!(store.conversation(&customer).await?.unwrap().version, 2);
    aws.stop().await;
    Ok(())
}
