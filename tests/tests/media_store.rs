//! The S3 media store against moto (the real wire protocol), on the bucket
//! created from template.yaml: single puts, streamed multipart uploads,
//! aborts, presigned GETs and SSE-KMS.

use aws_sdk_s3::types::ServerSideEncryption;
use helpdesk::adapters::s3::{MAX_PRESIGN_TTL, PART_SIZE, S3Error, S3MediaStore, s3_client};
use helpdesk_tests::LocalAws;
use sha2::{Digest, Sha256};
use std::time::Duration;

async fn store(aws: &LocalAws) -> (S3MediaStore, aws_sdk_s3::Client) {
    let client = s3_client(&aws.sdk().await);
    let store =
        S3MediaStore::new(client.clone(), aws.output("MediaBucketName")).with_kms_key(aws.output("HelpdeskKeyArn"));
    (store, client)
}

/// Deterministic bytes that are not one repeated pattern per part.
fn content(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

#[tokio::test]
async fn a_small_file_is_stored_with_one_put_and_read_back() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (store, client) = store(&aws).await;
    let key = "media/TK-AAAAAAAAAAAA/wamid.small.jpg";
    let bytes = content(300 * 1024);

    let mut upload = store.begin_upload(key, "image/jpeg").await?;
    for chunk in bytes.chunks(100_000) {
        upload.write(chunk).await?;
    }
    let stored = upload.finish().await?;

    assert_eq!(stored.key, key);
    assert_eq!(stored.size, bytes.len() as u64);
    assert_eq!(store.get(key).await?, bytes);
    let head = client.head_object().bucket(store.bucket()).key(key).send().await?;
    assert_eq!(head.content_type(), Some("image/jpeg"));
    let etag = head.e_tag().unwrap_or_default();
    assert!(!etag.contains('-'), "a single put has a plain ETag, got {etag}");
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_large_file_streamed_in_small_chunks_is_stored_as_multipart_intact() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (store, client) = store(&aws).await;
    let key = "media/TK-AAAAAAAAAAAA/wamid.large.pdf";
    let bytes = content(20 * 1024 * 1024);

    let mut upload = store.begin_upload(key, "application/pdf").await?;
    for chunk in bytes.chunks(64 * 1024) {
        upload.write(chunk).await?;
    }
    assert_eq!(upload.size(), bytes.len() as u64);
    let stored = upload.finish().await?;
    assert_eq!(stored.size, 20 * 1024 * 1024);

    let head = client.head_object().bucket(store.bucket()).key(key).send().await?;
    let parts = (bytes.len()).div_ceil(PART_SIZE);
    let etag = head.e_tag().unwrap_or_default().trim_matches('"').to_owned();
    assert!(
        etag.ends_with(&format!("-{parts}")),
        "a {parts}-part upload, got ETag {etag}"
    );
    assert_eq!(head.content_length(), Some(bytes.len() as i64));
    assert_eq!(head.content_type(), Some("application/pdf"));
    assert_eq!(head.server_side_encryption(), Some(&ServerSideEncryption::AwsKms));

    let read = store.get(key).await?;
    assert_eq!(read.len(), bytes.len());
    assert_eq!(hex::encode(Sha256::digest(&read)), hex::encode(Sha256::digest(&bytes)));
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_aborted_upload_leaves_no_object_and_no_pending_parts() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (store, client) = store(&aws).await;
    let key = "media/TK-AAAAAAAAAAAA/wamid.aborted.mp4";

    let mut upload = store.begin_upload(key, "video/mp4").await?;
    // More than one part, so a multipart upload is under way.
    upload.write(&content(PART_SIZE + 1024)).await?;
    let pending = client.list_multipart_uploads().bucket(store.bucket()).send().await?;
    assert_eq!(pending.uploads().len(), 1);
    upload.abort().await;

    let pending = client.list_multipart_uploads().bucket(store.bucket()).send().await?;
    assert!(pending.uploads().is_empty(), "the multipart upload was aborted");
    assert!(matches!(store.get(key).await, Err(S3Error::NotFound { .. })));

    // Below one part nothing was sent: aborting is a no-op and stores nothing.
    let small_key = "media/TK-AAAAAAAAAAAA/wamid.aborted-small.jpg";
    let mut small = store.begin_upload(small_key, "image/jpeg").await?;
    small.write(b"not a whole part").await?;
    small.abort().await;
    assert!(matches!(store.get(small_key).await, Err(S3Error::NotFound { .. })));
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_presigned_url_downloads_the_object_and_lives_at_most_five_minutes() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (store, _) = store(&aws).await;
    let key = "media/TK-AAAAAAAAAAAA/wamid.presigned.png";
    let bytes = content(50_000);
    let mut upload = store.begin_upload(key, "image/png").await?;
    upload.write(&bytes).await?;
    upload.finish().await?;

    let url = store.presign_get(key, Duration::from_secs(3600)).await?;
    let expires = format!("X-Amz-Expires={}", MAX_PRESIGN_TTL.as_secs());
    assert!(url.contains(&expires), "clamped to five minutes: {url}");
    let answer = reqwest::get(&url).await?.error_for_status()?;
    assert_eq!(answer.bytes().await?.as_ref(), bytes.as_slice());

    let short = store.presign_get(key, Duration::from_secs(30)).await?;
    assert!(short.contains("X-Amz-Expires=30"), "{short}");
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_file_put_to_a_presigned_upload_link_is_stored_with_its_type_and_read_back() -> anyhow::Result<()> {
    use helpdesk::ports::MediaLinks;
    let aws = LocalAws::start().await?;
    let (store, _) = store(&aws).await;
    let key = "media/TK-AAAAAAAAAAAA/out/0123456789abcdef0123/invoice.pdf";
    let bytes = b"%PDF-1.7 an agent's invoice".to_vec();

    let upload = store
        .presign_put(key, "application/pdf", Duration::from_secs(3600))
        .await
        .map_err(anyhow::Error::from_boxed)?;
    assert!(
        upload
            .url
            .contains(&format!("X-Amz-Expires={}", MAX_PRESIGN_TTL.as_secs())),
        "{upload:?}"
    );
    // The browser sends what the link names: the type and the encryption.
    let mut put = reqwest::Client::new().put(&upload.url);
    for (name, value) in &upload.headers {
        put = put.header(name, value);
    }
    put.body(bytes.clone()).send().await?.error_for_status()?;

    let head = store
        .read_head(key, 8)
        .await
        .map_err(anyhow::Error::from_boxed)?
        .expect("stored");
    assert_eq!(
        (head.size, head.content_type.as_deref(), head.head.as_slice()),
        (bytes.len() as u64, Some("application/pdf"), &bytes[..8])
    );
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn objects_are_encrypted_with_sse_kms_under_the_project_key() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (store, client) = store(&aws).await;
    let key = "media/TK-AAAAAAAAAAAA/wamid.encrypted.ogg";
    let mut upload = store.begin_upload(key, "audio/ogg").await?;
    upload.write(&content(10_000)).await?;
    upload.finish().await?;

    let head = client.head_object().bucket(store.bucket()).key(key).send().await?;
    assert_eq!(head.server_side_encryption(), Some(&ServerSideEncryption::AwsKms));
    assert_eq!(head.ssekms_key_id(), Some(aws.output("HelpdeskKeyArn").as_str()));
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_missing_object_and_a_bad_key_are_told_apart() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let (store, _) = store(&aws).await;
    assert!(matches!(
        store.get("media/TK-AAAAAAAAAAAA/nothing.jpg").await,
        Err(S3Error::NotFound { .. })
    ));
    assert!(matches!(
        store.begin_upload("", "image/jpeg").await,
        Err(S3Error::InvalidKey)
    ));
    aws.stop().await;
    Ok(())
}
