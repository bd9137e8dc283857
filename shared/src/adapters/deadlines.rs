//! The SLA deadline index in the helpdesk table: one item per ticket and
//! deadline kind (`TICKET#<id>` / `SLA#<kind>`), projected into gsi2 under its
//! minute bucket and shard. Moving a deadline rewrites the item, which moves it
//! between buckets atomically; the sweep claims an item with a conditional
//! update that holds only while the item still names the deadline it read.

use super::dynamo::{DynamoStore, backend, condition_failed, key, n, s};
use super::keys;
use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::sla::{Deadline, DeadlineKind};
use crate::ports::{DeadlineIndex, DueDeadline, StoreError};
use serde::{Deserialize, Serialize};

const MS_PER_MINUTE: i64 = 60_000;

#[derive(Serialize, Deserialize)]
struct DeadlineItem {
    pk: String,
    sk: String,
    gsi2pk: String,
    gsi2sk: String,
    ticket_id: TicketId,
    customer: CustomerId,
    #[serde(flatten)]
    deadline: Deadline,
    /// `Stage::as_str`, for conditions.
    stage_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claimed_until_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_claimed_ms: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct CursorItem {
    pk: String,
    sk: String,
    minute: i64,
}

impl DeadlineIndex for DynamoStore {
    async fn sync_deadlines(
        &self,
        ticket: &TicketId,
        customer: &CustomerId,
        deadlines: &[Deadline],
        previous: Option<&[Deadline]>,
    ) -> Result<(), StoreError> {
        for kind in DeadlineKind::ALL {
            let wanted = deadlines.iter().find(|d| d.kind == kind);
            let held = previous.map(|p| p.iter().find(|d| d.kind == kind));
            match (wanted, held) {
                (Some(w), Some(Some(h))) if w == h => {}
                (Some(w), _) => {
                    let minute = w.at_ms.div_euclid(MS_PER_MINUTE);
                    self.put(DeadlineItem {
                        pk: keys::ticket_pk(ticket),
                        sk: keys::deadline_sk(kind.as_str()),
                        gsi2pk: keys::due_pk(minute, keys::due_shard(ticket)),
                        gsi2sk: keys::due_sk(w.at_ms, ticket, kind.as_str()),
                        ticket_id: ticket.clone(),
                        customer: customer.clone(),
                        deadline: *w,
                        stage_key: w.stage.as_str(),
                        claimed_until_ms: None,
                        first_claimed_ms: None,
                    })
                    .await?;
                }
                (None, Some(None)) => {}
                (None, _) => {
                    self.client
                        .delete_item()
                        .table_name(&self.table)
                        .set_key(Some(key(keys::ticket_pk(ticket), &keys::deadline_sk(kind.as_str()))))
                        .send()
                        .await
                        .map_err(backend)?;
                }
            }
        }
        Ok(())
    }

    async fn due_in(&self, minute: i64, now_ms: i64) -> Result<(Vec<DueDeadline>, usize), StoreError> {
        let mut due = Vec::new();
        let mut read = 0;
        for shard in 0..keys::DUE_SHARDS {
            let request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI_DUE)
                .key_condition_expression("#pk = :pk AND #sk <= :upto")
                .expression_attribute_names("#pk", keys::GSI_DUE_PK)
                .expression_attribute_names("#sk", keys::GSI_DUE_SK)
                .expression_attribute_values(":pk", s(keys::due_pk(minute, shard)))
                .expression_attribute_values(":upto", s(keys::due_sk_upto(now_ms)));
            let items: Vec<DeadlineItem> = self.query_as(request, usize::MAX).await?;
            read += items.len();
            for item in items {
                due.push(DueDeadline {
                    ticket_id: item.ticket_id,
                    customer: item.customer,
                    deadline: item.deadline,
                    claimed_until_ms: item.claimed_until_ms,
                    first_claimed_ms: item.first_claimed_ms,
                });
            }
        }
        Ok((due, read))
    }

    async fn claim(&self, due: &DueDeadline, now_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::ticket_pk(&due.ticket_id),
                &keys::deadline_sk(due.deadline.kind.as_str()),
            )))
            .update_expression("SET #claimed = :until, #first = if_not_exists(#first, :now)")
            .condition_expression(
                "#at = :at AND #stage = :stage AND (attribute_not_exists(#claimed) OR #claimed <= :now)",
            )
            .expression_attribute_names("#at", keys::DEADLINE_AT)
            .expression_attribute_names("#stage", keys::DEADLINE_STAGE)
            .expression_attribute_names("#claimed", keys::DEADLINE_CLAIMED_UNTIL)
            .expression_attribute_names("#first", keys::DEADLINE_FIRST_CLAIMED)
            .expression_attribute_values(":at", n(due.deadline.at_ms))
            .expression_attribute_values(":stage", s(due.deadline.stage.as_str()))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":until", n(until_ms))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn sweep_cursor(&self) -> Result<Option<i64>, StoreError> {
        let item: Option<CursorItem> = self.get(keys::SWEEP_PK.to_owned(), keys::SWEEP_SK).await?;
        Ok(item.map(|c| c.minute))
    }

    async fn move_sweep_cursor(&self, previous: Option<i64>, minute: i64) -> Result<bool, StoreError> {
        let cursor = CursorItem {
            pk: keys::SWEEP_PK.to_owned(),
            sk: keys::SWEEP_SK.to_owned(),
            minute,
        };
        // Minutes since the epoch are positive: the cursor is never before 1970.
        let previous = previous.map(|m| m.max(0) as u64);
        self.put_if(cursor, keys::SWEEP_MINUTE, previous).await
    }
}
