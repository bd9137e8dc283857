//! Every port contract of `helpdesk_tests::contract`, run twice: `..._in_memory`
//! on the in-memory adapters handler tests use, `..._on_moto` on the real
//! adapters over a stack in moto. The moto runs share one stack while any of
//! them is running (each contract names its own tickets, teams, minutes and
//! keys), so the whole file costs one or two stack start-ups, not forty.

use helpdesk::adapters::events::EventBridgePublisher;
use helpdesk::adapters::memory::{MemoryDelayedQueue, MemoryEvents, MemoryMediaStore, MemoryQueue, MemoryStore};
use helpdesk::adapters::s3::{S3MediaStore, s3_client};
use helpdesk::adapters::sqs::{SqsDelayQueue, SqsQueue};
use helpdesk::domain::events::Envelope;
use helpdesk_tests::LocalAws;
use helpdesk_tests::contract::{self, Probe, Unique};
use std::sync::{Arc, Weak};

/// The stack the moto runs share. It lives while a test holds it; the last
/// one to let go drops it (stopping its moto), and a later test starts another.
async fn shared_stack() -> anyhow::Result<Arc<LocalAws>> {
    static SHARED: tokio::sync::Mutex<Weak<LocalAws>> = tokio::sync::Mutex::const_new(Weak::new());
    let mut shared = SHARED.lock().await;
    if let Some(aws) = shared.upgrade() {
        return Ok(aws);
    }
    let aws = Arc::new(LocalAws::start().await?);
    *shared = Arc::downgrade(&aws);
    Ok(aws)
}

/// A store contract on a fresh in-memory table and on the shared stack's table.
macro_rules! store_contract {
    ($contract:ident: $in_memory:ident, $on_moto:ident) => {
        #[tokio::test]
        async fn $in_memory() -> anyhow::Result<()> {
            contract::$contract(&MemoryStore::new(), &Unique::new()).await
        }

        #[tokio::test]
        async fn $on_moto() -> anyhow::Result<()> {
            let aws = shared_stack().await?;
            contract::$contract(&aws.store().await, &Unique::new()).await
        }
    };
}

store_contract!(ticket_versions_are_checked: ticket_versions_are_checked_in_memory, ticket_versions_are_checked_on_moto);
store_contract!(
    a_ticket_is_saved_with_its_entries_all_or_nothing:
    a_ticket_is_saved_with_its_entries_all_or_nothing_in_memory,
    a_ticket_is_saved_with_its_entries_all_or_nothing_on_moto
);
store_contract!(
    a_save_one_transaction_cannot_hold_is_refused_whole:
    a_save_one_transaction_cannot_hold_is_refused_whole_in_memory,
    a_save_one_transaction_cannot_hold_is_refused_whole_on_moto
);
store_contract!(
    entries_are_appended_once_and_read_in_time_order:
    entries_are_appended_once_and_read_in_time_order_in_memory,
    entries_are_appended_once_and_read_in_time_order_on_moto
);
store_contract!(
    a_queue_lists_urgent_tickets_first_then_the_oldest:
    a_queue_lists_urgent_tickets_first_then_the_oldest_in_memory,
    a_queue_lists_urgent_tickets_first_then_the_oldest_on_moto
);
store_contract!(
    every_list_holds_its_tickets_in_order_page_after_page:
    every_list_holds_its_tickets_in_order_page_after_page_in_memory,
    every_list_holds_its_tickets_in_order_page_after_page_on_moto
);
store_contract!(
    audit_records_are_kept_once_and_read_by_day:
    audit_records_are_kept_once_and_read_by_day_in_memory,
    audit_records_are_kept_once_and_read_by_day_on_moto
);
store_contract!(
    every_save_is_on_the_change_feed_once_in_order:
    every_save_is_on_the_change_feed_once_in_order_in_memory,
    every_save_is_on_the_change_feed_once_in_order_on_moto
);
store_contract!(
    a_presence_holds_until_it_expires_and_renewing_replaces_it:
    a_presence_holds_until_it_expires_and_renewing_replaces_it_in_memory,
    a_presence_holds_until_it_expires_and_renewing_replaces_it_on_moto
);
store_contract!(
    an_erasure_forgets_contents_records_fingerprints_and_the_customer:
    an_erasure_forgets_contents_records_fingerprints_and_the_customer_in_memory,
    an_erasure_forgets_contents_records_fingerprints_and_the_customer_on_moto
);
store_contract!(
    availability_is_kept_per_team_with_the_last_assignment:
    availability_is_kept_per_team_with_the_last_assignment_in_memory,
    availability_is_kept_per_team_with_the_last_assignment_on_moto
);
store_contract!(
    a_delivery_state_moves_only_forward:
    a_delivery_state_moves_only_forward_in_memory,
    a_delivery_state_moves_only_forward_on_moto
);
store_contract!(
    a_parked_status_moves_only_forward:
    a_parked_status_moves_only_forward_in_memory,
    a_parked_status_moves_only_forward_on_moto
);
store_contract!(
    an_outbound_wamid_leads_back_to_its_entry:
    an_outbound_wamid_leads_back_to_its_entry_in_memory,
    an_outbound_wamid_leads_back_to_its_entry_on_moto
);
store_contract!(
    attachments_are_listed_in_wamid_order_and_replace_themselves:
    attachments_are_listed_in_wamid_order_and_replace_themselves_in_memory,
    attachments_are_listed_in_wamid_order_and_replace_themselves_on_moto
);
store_contract!(
    a_profile_is_stored_and_replaced:
    a_profile_is_stored_and_replaced_in_memory,
    a_profile_is_stored_and_replaced_on_moto
);
store_contract!(
    conversation_versions_are_checked:
    conversation_versions_are_checked_in_memory,
    conversation_versions_are_checked_on_moto
);
store_contract!(
    a_delivery_keeps_the_price_meta_reported:
    a_delivery_keeps_the_price_meta_reported_in_memory,
    a_delivery_keeps_the_price_meta_reported_on_moto
);
store_contract!(
    an_entry_is_replaced_where_it_stands:
    an_entry_is_replaced_where_it_stands_in_memory,
    an_entry_is_replaced_where_it_stands_on_moto
);
store_contract!(
    a_handle_leads_to_its_customer_until_it_moves:
    a_handle_leads_to_its_customer_until_it_moves_in_memory,
    a_handle_leads_to_its_customer_until_it_moves_on_moto
);
store_contract!(
    unattributed_messages_are_kept_once_and_read_by_day:
    unattributed_messages_are_kept_once_and_read_by_day_in_memory,
    unattributed_messages_are_kept_once_and_read_by_day_on_moto
);
store_contract!(
    a_due_bucket_answers_what_is_due_by_now:
    a_due_bucket_answers_what_is_due_by_now_in_memory,
    a_due_bucket_answers_what_is_due_by_now_on_moto
);
store_contract!(
    deadlines_are_synced_by_difference_and_repaired_whole:
    deadlines_are_synced_by_difference_and_repaired_whole_in_memory,
    deadlines_are_synced_by_difference_and_repaired_whole_on_moto
);
store_contract!(
    a_claim_holds_until_it_expires_and_only_on_the_deadline_read:
    a_claim_holds_until_it_expires_and_only_on_the_deadline_read_in_memory,
    a_claim_holds_until_it_expires_and_only_on_the_deadline_read_on_moto
);
store_contract!(a_fact_is_counted_once: a_fact_is_counted_once_in_memory, a_fact_is_counted_once_on_moto);
store_contract!(
    aggregates_are_read_by_day_team_and_priority:
    aggregates_are_read_by_day_team_and_priority_in_memory,
    aggregates_are_read_by_day_team_and_priority_on_moto
);
store_contract!(
    a_bad_range_or_day_is_refused:
    a_bad_range_or_day_is_refused_in_memory,
    a_bad_range_or_day_is_refused_on_moto
);
store_contract!(
    fingerprints_are_filed_by_band_once:
    fingerprints_are_filed_by_band_once_in_memory,
    fingerprints_are_filed_by_band_once_on_moto
);

// The table holds one sweep cursor: this is the only contract that moves it.
#[tokio::test]
async fn the_sweep_cursor_moves_only_from_where_it_stands_in_memory() -> anyhow::Result<()> {
    contract::the_sweep_cursor_moves_only_from_where_it_stands(&MemoryStore::new()).await
}

#[tokio::test]
async fn the_sweep_cursor_moves_only_from_where_it_stands_on_moto() -> anyhow::Result<()> {
    let aws = shared_stack().await?;
    contract::the_sweep_cursor_moves_only_from_where_it_stands(&aws.store().await).await
}

// ------------------------------------------------------------------- queue

/// The tickets queue stands for every FIFO queue of the template (same
/// settings); only the queue contracts use it.
async fn sqs_queue(aws: &LocalAws) -> SqsQueue<Probe> {
    SqsQueue::new(
        aws_sdk_sqs::Client::new(&aws.sdk().await),
        aws.output("TicketsQueueUrl"),
    )
}

#[tokio::test]
async fn a_queue_keeps_order_and_stores_a_resent_item_once_in_memory() -> anyhow::Result<()> {
    let queue = MemoryQueue::default();
    contract::a_queue_keeps_order_and_stores_a_resent_item_once(&queue, &Unique::new(), || async { Ok(queue.sent()) })
        .await
}

#[tokio::test]
async fn a_queue_keeps_order_and_stores_a_resent_item_once_on_moto() -> anyhow::Result<()> {
    let aws = shared_stack().await?;
    let queue = sqs_queue(&aws).await;
    contract::a_queue_keeps_order_and_stores_a_resent_item_once(&queue, &Unique::new(), || {
        aws.drain::<Probe>("TicketsQueueUrl")
    })
    .await
}

#[tokio::test]
async fn a_message_over_256_kib_is_refused_in_memory() -> anyhow::Result<()> {
    contract::a_message_over_256_kib_is_refused(&MemoryQueue::default(), &Unique::new()).await
}

#[tokio::test]
async fn a_message_over_256_kib_is_refused_on_moto() -> anyhow::Result<()> {
    let aws = shared_stack().await?;
    contract::a_message_over_256_kib_is_refused(&sqs_queue(&aws).await, &Unique::new()).await
}

#[tokio::test]
async fn a_delayed_item_waits_for_its_delay_in_memory() -> anyhow::Result<()> {
    let queue = MemoryDelayedQueue::default();
    contract::a_delayed_item_waits_for_its_delay(&queue, &Unique::new(), || async {
        Ok(queue
            .sent()
            .into_iter()
            .filter(|(_, delay)| delay.is_zero())
            .map(|(item, _)| item)
            .collect())
    })
    .await
}

#[tokio::test]
async fn a_delayed_item_waits_for_its_delay_on_moto() -> anyhow::Result<()> {
    let aws = shared_stack().await?;
    let queue = SqsDelayQueue::new(aws_sdk_sqs::Client::new(&aws.sdk().await), aws.output("TurnsQueueUrl"));
    contract::a_delayed_item_waits_for_its_delay(&queue, &Unique::new(), || aws.drain::<Probe>("TurnsQueueUrl")).await
}

// ------------------------------------------------------------------ events

#[tokio::test]
async fn every_event_is_accepted_once_in_memory() -> anyhow::Result<()> {
    let events = MemoryEvents::default();
    contract::every_event_is_accepted_once(&events, &Unique::new(), || async { Ok(events.published()) }).await
}

#[tokio::test]
async fn every_event_is_accepted_once_on_moto() -> anyhow::Result<()> {
    let aws = shared_stack().await?;
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&aws.sdk().await),
        aws.output("EventBusName"),
    );
    // The notify rule delivers the events agents are told about to the notify queue.
    contract::every_event_is_accepted_once(&publisher, &Unique::new(), || async {
        let envelopes: Vec<Envelope> = aws.drain("NotifyQueueUrl").await?;
        Ok(envelopes.into_iter().map(|e| e.event).collect())
    })
    .await
}

// ------------------------------------------------------------------- media

async fn s3_store(aws: &LocalAws) -> S3MediaStore {
    S3MediaStore::new(s3_client(&aws.sdk().await), aws.output("MediaBucketName"))
        .with_kms_key(aws.output("HelpdeskKeyArn"))
}

/// A media store contract on a fresh in-memory bucket and on the shared stack's bucket.
macro_rules! media_contract {
    ($contract:ident: $in_memory:ident, $on_moto:ident) => {
        #[tokio::test]
        async fn $in_memory() -> anyhow::Result<()> {
            contract::$contract(&MemoryMediaStore::default(), &Unique::new()).await
        }

        #[tokio::test]
        async fn $on_moto() -> anyhow::Result<()> {
            let aws = shared_stack().await?;
            contract::$contract(&s3_store(&aws).await, &Unique::new()).await
        }
    };
}

media_contract!(
    an_object_appears_only_when_its_upload_finishes:
    an_object_appears_only_when_its_upload_finishes_in_memory,
    an_object_appears_only_when_its_upload_finishes_on_moto
);
media_contract!(
    an_aborted_upload_stores_nothing:
    an_aborted_upload_stores_nothing_in_memory,
    an_aborted_upload_stores_nothing_on_moto
);
media_contract!(
    the_start_of_an_object_tells_its_size_and_type:
    the_start_of_an_object_tells_its_size_and_type_in_memory,
    the_start_of_an_object_tells_its_size_and_type_on_moto
);
media_contract!(
    a_missing_object_and_a_bad_key_are_told_apart:
    a_missing_object_and_a_bad_key_are_told_apart_in_memory,
    a_missing_object_and_a_bad_key_are_told_apart_on_moto
);

/// The number after `name=` in a link's query.
fn query_number(link: &str, name: &str) -> Option<u64> {
    let (_, query) = link.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

#[tokio::test]
async fn a_link_names_its_object_and_lives_at_most_five_minutes_in_memory() -> anyhow::Result<()> {
    contract::a_link_names_its_object_and_lives_at_most_five_minutes(
        &MemoryMediaStore::default(),
        &Unique::new(),
        |link| query_number(link, "ttl"),
    )
    .await
}

#[tokio::test]
async fn a_link_names_its_object_and_lives_at_most_five_minutes_on_moto() -> anyhow::Result<()> {
    let aws = shared_stack().await?;
    contract::a_link_names_its_object_and_lives_at_most_five_minutes(&s3_store(&aws).await, &Unique::new(), |link| {
        query_number(link, "X-Amz-Expires")
    })
    .await
}

store_contract!(
    per_agent_aggregates_count_each_fact_once:
    per_agent_aggregates_count_each_fact_once_in_memory,
    per_agent_aggregates_count_each_fact_once_on_moto
);
