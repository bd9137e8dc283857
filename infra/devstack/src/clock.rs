//! The local clock control: `GET /_local/clock` shows the time the functions
//! of this stack see, `POST /_local/clock/advance?minutes=N` (or `hours=N`)
//! moves it forward. Each runner has its own clock, shared by all its
//! functions; nothing like it exists on Lambda, where the clock is the system's.
//!
//! An advance also moves the WhatsApp simulator's clock by the same amount
//! (when the runner talks to one), so customers' message timestamps and the
//! 24-hour window agree with the helpdesk, then fires every schedule once and
//! waits for it: a jump makes deadlines due, and the answer comes after the
//! sweep that acts on them.

use crate::registry::ScheduleFn;
use crate::schedule::{self, Invocation, ScheduleSource};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use helpdesk::adapters::clock::SharedClock;
use helpdesk::ports::Clock;
use http::{StatusCode, header};
use std::sync::Arc;
use std::time::Duration;

const MS_PER_MINUTE: i64 = 60_000;
/// The most one advance may move the clock: ten years is past any SLA target,
/// so a larger jump is a typo (and would leave the range timestamps can hold).
const MAX_ADVANCE_MINUTES: i64 = 10 * 366 * 24 * 60;
/// How long the simulator may take to move its clock.
const SIMULATOR_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an advance request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdvanceError {
    #[error("say how far to move the clock: /_local/clock/advance?minutes=N or ?hours=N")]
    Missing,
    #[error("{name} must be a whole number, 0 or more (got {value:?})")]
    Invalid { name: String, value: String },
    #[error("{0} is given more than once")]
    Repeated(String),
    #[error("{0} is not understood; use minutes=N or hours=N")]
    Unknown(String),
    #[error("the clock moves at most {MAX_ADVANCE_MINUTES} minutes (ten years) at once")]
    TooFar,
}

/// How many minutes `?minutes=N&hours=M` asks to move the clock: both may be
/// given (they add up), at least one must be, each a whole number, 0 or more.
pub fn minutes_to_advance(query: &[(String, String)]) -> Result<i64, AdvanceError> {
    let mut minutes: Option<i64> = None;
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in query {
        let per_unit = match name.as_str() {
            "minutes" => 1,
            "hours" => 60,
            _ => return Err(AdvanceError::Unknown(name.clone())),
        };
        if seen.contains(&name.as_str()) {
            return Err(AdvanceError::Repeated(name.clone()));
        }
        seen.push(name);
        let amount = value
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|amount| *amount >= 0)
            .ok_or_else(|| AdvanceError::Invalid {
                name: name.clone(),
                value: value.clone(),
            })?;
        let total = amount
            .checked_mul(per_unit)
            .and_then(|more| more.checked_add(minutes.unwrap_or(0)))
            .filter(|total| *total <= MAX_ADVANCE_MINUTES)
            .ok_or(AdvanceError::TooFar)?;
        minutes = Some(total);
    }
    minutes.ok_or(AdvanceError::Missing)
}

/// What the clock endpoints need: the stack's clock, its schedules, and the
/// simulator whose clock moves with it.
#[derive(Clone)]
pub struct ClockControl {
    clock: SharedClock,
    schedules: Arc<Vec<(ScheduleSource, ScheduleFn)>>,
    simulator_url: Option<String>,
    http: reqwest::Client,
}

impl ClockControl {
    /// Control over `clock`; an advance fires `schedules` and, when
    /// `simulator_url` is set, moves that simulator's clock too.
    pub fn new(
        clock: SharedClock,
        schedules: Vec<(ScheduleSource, ScheduleFn)>,
        simulator_url: Option<String>,
    ) -> ClockControl {
        ClockControl {
            clock,
            schedules: Arc::new(schedules),
            simulator_url: simulator_url.map(|url| url.trim_end_matches('/').to_owned()),
            http: reqwest::Client::new(),
        }
    }

    /// The clock itself.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Moves the simulator's clock `minutes` forward; answers its clock.
    async fn advance_simulator(&self, url: &str, minutes: i64) -> Result<serde_json::Value, reqwest::Error> {
        self.http
            .post(format!("{url}/_sim/clock/advance?minutes={minutes}"))
            .timeout(SIMULATOR_TIMEOUT)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

/// `GET /_local/clock` and `POST /_local/clock/advance`.
pub fn routes<S: Clone + Send + Sync + 'static>(control: ClockControl) -> Router<S> {
    Router::new()
        .route("/_local/clock", get(show))
        .route("/_local/clock/advance", post(advance))
        .with_state(control)
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

/// The clock as the endpoints show it: `now_ms`, `now` (RFC 3339, UTC) and `offset_ms`.
fn view(clock: &SharedClock) -> serde_json::Map<String, serde_json::Value> {
    let offset_ms = clock.offset_ms();
    let now = clock.now();
    let mut view = serde_json::Map::new();
    view.insert("now_ms".into(), now.as_millisecond().into());
    view.insert("now".into(), now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into());
    view.insert("offset_ms".into(), offset_ms.into());
    view
}

async fn show(State(control): State<ClockControl>) -> Response {
    json(StatusCode::OK, view(&control.clock).into())
}

/// Moves the simulator's clock first, so a simulator that cannot follow leaves
/// both clocks where they were; then this clock; then fires every schedule.
async fn advance(State(control): State<ClockControl>, Query(query): Query<Vec<(String, String)>>) -> Response {
    let minutes = match minutes_to_advance(&query) {
        Ok(minutes) => minutes,
        Err(refused) => {
            return json(
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "message": refused.to_string() }),
            );
        }
    };
    let simulator = match &control.simulator_url {
        Some(url) => match control.advance_simulator(url, minutes).await {
            Ok(clock) => clock,
            Err(error) => {
                tracing::error!(simulator = %url, error = %error, "the simulator's clock could not be moved");
                return json(
                    StatusCode::BAD_GATEWAY,
                    serde_json::json!({
                        "message": format!("the simulator's clock could not be moved, so neither clock moved: {error}"),
                    }),
                );
            }
        },
        None => serde_json::Value::Null,
    };
    control.clock.advance_minutes(minutes);
    tracing::info!(
        minutes,
        offset_ms = control.clock.offset_ms(),
        "local clock moved forward"
    );
    let fired: Vec<Invocation> = futures::future::join_all(
        control
            .schedules
            .iter()
            .map(|(source, handler)| schedule::invoke(source, handler, &control.clock)),
    )
    .await;
    let mut answer = view(&control.clock);
    answer.insert("advanced_ms".into(), (minutes * MS_PER_MINUTE).into());
    answer.insert("simulator".into(), simulator);
    answer.insert("fired".into(), serde_json::json!(fired));
    json(StatusCode::OK, answer.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn minutes_hours_or_both_say_how_far_to_move() {
        assert_eq!(minutes_to_advance(&query(&[("minutes", "90")])), Ok(90));
        assert_eq!(minutes_to_advance(&query(&[("hours", "2")])), Ok(120));
        assert_eq!(minutes_to_advance(&query(&[("hours", "1"), ("minutes", "30")])), Ok(90));
        assert_eq!(minutes_to_advance(&query(&[("minutes", " 0 ")])), Ok(0));
    }

    #[test]
    fn an_advance_without_an_amount_is_refused() {
        assert_eq!(minutes_to_advance(&[]), Err(AdvanceError::Missing));
    }

    #[test]
    fn a_negative_fractional_or_non_numeric_amount_is_refused() {
        for value in ["-5", "1.5", "ten", ""] {
            assert_eq!(
                minutes_to_advance(&query(&[("minutes", value)])),
                Err(AdvanceError::Invalid {
                    name: "minutes".into(),
                    value: value.into()
                }),
                "{value:?}"
            );
        }
        assert!(matches!(
            minutes_to_advance(&query(&[("hours", "-1")])),
            Err(AdvanceError::Invalid { .. })
        ));
    }

    #[test]
    fn an_unknown_or_repeated_parameter_is_refused_rather_than_ignored() {
        assert_eq!(
            minutes_to_advance(&query(&[("seconds", "30")])),
            Err(AdvanceError::Unknown("seconds".into()))
        );
        assert_eq!(
            minutes_to_advance(&query(&[("minutes", "1"), ("minutes", "2")])),
            Err(AdvanceError::Repeated("minutes".into()))
        );
    }

    #[test]
    fn a_jump_beyond_ten_years_is_refused() {
        assert_eq!(
            minutes_to_advance(&query(&[("hours", &i64::MAX.to_string())])),
            Err(AdvanceError::TooFar)
        );
        assert_eq!(
            minutes_to_advance(&query(&[("minutes", &(MAX_ADVANCE_MINUTES + 1).to_string())])),
            Err(AdvanceError::TooFar)
        );
        assert_eq!(
            minutes_to_advance(&query(&[("minutes", &MAX_ADVANCE_MINUTES.to_string())])),
            Ok(MAX_ADVANCE_MINUTES)
        );
    }

    #[test]
    fn the_error_messages_say_what_to_send() {
        assert!(AdvanceError::Missing.to_string().contains("minutes=N"));
        let invalid = AdvanceError::Invalid {
            name: "minutes".into(),
            value: "-5".into(),
        };
        assert_eq!(
            invalid.to_string(),
            "minutes must be a whole number, 0 or more (got \"-5\")"
        );
    }
}
