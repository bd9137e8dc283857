//! The local runner: plays the part of Lambda's event sources for the
//! helpdesk's functions on one machine, over moto. HTTP routes are served as
//! API Gateway HTTP API would, SQS queues are long-polled as an event source
//! mapping would, schedules fire on their rate; the handlers are the same code
//! that runs on Lambda.
//!
//! Local-only endpoints on the same port, for people and tests (none exists in
//! the deployed stack):
//! - `GET /_local/token?agent=<name>&teams=<a,b>[&format=raw]`: a JWT the agent
//!   API accepts.
//! - `GET /_local/agents`: the people to sign in as (`config/local-agents.toml`),
//!   `{"agents": [{"name", "teams", "role"}]}`, for the console's local sign-in;
//!   each one's `teams` joined by `,` is the token's `teams`.
//! - `GET` / `DELETE /_local/notifications`: what the notifier posted to the
//!   local Slack and Teams webhooks, newest last.
//! - `GET /_local/clock`: the time the stack's functions see,
//!   `{"now_ms", "now", "offset_ms"}`.
//! - `POST /_local/clock/advance?minutes=N` (or `hours=N`, or both): moves that
//!   clock forward, and the WhatsApp simulator's with it, then fires every
//!   schedule once and answers after it ran, listing what fired and how each
//!   did (`fired`: function, `ok`, the sweep's report or the error). A missing,
//!   negative or non-numeric amount is refused with 400.
//! - `GET /_local/health`: the functions and whether each has a local handler.

pub mod agents;
pub mod auth;
pub mod clock;
pub mod description;
pub mod hooks;
pub mod http;
pub mod moto;
pub mod registry;
pub mod runner;
pub mod schedule;
pub mod sqs;

pub use description::{EventSource, FunctionDescription, StackDescription};
pub use hooks::{CapturedPost, Notifications};
pub use moto::{Moto, create_stack, create_stack_at};
pub use registry::Handler;
pub use runner::{LocalSecrets, Runner, RunnerOptions, function_environment, sdk_config};

use rand::RngCore;
use std::path::PathBuf;

/// The repository root (where `template.yaml` and `.venv-local` are).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..");
    root.canonicalize().unwrap_or(root)
}

/// A random id shaped like a UUID, for request ids.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
