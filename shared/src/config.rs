//! Configuration read once at init from the environment (a map, so the local
//! runner can give each function its own). Handlers never read `std::env`.

use crate::adapters::clock::SharedClock;
use secrecy::SecretString;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// A function's environment: its variables, and the clock it reads time
/// through.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    clock: SharedClock,
}

impl Env {
    /// The process environment, with the system clock (what Lambda gives).
    pub fn from_process() -> Self {
        Env::from_map(std::env::vars().collect())
    }

    /// The given variables, with the system clock.
    pub fn from_map(map: HashMap<String, String>) -> Self {
        Env {
            vars: map,
            clock: SharedClock::system(),
        }
    }

    /// The same variables, read through `clock`. The local runner gives all
    /// functions of one stack the same clock, so moving it moves the time every
    /// one of them sees.
    pub fn with_clock(self, clock: SharedClock) -> Self {
        Env { clock, ..self }
    }

    /// The clock for the function's handler; a clone shares its offset.
    pub fn clock(&self) -> SharedClock {
        self.clock.clone()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock;

    #[test]
    fn an_environment_reads_the_system_clock_unless_given_another() {
        let env = Env::from_map(HashMap::from([("TABLE_NAME".to_owned(), "t".to_owned())]));

        assert_eq!(env.clock().offset_ms(), 0);
        assert_eq!(Env::from_process().clock().offset_ms(), 0);
    }

    #[test]
    fn functions_given_one_clock_all_see_it_move() {
        let stack_clock = SharedClock::system();
        let bot = Env::from_map(HashMap::new()).with_clock(stack_clock.clone());
        let sla =
            Env::from_map(HashMap::from([("TABLE_NAME".to_owned(), "t".to_owned())])).with_clock(stack_clock.clone());

        stack_clock.advance_minutes(30);

        assert_eq!(bot.clock().offset_ms(), 30 * 60_000);
        assert_eq!(sla.clock().offset_ms(), 30 * 60_000);
        assert_eq!(sla.get("TABLE_NAME"), Some("t"));
        assert!(sla.clock().now_ms() >= crate::ports::SystemClock.now_ms() + 30 * 60_000 - 1_000);
    }
}
