//! The Rekognition adapter behind the Vision port.
//!
//! Most answers come from `aws-smithy-mocks`: SDK output structs filled in
//! the shapes of Rekognition's DetectLabels, DetectText and
//! DetectModerationLabels responses (Labels with Parents, TextDetections with
//! LINEs before their WORDs, ModerationLabels with ParentName) for a photo of
//! a cracked phone screen and a screenshot of an error. One test goes over
//! the wire to moto, whose canned answers are Rekognition's documentation
//! examples and whose DetectModerationLabels answers HTTP 500.

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::config::retry::RetryConfig;
use aws_sdk_rekognition::operation::detect_labels::DetectLabelsOutput;
use aws_sdk_rekognition::operation::detect_moderation_labels::DetectModerationLabelsOutput;
use aws_sdk_rekognition::operation::detect_text::DetectTextOutput;
use aws_sdk_rekognition::types::{Label, ModerationLabel, Parent, TextDetection, TextTypes};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use helpdesk::adapters::rekognition::RekognitionVision;
use helpdesk::domain::vision::{Label as VisionLabel, VisionReport};
use helpdesk::ports::Vision;
use helpdesk_tests::LocalAws;

const IMAGE: &[u8] = b"\xff\xd8\xff\xe0 stands in for a JPEG";

fn vision(rules: &[&Rule]) -> RekognitionVision {
    // Retries off: each rule answers once per call, as the final answer.
    let client = mock_client!(aws_sdk_rekognition, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    RekognitionVision::new(client)
}

fn parent(name: &str) -> Parent {
    Parent::builder().name(name).build()
}

fn label(name: &str, confidence: f32, parents: &[&str]) -> Label {
    parents
        .iter()
        .fold(Label::builder().name(name).confidence(confidence), |b, p| {
            b.parents(parent(p))
        })
        .build()
}

fn line(id: i32, text: &str, confidence: f32) -> TextDetection {
    TextDetection::builder()
        .id(id)
        .r#type(TextTypes::Line)
        .detected_text(text)
        .confidence(confidence)
        .build()
}

fn word(id: i32, parent: i32, text: &str, confidence: f32) -> TextDetection {
    TextDetection::builder()
        .id(id)
        .parent_id(parent)
        .r#type(TextTypes::Word)
        .detected_text(text)
        .confidence(confidence)
        .build()
}

fn cracked_screen_labels() -> DetectLabelsOutput {
    DetectLabelsOutput::builder()
        .labels(label("Electronics", 99.98, &[]))
        .labels(label("Mobile Phone", 99.91, &["Phone", "Electronics"]))
        .labels(label("Phone", 99.91, &["Electronics"]))
        .labels(label("Screen", 96.47, &["Electronics"]))
        .labels(label("Hand", 88.12, &["Body Part", "Person"]))
        .labels(label("Person", 88.12, &[]))
        .label_model_version("3.0")
        .build()
}

fn cracked_screen_text() -> DetectTextOutput {
    DetectTextOutput::builder().text_model_version("3.0").build()
}

fn no_moderation() -> DetectModerationLabelsOutput {
    DetectModerationLabelsOutput::builder()
        .moderation_model_version("7.0")
        .build()
}

fn error_screenshot_labels() -> DetectLabelsOutput {
    DetectLabelsOutput::builder()
        .labels(label("Text", 99.84, &[]))
        .labels(label("File", 82.05, &[]))
        .labels(label("Webpage", 74.63, &[]))
        .label_model_version("3.0")
        .build()
}

fn error_screenshot_text() -> DetectTextOutput {
    // Rekognition lists every LINE, then the WORDs of each line.
    DetectTextOutput::builder()
        .text_detections(line(0, "Error E-104: Connection failed", 99.41))
        .text_detections(line(1, "Check your network and try again", 98.86))
        .text_detections(line(2, "OK", 97.02))
        .text_detections(line(3, "1l:4I", 41.7))
        .text_detections(word(4, 0, "Error", 99.73))
        .text_detections(word(5, 0, "E-104:", 98.95))
        .text_detections(word(6, 0, "Connection", 99.62))
        .text_detections(word(7, 0, "failed", 99.33))
        .text_detections(word(8, 1, "Check", 99.1))
        .text_detections(word(9, 2, "OK", 97.02))
        .text_model_version("3.0")
        .build()
}

fn cut_finger_moderation() -> DetectModerationLabelsOutput {
    DetectModerationLabelsOutput::builder()
        .moderation_labels(
            ModerationLabel::builder()
                .name("Visually Disturbing")
                .parent_name("")
                .confidence(84.36)
                .taxonomy_level(1)
                .build(),
        )
        .moderation_labels(
            ModerationLabel::builder()
                .name("Blood & Gore")
                .parent_name("Visually Disturbing")
                .confidence(84.36)
                .taxonomy_level(2)
                .build(),
        )
        .moderation_model_version("7.0")
        .build()
}

fn names(labels: &[VisionLabel]) -> Vec<&str> {
    labels.iter().map(|l| l.name.as_str()).collect()
}

#[tokio::test]
async fn a_photo_of_a_cracked_screen_is_reported_with_its_labels_and_confidences() {
    let labels = mock!(Client::detect_labels)
        .match_requests(|r| r.max_labels() == Some(20) && r.min_confidence() == Some(70.0))
        .then_output(cracked_screen_labels);
    let text = mock!(Client::detect_text).then_output(cracked_screen_text);
    let moderation = mock!(Client::detect_moderation_labels)
        .match_requests(|r| r.min_confidence() == Some(70.0))
        .then_output(no_moderation);

    let report = vision(&[&labels, &text, &moderation]).analyse(IMAGE).await.unwrap();

    assert_eq!(
        report,
        VisionReport {
            labels: vec![
                VisionLabel {
                    name: "Electronics".into(),
                    confidence: 99.98
                },
                VisionLabel {
                    name: "Mobile Phone".into(),
                    confidence: 99.91
                },
                VisionLabel {
                    name: "Phone".into(),
                    confidence: 99.91
                },
                VisionLabel {
                    name: "Screen".into(),
                    confidence: 96.47
                },
                VisionLabel {
                    name: "Hand".into(),
                    confidence: 88.12
                },
                VisionLabel {
                    name: "Person".into(),
                    confidence: 88.12
                },
            ],
            text: vec![],
            moderation: vec![],
            partial: vec![],
        }
    );
    assert_eq!(
        (labels.num_calls(), text.num_calls(), moderation.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_screenshot_keeps_only_its_confident_lines_in_order() {
    let labels = mock!(Client::detect_labels).then_output(error_screenshot_labels);
    let text = mock!(Client::detect_text).then_output(error_screenshot_text);
    let moderation = mock!(Client::detect_moderation_labels).then_output(no_moderation);

    let report = vision(&[&labels, &text, &moderation]).analyse(IMAGE).await.unwrap();

    assert_eq!(
        report.text,
        [
            "Error E-104: Connection failed",
            "Check your network and try again",
            "OK"
        ]
    );
    assert_eq!(names(&report.labels), ["Text", "File", "Webpage"]);
    assert!(report.moderation.is_empty());
    assert!(report.partial.is_empty());
}

#[tokio::test]
async fn moderation_labels_are_reported_with_their_parents_names_and_confidences() {
    let labels = mock!(Client::detect_labels).then_output(cracked_screen_labels);
    let text = mock!(Client::detect_text).then_output(cracked_screen_text);
    let moderation = mock!(Client::detect_moderation_labels).then_output(cut_finger_moderation);

    let report = vision(&[&labels, &text, &moderation]).analyse(IMAGE).await.unwrap();

    assert_eq!(
        report.moderation,
        [
            VisionLabel {
                name: "Visually Disturbing".into(),
                confidence: 84.36
            },
            VisionLabel {
                name: "Blood & Gore".into(),
                confidence: 84.36
            },
        ]
    );
    assert!(report.partial.is_empty());
}

#[tokio::test]
async fn a_higher_minimum_confidence_is_sent_and_applied_to_lines() {
    let labels = mock!(Client::detect_labels)
        .match_requests(|r| r.min_confidence() == Some(99.0))
        .then_output(error_screenshot_labels);
    let text = mock!(Client::detect_text).then_output(error_screenshot_text);
    let moderation = mock!(Client::detect_moderation_labels)
        .match_requests(|r| r.min_confidence() == Some(99.0))
        .then_output(no_moderation);

    let report = vision(&[&labels, &text, &moderation])
        .with_min_confidence(99.0)
        .analyse(IMAGE)
        .await
        .unwrap();

    assert_eq!(report.text, ["Error E-104: Connection failed"]);
    // What the service answered below the minimum is dropped too.
    assert_eq!(names(&report.labels), ["Text"]);
}

#[tokio::test]
async fn a_failed_moderation_call_leaves_labels_and_text_and_is_named_in_partial() {
    let labels = mock!(Client::detect_labels).then_output(error_screenshot_labels);
    let text = mock!(Client::detect_text).then_output(error_screenshot_text);
    let moderation = mock!(Client::detect_moderation_labels)
        .sequence()
        .http_status(
            500,
            Some("<!doctype html>\n<title>500 Internal Server Error</title>".into()),
        )
        .repeatedly()
        .build();

    let report = vision(&[&labels, &text, &moderation]).analyse(IMAGE).await.unwrap();

    assert_eq!(names(&report.labels), ["Text", "File", "Webpage"]);
    assert_eq!(report.text.len(), 3);
    assert!(report.moderation.is_empty());
    assert_eq!(report.partial, ["moderation: service error"]);
}

/// An error as Rekognition answers it: JSON 1.1 with the code in `__type`.
fn error_body(code: &str, message: &str) -> Option<String> {
    Some(format!(r#"{{"__type":"{code}","Message":"{message}"}}"#))
}

#[tokio::test]
async fn when_every_call_fails_transiently_the_analysis_is_an_error_to_retry() {
    let labels = mock!(Client::detect_labels)
        .sequence()
        .http_status(
            400,
            error_body("ProvisionedThroughputExceededException", "Provisioned Rate exceeded"),
        )
        .repeatedly()
        .build();
    let text = mock!(Client::detect_text)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    let moderation = mock!(Client::detect_moderation_labels)
        .sequence()
        .http_status(500, error_body("ThrottlingException", "Rate exceeded"))
        .repeatedly()
        .build();

    let err = vision(&[&labels, &text, &moderation]).analyse(IMAGE).await.unwrap_err();

    let message = err.to_string();
    for part in ["labels: throttled", "text: service error", "moderation: throttled"] {
        assert!(message.contains(part), "{message}");
    }
}

#[tokio::test]
async fn when_every_call_fails_but_one_failure_is_final_the_report_says_so() {
    let labels = mock!(Client::detect_labels)
        .sequence()
        .http_status(
            400,
            error_body("InvalidImageFormatException", "Request has invalid image format"),
        )
        .repeatedly()
        .build();
    let text = mock!(Client::detect_text)
        .sequence()
        .http_status(500, None)
        .repeatedly()
        .build();
    let moderation = mock!(Client::detect_moderation_labels)
        .sequence()
        .http_status(500, error_body("ThrottlingException", "Rate exceeded"))
        .repeatedly()
        .build();

    let report = vision(&[&labels, &text, &moderation]).analyse(IMAGE).await.unwrap();

    assert_eq!(
        report,
        VisionReport {
            partial: vec![
                "labels: invalid image format".into(),
                "text: service error".into(),
                "moderation: throttled".into(),
            ],
            ..VisionReport::default()
        }
    );
}

#[tokio::test]
async fn over_the_wire_to_moto_labels_and_text_are_kept_when_moderation_fails() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let config = aws_sdk_rekognition::config::Builder::from(&sdk)
        .retry_config(RetryConfig::disabled())
        .build();
    let vision = RekognitionVision::new(Client::from_conf(config));

    let report = vision.analyse(IMAGE).await.map_err(|e| anyhow::anyhow!(e))?;

    assert_eq!(
        report.labels,
        [VisionLabel {
            name: "Mobile Phone".into(),
            confidence: 99.936_4
        }]
    );
    // moto answers the documentation's example: four LINEs, then their WORDs.
    assert_eq!(report.text, ["IT'S", "MONDAY", "but keep", "Smiling"]);
    assert_eq!(report.partial, ["moderation: service error"]);
    aws.stop().await;
    Ok(())
}
