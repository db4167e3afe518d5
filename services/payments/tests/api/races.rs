//! Double submits and the race between paying and expiring: never two charges kept for one
//! order, never a paid order cancelled without its money back.
use std::time::Duration;

use serde_json::json;
use test_support::eventually;

use crate::helpers::*;

#[tokio::test]
async fn a_double_submit_is_one_charge_and_one_201() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let (first, second) = tokio::join!(app.pay("ann", "o1", "pm_card_visa"), app.pay("ann", "o1", "pm_card_visa"));
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 400]);
    let loser = if first.status().as_u16() == 400 { first } else { second };
    assert_eq!(errors(loser, 400).await, vec![general("Order has already been paid")]);
    assert_eq!(app.stripe.charges().len(), 1, "Stripe replayed the first charge for the same key");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.stripe.refunds().is_empty(), "the one charge is kept");
}

#[tokio::test]
async fn two_cards_at_once_keep_one_charge_and_refund_the_other() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let (first, second) = tokio::join!(app.pay("ann", "o1", "pm_card_visa"), app.pay("ann", "o1", "pm_card_mastercard"));
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 400]);
    let charges = app.stripe.charges();
    // Either both reached Stripe (one is refunded) or the second was refused before it.
    assert!(app.wait_refunds(charges.len() - 1).await, "every charge but one is refunded");
    let kept = app.replica("o1").await.payment_id.expect("the order is paid");
    let kept = payments::store::get_payment(&app.db, &kept).await.unwrap().unwrap();
    assert!(app.stripe.refunds().iter().all(|r| r.payment_intent != kept.stripe_id), "the kept charge is not refunded");
}

#[tokio::test]
async fn an_order_cancelled_while_its_charge_is_at_stripe_is_refunded_and_refused() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    app.stripe.hold();
    let paying = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url("/api/payments"));
        async move {
            client
                .post(url)
                .bearer_auth(test_support::token("ann"))
                .json(&json!({ "orderId": "o1", "token": "pm_card_visa" }))
                .send()
                .await
                .unwrap()
        }
    });
    assert!(eventually(Duration::from_secs(5), || async { app.stripe.held() == 1 }).await, "the charge reached Stripe");
    // The order expires while Stripe is charging the card.
    publish(&app.nats, "order.cancelled", json!({ "id": "o1", "version": 1, "ticket": { "id": "t-o1" } })).await;
    app.wait_version("o1", 1).await;
    app.stripe.release();

    let response = paying.await.unwrap();
    assert_eq!(errors(response, 400).await, vec![general("Cannot pay for a cancelled order")]);
    assert!(app.wait_refunds(1).await, "the charge is refunded");
    assert_eq!(app.stripe.refunds()[0].payment_intent, app.stripe.charges()[0].id);
    assert_eq!(app.stripe.refunds()[0].amount, 2000);
    assert_eq!(app.replica("o1").await.status, "cancelled");
}

#[tokio::test]
async fn a_payment_recorded_before_the_expiry_arrived_is_refunded_when_the_cancellation_comes() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    // Orders had already cancelled the order on expiry, so it ignores payment.created and
    // announces the cancellation instead.
    publish(&app.nats, "order.cancelled", json!({ "id": "o1", "version": 1, "ticket": { "id": "t-o1" } })).await;
    assert!(app.wait_refunds(1).await, "the charge is refunded");
    assert_eq!(app.stripe.refunds()[0].payment_intent, app.stripe.charges()[0].id);
    let payments = payments::store::payments_of(&app.db, "o1").await.unwrap();
    assert_eq!(payments.len(), 1);
    assert!(
        eventually(Duration::from_secs(5), || async { payments::store::payments_of(&app.db, "o1").await.unwrap()[0].refund == "done" })
            .await
    );
}

#[tokio::test]
async fn a_refund_that_fails_at_stripe_is_retried_until_it_succeeds() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    app.stripe.fail_with(Some(500));
    publish(&app.nats, "order.cancelled", json!({ "id": "o1", "version": 1, "ticket": { "id": "t-o1" } })).await;
    app.wait_version("o1", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(app.stripe.refunds().is_empty());
    app.stripe.fail_with(None);
    assert!(app.wait_refunds(1).await, "refunded once Stripe is back");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.stripe.refunds().len(), 1, "refunded once");
}

/// A charge Stripe does not know: every refund of it is refused (400, `resource_missing`). Its
/// id sorts before every real payment's, so the refunder meets it first.
async fn keep_unrefundable(app: &TestApp) -> &'static str {
    let id = "00000000000000000000000000000000";
    let charge = payments::store::Charge { payment_id: id, order_id: "o0", stripe_id: "pi_unknown", amount: 2000 };
    payments::store::keep_for_refund(&app.db, &charge).await.unwrap();
    id
}

#[tokio::test]
async fn a_refund_stripe_keeps_refusing_does_not_hold_up_the_others() {
    let app = spawn_app().await;
    let stuck = keep_unrefundable(&app).await;
    app.order("o1", "ann", 20.0).await;
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    publish(&app.nats, "order.cancelled", json!({ "id": "o1", "version": 1, "ticket": { "id": "t-o1" } })).await;
    assert!(app.wait_refunds(1).await, "the paid order's charge is refunded");
    assert_eq!(app.stripe.refunds()[0].amount, 2000);
    let stuck = payments::store::get_payment(&app.db, stuck).await.unwrap().unwrap();
    assert_eq!((stuck.refund.as_str(), stuck.refund_attempts), ("due", 1), "counted once, to be tried again later");
    assert!(stuck.refund_error.is_some_and(|e| e.contains("No such payment_intent")));
}

#[tokio::test]
async fn a_refund_refused_too_often_is_parked_until_an_operator_retries_it() {
    use payments::store;
    let app = spawn_app().await;
    let stuck = keep_unrefundable(&app).await;
    store::refund_refused(&app.db, stuck, payments::refunds::MAX_ATTEMPTS, "refused", None).await.unwrap();
    let parked = store::refunds_in(&app.db, "parked").await.unwrap();
    assert_eq!(parked.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), vec![stuck]);
    assert!(store::due_refunds(&app.db, 20, &[]).await.unwrap().is_empty(), "a parked refund is not tried");

    assert_eq!(store::unpark_refunds(&app.db, Some(stuck)).await.unwrap(), 1);
    // Due again (the refunder may already have been refused once more: it stays due).
    assert_eq!(store::get_payment(&app.db, stuck).await.unwrap().unwrap().refund, "due");
    assert!(store::refunds_in(&app.db, "parked").await.unwrap().is_empty());
}
