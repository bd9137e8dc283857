//! Who a simulated customer is: phone digits, business-scoped user ids (BSUID), parent ids and
//! usernames, parsed and derived in the shapes Meta uses (`US.13491208655302741918`, `US.ENT.…`, `@ana`).

use sha2::{Digest, Sha256};

/// Calling codes the default BSUID takes its country from; any other phone gets `US`.
const COUNTRIES: &[(&str, &str)] = &[
    ("351", "PT"),
    ("1", "US"),
    ("33", "FR"),
    ("34", "ES"),
    ("39", "IT"),
    ("44", "GB"),
    ("49", "DE"),
    ("55", "BR"),
];

/// Longest part of a BSUID after the country code and the dot (Meta: up to 128 letters and digits).
const MAX_USER_ID_TAIL: usize = 128;

/// Longest phone number the simulator accepts, in digits (E.164 allows 15; Meta's ids stay under 20).
const MAX_PHONE_DIGITS: usize = 20;

/// How a control-API path names a customer: by phone digits or by BSUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    /// Phone number in digits, e.g. `15551234567`.
    Phone(String),
    /// Business-scoped user id, e.g. `US.13491208655302741918`.
    UserId(String),
}

impl CustomerRef {
    /// Reads a path segment: all digits is a phone, `CC.<letters and digits>` a BSUID.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Ok(phone) = parse_phone(s) {
            return Ok(Self::Phone(phone));
        }
        if let Ok(id) = parse_user_id(s) {
            return Ok(Self::UserId(id));
        }
        Err(format!(
            "\"{s}\" is neither a phone number in digits (15551234567) nor a business-scoped user id (US.13491208655302741918)"
        ))
    }

    /// The phone digits or the BSUID, as given.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(s) | Self::UserId(s) => s,
        }
    }
}

/// A phone number in digits (1 to 20), as `wa_id` carries it.
pub fn parse_phone(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > MAX_PHONE_DIGITS || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "phone must be the number in digits (1 to {MAX_PHONE_DIGITS}, no + or spaces), e.g. 15551234567; got \"{s}\""
        ));
    }
    Ok(s.to_string())
}

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase())
}

fn is_tail(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_USER_ID_TAIL && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A BSUID: two capital letters, a dot, then 1 to 128 letters and digits (`US.13491208655302741918`).
pub fn parse_user_id(s: &str) -> Result<String, String> {
    match s.split_once('.') {
        Some((country, tail)) if is_country(country) && is_tail(tail) => Ok(s.to_string()),
        _ => Err(format!(
            "a business-scoped user id is a two-letter country code, a dot and up to {MAX_USER_ID_TAIL} letters and digits, e.g. US.13491208655302741918; got \"{s}\""
        )),
    }
}

/// A parent BSUID shared across linked business portfolios: `CC.ENT.<letters and digits>`.
pub fn parse_parent_user_id(s: &str) -> Result<String, String> {
    let mut parts = s.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(country), Some("ENT"), Some(tail)) if is_country(country) && is_tail(tail) => Ok(s.to_string()),
        _ => Err(format!(
            "a parent business-scoped user id looks like US.ENT.11815799212886844830; got \"{s}\""
        )),
    }
}

/// A username as webhooks carry it (`@ana.s`): the `@` is added when missing, letters are
/// lowercased. Meta does not publish the rules; 3 to 35 letters, digits, dots and underscores
/// are accepted here.
pub fn parse_username(s: &str) -> Result<String, String> {
    let name = s.strip_prefix('@').unwrap_or(s);
    let ok = (3..=35).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'));
    if !ok {
        return Err(format!(
            "username must be 3 to 35 letters, digits, dots or underscores, with or without a leading @, e.g. @ana.s; got \"{s}\""
        ));
    }
    Ok(format!("@{}", name.to_ascii_lowercase()))
}

/// The country code of a phone, from its calling code; `US` when not one of the known ones.
pub fn country_of(phone: &str) -> &'static str {
    COUNTRIES
        .iter()
        .find(|(code, _)| phone.starts_with(code))
        .map_or("US", |(_, country)| country)
}

/// 20 decimal digits from the first 8 bytes of SHA-256 of `seed` (big-endian, zero-padded).
fn twenty_digits(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    format!("{:020}", u64::from_be_bytes(first))
}

/// The BSUID a customer with this phone gets unless configured otherwise: the country from the
/// calling code (1 → US, 33 → FR, 34 → ES, 39 → IT, 44 → GB, 49 → DE, 55 → BR, 351 → PT, else
/// US), a dot, and 20 digits: the first 8 bytes of SHA-256 of `phone:<digits>` as a big-endian
/// number, zero-padded. Deterministic, so tests can predict it.
pub fn default_user_id(phone: &str) -> String {
    format!("{}.{}", country_of(phone), twenty_digits(&format!("phone:{phone}")))
}

/// The BSUID that replaces `current` when the customer's id changes: same country, 20 digits from
/// SHA-256 of `next:<current>`.
pub fn next_user_id(current: &str) -> String {
    let country = current.split('.').next().filter(|c| is_country(c)).unwrap_or("US");
    format!("{country}.{}", twenty_digits(&format!("next:{current}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_bsuid_takes_its_country_from_the_calling_code_and_is_stable() {
        let us = default_user_id("15551234567");
        let pt = default_user_id("351912345678");
        let other = default_user_id("8613800138000");

        assert!(us.starts_with("US.") && us.len() == 23, "{us}");
        assert!(pt.starts_with("PT."), "{pt}");
        assert!(default_user_id("33612345678").starts_with("FR."));
        assert!(default_user_id("447700900123").starts_with("GB."));
        assert!(other.starts_with("US."), "{other}");
        assert_eq!(us, default_user_id("15551234567"));
        assert_ne!(us, default_user_id("15551234568"));
        assert_eq!(parse_user_id(&us), Ok(us.clone()));
    }

    #[test]
    fn a_new_bsuid_keeps_the_country_and_differs_from_the_old_one() {
        let old = default_user_id("491701234567");
        let new = next_user_id(&old);
        assert!(new.starts_with("DE."));
        assert_ne!(new, old);
        assert_eq!(new, next_user_id(&old));
    }

    #[test]
    fn a_path_segment_is_a_phone_or_a_bsuid_and_nothing_else() {
        assert_eq!(
            CustomerRef::parse("15551234567"),
            Ok(CustomerRef::Phone("15551234567".into()))
        );
        assert_eq!(
            CustomerRef::parse("US.13491208655302741918"),
            Ok(CustomerRef::UserId("US.13491208655302741918".into()))
        );
        for bad in ["", "+15551234567", "us.123", "US.", "US.12-3", "USA.123", "US.ENT.123"] {
            assert!(CustomerRef::parse(bad).is_err(), "{bad}");
        }
        assert!(parse_user_id(&format!("US.{}", "a".repeat(128))).is_ok());
        assert!(parse_user_id(&format!("US.{}", "a".repeat(129))).is_err());
    }

    #[test]
    fn parents_and_usernames_are_checked_and_usernames_normalised() {
        assert!(parse_parent_user_id("US.ENT.11815799212886844830").is_ok());
        assert!(parse_parent_user_id("US.11815799212886844830").is_err());
        assert_eq!(parse_username("Ana.S"), Ok("@ana.s".into()));
        assert_eq!(parse_username("@ana_1"), Ok("@ana_1".into()));
        assert!(parse_username("@a").is_err());
        assert!(parse_username("@ana silva").is_err());
    }
}
