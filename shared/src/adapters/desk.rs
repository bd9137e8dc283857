//! Loads the desk configuration at init: the file named by `DESK_CONFIG_FILE`,
//! or the one embedded in the function (`config/desk.toml` when it was built).

use crate::config::Env;
use crate::domain::desk::{Desk, DeskConfigError, EMBEDDED_CONFIG};
use crate::domain::i18n::Catalog;

#[derive(Debug, thiserror::Error)]
pub enum DeskLoadError {
    #[error("the desk configuration file {path} could not be read")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] DeskConfigError),
}

pub fn load_desk(env: &Env, catalog: &Catalog) -> Result<Desk, DeskLoadError> {
    let text = match env.get("DESK_CONFIG_FILE") {
        Some(path) => std::fs::read_to_string(path).map_err(|source| DeskLoadError::Read {
            path: path.to_owned(),
            source,
        })?,
        None => EMBEDDED_CONFIG.to_owned(),
    };
    Ok(Desk::from_toml(&text, catalog)?)
}
