//! What only admins read: the messages the webhook acknowledged that name no
//! customer, with their payloads.

use crate::AgentApi;
use crate::auth::Agent;
use crate::error::ApiError;
use crate::http::{Answer, query_param};
use helpdesk::domain::ids::TicketId;
use helpdesk::domain::reports::DateRange;
use helpdesk::ports::{AuditLog, ChangeFeed, Clock, IdentityReader, ReportStore, TicketReader, UnattributedStore};
use lambda_http::Request;
use serde_json::json;

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: TicketReader + ReportStore + IdentityReader + UnattributedStore + AuditLog + ChangeFeed,
    C: Clock,
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
}
