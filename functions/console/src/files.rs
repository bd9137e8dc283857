//! The console's build output (`console/dist`: `index.html` and hashed files
//! under `assets/`), and the Content-Type each file is served with.

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;

/// One file of the build.
#[derive(Debug, Clone)]
pub struct ConsoleFile {
    /// Its bytes.
    pub bytes: Cow<'static, [u8]>,
    /// The SHA-256 of its bytes (the ETag).
    pub sha256: [u8; 32],
}

/// The console's build output, read by a path relative to `console/dist`.
pub trait ConsoleFiles: Send + Sync {
    /// The file at `path` (`index.html`, `assets/index-3f9a1c.js`), or `None`
    /// when there is none. Never answers a file outside the build folder.
    fn get(&self, path: &str) -> Option<ConsoleFile>;
}

/// `console/dist` as `npm run build` leaves it. A release build embeds it
/// (an empty folder when it did not exist at build time: the function then
/// answers that the console was not built); a debug build reads it from disk
/// on each request, so the local runner serves a fresh build at once.
#[derive(rust_embed::Embed)]
#[folder = "../../console/dist/"]
#[allow_missing = true]
struct Dist;

/// The build output embedded in (or, in debug builds, read by) this binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbeddedFiles;

impl ConsoleFiles for EmbeddedFiles {
    fn get(&self, path: &str) -> Option<ConsoleFile> {
        Dist::get(path).map(|file| ConsoleFile {
            sha256: file.metadata.sha256_hash(),
            bytes: file.data,
        })
    }
}

/// Files held in memory, for tests and tools.
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles {
    files: HashMap<String, ConsoleFile>,
}

impl MemoryFiles {
    /// No file at all: a console that was not built.
    pub fn new() -> MemoryFiles {
        MemoryFiles::default()
    }

    /// With `bytes` at `path`.
    pub fn with(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> MemoryFiles {
        let bytes = bytes.into();
        let sha256 = Sha256::digest(&bytes).into();
        self.files.insert(
            path.to_owned(),
            ConsoleFile {
                bytes: Cow::Owned(bytes),
                sha256,
            },
        );
        self
    }
}

impl ConsoleFiles for MemoryFiles {
    fn get(&self, path: &str) -> Option<ConsoleFile> {
        self.files.get(path).cloned()
    }
}

/// The Content-Type of a file by its name; text types say they are UTF-8
/// (what Vite writes).
pub fn content_type(path: &str) -> String {
    let extension = path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    let known = match extension.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "webmanifest" => "application/manifest+json; charset=utf-8",
        "svg" => "image/svg+xml; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ico" => "image/x-icon",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    mime_guess::from_ext(&extension)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// Whether a response of this Content-Type is text (sent as is) rather than
/// bytes (sent base64-encoded through API Gateway).
pub fn is_text(content_type: &str) -> bool {
    content_type.contains("charset=utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_file_vite_writes_gets_its_content_type() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("assets/index-3f9a1c.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("assets/index-3f9a1c.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("assets/logo-77aa.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(content_type("assets/inter-1b2c.woff2"), "font/woff2");
        assert_eq!(content_type("assets/photo-9d.png"), "image/png");
        assert_eq!(
            content_type("manifest.webmanifest"),
            "application/manifest+json; charset=utf-8"
        );
        assert_eq!(content_type("assets/blob"), "application/octet-stream");
        assert_eq!(content_type("v1.2/blob"), "application/octet-stream");
    }

    #[test]
    fn the_embedded_build_answers_no_file_outside_its_folder() {
        assert!(EmbeddedFiles.get("../../../Cargo.toml").is_none());
        assert!(EmbeddedFiles.get("../Cargo.toml").is_none());
    }

    #[test]
    fn text_is_sent_as_text_and_the_rest_as_bytes() {
        assert!(is_text(&content_type("a.js")));
        assert!(!is_text(&content_type("a.png")));
        assert!(!is_text(&content_type("a.woff2")));
    }
}
