//! Control API (`/_sim/...`) for the simulator itself: faults and limits, the clock, reset,
//! settings and approved templates. The customer side is in `customer`.

use crate::state::{Limits, SendFault, Shared};
use crate::{templates, versions};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// A 400 answer of the control API: `{"error": {"message": ...}}`.
pub fn bad_request(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

/// An error answer of the control API with this status: `{"error": {"message": ...}}`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": {"message": message.into()}}))).into_response()
}

/// A refused control call, answered as [`error`] with its status and message.
#[derive(Debug)]
pub struct Refused {
    /// HTTP status of the answer.
    pub status: StatusCode,
    /// What was wrong.
    pub message: String,
}

impl Refused {
    /// A 400 refusal.
    pub fn bad(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        error(self.status, self.message)
    }
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

/// `POST /_sim/reset`: forgets customers, inboxes, media, faults and the clock offset; templates go back to the seed.
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
    let now = shared.lock().now_s();
    json!({
        "webhook_url": shared.webhook_url(),
        "status_callbacks": shared.status_callbacks(),
        "phone_number_id": shared.primary().phone_number_id,
        "display_phone_number": shared.primary().display_phone_number,
        "business_numbers": shared.numbers,
        "waba_id": shared.waba_id,
        "url": shared.base_url,
        "graph_api_versions": versions::served_at(now),
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

fn templates_view(shared: &Shared) -> Value {
    json!({"templates": shared.lock().templates.all()})
}

/// `GET /_sim/templates`: the approved templates.
pub async fn get_templates(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(templates_view(&shared)).into_response()
}

/// `POST /_sim/templates`: approves one template or a list of them (replacing any with the same
/// name and language): `{"name", "language": "en" | ["en", ...], "category", "body_parameters",
/// "quick_replies": n | ["label", ...], "body_text"}`. Answers the whole registry.
pub async fn set_templates(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("templates: the body is not JSON: {e}")),
    };
    let items = match value {
        Value::Array(items) if !items.is_empty() => items,
        Value::Object(_) => vec![value],
        _ => {
            return bad_request(
                "templates: send one template or a list, e.g. {\"name\":\"welcome\",\"language\":\"en\",\"category\":\"marketing\",\"body_parameters\":1}",
            );
        }
    };
    let mut parsed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match templates::parse_registration(item) {
            Ok(mut ts) => parsed.append(&mut ts),
            Err(e) => return bad_request(format!("templates[{i}]: {e}")),
        }
    }
    {
        let mut inner = shared.lock();
        for template in parsed {
            inner.templates.upsert(template);
        }
    }
    axum::Json(templates_view(&shared)).into_response()
}

/// `DELETE /_sim/templates/{name}?language=..`: withdraws a template in one language, or in all.
pub async fn delete_template(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let removed = shared
        .lock()
        .templates
        .remove(&name, query.get("language").map(String::as_str));
    if removed == 0 {
        return error(StatusCode::NOT_FOUND, format!("no template {name} to remove"));
    }
    axum::Json(templates_view(&shared)).into_response()
}
