//! `wa-sim`: runs the WhatsApp Cloud API simulator, or chats with it as a customer.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "wa-sim", about = "Local WhatsApp Cloud API simulator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Graph API and the control API (settings from the environment).
    Serve,
    /// Chat as a customer at the terminal.
    Chat {
        /// The customer: phone number in digits, or business-scoped user id (US.1349…).
        #[arg(long = "as")]
        customer: String,
        /// The simulator's base URL.
        #[arg(long, default_value = "http://127.0.0.1:3001")]
        sim: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("wa_sim=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve => {
            let config = wa_sim::SimConfig::from_env();
            let webhook = config.webhook_url.clone();
            let sim = wa_sim::start(config).await?;
            println!("{}", sim.url);
            eprintln!("WhatsApp simulator at {} delivering webhooks to {webhook}", sim.url);
            tokio::signal::ctrl_c().await?;
            sim.shutdown().await;
        }
        Command::Chat { customer, sim } => wa_sim::chat::run(&sim, &customer).await?,
    }
    Ok(())
}
