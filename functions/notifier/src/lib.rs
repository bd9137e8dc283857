//! The notifier function: tells agents about ticket events. Each record of the
//! notify queue is one EventBridge event (`TicketEscalated`, `SlaWarning`,
//! `SlaBreached`, `TicketReassigned`); the owning team's Slack and Microsoft Teams incoming
//! webhooks each get one message about it.
//!
//! Delivery is at least once. Slack and Teams webhooks take no deduplication
//! key, so a redelivered record can post a second time. Within one container
//! the notifier remembers which (event id, channel) pairs it has settled, so a
//! record whose Slack post succeeded and whose Teams post failed posts only to
//! Teams when SQS redelivers it to the same container; a redelivery that
//! lands on another (new) container posts to both again.

pub mod alert;
pub mod desk_targets;
pub mod payload;
pub mod redact;
pub mod targets;
pub mod webhook;

use crate::alert::Alert;
use crate::payload::{Summary, slack_message, teams_message};
use crate::targets::{Channel, Targets};
use crate::webhook::{Deadline, DeliveryError, RetryPolicy, WebhookClient};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::lambda_sqs::handle_in_order;
use helpdesk::config::Env;
use lambda_runtime::LambdaEvent;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

/// (event id, channel) pairs remembered at most; the oldest are forgotten
/// first. Redeliveries come within minutes, long before this many events.
const SETTLED_CAPACITY: usize = 10_000;

/// Why a record is reported for redelivery.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// At least one channel could not be reached in this invocation.
    #[error("team {team}: {channels} webhook unavailable; the event will be redelivered")]
    Unavailable {
        /// The team's id.
        team: String,
        /// The channels that failed, comma-separated.
        channels: String,
    },
}

/// Why the notifier could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// `DESK_CONFIG_FILE` names a file that cannot be read.
    #[error("DESK_CONFIG_FILE {path} cannot be read")]
    ReadConfig {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The desk configuration is invalid.
    #[error("the desk configuration is invalid: {0}")]
    Desk(String),
    /// The HTTP client could not be built.
    #[error("the HTTP client cannot be built")]
    Http(#[source] reqwest::Error),
}

/// The (event id, channel) pairs this container has settled: posted, or
/// refused for good. Bounded, oldest forgotten first.
#[derive(Default)]
struct Settled {
    set: HashSet<(String, Channel)>,
    order: VecDeque<(String, Channel)>,
}

impl Settled {
    fn contains(&self, event: &str, channel: Channel) -> bool {
        self.set.contains(&(event.to_owned(), channel))
    }

    fn insert(&mut self, event: &str, channel: Channel) {
        let key = (event.to_owned(), channel);
        if self.set.insert(key.clone()) {
            self.order.push_back(key);
        }
        while self.order.len() > SETTLED_CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(&oldest);
            }
        }
    }
}

/// The notifier: each team's targets, resolved at init, and a webhook client.
pub struct Notifier {
    targets: HashMap<String, Targets>,
    client: WebhookClient,
    settled: Mutex<Settled>,
}

impl Notifier {
    /// Reads the desk configuration (`DESK_CONFIG_FILE` if set, else the one
    /// built in) and resolves every team's webhook URLs from `env`. A URL
    /// naming an unset variable is left out and logged once, here.
    pub async fn from_env(env: &Env, _sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let targets = desk_targets::load(env)?;
        let channels: usize = targets
            .values()
            .map(|t| Channel::ALL.iter().filter(|c| t.url(**c).is_some()).count())
            .sum();
        tracing::info!(teams = targets.len(), channels, "notification targets loaded");
        Ok(Notifier::new(targets, RetryPolicy::default())?)
    }

    /// A notifier posting to `targets` (by team id) with `policy`.
    pub fn new(targets: HashMap<String, Targets>, policy: RetryPolicy) -> Result<Self, InitError> {
        Ok(Notifier {
            targets,
            client: WebhookClient::new(policy).map_err(InitError::Http)?,
            settled: Mutex::new(Settled::default()),
        })
    }

    /// Handles a batch of the notify queue. Each record that could not be
    /// delivered everywhere, or is not a ticket event, is reported as a batch
    /// item failure (SQS redelivers it, then moves it to the DLQ).
    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        let deadline = Deadline::from_epoch_ms(event.context.deadline);
        Ok(handle_in_order(event.payload, |alert: Alert| self.notify(alert, deadline)).await)
    }

    /// Posts `alert` to each of its team's channels not yet settled for it.
    /// A team without targets is told nothing, which is not an error.
    pub async fn notify(&self, alert: Alert, deadline: Deadline) -> Result<(), NotifyError> {
        let team = alert.detail.team.as_str();
        let Some(targets) = self.targets.get(team) else {
            tracing::info!(event = %alert.id, kind = %alert.kind, team, ticket = %alert.detail.ticket_id, "the team has no notification target");
            return Ok(());
        };
        let summary = Summary::of(&alert, targets);
        let (slack, teams) = tokio::join!(
            self.post_once(&alert, Channel::Slack, targets, &summary, deadline),
            self.post_once(&alert, Channel::Teams, targets, &summary, deadline),
        );
        let failed: Vec<&str> = [slack, teams]
            .into_iter()
            .filter_map(Result::err)
            .map(Channel::as_str)
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(NotifyError::Unavailable {
                team: team.to_owned(),
                channels: failed.join(", "),
            })
        }
    }

    /// Posts to one channel unless it is settled for this event already.
    /// `Err(channel)` when it should be tried again on redelivery.
    async fn post_once(
        &self,
        alert: &Alert,
        channel: Channel,
        targets: &Targets,
        summary: &Summary,
        deadline: Deadline,
    ) -> Result<(), Channel> {
        let Some(url) = targets.url(channel) else {
            return Ok(());
        };
        if self.is_settled(&alert.id, channel) {
            tracing::info!(event = %alert.id, channel = %channel, "already posted from this container; not posted again");
            return Ok(());
        }
        let body = match channel {
            Channel::Slack => slack_message(summary),
            Channel::Teams => teams_message(summary),
        };
        let ticket = &alert.detail.ticket_id;
        let team = &alert.detail.team;
        match self.client.post(url, &body, deadline).await {
            Ok(delivered) => {
                tracing::info!(event = %alert.id, kind = %alert.kind, ticket = %ticket, team = %team, channel = %channel, attempts = delivered.attempts, "notified");
                self.settle(&alert.id, channel);
                Ok(())
            }
            Err(DeliveryError::Rejected { status }) => {
                // Posting again cannot succeed: the URL (or Slack/Teams' view
                // of it) needs fixing, so it is settled rather than retried.
                tracing::error!(event = %alert.id, kind = %alert.kind, ticket = %ticket, team = %team, channel = %channel, status, "the webhook refused the notification; check this team's webhook URL in the desk configuration");
                self.settle(&alert.id, channel);
                Ok(())
            }
            Err(error @ DeliveryError::Unavailable { .. }) => {
                tracing::warn!(event = %alert.id, kind = %alert.kind, ticket = %ticket, team = %team, channel = %channel, error = %error, "notification not delivered");
                Err(channel)
            }
        }
    }

    fn is_settled(&self, event: &str, channel: Channel) -> bool {
        self.settled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(event, channel)
    }

    fn settle(&self, event: &str, channel: Channel) {
        self.settled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(event, channel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settled_set_forgets_its_oldest_pairs_beyond_its_capacity() {
        let mut settled = Settled::default();

        for n in 0..=SETTLED_CAPACITY {
            settled.insert(&n.to_string(), Channel::Slack);
        }

        assert!(!settled.contains("0", Channel::Slack));
        assert!(settled.contains("1", Channel::Slack));
        assert!(settled.contains(&SETTLED_CAPACITY.to_string(), Channel::Slack));
        assert!(!settled.contains("1", Channel::Teams));
    }
}
