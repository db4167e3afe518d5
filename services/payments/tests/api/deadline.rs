//! The payment deadline (docs/events.md): a card may be submitted until `expiresAt`, an attempt
//! begun by then is followed to its end however late Stripe answers, and the order lapses
//! (`payment.expired`, on which orders cancels it) only once `expiration.complete` has come and
//! nothing is in flight. Each test publishes `expiration.complete` itself, after the order's
//! `expiresAt`, as NATS fires it.
use std::time::Duration;

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
    let at = order_expiring(&app, "o1", Duration::from_secs(2)).await;
    // Submitted before the deadline; Stripe answers after it, and no webhook tells earlier.
    app.stripe.webhooks(stripe_double::WebhookMode::Drop);
    app.stripe.hold();
    let paying = app.pay_in_background("ann", "o1", "pm_card_visa");
    assert!(eventually(Duration::from_secs(5), || async { app.stripe.held() == 1 }).await, "the attempt reached Stripe");
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
    let at = order_expiring(&app, "o1", Duration::from_secs(2)).await;
    app.stripe.hold();
    let paying = app.pay_in_background("ann", "o1", "pm_card_chargeDeclined");
    assert!(eventually(Duration::from_secs(5), || async { app.stripe.held() == 1 }).await, "the attempt reached Stripe");
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
    let at = order_expiring(&app, "o1", Duration::from_secs(2)).await;
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
    let at = order_expiring(&app, "o1", Duration::from_secs(1)).await;
    assert_eq!(app.pay("ann", "o1", "pm_card_threeDSecure2Required").await.status().as_u16(), 202);
    let intent = challenged_intent(&app);
    expire_at(&app, "o1", at).await;

    assert_eq!(lapsed.expect("payment.expired").await, json!({ "orderId": "o1" }));
    assert_eq!(app.stripe.payment_intents()[0].status, "canceled");
    assert!(!app.stripe.authenticate(&intent, true), "the buyer can no longer be charged through it");
    assert!(app.stripe.charges().is_empty());
}
