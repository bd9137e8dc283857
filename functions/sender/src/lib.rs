//! The sender function: delivers `outbound.fifo` through the Graph API from the
//! business number the customer wrote to, retries what is transient, and tells
//! `tickets` what happened (accepted under a wamid, or refused for good).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::clock::SharedClock;
use helpdesk::adapters::graph::GraphClient;
use helpdesk::adapters::lambda_sqs::handle_in_order;
use helpdesk::adapters::secrets::whatsapp_secrets;
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::commands::{RecordOutbound, RecordSendFailure, TicketCommand};
use helpdesk::domain::outbound::OutboundRequest;
use helpdesk::ports::{Clock, GraphApi, GraphError, Queue, QueueError};
use lambda_runtime::LambdaEvent;
use std::time::Duration;

/// In-invocation retries of a transient Graph error; past them the message is
/// redelivered by SQS after its visibility timeout (and reaches the DLQ after 5).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32, error: &GraphError) -> Duration {
        let backoff = self.first_delay.saturating_mul(2u32.saturating_pow(attempt));
        let asked = error.retry_after.map(Duration::from_secs).unwrap_or_default();
        backoff.max(asked).min(self.max_delay)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("the Graph API kept failing transiently (code {code}, HTTP {http_status})")]
    Transient { code: i64, http_status: u16 },
    #[error("queue failed")]
    Queue(#[from] QueueError),
}

pub struct Sender<G, T, C> {
    graph: G,
    tickets: T,
    clock: C,
    retry: RetryPolicy,
}

impl Sender<GraphClient, SqsQueue<TicketCommand>, SharedClock> {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let secrets = whatsapp_secrets(env, sdk).await?;
        let graph = GraphClient::from_env(env, secrets.access_token)?;
        let tickets = SqsQueue::new(aws_sdk_sqs::Client::new(sdk), env.require("TICKETS_QUEUE_URL")?);
        Ok(Sender::new(graph, tickets, env.clock(), RetryPolicy::default()))
    }
}

impl<G: GraphApi, T: Queue<TicketCommand>, C: Clock> Sender<G, T, C> {
    pub fn new(graph: G, tickets: T, clock: C, retry: RetryPolicy) -> Self {
        Sender {
            graph,
            tickets,
            clock,
            retry,
        }
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(handle_in_order(event.payload, |request: OutboundRequest| self.deliver(request)).await)
    }

    /// Sends one message and records the outcome on its ticket.
    pub async fn deliver(&self, request: OutboundRequest) -> Result<(), SenderError> {
        if let Err(invalid) = request.body.validate() {
            tracing::warn!(ticket = %request.ticket_id, error = %invalid, "message refused before sending");
            return self.record_failure(&request, None, invalid.to_string()).await;
        }
        let mut attempt = 0;
        loop {
            match self
                .graph
                .send_message(&request.phone_number_id, &request.customer, &request.body)
                .await
            {
                Ok(wamid) => {
                    tracing::info!(ticket = %request.ticket_id, attempt, "message accepted by the Graph API");
                    let command = TicketCommand::RecordOutbound(RecordOutbound {
                        ticket_id: request.ticket_id.clone(),
                        customer: request.customer.clone(),
                        idempotency_key: request.idempotency_key.clone(),
                        wamid,
                        at_ms: self.clock.now_ms(),
                        author: request.author.clone(),
                        body: request.body.clone(),
                    });
                    self.tickets.send(&[command]).await?;
                    return Ok(());
                }
                Err(error) if error.is_transient() => {
                    attempt += 1;
                    tracing::warn!(ticket = %request.ticket_id, code = error.code, http_status = error.http_status, attempt, "transient Graph API error");
                    if attempt >= self.retry.attempts {
                        return Err(SenderError::Transient {
                            code: error.code,
                            http_status: error.http_status,
                        });
                    }
                    tokio::time::sleep(self.retry.delay(attempt - 1, &error)).await;
                }
                Err(error) => {
                    tracing::warn!(ticket = %request.ticket_id, code = error.code, http_status = error.http_status, "message refused by the Graph API");
                    return self
                        .record_failure(&request, Some(error.code), refusal_reason(&error))
                        .await;
                }
            }
        }
    }

    async fn record_failure(
        &self,
        request: &OutboundRequest,
        code: Option<i64>,
        reason: String,
    ) -> Result<(), SenderError> {
        let command = TicketCommand::RecordSendFailure(RecordSendFailure {
            ticket_id: request.ticket_id.clone(),
            customer: request.customer.clone(),
            idempotency_key: request.idempotency_key.clone(),
            at_ms: self.clock.now_ms(),
            author: request.author.clone(),
            body: request.body.clone(),
            code,
            reason,
        });
        self.tickets.send(&[command]).await?;
        Ok(())
    }
}

/// A reason an agent can act on, from the error code.
fn refusal_reason(error: &GraphError) -> String {
    match error.code {
        131047 => "the 24-hour window is closed; only a template can reach the customer".into(),
        190 => "the WhatsApp access token is invalid or expired".into(),
        100 => "the Graph API refused a parameter of the message".into(),
        131026 => "the message could not be delivered to this customer".into(),
        368 | 131031 => "the business number is blocked by WhatsApp".into(),
        code => format!(
            "the Graph API refused the message (HTTP {})",
            if code == 0 { error.http_status as i64 } else { code }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk::adapters::memory::MemoryQueue;
    use helpdesk::domain::ids::{CustomerId, TicketId};
    use helpdesk::domain::outbound::{Author, OutboundBody};
    use std::sync::Mutex;

    /// A Graph API that answers from a script, one answer per call.
    struct ScriptedGraph(Mutex<Vec<Result<String, GraphError>>>);

    impl GraphApi for ScriptedGraph {
        async fn send_message(&self, _: &str, _: &CustomerId, _: &OutboundBody) -> Result<String, GraphError> {
            self.0.lock().unwrap().remove(0)
        }
    }

    struct FixedClock;
    impl Clock for FixedClock {
        fn now_ms(&self) -> i64 {
            42
        }
    }

    fn error(code: i64, http_status: u16) -> GraphError {
        GraphError {
            http_status,
            code,
            subcode: None,
            retry_after: None,
        }
    }

    fn sender(
        script: Vec<Result<String, GraphError>>,
    ) -> Sender<ScriptedGraph, MemoryQueue<TicketCommand>, FixedClock> {
        let retry = RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        };
        Sender::new(
            ScriptedGraph(Mutex::new(script)),
            MemoryQueue::default(),
            FixedClock,
            retry,
        )
    }

    fn request(body: OutboundBody) -> OutboundRequest {
        OutboundRequest {
            idempotency_key: "k1".into(),
            ticket_id: TicketId::parse("TK-1").unwrap(),
            customer: CustomerId::parse("1555").unwrap(),
            phone_number_id: "P".into(),
            author: Author::Bot,
            body,
        }
    }

    #[tokio::test]
    async fn a_transient_error_is_retried_then_the_accepted_wamid_is_recorded() {
        let s = sender(vec![Err(error(130429, 400)), Ok("wamid.OUT".into())]);
        s.deliver(request(OutboundBody::text("hi"))).await.unwrap();
        let sent = s.tickets.sent();
        assert!(matches!(&sent[..], [TicketCommand::RecordOutbound(r)] if r.wamid == "wamid.OUT" && r.at_ms == 42));
    }

    #[tokio::test]
    async fn a_persistent_transient_error_fails_the_message_so_sqs_redelivers_it() {
        let s = sender(vec![Err(error(0, 503)), Err(error(0, 503)), Err(error(0, 503))]);
        assert!(matches!(
            s.deliver(request(OutboundBody::text("hi"))).await,
            Err(SenderError::Transient { .. })
        ));
        assert!(s.tickets.sent().is_empty());
    }

    #[tokio::test]
    async fn a_closed_window_is_recorded_as_a_failure_and_not_retried() {
        let s = sender(vec![Err(error(131047, 400))]);
        s.deliver(request(OutboundBody::text("hi"))).await.unwrap();
        let sent = s.tickets.sent();
        assert!(
            matches!(&sent[..], [TicketCommand::RecordSendFailure(f)] if f.code == Some(131047) && f.reason.contains("24-hour"))
        );
    }

    #[tokio::test]
    async fn a_message_over_the_limits_is_recorded_as_failed_without_calling_the_graph_api() {
        let s = sender(vec![]);
        s.deliver(request(OutboundBody::text("x".repeat(5000)))).await.unwrap();
        assert!(matches!(
            &s.tickets.sent()[..],
            [TicketCommand::RecordSendFailure(RecordSendFailure { code: None, .. })]
        ));
    }
}
