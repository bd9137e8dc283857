//! Media items the simulator holds (customer attachments and business uploads), and mime types by file extension.

use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;

/// One stored media item.
#[derive(Debug, Clone)]
pub struct Media {
    /// Numeric media id.
    pub id: String,
    /// Mime type, as answered by `GET /{version}/{media-id}`.
    pub mime_type: String,
    /// The raw bytes.
    pub bytes: bytes::Bytes,
    /// Original file name, when known.
    pub filename: Option<String>,
}

impl Media {
    /// SHA-256 of the bytes as lowercase hex (the form the Graph media URL answer uses).
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }

    /// SHA-256 of the bytes as standard base64 (the form inbound webhooks use).
    pub fn sha256_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&self.bytes))
    }
}

/// The signature of a media download URL: HMAC of the id and expiry under the app secret, 32 hex digits.
pub fn url_signature(app_secret: &str, media_id: &str, expires: i64) -> String {
    let full = crate::sign(app_secret, format!("media:{media_id}:{expires}").as_bytes());
    full.trim_start_matches("sha256=").chars().take(32).collect()
}

/// The download URL of a media item, valid until `expires` (simulated unix seconds) and only with the bearer token.
pub fn download_url(base_url: &str, app_secret: &str, media_id: &str, expires: i64) -> String {
    let sig = url_signature(app_secret, media_id, expires);
    format!("{base_url}/_media/{media_id}?expires={expires}&sig={sig}")
}

/// Mime type for a file name, by extension; `application/octet-stream` when unknown.
pub fn mime_for_path(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "3gp" => "video/3gpp",
        "ogg" => "audio/ogg",
        "opus" => "audio/ogg; codecs=opus",
        "mp3" => "audio/mpeg",
        "aac" => "audio/aac",
        "amr" => "audio/amr",
        "m4a" => "audio/mp4",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_extensions_map_to_their_mime_types_and_others_to_octet_stream() {
        assert_eq!(mime_for_path(Path::new("/a/b.JPG")), "image/jpeg");
        assert_eq!(mime_for_path(Path::new("x.pdf")), "application/pdf");
        assert_eq!(mime_for_path(Path::new("x.opus")), "audio/ogg; codecs=opus");
        assert_eq!(mime_for_path(Path::new("x")), "application/octet-stream");
        assert_eq!(mime_for_path(Path::new("x.xyz")), "application/octet-stream");
    }
}
