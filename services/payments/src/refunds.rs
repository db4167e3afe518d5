//! Gives back charges that could not settle their order: the order was cancelled (it expired
//! while the buyer paid) or another payment settled it first. Every such charge is on record
//! with `refund = 'due'` before this runs, so a crash only delays it.
//!
//! While Stripe is down or failing (unreachable, 5xx, rate limits), a refund waits for the
//! next pass and nothing is counted. A refund Stripe itself refuses is counted and tried again later, less and less
//! often; after [`MAX_ATTEMPTS`] it is parked (`refund = 'parked'`, logged as an error) for an
//! operator: `payments refunds list` shows it with Stripe's last answer, `payments refunds
//! retry [<payment-id>]` makes it due again. One refund that keeps failing never holds up the
//! others.
//!
//! Each refund made is counted in `payments_refunds_issued_total`. How many are due or parked is
//! counted in the database when `/metrics` is scraped (`payments_refunds_due`,
//! `payments_refunds_parked`, see `routes::metrics_router`), so that every replica reports the
//! one shared figure rather than what its own last pass saw.
use std::sync::Arc;
use std::time::Duration;

use contract::PaymentId;
use shared::store::Db;
use tokio::sync::Notify;

use crate::domain::RefundState;
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

/// Refusals before a refund is parked: with the delays below, about an hour of trying.
pub const MAX_ATTEMPTS: i64 = 8;

/// Refunds in a row that meet Stripe's trouble (down, 5xx, rate limits) before a pass stops:
/// one refund Stripe chokes on is skipped, an outage is not hammered with every due refund.
const TROUBLE_IN_A_ROW: u32 = 3;

/// After the n-th refusal: 30 s, 1 min, 2 min, … 32 min.
fn retry_in(attempts: i64) -> Duration {
    Duration::from_secs(30u64 << (attempts - 1).clamp(0, 6))
}

async fn refund_due(db: &Db, gateway: &Gateway) -> anyhow::Result<()> {
    // Refunds that met Stripe down or failing this pass: left for the next one, without
    // holding up the rest.
    let mut skipped: Vec<PaymentId> = Vec::new();
    let mut trouble = None;
    let mut in_a_row = 0;
    'pass: loop {
        let due = store::due_refunds(db, 20, &skipped).await?;
        if due.is_empty() {
            break;
        }
        for payment in due {
            match gateway.refund(&payment.id, &payment.stripe_id).await {
                Ok(refund_id) => {
                    in_a_row = 0;
                    store::mark_refunded(db, &payment, &refund_id).await?;
                    ::metrics::counter!("payments_refunds_issued_total").increment(1);
                    tracing::info!(order.id = %payment.order_id, stripe.id = %payment.stripe_id, refund.id = %refund_id, amount = payment.amount, "charge refunded");
                }
                Err(error) if error.is_transient() => {
                    trouble = Some(format!("refunding {} for order {}: {error}", payment.stripe_id, payment.order_id));
                    skipped.push(payment.id);
                    in_a_row += 1;
                    if in_a_row >= TROUBLE_IN_A_ROW {
                        // Stripe itself is in trouble, not this refund: stop asking until later.
                        break 'pass;
                    }
                    continue;
                }
                Err(error) => {
                    in_a_row = 0;
                    let attempts = payment.refund_attempts + 1;
                    let retry = (attempts < MAX_ATTEMPTS).then(|| retry_in(attempts));
                    store::refund_refused(db, &payment.id, attempts, &error.to_string(), retry).await?;
                    match retry {
                        Some(delay) => tracing::warn!(
                            order.id = %payment.order_id, stripe.id = %payment.stripe_id, attempts, retry_in = ?delay, %error,
                            "Stripe refused a refund; will try again"
                        ),
                        None => tracing::error!(
                            order.id = %payment.order_id, stripe.id = %payment.stripe_id, payment.id = %payment.id, amount = payment.amount, attempts, %error,
                            "refund parked: Stripe refused it {MAX_ATTEMPTS} times; see `payments refunds list`"
                        ),
                    }
                }
            }
        }
    }
    match trouble {
        Some(why) => Err(anyhow::anyhow!(why)),
        None => Ok(()),
    }
}

/// `payments refunds list` and `payments refunds retry [<payment-id>]`, run with the service's
/// configuration; `None` when the process was started to serve.
pub async fn command(config: &crate::PaymentsConfig) -> Option<std::process::ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("refunds") {
        return None;
    }
    let result = async {
        let db = shared::store::connect(&config.service.database, &store::schema()).await?;
        match args.get(1).map(String::as_str) {
            Some("list") => {
                for state in [RefundState::Parked, RefundState::Due] {
                    for payment in store::refunds_in(&db, state).await? {
                        println!(
                            "{state}\tpayment {}\torder {}\tcharge {}\t{} cents\t{} refusals\t{}",
                            payment.id,
                            payment.order_id,
                            payment.stripe_id,
                            payment.amount,
                            payment.refund_attempts,
                            payment.refund_error.unwrap_or_default()
                        );
                    }
                }
                Ok(())
            }
            Some("retry") => {
                let count = store::unpark_refunds(&db, args.get(2).cloned().map(PaymentId::from).as_ref()).await?;
                println!("{count} parked refund(s) due again");
                Ok(())
            }
            _ => anyhow::bail!("usage: payments refunds list | payments refunds retry [<payment-id>]"),
        }
    }
    .await;
    Some(match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("payments: {error:#}");
            std::process::ExitCode::FAILURE
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_tried_again_less_often_for_about_an_hour() {
        assert_eq!(retry_in(1), Duration::from_secs(30));
        assert_eq!(retry_in(2), Duration::from_secs(60));
        let total: Duration = (1..MAX_ATTEMPTS).map(retry_in).sum();
        assert!(total > Duration::from_secs(45 * 60) && total < Duration::from_secs(90 * 60), "{total:?}");
    }
}
