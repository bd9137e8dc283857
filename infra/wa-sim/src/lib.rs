//! WhatsApp Cloud API simulator, as of 2026: a Graph API that accepts and validates sends as Meta
//! does (to phones or business-scoped user ids, from several business numbers, against approved
//! templates, on the Graph API versions Meta serves), and a control API that plays customers
//! (with BSUIDs, usernames and withheld phones), delivering their messages, system events,
//! coexistence echoes and message statuses as signed webhooks.

pub mod chat;
mod control;
mod customer;
mod errors;
mod graph;
mod identity;
mod ids;
mod media;
mod state;
mod templates;
mod validate;
mod versions;
mod webhook;

pub use identity::default_user_id;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
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
    /// The first business phone number id, e.g. `100000000000001`: customers write to it unless
    /// the control call names another.
    pub phone_number_id: String,
    /// The first business display phone number, e.g. `15550000001`.
    pub display_phone_number: String,
    /// More business numbers of the same account, as `(phone_number_id, display_phone_number)`.
    pub extra_numbers: Vec<(String, String)>,
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

/// Reads `WHATSAPP_EXTRA_PHONE_NUMBERS`: `id:display` pairs separated by commas, e.g.
/// `100000000000002:15550000002,100000000000003:15550000003`. Malformed pairs are skipped with a warning.
pub fn parse_extra_numbers(raw: &str) -> Vec<(String, String)> {
    raw.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
            match pair.split_once(':') {
                Some((id, display)) if digits(id.trim()) && digits(display.trim()) => {
                    Some((id.trim().to_string(), display.trim().to_string()))
                }
                _ => {
                    tracing::warn!(
                        pair,
                        "WHATSAPP_EXTRA_PHONE_NUMBERS: expected phone_number_id:display_phone_number in digits; skipped"
                    );
                    None
                }
            }
        })
        .collect()
}

impl Default for SimConfig {
    /// A simulator on a free port of 127.0.0.1 with the local defaults of [`SimConfig::from_env`]
    /// and its webhooks going nowhere until [`RunningSim::set_webhook_url`].
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            webhook_url: "http://127.0.0.1:9/webhook".into(),
            app_secret: "local-app-secret".into(),
            access_token: "local-access-token".into(),
            phone_number_id: "100000000000001".into(),
            display_phone_number: "15550000001".into(),
            extra_numbers: Vec::new(),
            waba_id: "200000000000001".into(),
            status_callbacks: true,
        }
    }
}

impl SimConfig {
    /// Settings from the environment: `WA_SIM_PORT` (3001, on 127.0.0.1), `HELPDESK_WEBHOOK_URL`
    /// (`http://127.0.0.1:${HELPDESK_HTTP_PORT:-3000}/webhook`), `WHATSAPP_APP_SECRET`,
    /// `WHATSAPP_ACCESS_TOKEN`, `WHATSAPP_PHONE_NUMBER_ID`, `WHATSAPP_DISPLAY_PHONE_NUMBER`,
    /// `WHATSAPP_EXTRA_PHONE_NUMBERS` (more numbers: `id:display,id:display`; none by default),
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
            extra_numbers: parse_extra_numbers(&env_or("WHATSAPP_EXTRA_PHONE_NUMBERS", "")),
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
        .route("/_sim/customers/{customer}/messages", post(customer::customer_message))
        .route("/_sim/customers/{customer}/inbox", get(customer::inbox))
        .route("/_sim/customers/{customer}/deliveries", get(customer::deliveries))
        .route(
            "/_sim/customers/{customer}/change-number",
            post(customer::change_number),
        )
        .route(
            "/_sim/customers/{customer}/change-user-id",
            post(customer::change_user_id),
        )
        .route("/_sim/customers/{customer}/share-phone", post(customer::share_phone))
        .route("/_sim/customers/{customer}/echo", post(customer::echo))
        .route(
            "/_sim/customers/{customer}",
            get(customer::customer).put(customer::put_customer),
        )
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
        .route(
            "/_sim/templates",
            get(control::get_templates).post(control::set_templates),
        )
        .route("/_sim/templates/{name}", delete(control::delete_template))
        .route("/_media/{media_id}", get(graph::download_media))
        .route("/{version}/{phone_number_id}/messages", post(graph::post_messages))
        .route("/{version}/{phone_number_id}/media", post(graph::upload_media))
        .route("/{version}/{waba_id}/message_templates", get(graph::list_templates))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_numbers_are_read_as_id_display_pairs_and_malformed_ones_skipped() {
        let numbers = parse_extra_numbers(" 100000000000002:15550000002 , bad,1:x, 100000000000003:15550000003,");

        assert_eq!(
            numbers,
            vec![
                ("100000000000002".to_string(), "15550000002".to_string()),
                ("100000000000003".to_string(), "15550000003".to_string()),
            ]
        );
        assert!(parse_extra_numbers("").is_empty());
    }
}
