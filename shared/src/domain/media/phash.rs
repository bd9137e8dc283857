//! Perceptual hashing for near-duplicate photos: whether an image carries enough information
//! to be fingerprinted, the hash itself, the distance between two hashes and the index bands
//! used to find candidates.

use image::GrayImage;
use image_hasher::{HashAlg, HasherConfig};
use serde::{Deserialize, Serialize};

/// Hamming distance at or below which two photos are near-duplicates. Measured on generated scenes: a copy resized to
/// 800×600 or 640×480 and recompressed as JPEG quality 60 or 40, or brightened by 10%, measures 0–1; different scenes
/// measure 29 and more. Cropping is not covered: a 5% crop already measures 4.
pub const NEAR_DUPLICATE_DISTANCE: u32 = 3;

/// Mean luma (0–255) below which an image is too dark to fingerprint. The hash works on a 16×16 resize rounded to
/// whole luma levels, so in a frame this dark the scene survives as one to three levels and the hash is mostly unset
/// bits. Measured on generated photos exposed at 0.5–2% of their light with sensor noise, and on noisy black frames:
/// mean 0.8–2.9, hashes 0–8 bits apart from one another and from plain walls (and every pure black frame hashes to
/// all ones). Dark photos that still show a scene measure 9–14 (a tenth of the light; night scenes with lit windows),
/// their hashes 18 bits apart and more. The cut-off is twice the first and two thirds of the second.
const VERY_DARK_BELOW: f64 = 6.0;

/// Contrast (see [`coarse_luma`]) as a fraction of the mean luma, below which an image is near-uniform. The hash sets a
/// bit for a frequency only when it reaches the mean of all 64 coefficients, which the average brightness dominates,
/// so contrast relative to brightness decides whether the hash says anything. Measured on generated images: plain
/// walls and walls lit from one side (up to 50 levels across) 0.000–0.003, vignetted walls 0.027–0.067, fog
/// 0.03–0.09, each kind hashing 0–2 bits apart; the desk's own test photos 0.16–0.22, varied photos 0.33–0.44, dark
/// and night ones 0.35–2.2. The cut-off is 1.5 times the most contrasted wall and two thirds of the least contrasted
/// photo. Pages of text and screenshots (0.08–0.16) hash alike too; those above the cut-off keep a weak hash.
const MIN_RELATIVE_CONTRAST: f64 = 0.1;

/// Blocks per side of the grid the contrast is measured on: the hash's DCT runs on a 16×16 resize, so finer detail
/// never reaches it, nor does sensor noise, which would inflate a per-pixel deviation (a plain wall: 1–5 levels per
/// pixel, 0.05–0.2 across blocks).
const CONTRAST_GRID: u32 = 16;

/// Why an image is not fingerprinted: its hash would be nearly the same as that of any other image like it, so a
/// match would say nothing about whether it is the same photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum LowInformation {
    /// Mean luma below `VERY_DARK_BELOW`: a black frame, a photo taken in the dark or through a covered lens.
    #[error("very dark image")]
    VeryDark,
    /// Contrast below `MIN_RELATIVE_CONTRAST` of the brightness: a wall, a sheet of paper, fog.
    #[error("near-uniform image")]
    NearUniform,
}

/// The perceptual hash of the measured grayscale copy of an image, or why it carries too little information for one.
pub(super) fn fingerprint(gray: &GrayImage) -> Result<String, LowInformation> {
    let (mean, contrast) = coarse_luma(gray);
    if mean < VERY_DARK_BELOW {
        return Err(LowInformation::VeryDark);
    }
    if contrast < MIN_RELATIVE_CONTRAST * mean {
        return Err(LowInformation::NearUniform);
    }
    Ok(perceptual_hash(gray))
}

/// The mean luma of `gray`, and its contrast: the standard deviation of the mean luma of its blocks, on a grid of
/// [`CONTRAST_GRID`]×[`CONTRAST_GRID`] blocks (fewer along a side under 16 pixels), once the best-fitting plane is taken
/// away (light falling off from one side of the frame to the other, which the hash reads as one or two bits whatever
/// the picture). (0, 0) for an empty image.
fn coarse_luma(gray: &GrayImage) -> (f64, f64) {
    let (w, h) = gray.dimensions();
    if w == 0 || h == 0 {
        return (0.0, 0.0);
    }
    let (cols, rows) = (CONTRAST_GRID.min(w), CONTRAST_GRID.min(h));
    let mut sums = vec![(0u64, 0u64); (cols * rows) as usize];
    for (x, y, px) in gray.enumerate_pixels() {
        let block = (y * rows / h * cols + x * cols / w) as usize;
        sums[block].0 += u64::from(px[0]);
        sums[block].1 += 1;
    }
    let mean = sums.iter().map(|(sum, _)| sum).sum::<u64>() as f64 / (u64::from(w) * u64::from(h)) as f64;
    // Block means with their column and row, centred: on a full grid the two slopes of the plane are independent.
    let (cx, cy) = ((f64::from(cols) - 1.0) / 2.0, (f64::from(rows) - 1.0) / 2.0);
    let blocks: Vec<(f64, f64, f64)> = sums
        .iter()
        .enumerate()
        .map(|(i, &(sum, n))| {
            let (col, row) = (i as u32 % cols, i as u32 / cols);
            (f64::from(col) - cx, f64::from(row) - cy, sum as f64 / n as f64)
        })
        .collect();
    let count = blocks.len() as f64;
    let level = blocks.iter().map(|b| b.2).sum::<f64>() / count;
    let slope = |axis: fn(&(f64, f64, f64)) -> f64| {
        let spread: f64 = blocks.iter().map(|b| axis(b).powi(2)).sum();
        if spread == 0.0 {
            0.0
        } else {
            blocks.iter().map(|b| axis(b) * (b.2 - level)).sum::<f64>() / spread
        }
    };
    let (along_x, along_y) = (slope(|b| b.0), slope(|b| b.1));
    let residual: f64 = blocks
        .iter()
        .map(|b| (b.2 - level - along_x * b.0 - along_y * b.1).powi(2))
        .sum();
    (mean, (residual / count).sqrt())
}

/// 16 lowercase hex characters: the 64-bit DCT perceptual hash of a grayscale image.
fn perceptual_hash(gray: &GrayImage) -> String {
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
    use image::{Luma, RgbImage};

    use super::*;
    use crate::domain::media::testkit::{Rng, jpeg, measured, night, photo, scene, scene_analysis, underexposed, wall};
    use crate::domain::media::{QualityProblem, QualityThresholds, analyse_image};

    #[test]
    fn a_resized_recompressed_copy_is_a_near_duplicate() {
        let original = scene_analysis();
        let resized = image::imageops::resize(scene(), 800, 600, FilterType::Triangle);
        let copy = analyse_image(&jpeg(&resized, 60), &QualityThresholds::default()).unwrap();
        let (original, copy) = (original.phash.as_deref().unwrap(), copy.phash.as_deref().unwrap());
        let distance = phash_distance(original, copy).unwrap();
        assert!(distance <= NEAR_DUPLICATE_DISTANCE);
        let bands = phash_bands(original);
        assert!(phash_bands(copy).iter().any(|band| bands.contains(band)));
    }

    #[test]
    fn a_different_photo_is_not_a_near_duplicate() {
        for seed in 2..5 {
            let other = analyse_image(&jpeg(&photo(seed, 400, 300), 80), &QualityThresholds::default()).unwrap();
            let distance = phash_distance(
                scene_analysis().phash.as_deref().unwrap(),
                other.phash.as_deref().unwrap(),
            )
            .unwrap();
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

    /// `img` sent as a JPEG and analysed: its fingerprint, or why it has none.
    fn fingerprinted(img: &RgbImage) -> Result<String, LowInformation> {
        analyse_image(&jpeg(img, 92), &QualityThresholds::default())
            .unwrap()
            .phash
    }

    #[test]
    fn a_black_frame_a_dark_noisy_frame_and_a_flat_wall_are_not_fingerprinted() {
        let black = RgbImage::new(640, 480);
        let dark_room = underexposed(&photo(10, 640, 480), 0.01, 3.0, 10);
        assert_eq!(fingerprinted(&black), Err(LowInformation::VeryDark));
        assert_eq!(fingerprinted(&dark_room), Err(LowInformation::VeryDark));
        let white_wall = wall(640, 480, 200.0, 12.0);
        let dim_wall_lit_from_the_side = wall(640, 480, 90.0, 30.0);
        assert_eq!(fingerprinted(&white_wall), Err(LowInformation::NearUniform));
        assert_eq!(
            fingerprinted(&dim_wall_lit_from_the_side),
            Err(LowInformation::NearUniform)
        );
    }

    #[test]
    fn a_normal_photo_and_dark_but_detailed_ones_are_fingerprinted() {
        assert!(fingerprinted(&photo(2, 640, 480)).is_ok());
        let tenth_of_the_light = underexposed(&photo(12, 640, 480), 0.1, 3.0, 12);
        let analysis = analyse_image(&jpeg(&tenth_of_the_light, 92), &QualityThresholds::default()).unwrap();
        assert!(analysis.quality.brightness < 10.0, "{:?}", analysis.quality);
        assert!(analysis.phash.is_ok(), "{:?}", analysis.phash);
        assert!(fingerprinted(&night(30, 640, 480)).is_ok());
    }

    #[test]
    fn two_different_dark_photos_hashed_alike_and_are_no_longer_fingerprinted() {
        let (first, second) = (photo(10, 640, 480), photo(13, 640, 480));
        let lit_apart = phash_distance(
            &perceptual_hash(&measured(&first)),
            &perceptual_hash(&measured(&second)),
        );
        assert!(lit_apart > Some(NEAR_DUPLICATE_DISTANCE), "{lit_apart:?}");
        let (first, second) = (
            underexposed(&first, 0.01, 3.0, 10),
            underexposed(&second, 0.01, 3.0, 13),
        );

        // The bug: in the dark, their hashes were those of the same photo.
        let dark_apart = phash_distance(
            &perceptual_hash(&measured(&first)),
            &perceptual_hash(&measured(&second)),
        );
        assert!(dark_apart <= Some(NEAR_DUPLICATE_DISTANCE), "{dark_apart:?}");

        for dark in [&first, &second] {
            let analysis = analyse_image(&jpeg(dark, 92), &QualityThresholds::default()).unwrap();
            assert_eq!(analysis.phash, Err(LowInformation::VeryDark));
            assert_eq!(analysis.quality.problems, [QualityProblem::TooDark]);
        }
    }

    #[test]
    fn light_falling_off_across_the_frame_is_not_contrast() {
        let ramp = GrayImage::from_fn(512, 384, |x, y| Luma([(60 + x / 4 + y / 8) as u8]));
        let (mean, contrast) = coarse_luma(&ramp);
        assert!((mean - 147.0).abs() < 1.0, "{mean}");
        assert!(contrast < 0.5, "{contrast}");
        assert_eq!(fingerprint(&ramp), Err(LowInformation::NearUniform));
    }

    #[test]
    fn images_of_a_few_pixels_are_measured_and_an_empty_one_is_very_dark() {
        let dot = GrayImage::from_pixel(1, 1, Luma([128]));
        assert_eq!(coarse_luma(&dot), (128.0, 0.0));
        assert_eq!(fingerprint(&dot), Err(LowInformation::NearUniform));
        let stripe = GrayImage::from_fn(40, 3, |x, _| Luma([if x % 8 < 4 { 20 } else { 230 }]));
        assert!(fingerprint(&stripe).is_ok());
        assert_eq!(fingerprint(&GrayImage::new(0, 0)), Err(LowInformation::VeryDark));
    }

    #[test]
    fn the_reasons_read_as_agents_see_them() {
        assert_eq!(LowInformation::VeryDark.to_string(), "very dark image");
        assert_eq!(LowInformation::NearUniform.to_string(), "near-uniform image");
    }
}
