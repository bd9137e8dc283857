//! Graph API side: message sends, mark-as-read, media upload, media URL lookup and download, as the helpdesk calls them.

use crate::errors::{self, GraphError};
use crate::media::Media;
use crate::state::{InboxEntry, MEDIA_URL_TTL_S, SendFault, Shared, WINDOW_MS};
use crate::{ids, validate, webhook};
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

type Result<T> = std::result::Result<T, GraphError>;

fn check_token(shared: &Shared, headers: &HeaderMap) -> Result<()> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match token {
        Some(t) if !t.is_empty() && t == shared.access_token => Ok(()),
        _ => Err(errors::invalid_token()),
    }
}

fn check_version(version: &str, path: &str) -> Result<()> {
    let ok = version.strip_prefix('v').is_some_and(|rest| {
        let mut parts = rest.split('.');
        let major = parts.next().unwrap_or("");
        let minor = parts.next().unwrap_or("");
        parts.next().is_none()
            && !major.is_empty()
            && !minor.is_empty()
            && major.chars().all(|c| c.is_ascii_digit())
            && minor.chars().all(|c| c.is_ascii_digit())
    });
    if ok { Ok(()) } else { Err(errors::unknown_path(path)) }
}

fn check_phone(shared: &Shared, phone_number_id: &str, method: &str) -> Result<()> {
    if phone_number_id == shared.phone_number_id {
        Ok(())
    } else {
        Err(errors::object_not_found(method, phone_number_id))
    }
}

/// `POST /{version}/{phone-number-id}/messages`: sends and mark-as-read.
pub async fn post_messages(
    State(shared): State<Arc<Shared>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match send(shared, &version, &phone_number_id, &headers, &body).await {
        Ok(value) => (StatusCode::OK, axum::Json(value)).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn send(
    shared: Arc<Shared>,
    version: &str,
    phone_number_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value> {
    check_token(&shared, headers)?;
    check_version(version, &format!("/{version}/{phone_number_id}/messages"))?;
    check_phone(&shared, phone_number_id, "post")?;
    let request: Value = serde_json::from_slice(body).map_err(|e| {
        if body.iter().all(u8::is_ascii_whitespace) {
            errors::required_parameter("messaging_product")
        } else {
            errors::invalid_parameter(format!("The request body is not valid JSON: {e}"))
        }
    })?;
    if request.get("status").and_then(Value::as_str) == Some("read") {
        return mark_read(&shared, &request);
    }
    let to_hint: String = request
        .get("to")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if let Some(fault) = take_fault(&shared, &to_hint) {
        if let Some(delay) = fault.delay_ms {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if fault.status.is_some() || fault.code.is_some() {
            return Err(fault_error(&fault));
        }
    }
    let valid = {
        let inner = shared.lock();
        validate::validate_send(&request, &|id| inner.media.contains_key(id))?
    };
    let wamid = ids::wamid(&valid.wa_id);
    let timestamp = {
        let mut inner = shared.lock();
        let now = inner.now_ms();
        let limits = inner.faults.limits.clone();
        if valid.kind != "template" {
            let last = inner.customers.get(&valid.wa_id).and_then(|c| c.last_inbound_ms);
            let open = last.is_some_and(|t| now - t <= WINDOW_MS);
            if !open {
                return Err(errors::for_code(131047, None, None));
            }
        }
        while inner.recent_sends.front().is_some_and(|t| now - *t >= 1000) {
            inner.recent_sends.pop_front();
        }
        if inner.recent_sends.len() >= limits.throughput_per_second as usize {
            return Err(errors::for_code(130429, None, None));
        }
        let customer = inner.customer(&valid.wa_id);
        let refill = limits.pair_refill_ms.max(1) as f64;
        let elapsed = (now - customer.bucket_at_ms).max(0) as f64;
        customer.bucket_tokens = (customer.bucket_tokens + elapsed / refill).min(limits.pair_burst as f64);
        customer.bucket_at_ms = now;
        if customer.bucket_tokens < 1.0 {
            return Err(errors::for_code(131056, None, None));
        }
        customer.bucket_tokens -= 1.0;
        let timestamp = now.div_euclid(1000);
        customer.inbox.push(InboxEntry {
            id: wamid.clone(),
            kind: valid.kind.clone(),
            message: request.clone(),
            phone_number_id: phone_number_id.to_string(),
            timestamp,
            status: "sent".into(),
        });
        inner.recent_sends.push_back(now);
        inner.outbound_ids.insert(wamid.clone(), valid.wa_id.clone());
        timestamp
    };
    if shared.status_callbacks() {
        let shared = shared.clone();
        let wamid = wamid.clone();
        let wa_id = valid.wa_id.clone();
        let template = valid.kind == "template";
        tokio::spawn(async move {
            emit_statuses(shared, wamid, wa_id, template, timestamp).await;
        });
    }
    let mut message = json!({ "id": wamid });
    if valid.kind == "template" {
        message["message_status"] = json!("accepted");
    }
    Ok(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": valid.input, "wa_id": valid.wa_id}],
        "messages": [message],
    }))
}

fn take_fault(shared: &Shared, to: &str) -> Option<SendFault> {
    let mut inner = shared.lock();
    let queue = &mut inner.faults.graph_send;
    let index = queue.iter().position(|f| f.to.as_deref().is_none_or(|t| t == to))?;
    let fault = queue[index].clone();
    let remaining = fault.times.unwrap_or(1);
    if remaining <= 1 {
        queue.remove(index);
    } else {
        queue[index].times = Some(remaining - 1);
    }
    Some(fault)
}

fn fault_error(fault: &SendFault) -> GraphError {
    let status = fault.status.and_then(|s| StatusCode::from_u16(s).ok());
    let code = fault.code.unwrap_or(match fault.status {
        Some(429) => 130429,
        _ => 131000,
    });
    errors::for_code(code, status, fault.message.as_deref())
}

fn mark_read(shared: &Shared, request: &Value) -> Result<Value> {
    match request.get("messaging_product") {
        Some(Value::String(p)) if p == "whatsapp" => {}
        None | Some(Value::Null) => return Err(errors::required_parameter("messaging_product")),
        Some(_) => return Err(errors::invalid_parameter("messaging_product must be \"whatsapp\"")),
    }
    let id = match request.get("message_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(errors::required_parameter("message_id")),
    };
    let mut inner = shared.lock();
    if inner.outbound_ids.contains_key(&id) {
        return Err(errors::invalid_parameter(format!(
            "Message supplied to mark message as read API with message ID: {id} is outgoing. Please use an incoming message ID."
        )));
    }
    let Some(owner) = inner.inbound_ids.get(&id).cloned() else {
        return Err(errors::invalid_parameter(
            "Please check the message ID you have provided.",
        ));
    };
    let customer = inner.customer(&owner);
    if !customer.read_marks.contains(&id) {
        customer.read_marks.push(id);
    }
    Ok(json!({"success": true}))
}

async fn emit_statuses(shared: Arc<Shared>, wamid: String, wa_id: String, template: bool, sent_at: i64) {
    let conversation_id = ids::conversation_id();
    let category = if template { "utility" } else { "service" };
    for status in ["sent", "delivered", "read"] {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let timestamp = shared.lock().now_s().max(sent_at);
        let mut conversation = json!({"id": conversation_id, "origin": {"type": category}});
        if status == "sent" {
            conversation["expiration_timestamp"] = json!((timestamp + 24 * 3600).to_string());
        }
        let status_value = json!({
            "id": wamid,
            "status": status,
            "timestamp": timestamp.to_string(),
            "recipient_id": wa_id,
            "conversation": conversation,
            "pricing": {"billable": true, "pricing_model": "CBP", "category": category},
        });
        let body = serde_json::to_vec(&webhook::status_envelope(&shared, status_value)).unwrap_or_default();
        let delivery = webhook::deliver(&shared, body).await;
        let mut inner = shared.lock();
        let at = inner.now_s();
        // A reset between statuses drops the customer; nothing is recorded then.
        if let Some(customer) = inner.customers.get_mut(&wa_id)
            && let Some(entry) = customer.inbox.iter_mut().find(|e| e.id == wamid)
        {
            entry.status = status.into();
            let mut record = serde_json::to_value(&delivery).unwrap_or_default();
            record["kind"] = json!("status");
            record["status"] = json!(status);
            record["wamid"] = json!(wamid);
            record["at"] = json!(at);
            customer.deliveries.push(record);
        }
    }
}

/// `GET /{version}/{media-id}`: the media URL and metadata.
pub async fn get_media(
    State(shared): State<Arc<Shared>>,
    Path((version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let result = (|| -> Result<Value> {
        check_token(&shared, &headers)?;
        check_version(&version, &format!("/{version}/{media_id}"))?;
        let inner = shared.lock();
        let media = inner
            .media
            .get(&media_id)
            .ok_or_else(|| errors::object_not_found("get", &media_id))?;
        let expires = inner.now_s() + MEDIA_URL_TTL_S;
        let sig = url_signature(&shared, &media.id, expires);
        Ok(json!({
            "url": format!("{}/_media/{}?expires={expires}&sig={sig}", shared.base_url, media.id),
            "mime_type": media.mime_type,
            "sha256": media.sha256_hex(),
            "file_size": media.bytes.len(),
            "id": media.id,
            "messaging_product": "whatsapp",
        }))
    })();
    match result {
        Ok(value) => axum::Json(value).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `DELETE /{version}/{media-id}`: forgets a media item.
pub async fn delete_media(
    State(shared): State<Arc<Shared>>,
    Path((version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let result = (|| -> Result<Value> {
        check_token(&shared, &headers)?;
        check_version(&version, &format!("/{version}/{media_id}"))?;
        shared
            .lock()
            .media
            .remove(&media_id)
            .ok_or_else(|| errors::object_not_found("delete", &media_id))?;
        Ok(json!({"success": true}))
    })();
    match result {
        Ok(value) => axum::Json(value).into_response(),
        Err(err) => err.into_response(),
    }
}

fn url_signature(shared: &Shared, media_id: &str, expires: i64) -> String {
    let full = crate::sign(&shared.app_secret, format!("media:{media_id}:{expires}").as_bytes());
    full.trim_start_matches("sha256=")[..32].to_string()
}

/// Query of a media download URL.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    expires: Option<i64>,
    sig: Option<String>,
}

/// `GET /_media/{media-id}?expires=..&sig=..`: the bytes, with the bearer token.
pub async fn download_media(
    State(shared): State<Arc<Shared>>,
    Path(media_id): Path<String>,
    Query(query): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(err) = check_token(&shared, &headers) {
        return err.into_response();
    }
    let (Some(expires), Some(sig)) = (query.expires, query.sig) else {
        return errors::media_url_expired().into_response();
    };
    let inner = shared.lock();
    if sig != url_signature(&shared, &media_id, expires) || inner.now_s() > expires {
        return errors::media_url_expired().into_response();
    }
    let Some(media) = inner.media.get(&media_id) else {
        return errors::media_url_expired().into_response();
    };
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, media.mime_type.clone())],
        media.bytes.clone(),
    )
        .into_response();
    let disposition = media
        .filename
        .as_deref()
        .map(|name| name.replace(['"', '\\', '\r', '\n'], "_"))
        .and_then(|name| header::HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).ok());
    if let Some(value) = disposition {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `POST /{version}/{phone-number-id}/media`: multipart upload (`messaging_product`, `type`, `file`).
pub async fn upload_media(
    State(shared): State<Arc<Shared>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Response {
    match upload(&shared, &version, &phone_number_id, &headers, multipart).await {
        Ok(value) => axum::Json(value).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn upload(
    shared: &Shared,
    version: &str,
    phone_number_id: &str,
    headers: &HeaderMap,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Value> {
    check_token(shared, headers)?;
    check_version(version, &format!("/{version}/{phone_number_id}/media"))?;
    check_phone(shared, phone_number_id, "post")?;
    let mut multipart =
        multipart.map_err(|e| errors::invalid_parameter(format!("The body must be multipart/form-data: {e}")))?;
    let mut product = None;
    let mut declared_type = None;
    let mut file: Option<(Option<String>, Option<String>, Bytes)> = None;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| errors::invalid_parameter(format!("Malformed multipart body: {e}")))?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "messaging_product" => product = field.text().await.ok(),
            "type" => declared_type = field.text().await.ok(),
            "file" => {
                let filename = field.file_name().map(str::to_string);
                let content_type = field.content_type().map(str::to_string);
                let data = field
                    .bytes()
                    .await
                    .map_err(|e| errors::invalid_parameter(format!("Unreadable file part: {e}")))?;
                file = Some((filename, content_type, data));
            }
            _ => {}
        }
    }
    match product.as_deref() {
        None => return Err(errors::required_parameter("messaging_product")),
        Some("whatsapp") => {}
        Some(other) => {
            return Err(errors::invalid_parameter(format!(
                "messaging_product must be \"whatsapp\", got \"{other}\""
            )));
        }
    }
    let Some((filename, content_type, data)) = file else {
        return Err(errors::required_parameter("file"));
    };
    if data.is_empty() {
        return Err(errors::invalid_parameter("file is empty"));
    }
    let mime_type = declared_type
        .filter(|t| !t.trim().is_empty())
        .or(content_type.filter(|t| t != "application/octet-stream"))
        .unwrap_or_else(|| {
            crate::media::mime_for_path(std::path::Path::new(filename.as_deref().unwrap_or(""))).to_string()
        });
    let id = ids::media_id();
    shared.lock().media.insert(
        id.clone(),
        Media {
            id: id.clone(),
            mime_type,
            bytes: data,
            filename,
        },
    );
    Ok(json!({ "id": id }))
}

/// Any other path: Meta's unknown-path error.
pub async fn fallback(uri: axum::http::Uri) -> Response {
    errors::unknown_path(uri.path()).into_response()
}
