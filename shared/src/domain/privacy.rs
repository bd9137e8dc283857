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

/// What a masked digit run becomes.
pub const MASK: &str = "•••";

/// Digits in a run from which the run is masked.
const MASKED_RUN_DIGITS: usize = 6;

/// The longest excerpt of a customer's message that leaves the timeline.
pub const EXCERPT_MAX_CHARS: usize = 80;

/// Replaces every run of six or more digits (phone, card, account numbers)
/// with [`MASK`]. Digits joined by a single space, dot, dash, slash or
/// parenthesis count as one run, since phone numbers are written that way
/// (`+33 6 12 34 56 78`, `(555) 123-4567`); a leading `+` goes with its run.
/// Shorter runs (`#12345`, `tier 2`) stay as they are.
pub fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digit_at = |k: usize| chars.get(k).is_some_and(char::is_ascii_digit);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let opener = matches!(chars[i], '+' | '(') && digit_at(i + 1);
        if !(chars[i].is_ascii_digit() || opener) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = if opener { i + 1 } else { i };
        let mut digits = 0;
        let end = loop {
            while digit_at(j) {
                digits += 1;
                j += 1;
            }
            // At most two joiners in a row (`) ` in `(555) 123`), then a digit again.
            let mut k = j;
            while k < chars.len() && k - j < 2 && is_joiner(chars[k]) {
                k += 1;
            }
            if k > j && digit_at(k) {
                j = k;
            } else {
                break j;
            }
        };
        if digits >= MASKED_RUN_DIGITS {
            out.push_str(MASK);
        } else {
            out.extend(&chars[i..end]);
        }
        i = end;
    }
    out
}

fn is_joiner(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '/' | '(' | ')')
}

/// Collapses every run of whitespace (newlines included) into one space and
/// trims the ends, so a quote stays on one line.
pub fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, the last one `…` when something was cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Free text as it may leave the helpdesk (notifications, events): on one
/// line, digit runs masked, at most `max` characters. Masking comes first so
/// that a cut cannot leave the visible part of a long number below the
/// masking threshold.
pub fn safe_text(text: &str, max: usize) -> String {
    truncate_chars(&mask_digit_runs(&single_line(text)), max)
}

/// A short excerpt of a customer's message for notifications: [`safe_text`]
/// at [`EXCERPT_MAX_CHARS`].
pub fn excerpt(text: &str) -> String {
    safe_text(text, EXCERPT_MAX_CHARS)
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
    fn a_phone_number_written_with_slashes_or_parentheses_is_masked_whole() {
        assert_eq!(excerpt("(555) 123-4567 any time"), "••• any time");
        assert_eq!(excerpt("2 boxes and 3 bags, 45 kg"), "2 boxes and 3 bags, 45 kg");
    }

    #[test]
    fn an_excerpt_is_at_most_80_characters() {
        let e = excerpt(&"word ".repeat(40));
        assert_eq!(e.chars().count(), 80);
        assert!(e.ends_with('…'));
    }
}
