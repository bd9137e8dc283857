//! Graph API error envelopes, shaped like the ones Meta answers (`{"error":{"message","type","code",...,"fbtrace_id"}}`).

use crate::ids;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answer of the Graph API: an HTTP status and the JSON envelope.
#[derive(Debug, Clone)]
pub struct GraphError {
    /// HTTP status of the answer.
    pub status: StatusCode,
    /// The `{"error":{...}}` envelope.
    pub body: Value,
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

fn whatsapp_error(status: StatusCode, code: u32, message: String, subcode: Option<u32>, details: &str) -> GraphError {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": ids::fbtrace_id(),
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    GraphError {
        status,
        body: json!({ "error": error }),
    }
}

/// `(#100) Invalid parameter` with `details` naming the field and the reason.
pub fn invalid_parameter(details: impl AsRef<str>) -> GraphError {
    whatsapp_error(
        StatusCode::BAD_REQUEST,
        100,
        "(#100) Invalid parameter".into(),
        None,
        details.as_ref(),
    )
}

/// `(#100) The parameter X is required.`
pub fn required_parameter(name: &str) -> GraphError {
    whatsapp_error(
        StatusCode::BAD_REQUEST,
        100,
        format!("(#100) The parameter {name} is required."),
        None,
        &format!("The parameter {name} is required."),
    )
}

/// Missing, malformed or wrong access token: HTTP 401, code 190.
pub fn invalid_token() -> GraphError {
    GraphError {
        status: StatusCode::UNAUTHORIZED,
        body: json!({"error": {
            "message": "Invalid OAuth access token - Cannot parse access token",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": ids::fbtrace_id(),
        }}),
    }
}

/// Unknown object (phone number id, media id): code 100, subcode 33.
pub fn object_not_found(method: &str, id: &str) -> GraphError {
    GraphError {
        status: StatusCode::BAD_REQUEST,
        body: json!({"error": {
            "message": format!("Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"),
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
            "fbtrace_id": ids::fbtrace_id(),
        }}),
    }
}

/// A path the Graph API does not know (bad version segment and the like): code 2500.
pub fn unknown_path(path: &str) -> GraphError {
    GraphError {
        status: StatusCode::BAD_REQUEST,
        body: json!({"error": {
            "message": format!("Unknown path components: {path}"),
            "type": "OAuthException",
            "code": 2500,
            "fbtrace_id": ids::fbtrace_id(),
        }}),
    }
}

/// A Graph API version that is not served (retired, not released yet, or unknown): HTTP 400,
/// code 2635, in Meta's words.
pub fn deprecated_version(latest: &str) -> GraphError {
    GraphError {
        status: StatusCode::BAD_REQUEST,
        body: json!({"error": {
            "message": format!("(#2635) You are calling a deprecated version of the Graph API. Please update to the latest version: {latest}."),
            "type": "OAuthException",
            "code": 2635,
            "fbtrace_id": ids::fbtrace_id(),
        }}),
    }
}

/// A media download URL that is expired or whose signature does not match: HTTP 404.
pub fn media_url_expired() -> GraphError {
    GraphError {
        status: StatusCode::NOT_FOUND,
        body: json!({"error": {
            "message": "URL signature expired or invalid. Request a new media URL.",
            "type": "OAuthException",
            "code": 100,
            "error_subcode": 2494010,
            "fbtrace_id": ids::fbtrace_id(),
        }}),
    }
}

/// The title and details Meta uses for an error code, and the HTTP status it comes with.
fn describe(code: u32) -> (&'static str, &'static str, StatusCode) {
    match code {
        1 => (
            "An unknown error has occurred.",
            "An unknown error has occurred.",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        2 => (
            "Service temporarily unavailable",
            "Service temporarily unavailable",
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        100 => ("Invalid parameter", "Invalid parameter", StatusCode::BAD_REQUEST),
        130429 => (
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
            StatusCode::BAD_REQUEST,
        ),
        131000 => (
            "Something went wrong",
            "Something went wrong",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        131026 => (
            "Message Undeliverable",
            "Message failed to send because the recipient's phone number is not a WhatsApp user.",
            StatusCode::BAD_REQUEST,
        ),
        131047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
            StatusCode::BAD_REQUEST,
        ),
        131053 => (
            "Media upload error",
            "Downloading media from weblink failed with http code 429, status message Too Many Requests",
            StatusCode::BAD_REQUEST,
        ),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
            StatusCode::BAD_REQUEST,
        ),
        131057 => (
            "Account in maintenance mode",
            "Business Account is in maintenance mode.",
            StatusCode::BAD_REQUEST,
        ),
        131062 => (
            // Meta's error-code page names the code for sends a business-scoped user id cannot
            // receive (authentication templates); its title and details are not quoted in any
            // source at hand, so these are the simulator's plain words.
            "Business-scoped user ID not supported for this message",
            "Authentication templates cannot be sent to a business-scoped user ID. Send them to the phone number with \"to\".",
            StatusCode::BAD_REQUEST,
        ),
        132000 => (
            "Number of parameters does not match the expected number of params",
            "The number of variable parameter values does not match the number of parameters the template expects.",
            StatusCode::BAD_REQUEST,
        ),
        132001 => (
            "Template name does not exist in the translation",
            "The template does not exist in the specified language or has not been approved.",
            StatusCode::BAD_REQUEST,
        ),
        368 => (
            "Temporarily blocked for policies violations",
            "The account has been restricted for violating platform policy.",
            StatusCode::BAD_REQUEST,
        ),
        _ => ("Error", "Error", StatusCode::BAD_REQUEST),
    }
}

/// An error envelope for `code` with Meta's title and HTTP status, and `details` of this case.
pub fn with_details(code: u32, details: &str) -> GraphError {
    let (title, _, status) = describe(code);
    whatsapp_error(status, code, format!("(#{code}) {title}"), None, details)
}

/// An error envelope for `code`; `status` overrides the HTTP status Meta pairs with that code.
pub fn for_code(code: u32, status: Option<StatusCode>, message: Option<&str>) -> GraphError {
    if code == 190 {
        let mut error = invalid_token();
        if let Some(status) = status {
            error.status = status;
        }
        return error;
    }
    let (title, details, default_status) = describe(code);
    let subcode = match code {
        130429 => Some(2494055),
        _ => None,
    };
    whatsapp_error(
        status.unwrap_or(default_status),
        code,
        format!("(#{code}) {}", message.unwrap_or(title)),
        subcode,
        message.unwrap_or(details),
    )
}
