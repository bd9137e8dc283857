//! Keeps personal data out of logs: a customer appears as a keyed hash.

use crate::domain::ids::CustomerId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// The key of the customer references (derived from a deployment secret, so
/// references cannot be reversed by hashing every phone number).
#[derive(Clone)]
pub struct LogKey(Vec<u8>);

impl LogKey {
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"helpdesk/log-reference/v1");
        Self(mac.finalize().into_bytes().to_vec())
    }

    pub fn customer(&self, customer: &CustomerId) -> CustomerRef {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(customer.as_str().as_bytes());
        CustomerRef(hex::encode(&mac.finalize().into_bytes()[..8]))
    }
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogKey(<redacted>)")
    }
}

/// What logs say instead of a phone number: `c-1a2b3c4d5e6f7a8b`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CustomerRef(String);

impl fmt::Display for CustomerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c-{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_reference_is_stable_keyed_and_hides_the_number() {
        let customer = CustomerId::parse("15551234567").unwrap();
        let a = LogKey::new(b"one").customer(&customer);
        assert_eq!(a, LogKey::new(b"one").customer(&customer));
        assert_ne!(a, LogKey::new(b"two").customer(&customer));
        assert!(!a.to_string().contains("1555"));
    }
}

/// A short excerpt of a customer's message for notifications: at most 80
/// characters, with any run of 6 or more digits (phone, card, account
/// numbers; spaces, dots and dashes inside the run included) replaced by `•••`.
pub fn excerpt(text: &str) -> String {
    static DIGIT_RUN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let run = DIGIT_RUN.get_or_init(|| regex::Regex::new(r"\+?\d(?:[ .\-]?\d)+").expect("a valid pattern"));
    let masked = run.replace_all(text, |m: &regex::Captures| {
        let digits = m[0].chars().filter(char::is_ascii_digit).count();
        if digits >= 6 {
            "•••".to_owned()
        } else {
            m[0].to_owned()
        }
    });
    let flat = masked.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 80 {
        format!("{}…", flat.chars().take(79).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod excerpt_tests {
    use super::excerpt;

    #[test]
    fn an_excerpt_masks_long_digit_runs_even_when_spaced_and_keeps_short_numbers() {
        assert_eq!(
            excerpt("call me on +44 7700 900123 about order 42"),
            "call me on ••• about order 42"
        );
        assert_eq!(excerpt("card 4111-1111-1111-1111!"), "card •••!");
    }

    #[test]
    fn an_excerpt_is_at_most_80_characters() {
        let e = excerpt(&"word ".repeat(40));
        assert_eq!(e.chars().count(), 80);
        assert!(e.ends_with('…'));
    }
}
