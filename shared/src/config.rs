//! Configuration read once at init from the environment (a map, so the local
//! runner can give each function its own). Handlers never read `std::env`.

use secrecy::SecretString;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// A function's environment.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars().collect())
    }

    pub fn from_map(map: HashMap<String, String>) -> Self {
        Env(map)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &'static str) -> Result<&str, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing(name))
    }

    pub fn or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }
}

/// The WhatsApp app's secrets. Never logged: `SecretString` redacts itself.
#[derive(Debug, Clone)]
pub struct WhatsAppSecrets {
    pub app_secret: SecretString,
    pub verify_token: SecretString,
    pub access_token: SecretString,
}
