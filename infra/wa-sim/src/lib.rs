//! WhatsApp Cloud API simulator: a Graph API that accepts and validates sends as Meta does, and a
//! control API that plays customers, delivering their messages and message statuses as signed webhooks.

pub mod chat;
mod control;
mod errors;
mod graph;
mod ids;
mod media;
mod state;
mod validate;
mod webhook;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Settings of one simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Where customer messages and statuses are POSTed, e.g. `http://127.0.0.1:3000/webhook`.
    pub webhook_url: String,
    /// HMAC-SHA256 key for `X-Hub-Signature-256`.
    pub app_secret: String,
    /// Bearer token the Graph side accepts.
    pub access_token: String,
    /// The business phone number id, e.g. `100000000000001`.
    pub phone_number_id: String,
    /// The business display phone number, e.g. `15550000001`.
    pub display_phone_number: String,
    /// The WhatsApp Business Account id, e.g. `200000000000001`.
    pub waba_id: String,
    /// Deliver sent, delivered and read statuses for every accepted outbound message.
    pub status_callbacks: bool,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

impl SimConfig {
    /// Settings from the environment: `WA_SIM_PORT` (3001, on 127.0.0.1), `HELPDESK_WEBHOOK_URL`
    /// (`http://127.0.0.1:${HELPDESK_HTTP_PORT:-3000}/webhook`), `WHATSAPP_APP_SECRET`,
    /// `WHATSAPP_ACCESS_TOKEN`, `WHATSAPP_PHONE_NUMBER_ID`, `WHATSAPP_DISPLAY_PHONE_NUMBER`,
    /// `WHATSAPP_WABA_ID` and `WA_SIM_STATUS_CALLBACKS` (`0`/`false` turns them off).
    pub fn from_env() -> Self {
        let port: u16 = env_or("WA_SIM_PORT", "3001").parse().unwrap_or(3001);
        let helpdesk_port = env_or("HELPDESK_HTTP_PORT", "3000");
        let status_callbacks = !matches!(
            env_or("WA_SIM_STATUS_CALLBACKS", "1").to_ascii_lowercase().as_str(),
            "0" | "false" | "no" | "off"
        );
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], port)),
            webhook_url: env_or(
                "HELPDESK_WEBHOOK_URL",
                &format!("http://127.0.0.1:{helpdesk_port}/webhook"),
            ),
            app_secret: env_or("WHATSAPP_APP_SECRET", "local-app-secret"),
            access_token: env_or("WHATSAPP_ACCESS_TOKEN", "local-access-token"),
            phone_number_id: env_or("WHATSAPP_PHONE_NUMBER_ID", "100000000000001"),
            display_phone_number: env_or("WHATSAPP_DISPLAY_PHONE_NUMBER", "15550000001"),
            waba_id: env_or("WHATSAPP_WABA_ID", "200000000000001"),
            status_callbacks,
        }
    }
}

/// A simulator serving in the background.
pub struct RunningSim {
    /// Base URL, e.g. `http://127.0.0.1:3001`.
    pub url: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningSim {
    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }

    /// Changes where webhooks are delivered from now on.
    pub fn set_webhook_url(&self, url: String) {
        self.shared.set_webhook_url(url);
    }
}

/// `sha256=<hex>`: the `X-Hub-Signature-256` value for `body` under `app_secret`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(app_secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sim/customers/{wa_id}/messages", post(control::customer_message))
        .route("/_sim/customers/{wa_id}/inbox", get(control::inbox))
        .route("/_sim/customers/{wa_id}/deliveries", get(control::deliveries))
        .route("/_sim/customers/{wa_id}", get(control::customer))
        .route(
            "/_sim/faults",
            post(control::set_faults)
                .get(control::get_faults)
                .delete(control::clear_faults),
        )
        .route("/_sim/clock", get(control::get_clock))
        .route("/_sim/clock/advance", post(control::advance_clock))
        .route("/_sim/reset", post(control::reset))
        .route("/_sim/config", get(control::get_config).post(control::set_config))
        .route("/_media/{media_id}", get(graph::download_media))
        .route("/{version}/{phone_number_id}/messages", post(graph::post_messages))
        .route("/{version}/{phone_number_id}/media", post(graph::upload_media))
        .route(
            "/{version}/{media_id}",
            get(graph::get_media).delete(graph::delete_media),
        )
        .fallback(graph::fallback)
        // Documents may be up to 100 MB.
        .layer(DefaultBodyLimit::max(110 * 1024 * 1024))
        .with_state(shared)
}

/// Binds `config.bind` and serves the simulator in the background.
pub async fn start(config: SimConfig) -> anyhow::Result<RunningSim> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let url = format!("http://{host}:{}", addr.port());
    let shared = Arc::new(Shared::new(&config, url.clone())?);
    let app = router(shared.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(err) = server.await {
            tracing::error!(error = %err, "simulator server stopped");
        }
    });
    tracing::info!(%url, "WhatsApp simulator listening");
    Ok(RunningSim {
        url,
        addr,
        shared,
        stop,
        task,
    })
}
