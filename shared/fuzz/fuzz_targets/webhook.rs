//! The webhook's first steps on any bytes: the `X-Hub-Signature-256` check
//! (the first line is the header, the rest the body) and the envelope parse.
//! A body signed with the app secret always verifies; nothing panics.
#![no_main]

use helpdesk::domain::inbound::parse_delivery;
use helpdesk::domain::signature::{sign, verify_signature};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-app-secret";

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (std::str::from_utf8(&data[..at]).ok(), &data[at + 1..]),
        None => (None, data),
    };
    let _ = verify_signature(SECRET, body, header);
    assert!(verify_signature(SECRET, body, Some(&sign(SECRET, body))).is_ok());
    let _ = parse_delivery(body);
    let _ = parse_delivery(data);
});
