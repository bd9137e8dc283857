//! Local stand-ins for the Slack and Microsoft Teams incoming webhooks the
//! notifier posts to. Functions get `LOCAL_HOOKS_URL` pointing here; every
//! post is kept in memory and listed at `GET /_local/notifications`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{StatusCode, header};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// The path under the runner's URL where the local webhooks live.
pub const HOOKS_PATH: &str = "/_local/hooks";

/// Posts kept at most; the oldest are dropped first, so a long `make dev`
/// session does not grow without bound.
const CAPACITY: usize = 1_000;

/// One post to a local webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapturedPost {
    /// `slack` or `teams`.
    pub kind: String,
    /// The team named in the webhook's path.
    pub team: String,
    /// When it arrived, RFC 3339 in UTC.
    pub at: String,
    /// The JSON posted.
    pub body: serde_json::Value,
}

/// The posts the local webhooks received, oldest first. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct Notifications(Arc<Mutex<Vec<CapturedPost>>>);

impl Notifications {
    /// Every post kept, oldest first.
    pub fn list(&self) -> Vec<CapturedPost> {
        self.lock().clone()
    }

    /// Forgets every post.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn push(&self, post: CapturedPost) {
        let mut posts = self.lock();
        posts.push(post);
        let excess = posts.len().saturating_sub(CAPACITY);
        posts.drain(..excess);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<CapturedPost>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `POST /_local/hooks/{kind}/{team}`, `GET` and `DELETE /_local/notifications`.
pub fn routes<S: Clone + Send + Sync + 'static>(notifications: Notifications) -> Router<S> {
    Router::new()
        .route(&format!("{HOOKS_PATH}/{{kind}}/{{team}}"), post(receive))
        .route("/_local/notifications", get(list).delete(clear))
        .with_state(notifications)
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

/// Takes a post as Slack does: 200 `ok`, or 400 `invalid_payload` for a body
/// that is not JSON. Teams takes the same here.
async fn receive(
    State(notifications): State<Notifications>,
    Path((kind, team)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if !matches!(kind.as_str(), "slack" | "teams") {
        return text(StatusCode::NOT_FOUND, "no_such_hook");
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return text(StatusCode::BAD_REQUEST, "invalid_payload");
    };
    tracing::info!(kind = %kind, team = %team, "notification captured");
    notifications.push(CapturedPost {
        kind,
        team,
        at: jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        body,
    });
    text(StatusCode::OK, "ok")
}

async fn list(State(notifications): State<Notifications>) -> Response {
    axum::Json(notifications.list()).into_response()
}

async fn clear(State(notifications): State<Notifications>) -> Response {
    notifications.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(n: usize) -> CapturedPost {
        CapturedPost {
            kind: "slack".into(),
            team: "support".into(),
            at: n.to_string(),
            body: serde_json::Value::Null,
        }
    }

    #[test]
    fn the_oldest_posts_are_dropped_beyond_the_capacity() {
        let notifications = Notifications::default();

        for n in 0..CAPACITY + 2 {
            notifications.push(post(n));
        }

        let kept = notifications.list();
        assert_eq!(kept.len(), CAPACITY);
        assert_eq!(kept[0].at, "2");
        assert_eq!(kept.last().unwrap().at, (CAPACITY + 1).to_string());
    }
}
