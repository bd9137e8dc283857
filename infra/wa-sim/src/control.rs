//! Control API (`/_sim/...`): plays the customer, shows what the business sent, injects faults, moves the clock.

use crate::media::{Media, mime_for_path};
use crate::state::{Limits, SendFault, Shared, WINDOW_MS};
use crate::{ids, validate, webhook};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": {"message": message.into()}})),
    )
        .into_response()
}

/// Message types whose payload object must be present under the type's name.
const PAYLOAD_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
];

/// `POST /_sim/customers/{wa_id}/messages`: the customer sends one message; it is delivered as a signed webhook.
pub async fn customer_message(State(shared): State<Arc<Shared>>, Path(wa_id): Path<String>, body: Bytes) -> Response {
    let Ok(Value::Object(mut message)) = serde_json::from_slice::<Value>(&body) else {
        return bad_request(
            "the body must be a JSON object: one Cloud API message without from, id and timestamp, e.g. {\"type\":\"text\",\"text\":{\"body\":\"hi\"}}",
        );
    };
    if wa_id.is_empty() || !wa_id.chars().all(|c| c.is_ascii_digit()) {
        return bad_request("wa_id must be the customer's number in digits, e.g. 15551234567");
    }
    let kind = match message.get("type") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => return bad_request("the message needs a \"type\" (text, interactive, image, ...)"),
    };
    if PAYLOAD_TYPES.contains(&kind.as_str()) && !message.contains_key(&kind) {
        return bad_request(format!("a \"{kind}\" message needs a \"{kind}\" object"));
    }
    let profile_name = match message.remove("profile_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return bad_request("profile_name must be a string"),
    };
    let mut media_id = None;
    if validate::MEDIA_TYPES.contains(&kind.as_str()) {
        let Some(Value::Object(media)) = message.get(&kind).cloned() else {
            return bad_request(format!("\"{kind}\" must be an object"));
        };
        if let Some(path) = media.get("path") {
            let Some(path) = path.as_str().map(str::to_string) else {
                return bad_request(format!("{kind}.path must be a string"));
            };
            match register_file(&shared, &kind, &path, media).await {
                Ok((id, object)) => {
                    media_id = Some(id);
                    message.insert(kind.clone(), object);
                }
                Err(err) => return bad_request(err),
            }
        }
    }
    for key in ["from", "id", "timestamp"] {
        message.remove(key);
    }
    let wamid = ids::wamid(&wa_id);
    let (name, timestamp) = {
        let mut inner = shared.lock();
        let now = inner.now_ms();
        inner.inbound_ids.insert(wamid.clone(), wa_id.clone());
        let customer = inner.customer(&wa_id);
        if profile_name.is_some() {
            customer.profile_name = profile_name;
        }
        customer.last_inbound_ms = Some(now);
        let name = customer.profile_name.clone().unwrap_or_else(|| {
            let tail = &wa_id[wa_id.len().saturating_sub(4)..];
            format!("Customer {tail}")
        });
        (name, now.div_euclid(1000))
    };
    let mut full = serde_json::Map::new();
    full.insert("from".into(), json!(wa_id));
    full.insert("id".into(), json!(wamid));
    full.insert("timestamp".into(), json!(timestamp.to_string()));
    full.extend(message);
    let envelope = webhook::message_envelope(&shared, &wa_id, &name, Value::Object(full));
    let bytes = match serde_json::to_vec(&envelope) {
        Ok(b) => b,
        Err(e) => return bad_request(format!("cannot serialise the envelope: {e}")),
    };
    let delivery = webhook::deliver(&shared, bytes).await;
    {
        let mut inner = shared.lock();
        let at = inner.now_s();
        let mut record = serde_json::to_value(&delivery).unwrap_or_default();
        record["kind"] = json!("message");
        record["wamid"] = json!(wamid);
        record["type"] = json!(kind);
        record["at"] = json!(at);
        inner.customer(&wa_id).deliveries.push(record);
    }
    let mut answer = json!({
        "wamid": wamid,
        "delivered": delivery.delivered,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
    });
    if let Some(error) = delivery.error {
        answer["error"] = json!(error);
    }
    if let Some(id) = media_id {
        answer["media_id"] = json!(id);
    }
    axum::Json(answer).into_response()
}

/// Reads a local file, stores it as media and returns the webhook media object that replaces `path`.
async fn register_file(
    shared: &Shared,
    kind: &str,
    path: &str,
    mut object: serde_json::Map<String, Value>,
) -> Result<(String, Value), String> {
    let file = std::path::Path::new(path);
    let data = tokio::fs::read(file)
        .await
        .map_err(|e| format!("{kind}.path: cannot read {path}: {e}"))?;
    object.remove("path");
    let voice = object.get("voice").and_then(Value::as_bool) == Some(true);
    let mime_type = match object.remove("mime_type") {
        Some(Value::String(m)) => m,
        _ => {
            let guessed = mime_for_path(file);
            if kind == "audio" && voice && guessed == "audio/ogg" {
                "audio/ogg; codecs=opus".to_string()
            } else {
                guessed.to_string()
            }
        }
    };
    let file_name = file.file_name().and_then(|n| n.to_str()).map(str::to_string);
    if kind == "document"
        && !object.contains_key("filename")
        && let Some(name) = &file_name
    {
        object.insert("filename".into(), json!(name));
    }
    let id = ids::media_id();
    let media = Media {
        id: id.clone(),
        mime_type: mime_type.clone(),
        bytes: Bytes::from(data),
        filename: file_name,
    };
    object.insert("mime_type".into(), json!(mime_type));
    object.insert("sha256".into(), json!(media.sha256_base64()));
    object.insert("id".into(), json!(id));
    shared.lock().media.insert(id.clone(), media);
    Ok((id, Value::Object(object)))
}

/// `GET /_sim/customers/{wa_id}/inbox`: what the business sent to the customer, in order.
pub async fn inbox(State(shared): State<Arc<Shared>>, Path(wa_id): Path<String>) -> Response {
    let inner = shared.lock();
    let entries = inner.customers.get(&wa_id).map(|c| c.inbox.clone()).unwrap_or_default();
    axum::Json(entries).into_response()
}

/// `GET /_sim/customers/{wa_id}/deliveries`: webhook deliveries made for the customer.
pub async fn deliveries(State(shared): State<Arc<Shared>>, Path(wa_id): Path<String>) -> Response {
    let inner = shared.lock();
    let records = inner
        .customers
        .get(&wa_id)
        .map(|c| c.deliveries.clone())
        .unwrap_or_default();
    axum::Json(records).into_response()
}

/// `GET /_sim/customers/{wa_id}`: the customer's window, profile name and read marks.
pub async fn customer(State(shared): State<Arc<Shared>>, Path(wa_id): Path<String>) -> Response {
    let inner = shared.lock();
    let now = inner.now_ms();
    let Some(customer) = inner.customers.get(&wa_id) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"message": format!("no customer {wa_id} yet")}})),
        )
            .into_response();
    };
    axum::Json(json!({
        "wa_id": wa_id,
        "profile_name": customer.profile_name,
        "last_inbound": customer.last_inbound_ms.map(|t| t.div_euclid(1000)),
        "window_open": customer.last_inbound_ms.is_some_and(|t| now - t <= WINDOW_MS),
        "read_message_ids": customer.read_marks,
        "inbox_count": customer.inbox.len(),
    }))
    .into_response()
}

/// One send fault or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(SendFault),
    Many(Vec<SendFault>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Throughput {
    per_second: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PairRate {
    burst: Option<u32>,
    refill_seconds: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookRetry {
    attempts: Option<u32>,
    initial_backoff_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsRequest {
    graph_send: Option<OneOrMany>,
    throughput: Option<Throughput>,
    pair_rate: Option<PairRate>,
    webhook_retry: Option<WebhookRetry>,
}

fn faults_view(shared: &Shared) -> Value {
    let inner = shared.lock();
    serde_json::to_value(&inner.faults).unwrap_or_default()
}

/// `POST /_sim/faults`: queues send faults and changes limits.
pub async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: FaultsRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad_request(format!(
                "faults: {e}; expected e.g. {{\"graph_send\":{{\"status\":500,\"times\":2}}}}, {{\"throughput\":{{\"per_second\":2}}}}, {{\"pair_rate\":{{\"burst\":2,\"refill_seconds\":6}}}}, {{\"webhook_retry\":{{\"attempts\":3,\"initial_backoff_ms\":50}}}}"
            ));
        }
    };
    {
        let mut inner = shared.lock();
        match request.graph_send {
            Some(OneOrMany::One(f)) => inner.faults.graph_send.push_back(f),
            Some(OneOrMany::Many(fs)) => inner.faults.graph_send.extend(fs),
            None => {}
        }
        if let Some(t) = request.throughput {
            inner.faults.limits.throughput_per_second = t.per_second;
            inner.recent_sends.clear();
        }
        if let Some(p) = request.pair_rate {
            if let Some(burst) = p.burst {
                inner.faults.limits.pair_burst = burst;
            }
            if let Some(refill) = p.refill_seconds {
                inner.faults.limits.pair_refill_ms = (refill * 1000.0).max(1.0) as u64;
            }
            refill_buckets(&mut inner);
        }
        if let Some(w) = request.webhook_retry {
            if let Some(attempts) = w.attempts {
                inner.faults.limits.webhook_attempts = attempts.max(1);
            }
            if let Some(backoff) = w.initial_backoff_ms {
                inner.faults.limits.webhook_initial_backoff_ms = backoff;
            }
        }
    }
    axum::Json(faults_view(&shared)).into_response()
}

/// A new pair-rate setting starts every bucket full, so tests count from a known state.
fn refill_buckets(inner: &mut crate::state::Inner) {
    let burst = inner.faults.limits.pair_burst as f64;
    let now = inner.now_ms();
    for customer in inner.customers.values_mut() {
        customer.bucket_tokens = burst;
        customer.bucket_at_ms = now;
    }
}

/// `GET /_sim/faults`: queued faults and limits in force.
pub async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(faults_view(&shared)).into_response()
}

/// `DELETE /_sim/faults`: drops queued faults and restores the default limits.
pub async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    {
        let mut inner = shared.lock();
        inner.faults.graph_send.clear();
        inner.faults.limits = Limits::default();
        inner.recent_sends.clear();
        refill_buckets(&mut inner);
    }
    axum::Json(faults_view(&shared)).into_response()
}

fn clock_view(inner: &crate::state::Inner) -> Value {
    json!({"now": inner.now_s(), "offset_seconds": inner.clock_offset_ms / 1000})
}

/// `POST /_sim/clock/advance?hours=..&minutes=..&seconds=..`: moves the simulated clock forward.
pub async fn advance_clock(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut ms = 0f64;
    for (key, unit) in [("hours", 3_600_000f64), ("minutes", 60_000f64), ("seconds", 1_000f64)] {
        if let Some(raw) = query.get(key) {
            match raw.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => ms += v * unit,
                _ => return bad_request(format!("{key} must be a non-negative number")),
            }
        }
    }
    let mut inner = shared.lock();
    inner.clock_offset_ms += ms as i64;
    axum::Json(clock_view(&inner)).into_response()
}

/// `GET /_sim/clock`: the simulated time.
pub async fn get_clock(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(clock_view(&shared.lock())).into_response()
}

/// `POST /_sim/reset`: forgets customers, inboxes, media, faults and the clock offset.
pub async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().reset();
    axum::Json(json!({"reset": true})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigRequest {
    webhook_url: Option<String>,
    status_callbacks: Option<bool>,
}

fn config_view(shared: &Shared) -> Value {
    json!({
        "webhook_url": shared.webhook_url(),
        "status_callbacks": shared.status_callbacks(),
        "phone_number_id": shared.phone_number_id,
        "display_phone_number": shared.display_phone_number,
        "waba_id": shared.waba_id,
        "url": shared.base_url,
    })
}

/// `GET /_sim/config`: the simulator's settings.
pub async fn get_config(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(config_view(&shared)).into_response()
}

/// `POST /_sim/config`: changes the webhook target or status callbacks while running.
pub async fn set_config(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: ConfigRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("config: {e}")),
    };
    if let Some(url) = request.webhook_url {
        shared.set_webhook_url(url);
    }
    if let Some(on) = request.status_callbacks {
        shared.status_callbacks.store(on, std::sync::atomic::Ordering::Relaxed);
    }
    axum::Json(config_view(&shared)).into_response()
}
