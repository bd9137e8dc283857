//! End-to-end tests of the simulator: a real server on a free port and a small webhook receiver.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wa_sim::{RunningSim, SimConfig};

const SECRET: &str = "test-app-secret";
const TOKEN: &str = "test-token";
const PHONE_ID: &str = "100000000000001";
const CUSTOMER: &str = "15551234567";

/// One webhook POST as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    signature: String,
    content_type: String,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer, in order; 200 once empty.
    answers: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    r.received.lock().unwrap().push(Received {
        signature: header("x-hub-signature-256"),
        content_type: header("content-type"),
        body,
    });
    let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    async fn start() -> (Self, String) {
        let receiver = Receiver::default();
        let app = axum::Router::new()
            .route("/webhook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` status webhooks arrived, and returns all status values in arrival order.
    async fn statuses(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let statuses: Vec<Value> = self
                .all()
                .iter()
                .filter_map(|r| {
                    r.json()["entry"][0]["changes"][0]["value"]["statuses"][0]
                        .as_object()
                        .cloned()
                })
                .map(Value::Object)
                .collect();
            if statuses.len() >= n {
                return statuses;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {n} status webhooks arrived");
    }
}

struct Harness {
    sim: RunningSim,
    receiver: Receiver,
    http: reqwest::Client,
}

impl Harness {
    async fn start(status_callbacks: bool) -> Self {
        let (receiver, webhook_url) = Receiver::start().await;
        let sim = wa_sim::start(SimConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            webhook_url,
            app_secret: SECRET.into(),
            access_token: TOKEN.into(),
            phone_number_id: PHONE_ID.into(),
            display_phone_number: "15550000001".into(),
            waba_id: "200000000000001".into(),
            status_callbacks,
        })
        .await
        .unwrap();
        Self {
            sim,
            receiver,
            http: reqwest::Client::new(),
        }
    }

    async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.sim.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.sim.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn customer_says(&self, message: Value) -> Value {
        let (status, answer) = self
            .control(&format!("/_sim/customers/{CUSTOMER}/messages"), message)
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn send_with_token(&self, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/v21.0/{PHONE_ID}/messages", self.sim.url))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn send(&self, body: Value) -> (u16, Value) {
        self.send_with_token(Some(TOKEN), body).await
    }
}

fn text_to(to: &str, body: &str) -> Value {
    json!({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}})
}

fn buttons(buttons: Vec<Value>) -> Value {
    json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Choose"}, "action": {"buttons": buttons}}})
}

fn button(id: &str, title: &str) -> Value {
    json!({"type": "reply", "reply": {"id": id, "title": title}})
}

fn template() -> Value {
    json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template",
        "template": {"name": "csat_followup", "language": {"code": "en_US"}}})
}

fn error_code(answer: &Value) -> i64 {
    answer["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code in {answer}"))
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wa-sim-test-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn a_customer_message_arrives_signed_in_the_meta_envelope_and_answers_its_wamid() {
    // Arrange
    let h = Harness::start(false).await;

    // Act
    let answer = h
        .customer_says(json!({"type": "text", "text": {"body": "hi 👋 \"quoted\""}, "profile_name": "Ada"}))
        .await;

    // Assert
    assert_eq!(answer["delivered"], json!(true));
    assert_eq!(answer["attempts"], json!(1));
    assert_eq!(answer["last_status"], json!(200));
    let received = h.receiver.all();
    assert_eq!(received.len(), 1);
    let hit = &received[0];
    assert_eq!(hit.signature, wa_sim::sign(SECRET, &hit.body));
    assert!(hit.content_type.starts_with("application/json"));
    let envelope = hit.json();
    assert_eq!(envelope["object"], "whatsapp_business_account");
    assert_eq!(envelope["entry"][0]["id"], "200000000000001");
    let change = &envelope["entry"][0]["changes"][0];
    assert_eq!(change["field"], "messages");
    let value = &change["value"];
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(
        value["metadata"],
        json!({"display_phone_number": "15550000001", "phone_number_id": PHONE_ID})
    );
    assert_eq!(
        value["contacts"],
        json!([{"profile": {"name": "Ada"}, "wa_id": CUSTOMER}])
    );
    let message = &value["messages"][0];
    assert_eq!(message["from"], CUSTOMER);
    assert_eq!(message["id"], answer["wamid"]);
    assert!(message["id"].as_str().unwrap().starts_with("wamid."));
    assert!(message["timestamp"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(message["type"], "text");
    assert_eq!(message["text"]["body"], "hi 👋 \"quoted\"");
    assert!(message.get("profile_name").is_none());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_customer_without_profile_name_is_called_by_the_last_four_digits() {
    // Arrange
    let h = Harness::start(false).await;

    // Act
    h.customer_says(json!({"type": "interactive", "interactive": {"type": "button_reply",
        "button_reply": {"id": "menu.agent", "title": "Talk to an agent"}}}))
        .await;

    // Assert
    let value = h.receiver.all()[0].json()["entry"][0]["changes"][0]["value"].clone();
    assert_eq!(value["contacts"][0]["profile"]["name"], "Customer 4567");
    assert_eq!(value["messages"][0]["interactive"]["button_reply"]["id"], "menu.agent");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_non_200_answer_from_the_helpdesk_is_retried_with_the_same_signed_bytes() {
    // Arrange
    let h = Harness::start(false).await;
    h.receiver.answers.lock().unwrap().extend([500, 503]);
    h.control("/_sim/faults", json!({"webhook_retry": {"initial_backoff_ms": 10}}))
        .await;

    // Act
    let answer = h
        .customer_says(json!({"type": "text", "text": {"body": "anyone?"}}))
        .await;

    // Assert
    assert_eq!(answer["delivered"], json!(true));
    assert_eq!(answer["attempts"], json!(3));
    assert_eq!(answer["last_status"], json!(200));
    let received = h.receiver.all();
    assert_eq!(received.len(), 3);
    assert!(
        received
            .iter()
            .all(|r| r.body == received[0].body && r.signature == received[0].signature)
    );
    let deliveries = h.get(&format!("/_sim/customers/{CUSTOMER}/deliveries")).await;
    assert_eq!(deliveries[0]["attempts"], json!(3));
    assert_eq!(deliveries[0]["wamid"], answer["wamid"]);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_helpdesk_that_never_answers_200_is_reported_as_not_delivered() {
    // Arrange
    let h = Harness::start(false).await;
    h.receiver.answers.lock().unwrap().extend([500; 10]);
    h.control(
        "/_sim/faults",
        json!({"webhook_retry": {"attempts": 2, "initial_backoff_ms": 1}}),
    )
    .await;

    // Act
    let answer = h
        .customer_says(json!({"type": "text", "text": {"body": "hello?"}}))
        .await;

    // Assert
    assert_eq!(answer["delivered"], json!(false));
    assert_eq!(answer["attempts"], json!(2));
    assert_eq!(answer["last_status"], json!(500));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_sent_text_returns_a_wamid_lands_in_the_inbox_and_is_followed_by_sent_delivered_read() {
    // Arrange
    let h = Harness::start(true).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    let request = text_to(CUSTOMER, "Hello! How can we help?");

    // Act
    let (status, answer) = h.send(request.clone()).await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["messaging_product"], "whatsapp");
    assert_eq!(answer["contacts"], json!([{"input": CUSTOMER, "wa_id": CUSTOMER}]));
    let wamid = answer["messages"][0]["id"].as_str().unwrap().to_string();
    assert!(wamid.starts_with("wamid."));
    let statuses = h.receiver.statuses(3).await;
    let names: Vec<_> = statuses.iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(names, ["sent", "delivered", "read"]);
    for s in &statuses {
        assert_eq!(s["id"], json!(wamid));
        assert_eq!(s["recipient_id"], CUSTOMER);
        assert!(s["timestamp"].is_string());
        assert_eq!(s["pricing"]["category"], "service");
    }
    assert!(statuses[0]["conversation"]["expiration_timestamp"].is_string());
    for r in h.receiver.all() {
        assert_eq!(r.signature, wa_sim::sign(SECRET, &r.body));
    }
    let inbox = h.get(&format!("/_sim/customers/{CUSTOMER}/inbox")).await;
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0]["id"], json!(wamid));
    assert_eq!(inbox[0]["type"], "text");
    assert_eq!(inbox[0]["message"], request);
    assert_eq!(inbox[0]["phone_number_id"], PHONE_ID);
    assert_eq!(inbox[0]["status"], "read");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_with_401_and_code_190() {
    // Arrange
    let h = Harness::start(false).await;

    // Act
    let (wrong_status, wrong) = h.send_with_token(Some("nope"), text_to(CUSTOMER, "x")).await;
    let (missing_status, missing) = h.send_with_token(None, text_to(CUSTOMER, "x")).await;

    // Assert
    assert_eq!(wrong_status, 401);
    assert_eq!(error_code(&wrong), 190);
    assert_eq!(wrong["error"]["type"], "OAuthException");
    assert!(wrong["error"]["fbtrace_id"].is_string());
    assert_eq!(missing_status, 401);
    assert_eq!(error_code(&missing), 190);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_phone_number_id_is_refused_with_code_100_subcode_33() {
    // Arrange
    let h = Harness::start(false).await;

    // Act
    let response = h
        .http
        .post(format!("{}/v22.0/999/messages", h.sim.url))
        .bearer_auth(TOKEN)
        .json(&text_to(CUSTOMER, "x"))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(error_code(&answer), 100);
    assert_eq!(answer["error"]["error_subcode"], 33);
    assert_eq!(answer["error"]["type"], "GraphMethodException");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn four_buttons_are_refused_with_code_100() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    let four = buttons((1..=4).map(|i| button(&format!("b{i}"), "Option")).collect());

    // Act
    let (status, answer) = h.send(four).await;

    // Assert
    assert_eq!(status, 400);
    assert_eq!(error_code(&answer), 100);
    assert_eq!(answer["error"]["message"], "(#100) Invalid parameter");
    assert_eq!(answer["error"]["error_data"]["messaging_product"], "whatsapp");
    assert!(
        answer["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("buttons")
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_button_title_of_21_characters_is_refused_and_20_passes() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;

    // Act
    let (long_status, long) = h.send(buttons(vec![button("a", &"x".repeat(21))])).await;
    let (ok_status, _) = h.send(buttons(vec![button("a", &"é".repeat(20))])).await;

    // Assert
    assert_eq!(long_status, 400);
    assert_eq!(error_code(&long), 100);
    assert!(
        long["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("title")
    );
    assert_eq!(ok_status, 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_text_of_4097_characters_is_refused_and_4096_passes() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;

    // Act
    let (long_status, long) = h.send(text_to(CUSTOMER, &"a".repeat(4097))).await;
    let (ok_status, _) = h.send(text_to(CUSTOMER, &"a".repeat(4096))).await;

    // Assert
    assert_eq!(long_status, 400);
    assert_eq!(error_code(&long), 100);
    assert_eq!(ok_status, 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_body_without_messaging_product_or_with_an_unknown_type_is_refused() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;

    // Act
    let (s1, no_product) = h
        .send(json!({"to": CUSTOMER, "type": "text", "text": {"body": "x"}}))
        .await;
    let (s2, bad_type) = h
        .send(json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "poll"}))
        .await;

    // Assert
    assert_eq!((s1, error_code(&no_product)), (400, 100));
    assert_eq!(
        no_product["error"]["message"],
        "(#100) The parameter messaging_product is required."
    );
    assert_eq!((s2, error_code(&bad_type)), (400, 100));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn after_25_hours_without_a_customer_message_text_is_refused_with_131047_but_a_template_passes() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    let (open_status, _) = h.send(text_to(CUSTOMER, "within the window")).await;
    h.control("/_sim/clock/advance?hours=25", json!({})).await;

    // Act
    let (closed_status, closed) = h.send(text_to(CUSTOMER, "too late")).await;
    let (template_status, template_answer) = h.send(template()).await;

    // Assert
    assert_eq!(open_status, 200);
    assert_eq!(closed_status, 400);
    assert_eq!(error_code(&closed), 131047);
    assert_eq!(closed["error"]["message"], "(#131047) Re-engagement message");
    assert_eq!(template_status, 200, "{template_answer}");
    assert_eq!(template_answer["messages"][0]["message_status"], "accepted");
    let customer = h.get(&format!("/_sim/customers/{CUSTOMER}")).await;
    assert_eq!(customer["window_open"], json!(false));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_customer_who_never_wrote_gets_only_templates() {
    // Arrange
    let h = Harness::start(false).await;

    // Act
    let (status, answer) = h.send(text_to("15559990000", "hello")).await;

    // Assert
    assert_eq!(status, 400);
    assert_eq!(error_code(&answer), 131047);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_pair_rate_limit_answers_131056_once_the_bucket_is_used_up() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    for i in 0..10 {
        let (status, answer) = h.send(text_to(CUSTOMER, &format!("burst {i}"))).await;
        assert_eq!(status, 200, "{answer}");
    }

    // Act
    let (status, answer) = h.send(text_to(CUSTOMER, "one too many")).await;
    h.control("/_sim/clock/advance?seconds=6", json!({})).await;
    let (refilled_status, _) = h.send(text_to(CUSTOMER, "after a refill")).await;

    // Assert
    assert_eq!(status, 400);
    assert_eq!(error_code(&answer), 131056);
    assert_eq!(refilled_status, 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_throughput_limit_answers_130429_when_exceeded_within_one_second() {
    // Arrange
    let h = Harness::start(false).await;
    h.control("/_sim/faults", json!({"throughput": {"per_second": 2}}))
        .await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    h.send(text_to(CUSTOMER, "1")).await;
    h.send(text_to(CUSTOMER, "2")).await;

    // Act
    let (status, answer) = h.send(text_to(CUSTOMER, "3")).await;

    // Assert
    assert_eq!(status, 400);
    assert_eq!(error_code(&answer), 130429);
    assert_eq!(answer["error"]["message"], "(#130429) Rate limit hit");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn an_injected_500_fault_fails_the_next_two_sends_then_sending_succeeds() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    h.control("/_sim/faults", json!({"graph_send": {"status": 500, "times": 2}}))
        .await;

    // Act
    let first = h.send(text_to(CUSTOMER, "try 1")).await;
    let second = h.send(text_to(CUSTOMER, "try 2")).await;
    let third = h.send(text_to(CUSTOMER, "try 3")).await;

    // Assert
    assert_eq!((first.0, error_code(&first.1)), (500, 131000));
    assert_eq!((second.0, error_code(&second.1)), (500, 131000));
    assert_eq!(third.0, 200);
    let inbox = h.get(&format!("/_sim/customers/{CUSTOMER}/inbox")).await;
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0]["message"]["text"]["body"], "try 3");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn injected_codes_and_429_answer_meta_style_errors_and_delete_clears_them() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    h.control(
        "/_sim/faults",
        json!({"graph_send": [{"code": 131056}, {"status": 429}, {"code": 130429}]}),
    )
    .await;

    // Act
    let pair = h.send(text_to(CUSTOMER, "a")).await;
    let too_many = h.send(text_to(CUSTOMER, "b")).await;
    let throughput = h.send(text_to(CUSTOMER, "c")).await;
    h.control("/_sim/faults", json!({"graph_send": {"status": 500, "times": 5}}))
        .await;
    h.http
        .delete(format!("{}/_sim/faults", h.sim.url))
        .send()
        .await
        .unwrap();
    let after_clear = h.send(text_to(CUSTOMER, "d")).await;

    // Assert
    assert_eq!((pair.0, error_code(&pair.1)), (400, 131056));
    assert_eq!((too_many.0, error_code(&too_many.1)), (429, 130429));
    assert_eq!((throughput.0, error_code(&throughput.1)), (400, 130429));
    assert_eq!(after_clear.0, 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_fault_delays_the_answer() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    h.control("/_sim/faults", json!({"graph_send": {"delay_ms": 300}}))
        .await;

    // Act
    let started = std::time::Instant::now();
    let (status, _) = h.send(text_to(CUSTOMER, "slow")).await;

    // Assert
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn customer_media_round_trips_through_the_media_url_with_the_token() {
    // Arrange
    let h = Harness::start(false).await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let path = temp_file("receipt.jpg", &bytes);
    let answer = h
        .customer_says(json!({"type": "image", "image": {"path": path, "caption": "my receipt"}}))
        .await;
    let webhook = h.receiver.all()[0].json();
    let image = webhook["entry"][0]["changes"][0]["value"]["messages"][0]["image"].clone();

    // Act
    let meta: Value = h
        .http
        .get(format!("{}/v21.0/{}", h.sim.url, image["id"].as_str().unwrap()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = meta["url"].as_str().unwrap();
    let with_token = h.http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    let without_token = h.http.get(url).send().await.unwrap();

    // Assert
    assert_eq!(image["id"], answer["media_id"]);
    assert_eq!(image["mime_type"], "image/jpeg");
    assert_eq!(image["caption"], "my receipt");
    assert!(image.get("path").is_none());
    use base64::Engine;
    let digest = Sha256::digest(&bytes);
    assert_eq!(
        image["sha256"],
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    assert_eq!(meta["messaging_product"], "whatsapp");
    assert_eq!(meta["mime_type"], "image/jpeg");
    assert_eq!(meta["sha256"], hex::encode(digest));
    assert_eq!(meta["file_size"], json!(5000));
    assert_eq!(meta["id"], image["id"]);
    assert_eq!(with_token.status().as_u16(), 200);
    assert_eq!(with_token.headers()["content-type"], "image/jpeg");
    assert_eq!(with_token.bytes().await.unwrap().as_ref(), bytes.as_slice());
    assert_eq!(without_token.status().as_u16(), 401);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_media_url_expires_after_five_minutes_and_unknown_media_is_100_33() {
    // Arrange
    let h = Harness::start(false).await;
    let path = temp_file("note.pdf", b"%PDF-1.4 test");
    h.customer_says(json!({"type": "document", "document": {"path": path}}))
        .await;
    let document = h.receiver.all()[0].json()["entry"][0]["changes"][0]["value"]["messages"][0]["document"].clone();
    let meta: Value = h
        .http
        .get(format!("{}/v21.0/{}", h.sim.url, document["id"].as_str().unwrap()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    h.control("/_sim/clock/advance?minutes=6", json!({})).await;

    // Act
    let expired = h
        .http
        .get(meta["url"].as_str().unwrap())
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let unknown = h
        .http
        .get(format!("{}/v21.0/123123", h.sim.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(document["filename"], "note.pdf");
    assert_eq!(document["mime_type"], "application/pdf");
    assert_eq!(expired.status().as_u16(), 404);
    assert!(expired.json::<Value>().await.unwrap()["error"].is_object());
    assert_eq!(unknown.status().as_u16(), 400);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(
        (error_code(&unknown), unknown["error"]["error_subcode"].as_i64()),
        (100, Some(33))
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn an_uploaded_file_can_be_sent_as_an_image_by_its_id() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "send me the picture"}}))
        .await;
    let boundary = "wasimtestboundary";
    let png = b"\x89PNG\r\n\x1a\nfake image";
    let mut body = Vec::new();
    for (name, value) in [("messaging_product", "whatsapp"), ("type", "image/png")] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pic.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    body.extend(png);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());

    // Act
    let uploaded: Value = h
        .http
        .post(format!("{}/v21.0/{PHONE_ID}/media", h.sim.url))
        .bearer_auth(TOKEN)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let media_id = uploaded["id"].as_str().unwrap().to_string();
    let (sent_status, sent) = h
        .send(json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"id": media_id}}))
        .await;
    let (unknown_status, unknown) = h
        .send(json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"id": "42"}}))
        .await;

    // Assert
    assert!(media_id.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(sent_status, 200, "{sent}");
    assert_eq!((unknown_status, error_code(&unknown)), (400, 100));
    let inbox = h.get(&format!("/_sim/customers/{CUSTOMER}/inbox")).await;
    assert_eq!(inbox[0]["type"], "image");
    assert_eq!(inbox[0]["message"]["image"]["id"], json!(media_id));
    let meta: Value = h
        .http
        .get(format!("{}/v21.0/{media_id}", h.sim.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["mime_type"], "image/png");
    assert_eq!(meta["file_size"], json!(png.len()));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn mark_as_read_succeeds_for_a_customer_message_and_is_refused_for_unknown_ids() {
    // Arrange
    let h = Harness::start(false).await;
    let answer = h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;

    // Act
    let (ok_status, ok) = h
        .send(json!({"messaging_product": "whatsapp", "status": "read", "message_id": answer["wamid"]}))
        .await;
    let (bad_status, bad) = h
        .send(json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.nope"}))
        .await;

    // Assert
    assert_eq!((ok_status, ok), (200, json!({"success": true})));
    assert_eq!((bad_status, error_code(&bad)), (400, 100));
    let customer = h.get(&format!("/_sim/customers/{CUSTOMER}")).await;
    assert_eq!(customer["read_message_ids"], json!([answer["wamid"]]));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_control_api_refuses_a_body_that_is_not_an_object_or_has_no_type() {
    // Arrange
    let h = Harness::start(false).await;
    let url = format!("/_sim/customers/{CUSTOMER}/messages");

    // Act
    let (array_status, array) = h.control(&url, json!([1, 2])).await;
    let (untyped_status, _) = h.control(&url, json!({"text": {"body": "hi"}})).await;

    // Assert
    assert_eq!(array_status, 400);
    assert!(array["error"]["message"].as_str().unwrap().contains("JSON object"));
    assert_eq!(untyped_status, 400);
    assert!(h.receiver.all().is_empty());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_webhook_url_can_be_changed_after_start_and_reset_forgets_customers() {
    // Arrange
    let h = Harness::start(false).await;
    let (other, other_url) = Receiver::start().await;
    h.sim.set_webhook_url(other_url);

    // Act
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    let (reset_status, _) = h.control("/_sim/reset", json!({})).await;
    let (after_reset, answer) = h.send(text_to(CUSTOMER, "still there?")).await;

    // Assert
    assert_eq!(other.all().len(), 1);
    assert!(h.receiver.all().is_empty());
    assert_eq!(reset_status, 200);
    assert_eq!((after_reset, error_code(&answer)), (400, 131047));
    h.sim.shutdown().await;
}
