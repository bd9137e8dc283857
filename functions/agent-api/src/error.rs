//! Every way a request can fail: a stable machine-readable `code` for clients
//! and a sentence for people. Server-side failures say only "temporarily
//! unavailable"; their cause goes to the logs.

use crate::auth::Role;
use helpdesk::domain::ids::TicketId;
use helpdesk::domain::outbound::OutboundError;
use helpdesk::domain::reports::ReportKind;
use helpdesk::ports::{QueueError, StoreError};
use lambda_http::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or unusable identity claims")]
    Unauthorized,
    #[error("ticket {0} belongs to a team you are not in")]
    Forbidden(TicketId),
    #[error("you are not a member of team {0}")]
    NotInTeam(String),
    #[error("this needs the {} role", .0.as_str())]
    NeedsRole(Role),
    #[error("not found")]
    NotFound,
    #[error("no report named {0:?}; the reports are {names}", names = ReportKind::ALL.map(ReportKind::as_str).join(", "))]
    NoReport(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("ticket {0} is resolved")]
    Resolved(TicketId),
    /// The action does not fit the ticket as it stands (with a code saying why).
    #[error("{1}")]
    Conflict(&'static str, String),
    /// What the request names is no longer kept (with a code saying what).
    #[error("{1}")]
    Gone(&'static str, String),
    /// `If-Match` named another version: someone changed the ticket.
    #[error("ticket {id} changed since version {expected} (it is at version {current}); reload it and try again")]
    Changed {
        id: TicketId,
        expected: u64,
        current: u64,
        /// What the ticket is now, and its latest entries: what changed.
        now: Box<Value>,
    },
    /// A text cannot reach the customer any more; `templates` are the
    /// approved templates in their language (`None`: the list could not be read).
    #[error("the customer's 24-hour window is closed: only an approved template reaches them now")]
    WindowClosed { templates: Option<Box<Value>> },
    /// The Business Account's templates could not be read (or no source is configured).
    #[error("message templates unavailable: {0}")]
    TemplatesUnavailable(String),
    #[error("store unavailable")]
    Store(#[from] StoreError),
    #[error("queue unavailable")]
    Queue(#[from] QueueError),
}

/// What a failed request answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, for programs: `not_found`, `bad_request`, `ticket_changed`…
    pub code: String,
    /// For people.
    pub error: String,
    /// With `ticket_changed`: the ticket now and its latest timeline entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<Value>,
    /// With `window_closed`: the approved templates in the customer's
    /// language, as `GET /api/templates` lists them (absent when the list
    /// could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub templates: Option<Value>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::NotInTeam(_) | ApiError::NeedsRole(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NoReport(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Resolved(_) | ApiError::Conflict(..) | ApiError::WindowClosed { .. } => StatusCode::CONFLICT,
            ApiError::Changed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::Gone(..) => StatusCode::GONE,
            ApiError::Store(_) | ApiError::Queue(_) | ApiError::TemplatesUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "not_your_team",
            ApiError::NotInTeam(_) => "not_in_team",
            ApiError::NeedsRole(_) => "role_required",
            ApiError::NotFound => "not_found",
            ApiError::NoReport(_) => "no_such_report",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Resolved(_) => "ticket_resolved",
            ApiError::Conflict(code, _) | ApiError::Gone(code, _) => code,
            ApiError::Changed { .. } => "ticket_changed",
            ApiError::WindowClosed { .. } => "window_closed",
            ApiError::Store(_) | ApiError::Queue(_) | ApiError::TemplatesUnavailable(_) => "unavailable",
        }
    }

    pub fn body(self) -> ErrorBody {
        let code = self.code().to_owned();
        if self.status().is_server_error() {
            return ErrorBody {
                code,
                error: "temporarily unavailable".into(),
                current: None,
                templates: None,
            };
        }
        let error = self.to_string();
        let (current, templates) = match self {
            ApiError::Changed { now, .. } => (Some(*now), None),
            ApiError::WindowClosed { templates } => (None, templates.map(|t| *t)),
            _ => (None, None),
        };
        ErrorBody {
            code,
            error,
            current,
            templates,
        }
    }
}

impl From<OutboundError> for ApiError {
    fn from(e: OutboundError) -> Self {
        ApiError::BadRequest(format!("text: {e}"))
    }
}
