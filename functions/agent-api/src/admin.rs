//! What only admins read: the messages the webhook acknowledged that name no
//! customer, with their payloads.

use crate::auth::Agent;
use crate::error::ApiError;
use crate::http::{Answer, idempotency_key, query_param};
use crate::{AgentApi, AgentStore};
use helpdesk::domain::commands::{EraseCustomer, TicketCommand};
use helpdesk::domain::ids::TicketId;
use helpdesk::domain::outbound::OutboundBody;
use helpdesk::domain::reports::DateRange;
use helpdesk::domain::ticket::TimelineEntry;
use helpdesk::domain::views::Listing;
use helpdesk::ports::{Clock, MediaLinks, Queue, StoreError};
use lambda_http::Request;
use serde_json::json;

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: AgentStore,
    T: Queue<TicketCommand>,
    C: Clock,
    L: MediaLinks,
{
    /// `GET /api/admin/unattributed?from=2026-11-01&to=2026-11-30`: messages the
    /// webhook acknowledged that name no customer, with their payloads.
    pub(crate) async fn unattributed(&self, request: &Request, agent: &Agent) -> Result<Answer, ApiError> {
        let range = DateRange::parse(
            query_param(request, "from").as_deref(),
            query_param(request, "to").as_deref(),
            self.clock.now_ms(),
        )
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let messages = self.store.unattributed(&range.from(), &range.to()).await?;
        tracing::info!(audit = "unattributed_read", agent = %agent.name, count = messages.len(), "unattributed messages read");
        Ok(Answer::ok(
            json!({"from": range.from(), "to": range.to(), "messages": messages}),
        ))
    }

    /// `GET /api/audit?from=2026-11-01&to=2026-11-30&agent=ana&ticket=TK-…`:
    /// the audit trail of those days, oldest first, filtered by agent and ticket.
    pub(crate) async fn audit_trail(&self, request: &Request) -> Result<Answer, ApiError> {
        let range = DateRange::parse(
            query_param(request, "from").as_deref(),
            query_param(request, "to").as_deref(),
            self.clock.now_ms(),
        )
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let agent = query_param(request, "agent");
        let ticket = match query_param(request, "ticket") {
            Some(id) => Some(TicketId::parse(id).map_err(|e| ApiError::BadRequest(format!("ticket: {e}")))?),
            None => None,
        };
        let records: Vec<_> = self
            .store
            .audit_trail(&range.from(), &range.to())
            .await?
            .into_iter()
            .filter(|r| r.matches(agent.as_deref(), ticket.as_ref()))
            .collect();
        Ok(Answer::ok(
            json!({"from": range.from(), "to": range.to(), "records": records}),
        ))
    }

    /// `GET /api/customers/{id}/export`: everything the helpdesk holds about
    /// a customer, for a privacy request: their identity (unmasked: it is
    /// theirs), profile, conversations with the bot, and every ticket with its
    /// timeline and files' records (the files themselves stay in S3; each
    /// record names its key).
    pub(crate) async fn export(&self, customer: &str) -> Result<Answer, ApiError> {
        let customer = self.customer_named(customer).await?;
        let identity = self.store.identity(&customer).await?;
        let profile = self.store.profile(&customer).await?;
        let listing = Listing::Customer {
            customer: customer.clone(),
        };
        let mut tickets = Vec::new();
        let mut numbers: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list(&listing, after.as_deref(), 100).await?;
            for listed in &page.items {
                let t = &listed.ticket;
                if !numbers.contains(&t.phone_number_id) {
                    numbers.push(t.phone_number_id.clone());
                }
                tickets.push(json!({
                    "ticket": t,
                    "timeline": self.store.timeline(&t.id).await?,
                    "attachments": self.store.attachments(&t.id).await?,
                }));
            }
            after = page.items.last().map(|l| l.position.clone());
            if !page.more || after.is_none() {
                break;
            }
        }
        let mut conversations = Vec::new();
        for number in &numbers {
            conversations.extend(self.store.conversation(&customer, number).await?);
        }
        if tickets.is_empty() && identity.is_none() && profile.is_none() {
            return Err(ApiError::NotFound);
        }
        Ok(Answer::ok(json!({
            "customer": customer, "exported_at_ms": self.clock.now_ms(),
            "identity": identity, "profile": profile,
            "conversations": conversations, "tickets": tickets,
        })))
    }

    /// `DELETE /api/customers/{id}`: a privacy erasure. The customer's files
    /// are deleted from S3 now; `tickets` then saves every ticket of theirs
    /// without its contents and forgets their identity, profile and
    /// conversations, in order after what is already queued for them. KPI
    /// counts stay. 202; asking again is harmless.
    pub(crate) async fn erase(&self, request: &Request, customer: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let customer = self.customer_named(customer).await?;
        let listing = Listing::Customer {
            customer: customer.clone(),
        };
        let mut files = 0;
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list(&listing, after.as_deref(), 100).await?;
            for listed in &page.items {
                let received = self.store.attachments(&listed.ticket.id).await?;
                let sent = self.store.timeline(&listed.ticket.id).await?;
                let keys = received
                    .into_iter()
                    .filter_map(|a| a.s3_key)
                    .chain(sent.iter().filter_map(sent_file));
                for key in keys {
                    self.media
                        .delete(&key)
                        .await
                        .map_err(|e| ApiError::Store(StoreError::Backend(e)))?;
                    files += 1;
                }
            }
            after = page.items.last().map(|l| l.position.clone());
            if !page.more || after.is_none() {
                break;
            }
        }
        self.tickets
            .send(&[TicketCommand::EraseCustomer(EraseCustomer {
                customer: customer.clone(),
                by: agent.name.clone(),
                at_ms: self.clock.now_ms(),
                request_id: idempotency_key(request),
            })])
            .await?;
        Ok(Answer::accepted(
            json!({"status": "erasing", "customer": customer, "files_deleted": files}),
        ))
    }
}

/// The stored file an agent sent, if the entry is one.
fn sent_file(entry: &TimelineEntry) -> Option<String> {
    let mut body: OutboundBody = serde_json::from_value(entry.message.clone()?).ok()?;
    body.media_mut().map(|(key, _, _)| key.to_owned())
}
