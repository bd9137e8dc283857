//! A file attached to a ticket: where it is stored, what was checked, what the
//! analysis found, and the signals agents should weigh (never automatic rejections).

use crate::domain::ids::{CustomerId, TicketId};
use crate::domain::media::{ExifTraces, Quality};
use crate::domain::vision::VisionReport;
use serde::{Deserialize, Serialize};

/// Another ticket's image that looks the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateSignal {
    pub ticket_id: TicketId,
    pub wamid: String,
    pub distance: u32,
    /// Sent by another customer (the stronger signal).
    pub other_customer: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaAttachment {
    pub wamid: String,
    /// The message type: image, video, audio, document, sticker.
    pub kind: String,
    pub at_ms: i64,
    #[serde(default)]
    pub mime: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    /// Where the file is stored (S3 key); None when it was refused.
    #[serde(default)]
    pub s3_key: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    /// Why it was refused, when it was.
    #[serde(default)]
    pub refused: Option<String>,
    #[serde(default)]
    pub quality: Option<Quality>,
    #[serde(default)]
    pub exif: Option<ExifTraces>,
    #[serde(default)]
    pub phash: Option<String>,
    #[serde(default)]
    pub vision: Option<VisionReport>,
    #[serde(default)]
    pub duplicates: Vec<DuplicateSignal>,
    /// Fraud signals with their reasons, for agents to weigh.
    #[serde(default)]
    pub signals: Vec<String>,
    /// Moderation found inappropriate content: agents see a warning before the file.
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub suggested_category: Option<String>,
    #[serde(default)]
    pub suggested_team: Option<String>,
    /// A knowledge-base entry the image's text matched (its answer was sent).
    #[serde(default)]
    pub matched_faq: Option<String>,
    /// Parts of the analysis that could not be done, and why.
    #[serde(default)]
    pub partial: Vec<String>,
}

impl MediaAttachment {
    /// A one-line summary for the timeline.
    pub fn summary(&self) -> String {
        if let Some(reason) = &self.refused {
            return format!("[{}] refused: {reason}", self.kind);
        }
        let mut parts = vec![format!("[{}] {} bytes", self.kind, self.size.unwrap_or(0))];
        if let Some(q) = &self.quality
            && !q.problems.is_empty()
        {
            parts.push(format!("quality: {:?}", q.problems).to_lowercase());
        }
        if let Some(d) = self.duplicates.first() {
            parts.push(format!("looks like an image on {}", d.ticket_id));
        }
        if self.hidden {
            parts.push("hidden: moderation".into());
        }
        if !self.partial.is_empty() {
            parts.push("analysis partial".into());
        }
        parts.join("; ")
    }
}

/// An image's fingerprint in the near-duplicate index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub phash: String,
    pub ticket_id: TicketId,
    pub customer: CustomerId,
    pub wamid: String,
}
