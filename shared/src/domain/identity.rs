//! Who a customer is, however Meta identifies them. Since 2026 a message
//! carries a business-scoped user id (BSUID) and, unless the person adopted a
//! username and hid their number, their phone (`wa_id`); either may appear,
//! change or disappear. The durable customer key is the BSUID whenever Meta
//! gives one, the phone otherwise; an identity map links every handle (phone,
//! BSUID, parent id) to that key, so one person stays one customer.
//!
//! Every id is parsed by its documented format and never truncated: a value
//! that does not fit is refused, and the message is kept where an admin sees it.

use crate::domain::ids::CustomerId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest BSUID tail: `CC.` then up to 128 letters and digits.
const MAX_USER_ID_TAIL: usize = 128;
/// wa_ids are E.164 numbers without `+`: at most 15 digits (20 for safety
/// with the test numbers some platforms use), at least 5.
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 5..=20;
/// Usernames: letters, digits, `.` and `_`, with a leading `@`.
const MAX_USERNAME: usize = 64;

/// Why an identifier is not what Meta documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("a phone (wa_id) is 5 to 20 digits")]
    Phone,
    #[error("a business-scoped user id is a two-letter country code, a dot and 1 to 128 letters or digits")]
    UserId,
    #[error("a parent user id is a two-letter country code, `.ENT.` and 1 to 128 letters or digits")]
    ParentUserId,
    #[error("a username is `@` and up to 64 letters, digits, `.` or `_`")]
    Username,
}

macro_rules! personal_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentityError;
            fn try_from(s: String) -> Result<Self, IdentityError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        /// Redacted: personal data must not reach a log through `{:?}`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(<redacted>)", stringify!($name))
            }
        }
    };
}

personal_id!(
    /// A customer's phone as WhatsApp gives it (`wa_id`): digits only.
    Phone
);
personal_id!(
    /// A business-scoped user id: `US.13491208655302741918`.
    UserId
);
personal_id!(
    /// A parent user id shared across linked business portfolios: `US.ENT.…`.
    ParentUserId
);
personal_id!(
    /// A WhatsApp username, always with its leading `@`.
    Username
);

fn country_then(s: &str) -> Option<&str> {
    let (country, rest) = s.split_once('.')?;
    (country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase())).then_some(rest)
}

fn alnum_tail(tail: &str) -> bool {
    (1..=MAX_USER_ID_TAIL).contains(&tail.len()) && tail.chars().all(|c| c.is_ascii_alphanumeric())
}

impl Phone {
    /// Digits, with a leading `+` and spaces tolerated (a shared contact's number).
    pub fn parse(s: &str) -> Result<Phone, IdentityError> {
        let digits: String = s
            .trim()
            .trim_start_matches('+')
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if PHONE_DIGITS.contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Phone(digits))
        } else {
            Err(IdentityError::Phone)
        }
    }

    /// `+33 6 •• •• •• 78`-style: the country code and the last two digits.
    pub fn masked(&self) -> String {
        let digits = &self.0;
        let tail = &digits[digits.len() - 2..];
        let head = &digits[..digits.len().min(2)];
        format!("+{head}{}{tail}", "•".repeat(digits.len().saturating_sub(4)))
    }
}

impl UserId {
    pub fn parse(s: &str) -> Result<UserId, IdentityError> {
        match country_then(s) {
            Some(tail) if !tail.starts_with("ENT.") && alnum_tail(tail) => Ok(UserId(s.to_owned())),
            _ => Err(IdentityError::UserId),
        }
    }
}

impl ParentUserId {
    pub fn parse(s: &str) -> Result<ParentUserId, IdentityError> {
        match country_then(s).and_then(|rest| rest.strip_prefix("ENT.")) {
            Some(tail) if alnum_tail(tail) => Ok(ParentUserId(s.to_owned())),
            _ => Err(IdentityError::ParentUserId),
        }
    }
}

impl Username {
    pub fn parse(s: &str) -> Result<Username, IdentityError> {
        let name = s.trim().trim_start_matches('@');
        let fits = (1..=MAX_USERNAME).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'));
        if fits {
            Ok(Username(format!("@{}", name.to_ascii_lowercase())))
        } else {
            Err(IdentityError::Username)
        }
    }
}

/// What one message (or status, or echo) says about the person: any of the
/// handles, each already checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sender {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_user_id: Option<ParentUserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Username>,
}

impl Sender {
    /// Names nobody: no phone, no user id, no parent id.
    pub fn is_anonymous(&self) -> bool {
        self.phone.is_none() && self.user_id.is_none() && self.parent_user_id.is_none()
    }

    /// The key a person seen for the first time gets: the BSUID, else the phone.
    pub fn first_key(&self) -> Option<CustomerId> {
        let key = match (&self.user_id, &self.phone) {
            (Some(user), _) => user.as_str(),
            (None, Some(phone)) => phone.as_str(),
            (None, None) => return None,
        };
        CustomerId::parse(key).ok()
    }

    /// The handles to look up, most durable first.
    pub fn handles(&self) -> Vec<Handle> {
        let mut handles = Vec::new();
        if let Some(user) = &self.user_id {
            handles.push(Handle::User(user.clone()));
        }
        if let Some(parent) = &self.parent_user_id {
            handles.push(Handle::Parent(parent.clone()));
        }
        if let Some(phone) = &self.phone {
            handles.push(Handle::Phone(phone.clone()));
        }
        handles
    }
}

/// One entry of the identity map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Handle {
    Phone(Phone),
    User(UserId),
    Parent(ParentUserId),
}

impl Handle {
    /// `phone`, `user` or `parent`: the kind in the map's key.
    pub fn kind(&self) -> &'static str {
        match self {
            Handle::Phone(_) => "phone",
            Handle::User(_) => "user",
            Handle::Parent(_) => "parent",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Handle::Phone(p) => p.as_str(),
            Handle::User(u) => u.as_str(),
            Handle::Parent(p) => p.as_str(),
        }
    }

    /// Reads an id a person typed or an API was given: a BSUID, a parent id or a phone.
    pub fn parse(s: &str) -> Option<Handle> {
        UserId::parse(s)
            .map(Handle::User)
            .or_else(|_| ParentUserId::parse(s).map(Handle::Parent))
            .or_else(|_| Phone::parse(s).map(Handle::Phone))
            .ok()
    }
}

/// What the helpdesk knows of a customer's identity now: written by the bot
/// as messages arrive, read to address replies and shown to agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub customer: CustomerId,
    #[serde(default)]
    pub phone: Option<Phone>,
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub parent_user_id: Option<ParentUserId>,
    #[serde(default)]
    pub username: Option<Username>,
    /// The customer's latest messages came without their phone (a username
    /// adopted): replies go to their BSUID until the phone is shown again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub phone_withheld: bool,
    /// When the phone was last seen (it may be withheld later).
    #[serde(default)]
    pub updated_at_ms: i64,
}

impl Identity {
    pub fn new(customer: CustomerId, at_ms: i64) -> Identity {
        Identity {
            customer,
            phone: None,
            user_id: None,
            parent_user_id: None,
            username: None,
            phone_withheld: false,
            updated_at_ms: at_ms,
        }
    }

    /// The identity of a customer stored before identities were kept: its key
    /// is its phone or its BSUID.
    pub fn from_key(customer: &CustomerId) -> Identity {
        let mut identity = Identity::new(customer.clone(), 0);
        match Handle::parse(customer.as_str()) {
            Some(Handle::Phone(p)) => identity.phone = Some(p),
            Some(Handle::User(u)) => identity.user_id = Some(u),
            Some(Handle::Parent(p)) => identity.parent_user_id = Some(p),
            None => {}
        }
        identity
    }

    /// The identity map's handles that lead to this customer now.
    pub fn handles(&self) -> Vec<Handle> {
        Sender {
            phone: self.phone.clone(),
            user_id: self.user_id.clone(),
            parent_user_id: self.parent_user_id.clone(),
            username: None,
        }
        .handles()
    }

    /// Takes what `sender` says: a handle that appears is kept (a newer one
    /// replaces an older one), one that is absent is not forgotten (a
    /// withheld phone is still the customer's). Returns whether anything changed.
    pub fn learn(&mut self, sender: &Sender, at_ms: i64) -> bool {
        let before = self.clone();
        if sender.phone.is_some() {
            self.phone.clone_from(&sender.phone);
            self.phone_withheld = false;
        } else if sender.user_id.is_some() && self.phone.is_some() {
            self.phone_withheld = true;
        }
        if sender.user_id.is_some() {
            self.user_id.clone_from(&sender.user_id);
        }
        if sender.parent_user_id.is_some() {
            self.parent_user_id.clone_from(&sender.parent_user_id);
        }
        if sender.username.is_some() {
            self.username.clone_from(&sender.username);
        }
        let changed = *self != before;
        if changed {
            self.updated_at_ms = self.updated_at_ms.max(at_ms);
        }
        changed
    }

    /// How a message reaches this customer: by phone when one is known and
    /// they show it, else by BSUID (the Cloud API's `recipient`).
    pub fn address(&self) -> Option<Address> {
        match (&self.phone, &self.user_id) {
            (Some(_), Some(user)) if self.phone_withheld => Some(Address::User(user.clone())),
            (Some(phone), _) => Some(Address::Phone(phone.clone())),
            (None, Some(user)) => Some(Address::User(user.clone())),
            (None, None) => None,
        }
    }
}

/// Where a message to a customer goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "id", rename_all = "snake_case")]
pub enum Address {
    /// `"to": "<wa_id>"`.
    Phone(Phone),
    /// `"recipient_type": "individual", "recipient": "<BSUID>"`.
    User(UserId),
}

/// Which customer a sender is, from what the identity map answered for each
/// of its handles (in [`Sender::handles`] order), and which handles to link to
/// that customer. `stored_by_phone` is the sender's phone as a customer key
/// when data is stored under it from before identities were kept (only asked
/// when no handle is known). `None` when the sender names nobody.
pub fn resolve(
    sender: &Sender,
    found: &[(Handle, Option<CustomerId>)],
    stored_by_phone: Option<CustomerId>,
) -> Option<(CustomerId, Vec<Handle>)> {
    // The most durable handle that is known decides; a phone known under
    // another customer moves to this one (a recycled or changed number).
    let customer = found
        .iter()
        .find_map(|(_, owner)| owner.clone())
        .or(stored_by_phone)
        .or_else(|| sender.first_key())?;
    let links = found
        .iter()
        .filter(|(_, owner)| owner.as_ref() != Some(&customer))
        .map(|(handle, _)| handle.clone())
        .collect();
    Some((customer, links))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(phone: Option<&str>, user: Option<&str>) -> Sender {
        Sender {
            phone: phone.map(|p| Phone::parse(p).unwrap()),
            user_id: user.map(|u| UserId::parse(u).unwrap()),
            ..Sender::default()
        }
    }

    fn key(s: &str) -> CustomerId {
        CustomerId::parse(s).unwrap()
    }

    #[test]
    fn ids_are_read_by_their_documented_formats_and_never_truncated() {
        let longest = format!("US.{}", "a1".repeat(64));
        assert_eq!(UserId::parse(&longest).unwrap().as_str().len(), 131);
        assert!(CustomerId::parse(&longest).is_ok(), "the longest id is a customer key");
        assert_eq!(
            UserId::parse(&format!("US.{}", "a".repeat(129))),
            Err(IdentityError::UserId)
        );
        assert_eq!(UserId::parse("us.123"), Err(IdentityError::UserId));
        assert_eq!(UserId::parse("US.12-3"), Err(IdentityError::UserId));
        assert_eq!(UserId::parse("US.ENT.123"), Err(IdentityError::UserId));
        assert!(ParentUserId::parse("US.ENT.9f8e7d").is_ok());
        assert_eq!(ParentUserId::parse("US.123"), Err(IdentityError::ParentUserId));
        assert_eq!(Phone::parse("+33 6 12 34 56 78").unwrap().as_str(), "33612345678");
        assert_eq!(Phone::parse("1234"), Err(IdentityError::Phone));
        assert_eq!(Username::parse("@Ana.Souza").unwrap().as_str(), "@ana.souza");
    }

    #[test]
    fn a_person_seen_first_is_keyed_by_their_bsuid_and_every_handle_is_linked() {
        let s = sender(Some("15551230001"), Some("US.134912"));
        let found = vec![
            (Handle::User(s.user_id.clone().unwrap()), None),
            (Handle::Phone(s.phone.clone().unwrap()), None),
        ];

        let (customer, links) = resolve(&s, &found, None).unwrap();

        assert_eq!(customer, key("US.134912"));
        assert_eq!(links.len(), 2);
    }

    #[test]
    fn a_customer_stored_under_their_phone_keeps_that_key_when_their_bsuid_appears() {
        let s = sender(Some("15551230001"), Some("US.134912"));
        let found = vec![
            (Handle::User(s.user_id.clone().unwrap()), None),
            (Handle::Phone(s.phone.clone().unwrap()), Some(key("15551230001"))),
        ];

        let (customer, links) = resolve(&s, &found, None).unwrap();

        assert_eq!(customer, key("15551230001"));
        assert_eq!(links, [Handle::User(s.user_id.unwrap())]);
    }

    #[test]
    fn a_customer_from_before_identities_keeps_their_phone_key_and_gains_every_link() {
        let s = sender(Some("15551230001"), Some("US.134912"));
        let found = vec![
            (Handle::User(s.user_id.clone().unwrap()), None),
            (Handle::Phone(s.phone.clone().unwrap()), None),
        ];

        let (customer, links) = resolve(&s, &found, Some(key("15551230001"))).unwrap();

        assert_eq!(customer, key("15551230001"));
        assert_eq!(links.len(), 2, "the BSUID and the phone both lead to the old key now");
    }

    #[test]
    fn the_same_person_without_their_phone_is_the_same_customer() {
        let s = sender(None, Some("US.134912"));
        let found = vec![(Handle::User(s.user_id.clone().unwrap()), Some(key("US.134912")))];

        assert_eq!(resolve(&s, &found, None), Some((key("US.134912"), vec![])));
    }

    #[test]
    fn a_phone_known_under_another_customer_moves_to_the_bsuids_owner() {
        let s = sender(Some("15551230001"), Some("US.777"));
        let found = vec![
            (Handle::User(s.user_id.clone().unwrap()), Some(key("US.777"))),
            (Handle::Phone(s.phone.clone().unwrap()), Some(key("US.111"))),
        ];

        let (customer, links) = resolve(&s, &found, None).unwrap();

        assert_eq!(customer, key("US.777"));
        assert_eq!(links, [Handle::Phone(s.phone.unwrap())]);
    }

    #[test]
    fn a_sender_with_no_handle_names_nobody() {
        assert_eq!(resolve(&Sender::default(), &[], None), None);
        assert!(Sender::default().is_anonymous());
    }

    #[test]
    fn an_identity_keeps_a_withheld_phone_but_is_addressed_by_bsuid_until_the_phone_shows_again() {
        let mut identity = Identity::new(key("US.134912"), 0);
        let phone = Phone::parse("15551230001").unwrap();
        assert!(identity.learn(&sender(Some("15551230001"), Some("US.134912")), 10));
        assert_eq!(identity.address(), Some(Address::Phone(phone.clone())));

        assert!(
            identity.learn(&sender(None, Some("US.134912")), 20),
            "the phone is withheld now"
        );
        assert_eq!(identity.phone, Some(phone.clone()), "and kept");
        assert_eq!(
            identity.address(),
            Some(Address::User(UserId::parse("US.134912").unwrap()))
        );

        assert!(identity.learn(&sender(Some("15551230001"), None), 30), "shared again");
        assert_eq!(identity.address(), Some(Address::Phone(phone)));

        let only_id = Identity::from_key(&key("US.134912"));
        assert_eq!(
            only_id.address(),
            Some(Address::User(UserId::parse("US.134912").unwrap()))
        );
    }

    #[test]
    fn a_masked_phone_shows_its_country_code_and_last_two_digits() {
        assert_eq!(Phone::parse("33612345678").unwrap().masked(), "+33•••••••78");
    }

    #[test]
    fn a_personal_id_never_shows_in_a_debug_line() {
        let phone = Phone::parse("15551230001").unwrap();
        assert!(!format!("{phone:?}").contains("1555"));
    }
}
