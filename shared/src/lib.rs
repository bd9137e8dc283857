//! The helpdesk's library: a pure domain (no AWS crates) and the adapters that
//! connect it to DynamoDB, SQS, EventBridge, Secrets Manager and the Graph API.

// The ports are used only inside this workspace, with concrete adapters, so
// the futures of their `async fn`s are checked for `Send` where they are spawned.
#![allow(async_fn_in_trait)]

pub mod adapters;
pub mod config;
pub mod domain;
pub mod ports;
