//! Attempts are limited per key (an email, a client address): after `limit` attempts within a
//! minute of the first, the key is refused until that minute has passed. An attempt is counted
//! *before* the work it guards (hashing a password), so a burst of concurrent requests cannot
//! all pass the check before any of them is counted; a sign-in that succeeds takes its attempt
//! back, so failures are what locks a key out. Counting outcomes rather than requests is what
//! the spec asks, which request limiters such as tower_governor do not do; moka gives the
//! bounded, expiring map (an attacker spraying emails cannot grow it without bound).
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use moka::Expiry;

const WINDOW: Duration = Duration::from_secs(60);
const MAX_KEYS: u64 = 100_000;

#[derive(Clone)]
pub struct AttemptWindow {
    limit: u32,
    attempts: Cache<String, Arc<AtomicU32>>,
}

/// A key's window starts at its first attempt and is not extended by later ones.
struct FromFirstAttempt;

impl Expiry<String, Arc<AtomicU32>> for FromFirstAttempt {
    fn expire_after_create(&self, _key: &String, _value: &Arc<AtomicU32>, _created_at: Instant) -> Option<Duration> {
        Some(WINDOW)
    }
}

impl AttemptWindow {
    pub fn new(limit: u32) -> Self {
        Self { limit, attempts: Cache::builder().max_capacity(MAX_KEYS).expire_after(FromFirstAttempt).build() }
    }

    /// Counts an attempt for `key`, or returns `None` when the key is at its limit. Dropping the
    /// returned [`Attempt`] takes the attempt back unless it was marked as a failure.
    pub fn begin(&self, key: &str) -> Option<Attempt> {
        let count = self.attempts.get_with(key.to_string(), || Arc::new(AtomicU32::new(0)));
        count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.limit).then_some(n + 1)).ok()?;
        Some(Attempt { count: Some(count) })
    }

    /// Counts an attempt that stays counted whatever its outcome (a sign-up).
    pub fn take(&self, key: &str) -> bool {
        self.begin(key).map(Attempt::failed).is_some()
    }
}

/// An attempt counted against a key's limit.
#[must_use = "dropping an attempt takes it back"]
pub struct Attempt {
    count: Option<Arc<AtomicU32>>,
}

impl Attempt {
    /// Keeps the attempt counted.
    pub fn failed(mut self) {
        self.count = None;
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if let Some(count) = self.count.take() {
            let _ = count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_after_its_limit_of_failures_and_others_are_not() {
        let window = AttemptWindow::new(3);
        for _ in 0..3 {
            window.begin("a").expect("under the limit").failed();
        }
        assert!(window.begin("a").is_none());
        assert!(window.begin("b").is_some());
    }

    #[test]
    fn an_attempt_that_did_not_fail_is_taken_back() {
        let window = AttemptWindow::new(2);
        for _ in 0..5 {
            let attempt = window.begin("a").expect("successes do not use up the limit");
            drop(attempt);
        }
        assert!(window.take("a") && window.take("a"));
        assert!(!window.take("a"));
    }

    #[test]
    fn attempts_in_flight_count_before_their_outcome() {
        let window = AttemptWindow::new(2);
        let (first, second) = (window.begin("a"), window.begin("a"));
        assert!(first.is_some() && second.is_some());
        assert!(window.begin("a").is_none(), "two in flight use up the limit");
    }
}
