//! Double submits and the race between paying and expiring: never two charges kept for one
//! order, never a paid order cancelled without its money back.
use std::time::Duration;

use serde_json::json;
use test_support::{eventually, wait_acked};

use crate::helpers::*;
use payments::store;

/// The one that lost: 409 while the other attempt is in flight, or "already paid" after it.
async fn lost(response: reqwest::Response) {
    match response.status().as_u16() {
        409 => assert_eq!(errors(response, 409).await, vec![general("A payment for this order is in progress")]),
        _ => assert_eq!(errors(response, 400).await, vec![general("Order has already been paid")]),
    }
}

#[tokio::test]
async fn a_double_submit_is_one_charge_and_one_201() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let (first, second) = tokio::join!(app.pay("ann", "o1", "pm_card_visa"), app.pay("ann", "o1", "pm_card_visa"));
    let (winner, loser) = if first.status().as_u16() == 201 { (first, second) } else { (second, first) };
    assert_eq!(winner.status().as_u16(), 201);
    lost(loser).await;
    assert_eq!(app.stripe.payment_intents().len(), 1, "the second submission never reached Stripe");
    assert_eq!(app.stripe.charges().len(), 1);
}

#[tokio::test]
async fn a_second_card_while_the_first_is_at_stripe_gets_409_and_is_never_charged() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    app.stripe.hold();
    let first = app.pay_in_background("ann", "o1", "pm_card_visa");
    assert!(eventually(Duration::from_secs(5), || async { app.stripe.held() == 1 }).await, "the first attempt reached Stripe");
    let second = app.pay("ann", "o1", "pm_card_mastercard").await;
    let in_progress = ErrorItem::new(ErrorCode::PaymentInProgress, "A payment for this order is in progress");
    assert_eq!(error_items(second, 409).await, vec![in_progress]);
    app.stripe.release();
    assert_eq!(first.await.unwrap().status().as_u16(), 201);
    let charges = app.stripe.charges();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].payment_method, "pm_card_visa");
    assert!(app.stripe.refunds().is_empty(), "nothing to give back");
    // Once the first is settled, the order is paid, not in progress.
    assert_eq!(errors(app.pay("ann", "o1", "pm_card_mastercard").await, 400).await, vec![general("Order has already been paid")]);
}

#[tokio::test]
async fn an_attempt_whose_process_died_holds_the_order_only_until_its_mark_expires() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    // An attempt begun by a process that died before calling Stripe, its mark already expired.
    let begun = store::begin_attempt(
        &app.db,
        &payments::store::NewAttempt {
            id: &"a-dead".into(),
            order_id: &"o1".into(),
            user_id: &"ann".into(),
            amount: 2000,
            token: "pm_card_visa",
            hold: Duration::ZERO,
            check_after: Duration::from_secs(60),
            limits: Default::default(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(begun, store::Begun::Started(_)));
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    // The same, with its mark still valid: 409.
    app.order("o2", "ann", 20.0).await;
    store::begin_attempt(
        &app.db,
        &payments::store::NewAttempt {
            id: &"a-live".into(),
            order_id: &"o2".into(),
            user_id: &"ann".into(),
            amount: 2000,
            token: "pm_card_visa",
            hold: Duration::from_secs(60),
            check_after: Duration::from_secs(60),
            limits: Default::default(),
        },
    )
    .await
    .unwrap();
    assert_eq!(app.pay("ann", "o2", "pm_card_visa").await.status().as_u16(), 409);
}

#[tokio::test]
async fn an_order_cancelled_while_its_charge_is_at_stripe_is_refunded_and_refused() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    app.stripe.hold();
    let paying = app.pay_in_background("ann", "o1", "pm_card_visa");
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
    let payments = payments::store::payments_of(&app.db, &"o1".into()).await.unwrap();
    assert_eq!(payments.len(), 1);
    assert!(
        eventually(Duration::from_secs(5), || async {
            payments::store::payments_of(&app.db, &"o1".into()).await.unwrap()[0].refund == "done"
        })
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
    // The cancellation is handled and acked: the refund is due and the refunder was woken.
    wait_acked(&app.nats, "payments-service", Duration::from_secs(10)).await;
    assert_eq!(payments::store::payments_of(&app.db, &"o1".into()).await.unwrap()[0].refund, "due");
    // A failed try leaves no trace to wait for: give the refunder's first pass time to meet
    // the failing Stripe.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(app.stripe.refunds().is_empty());
    app.stripe.fail_with(None);
    assert!(app.wait_refunds(1).await, "refunded once Stripe is back");
    // Recorded as done, the refund is due no more: no pass can give it back again.
    let done = eventually(Duration::from_secs(5), || async {
        payments::store::payments_of(&app.db, &"o1".into()).await.unwrap()[0].refund == "done"
    })
    .await;
    assert!(done, "the refund is recorded");
    assert_eq!(app.stripe.refunds().len(), 1, "refunded once");
}

/// A charge Stripe does not know: every refund of it is refused (400, `resource_missing`). Its
/// id sorts before every real payment's, so the refunder meets it first.
async fn keep_unrefundable(app: &TestApp) -> &'static str {
    let id = "00000000000000000000000000000000";
    let charge = payments::store::Charge { payment_id: &id.into(), order_id: &"o0".into(), stripe_id: "pi_unknown", amount: 2000 };
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
    let stuck = payments::store::get_payment(&app.db, &stuck.into()).await.unwrap().unwrap();
    assert_eq!((stuck.refund.as_str(), stuck.refund_attempts), ("due", 1), "counted once, to be tried again later");
    assert!(stuck.refund_error.is_some_and(|e| e.contains("No such payment_intent")));
}

#[tokio::test]
async fn a_refund_refused_too_often_is_parked_until_an_operator_retries_it() {
    use payments::store;
    let app = spawn_app().await;
    let stuck = keep_unrefundable(&app).await;
    store::refund_refused(&app.db, &stuck.into(), payments::refunds::MAX_ATTEMPTS, "refused", None).await.unwrap();
    let parked = store::refunds_in(&app.db, payments::domain::RefundState::Parked).await.unwrap();
    assert_eq!(parked.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), vec![stuck]);
    // What an operator's alert watches.
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "payments_refunds_parked 1"), "{metrics}");
    assert!(store::due_refunds(&app.db, 20, &[]).await.unwrap().is_empty(), "a parked refund is not tried");

    assert_eq!(store::unpark_refunds(&app.db, Some(&stuck.into())).await.unwrap(), 1);
    // Due again (the refunder may already have been refused once more: it stays due).
    assert_eq!(store::get_payment(&app.db, &stuck.into()).await.unwrap().unwrap().refund, "due");
    assert!(store::refunds_in(&app.db, payments::domain::RefundState::Parked).await.unwrap().is_empty());
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "payments_refunds_parked 0"), "{metrics}");
}
