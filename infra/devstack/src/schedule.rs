//! Schedule events, played locally: fires the function every `rate_seconds`
//! with an EventBridge "Scheduled Event", as the rule SAM makes would.

use crate::registry::ScheduleFn;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
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

/// The event EventBridge sends for a schedule rule.
pub fn scheduled_event(source: &ScheduleSource) -> EventBridgeEvent {
    let value = serde_json::json!({
        "version": "0",
        "id": crate::random_id(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": source.account_id,
        "time": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": source.region,
        "resources": [format!("arn:aws:events:{}:{}:rule/{}-schedule", source.region, source.account_id, source.function)],
        "detail": {},
    });
    serde_json::from_value(value).expect("a scheduled event has every field EventBridgeEvent needs")
}

/// Fires `source` every period (the first one period after start) until `stop`.
pub async fn fire(source: ScheduleSource, handler: ScheduleFn, mut stop: watch::Receiver<bool>) {
    let period = source.period.max(Duration::from_secs(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = ticks.tick() => {}
        }
        let mut context = lambda_runtime::Context::default();
        context.request_id = crate::random_id();
        context.invoked_function_arn = source.function_arn.clone();
        context.deadline = crate::sqs::deadline_ms();
        let started = Instant::now();
        let outcome = tokio::spawn(handler(LambdaEvent::new(scheduled_event(&source), context))).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let failures = match outcome {
            Ok(Ok(())) => 0,
            Ok(Err(error)) => {
                tracing::error!(function = %source.function, error = %error, "scheduled invocation failed");
                1
            }
            Err(error) => {
                tracing::error!(function = %source.function, error = %error, "scheduled invocation panicked");
                1
            }
        };
        tracing::info!(
            function = %source.function,
            trigger = %source.expression,
            records = 1,
            failures,
            duration_ms,
            "invoked"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_event_looks_like_eventbridge_s() {
        let source = ScheduleSource {
            function: "SweepFunction".into(),
            function_arn: String::new(),
            expression: "rate(1 minute)".into(),
            period: Duration::from_secs(60),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
        };

        let event = scheduled_event(&source);

        assert_eq!(event.detail_type, "Scheduled Event");
        assert_eq!(event.source, "aws.events");
        assert_eq!(event.region.as_deref(), Some("us-east-1"));
        assert!(event.time.is_some());
    }
}
