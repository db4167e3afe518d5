//! Stripe's webhooks and the reconciler settle what the request could not: a charge whose answer
//! was lost, a card that needed the customer's authentication. Signatures are checked, and an
//! event seen twice changes nothing.
use std::time::Duration;

use serde_json::{json, Value};
use stripe_double::{sign, WebhookMode};
use test_support::eventually;

use payments::store::Begun;

use crate::helpers::*;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// An event of a kind payments does not use.
fn event_body() -> String {
    json!({
        "id": "evt_forged", "object": "event", "api_version": "2026-09-30.endive", "created": now(), "livemode": false,
        "pending_webhooks": 1, "type": "ticketing.unused", "data": { "object": { "id": "obj_1", "object": "thing" } },
    })
    .to_string()
}

async fn post_webhook(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut request = app.client.post(app.url("/api/payments/webhook")).header("content-type", "application/json").body(body.to_string());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.expect("request sent")
}

#[tokio::test]
async fn a_webhook_without_a_valid_fresh_signature_is_400() {
    let app = spawn_app().await;
    let body = event_body();
    let secret = payments::config::StripeSettings::DOUBLE_WEBHOOK_SECRET;
    let refused = |code, message| vec![ErrorItem::new(code, message)];
    let missing = refused(ErrorCode::WebhookSignatureMissing, "Missing Stripe-Signature header");
    assert_eq!(error_items(post_webhook(&app, &body, None).await, 400).await, missing);
    let forged = post_webhook(&app, &body, Some(sign("whsec_someone_else", now(), &body))).await;
    let invalid = refused(ErrorCode::WebhookSignatureInvalid, "Invalid Stripe-Signature");
    assert_eq!(error_items(forged, 400).await, invalid);
    let tampered = post_webhook(&app, &body.replace("obj_1", "obj_2"), Some(sign(secret, now(), &body))).await;
    assert_eq!(error_items(tampered, 400).await, invalid);
    let stale = post_webhook(&app, &body, Some(sign(secret, now() - 600, &body))).await;
    let stale_refused = refused(ErrorCode::WebhookSignatureStale, "Stale Stripe-Signature timestamp");
    assert_eq!(error_items(stale, 400).await, stale_refused);
    let malformed = "{\"id\": 1}";
    let response = post_webhook(&app, malformed, Some(sign(secret, now(), malformed))).await;
    assert_eq!(error_items(response, 400).await, refused(ErrorCode::WebhookMalformed, "Malformed webhook event"));

    let response = post_webhook(&app, &body, Some(sign(secret, now(), &body))).await;
    assert_eq!(response.status().as_u16(), 200, "a signed event we do not use is acknowledged");
    assert!(payments::store::webhook_seen(&app.db, "evt_forged").await.unwrap());
}

#[tokio::test]
async fn a_charge_whose_answer_was_lost_is_settled_by_the_webhook() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let mut spy = EventSpy::new(&app.nats, "payment.created").await;
    app.stripe.webhooks(WebhookMode::Delay(Duration::from_secs(2)));
    app.stripe.fail_after_charge(1);

    let response = app.pay("ann", "o1", "pm_card_visa").await;
    assert_eq!(response.status().as_u16(), 502, "the answer was a 500 after the charge");
    assert_eq!(app.stripe.charges().len(), 1, "but the card was charged");
    // Until the outcome is known, the order is not free for another attempt, even once the
    // attempt's hold on it has expired: the first charge may have gone through.
    assert_eq!(
        errors(app.pay("ann", "o1", "pm_card_mastercard").await, 409).await,
        vec![general("A payment for this order is in progress")]
    );
    app.db.query("UPDATE orders:o1 SET paying_until = time::now() - 1s").await.unwrap().check().unwrap();
    assert_eq!(
        errors(app.pay("ann", "o1", "pm_card_mastercard").await, 409).await,
        vec![general("A payment for this order is in progress")]
    );

    let paid = app.wait_paid("o1").await.expect("the webhook settled the order");
    let event = spy.expect("payment.created").await;
    assert_eq!(event, json!({ "id": paid, "orderId": "o1", "stripeId": app.stripe.charges()[0].id }));
    assert!(spy.next(Duration::from_millis(500)).await.is_none(), "published once");
    assert_eq!(app.stripe.charges().len(), 1, "nobody charged again");
    assert!(app.stripe.refunds().is_empty());
    assert_eq!(errors(app.pay("ann", "o1", "pm_card_visa").await, 400).await, vec![general("Order has already been paid")]);
}

#[tokio::test]
async fn a_lost_answer_and_a_dropped_webhook_are_settled_by_the_reconciler() {
    let app = spawn_app_with(&[("PAYMENT_RECONCILE_AFTER_SECONDS", "1")]).await;
    app.order("o1", "ann", 20.0).await;
    let mut spy = EventSpy::new(&app.nats, "payment.created").await;
    app.stripe.webhooks(WebhookMode::Drop);
    app.stripe.fail_after_charge(1);

    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 502);
    let paid = app.wait_paid("o1").await.expect("the reconciler asked Stripe and settled the order");
    assert_eq!(spy.expect("payment.created").await["id"], paid.as_str());
    assert!(spy.next(Duration::from_millis(500)).await.is_none(), "published once");
    let attempt = payments::store::get_attempt(&app.db, &paid).await.unwrap().expect("the attempt is kept");
    assert_eq!(attempt.state, "succeeded");
    assert_eq!(app.stripe.charges().len(), 1);
}

#[tokio::test]
async fn duplicated_webhooks_settle_once() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let mut spy = EventSpy::new(&app.nats, "payment.created").await;
    app.stripe.webhooks(WebhookMode::Duplicate);
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    let delivered = eventually(Duration::from_secs(10), || async {
        app.stripe.webhook_events().iter().any(|e| e.kind == "payment_intent.succeeded" && e.delivered == 2)
    })
    .await;
    assert!(delivered, "both copies were answered 200");
    spy.expect("payment.created").await;
    assert!(spy.next(Duration::from_millis(500)).await.is_none(), "published once");
    assert_eq!(payments::store::payments_of(&app.db, &"o1".into()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_card_that_needs_authentication_is_202_and_completes_by_webhook() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let response = app.pay("ann", "o1", "pm_card_threeDSecure2Required").await;
    assert_eq!(response.status().as_u16(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "requires_action");
    let intent = &app.stripe.payment_intents()[0];
    assert_eq!(body["clientSecret"].as_str(), Some(format!("{}_secret_{}", intent.id, &intent.id[3..]).as_str()));
    assert!(app.stripe.charges().is_empty(), "nothing charged before the customer authenticates");
    assert_eq!(app.replica("o1").await.payment_id, None);

    assert!(app.stripe.authenticate(&intent.id, true));
    let paid = app.wait_paid("o1").await.expect("the webhook settled the order");
    assert_eq!(paid.as_str(), body["id"].as_str().unwrap(), "the payment is the attempt");
}

#[tokio::test]
async fn a_failed_authentication_frees_the_order_for_another_card() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let response = app.pay("ann", "o1", "pm_card_threeDSecure2Required").await;
    assert_eq!(response.status().as_u16(), 202);
    let attempt_id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let intent = app.stripe.payment_intents()[0].id.clone();
    assert!(app.stripe.authenticate(&intent, false));
    let failed = eventually(Duration::from_secs(10), || async {
        payments::store::get_attempt(&app.db, &attempt_id.as_str().into()).await.unwrap().is_some_and(|a| a.state == "failed")
    })
    .await;
    assert!(failed, "the payment_failed webhook ended the attempt");
    let attempt = payments::store::get_attempt(&app.db, &attempt_id.as_str().into()).await.unwrap().unwrap();
    assert!(attempt.error.is_some_and(|e| e.contains("unable to authenticate")), "Stripe's reason is kept");
    // The buyer still holds the failed intent's client secret: it is cancelled, so Stripe.js
    // cannot charge it later with no attempt of ours in flight.
    let cancelled = eventually(Duration::from_secs(10), || async {
        app.stripe.payment_intents().iter().any(|i| i.id == intent && i.status == "canceled")
    })
    .await;
    assert!(cancelled, "the failed attempt's intent is cancelled at Stripe");
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    assert_eq!(app.stripe.charges().len(), 1);
}

#[tokio::test]
async fn an_attempt_never_confirmed_is_cancelled_at_stripe_and_frees_the_order() {
    let app = spawn_app_with(&[("PAYMENT_RECONCILE_AFTER_SECONDS", "1")]).await;
    app.order("o1", "ann", 20.0).await;
    // A process made the intent and died before confirming it, a while ago.
    payments::store::begin_attempt(
        &app.db,
        &payments::store::NewAttempt {
            id: &"a-stuck".into(),
            order_id: &"o1".into(),
            user_id: &"ann".into(),
            amount: 2000,
            token: "pm_card_visa",
            hold: Duration::ZERO,
            check_after: Duration::ZERO,
            limits: Default::default(),
        },
    )
    .await
    .unwrap();
    let created: Value = app
        .client
        .post(format!("{}/v1/payment_intents", app.stripe_url))
        .bearer_auth("sk_test_double")
        .form(&[("amount", "2000"), ("currency", "usd"), ("payment_method", "pm_card_visa"), ("metadata[attempt_id]", "a-stuck")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let intent = created["id"].as_str().unwrap().to_string();
    let stuck = payments::store::get_attempt(&app.db, &"a-stuck".into()).await.unwrap().unwrap();
    payments::store::set_intent(&app.db, &stuck, &intent).await.unwrap();
    app.db.query("UPDATE attempt:⟨a-stuck⟩ SET created_at = time::now() - 1h").await.unwrap().check().unwrap();
    // Until then, that attempt keeps the order from a second charge.
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 409);

    let abandoned = eventually(Duration::from_secs(10), || async {
        payments::store::get_attempt(&app.db, &"a-stuck".into()).await.unwrap().is_some_and(|a| a.state == "abandoned")
    })
    .await;
    assert!(abandoned, "the reconciler gave the attempt up");
    assert_eq!(app.stripe.payment_intents()[0].status, "canceled", "so it can never charge");
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    assert_eq!(app.stripe.charges().len(), 1);
}

/// Ann's $20 card attempt `id` for `order`, pending, checked by the reconciler only in an hour.
/// The webhook names its attempt in the intent's metadata, which anyone holding the API key
/// writes: the attempt's own record decides whether the charge is its.
#[tokio::test]
async fn a_webhook_for_another_amount_than_its_attempt_asked_settles_nothing() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let new = attempt("a-1", "o1");
    payments::store::begin_attempt(&app.db, &new.as_new()).await.unwrap();
    let form =
        [("amount", "50"), ("currency", "usd"), ("payment_method", "pm_card_visa"), ("confirm", "true"), ("metadata[attempt_id]", "a-1")];
    let created =
        app.client.post(format!("{}/v1/payment_intents", app.stripe_url)).bearer_auth("sk_test_double").form(&form).send().await.unwrap();
    assert_eq!(created.status().as_u16(), 200);
    let answered = eventually(Duration::from_secs(10), || async {
        app.stripe.webhook_events().iter().any(|e| e.kind == "payment_intent.succeeded" && e.delivered >= 1)
    })
    .await;
    assert!(answered, "the webhook was delivered and answered");
    assert_eq!(app.replica("o1").await.payment_id, None, "a $0.50 charge does not pay a $20 order");
    let attempt = payments::store::get_attempt(&app.db, &"a-1".into()).await.unwrap().unwrap();
    assert_eq!((attempt.state.as_str(), attempt.intent_id), ("pending", None), "nor does it become the attempt's intent");
}

#[tokio::test]
async fn an_intent_is_recorded_only_on_a_pending_attempt() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let Begun::Started(a1) = payments::store::begin_attempt(&app.db, &attempt("a-1", "o1").as_new()).await.unwrap() else {
        panic!("not begun")
    };
    assert!(payments::store::set_intent(&app.db, &a1, "pi_1").await.unwrap());
    assert!(payments::store::set_intent(&app.db, &a1, "pi_1").await.unwrap(), "the same intent again");
    assert!(!payments::store::set_intent(&app.db, &a1, "pi_2").await.unwrap(), "never a second intent");
    app.order("o2", "ann", 20.0).await;
    let Begun::Started(a2) = payments::store::begin_attempt(&app.db, &attempt("a-2", "o2").as_new()).await.unwrap() else {
        panic!("not begun")
    };
    // The reconciler gave it up while its request still waited for Stripe.
    let lapse = shared::events::outbox::OutboxRecord::new(&shared::events::PaymentExpired { order_id: "o2".into() }).unwrap();
    payments::store::end_attempt(&app.db, &a2, payments::domain::Ending::Abandoned, Some("never confirmed"), lapse).await.unwrap();
    assert!(
        !payments::store::set_intent(&app.db, &a2, "pi_3").await.unwrap(),
        "an ended attempt takes no intent, so it is never confirmed"
    );
}
