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
/// A Graph API version served for years to come (until 2028-07-29).
const VERSION: &str = "v25.0";

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
        Self::start_with(status_callbacks, Vec::new()).await
    }

    async fn start_with(status_callbacks: bool, extra_numbers: Vec<(String, String)>) -> Self {
        let (receiver, webhook_url) = Receiver::start().await;
        let sim = wa_sim::start(SimConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            webhook_url,
            app_secret: SECRET.into(),
            access_token: TOKEN.into(),
            phone_number_id: PHONE_ID.into(),
            display_phone_number: "15550000001".into(),
            extra_numbers,
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
            .post(format!("{}/{VERSION}/{PHONE_ID}/messages", self.sim.url))
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
        "template": {"name": "sla_update", "language": {"code": "en"}, "components": [{"type": "body", "parameters": [
            {"type": "text", "text": "billing"}, {"type": "text", "text": "by Monday at 09:00"}]}]}})
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
        json!([{"profile": {"name": "Ada"}, "wa_id": CUSTOMER, "user_id": wa_sim::default_user_id(CUSTOMER)}])
    );
    let message = &value["messages"][0];
    assert_eq!(message["from"], CUSTOMER);
    assert_eq!(message["from_user_id"], json!(wa_sim::default_user_id(CUSTOMER)));
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
        assert_eq!(
            s["pricing"],
            json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": "service"})
        );
        assert!(s.get("conversation").is_none());
    }
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
        .post(format!("{}/{VERSION}/999/messages", h.sim.url))
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
        .get(format!("{}/{VERSION}/{}", h.sim.url, image["id"].as_str().unwrap()))
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
    let webhook_url = image["url"].as_str().expect("media messages carry a url beside the id");
    let by_webhook_url = h.http.get(webhook_url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(by_webhook_url.bytes().await.unwrap().as_ref(), bytes.as_slice());
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
        .get(format!("{}/{VERSION}/{}", h.sim.url, document["id"].as_str().unwrap()))
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
        .get(format!("{}/{VERSION}/123123", h.sim.url))
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
        .post(format!("{}/{VERSION}/{PHONE_ID}/media", h.sim.url))
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
        .get(format!("{}/{VERSION}/{media_id}", h.sim.url))
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

// ---------------------------------------------------------------------------------------------
// The WhatsApp of 2026: business-scoped user ids, usernames, templates, pricing, typing, new
// message types, coexistence echoes, several business numbers, Graph API versions.
// ---------------------------------------------------------------------------------------------

const BSUID: &str = "US.13491208655302741918";
const PARENT: &str = "US.ENT.11815799212886844830";
const OTHER_PHONE_ID: &str = "100000000000002";

/// The `value` of the only change of a webhook.
fn value_of(r: &Received) -> Value {
    r.json()["entry"][0]["changes"][0]["value"].clone()
}

impl Harness {
    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .put(format!("{}{path}", self.sim.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// `customer` (phone or BSUID) sends `message`; the control API must accept it.
    async fn says(&self, customer: &str, message: Value) -> Value {
        let (status, answer) = self
            .control(&format!("/_sim/customers/{customer}/messages"), message)
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// A Graph API call with the token: `GET` when `body` is `None`, else `POST`.
    async fn graph(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.sim.url);
        let request = match body {
            Some(body) => self.http.post(url).json(&body),
            None => self.http.get(url),
        };
        let response = request.bearer_auth(TOKEN).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// The last webhook received.
    fn last(&self) -> Received {
        self.receiver.all().last().cloned().expect("a webhook arrived")
    }
}

fn text_by_recipient(recipient: &str, body: &str) -> Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "recipient": recipient,
        "type": "text", "text": {"body": body}})
}

fn template_to(field: &str, to: &str, name: &str, language: &str, body_params: &[&str]) -> Value {
    let parameters: Vec<Value> = body_params.iter().map(|t| json!({"type": "text", "text": t})).collect();
    let mut request = json!({"messaging_product": "whatsapp", "type": "template", "template": {
        "name": name, "language": {"code": language}, "components": [{"type": "body", "parameters": parameters}]}});
    request[field] = json!(to);
    request
}

#[tokio::test]
async fn every_customer_has_a_predictable_bsuid_in_contacts_and_from_user_id() {
    // Arrange
    let h = Harness::start(false).await;
    let portuguese = "351912345678";

    // Act
    h.says(portuguese, json!({"type": "text", "text": {"body": "olá"}}))
        .await;
    let customer = h.get(&format!("/_sim/customers/{portuguese}")).await;

    // Assert
    let expected = wa_sim::default_user_id(portuguese);
    assert!(expected.starts_with("PT.") && expected.len() == 23, "{expected}");
    let value = value_of(&h.last());
    assert_eq!(value["contacts"][0]["user_id"], json!(expected));
    assert_eq!(value["contacts"][0]["wa_id"], portuguese);
    assert!(value["contacts"][0]["profile"].get("username").is_none());
    assert_eq!(value["messages"][0]["from_user_id"], json!(expected));
    assert_eq!(value["messages"][0]["from"], portuguese);
    assert_eq!(customer["user_id"], json!(expected));
    assert_eq!(customer["phone"], portuguese);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_customer_configured_by_put_is_found_by_phone_and_by_bsuid_and_writes_with_its_ids() {
    // Arrange
    let h = Harness::start(false).await;
    let (status, created) = h
        .put(
            "/_sim/customers/15551230001",
            json!({"user_id": BSUID, "parent_user_id": PARENT, "username": "@Ana", "profile_name": "Ana"}),
        )
        .await;

    // Act
    h.says(BSUID, json!({"type": "text", "text": {"body": "hi"}})).await;
    let by_phone = h.get("/_sim/customers/15551230001").await;
    let by_id = h.get(&format!("/_sim/customers/{BSUID}")).await;

    // Assert
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["username"], "@ana");
    assert_eq!(by_phone, by_id);
    assert_eq!(by_phone["window_open"], json!(true));
    let value = value_of(&h.last());
    assert_eq!(
        value["contacts"],
        json!([{"profile": {"name": "Ana", "username": "@ana"}, "wa_id": "15551230001",
            "user_id": BSUID, "parent_user_id": PARENT}])
    );
    let message = &value["messages"][0];
    assert_eq!(message["from"], "15551230001");
    assert_eq!(message["from_user_id"], BSUID);
    assert_eq!(message["from_parent_user_id"], PARENT);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_customer_with_only_a_bsuid_or_a_withheld_phone_arrives_without_wa_id_and_from() {
    // Arrange
    let h = Harness::start(false).await;
    h.put(
        "/_sim/customers/15551230002",
        json!({"username": "bea_s", "phone_withheld": true}),
    )
    .await;

    // Act
    let no_phone = h
        .says(BSUID, json!({"type": "text", "text": {"body": "no number"}}))
        .await;
    let first = value_of(&h.last());
    h.says(
        "15551230002",
        json!({"type": "text", "text": {"body": "hidden number"}}),
    )
    .await;
    let withheld = value_of(&h.last());
    let only_id = h.get(&format!("/_sim/customers/{BSUID}")).await;

    // Assert
    assert!(no_phone["wamid"].as_str().unwrap().starts_with("wamid."));
    assert_eq!(
        first["contacts"],
        json!([{"profile": {"name": "Customer 1918"}, "user_id": BSUID}])
    );
    assert!(first["messages"][0].get("from").is_none());
    assert_eq!(first["messages"][0]["from_user_id"], BSUID);
    assert_eq!(only_id["phone"], Value::Null);
    let bea = wa_sim::default_user_id("15551230002");
    assert_eq!(
        withheld["contacts"],
        json!([{"profile": {"name": "Customer 0002", "username": "@bea_s"}, "user_id": bea}])
    );
    assert!(withheld["messages"][0].get("from").is_none());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn put_refuses_bad_ids_unknown_fields_and_ids_another_customer_has() {
    // Arrange
    let h = Harness::start(false).await;
    h.put("/_sim/customers/15551230001", json!({"user_id": BSUID})).await;

    // Act
    let bad_id = h.put("/_sim/customers/15551230002", json!({"user_id": "us.1"})).await;
    let bad_parent = h
        .put("/_sim/customers/15551230002", json!({"parent_user_id": "US.123"}))
        .await;
    let unknown = h.put("/_sim/customers/15551230002", json!({"email": "x@y"})).await;
    let taken = h.put("/_sim/customers/15551230002", json!({"user_id": BSUID})).await;
    let bad_path = h.put("/_sim/customers/+1555", json!({})).await;

    // Assert
    assert_eq!(bad_id.0, 400);
    assert!(bad_id.1["error"]["message"].as_str().unwrap().contains("user_id"));
    assert_eq!(bad_parent.0, 400);
    assert_eq!(unknown.0, 400);
    assert_eq!(taken.0, 409);
    assert_eq!(bad_path.0, 400);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn statuses_carry_the_recipient_ids_and_per_message_pricing_and_leave_a_withheld_phone_out() {
    // Arrange
    let h = Harness::start(true).await;
    h.put(
        &format!("/_sim/customers/{CUSTOMER}"),
        json!({"parent_user_id": PARENT, "phone_withheld": true}),
    )
    .await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;

    // Act
    let (status, answer) = h.send(text_to(CUSTOMER, "hello")).await;
    let statuses = h.receiver.statuses(3).await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    let user_id = wa_sim::default_user_id(CUSTOMER);
    for s in &statuses {
        assert!(s.get("recipient_id").is_none(), "{s}");
        assert_eq!(s["recipient_user_id"], json!(user_id));
        assert_eq!(s["recipient_parent_user_id"], PARENT);
        assert_eq!(s["pricing"]["pricing_model"], "PMP");
        assert_eq!(s["pricing"]["type"], "regular");
        assert_eq!(s["pricing"]["billable"], json!(true));
        assert!(s.get("conversation").is_none());
    }
    h.sim.shutdown().await;
}

#[tokio::test]
async fn change_number_sends_user_changed_number_with_the_new_wa_id_and_ids_and_moves_the_customer() {
    // Arrange
    let h = Harness::start(false).await;
    h.put(
        &format!("/_sim/customers/{CUSTOMER}"),
        json!({"profile_name": "Ana", "parent_user_id": PARENT}),
    )
    .await;
    let old_id = wa_sim::default_user_id(CUSTOMER);

    // Act
    let (status, answer) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/change-number"),
            json!({"phone": "15559876543"}),
        )
        .await;
    let value = value_of(&h.last());
    let moved = h.get("/_sim/customers/15559876543").await;
    let old_status = h
        .http
        .get(format!("{}/_sim/customers/{CUSTOMER}", h.sim.url))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();

    // Assert
    let new_id = wa_sim::default_user_id("15559876543");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["phone"], "15559876543");
    assert_eq!(answer["user_id"], json!(new_id));
    assert!(value.get("contacts").is_none(), "system messages carry no contacts");
    let message = &value["messages"][0];
    assert_eq!(message["id"], answer["wamid"]);
    assert_eq!(message["type"], "system");
    assert_eq!(message["from"], CUSTOMER);
    assert_eq!(message["from_user_id"], json!(old_id));
    assert_eq!(
        message["system"],
        json!({"body": format!("User Ana changed from {CUSTOMER} to 15559876543"), "wa_id": "15559876543",
            "user_id": new_id, "parent_user_id": PARENT, "type": "user_changed_number"})
    );
    assert_eq!(moved["user_id"], json!(new_id));
    assert_eq!(old_status, 404);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn change_user_id_sends_user_changed_user_id_without_a_phone_and_the_new_id_finds_the_customer() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    let old_id = wa_sim::default_user_id(CUSTOMER);

    // Act
    let (status, answer) = h
        .control(&format!("/_sim/customers/{old_id}/change-user-id"), json!({}))
        .await;
    let value = value_of(&h.last());
    let new_id = answer["user_id"].as_str().unwrap().to_string();
    let by_new_id = h.get(&format!("/_sim/customers/{new_id}")).await;
    let (chosen_status, chosen) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/change-user-id"),
            json!({"user_id": "US.24817305912873645029"}),
        )
        .await;
    let (bad_status, _) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/change-user-id"),
            json!({"user_id": "nope"}),
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    assert!(new_id.starts_with("US.") && new_id != old_id, "{new_id}");
    assert!(value.get("contacts").is_none());
    let message = &value["messages"][0];
    assert!(message.get("from").is_none());
    assert_eq!(message["from_user_id"], json!(old_id));
    assert_eq!(
        message["system"],
        json!({"body": format!("User Customer 4567 changed from {old_id} to {new_id}"), "user_id": new_id,
            "type": "user_changed_user_id"})
    );
    assert_eq!(by_new_id["phone"], CUSTOMER);
    assert_eq!(chosen_status, 200, "{chosen}");
    assert_eq!(chosen["user_id"], "US.24817305912873645029");
    assert_eq!(bad_status, 400);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn change_number_of_a_customer_with_a_withheld_phone_sends_user_changed_user_id() {
    // Arrange
    let h = Harness::start(false).await;
    h.put(&format!("/_sim/customers/{CUSTOMER}"), json!({"phone_withheld": true}))
        .await;

    // Act
    let (status, answer) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/change-number"),
            json!({"phone": "15559876543"}),
        )
        .await;
    let (taken_status, _) = h
        .control(
            "/_sim/customers/15559876543/change-number",
            json!({"phone": "15559876543"}),
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "user_changed_user_id");
    let system = &value_of(&h.last())["messages"][0]["system"];
    assert_eq!(system["type"], "user_changed_user_id");
    assert!(system.get("wa_id").is_none());
    assert_eq!(system["user_id"], answer["user_id"]);
    assert_eq!(taken_status, 400);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_send_by_recipient_reaches_the_customers_inbox_and_answers_user_id_with_wa_id_only_when_known() {
    // Arrange
    let h = Harness::start(false).await;
    h.put("/_sim/customers/15551230001", json!({"user_id": BSUID})).await;
    h.says(BSUID, json!({"type": "text", "text": {"body": "hi"}})).await;
    let hidden = "US.99999999999999999999";
    h.says(hidden, json!({"type": "text", "text": {"body": "no phone here"}}))
        .await;

    // Act
    let (status, answer) = h.send(text_by_recipient(BSUID, "Hello Ana")).await;
    let (hidden_status, hidden_answer) = h.send(text_by_recipient(hidden, "Hello")).await;
    let inbox = h.get("/_sim/customers/15551230001/inbox").await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["contacts"],
        json!([{"input": BSUID, "wa_id": "15551230001", "user_id": BSUID}])
    );
    assert_eq!(hidden_status, 200, "{hidden_answer}");
    assert_eq!(hidden_answer["contacts"], json!([{"input": hidden, "user_id": hidden}]));
    assert_eq!(inbox.as_array().unwrap().len(), 1);
    assert_eq!(inbox[0]["id"], answer["messages"][0]["id"]);
    assert_eq!(inbox[0]["message"]["recipient"], BSUID);
    assert_eq!(inbox[0]["source"], "api");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_bsuid_in_to_or_to_and_recipient_together_are_refused_with_100() {
    // Arrange
    let h = Harness::start(false).await;
    h.says(BSUID, json!({"type": "text", "text": {"body": "hi"}})).await;

    // Act
    let (to_status, in_to) = h.send(text_to(BSUID, "hello")).await;
    let mut both = text_by_recipient(BSUID, "hello");
    both["to"] = json!(CUSTOMER);
    let (both_status, both_answer) = h.send(both).await;

    // Assert
    assert_eq!((to_status, error_code(&in_to)), (400, 100));
    assert!(
        in_to["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("recipient")
    );
    assert_eq!((both_status, error_code(&both_answer)), (400, 100));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn an_authentication_template_to_a_bsuid_answers_131062_and_to_the_phone_passes() {
    // Arrange
    let h = Harness::start(false).await;
    h.put("/_sim/customers/15551230001", json!({"user_id": BSUID})).await;

    // Act
    let (by_id_status, by_id) = h
        .send(template_to("recipient", BSUID, "login_code", "en", &["123456"]))
        .await;
    let (by_phone_status, by_phone) = h
        .send(template_to("to", "15551230001", "login_code", "en", &["123456"]))
        .await;
    let (utility_status, _) = h
        .send(template_to("recipient", BSUID, "order_update", "en", &["A-1"]))
        .await;

    // Assert
    assert_eq!((by_id_status, error_code(&by_id)), (400, 131062));
    assert!(by_id["error"]["message"].as_str().unwrap().starts_with("(#131062)"));
    assert_eq!(by_phone_status, 200, "{by_phone}");
    assert_eq!(utility_status, 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_seeded_templates_are_listed_in_metas_shape_with_paging() {
    // Arrange
    let h = Harness::start(false).await;
    let path = format!("/{VERSION}/200000000000001/message_templates");

    // Act
    let (status, first) = h.graph(&format!("{path}?limit=4"), None).await;
    let after = first["paging"]["cursors"]["after"].as_str().unwrap().to_string();
    let (_, second) = h.graph(&format!("{path}?limit=4&after={after}"), None).await;
    let (_, csat) = h.graph(&format!("{path}?name=csat_request&language=en"), None).await;
    let (wrong_status, wrong) = h.graph(&format!("/{VERSION}/999/message_templates"), None).await;

    // Assert
    assert_eq!(status, 200, "{first}");
    let names: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sla_update", "csat_request", "order_update", "login_code"]);
    assert_eq!(first["data"][0]["language"], "en");
    assert_eq!(first["data"][0]["status"], "APPROVED");
    assert_eq!(first["data"][0]["category"], "UTILITY");
    assert_eq!(first["data"][3]["category"], "AUTHENTICATION");
    assert!(
        first["data"][0]["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    assert!(
        first["data"][0]["components"][0]["text"]
            .as_str()
            .unwrap()
            .contains("{{2}}")
    );
    assert!(first["paging"]["next"].as_str().unwrap().contains("after="));
    assert_eq!(second["data"][0]["language"], "fr");
    let buttons = &csat["data"][0]["components"][1]["buttons"];
    assert_eq!(buttons.as_array().unwrap().len(), 5);
    assert_eq!(buttons[0], json!({"type": "QUICK_REPLY", "text": "1"}));
    assert_eq!(csat["data"].as_array().unwrap().len(), 1);
    assert_eq!((wrong_status, error_code(&wrong)), (400, 100));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_template_or_language_answers_132001_and_a_wrong_parameter_count_132000() {
    // Arrange
    let h = Harness::start(false).await;

    // Act
    let (unknown_status, unknown) = h.send(template_to("to", CUSTOMER, "csat_followup", "en", &[])).await;
    let (language_status, language) = h
        .send(template_to("to", CUSTOMER, "sla_update", "nl", &["a", "b"]))
        .await;
    let (count_status, count) = h.send(template_to("to", CUSTOMER, "sla_update", "en", &["a"])).await;
    let mut csat = template_to("to", CUSTOMER, "csat_request", "de", &[]);
    csat["template"]["components"] = json!(
        (0..6)
            .map(
                |i| json!({"type": "button", "sub_type": "quick_reply", "index": i.to_string(),
            "parameters": [{"type": "payload", "payload": format!("csat:{i}")}]})
            )
            .collect::<Vec<_>>()
    );
    let (buttons_status, buttons) = h.send(csat).await;
    let (component_status, component) = h
        .send(
            json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template", "template": {
            "name": "sla_update", "language": {"code": "en"}, "components": [{"type": "sidebar"}]}}),
        )
        .await;

    // Assert
    assert_eq!((unknown_status, error_code(&unknown)), (400, 132001));
    assert_eq!(
        unknown["error"]["message"],
        "(#132001) Template name does not exist in the translation"
    );
    assert_eq!(
        unknown["error"]["error_data"]["details"],
        "template name (csat_followup) does not exist in en"
    );
    assert_eq!((language_status, error_code(&language)), (400, 132001));
    assert_eq!((count_status, error_code(&count)), (400, 132000));
    assert_eq!(
        count["error"]["message"],
        "(#132000) Number of parameters does not match the expected number of params"
    );
    assert_eq!(
        count["error"]["error_data"]["details"],
        "body: number of localizable_params (1) does not match the expected number of params (2)"
    );
    assert_eq!((buttons_status, error_code(&buttons)), (400, 132000));
    assert_eq!((component_status, error_code(&component)), (400, 100));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_template_approved_through_the_control_api_is_sent_and_priced_in_its_category() {
    // Arrange
    let h = Harness::start(true).await;
    let (status, registry) = h
        .control(
            "/_sim/templates",
            json!({"name": "spring_sale", "language": ["en", "fr"], "category": "marketing",
                "body_text": "Hi {{1}}, {{2}} off today", "quick_replies": ["Shop", "Stop"]}),
        )
        .await;
    let (bad_status, _) = h
        .control(
            "/_sim/templates",
            json!({"name": "x", "language": "en", "category": "promo"}),
        )
        .await;

    // Act
    let (send_status, answer) = h
        .send(template_to("to", CUSTOMER, "spring_sale", "fr", &["Ana", "20%"]))
        .await;
    let statuses = h.receiver.statuses(3).await;
    let removed = h
        .http
        .delete(format!("{}/_sim/templates/spring_sale?language=fr", h.sim.url))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let (after_status, after) = h
        .send(template_to("to", CUSTOMER, "spring_sale", "fr", &["Ana", "20%"]))
        .await;

    // Assert
    assert_eq!(status, 200, "{registry}");
    assert_eq!(registry["templates"].as_array().unwrap().len(), 26);
    assert_eq!(bad_status, 400);
    assert_eq!(send_status, 200, "{answer}");
    assert_eq!(answer["messages"][0]["message_status"], "accepted");
    for s in &statuses {
        assert_eq!(s["pricing"]["category"], "marketing");
    }
    assert_eq!(removed, 200);
    assert_eq!((after_status, error_code(&after)), (400, 132001));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_typing_indicator_marks_read_is_recorded_with_its_time_and_an_unknown_id_is_refused() {
    // Arrange
    let h = Harness::start(false).await;
    let answer = h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;
    let typing = |id: &Value| json!({"messaging_product": "whatsapp", "status": "read", "message_id": id, "typing_indicator": {"type": "text"}});

    // Act
    let (ok_status, ok) = h.send(typing(&answer["wamid"])).await;
    let while_typing = h.get(&format!("/_sim/customers/{CUSTOMER}")).await;
    h.send(text_to(CUSTOMER, "Here is the answer")).await;
    let after_reply = h.get(&format!("/_sim/customers/{CUSTOMER}")).await;
    let (bad_status, bad) = h.send(typing(&json!("wamid.nope"))).await;
    let mut wrong_type = typing(&answer["wamid"]);
    wrong_type["typing_indicator"]["type"] = json!("audio");
    let (wrong_status, wrong) = h.send(wrong_type).await;

    // Assert
    assert_eq!((ok_status, ok), (200, json!({"success": true})));
    assert_eq!(while_typing["read_message_ids"], json!([answer["wamid"]]));
    let shown = &while_typing["typing_indicators"][0];
    assert_eq!(shown["message_id"], answer["wamid"]);
    assert_eq!(shown["phone_number_id"], PHONE_ID);
    assert!(shown["at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(while_typing["typing"], json!(true));
    assert_eq!(after_reply["typing"], json!(false));
    assert_eq!((bad_status, error_code(&bad)), (400, 100));
    assert_eq!(
        bad["error"]["error_data"]["details"],
        "Please check the message ID you have provided."
    );
    assert_eq!((wrong_status, error_code(&wrong)), (400, 100));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn edit_and_revoke_arrive_with_their_original_ids_and_a_message_of_someone_else_is_refused() {
    // Arrange
    let h = Harness::start(false).await;
    let first = h
        .customer_says(json!({"type": "text", "text": {"body": "see you at 3"}}))
        .await;
    let other = h
        .says("15550009999", json!({"type": "text", "text": {"body": "not yours"}}))
        .await;
    h.control("/_sim/clock/advance?hours=25", json!({})).await;

    // Act
    let edit = h
        .customer_says(json!({"type": "edit", "edit": {"original_message_id": first["wamid"],
            "message": {"type": "text", "text": {"body": "see you at 4"}}}}))
        .await;
    let edited = value_of(&h.last());
    let window_after_edit = h.get(&format!("/_sim/customers/{CUSTOMER}")).await["window_open"].clone();
    h.customer_says(json!({"type": "revoke", "revoke": {"original_message_id": first["wamid"]}}))
        .await;
    let revoked = value_of(&h.last());
    let (foreign_status, foreign) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/messages"),
            json!({"type": "revoke", "revoke": {"original_message_id": other["wamid"]}}),
        )
        .await;

    // Assert
    let message = &edited["messages"][0];
    assert_eq!(message["id"], edit["wamid"]);
    assert_ne!(edit["wamid"], first["wamid"]);
    assert_eq!(message["type"], "edit");
    assert_eq!(
        message["edit"],
        json!({"original_message_id": first["wamid"], "message": {"type": "text", "text": {"body": "see you at 4"}}})
    );
    assert_eq!(window_after_edit, json!(false));
    assert_eq!(
        revoked["messages"][0]["revoke"],
        json!({"original_message_id": first["wamid"]})
    );
    assert_eq!(foreign_status, 400);
    assert!(
        foreign["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a message this customer sent")
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_flows_answer_a_call_permission_reply_and_an_unsupported_message_arrive_in_metas_shape() {
    // Arrange
    let h = Harness::start(false).await;

    // Act
    h.customer_says(
        json!({"type": "interactive", "context": {"id": "wamid.flow"}, "interactive": {
        "type": "nfm_reply", "nfm_reply": {"response_json": "{\"flow_token\":\"t-1\",\"rating\":\"5\"}"}}}),
    )
    .await;
    let flow = value_of(&h.last())["messages"][0].clone();
    h.customer_says(json!({"type": "call_permission_reply", "call_permission_reply": {"response": "reject"}}))
        .await;
    let call = value_of(&h.last())["messages"][0].clone();
    h.customer_says(json!({"type": "unsupported", "unsupported": {"type": "poll"}}))
        .await;
    let unsupported = value_of(&h.last())["messages"][0].clone();
    let (bad_status, _) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/messages"),
            json!({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {"response_json": "[1"}}}),
        )
        .await;

    // Assert
    assert_eq!(flow["context"], json!({"id": "wamid.flow", "from": "15550000001"}));
    assert_eq!(
        flow["interactive"],
        json!({"type": "nfm_reply", "nfm_reply": {"response_json": "{\"flow_token\":\"t-1\",\"rating\":\"5\"}",
            "body": "Sent", "name": "flow"}})
    );
    assert_eq!(call["type"], "interactive");
    assert_eq!(
        call["interactive"],
        json!({"type": "call_permission_reply", "call_permission_reply": {"response": "reject", "response_source": "user_action"}})
    );
    assert_eq!(unsupported["unsupported"], json!({"type": "poll"}));
    assert_eq!(unsupported["errors"][0]["code"], 131051);
    assert_eq!(bad_status, 400);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn share_phone_answers_a_contact_request_with_the_phone_and_stops_withholding_it() {
    // Arrange
    let h = Harness::start(false).await;
    h.put(
        "/_sim/customers/15551230001",
        json!({"user_id": BSUID, "username": "@ana", "profile_name": "Ana", "phone_withheld": true}),
    )
    .await;
    h.says(BSUID, json!({"type": "text", "text": {"body": "hi"}})).await;
    let ask = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "recipient": BSUID,
        "type": "interactive", "interactive": {"type": "request_contact_info",
        "body": {"text": "May we have your number?"}, "action": {"name": "request_contact_info"}}});
    let (ask_status, asked) = h.send(ask.clone()).await;
    let mut bad_ask = ask.clone();
    bad_ask["interactive"]["action"] = json!({"name": "send_location"});
    let (bad_status, bad) = h.send(bad_ask).await;

    // Act
    let (status, answer) = h
        .control(&format!("/_sim/customers/{BSUID}/share-phone"), json!({}))
        .await;
    let value = value_of(&h.last());
    let customer = h.get(&format!("/_sim/customers/{BSUID}")).await;
    let (no_phone_status, _) = h
        .control("/_sim/customers/US.55555555555555555555/share-phone", json!({}))
        .await;

    // Assert
    assert_eq!(ask_status, 200, "{asked}");
    assert_eq!(asked["contacts"], json!([{"input": BSUID, "user_id": BSUID}]));
    assert_eq!((bad_status, error_code(&bad)), (400, 100));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(value["contacts"][0]["wa_id"], "15551230001");
    let message = &value["messages"][0];
    assert_eq!(message["id"], answer["wamid"]);
    assert_eq!(message["type"], "contacts");
    assert_eq!(message["from"], "15551230001");
    assert_eq!(
        message["context"],
        json!({"from": "15550000001", "id": asked["messages"][0]["id"]})
    );
    assert_eq!(
        message["contacts"],
        json!([{"name": {"formatted_name": "Ana", "first_name": "Ana"},
            "phones": [{"phone": "+15551230001", "wa_id": "15551230001", "type": "CELL"}],
            "origin": "contact_request"}])
    );
    assert_eq!(customer["phone_withheld"], json!(false));
    assert_eq!(no_phone_status, 404);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn an_echo_arrives_as_smb_message_echoes_and_never_opens_the_window() {
    // Arrange
    let h = Harness::start(false).await;
    h.put(&format!("/_sim/customers/{CUSTOMER}"), json!({"profile_name": "Ana"}))
        .await;

    // Act
    let (status, answer) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/echo"),
            json!({"type": "text", "text": {"body": "See you at 3"}}),
        )
        .await;
    let envelope = h.last().json();
    let customer = h.get(&format!("/_sim/customers/{CUSTOMER}")).await;
    let (reply_status, reply) = h.send(text_to(CUSTOMER, "still closed?")).await;
    let inbox = h.get(&format!("/_sim/customers/{CUSTOMER}/inbox")).await;
    let (untyped, _) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/echo"),
            json!({"text": {"body": "x"}}),
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    let change = &envelope["entry"][0]["changes"][0];
    assert_eq!(change["field"], "smb_message_echoes");
    let echo = &change["value"]["message_echoes"][0];
    assert_eq!(echo["from"], "15550000001");
    assert_eq!(echo["to"], CUSTOMER);
    assert_eq!(echo["to_user_id"], json!(wa_sim::default_user_id(CUSTOMER)));
    assert_eq!(echo["id"], answer["wamid"]);
    assert!(echo["timestamp"].is_string());
    assert_eq!(echo["type"], "text");
    assert_eq!(echo["text"]["body"], "See you at 3");
    assert!(change["value"].get("messages").is_none());
    assert_eq!(customer["window_open"], json!(false));
    assert_eq!((reply_status, error_code(&reply)), (400, 131047));
    assert_eq!(inbox[0]["source"], "business_app");
    assert_eq!(untyped, 400);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_second_business_number_receives_when_named_and_answers_from_its_own_metadata() {
    // Arrange
    let h = Harness::start_with(true, vec![(OTHER_PHONE_ID.into(), "15550000002".into())]).await;

    // Act
    let (status, _) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/messages?business={OTHER_PHONE_ID}"),
            json!({"type": "text", "text": {"body": "hi second line"}}),
        )
        .await;
    let inbound = value_of(&h.last());
    let (primary_status, primary) = h.send(text_to(CUSTOMER, "from the first number")).await;
    let (second_status, second) = h
        .graph(
            &format!("/{VERSION}/{OTHER_PHONE_ID}/messages"),
            Some(text_to(CUSTOMER, "from the second number")),
        )
        .await;
    let statuses = h.receiver.statuses(3).await;
    let inbox = h.get(&format!("/_sim/customers/{CUSTOMER}/inbox")).await;
    let customer = h.get(&format!("/_sim/customers/{CUSTOMER}")).await;
    let (unknown_status, _) = h
        .control(
            &format!("/_sim/customers/{CUSTOMER}/messages?business=42"),
            json!({"type": "text", "text": {"body": "?"}}),
        )
        .await;
    let config = h.get("/_sim/config").await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(
        inbound["metadata"],
        json!({"display_phone_number": "15550000002", "phone_number_id": OTHER_PHONE_ID})
    );
    assert_eq!((primary_status, error_code(&primary)), (400, 131047));
    assert_eq!(second_status, 200, "{second}");
    assert_eq!(inbox[0]["phone_number_id"], OTHER_PHONE_ID);
    assert_eq!(customer["window_open"], json!(false));
    assert_eq!(customer["windows"][OTHER_PHONE_ID]["open"], json!(true));
    let status_envelope = h
        .receiver
        .all()
        .into_iter()
        .find(|r| value_of(r).get("statuses").is_some())
        .unwrap();
    assert_eq!(
        value_of(&status_envelope)["metadata"]["phone_number_id"],
        OTHER_PHONE_ID
    );
    assert_eq!(statuses.len(), 3);
    assert_eq!(unknown_status, 400);
    assert_eq!(config["business_numbers"].as_array().unwrap().len(), 2);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn graph_versions_v21_to_v26_are_served_and_others_answer_2635_on_every_route() {
    // Arrange
    let h = Harness::start(false).await;
    h.customer_says(json!({"type": "text", "text": {"body": "hi"}})).await;

    // Act
    let mut served = Vec::new();
    for version in ["v21.0", "v22.0", "v23.0", "v24.0", "v25.0", "v26.0"] {
        let (status, answer) = h
            .graph(
                &format!("/{version}/{PHONE_ID}/messages"),
                Some(text_to(CUSTOMER, version)),
            )
            .await;
        served.push((version, status, answer));
    }
    let (old_status, old) = h
        .graph(&format!("/v20.0/{PHONE_ID}/messages"), Some(text_to(CUSTOMER, "old")))
        .await;
    let (future_status, future) = h.graph("/v27.0/200000000000001/message_templates", None).await;
    let (media_status, media) = h.graph("/v19.0/123", None).await;
    let (malformed_status, malformed) = h.graph("/latest/123", None).await;

    // Assert
    for (version, status, answer) in &served {
        assert_eq!(*status, 200, "{version}: {answer}");
    }
    assert_eq!(old_status, 400);
    assert_eq!(
        old["error"]["message"],
        "(#2635) You are calling a deprecated version of the Graph API. Please update to the latest version: v26.0."
    );
    assert_eq!(old["error"]["type"], "OAuthException");
    assert_eq!(error_code(&old), 2635);
    assert_eq!((future_status, error_code(&future)), (400, 2635));
    assert_eq!((media_status, error_code(&media)), (400, 2635));
    assert_eq!((malformed_status, error_code(&malformed)), (400, 2500));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn v21_is_refused_from_2027_01_21_by_the_simulated_clock_while_v25_still_serves() {
    // Arrange
    let h = Harness::start(false).await;
    let now = h.get("/_sim/clock").await["now"].as_i64().unwrap();
    let retirement = 1_800_489_600; // 2027-01-21T00:00:00Z
    if now < retirement {
        h.control(&format!("/_sim/clock/advance?seconds={}", retirement - now), json!({}))
            .await;
    }

    // Act
    let (v21_status, v21) = h.graph("/v21.0/200000000000001/message_templates", None).await;
    let (v25_status, _) = h.graph("/v25.0/200000000000001/message_templates", None).await;
    let config = h.get("/_sim/config").await;

    // Assert
    assert_eq!((v21_status, error_code(&v21)), (400, 2635));
    assert_eq!(v25_status, 200);
    assert!(
        !config["graph_api_versions"]
            .as_array()
            .unwrap()
            .contains(&json!("v21.0"))
    );
    h.sim.shutdown().await;
}
