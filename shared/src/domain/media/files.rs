//! What a customer's file really is and whether the desk accepts it: media kinds and
//! WhatsApp's size limits, type sniffing from the first bytes, refusals, SHA-256 checksums.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::MB;

/// The kinds of media a WhatsApp message can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    /// The kind named by a WhatsApp message `type` ("image", "video", "audio", "document", "sticker");
    /// `None` for every other type (text, location, interactive…).
    pub fn from_message_type(t: &str) -> Option<MediaKind> {
        match t {
            "image" => Some(MediaKind::Image),
            "video" => Some(MediaKind::Video),
            "audio" => Some(MediaKind::Audio),
            "document" => Some(MediaKind::Document),
            "sticker" => Some(MediaKind::Sticker),
            _ => None,
        }
    }

    /// WhatsApp's limits: image 5 MB, video 16 MB, audio 16 MB, document 100 MB, sticker 500 KB (MB = 1024*1024).
    pub fn max_bytes(self) -> u64 {
        match self {
            MediaKind::Image => 5 * MB,
            MediaKind::Video | MediaKind::Audio => 16 * MB,
            MediaKind::Document => 100 * MB,
            MediaKind::Sticker => 500 * 1024,
        }
    }

    /// `Err(Refusal::TooLarge)` when `size` exceeds [`MediaKind::max_bytes`], `Err(Refusal::Empty)` when it is 0.
    pub fn check_size(self, size: u64) -> Result<(), Refusal> {
        let limit = self.max_bytes();
        match size {
            0 => Err(Refusal::Empty),
            size if size > limit => Err(Refusal::TooLarge { limit, size }),
            _ => Ok(()),
        }
    }
}

/// The real type of a file, from its first bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sniffed {
    pub mime: String,
    pub extension: String,
}

impl Sniffed {
    fn new(mime: &str, extension: &str) -> Sniffed {
        Sniffed {
            mime: mime.to_string(),
            extension: extension.to_string(),
        }
    }
}

/// Why a file is refused. The Display text is for logs and tickets and never contains file content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("file of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge { limit: u64, size: u64 },
    #[error("dangerous file: {what}")]
    Dangerous { what: String },
    #[error("file claimed as {claimed} is {actual}")]
    Mismatch { claimed: String, actual: String },
    #[error("file type not recognised")]
    UnknownType,
    #[error("file does not match its SHA-256 checksum")]
    ChecksumMismatch,
    #[error("file is empty")]
    Empty,
}

impl Refusal {
    /// The translation key of the message telling the customer why the file was refused:
    /// "media-too-large", "media-dangerous", "media-mismatch", "media-unknown-type", or "media-corrupt"
    /// (checksum mismatch and empty file).
    pub fn reason_key(&self) -> &'static str {
        match self {
            Refusal::TooLarge { .. } => "media-too-large",
            Refusal::Dangerous { .. } => "media-dangerous",
            Refusal::Mismatch { .. } => "media-mismatch",
            Refusal::UnknownType => "media-unknown-type",
            Refusal::ChecksumMismatch | Refusal::Empty => "media-corrupt",
        }
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks `bytes` against a hex SHA-256 (case-insensitive, surrounding whitespace ignored), as the Graph API's media
/// URL endpoint returns it. `Err(Refusal::ChecksumMismatch)` when it differs or is not 64 hex characters.
pub fn verify_sha256_hex(bytes: &[u8], expected_hex: &str) -> Result<(), Refusal> {
    let expected = hex::decode(expected_hex.trim()).map_err(|_| Refusal::ChecksumMismatch)?;
    let actual = Sha256::digest(bytes);
    if expected.as_slice() == actual.as_slice() {
        Ok(())
    } else {
        Err(Refusal::ChecksumMismatch)
    }
}

const MIME_DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const MIME_XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const MIME_PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
const MIME_DOC: &str = "application/msword";
const MIME_XLS: &str = "application/vnd.ms-excel";
const MIME_PPT: &str = "application/vnd.ms-powerpoint";

/// Longest claimed mime kept in a refusal (the claim comes from the sender's device).
const MAX_CLAIM_CHARS: usize = 100;

/// Checks a file's first bytes (at least the first 8 KiB when available) against its kind and the mime type WhatsApp
/// claimed (parameters such as `; codecs=opus` and case are ignored):
/// - dangerous whatever the claim: executables (PE/MZ, ELF, Mach-O, Java class, WebAssembly, Android DEX, JAR/APK),
///   scripts (`#!` at the start, AMR's `#!AMR` header excepted), HTML or SVG/XML (starts, after optional
///   whitespace/BOM, with `<!doctype html`, `<html`, `<head`, `<body`, `<script`, `<iframe`, `<svg` or `<?xml`,
///   case-insensitive), Windows shortcuts and cabinets, OLE compound files (MSI…) unless claimed as an old Office
///   type (doc, xls, ppt);
/// - the sniffed type must fit the kind: image → jpeg/png/webp/gif; video → mp4/3gpp; audio → aac/amr/mp3/mp4
///   audio/ogg; document → pdf, Office (zip-based docx/xlsx/pptx only when claimed as that Office Open XML type;
///   doc/xls/ppt), plain text (valid UTF-8 without NULs or control characters, not markup), csv (plain text claimed
///   as csv); sticker → webp;
/// - the sniffed mime must agree with the claim, up to aliases: image/jpg and image/pjpeg for image/jpeg,
///   audio/opus for audio/ogg, audio/mp3 for audio/mpeg, audio/x-aac for audio/aac, audio/m4a, audio/x-m4a and (for
///   the audio kind) video/mp4 for audio/mp4, video/3gpp for video/mp4 (same container), application/csv and
///   text/comma-separated-values for text/csv.
///
/// Returns the sniffed type with an extension for storage (jpg, png, webp, gif, mp4, 3gp, aac, amr, mp3, m4a, ogg,
/// pdf, docx, xlsx, pptx, doc, xls, ppt, txt, csv). Order of refusals: `Empty`, `Dangerous`, `UnknownType`,
/// `Mismatch` (kind, then claim).
pub fn check_file(kind: MediaKind, claimed_mime: &str, head: &[u8]) -> Result<Sniffed, Refusal> {
    if head.is_empty() {
        return Err(Refusal::Empty);
    }
    let claimed = mime_essence(claimed_mime);
    if let Some(what) = dangerous(head, &claimed) {
        return Err(Refusal::Dangerous { what: what.to_string() });
    }
    let sniffed = sniff(kind, &claimed, head).ok_or(Refusal::UnknownType)?;
    let mismatch = || Refusal::Mismatch {
        claimed: claimed.chars().take(MAX_CLAIM_CHARS).collect(),
        actual: sniffed.mime.clone(),
    };
    if !fits(kind, &sniffed.mime) || canonical(kind, &claimed) != canonical(kind, &sniffed.mime) {
        return Err(mismatch());
    }
    Ok(sniffed)
}

/// `type/subtype` in lowercase, without parameters.
fn mime_essence(mime: &str) -> String {
    mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn dangerous(head: &[u8], claimed: &str) -> Option<&'static str> {
    const MACH_O: [[u8; 4]; 4] = [
        [0xFE, 0xED, 0xFA, 0xCE],
        [0xFE, 0xED, 0xFA, 0xCF],
        [0xCE, 0xFA, 0xED, 0xFE],
        [0xCF, 0xFA, 0xED, 0xFE],
    ];
    const LNK: [u8; 20] = [
        0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x46,
    ];
    if head.starts_with(b"MZ") {
        return Some("Windows executable");
    }
    if head.starts_with(b"\x7fELF") {
        return Some("ELF executable");
    }
    if MACH_O.iter().any(|m| head.starts_with(m)) {
        return Some("Mach-O executable");
    }
    if head.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE]) {
        return Some("Java class or Mach-O universal binary");
    }
    if head.starts_with(b"\0asm") {
        return Some("WebAssembly module");
    }
    if head.starts_with(b"dex\n") {
        return Some("Android executable");
    }
    if head.starts_with(b"#!") && !head.starts_with(b"#!AMR") {
        return Some("script");
    }
    if head.starts_with(&LNK) {
        return Some("Windows shortcut");
    }
    if head.starts_with(b"MSCF") {
        return Some("Windows cabinet");
    }
    if is_markup(head) {
        return Some("HTML or XML markup");
    }
    if head.starts_with(&OLE) && ![MIME_DOC, MIME_XLS, MIME_PPT].contains(&claimed) {
        return Some("OLE compound file (installer or macro container)");
    }
    if head.starts_with(ZIP) {
        // A docx never holds these; a JAR or an APK does.
        let names: [&[u8]; 3] = [b"META-INF/MANIFEST.MF", b"AndroidManifest.xml", b"classes.dex"];
        if names.iter().any(|name| contains(head, name)) {
            return Some("Java or Android archive");
        }
    }
    None
}

const OLE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP: &[u8] = b"PK\x03\x04";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Markup a browser or an image viewer would run scripts from, after optional whitespace and byte order mark.
fn is_markup(head: &[u8]) -> bool {
    let mut rest = head;
    loop {
        if let Some(after) = rest.strip_prefix(b"\xEF\xBB\xBF") {
            rest = after;
        } else if let [b' ' | b'\t' | b'\n' | b'\r' | 0x0C, after @ ..] = rest {
            rest = after;
        } else {
            break;
        }
    }
    let starts = |prefix: &[u8]| rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix);
    if starts(b"<!doctype html") || starts(b"<?xml") {
        return true;
    }
    ["<html", "<head", "<body", "<script", "<iframe", "<svg"]
        .iter()
        .any(|tag| {
            // The tag name must end there: `<header-notes>` in a text file is not `<head`.
            starts(tag.as_bytes())
                && rest
                    .get(tag.len())
                    .is_none_or(|&b| matches!(b, b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r'))
        })
}

/// The type of the accepted formats, or of any other format `infer` knows (to name it in a mismatch).
fn sniff(kind: MediaKind, claimed: &str, head: &[u8]) -> Option<Sniffed> {
    let at = |offset: usize, bytes: &[u8]| head.get(offset..offset + bytes.len()) == Some(bytes);
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Sniffed::new("image/jpeg", "jpg"));
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Sniffed::new("image/png", "png"));
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(Sniffed::new("image/gif", "gif"));
    }
    if head.starts_with(b"RIFF") && at(8, b"WEBP") {
        return Some(Sniffed::new("image/webp", "webp"));
    }
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        if brand.starts_with(b"3gp") || brand.starts_with(b"3g2") {
            return Some(Sniffed::new("video/3gpp", "3gp"));
        }
        if [b"M4A ", b"M4B ", b"M4P "].iter().any(|b| brand == *b) {
            return Some(Sniffed::new("audio/mp4", "m4a"));
        }
        if brand == b"qt  " {
            return Some(Sniffed::new("video/quicktime", "mov"));
        }
        if brand.starts_with(b"hei") || brand.starts_with(b"mif1") || brand.starts_with(b"avi") {
            return infer_type(head);
        }
        // Generic brands (isom, mp41, mp42…) say nothing of the tracks; the message kind does.
        return Some(if kind == MediaKind::Audio {
            Sniffed::new("audio/mp4", "m4a")
        } else {
            Sniffed::new("video/mp4", "mp4")
        });
    }
    if head.starts_with(b"#!AMR") {
        return Some(Sniffed::new("audio/amr", "amr"));
    }
    if head.starts_with(b"OggS") {
        // Theora is the only video codec in Ogg; Opus voice notes, Vorbis and FLAC are audio.
        if at(28, b"\x80theora") {
            return Some(Sniffed::new("video/ogg", "ogv"));
        }
        return Some(Sniffed::new("audio/ogg", "ogg"));
    }
    if head.starts_with(b"ID3") {
        return Some(Sniffed::new("audio/mpeg", "mp3"));
    }
    if let [0xFF, b1, b2, ..] = *head {
        let layer = (b1 >> 1) & 0b11;
        let valid_bitrate = b2 >> 4 != 0b1111;
        if b1 & 0xF6 == 0xF0 {
            return Some(Sniffed::new("audio/aac", "aac"));
        }
        if b1 & 0xE0 == 0xE0 && layer == 0b01 && valid_bitrate {
            return Some(Sniffed::new("audio/mpeg", "mp3"));
        }
    }
    if head.starts_with(b"%PDF-") {
        return Some(Sniffed::new("application/pdf", "pdf"));
    }
    if head.starts_with(&OLE) {
        // Only reached when claimed as an old Office type (any other OLE file is dangerous).
        let extension = match claimed {
            MIME_DOC => "doc",
            MIME_XLS => "xls",
            _ => "ppt",
        };
        return Some(Sniffed::new(claimed, extension));
    }
    if head.starts_with(ZIP) {
        // Office Open XML is a zip whose parts need parsing to tell apart; the claim decides between them.
        return Some(match claimed {
            MIME_DOCX => Sniffed::new(claimed, "docx"),
            MIME_XLSX => Sniffed::new(claimed, "xlsx"),
            MIME_PPTX => Sniffed::new(claimed, "pptx"),
            _ => Sniffed::new("application/zip", "zip"),
        });
    }
    if let Some(other) = infer_type(head) {
        return Some(other);
    }
    if is_plain_text(head) {
        return Some(if canonical(kind, claimed) == "text/csv" {
            Sniffed::new("text/csv", "csv")
        } else {
            Sniffed::new("text/plain", "txt")
        });
    }
    None
}

fn infer_type(head: &[u8]) -> Option<Sniffed> {
    infer::get(head).map(|t| Sniffed::new(t.mime_type(), t.extension()))
}

/// UTF-8 (a character cut by the end of the head is tolerated) without NULs or control characters other than tab,
/// line breaks, form feed and escape.
fn is_plain_text(head: &[u8]) -> bool {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let utf8 = match std::str::from_utf8(body) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    !body.is_empty()
        && utf8
        && body
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B))
}

fn fits(kind: MediaKind, mime: &str) -> bool {
    let accepted: &[&str] = match kind {
        MediaKind::Image => &["image/jpeg", "image/png", "image/webp", "image/gif"],
        MediaKind::Video => &["video/mp4", "video/3gpp"],
        MediaKind::Audio => &["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"],
        MediaKind::Document => &[
            "application/pdf",
            MIME_DOCX,
            MIME_XLSX,
            MIME_PPTX,
            MIME_DOC,
            MIME_XLS,
            MIME_PPT,
            "text/plain",
            "text/csv",
        ],
        MediaKind::Sticker => &["image/webp"],
    };
    accepted.contains(&mime)
}

/// The family a mime belongs to for the claim check.
fn canonical(kind: MediaKind, mime: &str) -> &str {
    match mime {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "audio/opus" => "audio/ogg",
        "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg" => "audio/mpeg",
        "audio/x-aac" => "audio/aac",
        "audio/m4a" | "audio/x-m4a" => "audio/mp4",
        "video/mp4" if kind == MediaKind::Audio => "audio/mp4",
        "video/3gpp" | "video/3gp" => "video/mp4",
        "application/csv" | "text/comma-separated-values" | "text/x-csv" => "text/csv",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use image::ImageFormat;

    use super::*;
    use crate::domain::media::testkit::{Rng, encode, photo};

    // check_file

    fn tiny(format: ImageFormat) -> Vec<u8> {
        encode(&photo(5, 16, 16), format)
    }

    fn refused_as_dangerous(result: Result<Sniffed, Refusal>) -> bool {
        matches!(result, Err(Refusal::Dangerous { .. }))
    }

    fn ok(result: Result<Sniffed, Refusal>) -> String {
        result.unwrap().extension
    }

    #[test]
    fn a_png_claimed_as_png_is_accepted() {
        let sniffed = check_file(MediaKind::Image, "image/png", &tiny(ImageFormat::Png)).unwrap();
        assert_eq!(
            sniffed,
            Sniffed {
                mime: "image/png".into(),
                extension: "png".into()
            }
        );
    }

    #[test]
    fn a_jpeg_claimed_as_image_jpg_is_accepted() {
        assert_eq!(
            ok(check_file(MediaKind::Image, "image/jpg", &tiny(ImageFormat::Jpeg))),
            "jpg"
        );
        assert_eq!(
            ok(check_file(MediaKind::Image, "IMAGE/JPEG", &tiny(ImageFormat::Jpeg))),
            "jpg"
        );
        assert_eq!(
            ok(check_file(MediaKind::Image, "image/gif", &tiny(ImageFormat::Gif))),
            "gif"
        );
    }

    #[test]
    fn an_executable_renamed_as_pdf_is_dangerous() {
        let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
        exe.resize(512, 0);
        let refusal = check_file(MediaKind::Document, "application/pdf", &exe).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::Dangerous {
                what: "Windows executable".into()
            }
        );
        assert_eq!(refusal.reason_key(), "media-dangerous");
    }

    #[test]
    fn executables_of_every_platform_are_dangerous() {
        let heads: [&[u8]; 6] = [
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
            b"\xcf\xfa\xed\xfe\x07\0\0\x01",
            b"\xca\xfe\xba\xbe\0\0\0\x34",
            b"\0asm\x01\0\0\0",
            b"dex\n035\0",
            b"L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0F",
        ];
        for head in heads {
            assert!(
                refused_as_dangerous(check_file(MediaKind::Document, "application/pdf", head)),
                "{head:?}"
            );
        }
    }

    #[test]
    fn a_shell_script_is_dangerous_but_an_amr_voice_note_is_not() {
        assert!(refused_as_dangerous(check_file(
            MediaKind::Document,
            "text/plain",
            b"#!/bin/sh\nrm -rf ~\n"
        )));
        assert_eq!(
            ok(check_file(MediaKind::Audio, "audio/amr", b"#!AMR\n\x3c\x91\x17\x16")),
            "amr"
        );
    }

    #[test]
    fn html_svg_and_xml_are_dangerous_whatever_the_claim() {
        for head in [
            &b"<html><body>hello</body></html>"[..],
            b"  \r\n<!DOCTYPE HTML>",
            b"\xef\xbb\xbf<svg xmlns=\"http://www.w3.org/2000/svg\"><script>",
            b"<?xml version=\"1.0\"?>",
            b"<SCRIPT>alert(1)</SCRIPT>",
        ] {
            assert!(
                refused_as_dangerous(check_file(MediaKind::Document, "text/plain", head)),
                "{head:?}"
            );
        }
        assert_eq!(
            ok(check_file(
                MediaKind::Document,
                "text/plain",
                b"<header-notes> are fine"
            )),
            "txt"
        );
    }

    #[test]
    fn a_pdf_claimed_as_a_jpeg_image_is_a_mismatch() {
        let refusal = check_file(MediaKind::Image, "image/jpeg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap_err();
        assert_eq!(
            refusal,
            Refusal::Mismatch {
                claimed: "image/jpeg".into(),
                actual: "application/pdf".into()
            }
        );
        assert_eq!(refusal.reason_key(), "media-mismatch");
        assert_eq!(
            ok(check_file(MediaKind::Document, "application/pdf", b"%PDF-1.7\n")),
            "pdf"
        );
    }

    fn ogg_opus() -> Vec<u8> {
        let mut page = b"OggS\0\x02".to_vec();
        page.resize(26, 0);
        page.extend([1, 19]);
        page.extend(b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0");
        page
    }

    #[test]
    fn an_ogg_opus_voice_note_is_accepted_as_ogg() {
        assert_eq!(
            ok(check_file(MediaKind::Audio, "audio/ogg; codecs=opus", &ogg_opus())),
            "ogg"
        );
        assert_eq!(ok(check_file(MediaKind::Audio, "audio/opus", &ogg_opus())), "ogg");
    }

    #[test]
    fn other_audio_formats_are_accepted_under_their_aliases() {
        let m4a = b"\0\0\0\x20ftypM4A \0\0\0\0M4A mp42isom";
        assert_eq!(ok(check_file(MediaKind::Audio, "audio/mp4", m4a)), "m4a");
        let isom = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2mp41";
        assert_eq!(ok(check_file(MediaKind::Audio, "video/mp4", isom)), "m4a");
        assert_eq!(
            ok(check_file(MediaKind::Audio, "audio/mpeg", b"ID3\x04\0\0\0\0\0\x21")),
            "mp3"
        );
        assert_eq!(
            ok(check_file(MediaKind::Audio, "audio/mp3", b"\xff\xfb\x90\x64\0\0")),
            "mp3"
        );
        assert_eq!(
            ok(check_file(
                MediaKind::Audio,
                "audio/aac",
                b"\xff\xf1\x50\x80\x02\x1f\xfc"
            )),
            "aac"
        );
    }

    #[test]
    fn mp4_and_3gpp_videos_are_accepted() {
        let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom";
        assert_eq!(ok(check_file(MediaKind::Video, "video/mp4", mp4)), "mp4");
        let three_gp = b"\0\0\0\x14ftyp3gp4\0\0\0\0isom";
        assert_eq!(ok(check_file(MediaKind::Video, "video/3gpp", three_gp)), "3gp");
        let mov = b"\0\0\0\x14ftypqt  \0\0\0\0qt  ";
        assert!(matches!(
            check_file(MediaKind::Video, "video/mp4", mov),
            Err(Refusal::Mismatch { .. })
        ));
        assert!(matches!(
            check_file(MediaKind::Audio, "audio/mp4", mov),
            Err(Refusal::Mismatch { .. })
        ));
    }

    #[test]
    fn a_webp_sticker_is_accepted() {
        let webp = tiny(ImageFormat::WebP);
        assert_eq!(ok(check_file(MediaKind::Sticker, "image/webp", &webp)), "webp");
        assert!(matches!(
            check_file(MediaKind::Sticker, "image/png", &tiny(ImageFormat::Png)),
            Err(Refusal::Mismatch { .. })
        ));
    }

    fn zip_with(name: &str) -> Vec<u8> {
        let mut zip = b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0".to_vec();
        zip.resize(26, 0);
        zip.extend(u16::try_from(name.len()).unwrap().to_le_bytes());
        zip.extend([0, 0]);
        zip.extend(name.as_bytes());
        zip.extend([0x8d, 0x52, 0xcb, 0x6e, 0xc2, 0x30]);
        zip
    }

    #[test]
    fn a_docx_is_accepted_only_when_claimed_as_office_open_xml() {
        let docx = zip_with("[Content_Types].xml");
        let sniffed = check_file(MediaKind::Document, MIME_DOCX, &docx).unwrap();
        assert_eq!((sniffed.mime.as_str(), sniffed.extension.as_str()), (MIME_DOCX, "docx"));
        assert_eq!(ok(check_file(MediaKind::Document, MIME_XLSX, &docx)), "xlsx");
        assert_eq!(
            check_file(MediaKind::Document, "application/pdf", &docx),
            Err(Refusal::Mismatch {
                claimed: "application/pdf".into(),
                actual: "application/zip".into()
            })
        );
    }

    #[test]
    fn a_java_or_android_archive_is_dangerous_even_claimed_as_docx() {
        assert!(refused_as_dangerous(check_file(
            MediaKind::Document,
            MIME_DOCX,
            &zip_with("META-INF/MANIFEST.MF")
        )));
        assert!(refused_as_dangerous(check_file(
            MediaKind::Document,
            MIME_DOCX,
            &zip_with("AndroidManifest.xml")
        )));
    }

    #[test]
    fn an_ole_file_is_accepted_only_as_an_old_office_document() {
        let mut ole = OLE.to_vec();
        ole.resize(512, 0);
        assert_eq!(ok(check_file(MediaKind::Document, "application/msword", &ole)), "doc");
        assert_eq!(
            ok(check_file(MediaKind::Document, "application/vnd.ms-excel", &ole)),
            "xls"
        );
        assert!(refused_as_dangerous(check_file(
            MediaKind::Document,
            "application/pdf",
            &ole
        )));
        assert!(refused_as_dangerous(check_file(
            MediaKind::Document,
            "application/x-msi",
            &ole
        )));
    }

    #[test]
    fn plain_text_and_csv_are_accepted_as_documents() {
        let text = "Commande 1234 : reçue, merci !\n".as_bytes();
        assert_eq!(ok(check_file(MediaKind::Document, "text/plain", text)), "txt");
        assert_eq!(
            ok(check_file(MediaKind::Document, "text/csv", b"order,total\n1234,9.99\n")),
            "csv"
        );
        // A character cut by the end of the head is not a reason to refuse.
        assert_eq!(
            ok(check_file(MediaKind::Document, "text/plain", &"reçu".as_bytes()[..3])),
            "txt"
        );
        assert_eq!(
            check_file(MediaKind::Document, "text/plain", b"abc\0def"),
            Err(Refusal::UnknownType)
        );
        assert!(matches!(
            check_file(MediaKind::Image, "image/jpeg", text),
            Err(Refusal::Mismatch { .. })
        ));
    }

    #[test]
    fn random_bytes_are_of_unknown_type() {
        let mut rng = Rng(42);
        let bytes: Vec<u8> = (0..8192).map(|_| rng.below(256) as u8).collect();
        let refusal = check_file(MediaKind::Document, "application/pdf", &bytes).unwrap_err();
        assert_eq!(refusal, Refusal::UnknownType);
        assert_eq!(refusal.reason_key(), "media-unknown-type");
    }

    #[test]
    fn an_empty_file_is_refused_as_corrupt() {
        assert_eq!(check_file(MediaKind::Image, "image/jpeg", b""), Err(Refusal::Empty));
        assert_eq!(Refusal::Empty.reason_key(), "media-corrupt");
        assert_eq!(MediaKind::Image.check_size(0), Err(Refusal::Empty));
    }

    #[test]
    fn sizes_are_checked_against_whatsapp_limits() {
        let mb = 1024 * 1024;
        assert_eq!(MediaKind::Image.max_bytes(), 5 * mb);
        assert_eq!(MediaKind::Video.max_bytes(), 16 * mb);
        assert_eq!(MediaKind::Audio.max_bytes(), 16 * mb);
        assert_eq!(MediaKind::Document.max_bytes(), 100 * mb);
        assert_eq!(MediaKind::Sticker.max_bytes(), 500 * 1024);
        let refusal = MediaKind::Image.check_size(6 * mb).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::TooLarge {
                limit: 5 * mb,
                size: 6 * mb
            }
        );
        assert_eq!(refusal.reason_key(), "media-too-large");
        assert_eq!(
            refusal.to_string(),
            "file of 6291456 bytes exceeds the 5242880-byte limit"
        );
        assert_eq!(MediaKind::Image.check_size(5 * mb), Ok(()));
    }

    #[test]
    fn message_types_name_media_kinds() {
        assert_eq!(MediaKind::from_message_type("sticker"), Some(MediaKind::Sticker));
        assert_eq!(MediaKind::from_message_type("document"), Some(MediaKind::Document));
        assert_eq!(MediaKind::from_message_type("text"), None);
        assert_eq!(serde_json::to_string(&MediaKind::Audio).unwrap(), r#""audio""#);
    }

    #[test]
    fn a_long_claim_is_cut_in_the_refusal() {
        let claim = format!("image/{}", "x".repeat(500));
        let Err(Refusal::Mismatch { claimed, .. }) = check_file(MediaKind::Image, &claim, b"%PDF-1.4") else {
            panic!("expected a mismatch");
        };
        assert_eq!(claimed.chars().count(), MAX_CLAIM_CHARS);
    }

    #[test]
    fn the_checksum_is_verified_against_hex() {
        let digest = sha256_hex(b"photo");
        assert_eq!(verify_sha256_hex(b"photo", &digest.to_uppercase()), Ok(()));
        assert_eq!(verify_sha256_hex(b"photo!", &digest), Err(Refusal::ChecksumMismatch));
        assert_eq!(verify_sha256_hex(b"photo", "not hex"), Err(Refusal::ChecksumMismatch));
        assert_eq!(Refusal::ChecksumMismatch.reason_key(), "media-corrupt");
    }
}
