//! Media type sniffing on any first bytes, for every kind and a claimed type
//! picked by the first byte: accepted or refused, never a panic.
#![no_main]

use helpdesk::domain::media::{MediaKind, check_file};
use libfuzzer_sys::fuzz_target;

const CLAIMED: &[&str] = &[
    "image/jpeg", "image/png", "image/webp", "video/mp4", "audio/ogg", "audio/mpeg",
    "application/pdf", "text/plain", "application/octet-stream", "",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, head)) = data.split_first() else { return };
    let claimed = CLAIMED[*first as usize % CLAIMED.len()];
    for kind in ["image", "video", "audio", "document", "sticker"] {
        if let Some(kind) = MediaKind::from_message_type(kind) {
            let _ = check_file(kind, claimed, head);
        }
    }
});
