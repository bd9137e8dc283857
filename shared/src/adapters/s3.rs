//! Media storage in S3: customers' files under `media/<ticket>/<wamid>.<ext>`,
//! written as a stream (memory bounded by one 8 MiB part whatever the file
//! size), encrypted with SSE-KMS, read back whole for analysis, and shared
//! with agents through short-lived presigned GET URLs.

use crate::ports::{ObjectHead, PresignedUpload};
use aws_config::SdkConfig;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use std::time::Duration;

/// Size of each multipart part. S3 takes parts of 5 MiB at least (except the
/// last); 8 MiB keeps a 100 MB document under 13 parts.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// The longest validity of a presigned URL handed to agents.
pub const MAX_PRESIGN_TTL: Duration = Duration::from_secs(5 * 60);

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An S3 client for `sdk`. With a custom endpoint (moto on localhost) S3 is
/// addressed path-style, since `<bucket>.127.0.0.1` does not resolve; against
/// AWS itself the SDK's default (virtual-hosted style) is kept.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::from(sdk);
    if sdk.endpoint_url().is_some() {
        config = config.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// A failure of the media store. Never carries object contents; keys name a
/// ticket and a WhatsApp message id only.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The key is empty or does not fit S3's 1024-byte limit.
    #[error("invalid object key")]
    InvalidKey,
    #[error("no object at {key}")]
    NotFound { key: String },
    /// S3 answered an error, or could not be reached. `transient` says whether
    /// trying again later may succeed (throttling, 5xx, timeouts, network).
    #[error("S3 {operation} failed ({code})")]
    Service {
        operation: &'static str,
        code: String,
        transient: bool,
        #[source]
        source: BoxError,
    },
    /// The object's body could not be read to the end.
    #[error("reading the body of {key} failed")]
    Body {
        key: String,
        #[source]
        source: BoxError,
    },
    #[error("presigning a URL failed")]
    Presign(#[source] BoxError),
}

impl S3Error {
    /// Whether the job should be retried rather than given up.
    pub fn is_transient(&self) -> bool {
        match self {
            S3Error::Service { transient, .. } => *transient,
            S3Error::Body { .. } => true,
            S3Error::InvalidKey | S3Error::NotFound { .. } | S3Error::Presign(_) => false,
        }
    }

    fn service<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> S3Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let transient = is_transient(&err);
        let code = match &err {
            SdkError::ServiceError(ctx) => ctx.err().code().unwrap_or("unknown error").to_owned(),
            SdkError::TimeoutError(_) => "timeout".to_owned(),
            SdkError::DispatchFailure(_) => "dispatch failure".to_owned(),
            SdkError::ResponseError(_) => "unreadable response".to_owned(),
            _ => "request not sent".to_owned(),
        };
        S3Error::Service {
            operation,
            code,
            transient,
            source: Box::new(err),
        }
    }
}

fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            status >= 500
                || status == 429
                || matches!(
                    ctx.err().code(),
                    Some("SlowDown" | "Throttling" | "ThrottlingException" | "RequestTimeout")
                )
        }
        _ => false,
    }
}

fn check_key(key: &str) -> Result<(), S3Error> {
    if key.is_empty() || key.len() > 1024 {
        return Err(S3Error::InvalidKey);
    }
    Ok(())
}

pub use crate::ports::StoredObject;

/// The media bucket. Every object is written with SSE-KMS.
#[derive(Debug, Clone)]
pub struct S3MediaStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    kms_key: Option<String>,
}

impl S3MediaStore {
    /// The store over `bucket`. Build `client` with [`s3_client`].
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3MediaStore {
            client,
            bucket: bucket.into(),
            kms_key: None,
        }
    }

    /// Names the KMS key of every upload (the bucket's own key, `MEDIA_KMS_KEY_ARN`).
    /// Without it uploads still ask for `aws:kms`, and S3 then uses its AWS managed
    /// key (`aws/s3`) rather than the bucket's default key: deployed functions name it.
    pub fn with_kms_key(mut self, key: impl Into<String>) -> Self {
        self.kms_key = Some(key.into());
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Starts a streaming upload to `key`. Nothing is sent until a whole part
    /// (8 MiB) is buffered: a smaller file becomes a single `PutObject` on
    /// [`Upload::finish`], a larger one a multipart upload with SSE-KMS and
    /// CRC32 part checksums.
    pub async fn begin_upload(&self, key: &str, content_type: &str) -> Result<Upload, S3Error> {
        check_key(key)?;
        Ok(Upload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            content_type: content_type.to_owned(),
            kms_key: self.kms_key.clone(),
            upload_id: None,
            parts: Vec::new(),
            buffer: Vec::new(),
            size: 0,
        })
    }

    /// The whole object, in memory: meant for small objects (images sent for analysis).
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, S3Error> {
        check_key(key)?;
        let answer = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|err| match err.as_service_error() {
                Some(e) if e.is_no_such_key() => S3Error::NotFound { key: key.to_owned() },
                _ => S3Error::service("GetObject", err),
            })?;
        let body = answer.body.collect().await.map_err(|e| S3Error::Body {
            key: key.to_owned(),
            source: Box::new(e),
        })?;
        Ok(body.into_bytes().to_vec())
    }

    /// A presigned GET URL for agents, valid for `ttl`, clamped to between one
    /// second and [`MAX_PRESIGN_TTL`]. Signed with the caller's credentials: it
    /// works only while they allow `s3:GetObject` (and `kms:Decrypt` on the key).
    pub async fn presign_get(&self, key: &str, ttl: Duration) -> Result<String, S3Error> {
        check_key(key)?;
        let config = presigning(ttl)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| S3Error::Presign(Box::new(e)))?;
        Ok(request.uri().to_owned())
    }
}

/// A presigned request's lifetime: `ttl` clamped to between one second and
/// [`MAX_PRESIGN_TTL`].
fn presigning(ttl: Duration) -> Result<PresigningConfig, S3Error> {
    let ttl = ttl.clamp(Duration::from_secs(1), MAX_PRESIGN_TTL);
    PresigningConfig::expires_in(ttl).map_err(|e| S3Error::Presign(Box::new(e)))
}

/// One object being written. Holds at most one part in memory.
///
/// After a failed [`Upload::write`] call [`Upload::abort`]; an upload dropped
/// without `finish` or `abort` leaves its parts to the bucket's lifecycle rule
/// (incomplete multipart uploads are removed after a day).
pub struct Upload {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    content_type: String,
    kms_key: Option<String>,
    /// Set once the first full part is sent.
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    buffer: Vec<u8>,
    size: u64,
}

// By hand: the buffer holds the customer's file and never reaches a log.
impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("content_type", &self.content_type)
            .field("multipart", &self.upload_id.is_some())
            .field("parts_sent", &self.parts.len())
            .field("buffered", &self.buffer.len())
            .field("size", &self.size)
            .finish()
    }
}

impl Upload {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Bytes accepted so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Buffers `chunk`, sending a part each time 8 MiB have accumulated.
    pub async fn write(&mut self, mut chunk: &[u8]) -> Result<(), S3Error> {
        while !chunk.is_empty() {
            if self.buffer.capacity() == 0 {
                self.buffer.reserve_exact(PART_SIZE);
            }
            let take = (PART_SIZE - self.buffer.len()).min(chunk.len());
            self.buffer.extend_from_slice(&chunk[..take]);
            self.size += take as u64;
            chunk = &chunk[take..];
            if self.buffer.len() == PART_SIZE {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    /// Stores the object: a single `PutObject` when it fits in one part, else
    /// the last part and `CompleteMultipartUpload`. A multipart upload that
    /// cannot be completed is aborted.
    pub async fn finish(mut self) -> Result<StoredObject, S3Error> {
        if self.upload_id.is_none() {
            self.put_whole().await?;
        } else {
            let completed = async {
                if !self.buffer.is_empty() {
                    self.send_part().await?;
                }
                self.complete().await
            }
            .await;
            if let Err(err) = completed {
                self.abort().await;
                return Err(err);
            }
        }
        Ok(StoredObject {
            key: self.key,
            size: self.size,
        })
    }

    /// Gives the upload up: `AbortMultipartUpload` when parts were sent.
    /// Failures are only logged; the lifecycle rule removes what is left.
    pub async fn abort(self) {
        let Some(upload_id) = self.upload_id else {
            return;
        };
        let answer = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(err) = answer {
            let err = S3Error::service("AbortMultipartUpload", err);
            tracing::warn!(error = %err, key = %self.key, "aborting a multipart upload failed");
        }
    }

    async fn put_whole(&mut self) -> Result<(), S3Error> {
        let body = ByteStream::from(std::mem::take(&mut self.buffer));
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type(&self.content_type)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .set_ssekms_key_id(self.kms_key.clone())
            .bucket_key_enabled(true)
            .body(body)
            .send()
            .await
            .map_err(|e| S3Error::service("PutObject", e))?;
        Ok(())
    }

    async fn upload_id(&mut self) -> Result<String, S3Error> {
        if let Some(id) = &self.upload_id {
            return Ok(id.clone());
        }
        let answer = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type(&self.content_type)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .set_ssekms_key_id(self.kms_key.clone())
            .bucket_key_enabled(true)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(|e| S3Error::service("CreateMultipartUpload", e))?;
        let id = answer.upload_id.ok_or_else(|| S3Error::Service {
            operation: "CreateMultipartUpload",
            code: "no upload id".to_owned(),
            transient: true,
            source: "CreateMultipartUpload answered without an UploadId".into(),
        })?;
        self.upload_id = Some(id.clone());
        Ok(id)
    }

    /// Sends the buffer as the next part; the buffer is freed before the next
    /// one fills, so memory stays bounded by one part.
    async fn send_part(&mut self) -> Result<(), S3Error> {
        let upload_id = self.upload_id().await?;
        let part_number = i32::try_from(self.parts.len() + 1).unwrap_or(i32::MAX);
        let body = ByteStream::from(std::mem::take(&mut self.buffer));
        let answer = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .part_number(part_number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(body)
            .send()
            .await
            .map_err(|e| S3Error::service("UploadPart", e))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(part_number)
                .set_e_tag(answer.e_tag)
                .set_checksum_crc32(answer.checksum_crc32)
                .build(),
        );
        Ok(())
    }

    async fn complete(&mut self) -> Result<(), S3Error> {
        let upload_id = self.upload_id().await?;
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(std::mem::take(&mut self.parts)))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| S3Error::service("CompleteMultipartUpload", e))?;
        Ok(())
    }
}

impl crate::ports::MediaStore for S3MediaStore {
    type Upload = Upload;

    async fn begin_upload(&self, key: &str, content_type: &str) -> Result<Upload, BoxError> {
        Ok(S3MediaStore::begin_upload(self, key, content_type).await?)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BoxError> {
        Ok(S3MediaStore::get(self, key).await?)
    }
}

impl crate::ports::MediaUpload for Upload {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), BoxError> {
        Ok(Upload::write(self, chunk).await?)
    }

    async fn finish(self) -> Result<StoredObject, BoxError> {
        Ok(Upload::finish(self).await?)
    }

    async fn abort(self) {
        Upload::abort(self).await
    }
}

impl crate::ports::MediaLinks for S3MediaStore {
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<String, BoxError> {
        Ok(S3MediaStore::presign_get(self, key, ttl).await?)
    }

    /// S3 answers success for a key that holds nothing: deleting twice is fine.
    async fn delete(&self, key: &str) -> Result<(), BoxError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|err| S3Error::service("DeleteObject", err))?;
        Ok(())
    }

    /// Signed for `PUT` with its `Content-Type`; the bucket's default
    /// encryption (SSE-KMS with the project key) applies to what is put.
    /// Signed with SSE-KMS under the project key, as every object here is
    /// stored (the bucket's policy refuses a `PUT` without it): the browser
    /// sends those headers with the file.
    async fn presign_put(&self, key: &str, content_type: &str, ttl: Duration) -> Result<PresignedUpload, BoxError> {
        check_key(key)?;
        let config = presigning(ttl)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .set_ssekms_key_id(self.kms_key.clone())
            .presigned(config)
            .await
            .map_err(|e| S3Error::Presign(Box::new(e)))?;
        let headers = request
            .headers()
            .filter(|(name, _)| name.eq_ignore_ascii_case("content-type") || name.starts_with("x-amz-"))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Ok(PresignedUpload {
            url: request.uri().to_owned(),
            headers,
        })
    }

    async fn read_head(&self, key: &str, max: u64) -> Result<Option<ObjectHead>, BoxError> {
        check_key(key)?;
        let answer = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{}", max.max(1) - 1))
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            // An empty object has no byte 0: S3 answers 416.
            Err(err) if err.raw_response().is_some_and(|r| r.status().as_u16() == 416) => {
                return Ok(Some(ObjectHead {
                    size: 0,
                    content_type: None,
                    head: Vec::new(),
                }));
            }
            Err(err) => return Err(Box::new(S3Error::service("GetObject", err))),
        };
        // `bytes 0-99/12345`: the whole size follows the slash.
        let size = answer
            .content_range()
            .and_then(|r| r.rsplit('/').next())
            .and_then(|total| total.parse().ok())
            .or(answer.content_length().and_then(|n| u64::try_from(n).ok()))
            .unwrap_or_default();
        let content_type = answer.content_type().map(str::to_owned);
        let body = answer.body.collect().await.map_err(|e| S3Error::Body {
            key: key.to_owned(),
            source: Box::new(e),
        })?;
        let mut head = body.into_bytes().to_vec();
        head.truncate(usize::try_from(max).unwrap_or(usize::MAX));
        Ok(Some(ObjectHead {
            size,
            content_type,
            head,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MediaLinks;
    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};

    fn store_on_aws(region: &'static str) -> S3MediaStore {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )))
            .build();
        S3MediaStore::new(s3_client(&sdk), "helpdesk-mediabucket-1x2y")
    }

    /// The console's Content-Security-Policy and the bucket's CORS rule name
    /// this origin (template.yaml: `https://${MediaBucket.RegionalDomainName}`).
    #[tokio::test]
    async fn links_on_aws_point_at_the_bucket_s_regional_virtual_hosted_origin() {
        for region in ["us-east-1", "eu-west-1"] {
            let store = store_on_aws(region);

            let get = store
                .presign_get("media/TK-1/wamid.1.jpg", MAX_PRESIGN_TTL)
                .await
                .unwrap();
            let put = store
                .presign_put("media/TK-1/out/a.pdf", "application/pdf", MAX_PRESIGN_TTL)
                .await
                .unwrap();

            let origin = format!("https://helpdesk-mediabucket-1x2y.s3.{region}.amazonaws.com/");
            assert!(get.starts_with(&origin), "{get}");
            assert!(put.url.starts_with(&origin), "{put:?}");
            // The bucket's policy refuses a PUT without SSE-KMS: the link signs it.
            let header = |name: &str| put.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            assert_eq!(header("x-amz-server-side-encryption"), Some("aws:kms"), "{put:?}");
            assert!(put.url.contains("x-amz-server-side-encryption"), "{put:?}");
        }
    }
}
