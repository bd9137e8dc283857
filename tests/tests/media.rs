//! Visual troubleshooting end to end: customers send real files through the
//! simulator; the media function fetches, checks, stores and analyses them;
//! the customer is told what to fix; the ticket holds what was found.

use helpdesk::domain::i18n::{Catalog, Lang};
use helpdesk_tests::pictures::{photo, save_jpeg};
use helpdesk_tests::{Helpdesk, eventually, text_of};
use image::{ImageBuffer, Rgb, RgbImage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn workdir(name: &str) -> PathBuf {
    let dir = devstack::repo_root()
        .join(".local")
        .join("test-media")
        .join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn darken(img: &RgbImage, factor: f32) -> RgbImage {
    ImageBuffer::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y);
        Rgb([
            (p[0] as f32 * factor) as u8,
            (p[1] as f32 * factor) as u8,
            (p[2] as f32 * factor) as u8,
        ])
    })
}

/// `img` taken in a dark room: a 128th of the light, and the sensor's noise.
fn in_the_dark(img: &RgbImage) -> RgbImage {
    let mut dark = img.clone();
    for (i, c) in dark.pixels_mut().flat_map(|p| p.0.iter_mut()).enumerate() {
        let noise = ((i as u64).wrapping_mul(2_654_435_761) >> 11) % 7;
        *c = (*c / 128 + noise as u8).saturating_sub(4);
    }
    dark
}

fn english(key: &str) -> String {
    Catalog::builtin().text(Lang::En, key, &[])
}

async fn send_file(desk: &Helpdesk, customer: &str, kind: &str, path: &Path) -> anyhow::Result<Value> {
    let mut body = json!({"type": kind});
    body[kind] = json!({"path": path.display().to_string()});
    if kind == "document" {
        body[kind]["filename"] = json!(path.file_name().unwrap().to_string_lossy());
    }
    desk.customer_sends(customer, body).await
}

/// The customer's ticket with its media, once `wamid` is attached.
async fn attachment(desk: &Helpdesk, token: &str, customer: &str, wamid: &str) -> anyhow::Result<(Value, Value)> {
    let user_id = desk.user_id_of(customer).await?;
    eventually("the attachment on the ticket", || async {
        for status in ["bot", "queued"] {
            let (_, list) = desk
                .api("GET", Some(token), &format!("/api/tickets?status={status}"), None)
                .await?;
            for t in list["tickets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| t["customer"] == customer || t["customer"] == user_id)
            {
                let (_, detail) = desk
                    .api(
                        "GET",
                        Some(token),
                        &format!("/api/tickets/{}", t["id"].as_str().unwrap()),
                        None,
                    )
                    .await?;
                if let Some(item) = detail["media"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|m| m["wamid"] == wamid)
                {
                    return Ok(Some((detail.clone(), item.clone())));
                }
            }
        }
        Ok(None)
    })
    .await
}

#[tokio::test]
async fn a_dark_photo_is_stored_encrypted_the_customer_is_asked_for_a_better_one_and_the_same_photo_from_another_customer_is_flagged()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let dir = workdir("dark");
    let dark = darken(&photo(1), 0.25);
    let first_path = dir.join("dark.jpg");
    save_jpeg(&dark, &first_path, 90);
    let token = desk.token("ana", "support").await?;

    // The first customer sends a dark photo.
    desk.customer_says("15551239001", "hi").await?;
    desk.inbox_of_at_least("15551239001", 1).await?;
    let sent = send_file(&desk, "15551239001", "image", &first_path).await?;
    let wamid = sent["wamid"].as_str().unwrap().to_owned();

    let inbox = desk.inbox_of_at_least("15551239001", 2).await?;
    assert_eq!(text_of(&inbox[1]), english("photo-too-dark"));
    let (first_ticket, item) = attachment(&desk, &token, "15551239001", &wamid).await?;
    assert_eq!(item["quality"]["problems"], json!(["too_dark"]));
    let first_phash = item["phash"].clone();
    assert!(
        item["s3_key"]
            .as_str()
            .unwrap()
            .starts_with(&format!("media/{}/", first_ticket["ticket"]["id"].as_str().unwrap()))
    );
    assert_eq!(item["sha256"], hex::encode(Sha256::digest(std::fs::read(&first_path)?)));
    assert!(
        item["partial"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("moderation")),
        "{item}"
    );

    // The agent opens it through a short-lived link; another team cannot.
    let id = first_ticket["ticket"]["id"].as_str().unwrap();
    let (status, link) = desk
        .api("GET", Some(&token), &format!("/api/tickets/{id}/media/{wamid}"), None)
        .await?;
    assert_eq!(status, 200, "{link}");
    assert!(link["expires_in"].as_u64().unwrap() <= 300);
    let bytes = desk
        .http
        .get(link["url"].as_str().unwrap())
        .send()
        .await?
        .bytes()
        .await?;
    assert_eq!(bytes.as_ref(), std::fs::read(&first_path)?.as_slice());
    let billing = desk.token("bob", "billing").await?;
    let (status, _) = desk
        .api("GET", Some(&billing), &format!("/api/tickets/{id}/media/{wamid}"), None)
        .await?;
    assert_eq!(status, 403);

    // A second customer sends the same photo, resized and recompressed.
    let copy_path = dir.join("copy.jpg");
    save_jpeg(
        &image::imageops::resize(&dark, 800, 600, image::imageops::FilterType::Triangle),
        &copy_path,
        60,
    );
    desk.customer_says("15551239002", "hi").await?;
    desk.inbox_of_at_least("15551239002", 1).await?;
    let sent = send_file(&desk, "15551239002", "image", &copy_path).await?;
    let second = sent["wamid"].as_str().unwrap().to_owned();
    let (_, item) = attachment(&desk, &token, "15551239002", &second).await?;
    let duplicate = &item["duplicates"][0];
    assert_eq!(
        duplicate["ticket_id"], first_ticket["ticket"]["id"],
        "first {first_phash}, then {}",
        item["phash"]
    );
    assert_eq!(duplicate["other_customer"], true);
    assert!(item["signals"].to_string().contains("another customer"));
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn two_customers_different_dark_photos_are_not_linked_and_each_is_asked_for_a_better_one() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let dir = workdir("very-dark");
    let token = desk.token("ana", "support").await?;

    // Two customers, one after the other, each send a photo taken in the dark (different scenes). Their hashes are
    // the same: fingerprinted, the second was "same photo as another customer's image" on the first one's ticket.
    let mut items = Vec::new();
    for (customer, scene) in [("15551239006", 1), ("15551239007", 2)] {
        let path = dir.join(format!("dark-{scene}.jpg"));
        save_jpeg(&in_the_dark(&photo(scene)), &path, 90);
        desk.customer_says(customer, "hi").await?;
        desk.inbox_of_at_least(customer, 1).await?;
        let sent = send_file(&desk, customer, "image", &path).await?;
        let inbox = desk.inbox_of_at_least(customer, 2).await?;
        assert_eq!(text_of(&inbox[1]), english("photo-too-dark"), "{customer}");
        let (_, item) = attachment(&desk, &token, customer, sent["wamid"].as_str().unwrap()).await?;
        items.push(item);
    }

    // Neither is fingerprinted, so the second is not linked to the first; agents see why.
    for item in &items {
        assert_eq!(item["quality"]["problems"], json!(["too_dark"]), "{item}");
        assert_eq!(item["phash"], Value::Null, "{item}");
        assert_eq!(item["duplicates"], json!([]), "{item}");
        assert!(!item["signals"].to_string().contains("same photo"), "{item}");
        assert!(
            item["partial"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == "fingerprint skipped: very dark image"),
            "{item}"
        );
    }
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_good_photo_a_pdf_and_a_voice_note_are_stored_and_acknowledged() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let dir = workdir("good");
    let customer = "15551239003";
    let token = desk.token("ana", "support").await?;
    desk.customer_says(customer, "hi").await?;
    desk.inbox_of_at_least(customer, 1).await?;

    let good = dir.join("good.jpg");
    save_jpeg(&photo(7), &good, 92);
    let pdf = dir.join("invoice.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    )?;
    let voice = dir.join("voice.ogg");
    let mut ogg = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead\x01\x01".to_vec();
    ogg.extend(std::iter::repeat_n(0u8, 2000));
    std::fs::write(&voice, &ogg)?;

    for (n, (kind, path)) in [("image", &good), ("document", &pdf), ("audio", &voice)]
        .into_iter()
        .enumerate()
    {
        let sent = send_file(&desk, customer, kind, path).await?;
        let wamid = sent["wamid"].as_str().unwrap().to_owned();
        let inbox = desk.inbox_of_at_least(customer, n + 2).await?;
        assert_eq!(text_of(&inbox[n + 1]), english("received-media"), "{kind}");
        let (_, item) = attachment(&desk, &token, customer, &wamid).await?;
        assert_eq!(item["refused"], Value::Null, "{kind}: {item}");
        assert_eq!(item["size"], std::fs::metadata(path)?.len());
        if kind == "image" {
            assert_eq!(item["quality"]["problems"], json!([]), "{item}");
            assert_eq!(item["phash"].as_str().unwrap().len(), 16);
        }
    }
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_executable_named_pdf_and_a_file_over_its_limit_are_refused_and_the_customer_is_told_why()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let dir = workdir("bad");
    let customer = "15551239004";
    let token = desk.token("ana", "support").await?;
    desk.customer_says(customer, "hi").await?;
    desk.inbox_of_at_least(customer, 1).await?;

    let exe = dir.join("invoice.pdf");
    let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    bytes.extend(std::iter::repeat_n(0u8, 4096));
    std::fs::write(&exe, &bytes)?;
    let sent = send_file(&desk, customer, "document", &exe).await?;
    let inbox = desk.inbox_of_at_least(customer, 2).await?;
    assert_eq!(text_of(&inbox[1]), english("media-dangerous"));
    let (_, item) = attachment(&desk, &token, customer, sent["wamid"].as_str().unwrap()).await?;
    assert!(item["refused"].as_str().unwrap().contains("dangerous"), "{item}");
    assert_eq!(item["s3_key"], Value::Null);

    let big = dir.join("huge.jpg");
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend(std::iter::repeat_n(0x55u8, 6 * 1024 * 1024));
    std::fs::write(&big, &jpeg)?;
    let sent = send_file(&desk, customer, "image", &big).await?;
    let inbox = desk.inbox_of_at_least(customer, 3).await?;
    assert!(
        text_of(&inbox[2]).starts_with("This file is too large"),
        "{}",
        text_of(&inbox[2])
    );
    assert!(text_of(&inbox[2]).contains("5 MB"));
    let (_, item) = attachment(&desk, &token, customer, sent["wamid"].as_str().unwrap()).await?;
    assert!(item["refused"].as_str().unwrap().contains("exceeds"), "{item}");
    desk.stop().await;
    Ok(())
}

/// `jpeg` with an EXIF segment holding `fields`, right after the start-of-image marker.
fn with_exif(jpeg: &[u8], fields: &[exif::Field]) -> Vec<u8> {
    let mut writer = exif::experimental::Writer::new();
    fields.iter().for_each(|field| writer.push_field(field));
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(tiff);
    out.extend(&jpeg[2..]);
    out
}

fn ascii(tag: exif::Tag, text: &str) -> exif::Field {
    exif::Field {
        tag,
        ifd_num: exif::In::PRIMARY,
        value: exif::Value::Ascii(vec![text.as_bytes().to_vec()]),
    }
}

#[tokio::test]
async fn a_blurred_photo_and_a_tiny_one_get_specific_requests_and_an_edited_one_is_flagged_not_refused()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let dir = workdir("quality");
    let customer = "15551239005";
    let token = desk.token("ana", "support").await?;
    desk.customer_says(customer, "hi").await?;
    desk.inbox_of_at_least(customer, 1).await?;

    let blurred = dir.join("blurred.jpg");
    save_jpeg(&image::imageops::blur(&photo(3), 6.0), &blurred, 90);
    let tiny = dir.join("tiny.jpg");
    save_jpeg(
        &image::imageops::resize(&photo(4), 200, 150, image::imageops::FilterType::Triangle),
        &tiny,
        90,
    );
    let edited = dir.join("edited.jpg");
    let plain = dir.join("plain.jpg");
    save_jpeg(&photo(5), &plain, 92);
    let fields = [
        ascii(exif::Tag::Software, "Adobe Photoshop 25.0"),
        ascii(exif::Tag::Make, "Canon"),
        ascii(exif::Tag::Model, "Canon EOS 90D"),
        ascii(exif::Tag::DateTimeOriginal, "2019:03:02 10:00:00"),
    ];
    std::fs::write(&edited, with_exif(&std::fs::read(&plain)?, &fields))?;

    let expected = [
        (&blurred, "photo-blurred"),
        (&tiny, "photo-too-small"),
        (&edited, "received-media"),
    ];
    for (n, (path, key)) in expected.into_iter().enumerate() {
        let sent = send_file(&desk, customer, "image", path).await?;
        let inbox = desk.inbox_of_at_least(customer, n + 2).await?;
        assert_eq!(text_of(&inbox[n + 1]), english(key), "{}", path.display());
        let (_, item) = attachment(&desk, &token, customer, sent["wamid"].as_str().unwrap()).await?;
        assert_eq!(item["refused"], Value::Null);
        if key == "received-media" {
            assert_eq!(item["exif"]["edited"], true, "{item}");
            assert_eq!(item["exif"]["camera"], "Canon EOS 90D");
            let signals = item["signals"].to_string();
            assert!(
                signals.contains("Photoshop") && signals.contains("taken long before"),
                "{signals}"
            );
        }
    }
    desk.stop().await;
    Ok(())
}
