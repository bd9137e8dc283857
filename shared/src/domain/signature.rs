//! Meta's `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the app secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signature was refused. Carries no secret and no body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not `sha256=<64 hex digits>`")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks `header` against the raw `body`, in constant time. Never compute this
/// over re-serialised JSON: escapes and emoji differ from the bytes Meta signed.
pub fn verify_signature(app_secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_digest = header.strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let claimed = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    if claimed.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&claimed).map_err(|_| SignatureError::Mismatch)
}

/// The header value Meta would send for `body`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_the_secret_over_the_raw_body_is_accepted() {
        let body = "{\"a\":\"\\u00e9 😀\"}".as_bytes();
        let header = sign(b"secret", body);
        assert_eq!(verify_signature(b"secret", body, Some(&header)), Ok(()));
    }

    #[test]
    fn a_forged_missing_or_malformed_signature_is_refused() {
        let body = b"{}";
        let other = sign(b"other", body);
        assert_eq!(
            verify_signature(b"secret", body, Some(&other)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify_signature(b"secret", body, None), Err(SignatureError::Missing));
        assert_eq!(
            verify_signature(b"secret", body, Some("sha1=00")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(b"secret", body, Some("sha256=zz")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(b"secret", body, Some("sha256=00ff")),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn a_body_changed_after_signing_is_refused() {
        let header = sign(b"secret", b"{\"a\":1}");
        assert_eq!(
            verify_signature(b"secret", b"{\"a\": 1}", Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }
}
