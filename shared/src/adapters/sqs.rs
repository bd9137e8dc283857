//! A FIFO SQS queue behind the [`Queue`] port.

use crate::ports::{Queue, QueueError, QueueMessage};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::marker::PhantomData;

/// SQS `SendMessageBatch` takes at most 10 entries and 256 KiB in all.
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;

/// One FIFO queue carrying items of type `T`.
pub struct SqsQueue<T> {
    client: aws_sdk_sqs::Client,
    url: String,
    _items: PhantomData<fn(T)>,
}

impl<T> SqsQueue<T> {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
            _items: PhantomData,
        }
    }
}

impl<T: QueueMessage + Sync> Queue<T> for SqsQueue<T> {
    async fn send(&self, items: &[T]) -> Result<(), QueueError> {
        let mut batch: Vec<SendMessageBatchRequestEntry> = Vec::new();
        let mut batch_bytes = 0;
        for (index, item) in items.iter().enumerate() {
            let body = serde_json::to_string(item).map_err(|e| QueueError::Backend(Box::new(e)))?;
            if body.len() > BATCH_BYTES {
                return Err(QueueError::TooLarge { size: body.len() });
            }
            if batch.len() == BATCH_ENTRIES || batch_bytes + body.len() > BATCH_BYTES {
                self.flush(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
            batch_bytes += body.len();
            let entry = SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(body)
                .message_group_id(item.group_key())
                .message_deduplication_id(item.dedupe_key())
                .build()
                .map_err(|e| QueueError::Backend(Box::new(e)))?;
            batch.push(entry);
        }
        if !batch.is_empty() {
            self.flush(batch).await?;
        }
        Ok(())
    }
}

impl<T> SqsQueue<T> {
    /// Sends one batch. Batches go out one after another, so order within a
    /// message group is kept.
    async fn flush(&self, entries: Vec<SendMessageBatchRequestEntry>) -> Result<(), QueueError> {
        let total = entries.len();
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| QueueError::Backend(Box::new(e)))?;
        match out.failed().len() {
            0 => Ok(()),
            failed => Err(QueueError::Partial { failed, total }),
        }
    }
}
