//! Which handler runs a function locally, by the function's cargo binary name.
//! The handlers are the same types the Lambda binaries wire in their `main`.

use aws_config::SdkConfig;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use futures::future::BoxFuture;
use helpdesk::config::Env;
use lambda_http::{Body, Request, Response};
use lambda_runtime::LambdaEvent;
use std::future::Future;
use std::sync::Arc;

/// The error a handler or its construction fails with (Lambda's own `Error`).
pub type BoxError = lambda_runtime::Error;

/// An HTTP handler: an API Gateway HTTP API (payload 2.0) request in, a response out.
pub type HttpFn = Arc<dyn Fn(Request) -> BoxFuture<'static, Result<Response<Body>, BoxError>> + Send + Sync>;

/// An SQS handler: a batch in, the partial batch failures out.
pub type SqsFn =
    Arc<dyn Fn(LambdaEvent<SqsEvent>) -> BoxFuture<'static, Result<SqsBatchResponse, BoxError>> + Send + Sync>;

/// A schedule handler: an EventBridge "Scheduled Event" in, the handler's
/// answer out as JSON (EventBridge drops it; the local clock's advance shows it).
pub type ScheduleFn =
    Arc<dyn Fn(LambdaEvent<EventBridgeEvent>) -> BoxFuture<'static, Result<serde_json::Value, BoxError>> + Send + Sync>;

/// A function's handler, by the kind of event it takes.
#[derive(Clone)]
pub enum Handler {
    /// Served on the function's `http` routes.
    Http(HttpFn),
    /// Fed by a poller on each of the function's `sqs` queues.
    Sqs(SqsFn),
    /// Fired on each of the function's `schedule` rates.
    Schedule(ScheduleFn),
}

impl Handler {
    /// Wraps an async HTTP handler such as `Webhook::handle`.
    pub fn http<F, Fut, E>(handler: F) -> Handler
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response<Body>, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Handler::Http(Arc::new(move |request| {
            let future = handler(request);
            Box::pin(async move { future.await.map_err(Into::into) })
        }))
    }

    /// Wraps an async SQS handler such as `Bot::handle`.
    pub fn sqs<F, Fut, E>(handler: F) -> Handler
    where
        F: Fn(LambdaEvent<SqsEvent>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<SqsBatchResponse, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Handler::Sqs(Arc::new(move |event| {
            let future = handler(event);
            Box::pin(async move { future.await.map_err(Into::into) })
        }))
    }

    /// Wraps an async schedule handler such as `Sweep::handle`. What it answers
    /// on success is kept as JSON (`null` if it does not serialise), for the
    /// answer of `POST /_local/clock/advance`.
    pub fn schedule<F, Fut, T, E>(handler: F) -> Handler
    where
        F: Fn(LambdaEvent<EventBridgeEvent>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: serde::Serialize,
        E: Into<BoxError>,
    {
        Handler::Schedule(Arc::new(move |event| {
            let future = handler(event);
            Box::pin(async move {
                let answer = future.await.map_err(Into::into)?;
                Ok(serde_json::to_value(answer).unwrap_or(serde_json::Value::Null))
            })
        }))
    }

    /// `http`, `sqs` or `schedule`.
    pub fn kind(&self) -> &'static str {
        match self {
            Handler::Http(_) => "http",
            Handler::Sqs(_) => "sqs",
            Handler::Schedule(_) => "schedule",
        }
    }
}

/// Builds the handler of the function built from `binary`, from its
/// environment (variables and clock), the way that function's `main` does at
/// init. `Ok(None)` when there is no local handler for that binary.
pub async fn build(binary: &str, env: &Env, sdk: &SdkConfig) -> Result<Option<Handler>, BoxError> {
    // Each arm builds the function once, as its `main` does at init, and shares it between invocations.
    macro_rules! wire {
        ($kind:ident, $function:expr) => {{
            let function = Arc::new($function.await?);
            Handler::$kind(move |input| {
                let function = Arc::clone(&function);
                async move { function.handle(input).await }
            })
        }};
    }
    let handler = match binary {
        "webhook" => wire!(http, webhook::Webhook::from_env(env, sdk)),
        "agent-api" => wire!(http, agent_api::AgentApi::from_env(env, sdk)),
        "bot" => wire!(sqs, bot::Bot::from_env(env, sdk)),
        "tickets" => wire!(sqs, tickets::Tickets::from_env(env, sdk)),
        "sender" => wire!(sqs, sender::Sender::from_env(env, sdk)),
        "media" => wire!(sqs, media::Media::from_env(env, sdk)),
        "notifier" => wire!(sqs, notifier::Notifier::from_env(env, sdk)),
        "sla" => wire!(schedule, sla::Sweep::from_env(env, sdk)),
        // Reads console/dist from disk (a debug build): a fresh `npm run build` is served at once.
        "console" => {
            let console = Arc::new(console::Console::from_env(env)?);
            Handler::http(move |request| {
                let console = Arc::clone(&console);
                async move { console.handle(request).await }
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(handler))
}
