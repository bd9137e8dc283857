//! Test helpers shared by the media unit tests: deterministic photo-like pictures (dark,
//! flat and night ones too), their encodings, the analysed reference scene and JPEGs carrying
//! chosen EXIF fields.

use std::io::Cursor;
use std::sync::OnceLock;

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat, Rgb, RgbImage};

use super::analysis::measured_gray;
use super::{ImageAnalysis, QualityThresholds, analyse_image};

/// xorshift64*: deterministic pictures and bytes without a dependency.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(super) fn below(&mut self, n: u32) -> u32 {
        (self.next() >> 32) as u32 % n
    }

    /// About normally distributed around 0 with standard deviation `sd` (the sum of 12 uniform draws).
    fn gauss(&mut self, sd: f32) -> f32 {
        let sum: f32 = (0..12).map(|_| self.below(10_000) as f32 / 10_000.0).sum();
        (sum - 6.0) * sd
    }
}

/// A photo-like picture: a gradient, coloured rectangles and discs, sensor-like noise. Shapes are placed in
/// proportion to the size, so the same seed draws the same scene at any size.
pub(super) fn photo(seed: u64, width: u32, height: u32) -> RgbImage {
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

/// `img` with a fraction `light` of its light and a dark sensor's noise (standard deviation `noise` levels per
/// channel): a photo taken in a dark room.
pub(super) fn underexposed(img: &RgbImage, light: f32, noise: f32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = img.clone();
    for c in out.pixels_mut().flat_map(|px| px.0.iter_mut()) {
        *c = (f32::from(*c) * light + rng.gauss(noise)).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// A painted wall: `base` luma, lit from one side (`falloff` levels darker across the frame), with sensor noise.
pub(super) fn wall(width: u32, height: u32, base: f32, falloff: f32) -> RgbImage {
    let mut rng = Rng(17);
    RgbImage::from_fn(width, height, |x, _| {
        let l = base - falloff * x as f32 / width as f32 + rng.gauss(3.0);
        Rgb([l, l * 0.97, l * 0.92].map(|c| c.clamp(0.0, 255.0) as u8))
    })
}

/// A street at night: a photo at 6% of its light with sensor noise, and a few lit windows.
pub(super) fn night(seed: u64, width: u32, height: u32) -> RgbImage {
    let mut img = underexposed(&photo(seed, width, height), 0.06, 2.0, seed);
    let mut rng = Rng(seed.wrapping_mul(31) | 1);
    for _ in 0..6 {
        let (x0, y0) = (rng.below(width), rng.below(height));
        let (w, h) = (width / 50 + rng.below(width / 8), height / 40 + rng.below(height / 8));
        let l = 150 + rng.below(100) as u8;
        for y in y0..(y0 + h).min(height) {
            for x in x0..(x0 + w).min(width) {
                img.put_pixel(x, y, Rgb([l, l / 10 * 9, l / 10 * 6]));
            }
        }
    }
    img
}

/// The grayscale copy [`analyse_image`] measures and hashes, for `img` sent as a JPEG of quality 92 (at most 1024
/// pixels wide or high, which needs no analysis copy shrunk first).
pub(super) fn measured(img: &RgbImage) -> GrayImage {
    assert!(img.width().max(img.height()) <= 1024);
    measured_gray(&image::load_from_memory(&jpeg(img, 92)).unwrap().into_rgb8())
}

pub(super) fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub(super) fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

pub(super) fn scene() -> &'static RgbImage {
    static SCENE: OnceLock<RgbImage> = OnceLock::new();
    SCENE.get_or_init(|| photo(1, 1280, 960))
}

pub(super) fn scene_analysis() -> &'static ImageAnalysis {
    static ANALYSIS: OnceLock<ImageAnalysis> = OnceLock::new();
    ANALYSIS.get_or_init(|| analyse_image(&jpeg(scene(), 92), &QualityThresholds::default()).unwrap())
}

pub(super) fn exif_jpeg(fields: Vec<exif::Field>) -> Vec<u8> {
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
