//! The media function's handler on `media.fifo` jobs, over the in-memory
//! ports: what the media store holds, what is attached to the ticket, and what
//! the customer is told.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use helpdesk::adapters::memory::{MemoryGraph, MemoryMedia, MemoryMediaStore, MemoryQueue, MemoryStore, MemoryVision};
use helpdesk::domain::attachment::{DuplicateSignal, Fingerprint, MediaAttachment};
use helpdesk::domain::commands::{AttachMedia, MediaJob, TicketCommand};
use helpdesk::domain::desk::{Desk, EMBEDDED_CONFIG};
use helpdesk::domain::i18n::{Arg, Catalog, Lang};
use helpdesk::domain::ids::{CustomerId, TicketId};
use helpdesk::domain::media::QualityProblem;
use helpdesk::domain::outbound::{OutboundBody, OutboundRequest};
use helpdesk::domain::vision::{Label, VisionReport};
use helpdesk::ports::{FingerprintIndex, Queue, QueueError, QueueMessage, StoreError};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{Rgb, RgbImage};
use lambda_runtime::{Context, LambdaEvent};
use media::Media;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, OnceLock};

/// The business number the customers wrote to.
const BUSINESS: &str = "100000000000001";
/// When the customers sent their files: Tuesday 24 November 2026, 10:00 in Paris.
const SENT_AT_MS: i64 = 1_795_510_800_000;
const MB: usize = 1024 * 1024;

// ----------------------------------------------------------------- fixture

/// The media function's ports, kept by the test to read back (clones share their state).
struct Ports {
    graph: MemoryGraph,
    files: MemoryMediaStore,
    vision: MemoryVision,
    index: MemoryStore,
    tickets: MemoryQueue<TicketCommand>,
    outbound: MemoryQueue<OutboundRequest>,
}

impl Ports {
    fn new() -> Ports {
        Ports {
            graph: MemoryGraph::new(),
            files: MemoryMediaStore::default(),
            vision: MemoryVision::answering(VisionReport {
                labels: vec![Label {
                    name: "Cardboard".into(),
                    confidence: 97.5,
                }],
                ..VisionReport::default()
            }),
            index: MemoryStore::new(),
            tickets: MemoryQueue::default(),
            outbound: MemoryQueue::default(),
        }
    }

    fn media(
        &self,
    ) -> Media<
        MemoryGraph,
        MemoryMediaStore,
        MemoryVision,
        MemoryStore,
        MemoryQueue<TicketCommand>,
        MemoryQueue<OutboundRequest>,
    > {
        self.media_over(self.tickets.clone(), self.outbound.clone())
    }

    fn media_over<T: Queue<TicketCommand>, O: Queue<OutboundRequest>>(
        &self,
        tickets: T,
        outbound: O,
    ) -> Media<MemoryGraph, MemoryMediaStore, MemoryVision, MemoryStore, T, O> {
        self.media_with(self.index.clone(), tickets, outbound)
    }

    fn media_with<I: FingerprintIndex, T: Queue<TicketCommand>, O: Queue<OutboundRequest>>(
        &self,
        index: I,
        tickets: T,
        outbound: O,
    ) -> Media<MemoryGraph, MemoryMediaStore, MemoryVision, I, T, O> {
        let catalog = Catalog::builtin();
        let desk = Desk::from_toml(EMBEDDED_CONFIG, &catalog).unwrap();
        Media::new(
            self.graph.clone(),
            self.files.clone(),
            self.vision.clone(),
            index,
            tickets,
            outbound,
            desk,
            catalog,
        )
    }

    /// Serves `bytes` under `media_id`, with true facts.
    fn serve(&self, media_id: &str, mime: &str, bytes: &[u8]) {
        self.graph.add_media(media_id, MemoryMedia::new(mime, bytes));
    }

    /// Every attachment queued for the tickets function, in order.
    fn attached(&self) -> Vec<MediaAttachment> {
        self.tickets.sent().into_iter().map(attachment_of).collect()
    }

    /// The texts queued for the customers, in order.
    fn told(&self) -> Vec<String> {
        self.outbound.sent().iter().map(text_of).collect()
    }
}

/// A queue that also keeps every item offered to it, duplicates included, so
/// a test can compare what two deliveries sent.
struct Recorded<T> {
    queue: MemoryQueue<T>,
    offered: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for Recorded<T> {
    fn clone(&self) -> Self {
        Recorded {
            queue: self.queue.clone(),
            offered: Arc::clone(&self.offered),
        }
    }
}

impl<T: Clone> Recorded<T> {
    fn around(queue: &MemoryQueue<T>) -> Self {
        Recorded {
            queue: queue.clone(),
            offered: Arc::default(),
        }
    }

    fn offered(&self) -> Vec<T> {
        self.offered.lock().unwrap().clone()
    }
}

impl<T: QueueMessage + Clone + Send + Sync> Queue<T> for Recorded<T> {
    async fn send(&self, items: &[T]) -> Result<(), QueueError> {
        self.offered.lock().unwrap().extend_from_slice(items);
        self.queue.send(items).await
    }
}

/// The near-duplicate index, keeping every band looked up and every fingerprint filed.
#[derive(Clone, Default)]
struct RecordedIndex {
    index: MemoryStore,
    looked_up: Arc<Mutex<Vec<String>>>,
    filed: Arc<Mutex<Vec<Fingerprint>>>,
}

impl RecordedIndex {
    fn looked_up(&self) -> Vec<String> {
        self.looked_up.lock().unwrap().clone()
    }

    fn filed(&self) -> Vec<Fingerprint> {
        self.filed.lock().unwrap().clone()
    }
}

impl FingerprintIndex for RecordedIndex {
    async fn fingerprints(&self, band: &str) -> Result<Vec<Fingerprint>, StoreError> {
        self.looked_up.lock().unwrap().push(band.to_owned());
        self.index.fingerprints(band).await
    }

    async fn file_fingerprint(&self, band: &str, fingerprint: &Fingerprint) -> Result<(), StoreError> {
        self.filed.lock().unwrap().push(fingerprint.clone());
        self.index.file_fingerprint(band, fingerprint).await
    }
}

fn attachment_of(command: TicketCommand) -> MediaAttachment {
    match command {
        TicketCommand::AttachMedia(AttachMedia { attachment, .. }) => *attachment,
        other => panic!("expected AttachMedia, got {}", other.name()),
    }
}

fn text_of(reply: &OutboundRequest) -> String {
    match &reply.body {
        OutboundBody::Text { body } => body.clone(),
        other => panic!("expected a text, got {other:?}"),
    }
}

fn english(key: &str) -> String {
    english_with(key, &[])
}

fn english_with(key: &str, args: &[(&str, Arg)]) -> String {
    Catalog::builtin().text(Lang::En, key, args)
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

// --------------------------------------------------------------------- jobs

/// What the bot queued for a file Ana sent on ticket TK-A while the bot owns her conversation.
fn job(message_type: &str, media_id: &str, claimed_mime: &str) -> MediaJob {
    MediaJob {
        ticket_id: TicketId::parse("TK-A").unwrap(),
        customer: CustomerId::parse("15551230001").unwrap(),
        phone_number_id: BUSINESS.into(),
        wamid: format!("wamid.{media_id}"),
        message_type: message_type.into(),
        media_id: media_id.into(),
        claimed_mime: claimed_mime.into(),
        caption: None,
        language: "en".into(),
        answers_turn: true,
        at_ms: SENT_AT_MS,
    }
}

/// The job as Lambda delivers it from `media.fifo`, on its `attempt`th receive.
fn delivery(job: &MediaJob, attempt: u32) -> LambdaEvent<SqsEvent> {
    let mut record = SqsMessage::default();
    record.message_id = Some(format!("msg-{}", job.wamid));
    record.body = Some(serde_json::to_string(job).unwrap());
    record.attributes.insert("MessageGroupId".into(), job.group_key());
    record
        .attributes
        .insert("MessageDeduplicationId".into(), job.dedupe_key());
    record
        .attributes
        .insert("ApproximateReceiveCount".into(), attempt.to_string());
    let mut event = SqsEvent::default();
    event.records = vec![record];
    LambdaEvent::new(event, Context::default())
}

fn failed(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

// ------------------------------------------------------------------- images

/// A well-lit photo-like picture: smooth light, objects with sharp edges and a
/// little sensor noise, at `width`×`height`.
fn scene(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let (u, v) = (x as f32 / width as f32, y as f32 / height as f32);
        let noise = ((x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 17) as u8;
        let disc = (u - 0.6).powi(2) + ((v - 0.45) * 0.75).powi(2) < 0.04;
        let block = (0.15..0.4).contains(&u) && (0.6..0.9).contains(&v);
        let bars = ((u * 8.0) as u32).is_multiple_of(2) && v < 0.2;
        let (r, g, b): (u8, u8, u8) = if disc {
            (200, 90, 50)
        } else if block {
            (40, 90, 190)
        } else if bars {
            (230, 220, 200)
        } else {
            (90 + (u * 80.0) as u8, 110 + (v * 60.0) as u8, 120)
        };
        Rgb([
            r.saturating_add(noise),
            g.saturating_add(noise),
            b.saturating_add(noise),
        ])
    })
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90).encode_image(img).unwrap();
    out
}

/// A good photo, 800×600.
fn good_photo() -> &'static [u8] {
    static PHOTO: OnceLock<Vec<u8>> = OnceLock::new();
    PHOTO.get_or_init(|| jpeg(&scene(800, 600)))
}

/// The same scene with a fifth of the light.
fn dark_photo() -> Vec<u8> {
    let mut img = scene(800, 600);
    img.pixels_mut().for_each(|p| p.0.iter_mut().for_each(|c| *c /= 5));
    jpeg(&img)
}

/// `img` taken in a dark room: a hundredth of the light, and the sensor's noise.
fn in_the_dark(img: &RgbImage) -> Vec<u8> {
    let mut dark = img.clone();
    for (i, c) in dark.pixels_mut().flat_map(|p| p.0.iter_mut()).enumerate() {
        let noise = ((i as u64).wrapping_mul(2_654_435_761) >> 11) % 7;
        *c = (*c / 100 + noise as u8).saturating_sub(4);
    }
    jpeg(&dark)
}

/// The same scene, 320×240.
fn tiny_photo() -> Vec<u8> {
    jpeg(&scene(320, 240))
}

/// The same scene out of focus: every edge smeared over a dozen pixels.
fn blurred_photo() -> Vec<u8> {
    let small = image::imageops::resize(&scene(800, 600), 64, 48, FilterType::Triangle);
    jpeg(&image::imageops::resize(&small, 800, 600, FilterType::Triangle))
}

/// A small but well-formed PDF.
fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n".to_vec();
    bytes.extend(b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".repeat(40));
    bytes
}

/// A Windows executable: the `MZ` header, a PE stub, then code-like bytes.
fn executable() -> Vec<u8> {
    let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    bytes.extend(b"This program cannot be run in DOS mode.\r\r\n$".iter());
    bytes.extend((0..20_000u32).map(|i| (i.wrapping_mul(31) % 251) as u8));
    bytes
}

// -------------------------------------------------------------------- tests

#[tokio::test]
async fn a_good_photo_is_stored_under_its_ticket_attached_with_its_analysis_and_the_customer_told_it_arrived() {
    // Arrange
    let ports = Ports::new();
    let photo = good_photo();
    ports.serve("MEDIA-1", "image/jpeg", photo);
    let job = job("image", "MEDIA-1", "image/jpeg");

    // Act
    let response = ports.media().handle(delivery(&job, 1)).await.unwrap();

    // Assert
    assert!(failed(&response).is_empty(), "{response:?}");
    let key = "media/TK-A/wamid.MEDIA-1.jpg";
    assert_eq!(ports.files.keys(), [key]);
    let object = ports.files.object(key).unwrap();
    assert_eq!(
        (object.bytes.as_slice(), object.content_type.as_str()),
        (photo, "image/jpeg")
    );

    let attached = ports.attached();
    assert_eq!(attached.len(), 1);
    let a = &attached[0];
    assert_eq!(a.s3_key.as_deref(), Some(key));
    assert_eq!(a.size, Some(photo.len() as u64));
    assert_eq!(a.sha256.as_deref(), Some(sha256(photo).as_str()));
    assert_eq!((a.refused.as_ref(), a.mime.as_deref()), (None, Some("image/jpeg")));
    let quality = a.quality.as_ref().expect("a quality report");
    assert_eq!((quality.width, quality.height), (800, 600));
    assert!(quality.problems.is_empty(), "{quality:?}");
    assert!(a.phash.as_ref().is_some_and(|h| h.len() == 16), "{:?}", a.phash);
    assert_eq!(a.vision.as_ref().map(|v| v.labels[0].name.as_str()), Some("Cardboard"));
    assert!(a.partial.is_empty() && a.duplicates.is_empty(), "{a:?}");
    assert_eq!(ports.told(), [english("received-media")]);
    assert_eq!(ports.outbound.sent()[0].phone_number_id, BUSINESS);
}

#[tokio::test]
async fn a_dark_photo_is_kept_and_the_customer_is_asked_for_a_better_one() {
    // Arrange
    let ports = Ports::new();
    ports.serve("MEDIA-2", "image/jpeg", &dark_photo());

    // Act
    let response = ports
        .media()
        .handle(delivery(&job("image", "MEDIA-2", "image/jpeg"), 1))
        .await
        .unwrap();

    // Assert
    assert!(failed(&response).is_empty(), "{response:?}");
    let attached = ports.attached();
    let quality = attached[0].quality.as_ref().unwrap();
    assert_eq!(quality.problems, [QualityProblem::TooDark]);
    assert_eq!(ports.files.keys(), ["media/TK-A/wamid.MEDIA-2.jpg"]);
    assert_eq!(ports.told(), [english("photo-too-dark")]);
}

#[tokio::test]
async fn a_tiny_photo_is_kept_and_the_customer_is_asked_to_take_it_closer() {
    // Arrange
    let ports = Ports::new();
    ports.serve("MEDIA-3", "image/jpeg", &tiny_photo());

    // Act
    ports
        .media()
        .process(job("image", "MEDIA-3", "image/jpeg"), 1)
        .await
        .unwrap();

    // Assert
    let attached = ports.attached();
    assert_eq!(
        attached[0].quality.as_ref().unwrap().problems,
        [QualityProblem::TooSmall]
    );
    assert_eq!(ports.told(), [english("photo-too-small")]);
}

#[tokio::test]
async fn a_blurred_photo_is_kept_and_the_customer_is_asked_to_hold_the_phone_still() {
    // Arrange
    let ports = Ports::new();
    ports.serve("MEDIA-4", "image/jpeg", &blurred_photo());

    // Act
    ports
        .media()
        .process(job("image", "MEDIA-4", "image/jpeg"), 1)
        .await
        .unwrap();

    // Assert
    let attached = ports.attached();
    assert_eq!(
        attached[0].quality.as_ref().unwrap().problems,
        [QualityProblem::Blurred]
    );
    assert_eq!(ports.told(), [english("photo-blurred")]);
}

#[tokio::test]
async fn a_screenshot_naming_a_known_error_gets_that_answer_and_suggests_the_specialists() {
    // Arrange
    let ports = Ports::new();
    ports.vision.answer(VisionReport {
        text: vec!["Error E-104".into(), "Wi-Fi".into()],
        ..VisionReport::default()
    });
    ports.serve("MEDIA-5", "image/jpeg", good_photo());

    // Act
    ports
        .media()
        .process(job("image", "MEDIA-5", "image/jpeg"), 1)
        .await
        .unwrap();

    // Assert
    let a = &ports.attached()[0];
    assert_eq!(a.matched_faq.as_deref(), Some("error-e104"));
    assert_eq!(
        (a.suggested_category.as_deref(), a.suggested_team.as_deref()),
        (Some("technical"), Some("tech"))
    );
    let told = ports.told();
    assert_eq!(told.len(), 1);
    assert!(
        told[0].starts_with("Error E-104 means the device lost its Wi-Fi connection"),
        "{told:?}"
    );
}

#[tokio::test]
async fn a_pdf_is_stored_and_attached_without_an_image_analysis() {
    // Arrange
    let ports = Ports::new();
    let document = pdf();
    ports.serve("MEDIA-6", "application/pdf", &document);

    // Act
    ports
        .media()
        .process(job("document", "MEDIA-6", "application/pdf"), 1)
        .await
        .unwrap();

    // Assert
    let key = "media/TK-A/wamid.MEDIA-6.pdf";
    assert_eq!(ports.files.object(key).map(|o| o.bytes), Some(document.clone()));
    let a = &ports.attached()[0];
    assert_eq!(a.s3_key.as_deref(), Some(key));
    assert_eq!(
        (a.size, a.mime.as_deref()),
        (Some(document.len() as u64), Some("application/pdf"))
    );
    assert!(a.quality.is_none() && a.phash.is_none() && a.vision.is_none(), "{a:?}");
    assert_eq!(ports.vision.calls(), 0);
    assert_eq!(ports.told(), [english("received-media")]);
}

#[tokio::test]
async fn an_executable_named_as_a_pdf_is_refused_nothing_is_stored_and_the_customer_is_told_why_even_while_an_agent_owns_the_ticket()
 {
    // Arrange
    let ports = Ports::new();
    ports.serve("MEDIA-7", "application/pdf", &executable());
    let job = MediaJob {
        caption: Some("invoice.pdf".into()),
        answers_turn: false,
        ..job("document", "MEDIA-7", "application/pdf")
    };

    // Act
    let response = ports.media().handle(delivery(&job, 1)).await.unwrap();

    // Assert
    assert!(
        failed(&response).is_empty(),
        "a refusal is handled, not retried: {response:?}"
    );
    assert!(ports.files.keys().is_empty(), "{:?}", ports.files.keys());
    let a = &ports.attached()[0];
    assert!(a.refused.as_deref().is_some_and(|r| r.contains("executable")), "{a:?}");
    assert_eq!((a.s3_key.as_ref(), a.size, a.sha256.as_ref()), (None, None, None));
    assert_eq!(ports.told(), [english("media-dangerous")]);
}

#[tokio::test]
async fn a_photo_announced_over_the_size_limit_is_refused_without_being_stored() {
    // Arrange
    let ports = Ports::new();
    let mut announced = MemoryMedia::new("image/jpeg", good_photo());
    announced.file_size = Some(6 * MB as u64);
    ports.graph.add_media("MEDIA-8", announced);

    // Act
    ports
        .media()
        .process(job("image", "MEDIA-8", "image/jpeg"), 1)
        .await
        .unwrap();

    // Assert
    assert!(ports.files.keys().is_empty());
    let a = &ports.attached()[0];
    assert!(a.refused.as_deref().is_some_and(|r| r.contains("exceeds")), "{a:?}");
    assert_eq!(
        ports.told(),
        [english_with("media-too-large", &[("limit", "5 MB".into())])]
    );
}

#[tokio::test]
async fn a_photo_that_streams_past_the_size_limit_is_refused_and_its_upload_dropped() {
    // Arrange: Meta announces no size; the bytes run past 5 MB.
    let ports = Ports::new();
    let mut oversized = good_photo().to_vec();
    oversized.resize(5 * MB + 1, 0);
    let mut unannounced = MemoryMedia::new("image/jpeg", oversized);
    unannounced.file_size = None;
    ports.graph.add_media("MEDIA-9", unannounced);

    // Act
    ports
        .media()
        .process(job("image", "MEDIA-9", "image/jpeg"), 1)
        .await
        .unwrap();

    // Assert
    assert!(ports.files.keys().is_empty(), "{:?}", ports.files.keys());
    let a = &ports.attached()[0];
    assert!(a.refused.as_deref().is_some_and(|r| r.contains("exceeds")), "{a:?}");
    assert_eq!(
        ports.told(),
        [english_with("media-too-large", &[("limit", "5 MB".into())])]
    );
}

#[tokio::test]
async fn a_file_that_does_not_match_its_checksum_is_refused_without_being_stored() {
    // Arrange
    let ports = Ports::new();
    let mut tampered = MemoryMedia::new("image/jpeg", good_photo());
    tampered.sha256 = Some(sha256(b"the file Meta received"));
    ports.graph.add_media("MEDIA-10", tampered);

    // Act
    ports
        .media()
        .process(job("image", "MEDIA-10", "image/jpeg"), 1)
        .await
        .unwrap();

    // Assert
    assert!(ports.files.keys().is_empty(), "{:?}", ports.files.keys());
    let a = &ports.attached()[0];
    assert!(a.refused.as_deref().is_some_and(|r| r.contains("SHA-256")), "{a:?}");
    assert_eq!(ports.told(), [english("media-corrupt")]);
}

#[tokio::test]
async fn an_expired_media_id_is_refused_and_the_customer_is_asked_to_send_the_file_again() {
    // Arrange
    let ports = Ports::new();
    ports.serve("MEDIA-11", "image/jpeg", good_photo());
    ports.graph.expire_media("MEDIA-11");

    // Act
    let response = ports
        .media()
        .handle(delivery(&job("image", "MEDIA-11", "image/jpeg"), 1))
        .await
        .unwrap();

    // Assert
    assert!(
        failed(&response).is_empty(),
        "an expired id will not come back: {response:?}"
    );
    assert!(ports.files.keys().is_empty());
    assert!(ports.attached()[0].refused.is_some());
    assert_eq!(ports.told(), [english("media-corrupt")]);
    assert!(english("media-corrupt").contains("send it again"));
}

#[tokio::test]
async fn a_download_that_breaks_off_is_retried_and_leaves_no_object() {
    // Arrange: the connection drops after the type was checked and the upload began.
    let ports = Ports {
        graph: MemoryGraph::new().with_chunk_size(4096),
        ..Ports::new()
    };
    ports.serve("MEDIA-12", "image/jpeg", good_photo());
    ports.graph.break_downloads_after(good_photo().len() / 2);
    let job = job("image", "MEDIA-12", "image/jpeg");

    // Act
    let response = ports.media().handle(delivery(&job, 1)).await.unwrap();

    // Assert
    assert_eq!(failed(&response), ["msg-wamid.MEDIA-12"]);
    assert!(ports.files.keys().is_empty(), "{:?}", ports.files.keys());
    assert!(ports.tickets.sent().is_empty());
    assert!(ports.outbound.sent().is_empty());
}

#[tokio::test]
async fn the_vision_service_down_is_retried_until_the_last_attempt_then_the_photo_is_attached_with_a_partial_analysis()
{
    // Arrange
    let ports = Ports::new();
    ports.serve("MEDIA-13", "image/jpeg", good_photo());
    ports.vision.fail_next(3);
    let job = job("image", "MEDIA-13", "image/jpeg");
    let media = ports.media();

    // Act
    let first = media.handle(delivery(&job, 1)).await.unwrap();
    let second = media.handle(delivery(&job, 2)).await.unwrap();
    let attached_while_retrying = ports.tickets.sent().len();
    let last = media.handle(delivery(&job, 3)).await.unwrap();

    // Assert
    assert_eq!(failed(&first), ["msg-wamid.MEDIA-13"]);
    assert_eq!(failed(&second), ["msg-wamid.MEDIA-13"]);
    assert_eq!(attached_while_retrying, 0);
    assert!(failed(&last).is_empty(), "{last:?}");
    assert_eq!(ports.vision.calls(), 3);
    let attached = ports.attached();
    assert_eq!(attached.len(), 1);
    let a = &attached[0];
    assert!(a.vision.is_none());
    assert!(
        a.partial.iter().any(|p| p.contains("vision unavailable")),
        "{:?}",
        a.partial
    );
    assert!(
        a.quality.is_some() && a.phash.is_some(),
        "the rest of the analysis is kept"
    );
    assert_eq!(ports.files.keys(), ["media/TK-A/wamid.MEDIA-13.jpg"]);
    assert_eq!(ports.told(), [english("received-media")]);
}

#[tokio::test]
async fn the_same_photo_sent_by_another_customer_is_flagged_as_a_near_duplicate_of_the_first_ticket() {
    // Arrange
    let ports = Ports::new();
    ports.serve("MEDIA-14", "image/jpeg", good_photo());
    ports.serve("MEDIA-15", "image/jpeg", good_photo());
    let first = job("image", "MEDIA-14", "image/jpeg");
    let second = MediaJob {
        ticket_id: TicketId::parse("TK-B").unwrap(),
        customer: CustomerId::parse("15551230002").unwrap(),
        ..job("image", "MEDIA-15", "image/jpeg")
    };
    let media = ports.media();

    // Act
    media.process(first, 1).await.unwrap();
    media.process(second, 1).await.unwrap();

    // Assert
    let attached = ports.attached();
    assert!(attached[0].duplicates.is_empty(), "{:?}", attached[0].duplicates);
    assert_eq!(
        attached[1].duplicates,
        [DuplicateSignal {
            ticket_id: TicketId::parse("TK-A").unwrap(),
            wamid: "wamid.MEDIA-14".into(),
            distance: 0,
            other_customer: true,
        }]
    );
    assert!(
        attached[1]
            .signals
            .iter()
            .any(|s| s.contains("another customer's") && s.contains("TK-A")),
        "{:?}",
        attached[1].signals
    );
}

#[tokio::test]
async fn a_redelivered_job_stores_and_attaches_the_same_thing_once() {
    // Arrange
    let ports = Ports::new();
    ports.serve("MEDIA-16", "image/jpeg", good_photo());
    let tickets = Recorded::around(&ports.tickets);
    let outbound = Recorded::around(&ports.outbound);
    let media = ports.media_over(tickets.clone(), outbound.clone());
    let job = job("image", "MEDIA-16", "image/jpeg");

    // Act
    let first = media.handle(delivery(&job, 1)).await.unwrap();
    let again = media.handle(delivery(&job, 2)).await.unwrap();

    // Assert
    assert!(
        failed(&first).is_empty() && failed(&again).is_empty(),
        "{first:?} {again:?}"
    );
    assert_eq!(ports.files.keys(), ["media/TK-A/wamid.MEDIA-16.jpg"]);
    let commands = tickets.offered();
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0], commands[1], "the same attachment, so the same dedupe id");
    assert!(
        attachment_of(commands[1].clone()).duplicates.is_empty(),
        "not a duplicate of itself"
    );
    assert_eq!(ports.tickets.sent(), commands[..1]);
    let replies = outbound.offered();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0], replies[1]);
    assert_eq!(ports.told(), [english("received-media")]);
}

#[tokio::test]
async fn two_customers_different_very_dark_photos_are_not_linked_nor_filed_and_both_are_asked_for_a_better_one() {
    // Arrange: two different scenes, each taken in the dark. Their hashes are 2 bits apart: fingerprinted, the
    // second was "same photo as another customer's image on ticket TK-A".
    let ports = Ports::new();
    let index = RecordedIndex::default();
    ports.serve("MEDIA-17", "image/jpeg", &in_the_dark(&scene(800, 600)));
    ports.serve(
        "MEDIA-18",
        "image/jpeg",
        &in_the_dark(&image::imageops::rotate180(&scene(800, 600))),
    );
    let first = job("image", "MEDIA-17", "image/jpeg");
    let second = MediaJob {
        ticket_id: TicketId::parse("TK-B").unwrap(),
        customer: CustomerId::parse("15551230002").unwrap(),
        ..job("image", "MEDIA-18", "image/jpeg")
    };
    let media = ports.media_with(index.clone(), ports.tickets.clone(), ports.outbound.clone());

    // Act
    media.process(first, 1).await.unwrap();
    media.process(second, 1).await.unwrap();

    // Assert
    let attached = ports.attached();
    assert_eq!(attached.len(), 2);
    for a in &attached {
        assert_eq!(a.quality.as_ref().unwrap().problems, [QualityProblem::TooDark]);
        assert_eq!(a.phash, None);
        assert_eq!(a.partial, ["fingerprint skipped: very dark image"], "{a:?}");
        assert!(a.duplicates.is_empty(), "{:?}", a.duplicates);
        assert!(!a.signals.iter().any(|s| s.contains("same photo")), "{:?}", a.signals);
    }
    assert!(index.looked_up().is_empty(), "{:?}", index.looked_up());
    assert!(index.filed().is_empty(), "{:?}", index.filed());
    assert_eq!(ports.told(), [english("photo-too-dark"), english("photo-too-dark")]);
    let customers: Vec<_> = ports
        .outbound
        .sent()
        .into_iter()
        .map(|r| r.customer.as_str().to_owned())
        .collect();
    assert_eq!(customers, ["15551230001", "15551230002"]);
}
