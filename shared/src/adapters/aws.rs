//! Loads the AWS SDK configuration once at init.

use crate::config::Env;
use aws_config::{BehaviorVersion, SdkConfig};

/// The SDK configuration from the standard chain. `AWS_ENDPOINT_URL` (read by
/// the SDK itself) points every client at a local AWS such as moto.
pub async fn load_sdk_config(_env: &Env) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
