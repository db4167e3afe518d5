//! Stopping a service's event work cleanly on SIGTERM: consumers stop pulling once the event
//! in hand is handled and acked, and the outbox relay publishes what was committed, all within
//! the termination grace period. What is left (an event pulled but not acked) is redelivered to
//! another replica.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

#[derive(Clone)]
pub struct Drain {
    stop: Arc<watch::Sender<bool>>,
    live: Arc<AtomicUsize>,
    finished: Arc<Notify>,
}

impl Default for Drain {
    fn default() -> Self {
        Self { stop: Arc::new(watch::channel(false).0), live: Arc::default(), finished: Arc::default() }
    }
}

/// Held by a task for as long as it runs; [`Drain::drain`] waits for every guard to drop.
pub struct Running(Drain);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
        self.0.finished.notify_waiters();
    }
}

impl Drain {
    pub fn enter(&self) -> Running {
        self.live.fetch_add(1, Ordering::AcqRel);
        Running(self.clone())
    }

    /// Resolves once stopping was asked for (at once if it already was).
    pub async fn stopped(&self) {
        let mut receiver = self.stop.subscribe();
        let _ = receiver.wait_for(|stop| *stop).await;
    }

    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Asks every task to stop and waits for them, at most `within`; true if all finished.
    pub async fn drain(&self, within: Duration) -> bool {
        self.stop.send_replace(true);
        let all_done = async {
            loop {
                let finished = self.finished.notified();
                if self.live.load(Ordering::Acquire) == 0 {
                    return;
                }
                finished.await;
            }
        };
        tokio::time::timeout(within, all_done).await.is_ok()
    }
}
