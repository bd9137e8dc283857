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
