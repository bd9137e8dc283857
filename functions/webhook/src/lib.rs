//! The webhook function: Meta's verification challenge (`GET /webhook`) and
//! deliveries (`POST /webhook`). A delivery is answered 200 only after every
//! message and status in it is on `inbound.fifo`, so Meta retries anything
//! that was not stored.

use helpdesk::adapters::secrets::whatsapp_secrets;
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::inbound::{EnvelopeError, InboundEvent, parse_delivery};
use helpdesk::domain::privacy::LogKey;
use helpdesk::domain::signature::{SignatureError, verify_signature};
use helpdesk::ports::{Queue, QueueError};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Meta's deliveries are far smaller; anything larger is refused unread.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why a request was not accepted. The caller's faults are 4xx, ours 5xx;
/// the status is chosen in one place, [`WebhookError::status`].
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the verification request is not a subscription or its token is wrong")]
    VerificationRefused,
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("not a WhatsApp webhook envelope: {0}")]
    NotAnEnvelope(#[from] EnvelopeError),
    #[error("only GET and POST are served here")]
    MethodNotAllowed,
    #[error("the delivery could not be queued; it will be retried")]
    Queue(#[source] QueueError),
}

impl WebhookError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::VerificationRefused => StatusCode::FORBIDDEN,
            WebhookError::Signature(_) => StatusCode::UNAUTHORIZED,
            WebhookError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::NotAnEnvelope(_) => StatusCode::BAD_REQUEST,
            WebhookError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebhookError::Queue(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// What the caller is told. Our own failures say nothing of their cause.
    fn public_message(&self) -> String {
        match self {
            WebhookError::Queue(_) => "temporarily unavailable".to_owned(),
            other => other.to_string(),
        }
    }
}

/// The handler, generic over the queue it writes to.
pub struct Webhook<Q> {
    queue: Q,
    app_secret: SecretString,
    verify_token: SecretString,
    log_key: LogKey,
}

impl Webhook<SqsQueue<InboundEvent>> {
    /// Wires the handler from a function's environment (read once at init).
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_http::Error> {
        let queue_url = env.require("INBOUND_QUEUE_URL")?;
        let secrets = whatsapp_secrets(env, sdk).await?;
        let queue = SqsQueue::new(aws_sdk_sqs::Client::new(sdk), queue_url);
        Ok(Webhook::new(queue, secrets.app_secret, secrets.verify_token))
    }
}

impl<Q: Queue<InboundEvent>> Webhook<Q> {
    pub fn new(queue: Q, app_secret: SecretString, verify_token: SecretString) -> Self {
        let log_key = LogKey::new(app_secret.expose_secret().as_bytes());
        Webhook {
            queue,
            app_secret,
            verify_token,
            log_key,
        }
    }

    /// The queue deliveries go to.
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Serves one HTTP request; never fails at the Lambda level.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, std::convert::Infallible> {
        let result = match *request.method() {
            Method::GET => self.verify(&request),
            Method::POST => self.receive(&request).await,
            _ => Err(WebhookError::MethodNotAllowed),
        };
        Ok(match result {
            Ok(response) => response,
            Err(error) => {
                if error.status().is_server_error() {
                    tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "webhook delivery refused");
                } else {
                    tracing::warn!(error = %error, status = error.status().as_u16(), "webhook request refused");
                }
                respond(
                    error.status(),
                    "application/json",
                    serde_json::json!({"error": error.public_message()}).to_string(),
                )
            }
        })
    }

    /// `GET`: echo `hub.challenge` when the mode is `subscribe` and the token matches.
    fn verify(&self, request: &Request) -> Result<Response<Body>, WebhookError> {
        let query = request.uri().query().unwrap_or("");
        let param = |name: &str| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let token_matches = param("hub.verify_token")
            .is_some_and(|token| bool::from(token.as_bytes().ct_eq(self.verify_token.expose_secret().as_bytes())));
        match (param("hub.mode").as_deref(), token_matches, param("hub.challenge")) {
            (Some("subscribe"), true, Some(challenge)) => {
                tracing::info!("webhook subscription verified");
                Ok(respond(StatusCode::OK, "text/plain", challenge))
            }
            _ => Err(WebhookError::VerificationRefused),
        }
    }

    /// `POST`: check size and signature on the raw bytes, split, queue, then 200.
    async fn receive(&self, request: &Request) -> Result<Response<Body>, WebhookError> {
        let body: &[u8] = request.body().as_ref();
        if body.len() > MAX_BODY_BYTES {
            return Err(WebhookError::TooLarge);
        }
        let signature = request
            .headers()
            .get("x-hub-signature-256")
            .and_then(|v| v.to_str().ok());
        verify_signature(self.app_secret.expose_secret().as_bytes(), body, signature)?;
        let delivery = parse_delivery(body)?;

        self.queue.send(&delivery.events).await.map_err(WebhookError::Queue)?;

        for other in &delivery.others {
            tracing::info!(field = %other.field, "webhook notification acknowledged");
        }
        if !delivery.errors.is_empty() {
            tracing::warn!(errors = %serde_json::Value::from(delivery.errors.clone()), "webhook carried errors for the business number");
        }
        let (mut messages, mut statuses, mut echoes) = (0, 0, 0);
        for event in &delivery.events {
            match event {
                InboundEvent::Message(m) => {
                    messages += 1;
                    let customer = m.customer.as_ref().map(|c| self.log_key.customer(c).to_string());
                    tracing::debug!(customer = customer.as_deref().unwrap_or("-"), message_type = %m.message_type, "message queued");
                }
                InboundEvent::Status(s) => {
                    statuses += 1;
                    tracing::debug!(status = %s.status, "status queued");
                }
                InboundEvent::Echo(e) => {
                    echoes += 1;
                    tracing::debug!(message_type = %e.message_type, "message echo from the WhatsApp Business app queued");
                }
                // The parser never produces these: the bot schedules turns, the
                // agent API asks for a proactive message.
                InboundEvent::TurnDue(_) | InboundEvent::AgentOpens(_) => {}
            }
        }
        tracing::info!(
            messages,
            statuses,
            echoes,
            others = delivery.others.len(),
            "webhook delivery queued"
        );
        Ok(respond(
            StatusCode::OK,
            "application/json",
            "{\"status\":\"queued\"}".to_owned(),
        ))
    }
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk::adapters::memory::MemoryQueue;

    /// The local stack's defaults, which `events/*.json` are signed with.
    fn webhook() -> Webhook<MemoryQueue<InboundEvent>> {
        Webhook::new(
            MemoryQueue::default(),
            SecretString::from("local-app-secret"),
            SecretString::from("local-verify-token"),
        )
    }

    fn event(name: &str) -> Request {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        lambda_http::request::from_str(&json).expect("a valid API Gateway HTTP API event")
    }

    fn body_text(response: &Response<Body>) -> String {
        String::from_utf8_lossy(response.body().as_ref()).into_owned()
    }

    #[tokio::test]
    async fn the_verification_challenge_is_echoed_when_the_token_matches() {
        let response = webhook().handle(event("webhook-verify.json")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_text(&response), "1158201444");
    }

    #[tokio::test]
    async fn a_verification_with_the_wrong_token_is_forbidden() {
        let webhook = Webhook::new(
            MemoryQueue::default(),
            SecretString::from("s"),
            SecretString::from("another-token"),
        );
        let response = webhook.handle(event("webhook-verify.json")).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(!body_text(&response).contains("1158201444"));
    }

    #[tokio::test]
    async fn a_signed_delivery_is_queued_with_the_customer_as_group_and_the_wamid_as_dedupe_id() {
        let webhook = webhook();
        let response = webhook.handle(event("webhook-message.json")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let sent = webhook.queue.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].group_key(),
            "US.13491208655302741918",
            "the business-scoped id, when given"
        );
        assert!(sent[0].dedupe_key().starts_with("wamid.HBgL"));
        let InboundEvent::Message(m) = &sent[0] else {
            panic!("expected a message")
        };
        assert_eq!(m.business.phone_number_id, "100000000000001");
        assert_eq!(m.contact_name.as_deref(), Some("Ana Souza"));
    }

    #[tokio::test]
    async fn a_webhook_with_a_forged_signature_is_rejected_and_nothing_is_queued() {
        let webhook = webhook();
        let response = webhook.handle(event("webhook-forged.json")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(webhook.queue.sent().is_empty());
    }

    #[tokio::test]
    async fn a_delivery_that_cannot_be_queued_gets_a_5xx_so_meta_retries_it() {
        let webhook = webhook();
        webhook.queue.fail_next(1);
        let response = webhook.handle(event("webhook-message.json")).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !body_text(&response).contains("injected"),
            "internal causes stay internal"
        );
        let retried = webhook.handle(event("webhook-message.json")).await.unwrap();
        assert_eq!(retried.status(), StatusCode::OK);
        assert_eq!(webhook.queue.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_body_over_one_megabyte_is_refused_before_it_is_read() {
        let mut request = event("webhook-message.json");
        *request.body_mut() = Body::from(vec![b' '; MAX_BODY_BYTES + 1]);
        let webhook = webhook();
        let response = webhook.handle(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(webhook.queue.sent().is_empty());
    }

    #[tokio::test]
    async fn other_methods_are_not_allowed() {
        let mut request = event("webhook-message.json");
        *request.method_mut() = Method::PUT;
        assert_eq!(
            webhook().handle(request).await.unwrap().status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
