//! Perceptual hashing for near-duplicate photos: the hash itself, the distance between two
//! hashes and the index bands used to find candidates.

use image::GrayImage;
use image_hasher::{HashAlg, HasherConfig};

/// Hamming distance at or below which two photos are near-duplicates. Measured on generated scenes: a copy resized to
/// 800×600 or 640×480 and recompressed as JPEG quality 60 or 40, or brightened by 10%, measures 0–1; different scenes
/// measure 29 and more. Cropping is not covered: a 5% crop already measures 4.
pub const NEAR_DUPLICATE_DISTANCE: u32 = 3;

/// 16 lowercase hex characters: the 64-bit DCT perceptual hash of a grayscale image.
pub(super) fn perceptual_hash(gray: &GrayImage) -> String {
    // The DCT hash (pHash): low frequencies only, so resizing, recompression and
    // smooth low-contrast areas (where gradient signs flip) leave it nearly unchanged.
    let hasher = HasherConfig::new()
        .hash_alg(HashAlg::Mean)
        .preproc_dct()
        .hash_size(8, 8)
        .to_hasher();
    hex::encode(hasher.hash_image(gray).as_bytes())
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
    use image::imageops::FilterType;

    use super::*;
    use crate::domain::media::testkit::{Rng, jpeg, photo, scene, scene_analysis};
    use crate::domain::media::{QualityThresholds, analyse_image};

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
}
