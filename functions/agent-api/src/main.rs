//! Lambda entry point of the agent API: wiring only.

use helpdesk::adapters::aws::load_sdk_config;
use helpdesk::config::Env;
use lambda_http::{run, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = Env::from_process();
    let sdk = load_sdk_config(&env).await;
    let api = agent_api::AgentApi::from_env(&env, &sdk).await?;
    run(service_fn(|request| api.handle(request))).await
}
