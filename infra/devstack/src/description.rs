//! The stack description that `infra/local/stack.py` writes: what moto created
//! from `template.yaml`, and what triggers each function.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The whole description file. Unknown fields are ignored, so the Python side
/// can add to it without breaking the runner.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StackDescription {
    /// The moto endpoint the stack lives on.
    pub endpoint: String,
    /// The region the stack was created in.
    pub region: String,
    /// The (moto) account id.
    #[serde(default)]
    pub account_id: String,
    /// The stack's name.
    pub stack_name: String,
    /// Stack outputs by `OutputKey`.
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
    /// Functions by logical id.
    #[serde(default)]
    pub functions: BTreeMap<String, FunctionDescription>,
    /// Template resources moto skipped silently.
    #[serde(default)]
    pub skipped_resources: Vec<String>,
    /// Per function logical id, the environment variables left out because
    /// they point at skipped resources.
    #[serde(default)]
    pub unresolved_environment: BTreeMap<String, Vec<String>>,
    /// Outputs left out because they point at skipped resources.
    #[serde(default)]
    pub unresolved_outputs: Vec<String>,
    /// Properties applied through the service APIs after creation.
    #[serde(default)]
    pub applied_after_create: Vec<String>,
}

/// One function of the stack.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FunctionDescription {
    /// The cargo binary the function is built from (`webhook`, `bot`...).
    pub binary: String,
    /// The function's name in moto.
    #[serde(default)]
    pub function_name: String,
    /// The resolved environment.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// What triggers the function.
    #[serde(default)]
    pub events: Vec<EventSource>,
}

/// One trigger of a function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EventSource {
    /// An HttpApi route, in API Gateway path syntax (`/api/{proxy+}`).
    Http {
        /// `GET`, `POST`... or `ANY`.
        method: String,
        /// The route path.
        path: String,
        /// `Some("default")` when the route needs the JWT authorizer.
        #[serde(default)]
        authorizer: Option<String>,
    },
    /// An SQS event source mapping.
    Sqs {
        /// The queue's URL on the local endpoint.
        queue_url: String,
        /// The queue's ARN.
        queue_arn: String,
        /// At most this many records per invocation.
        #[serde(default = "default_batch_size")]
        batch_size: i32,
        /// Whether the handler answers partial batch failures.
        #[serde(default)]
        report_batch_item_failures: bool,
    },
    /// A Schedule event.
    Schedule {
        /// `rate(5 minutes)` or `cron(...)`.
        expression: String,
        /// The period in seconds, when the expression is a rate.
        #[serde(default)]
        rate_seconds: Option<u64>,
    },
    /// A trigger kind the runner does not play.
    #[serde(other)]
    Other,
}

fn default_batch_size() -> i32 {
    10
}

impl StackDescription {
    /// Reads a description file.
    pub fn read(path: &Path) -> anyhow::Result<StackDescription> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read stack description {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("stack description {} is not valid: {e}", path.display()))
    }

    /// A copy holding only the named functions (by logical id).
    pub fn only_functions(&self, logical_ids: &[&str]) -> StackDescription {
        let mut copy = self.clone();
        copy.functions.retain(|id, _| logical_ids.contains(&id.as_str()));
        copy
    }

    /// Whether the function's template environment declares `name`, resolved or not.
    pub fn declares_env(&self, logical_id: &str, name: &str) -> bool {
        self.functions
            .get(logical_id)
            .is_some_and(|f| f.environment.contains_key(name))
            || self
                .unresolved_environment
                .get(logical_id)
                .is_some_and(|names| names.iter().any(|n| n == name))
    }
}
