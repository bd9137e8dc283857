//! Posting to an incoming webhook with retries: a 5xx, a 429 or a network
//! error is retried in the same invocation with backoff (honouring a short
//! `Retry-After`); any other 4xx means the webhook is misconfigured and is not
//! retried. Webhook URLs are secrets: no error or log here carries one.

use serde_json::Value;
use std::time::{Duration, Instant, SystemTime};

/// How a post is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Posts at most, the first included.
    pub attempts: u32,
    /// The wait before the second post; doubled before each later one.
    pub first_backoff: Duration,
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
    /// How long one post may take, connection included.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 3 posts, 200 ms then 400 ms apart, `Retry-After` up to 2 s, 3 s per post.
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(2),
            request_timeout: Duration::from_secs(3),
        }
    }
}

/// When the invocation must have answered. Posts and waits that would not
/// fit before it are not started, so the records left are reported as failed
/// (and redelivered) instead of the whole batch timing out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// Time kept back to report the batch once the last post is done.
    const MARGIN: Duration = Duration::from_millis(500);

    /// No deadline (tests, tools).
    pub fn none() -> Deadline {
        Deadline(None)
    }

    /// From Lambda's deadline in milliseconds since the epoch; 0 (unset) is none.
    pub fn from_epoch_ms(deadline_ms: u64) -> Deadline {
        if deadline_ms == 0 {
            return Deadline(None);
        }
        let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms);
        let left = deadline.duration_since(SystemTime::now()).unwrap_or_default();
        Deadline(Some(Instant::now() + left.saturating_sub(Self::MARGIN)))
    }

    /// Whether `needed` still fits before the deadline.
    pub fn allows(&self, needed: Duration) -> bool {
        self.0.is_none_or(|at| Instant::now() + needed <= at)
    }
}

/// A post that was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Posts it took, the accepted one included.
    pub attempts: u32,
}

/// Why the last try of a post that was not accepted failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The webhook answered this status (5xx or 429).
    Status(u16),
    /// No answer: connection refused, reset, timed out...
    Network(String),
    /// The invocation's deadline left no time for another try.
    OutOfTime,
}

/// A post that was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// A 4xx other than 429 (or a redirect): the webhook URL or the payload is
    /// wrong, and posting again would not help.
    #[error("the webhook refused the post with HTTP {status}")]
    Rejected {
        /// The status the webhook answered.
        status: u16,
    },
    /// Still failing after the retries: worth trying again later.
    #[error("the webhook is unavailable after {attempts} attempts ({last:?})")]
    Unavailable {
        /// Posts made.
        attempts: u32,
        /// How the last one failed.
        last: Failure,
    },
}

/// Posts JSON to incoming webhooks with a [`RetryPolicy`].
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl WebhookClient {
    /// A client for `policy`. Redirects are not followed: an incoming webhook
    /// answers where it is, and a redirect would carry the message elsewhere.
    pub fn new(policy: RetryPolicy) -> Result<WebhookClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(policy.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(WebhookClient { http, policy })
    }

    /// The client's retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Posts `body` to `url` as JSON until it is accepted (any 2xx), refused
    /// (4xx other than 429) or out of attempts or time.
    pub async fn post(&self, url: &str, body: &Value, deadline: Deadline) -> Result<Delivered, DeliveryError> {
        let mut backoff = self.policy.first_backoff;
        let mut last = Failure::OutOfTime;
        let mut attempts = 0;
        while attempts < self.policy.attempts.max(1) {
            if !deadline.allows(self.policy.request_timeout) {
                last = Failure::OutOfTime;
                break;
            }
            attempts += 1;
            let wait = match self.http.post(url).json(body).send().await {
                Ok(response) if response.status().is_success() => return Ok(Delivered { attempts }),
                Ok(response) => {
                    let status = response.status().as_u16();
                    if status != 429 && status < 500 {
                        return Err(DeliveryError::Rejected { status });
                    }
                    let retry_after = (status == 429).then(|| retry_after(&response)).flatten();
                    last = Failure::Status(status);
                    retry_after.map_or(backoff, |wait| wait.min(self.policy.max_retry_after))
                }
                // `without_url`: reqwest's errors name the URL, which is a secret.
                Err(error) => {
                    last = Failure::Network(error.without_url().to_string());
                    backoff
                }
            };
            if attempts == self.policy.attempts {
                break;
            }
            if !deadline.allows(wait + self.policy.request_timeout) {
                last = Failure::OutOfTime;
                break;
            }
            tokio::time::sleep(wait).await;
            backoff = backoff.saturating_mul(2);
        }
        Err(DeliveryError::Unavailable { attempts, last })
    }
}

/// `Retry-After` in seconds; the HTTP-date form is not used by Slack or Teams
/// and falls back to the backoff.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}
