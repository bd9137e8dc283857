//! SQS behind the queue ports: a FIFO queue ([`Queue`]) and a standard queue
//! that delivers each item after a delay ([`DelayedQueue`]).

use crate::ports::{DelayedQueue, Queue, QueueError, QueueMessage};
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

/// A standard SQS queue whose items are delivered after a per-message delay
/// (`DelaySeconds`, 0 to 900; FIFO queues only delay whole queues).
pub struct SqsDelayQueue<T> {
    client: aws_sdk_sqs::Client,
    url: String,
    _items: PhantomData<fn(T)>,
}

impl<T> SqsDelayQueue<T> {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsDelayQueue {
            client,
            url: url.into(),
            _items: PhantomData,
        }
    }
}

/// SQS's longest message delay.
const MAX_DELAY_SECONDS: u64 = 900;

impl<T: serde::Serialize + Sync> DelayedQueue<T> for SqsDelayQueue<T> {
    async fn send_after(&self, item: &T, delay: std::time::Duration) -> Result<(), QueueError> {
        let body = serde_json::to_string(item).map_err(|e| QueueError::Backend(Box::new(e)))?;
        if body.len() > BATCH_BYTES {
            return Err(QueueError::TooLarge { size: body.len() });
        }
        // Whole seconds, rounded up: never earlier than asked.
        let seconds = delay.as_millis().div_ceil(1000).min(u128::from(MAX_DELAY_SECONDS)) as i32;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(seconds)
            .send()
            .await
            .map_err(|e| QueueError::Backend(Box::new(e)))?;
        Ok(())
    }
}
