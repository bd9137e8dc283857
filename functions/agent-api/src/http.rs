//! Reading requests and writing answers: query parameters, JSON bodies,
//! idempotency keys, `If-Match`, and the responses' headers.

use crate::error::{ApiError, ErrorBody};
use lambda_http::http::{StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;

/// What a route answers: JSON (with the ticket's version as its ETag when it
/// is about one ticket), or a CSV file to download.
pub enum Answer {
    Json {
        status: StatusCode,
        body: Value,
        etag: Option<u64>,
    },
    Csv {
        filename: String,
        body: String,
    },
}

impl Answer {
    pub fn json(status: StatusCode, body: Value) -> Answer {
        Answer::Json {
            status,
            body,
            etag: None,
        }
    }

    pub fn ok(body: Value) -> Answer {
        Answer::json(StatusCode::OK, body)
    }

    pub fn created(body: Value) -> Answer {
        Answer::json(StatusCode::CREATED, body)
    }

    pub fn accepted(body: Value) -> Answer {
        Answer::json(StatusCode::ACCEPTED, body)
    }
}

/// The first value of a query parameter.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query().unwrap_or("");
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The JSON body as `T`, or a 400 naming the expected shape.
pub fn parse_body<T: serde::de::DeserializeOwned>(request: &Request, shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(request.body().as_ref())
        .map_err(|e| ApiError::BadRequest(format!("body must be {shape}: {e}")))
}

/// The client's `Idempotency-Key` header (a retried request is applied once),
/// else the API Gateway request id.
pub fn idempotency_key(request: &Request) -> String {
    let header = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| b.is_ascii_graphic()));
    match header {
        Some(h) => h.to_owned(),
        None => match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_default(),
            _ => String::new(),
        },
    }
}

/// The version `If-Match` names: `"7"`, `W/"7"` or `7`; `None` without the
/// header or with `*`. Anything else is a 400.
pub fn if_match(request: &Request) -> Result<Option<u64>, ApiError> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("If-Match: not text".into()))?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| ApiError::BadRequest("If-Match: the ETag of the ticket, e.g. \"7\"".into()))
}

pub fn json_response(status: StatusCode, body: &Value, etag: Option<u64>) -> Response<Body> {
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store");
    if let Some(version) = etag {
        response = response.header(header::ETAG, format!("\"{version}\""));
    }
    response
        .body(Body::from(body.to_string()))
        .expect("static response parts are valid")
}

pub fn error_response(error: ApiError) -> Response<Body> {
    let status = error.status();
    let body: ErrorBody = error.body();
    json_response(status, &serde_json::to_value(body).unwrap_or_default(), None)
}

/// `filename` is ours (a report name and dates), never the client's text.
pub fn csv_response(filename: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        )
        .body(Body::from(body))
        .expect("static response parts are valid")
}
