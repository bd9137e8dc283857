//! Amazon Rekognition behind the [`Vision`] port: labels (what the photo
//! shows), lines of text (error codes on screenshots) and moderation labels,
//! asked for concurrently. A part that fails is named in the report's
//! `partial`; only when every part fails for a transient reason is the whole
//! analysis an error, so the job is retried.

use crate::domain::vision::{Label, VisionReport};
use crate::ports::{BoxError, Vision};
use aws_sdk_rekognition::config::http::HttpResponse;
use aws_sdk_rekognition::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::{Image, TextTypes};

/// Labels kept per image.
pub const MAX_LABELS: i32 = 20;

/// The confidence (0–100) below which labels, lines and moderation labels are dropped.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 70.0;

/// Rekognition's image operations over one client.
#[derive(Debug, Clone)]
pub struct RekognitionVision {
    client: aws_sdk_rekognition::Client,
    min_confidence: f32,
}

impl RekognitionVision {
    /// With [`DEFAULT_MIN_CONFIDENCE`].
    pub fn new(client: aws_sdk_rekognition::Client) -> Self {
        RekognitionVision {
            client,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
        }
    }

    /// Sets the minimum confidence, clamped to 0–100.
    pub fn with_min_confidence(mut self, min_confidence: f32) -> Self {
        self.min_confidence = min_confidence.clamp(0.0, 100.0);
        self
    }

    fn image(image: &[u8]) -> Image {
        Image::builder().bytes(Blob::new(image.to_vec())).build()
    }

    async fn labels(&self, image: &[u8]) -> Result<Vec<Label>, PartFailure> {
        let answer = self
            .client
            .detect_labels()
            .image(Self::image(image))
            .max_labels(MAX_LABELS)
            .min_confidence(self.min_confidence)
            .send()
            .await
            .map_err(PartFailure::from_sdk)?;
        Ok(answer
            .labels()
            .iter()
            .filter_map(|l| label(l.name(), l.confidence(), self.min_confidence))
            .collect())
    }

    async fn text(&self, image: &[u8]) -> Result<Vec<String>, PartFailure> {
        let answer = self
            .client
            .detect_text()
            .image(Self::image(image))
            .send()
            .await
            .map_err(PartFailure::from_sdk)?;
        // Lines carry the whole message; words repeat them piece by piece.
        Ok(answer
            .text_detections()
            .iter()
            .filter(|d| d.r#type() == Some(&TextTypes::Line))
            .filter(|d| d.confidence().unwrap_or(0.0) >= self.min_confidence)
            .filter_map(|d| d.detected_text())
            .map(str::to_owned)
            .collect())
    }

    async fn moderation(&self, image: &[u8]) -> Result<Vec<Label>, PartFailure> {
        let answer = self
            .client
            .detect_moderation_labels()
            .image(Self::image(image))
            .min_confidence(self.min_confidence)
            .send()
            .await
            .map_err(PartFailure::from_sdk)?;
        Ok(answer
            .moderation_labels()
            .iter()
            .filter_map(|l| label(l.name(), l.confidence(), self.min_confidence))
            .collect())
    }
}

fn label(name: Option<&str>, confidence: Option<f32>, min: f32) -> Option<Label> {
    let name = name.filter(|n| !n.is_empty())?;
    let confidence = confidence.unwrap_or(0.0);
    (confidence >= min).then(|| Label {
        name: name.to_owned(),
        confidence,
    })
}

impl Vision for RekognitionVision {
    async fn analyse(&self, image: &[u8]) -> Result<VisionReport, BoxError> {
        let (labels, text, moderation) = tokio::join!(self.labels(image), self.text(image), self.moderation(image));
        let failures: Vec<(&str, &PartFailure)> = [
            ("labels", labels.as_ref().err()),
            ("text", text.as_ref().err()),
            ("moderation", moderation.as_ref().err()),
        ]
        .into_iter()
        .filter_map(|(part, failure)| failure.map(|f| (part, f)))
        .collect();
        let partial: Vec<String> = failures
            .iter()
            .map(|(part, failure)| format!("{part}: {}", failure.reason))
            .collect();
        if failures.len() == 3 && failures.iter().all(|(_, f)| f.transient) {
            return Err(Box::new(VisionUnavailable { parts: partial }));
        }
        for line in &partial {
            tracing::warn!(part = %line, "image analysis is partial");
        }
        Ok(VisionReport {
            labels: labels.unwrap_or_default(),
            text: text.unwrap_or_default(),
            moderation: moderation.unwrap_or_default(),
            partial,
        })
    }
}

/// Every part of the analysis failed for a transient reason; try again later.
#[derive(Debug, thiserror::Error)]
#[error("Rekognition unavailable ({})", parts.join("; "))]
pub struct VisionUnavailable {
    /// One entry per part, as in [`VisionReport::partial`].
    pub parts: Vec<String>,
}

/// Why one call failed, in words fit for the report and the logs (never the image).
#[derive(Debug)]
struct PartFailure {
    reason: String,
    transient: bool,
}

impl PartFailure {
    fn from_sdk<E: ProvideErrorMetadata>(err: SdkError<E, HttpResponse>) -> PartFailure {
        let (reason, transient) = match &err {
            SdkError::TimeoutError(_) => ("timeout".to_owned(), true),
            SdkError::DispatchFailure(_) => ("unreachable".to_owned(), true),
            SdkError::ResponseError(_) => ("unreadable response".to_owned(), true),
            SdkError::ServiceError(ctx) => {
                let status = ctx.raw().status().as_u16();
                match ctx.err().code() {
                    Some(
                        "ThrottlingException" | "ProvisionedThroughputExceededException" | "LimitExceededException",
                    ) => ("throttled".to_owned(), true),
                    _ if status == 429 => ("throttled".to_owned(), true),
                    _ if status >= 500 => ("service error".to_owned(), true),
                    Some("ImageTooLargeException") => ("image too large".to_owned(), false),
                    Some("InvalidImageFormatException") => ("invalid image format".to_owned(), false),
                    Some("AccessDeniedException") => ("access denied".to_owned(), false),
                    Some(code) => (format!("rejected ({code})"), false),
                    None => (format!("rejected (HTTP {status})"), false),
                }
            }
            _ => ("request not sent".to_owned(), false),
        };
        PartFailure { reason, transient }
    }
}
