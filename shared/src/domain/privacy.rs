//! Keeps personal data out of logs (a customer appears as a keyed hash), out
//! of notifications (long digit runs masked) and payment-card numbers out of
//! the stored timeline (masked to their last four digits).

use crate::domain::ids::CustomerId;
use crate::domain::ticket::TimelineEntry;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::borrow::Cow;
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

/// What a masked payment-card number starts with; the card's last four
/// digits follow, so `4111 1111 1111 1111` becomes `•••• 1111`.
pub const CARD_MASK_PREFIX: &str = "•••• ";

/// Fewest and most digits of a payment-card number (ISO/IEC 7812).
const CARD_DIGITS: std::ops::RangeInclusive<usize> = 13..=19;

/// Replaces every payment-card number in `text` with [`CARD_MASK_PREFIX`]
/// and its last four digits (`•••• 1111`); the rest of the text is kept
/// byte for byte, and borrowed back when there is no card in it.
///
/// A card number is 13 to 19 digits that pass the Luhn check and do not start
/// with `0`, written in one piece (`4111111111111111`) or in groups joined by
/// one space or one dash (`4111 1111 1111 1111`, `3782-822463-10005`; a
/// no-break, thin or narrow no-break space and the Unicode hyphens and en dash
/// count too). Within a longer run of groups, the longest card-like stretch of
/// whole groups is masked, so a code written after the number
/// (`4111 1111 1111 1111 123`) does not hide it. Arabic-Indic, Persian,
/// Devanagari and full-width digits count as digits; the kept four are the
/// customer's own characters.
///
/// Left as they are: 12 digits or fewer; an unbroken run of 20 or more
/// digits (a reference, not a card); numbers that fail Luhn (most order and
/// phone numbers); and a number led by `+` (an international phone number,
/// `+33 6 12 34 56 78`).
pub fn mask_card_numbers(text: &str) -> Cow<'_, str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let is_digit = |k: usize| chars.get(k).and_then(|&(_, c)| digit_value(c)).is_some();
    let mut out = String::new();
    let mut copied = 0; // bytes of `text` already in `out`
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(i) {
            i += 1;
            continue;
        }
        let phone = i > 0 && chars[i - 1].1 == '+';
        // The run: groups of digits (char ranges) joined by one separator.
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while is_digit(j) {
                j += 1;
            }
            groups.push((start, j));
            if chars.get(j).is_some_and(|&(_, c)| is_card_separator(c)) && is_digit(j + 1) {
                j += 1;
            } else {
                break;
            }
        }
        let mut a = 0;
        while a < groups.len() {
            let card = if a == 0 && phone {
                None
            } else {
                card_end(&chars, &groups, a)
            };
            let Some(b) = card else {
                a += 1;
                continue;
            };
            let (start, end) = (groups[a].0, groups[b - 1].1);
            out.push_str(&text[copied..byte_at(start)]);
            out.push_str(CARD_MASK_PREFIX);
            let mut last_four: Vec<char> = chars[start..end]
                .iter()
                .rev()
                .map(|&(_, c)| c)
                .filter(|&c| digit_value(c).is_some())
                .take(4)
                .collect();
            last_four.reverse();
            out.extend(last_four);
            copied = byte_at(end);
            a = b;
        }
        i = j;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The end (exclusive) of the longest stretch of whole groups from `from`
/// that is a card number.
fn card_end(chars: &[(usize, char)], groups: &[(usize, usize)], from: usize) -> Option<usize> {
    (from + 1..=groups.len()).rev().find(|&to| {
        let digits: Vec<u32> = groups[from..to]
            .iter()
            .flat_map(|&(s, e)| chars[s..e].iter().filter_map(|&(_, c)| digit_value(c)))
            .collect();
        CARD_DIGITS.contains(&digits.len()) && digits[0] != 0 && luhn_valid(&digits)
    })
}

/// The Luhn (mod 10) check: from the right, every second digit is doubled
/// (less 9 when above 9); the sum must be a multiple of 10.
fn luhn_valid(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &d)| match (k % 2 == 1, d * 2) {
            (true, twice) if twice > 9 => twice - 9,
            (true, twice) => twice,
            (false, _) => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The value of a decimal digit: ASCII, Arabic-Indic, Persian (extended
/// Arabic-Indic), Devanagari or full-width.
fn digit_value(c: char) -> Option<u32> {
    let zero = match c {
        '0'..='9' => '0',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        '\u{0966}'..='\u{096F}' => '\u{0966}',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        _ => return None,
    };
    Some(c as u32 - zero as u32)
}

/// What may join two groups of a card number: one space (plain, no-break,
/// thin, narrow no-break) or one dash (hyphen-minus, hyphens, en dash).
fn is_card_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{00A0}' | '\u{2009}' | '\u{202F}' | '-' | '\u{2010}' | '\u{2011}' | '\u{2013}'
    )
}

/// Masks the card numbers ([`mask_card_numbers`]) in every string of a JSON
/// value, however deeply nested (a WhatsApp message's `text.body`, a Flow's
/// answers). Object keys, numbers and the value's shape are left as they are.
pub fn mask_cards_in_value(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let masked = match mask_card_numbers(s) {
                Cow::Owned(masked) => Some(masked),
                Cow::Borrowed(_) => None,
            };
            if let Some(masked) = masked {
                *s = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_cards_in_value),
        Value::Object(fields) => fields.values_mut().for_each(mask_cards_in_value),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Masks the card numbers in what a timeline entry says: its summary, the
/// raw message, its structured data and its delivery error.
pub fn mask_cards_in_entry(entry: &mut TimelineEntry) {
    if let Cow::Owned(masked) = mask_card_numbers(&entry.summary) {
        entry.summary = masked;
    }
    if let Some(error) = &mut entry.delivery_error
        && let Cow::Owned(masked) = mask_card_numbers(error)
    {
        *error = masked;
    }
    for value in [&mut entry.message, &mut entry.data].into_iter().flatten() {
        mask_cards_in_value(value);
    }
}

#[cfg(test)]
mod card_tests {
    use super::{mask_card_numbers, mask_cards_in_entry, mask_cards_in_value};
    use crate::domain::outbound::Author;
    use crate::domain::ticket::{Direction, TimelineEntry};
    use serde_json::json;
    use std::borrow::Cow;

    fn masked(text: &str) -> String {
        mask_card_numbers(text).into_owned()
    }

    #[test]
    fn visa_mastercard_and_amex_test_numbers_are_masked_in_any_grouping() {
        for (card, last_four) in [
            ("4111111111111111", "1111"),
            ("4111 1111 1111 1111", "1111"),
            ("4111-1111-1111-1111", "1111"),
            ("4242 4242 4242 4242", "4242"),
            ("5555555555554444", "4444"),
            ("5105-1051-0510-5100", "5100"),
            ("378282246310005", "0005"),
            ("3782 822463 10005", "0005"),
            ("3714-496353-98431", "8431"),
            ("4222222222222", "2222"),
            ("6011 0009 9013 9424", "9424"),
        ] {
            assert_eq!(
                masked(&format!("my card is {card}, thanks")),
                format!("my card is •••• {last_four}, thanks"),
                "{card}"
            );
        }
    }

    #[test]
    fn numbers_that_are_not_cards_are_left_as_they_are() {
        for text in [
            "card 4111 1111 1111 1112 declined", // fails Luhn
            "call me on +33 6 12 34 56 78",
            "or +49 1512 3456787",       // 13 digits that pass Luhn, but led by +
            "order 411111111111 please", // 12 digits
            "ref 41111111111111111111",  // 20 digits in one piece
            "ref 0000 0000 0000 0000",   // passes Luhn, but no card starts with 0
            "order #123456 of 2024-05-01, 3 items",
        ] {
            assert!(
                matches!(mask_card_numbers(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn two_cards_in_one_text_are_both_masked() {
        assert_eq!(
            masked("old 4111 1111 1111 1111, new 5555-5555-5555-4444."),
            "old •••• 1111, new •••• 4444."
        );
        // Even written as one run of groups.
        assert_eq!(masked("4111 1111 1111 1111 5555 5555 5555 4444"), "•••• 1111 •••• 4444");
    }

    #[test]
    fn a_code_after_the_number_does_not_hide_the_card() {
        assert_eq!(masked("4111 1111 1111 1111 123"), "•••• 1111 123");
        assert_eq!(masked("order 12-4111111111111111"), "order 12-•••• 1111");
    }

    #[test]
    fn unicode_text_and_digits_around_a_card_are_kept_exactly() {
        assert_eq!(
            masked("¿Mi tarjeta? 4111\u{a0}1111\u{a0}1111\u{a0}1111 🙏 gracias"),
            "¿Mi tarjeta? •••• 1111 🙏 gracias"
        );
        assert_eq!(masked("بطاقتي ٤١١١ ١١١١ ١١١١ ١١١١ شكرا"), "بطاقتي •••• ١١١١ شكرا");
        assert_eq!(masked("ｶｰﾄﾞ４１１１１１１１１１１１１１１１"), "ｶｰﾄﾞ•••• １１１１");
    }

    #[test]
    fn masking_twice_changes_nothing_more() {
        let once = masked("4111 1111 1111 1111 and 378282246310005");
        assert!(matches!(mask_card_numbers(&once), Cow::Borrowed(_)));
    }

    #[test]
    fn a_card_inside_a_json_message_is_masked_and_the_rest_kept() {
        let mut message = json!({
            "from": "15551230001",
            "id": "wamid.HBgLMTU1NTEyMzAwMDEVAgASGBQzQUZG",
            "timestamp": "1718000000",
            "type": "text",
            "text": {"body": "pay with 4111-1111-1111-1111 for order 123456"},
            "list": ["5555555555554444", 4111111111111111_u64, null, true],
        });
        mask_cards_in_value(&mut message);
        assert_eq!(
            message,
            json!({
                "from": "15551230001",
                "id": "wamid.HBgLMTU1NTEyMzAwMDEVAgASGBQzQUZG",
                "timestamp": "1718000000",
                "type": "text",
                "text": {"body": "pay with •••• 1111 for order 123456"},
                "list": ["•••• 4444", 4111111111111111_u64, null, true],
            })
        );
    }

    #[test]
    fn an_entry_s_summary_message_data_and_error_are_masked() {
        let mut entry = TimelineEntry {
            id: "wamid.1".into(),
            at_ms: 1,
            direction: Direction::Inbound,
            author: Author::Customer,
            kind: "text".into(),
            summary: "card 4111111111111111".into(),
            message: Some(json!({"text": {"body": "card 4111111111111111"}})),
            delivery: None,
            delivery_error: Some("refused 5555555555554444".into()),
            data: Some(json!({"card": "5555 5555 5555 4444"})),
            withdrawn: false,
            pricing: None,
        };
        mask_cards_in_entry(&mut entry);
        assert_eq!(entry.id, "wamid.1");
        assert_eq!(entry.summary, "card •••• 1111");
        assert_eq!(entry.message, Some(json!({"text": {"body": "card •••• 1111"}})));
        assert_eq!(entry.delivery_error.as_deref(), Some("refused •••• 4444"));
        assert_eq!(entry.data, Some(json!({"card": "•••• 4444"})));
    }
}

/// What erased contents read as.
pub const ERASED: &str = "[erased]";

/// A ticket without anything about its customer (a privacy erasure): who
/// they are (the ticket names an erased customer of its own), name, order
/// number, the customer's words in triggers and reasons, the survey's comment.
/// Team, status, priority, times and versions stay, so the ticket's shape and
/// the KPI counts remain.
pub fn erase_ticket(t: &mut crate::domain::ticket::Ticket) {
    t.customer = crate::domain::ids::CustomerId::erased(&t.id);
    t.contact_name = None;
    t.order_number = None;
    t.context.intent = None;
    t.context.frustration = None;
    for escalation in &mut t.escalations {
        escalation.reason = ERASED.to_owned();
        for hit in &mut escalation.triggers {
            hit.detail = ERASED.to_owned();
        }
    }
    if let Some(csat) = &mut t.csat {
        csat.comment = None;
    }
}

/// A timeline entry without its contents: what it was (kind, direction,
/// author, time, delivery) stays, what it said goes.
pub fn erase_entry(entry: &mut crate::domain::ticket::TimelineEntry) {
    entry.summary = ERASED.to_owned();
    entry.message = None;
    entry.data = None;
    entry.delivery_error = None;
}

#[cfg(test)]
mod erasure_tests {
    use super::*;
    use crate::domain::ids::{CustomerId, TicketId};
    use crate::domain::outbound::Author;
    use crate::domain::ticket::{Direction, Escalation, Ticket, TimelineEntry};
    use crate::domain::triggers::TriggerHit;

    #[test]
    fn an_erased_ticket_keeps_its_shape_and_loses_the_customers_words() {
        let mut t = Ticket::open(
            TicketId::parse("TK-1").unwrap(),
            CustomerId::parse("15551230001").unwrap(),
            "P1".into(),
            "support".into(),
            0,
        );
        t.contact_name = Some("Maria".into());
        t.order_number = Some("AB-1".into());
        t.escalations.push(Escalation {
            trigger: "frustration".into(),
            reason: "the words \"useless\"".into(),
            at_ms: 1,
            triggers: vec![TriggerHit::new("frustration", "the words \"useless\"")],
        });
        erase_ticket(&mut t);
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            !json.contains("Maria") && !json.contains("AB-1") && !json.contains("useless"),
            "{json}"
        );
        assert_eq!(t.escalations[0].trigger, "frustration");

        let mut entry = TimelineEntry {
            id: "wamid.1".into(),
            at_ms: 5,
            direction: Direction::Inbound,
            author: Author::Customer,
            kind: "text".into(),
            summary: "my card is 4111".into(),
            message: Some(serde_json::json!({"text": {"body": "my card is 4111"}})),
            delivery: None,
            delivery_error: None,
            data: None,
            withdrawn: false,
            pricing: None,
        };
        erase_entry(&mut entry);
        assert_eq!(
            (entry.summary.as_str(), entry.message.is_none(), entry.kind.as_str()),
            (ERASED, true, "text")
        );
    }
}
