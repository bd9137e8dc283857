//! Customers' identities in the helpdesk table: the identity map
//! (`IDENT#<kind>#<value>` / `LINK`, naming the customer a phone, BSUID or
//! parent id belongs to), each customer's identity (`CUST#<key>` /
//! `IDENTITY`), and the messages that name no customer
//! (`UNATTRIBUTED#<day>` / `<ms>#<wamid>`, kept whole for admins), and the
//! workspace's audit trail (`AUDIT#<day>` / `<ms>#<agent>#<request>`).

use super::dynamo::DynamoStore;
use super::dynamo::{backend, condition_failed, corrupt, key, s};
use super::keys;
use crate::domain::assignment::Availability;
use crate::domain::attachment::{Fingerprint, MediaAttachment};
use crate::domain::audit::{AuditRecord, Presence};
use crate::domain::identity::{Handle, Identity, Username};
use crate::domain::ids::CustomerId;
use crate::domain::ids::TicketId;
use crate::domain::inbound::Unattributed;
use crate::domain::privacy::ERASED;
use crate::domain::reports::{DateRange, day_of};
use crate::ports::{
    AuditLog, AvailabilityStore, Erasure, IdentityReader, IdentityStore, PresenceStore, StoreError, UnattributedStore,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Serialize, Deserialize)]
struct LinkItem {
    pk: String,
    sk: String,
    customer: CustomerId,
}

#[derive(Serialize, Deserialize)]
struct IdentityItem {
    pk: String,
    sk: String,
    /// The username's entry in the lookup index, when there is a username.
    #[serde(flatten, skip_deserializing, skip_serializing_if = "Option::is_none")]
    lookup: Option<HashMap<String, String>>,
    #[serde(flatten)]
    identity: Identity,
}

#[derive(Serialize, Deserialize)]
struct UnattributedItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    message: Unattributed,
}

impl IdentityReader for DynamoStore {
    async fn owner(&self, handle: &Handle) -> Result<Option<CustomerId>, StoreError> {
        let item: Option<LinkItem> = self
            .get(keys::identity_pk(handle.kind(), handle.value()), keys::IDENTITY_LINK_SK)
            .await?;
        Ok(item.map(|l| l.customer))
    }

    async fn identity(&self, customer: &CustomerId) -> Result<Option<Identity>, StoreError> {
        let item: Option<IdentityItem> = self.get(keys::customer_pk(customer), keys::IDENTITY_SK).await?;
        Ok(item.map(|i| i.identity))
    }

    /// The lookup index: identity items carry their username's key.
    async fn owners_of_username(&self, username: &Username) -> Result<Vec<CustomerId>, StoreError> {
        let (index, pk_attr, _) = keys::GSI_LOOKUP;
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(keys::username_pk(username.as_str())));
        let items: Vec<IdentityItem> = self.query_as(request, 100).await?;
        let mut owners: Vec<CustomerId> = items.into_iter().map(|i| i.identity.customer).collect();
        owners.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(owners)
    }
}

impl IdentityStore for DynamoStore {
    async fn link(&self, handle: &Handle, customer: &CustomerId) -> Result<(), StoreError> {
        self.put(LinkItem {
            pk: keys::identity_pk(handle.kind(), handle.value()),
            sk: keys::IDENTITY_LINK_SK.to_owned(),
            customer: customer.clone(),
        })
        .await
    }

    async fn save_identity(&self, identity: &Identity) -> Result<(), StoreError> {
        let (_, pk_attr, sk_attr) = keys::GSI_LOOKUP;
        let lookup = identity
            .username
            .as_ref()
            .map(|u| (keys::username_pk(u.as_str()), identity.customer.as_str().to_owned()));
        self.put(IdentityItem {
            pk: keys::customer_pk(&identity.customer),
            sk: keys::IDENTITY_SK.to_owned(),
            lookup: lookup.map(|(pk, sk)| HashMap::from([(pk_attr.to_owned(), pk), (sk_attr.to_owned(), sk)])),
            identity: identity.clone(),
        })
        .await
    }
}

impl UnattributedStore for DynamoStore {
    async fn keep(&self, message: &Unattributed) -> Result<(), StoreError> {
        self.put(UnattributedItem {
            pk: keys::unattributed_pk(&day_of(message.received_at_ms)),
            sk: keys::unattributed_sk(message.received_at_ms, &message.wamid),
            message: message.clone(),
        })
        .await
    }

    /// One query per day (each day is one partition), oldest first.
    async fn unattributed(&self, from: &str, to: &str) -> Result<Vec<Unattributed>, StoreError> {
        let range = DateRange::between(from, to).map_err(|e| StoreError::Corrupt(format!("range: {e}")))?;
        let mut messages = Vec::new();
        for day in range.days() {
            let items: Vec<UnattributedItem> = self.query_partition(keys::unattributed_pk(&day)).await?;
            messages.extend(items.into_iter().map(|i| i.message));
        }
        Ok(messages)
    }
}

#[derive(Serialize, Deserialize)]
struct AuditItem {
    pk: String,
    sk: String,
    /// DynamoDB's TTL: the trail is forgotten after its retention.
    expires_at: i64,
    #[serde(flatten)]
    record: AuditRecord,
}

impl AuditLog for DynamoStore {
    async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.put(AuditItem {
            pk: keys::audit_pk(&day_of(record.at_ms)),
            sk: keys::audit_sk(record.at_ms, &record.agent, &record.request_id),
            expires_at: record.keep_until_ms / 1000,
            record: record.clone(),
        })
        .await
    }

    /// One query per day (each day is one partition), oldest first.
    async fn audit_trail(&self, from: &str, to: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let range = DateRange::between(from, to).map_err(|e| StoreError::Corrupt(format!("range: {e}")))?;
        let mut records = Vec::new();
        for day in range.days() {
            let items: Vec<AuditItem> = self.query_partition(keys::audit_pk(&day)).await?;
            records.extend(items.into_iter().map(|i| i.record));
        }
        Ok(records)
    }
}

#[derive(Serialize, Deserialize)]
struct PresenceItem {
    pk: String,
    sk: String,
    /// DynamoDB's TTL clears what readers already ignore.
    expires_at: i64,
    #[serde(flatten)]
    presence: Presence,
}

impl PresenceStore for DynamoStore {
    async fn set_presence(&self, ticket: &TicketId, presence: &Presence) -> Result<(), StoreError> {
        self.put(PresenceItem {
            pk: keys::presence_pk(ticket),
            sk: presence.agent.clone(),
            expires_at: presence.until_ms / 1000 + 1,
            presence: presence.clone(),
        })
        .await
    }

    /// One partition per ticket; TTL deletes lazily, so expiry is checked here.
    async fn presence(&self, ticket: &TicketId, now_ms: i64) -> Result<Vec<Presence>, StoreError> {
        let items: Vec<PresenceItem> = self.query_partition(keys::presence_pk(ticket)).await?;
        Ok(items
            .into_iter()
            .map(|i| i.presence)
            .filter(|p| p.until_ms > now_ms)
            .collect())
    }
}

impl Erasure for DynamoStore {
    /// One query of the ticket's partition: each timeline item rewritten
    /// without its contents, each attachment record deleted.
    async fn erase_ticket_contents(&self, ticket: &TicketId) -> Result<Vec<MediaAttachment>, StoreError> {
        let items = self.partition_items(keys::ticket_pk(ticket)).await?;
        let mut removed = Vec::new();
        for item in items {
            let sk = match item.get(keys::SK) {
                Some(AttributeValue::S(sk)) => sk.clone(),
                _ => continue,
            };
            if sk.starts_with(keys::TIMELINE_PREFIX) {
                let mut erased = item.clone();
                for attribute in ["message", "data", "delivery_error"] {
                    erased.remove(attribute);
                }
                erased.insert("summary".to_owned(), s(ERASED));
                if erased != item {
                    self.client
                        .put_item()
                        .table_name(&self.table)
                        .set_item(Some(erased))
                        .send()
                        .await
                        .map_err(backend)?;
                }
            } else if sk.starts_with(keys::MEDIA_PREFIX) {
                let attachment: AttachmentRecord = serde_dynamo::from_item(item).map_err(corrupt)?;
                self.delete_item(keys::ticket_pk(ticket), &sk).await?;
                removed.push(attachment.attachment);
            }
        }
        Ok(removed)
    }

    async fn forget_fingerprint(&self, band: &str, fingerprint: &Fingerprint) -> Result<(), StoreError> {
        let sk = keys::phash_sk(&fingerprint.phash, &fingerprint.ticket_id, &fingerprint.wamid);
        self.delete_item(keys::phash_pk(band), &sk).await
    }

    async fn forget_customer(&self, customer: &CustomerId, handles: &[Handle]) -> Result<(), StoreError> {
        let items = self.partition_items(keys::customer_pk(customer)).await?;
        for item in items {
            if let Some(AttributeValue::S(sk)) = item.get(keys::SK) {
                self.delete_item(keys::customer_pk(customer), sk).await?;
            }
        }
        for handle in handles {
            // A link that moved to someone else stays theirs.
            let result = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(
                    keys::identity_pk(handle.kind(), handle.value()),
                    keys::IDENTITY_LINK_SK,
                )))
                .condition_expression("customer = :c")
                .expression_attribute_values(":c", s(customer.as_str()))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(())
    }
}

/// An attachment record as stored (its key attributes beside it).
#[derive(Deserialize)]
struct AttachmentRecord {
    #[serde(flatten)]
    attachment: MediaAttachment,
}

#[derive(Serialize, Deserialize)]
struct AvailabilityItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    availability: Availability,
}

impl AvailabilityStore for DynamoStore {
    /// One item per team; when they were last assigned there is kept.
    async fn set_available(&self, agent: &str, teams: &[String], at_ms: i64) -> Result<(), StoreError> {
        for team in teams {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(keys::available_pk(team), agent)))
                .update_expression("SET #agent = :agent, #team = :team, #since = :since")
                .expression_attribute_names("#agent", "agent")
                .expression_attribute_names("#team", "team")
                .expression_attribute_names("#since", "since_ms")
                .expression_attribute_values(":agent", s(agent))
                .expression_attribute_values(":team", s(team.as_str()))
                .expression_attribute_values(":since", AttributeValue::N(at_ms.to_string()))
                .send()
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    async fn set_away(&self, agent: &str, teams: &[String]) -> Result<(), StoreError> {
        for team in teams {
            self.delete_item(keys::available_pk(team), agent).await?;
        }
        Ok(())
    }

    async fn available(&self, team: &str) -> Result<Vec<Availability>, StoreError> {
        let items: Vec<AvailabilityItem> = self.query_partition(keys::available_pk(team)).await?;
        Ok(items.into_iter().map(|i| i.availability).collect())
    }

    /// Only while the agent is still available there.
    async fn note_assigned(&self, team: &str, agent: &str, at_ms: i64) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::available_pk(team), agent)))
            .update_expression("SET #last = :at")
            .condition_expression("attribute_exists(#agent)")
            .expression_attribute_names("#last", "last_assigned_at_ms")
            .expression_attribute_names("#agent", "agent")
            .expression_attribute_values(":at", AttributeValue::N(at_ms.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}
