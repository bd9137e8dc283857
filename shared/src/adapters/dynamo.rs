//! The helpdesk table in DynamoDB behind the ticket and conversation ports.
//! Items are mapped with `serde_dynamo`; keys come from [`super::keys`].

use super::keys;
use crate::domain::attachment::{Fingerprint, MediaAttachment};
use crate::domain::conversation::Conversation;
use crate::domain::feed::{self, Change};
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::inbound::Pricing;
use crate::domain::ticket::{CustomerProfile, DeliveryState, DeliveryUpdate, OutboundLink, Ticket, TimelineEntry};
use crate::domain::views::{ListPage, Listed, Listing};
use crate::ports::{ChangeFeed, ConversationStore, FingerprintIndex, StoreError, TicketReader, TicketStore};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct TicketItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    ticket: Ticket,
}

/// A ticket's `META` item with its index attributes (every list it is in).
fn ticket_item(ticket: Ticket) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(TicketItem {
        pk: keys::ticket_pk(&ticket.id),
        sk: keys::TICKET_META_SK.to_owned(),
        ticket: ticket.clone(),
    })
    .map_err(corrupt)?;
    for (pk_attr, pk, sk_attr, sk) in keys::ticket_index_keys(&ticket) {
        item.insert(pk_attr.to_owned(), s(pk));
        item.insert(sk_attr.to_owned(), s(sk));
    }
    if let Some(until_ms) = ticket.keep_until_ms {
        item.insert(keys::TTL.to_owned(), n(until_ms / 1000));
    }
    Ok(item)
}

/// A change on the feed, kept [`feed::RETENTION_MS`] (DynamoDB's TTL).
#[derive(Serialize, Deserialize)]
struct FeedItem {
    pk: String,
    sk: String,
    expires_at: i64,
    #[serde(flatten)]
    change: Change,
}

#[derive(Serialize, Deserialize)]
struct TimelineItem {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery_rank: Option<u8>,
    /// DynamoDB's TTL (unix seconds): an entry written on a resolved ticket
    /// is kept as long as the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(flatten)]
    entry: TimelineEntry,
}

#[derive(Serialize, Deserialize)]
struct ConversationItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    conversation: Conversation,
}

#[derive(Serialize, Deserialize)]
struct AttachmentItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    attachment: MediaAttachment,
}

#[derive(Serialize, Deserialize)]
struct FingerprintItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    fingerprint: Fingerprint,
}

#[derive(Serialize, Deserialize)]
struct ProfileItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    profile: CustomerProfile,
}

#[derive(Serialize, Deserialize)]
struct OutboundLinkItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    link: OutboundLink,
}

pub(crate) fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::Backend(Box::new(e))
}

pub(crate) fn corrupt(e: serde_dynamo::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

/// True when a write failed only because its condition did not hold.
pub(crate) fn condition_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException")
}

fn timeline_item(ticket: TicketId, entry: &TimelineEntry) -> TimelineItem {
    TimelineItem {
        pk: keys::ticket_pk(&ticket),
        sk: keys::timeline_sk(entry.at_ms, &entry.id),
        delivery_rank: entry.delivery.map(DeliveryState::rank),
        expires_at: None,
        entry: entry.clone(),
    }
}

/// Which items' conditions failed, in order, when a transaction was
/// cancelled; `None` for any other error.
pub(crate) fn failed_conditions(e: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> Option<Vec<bool>> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Some(
            cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

/// True when a transaction was cancelled because its first item's condition
/// did not hold.
pub(crate) fn first_condition_failed(e: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> bool {
    failed_conditions(e).is_some_and(|failed| failed.first() == Some(&true))
}

/// The condition that lets `state` replace a stored delivery rank: only forward,
/// and `failed` never after `read`.
fn forward_limit(state: DeliveryState) -> u8 {
    match state {
        DeliveryState::Failed => DeliveryState::Read.rank(),
        other => other.rank(),
    }
}

impl DynamoStore {
    /// One item by key (strongly consistent), mapped from its item type.
    pub(crate) async fn get<T: DeserializeOwned>(&self, pk: String, sk: &str) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item
            .map(|item| serde_dynamo::from_item(item).map_err(corrupt))
            .transpose()
    }

    /// Deletes an item (idempotent: deleting what is not there succeeds).
    pub(crate) async fn delete_item(&self, pk: String, sk: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Stores an item unconditionally (idempotent by key).
    pub(crate) async fn put<T: Serialize>(&self, item: T) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Stores `item` only if the stored item's numeric `attribute` equals
    /// `expected`, or (`None`) if no item has its key yet. `Ok(false)` when the
    /// condition did not hold.
    pub(crate) async fn put_if<T: Serialize>(
        &self,
        item: T,
        attribute: &str,
        expected: Option<u64>,
    ) -> Result<bool, StoreError> {
        let item = serde_dynamo::to_item(item).map_err(corrupt)?;
        self.put_item_if(item, attribute, expected).await
    }

    /// [`Self::put_if`] for an item already mapped.
    async fn put_item_if(&self, item: Item, attribute: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let request = match expected {
            None => request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK),
            Some(v) => request
                .condition_expression("#a = :v")
                .expression_attribute_names("#a", attribute)
                .expression_attribute_values(":v", n(v)),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    /// Every item of a partition whose sort key starts with `prefix`, in sort-key order.
    pub(crate) async fn query_prefix<T: DeserializeOwned>(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<T>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true);
        self.query_as(request, usize::MAX).await
    }

    /// Every item of a partition, in sort-key order (eventually consistent).
    pub(crate) async fn query_partition<T: DeserializeOwned>(&self, pk: String) -> Result<Vec<T>, StoreError> {
        self.partition_items(pk)
            .await?
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(corrupt))
            .collect()
    }

    /// Every item of a partition, as stored.
    pub(crate) async fn partition_items(&self, pk: String) -> Result<Vec<Item>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_values(":pk", s(pk));
        self.query_all(request, usize::MAX).await
    }

    /// What a query returns (every page, at most `limit` items), mapped from its item type.
    pub(crate) async fn query_as<T: DeserializeOwned>(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        self.query_all(request, limit)
            .await?
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(corrupt))
            .collect()
    }

    pub(crate) async fn query_all(
        &self,
        mut request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        loop {
            let out = request.clone().send().await.map_err(backend)?;
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key() {
                Some(next) if items.len() < limit => request = request.set_exclusive_start_key(Some(next.clone())),
                _ => break,
            }
        }
        items.truncate(limit);
        Ok(items)
    }

    async fn put_forward(&self, item_key: Item, update: &DeliveryUpdate, must_exist: bool) -> Result<bool, StoreError> {
        let (state, error) = (update.state, update.error.as_deref());
        let mut expression = "SET delivery = :d, #rank = :r".to_owned();
        let mut condition = "(attribute_not_exists(#rank) OR #rank < :limit)".to_owned();
        if must_exist {
            condition = format!("attribute_exists(#pk) AND {condition}");
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .expression_attribute_names("#rank", keys::DELIVERY_RANK)
            .expression_attribute_values(":d", serde_dynamo::to_attribute_value(state).map_err(corrupt)?)
            .expression_attribute_values(":r", n(state.rank()))
            .expression_attribute_values(":limit", n(forward_limit(state)));
        if must_exist {
            request = request.expression_attribute_names("#pk", keys::PK);
        }
        if let Some(error) = error {
            expression.push_str(", delivery_error = :e");
            request = request.expression_attribute_values(":e", s(error));
        }
        if let Some(pricing) = &update.pricing {
            expression.push_str(", pricing = :p");
            request =
                request.expression_attribute_values(":p", serde_dynamo::to_attribute_value(pricing).map_err(corrupt)?);
        }
        match request
            .update_expression(expression)
            .condition_expression(condition)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}

impl FingerprintIndex for DynamoStore {
    async fn fingerprints(&self, band: &str) -> Result<Vec<Fingerprint>, StoreError> {
        let items: Vec<FingerprintItem> = self.query_partition(keys::phash_pk(band)).await?;
        Ok(items.into_iter().map(|f| f.fingerprint).collect())
    }

    async fn file_fingerprint(&self, band: &str, fingerprint: &Fingerprint) -> Result<(), StoreError> {
        let sk = keys::phash_sk(&fingerprint.phash, &fingerprint.ticket_id, &fingerprint.wamid);
        self.put(FingerprintItem {
            pk: keys::phash_pk(band),
            sk,
            fingerprint: fingerprint.clone(),
        })
        .await
    }
}

impl TicketReader for DynamoStore {
    async fn attachments(&self, ticket: &TicketId) -> Result<Vec<MediaAttachment>, StoreError> {
        let items: Vec<AttachmentItem> = self.query_prefix(keys::ticket_pk(ticket), keys::MEDIA_PREFIX).await?;
        Ok(items.into_iter().map(|a| a.attachment).collect())
    }

    async fn profile(&self, customer: &CustomerId) -> Result<Option<CustomerProfile>, StoreError> {
        let item: Option<ProfileItem> = self.get(keys::customer_pk(customer), keys::PROFILE_SK).await?;
        Ok(item.map(|p| p.profile))
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        let item: Option<TicketItem> = self.get(keys::ticket_pk(id), keys::TICKET_META_SK).await?;
        Ok(item.map(|t| t.ticket))
    }

    async fn timeline(&self, id: &TicketId) -> Result<Vec<TimelineEntry>, StoreError> {
        let items: Vec<TimelineItem> = self.query_prefix(keys::ticket_pk(id), keys::TIMELINE_PREFIX).await?;
        Ok(items.into_iter().map(|t| t.entry).collect())
    }

    /// One query of the listing's index, from the position after `after`.
    async fn list(&self, listing: &Listing, after: Option<&str>, limit: usize) -> Result<ListPage, StoreError> {
        let ((index, pk_attr, sk_attr), pk, prefix) = keys::listing_key(listing);
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(pk.clone()))
            .scan_index_forward(!listing.descending())
            .limit(limit.clamp(1, 100) as i32);
        request = match prefix {
            Some(prefix) => request
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", sk_attr)
                .expression_attribute_values(":prefix", s(prefix)),
            None => request.key_condition_expression("#pk = :pk"),
        };
        if let Some(position) = after {
            let ticket = keys::ticket_of_position(position)
                .ok_or_else(|| StoreError::Corrupt(format!("position {position:?} names no ticket")))?;
            let mut start = key(keys::ticket_pk(&ticket), keys::TICKET_META_SK);
            start.insert(pk_attr.to_owned(), s(pk));
            start.insert(sk_attr.to_owned(), s(position));
            request = request.set_exclusive_start_key(Some(start));
        }
        let out = request.send().await.map_err(backend)?;
        let mut items = Vec::new();
        for item in out.items.unwrap_or_default() {
            let position = match item.get(sk_attr) {
                Some(AttributeValue::S(p)) => p.clone(),
                _ => return Err(StoreError::Corrupt(format!("an item of {index} without {sk_attr}"))),
            };
            let ticket: TicketItem = serde_dynamo::from_item(item).map_err(corrupt)?;
            items.push(Listed {
                position,
                ticket: ticket.ticket,
            });
        }
        Ok(ListPage {
            items,
            more: out.last_evaluated_key.is_some_and(|k| !k.is_empty()),
        })
    }

    async fn count(&self, listing: &Listing) -> Result<u64, StoreError> {
        let ((index, pk_attr, sk_attr), pk, prefix) = keys::listing_key(listing);
        let mut total = 0u64;
        let mut start = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start);
            request = match &prefix {
                Some(prefix) => request
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", sk_attr)
                    .expression_attribute_values(":prefix", s(prefix.clone())),
                None => request.key_condition_expression("#pk = :pk"),
            };
            let out = request.send().await.map_err(backend)?;
            total += out.count.max(0) as u64;
            match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(next) => start = Some(next),
                None => return Ok(total),
            }
        }
    }
}

impl ChangeFeed for DynamoStore {
    /// One query per hour partition from the start to `upto_ms`.
    async fn changes(
        &self,
        after: Option<&str>,
        from_ms: i64,
        upto_ms: i64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError> {
        let start_ms = after.and_then(feed::time_of).unwrap_or(from_ms);
        let lower = after
            .map(str::to_owned)
            .unwrap_or_else(|| feed::position_upto(from_ms - 1));
        let upper = feed::position_upto(upto_ms);
        let mut changes = Vec::new();
        let mut hour = start_ms - start_ms.rem_euclid(keys::FEED_HOUR_MS);
        while hour <= upto_ms && changes.len() < limit {
            let mut start = None;
            loop {
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("#pk = :pk AND #sk BETWEEN :lower AND :upper")
                    .expression_attribute_names("#pk", keys::PK)
                    .expression_attribute_names("#sk", keys::SK)
                    .expression_attribute_values(":pk", s(keys::feed_pk(hour)))
                    .expression_attribute_values(":lower", s(lower.clone()))
                    .expression_attribute_values(":upper", s(upper.clone()))
                    .limit((limit - changes.len()).clamp(1, 1000) as i32)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(backend)?;
                for item in out.items.unwrap_or_default() {
                    let item: FeedItem = serde_dynamo::from_item(item).map_err(corrupt)?;
                    // BETWEEN includes its bounds; the position after which to read is excluded.
                    if Some(item.sk.as_str()) != after {
                        changes.push(item.change);
                    }
                }
                start = out.last_evaluated_key.filter(|k| !k.is_empty());
                if start.is_none() || changes.len() >= limit {
                    break;
                }
            }
            hour += keys::FEED_HOUR_MS;
        }
        changes.truncate(limit);
        Ok(changes)
    }
}

impl TicketStore for DynamoStore {
    async fn save_attachment(&self, ticket: &TicketId, attachment: &MediaAttachment) -> Result<(), StoreError> {
        let sk = keys::media_sk(&attachment.wamid);
        self.put(AttachmentItem {
            pk: keys::ticket_pk(ticket),
            sk,
            attachment: attachment.clone(),
        })
        .await
    }

    /// One `UpdateItem` per item of the ticket's partition (idempotent: the
    /// same time, or its absence, written again).
    async fn keep_ticket_items_until(&self, ticket: &TicketId, until_ms: Option<i64>) -> Result<(), StoreError> {
        let pk = keys::ticket_pk(ticket);
        for item in self.partition_items(pk.clone()).await? {
            let Some(AttributeValue::S(sk)) = item.get(keys::SK) else {
                continue;
            };
            let update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), sk)))
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#ttl", keys::TTL);
            let update = match until_ms {
                Some(ms) => update
                    .update_expression("SET #ttl = :ttl")
                    .expression_attribute_values(":ttl", n(ms / 1000)),
                None => update.update_expression("REMOVE #ttl"),
            };
            match update.send().await {
                Ok(_) => {}
                // Deleted in between (an erasure): nothing to keep.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(())
    }

    async fn save_profile(&self, profile: &CustomerProfile) -> Result<(), StoreError> {
        let pk = keys::customer_pk(&profile.customer);
        self.put(ProfileItem {
            pk,
            sk: keys::PROFILE_SK.to_owned(),
            profile: profile.clone(),
        })
        .await
    }

    /// One `TransactWriteItems` (at most 100 items: a command writes a handful
    /// of entries): the ticket's conditional put and a put of each entry that
    /// is not stored yet. An entry found stored cancels the transaction; it is
    /// left as it is (its delivery state may have moved on) and the rest is
    /// written again without it.
    async fn save_ticket(
        &self,
        ticket: &Ticket,
        expected_version: Option<u64>,
        entries: &[TimelineEntry],
    ) -> Result<(), StoreError> {
        let mut stored = ticket.clone();
        stored.version = expected_version.unwrap_or(0) + 1;
        let change = feed::change_of(&stored, stored.version);
        let feed_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(
                serde_dynamo::to_item(FeedItem {
                    pk: keys::feed_pk(change.at_ms),
                    sk: change.position.clone(),
                    expires_at: (change.at_ms + feed::RETENTION_MS) / 1000,
                    change,
                })
                .map_err(corrupt)?,
            ))
            .build()
            .map_err(backend)?;
        let item = ticket_item(stored)?;
        let mut entries: Vec<&TimelineEntry> = entries.iter().collect();
        loop {
            let ticket_put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .expression_attribute_names("#pk", keys::PK);
            let ticket_put = match expected_version {
                None => ticket_put.condition_expression("attribute_not_exists(#pk)"),
                Some(v) => ticket_put
                    .condition_expression("attribute_exists(#pk) AND #v = :v")
                    .expression_attribute_names("#v", keys::VERSION)
                    .expression_attribute_values(":v", n(v)),
            };
            // The ticket, its change on the feed, then its new entries.
            let mut request = self
                .client
                .transact_write_items()
                .transact_items(
                    TransactWriteItem::builder()
                        .put(ticket_put.build().map_err(backend)?)
                        .build(),
                )
                .transact_items(TransactWriteItem::builder().put(feed_put.clone()).build());
            for entry in &entries {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(
                        serde_dynamo::to_item(TimelineItem {
                            expires_at: ticket.keep_until_ms.map(|ms| ms / 1000),
                            ..timeline_item(ticket.id.clone(), entry)
                        })
                        .map_err(corrupt)?,
                    ))
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", keys::PK)
                    .build()
                    .map_err(backend)?;
                request = request.transact_items(TransactWriteItem::builder().put(put).build());
            }
            let failed = match request.send().await {
                Ok(_) => return Ok(()),
                Err(e) => match failed_conditions(&e) {
                    Some(failed) => failed,
                    None => return Err(backend(e)),
                },
            };
            if failed.first() == Some(&true) {
                return Err(StoreError::Conflict);
            }
            let before = entries.len();
            let mut index = failed.into_iter().skip(2);
            entries.retain(|_| index.next() != Some(true));
            if entries.len() == before {
                return Err(StoreError::Backend("the ticket's transaction was cancelled".into()));
            }
        }
    }

    async fn append_entry(&self, ticket: &TicketId, entry: &TimelineEntry) -> Result<bool, StoreError> {
        let item = timeline_item(ticket.clone(), entry);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn replace_entry(&self, ticket: &TicketId, entry: &TimelineEntry) -> Result<(), StoreError> {
        self.put(timeline_item(ticket.clone(), entry)).await
    }

    async fn link_outbound(&self, wamid: &str, link: &OutboundLink) -> Result<(), StoreError> {
        let sk = keys::OUTBOUND_LINK_SK.to_owned();
        self.put(OutboundLinkItem {
            pk: keys::wamid_pk(wamid),
            sk,
            link: link.clone(),
        })
        .await
    }

    async fn find_outbound(&self, wamid: &str) -> Result<Option<OutboundLink>, StoreError> {
        let item: Option<OutboundLinkItem> = self.get(keys::wamid_pk(wamid), keys::OUTBOUND_LINK_SK).await?;
        Ok(item.map(|l| l.link))
    }

    async fn advance_delivery(
        &self,
        ticket: &TicketId,
        at_ms: i64,
        wamid: &str,
        update: &DeliveryUpdate,
    ) -> Result<bool, StoreError> {
        let item_key = key(keys::ticket_pk(ticket), &keys::timeline_sk(at_ms, wamid));
        self.put_forward(item_key, update, true).await
    }

    async fn park_status(&self, wamid: &str, update: &DeliveryUpdate) -> Result<(), StoreError> {
        let item_key = key(keys::wamid_pk(wamid), keys::PARKED_STATUS_SK);
        self.put_forward(item_key, update, false).await.map(|_| ())
    }

    async fn parked_status(&self, wamid: &str) -> Result<Option<DeliveryUpdate>, StoreError> {
        #[derive(Deserialize)]
        struct Parked {
            delivery: DeliveryState,
            #[serde(default)]
            delivery_error: Option<String>,
            #[serde(default)]
            pricing: Option<Pricing>,
        }
        let item: Option<Parked> = self.get(keys::wamid_pk(wamid), keys::PARKED_STATUS_SK).await?;
        Ok(item.map(|p| DeliveryUpdate {
            state: p.delivery,
            error: p.delivery_error,
            pricing: p.pricing,
        }))
    }
}

impl ConversationStore for DynamoStore {
    /// A conversation stored before there was one per business number is
    /// read once more as this number's, and saved under it from then on.
    async fn conversation(
        &self,
        customer: &CustomerId,
        phone_number_id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let pk = keys::customer_pk(customer);
        let item: Option<ConversationItem> = self.get(pk.clone(), &keys::conversation_sk(phone_number_id)).await?;
        if let Some(item) = item {
            return Ok(Some(item.conversation));
        }
        let legacy: Option<ConversationItem> = self.get(pk, keys::LEGACY_CONVERSATION_SK).await?;
        Ok(legacy.map(|item| Conversation {
            phone_number_id: phone_number_id.to_owned(),
            // Saved under the new key as a new item.
            version: 0,
            ..item.conversation
        }))
    }

    async fn save_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        let expected = conversation.version;
        let mut stored = conversation.clone();
        stored.version = expected + 1;
        let item = ConversationItem {
            pk: keys::customer_pk(&conversation.customer),
            sk: keys::conversation_sk(&conversation.phone_number_id),
            conversation: stored,
        };
        match self
            .put_if(item, keys::VERSION, (expected > 0).then_some(expected))
            .await?
        {
            true => Ok(()),
            false => Err(StoreError::Conflict),
        }
    }
}
