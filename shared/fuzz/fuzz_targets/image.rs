//! Image decoding, quality, perceptual hash and EXIF on any bytes, within the
//! decoder's memory limit (decompression bombs are refused, not decoded).
#![no_main]

use helpdesk::domain::media::analyse_image;
use helpdesk::domain::media::QualityThresholds;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = analyse_image(data, &QualityThresholds::default());
});
