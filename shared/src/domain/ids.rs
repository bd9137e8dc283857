//! Identifiers that can only be built by parsing: a customer, a ticket, a queue key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains a character outside [A-Za-z0-9._-]")]
    BadCharacter { kind: &'static str },
}

fn check(kind: &'static str, s: &str, max: usize) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if s.len() > max {
        return Err(IdError::TooLong { kind, max });
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(IdError::BadCharacter { kind });
    }
    Ok(())
}

/// The longest customer key: a BSUID or a phone (see [`crate::domain::identity`]).
pub const MAX_CUSTOMER_ID: usize = 140;

/// A customer as WhatsApp names them: the `wa_id` (phone digits) or, in newer
/// payloads, a business-scoped user id. Personal data: never log it in clear
/// (see [`crate::domain::privacy::CustomerRef`]).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into().trim().to_owned();
        // A business-scoped user id is at most `CC.` and 128 characters (131);
        // 140 leaves room for what Meta documents next, and is never truncated.
        check("customer id", &s, MAX_CUSTOMER_ID)?;
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What an erased customer's ticket names instead of them: unlinkable to
    /// the person and to their other tickets.
    pub fn erased(ticket: &TicketId) -> CustomerId {
        CustomerId(format!("erased-{}", ticket.as_str()))
    }
}

impl TryFrom<String> for CustomerId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}
impl From<CustomerId> for String {
    fn from(c: CustomerId) -> String {
        c.0
    }
}
/// Redacted on purpose: a phone number must not reach a log through `{:?}`.
impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomerId(<redacted>)")
    }
}

/// A ticket id such as `TK-3F9A0C51D2E7`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(try_from = "String", into = "String")]
pub struct TicketId(String);

impl TicketId {
    pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        check("ticket id", &s, 40)?;
        Ok(Self(s))
    }
    /// The ticket opened by a customer's message. Derived from the message id so
    /// that a redelivered message opens the same ticket, never a second one.
    pub fn opened_by(wamid: &str) -> Self {
        let digest = Sha256::digest(wamid.as_bytes());
        Self(format!("TK-{}", hex::encode_upper(&digest[..6])))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for TicketId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}
impl From<TicketId> for String {
    fn from(t: TicketId) -> String {
        t.0
    }
}
impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value usable as an SQS FIFO `MessageGroupId` or `MessageDeduplicationId`
/// (at most 128 characters of `[A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]`).
/// Anything else is replaced by its SHA-256, so the key stays stable and unique.
pub fn fifo_key(raw: &str) -> String {
    let ok = !raw.is_empty() && raw.len() <= 128 && raw.chars().all(|c| c.is_ascii_graphic());
    if ok {
        raw.to_owned()
    } else {
        hex::encode(Sha256::digest(raw.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_id_is_trimmed_and_checked() {
        assert_eq!(CustomerId::parse(" 15551234567 ").unwrap().as_str(), "15551234567");
        assert_eq!(CustomerId::parse("US.1349120865"), CustomerId::parse("US.1349120865"));
        assert!(matches!(CustomerId::parse(""), Err(IdError::Empty { .. })));
        assert!(matches!(CustomerId::parse("12 34"), Err(IdError::BadCharacter { .. })));
        assert!(
            CustomerId::parse(format!("US.{}", "a".repeat(128))).is_ok(),
            "the longest BSUID"
        );
        assert!(matches!(
            CustomerId::parse("1".repeat(MAX_CUSTOMER_ID + 1)),
            Err(IdError::TooLong { .. })
        ));
    }

    #[test]
    fn a_customer_id_never_prints_itself_in_debug_output() {
        let id = CustomerId::parse("15551234567").unwrap();
        assert!(!format!("{id:?}").contains("1555"));
    }

    #[test]
    fn the_ticket_opened_by_a_message_is_the_same_on_redelivery() {
        let a = TicketId::opened_by("wamid.ABC");
        assert_eq!(a, TicketId::opened_by("wamid.ABC"));
        assert_ne!(a, TicketId::opened_by("wamid.ABD"));
        assert!(a.as_str().starts_with("TK-") && a.as_str().len() == 15);
    }

    #[test]
    fn fifo_keys_pass_through_when_valid_and_hash_otherwise() {
        assert_eq!(fifo_key("wamid.HBgL=="), "wamid.HBgL==");
        assert_eq!(fifo_key(&"x".repeat(200)).len(), 64);
        assert_eq!(fifo_key("a b").len(), 64);
        assert_eq!(fifo_key("").len(), 64);
    }
}
