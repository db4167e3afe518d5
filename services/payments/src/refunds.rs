//! Gives back charges that could not settle their order: the order was cancelled (it expired
//! while the buyer paid) or another payment settled it first. Every such charge is on record
//! with `refund = 'due'` before this runs, so a crash only delays it.
use std::sync::Arc;
use std::time::Duration;

use shared::store::Db;
use tokio::sync::Notify;

use crate::gateway::Gateway;
use crate::store;

/// Wakes the refund loop after a refund became due.
#[derive(Clone, Default)]
pub struct Refunder(Arc<Notify>);

impl Refunder {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Refunds what is due for as long as the process runs: at once when woken, and every few
    /// seconds for what failed before (Stripe down) or was left by another replica.
    pub fn spawn(&self, db: Db, gateway: Gateway) {
        let signal = self.0.clone();
        tokio::spawn(async move {
            let mut backoff = FIRST_RETRY;
            loop {
                let pause = match refund_due(&db, &gateway).await {
                    Ok(()) => {
                        backoff = FIRST_RETRY;
                        IDLE
                    }
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), retry_in = ?backoff, "refunds failed; will retry");
                        backoff = (backoff * 2).min(LAST_RETRY);
                        backoff / 2
                    }
                };
                let _ = tokio::time::timeout(pause, signal.notified()).await;
            }
        });
    }
}

/// How often due refunds are looked for when nothing woke the loop.
const IDLE: Duration = Duration::from_secs(5);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(60);

async fn refund_due(db: &Db, gateway: &Gateway) -> anyhow::Result<()> {
    loop {
        let due = store::due_refunds(db, 20).await?;
        if due.is_empty() {
            return Ok(());
        }
        for payment in due {
            let refund_id = gateway
                .refund(&payment.id, &payment.stripe_id)
                .await
                .map_err(|error| anyhow::anyhow!("refunding {} for order {}: {error}", payment.stripe_id, payment.order_id))?;
            store::mark_refunded(db, &payment.id, &refund_id).await?;
            tracing::info!(order.id = %payment.order_id, stripe.id = %payment.stripe_id, refund.id = %refund_id, amount = payment.amount, "charge refunded");
        }
    }
}
