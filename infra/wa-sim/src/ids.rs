//! Identifier generation: message ids (wamids), media ids and trace ids in the shapes Meta uses.

use base64::Engine;
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

static SEQ: AtomicU64 = AtomicU64::new(1);

/// A new, unique message id for a message exchanged with `wa_id` (a phone, or a BSUID for a
/// customer without one), e.g. `wamid.HBgLMTU1NTAxMjM0NTYVAgARGBI...`.
///
/// Meta's wamids are base64 of a small binary record holding the customer's number and a hex
/// message key; this mirrors that layout so ids look and decode like real ones.
pub fn wamid(wa_id: &str) -> String {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let random: u64 = rand::rng().random();
    let key = format!("{:08X}{:010X}", seq & 0xFFFF_FFFF, random & 0xFF_FFFF_FFFF);
    let number = &wa_id.as_bytes()[..wa_id.len().min(255)];
    let mut raw = Vec::with_capacity(number.len() + key.len() + 10);
    raw.extend_from_slice(&[0x1c, 0x18, number.len() as u8]);
    raw.extend_from_slice(number);
    raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, key.len() as u8]);
    raw.extend_from_slice(key.as_bytes());
    raw.push(0x00);
    format!("wamid.{}", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// A new numeric media id, 16 digits like Meta's.
pub fn media_id() -> String {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) % 10_000;
    let random: u64 = rand::rng().random_range(100_000_000_000..1_000_000_000_000);
    format!("{random}{seq:04}")
}

/// A random `fbtrace_id` as found in Graph error envelopes.
pub fn fbtrace_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..23)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
