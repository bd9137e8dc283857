//! Webhook side: builds Meta's envelopes, signs the exact bytes sent, and delivers them with retries.

use crate::state::{BusinessNumber, Shared};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Outcome of one webhook delivery (all its attempts).
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Whether the receiver finally answered 200.
    pub delivered: bool,
    /// Attempts made.
    pub attempts: u32,
    /// HTTP status of the last answer, if any came.
    pub last_status: Option<u16>,
    /// Transport error of the last attempt, if it failed without an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `value` of a change, carrying the business number's metadata.
fn value_base(number: &BusinessNumber) -> Map<String, Value> {
    let mut value = Map::new();
    value.insert("messaging_product".into(), json!("whatsapp"));
    value.insert(
        "metadata".into(),
        json!({
            "display_phone_number": number.display_phone_number,
            "phone_number_id": number.phone_number_id,
        }),
    );
    value
}

fn envelope(shared: &Shared, field: &str, value: Map<String, Value>) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": shared.waba_id,
            "changes": [{"value": Value::Object(value), "field": field}],
        }],
    })
}

/// Envelope of one inbound customer message, with the customer's `contacts[]` entry.
pub fn message_envelope(shared: &Shared, number: &BusinessNumber, contact: Value, message: Value) -> Value {
    let mut value = value_base(number);
    value.insert("contacts".into(), json!([contact]));
    value.insert("messages".into(), json!([message]));
    envelope(shared, "messages", value)
}

/// Envelope of one system message (`user_changed_number`, `user_changed_user_id`): unlike other
/// messages it has no `contacts` array (Meta's system messages webhook reference).
pub fn system_envelope(shared: &Shared, number: &BusinessNumber, message: Value) -> Value {
    let mut value = value_base(number);
    value.insert("messages".into(), json!([message]));
    envelope(shared, "messages", value)
}

/// Envelope of one status of an outbound message.
pub fn status_envelope(shared: &Shared, number: &BusinessNumber, status: Value) -> Value {
    let mut value = value_base(number);
    value.insert("statuses".into(), json!([status]));
    envelope(shared, "messages", value)
}

/// Envelope of one coexistence echo: field `smb_message_echoes`, `value.message_echoes[]` (what
/// the business sent from the WhatsApp Business app), with the customer's `contacts[]` entry as
/// in the echo payloads of the fixture corpus.
pub fn echo_envelope(shared: &Shared, number: &BusinessNumber, contact: Value, echo: Value) -> Value {
    let mut value = value_base(number);
    value.insert("contacts".into(), json!([contact]));
    value.insert("message_echoes".into(), json!([echo]));
    envelope(shared, "smb_message_echoes", value)
}

/// POSTs `body` to the webhook URL, signed, retrying non-200 answers and connection errors with
/// doubling backoff up to the configured number of attempts.
pub async fn deliver(shared: &Shared, body: Vec<u8>) -> Delivery {
    let (max_attempts, mut backoff) = {
        let inner = shared.lock();
        (
            inner.faults.limits.webhook_attempts.max(1),
            inner.faults.limits.webhook_initial_backoff_ms,
        )
    };
    let signature = crate::sign(&shared.app_secret, &body);
    let body = bytes::Bytes::from(body);
    let mut outcome = Delivery {
        delivered: false,
        attempts: 0,
        last_status: None,
        error: None,
    };
    while outcome.attempts < max_attempts {
        if outcome.attempts > 0 {
            tokio::time::sleep(Duration::from_millis(backoff)).await;
            backoff = backoff.saturating_mul(2);
        }
        outcome.attempts += 1;
        // Read on every attempt so a target changed mid-retry takes effect.
        let url = shared.webhook_url();
        let result = shared
            .http
            .post(&url)
            .header("Content-Type", "application/json")
            .header("X-Hub-Signature-256", &signature)
            .header("User-Agent", "facebookexternalua")
            .body(body.clone())
            .send()
            .await;
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                outcome.last_status = Some(status);
                outcome.error = None;
                if status == 200 {
                    outcome.delivered = true;
                    break;
                }
                tracing::debug!(%url, status, attempt = outcome.attempts, "webhook answered non-200");
            }
            Err(err) => {
                outcome.last_status = None;
                outcome.error = Some(err.to_string());
                tracing::debug!(%url, error = %err, attempt = outcome.attempts, "webhook delivery failed");
            }
        }
    }
    if !outcome.delivered {
        tracing::warn!(attempts = outcome.attempts, last_status = ?outcome.last_status, "webhook not delivered");
    }
    outcome
}
