//! The public fixture corpus (`../shared/fixtures/whatsapp/webhooks/`): real
//! payloads from other projects' test suites, each sent with a valid signature.

use helpdesk::adapters::memory::MemoryQueue;
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::domain::signature::sign;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use secrecy::SecretString;
use serde_json::Value;
use std::path::{Path, PathBuf};
use webhook::Webhook;

const SECRET: &str = "fixture-secret";

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/whatsapp/webhooks");
    assert!(
        dir.is_dir(),
        "the fixture corpus is missing: expected {} (the shared folder beside the repository)",
        dir.display()
    );
    dir
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

fn signed_post(body: Vec<u8>, signature: Option<String>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://example.com/webhook");
    if let Some(sig) = signature {
        builder = builder.header("x-hub-signature-256", sig);
    }
    builder.body(Body::from(body)).unwrap()
}

fn handler() -> Webhook<MemoryQueue<InboundEvent>> {
    Webhook::new(
        MemoryQueue::default(),
        SecretString::from(SECRET),
        SecretString::from("t"),
    )
}

/// Messages plus statuses of `field: messages` changes and echoes of
/// `field: smb_message_echoes` changes, counted independently
/// of the parser: once per message id and per (status, id), as the FIFO queue
/// stores a redelivered item once.
fn expected_events(envelope: &Value) -> Option<usize> {
    let entries = envelope.get("entry")?.as_array()?;
    let mut seen = std::collections::HashSet::new();
    for entry in entries {
        for change in entry.get("changes")?.as_array()? {
            let keys: &[&str] = match change.get("field").and_then(Value::as_str) {
                Some("messages") => &["messages", "statuses", "message_echoes"],
                // Coexistence: what the business sent from the WhatsApp Business app.
                Some("smb_message_echoes") => &["message_echoes"],
                _ => &[],
            };
            for &key in keys {
                let items = change.pointer(&format!("/value/{key}")).and_then(Value::as_array);
                for item in items.into_iter().flatten() {
                    // An item without an id cannot be a duplicate of another.
                    let id = item
                        .get("id")
                        .map_or_else(|| format!("#{}", seen.len()), Value::to_string);
                    let status = item.get("status").map(Value::to_string).unwrap_or_default();
                    seen.insert((key, id, status));
                }
            }
        }
    }
    Some(seen.len())
}

#[tokio::test]
async fn every_webhook_body_in_the_corpus_is_accepted_with_one_queue_message_per_message_and_status() {
    let root = corpus();
    let mut checked = 0;
    for dir in files(&root, "") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !dir.is_dir() || name.starts_with('_') {
            continue;
        }
        for file in files(&dir, ".json") {
            let body = std::fs::read(&file).unwrap();
            let envelope: Value = serde_json::from_slice(&body).unwrap();
            let is_envelope = envelope.get("object").and_then(Value::as_str) == Some("whatsapp_business_account");
            let expected = expected_events(&envelope).filter(|_| is_envelope);

            let webhook = handler();
            let signature = sign(SECRET.as_bytes(), &body);
            let response = webhook.handle(signed_post(body, Some(signature))).await.unwrap();

            match expected {
                Some(n) => {
                    assert_eq!(response.status(), StatusCode::OK, "{}", file.display());
                    assert_eq!(webhook_queue_len(&webhook), n, "{}", file.display());
                }
                None => assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{}", file.display()),
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} corpus files were found");
}

fn webhook_queue_len(webhook: &Webhook<MemoryQueue<InboundEvent>>) -> usize {
    webhook.queue().sent().len()
}

#[tokio::test]
async fn the_invalid_bodies_and_bare_fragments_get_400_and_queue_nothing() {
    let root = corpus();
    let mut bad = files(&root.join("_invalid"), ".json.txt");
    bad.extend(files(&root.join("_fragments"), ".json"));
    assert!(bad.len() >= 3);
    for file in bad {
        let body = std::fs::read(&file).unwrap();
        let webhook = handler();
        let signature = sign(SECRET.as_bytes(), &body);
        let response = webhook.handle(signed_post(body, Some(signature))).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{}", file.display());
        assert!(webhook.queue().sent().is_empty());
    }
}

#[tokio::test]
async fn corpus_bodies_with_a_forged_or_missing_signature_get_401_and_queue_nothing() {
    let root = corpus();
    let file = files(&root.join("pywa"), ".json")
        .into_iter()
        .next()
        .expect("pywa fixtures");
    let body = std::fs::read(&file).unwrap();
    for signature in [Some(sign(b"not-the-secret", &body)), None] {
        let webhook = handler();
        let response = webhook.handle(signed_post(body.clone(), signature)).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(webhook.queue().sent().is_empty());
    }
}

#[tokio::test]
async fn arbitrary_bytes_never_panic_the_handler() {
    let samples: [&[u8]; 6] = [b"", b"null", b"{\"object\":\"whatsapp_business_account\",\"entry\":[{}]}", b"\xff\xfe", b"{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":[1,\"x\",null]}}]}]}", b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["];
    for body in samples {
        let webhook = handler();
        let response = webhook
            .handle(signed_post(body.to_vec(), Some(sign(SECRET.as_bytes(), body))))
            .await
            .unwrap();
        assert!(response.status().is_client_error() || response.status() == StatusCode::OK);
    }
}
