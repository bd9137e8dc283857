//! The local clock: `GET /_local/clock` and `POST /_local/clock/advance`. An
//! advance moves the runner's clock and the simulator's together, runs every
//! schedule once before answering, and refuses what it cannot understand; each
//! runner's clock is its own.

mod common;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use common::{http_client, local_stack};
use devstack::registry::{BoxError, Handler};
use devstack::{EventSource, FunctionDescription, Runner, RunnerOptions, StackDescription};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const MINUTE_MS: i64 = 60_000;

fn options() -> RunnerOptions {
    RunnerOptions {
        poll_wait_seconds: 1,
        ..Default::default()
    }
}

/// A stack with no AWS behind it and one function fired every hour, built
/// from `binary`.
fn stack_with_a_schedule(binary: &str) -> StackDescription {
    let mut stack = StackDescription {
        endpoint: "http://127.0.0.1:1".into(),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        stack_name: "clock".into(),
        ..Default::default()
    };
    stack.functions.insert(
        "SlaFunction".into(),
        FunctionDescription {
            binary: binary.into(),
            function_name: "clock-sla".into(),
            events: vec![EventSource::Schedule {
                expression: "rate(1 hour)".into(),
                rate_seconds: Some(3600),
            }],
            ..Default::default()
        },
    );
    stack
}

/// A schedule handler that counts its invocations and answers the time of
/// the event it was given.
fn counting_sweep() -> (Handler, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    let handler = Handler::schedule(move |event: LambdaEvent<EventBridgeEvent>| {
        let seen = Arc::clone(&seen);
        async move {
            seen.fetch_add(1, Ordering::SeqCst);
            Ok::<_, BoxError>(json!({ "event_time": event.payload.time }))
        }
    });
    (handler, count)
}

async fn start_simulator() -> wa_sim::RunningSim {
    let secrets = devstack::LocalSecrets::default();
    wa_sim::start(wa_sim::SimConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        webhook_url: "http://127.0.0.1:9/webhook".into(),
        app_secret: secrets.app_secret,
        access_token: secrets.access_token,
        phone_number_id: "100000000000001".into(),
        display_phone_number: "15550000001".into(),
        extra_numbers: Vec::new(),
        waba_id: "200000000000001".into(),
        status_callbacks: false,
    })
    .await
    .unwrap()
}

async fn get(url: String) -> Value {
    http_client().get(url).send().await.unwrap().json().await.unwrap()
}

async fn advance(runner: &Runner, query: &str) -> (u16, Value) {
    let response = http_client()
        .post(format!("{}/_local/clock/advance{query}", runner.http_url))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/json");
    (status, response.json().await.unwrap())
}

fn real_now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[tokio::test]
async fn an_advance_moves_the_runner_s_and_the_simulator_s_clocks_and_runs_the_schedule_before_answering() {
    // Arrange
    let sim = start_simulator().await;
    let (sweep, fired) = counting_sweep();
    let runner = Runner::start_with_handlers(
        &stack_with_a_schedule("fake-sweep"),
        RunnerOptions {
            simulator_url: Some(sim.url.clone()),
            ..options()
        },
        HashMap::from([("fake-sweep".to_owned(), sweep)]),
    )
    .await
    .unwrap();
    let before = get(format!("{}/_local/clock", runner.http_url)).await;

    // Act
    let (status, answer) = advance(&runner, "?hours=1&minutes=30").await;
    let after = get(format!("{}/_local/clock", runner.http_url)).await;
    let sim_clock = get(format!("{}/_sim/clock", sim.url)).await;

    // Assert
    assert_eq!(before["offset_ms"], 0);
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["advanced_ms"], 90 * MINUTE_MS);
    assert_eq!(answer["offset_ms"], 90 * MINUTE_MS);
    assert_eq!(
        fired.load(Ordering::SeqCst),
        1,
        "the schedule ran once, before the answer"
    );
    let invocations = answer["fired"].as_array().unwrap();
    assert_eq!(invocations.len(), 1, "{answer:#}");
    assert_eq!(invocations[0]["function"], "SlaFunction");
    assert_eq!(invocations[0]["schedule"], "rate(1 hour)");
    assert_eq!(invocations[0]["ok"], true);
    let event_time: jiff::Timestamp = invocations[0]["result"]["event_time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let event_ahead = event_time.as_millisecond() - real_now_ms();
    assert!(
        (89 * MINUTE_MS..=90 * MINUTE_MS).contains(&event_ahead),
        "{event_ahead}"
    );
    assert_eq!(answer["simulator"]["offset_seconds"], 90 * 60);
    assert_eq!(sim_clock["offset_seconds"], 90 * 60);
    assert_eq!(after["offset_ms"], 90 * MINUTE_MS);
    let now_ahead = after["now_ms"].as_i64().unwrap() - real_now_ms();
    assert!((89 * MINUTE_MS..=90 * MINUTE_MS).contains(&now_ahead), "{now_ahead}");
    let now: jiff::Timestamp = after["now"].as_str().unwrap().parse().unwrap();
    assert_eq!(now.as_millisecond(), after["now_ms"].as_i64().unwrap());
    assert_eq!(runner.clock.offset_ms(), 90 * MINUTE_MS);
    runner.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_negative_or_non_numeric_amount_is_refused_and_moves_nothing() {
    // Arrange
    let (sweep, fired) = counting_sweep();
    let runner = Runner::start_with_handlers(
        &stack_with_a_schedule("fake-sweep"),
        options(),
        HashMap::from([("fake-sweep".to_owned(), sweep)]),
    )
    .await
    .unwrap();

    // Act
    let mut refusals = Vec::new();
    for query in [
        "",
        "?minutes=-5",
        "?minutes=soon",
        "?hours=1.5",
        "?seconds=30",
        "?minutes=1&minutes=2",
    ] {
        refusals.push((query, advance(&runner, query).await));
    }

    // Assert
    for (query, (status, answer)) in &refusals {
        assert_eq!(*status, 400, "{query}: {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{query}: {answer}"
        );
    }
    assert!(refusals[0].1.1["message"].as_str().unwrap().contains("minutes=N"));
    assert!(refusals[1].1.1["message"].as_str().unwrap().contains("-5"));
    assert_eq!(runner.clock.offset_ms(), 0);
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    runner.shutdown().await;
}

#[tokio::test]
async fn a_failing_sweep_is_reported_in_the_answer_and_the_clock_still_moves() {
    // Arrange
    let failing = Handler::schedule(|_event: LambdaEvent<EventBridgeEvent>| async {
        Err::<Value, BoxError>("the deadline index is unreachable".into())
    });
    let runner = Runner::start_with_handlers(
        &stack_with_a_schedule("failing-sweep"),
        options(),
        HashMap::from([("failing-sweep".to_owned(), failing)]),
    )
    .await
    .unwrap();

    // Act
    let (status, answer) = advance(&runner, "?minutes=10").await;

    // Assert
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["offset_ms"], 10 * MINUTE_MS);
    assert_eq!(answer["simulator"], Value::Null);
    assert_eq!(answer["fired"][0]["ok"], false);
    assert_eq!(answer["fired"][0]["error"], "the deadline index is unreachable");
    runner.shutdown().await;
}

#[tokio::test]
async fn a_simulator_that_cannot_follow_leaves_both_clocks_where_they_were() {
    // Arrange: nothing listens on the discard port.
    let (sweep, fired) = counting_sweep();
    let runner = Runner::start_with_handlers(
        &stack_with_a_schedule("fake-sweep"),
        RunnerOptions {
            simulator_url: Some("http://127.0.0.1:9".into()),
            ..options()
        },
        HashMap::from([("fake-sweep".to_owned(), sweep)]),
    )
    .await
    .unwrap();

    // Act
    let (status, answer) = advance(&runner, "?minutes=10").await;

    // Assert
    assert_eq!(status, 502, "{answer:#}");
    assert!(answer["message"].as_str().unwrap().contains("simulator"));
    assert_eq!(runner.clock.offset_ms(), 0);
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    runner.shutdown().await;
}

#[tokio::test]
async fn two_runners_in_one_process_keep_clocks_of_their_own() {
    // Arrange
    let stack = StackDescription {
        endpoint: "http://127.0.0.1:1".into(),
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        stack_name: "clocks".into(),
        ..Default::default()
    };
    let moved = Runner::start(&stack, options()).await.unwrap();
    let untouched = Runner::start(&stack, options()).await.unwrap();

    // Act
    let (status, answer) = advance(&moved, "?minutes=45").await;

    // Assert
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["fired"], json!([]));
    assert_eq!(
        get(format!("{}/_local/clock", moved.http_url)).await["offset_ms"],
        45 * MINUTE_MS
    );
    assert_eq!(
        get(format!("{}/_local/clock", untouched.http_url)).await["offset_ms"],
        0
    );
    moved.shutdown().await;
    untouched.shutdown().await;
}

#[tokio::test]
async fn the_real_sla_sweep_runs_at_the_advanced_time_over_the_stack_s_table() {
    // Arrange: the SLA function wired as the template will declare it.
    let local = local_stack("clock-sla", &[]).await;
    let mut stack = stack_with_a_schedule("sla");
    stack.endpoint = local.stack.endpoint.clone();
    stack.region = local.stack.region.clone();
    let sla = stack.functions.get_mut("SlaFunction").unwrap();
    sla.environment.insert(
        "HELPDESK_TABLE_NAME".into(),
        local.stack.outputs["HelpdeskTableName"].clone(),
    );
    sla.environment.insert(
        "TICKETS_QUEUE_URL".into(),
        local.stack.outputs["TicketsQueueUrl"].clone(),
    );
    let runner = Runner::start(&stack, options()).await.unwrap();

    // Act
    let (status, answer) = advance(&runner, "?hours=3").await;

    // Assert: the sweep read up to the minute the advanced clock shows.
    assert_eq!(status, 200, "{answer:#}");
    let sweep = &answer["fired"][0];
    assert_eq!(sweep["ok"], true, "{answer:#}");
    let swept_to = sweep["result"]["to_minute"].as_i64().unwrap();
    let advanced_minute = answer["now_ms"].as_i64().unwrap() / MINUTE_MS;
    assert!(
        (advanced_minute - 1..=advanced_minute).contains(&swept_to),
        "{answer:#}"
    );
    assert_eq!(sweep["result"]["acted"], 0);
    runner.shutdown().await;
}
