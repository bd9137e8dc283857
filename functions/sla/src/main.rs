//! Lambda entry point of the SLA sweep: wiring only.

use helpdesk::adapters::aws::load_sdk_config;
use helpdesk::config::Env;
use lambda_runtime::{run, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = Env::from_process();
    let sdk = load_sdk_config(&env).await;
    let sweep = sla::Sweep::from_env(&env, &sdk).await?;
    run(service_fn(|event| sweep.handle(event))).await
}
