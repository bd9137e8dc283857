//! In-memory ports for unit tests of handlers and domain logic. Integration
//! tests use the real services (moto) instead.

use crate::ports::{Queue, QueueError, QueueMessage};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A queue that keeps what it was sent, and can be told to fail.
pub struct MemoryQueue<T> {
    items: Mutex<Vec<T>>,
    failures_left: AtomicUsize,
}

impl<T> Default for MemoryQueue<T> {
    fn default() -> Self {
        MemoryQueue {
            items: Mutex::new(Vec::new()),
            failures_left: AtomicUsize::new(0),
        }
    }
}

impl<T: Clone> MemoryQueue<T> {
    /// The next `n` sends fail as an unreachable queue would.
    pub fn fail_next(&self, n: usize) {
        self.failures_left.store(n, Ordering::SeqCst);
    }

    pub fn sent(&self) -> Vec<T> {
        self.items.lock().expect("not poisoned").clone()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the in-memory queue was told to fail")]
struct InjectedFailure;

impl<T: QueueMessage + Clone + Send + Sync> Queue<T> for MemoryQueue<T> {
    async fn send(&self, items: &[T]) -> Result<(), QueueError> {
        let should_fail = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if should_fail {
            return Err(QueueError::Backend(Box::new(InjectedFailure)));
        }
        self.items.lock().expect("not poisoned").extend(items.iter().cloned());
        Ok(())
    }
}
