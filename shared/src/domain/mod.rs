//! The domain: WhatsApp payloads, tickets, the bot's decisions. Imports no AWS crate.

pub mod attachment;
pub mod audit;
pub mod bot;
pub mod calendar;
pub mod canned;
pub mod commands;
pub mod conversation;
pub mod desk;
pub mod events;
pub mod feed;
pub mod i18n;
pub mod identity;
pub mod ids;
pub mod inbound;
pub mod media;
pub mod notices;
pub mod outbound;
pub mod privacy;
pub mod reports;
pub mod signature;
pub mod sla;
pub mod ticket;
pub mod tickets;
pub mod triggers;
pub mod views;
pub mod vision;
