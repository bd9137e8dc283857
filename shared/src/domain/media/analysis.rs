//! A photo's full analysis: decoded within bounded memory, turned upright, measured, hashed
//! and read for EXIF traces, with a small JPEG copy for the vision service.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, Limits, RgbImage};
use serde::{Deserialize, Serialize};

use super::MB;
use super::exif::{ExifTraces, exif_traces};
use super::phash::{LowInformation, fingerprint};
use super::quality::{Quality, QualityThresholds};

/// An image's measures, fingerprint and EXIF traces, with a copy for the vision service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageAnalysis {
    pub quality: Quality,
    /// 16 lowercase hex characters: a 64-bit DCT perceptual hash, compared with [`phash_distance`](super::phash_distance);
    /// or why the image carries too little information to be fingerprinted (its quality is measured all the same).
    pub phash: Result<String, LowInformation>,
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

/// Decodes, measures and fingerprints an image (JPEG, PNG, WebP, GIF's first frame). Bounded work: at most
/// [`MAX_PIXELS`] pixels, and at most 96 MB for the decoded pixels (so about 32 megapixels in RGB, 24 in RGBA) and the
/// decoder's own buffers: a larger image is `ImageError::TooLarge`, found from its header before any decoding. The
/// decoded image is shrunk to the ≤ 1024 px analysis copy before anything else, and brightness, sharpness and the hash are measured on a grayscale copy whose longest side is
/// 512 px. Problems: too small (longer side < `min_width` or shorter side < `min_height`), too dark, overexposed,
/// blurred (judged only when the exposure is right: the Laplacian's variance falls with contrast, so a dark or
/// washed-out photo would read as blurred whatever its focus). A very dark or near-uniform image gets no hash (see
/// [`LowInformation`]); its quality is judged all the same.
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
    let gray = measured_gray(&rgb);

    Ok(ImageAnalysis {
        quality: Quality::measure(&gray, width, height, thresholds),
        phash: fingerprint(&gray),
        exif: exif_traces(bytes),
        analysis_copy: encode_jpeg(&rgb)?,
    })
}

/// The grayscale copy that is measured and fingerprinted: longest side at most [`MEASURE_MAX_SIDE`].
pub(super) fn measured_gray(rgb: &RgbImage) -> GrayImage {
    shrink_gray(image::imageops::grayscale(rgb), MEASURE_MAX_SIDE)
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

#[cfg(test)]
mod tests {
    use image::ImageFormat;

    use super::*;
    use crate::domain::media::QualityProblem;
    use crate::domain::media::testkit::{exif_jpeg, jpeg, photo, scene_analysis};

    #[test]
    fn a_well_lit_detailed_photo_has_no_problem() {
        let analysis = scene_analysis();
        assert_eq!(analysis.quality.problems, vec![]);
        assert_eq!((analysis.quality.width, analysis.quality.height), (1280, 960));
        assert_eq!(analysis.phash.as_ref().map(String::len), Ok(16));
    }

    #[test]
    fn the_analysis_copy_is_a_jpeg_of_at_most_1024_pixels() {
        let copy = &scene_analysis().analysis_copy;
        assert!(copy.len() <= 5 * 1024 * 1024);
        let reader = ImageReader::with_format(Cursor::new(copy), ImageFormat::Jpeg);
        assert_eq!(reader.into_dimensions().unwrap(), (1024, 768));
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
