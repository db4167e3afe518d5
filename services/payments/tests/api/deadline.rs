//! The payment deadline (docs/events.md): a card may be submitted until `expiresAt`, an attempt
//! begun by then is followed to its end however late Stripe answers, and the order lapses
//! (`payment.expired`, on which orders cancels it) only once `expiration.complete` has come and
//! nothing is in flight. Each test publishes `expiration.complete` itself, after the order's
//! `expiresAt`, as NATS fires it.
use std::time::Duration;

use payments::store;
use serde_json::json;
use test_support::eventually;

use crate::helpers::*;

/// An order announced by orders, expiring `after` from now.
async fn order_expiring(app: &TestApp, id: &str, after: Duration) -> time::OffsetDateTime {
    let expires = time::OffsetDateTime::now_utc() + after;
    let mut order = order_created(id, "ann", 20.0);
    order["expiresAt"] = json!(expires.format(&time::format_description::well_known::Rfc3339).unwrap());
    publish(&app.nats, "order.created", order).await;
    app.wait_version(id, 0).await;
    expires
}

/// Waits until `at` has passed, then fires the order's expiry as NATS would.
async fn expire_at(app: &TestApp, id: &str, at: time::OffsetDateTime) {
    let wait = at - time::OffsetDateTime::now_utc();
    if wait.is_positive() {
        tokio::time::sleep(wait.unsigned_abs() + Duration::from_millis(50)).await;
    }
    publish(&app.nats, "expiration.complete", json!({ "orderId": id })).await;
}

/// Ann submits `card` for o1 and Stripe holds it, unanswered until `release`.
async fn pay_held(app: &TestApp, card: &str) -> tokio::task::JoinHandle<reqwest::Response> {
    app.stripe.hold();
    let paying = app.pay_in_background("ann", "o1", card);
    assert!(eventually(Duration::from_secs(5), || async { app.stripe.held() == 1 }).await, "the attempt reached Stripe");
    paying
}

#[tokio::test]
async fn an_order_with_nothing_in_flight_lapses_at_once_and_takes_no_card_after() {
    let app = spawn_app().await;
    let mut lapsed = EventSpy::new(&app.nats, "payment.expired").await;
    let at = order_expiring(&app, "o1", Duration::from_millis(500)).await;
    expire_at(&app, "o1", at).await;
    assert_eq!(lapsed.expect("payment.expired").await, json!({ "orderId": "o1" }));
    assert_eq!(errors(app.pay("ann", "o1", "pm_card_visa").await, 400).await, vec![general("Cannot pay for a cancelled order")]);
    assert!(app.stripe.payment_intents().is_empty(), "Stripe was never asked");
    // A second expiry (a redelivery) lapses nothing again.
    publish(&app.nats, "expiration.complete", json!({ "orderId": "o1" })).await;
    assert!(lapsed.next(Duration::from_millis(500)).await.is_none(), "payment.expired once");
}

#[tokio::test]
async fn a_card_in_flight_at_the_deadline_settles_the_order_however_late_stripe_answers() {
    let app = spawn_app().await;
    let mut lapsed = EventSpy::new(&app.nats, "payment.expired").await;
    let mut paid = EventSpy::new(&app.nats, "payment.created").await;
    let at = order_expiring(&app, "o1", Duration::from_secs(3)).await;
    // Submitted before the deadline; Stripe answers after it, and no webhook tells earlier.
    app.stripe.webhooks(stripe_double::WebhookMode::Drop);
    let paying = pay_held(&app, "pm_card_visa").await;
    expire_at(&app, "o1", at).await;
    assert!(lapsed.next(Duration::from_millis(700)).await.is_none(), "no lapse while a card is in flight");
    app.stripe.release();

    assert_eq!(paying.await.unwrap().status().as_u16(), 201, "the buyer who paid in time is told so");
    assert_eq!(paid.expect("payment.created").await["orderId"], "o1");
    assert!(lapsed.next(Duration::from_millis(500)).await.is_none(), "a paid order never lapses");
    assert!(app.stripe.refunds().is_empty(), "nothing given back");
}

#[tokio::test]
async fn a_card_declined_after_the_deadline_lapses_the_order_then() {
    let app = spawn_app().await;
    let mut lapsed = EventSpy::new(&app.nats, "payment.expired").await;
    let at = order_expiring(&app, "o1", Duration::from_secs(3)).await;
    let paying = pay_held(&app, "pm_card_chargeDeclined").await;
    expire_at(&app, "o1", at).await;
    assert!(lapsed.next(Duration::from_millis(700)).await.is_none(), "no lapse while a card is in flight");
    app.stripe.release();
    assert_eq!(paying.await.unwrap().status().as_u16(), 402);
    assert_eq!(lapsed.expect("payment.expired").await, json!({ "orderId": "o1" }));
    // The buyer cannot try another card now.
    assert_eq!(errors(app.pay("ann", "o1", "pm_card_visa").await, 400).await, vec![general("Cannot pay for a cancelled order")]);
    assert!(lapsed.next(Duration::from_millis(300)).await.is_none(), "payment.expired once");
}

/// The buyer's 3-D Secure challenge, as Stripe.js would finish it: the attempt's intent.
fn challenged_intent(app: &TestApp) -> String {
    let intents = app.stripe.payment_intents();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].status, "requires_action");
    intents[0].id.clone()
}

#[tokio::test]
async fn a_challenge_finished_before_the_deadline_but_reported_after_it_settles_the_order() {
    let app = spawn_app().await;
    let mut lapsed = EventSpy::new(&app.nats, "payment.expired").await;
    let mut paid = EventSpy::new(&app.nats, "payment.created").await;
    let at = order_expiring(&app, "o1", Duration::from_secs(3)).await;
    assert_eq!(app.pay("ann", "o1", "pm_card_threeDSecure2Required").await.status().as_u16(), 202);
    // The buyer finishes the challenge at T−1 s; Stripe's webhook is lost, so payments first
    // hears of it after the deadline.
    app.stripe.webhooks(stripe_double::WebhookMode::Drop);
    assert!(app.stripe.authenticate(&challenged_intent(&app), true));
    expire_at(&app, "o1", at).await;

    assert_eq!(paid.expect("payment.created").await["orderId"], "o1", "charged in time: the order is paid");
    assert!(lapsed.next(Duration::from_millis(500)).await.is_none(), "and never lapses");
    assert!(app.stripe.refunds().is_empty(), "nothing given back");
}

#[tokio::test]
async fn a_challenge_still_open_at_the_deadline_is_cancelled_at_stripe_and_the_order_lapses() {
    let app = spawn_app().await;
    let mut lapsed = EventSpy::new(&app.nats, "payment.expired").await;
    let at = order_expiring(&app, "o1", Duration::from_secs(3)).await;
    assert_eq!(app.pay("ann", "o1", "pm_card_threeDSecure2Required").await.status().as_u16(), 202);
    let intent = challenged_intent(&app);
    expire_at(&app, "o1", at).await;

    assert_eq!(lapsed.expect("payment.expired").await, json!({ "orderId": "o1" }));
    assert_eq!(app.stripe.payment_intents()[0].status, "canceled");
    assert!(!app.stripe.authenticate(&intent, true), "the buyer can no longer be charged through it");
    assert!(app.stripe.charges().is_empty());
}

#[tokio::test]
async fn a_lapse_the_last_attempt_missed_is_made_by_the_reconciler() {
    let app = spawn_app().await;
    let mut lapsed = EventSpy::new(&app.nats, "payment.expired").await;
    let at = order_expiring(&app, "o1", Duration::from_secs(2)).await;
    // A card in flight at the deadline...
    assert!(matches!(store::begin_attempt(&app.db, &attempt("a-1", "o1").as_new()).await.unwrap(), store::Begun::Started(_)));
    expire_at(&app, "o1", at).await;
    assert!(lapsed.next(Duration::from_millis(700)).await.is_none(), "no lapse while a card is in flight");
    // ...ends in a transaction that did not lapse the order (what two attempts ending at once on
    // two replicas could do, were it not for the write they share).
    let ended = surrealdb::types::RecordId::new("attempt", "a-1");
    app.db.query("UPDATE $attempt SET state = 'failed'").bind(("attempt", ended)).await.unwrap().check().unwrap();
    let (subject, payload) = lapsed.next(Duration::from_secs(20)).await.expect("the reconciler's sweep lapses it");
    assert_eq!((subject.as_str(), payload), ("payment.expired", json!({ "orderId": "o1" })));
    assert!(lapsed.next(Duration::from_secs(6)).await.is_none(), "once");
}

#[tokio::test]
async fn a_card_that_never_comes_back_holds_the_seat_only_for_the_deadlines_wait_and_is_refunded() {
    let app = spawn_app_with(&[("PAYMENT_DEADLINE_WAIT_SECONDS", "2")]).await;
    let mut lapsed = EventSpy::new(&app.nats, "payment.expired").await;
    let mut paid = EventSpy::new(&app.nats, "payment.created").await;
    let at = order_expiring(&app, "o1", Duration::from_secs(3)).await;
    app.stripe.webhooks(stripe_double::WebhookMode::Drop);
    let paying = pay_held(&app, "pm_card_visa").await;
    expire_at(&app, "o1", at).await;
    // Stripe keeps the card: past the wait, the order lapses anyway and the seat is free.
    let (subject, _) = lapsed.next(Duration::from_secs(20)).await.expect("lapsed after the deadline's wait");
    assert_eq!(subject, "payment.expired");
    // When Stripe finally charges, the charge cannot settle a lapsed order: it is given back.
    app.stripe.release();
    assert_eq!(errors(paying.await.unwrap(), 400).await, vec![general("Cannot pay for a cancelled order")]);
    assert!(app.wait_refunds(1).await, "the late charge is refunded");
    assert!(paid.next(Duration::from_millis(300)).await.is_none(), "never payment.created as well");
}
