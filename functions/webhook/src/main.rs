//! Lambda entry point of the webhook function: wiring only.

use helpdesk::adapters::aws::load_sdk_config;
use helpdesk::config::Env;
use lambda_http::{run, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = Env::from_process();
    let sdk = load_sdk_config(&env).await;
    let webhook = webhook::Webhook::from_env(&env, &sdk).await?;
    run(service_fn(|request| webhook.handle(request))).await
}
