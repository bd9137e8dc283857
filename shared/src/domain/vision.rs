//! What an image shows, as a vision service reports it: labels, text and
//! moderation labels, and whether the analysis is complete.

use serde::{Deserialize, Serialize};

/// A label and the service's confidence in it (0–100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub name: String,
    pub confidence: f32,
}

/// One image's analysis. `partial` says which part failed and why (the rest is kept).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VisionReport {
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Lines of text found in the image (screenshots: error codes and messages).
    #[serde(default)]
    pub text: Vec<String>,
    /// Inappropriate content; when not empty the image is hidden from agents behind a warning.
    #[serde(default)]
    pub moderation: Vec<Label>,
    #[serde(default)]
    pub partial: Vec<String>,
}
