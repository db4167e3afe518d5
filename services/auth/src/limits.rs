//! Failed sign-ins are limited per email and per client address: after `limit` failures within
//! a minute of the first, the key is refused until that minute has passed. Counting failures (not
//! requests) is what the spec asks, which request limiters such as tower_governor do not do; moka
//! gives the bounded, expiring map (an attacker spraying emails cannot grow it without bound).
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use moka::Expiry;

const WINDOW: Duration = Duration::from_secs(60);
const MAX_KEYS: u64 = 100_000;

#[derive(Clone)]
pub struct FailureWindow {
    limit: u32,
    failures: Cache<String, Arc<AtomicU32>>,
}

/// A key's window starts at its first failure and is not extended by later ones.
struct FromFirstFailure;

impl Expiry<String, Arc<AtomicU32>> for FromFirstFailure {
    fn expire_after_create(&self, _key: &String, _value: &Arc<AtomicU32>, _created_at: Instant) -> Option<Duration> {
        Some(WINDOW)
    }
}

impl FailureWindow {
    pub fn new(limit: u32) -> Self {
        Self { limit, failures: Cache::builder().max_capacity(MAX_KEYS).expire_after(FromFirstFailure).build() }
    }

    pub fn is_blocked(&self, key: &str) -> bool {
        self.failures.get(key).is_some_and(|count| count.load(Ordering::Relaxed) >= self.limit)
    }

    pub fn record_failure(&self, key: &str) {
        self.failures.get_with(key.to_string(), || Arc::new(AtomicU32::new(0))).fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_its_limit_and_others_are_not() {
        let window = FailureWindow::new(3);
        for _ in 0..2 {
            window.record_failure("a");
        }
        assert!(!window.is_blocked("a"));
        window.record_failure("a");
        assert!(window.is_blocked("a"));
        assert!(!window.is_blocked("b"));
    }
}
