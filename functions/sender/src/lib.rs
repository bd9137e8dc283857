//! The sender function: delivers `outbound.fifo` through the Graph API from the
//! business number the customer wrote to, addressed the way the customer can
//! be reached today (their phone with `to` when it is known, else their
//! business-scoped user id with `recipient`), retries what is transient, and
//! tells `tickets` what happened (accepted under a wamid, or refused for good).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::clock::SharedClock;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::graph::GraphClient;
use helpdesk::adapters::lambda_sqs::handle_in_order;
use helpdesk::adapters::s3::{S3Error, S3MediaStore, s3_client};
use helpdesk::adapters::secrets::whatsapp_secrets;
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::commands::{RecordOutbound, RecordSendFailure, TicketCommand};
use helpdesk::domain::identity::{Address, Identity};
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::outbound::OutboundRequest;
use helpdesk::ports::{
    BoxError, Clock, GraphApi, GraphError, IdentityReader, MediaStore, Queue, QueueError, StoreError,
};
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
    #[error("identity store failed")]
    Identities(#[from] StoreError),
    #[error("reading the file to send failed")]
    Media(#[source] BoxError),
}

pub struct Sender<G, I, T, C, M> {
    graph: G,
    identities: I,
    tickets: T,
    clock: C,
    retry: RetryPolicy,
    /// The media bucket, where the files agents send are uploaded.
    media: M,
}

/// The sender as Lambda runs it.
pub type AwsSender = Sender<GraphClient, DynamoStore, SqsQueue<TicketCommand>, SharedClock, S3MediaStore>;

impl AwsSender {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let secrets = whatsapp_secrets(env, sdk).await?;
        let graph = GraphClient::from_env(env, secrets.access_token)?;
        let identities = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let tickets = SqsQueue::new(aws_sdk_sqs::Client::new(sdk), env.require("TICKETS_QUEUE_URL")?);
        let media = S3MediaStore::new(s3_client(sdk), env.require("MEDIA_BUCKET_NAME")?);
        Ok(Sender::new(
            graph,
            identities,
            tickets,
            env.clock(),
            RetryPolicy::default(),
            media,
        ))
    }
}

impl<G: GraphApi, I: IdentityReader, T: Queue<TicketCommand>, C: Clock, M: MediaStore> Sender<G, I, T, C, M> {
    pub fn new(graph: G, identities: I, tickets: T, clock: C, retry: RetryPolicy, media: M) -> Self {
        Sender {
            graph,
            identities,
            tickets,
            clock,
            retry,
            media,
        }
    }

    /// Where the customer is reached now: their phone when the helpdesk knows
    /// it (even once they hide it), else their business-scoped user id. A
    /// customer stored before identities were kept is reached by their key.
    async fn address(&self, customer: &CustomerId) -> Result<Option<Address>, SenderError> {
        let identity = self
            .identities
            .identity(customer)
            .await?
            .unwrap_or_else(|| Identity::from_key(customer));
        Ok(identity.address())
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(handle_in_order(event.payload, |request: OutboundRequest| self.deliver(request)).await)
    }

    /// Sends one message and records the outcome on its ticket. A file is
    /// read from the media bucket and uploaded to the Graph API first.
    pub async fn deliver(&self, mut request: OutboundRequest) -> Result<(), SenderError> {
        if let Err(invalid) = request.body.validate() {
            tracing::warn!(ticket = %request.ticket_id, error = %invalid, "message refused before sending");
            return self.record_failure(&request, None, invalid.to_string()).await;
        }
        let Some(address) = self.address(&request.customer).await? else {
            tracing::warn!(ticket = %request.ticket_id, "message refused before sending: the customer has no phone or user id");
            let reason = "the customer has neither a phone number nor a WhatsApp user id on record".to_owned();
            return self.record_failure(&request, None, reason).await;
        };
        if let Err(refused) = self.upload(&mut request).await? {
            return self.record_failure(&request, refused.0, refused.1).await;
        }
        let send = || {
            self.graph
                .send_message(&request.phone_number_id, &address, &request.body)
        };
        let sent = match request.body.is_message() {
            true => self.with_retries(&request.ticket_id, send).await,
            // A typing indicator is tried once.
            false => send().await.map_err(Call::Refused),
        };
        match sent {
            // Marking a message read (typing…) is not a message: nothing to record.
            Ok(_) if !request.body.is_message() => Ok(()),
            Ok(wamid) => {
                tracing::info!(ticket = %request.ticket_id, "message accepted by the Graph API");
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
                Ok(())
            }
            // A typing indicator that did not take (the message is too old,
            // Meta is busy) is not worth a retry or a line on the timeline.
            Err(Call::Refused(error)) if !request.body.is_message() => {
                tracing::info!(ticket = %request.ticket_id, code = error.code, "typing indicator not shown");
                Ok(())
            }
            Err(Call::Exhausted(error)) => Err(SenderError::Transient {
                code: error.code,
                http_status: error.http_status,
            }),
            Err(Call::Refused(error)) => {
                tracing::warn!(ticket = %request.ticket_id, code = error.code, http_status = error.http_status, "message refused by the Graph API");
                self.record_failure(&request, Some(error.code), refusal_reason(&error))
                    .await
            }
        }
    }

    /// Uploads the file a message carries (once: a redelivered request was
    /// not changed) and names its media id in the message. `Ok(Err(..))`:
    /// refused for good, with the code and a reason for the timeline.
    async fn upload(&self, request: &mut OutboundRequest) -> Result<Result<(), (Option<i64>, String)>, SenderError> {
        let ticket = request.ticket_id.clone();
        let phone_number_id = request.phone_number_id.clone();
        let Some((key, mime, media_id)) = request.body.media_mut() else {
            return Ok(Ok(()));
        };
        let bytes = match self.media.get(key).await {
            Ok(bytes) => bytes,
            Err(error) if matches!(error.downcast_ref::<S3Error>(), Some(S3Error::NotFound { .. })) => {
                tracing::warn!(ticket = %ticket, "the file to send is no longer stored");
                return Ok(Err((None, "the file is no longer stored (erased or expired)".into())));
            }
            Err(error) => return Err(SenderError::Media(error)),
        };
        let filename = key.rsplit('/').next().unwrap_or(key).to_owned();
        let mime = mime.to_owned();
        let uploaded = self
            .with_retries(&ticket, || {
                self.graph
                    .upload_media(&phone_number_id, bytes.clone(), &mime, &filename)
            })
            .await;
        match uploaded {
            Ok(id) => {
                *media_id = Some(id);
                Ok(Ok(()))
            }
            Err(Call::Exhausted(error)) => Err(SenderError::Transient {
                code: error.code,
                http_status: error.http_status,
            }),
            Err(Call::Refused(error)) => {
                tracing::warn!(ticket = %ticket, code = error.code, "file refused by the Graph API");
                Ok(Err((
                    Some(error.code),
                    format!("the file could not be uploaded: {}", refusal_reason(&error)),
                )))
            }
        }
    }

    /// Calls the Graph API, retrying what is transient up to the policy's attempts.
    async fn with_retries<F, Fut>(&self, ticket: &TicketId, call: F) -> Result<String, Call>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<String, GraphError>>,
    {
        let mut attempt = 0;
        loop {
            match call().await {
                Ok(id) => return Ok(id),
                Err(error) if error.is_transient() => {
                    attempt += 1;
                    tracing::warn!(ticket = %ticket, code = error.code, http_status = error.http_status, attempt, "transient Graph API error");
                    if attempt >= self.retry.attempts {
                        return Err(Call::Exhausted(error));
                    }
                    tokio::time::sleep(self.retry.delay(attempt - 1, &error)).await;
                }
                Err(error) => return Err(Call::Refused(error)),
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

/// How a Graph API call ended when it did not succeed.
enum Call {
    /// Refused for good: not retried.
    Refused(GraphError),
    /// Still failing transiently after every attempt: SQS redelivers.
    Exhausted(GraphError),
}

/// A reason an agent can act on, from the error code.
fn refusal_reason(error: &GraphError) -> String {
    match error.code {
        131047 => "the 24-hour window is closed; only a template can reach the customer".into(),
        190 => "the WhatsApp access token is invalid or expired".into(),
        100 => "the Graph API refused a parameter of the message".into(),
        131026 => "the message could not be delivered to this customer".into(),
        368 | 131031 => "the business number is blocked by WhatsApp".into(),
        131062 => "this message cannot be sent to a customer known only by their WhatsApp user id; \
                   ask for their phone number (a contact-info request) first"
            .into(),
        code => format!(
            "the Graph API refused the message (HTTP {})",
            if code == 0 { error.http_status as i64 } else { code }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk::adapters::memory::{ManualClock, MemoryGraph, MemoryMediaStore, MemoryQueue, MemoryStore};
    use helpdesk::domain::identity::{Phone, UserId};
    use helpdesk::domain::ids::TicketId;
    use helpdesk::domain::outbound::{Author, OutboundBody};
    use helpdesk::ports::IdentityStore;

    fn error(code: i64, http_status: u16) -> GraphError {
        GraphError {
            http_status,
            code,
            subcode: None,
            retry_after: None,
        }
    }

    type TestSender = Sender<MemoryGraph, MemoryStore, MemoryQueue<TicketCommand>, ManualClock, MemoryMediaStore>;

    /// A sender whose Graph API first answers `errors`, then accepts.
    fn sender(errors: Vec<GraphError>) -> TestSender {
        let retry = RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        };
        let graph = MemoryGraph::new();
        graph.fail_sends_with(errors);
        Sender::new(
            graph,
            MemoryStore::new(),
            MemoryQueue::default(),
            ManualClock::at(42),
            retry,
            MemoryMediaStore::default(),
        )
    }

    fn request_to(customer: &str, body: OutboundBody) -> OutboundRequest {
        OutboundRequest {
            idempotency_key: "k1".into(),
            ticket_id: TicketId::parse("TK-1").unwrap(),
            customer: CustomerId::parse(customer).unwrap(),
            phone_number_id: "P".into(),
            author: Author::Bot,
            body,
        }
    }

    fn request(body: OutboundBody) -> OutboundRequest {
        request_to("15551230001", body)
    }

    #[tokio::test]
    async fn a_transient_error_is_retried_then_the_accepted_wamid_is_recorded() {
        let s = sender(vec![error(130429, 400)]);
        s.deliver(request(OutboundBody::text("hi"))).await.unwrap();
        let sent = s.tickets.sent();
        assert!(matches!(&sent[..], [TicketCommand::RecordOutbound(r)] if r.wamid == "wamid.MEM.1" && r.at_ms == 42));
    }

    #[tokio::test]
    async fn a_persistent_transient_error_fails_the_message_so_sqs_redelivers_it() {
        let s = sender(vec![error(0, 503), error(0, 503), error(0, 503)]);
        assert!(matches!(
            s.deliver(request(OutboundBody::text("hi"))).await,
            Err(SenderError::Transient { .. })
        ));
        assert!(s.tickets.sent().is_empty());
    }

    #[tokio::test]
    async fn a_closed_window_is_recorded_as_a_failure_and_not_retried() {
        let s = sender(vec![error(131047, 400)]);
        s.deliver(request(OutboundBody::text("hi"))).await.unwrap();
        let sent = s.tickets.sent();
        assert!(
            matches!(&sent[..], [TicketCommand::RecordSendFailure(f)] if f.code == Some(131047) && f.reason.contains("24-hour"))
        );
        assert_eq!(s.graph.attempts(), 1);
    }

    #[tokio::test]
    async fn a_message_over_the_limits_is_recorded_as_failed_without_calling_the_graph_api() {
        let s = sender(vec![]);
        s.deliver(request(OutboundBody::text("x".repeat(5000)))).await.unwrap();
        assert!(matches!(
            &s.tickets.sent()[..],
            [TicketCommand::RecordSendFailure(RecordSendFailure { code: None, .. })]
        ));
        assert_eq!(s.graph.attempts(), 0);
    }

    #[tokio::test]
    async fn a_customer_known_only_by_their_user_id_is_answered_by_recipient() {
        let s = sender(vec![]);
        s.deliver(request_to("US.13491208655302741918", OutboundBody::text("hi")))
            .await
            .unwrap();
        assert_eq!(
            s.graph.sent()[0].to,
            Address::User(UserId::parse("US.13491208655302741918").unwrap())
        );
    }

    #[tokio::test]
    async fn a_customer_whose_phone_is_known_is_answered_by_phone_even_once_they_hide_it() {
        let s = sender(vec![]);
        let customer = CustomerId::parse("US.13491208655302741918").unwrap();
        let mut identity = Identity::from_key(&customer);
        identity.phone = Some(Phone::parse("15551230001").unwrap());
        s.identities.save_identity(&identity).await.unwrap();

        s.deliver(request_to(customer.as_str(), OutboundBody::text("hi")))
            .await
            .unwrap();

        assert_eq!(
            s.graph.sent()[0].to,
            Address::Phone(Phone::parse("15551230001").unwrap())
        );
    }

    #[tokio::test]
    async fn a_message_that_cannot_go_to_a_user_id_is_recorded_with_a_reason_and_not_retried() {
        let s = sender(vec![error(131062, 400)]);
        s.deliver(request_to("US.134912086553", OutboundBody::text("code 123456")))
            .await
            .unwrap();
        let sent = s.tickets.sent();
        assert!(
            matches!(&sent[..], [TicketCommand::RecordSendFailure(f)] if f.code == Some(131062) && f.reason.contains("phone number")),
            "{sent:?}"
        );
        assert_eq!(s.graph.attempts(), 1);
    }

    #[tokio::test]
    async fn marking_a_message_read_with_typing_records_nothing_on_the_ticket() {
        let s = sender(vec![]);
        let typing = OutboundBody::MarkRead {
            message_id: "wamid.IN".into(),
            typing: true,
        };
        s.deliver(request(typing.clone())).await.unwrap();
        assert_eq!(s.graph.sent()[0].body, typing);
        assert!(s.tickets.sent().is_empty());
    }

    #[tokio::test]
    async fn a_typing_indicator_meta_refuses_or_is_too_busy_for_is_neither_retried_nor_recorded() {
        for code in [100, 131000] {
            let s = sender(vec![error(code, 400)]);
            let typing = OutboundBody::MarkRead {
                message_id: "wamid.TOO-OLD".into(),
                typing: true,
            };

            s.deliver(request(typing)).await.unwrap();

            assert_eq!(s.graph.attempts(), 1, "code {code}");
            assert!(s.tickets.sent().is_empty(), "code {code}");
        }
    }

    fn file_message(key: &str) -> OutboundBody {
        OutboundBody::Quote {
            message_id: "wamid.CUSTOMER".into(),
            message: Box::new(OutboundBody::Media {
                kind: helpdesk::domain::outbound::SentMedia::Document,
                key: key.into(),
                mime: "application/pdf".into(),
                filename: Some("invoice.pdf".into()),
                caption: Some("Your invoice".into()),
                media_id: None,
            }),
        }
    }

    #[tokio::test]
    async fn a_file_is_uploaded_from_the_bucket_then_sent_by_its_media_id_quoting_the_customer() {
        let s = sender(vec![]);
        s.media.put(
            "media/TK-1/out-1.pdf",
            "application/pdf",
            b"%PDF-1.7 the invoice".to_vec(),
        );

        s.deliver(request(file_message("media/TK-1/out-1.pdf"))).await.unwrap();

        let uploads = s.graph.uploads();
        assert_eq!(uploads.len(), 1);
        assert_eq!(
            (
                uploads[0].bytes.as_slice(),
                uploads[0].mime.as_str(),
                uploads[0].phone_number_id.as_str()
            ),
            (b"%PDF-1.7 the invoice".as_slice(), "application/pdf", "P")
        );
        let sent = &s.graph.sent()[0];
        let json = sent.body.to_graph_json(&sent.to);
        assert_eq!(json["document"]["id"], uploads[0].media_id.as_str());
        assert_eq!(json["document"]["filename"], "invoice.pdf");
        assert_eq!(json["context"]["message_id"], "wamid.CUSTOMER");
        // The timeline records the message as sent, media id included.
        assert!(matches!(&s.tickets.sent()[..], [TicketCommand::RecordOutbound(r)] if r.body == sent.body));
    }

    #[tokio::test]
    async fn a_file_no_longer_stored_is_recorded_as_failed_without_calling_the_graph_api() {
        let s = sender(vec![]);

        s.deliver(request(file_message("media/TK-1/gone.pdf"))).await.unwrap();

        assert!(
            matches!(&s.tickets.sent()[..], [TicketCommand::RecordSendFailure(f)] if f.reason.contains("no longer stored"))
        );
        assert_eq!(s.graph.attempts(), 0);
    }

    #[tokio::test]
    async fn an_upload_meta_refuses_is_recorded_and_a_transient_one_is_retried() {
        let s = sender(vec![error(131053, 400)]);
        s.media
            .put("media/TK-1/out-1.pdf", "application/pdf", b"%PDF-1.7".to_vec());
        s.deliver(request(file_message("media/TK-1/out-1.pdf"))).await.unwrap();
        assert!(
            matches!(&s.tickets.sent()[..], [TicketCommand::RecordSendFailure(f)] if f.code == Some(131053) && f.reason.contains("could not be uploaded"))
        );
        assert!(s.graph.sent().is_empty());

        let s = sender(vec![error(0, 503)]);
        s.media
            .put("media/TK-1/out-1.pdf", "application/pdf", b"%PDF-1.7".to_vec());
        s.deliver(request(file_message("media/TK-1/out-1.pdf"))).await.unwrap();
        assert_eq!((s.graph.uploads().len(), s.graph.sent().len()), (1, 1));
    }
}
