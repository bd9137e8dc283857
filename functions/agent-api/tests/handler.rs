//! The agent API's handler on requests as API Gateway (HTTP API, payload 2.0)
//! hands them over: each is the `sam local invoke` sample event
//! (`events/agent-api-queue.json`) with another method, path, body, headers or
//! claims, answered over the in-memory ports.

use agent_api::{AgentApi, ClaimNames};
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::memory::{ManualClock, MemoryMediaStore, MemoryQueue, MemoryStore};
use helpdesk::config::Env;
use helpdesk::domain::attachment::MediaAttachment;
use helpdesk::domain::commands::{AgentReplied, Resolve, SetCustomerTier, TicketCommand, Transfer};
use helpdesk::domain::i18n::Catalog;
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::domain::outbound::{Author, OutboundBody};
use helpdesk::domain::reports::{Counters, ReportFact};
use helpdesk::domain::ticket::{
    CustomerProfile, CustomerTier, Direction, Priority, Ticket, TicketStatus, TimelineEntry,
};
use helpdesk::ports::{ReportStore, TicketStore};
use lambda_http::Request;
use lambda_http::http::header;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

/// 2026-11-21T05:00:00Z, the time of the sample event.
const NOW_MS: i64 = 1_795_237_200_000;
const MINUTE_MS: i64 = 60_000;
const CUSTOMER: &str = "15550001111";
const PHONE_NUMBER_ID: &str = "100000000000001";
/// A wamid as WhatsApp writes them (base64, with its padding).
const PHOTO_WAMID: &str = "wamid.HBgLMTU1NTEyMzAwMDEVAgASGBQzQUZGMDA2QjJBRkU0RTZCMEMwNwA=";
/// The SHA-256 the media function recorded for every test image.
const IMAGE_SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
/// What every server-side failure answers: the cause stays in the logs.
const UNAVAILABLE: &str = r#"{"code":"unavailable","error":"temporarily unavailable"}"#;

// ------------------------------------------------------------------ requests

/// Every request gets its own API Gateway request id, as in production.
static REQUESTS: AtomicUsize = AtomicUsize::new(0);

/// A request as API Gateway hands it to the function: the sample event
/// (agent `ana`, teams `[support billing]`) changed where a test says so.
struct ApiRequest {
    event: Value,
}

impl ApiRequest {
    fn new(method: &str, path_and_query: &str) -> Self {
        let mut event: Value = serde_json::from_str(include_str!("../../../events/agent-api-queue.json")).unwrap();
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        event["rawPath"] = path.into();
        event["rawQueryString"] = query.into();
        event["queryStringParameters"] = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
            .collect::<serde_json::Map<_, _>>()
            .into();
        event["pathParameters"]["proxy"] = path.trim_start_matches("/api/").into();
        event["requestContext"]["http"]["method"] = method.into();
        event["requestContext"]["http"]["path"] = path.into();
        let n = REQUESTS.fetch_add(1, Ordering::SeqCst);
        event["requestContext"]["requestId"] = format!("req-{n}").into();
        ApiRequest { event }
    }

    fn get(path_and_query: &str) -> Self {
        ApiRequest::new("GET", path_and_query)
    }

    fn post(path: &str, body: Value) -> Self {
        ApiRequest::new("POST", path).body(&body.to_string())
    }

    fn put(path: &str, body: Value) -> Self {
        ApiRequest::new("PUT", path).body(&body.to_string())
    }

    fn body(mut self, text: &str) -> Self {
        self.event["body"] = text.into();
        self.event["isBase64Encoded"] = false.into();
        self
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.event["headers"][name] = value.into();
        self
    }

    fn request_id(mut self, id: &str) -> Self {
        self.event["requestContext"]["requestId"] = id.into();
        self
    }

    /// The authorizer's claims for another agent; API Gateway flattens
    /// `cognito:groups` to `[a b]`.
    fn by_agent(mut self, name: &str, groups: &str) -> Self {
        let claims = &mut self.event["requestContext"]["authorizer"]["jwt"]["claims"];
        claims["cognito:username"] = name.into();
        claims["cognito:groups"] = groups.into();
        self
    }

    /// The sample agent as a lead of their teams (reports, tiers, assignment).
    fn by_lead(self) -> Self {
        self.by_agent("ana", "[support billing leads]")
    }

    /// What reaches the function when no authorizer ran on the route.
    fn without_authorizer(mut self) -> Self {
        self.event["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer");
        self
    }

    fn build(self) -> Request {
        lambda_http::request::from_str(&self.event.to_string()).unwrap()
    }
}

// ------------------------------------------------------------------- fixture

type Api = AgentApi<MemoryStore, MemoryQueue<TicketCommand>, MemoryQueue<InboundEvent>, ManualClock, MemoryMediaStore>;

/// The API with handles on its ports, to arrange what they hold and read back
/// what it did.
struct Fixture {
    api: Api,
    clock: ManualClock,
    store: MemoryStore,
    tickets: MemoryQueue<TicketCommand>,
    /// The bot's queue: messages agents start.
    inbound: MemoryQueue<InboundEvent>,
    media: MemoryMediaStore,
    /// The Business Account's templates (none until a test adds some).
    templates: helpdesk::adapters::memory::MemoryTemplates,
}

/// A response, read whole.
struct Answer {
    status: u16,
    content_type: String,
    body: String,
    etag: Option<String>,
}

impl Answer {
    fn json(&self) -> Value {
        assert_eq!(self.content_type, "application/json", "{}", self.body);
        serde_json::from_str(&self.body).unwrap()
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap().to_owned()
    }
}

impl Fixture {
    fn new() -> Self {
        let store = MemoryStore::new();
        let tickets = MemoryQueue::default();
        let inbound = MemoryQueue::default();
        let media = MemoryMediaStore::default();
        let claims = ClaimNames {
            name: "cognito:username".into(),
            teams: "cognito:groups".into(),
        };
        let desk = load_desk(&Env::from_map(Default::default()), &Catalog::builtin()).unwrap();
        let clock = ManualClock::at(NOW_MS);
        let templates = helpdesk::adapters::memory::MemoryTemplates::default();
        let api = AgentApi::new(
            store.clone(),
            tickets.clone(),
            inbound.clone(),
            clock.clone(),
            claims,
            desk,
            media.clone(),
        )
        .with_templates(templates.clone());
        Fixture {
            api,
            clock,
            store,
            tickets,
            inbound,
            media,
            templates,
        }
    }

    async fn call(&self, request: ApiRequest) -> Answer {
        let response = self.api.handle(request.build()).await.unwrap();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Answer {
            status: response.status().as_u16(),
            content_type,
            etag: response
                .headers()
                .get(header::ETAG)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: String::from_utf8(response.body().to_vec()).unwrap(),
        }
    }

    /// Stores `ticket` as `tickets` would, with its first entries.
    async fn given(&self, ticket: &Ticket, entries: &[TimelineEntry]) {
        self.store.save_ticket(ticket, None, entries).await.unwrap();
    }

    /// Resolves the stored ticket as `tickets` would on a `Resolve`.
    async fn resolved_by_tickets(&self, id: &str) {
        let mut ticket = self.store.tickets().into_iter().find(|t| t.id.as_str() == id).unwrap();
        let at_ms = NOW_MS + 1;
        ticket.resolve(Author::Agent("ana".into()), at_ms);
        let entry = event_entry("resolved", at_ms);
        self.store
            .save_ticket(&ticket, Some(ticket.version), &[entry])
            .await
            .unwrap();
    }

    fn nothing_queued(&self) -> bool {
        self.tickets.sent().is_empty() && self.inbound.sent().is_empty()
    }
}

fn customer() -> CustomerId {
    CustomerId::parse(CUSTOMER).unwrap()
}

/// A ticket of `team` in `status`, opened `minutes_ago`.
fn ticket(id: &str, team: &str, status: TicketStatus, priority: Priority, minutes_ago: i64) -> Ticket {
    let opened = NOW_MS - minutes_ago * MINUTE_MS;
    let open = Ticket::open(
        TicketId::parse(id).unwrap(),
        customer(),
        PHONE_NUMBER_ID.into(),
        team.into(),
        opened,
    );
    Ticket {
        status,
        // The customer wrote when they opened it: the 24-hour window is open.
        last_customer_message_at_ms: Some(opened),
        tier: if status == TicketStatus::Bot { 1 } else { 2 },
        priority,
        ..open
    }
}

fn queued(id: &str, team: &str, priority: Priority, minutes_ago: i64) -> Ticket {
    ticket(id, team, TicketStatus::Queued, priority, minutes_ago)
}

fn message_entry(wamid: &str, at_ms: i64, direction: Direction, author: Author, text: &str) -> TimelineEntry {
    TimelineEntry {
        id: wamid.into(),
        at_ms,
        direction,
        author,
        kind: "text".into(),
        summary: text.into(),
        message: None,
        delivery: None,
        delivery_error: None,
        data: None,
        withdrawn: false,
        pricing: None,
    }
}

fn event_entry(kind: &str, at_ms: i64) -> TimelineEntry {
    TimelineEntry {
        id: format!("{kind}.{at_ms}"),
        at_ms,
        direction: Direction::Event,
        author: Author::System,
        kind: kind.into(),
        summary: kind.into(),
        message: None,
        delivery: None,
        delivery_error: None,
        data: None,
        withdrawn: false,
        pricing: None,
    }
}

/// An image the media function stored under `s3_key`, or refused.
fn attachment(wamid: &str, s3_key: Option<&str>, refused: Option<&str>, hidden: bool) -> MediaAttachment {
    MediaAttachment {
        wamid: wamid.into(),
        kind: "image".into(),
        at_ms: NOW_MS - 5 * MINUTE_MS,
        mime: Some("image/jpeg".into()),
        size: Some(48_213),
        sha256: Some(IMAGE_SHA256.into()),
        s3_key: s3_key.map(str::to_owned),
        caption: None,
        refused: refused.map(str::to_owned),
        quality: None,
        exif: None,
        phash: None,
        vision: None,
        duplicates: vec![],
        signals: vec![],
        hidden,
        suggested_category: None,
        suggested_team: None,
        matched_faq: None,
        partial: vec![],
    }
}

fn ids_of(tickets: &Value) -> Vec<&str> {
    tickets
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect()
}

// --------------------------------------------------------------------- queue

#[tokio::test]
async fn the_sample_queue_event_lists_the_agents_queued_tickets_urgent_first_then_oldest() {
    // Arrange
    let desk = Fixture::new();
    for t in [
        queued("TK-NORMAL-NEW", "support", Priority::Normal, 5),
        queued("TK-URGENT", "support", Priority::Urgent, 1),
        queued("TK-NORMAL-OLD", "billing", Priority::Normal, 50),
        queued("TK-HIGH", "billing", Priority::High, 2),
        queued("TK-LOW", "support", Priority::Low, 90),
        queued("TK-OTHER-TEAM", "tech", Priority::Urgent, 99),
        ticket("TK-ASSIGNED", "support", TicketStatus::Assigned, Priority::Urgent, 99),
    ] {
        desk.given(&t, &[]).await;
    }
    let event = include_str!("../../../events/agent-api-queue.json");

    // Act
    let response = desk
        .api
        .handle(lambda_http::request::from_str(event).unwrap())
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["status"], "queued");
    assert_eq!(body["teams"], json!(["support", "billing"]));
    assert_eq!(
        ids_of(&body["tickets"]),
        ["TK-URGENT", "TK-HIGH", "TK-NORMAL-OLD", "TK-NORMAL-NEW", "TK-LOW"]
    );
}

#[tokio::test]
async fn a_page_of_the_queue_keeps_the_most_pressing_tickets_of_all_the_agents_teams() {
    // Arrange
    let desk = Fixture::new();
    for t in [
        queued("TK-S1", "support", Priority::Normal, 30),
        queued("TK-S2", "support", Priority::Normal, 20),
        queued("TK-B1", "billing", Priority::Normal, 40),
        queued("TK-B2", "billing", Priority::Urgent, 1),
    ] {
        desk.given(&t, &[]).await;
    }

    // Act
    let page = desk.call(ApiRequest::get("/api/tickets?limit=2")).await;
    let billing = desk
        .call(ApiRequest::get("/api/tickets?team=billing&status=queued"))
        .await;

    // Assert
    assert_eq!(page.status, 200);
    assert_eq!(ids_of(&page.json()["tickets"]), ["TK-B2", "TK-B1"]);
    assert_eq!(billing.json()["teams"], json!(["billing"]));
    assert_eq!(ids_of(&billing.json()["tickets"]), ["TK-B2", "TK-B1"]);
}

#[tokio::test]
async fn the_queue_of_a_team_the_agent_is_not_in_is_forbidden() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-TECH", "tech", Priority::Urgent, 1), &[]).await;

    // Act
    let answer = desk.call(ApiRequest::get("/api/tickets?team=tech")).await;

    // Assert
    assert_eq!(answer.status, 403);
    assert_eq!(answer.error(), "you are not a member of team tech");
    assert!(!answer.body.contains("TK-TECH"));
}

#[tokio::test]
async fn a_bad_status_or_page_size_is_refused_with_a_message_naming_it() {
    // Arrange
    let desk = Fixture::new();

    // Act
    let status = desk.call(ApiRequest::get("/api/tickets?status=open")).await;
    let limit = desk.call(ApiRequest::get("/api/tickets?limit=500")).await;

    // Assert
    assert_eq!((status.status, limit.status), (400, 400));
    assert_eq!(
        status.error(),
        "status must be one of bot, queued, assigned, resolved; not \"open\""
    );
    assert_eq!(limit.error(), "limit must be between 1 and 100");
}

// -------------------------------------------------------------------- access

#[tokio::test]
async fn an_agent_cannot_read_or_act_on_another_team_s_ticket() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-TECH", "tech", Priority::High, 10), &[]).await;
    desk.store
        .save_attachment(
            &TicketId::parse("TK-TECH").unwrap(),
            &attachment("wamid.A", Some("media/TK-TECH/wamid.A.jpg"), None, false),
        )
        .await
        .unwrap();

    // Act
    let answers = [
        desk.call(ApiRequest::get("/api/tickets/TK-TECH")).await,
        desk.call(ApiRequest::post("/api/tickets/TK-TECH/reply", json!({"text": "hi"})))
            .await,
        desk.call(ApiRequest::post("/api/tickets/TK-TECH/resolve", json!({})))
            .await,
        desk.call(ApiRequest::post(
            "/api/tickets/TK-TECH/transfer",
            json!({"team": "support", "reason": "mine now"}),
        ))
        .await,
        desk.call(ApiRequest::get("/api/tickets/TK-TECH/media/wamid.A")).await,
    ];

    // Assert
    for answer in &answers {
        assert_eq!(answer.status, 403, "{}", answer.body);
        assert_eq!(answer.error(), "ticket TK-TECH belongs to a team you are not in");
    }
    assert!(desk.nothing_queued());
}

#[tokio::test]
async fn the_same_ticket_is_visible_to_an_agent_of_its_team() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-TECH", "tech", Priority::High, 10), &[]).await;

    // Act
    let answer = desk
        .call(ApiRequest::get("/api/tickets/TK-TECH").by_agent("tomas", "[tech]"))
        .await;

    // Assert
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["ticket"]["team"], "tech");
}

#[tokio::test]
async fn an_unknown_ticket_is_not_found() {
    // Arrange
    let desk = Fixture::new();

    // Act
    let shown = desk.call(ApiRequest::get("/api/tickets/TK-NONE")).await;
    let replied = desk
        .call(ApiRequest::post("/api/tickets/TK-NONE/reply", json!({"text": "hi"})))
        .await;
    let malformed = desk.call(ApiRequest::get("/api/tickets/TK%20NONE")).await;

    // Assert
    assert_eq!((shown.status, replied.status, malformed.status), (404, 404, 404));
    assert_eq!(shown.error(), "not found");
    assert!(desk.nothing_queued());
}

#[tokio::test]
async fn a_request_without_the_authorizer_s_claims_is_unauthorised_and_changes_nothing() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;

    // Act
    let listed = desk.call(ApiRequest::get("/api/tickets").without_authorizer()).await;
    let replied = desk
        .call(ApiRequest::post("/api/tickets/TK-1/reply", json!({"text": "hi"})).without_authorizer())
        .await;
    let nameless = desk.call(ApiRequest::get("/api/me").by_agent("  ", "[support]")).await;

    // Assert
    assert_eq!((listed.status, replied.status), (401, 401));
    assert_eq!(listed.error(), "missing or unusable identity claims");
    assert!(!listed.body.contains("TK-1"));
    // An empty name claim is not replaced by `sub`: it is unusable.
    assert_eq!(nameless.status, 401);
    assert!(desk.nothing_queued());
}

#[tokio::test]
async fn me_answers_the_agent_s_name_and_teams_from_the_flattened_claims() {
    // Arrange
    let desk = Fixture::new();

    // Act
    let answer = desk.call(ApiRequest::get("/api/me")).await;

    // Assert
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({"agent": "ana", "teams": ["support", "billing"], "role": "agent"})
    );
}

#[tokio::test]
async fn an_unknown_route_is_not_found_as_json() {
    // Arrange
    let desk = Fixture::new();

    // Act
    let answer = desk.call(ApiRequest::new("DELETE", "/api/tickets/TK-1")).await;

    // Assert
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error(), "not found");
}

// -------------------------------------------------------------------- ticket

#[tokio::test]
async fn a_ticket_is_shown_with_its_timeline_oldest_first_its_customer_s_profile_and_its_media() {
    // Arrange
    let desk = Fixture::new();
    let id = TicketId::parse("TK-1").unwrap();
    let opened = NOW_MS - 30 * MINUTE_MS;
    let first = message_entry(
        "wamid.IN1",
        opened,
        Direction::Inbound,
        Author::Customer,
        "my order is late",
    );
    desk.given(&queued("TK-1", "support", Priority::High, 30), &[first])
        .await;
    // Entries arrive out of order (a reply recorded before the escalation's event).
    let reply = message_entry(
        "wamid.OUT1",
        opened + 20 * MINUTE_MS,
        Direction::Outbound,
        Author::Agent("ana".into()),
        "looking into it",
    );
    desk.store.append_entry(&id, &reply).await.unwrap();
    desk.store
        .append_entry(&id, &event_entry("escalated", opened + MINUTE_MS))
        .await
        .unwrap();
    desk.store
        .save_profile(&CustomerProfile {
            customer: customer(),
            tier: CustomerTier::Vip,
            language: Some("fr".into()),
            consent: None,
            updated_at_ms: opened,
        })
        .await
        .unwrap();
    for wamid in ["wamid.B", "wamid.A"] {
        let key = format!("media/TK-1/{wamid}.jpg");
        desk.store
            .save_attachment(&id, &attachment(wamid, Some(&key), None, false))
            .await
            .unwrap();
    }

    // Act
    let answer = desk.call(ApiRequest::get("/api/tickets/TK-1")).await;

    // Assert
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["ticket"]["id"], "TK-1");
    assert_eq!(body["ticket"]["status"], "queued");
    assert_eq!(body["ticket"]["priority"], "high");
    let timeline: Vec<&str> = body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        timeline,
        [
            "wamid.IN1",
            format!("escalated.{}", opened + MINUTE_MS).as_str(),
            "wamid.OUT1"
        ]
    );
    assert_eq!(body["timeline"][2]["author"], json!({"type": "agent", "name": "ana"}));
    assert_eq!(body["customer_profile"]["tier"], "vip");
    assert_eq!(body["customer_profile"]["language"], "fr");
    let media: Vec<&str> = body["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["wamid"].as_str().unwrap())
        .collect();
    assert_eq!(media, ["wamid.A", "wamid.B"]);
    assert_eq!(body["media"][0]["sha256"], IMAGE_SHA256);
}

#[tokio::test]
async fn a_ticket_without_a_profile_or_media_is_shown_with_null_and_empty_lists() {
    // Arrange
    let desk = Fixture::new();
    desk.given(
        &ticket("TK-BOT", "support", TicketStatus::Bot, Priority::Normal, 3),
        &[],
    )
    .await;

    // Act
    let answer = desk.call(ApiRequest::get("/api/tickets/TK-BOT")).await;

    // Assert
    let body = answer.json();
    assert_eq!(answer.status, 200);
    assert_eq!(body["customer_profile"], Value::Null);
    assert_eq!(body["media"], json!([]));
    assert_eq!(body["timeline"], json!([]));
}

// --------------------------------------------------------------------- reply

#[tokio::test]
async fn a_reply_queues_agent_replied_with_the_message_under_the_client_s_idempotency_key() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let request = ApiRequest::post("/api/tickets/TK-1/reply", json!({"text": "Your parcel left today."}))
        .header("idempotency-key", "reply-7f3a");

    // Act
    let answer = desk.call(request).await;

    // Assert
    assert_eq!(answer.status, 202);
    assert_eq!(
        answer.json(),
        json!({"status": "queued", "ticket_id": "TK-1", "idempotency_key": "reply-7f3a"})
    );
    assert_eq!(
        desk.tickets.sent(),
        [TicketCommand::AgentReplied(AgentReplied {
            ticket_id: TicketId::parse("TK-1").unwrap(),
            customer: customer(),
            agent: "ana".into(),
            at_ms: NOW_MS,
            idempotency_key: "reply-7f3a".into(),
            body: Some(OutboundBody::text("Your parcel left today.")),
            expected_version: None,
        })]
    );
    // `tickets` sends it, in the same decision that gives ana the ticket.
    assert!(desk.inbound.sent().is_empty());
}

#[tokio::test]
async fn a_reply_that_could_not_be_queued_answers_503_and_sends_nothing() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    desk.tickets.fail_next(1);

    // Act
    let answer = desk
        .call(ApiRequest::post("/api/tickets/TK-1/reply", json!({"text": "hello"})))
        .await;

    // Assert
    assert_eq!(answer.status, 503);
    assert_eq!(answer.body, UNAVAILABLE);
    assert!(desk.tickets.sent().is_empty() && desk.inbound.sent().is_empty());
}

#[tokio::test]
async fn a_reply_retried_with_the_same_idempotency_key_after_a_failure_counts_once() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let reply =
        || ApiRequest::post("/api/tickets/TK-1/reply", json!({"text": "hello"})).header("idempotency-key", "k-42");
    desk.tickets.fail_next(1);

    // Act
    let first = desk.call(reply()).await;
    let retried = desk.call(reply()).await;
    let again = desk.call(reply()).await;

    // Assert
    assert_eq!((first.status, retried.status, again.status), (503, 202, 202));
    assert_eq!(desk.tickets.sent().len(), 1);
}

#[tokio::test]
async fn a_reply_without_an_idempotency_key_is_keyed_by_the_api_gateway_request_id() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let request = ApiRequest::post("/api/tickets/TK-1/reply", json!({"text": "hello"})).request_id("JkJ4cjxxIAMEbXQ=");

    // Act
    let answer = desk.call(request).await;

    // Assert
    assert_eq!(answer.json()["idempotency_key"], "JkJ4cjxxIAMEbXQ=");
    let sent = desk.tickets.sent();
    let [TicketCommand::AgentReplied(reply)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(reply.idempotency_key, "JkJ4cjxxIAMEbXQ=");
}

#[tokio::test]
async fn an_empty_or_over_long_reply_is_refused_with_a_clear_message_and_nothing_is_queued() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let reply = |body: &str| ApiRequest::new("POST", "/api/tickets/TK-1/reply").body(body);

    // Act
    let empty = desk.call(reply(r#"{"text": ""}"#)).await;
    let blank = desk.call(reply(r#"{"text": "  \n "}"#)).await;
    let long = desk.call(reply(&json!({"text": "a".repeat(4097)}).to_string())).await;
    let not_json = desk.call(reply("hello")).await;

    // Assert
    assert_eq!(
        [empty.status, blank.status, long.status, not_json.status],
        [400, 400, 400, 400]
    );
    assert_eq!(empty.error(), "text: text body is empty");
    assert_eq!(blank.error(), "text: text body is empty");
    assert_eq!(long.error(), "text: text body has 4097 characters; the limit is 4096");
    assert!(
        not_json.error().starts_with(r#"body must be {"text": "..."}"#),
        "{}",
        not_json.body
    );
    assert!(desk.nothing_queued());
}

#[tokio::test]
async fn a_reply_of_4096_characters_is_accepted_however_many_bytes_they_take() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let text = "é".repeat(4096);

    // Act
    let answer = desk
        .call(ApiRequest::post("/api/tickets/TK-1/reply", json!({ "text": text })))
        .await;

    // Assert
    assert_eq!(answer.status, 202, "{}", answer.body);
    let sent = desk.tickets.sent();
    let [TicketCommand::AgentReplied(reply)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(reply.body, Some(OutboundBody::text(text)));
}

#[tokio::test]
async fn a_resolved_ticket_refuses_replies_and_transfers_with_409() {
    // Arrange
    let desk = Fixture::new();
    desk.given(
        &ticket("TK-1", "support", TicketStatus::Resolved, Priority::Normal, 10),
        &[],
    )
    .await;

    // Act
    let replied = desk
        .call(ApiRequest::post(
            "/api/tickets/TK-1/reply",
            json!({"text": "one more thing"}),
        ))
        .await;
    let transferred = desk
        .call(ApiRequest::post(
            "/api/tickets/TK-1/transfer",
            json!({"team": "tech", "reason": "late"}),
        ))
        .await;

    // Assert
    assert_eq!((replied.status, transferred.status), (409, 409));
    assert_eq!(replied.error(), "ticket TK-1 is resolved");
    assert!(desk.nothing_queued());
}

// ------------------------------------------------------------------- resolve

#[tokio::test]
async fn resolving_answers_202_while_it_is_applied_then_200_once_the_ticket_is_resolved() {
    // Arrange
    let desk = Fixture::new();
    desk.given(
        &ticket("TK-1", "support", TicketStatus::Assigned, Priority::Normal, 10),
        &[],
    )
    .await;
    let resolve = || ApiRequest::post("/api/tickets/TK-1/resolve", json!({})).header("idempotency-key", "res-1");

    // Act
    let first = desk.call(resolve()).await;
    desk.resolved_by_tickets("TK-1").await;
    let after = desk.call(resolve()).await;

    // Assert
    assert_eq!(first.status, 202);
    assert_eq!(first.json(), json!({"status": "resolving", "ticket_id": "TK-1"}));
    assert_eq!(after.status, 200);
    assert_eq!(after.json(), json!({"status": "resolved", "ticket_id": "TK-1"}));
    assert_eq!(
        desk.tickets.sent(),
        [TicketCommand::Resolve(Resolve {
            ticket_id: TicketId::parse("TK-1").unwrap(),
            customer: customer(),
            by: Author::Agent("ana".into()),
            at_ms: NOW_MS,
            request_id: "res-1".into(),
        })]
    );
    assert!(desk.inbound.sent().is_empty());
}

// ------------------------------------------------------------------ transfer

#[tokio::test]
async fn a_transfer_to_tech_queues_a_transfer_at_tier_3() {
    // Arrange
    let desk = Fixture::new();
    desk.given(
        &ticket("TK-1", "support", TicketStatus::Assigned, Priority::High, 10),
        &[],
    )
    .await;
    let request = ApiRequest::post(
        "/api/tickets/TK-1/transfer",
        json!({"team": "tech", "reason": "  error E-42 on the router  "}),
    )
    .request_id("xfer-req-1");

    // Act
    let answer = desk.call(request).await;

    // Assert
    assert_eq!(answer.status, 202);
    assert_eq!(
        answer.json(),
        json!({"status": "transferring", "ticket_id": "TK-1", "team": "tech", "tier": 3})
    );
    assert_eq!(
        desk.tickets.sent(),
        [TicketCommand::Transfer(Transfer {
            ticket_id: TicketId::parse("TK-1").unwrap(),
            customer: customer(),
            team: "tech".into(),
            tier: 3,
            agent: "ana".into(),
            reason: "error E-42 on the router".into(),
            at_ms: NOW_MS,
            request_id: "xfer-req-1".into(),
        })]
    );
}

#[tokio::test]
async fn a_transfer_to_an_unknown_team_or_without_a_reason_is_refused_and_nothing_is_queued() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let transfer = |body: Value| ApiRequest::post("/api/tickets/TK-1/transfer", body);

    // Act
    let unknown = desk.call(transfer(json!({"team": "sales", "reason": "upsell"}))).await;
    let blank = desk.call(transfer(json!({"team": "tech", "reason": "   "}))).await;
    let long = desk
        .call(transfer(json!({"team": "tech", "reason": "x".repeat(501)})))
        .await;

    // Assert
    assert_eq!([unknown.status, blank.status, long.status], [400, 400, 400]);
    assert_eq!(unknown.error(), "team: no team has the id \"sales\"");
    assert_eq!(blank.error(), "reason: must have 1 to 500 characters");
    assert_eq!(long.error(), "reason: must have 1 to 500 characters");
    assert!(desk.nothing_queued());
}

// --------------------------------------------------------------------- media

#[tokio::test]
async fn a_media_link_is_issued_for_a_stored_file_of_the_agent_s_team() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let key = "media/TK-1/wamid.HBgLMTU1NTEyMzAwMDEVAgASGBQzQUZGMDA2QjJBRkU0RTZCMEMwNwA_.jpg";
    desk.store
        .save_attachment(
            &TicketId::parse("TK-1").unwrap(),
            &attachment(PHOTO_WAMID, Some(key), None, false),
        )
        .await
        .unwrap();

    // Act
    let answer = desk
        .call(ApiRequest::get(&format!("/api/tickets/TK-1/media/{PHOTO_WAMID}")))
        .await;

    // Assert
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({
            "url": format!("memory://{key}?ttl=300"),
            "expires_in": 300,
            "mime": "image/jpeg",
            "warning": null,
        })
    );
    assert!(desk.media.keys().is_empty(), "a link neither reads nor writes the file");
}

#[tokio::test]
async fn a_refused_file_gets_no_link_and_the_answer_says_why() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let refusal = "dangerous file: a Windows executable";
    desk.store
        .save_attachment(
            &TicketId::parse("TK-1").unwrap(),
            &attachment("wamid.EXE", None, Some(refusal), false),
        )
        .await
        .unwrap();

    // Act
    let answer = desk.call(ApiRequest::get("/api/tickets/TK-1/media/wamid.EXE")).await;

    // Assert
    assert_eq!(answer.status, 409);
    assert_eq!(answer.json()["code"], "file_refused");
    assert_eq!(
        answer.error(),
        "this file was refused and not stored: dangerous file: a Windows executable"
    );
}

#[tokio::test]
async fn a_hidden_file_s_link_carries_the_moderation_warning() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    desk.store
        .save_attachment(
            &TicketId::parse("TK-1").unwrap(),
            &attachment("wamid.NSFW", Some("media/TK-1/wamid.NSFW.jpg"), None, true),
        )
        .await
        .unwrap();

    // Act
    let answer = desk.call(ApiRequest::get("/api/tickets/TK-1/media/wamid.NSFW")).await;

    // Assert
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["url"], "memory://media/TK-1/wamid.NSFW.jpg?ttl=300");
    assert_eq!(
        body["warning"],
        "This file may show inappropriate content (moderation). Open it only if needed."
    );
}

#[tokio::test]
async fn a_file_the_ticket_does_not_hold_is_not_found() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    desk.given(&queued("TK-2", "support", Priority::Normal, 10), &[]).await;
    desk.store
        .save_attachment(
            &TicketId::parse("TK-2").unwrap(),
            &attachment("wamid.OF-TK-2", Some("media/TK-2/wamid.OF-TK-2.jpg"), None, false),
        )
        .await
        .unwrap();

    // Act
    let answer = desk
        .call(ApiRequest::get("/api/tickets/TK-1/media/wamid.OF-TK-2"))
        .await;

    // Assert
    assert_eq!(answer.status, 404);
}

// ---------------------------------------------------------------------- tier

#[tokio::test]
async fn the_customer_tier_route_queues_set_customer_tier() {
    // Arrange
    let desk = Fixture::new();
    let request = ApiRequest::put(&format!("/api/customers/{CUSTOMER}/tier"), json!({"tier": "vip"}))
        .by_lead()
        .request_id("tier-req-1");

    // Act
    let answer = desk.call(request).await;

    // Assert
    assert_eq!(answer.status, 202);
    assert_eq!(answer.json(), json!({"status": "updating", "tier": "vip"}));
    assert_eq!(
        desk.tickets.sent(),
        [TicketCommand::SetCustomerTier(SetCustomerTier {
            customer: customer(),
            tier: CustomerTier::Vip,
            by: "ana".into(),
            at_ms: NOW_MS,
            request_id: "tier-req-1".into(),
        })]
    );
}

#[tokio::test]
async fn an_unknown_tier_or_a_malformed_customer_is_refused() {
    // Arrange
    let desk = Fixture::new();

    // Act
    let gold = desk
        .call(ApiRequest::put(&format!("/api/customers/{CUSTOMER}/tier"), json!({"tier": "gold"})).by_lead())
        .await;
    let customer = desk
        .call(ApiRequest::put("/api/customers/%2B1555/tier", json!({"tier": "vip"})).by_lead())
        .await;

    // Assert
    assert_eq!((gold.status, customer.status), (400, 400));
    assert!(gold.error().starts_with("body must be {\"tier\""), "{}", gold.body);
    assert!(customer.error().starts_with("customer: "), "{}", customer.body);
    assert!(desk.nothing_queued());
}

// ------------------------------------------------------------------- reports

/// A fact as `tickets` records it: a first response, met or missed.
fn first_response(id: &str, day: &str, team: &str, priority: Priority, minutes: u64, met: bool) -> ReportFact {
    ReportFact {
        id: id.into(),
        day: day.into(),
        team: team.into(),
        priority,
        agent: None,
        counters: Counters {
            first_response_count: 1,
            first_response_minutes: minutes,
            first_response_within: u64::from(met),
            first_response_missed: u64::from(!met),
            sla_breaches: u64::from(!met),
            ..Counters::default()
        },
    }
}

async fn record_november_facts(store: &MemoryStore) {
    for fact in [
        first_response("TK-1:fr", "2026-11-20", "support", Priority::Normal, 12, true),
        // Redelivered: counted once.
        first_response("TK-1:fr", "2026-11-20", "support", Priority::Normal, 12, true),
        first_response("TK-2:fr", "2026-11-21", "billing", Priority::Urgent, 30, false),
        // Outside the range asked for.
        first_response("TK-0:fr", "2026-10-31", "support", Priority::Normal, 500, false),
    ] {
        store.record_fact(&fact).await.unwrap();
    }
}

#[tokio::test]
async fn a_report_answers_json_from_the_aggregates_the_facts_added_up_to() {
    // Arrange
    let desk = Fixture::new();
    record_november_facts(&desk.store).await;

    // Act
    let answer = desk
        .call(ApiRequest::get("/api/reports/sla?from=2026-11-01&to=2026-11-30").by_lead())
        .await;

    // Assert
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(
        (body["from"].as_str(), body["to"].as_str()),
        (Some("2026-11-01"), Some("2026-11-30"))
    );
    let overall = &body["overall"];
    assert_eq!(overall["first_response_count"], 2);
    assert_eq!(overall["first_response_average_minutes"], 21.0);
    assert_eq!(overall["first_response_compliance_percent"], 50.0);
    assert_eq!(overall["breaches"], 1);
    assert_eq!(body["by_team"][0]["team"], "billing");
    assert_eq!(body["by_team"][1]["team"], "support");
    assert_eq!(body["by_priority"][0]["priority"], "urgent");
    assert_eq!(body["by_priority"][0]["first_response_missed"], 1);
}

#[tokio::test]
async fn a_report_answers_csv_from_the_same_aggregates() {
    // Arrange
    let desk = Fixture::new();
    record_november_facts(&desk.store).await;

    // Act
    let answer = desk
        .call(ApiRequest::get("/api/reports/sla?from=2026-11-01&to=2026-11-30&format=csv").by_lead())
        .await;

    // Assert
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/csv; charset=utf-8");
    let lines: Vec<&str> = answer.body.split_terminator("\r\n").collect();
    assert!(
        lines[0].starts_with("from,to,group,name,first_response_count,first_response_average_minutes,"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "2026-11-01,2026-11-30,overall,all,2,21,1,1,50,0,,0,0,,0,,0,0,,50,0,1"
    );
    assert!(
        lines[2].starts_with("2026-11-01,2026-11-30,team,billing,1,30,0,1,0,"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("2026-11-01,2026-11-30,team,support,1,12,1,0,100,"),
        "{}",
        lines[3]
    );
    // A header, the whole range, two teams and the four priorities.
    assert_eq!(lines.len(), 8);
}

#[tokio::test]
async fn a_report_over_a_bad_range_is_refused_with_400() {
    // Arrange
    let desk = Fixture::new();
    record_november_facts(&desk.store).await;

    // Act
    let reversed = desk
        .call(ApiRequest::get("/api/reports/sla?from=2026-11-30&to=2026-11-01").by_lead())
        .await;
    let too_long = desk
        .call(ApiRequest::get("/api/reports/summary?from=2025-01-01&to=2026-11-30").by_lead())
        .await;
    let not_a_date = desk
        .call(ApiRequest::get("/api/reports/csat?from=yesterday").by_lead())
        .await;

    // Assert
    assert_eq!([reversed.status, too_long.status, not_a_date.status], [400, 400, 400]);
    assert_eq!(reversed.error(), "from (2026-11-30) must not be after to (2026-11-01)");
    assert!(
        too_long.error().starts_with("from 2025-01-01 to 2026-11-30 covers"),
        "{}",
        too_long.body
    );
    assert_eq!(
        not_a_date.error(),
        "from must be a UTC date written YYYY-MM-DD, not \"yesterday\""
    );
}

// ------------------------------------------------------------------ failures

#[tokio::test]
async fn a_store_failure_answers_503_without_the_internal_error_s_text() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    let requests = [
        ApiRequest::get("/api/tickets"),
        ApiRequest::get("/api/tickets/TK-1"),
        ApiRequest::post("/api/tickets/TK-1/reply", json!({"text": "hello"})),
        ApiRequest::post("/api/tickets/TK-1/resolve", json!({})),
        ApiRequest::get("/api/reports/summary").by_lead(),
    ];

    for request in requests {
        desk.store.fail_next(1);

        // Act
        let answer = desk.call(request).await;

        // Assert
        assert_eq!(answer.status, 503);
        assert_eq!(answer.content_type, "application/json");
        assert_eq!(answer.body, UNAVAILABLE);
    }
    assert!(desk.nothing_queued());
}

#[tokio::test]
async fn a_media_store_failure_answers_503_without_the_internal_error_s_text() {
    // Arrange
    let desk = Fixture::new();
    desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
    desk.store
        .save_attachment(
            &TicketId::parse("TK-1").unwrap(),
            &attachment("wamid.A", Some("media/TK-1/wamid.A.jpg"), None, false),
        )
        .await
        .unwrap();
    desk.media.fail_next(1);

    // Act
    let answer = desk.call(ApiRequest::get("/api/tickets/TK-1/media/wamid.A")).await;

    // Assert
    assert_eq!(answer.status, 503);
    assert_eq!(answer.body, UNAVAILABLE);
}

// ------------------------------------------------------------ WhatsApp 2026

mod whatsapp_2026 {
    use super::*;
    use helpdesk::domain::identity::{Handle, Identity, Phone, UserId, Username};
    use helpdesk::domain::inbound::{BusinessNumber, Unattributed};
    use helpdesk::domain::reports::{Counters, ReportFact};
    use helpdesk::ports::{IdentityStore, ReportStore, UnattributedStore};

    const BSUID: &str = "US.13491208655302741918";

    #[tokio::test]
    async fn a_ticket_shows_its_customers_username_and_ids_with_the_phone_masked() {
        let desk = Fixture::new();
        desk.given(
            &ticket("TK-ID", "support", TicketStatus::Queued, Priority::Normal, 3),
            &[],
        )
        .await;
        let mut identity = Identity::from_key(&customer());
        identity.user_id = UserId::parse(BSUID).ok();
        identity.username = Username::parse("@ana").ok();
        desk.store.save_identity(&identity).await.unwrap();

        let body = desk.call(ApiRequest::get("/api/tickets/TK-ID")).await.json();

        assert_eq!(body["customer"]["user_id"], BSUID);
        assert_eq!(body["customer"]["username"], "@ana");
        let phone = body["customer"]["phone"].as_str().unwrap();
        assert!(
            phone.starts_with("+15") && phone.ends_with("11") && phone.contains('•'),
            "{phone}"
        );
        assert!(!phone.contains("5550001"), "masked: {phone}");
    }

    #[tokio::test]
    async fn admins_read_the_messages_that_name_no_customer_with_their_payloads() {
        let desk = Fixture::new();
        let kept = Unattributed {
            business: BusinessNumber {
                phone_number_id: PHONE_NUMBER_ID.into(),
                display_phone_number: None,
            },
            waba_id: None,
            wamid: "wamid.NOBODY".into(),
            received_at_ms: NOW_MS,
            message_type: "text".into(),
            reason: "the message names no phone number and no WhatsApp user id".into(),
            raw: json!({"type": "text", "text": {"body": "hi"}}),
        };
        desk.store.keep(&kept).await.unwrap();

        let agent = desk.call(ApiRequest::get("/api/admin/unattributed")).await;
        let admin = desk
            .call(ApiRequest::get("/api/admin/unattributed").by_agent("root", "[admins]"))
            .await;

        assert_eq!(agent.status, 403);
        assert_eq!(agent.json()["code"], "role_required");
        assert!(agent.error().contains("admin"));
        assert_eq!(admin.status, 200);
        let messages = &admin.json()["messages"];
        assert_eq!(messages[0]["wamid"], "wamid.NOBODY");
        assert_eq!(messages[0]["raw"]["text"]["body"], "hi");
    }

    #[tokio::test]
    async fn a_customer_is_named_by_phone_or_by_user_id_through_the_identity_map() {
        let desk = Fixture::new();
        let key = CustomerId::parse(BSUID).unwrap();
        desk.store
            .link(&Handle::User(UserId::parse(BSUID).unwrap()), &key)
            .await
            .unwrap();
        desk.store
            .link(&Handle::Phone(Phone::parse("15551239999").unwrap()), &key)
            .await
            .unwrap();

        let by_phone = desk
            .call(ApiRequest::put("/api/customers/15551239999/tier", json!({"tier": "vip"})).by_lead())
            .await;
        let by_id = desk
            .call(
                ApiRequest::put(&format!("/api/customers/{BSUID}/tier"), json!({"tier": "vip"}))
                    .by_lead()
                    .request_id("r2"),
            )
            .await;
        let nonsense = desk
            .call(ApiRequest::put("/api/customers/not%20an%20id/tier", json!({"tier": "vip"})).by_lead())
            .await;

        assert_eq!((by_phone.status, by_id.status), (202, 202));
        let tiers: Vec<CustomerId> = desk
            .tickets
            .sent()
            .into_iter()
            .filter_map(|c| match c {
                TicketCommand::SetCustomerTier(t) => Some(t.customer),
                _ => None,
            })
            .collect();
        assert_eq!(tiers, [key.clone(), key]);
        assert_eq!(nonsense.status, 400);
    }

    #[tokio::test]
    async fn the_messages_report_counts_by_category_and_day_and_per_resolved_ticket() {
        let desk = Fixture::new();
        let day = helpdesk::domain::reports::day_of(NOW_MS);
        let fact = |id: &str, counters: Counters| ReportFact {
            id: id.into(),
            day: day.clone(),
            team: "support".into(),
            priority: Priority::Normal,
            agent: None,
            counters,
        };
        for (id, service) in [("m1", 1), ("m2", 1), ("m3", 0)] {
            let counters = Counters {
                messages_sent: 1,
                messages_billable: 1,
                messages_service: service,
                messages_utility: 1 - service,
                ..Counters::default()
            };
            desk.store.record_fact(&fact(id, counters)).await.unwrap();
        }
        let resolved = Counters {
            resolved_bot_only: 1,
            resolved_bot_only_messages: 2,
            resolved_human: 1,
            resolved_human_messages: 5,
            ..Counters::default()
        };
        desk.store.record_fact(&fact("r", resolved)).await.unwrap();

        let body = desk
            .call(ApiRequest::get("/api/reports/messages").by_lead())
            .await
            .json();

        let overall = &body["overall"];
        assert_eq!(
            (overall["sent"].as_u64(), overall["billable"].as_u64()),
            (Some(3), Some(3))
        );
        assert_eq!(
            (overall["service"].as_u64(), overall["utility"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(overall["messages_per_bot_only_ticket"], 2.0);
        assert_eq!(overall["messages_per_human_ticket"], 5.0);
        assert_eq!(body["by_day"][0]["day"], day.as_str());
        assert_eq!(body["by_day"][0]["team"], "support");
        let csv = desk
            .call(ApiRequest::get("/api/reports/messages?format=csv").by_lead())
            .await;
        assert!(
            csv.body.contains(&format!("day,{day} support,3,3,0,2,1")),
            "{}",
            csv.body
        );
    }
}

// ------------------------------------------------------------------ workspace

mod workspace {
    use super::*;
    use agent_api::{ROUTES, Role};
    use helpdesk::domain::commands::{Action, AgentAction};
    use helpdesk::domain::identity::{Identity, Username};
    use helpdesk::ports::IdentityStore;

    /// The one action a request queued.
    fn action(desk: &Fixture) -> AgentAction {
        let sent = desk.tickets.sent();
        let [TicketCommand::AgentAction(a)] = sent.as_slice() else {
            panic!("{sent:?}")
        };
        a.clone()
    }

    /// A request for `route` with its path filled in and a plausible body.
    fn request_for(method: &str, path: &str) -> ApiRequest {
        let path = path
            .replace("{id}", "TK-1")
            .replace("{wamid}", "wamid.A")
            .replace("{report}", "sla")
            .replace("{team}", "support");
        let path = if path.starts_with("/api/customers/") {
            path.replace("TK-1", CUSTOMER)
        } else {
            path
        };
        let path = match path.as_str() {
            "/api/search" => "/api/search?q=TK-1".to_owned(),
            _ => path,
        };
        let body = match path.rsplit('/').next().unwrap() {
            "reply" | "notes" => json!({"text": "hello @bob"}),
            "transfer" => json!({"team": "tech", "reason": "needs a specialist"}),
            "assign" => json!({"agent": "bob"}),
            "priority" => json!({"priority": "high"}),
            "category" => json!({"category": "billing"}),
            "tags" => json!({"add": ["vip-follow-up"]}),
            "tier" => json!({"tier": "vip"}),
            "presence" => json!({"activity": "viewing"}),
            "availability" => json!({"status": "available"}),
            _ => json!({}),
        };
        ApiRequest::new(method, &path).body(&body.to_string())
    }

    #[tokio::test]
    async fn every_route_refuses_a_role_below_its_own_and_lets_its_role_through() {
        let groups = [
            (Role::Agent, "[support billing]"),
            (Role::Lead, "[support billing leads]"),
            (Role::Admin, "[support billing admins]"),
        ];
        for route in ROUTES {
            for (role, claim) in groups {
                let desk = Fixture::new();
                desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
                let answer = desk
                    .call(request_for(route.method, route.path).by_agent("ana", claim))
                    .await;
                let refused = answer.status == 403 && answer.json()["code"] == "role_required";
                assert_eq!(
                    refused,
                    role < route.role,
                    "{} {} as {role:?}: {} {}",
                    route.method,
                    route.path,
                    answer.status,
                    answer.body
                );
                assert!(answer.status < 500, "{} {}: {}", route.method, route.path, answer.body);
            }
        }
    }

    #[tokio::test]
    async fn a_ticket_answers_its_version_as_etag_and_a_change_on_an_old_version_gets_412_with_what_changed() {
        let desk = Fixture::new();
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
        let shown = desk.call(ApiRequest::get("/api/tickets/TK-1")).await;
        assert_eq!(shown.etag.as_deref(), Some("\"1\""));

        // Someone else changes the ticket (it is saved at version 2).
        let mut t = desk.store.tickets()[0].clone();
        t.priority = Priority::High;
        desk.store
            .save_ticket(&t, Some(1), &[event_entry("priority_changed", NOW_MS)])
            .await
            .unwrap();

        let stale = desk
            .call(ApiRequest::post("/api/tickets/TK-1/reply", json!({"text": "hi"})).header("if-match", "\"1\""))
            .await;
        assert_eq!(stale.status, 412, "{}", stale.body);
        let body = stale.json();
        assert_eq!(body["code"], "ticket_changed");
        assert_eq!(body["current"]["version"], 2);
        assert_eq!(body["current"]["recent"][0]["kind"], "priority_changed");
        assert!(desk.nothing_queued());

        let fresh = desk
            .call(ApiRequest::post("/api/tickets/TK-1/claim", json!({})).header("if-match", "W/\"2\""))
            .await;
        assert_eq!(fresh.status, 202, "{}", fresh.body);
        assert_eq!(action(&desk).expected_version, Some(2));
        let garbage = desk
            .call(ApiRequest::post("/api/tickets/TK-1/claim", json!({})).header("if-match", "yesterday"))
            .await;
        assert_eq!(garbage.status, 400);
    }

    #[tokio::test]
    async fn a_claim_is_queued_with_the_version_it_was_checked_on_and_someone_elses_ticket_needs_a_lead() {
        let desk = Fixture::new();
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
        let answer = desk.call(ApiRequest::post("/api/tickets/TK-1/claim", json!({}))).await;
        assert_eq!(answer.status, 202);
        let claim = action(&desk);
        assert_eq!(
            (claim.action, claim.agent.as_str(), claim.expected_version),
            (Action::Claim, "ana", Some(1))
        );

        let desk = Fixture::new();
        let mut bobs = ticket("TK-1", "support", TicketStatus::Assigned, Priority::Normal, 10);
        bobs.assignee = Some("bob".into());
        desk.given(&bobs, &[]).await;
        let taken = desk.call(ApiRequest::post("/api/tickets/TK-1/claim", json!({}))).await;
        assert_eq!(
            (taken.status, taken.json()["code"].as_str()),
            (409, Some("assigned_to_someone_else"))
        );
        assert!(taken.error().contains("bob"));
        let lead = desk
            .call(ApiRequest::post("/api/tickets/TK-1/claim", json!({})).by_lead())
            .await;
        assert_eq!(lead.status, 202);
    }

    #[tokio::test]
    async fn a_ticket_with_the_bot_or_resolved_cannot_be_claimed_and_only_a_resolved_one_reopened() {
        let desk = Fixture::new();
        desk.given(&ticket("TK-1", "support", TicketStatus::Bot, Priority::Normal, 3), &[])
            .await;
        let with_bot = desk.call(ApiRequest::post("/api/tickets/TK-1/claim", json!({}))).await;
        assert_eq!(with_bot.json()["code"], "with_bot");
        let open = desk.call(ApiRequest::post("/api/tickets/TK-1/reopen", json!({}))).await;
        assert_eq!(open.json()["code"], "not_resolved");
        assert!(desk.nothing_queued());
    }

    #[tokio::test]
    async fn reopening_is_refused_once_the_customer_has_a_newer_ticket() {
        let desk = Fixture::new();
        let mut old = queued("TK-OLD", "support", Priority::Normal, 100);
        old.resolve(Author::Agent("ana".into()), NOW_MS - 50 * MINUTE_MS);
        desk.given(&old, &[]).await;
        let reopened = desk
            .call(ApiRequest::post("/api/tickets/TK-OLD/reopen", json!({})))
            .await;
        assert_eq!(reopened.status, 202, "{}", reopened.body);
        assert_eq!(action(&desk).action, Action::Reopen);

        desk.given(&queued("TK-NEW", "support", Priority::Normal, 10), &[])
            .await;
        let refused = desk
            .call(ApiRequest::post("/api/tickets/TK-OLD/reopen", json!({})))
            .await;
        assert_eq!(
            (refused.status, refused.json()["code"].as_str()),
            (409, Some("newer_ticket"))
        );
        assert!(refused.error().contains("TK-NEW"));
    }

    #[tokio::test]
    async fn a_note_is_queued_with_its_mentions_and_bad_bodies_are_refused_with_a_message() {
        let desk = Fixture::new();
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
        let note = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/notes",
                json!({"text": "@lea refund? cc @bob"}),
            ))
            .await;
        assert_eq!(note.status, 202);
        assert_eq!(
            action(&desk).action,
            Action::Note {
                text: "@lea refund? cc @bob".into(),
                mentions: vec!["lea".into(), "bob".into()],
            }
        );

        let desk = Fixture::new();
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
        for (path, body, says) in [
            ("notes", json!({"text": "  "}), "text: must have 1 to"),
            ("priority", json!({"priority": "asap"}), "body must be"),
            ("category", json!({"category": "astrology"}), "the categories are"),
            ("tags", json!({"add": ["two words"]}), "is not a tag"),
            ("assign", json!({"agent": "a b"}), "agent:"),
            ("notes", json!({"text": "x", "extra": 1}), "unknown field"),
        ] {
            let method = if matches!(path, "priority" | "category") {
                "PUT"
            } else {
                "POST"
            };
            let request = ApiRequest::new(method, &format!("/api/tickets/TK-1/{path}")).body(&body.to_string());
            let answer = desk.call(request.by_lead()).await;
            assert_eq!(answer.status, 400, "{path}: {}", answer.body);
            assert_eq!(answer.json()["code"], "bad_request");
            assert!(answer.error().contains(says), "{path}: {}", answer.error());
        }
        assert!(desk.nothing_queued());
    }

    #[tokio::test]
    async fn a_view_pages_through_every_team_with_its_cursor_once_each_urgent_first() {
        let desk = Fixture::new();
        let mut expected = Vec::new();
        for n in 0..8 {
            let team = if n % 3 == 0 { "billing" } else { "support" };
            let priority = if n == 5 { Priority::Urgent } else { Priority::Normal };
            let t = queued(&format!("TK-Q{n}"), team, priority, 100 - n);
            desk.given(&t, &[]).await;
            expected.push(t);
        }
        expected.sort_by_key(|t| (t.priority.queue_rank(), t.created_at_ms));
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/tickets?view=unassigned&limit=3&cursor={c}"),
                None => "/api/tickets?view=unassigned&limit=3".into(),
            };
            let page = desk.call(ApiRequest::get(&path)).await.json();
            assert!(page["tickets"].as_array().unwrap().len() <= 3);
            seen.extend(ids_of(&page["tickets"]).into_iter().map(str::to_owned));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let want: Vec<String> = expected.iter().map(|t| t.id.as_str().to_owned()).collect();
        assert_eq!(seen, want);

        let other_view = desk
            .call(ApiRequest::get(&format!(
                "/api/tickets?view=open&cursor={}",
                cursor.unwrap_or_default()
            )))
            .await;
        assert_eq!(other_view.status, 400);
    }

    #[tokio::test]
    async fn counts_and_views_follow_assignment_risk_and_waiting() {
        let desk = Fixture::new();
        let mut mine = ticket("TK-MINE", "support", TicketStatus::Assigned, Priority::Normal, 30);
        mine.assignee = Some("ana".into());
        desk.given(&mine, &[]).await;
        desk.given(&queued("TK-Q", "support", Priority::Normal, 5), &[]).await;
        desk.given(&queued("TK-B", "billing", Priority::Normal, 5), &[]).await;

        let counts = desk.call(ApiRequest::get("/api/tickets/counts")).await.json();
        assert_eq!(counts["mine"], 1);
        assert_eq!(counts["teams"]["support"]["unassigned"], 1);
        assert_eq!(counts["teams"]["support"]["open"], 2);
        assert_eq!(counts["teams"]["billing"]["open"], 1);
        let view = desk.call(ApiRequest::get("/api/tickets?view=mine")).await.json();
        assert_eq!(ids_of(&view["tickets"]), ["TK-MINE"]);
        let open = desk
            .call(ApiRequest::get("/api/tickets?view=open&team=support"))
            .await
            .json();
        assert_eq!(ids_of(&open["tickets"]), ["TK-MINE", "TK-Q"]);
        let unknown = desk.call(ApiRequest::get("/api/tickets?view=everything")).await;
        assert!(unknown.error().contains("mine, unassigned, open"));
    }

    #[tokio::test]
    async fn search_finds_tickets_by_order_user_id_username_name_and_id_only_in_the_agents_teams() {
        let desk = Fixture::new();
        let mut t = queued("TK-ORDER", "support", Priority::Normal, 10);
        t.order_number = Some("AB123456".into());
        t.contact_name = Some("Élodie Durand".into());
        desk.given(&t, &[]).await;
        let mut hidden = queued("TK-TECH", "tech", Priority::Normal, 5);
        hidden.order_number = Some("AB123456".into());
        desk.given(&hidden, &[]).await;
        let user = helpdesk::domain::identity::UserId::parse("US.13491208655302741918").unwrap();
        let mut identity = Identity::from_key(&customer());
        identity.user_id = Some(user.clone());
        identity.username = Some(Username::parse("@elodie").unwrap());
        desk.store.save_identity(&identity).await.unwrap();
        desk.store
            .link(&helpdesk::domain::identity::Handle::User(user), &customer())
            .await
            .unwrap();

        for q in [
            "AB123456",
            "%23ab123456",
            "US.13491208655302741918",
            "%40elodie",
            "elod",
            "tk-order",
        ] {
            let found = desk.call(ApiRequest::get(&format!("/api/search?q={q}"))).await;
            assert_eq!(found.status, 200, "{q}: {}", found.body);
            assert_eq!(ids_of(&found.json()["tickets"]), ["TK-ORDER"], "{q}: {}", found.body);
        }
        let by_name = desk.call(ApiRequest::get("/api/search?q=Durand&by=name")).await.json();
        assert_eq!(
            ids_of(&by_name["tickets"]),
            Vec::<&str>::new(),
            "names match from their start"
        );
        let short = desk.call(ApiRequest::get("/api/search?q=e&by=name")).await;
        assert_eq!(short.status, 400);
    }

    #[tokio::test]
    async fn a_customers_history_is_newest_first_and_other_teams_tickets_show_only_their_outline() {
        let desk = Fixture::new();
        desk.given(&queued("TK-OLD", "tech", Priority::Normal, 500), &[]).await;
        desk.given(&queued("TK-NEW", "support", Priority::Normal, 5), &[]).await;
        let shown = desk.call(ApiRequest::get("/api/tickets/TK-NEW")).await.json();
        let history = shown["history"].as_str().unwrap().to_owned();
        let page = desk.call(ApiRequest::get(&history)).await.json();
        assert_eq!(ids_of(&page["tickets"]), ["TK-NEW", "TK-OLD"]);
        assert!(page["tickets"][0]["priority"].is_string());
        assert!(page["tickets"][1].get("priority").is_none(), "{}", page["tickets"][1]);
    }

    #[tokio::test]
    async fn canned_responses_are_filled_for_the_ticket_or_say_what_is_missing() {
        let desk = Fixture::new();
        let mut t = queued("TK-1", "support", Priority::Normal, 10);
        t.contact_name = Some("Maria".into());
        desk.given(&t, &[]).await;
        let answer = desk.call(ApiRequest::get("/api/canned?ticket=TK-1")).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let responses = answer.json()["responses"].as_array().unwrap().clone();
        assert!(!responses.is_empty());
        for r in &responses {
            let template = r["template"].as_str().unwrap();
            match r["text"].as_str() {
                Some(text) => assert!(!text.contains('{'), "{text}"),
                None => assert!(!r["missing"].as_array().unwrap().is_empty(), "{template}"),
            }
        }
        let with_name = responses
            .iter()
            .find(|r| r["template"].as_str().unwrap().contains("{customer_name}"))
            .expect("a canned response naming the customer");
        assert!(with_name["text"].as_str().is_none_or(|t| t.contains("Maria")));
    }

    #[tokio::test]
    async fn every_audited_request_leaves_who_what_which_ticket_and_how_it_ended_and_admins_read_it() {
        let desk = Fixture::new();
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
        desk.call(ApiRequest::get("/api/tickets/TK-1")).await;
        desk.call(ApiRequest::post(
            "/api/tickets/TK-1/notes",
            json!({"text": "call back at 5"}),
        ))
        .await;
        desk.call(ApiRequest::post("/api/tickets/TK-1/assign", json!({"agent": "bob"})))
            .await;
        desk.call(ApiRequest::get("/api/tickets?view=open")).await;

        let agent = desk.call(ApiRequest::get("/api/audit")).await;
        assert_eq!(agent.status, 403);
        let trail = desk
            .call(ApiRequest::get("/api/audit?ticket=TK-1").by_agent("root", "[admins]"))
            .await;
        assert_eq!(trail.status, 200, "{}", trail.body);
        let records = trail.json()["records"].as_array().unwrap().clone();
        let seen: Vec<(&str, &str, u64)> = records
            .iter()
            .map(|r| {
                (
                    r["agent"].as_str().unwrap(),
                    r["action"].as_str().unwrap(),
                    r["status"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("ana", "open_ticket", 200),
                ("ana", "note", 202),
                ("ana", "assign", 403)
            ],
            "lists are not audited, a refusal is"
        );
        assert!(!trail.body.contains("call back"), "no message text in the trail");
        let all = desk
            .call(ApiRequest::get("/api/audit").by_agent("root", "[admins]"))
            .await;
        let all = all.json();
        let actions: Vec<&str> = all["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"read_audit"),
            "reading the trail is audited: {actions:?}"
        );
    }

    #[tokio::test]
    async fn a_request_whose_audit_record_cannot_be_kept_fails_so_the_client_retries() {
        let desk = Fixture::new();
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
        desk.store.fail_audit_next(1);
        let answer = desk.call(ApiRequest::get("/api/tickets/TK-1")).await;
        assert_eq!(answer.status, 503, "{}", answer.body);
    }

    /// Every page of the change feed from `next` on, until an answer is empty.
    async fn follow(desk: &Fixture, mut next: String) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let page = desk
                .call(ApiRequest::get(&format!("/api/changes?since={next}&wait=0")))
                .await;
            assert_eq!(page.status, 200, "{}", page.body);
            let page = page.json();
            let changes = page["changes"].as_array().unwrap().clone();
            next = page["next"].as_str().unwrap().to_owned();
            if changes.is_empty() {
                return seen;
            }
            seen.extend(changes);
        }
    }

    #[tokio::test]
    async fn a_client_back_with_its_cursor_gets_each_of_a_thousand_changes_once_in_order_per_ticket() {
        let desk = Fixture::new();
        let start = desk.call(ApiRequest::get("/api/changes")).await.json();
        let next = start["next"].as_str().unwrap().to_owned();

        // While the client is away: 1,000 saves over 20 tickets, 5 of them another team's.
        let mut tickets: Vec<Ticket> = (0..20)
            .map(|n| {
                let team = if n % 4 == 3 { "tech" } else { "support" };
                queued(&format!("TK-F{n:02}"), team, Priority::Normal, 1)
            })
            .collect();
        let mut versions = vec![None; 20];
        for i in 0..1000usize {
            let n = (i * 7 + i / 20) % 20;
            let t = &mut tickets[n];
            t.saved_at_ms = Some(NOW_MS + 1 + (i as i64) / 3);
            t.priority = if i % 2 == 0 { Priority::High } else { Priority::Normal };
            desk.store.save_ticket(t, versions[n], &[]).await.unwrap();
            versions[n] = Some(versions[n].unwrap_or(0) + 1);
        }
        desk.clock.advance(60_000);

        let seen = follow(&desk, next).await;

        let visible: u64 = (0..20).filter(|n| n % 4 != 3).map(|n| versions[n].unwrap()).sum();
        assert_eq!(seen.len() as u64, visible, "every change of the agent's teams, once");
        let mut last: std::collections::HashMap<String, u64> = Default::default();
        for change in &seen {
            assert_eq!(change["team"], "support");
            let id = change["ticket_id"].as_str().unwrap().to_owned();
            let version = change["version"].as_u64().unwrap();
            let before = last.insert(id.clone(), version).unwrap_or(0);
            assert_eq!(version, before + 1, "{id}: version {version} after {before}");
        }
    }

    #[tokio::test]
    async fn a_change_inside_the_settle_period_waits_for_the_next_read_and_nothing_is_read_twice() {
        let desk = Fixture::new();
        let next = desk.call(ApiRequest::get("/api/changes")).await.json()["next"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut t = queued("TK-S1", "support", Priority::Normal, 1);
        t.saved_at_ms = Some(NOW_MS);
        desk.store.save_ticket(&t, None, &[]).await.unwrap();

        let early = desk
            .call(ApiRequest::get(&format!("/api/changes?since={next}&wait=0")))
            .await
            .json();
        assert_eq!(early["changes"], json!([]), "saved less than the settle period ago");
        desk.clock.advance(5_000);
        let seen = follow(&desk, early["next"].as_str().unwrap().to_owned()).await;
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0]["ticket"]["id"], "TK-S1");
    }

    #[tokio::test]
    async fn the_team_a_ticket_left_hears_only_that_it_left_and_bad_or_old_cursors_are_refused() {
        let desk = Fixture::new();
        let next = desk.call(ApiRequest::get("/api/changes")).await.json()["next"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut t = queued("TK-MOVED", "tech", Priority::Normal, 1);
        t.saved_at_ms = Some(NOW_MS);
        t.left_team = Some("support".into());
        desk.store.save_ticket(&t, None, &[]).await.unwrap();
        desk.clock.advance(5_000);

        let seen = follow(&desk, next.clone()).await;
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0]["team"].as_str(), seen[0]["left_team"].as_str()),
            (Some("tech"), Some("support"))
        );
        assert!(seen[0].get("ticket").is_none(), "no details of another team's ticket");

        let garbage = desk.call(ApiRequest::get("/api/changes?since=zz")).await;
        assert_eq!(
            (garbage.status, garbage.json()["code"].as_str()),
            (400, Some("bad_request"))
        );
        desk.clock.advance(8 * 24 * 60 * 60 * 1000);
        let old = desk.call(ApiRequest::get(&format!("/api/changes?since={next}"))).await;
        assert_eq!((old.status, old.json()["code"].as_str()), (410, Some("cursor_expired")));
    }

    #[tokio::test]
    async fn an_admin_exports_everything_held_about_a_customer_and_the_export_is_audited() {
        let desk = Fixture::new();
        let said = message_entry(
            "wamid.X1",
            NOW_MS - 60_000,
            Direction::Inbound,
            Author::Customer,
            "my parcel is late",
        );
        desk.given(&queued("TK-OLD", "support", Priority::Normal, 500), &[said])
            .await;
        desk.given(&queued("TK-NEW", "tech", Priority::Normal, 5), &[]).await;
        let mut identity = Identity::from_key(&customer());
        identity.username = Some(Username::parse("@maria").unwrap());
        desk.store.save_identity(&identity).await.unwrap();

        let agent = desk
            .call(ApiRequest::get(&format!("/api/customers/{CUSTOMER}/export")))
            .await;
        assert_eq!(agent.status, 403);
        let export = desk
            .call(ApiRequest::get(&format!("/api/customers/{CUSTOMER}/export")).by_agent("root", "[admins]"))
            .await;
        assert_eq!(export.status, 200, "{}", export.body);
        let body = export.json();
        let ids: Vec<&str> = body["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["ticket"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["TK-NEW", "TK-OLD"], "every team's tickets, newest first");
        assert_eq!(body["tickets"][1]["timeline"][0]["summary"], "my parcel is late");
        assert_eq!(body["identity"]["username"], "@maria");
        let unknown = desk
            .call(ApiRequest::get("/api/customers/15559999999/export").by_agent("root", "[admins]"))
            .await;
        assert_eq!(unknown.status, 404);
        let trail = desk
            .call(ApiRequest::get("/api/audit").by_agent("root", "[admins]"))
            .await
            .json();
        let exports = trail["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "export" && r["status"] == 200)
            .count();
        assert_eq!(exports, 1);
    }

    #[tokio::test]
    async fn who_is_viewing_or_typing_shows_with_the_ticket_until_it_expires() {
        let desk = Fixture::new();
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
        let typing = desk
            .call(
                ApiRequest::post("/api/tickets/TK-1/presence", json!({"activity": "typing"}))
                    .by_agent("bob", "[support]"),
            )
            .await;
        assert_eq!(typing.status, 200, "{}", typing.body);
        // Renewing one's own presence tells who else is on the ticket.
        let ana = desk
            .call(
                ApiRequest::post("/api/tickets/TK-1/presence", json!({"activity": "viewing"}))
                    .by_agent("ana", "[support]"),
            )
            .await
            .json();
        let present: Vec<&str> = ana["present"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["agent"].as_str().unwrap())
            .collect();
        assert_eq!(
            (ana["agent"].as_str(), present.contains(&"bob")),
            (Some("ana"), true),
            "{ana}"
        );

        let shown = desk.call(ApiRequest::get("/api/tickets/TK-1")).await.json();
        let bob = shown["presence"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["agent"] == "bob")
            .cloned();
        assert_eq!(
            bob,
            Some(json!({"agent": "bob", "activity": "typing", "until_ms": NOW_MS + 30_000}))
        );
        desk.clock.advance(31_000);
        let later = desk.call(ApiRequest::get("/api/tickets/TK-1")).await.json();
        assert_eq!(later["presence"], json!([]));

        let bad = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/presence",
                json!({"activity": "dancing"}),
            ))
            .await;
        assert_eq!(bad.status, 400);
        let other_team = desk
            .call(
                ApiRequest::post("/api/tickets/TK-1/presence", json!({"activity": "viewing"}))
                    .by_agent("tom", "[tech]"),
            )
            .await;
        assert_eq!(other_team.status, 403);
    }

    #[tokio::test]
    async fn an_admins_erasure_deletes_the_customers_files_now_and_queues_the_rest_for_tickets() {
        use helpdesk::ports::{MediaStore, MediaUpload};
        let desk = Fixture::new();
        // A file an agent sent, as the sender recorded it on the timeline.
        let sent_key = "media/TK-1/out/0123456789abcdef0123/invoice.pdf";
        let mut sent_entry = message_entry(
            "wamid.OUT",
            NOW_MS,
            Direction::Outbound,
            Author::Agent("ana".into()),
            "",
        );
        sent_entry.message = Some(
            serde_json::to_value(OutboundBody::Media {
                kind: helpdesk::domain::outbound::SentMedia::Document,
                key: sent_key.into(),
                mime: "application/pdf".into(),
                filename: Some("invoice.pdf".into()),
                caption: None,
                media_id: Some("1".into()),
            })
            .unwrap(),
        );
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[sent_entry])
            .await;
        desk.media.put(sent_key, "application/pdf", b"%PDF-1.7".to_vec());
        let key = "media/TK-1/wamid.A.jpg";
        desk.store
            .save_attachment(
                &TicketId::parse("TK-1").unwrap(),
                &attachment("wamid.A", Some(key), None, false),
            )
            .await
            .unwrap();
        let mut upload = desk.media.begin_upload(key, "image/jpeg").await.unwrap();
        upload.write(b"jpeg").await.unwrap();
        upload.finish().await.unwrap();

        let agent = desk
            .call(ApiRequest::new("DELETE", &format!("/api/customers/{CUSTOMER}")))
            .await;
        assert_eq!(agent.status, 403);
        assert!(desk.nothing_queued());
        let erased = desk
            .call(ApiRequest::new("DELETE", &format!("/api/customers/{CUSTOMER}")).by_agent("root", "[admins]"))
            .await;

        assert_eq!(erased.status, 202, "{}", erased.body);
        assert_eq!(erased.json()["files_deleted"], 2);
        assert!(desk.media.object(key).is_none(), "the file is gone from the bucket");
        assert!(
            desk.media.object(sent_key).is_none(),
            "the file the agent sent is gone too"
        );
        let sent = desk.tickets.sent();
        let [TicketCommand::EraseCustomer(erase)] = sent.as_slice() else {
            panic!("{sent:?}")
        };
        assert_eq!((erase.customer.as_str(), erase.by.as_str()), (CUSTOMER, "root"));
    }

    #[tokio::test]
    async fn the_openapi_description_is_served_without_sign_in() {
        let desk = Fixture::new();
        let answer = desk
            .call(ApiRequest::get("/api/openapi.json").without_authorizer())
            .await;
        assert_eq!(answer.status, 200);
        let doc = answer.json();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(doc["paths"]["/api/tickets/{id}/claim"]["post"].is_object());
    }
}

mod templates {
    use super::*;
    use helpdesk::domain::templates::{APPROVED, MessageTemplate};

    const HOUR_MS: i64 = 60 * MINUTE_MS;

    fn template(name: &str, language: &str, body: &str, parameters: usize) -> MessageTemplate {
        MessageTemplate {
            name: name.into(),
            language: language.into(),
            category: "utility".into(),
            status: APPROVED.into(),
            body: body.into(),
            body_parameters: parameters,
            quick_replies: vec![],
        }
    }

    /// A desk whose Business Account has `order_update` in English and
    /// Portuguese and `sla_update` in English, with ticket TK-1 of a
    /// Portuguese-speaking customer who last wrote `hours_ago`.
    async fn desk_with_templates(hours_ago: i64) -> Fixture {
        let desk = Fixture::new();
        desk.templates
            .clone()
            .with(template(
                "order_update",
                "en",
                "There is an update on your order {{1}}.",
                1,
            ))
            .with(template(
                "order_update",
                "pt_PT",
                "Há novidades sobre a sua encomenda {{1}}.",
                1,
            ))
            .with(template(
                "sla_update",
                "en",
                "An update on your request: the {{1}} team has it and will answer {{2}}.",
                2,
            ))
            .with(MessageTemplate {
                status: "REJECTED".into(),
                ..template("promo", "pt_PT", "Promoção!", 0)
            });
        let mut ticket = queued("TK-1", "support", Priority::Normal, hours_ago * 60);
        ticket.context.language = Some("pt".into());
        desk.given(&ticket, &[]).await;
        desk
    }

    fn names(list: &Value) -> Vec<(String, String, bool)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_owned(),
                    t["language"].as_str().unwrap().to_owned(),
                    t["customer_language"].as_bool().unwrap(),
                )
            })
            .collect()
    }

    fn template_reply(name: &str, language: &str, parameters: &[&str]) -> Value {
        json!({"template": {"name": name, "language": language, "parameters": parameters}})
    }

    #[tokio::test]
    async fn the_approved_templates_are_listed_with_the_customer_s_language_first_and_marked() {
        let desk = desk_with_templates(1).await;

        let answer = desk.call(ApiRequest::get("/api/templates?ticket=TK-1")).await;

        assert_eq!(answer.status, 200, "{}", answer.body);
        let body = answer.json();
        assert_eq!(
            (body["ticket_id"].as_str(), body["language"].as_str()),
            (Some("TK-1"), Some("pt"))
        );
        assert_eq!(body["window"]["open"], true);
        assert_eq!(
            names(&body["templates"]),
            [
                ("order_update".into(), "pt_PT".into(), true),
                ("order_update".into(), "en".into(), false),
                ("sla_update".into(), "en".into(), false),
            ]
        );
        assert_eq!(
            body["templates"][2],
            json!({"name": "sla_update", "language": "en", "category": "utility",
                "body": "An update on your request: the {{1}} team has it and will answer {{2}}.",
                "parameters": 2, "quick_replies": [], "customer_language": false})
        );
        let french = desk.call(ApiRequest::get("/api/templates?lang=fr")).await.json();
        assert_eq!(french["language"], "fr");
        assert!(french["ticket_id"].is_null());
        assert_eq!(desk.call(ApiRequest::get("/api/templates?lang=xx")).await.status, 400);
    }

    #[tokio::test]
    async fn the_list_is_read_from_the_graph_api_once_in_ten_minutes() {
        let desk = desk_with_templates(1).await;

        desk.call(ApiRequest::get("/api/templates?ticket=TK-1")).await;
        desk.call(ApiRequest::get("/api/templates")).await;
        desk.clock.advance(10 * MINUTE_MS - 1);
        desk.call(ApiRequest::get("/api/templates")).await;
        assert_eq!(desk.templates.calls(), 1);
        desk.clock.advance(1);
        desk.call(ApiRequest::get("/api/templates")).await;

        assert_eq!(desk.templates.calls(), 2);
    }

    #[tokio::test]
    async fn an_unreachable_graph_api_answers_503_unavailable_and_is_asked_again_next_time() {
        let desk = desk_with_templates(1).await;
        desk.templates.set_unavailable(true);

        let down = desk.call(ApiRequest::get("/api/templates?ticket=TK-1")).await;
        let reply = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/reply",
                template_reply("order_update", "pt_PT", &["AB-1234"]),
            ))
            .await;
        desk.templates.set_unavailable(false);
        let up = desk.call(ApiRequest::get("/api/templates?ticket=TK-1")).await;

        assert_eq!((down.status, down.body.as_str()), (503, UNAVAILABLE));
        assert_eq!((reply.status, reply.body.as_str()), (503, UNAVAILABLE));
        assert!(desk.nothing_queued());
        assert_eq!(up.status, 200);
    }

    #[tokio::test]
    async fn templates_of_another_team_s_ticket_are_not_shown() {
        let desk = desk_with_templates(1).await;

        let answer = desk
            .call(ApiRequest::get("/api/templates?ticket=TK-1").by_agent("tom", "[tech]"))
            .await;

        assert_eq!(answer.status, 403);
        assert_eq!(answer.json()["code"], "not_your_team");
    }

    #[tokio::test]
    async fn a_text_after_the_window_closed_is_refused_with_the_templates_in_the_customer_s_language() {
        let desk = desk_with_templates(25).await;

        let answer = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/reply",
                json!({"text": "Any news?"}),
            ))
            .await;

        assert_eq!(answer.status, 409, "{}", answer.body);
        let body = answer.json();
        assert_eq!(body["code"], "window_closed");
        assert_eq!(
            body["error"],
            "the customer's 24-hour window is closed: only an approved template reaches them now"
        );
        assert_eq!(
            names(&body["templates"]),
            [("order_update".into(), "pt_PT".into(), true)]
        );
        assert!(body.get("current").is_none());
        assert!(desk.nothing_queued());
    }

    #[tokio::test]
    async fn a_text_after_the_window_closed_is_still_refused_when_the_templates_cannot_be_read() {
        let desk = desk_with_templates(25).await;
        desk.templates.set_unavailable(true);

        let answer = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/reply",
                json!({"text": "Any news?"}),
            ))
            .await;

        assert_eq!(answer.status, 409);
        assert_eq!(answer.json()["code"], "window_closed");
        assert!(answer.json().get("templates").is_none(), "{}", answer.body);
    }

    #[tokio::test]
    async fn a_template_reply_is_queued_after_the_window_closed_and_answers_what_the_customer_reads() {
        let desk = desk_with_templates(25).await;
        let request = ApiRequest::post(
            "/api/tickets/TK-1/reply",
            template_reply("order_update", "pt_PT", &["AB-1234"]),
        )
        .header("idempotency-key", "tpl-1")
        .header("if-match", "\"1\"");

        let answer = desk.call(request).await;

        assert_eq!(answer.status, 202, "{}", answer.body);
        assert_eq!(
            answer.json(),
            json!({"status": "queued", "ticket_id": "TK-1", "idempotency_key": "tpl-1",
                "template": {"name": "order_update", "language": "pt_PT",
                    "preview": "Há novidades sobre a sua encomenda AB-1234."}})
        );
        assert_eq!(
            desk.tickets.sent(),
            [TicketCommand::AgentReplied(AgentReplied {
                ticket_id: TicketId::parse("TK-1").unwrap(),
                customer: customer(),
                agent: "ana".into(),
                at_ms: NOW_MS,
                idempotency_key: "tpl-1".into(),
                body: Some(OutboundBody::Template {
                    name: "order_update".into(),
                    language: "pt_PT".into(),
                    parameters: vec!["AB-1234".into()],
                    quick_replies: vec![],
                }),
                expected_version: Some(1),
            })]
        );
        assert!(desk.inbound.sent().is_empty());
    }

    #[tokio::test]
    async fn a_template_reply_is_sent_while_the_window_is_open_too() {
        let desk = desk_with_templates(1).await;

        let answer = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/reply",
                template_reply("sla_update", "en", &["billing", "within 2 hours"]),
            ))
            .await;

        assert_eq!(answer.status, 202, "{}", answer.body);
        let sent = desk.tickets.sent();
        let [TicketCommand::AgentReplied(reply)] = sent.as_slice() else {
            panic!("{sent:?}")
        };
        assert!(matches!(&reply.body, Some(OutboundBody::Template { name, .. }) if name == "sla_update"));
    }

    #[tokio::test]
    async fn a_template_reply_is_checked_against_the_approved_list_and_refused_naming_what_is_wrong() {
        let desk = desk_with_templates(25).await;
        let reply = |body: Value| ApiRequest::post("/api/tickets/TK-1/reply", body);

        let mut refusals = Vec::new();
        for body in [
            template_reply("nope", "en", &[]),
            template_reply("order_update", "fr", &["AB-1234"]),
            template_reply("promo", "pt_PT", &[]),
            template_reply("sla_update", "en", &["billing"]),
            template_reply("sla_update", "en", &["billing", " "]),
            template_reply("order_update", "en", &[&"x".repeat(1025)]),
            template_reply("order_update", "en", &["two\nlines"]),
            json!({"text": "hi", "template": {"name": "order_update", "language": "en", "parameters": ["1"]}}),
            json!({}),
            json!({"template": {"name": "order_update", "language": "en", "colour": "red"}}),
        ] {
            let answer = desk.call(reply(body)).await;
            assert_eq!(answer.status, 400, "{}", answer.body);
            assert_eq!(answer.json()["code"], "bad_request");
            refusals.push(answer.error());
        }

        assert_eq!(
            &refusals[..9],
            [
                "template.name: no approved template is named \"nope\"",
                "template.language: \"order_update\" is not approved in \"fr\"; it is in en, pt_PT",
                "template.name: no approved template is named \"promo\"",
                "template.parameters: \"sla_update\" takes 2 parameters; 1 given",
                "template.parameters: parameter 2 is empty",
                "template.parameters: parameter 1 has 1025 characters; the limit is 1024",
                "template.parameters: parameter 1 holds a new line, a tab or more than 4 spaces in a row",
                "body must have exactly one of text, template or attachment",
                "body must have exactly one of text, template or attachment",
            ]
        );
        assert!(refusals[9].contains("unknown field `colour`"), "{}", refusals[9]);
        assert!(desk.nothing_queued());
    }

    #[tokio::test]
    async fn without_a_templates_source_templates_are_unavailable_and_texts_work_as_before() {
        let fixture = Fixture::new();
        let claims = ClaimNames {
            name: "cognito:username".into(),
            teams: "cognito:groups".into(),
        };
        let desk = load_desk(&Env::from_map(Default::default()), &Catalog::builtin()).unwrap();
        let api: Api = AgentApi::new(
            fixture.store.clone(),
            fixture.tickets.clone(),
            fixture.inbound.clone(),
            fixture.clock.clone(),
            claims,
            desk,
            fixture.media.clone(),
        );
        let desk = Fixture { api, ..fixture };
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[]).await;
        let mut closed = queued("TK-2", "support", Priority::Normal, 0);
        closed.last_customer_message_at_ms = Some(NOW_MS - 25 * HOUR_MS);
        desk.given(&closed, &[]).await;

        let list = desk.call(ApiRequest::get("/api/templates")).await;
        let template = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/reply",
                template_reply("order_update", "en", &["AB-1234"]),
            ))
            .await;
        let late_text = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-2/reply",
                json!({"text": "Any news?"}),
            ))
            .await;
        let text = desk
            .call(ApiRequest::post("/api/tickets/TK-1/reply", json!({"text": "On it"})))
            .await;

        assert_eq!((list.status, list.body.as_str()), (503, UNAVAILABLE));
        assert_eq!(template.status, 503);
        assert_eq!(
            (late_text.status, late_text.json()["code"].as_str()),
            (409, Some("window_closed"))
        );
        assert_eq!(text.status, 202);
        assert_eq!(desk.tickets.sent().len(), 1);
    }
}

mod attachments {
    use super::*;
    use helpdesk::domain::commands::{Action, AgentAction};
    use helpdesk::domain::outbound::SentMedia;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n";
    const CUSTOMER_WAMID: &str = "wamid.CUSTOMER-1";

    async fn ticket_with_a_customer_message(desk: &Fixture) {
        let entry = message_entry(
            CUSTOMER_WAMID,
            NOW_MS - 10 * MINUTE_MS,
            Direction::Inbound,
            Author::Customer,
            "where is my invoice?",
        );
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[entry])
            .await;
    }

    /// Asks for an upload link; the id and the key the link writes to.
    async fn upload_link(desk: &Fixture, filename: &str, content_type: &str, size: usize) -> (String, String) {
        let answer = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/attachments",
                json!({"filename": filename, "content_type": content_type, "size": size}),
            ))
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let body = answer.json();
        let url = body["upload"]["url"].as_str().unwrap();
        let key = url
            .strip_prefix("memory-put://")
            .and_then(|rest| rest.split('?').next())
            .unwrap()
            .to_owned();
        assert_eq!(body["upload"]["headers"]["Content-Type"], content_type);
        (body["id"].as_str().unwrap().to_owned(), key)
    }

    #[tokio::test]
    async fn an_uploaded_pdf_is_sent_as_a_document_quoting_the_customer_s_message() {
        let desk = Fixture::new();
        ticket_with_a_customer_message(&desk).await;
        let (id, key) = upload_link(&desk, "Invoice 42.pdf", "application/pdf", PDF.len()).await;
        assert!(
            id.ends_with("/Invoice 42.pdf") && key.starts_with("media/TK-1/out/"),
            "{id} {key}"
        );
        // The browser PUTs the file to the link.
        desk.media.put(&key, "application/pdf", PDF);

        let answer = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/reply",
                json!({"attachment": {"id": id, "caption": "Here it is"}, "reply_to": CUSTOMER_WAMID}),
            ))
            .await;

        assert_eq!(answer.status, 202, "{}", answer.body);
        let sent = desk.tickets.sent();
        let [TicketCommand::AgentReplied(reply)] = &sent[..] else {
            panic!("{sent:?}")
        };
        assert_eq!(
            reply.body,
            Some(OutboundBody::Quote {
                message_id: CUSTOMER_WAMID.into(),
                message: Box::new(OutboundBody::Media {
                    kind: SentMedia::Document,
                    key,
                    mime: "application/pdf".into(),
                    filename: Some("Invoice 42.pdf".into()),
                    caption: Some("Here it is".into()),
                    media_id: None,
                }),
            })
        );
    }

    #[tokio::test]
    async fn the_same_upload_request_answers_the_same_id() {
        let desk = Fixture::new();
        ticket_with_a_customer_message(&desk).await;
        let ask = || {
            ApiRequest::post(
                "/api/tickets/TK-1/attachments",
                json!({"filename": "a.png", "content_type": "image/png", "size": 10}),
            )
            .header("idempotency-key", "upload-1")
        };
        let first = desk.call(ask()).await.json();
        let again = desk.call(ask()).await.json();
        assert_eq!(first["id"], again["id"]);
    }

    #[tokio::test]
    async fn uploads_whatsapp_cannot_send_or_over_its_limits_are_refused_naming_why() {
        let desk = Fixture::new();
        ticket_with_a_customer_message(&desk).await;
        let refused = [
            (
                json!({"filename": "a.webp", "content_type": "image/webp", "size": 10}),
                "content_type",
            ),
            (
                json!({"filename": "a.html", "content_type": "text/html", "size": 10}),
                "content_type",
            ),
            (
                json!({"filename": "big.png", "content_type": "image/png", "size": 5 * 1024 * 1024 + 1}),
                "size: file of 5242881 bytes exceeds",
            ),
            (
                json!({"filename": "a.pdf", "content_type": "application/pdf", "size": 0}),
                "size: file is empty",
            ),
            (
                json!({"filename": "///", "content_type": "application/pdf", "size": 10}),
                "filename",
            ),
        ];
        for (body, why) in refused {
            let answer = desk
                .call(ApiRequest::post("/api/tickets/TK-1/attachments", body.clone()))
                .await;
            assert_eq!(answer.status, 400, "{body}");
            assert!(answer.error().starts_with(why), "{body}: {}", answer.error());
        }
        assert!(desk.media.keys().is_empty());
    }

    #[tokio::test]
    async fn a_file_that_is_not_what_it_claims_or_was_never_uploaded_is_refused_and_nothing_is_queued() {
        let desk = Fixture::new();
        ticket_with_a_customer_message(&desk).await;
        let (id, key) = upload_link(&desk, "photo.png", "image/png", 64).await;
        let reply = |id: &str| ApiRequest::post("/api/tickets/TK-1/reply", json!({"attachment": {"id": id}}));

        let answer = desk.call(reply(&id)).await;
        assert_eq!(answer.status, 400);
        assert!(answer.error().contains("nothing was uploaded"), "{}", answer.error());

        desk.media
            .put(&key, "image/png", b"MZ\x90\x00 a Windows program".to_vec());
        let answer = desk.call(reply(&id)).await;
        assert_eq!(answer.status, 400);
        assert!(answer.error().contains("dangerous file"), "{}", answer.error());

        desk.media.put(&key, "image/png", PDF);
        let answer = desk.call(reply(&id)).await;
        assert_eq!(answer.status, 400);
        assert!(answer.error().contains("claimed as image/png"), "{}", answer.error());

        // An id naming another ticket's file, or a path, is not an upload id.
        let answer = desk.call(reply("../TK-2/x.pdf")).await;
        assert_eq!(answer.status, 400);
        assert!(desk.nothing_queued());
    }

    #[tokio::test]
    async fn a_quote_names_a_message_the_customer_sent_on_this_ticket() {
        let desk = Fixture::new();
        let agent_entry = message_entry(
            "wamid.AGENT",
            NOW_MS - MINUTE_MS,
            Direction::Outbound,
            Author::Bot,
            "hi",
        );
        desk.given(&queued("TK-1", "support", Priority::Normal, 10), &[agent_entry])
            .await;

        for wamid in ["wamid.AGENT", "wamid.ELSEWHERE"] {
            let answer = desk
                .call(ApiRequest::post(
                    "/api/tickets/TK-1/reply",
                    json!({"text": "Yes", "reply_to": wamid}),
                ))
                .await;
            assert_eq!(answer.status, 400);
            assert_eq!(
                answer.error(),
                "reply_to: not a message from the customer on ticket TK-1"
            );
        }
        assert!(desk.nothing_queued());
    }

    #[tokio::test]
    async fn a_reaction_is_queued_as_a_workspace_action_and_a_word_is_not_an_emoji() {
        let desk = Fixture::new();
        ticket_with_a_customer_message(&desk).await;

        let answer = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/react",
                json!({"message_id": CUSTOMER_WAMID, "emoji": "👍"}),
            ))
            .await;

        assert_eq!(answer.status, 202, "{}", answer.body);
        assert!(matches!(
            &desk.tickets.sent()[..],
            [TicketCommand::AgentAction(AgentAction { action: Action::React { message_id, emoji }, .. })]
                if message_id == CUSTOMER_WAMID && emoji == "👍"
        ));
        let answer = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/react",
                json!({"message_id": CUSTOMER_WAMID, "emoji": "yes"}),
            ))
            .await;
        assert_eq!(
            (answer.status, answer.error().as_str()),
            (400, "a reaction is one emoji, not letters or digits")
        );
    }

    #[tokio::test]
    async fn after_the_window_closed_a_file_or_a_reaction_is_refused() {
        let desk = Fixture::new();
        ticket_with_a_customer_message(&desk).await;
        let (id, key) = upload_link(&desk, "a.pdf", "application/pdf", PDF.len()).await;
        desk.media.put(&key, "application/pdf", PDF);
        desk.clock.advance(25 * 60 * MINUTE_MS);

        let file = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/reply",
                json!({"attachment": {"id": id}}),
            ))
            .await;
        let reaction = desk
            .call(ApiRequest::post(
                "/api/tickets/TK-1/react",
                json!({"message_id": CUSTOMER_WAMID, "emoji": "👍"}),
            ))
            .await;

        assert_eq!(
            (file.status, file.json()["code"].as_str()),
            (409, Some("window_closed"))
        );
        assert_eq!(
            (reaction.status, reaction.json()["code"].as_str()),
            (409, Some("window_closed"))
        );
        assert!(desk.nothing_queued());
    }
}

mod proactive {
    use super::*;
    use helpdesk::domain::commands::SetConsent;
    use helpdesk::domain::consent::{Consent, ConsentStatus};
    use helpdesk::domain::templates::{APPROVED, MessageTemplate};

    /// A desk with the approved `order_update` and a customer whose only
    /// ticket is resolved; their consent as given.
    async fn desk_with(consent: Option<ConsentStatus>) -> Fixture {
        let desk = Fixture::new();
        desk.templates.clone().with(MessageTemplate {
            name: "order_update".into(),
            language: "en".into(),
            category: "utility".into(),
            status: APPROVED.into(),
            body: "There is an update on your order {{1}}.".into(),
            body_parameters: 1,
            quick_replies: vec![],
        });
        desk.given(
            &ticket("TK-OLD", "support", TicketStatus::Resolved, Priority::Normal, 600),
            &[],
        )
        .await;
        let mut profile = CustomerProfile::new(customer(), NOW_MS - 1000);
        profile.consent = consent.map(|status| Consent {
            status,
            at_ms: NOW_MS - 1000,
            by: if status == ConsentStatus::OptedOut {
                "customer"
            } else {
                "ana"
            }
            .into(),
            source: "signed form".into(),
        });
        desk.store.save_profile(&profile).await.unwrap();
        desk
    }

    fn write_first(body: Value) -> ApiRequest {
        ApiRequest::post(&format!("/api/customers/{CUSTOMER}/messages"), body).header("idempotency-key", "first-1")
    }

    fn order_update() -> Value {
        json!({"template": {"name": "order_update", "language": "en", "parameters": ["AB-1234"]}})
    }

    #[tokio::test]
    async fn an_agent_records_a_customers_consent_with_its_source() {
        let desk = Fixture::new();
        let answer = desk
            .call(ApiRequest::put(
                &format!("/api/customers/{CUSTOMER}/consent"),
                json!({"status": "opted_in", "source": "signed form 2026-11-02"}),
            ))
            .await;
        assert_eq!(answer.status, 202, "{}", answer.body);
        assert!(matches!(
            &desk.tickets.sent()[..],
            [TicketCommand::SetConsent(SetConsent { status: ConsentStatus::OptedIn, by, source, .. })]
                if by == "ana" && source == "signed form 2026-11-02"
        ));
        for bad in [
            json!({"status": "maybe", "source": "x"}),
            json!({"status": "opted_in", "source": " "}),
        ] {
            let answer = desk
                .call(ApiRequest::put(
                    &format!("/api/customers/{CUSTOMER}/consent"),
                    bad.clone(),
                ))
                .await;
            assert_eq!(answer.status, 400, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_customer_who_opted_in_gets_the_template_through_the_bot_on_a_new_ticket() {
        let desk = desk_with(Some(ConsentStatus::OptedIn)).await;

        let answer = desk.call(write_first(order_update())).await;

        assert_eq!(answer.status, 202, "{}", answer.body);
        let ticket_id = answer.json()["ticket_id"].as_str().unwrap().to_owned();
        assert_ne!(ticket_id, "TK-OLD");
        assert_eq!(
            answer.json()["template"]["preview"],
            "There is an update on your order AB-1234."
        );
        let sent = desk.inbound.sent();
        let [InboundEvent::AgentOpens(opens)] = &sent[..] else {
            panic!("{sent:?}")
        };
        assert_eq!(
            (
                opens.ticket_id.as_str(),
                opens.phone_number_id.as_str(),
                opens.agent.as_str(),
                opens.team.as_str(),
                opens.tier
            ),
            (ticket_id.as_str(), PHONE_NUMBER_ID, "ana", "support", 2)
        );
        // The same request (its Idempotency-Key) names the same ticket.
        let again = desk.call(write_first(order_update())).await;
        assert_eq!(again.json()["ticket_id"], ticket_id.as_str());
    }

    #[tokio::test]
    async fn without_an_opt_in_or_after_an_opt_out_nothing_is_sent_and_the_answer_says_why() {
        for (consent, code) in [(None, "no_opt_in"), (Some(ConsentStatus::OptedOut), "opted_out")] {
            let desk = desk_with(consent).await;

            let answer = desk.call(write_first(order_update())).await;

            assert_eq!(
                (answer.status, answer.json()["code"].as_str()),
                (409, Some(code)),
                "{}",
                answer.body
            );
            assert!(desk.nothing_queued());
        }
    }

    #[tokio::test]
    async fn an_open_ticket_a_team_not_the_agents_or_a_wrong_template_is_refused() {
        let desk = desk_with(Some(ConsentStatus::OptedIn)).await;
        let answer = desk
            .call(write_first(
                json!({"template": {"name": "order_update", "language": "en"}}),
            ))
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        let mut body = order_update();
        body["team"] = json!("tech");
        assert_eq!(desk.call(write_first(body)).await.status, 403);
        desk.given(&queued("TK-OPEN", "support", Priority::Normal, 5), &[])
            .await;
        let answer = desk.call(write_first(order_update())).await;
        assert_eq!(
            (answer.status, answer.json()["code"].as_str()),
            (409, Some("open_ticket"))
        );
        assert!(answer.error().contains("TK-OPEN"));
        assert!(desk.nothing_queued());
    }
}
