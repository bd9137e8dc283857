//! A 100 MB document streams into S3 with bounded memory: the upload holds at
//! most one part (8 MiB) whatever the file's size. Alone in its test binary, so
//! the process's peak memory is this test's.

use helpdesk::adapters::s3::{S3MediaStore, s3_client};
use helpdesk_tests::LocalAws;

/// The process's peak resident memory (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in /proc/self/status")
}

#[tokio::test]
async fn a_100_megabyte_document_is_stored_with_memory_bounded_by_one_part() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let sdk = aws.sdk().await;
    let store = S3MediaStore::new(s3_client(&sdk), aws.output("MediaBucketName"));
    const SIZE: usize = 100 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let mut chunk = vec![0u8; CHUNK];
    // Warm up the client and the allocator with a small upload first.
    let mut warm = store
        .begin_upload("media/TK-MEMORY/warm.pdf", "application/pdf")
        .await?;
    warm.write(b"%PDF-1.4").await?;
    warm.finish().await?;
    let before = peak_rss_kib();

    let mut upload = store.begin_upload("media/TK-MEMORY/big.pdf", "application/pdf").await?;
    for i in 0..SIZE / CHUNK {
        chunk
            .iter_mut()
            .enumerate()
            .for_each(|(j, b)| *b = (i.wrapping_mul(31) ^ j) as u8);
        upload.write(&chunk).await?;
    }
    let stored = upload.finish().await?;

    let grown_mib = (peak_rss_kib().saturating_sub(before)) / 1024;
    assert_eq!(stored.size, SIZE as u64);
    let head = s3_client(&sdk)
        .head_object()
        .bucket(store.bucket())
        .key("media/TK-MEMORY/big.pdf")
        .send()
        .await?;
    assert_eq!(head.content_length(), Some(SIZE as i64));
    assert!(
        grown_mib < 48,
        "the process grew by {grown_mib} MiB for a 100 MiB upload"
    );
    aws.stop().await;
    Ok(())
}
