//! Media checks and image analysis: what a customer's file really is, whether the desk accepts it, and how good,
//! how edited and how familiar a photo looks (quality, EXIF traces, perceptual hash for near-duplicates).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, Limits, RgbImage};
use image_hasher::{HashAlg, HasherConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MB: u64 = 1024 * 1024;

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

/// Image quality thresholds (part of the desk configuration; every field has a default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityThresholds {
    /// Pixels along the longer side below which a photo is too small (orientation does not matter).
    pub min_width: u32,
    /// Pixels along the shorter side below which a photo is too small.
    pub min_height: u32,
    /// Mean luma (0–255) below which a photo is too dark.
    pub dark_below: f64,
    /// Mean luma (0–255) above which a photo is overexposed.
    pub bright_above: f64,
    /// Variance of the Laplacian, measured on a grayscale copy whose longest side is 512 px, below which a photo is
    /// blurred.
    pub blur_below: f64,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        QualityThresholds {
            min_width: 640,
            min_height: 480,
            dark_below: 50.0,
            bright_above: 220.0,
            blur_below: 60.0,
        }
    }
}

/// What is wrong with a photo, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityProblem {
    TooSmall,
    TooDark,
    Overexposed,
    Blurred,
}

impl QualityProblem {
    /// The translation key of the message asking the customer for a better photo.
    pub fn reason_key(self) -> &'static str {
        match self {
            QualityProblem::TooSmall => "photo-too-small",
            QualityProblem::TooDark => "photo-too-dark",
            QualityProblem::Overexposed => "photo-overexposed",
            QualityProblem::Blurred => "photo-blurred",
        }
    }
}

/// A photo's measures: size as displayed (EXIF orientation applied), mean luma 0–255, variance of the Laplacian.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    pub width: u32,
    pub height: u32,
    pub brightness: f64,
    pub sharpness: f64,
    pub problems: Vec<QualityProblem>,
}

/// What a photo's EXIF says about where it comes from. Screenshots and images saved by most messaging apps have no
/// EXIF at all: `missing_camera_data` is then true, which is not suspicious by itself; the caller weighs it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExifTraces {
    pub software: Option<String>,
    /// "Make Model" (the model alone when it already names the make).
    pub camera: Option<String>,
    /// DateTimeOriginal as written ("YYYY:MM:DD HH:MM:SS").
    pub taken_at: Option<String>,
    /// Software names a known editor (Photoshop, GIMP, Lightroom, Snapseed, Picsart, Canva, Pixelmator, Affinity,
    /// Paint.NET, Photopea…), or DateTime differs from DateTimeOriginal by more than a minute.
    pub edited: bool,
    /// Neither Make nor Model (including no EXIF at all).
    pub missing_camera_data: bool,
}

/// An image's measures, fingerprint and EXIF traces, with a copy for the vision service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageAnalysis {
    pub quality: Quality,
    /// 16 lowercase hex characters: a 64-bit DCT perceptual hash, compared with [`phash_distance`].
    pub phash: String,
    pub exif: ExifTraces,
    /// JPEG, upright, longest side ≤ 1024 px, at most 5 MB (Rekognition's bytes limit), transparency over white.
    #[serde(skip)]
    pub analysis_copy: Vec<u8>,
}

/// Why an image could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("image cannot be decoded: {0}")]
    Decode(String),
    #[error("image format not supported")]
    UnsupportedFormat,
    #[error("image of {width}x{height} pixels is too large to analyse")]
    TooLarge { width: u32, height: u32 },
    #[error("analysis copy cannot be encoded: {0}")]
    Encode(String),
}

/// Largest image decoded (pixels).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Largest allocation for decoding (pixels and decoder buffers): leaves room for the rest of a 128 MB Lambda.
const MAX_ALLOC: u64 = 96 * MB;
/// Longest side of the copy sent to the vision service.
const ANALYSIS_MAX_SIDE: u32 = 1024;
/// Longest side of the grayscale copy measured and hashed, so measures do not depend on the original resolution.
const MEASURE_MAX_SIDE: u32 = 512;
/// Rekognition's limit on image bytes.
const ANALYSIS_MAX_BYTES: usize = 5 * MB as usize;

/// Hamming distance at or below which two photos are near-duplicates. Measured on generated scenes: a copy resized to
/// 800×600 or 640×480 and recompressed as JPEG quality 60 or 40, or brightened by 10%, measures 0–1; different scenes
/// measure 29 and more. Cropping is not covered: a 5% crop already measures 4.
pub const NEAR_DUPLICATE_DISTANCE: u32 = 3;

/// Decodes, measures and fingerprints an image (JPEG, PNG, WebP, GIF's first frame). Bounded work: at most
/// [`MAX_PIXELS`] pixels, and at most 96 MB for the decoded pixels (so about 32 megapixels in RGB, 24 in RGBA) and the
/// decoder's own buffers: a larger image is `ImageError::TooLarge`, found from its header before any decoding. The
/// decoded image is shrunk to the ≤ 1024 px analysis copy before anything else, and brightness, sharpness and the hash are measured on a grayscale copy whose longest side is
/// 512 px. Problems: too small (longer side < `min_width` or shorter side < `min_height`), too dark, overexposed,
/// blurred (judged only when the exposure is right: the Laplacian's variance falls with contrast, so a dark or
/// washed-out photo would read as blurred whatever its focus).
pub fn analyse_image(bytes: &[u8], thresholds: &QualityThresholds) -> Result<ImageAnalysis, ImageError> {
    let decode_error = |e: image::ImageError| ImageError::Decode(e.to_string());
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    if reader.format().is_none() {
        return Err(ImageError::UnsupportedFormat);
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (raw_width, raw_height) = decoder.dimensions();
    let too_large = ImageError::TooLarge {
        width: raw_width,
        height: raw_height,
    };
    if u64::from(raw_width) * u64::from(raw_height) > MAX_PIXELS {
        return Err(too_large);
    }
    // The decoded pixels count against the allocation limit too; decoders only bound their own buffers.
    if limits.reserve(decoder.total_bytes()).is_err() {
        return Err(too_large);
    }
    decoder.set_limits(limits).map_err(decode_error)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let decoded = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    let mut copy = shrink(decoded, ANALYSIS_MAX_SIDE);
    // Rotating the full image would copy it; the small copy is rotated instead.
    copy.apply_orientation(orientation);
    let (width, height) = if swaps_axes(orientation) {
        (raw_height, raw_width)
    } else {
        (raw_width, raw_height)
    };
    let rgb = flatten(copy);
    let gray = shrink_gray(image::imageops::grayscale(&rgb), MEASURE_MAX_SIDE);

    let brightness = mean(&gray);
    let sharpness = laplacian_variance(&gray);
    let mut problems = Vec::new();
    let (long, short) = (width.max(height), width.min(height));
    if long < thresholds.min_width.max(thresholds.min_height) || short < thresholds.min_width.min(thresholds.min_height)
    {
        problems.push(QualityProblem::TooSmall);
    }
    let dark = brightness < thresholds.dark_below;
    let bright = brightness > thresholds.bright_above;
    if dark {
        problems.push(QualityProblem::TooDark);
    }
    if bright {
        problems.push(QualityProblem::Overexposed);
    }
    if !dark && !bright && sharpness < thresholds.blur_below {
        problems.push(QualityProblem::Blurred);
    }

    // The DCT hash (pHash): low frequencies only, so resizing, recompression and
    // smooth low-contrast areas (where gradient signs flip) leave it nearly unchanged.
    let hasher = HasherConfig::new()
        .hash_alg(HashAlg::Mean)
        .preproc_dct()
        .hash_size(8, 8)
        .to_hasher();
    let phash = hex::encode(hasher.hash_image(&gray).as_bytes());

    Ok(ImageAnalysis {
        quality: Quality {
            width,
            height,
            brightness,
            sharpness,
            problems,
        },
        phash,
        exif: exif_traces(bytes),
        analysis_copy: encode_jpeg(&rgb)?,
    })
}

fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

/// `image` scaled down (area averaging) so its longest side is at most `max_side`; never scaled up. The full-size
/// image is freed on return.
fn shrink(image: DynamicImage, max_side: u32) -> DynamicImage {
    if image.width().max(image.height()) <= max_side {
        image
    } else {
        image.thumbnail(max_side, max_side)
    }
}

fn shrink_gray(gray: GrayImage, max_side: u32) -> GrayImage {
    let (w, h) = gray.dimensions();
    if w.max(h) <= max_side {
        return gray;
    }
    let (nw, nh) = if w >= h {
        (
            max_side,
            ((u64::from(h) * u64::from(max_side) / u64::from(w)) as u32).max(1),
        )
    } else {
        (
            ((u64::from(w) * u64::from(max_side) / u64::from(h)) as u32).max(1),
            max_side,
        )
    };
    image::imageops::thumbnail(&gray, nw, nh)
}

/// RGB8, transparency composited over white (screenshots and stickers often have an alpha channel whose hidden
/// colour is black).
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (out, px) in rgb.pixels_mut().zip(rgba.pixels()) {
        let alpha = u16::from(px[3]);
        for c in 0..3 {
            out[c] = ((u16::from(px[c]) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
        }
    }
    rgb
}

fn mean(gray: &GrayImage) -> f64 {
    let pixels = gray.as_raw();
    if pixels.is_empty() {
        return 0.0;
    }
    pixels.iter().map(|&p| u64::from(p)).sum::<u64>() as f64 / pixels.len() as f64
}

/// Variance of the 4-neighbour Laplacian over the interior pixels (0 for images under 3×3).
fn laplacian_variance(gray: &GrayImage) -> f64 {
    let (w, h) = gray.dimensions();
    if w < 3 || h < 3 {
        return 0.0;
    }
    let (w, h) = (w as usize, h as usize);
    let px = gray.as_raw();
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let l = i32::from(px[i - 1]) + i32::from(px[i + 1]) + i32::from(px[i - w]) + i32::from(px[i + w])
                - 4 * i32::from(px[i]);
            let l = f64::from(l);
            sum += l;
            sum_sq += l * l;
        }
    }
    let n = ((w - 2) * (h - 2)) as f64;
    let m = sum / n;
    (sum_sq / n - m * m).max(0.0)
}

fn encode_jpeg(rgb: &RgbImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    for quality in [85, 70, 50, 30] {
        out.clear();
        JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(rgb)
            .map_err(|e| ImageError::Encode(e.to_string()))?;
        if out.len() <= ANALYSIS_MAX_BYTES {
            break;
        }
    }
    Ok(out)
}

/// Editors whose name in EXIF Software means the photo went through them (matched case-insensitively).
const EDITORS: &[&str] = &[
    "photoshop",
    "gimp",
    "lightroom",
    "snapseed",
    "picsart",
    "canva",
    "pixelmator",
    "affinity",
    "paint.net",
    "photopea",
    "facetune",
    "faceapp",
    "fotor",
    "pixlr",
    "luminar",
    "capture one",
    "darktable",
    "befunky",
    "meitu",
    "polarr",
    "photodirector",
    "airbrush",
];

/// Longest EXIF text kept (it is written by whoever made the file, and ends up in tickets).
const MAX_EXIF_CHARS: usize = 100;

fn exif_traces(bytes: &[u8]) -> ExifTraces {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return ExifTraces {
            missing_camera_data: true,
            ..ExifTraces::default()
        };
    };
    let text = |tag: exif::Tag| {
        let field = exif.get_field(tag, exif::In::PRIMARY)?;
        let exif::Value::Ascii(parts) = &field.value else {
            return None;
        };
        let raw = String::from_utf8_lossy(parts.first()?);
        let clean: String = raw
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_EXIF_CHARS)
            .collect();
        (!clean.is_empty()).then_some(clean)
    };
    let software = text(exif::Tag::Software);
    let make = text(exif::Tag::Make);
    let model = text(exif::Tag::Model);
    let taken_at = text(exif::Tag::DateTimeOriginal);
    let modified_at = text(exif::Tag::DateTime);
    let camera = match (&make, &model) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => Some(model.clone()),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (one, other) => one.clone().or_else(|| other.clone()),
    };
    let by_editor = software.as_deref().is_some_and(|s| {
        let s = s.to_lowercase();
        EDITORS.iter().any(|editor| s.contains(editor))
    });
    let redated = match (
        taken_at.as_deref().and_then(exif_datetime),
        modified_at.as_deref().and_then(exif_datetime),
    ) {
        (Some(taken), Some(modified)) => modified.duration_since(taken).abs().as_secs() > 60,
        _ => false,
    };
    ExifTraces {
        missing_camera_data: camera.is_none(),
        edited: by_editor || redated,
        software,
        camera,
        taken_at,
    }
}

/// "YYYY:MM:DD HH:MM:SS" as EXIF writes dates.
fn exif_datetime(text: &str) -> Option<jiff::civil::DateTime> {
    let dt = exif::DateTime::from_ascii(text.as_bytes()).ok()?;
    jiff::civil::DateTime::new(
        i16::try_from(dt.year).ok()?,
        i8::try_from(dt.month).ok()?,
        i8::try_from(dt.day).ok()?,
        i8::try_from(dt.hour).ok()?,
        i8::try_from(dt.minute).ok()?,
        i8::try_from(dt.second).ok()?,
        0,
    )
    .ok()
}

/// Hamming distance between two hashes in hex (case-insensitive); `None` when either is not hex or their lengths
/// differ.
pub fn phash_distance(a: &str, b: &str) -> Option<u32> {
    let (a, b) = (hex::decode(a).ok()?, hex::decode(b).ok()?);
    if a.len() != b.len() {
        return None;
    }
    Some(a.iter().zip(&b).map(|(x, y)| (x ^ y).count_ones()).sum())
}

/// Index keys for near-duplicate lookup: the 64-bit hash split into 4 bands of 16 bits, as "0:ab12", "1:ff00",
/// "2:…", "3:…" (lowercase). Two hashes within Hamming distance 3 share at least one band (pigeonhole), so looking up
/// the 4 band keys finds every candidate; candidates are then filtered by [`phash_distance`]. Empty when `hash` is not
/// 16 hex characters.
pub fn phash_bands(hash: &str) -> Vec<String> {
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Vec::new();
    }
    let hash = hash.to_ascii_lowercase();
    (0..4).map(|i| format!("{i}:{}", &hash[i * 4..i * 4 + 4])).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use image::imageops::FilterType;
    use image::{ImageFormat, Rgb, RgbImage};

    use super::*;

    /// xorshift64*: deterministic pictures and bytes without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u32) -> u32 {
            (self.next() >> 32) as u32 % n
        }
    }

    /// A photo-like picture: a gradient, coloured rectangles and discs, sensor-like noise. Shapes are placed in
    /// proportion to the size, so the same seed draws the same scene at any size.
    fn photo(seed: u64, width: u32, height: u32) -> RgbImage {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let (gx, gy) = (rng.below(160) as f32, rng.below(160) as f32);
        let mut img = RgbImage::from_fn(width, height, |x, y| {
            let (u, v) = (x as f32 / width as f32, y as f32 / height as f32);
            Rgb([
                (40.0 + gx * u) as u8,
                (40.0 + gy * v) as u8,
                (60.0 + 80.0 * (1.0 - u) * v) as u8,
            ])
        });
        for _ in 0..40 {
            let colour = Rgb([rng.below(256) as u8, rng.below(256) as u8, rng.below(256) as u8]);
            let (cx, cy) = (rng.below(1000) as f32 / 1000.0, rng.below(1000) as f32 / 1000.0);
            let size = (20 + rng.below(130)) as f32 / 1000.0;
            let disc = rng.below(2) == 0;
            let (w, h) = (width as f32, height as f32);
            let (x0, x1) = (((cx - size) * w).max(0.0) as u32, ((cx + size) * w).min(w) as u32);
            let (y0, y1) = (
                ((cy - size / 0.75) * h).max(0.0) as u32,
                ((cy + size / 0.75) * h).min(h) as u32,
            );
            for y in y0..y1 {
                for x in x0..x1 {
                    let (dx, dy) = (x as f32 / w - cx, (y as f32 / h - cy) * 0.75);
                    if !disc || dx * dx + dy * dy < size * size {
                        img.put_pixel(x, y, colour);
                    }
                }
            }
        }
        for px in img.pixels_mut() {
            for c in px.0.iter_mut() {
                *c = (i32::from(*c) + rng.below(25) as i32 - 12).clamp(0, 255) as u8;
            }
        }
        img
    }

    fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(img)
            .unwrap();
        out
    }

    fn map(img: &RgbImage, f: impl Fn(u8) -> u8) -> RgbImage {
        let mut out = img.clone();
        out.pixels_mut().for_each(|px| px.0.iter_mut().for_each(|c| *c = f(*c)));
        out
    }

    fn scene() -> &'static RgbImage {
        static SCENE: OnceLock<RgbImage> = OnceLock::new();
        SCENE.get_or_init(|| photo(1, 1280, 960))
    }

    fn scene_analysis() -> &'static ImageAnalysis {
        static ANALYSIS: OnceLock<ImageAnalysis> = OnceLock::new();
        ANALYSIS.get_or_init(|| analyse_image(&jpeg(scene(), 92), &QualityThresholds::default()).unwrap())
    }

    /// The same scene at half the size: exposure and focus do not depend on the resolution, and debug builds
    /// decode a quarter of the pixels four times faster.
    fn half_scene() -> &'static RgbImage {
        static SCENE: OnceLock<RgbImage> = OnceLock::new();
        SCENE.get_or_init(|| photo(1, 640, 480))
    }

    fn analyse(img: &RgbImage) -> ImageAnalysis {
        analyse_image(&jpeg(img, 92), &QualityThresholds::default()).unwrap()
    }

    #[test]
    fn a_well_lit_detailed_photo_has_no_problem() {
        let analysis = scene_analysis();
        assert_eq!(analysis.quality.problems, vec![]);
        assert_eq!((analysis.quality.width, analysis.quality.height), (1280, 960));
        assert_eq!(analysis.phash.len(), 16);
    }

    #[test]
    fn the_analysis_copy_is_a_jpeg_of_at_most_1024_pixels() {
        let copy = &scene_analysis().analysis_copy;
        assert!(copy.len() <= 5 * 1024 * 1024);
        let reader = ImageReader::with_format(Cursor::new(copy), ImageFormat::Jpeg);
        assert_eq!(reader.into_dimensions().unwrap(), (1024, 768));
    }

    #[test]
    fn a_dark_photo_is_too_dark() {
        let analysis = analyse(&map(half_scene(), |c| (u32::from(c) * 16 / 100) as u8));
        assert!(analysis.quality.brightness < 30.0);
        assert_eq!(analysis.quality.problems, vec![QualityProblem::TooDark]);
    }

    #[test]
    fn an_overexposed_photo_is_overexposed() {
        let analysis = analyse(&map(half_scene(), |c| 215 + (u32::from(c) * 40 / 255) as u8));
        assert_eq!(analysis.quality.problems, vec![QualityProblem::Overexposed]);
    }

    #[test]
    fn a_blurred_photo_is_blurred_and_the_sharp_one_is_not() {
        // Sigma 3 at half size is sigma 6 on the full-size scene.
        let analysis = analyse(&image::imageops::blur(half_scene(), 3.0));
        assert_eq!(analysis.quality.problems, vec![QualityProblem::Blurred]);
        let sharp = analyse(half_scene());
        assert_eq!(sharp.quality.problems, vec![]);
        assert!(!scene_analysis().quality.problems.contains(&QualityProblem::Blurred));
    }

    #[test]
    fn a_small_photo_is_too_small_whatever_its_orientation() {
        let thresholds = QualityThresholds::default();
        let small = analyse_image(&encode(&photo(3, 200, 150), ImageFormat::Png), &thresholds).unwrap();
        assert_eq!(small.quality.problems, vec![QualityProblem::TooSmall]);
        let portrait = analyse_image(&jpeg(&photo(3, 480, 640), 90), &thresholds).unwrap();
        assert!(!portrait.quality.problems.contains(&QualityProblem::TooSmall));
    }

    #[test]
    fn a_resized_recompressed_copy_is_a_near_duplicate() {
        let original = scene_analysis();
        let resized = image::imageops::resize(scene(), 800, 600, FilterType::Triangle);
        let copy = analyse_image(&jpeg(&resized, 60), &QualityThresholds::default()).unwrap();
        let distance = phash_distance(&original.phash, &copy.phash).unwrap();
        assert!(distance <= NEAR_DUPLICATE_DISTANCE);
        let bands = phash_bands(&original.phash);
        assert!(phash_bands(&copy.phash).iter().any(|band| bands.contains(band)));
    }

    #[test]
    fn a_different_photo_is_not_a_near_duplicate() {
        for seed in 2..5 {
            let other = analyse_image(&jpeg(&photo(seed, 400, 300), 80), &QualityThresholds::default()).unwrap();
            let distance = phash_distance(&scene_analysis().phash, &other.phash).unwrap();
            assert!(distance > NEAR_DUPLICATE_DISTANCE);
        }
    }

    fn exif_jpeg(fields: Vec<exif::Field>) -> Vec<u8> {
        let plain = jpeg(&photo(4, 64, 48), 80);
        let mut writer = exif::experimental::Writer::new();
        fields.iter().for_each(|field| writer.push_field(field));
        let mut tiff = Cursor::new(Vec::new());
        writer.write(&mut tiff, false).unwrap();
        let tiff = tiff.into_inner();
        let mut out = plain[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
        out.extend(b"Exif\0\0");
        out.extend(tiff);
        out.extend(&plain[2..]);
        out
    }

    fn ascii(tag: exif::Tag, text: &str) -> exif::Field {
        exif::Field {
            tag,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Ascii(vec![text.as_bytes().to_vec()]),
        }
    }

    #[test]
    fn photoshop_in_exif_marks_the_photo_as_edited() {
        let bytes = exif_jpeg(vec![
            ascii(exif::Tag::Software, "Adobe Photoshop 25.0"),
            ascii(exif::Tag::Make, "Canon"),
            ascii(exif::Tag::Model, "Canon EOS R6"),
            ascii(exif::Tag::DateTimeOriginal, "2024:05:01 10:00:00"),
        ]);
        let traces = analyse_image(&bytes, &QualityThresholds::default()).unwrap().exif;
        assert_eq!(
            traces,
            ExifTraces {
                software: Some("Adobe Photoshop 25.0".into()),
                camera: Some("Canon EOS R6".into()),
                taken_at: Some("2024:05:01 10:00:00".into()),
                edited: true,
                missing_camera_data: false,
            }
        );
    }

    #[test]
    fn a_photo_saved_long_after_it_was_taken_counts_as_edited() {
        let bytes = exif_jpeg(vec![
            ascii(exif::Tag::Software, "17.4.1"),
            ascii(exif::Tag::Make, "Apple"),
            ascii(exif::Tag::Model, "iPhone 13"),
            ascii(exif::Tag::DateTimeOriginal, "2024:05:01 10:00:00"),
            ascii(exif::Tag::DateTime, "2024:05:01 12:30:00"),
        ]);
        let traces = exif_traces(&bytes);
        assert_eq!(traces.camera.as_deref(), Some("Apple iPhone 13"));
        assert!(traces.edited);
        let untouched = exif_jpeg(vec![
            ascii(exif::Tag::Make, "Apple"),
            ascii(exif::Tag::DateTimeOriginal, "2024:05:01 10:00:00"),
            ascii(exif::Tag::DateTime, "2024:05:01 10:00:30"),
        ]);
        assert!(!exif_traces(&untouched).edited);
    }

    #[test]
    fn a_jpeg_without_exif_misses_camera_data() {
        let traces = exif_traces(&jpeg(&photo(4, 64, 48), 80));
        assert_eq!(
            traces,
            ExifTraces {
                missing_camera_data: true,
                ..ExifTraces::default()
            }
        );
    }

    #[test]
    fn the_exif_orientation_is_applied_to_the_size_and_the_copy() {
        let bytes = exif_jpeg(vec![exif::Field {
            tag: exif::Tag::Orientation,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Short(vec![6]),
        }]);
        let analysis = analyse_image(&bytes, &QualityThresholds::default()).unwrap();
        assert_eq!((analysis.quality.width, analysis.quality.height), (48, 64));
        let copy = image::load_from_memory(&analysis.analysis_copy).unwrap();
        assert_eq!((copy.width(), copy.height()), (48, 64));
    }

    #[test]
    fn bytes_that_are_no_image_cannot_be_analysed() {
        let thresholds = QualityThresholds::default();
        assert!(matches!(
            analyse_image(b"%PDF-1.7", &thresholds),
            Err(ImageError::UnsupportedFormat)
        ));
        let truncated = &jpeg(&photo(4, 64, 48), 80)[..300];
        assert!(matches!(
            analyse_image(truncated, &thresholds),
            Err(ImageError::Decode(_))
        ));
    }

    #[test]
    fn transparency_is_flattened_over_white() {
        let transparent = image::RgbaImage::from_pixel(160, 120, image::Rgba([0, 0, 0, 0]));
        let mut png = Cursor::new(Vec::new());
        transparent.write_to(&mut png, ImageFormat::Png).unwrap();
        let analysis = analyse_image(&png.into_inner(), &QualityThresholds::default()).unwrap();
        assert!(analysis.quality.brightness > 250.0);
        assert!(analysis.quality.problems.contains(&QualityProblem::Overexposed));
    }

    #[test]
    fn phash_distance_counts_differing_bits_of_well_formed_hashes_only() {
        assert_eq!(phash_distance("ffffffffffffffff", "0000000000000000"), Some(64));
        assert_eq!(phash_distance("00000000000000F1", "00000000000000f0"), Some(1));
        assert_eq!(phash_distance("00", "0000"), None);
        assert_eq!(phash_distance("zz", "00"), None);
    }

    #[test]
    fn hashes_within_three_bits_share_a_band() {
        let hash = "0123456789abcdef";
        assert_eq!(phash_bands(hash), vec!["0:0123", "1:4567", "2:89ab", "3:cdef"]);
        assert_eq!(phash_bands("0123456789ABCDEF"), phash_bands(hash));
        let mut rng = Rng(7);
        for _ in 0..200 {
            let mut bits = u64::from_str_radix(hash, 16).unwrap();
            for _ in 0..NEAR_DUPLICATE_DISTANCE {
                bits ^= 1 << rng.below(64);
            }
            let near = format!("{bits:016x}");
            assert!(phash_bands(&near).iter().any(|band| phash_bands(hash).contains(band)));
        }
        assert!(phash_bands("0123").is_empty());
        assert!(phash_bands("0123456789abcdeg").is_empty());
    }

    #[test]
    fn thresholds_default_every_missing_field_and_reject_unknown_ones() {
        let partial: QualityThresholds = serde_json::from_str(r#"{"blur_below": 80.0}"#).unwrap();
        assert_eq!(
            partial,
            QualityThresholds {
                blur_below: 80.0,
                ..QualityThresholds::default()
            }
        );
        assert!(serde_json::from_str::<QualityThresholds>(r#"{"min_widht": 10}"#).is_err());
    }

    #[test]
    fn problems_name_their_translation_keys() {
        let keys: Vec<_> = [
            QualityProblem::TooSmall,
            QualityProblem::TooDark,
            QualityProblem::Overexposed,
            QualityProblem::Blurred,
        ]
        .iter()
        .map(|p| p.reason_key())
        .collect();
        assert_eq!(
            keys,
            [
                "photo-too-small",
                "photo-too-dark",
                "photo-overexposed",
                "photo-blurred"
            ]
        );
        assert_eq!(
            serde_json::to_string(&QualityProblem::TooDark).unwrap(),
            r#""too_dark""#
        );
    }

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

    /// A PNG that is only a header and the start of its data, announcing `width`×`height` RGBA pixels.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        fn crc32(bytes: &[u8]) -> u32 {
            !bytes.iter().fold(!0u32, |crc, &b| {
                (0..8).fold(crc ^ u32::from(b), |c, _| {
                    if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 }
                })
            })
        }
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(width.to_be_bytes());
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(13u32.to_be_bytes());
        png.extend(&ihdr);
        png.extend(crc32(&ihdr).to_be_bytes());
        let idat = b"IDAT\x78\x9c";
        png.extend(2u32.to_be_bytes());
        png.extend(idat);
        png.extend(crc32(idat).to_be_bytes());
        png.extend(0u32.to_be_bytes());
        png.extend(b"IEND");
        png.extend(crc32(b"IEND").to_be_bytes());
        png
    }

    #[test]
    fn an_image_of_more_than_40_megapixels_is_not_decoded() {
        let refusal = analyse_image(&png_header(7000, 6000), &QualityThresholds::default()).unwrap_err();
        assert!(
            matches!(
                refusal,
                ImageError::TooLarge {
                    width: 7000,
                    height: 6000
                }
            ),
            "{refusal}"
        );
    }

    #[test]
    fn an_image_needing_more_than_96_mb_is_not_decoded() {
        // 30 megapixels in RGBA: 120 MB.
        let refusal = analyse_image(&png_header(6000, 5000), &QualityThresholds::default()).unwrap_err();
        assert!(
            matches!(
                refusal,
                ImageError::TooLarge {
                    width: 6000,
                    height: 5000
                }
            ),
            "{refusal}"
        );
    }
}
