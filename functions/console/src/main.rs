//! Lambda entry point of the console function: wiring only.

use helpdesk::config::Env;
use lambda_http::{run, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = Env::from_process();
    let console = console::Console::from_env(&env)?;
    run(service_fn(|request| console.handle(request))).await
}
