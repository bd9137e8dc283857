//! The desk configuration loader on any text: a clear error or a desk, never a panic.
#![no_main]

use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::Catalog;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    let catalog = CATALOG.get_or_init(Catalog::builtin);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Desk::from_toml(text, catalog);
    }
});
