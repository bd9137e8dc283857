//! Media checks and image analysis: what a customer's file really is, whether the desk accepts it, and how good,
//! how edited and how familiar a photo looks (quality, EXIF traces, perceptual hash for near-duplicates when the
//! image carries enough information for one).

mod analysis;
mod exif;
mod files;
mod phash;
mod quality;
#[cfg(test)]
mod testkit;

pub use analysis::{ImageAnalysis, ImageError, MAX_PIXELS, analyse_image};
// `self::`: the `exif` crate has the same name.
pub use self::exif::ExifTraces;
pub use files::{MediaKind, Refusal, Sniffed, check_file, sha256_hex, verify_sha256_hex};
pub use phash::{LowInformation, NEAR_DUPLICATE_DISTANCE, phash_bands, phash_distance};
pub use quality::{Quality, QualityProblem, QualityThresholds};

const MB: u64 = 1024 * 1024;
