//! A scripted incoming-webhook server for the notifier's tests: each path
//! answers its scripted statuses in turn (then 200) and records every post.

#![allow(dead_code)]

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One scripted answer: a status and an optional `Retry-After` in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
}

pub fn status(status: u16) -> Answer {
    Answer {
        status,
        retry_after: None,
    }
}

/// A post the server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Script {
    answers: HashMap<String, VecDeque<Answer>>,
    always: HashMap<String, Answer>,
    received: Vec<Received>,
}

/// The server, running until dropped with the test's runtime.
#[derive(Clone)]
pub struct Hooks {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Hooks {
    pub async fn start() -> Hooks {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(Arc::clone(&script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Hooks { url, script }
    }

    /// `path` answers `answers` in turn, then 200.
    pub fn script(&self, path: &str, answers: &[Answer]) {
        self.script
            .lock()
            .unwrap()
            .answers
            .insert(path.to_owned(), answers.iter().copied().collect());
    }

    /// `path` answers `answer` to every post.
    pub fn always(&self, path: &str, answer: Answer) {
        self.script.lock().unwrap().always.insert(path.to_owned(), answer);
    }

    /// Every post received on `path`, oldest first.
    pub fn received(&self, path: &str) -> Vec<Received> {
        self.script
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    pub fn url_of(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

async fn receive(
    State(script): State<Arc<Mutex<Script>>>,
    Path(path): Path<String>,
    body: String,
) -> (StatusCode, HeaderMap, &'static str) {
    let path = format!("/{path}");
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        path: path.clone(),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        at: Instant::now(),
    });
    let answer = match script.always.get(&path) {
        Some(answer) => *answer,
        None => script
            .answers
            .get_mut(&path)
            .and_then(VecDeque::pop_front)
            .unwrap_or(status(200)),
    };
    let mut headers = HeaderMap::new();
    if let Some(seconds) = answer.retry_after {
        headers.insert("retry-after", HeaderValue::from_str(&seconds.to_string()).unwrap());
    }
    (StatusCode::from_u16(answer.status).unwrap(), headers, "ok")
}
