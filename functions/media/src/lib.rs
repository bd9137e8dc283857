//! The media function: for each file a customer sent (`media.fifo`), look it up
//! through the Graph API, check its size, type and checksum while streaming it
//! into S3 (SSE-KMS, never whole in memory), analyse images (quality, EXIF,
//! perceptual hash against earlier images, Amazon Rekognition), attach it all
//! to the ticket, and tell the customer what to fix, in their language.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use helpdesk::adapters::desk::load_desk;
use helpdesk::adapters::dynamo::DynamoStore;
use helpdesk::adapters::graph::GraphClient;
use helpdesk::adapters::lambda_sqs::handle_attempts_in_order;
use helpdesk::adapters::rekognition::RekognitionVision;
use helpdesk::adapters::s3::{S3MediaStore, s3_client};
use helpdesk::adapters::secrets::whatsapp_secrets;
use helpdesk::adapters::sqs::SqsQueue;
use helpdesk::config::Env;
use helpdesk::domain::attachment::{DuplicateSignal, Fingerprint, MediaAttachment};
use helpdesk::domain::commands::{AttachMedia, MediaJob, TicketCommand};
use helpdesk::domain::desk::Desk;
use helpdesk::domain::i18n::{Arg, Catalog, Lang};
use helpdesk::domain::media::{
    MediaKind, NEAR_DUPLICATE_DISTANCE, Refusal, analyse_image, check_file, phash_bands, phash_distance,
};
use helpdesk::domain::outbound::{Author, OutboundBody, OutboundRequest};
use helpdesk::domain::triggers::Normalised;
use helpdesk::ports::{
    BoxError, FingerprintIndex, GraphError, MediaDownload, MediaSource, MediaStore, MediaUpload, Queue, QueueError,
    StoreError, Vision,
};
use lambda_runtime::LambdaEvent;
use sha2::{Digest, Sha256};

/// Bytes read before the type is checked (enough for every signature `infer` knows).
const HEAD_BYTES: usize = 8 * 1024;
/// Attempts at a vision analysis before the file is attached with a partial analysis.
const VISION_ATTEMPTS: u32 = 3;
/// A capture date this long before the file was sent is worth an agent's look.
const OLD_PHOTO_DAYS: i64 = 90;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the Graph API failed transiently (code {code}, HTTP {http_status})")]
    Graph { code: i64, http_status: u16 },
    #[error("storage failed")]
    Storage(#[source] BoxError),
    #[error("index failed")]
    Index(#[from] StoreError),
    #[error("queue failed")]
    Queue(#[from] QueueError),
    #[error("the vision service is unavailable; retrying")]
    Vision(#[source] BoxError),
}

impl From<GraphError> for MediaError {
    fn from(e: GraphError) -> Self {
        MediaError::Graph {
            code: e.code,
            http_status: e.http_status,
        }
    }
}

/// The media function over its ports: the Graph API's media side, the media
/// store, the vision service, the fingerprint index, and the tickets and
/// outbound queues.
pub struct Media<G, M, V, I, T, O> {
    graph: G,
    store: M,
    vision: V,
    index: I,
    tickets: T,
    outbound: O,
    desk: Desk,
    catalog: Catalog,
}

/// The media function as Lambda runs it.
pub type AwsMedia = Media<
    GraphClient,
    S3MediaStore,
    RekognitionVision,
    DynamoStore,
    SqsQueue<TicketCommand>,
    SqsQueue<OutboundRequest>,
>;

impl AwsMedia {
    pub async fn from_env(env: &Env, sdk: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let catalog = Catalog::builtin();
        let desk = load_desk(env, &catalog)?;
        let secrets = whatsapp_secrets(env, sdk).await?;
        let graph = GraphClient::from_env(env, secrets.access_token)?;
        let mut store = S3MediaStore::new(s3_client(sdk), env.require("MEDIA_BUCKET_NAME")?);
        // Without the key id S3 would use its own managed key, not the project's.
        if let Some(key) = env.get("MEDIA_KMS_KEY_ARN") {
            store = store.with_kms_key(key);
        }
        let vision = RekognitionVision::new(aws_sdk_rekognition::Client::new(sdk));
        let index = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), env.require("HELPDESK_TABLE_NAME")?);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let tickets = SqsQueue::new(sqs.clone(), env.require("TICKETS_QUEUE_URL")?);
        let outbound = SqsQueue::new(sqs, env.require("OUTBOUND_QUEUE_URL")?);
        Ok(Media::new(
            graph, store, vision, index, tickets, outbound, desk, catalog,
        ))
    }
}

/// A file fetched and stored, with the bytes kept for analysis when it is an image.
struct Stored {
    key: String,
    size: u64,
    sha256: String,
    mime: String,
    image: Option<Vec<u8>>,
}

impl<G, M, V, I, T, O> Media<G, M, V, I, T, O>
where
    G: MediaSource,
    M: MediaStore,
    V: Vision,
    I: FingerprintIndex,
    T: Queue<TicketCommand>,
    O: Queue<OutboundRequest>,
{
    #[allow(clippy::too_many_arguments)] // one per port, plus the desk and its texts
    pub fn new(graph: G, store: M, vision: V, index: I, tickets: T, outbound: O, desk: Desk, catalog: Catalog) -> Self {
        Media {
            graph,
            store,
            vision,
            index,
            tickets,
            outbound,
            desk,
            catalog,
        }
    }

    pub async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(handle_attempts_in_order(event.payload, |job: MediaJob, attempt| self.process(job, attempt)).await)
    }

    /// One file. Safe to repeat: the S3 key, the attachment and the index
    /// entries are keyed by the wamid, and the replies by it too.
    pub async fn process(&self, job: MediaJob, attempt: u32) -> Result<(), MediaError> {
        let lang = Lang::parse(&job.language).unwrap_or_default();
        let mut attachment = MediaAttachment {
            wamid: job.wamid.clone(),
            kind: job.message_type.clone(),
            at_ms: job.at_ms,
            mime: Some(job.claimed_mime.clone()).filter(|m| !m.is_empty()),
            size: None,
            sha256: None,
            s3_key: None,
            caption: job.caption.clone(),
            refused: None,
            quality: None,
            exif: None,
            phash: None,
            vision: None,
            duplicates: Vec::new(),
            signals: Vec::new(),
            hidden: false,
            suggested_category: None,
            suggested_team: None,
            matched_faq: None,
            partial: Vec::new(),
        };
        let Some(kind) = MediaKind::from_message_type(&job.message_type) else {
            return self.refuse(&job, attachment, lang, Refusal::UnknownType).await;
        };
        let stored = match self.fetch_and_store(&job, kind).await {
            Ok(Ok(stored)) => stored,
            Ok(Err(refusal)) => return self.refuse(&job, attachment, lang, refusal).await,
            Err(e) => return Err(e),
        };
        attachment.s3_key = Some(stored.key.clone());
        attachment.size = Some(stored.size);
        attachment.sha256 = Some(stored.sha256.clone());
        attachment.mime = Some(stored.mime.clone());

        let mut replies = Vec::new();
        if let Some(bytes) = &stored.image {
            self.analyse(&job, bytes, &mut attachment, attempt).await?;
            if let Some(problem) = attachment.quality.as_ref().and_then(|q| q.problems.first()) {
                replies.push(self.catalog.text(lang, problem.reason_key(), &[]));
            } else if let Some(faq) = attachment.matched_faq.as_deref().and_then(|f| self.desk.faq(f)) {
                let answer = faq
                    .answer
                    .get(&lang)
                    .or_else(|| faq.answer.get(&Lang::En))
                    .cloned()
                    .unwrap_or_default();
                replies.push(answer);
            }
        }
        if replies.is_empty() {
            replies.push(self.catalog.text(lang, "received-media", &[]));
        }
        tracing::info!(ticket = %job.ticket_id, kind = %job.message_type, size = stored.size, signals = attachment.signals.len(), partial = attachment.partial.len(), "media stored and analysed");
        self.attach(&job, attachment).await?;
        if job.answers_turn {
            self.reply(&job, replies).await?;
        }
        Ok(())
    }

    /// Streams the file from the Graph API into S3, checking it on the way.
    /// `Ok(Err(refusal))`: the customer's file is refused (nothing stored).
    async fn fetch_and_store(&self, job: &MediaJob, kind: MediaKind) -> Result<Result<Stored, Refusal>, MediaError> {
        let info = match self.graph.media_info(&job.media_id).await {
            Ok(info) => info,
            // An unknown or expired media id will not come back: the customer is asked to resend.
            Err(e) if !e.is_transient() => {
                tracing::warn!(ticket = %job.ticket_id, code = e.code, "media id refused by the Graph API");
                return Ok(Err(Refusal::Empty));
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(size) = info.file_size
            && let Err(refusal) = kind.check_size(size)
        {
            return Ok(Err(refusal));
        }
        let mut download = self.graph.download(&info.url).await?;
        let claimed = if job.claimed_mime.is_empty() {
            info.mime_type.clone().unwrap_or_default()
        } else {
            job.claimed_mime.clone()
        };

        // The head decides the type before anything is stored.
        let mut head: Vec<u8> = Vec::new();
        while head.len() < HEAD_BYTES {
            match download.chunk().await.map_err(MediaError::Storage)? {
                Some(chunk) => head.extend_from_slice(&chunk),
                None => break,
            }
        }
        let sniffed = match check_file(kind, &claimed, &head) {
            Ok(s) => s,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let key = media_key(&job.ticket_id, &job.wamid, &sniffed.extension);
        let mut upload = self
            .store
            .begin_upload(&key, &sniffed.mime)
            .await
            .map_err(MediaError::Storage)?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut image = (kind == MediaKind::Image).then(Vec::new);
        let mut chunk: Option<Vec<u8>> = Some(head);
        while let Some(bytes) = chunk.take() {
            size += bytes.len() as u64;
            if let Err(refusal) = kind.check_size(size) {
                upload.abort().await;
                return Ok(Err(refusal));
            }
            hasher.update(&bytes);
            if let Some(copy) = image.as_mut() {
                copy.extend_from_slice(&bytes);
            }
            if let Err(e) = upload.write(&bytes).await {
                upload.abort().await;
                return Err(MediaError::Storage(e));
            }
            match download.chunk().await {
                Ok(next) => chunk = next,
                Err(e) => {
                    upload.abort().await;
                    return Err(MediaError::Storage(e));
                }
            }
        }
        if size == 0 {
            upload.abort().await;
            return Ok(Err(Refusal::Empty));
        }
        let sha256 = hex::encode(hasher.finalize());
        if let Some(expected) = &info.sha256
            && !expected.trim().eq_ignore_ascii_case(&sha256)
        {
            upload.abort().await;
            return Ok(Err(Refusal::ChecksumMismatch));
        }
        let stored = upload.finish().await.map_err(MediaError::Storage)?;
        Ok(Ok(Stored {
            key: stored.key,
            size,
            sha256,
            mime: sniffed.mime,
            image,
        }))
    }

    /// Quality, EXIF, near-duplicates and the vision service, for an image.
    async fn analyse(
        &self,
        job: &MediaJob,
        bytes: &[u8],
        attachment: &mut MediaAttachment,
        attempt: u32,
    ) -> Result<(), MediaError> {
        let analysis = match analyse_image(bytes, &self.desk.config.media.quality) {
            Ok(a) => a,
            Err(e) => {
                attachment.partial.push(format!("image: {e}"));
                return Ok(());
            }
        };
        let exif = &analysis.exif;
        if exif.edited {
            let by = exif.software.clone().unwrap_or_else(|| "an editor".into());
            attachment.signals.push(format!("edited: EXIF names {by}"));
        }
        if let Some(taken) = exif.taken_at.as_deref().and_then(exif_date)
            && let Ok(sent) = jiff::Timestamp::from_millisecond(job.at_ms)
            && sent.as_second() - taken.as_second() > OLD_PHOTO_DAYS * 86_400
        {
            attachment.signals.push(format!(
                "taken long before it was sent: EXIF date {}",
                exif.taken_at.clone().unwrap_or_default()
            ));
        }
        if exif.missing_camera_data && exif.software.is_some() {
            attachment
                .signals
                .push("no camera data but an editing program's mark".into());
        }

        // A very dark or near-uniform image hashes like any other such image: it is neither compared nor filed, and
        // agents are told no duplicate check was made.
        let phash = match &analysis.phash {
            Ok(phash) => Some(phash.as_str()),
            Err(reason) => {
                attachment.partial.push(format!("fingerprint skipped: {reason}"));
                None
            }
        };

        // Near-duplicates through the band index: only candidates sharing a band are compared.
        let mut duplicates: Vec<DuplicateSignal> = Vec::new();
        if let Some(phash) = phash {
            for band in phash_bands(phash) {
                for candidate in self.index.fingerprints(&band).await? {
                    let same_item = candidate.ticket_id == job.ticket_id && candidate.wamid == job.wamid;
                    let same_ticket = candidate.ticket_id == job.ticket_id;
                    if same_item || same_ticket || duplicates.iter().any(|d| d.wamid == candidate.wamid) {
                        continue;
                    }
                    if let Some(distance) = phash_distance(phash, &candidate.phash)
                        && distance <= NEAR_DUPLICATE_DISTANCE
                    {
                        duplicates.push(DuplicateSignal {
                            ticket_id: candidate.ticket_id.clone(),
                            wamid: candidate.wamid.clone(),
                            distance,
                            other_customer: candidate.customer != job.customer,
                        });
                    }
                }
            }
        }
        for d in &duplicates {
            let whose = if d.other_customer {
                "another customer's"
            } else {
                "this customer's"
            };
            attachment.signals.push(format!(
                "same photo as {whose} image on ticket {} (distance {})",
                d.ticket_id, d.distance
            ));
        }
        attachment.duplicates = duplicates;

        match self.vision.analyse(&analysis.analysis_copy).await {
            Ok(report) => {
                attachment
                    .partial
                    .extend(report.partial.iter().map(|p| format!("vision: {p}")));
                attachment.hidden = !report.moderation.is_empty();
                if let Some(category) = self.desk.media_category(&report) {
                    attachment.suggested_category = Some(category.id.clone());
                    attachment.suggested_team = Some(category.team.clone());
                }
                let text = report.text.join(" ");
                if !text.is_empty() {
                    attachment.matched_faq = self.desk.match_faq(&Normalised::new(&text)).map(|f| f.id.clone());
                }
                attachment.vision = Some(report);
            }
            Err(e) if attempt < VISION_ATTEMPTS => return Err(MediaError::Vision(e)),
            Err(e) => attachment
                .partial
                .push(format!("vision unavailable after {attempt} attempts: {e}")),
        }
        attachment.quality = Some(analysis.quality);
        attachment.exif = Some(analysis.exif.clone());
        attachment.phash = phash.map(str::to_owned);

        if let Some(phash) = phash {
            let fingerprint = Fingerprint {
                phash: phash.to_owned(),
                ticket_id: job.ticket_id.clone(),
                customer: job.customer.clone(),
                wamid: job.wamid.clone(),
            };
            for band in phash_bands(phash) {
                self.index.file_fingerprint(&band, &fingerprint).await?;
            }
        }
        Ok(())
    }

    async fn refuse(
        &self,
        job: &MediaJob,
        mut attachment: MediaAttachment,
        lang: Lang,
        refusal: Refusal,
    ) -> Result<(), MediaError> {
        tracing::warn!(ticket = %job.ticket_id, kind = %job.message_type, refusal = %refusal, "media refused");
        let limit = match &refusal {
            Refusal::TooLarge { limit, .. } => format_size(*limit),
            _ => String::new(),
        };
        let text = self
            .catalog
            .text(lang, refusal.reason_key(), &[("limit", Arg::from(limit))]);
        attachment.refused = Some(refusal.to_string());
        self.attach(job, attachment).await?;
        // The customer always learns why their file was not accepted.
        self.reply(job, vec![text]).await
    }

    async fn attach(&self, job: &MediaJob, attachment: MediaAttachment) -> Result<(), MediaError> {
        let command = TicketCommand::AttachMedia(AttachMedia {
            ticket_id: job.ticket_id.clone(),
            customer: job.customer.clone(),
            attachment: Box::new(attachment),
        });
        Ok(self.tickets.send(&[command]).await?)
    }

    async fn reply(&self, job: &MediaJob, texts: Vec<String>) -> Result<(), MediaError> {
        let replies: Vec<OutboundRequest> = texts
            .into_iter()
            .enumerate()
            .map(|(i, text)| OutboundRequest {
                idempotency_key: format!("media:{}:{i}", job.wamid),
                ticket_id: job.ticket_id.clone(),
                customer: job.customer.clone(),
                phone_number_id: job.phone_number_id.clone(),
                author: Author::Bot,
                body: OutboundBody::text(text),
            })
            .collect();
        Ok(self.outbound.send(&replies).await?)
    }
}

/// `media/<ticket>/<wamid>.<ext>`, with the wamid's `/`, `+` and `=` made safe for a key.
pub fn media_key(ticket: &helpdesk::domain::ids::TicketId, wamid: &str, extension: &str) -> String {
    let safe: String = wamid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("media/{}/{safe}.{extension}", ticket.as_str())
}

/// "5 MB", "500 KB".
fn format_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// EXIF's "YYYY:MM:DD HH:MM:SS", read as UTC (EXIF carries no zone; a day's error does not matter here).
fn exif_date(text: &str) -> Option<jiff::Timestamp> {
    let date = text.get(..10)?.replace(':', "-");
    let time = text.get(11..19)?;
    format!("{date}T{time}Z").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk::domain::ids::TicketId;

    #[test]
    fn a_media_key_is_under_the_ticket_and_safe_whatever_the_wamid() {
        let key = media_key(&TicketId::parse("TK-1").unwrap(), "wamid.HBg+L/x==", "jpg");
        assert_eq!(key, "media/TK-1/wamid.HBg_L_x__.jpg");
    }

    #[test]
    fn sizes_and_exif_dates_read_as_people_expect() {
        assert_eq!(format_size(5 * 1024 * 1024), "5 MB");
        assert_eq!(format_size(500 * 1024), "500 KB");
        assert_eq!(
            exif_date("2024:05:01 10:30:00").unwrap().to_string(),
            "2024-05-01T10:30:00Z"
        );
        assert_eq!(exif_date("garbage"), None);
    }
}
