//! The runner: builds each function's handler from its environment, then
//! serves its HTTP routes, polls its queues and fires its schedules. Each
//! runner has its own clock, which all its functions read time through.

use crate::auth::TokenIssuer;
use crate::clock::ClockControl;
use crate::description::{EventSource, StackDescription};
use crate::hooks::{HOOKS_PATH, Notifications};
use crate::http::{FunctionStatus, HttpState, Route};
use crate::registry::{self, Handler};
use crate::schedule::{self, ScheduleSource};
use crate::sqs::{self, SqsSource};
use anyhow::Context as _;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use helpdesk::adapters::clock::SharedClock;
use helpdesk::config::Env;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long shutdown waits for an invocation in flight before abandoning it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The WhatsApp Business Account of the local simulator (its default
/// `WHATSAPP_WABA_ID`): what a function declaring `WHATSAPP_WABA_ID` without
/// a value gets, unless `extra_env` names another.
pub const LOCAL_WABA_ID: &str = "200000000000001";

/// The WhatsApp secrets the local functions get in their environment, since
/// moto does not create the template's Secrets Manager secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSecrets {
    /// `WHATSAPP_APP_SECRET`: the key of the webhook signatures.
    pub app_secret: String,
    /// `WHATSAPP_VERIFY_TOKEN`: the webhook verification token.
    pub verify_token: String,
    /// `WHATSAPP_ACCESS_TOKEN`: the Graph API bearer token.
    pub access_token: String,
}

impl Default for LocalSecrets {
    fn default() -> Self {
        LocalSecrets {
            app_secret: "local-app-secret".to_owned(),
            verify_token: "local-verify-token".to_owned(),
            access_token: "local-access-token".to_owned(),
        }
    }
}

impl LocalSecrets {
    /// `WHATSAPP_APP_SECRET`, `WHATSAPP_VERIFY_TOKEN` and `WHATSAPP_ACCESS_TOKEN`
    /// from the process environment, each defaulting as [`LocalSecrets::default`].
    pub fn from_env() -> LocalSecrets {
        let defaults = LocalSecrets::default();
        LocalSecrets {
            app_secret: env_or("WHATSAPP_APP_SECRET", defaults.app_secret),
            verify_token: env_or("WHATSAPP_VERIFY_TOKEN", defaults.verify_token),
            access_token: env_or("WHATSAPP_ACCESS_TOKEN", defaults.access_token),
        }
    }
}

/// A process environment variable, or `default` when unset or blank.
pub fn env_or(name: &str, default: String) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or(default)
}

/// How the runner runs.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// The HTTP port on 127.0.0.1; 0 picks a free one.
    pub http_port: u16,
    /// `WHATSAPP_GRAPH_URL` for the functions that declare it.
    pub graph_url: String,
    /// `WHATSAPP_PHONE_NUMBER_ID` for every function.
    pub phone_number_id: String,
    /// The WhatsApp secrets for the functions that declare `WHATSAPP_SECRET_ARN`.
    pub secrets: LocalSecrets,
    /// SQS long-poll wait (`WaitTimeSeconds`), 0 to 20.
    pub poll_wait_seconds: i32,
    /// Variables added to every function's environment, last, so they win
    /// over the stack's and the runner's own (`LOCAL_HOOKS_URL` and
    /// `CONSOLE_URL` included);
    /// for example `DESK_CONFIG_FILE` naming a test configuration.
    pub extra_env: BTreeMap<String, String>,
    /// The WhatsApp simulator playing the customers, when there is one: moving
    /// the runner's clock moves its clock too, so message timestamps and the
    /// 24-hour window agree with the helpdesk's time. `None` when `graph_url`
    /// is another Cloud API (its clock is its own).
    pub simulator_url: Option<String>,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            http_port: 0,
            graph_url: "http://127.0.0.1:3001".to_owned(),
            phone_number_id: "100000000000001".to_owned(),
            secrets: LocalSecrets::default(),
            poll_wait_seconds: 20,
            extra_env: BTreeMap::new(),
            simulator_url: None,
        }
    }
}

/// The SDK configuration every local function gets: the stack's endpoint and
/// region, moto's test credentials.
pub async fn sdk_config(stack: &StackDescription) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&stack.endpoint)
        .region(Region::new(stack.region.clone()))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "devstack",
        ))
        .load()
        .await
}

/// A function's environment: the stack's resolved one, plus what the deployed
/// function would get from Lambda and Secrets Manager, from `options`, then
/// `options.extra_env`.
pub fn function_environment(
    stack: &StackDescription,
    logical_id: &str,
    options: &RunnerOptions,
) -> HashMap<String, String> {
    let Some(function) = stack.functions.get(logical_id) else {
        return HashMap::new();
    };
    let mut env: HashMap<String, String> = function
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Lambda's own variables, so handlers that read them see the same as deployed.
    env.insert("AWS_REGION".to_owned(), stack.region.clone());
    env.insert("AWS_DEFAULT_REGION".to_owned(), stack.region.clone());
    if !function.function_name.is_empty() {
        env.insert("AWS_LAMBDA_FUNCTION_NAME".to_owned(), function.function_name.clone());
    }
    if stack.declares_env(logical_id, "WHATSAPP_SECRET_ARN") {
        env.insert("WHATSAPP_APP_SECRET".to_owned(), options.secrets.app_secret.clone());
        env.insert("WHATSAPP_VERIFY_TOKEN".to_owned(), options.secrets.verify_token.clone());
        env.insert("WHATSAPP_ACCESS_TOKEN".to_owned(), options.secrets.access_token.clone());
    }
    if stack.declares_env(logical_id, "WHATSAPP_GRAPH_URL") {
        env.insert("WHATSAPP_GRAPH_URL".to_owned(), options.graph_url.clone());
    }
    if stack.declares_env(logical_id, "WHATSAPP_WABA_ID") && env.get("WHATSAPP_WABA_ID").is_none_or(|v| v.is_empty()) {
        env.insert("WHATSAPP_WABA_ID".to_owned(), LOCAL_WABA_ID.to_owned());
    }
    env.insert("WHATSAPP_PHONE_NUMBER_ID".to_owned(), options.phone_number_id.clone());
    // The console signs agents in with the local token issuer (no Cognito
    // here), and its media links point at moto.
    if stack.declares_env(logical_id, "CONSOLE_AUTH_MODE") {
        env.insert("CONSOLE_AUTH_MODE".to_owned(), "local".to_owned());
        env.remove("COGNITO_DOMAIN_URL");
        env.remove("COGNITO_CLIENT_ID");
    }
    if stack.declares_env(logical_id, "MEDIA_ORIGIN_URL") {
        env.insert("MEDIA_ORIGIN_URL".to_owned(), stack.endpoint.clone());
    }
    env.extend(options.extra_env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// The local event sources of one stack, running.
pub struct Runner {
    /// `http://127.0.0.1:PORT`.
    pub http_url: String,
    /// `http://127.0.0.1:PORT/_local/hooks`, the functions' `LOCAL_HOOKS_URL`
    /// unless `extra_env` names another.
    pub hooks_url: String,
    /// What the local Slack and Teams webhooks received.
    pub notifications: Notifications,
    /// The address the HTTP server listens on.
    pub addr: SocketAddr,
    /// The clock this stack's functions read time through (its own, not
    /// shared with other runners); `POST /_local/clock/advance` moves it.
    pub clock: SharedClock,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    tasks: Vec<JoinHandle<()>>,
}

impl Runner {
    /// Builds every function's handler from the registry and starts serving.
    pub async fn start(stack: &StackDescription, options: RunnerOptions) -> anyhow::Result<Runner> {
        Runner::start_with_handlers(stack, options, HashMap::new()).await
    }

    /// Like [`Runner::start`], with `extra` handlers by binary name taking the
    /// place of the registry's (for tests, or binaries not registered yet).
    pub async fn start_with_handlers(
        stack: &StackDescription,
        options: RunnerOptions,
        extra: HashMap<String, Handler>,
    ) -> anyhow::Result<Runner> {
        // Bound first: the functions' LOCAL_HOOKS_URL needs the port, and with
        // `http_port: 0` it is only known now.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.http_port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", options.http_port))?;
        let addr = listener.local_addr()?;
        let http_url = format!("http://{addr}");
        let mut options = options;
        let hooks_url = options
            .extra_env
            .entry("LOCAL_HOOKS_URL".to_owned())
            .or_insert_with(|| format!("{http_url}{HOOKS_PATH}"))
            .clone();
        // The console this runner serves, for the "Open ticket" links of notifications.
        options
            .extra_env
            .entry("CONSOLE_URL".to_owned())
            .or_insert_with(|| format!("{http_url}/console"));
        let notifications = Notifications::default();
        let clock = SharedClock::system();

        let sdk = sdk_config(stack).await;
        let sqs_client = aws_sdk_sqs::Client::new(&sdk);
        let (stop, stop_rx) = watch::channel(false);

        let mut routes = Vec::new();
        let mut functions = Vec::new();
        let mut pollers = Vec::new();
        let mut schedules = Vec::new();
        for (logical_id, function) in &stack.functions {
            let handler = match extra.get(&function.binary) {
                Some(handler) => Some(handler.clone()),
                None => {
                    let env =
                        Env::from_map(function_environment(stack, logical_id, &options)).with_clock(clock.clone());
                    registry::build(&function.binary, &env, &sdk)
                        .await
                        .map_err(|e| anyhow::anyhow!("{logical_id} ({}) failed to initialise: {e}", function.binary))?
                }
            };
            if handler.is_none() {
                tracing::warn!(function = %logical_id, binary = %function.binary, "no local handler; function skipped");
            }
            functions.push(FunctionStatus {
                name: logical_id.clone(),
                binary: function.binary.clone(),
                handler: handler.is_some(),
            });
            let function_arn = format!(
                "arn:aws:lambda:{}:{}:function:{}",
                stack.region, stack.account_id, function.function_name
            );
            for event in &function.events {
                match (event, &handler) {
                    (
                        EventSource::Http {
                            method,
                            path,
                            authorizer,
                        },
                        handler,
                    ) => {
                        let http = match handler {
                            Some(Handler::Http(f)) => Some(f.clone()),
                            Some(other) => {
                                mismatch(logical_id, "http", other);
                                None
                            }
                            None => None,
                        };
                        let authorized = authorizer.as_deref().is_some_and(|a| !a.is_empty());
                        routes.push(Route::new(logical_id, &function.binary, method, path, authorized, http));
                    }
                    (
                        EventSource::Sqs {
                            queue_url,
                            queue_arn,
                            batch_size,
                            report_batch_item_failures,
                        },
                        Some(handler),
                    ) => match handler {
                        Handler::Sqs(f) => pollers.push((
                            SqsSource {
                                function: logical_id.clone(),
                                function_arn: function_arn.clone(),
                                queue_url: queue_url.clone(),
                                queue_arn: queue_arn.clone(),
                                batch_size: *batch_size,
                                report_batch_item_failures: *report_batch_item_failures,
                                region: stack.region.clone(),
                            },
                            f.clone(),
                        )),
                        other => mismatch(logical_id, "sqs", other),
                    },
                    (
                        EventSource::Schedule {
                            expression,
                            rate_seconds,
                        },
                        Some(handler),
                    ) => match (handler, rate_seconds) {
                        (Handler::Schedule(f), Some(seconds)) => schedules.push((
                            ScheduleSource {
                                function: logical_id.clone(),
                                function_arn: function_arn.clone(),
                                expression: expression.clone(),
                                period: Duration::from_secs(*seconds),
                                region: stack.region.clone(),
                                account_id: stack.account_id.clone(),
                            },
                            f.clone(),
                        )),
                        (Handler::Schedule(_), None) => tracing::warn!(
                            function = %logical_id,
                            expression = %expression,
                            "only rate() schedules fire locally; this one is skipped"
                        ),
                        (other, _) => mismatch(logical_id, "schedule", other),
                    },
                    _ => {}
                }
            }
        }

        let state = Arc::new(HttpState {
            routes,
            issuer: TokenIssuer::new(),
            agents: crate::agents::local_agents(),
            functions,
            account_id: stack.account_id.clone(),
            notifications: notifications.clone(),
            clock: ClockControl::new(clock.clone(), schedules.clone(), options.simulator_url.clone()),
        });
        let app = crate::http::app(state).into_make_service_with_connect_info::<SocketAddr>();
        let mut server_stop = stop_rx.clone();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = server_stop.changed().await;
            };
            if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::error!(error = %error, "HTTP server stopped");
            }
        });

        let mut tasks = Vec::new();
        for (source, handler) in pollers {
            tracing::info!(function = %source.function, queue = source.queue_name(), "polling");
            tasks.push(tokio::spawn(sqs::poll(
                sqs_client.clone(),
                source,
                handler,
                options.poll_wait_seconds.clamp(0, 20),
                stop_rx.clone(),
            )));
        }
        for (source, handler) in schedules {
            tracing::info!(function = %source.function, schedule = %source.expression, "scheduled");
            tasks.push(tokio::spawn(schedule::fire(
                source,
                handler,
                clock.clone(),
                stop_rx.clone(),
            )));
        }

        tracing::info!(url = %http_url, "runner listening");
        Ok(Runner {
            http_url,
            hooks_url,
            notifications,
            addr,
            clock,
            stop,
            server,
            tasks,
        })
    }

    /// Stops the pollers, the schedules and the HTTP server, letting an
    /// invocation in flight finish for a few seconds.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks.into_iter().chain(std::iter::once(self.server)) {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

fn mismatch(logical_id: &str, event: &str, handler: &Handler) {
    tracing::warn!(
        function = %logical_id,
        event,
        handler = handler.kind(),
        "the local handler does not take this kind of event; trigger skipped"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::FunctionDescription;

    fn stack() -> StackDescription {
        let mut stack = StackDescription {
            endpoint: "http://127.0.0.1:1".into(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            stack_name: "t".into(),
            ..Default::default()
        };
        let mut sender = FunctionDescription {
            binary: "sender".into(),
            ..Default::default()
        };
        sender
            .environment
            .insert("WHATSAPP_GRAPH_URL".into(), "https://graph.facebook.com".into());
        sender.environment.insert("TICKETS_QUEUE_URL".into(), "q".into());
        stack.functions.insert("SenderFunction".into(), sender);
        stack.functions.insert(
            "BotFunction".into(),
            FunctionDescription {
                binary: "bot".into(),
                ..Default::default()
            },
        );
        stack
            .unresolved_environment
            .insert("SenderFunction".into(), vec!["WHATSAPP_SECRET_ARN".into()]);
        stack
    }

    #[test]
    fn a_function_declaring_the_secret_and_graph_url_gets_the_local_ones() {
        let options = RunnerOptions {
            graph_url: "http://127.0.0.1:3001".into(),
            ..Default::default()
        };

        let env = function_environment(&stack(), "SenderFunction", &options);

        assert_eq!(env["WHATSAPP_GRAPH_URL"], "http://127.0.0.1:3001");
        assert_eq!(env["WHATSAPP_APP_SECRET"], "local-app-secret");
        assert_eq!(env["WHATSAPP_VERIFY_TOKEN"], "local-verify-token");
        assert_eq!(env["WHATSAPP_ACCESS_TOKEN"], "local-access-token");
        assert_eq!(env["WHATSAPP_PHONE_NUMBER_ID"], "100000000000001");
        assert_eq!(env["TICKETS_QUEUE_URL"], "q");
    }

    #[test]
    fn a_function_declaring_an_empty_business_account_gets_the_simulator_s_unless_one_is_given() {
        let mut stack = stack();
        let mut api = FunctionDescription {
            binary: "agent-api".into(),
            ..Default::default()
        };
        api.environment.insert("WHATSAPP_WABA_ID".into(), String::new());
        stack.functions.insert("AgentApiFunction".into(), api);
        let named = RunnerOptions {
            extra_env: BTreeMap::from([("WHATSAPP_WABA_ID".to_owned(), "123".to_owned())]),
            ..Default::default()
        };

        let local = function_environment(&stack, "AgentApiFunction", &RunnerOptions::default());
        let given = function_environment(&stack, "AgentApiFunction", &named);
        let sender = function_environment(&stack, "SenderFunction", &RunnerOptions::default());

        assert_eq!(local["WHATSAPP_WABA_ID"], LOCAL_WABA_ID);
        assert_eq!(given["WHATSAPP_WABA_ID"], "123");
        assert!(!sender.contains_key("WHATSAPP_WABA_ID"));
    }

    #[test]
    fn a_function_declaring_neither_gets_no_secret_and_no_graph_url() {
        let env = function_environment(&stack(), "BotFunction", &RunnerOptions::default());

        assert!(!env.contains_key("WHATSAPP_APP_SECRET"));
        assert!(!env.contains_key("WHATSAPP_GRAPH_URL"));
        assert_eq!(env["WHATSAPP_PHONE_NUMBER_ID"], "100000000000001");
    }

    #[test]
    fn the_console_gets_the_local_sign_in_and_moto_as_its_media_origin() {
        let mut stack = stack();
        let mut console = FunctionDescription {
            binary: "console".into(),
            ..Default::default()
        };
        console.environment.insert("CONSOLE_AUTH_MODE".into(), "cognito".into());
        console
            .environment
            .insert("MEDIA_ORIGIN_URL".into(), "https://b.s3.us-east-1.amazonaws.com".into());
        stack.functions.insert("ConsoleFunction".into(), console);
        stack.unresolved_environment.insert(
            "ConsoleFunction".into(),
            vec!["COGNITO_CLIENT_ID".into(), "COGNITO_DOMAIN_URL".into()],
        );

        let env = function_environment(&stack, "ConsoleFunction", &RunnerOptions::default());
        let bot = function_environment(&stack, "BotFunction", &RunnerOptions::default());

        assert_eq!(env["CONSOLE_AUTH_MODE"], "local");
        assert_eq!(env["MEDIA_ORIGIN_URL"], "http://127.0.0.1:1");
        assert!(!env.contains_key("COGNITO_CLIENT_ID"));
        assert!(!bot.contains_key("CONSOLE_AUTH_MODE"));
        assert!(!bot.contains_key("MEDIA_ORIGIN_URL"));
    }

    #[test]
    fn extra_variables_reach_every_function_and_win_over_the_stack_s() {
        let options = RunnerOptions {
            extra_env: BTreeMap::from([
                ("DESK_CONFIG_FILE".to_owned(), "/tmp/desk.toml".to_owned()),
                ("TICKETS_QUEUE_URL".to_owned(), "elsewhere".to_owned()),
            ]),
            ..Default::default()
        };

        let sender = function_environment(&stack(), "SenderFunction", &options);
        let bot = function_environment(&stack(), "BotFunction", &options);

        assert_eq!(sender["DESK_CONFIG_FILE"], "/tmp/desk.toml");
        assert_eq!(bot["DESK_CONFIG_FILE"], "/tmp/desk.toml");
        assert_eq!(sender["TICKETS_QUEUE_URL"], "elsewhere");
    }
}
