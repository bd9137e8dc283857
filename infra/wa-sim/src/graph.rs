//! Graph API side: message sends (to a phone or a business-scoped user id), mark-as-read and
//! typing indicators, the template listing, media upload, media URL lookup and download, as the
//! helpdesk calls them.

use crate::errors::{self, GraphError};
use crate::media::Media;
use crate::state::{
    BusinessNumber, CustomerKey, InboxEntry, MEDIA_URL_TTL_S, SendFault, Shared, Source, TypingIndication,
};
use crate::templates::Category;
use crate::validate::Recipient;
use crate::{identity::CustomerRef, ids, validate, versions, webhook};
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
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

/// The version segment must name a version served at the simulated time: otherwise Meta's
/// deprecated-version error (2635), or its unknown-path error when it is no version at all.
fn check_version(shared: &Shared, version: &str, path: &str) -> Result<()> {
    let now = shared.lock().now_s();
    match versions::check(version, now) {
        Ok(()) => Ok(()),
        Err(versions::Refusal::NotServed { latest }) => Err(errors::deprecated_version(latest)),
        Err(versions::Refusal::NotAVersion) => Err(errors::unknown_path(path)),
    }
}

fn check_phone<'a>(shared: &'a Shared, phone_number_id: &str, method: &str) -> Result<&'a BusinessNumber> {
    shared
        .number(phone_number_id)
        .ok_or_else(|| errors::object_not_found(method, phone_number_id))
}

/// `POST /{version}/{phone-number-id}/messages`: sends, mark-as-read and typing indicators.
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

/// What status webhooks of one accepted send carry, fixed when it was accepted.
struct StatusJob {
    number: BusinessNumber,
    key: CustomerKey,
    wamid: String,
    recipient_id: Option<String>,
    recipient_user_id: String,
    recipient_parent_user_id: Option<String>,
    category: Category,
    sent_at: i64,
}

async fn send(
    shared: Arc<Shared>,
    version: &str,
    phone_number_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value> {
    check_token(&shared, headers)?;
    check_version(&shared, version, &format!("/{version}/{phone_number_id}/messages"))?;
    let number = check_phone(&shared, phone_number_id, "post")?.clone();
    let request: Value = serde_json::from_slice(body).map_err(|e| {
        if body.iter().all(u8::is_ascii_whitespace) {
            errors::required_parameter("messaging_product")
        } else {
            errors::invalid_parameter(format!("The request body is not valid JSON: {e}"))
        }
    })?;
    if request.get("status").and_then(Value::as_str) == Some("read") {
        return mark_read(&shared, &number, &request);
    }
    let fault_hint: String = match (request.get("to").and_then(Value::as_str), request.get("recipient")) {
        (Some(to), _) => to.chars().filter(char::is_ascii_digit).collect(),
        (None, Some(Value::String(recipient))) => recipient.clone(),
        _ => String::new(),
    };
    if let Some(fault) = take_fault(&shared, &fault_hint) {
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
    let (job, answer_contact) = {
        let mut inner = shared.lock();
        let now = inner.now_ms();
        let limits = inner.faults.limits.clone();
        let category = match request.get("template").and_then(Value::as_object) {
            Some(template) if valid.kind == "template" => {
                let approved = inner.templates.check_send(template)?;
                if approved.category == Category::Authentication && matches!(valid.recipient, Recipient::UserId(_)) {
                    return Err(errors::for_code(131062, None, None));
                }
                approved.category
            }
            _ => Category::Service,
        };
        let who = match &valid.recipient {
            Recipient::Phone(phone) => CustomerRef::Phone(phone.clone()),
            Recipient::UserId(id) => CustomerRef::UserId(id.clone()),
        };
        let key = inner.find_or_create(&who);
        if valid.kind != "template" {
            let open = inner
                .customers
                .get(&key)
                .is_some_and(|c| c.window_open(&number.phone_number_id, now));
            if !open {
                return Err(errors::for_code(131047, None, None));
            }
        }
        let recent = inner.recent_sends.entry(number.phone_number_id.clone()).or_default();
        while recent.front().is_some_and(|t| now - *t >= 1000) {
            recent.pop_front();
        }
        if recent.len() >= limits.throughput_per_second as usize {
            return Err(errors::for_code(130429, None, None));
        }
        let Some(customer) = inner.get_mut(key) else {
            return Err(errors::for_code(131000, None, None));
        };
        let refill = limits.pair_refill_ms.max(1) as f64;
        let elapsed = (now - customer.bucket_at_ms).max(0) as f64;
        customer.bucket_tokens = (customer.bucket_tokens + elapsed / refill).min(limits.pair_burst as f64);
        customer.bucket_at_ms = now;
        if customer.bucket_tokens < 1.0 {
            return Err(errors::for_code(131056, None, None));
        }
        customer.bucket_tokens -= 1.0;
        let wamid = ids::wamid(customer.address());
        let timestamp = now.div_euclid(1000);
        customer.inbox.push(InboxEntry {
            id: wamid.clone(),
            kind: valid.kind.clone(),
            message: request.clone(),
            phone_number_id: number.phone_number_id.clone(),
            timestamp,
            timestamp_ms: now,
            status: "sent".into(),
            source: Source::Api,
        });
        let mut contact = Map::new();
        contact.insert("input".into(), json!(valid.input));
        match &valid.recipient {
            Recipient::Phone(phone) => {
                contact.insert("wa_id".into(), json!(phone));
            }
            Recipient::UserId(id) => {
                if let Some(phone) = customer.visible_phone() {
                    contact.insert("wa_id".into(), json!(phone));
                }
                contact.insert("user_id".into(), json!(id));
            }
        }
        let job = StatusJob {
            number: number.clone(),
            key,
            wamid: wamid.clone(),
            recipient_id: customer.visible_phone().map(str::to_string),
            recipient_user_id: customer.user_id.clone(),
            recipient_parent_user_id: customer.parent_user_id.clone(),
            category,
            sent_at: timestamp,
        };
        inner
            .recent_sends
            .entry(number.phone_number_id.clone())
            .or_default()
            .push_back(now);
        inner.outbound_ids.insert(wamid, key);
        (job, Value::Object(contact))
    };
    let mut message = json!({ "id": job.wamid });
    if valid.kind == "template" {
        message["message_status"] = json!("accepted");
    }
    if shared.status_callbacks() {
        let shared = shared.clone();
        tokio::spawn(async move { emit_statuses(shared, job).await });
    }
    Ok(json!({
        "messaging_product": "whatsapp",
        "contacts": [answer_contact],
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

/// Mark-as-read, and with `typing_indicator: {"type": "text"}` a typing indicator as well.
fn mark_read(shared: &Shared, number: &BusinessNumber, request: &Value) -> Result<Value> {
    match request.get("messaging_product") {
        Some(Value::String(p)) if p == "whatsapp" => {}
        None | Some(Value::Null) => return Err(errors::required_parameter("messaging_product")),
        Some(_) => return Err(errors::invalid_parameter("messaging_product must be \"whatsapp\"")),
    }
    let id = match request.get("message_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(errors::required_parameter("message_id")),
    };
    let typing = match request.get("typing_indicator") {
        None | Some(Value::Null) => false,
        Some(Value::Object(t)) if t.get("type").and_then(Value::as_str) == Some("text") => true,
        Some(Value::Object(_)) => {
            return Err(errors::invalid_parameter("typing_indicator.type must be \"text\""));
        }
        Some(_) => return Err(errors::invalid_parameter("typing_indicator must be an object")),
    };
    let mut inner = shared.lock();
    if inner.outbound_ids.contains_key(&id) {
        return Err(errors::invalid_parameter(format!(
            "Message supplied to mark message as read API with message ID: {id} is outgoing. Please use an incoming message ID."
        )));
    }
    let Some(owner) = inner.inbound_ids.get(&id).copied() else {
        return Err(errors::invalid_parameter(
            "Please check the message ID you have provided.",
        ));
    };
    let now = inner.now_ms();
    let Some(customer) = inner.get_mut(owner) else {
        return Err(errors::invalid_parameter(
            "Please check the message ID you have provided.",
        ));
    };
    if !customer.read_marks.contains(&id) {
        customer.read_marks.push(id.clone());
    }
    if typing {
        customer.typing.push(TypingIndication {
            message_id: id,
            phone_number_id: number.phone_number_id.clone(),
            at: now.div_euclid(1000),
            at_ms: now,
        });
    }
    Ok(json!({"success": true}))
}

/// Sent, delivered and read statuses with per-message pricing (`PMP`); the `conversation`
/// object of conversation-based pricing is no longer sent.
async fn emit_statuses(shared: Arc<Shared>, job: StatusJob) {
    for status in ["sent", "delivered", "read"] {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let timestamp = shared.lock().now_s().max(job.sent_at);
        let mut value = Map::new();
        value.insert("id".into(), json!(job.wamid));
        value.insert("status".into(), json!(status));
        value.insert("timestamp".into(), json!(timestamp.to_string()));
        if let Some(phone) = &job.recipient_id {
            value.insert("recipient_id".into(), json!(phone));
        }
        value.insert("recipient_user_id".into(), json!(job.recipient_user_id));
        if let Some(parent) = &job.recipient_parent_user_id {
            value.insert("recipient_parent_user_id".into(), json!(parent));
        }
        // `billable` is deprecated but Meta still sends it.
        value.insert(
            "pricing".into(),
            json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": job.category.as_str()}),
        );
        let envelope = webhook::status_envelope(&shared, &job.number, Value::Object(value));
        let body = serde_json::to_vec(&envelope).unwrap_or_default();
        let delivery = webhook::deliver(&shared, body).await;
        let mut inner = shared.lock();
        let at = inner.now_s();
        // A reset between statuses drops the customer; nothing is recorded then.
        if let Some(customer) = inner.customers.get_mut(&job.key)
            && let Some(entry) = customer.inbox.iter_mut().find(|e| e.id == job.wamid)
        {
            entry.status = status.into();
            let mut record = serde_json::to_value(&delivery).unwrap_or_default();
            record["kind"] = json!("status");
            record["status"] = json!(status);
            record["wamid"] = json!(job.wamid);
            record["at"] = json!(at);
            customer.deliveries.push(record);
        }
    }
}

/// `GET /{version}/{waba-id}/message_templates`: the approved templates in Meta's shape.
pub async fn list_templates(
    State(shared): State<Arc<Shared>>,
    Path((version, waba_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let result = (|| -> Result<Value> {
        check_token(&shared, &headers)?;
        check_version(&shared, &version, &format!("/{version}/{waba_id}/message_templates"))?;
        if waba_id != shared.waba_id {
            return Err(errors::object_not_found("get", &waba_id));
        }
        let url = format!("{}/{version}/{waba_id}/message_templates", shared.base_url);
        shared.lock().templates.page(&query, &url)
    })();
    match result {
        Ok(value) => axum::Json(value).into_response(),
        Err(err) => err.into_response(),
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
        check_version(&shared, &version, &format!("/{version}/{media_id}"))?;
        let inner = shared.lock();
        let media = inner
            .media
            .get(&media_id)
            .ok_or_else(|| errors::object_not_found("get", &media_id))?;
        let expires = inner.now_s() + MEDIA_URL_TTL_S;
        Ok(json!({
            "url": crate::media::download_url(&shared.base_url, &shared.app_secret, &media.id, expires),
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
        check_version(&shared, &version, &format!("/{version}/{media_id}"))?;
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
    if sig != crate::media::url_signature(&shared.app_secret, &media_id, expires) || inner.now_s() > expires {
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
    check_version(shared, version, &format!("/{version}/{phone_number_id}/media"))?;
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
