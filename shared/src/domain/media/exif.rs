//! What a photo's EXIF says about where it comes from: the camera, the capture date, and
//! traces of an editor or of a later save.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

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

pub(super) fn exif_traces(bytes: &[u8]) -> ExifTraces {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::media::testkit::{exif_jpeg, jpeg, photo};
    use crate::domain::media::{QualityThresholds, analyse_image};

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
}
