//! The end-to-end harness: a whole helpdesk per test — its own stack in moto
//! (created from template.yaml), the local runner on a free port, and its own
//! WhatsApp simulator — driven the way a customer and an agent would.

use anyhow::{Context, bail};
use devstack::{LocalSecrets, Moto, Runner, RunnerOptions, StackDescription, create_stack, repo_root};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use wa_sim::{RunningSim, SimConfig};

pub mod contract;
pub mod pictures;
pub mod template;

/// The business number of the local stack.
pub const PHONE_NUMBER_ID: &str = "100000000000001";
/// A second business number of the same account (a customer may write to both).
pub const SECOND_PHONE_NUMBER_ID: &str = "100000000000002";

/// How long an end-to-end step may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A stack of its own in moto, created from template.yaml.
pub struct LocalAws {
    /// Our own moto, when the run did not provide one through `MOTO_ENDPOINT`.
    moto: Option<Moto>,
    pub stack: StackDescription,
}

impl LocalAws {
    /// Uses the moto at `MOTO_ENDPOINT` when set (the Makefile starts one for
    /// the whole run), else starts one for this test.
    pub async fn start() -> anyhow::Result<LocalAws> {
        LocalAws::start_with(&[]).await
    }

    /// As [`LocalAws::start`], with template parameters (`GraphApiVersion`…) set.
    pub async fn start_with(params: &[(&str, &str)]) -> anyhow::Result<LocalAws> {
        let root = repo_root();
        let (moto, endpoint) = match std::env::var("MOTO_ENDPOINT").ok().filter(|e| !e.is_empty()) {
            Some(endpoint) => (None, endpoint),
            None => {
                let moto = Moto::start(&root, 0).await.context("starting moto")?;
                let endpoint = moto.endpoint.clone();
                (Some(moto), endpoint)
            }
        };
        let mut all = vec![("QueueVisibilityTimeout", "10"), ("MediaQueueVisibilityTimeout", "60")];
        all.extend_from_slice(params);
        let stack = create_stack(&root, &endpoint, &unique_stack_name(), &all)
            .await
            .context("creating the stack from template.yaml")?;
        Ok(LocalAws { moto, stack })
    }

    /// SDK clients' configuration for this stack.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        devstack::sdk_config(&self.stack).await
    }

    /// The helpdesk table of this stack, through the same adapter the functions use.
    pub async fn store(&self) -> helpdesk::adapters::dynamo::DynamoStore {
        let client = aws_sdk_dynamodb::Client::new(&self.sdk().await);
        helpdesk::adapters::dynamo::DynamoStore::new(client, self.output("HelpdeskTableName"))
    }

    /// Everything waiting on the queue named by stack output `output`, oldest
    /// first, deleted as it is read.
    pub async fn drain<T: serde::de::DeserializeOwned>(&self, output: &str) -> anyhow::Result<Vec<T>> {
        Ok(self
            .drain_raw(output)
            .await?
            .into_iter()
            .map(|(_, item)| item)
            .collect())
    }

    /// As [`LocalAws::drain`], each item with the message body it was read from.
    pub async fn drain_raw<T: serde::de::DeserializeOwned>(&self, output: &str) -> anyhow::Result<Vec<(String, T)>> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk().await);
        let url = self.output(output);
        let mut items = Vec::new();
        loop {
            let out = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await?;
            if out.messages().is_empty() {
                return Ok(items);
            }
            for m in out.messages() {
                let body = m.body().unwrap_or_default();
                items.push((body.to_owned(), serde_json::from_str(body)?));
                sqs.delete_message()
                    .queue_url(&url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await?;
            }
        }
    }

    pub fn output(&self, name: &str) -> String {
        self.stack
            .outputs
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("stack output {name} is missing"))
    }

    pub async fn stop(self) {
        if let Some(moto) = self.moto {
            moto.shutdown().await;
        }
    }
}

/// The test desk: the shipped configuration with every calendar open, plus a
/// `night` team that is closed now (its hours start six hours from now), a
/// `warranty` topic routed to it, and orders looked up from [`OrderServer`].
pub fn test_desk_config(orders_url: &str) -> anyhow::Result<String> {
    let shipped = std::fs::read_to_string(repo_root().join("config/desk.toml"))?;
    let mut desk: toml::Table = toml::from_str(&shipped)?;
    let teams = desk["teams"].as_array_mut().context("teams")?;
    for team in teams.iter_mut() {
        team.as_table_mut().context("team")?.remove("calendar");
    }
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let opens = &now + jiff::Span::new().hours(6);
    let closes = &now + jiff::Span::new().hours(7);
    let hours = format!(
        "{:02}:{:02}-{:02}:{:02}",
        opens.hour(),
        opens.minute(),
        closes.hour(),
        closes.minute()
    );
    let night: toml::Table = toml::from_str(&format!(
        r#"
        id = "night"
        name = {{ en = "night shift", fr = "équipe de nuit", es = "turno de noche", it = "turno di notte", pt = "turno da noite", de = "Nachtschicht" }}
        tier = 2
        email = "night@acme.example"
        [calendar]
        time_zone = "UTC"
        [calendar.hours]
        monday = ["{hours}"]
        tuesday = ["{hours}"]
        wednesday = ["{hours}"]
        thursday = ["{hours}"]
        friday = ["{hours}"]
        saturday = ["{hours}"]
        sunday = ["{hours}"]
        "#
    ))?;
    teams.push(night.into());
    let warranty: toml::Table = toml::from_str(
        r#"
        id = "warranty"
        team = "night"
        priority = "normal"
        [keywords]
        en = ["warranty"]
        fr = ["garantie"]
        es = ["garantía"]
        it = ["garanzia"]
        pt = ["garantia"]
        de = ["gewährleistung"]
        "#,
    )?;
    desk["categories"]
        .as_array_mut()
        .context("categories")?
        .push(warranty.into());
    let source: toml::Table = toml::from_str(&format!(
        "kind = \"http\"\nurl = \"{orders_url}/orders/{{order}}\"\ntimeout_ms = 1000"
    ))?;
    desk["order_lookup"]
        .as_table_mut()
        .context("order_lookup")?
        .insert("source".into(), source.into());
    // The bot waits a second for more lines before it answers (three in production):
    // the turn still goes through the delayed turns queue.
    desk["desk"]
        .as_table_mut()
        .context("desk")?
        .insert("quiet_period_ms".into(), toml::Value::Integer(1_000));
    // Short targets so the SLA suites move the clock by minutes, not days:
    // the catch-all policy answers in 30 minutes and resolves in 90.
    let policies = desk["sla"]["policies"].as_array_mut().context("sla.policies")?;
    for policy in policies.iter_mut() {
        let policy = policy.as_table_mut().context("policy")?;
        if policy.get("name").and_then(|n| n.as_str()) == Some("standard") {
            let resolution: toml::Table = toml::from_str("minutes = 90\nclock = \"calendar\"")?;
            policy.insert("resolution".into(), resolution.into());
        }
    }
    Ok(toml::to_string(&desk)?)
}

/// The business's order endpoint: `AB-1234` is shipped, `CD-5678` delivered,
/// `DOWN-0000` makes it fail, anything else is not found.
pub struct OrderServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl OrderServer {
    pub async fn start() -> anyhow::Result<OrderServer> {
        use axum::extract::Path;
        use axum::http::StatusCode;
        async fn order(Path(number): Path<String>) -> (StatusCode, axum::Json<Value>) {
            match number.as_str() {
                "AB-1234" => (StatusCode::OK, axum::Json(json!({"status": "shipped"}))),
                "CD-5678" => (StatusCode::OK, axum::Json(json!({"status": "delivered"}))),
                "DOWN-0000" => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(json!({"error": "maintenance"})),
                ),
                _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": "unknown order"}))),
            }
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new().route("/orders/{number}", axum::routing::get(order));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(OrderServer { url, task })
    }
}

impl Drop for OrderServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Helpdesk {
    pub aws: LocalAws,
    pub orders: OrderServer,
    pub sim: RunningSim,
    pub runner: Runner,
    pub http: reqwest::Client,
}

fn unique_stack_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("e2e-{}-{n}-{:x}", std::process::id(), nanos % 0xffff)
}

impl Helpdesk {
    /// Starts a fresh helpdesk on a stack of its own.
    pub async fn start() -> anyhow::Result<Helpdesk> {
        Helpdesk::start_with(|_| Ok(())).await
    }

    /// Starts a fresh helpdesk whose test desk (`desk.toml`, see
    /// [`test_desk_config`]) `edit` changes first.
    pub async fn start_with(edit: impl FnOnce(&mut toml::Table) -> anyhow::Result<()>) -> anyhow::Result<Helpdesk> {
        // `HELPDESK_TEST_LOG=info` shows the functions' logs while debugging a test.
        if let Ok(filter) = std::env::var("HELPDESK_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let aws = LocalAws::start().await?;
        let orders = OrderServer::start().await?;
        let config_path = repo_root()
            .join(".local")
            .join(format!("desk-{}.toml", aws.stack.stack_name));
        let mut desk: toml::Table = toml::from_str(&test_desk_config(&orders.url)?)?;
        edit(&mut desk)?;
        std::fs::write(&config_path, toml::to_string(&desk)?)?;
        let extra_env = [("DESK_CONFIG_FILE".to_owned(), config_path.display().to_string())].into();
        let secrets = LocalSecrets::default();
        let sim = start_simulator(true).await?;
        let runner = Runner::start(
            &aws.stack,
            RunnerOptions {
                http_port: 0,
                graph_url: sim.url.clone(),
                phone_number_id: PHONE_NUMBER_ID.into(),
                secrets,
                poll_wait_seconds: 1,
                extra_env,
                simulator_url: Some(sim.url.clone()),
            },
        )
        .await?;
        sim.set_webhook_url(format!("{}/webhook", runner.http_url));
        Ok(Helpdesk {
            aws,
            orders,
            sim,
            runner,
            http: reqwest::Client::new(),
        })
    }

    pub async fn stop(self) {
        self.runner.shutdown().await;
        self.sim.shutdown().await;
        self.aws.stop().await;
    }

    /// The customer sends one message through the simulator; answers its report.
    pub async fn customer_sends(&self, wa_id: &str, message: Value) -> anyhow::Result<Value> {
        let url = format!("{}/_sim/customers/{wa_id}/messages", self.sim.url);
        let report: Value = self
            .http
            .post(url)
            .json(&message)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if report["delivered"] != json!(true) {
            bail!("the simulator could not deliver the message: {report}");
        }
        Ok(report)
    }

    pub async fn customer_says(&self, wa_id: &str, text: &str) -> anyhow::Result<Value> {
        self.customer_sends(wa_id, json!({"type": "text", "text": {"body": text}}))
            .await
    }

    pub async fn customer_taps(&self, wa_id: &str, id: &str, title: &str) -> anyhow::Result<Value> {
        let reply = json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": id, "title": title}}});
        self.customer_sends(wa_id, reply).await
    }

    /// Calls the simulator's control API (`/_sim/...`); fails on an error status.
    pub async fn sim(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self.http.request(method.parse()?, format!("{}{path}", self.sim.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    /// The business-scoped user id the simulator gives the customer (by phone or id).
    pub async fn user_id_of(&self, customer: &str) -> anyhow::Result<String> {
        let view = self.sim("GET", &format!("/_sim/customers/{customer}"), None).await?;
        Ok(view["user_id"]
            .as_str()
            .context("the customer has no user id")?
            .to_owned())
    }

    /// What the business sent to the customer, in order.
    pub async fn inbox(&self, wa_id: &str) -> anyhow::Result<Vec<Value>> {
        let url = format!("{}/_sim/customers/{wa_id}/inbox", self.sim.url);
        Ok(self.http.get(url).send().await?.error_for_status()?.json().await?)
    }

    /// Waits until the inbox holds at least `n` messages.
    pub async fn inbox_of_at_least(&self, wa_id: &str, n: usize) -> anyhow::Result<Vec<Value>> {
        eventually(&format!("{n} messages in the inbox"), || async {
            let inbox = self.inbox(wa_id).await?;
            Ok((inbox.len() >= n).then_some(inbox))
        })
        .await
    }

    pub async fn token(&self, agent: &str, teams: &str) -> anyhow::Result<String> {
        let url = format!("{}/_local/token?agent={agent}&teams={teams}", self.runner.http_url);
        let answer: Value = self.http.get(url).send().await?.error_for_status()?.json().await?;
        Ok(answer["token"].as_str().context("no token in the answer")?.to_owned())
    }

    pub async fn api(
        &self,
        method: &str,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let url = format!("{}{path}", self.runner.http_url);
        let mut request = self.http.request(method.parse()?, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// Moves the clock of this helpdesk (and of its simulator) `minutes`
    /// forward; answers after every schedule (the SLA sweep) ran once at the
    /// new time, with the runner's report: the clock, and what fired (`fired`,
    /// each with `ok` and the sweep's report). Fails when a schedule failed.
    pub async fn advance_clock(&self, minutes: i64) -> anyhow::Result<Value> {
        let url = format!("{}/_local/clock/advance?minutes={minutes}", self.runner.http_url);
        let response = self.http.post(url).send().await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        if !status.is_success() {
            bail!("the clock could not be moved ({status}): {answer}");
        }
        // A failed sweep would otherwise only show as a later timeout.
        let failed = answer["fired"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["ok"] == json!(false));
        if failed {
            bail!("a schedule failed after the clock moved: {answer}");
        }
        Ok(answer)
    }

    /// The time this helpdesk's functions see, in milliseconds since the epoch.
    pub async fn now_ms(&self) -> anyhow::Result<i64> {
        let url = format!("{}/_local/clock", self.runner.http_url);
        let clock: Value = self.http.get(url).send().await?.error_for_status()?.json().await?;
        clock["now_ms"].as_i64().context("no now_ms in the clock")
    }

    /// Makes the customer a VIP through the agent API (`token` of any agent)
    /// and waits until the profile the bot reads says so.
    pub async fn make_vip(&self, token: &str, customer: &str) -> anyhow::Result<()> {
        let path = format!("/api/customers/{customer}/tier");
        let (status, body) = self
            .api("PUT", Some(token), &path, Some(json!({"tier": "vip"})))
            .await?;
        anyhow::ensure!(status == 202, "the tier was refused: {status} {body}");
        let store = self.aws.store().await;
        let id = helpdesk::domain::ids::CustomerId::parse(customer)?;
        eventually("the VIP tier on the profile", || async {
            let profile = helpdesk::ports::TicketReader::profile(&store, &id).await?;
            Ok(profile.filter(|p| p.tier == helpdesk::domain::ticket::CustomerTier::Vip))
        })
        .await?;
        Ok(())
    }

    /// Waits for the ticket the customer's messages opened to satisfy `check`.
    pub async fn ticket_where(
        &self,
        token: &str,
        ticket_id: &str,
        check: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        eventually(&format!("ticket {ticket_id} in the expected state"), || async {
            let (status, body) = self
                .api("GET", Some(token), &format!("/api/tickets/{ticket_id}"), None)
                .await?;
            Ok((status == 200 && check(&body)).then_some(body))
        })
        .await
    }

    /// What the notifier posted to the teams' Slack and Teams webhooks (the
    /// runner keeps them): `kind`, `team` and `body` each.
    pub async fn notifications(&self) -> anyhow::Result<Vec<Value>> {
        let url = format!("{}/_local/notifications", self.runner.http_url);
        Ok(self.http.get(url).send().await?.error_for_status()?.json().await?)
    }

    /// Waits for a ticket of `team` in `status` and answers the first.
    pub async fn first_ticket_in(&self, token: &str, status: &str) -> anyhow::Result<Value> {
        eventually(&format!("a {status} ticket"), || async {
            let (code, body) = self
                .api("GET", Some(token), &format!("/api/tickets?status={status}"), None)
                .await?;
            Ok((code == 200).then(|| body["tickets"].get(0).cloned()).flatten())
        })
        .await
    }
}

/// A WhatsApp simulator for the local business number and secrets. Its
/// webhook URL points nowhere until [`RunningSim::set_webhook_url`].
pub async fn start_simulator(status_callbacks: bool) -> anyhow::Result<RunningSim> {
    let secrets = LocalSecrets::default();
    wa_sim::start(SimConfig {
        bind: "127.0.0.1:0".parse()?,
        webhook_url: "http://127.0.0.1:9/webhook".into(),
        app_secret: secrets.app_secret,
        access_token: secrets.access_token,
        phone_number_id: PHONE_NUMBER_ID.into(),
        display_phone_number: "15550000001".into(),
        extra_numbers: vec![(SECOND_PHONE_NUMBER_ID.into(), "15550000002".into())],
        waba_id: "200000000000001".into(),
        status_callbacks,
    })
    .await
}

/// Polls `probe` every 200 ms until it answers `Some`, or fails after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The reply-button or list-row ids of an interactive message in the inbox.
pub fn choice_ids(message: &Value) -> Vec<String> {
    let action = &message["message"]["interactive"]["action"];
    let buttons = action["buttons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["reply"]["id"].as_str());
    let rows = action["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["rows"].as_array().into_iter().flatten())
        .filter_map(|r| r["id"].as_str());
    buttons.chain(rows).map(str::to_owned).collect()
}

/// The text of a text message, or the body of an interactive one.
pub fn text_of(message: &Value) -> String {
    let m = &message["message"];
    m["text"]["body"]
        .as_str()
        .or_else(|| m["interactive"]["body"]["text"].as_str())
        .unwrap_or("")
        .to_owned()
}

/// A 640×480 photo fair enough for every check: light and shade across the
/// frame (what a perceptual hash reads) and fine detail (what sharpness reads).
pub fn fair_photo() -> image::RgbImage {
    image::RgbImage::from_fn(640, 480, |x, y| {
        let scene = ((x / 64) * 53 + (y / 48) * 97) % 200;
        let detail = (x * 7 + y * 13) % 40;
        let v = (scene + detail) as u8;
        image::Rgb([v, v.wrapping_add(30), 240 - v])
    })
}
