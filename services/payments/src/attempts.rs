//! A payment attempt from start to outcome, whoever learns the outcome.
//!
//! Stripe's advice for never losing a charge, as this service follows it:
//! 1. The attempt is recorded before Stripe is called, and the order is marked as being paid by
//!    it (a second submission meanwhile gets a 409). Its id keys every Stripe call made for it.
//! 2. A PaymentIntent is created (no money moves), its id is recorded, and only then is it
//!    confirmed (the charge). So an attempt without an intent id never charged anyone.
//! 3. The outcome arrives by one of three roads, and each goes through [`Attempts::conclude`]:
//!    Stripe's answer to the request; a webhook (`payment_intent.succeeded`, `…payment_failed`);
//!    or the reconciler, which asks Stripe about attempts that have had no outcome for a while
//!    (the process died, the answer timed out, the webhook was lost). Concluding twice is
//!    harmless: the payment's id is the attempt's, and recording it is one transaction.
//!
//! A charge that cannot settle its order (cancelled meanwhile, or paid by another attempt) is
//! kept for a refund, so every successful charge ends up settling its order or refunded.
//!
//! The deadline (docs/events.md, "The payment deadline"): a card may be submitted until the
//! order's `expiresAt`, and an attempt begun by then is followed to its end, however late Stripe
//! answers. When `expiration.complete` comes ([`Attempts::expire`]), the order takes no new
//! attempt, a 3-D Secure challenge still open is cancelled at Stripe (unless the customer
//! finished it first: then it was charged in time, and settles), and once nothing is in flight
//! an unpaid order lapses: `payment.expired` tells orders to cancel it. Orders cancels on that
//! word only, so an order is never cancelled under a charge made in time.
use std::time::Duration;

use contract::{OrderId, PaymentId, UserId};
use shared::events::outbox::OutboxRecord;
use shared::events::{PaymentCreated, PaymentExpired};
use shared::store::Db;

use crate::domain::{AttemptState, Ending, PaymentToken};
use crate::gateway::{ChargeError, Gateway, Intent, IntentState};
use crate::refunds::Refunder;
use crate::store::{self, AttemptRow, Begun, Charge, OrderReplica, Settled};

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The charge settled the order; the payment's id.
    Paid(PaymentId),
    /// The customer must authenticate (3-D Secure) before anything is charged; the attempt's
    /// id, and Stripe.js's secret for the challenge.
    NeedsAction { attempt_id: PaymentId, client_secret: Option<String> },
    /// Declined: nothing charged; Stripe's message for the buyer.
    Declined(String),
    /// Charged, but the order was cancelled meanwhile: the charge is being refunded.
    Cancelled,
    /// Charged, but another payment settled the order first: refunded.
    AlreadyPaid,
    /// Stripe has not told yet.
    Unknown,
}

/// How long a new attempt holds its order against other attempts. Longer than the two Stripe
/// calls can take; if a process dies holding it, the order is free again after this.
pub const HOLD: Duration = Duration::from_secs(60);

/// After this long, an attempt's calls to Stripe cannot still be in flight (two calls with
/// the gateway's 20 s timeout): an attempt whose intent was never confirmed never will be.
const IN_FLIGHT_LIMIT: Duration = Duration::from_secs(45);

/// An intent still waiting for its customer after this long is given up.
const ACTION_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

/// Why a card was not charged, or not followed to its answer here: [`Attempts::charge`] said no
/// before Stripe was asked, Stripe refused before charging, or the answer is the webhook's or the
/// reconciler's to learn.
#[derive(Debug)]
pub enum ChargeRefused {
    /// The order was cancelled, or its time to pay ran out.
    Cancelled,
    /// Another payment settled the order.
    Paid,
    /// Another attempt for the order is in flight.
    InProgress,
    /// Too many cards were refused for the order, or for the buyer within the hour.
    TooManyDeclines,
    /// Stripe refused or failed the charge before anything was charged.
    Provider(ChargeError),
    /// The attempt was given up (by the reconciler) before its intent was recorded: nothing was
    /// charged, and nothing will be.
    Stopped,
    /// Stripe did not answer once the charge was sent: it may have charged, so the attempt stays
    /// open for a webhook or the reconciler.
    NoAnswer,
    /// The database failed, or the order kept changing under the attempt.
    Store(anyhow::Error),
}

/// `?` on a step's error (the database's, or any other) in a function whose error type keeps it
/// in `$variant`.
macro_rules! failed_with_store_errors {
    ($type:ty, $variant:path) => {
        impl From<anyhow::Error> for $type {
            fn from(error: anyhow::Error) -> Self {
                $variant(error)
            }
        }

        impl From<surrealdb::Error> for $type {
            fn from(error: surrealdb::Error) -> Self {
                $variant(error.into())
            }
        }

        impl From<shared::store::TxError> for $type {
            fn from(error: shared::store::TxError) -> Self {
                $variant(error.into())
            }
        }
    };
}

failed_with_store_errors!(ChargeRefused, ChargeRefused::Store);

#[derive(Clone)]
pub struct Attempts {
    pub db: Db,
    pub gateway: Gateway,
    pub refunder: Refunder,
    /// When the reconciler first asks Stripe about an attempt without an outcome.
    pub reconcile_after: Duration,
    /// How long a closed order waits for its cards in flight before it lapses regardless.
    pub deadline_wait: Duration,
    /// Refused cards allowed per order and per buyer before attempts are refused: card testing
    /// stops there.
    pub declines: store::DeclineLimits,
}

impl Attempts {
    /// Charges `order` to `buyer` with the payment method `token`: records the attempt (the
    /// order is held against other attempts), creates the intent and records its id, then
    /// confirms it, and concludes on Stripe's answer. See the module's notes for why in that
    /// order. The caller has checked that the order is the buyer's.
    pub async fn charge(&self, buyer: &UserId, order: &OrderReplica, token: &PaymentToken) -> Result<Outcome, ChargeRefused> {
        let attempt = self.begin(buyer, order, token).await?;
        let intent_id = match self.gateway.create_intent(&attempt).await {
            Ok(id) => id,
            Err(error) => {
                // No intent was confirmed, so nothing was charged, whatever the error.
                let ending = if error.is_transient() { Ending::Abandoned } else { Ending::Refused };
                self.end(&attempt, ending, Some(&error.to_string())).await?;
                return Err(ChargeRefused::Provider(error));
            }
        };
        if !store::set_intent(&self.db, &attempt, &intent_id).await? {
            // The attempt ended while this request waited (the reconciler gave it up): confirming
            // now would charge for an attempt nobody follows any more.
            if let Err(error) = self.gateway.cancel(&intent_id).await {
                tracing::warn!(attempt.id = %attempt.id, stripe.id = %intent_id, %error, "could not cancel the intent of an ended attempt");
            }
            tracing::warn!(order.id = %order.id, attempt.id = %attempt.id, "attempt ended before its intent was recorded; not confirmed");
            return Err(ChargeRefused::Stopped);
        }
        match self.gateway.confirm(attempt.id.as_str(), &intent_id).await {
            Ok(intent) => Ok(self.conclude(&attempt, &intent).await?),
            Err(ChargeError::Declined(message)) => {
                self.end_refused(&attempt, &intent_id, &message).await?;
                Ok(Outcome::Declined(message))
            }
            Err(error) if error.is_transient() => {
                tracing::error!(order.id = %order.id, attempt.id = %attempt.id, stripe.id = %intent_id, %error, "no answer to a charge; reconciling later");
                Err(ChargeRefused::NoAnswer)
            }
            Err(error) => {
                self.end(&attempt, Ending::Refused, Some(&error.to_string())).await?;
                Err(ChargeRefused::Provider(error))
            }
        }
    }

    /// Records a new attempt, unless the order cannot take one. A write that lost a race with
    /// another one on the order is tried again, a few times.
    async fn begin(&self, buyer: &UserId, order: &OrderReplica, token: &PaymentToken) -> Result<AttemptRow, ChargeRefused> {
        let attempt_id = PaymentId::from(uuid::Uuid::now_v7().simple().to_string());
        let new = store::NewAttempt {
            id: &attempt_id,
            order_id: &order.id,
            user_id: buyer,
            amount: order.price,
            token: token.as_str(),
            hold: HOLD,
            check_after: self.reconcile_after,
            limits: self.declines,
        };
        for _ in 0..5 {
            match store::begin_attempt(&self.db, &new).await? {
                Begun::Started(attempt) => return Ok(attempt),
                Begun::Retry => continue,
                Begun::Cancelled => return Err(ChargeRefused::Cancelled),
                Begun::Paid => return Err(ChargeRefused::Paid),
                Begun::InProgress => return Err(ChargeRefused::InProgress),
                Begun::TooManyDeclines => {
                    tracing::warn!(order.id = %order.id, user.id = %buyer, "payment refused: too many declined cards");
                    return Err(ChargeRefused::TooManyDeclines);
                }
            }
        }
        Err(ChargeRefused::Store(anyhow::anyhow!("order {} kept changing while starting a payment", order.id)))
    }

    /// Concludes an attempt from what Stripe says of its intent.
    pub async fn conclude(&self, attempt: &AttemptRow, intent: &Intent) -> anyhow::Result<Outcome> {
        match &intent.state {
            IntentState::Succeeded => self.settle(attempt, &intent.id).await,
            IntentState::NeedsAction { client_secret } => {
                // The customer may take minutes, or leave: the order is free for another card
                // meanwhile (if both went through, the second charge is refunded).
                self.end(attempt, Ending::WaitsForCustomer, None).await?;
                if self.closed(&attempt.order_id).await? {
                    // In flight when the time ran out: no challenge is started after it. One
                    // that cannot be stopped now is the reconciler's (due at once).
                    return Ok(Box::pin(self.stop_challenge(attempt, &intent.id)).await.unwrap_or_else(|error| {
                        tracing::warn!(attempt.id = %attempt.id, error = format!("{error:#}"), "could not stop a challenge after the deadline");
                        Outcome::Unknown
                    }));
                }
                Ok(Outcome::NeedsAction { attempt_id: attempt.id.clone(), client_secret: client_secret.clone() })
            }
            IntentState::Failed(message) => {
                self.end_refused(attempt, &intent.id, message).await?;
                Ok(Outcome::Declined(message.clone()))
            }
            IntentState::Unconfirmed | IntentState::Processing => Ok(Outcome::Unknown),
        }
    }

    /// Ends an attempt whose card was refused, and cancels its intent at Stripe: after a
    /// decline the intent waits for another payment method, and the buyer still holds its client
    /// secret, so Stripe.js could charge it later with no attempt of ours in flight. A cancel
    /// that fails leaves the attempt ended (nothing was charged) and is logged.
    pub async fn end_refused(&self, attempt: &AttemptRow, intent_id: &str, message: &str) -> anyhow::Result<()> {
        self.end(attempt, Ending::Refused, Some(message)).await?;
        match self.gateway.cancel(intent_id).await {
            Ok(_) => tracing::debug!(attempt.id = %attempt.id, stripe.id = %intent_id, "refused attempt's intent cancelled"),
            // Already cancelled, or succeeded meanwhile: a webhook or the reconciler concludes that.
            Err(error) if !error.is_transient() => {
                tracing::debug!(attempt.id = %attempt.id, stripe.id = %intent_id, %error, "refused attempt's intent not cancellable")
            }
            Err(error) => {
                tracing::warn!(attempt.id = %attempt.id, stripe.id = %intent_id, %error, "could not cancel a refused attempt's intent")
            }
        }
        Ok(())
    }

    /// Ends an attempt without a charge (`failed`, `abandoned`) or waiting for its customer
    /// (`action`); the last one in flight of a closed order lapses it (`payment.expired`).
    pub async fn end(&self, attempt: &AttemptRow, ending: Ending, error: Option<&str>) -> anyhow::Result<()> {
        let lapse = OutboxRecord::new(&PaymentExpired { order_id: attempt.order_id.clone() })?;
        store::end_attempt(&self.db, attempt, ending, error, lapse).await?;
        Ok(())
    }

    /// Whether `expiration.complete` has closed the order.
    async fn closed(&self, order_id: &OrderId) -> anyhow::Result<bool> {
        Ok(store::get_order(&self.db, order_id).await?.is_some_and(|order| order.closed))
    }

    /// The order's time to pay ran out (`expiration.complete`): no attempt begins any more, the
    /// open 3-D Secure challenges are cancelled at Stripe, and the order lapses once nothing is
    /// in flight. `false` when its replica has not arrived yet (the event waits for it). The
    /// challenges are cancelled beside the consumer, which a slow Stripe must not hold up; one
    /// that cannot be cancelled now is the reconciler's, due in `store::CHALLENGE_CHECK`.
    pub async fn expire(&self, order_id: &OrderId) -> anyhow::Result<bool> {
        let lapse = OutboxRecord::new(&PaymentExpired { order_id: order_id.clone() })?;
        let Some(challenged) = store::close(&self.db, order_id, lapse).await? else {
            return Ok(false);
        };
        if !challenged.is_empty() {
            let attempts = self.clone();
            tokio::spawn(async move {
                for attempt in challenged {
                    let Some(intent_id) = attempt.intent_id.clone() else { continue };
                    match attempts.stop_challenge(&attempt, &intent_id).await {
                        Ok(outcome) => {
                            tracing::info!(attempt.id = %attempt.id, order.id = %attempt.order_id, ?outcome, "open challenge ended at the deadline")
                        }
                        Err(error) => {
                            tracing::warn!(attempt.id = %attempt.id, order.id = %attempt.order_id, error = format!("{error:#}"), "could not end an open challenge at the deadline; the reconciler will")
                        }
                    }
                }
            });
        }
        Ok(true)
    }

    /// Cancels at Stripe the intent of an attempt waiting for its customer after the deadline.
    /// Cancelled: nothing was charged, the attempt is abandoned. Not cancellable: the customer
    /// finished first (charged in time, so it settles) or failed; the reconciler, due at once,
    /// asks Stripe which. Stripe unreachable: the reconciler tries again.
    async fn stop_challenge(&self, attempt: &AttemptRow, intent_id: &str) -> anyhow::Result<Outcome> {
        match self.gateway.cancel(intent_id).await {
            Ok(_) => {
                self.end(attempt, Ending::Abandoned, Some("time to pay ran out; cancelled")).await?;
                Ok(Outcome::Cancelled)
            }
            Err(error) if !error.is_transient() => {
                let intent = self.gateway.retrieve(intent_id).await?;
                match &intent.state {
                    IntentState::Succeeded => self.settle(attempt, &intent.id).await,
                    IntentState::Failed(message) => {
                        self.end_refused(attempt, &intent.id, message).await?;
                        Ok(Outcome::Declined(message.clone()))
                    }
                    _ => Ok(Outcome::Unknown),
                }
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Records a successful charge as the order's payment, or keeps it for a refund.
    async fn settle(&self, attempt: &AttemptRow, intent_id: &str) -> anyhow::Result<Outcome> {
        let charge = Charge { payment_id: &attempt.id, order_id: &attempt.order_id, stripe_id: intent_id, amount: attempt.amount };
        let event = PaymentCreated { id: attempt.id.clone(), order_id: attempt.order_id.clone(), stripe_id: intent_id.to_string() };
        for _ in 0..5 {
            match store::settle(&self.db, &charge, OutboxRecord::new(&event)?).await? {
                Settled::Paid => {
                    tracing::info!(order.id = %attempt.order_id, payment.id = %attempt.id, stripe.id = %intent_id, amount = attempt.amount, "payment recorded");
                    return Ok(Outcome::Paid(attempt.id.clone()));
                }
                Settled::Recorded => return self.recorded(attempt).await,
                Settled::Retry => continue,
                Settled::Cancelled => {
                    self.give_back(&charge).await?;
                    return Ok(Outcome::Cancelled);
                }
                Settled::AlreadyPaid => {
                    self.give_back(&charge).await?;
                    return Ok(Outcome::AlreadyPaid);
                }
            }
        }
        anyhow::bail!("order {} kept changing while recording its payment", attempt.order_id)
    }

    /// What a charge recorded before came to.
    async fn recorded(&self, attempt: &AttemptRow) -> anyhow::Result<Outcome> {
        let order = store::get_order(&self.db, &attempt.order_id).await?;
        Ok(match order {
            Some(order) if order.payment_id.as_ref() == Some(&attempt.id) => Outcome::Paid(attempt.id.clone()),
            Some(order) if order.payment_id.is_some() => Outcome::AlreadyPaid,
            _ => Outcome::Cancelled,
        })
    }

    /// A charge that cannot settle the order is refunded; it is recorded first so that a crash
    /// cannot forget it.
    async fn give_back(&self, charge: &Charge<'_>) -> anyhow::Result<()> {
        store::keep_for_refund(&self.db, charge).await?;
        tracing::warn!(order.id = %charge.order_id, stripe.id = %charge.stripe_id, "charge cannot settle the order; refunding");
        self.refunder.wake();
        Ok(())
    }

    /// A webhook about an intent: concluded if it is one of our attempts.
    pub async fn on_intent(&self, intent: &Intent) -> anyhow::Result<()> {
        let Some(attempt_id) = &intent.attempt_id else {
            tracing::info!(stripe.id = %intent.id, "webhook for an intent that is not an attempt of ours; ignored");
            return Ok(());
        };
        let Some(attempt) = store::get_attempt(&self.db, attempt_id).await? else {
            tracing::warn!(stripe.id = %intent.id, attempt.id = %attempt_id, "webhook for an unknown attempt; ignored");
            return Ok(());
        };
        // The metadata names the attempt; the attempt's own record decides whether this intent
        // is the one it charged, for the amount and currency it asked.
        if let Some(problem) = mismatch(&attempt, intent) {
            tracing::error!(stripe.id = %intent.id, attempt.id = %attempt.id, %problem, "webhook does not match its attempt; ignored");
            return Ok(());
        }
        if attempt.intent_id.is_none() && !store::set_intent(&self.db, &attempt, &intent.id).await? {
            // Ended before its intent was recorded (given up as never confirmed): whatever the
            // intent did is still concluded below, so a charge is settled or refunded.
            tracing::warn!(stripe.id = %intent.id, attempt.id = %attempt.id, state = %attempt.state, "webhook for an intent its ended attempt never recorded");
        }
        let outcome = self.conclude(&attempt, intent).await?;
        tracing::info!(attempt.id = %attempt.id, order.id = %attempt.order_id, stripe.id = %intent.id, ?outcome, "attempt concluded by webhook");
        Ok(())
    }

    /// Asks Stripe about attempts without an outcome, for as long as the process runs.
    pub fn spawn_reconciler(&self) {
        let attempts = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = attempts.reconcile().await {
                    tracing::warn!(error = format!("{error:#}"), "reconciling payment attempts failed; will retry");
                }
                tokio::time::sleep(RECONCILE_EVERY.min(attempts.reconcile_after)).await;
            }
        });
    }

    /// One pass over the attempts whose check is due. One attempt that cannot be checked is
    /// looked at again later without holding up the others; Stripe in trouble ends the pass.
    pub async fn reconcile(&self) -> anyhow::Result<()> {
        // Boxed, as `check` below: a debug build lays every step of an async fn out in one stack
        // frame, and the test runtime polls every task on one 2 MiB thread.
        let lapsed = Box::pin(store::sweep_closing(&self.db, self.deadline_wait, 50)).await?;
        if lapsed > 0 {
            tracing::warn!(orders = lapsed, "closed orders lapsed by the sweep (a missed lapse, or a card past the deadline's wait)");
        }
        for attempt in store::unsettled_attempts(&self.db, 20).await? {
            match Box::pin(self.check(&attempt)).await {
                Ok(()) => {}
                Err(Checked::StripeTrouble(error)) => return Err(error.into()),
                Err(Checked::Failed(error)) => {
                    tracing::error!(attempt.id = %attempt.id, order.id = %attempt.order_id, error = format!("{error:#}"), "checking an attempt failed; will look again");
                    store::checked(&self.db, &attempt.id, next_check(attempt.checks)).await?;
                }
            }
        }
        Ok(())
    }

    async fn check(&self, attempt: &AttemptRow) -> Result<(), Checked> {
        let age = Duration::from_secs(attempt.age.max(0) as u64);
        let Some(intent_id) = attempt.intent_id.clone() else {
            if age >= IN_FLIGHT_LIMIT {
                // No intent was recorded, so none was confirmed: nothing was charged.
                self.end(attempt, Ending::Abandoned, Some("never confirmed")).await?;
                tracing::info!(attempt.id = %attempt.id, order.id = %attempt.order_id, "attempt abandoned: it never reached a charge");
            } else {
                store::checked(&self.db, &attempt.id, IN_FLIGHT_LIMIT - age).await?;
            }
            return Ok(());
        };
        let intent = self.gateway.retrieve(&intent_id).await?;
        let outcome = match (&intent.state, attempt.state()) {
            // Waiting for the customer, as known: only look again later.
            (IntentState::NeedsAction { .. }, AttemptState::Action) => Outcome::Unknown,
            _ => self.conclude(attempt, &intent).await?,
        };
        match outcome {
            Outcome::Unknown | Outcome::NeedsAction { .. } => {
                let never_confirmed = intent.state == IntentState::Unconfirmed && age >= IN_FLIGHT_LIMIT;
                // Past the deadline, a challenge is not waited for (`expire` could not cancel it).
                let challenge_too_late = matches!(intent.state, IntentState::NeedsAction { .. }) && self.closed(&attempt.order_id).await?;
                if never_confirmed || challenge_too_late || age >= ACTION_LIMIT {
                    self.give_up(attempt, &intent_id).await?;
                } else {
                    store::checked(&self.db, &attempt.id, next_check(attempt.checks)).await?;
                }
            }
            outcome => {
                tracing::info!(attempt.id = %attempt.id, order.id = %attempt.order_id, stripe.id = %intent_id, ?outcome, "attempt concluded by the reconciler");
            }
        }
        Ok(())
    }

    /// Cancels an attempt's intent at Stripe, so that nothing can charge it later (a confirm
    /// still on its way, a buyer finishing 3-D Secure after a day), then abandons the attempt.
    /// An intent that succeeded meanwhile is concluded instead.
    async fn give_up(&self, attempt: &AttemptRow, intent_id: &str) -> Result<(), Checked> {
        match self.gateway.cancel(intent_id).await {
            Ok(_) => {
                self.end(attempt, Ending::Abandoned, Some("no outcome at Stripe; cancelled")).await?;
                tracing::info!(attempt.id = %attempt.id, stripe.id = %intent_id, "attempt abandoned and its intent cancelled");
                Ok(())
            }
            Err(error) if error.is_transient() => Err(Checked::StripeTrouble(error)),
            Err(error) => {
                // Not cancellable: it moved on. What it moved to decides.
                let intent = self.gateway.retrieve(intent_id).await?;
                let outcome = self.conclude(attempt, &intent).await?;
                tracing::warn!(attempt.id = %attempt.id, stripe.id = %intent_id, %error, ?outcome, "an intent being given up had moved on");
                if outcome == Outcome::Unknown {
                    store::checked(&self.db, &attempt.id, next_check(attempt.checks)).await?;
                }
                Ok(())
            }
        }
    }
}

/// Why an intent is not the attempt's to settle, if it is not: another intent than the one the
/// attempt recorded, or another amount or currency than it asked.
fn mismatch(attempt: &AttemptRow, intent: &Intent) -> Option<String> {
    if let Some(recorded) = &attempt.intent_id
        && recorded != &intent.id
    {
        return Some(format!("the attempt's intent is {recorded}"));
    }
    if intent.amount != attempt.amount || intent.currency != CURRENCY {
        return Some(format!("{} {}, the attempt asked {} {CURRENCY}", intent.amount, intent.currency, attempt.amount));
    }
    None
}

/// Every charge is in US dollars.
const CURRENCY: &str = "usd";

/// Why checking one attempt stopped.
enum Checked {
    /// Stripe unreachable or failing: every other check would meet the same.
    StripeTrouble(ChargeError),
    Failed(anyhow::Error),
}

impl From<ChargeError> for Checked {
    fn from(error: ChargeError) -> Self {
        if error.is_transient() {
            Self::StripeTrouble(error)
        } else {
            Self::Failed(error.into())
        }
    }
}

failed_with_store_errors!(Checked, Checked::Failed);

/// How often the reconciler looks for attempts to check.
const RECONCILE_EVERY: Duration = Duration::from_secs(5);

/// After the n-th check: 10 s, 20 s, 40 s, … up to an hour.
fn next_check(checks: i64) -> Duration {
    Duration::from_secs(10u64 << checks.clamp(0, 9)).min(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_back_off_to_an_hour() {
        assert_eq!(next_check(0), Duration::from_secs(10));
        assert_eq!(next_check(1), Duration::from_secs(20));
        assert_eq!(next_check(20), Duration::from_secs(3600));
    }
}
