//! The clock the functions read time through: the system clock plus an offset
//! that only the local runner ever moves, so SLA deadlines can fall due in a
//! test or a demo without waiting for them.

use crate::ports::{Clock, SystemClock};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const MS_PER_MINUTE: i64 = 60_000;

/// The system clock shifted by an offset that every clone shares: moving one
/// clone moves them all. On Lambda it is [`SharedClock::system`] and nothing
/// moves it; the local runner gives all functions of one stack clones of the
/// same clock, and each stack its own, so stacks in one process do not drift
/// together.
#[derive(Debug, Clone, Default)]
pub struct SharedClock {
    offset_ms: Arc<AtomicI64>,
}

impl SharedClock {
    /// The system clock, not shifted.
    pub fn system() -> SharedClock {
        SharedClock::default()
    }

    /// Moves the clock (and every clone of it) `ms` milliseconds forward, or
    /// back when negative; answers the new offset.
    pub fn advance(&self, ms: i64) -> i64 {
        let previous = self
            .offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                Some(offset.saturating_add(ms))
            })
            .unwrap_or_else(|unchanged| unchanged);
        previous.saturating_add(ms)
    }

    /// Moves the clock `minutes` forward; answers the new offset in milliseconds.
    pub fn advance_minutes(&self, minutes: i64) -> i64 {
        self.advance(minutes.saturating_mul(MS_PER_MINUTE))
    }

    /// How far ahead of the system clock this clock is, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }
}

impl Clock for SharedClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms().saturating_add(self.offset_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_not_shifted() {
        let clock = SharedClock::system();

        let before = SystemClock.now_ms();
        let now = clock.now_ms();
        let after = SystemClock.now_ms();

        assert_eq!(clock.offset_ms(), 0);
        assert!((before..=after).contains(&now));
    }

    #[test]
    fn advancing_one_clone_moves_every_clone() {
        let clock = SharedClock::system();
        let seen_by_a_function = clock.clone();

        let offset = clock.advance_minutes(90);

        assert_eq!(offset, 90 * 60_000);
        assert_eq!(seen_by_a_function.offset_ms(), 90 * 60_000);
        let ahead = seen_by_a_function.now_ms() - SystemClock.now_ms();
        assert!((90 * 60_000 - 1_000..=90 * 60_000).contains(&ahead), "{ahead}");
    }

    #[test]
    fn advances_add_up_and_now_follows_the_offset() {
        let clock = SharedClock::system();

        clock.advance(1_500);
        clock.advance_minutes(2);
        let offset = clock.advance(-500);

        assert_eq!(offset, 121_000);
        assert_eq!(clock.offset_ms(), 121_000);
        let shifted = clock.now().as_millisecond() - SystemClock.now_ms();
        assert!((121_000 - 1_000..=121_000).contains(&shifted), "{shifted}");
    }

    #[test]
    fn separate_clocks_do_not_move_each_other() {
        let one_stack = SharedClock::system();
        let another_stack = SharedClock::system();

        one_stack.advance_minutes(60);

        assert_eq!(another_stack.offset_ms(), 0);
    }

    #[test]
    fn a_huge_advance_saturates_instead_of_wrapping() {
        let clock = SharedClock::system();

        clock.advance(i64::MAX);
        let offset = clock.advance_minutes(i64::MAX);

        assert_eq!(offset, i64::MAX);
        assert_eq!(clock.now_ms(), i64::MAX);
    }
}
