//! Attempts are limited per key (an email, a client address): after `limit` attempts within a
//! minute of the first, the key is refused until that minute has passed. An attempt is counted
//! *before* the work it guards (hashing a password), so a burst of concurrent requests cannot
//! all pass the check before any of them is counted. It stays counted unless the handler
//! forgives it (a sign-in that succeeded, a hash refused as busy): a client that hangs up while
//! its hash runs has still made its attempt. Counting outcomes rather than requests is what
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

    /// Counts an attempt for `key`, or returns `None` when the key is at its limit.
    pub fn begin(&self, key: &str) -> Option<Attempt> {
        let count = self.attempts.get_with(key.to_string(), || Arc::new(AtomicU32::new(0)));
        count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.limit).then_some(n + 1)).ok()?;
        Some(Attempt(count))
    }
}

/// An attempt counted against a key's limit; it stays counted unless forgiven.
pub struct Attempt(Arc<AtomicU32>);

impl Attempt {
    /// Takes the attempt back: it did not fail, or was never tried.
    pub fn forgive(self) {
        let _ = self.0.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_after_its_limit_and_others_are_not() {
        let window = AttemptWindow::new(3);
        for _ in 0..3 {
            assert!(window.begin("a").is_some(), "under the limit");
        }
        assert!(window.begin("a").is_none());
        assert!(window.begin("b").is_some());
    }

    #[test]
    fn a_forgiven_attempt_is_taken_back() {
        let window = AttemptWindow::new(2);
        for _ in 0..5 {
            window.begin("a").expect("forgiven attempts do not use up the limit").forgive();
        }
        let (first, second) = (window.begin("a"), window.begin("a"));
        assert!(first.is_some() && second.is_some());
        assert!(window.begin("a").is_none(), "two attempts in flight use up the limit");
    }
}
