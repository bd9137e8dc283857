//! Schedule events, played locally: fires the function every `rate_seconds`
//! with an EventBridge "Scheduled Event", as the rule SAM makes would, and
//! once more whenever the local clock is moved forward.

use crate::registry::ScheduleFn;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use helpdesk::adapters::clock::SharedClock;
use helpdesk::ports::Clock;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One schedule of one function.
#[derive(Clone, Debug)]
pub struct ScheduleSource {
    /// The function's logical id.
    pub function: String,
    /// The function's ARN, for the Lambda context.
    pub function_arn: String,
    /// `rate(5 minutes)`.
    pub expression: String,
    /// The period.
    pub period: Duration,
    /// The stack's region.
    pub region: String,
    /// The stack's account id.
    pub account_id: String,
}

/// The event EventBridge sends for a schedule rule, timed `now`.
pub fn scheduled_event(source: &ScheduleSource, now: jiff::Timestamp) -> EventBridgeEvent {
    let value = serde_json::json!({
        "version": "0",
        "id": crate::random_id(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": source.account_id,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": source.region,
        "resources": [format!("arn:aws:events:{}:{}:rule/{}-schedule", source.region, source.account_id, source.function)],
        "detail": {},
    });
    serde_json::from_value(value).expect("a scheduled event has every field EventBridgeEvent needs")
}

/// What one scheduled invocation did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Invocation {
    /// The function's logical id.
    pub function: String,
    /// Its schedule expression.
    pub schedule: String,
    /// Whether the handler succeeded.
    pub ok: bool,
    /// What the handler answered (a sweep's report), when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
}

/// Invokes `source`'s handler once, with an event timed by `clock`, and waits for it.
pub async fn invoke(source: &ScheduleSource, handler: &ScheduleFn, clock: &SharedClock) -> Invocation {
    let mut context = lambda_runtime::Context::default();
    context.request_id = crate::random_id();
    context.invoked_function_arn = source.function_arn.clone();
    context.deadline = crate::sqs::deadline_ms();
    let started = Instant::now();
    // A panicking handler must not take the runner down.
    let outcome = tokio::spawn(handler(LambdaEvent::new(scheduled_event(source, clock.now()), context))).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let (result, error) = match outcome {
        Ok(Ok(answer)) => (Some(answer), None),
        Ok(Err(error)) => {
            tracing::error!(function = %source.function, error = %error, "scheduled invocation failed");
            (None, Some(error.to_string()))
        }
        Err(error) => {
            tracing::error!(function = %source.function, error = %error, "scheduled invocation panicked");
            (None, Some(format!("the handler panicked: {error}")))
        }
    };
    tracing::info!(
        function = %source.function,
        trigger = %source.expression,
        records = 1,
        failures = u8::from(error.is_some()),
        duration_ms,
        "invoked"
    );
    Invocation {
        function: source.function.clone(),
        schedule: source.expression.clone(),
        ok: error.is_none(),
        result,
        error,
        duration_ms,
    }
}

/// Fires `source` every period (the first one period after start) until `stop`.
/// The period is real time: moving the clock forward fires the schedules
/// itself (see [`crate::clock`]) rather than shortening the wait.
pub async fn fire(source: ScheduleSource, handler: ScheduleFn, clock: SharedClock, mut stop: watch::Receiver<bool>) {
    let period = source.period.max(Duration::from_secs(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = ticks.tick() => {}
        }
        invoke(&source, &handler, &clock).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> ScheduleSource {
        ScheduleSource {
            function: "SweepFunction".into(),
            function_arn: String::new(),
            expression: "rate(1 minute)".into(),
            period: Duration::from_secs(60),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
        }
    }

    #[test]
    fn a_scheduled_event_looks_like_eventbridge_s() {
        let now: jiff::Timestamp = "2026-11-19T09:30:15.250Z".parse().unwrap();

        let event = scheduled_event(&source(), now);

        assert_eq!(event.detail_type, "Scheduled Event");
        assert_eq!(event.source, "aws.events");
        assert_eq!(event.region.as_deref(), Some("us-east-1"));
        assert_eq!(event.time.unwrap().to_rfc3339(), "2026-11-19T09:30:15+00:00");
    }

    #[tokio::test]
    async fn an_invocation_reports_the_handler_s_answer_or_its_error() {
        let clock = SharedClock::system();
        clock.advance_minutes(90);
        let answers: ScheduleFn = std::sync::Arc::new(|event: LambdaEvent<EventBridgeEvent>| {
            Box::pin(async move { Ok(serde_json::json!({ "time": event.payload.time })) })
        });
        let fails: ScheduleFn = std::sync::Arc::new(|_| Box::pin(async { Err("the index is unreachable".into()) }));

        let answered = invoke(&source(), &answers, &clock).await;
        let failed = invoke(&source(), &fails, &clock).await;

        assert!(answered.ok);
        let time: jiff::Timestamp = answered.result.unwrap()["time"].as_str().unwrap().parse().unwrap();
        let ahead = time.as_millisecond() - jiff::Timestamp::now().as_millisecond();
        assert!((89 * 60_000..=90 * 60_000).contains(&ahead), "{ahead}");
        assert!(!failed.ok);
        assert_eq!(failed.error.as_deref(), Some("the index is unreachable"));
        assert_eq!(failed.result, None);
    }
}
