//! Pictures for end-to-end tests: photo-like JPEGs that pass the media
//! function's quality checks, written where a simulated customer sends them from.

use image::{ImageBuffer, Rgb, RgbImage};
use std::path::Path;

/// A well-lit photo-like image: smooth light, large objects with sharp edges,
/// and a little sensor noise. `seed` moves and recolours the objects.
pub fn photo(seed: u32) -> RgbImage {
    let (cx, cy) = (400 + seed * 90 % 500, 300 + seed * 70 % 360);
    ImageBuffer::from_fn(1280, 960, |x, y| {
        let noise = ((x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed.wrapping_mul(2_654_435_761)) % 17) as u8;
        let disc = (x as i64 - cx as i64).pow(2) + (y as i64 - cy as i64).pow(2) < 220 * 220;
        let block = (200..520).contains(&x) && (600..860).contains(&y);
        let bar = ((x + seed * 37) / 160).is_multiple_of(2) && y < 180;
        let (r, g, b): (u8, u8, u8) = if disc {
            (200, 60 + (seed * 40 % 120) as u8, 50)
        } else if block {
            (40, 90, 190)
        } else if bar {
            (230, 220, 200)
        } else {
            (90 + (x * 80 / 1280) as u8, 110 + (y * 60 / 960) as u8, 120)
        };
        Rgb([
            r.saturating_add(noise),
            g.saturating_add(noise),
            b.saturating_add(noise),
        ])
    })
}

/// Writes `img` as a JPEG of `quality` (1 to 100).
pub fn save_jpeg(img: &RgbImage, path: &Path, quality: u8) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), quality);
    encoder.encode_image(img).unwrap();
}
