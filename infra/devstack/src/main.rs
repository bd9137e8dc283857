//! `devstack`: the local stack on one machine. `devstack up` starts moto,
//! creates the stack from `template.yaml`, starts the WhatsApp simulator and
//! the runner, and stops them all on Ctrl-C.

use anyhow::Context;
use clap::{Parser, Subcommand};
use devstack::runner::env_or;
use devstack::{LocalSecrets, Moto, Runner, RunnerOptions, create_stack, create_stack_at, repo_root};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "devstack",
    about = "The helpdesk's local stack: moto, the functions' event sources, the WhatsApp simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start moto, the stack, the simulator and the runner; Ctrl-C stops them.
    Up,
    /// Create the stack in moto and write its description.
    Stack {
        /// An already running moto; without it one is started and kept until Ctrl-C.
        #[arg(long)]
        endpoint: Option<String>,
        /// Stack name.
        #[arg(long, env = "HELPDESK_STACK_NAME", default_value = "dev")]
        stack_name: String,
        /// Template parameter, KEY=VALUE (repeatable).
        #[arg(long = "param")]
        params: Vec<String>,
        /// Where to write the description (default `.local/<stack>.json`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn port(name: &str, default: u16) -> anyhow::Result<u16> {
    env_or(name, default.to_string())
        .parse()
        .with_context(|| format!("{name} is not a port number"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws_config=warn,aws_smithy_runtime=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Up => up().await,
        Command::Stack {
            endpoint,
            stack_name,
            params,
            out,
        } => stack(endpoint, stack_name, params, out).await,
    }
}

async fn up() -> anyhow::Result<()> {
    let root = repo_root();
    let http_port = port("HELPDESK_HTTP_PORT", 3000)?;
    let sim_port = port("WA_SIM_PORT", 3001)?;
    let moto_port = port("MOTO_PORT", 0)?;
    let secrets = LocalSecrets::from_env();
    let phone_number_id = env_or("WHATSAPP_PHONE_NUMBER_ID", "100000000000001".to_owned());
    let stack_name = env_or("HELPDESK_STACK_NAME", "dev".to_owned());

    let moto = Moto::start(&root, moto_port).await?;
    // Short visibility timeouts so a failed message is retried within seconds locally.
    let mut params = vec![("QueueVisibilityTimeout", "10"), ("MediaQueueVisibilityTimeout", "60")];
    // The Graph API version, as a deployment sets it: the template's parameter.
    let api_version = env_or("WHATSAPP_API_VERSION", String::new());
    if !api_version.is_empty() {
        params.push(("GraphApiVersion", &api_version));
    }
    let description = match create_stack(&root, &moto.endpoint, &stack_name, &params).await {
        Ok(description) => description,
        Err(error) => {
            moto.shutdown().await;
            return Err(error);
        }
    };

    let mut sim_config = wa_sim::SimConfig::from_env();
    // The Business Account whose templates the agent API lists: the simulator's.
    let waba_id = sim_config.waba_id.clone();
    sim_config.bind = SocketAddr::from(([127, 0, 0, 1], sim_port));
    sim_config.webhook_url = format!("http://127.0.0.1:{http_port}/webhook");
    sim_config.app_secret = secrets.app_secret.clone();
    sim_config.access_token = secrets.access_token.clone();
    sim_config.phone_number_id = phone_number_id.clone();
    let sim = match wa_sim::start(sim_config).await {
        Ok(sim) => sim,
        Err(error) => {
            moto.shutdown().await;
            return Err(error.context(format!("starting the WhatsApp simulator on port {sim_port}")));
        }
    };

    let graph_url = env_or("WHATSAPP_GRAPH_URL", sim.url.clone());
    let options = RunnerOptions {
        http_port,
        // The simulator's clock follows the runner's only when it is the Graph API the functions call.
        simulator_url: (graph_url.trim_end_matches('/') == sim.url).then(|| sim.url.clone()),
        graph_url,
        phone_number_id,
        secrets,
        poll_wait_seconds: 20,
        extra_env: [("WHATSAPP_WABA_ID".to_owned(), waba_id)].into(),
    };
    let runner = match Runner::start(&description, options).await {
        Ok(runner) => runner,
        Err(error) => {
            sim.shutdown().await;
            moto.shutdown().await;
            return Err(error);
        }
    };
    // With HELPDESK_HTTP_PORT=0 the port is only known now.
    sim.set_webhook_url(format!("{}/webhook", runner.http_url));

    let url = &runner.http_url;
    println!(
        "\nhelpdesk local stack `{stack_name}` is up\n\
         \n  helpdesk      {url}\
         \n  webhook       {url}/webhook\
         \n  agent API     {url}/api/\
         \n  console       {url}/console/\
         \n  notifications {url}/_local/notifications\
         \n  clock         {url}/_local/clock\
         \n  simulator     {sim_url}\
         \n  moto          {moto_url}\
         \n  description   {description_path}\
         \n\
         \nTry:\
         \n  cargo run -p wa-sim -- chat --as 15551230001\
         \n  TOKEN=$(curl -s '{url}/_local/token?agent=ana&teams=support&format=raw')\
         \n  curl -H \"Authorization: Bearer $TOKEN\" {url}/api/tickets?status=queued\
         \n  curl -X POST '{url}/_local/clock/advance?minutes=30'\
         \n\nCtrl-C stops everything.\n",
        sim_url = sim.url,
        moto_url = moto.endpoint,
        description_path = root.join(".local").join(format!("{stack_name}.json")).display(),
    );

    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("\nstopping...");
    runner.shutdown().await;
    sim.shutdown().await;
    moto.shutdown().await;
    Ok(())
}

async fn stack(
    endpoint: Option<String>,
    stack_name: String,
    params: Vec<String>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let root = repo_root();
    let out = out.unwrap_or_else(|| root.join(".local").join(format!("{stack_name}.json")));
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|p| {
            p.split_once('=')
                .with_context(|| format!("--param {p} is not KEY=VALUE"))
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(endpoint) = endpoint {
        create_stack_at(&root, &endpoint, &stack_name, &pairs, &out).await?;
        println!("{}", out.display());
        return Ok(());
    }
    let moto = Moto::start(&root, port("MOTO_PORT", 0)?).await?;
    if let Err(error) = create_stack_at(&root, &moto.endpoint, &stack_name, &pairs, &out).await {
        moto.shutdown().await;
        return Err(error);
    }
    println!("{}", out.display());
    println!("moto at {} keeps the stack until Ctrl-C", moto.endpoint);
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    moto.shutdown().await;
    Ok(())
}
