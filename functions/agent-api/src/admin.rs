//! What only admins read: the messages the webhook acknowledged that name no
//! customer, with their payloads.

use crate::AgentApi;
use crate::auth::Agent;
use crate::error::ApiError;
use crate::http::{Answer, query_param};
use helpdesk::domain::reports::DateRange;
use helpdesk::ports::{Clock, IdentityReader, ReportStore, TicketReader, UnattributedStore};
use lambda_http::Request;
use serde_json::json;

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: TicketReader + ReportStore + IdentityReader + UnattributedStore,
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
}
