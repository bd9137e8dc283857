//! Control API, customer side (`/_sim/customers/{customer}/...`): configures customers, plays
//! their messages and system events, delivers coexistence echoes, all as signed webhooks, and
//! shows what the business sent. `{customer}` is the phone digits or the business-scoped user id.

use crate::control::{Refused, bad_request, error};
use crate::identity::{self, CustomerRef};
use crate::media::{Media, download_url, mime_for_path};
use crate::state::{BusinessNumber, Customer, CustomerKey, InboxEntry, Inner, MEDIA_URL_TTL_S, Shared, Source};
use crate::{ids, validate, webhook};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

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
    "edit",
    "revoke",
    "unsupported",
];

/// Keys the simulator sets on every message, dropped from what the caller sends.
const SET_BY_SIMULATOR: &[&str] = &["from", "from_user_id", "from_parent_user_id", "to", "id", "timestamp"];

/// How long a call permission granted by the customer lasts (as in Meta's examples: 7 days).
const CALL_PERMISSION_S: i64 = 7 * 24 * 3600;

type Query_ = Query<HashMap<String, String>>;

fn customer_ref(raw: &str) -> Result<CustomerRef, Refused> {
    CustomerRef::parse(raw).map_err(Refused::bad)
}

fn not_found(who: &CustomerRef) -> Response {
    error(StatusCode::NOT_FOUND, format!("no customer {} yet", who.as_str()))
}

/// The business number named by `?business=<phone_number_id>`, else the first one.
fn business(shared: &Shared, query: &HashMap<String, String>) -> Result<BusinessNumber, Refused> {
    match query.get("business") {
        None => Ok(shared.primary().clone()),
        Some(id) => shared.number(id).cloned().ok_or_else(|| {
            let known: Vec<&str> = shared.numbers.iter().map(|n| n.phone_number_id.as_str()).collect();
            Refused::bad(format!(
                "business: no business number {id}; this simulator serves {}",
                known.join(", ")
            ))
        }),
    }
}

fn json_object(body: &[u8], example: &str) -> Result<Map<String, Value>, Refused> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Refused::bad(format!("the body must be a JSON object, e.g. {example}"))),
    }
}

/// A JSON object, or `{}` for an empty body.
fn optional_json_object(body: &[u8], example: &str) -> Result<Map<String, Value>, Refused> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    json_object(body, example)
}

/// Delivers `envelope`, records the delivery on the customer (with `record`'s fields), and
/// answers `{"wamid", "delivered", "attempts", "last_status", "error"?}` plus `extra`.
async fn deliver_recorded(
    shared: &Shared,
    key: CustomerKey,
    wamid: &str,
    envelope: Value,
    record: Value,
    extra: Value,
) -> Response {
    let bytes = match serde_json::to_vec(&envelope) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot serialise the envelope: {e}"),
            );
        }
    };
    let delivery = webhook::deliver(shared, bytes).await;
    {
        let mut inner = shared.lock();
        let at = inner.now_s();
        if let Some(customer) = inner.get_mut(key) {
            let mut entry = serde_json::to_value(&delivery).unwrap_or_default();
            if let (Value::Object(entry), Value::Object(record)) = (&mut entry, record) {
                entry.extend(record);
            }
            entry["wamid"] = json!(wamid);
            entry["at"] = json!(at);
            customer.deliveries.push(entry);
        }
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
    if let (Value::Object(answer), Value::Object(extra)) = (&mut answer, extra) {
        answer.extend(extra);
    }
    axum::Json(answer).into_response()
}

fn non_empty_string<'a>(map: &'a Map<String, Value>, path: &str, key: &str) -> Result<&'a str, String> {
    match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("{path}.{key} must be a non-empty string")),
    }
}

fn object_mut<'a>(map: &'a mut Map<String, Value>, key: &str) -> Result<&'a mut Map<String, Value>, String> {
    match map.get_mut(key) {
        Some(Value::Object(o)) => Ok(o),
        _ => Err(format!("\"{key}\" must be an object")),
    }
}

/// Checks and completes the customer-side message types of 2025–2026 (edit, revoke, Flows
/// answers, call permission replies, unsupported). Returns the id of the earlier message an edit
/// or a revoke refers to.
fn complete_message(message: &mut Map<String, Value>, kind: &str, now_s: i64) -> Result<Option<String>, String> {
    match kind {
        "edit" => {
            let edit = object_mut(message, "edit")?;
            let original = non_empty_string(edit, "edit", "original_message_id")?.to_string();
            let inner = object_mut(edit, "message").map_err(|_| "edit.message must be an object".to_string())?;
            let inner_kind = non_empty_string(inner, "edit.message", "type")?.to_string();
            // Users can edit a text, or the caption of a media message.
            if !matches!(inner_kind.as_str(), "text" | "image" | "video" | "document") {
                return Err(format!(
                    "edit.message.type \"{inner_kind}\" cannot be edited; text, image, video and document can"
                ));
            }
            let payload = inner
                .get(&inner_kind)
                .and_then(Value::as_object)
                .ok_or_else(|| format!("edit.message needs a \"{inner_kind}\" object"))?;
            if inner_kind == "text" {
                non_empty_string(payload, "edit.message.text", "body")?;
            }
            Ok(Some(original))
        }
        "revoke" => {
            let revoke = object_mut(message, "revoke")?;
            Ok(Some(
                non_empty_string(revoke, "revoke", "original_message_id")?.to_string(),
            ))
        }
        "interactive" => {
            let interactive = object_mut(message, "interactive")?;
            let sub = non_empty_string(interactive, "interactive", "type")?.to_string();
            match sub.as_str() {
                "nfm_reply" => {
                    let reply = object_mut(interactive, "nfm_reply")
                        .map_err(|_| "interactive.nfm_reply must be an object".to_string())?;
                    let json_text =
                        match reply.get("response_json") {
                            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                                Ok(Value::Object(_)) => s.clone(),
                                _ => {
                                    return Err(
                                        "interactive.nfm_reply.response_json must be a JSON object in a string".into(),
                                    );
                                }
                            },
                            // A convenience for scripts: an object is sent as Meta sends it, a string.
                            Some(Value::Object(o)) => Value::Object(o.clone()).to_string(),
                            _ => return Err(
                                "interactive.nfm_reply.response_json is required: the Flow's answer as a JSON string"
                                    .into(),
                            ),
                        };
                    reply.insert("response_json".into(), json!(json_text));
                    for (key, default) in [("body", "Sent"), ("name", "flow")] {
                        match reply.get(key) {
                            None | Some(Value::Null) => {
                                reply.insert(key.into(), json!(default));
                            }
                            Some(Value::String(_)) => {}
                            Some(_) => return Err(format!("interactive.nfm_reply.{key} must be a string")),
                        }
                    }
                }
                "call_permission_reply" => {
                    let reply = object_mut(interactive, "call_permission_reply")
                        .map_err(|_| "interactive.call_permission_reply must be an object".to_string())?;
                    let response = non_empty_string(reply, "interactive.call_permission_reply", "response")?;
                    match response {
                        "accept" => {
                            reply
                                .entry("expiration_timestamp")
                                .or_insert(json!(now_s + CALL_PERMISSION_S));
                        }
                        "reject" => {}
                        other => {
                            return Err(format!(
                                "interactive.call_permission_reply.response must be accept or reject, not \"{other}\""
                            ));
                        }
                    }
                    reply.entry("response_source").or_insert(json!("user_action"));
                }
                _ => {}
            }
            Ok(None)
        }
        "unsupported" => {
            let unsupported = object_mut(message, "unsupported")?;
            non_empty_string(unsupported, "unsupported", "type")?;
            // Meta's wording for a message type it cannot show (fixture corpus).
            message.entry("errors").or_insert(json!([{
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }]));
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// `call_permission_reply` given as its own type becomes the `interactive` message Meta sends.
fn expand_shorthand(message: &mut Map<String, Value>, kind: &mut String) {
    if kind == "call_permission_reply"
        && let Some(reply) = message.remove("call_permission_reply")
    {
        message.insert("type".into(), json!("interactive"));
        message.insert(
            "interactive".into(),
            json!({"type": "call_permission_reply", "call_permission_reply": reply}),
        );
        *kind = "interactive".into();
    }
}

/// Registers `path` files of media objects as media and adds the `url` Meta's media messages carry.
async fn complete_media(
    shared: &Shared,
    kind: &str,
    message: &mut Map<String, Value>,
) -> Result<Option<String>, String> {
    if !validate::MEDIA_TYPES.contains(&kind) {
        return Ok(None);
    }
    let Some(Value::Object(mut media)) = message.get(kind).cloned() else {
        return Err(format!("\"{kind}\" must be an object"));
    };
    let mut registered = None;
    if let Some(path) = media.get("path") {
        let Some(path) = path.as_str().map(str::to_string) else {
            return Err(format!("{kind}.path must be a string"));
        };
        let (id, object) = register_file(shared, kind, &path, media).await?;
        registered = Some(id);
        media = object;
    }
    if !media.contains_key("url")
        && let Some(id) = media.get("id").and_then(Value::as_str)
    {
        let inner = shared.lock();
        if inner.media.contains_key(id) {
            let expires = inner.now_s() + MEDIA_URL_TTL_S;
            media.insert(
                "url".into(),
                json!(download_url(&shared.base_url, &shared.app_secret, id, expires)),
            );
        }
    }
    message.insert(kind.into(), Value::Object(media));
    Ok(registered)
}

/// Reads a local file, stores it as media and returns the webhook media object that replaces `path`.
async fn register_file(
    shared: &Shared,
    kind: &str,
    path: &str,
    mut object: Map<String, Value>,
) -> Result<(String, Map<String, Value>), String> {
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
    Ok((id, object))
}

/// Reads the message type of a control body: a non-empty `type`.
fn message_kind(message: &Map<String, Value>) -> Result<String, Refused> {
    match message.get("type") {
        Some(Value::String(t)) if !t.is_empty() => Ok(t.clone()),
        _ => Err(Refused::bad(
            "the message needs a \"type\" (text, interactive, image, ...)",
        )),
    }
}

/// `POST /_sim/customers/{customer}/messages[?business=<phone_number_id>]`: the customer sends
/// one message; it is delivered as a signed webhook to the business number named (default: the
/// first). Answers the new wamid and how the delivery went.
pub async fn customer_message(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    Query(query): Query_,
    body: Bytes,
) -> Response {
    let Ok(Value::Object(mut message)) = serde_json::from_slice::<Value>(&body) else {
        return bad_request(
            "the body must be a JSON object: one Cloud API message without from, id and timestamp, e.g. {\"type\":\"text\",\"text\":{\"body\":\"hi\"}}",
        );
    };
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let number = match business(&shared, &query) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let mut kind = match message_kind(&message) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    if kind == "system" {
        return bad_request(
            "system messages come from POST /_sim/customers/{customer}/change-number and /change-user-id",
        );
    }
    expand_shorthand(&mut message, &mut kind);
    if PAYLOAD_TYPES.contains(&kind.as_str()) && !message.contains_key(&kind) {
        return bad_request(format!("a \"{kind}\" message needs a \"{kind}\" object"));
    }
    let profile_name = match message.remove("profile_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return bad_request("profile_name must be a string"),
    };
    let now_s = shared.lock().now_s();
    let original = match complete_message(&mut message, &kind, now_s) {
        Ok(o) => o,
        Err(e) => return bad_request(e),
    };
    let media_id = match complete_media(&shared, &kind, &mut message).await {
        Ok(id) => id,
        Err(e) => return bad_request(e),
    };
    for key in SET_BY_SIMULATOR {
        message.remove(*key);
    }
    if let Some(Value::Object(context)) = message.get_mut("context")
        && context.contains_key("id")
    {
        context.entry("from").or_insert(json!(number.display_phone_number));
    }
    let (key, wamid, envelope) = {
        let mut inner = shared.lock();
        let now = inner.now_ms();
        if let Some(original) = &original {
            let Some(key) = inner.find(&who) else {
                return not_found(&who);
            };
            if inner.inbound_ids.get(original) != Some(&key) {
                return bad_request(format!(
                    "{kind}.original_message_id {original} is not a message this customer sent"
                ));
            }
        }
        let key = inner.find_or_create(&who);
        let Some(customer) = inner.get_mut(key) else {
            return not_found(&who);
        };
        if profile_name.is_some() {
            customer.profile_name = profile_name;
        }
        // An edit or a revoke changes an earlier message; only new messages open or refresh the window.
        if original.is_none() {
            customer.last_inbound_ms.insert(number.phone_number_id.clone(), now);
        }
        let wamid = ids::wamid(customer.address());
        let mut full = customer.sender_fields();
        full.insert("id".into(), json!(wamid));
        full.insert("timestamp".into(), json!(now.div_euclid(1000).to_string()));
        full.extend(message);
        let envelope = webhook::message_envelope(&shared, &number, customer.contact(), Value::Object(full));
        inner.inbound_ids.insert(wamid.clone(), key);
        (key, wamid, envelope)
    };
    let extra = match media_id {
        Some(id) => json!({ "media_id": id }),
        None => json!({}),
    };
    deliver_recorded(
        &shared,
        key,
        &wamid,
        envelope,
        json!({"kind": "message", "type": kind, "phone_number_id": number.phone_number_id}),
        extra,
    )
    .await
}

/// `GET /_sim/customers/{customer}/inbox`: what the business sent to the customer, in order
/// (Graph API sends and coexistence echoes, told apart by `source`).
pub async fn inbox(State(shared): State<Arc<Shared>>, Path(raw): Path<String>) -> Response {
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let inner = shared.lock();
    let entries = inner
        .find(&who)
        .and_then(|key| inner.customers.get(&key))
        .map(|c| c.inbox.clone())
        .unwrap_or_default();
    axum::Json(entries).into_response()
}

/// `GET /_sim/customers/{customer}/deliveries`: webhook deliveries made for the customer.
pub async fn deliveries(State(shared): State<Arc<Shared>>, Path(raw): Path<String>) -> Response {
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let inner = shared.lock();
    let records = inner
        .find(&who)
        .and_then(|key| inner.customers.get(&key))
        .map(|c| c.deliveries.clone())
        .unwrap_or_default();
    axum::Json(records).into_response()
}

fn customer_view(shared: &Shared, inner: &Inner, customer: &Customer) -> Value {
    let now = inner.now_ms();
    let primary = &shared.primary().phone_number_id;
    let windows: Map<String, Value> = shared
        .numbers
        .iter()
        .map(|n| {
            let last = customer
                .last_inbound_ms
                .get(&n.phone_number_id)
                .map(|t| t.div_euclid(1000));
            (
                n.phone_number_id.clone(),
                json!({"last_inbound": last, "open": customer.window_open(&n.phone_number_id, now)}),
            )
        })
        .collect();
    json!({
        "wa_id": customer.phone,
        "phone": customer.phone,
        "user_id": customer.user_id,
        "parent_user_id": customer.parent_user_id,
        "username": customer.username,
        "profile_name": customer.profile_name,
        "phone_withheld": customer.phone_withheld,
        "last_inbound": customer.last_inbound_ms.get(primary).map(|t| t.div_euclid(1000)),
        "window_open": customer.window_open(primary, now),
        "windows": windows,
        "read_message_ids": customer.read_marks,
        "typing_indicators": customer.typing,
        "typing": customer.typing_now(now),
        "inbox_count": customer.inbox.len(),
    })
}

/// `GET /_sim/customers/{customer}`: identity, windows, read marks and typing indicators.
pub async fn customer(State(shared): State<Arc<Shared>>, Path(raw): Path<String>) -> Response {
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let inner = shared.lock();
    match inner.find(&who).and_then(|key| inner.customers.get(&key)) {
        Some(customer) => axum::Json(customer_view(&shared, &inner, customer)).into_response(),
        None => not_found(&who),
    }
}

/// A field of a PUT body: absent, explicitly null, or a value.
enum Field<T> {
    Absent,
    Null,
    Set(T),
}

fn field<T>(
    map: &Map<String, Value>,
    key: &str,
    parse: impl Fn(&Value) -> Result<T, String>,
) -> Result<Field<T>, String> {
    match map.get(key) {
        None => Ok(Field::Absent),
        Some(Value::Null) => Ok(Field::Null),
        Some(v) => parse(v).map(Field::Set).map_err(|e| format!("{key}: {e}")),
    }
}

fn string_with(parse: fn(&str) -> Result<String, String>) -> impl Fn(&Value) -> Result<String, String> {
    move |v| v.as_str().ok_or_else(|| "must be a string".to_string()).and_then(parse)
}

fn profile_name(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if s.trim().is_empty() || n > 100 {
        return Err("must be 1 to 100 characters".into());
    }
    Ok(s.to_string())
}

/// `PUT /_sim/customers/{customer}`: creates or changes a customer without sending anything:
/// `{"phone": "15551230001" | null, "user_id": "US.…", "parent_user_id": "US.ENT.…" | null,
/// "username": "@ana" | null, "profile_name": "Ana" | null, "phone_withheld": false}`; absent
/// fields keep their value. Answers the customer as `GET` shows it.
pub async fn put_customer(State(shared): State<Arc<Shared>>, Path(raw): Path<String>, body: Bytes) -> Response {
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let map = match json_object(&body, "{\"username\":\"@ana\",\"phone_withheld\":true}") {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    const KEYS: &[&str] = &[
        "phone",
        "user_id",
        "parent_user_id",
        "username",
        "profile_name",
        "phone_withheld",
    ];
    if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return bad_request(format!(
            "unknown field \"{unknown}\"; a customer has {}",
            KEYS.join(", ")
        ));
    }
    let parsed = (|| -> Result<_, String> {
        Ok((
            field(&map, "phone", string_with(identity::parse_phone))?,
            field(&map, "user_id", string_with(identity::parse_user_id))?,
            field(&map, "parent_user_id", string_with(identity::parse_parent_user_id))?,
            field(&map, "username", string_with(identity::parse_username))?,
            field(&map, "profile_name", string_with(profile_name))?,
            field(&map, "phone_withheld", |v| {
                v.as_bool().ok_or_else(|| "must be true or false".to_string())
            })?,
        ))
    })();
    let (phone, user_id, parent, username, name, withheld) = match parsed {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    let mut inner = shared.lock();
    let existing = inner.find(&who);
    if existing.is_none() {
        // A new customer is named by the path: the body may repeat that, not contradict it.
        let contradicts = match &who {
            CustomerRef::Phone(p) => matches!(&phone, Field::Null) || matches!(&phone, Field::Set(q) if q != p),
            CustomerRef::UserId(u) => matches!(&user_id, Field::Set(v) if v != u),
        };
        if contradicts {
            return bad_request(format!(
                "no customer {} yet, and the body names someone else; create it under its own phone or id",
                who.as_str()
            ));
        }
    }
    if matches!(user_id, Field::Null) {
        return bad_request("user_id cannot be null: every customer has a business-scoped user id");
    }
    if let Field::Set(p) = &phone
        && inner.phone_taken(p, existing)
    {
        return error(StatusCode::CONFLICT, format!("another customer has the phone {p}"));
    }
    if let Field::Set(u) = &user_id
        && inner.user_id_taken(u, existing)
    {
        return error(StatusCode::CONFLICT, format!("another customer has the user id {u}"));
    }
    let key = match existing {
        Some(key) => key,
        None => {
            let phone = match &who {
                CustomerRef::Phone(p) => Some(p.clone()),
                CustomerRef::UserId(_) => match &phone {
                    Field::Set(p) => Some(p.clone()),
                    _ => None,
                },
            };
            let user_id = match (&who, &user_id) {
                (_, Field::Set(u)) => u.clone(),
                (CustomerRef::UserId(u), _) => u.clone(),
                (CustomerRef::Phone(p), _) => inner.free_user_id(identity::default_user_id(p)),
            };
            let customer = Customer::new(phone, user_id, inner.faults.limits.pair_burst as f64, inner.now_ms());
            inner.insert(customer)
        }
    };
    let Some(customer) = inner.get_mut(key) else {
        return not_found(&who);
    };
    match phone {
        Field::Absent => {}
        Field::Null => customer.phone = None,
        Field::Set(p) => customer.phone = Some(p),
    }
    if let Field::Set(u) = user_id {
        customer.user_id = u;
    }
    match parent {
        Field::Absent => {}
        Field::Null => customer.parent_user_id = None,
        Field::Set(p) => customer.parent_user_id = Some(p),
    }
    match username {
        Field::Absent => {}
        Field::Null => customer.username = None,
        Field::Set(u) => customer.username = Some(u),
    }
    match name {
        Field::Absent => {}
        Field::Null => customer.profile_name = None,
        Field::Set(n) => customer.profile_name = Some(n),
    }
    match withheld {
        Field::Absent => {}
        Field::Null => customer.phone_withheld = false,
        Field::Set(w) => customer.phone_withheld = w,
    }
    match inner.customers.get(&key) {
        Some(customer) => axum::Json(customer_view(&shared, &inner, customer)).into_response(),
        None => not_found(&who),
    }
}

/// `POST /_sim/customers/{customer}/change-number[?business=..]` with `{"phone": "...",
/// "user_id": "..."?}`: the customer moves to a new phone, which gives a new BSUID (by default
/// the new phone's default one). Sends `user_changed_number` carrying the new `wa_id` and ids;
/// a customer whose phone is withheld cannot have the new number shared, so Meta's
/// `user_changed_user_id` is sent instead (Meta's system messages reference tells the two apart
/// this way). Answers the wamid, the new `phone`, `user_id` and the system message `type`.
pub async fn change_number(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    Query(query): Query_,
    body: Bytes,
) -> Response {
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let number = match business(&shared, &query) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let map = match json_object(&body, "{\"phone\":\"15559876543\"}") {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let new_phone = match map.get("phone").and_then(Value::as_str).map(identity::parse_phone) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return bad_request(e),
        None => return bad_request("phone is required: the customer's new number in digits"),
    };
    let wanted_id = match map.get("user_id") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str().map(identity::parse_user_id) {
            Some(Ok(u)) => Some(u),
            Some(Err(e)) => return bad_request(format!("user_id: {e}")),
            None => return bad_request("user_id must be a string"),
        },
    };
    let (key, wamid, envelope, new_user_id, system_type) = {
        let mut inner = shared.lock();
        let Some(key) = inner.find(&who) else {
            return not_found(&who);
        };
        if inner.phone_taken(&new_phone, Some(key)) {
            return error(
                StatusCode::CONFLICT,
                format!("another customer has the phone {new_phone}"),
            );
        }
        if let Some(u) = &wanted_id
            && inner.user_id_taken(u, Some(key))
        {
            return error(StatusCode::CONFLICT, format!("another customer has the user id {u}"));
        }
        let new_user_id = match wanted_id {
            Some(u) => u,
            None => inner.free_user_id(identity::default_user_id(&new_phone)),
        };
        let now_s = inner.now_s();
        let Some(customer) = inner.get_mut(key) else {
            return not_found(&who);
        };
        if customer.phone.as_deref() == Some(new_phone.as_str()) {
            return bad_request(format!("the customer's phone is already {new_phone}"));
        }
        let withheld = customer.phone_withheld;
        let name = customer.display_name();
        let wamid = ids::wamid(customer.address());
        let mut message = customer.sender_fields();
        message.insert("id".into(), json!(wamid));
        message.insert("timestamp".into(), json!(now_s.to_string()));
        message.insert("type".into(), json!("system"));
        let mut system = Map::new();
        let system_type = if withheld {
            message.remove("from");
            system.insert(
                "body".into(),
                json!(format!(
                    "User {name} changed from {} to {new_user_id}",
                    customer.user_id
                )),
            );
            "user_changed_user_id"
        } else {
            let old = customer.phone.clone().unwrap_or_else(|| customer.user_id.clone());
            system.insert(
                "body".into(),
                json!(format!("User {name} changed from {old} to {new_phone}")),
            );
            system.insert("wa_id".into(), json!(new_phone));
            "user_changed_number"
        };
        system.insert("user_id".into(), json!(new_user_id));
        if let Some(parent) = &customer.parent_user_id {
            system.insert("parent_user_id".into(), json!(parent));
        }
        system.insert("type".into(), json!(system_type));
        message.insert("system".into(), Value::Object(system));
        customer.phone = Some(new_phone.clone());
        customer.user_id = new_user_id.clone();
        let envelope = webhook::system_envelope(&shared, &number, Value::Object(message));
        (key, wamid, envelope, new_user_id, system_type)
    };
    deliver_recorded(
        &shared,
        key,
        &wamid,
        envelope,
        json!({"kind": "system", "type": system_type, "phone_number_id": number.phone_number_id}),
        json!({"type": system_type, "phone": new_phone, "user_id": new_user_id}),
    )
    .await
}

/// `POST /_sim/customers/{customer}/change-user-id[?business=..]` with an optional
/// `{"user_id": "...", "parent_user_id": "..." | null}`: the customer gets a new BSUID (by
/// default derived from the old one) and `user_changed_user_id` is sent: `from_user_id` the old
/// id, `system.user_id` the new one, and no phone (Meta: "no phone number is included"). Answers
/// the wamid and the new `user_id`.
pub async fn change_user_id(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    Query(query): Query_,
    body: Bytes,
) -> Response {
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let number = match business(&shared, &query) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let map = match optional_json_object(&body, "{\"user_id\":\"US.24817305912873645029\"}") {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    if let Some(unknown) = map.keys().find(|k| !matches!(k.as_str(), "user_id" | "parent_user_id")) {
        return bad_request(format!(
            "unknown field \"{unknown}\"; give user_id and/or parent_user_id"
        ));
    }
    let wanted = match field(&map, "user_id", string_with(identity::parse_user_id)) {
        Ok(Field::Set(u)) => Some(u),
        Ok(_) => None,
        Err(e) => return bad_request(e),
    };
    let parent = match field(&map, "parent_user_id", string_with(identity::parse_parent_user_id)) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    let (key, wamid, envelope, new_user_id) = {
        let mut inner = shared.lock();
        let Some(key) = inner.find(&who) else {
            return not_found(&who);
        };
        let current = inner.customers.get(&key).map(|c| c.user_id.clone()).unwrap_or_default();
        let new_user_id = match wanted {
            Some(u) if u == current => return bad_request(format!("the customer's user id is already {u}")),
            Some(u) if inner.user_id_taken(&u, Some(key)) => {
                return error(StatusCode::CONFLICT, format!("another customer has the user id {u}"));
            }
            Some(u) => u,
            None => inner.free_user_id(identity::next_user_id(&current)),
        };
        let now_s = inner.now_s();
        let Some(customer) = inner.get_mut(key) else {
            return not_found(&who);
        };
        let name = customer.display_name();
        let wamid = ids::wamid(customer.address());
        let mut message = customer.sender_fields();
        message.remove("from");
        message.insert("id".into(), json!(wamid));
        message.insert("timestamp".into(), json!(now_s.to_string()));
        message.insert("type".into(), json!("system"));
        match parent {
            Field::Absent => {}
            Field::Null => customer.parent_user_id = None,
            Field::Set(p) => customer.parent_user_id = Some(p),
        }
        let mut system = Map::new();
        system.insert(
            "body".into(),
            json!(format!("User {name} changed from {current} to {new_user_id}")),
        );
        system.insert("user_id".into(), json!(new_user_id));
        if let Some(parent) = &customer.parent_user_id {
            system.insert("parent_user_id".into(), json!(parent));
        }
        system.insert("type".into(), json!("user_changed_user_id"));
        message.insert("system".into(), Value::Object(system));
        customer.user_id = new_user_id.clone();
        let envelope = webhook::system_envelope(&shared, &number, Value::Object(message));
        (key, wamid, envelope, new_user_id)
    };
    deliver_recorded(
        &shared,
        key,
        &wamid,
        envelope,
        json!({"kind": "system", "type": "user_changed_user_id", "phone_number_id": number.phone_number_id}),
        json!({"type": "user_changed_user_id", "user_id": new_user_id}),
    )
    .await
}

/// `POST /_sim/customers/{customer}/share-phone[?business=..]`: the customer answers a contact
/// request: a `contacts` message sharing their own phone with `origin: "contact_request"`
/// (replying to the business's latest `request_contact_info` message, when there is one). The
/// phone is no longer withheld from then on.
pub async fn share_phone(State(shared): State<Arc<Shared>>, Path(raw): Path<String>, Query(query): Query_) -> Response {
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let number = match business(&shared, &query) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let (key, wamid, envelope) = {
        let mut inner = shared.lock();
        let now = inner.now_ms();
        let Some(key) = inner.find(&who) else {
            return not_found(&who);
        };
        let Some(customer) = inner.get_mut(key) else {
            return not_found(&who);
        };
        let Some(phone) = customer.phone.clone() else {
            return error(
                StatusCode::CONFLICT,
                format!(
                    "customer {} has no phone number to share; give one with PUT /_sim/customers/{{customer}}",
                    who.as_str()
                ),
            );
        };
        customer.phone_withheld = false;
        customer.last_inbound_ms.insert(number.phone_number_id.clone(), now);
        let name = customer.display_name();
        let request = customer
            .inbox
            .iter()
            .rev()
            .find(|e| {
                e.phone_number_id == number.phone_number_id
                    && e.message.pointer("/interactive/type").and_then(Value::as_str) == Some("request_contact_info")
            })
            .map(|e| e.id.clone());
        let wamid = ids::wamid(customer.address());
        let mut message = customer.sender_fields();
        message.insert("id".into(), json!(wamid));
        message.insert("timestamp".into(), json!(now.div_euclid(1000).to_string()));
        if let Some(request) = request {
            message.insert(
                "context".into(),
                json!({"from": number.display_phone_number, "id": request}),
            );
        }
        message.insert("type".into(), json!("contacts"));
        // The shape of a shared contact (fixture corpus) with the contact-request origin Meta adds.
        message.insert(
            "contacts".into(),
            json!([{
                "name": {"formatted_name": name, "first_name": name},
                "phones": [{"phone": format!("+{phone}"), "wa_id": phone, "type": "CELL"}],
                "origin": "contact_request",
            }]),
        );
        let envelope = webhook::message_envelope(&shared, &number, customer.contact(), Value::Object(message));
        inner.inbound_ids.insert(wamid.clone(), key);
        (key, wamid, envelope)
    };
    deliver_recorded(
        &shared,
        key,
        &wamid,
        envelope,
        json!({"kind": "message", "type": "contacts", "phone_number_id": number.phone_number_id}),
        json!({}),
    )
    .await
}

/// `POST /_sim/customers/{customer}/echo[?business=..]` with a message object (as the Graph API
/// would take it, e.g. `{"type":"text","text":{"body":"..."}}`): the business sent it from the
/// WhatsApp Business app. Delivered as `smb_message_echoes` (`from` the business number, `to`
/// the customer) and added to the inbox with `source: "business_app"`; it never opens or extends
/// the 24-hour window.
pub async fn echo(
    State(shared): State<Arc<Shared>>,
    Path(raw): Path<String>,
    Query(query): Query_,
    body: Bytes,
) -> Response {
    let who = match customer_ref(&raw) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let number = match business(&shared, &query) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let mut message = match json_object(&body, "{\"type\":\"text\",\"text\":{\"body\":\"See you at 3\"}}") {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    let kind = match message_kind(&message) {
        Ok(k) => k,
        Err(r) => return r.into_response(),
    };
    if PAYLOAD_TYPES.contains(&kind.as_str()) && !message.contains_key(&kind) {
        return bad_request(format!("a \"{kind}\" message needs a \"{kind}\" object"));
    }
    if let Err(e) = complete_media(&shared, &kind, &mut message).await {
        return bad_request(e);
    }
    for key in SET_BY_SIMULATOR {
        message.remove(*key);
    }
    let (key, wamid, envelope) = {
        let mut inner = shared.lock();
        let now = inner.now_ms();
        let key = inner.find_or_create(&who);
        let Some(customer) = inner.get_mut(key) else {
            return not_found(&who);
        };
        let wamid = ids::wamid(customer.address());
        let mut echo = Map::new();
        echo.insert("from".into(), json!(number.display_phone_number));
        if let Some(phone) = customer.visible_phone() {
            echo.insert("to".into(), json!(phone));
        }
        echo.insert("to_user_id".into(), json!(customer.user_id));
        if let Some(parent) = &customer.parent_user_id {
            echo.insert("to_parent_user_id".into(), json!(parent));
        }
        echo.insert("id".into(), json!(wamid));
        echo.insert("timestamp".into(), json!(now.div_euclid(1000).to_string()));
        echo.extend(message.clone());
        customer.inbox.push(InboxEntry {
            id: wamid.clone(),
            kind: kind.clone(),
            message: Value::Object(message),
            phone_number_id: number.phone_number_id.clone(),
            timestamp: now.div_euclid(1000),
            timestamp_ms: now,
            status: "sent".into(),
            source: Source::BusinessApp,
        });
        let envelope = webhook::echo_envelope(&shared, &number, customer.contact(), Value::Object(echo));
        inner.outbound_ids.insert(wamid.clone(), key);
        (key, wamid, envelope)
    };
    deliver_recorded(
        &shared,
        key,
        &wamid,
        envelope,
        json!({"kind": "echo", "type": kind, "phone_number_id": number.phone_number_id}),
        json!({}),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(message: Value) -> Result<(Value, Option<String>), String> {
        let mut map = message.as_object().cloned().unwrap_or_default();
        let mut kind = map.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
        expand_shorthand(&mut map, &mut kind);
        let original = complete_message(&mut map, &kind, 1_000)?;
        Ok((Value::Object(map), original))
    }

    #[test]
    fn a_flows_answer_gets_its_defaults_and_an_object_becomes_a_json_string() {
        let (message, original) = completed(json!({"type": "interactive", "interactive": {"type": "nfm_reply",
            "nfm_reply": {"response_json": {"flow_token": "t", "rating": "4"}}}}))
        .unwrap_or_default();

        let reply = &message["interactive"]["nfm_reply"];
        assert_eq!(original, None);
        assert_eq!(reply["name"], "flow");
        assert_eq!(reply["body"], "Sent");
        let decoded: Value =
            serde_json::from_str(reply["response_json"].as_str().unwrap_or_default()).unwrap_or_default();
        assert_eq!(decoded["rating"], "4");
        assert!(
            completed(json!({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {"response_json": "not json"}}}))
                .is_err()
        );
    }

    #[test]
    fn edits_and_revokes_name_the_original_and_bad_ones_are_refused() {
        let edit = json!({"type": "edit", "edit": {"original_message_id": "wamid.A",
            "message": {"type": "text", "text": {"body": "fixed"}}}});
        let revoke = json!({"type": "revoke", "revoke": {"original_message_id": "wamid.B"}});

        assert_eq!(completed(edit).map(|(_, o)| o), Ok(Some("wamid.A".into())));
        assert_eq!(completed(revoke).map(|(_, o)| o), Ok(Some("wamid.B".into())));
        for bad in [
            json!({"type": "edit", "edit": {"message": {"type": "text", "text": {"body": "x"}}}}),
            json!({"type": "edit", "edit": {"original_message_id": "wamid.A", "message": {"type": "sticker", "sticker": {}}}}),
            json!({"type": "edit", "edit": {"original_message_id": "wamid.A", "message": {"type": "text"}}}),
            json!({"type": "revoke", "revoke": {"original_message_id": ""}}),
        ] {
            assert!(completed(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_call_permission_reply_becomes_interactive_and_unsupported_gets_metas_error() {
        let (accept, _) =
            completed(json!({"type": "call_permission_reply", "call_permission_reply": {"response": "accept"}}))
                .unwrap_or_default();
        let (unsupported, _) =
            completed(json!({"type": "unsupported", "unsupported": {"type": "poll"}})).unwrap_or_default();

        assert_eq!(accept["type"], "interactive");
        let reply = &accept["interactive"]["call_permission_reply"];
        assert_eq!(reply["expiration_timestamp"], json!(1_000 + CALL_PERMISSION_S));
        assert_eq!(reply["response_source"], "user_action");
        assert_eq!(unsupported["errors"][0]["code"], 131051);
        assert!(
            completed(json!({"type": "call_permission_reply", "call_permission_reply": {"response": "maybe"}}))
                .is_err()
        );
        assert!(completed(json!({"type": "unsupported", "unsupported": {}})).is_err());
    }
}
