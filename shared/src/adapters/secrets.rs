//! The WhatsApp secrets, read once at init from Secrets Manager.

use crate::config::{ConfigError, Env, WhatsAppSecrets};
use crate::ports::BoxError;
use aws_config::SdkConfig;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the WhatsApp secret could not be read from Secrets Manager")]
    Fetch(#[source] BoxError),
    #[error("the WhatsApp secret is not a JSON object with app_secret, verify_token and access_token")]
    Shape,
}

#[derive(Deserialize)]
struct SecretJson {
    app_secret: String,
    verify_token: String,
    access_token: String,
}

/// Reads the secret named by `WHATSAPP_SECRET_ARN`: a JSON object with
/// `app_secret`, `verify_token` and `access_token`. The error never carries
/// the secret's text.
pub async fn load_whatsapp_secrets(env: &Env, sdk: &SdkConfig) -> Result<WhatsAppSecrets, SecretsError> {
    let arn = env.require("WHATSAPP_SECRET_ARN")?;
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretsError::Fetch(Box::new(e)))?;
    let parsed: SecretJson =
        serde_json::from_str(out.secret_string().unwrap_or_default()).map_err(|_| SecretsError::Shape)?;
    Ok(WhatsAppSecrets {
        app_secret: SecretString::from(parsed.app_secret),
        verify_token: SecretString::from(parsed.verify_token),
        access_token: SecretString::from(parsed.access_token),
    })
}

/// Secrets given directly in the environment (`WHATSAPP_APP_SECRET`,
/// `WHATSAPP_VERIFY_TOKEN`, `WHATSAPP_ACCESS_TOKEN`): the local stack's way,
/// since moto does not create Secrets Manager secrets from a template.
pub fn whatsapp_secrets_from_env(env: &Env) -> Result<WhatsAppSecrets, ConfigError> {
    Ok(WhatsAppSecrets {
        app_secret: SecretString::from(env.require("WHATSAPP_APP_SECRET")?.to_owned()),
        verify_token: SecretString::from(env.require("WHATSAPP_VERIFY_TOKEN")?.to_owned()),
        access_token: SecretString::from(env.require("WHATSAPP_ACCESS_TOKEN")?.to_owned()),
    })
}

/// The environment's secrets when given there, Secrets Manager otherwise.
pub async fn whatsapp_secrets(env: &Env, sdk: &SdkConfig) -> Result<WhatsAppSecrets, SecretsError> {
    match whatsapp_secrets_from_env(env) {
        Ok(s) => Ok(s),
        Err(_) => load_whatsapp_secrets(env, sdk).await,
    }
}
