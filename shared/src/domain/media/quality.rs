//! How good a photo looks: the desk's thresholds, the measures (size, brightness, Laplacian
//! sharpness) and the problems a customer is asked to fix.

use image::GrayImage;
use serde::{Deserialize, Serialize};

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

impl Quality {
    /// Measures the grayscale copy of a photo displayed at `width`×`height` and lists its problems, as
    /// [`analyse_image`](super::analyse_image) judges them.
    pub(super) fn measure(gray: &GrayImage, width: u32, height: u32, thresholds: &QualityThresholds) -> Quality {
        let brightness = mean(gray);
        let sharpness = laplacian_variance(gray);
        let mut problems = Vec::new();
        let (long, short) = (width.max(height), width.min(height));
        if long < thresholds.min_width.max(thresholds.min_height)
            || short < thresholds.min_width.min(thresholds.min_height)
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
        Quality {
            width,
            height,
            brightness,
            sharpness,
            problems,
        }
    }
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

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use image::{ImageFormat, RgbImage};

    use super::*;
    use crate::domain::media::testkit::{encode, jpeg, photo, scene_analysis};
    use crate::domain::media::{ImageAnalysis, analyse_image};

    fn map(img: &RgbImage, f: impl Fn(u8) -> u8) -> RgbImage {
        let mut out = img.clone();
        out.pixels_mut().for_each(|px| px.0.iter_mut().for_each(|c| *c = f(*c)));
        out
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
}
