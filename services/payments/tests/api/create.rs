use serde_json::{json, Value};
use test_support::token;

use crate::helpers::*;

#[tokio::test]
async fn signed_out_is_401_and_nothing_is_charged() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let response =
        app.client.post(app.url("/api/payments")).json(&json!({ "orderId": "o1", "token": "pm_card_visa" })).send().await.unwrap();
    assert_eq!(errors(response, 401).await, vec![general("Not authorized")]);
    assert!(app.stripe.payment_intents().is_empty());
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let app = spawn_app().await;
    let response = app.client.post(app.url("/api/payments")).bearer_auth(token("ann")).json(&json!({})).send().await.unwrap();
    assert_eq!(
        error_items(response, 400).await,
        vec![
            ErrorItem::field(ErrorCode::OrderIdRequired, "orderId", "OrderId must be provided"),
            ErrorItem::field(ErrorCode::TokenRequired, "token", "Token must be provided"),
        ]
    );
    let response = app.pay("ann", "o1", "4242 4242 4242 4242").await;
    let message = "Token must be a Stripe payment method (pm_…) or card token (tok_…)";
    assert_eq!(error_items(response, 400).await, vec![ErrorItem::field(ErrorCode::TokenInvalid, "token", message)]);
    let response = app
        .client
        .post(app.url("/api/payments"))
        .bearer_auth(token("ann"))
        .json(&json!({ "orderId": 7, "token": "pm_card_visa" }))
        .send()
        .await
        .unwrap();
    assert_eq!(errors(response, 400).await[0].1.as_deref(), Some("orderId"));
}

#[tokio::test]
async fn an_unknown_order_is_404() {
    let app = spawn_app().await;
    assert_eq!(errors(app.pay("ann", "nope", "pm_card_visa").await, 404).await, vec![general("Not Found")]);
}

#[tokio::test]
async fn someone_elses_order_is_401() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    assert_eq!(errors(app.pay("bob", "o1", "pm_card_visa").await, 401).await, vec![general("Not authorized")]);
    assert!(app.stripe.payment_intents().is_empty());
}

#[tokio::test]
async fn a_cancelled_order_cannot_be_paid() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    publish(&app.nats, "order.cancelled", json!({ "id": "o1", "version": 1, "ticket": { "id": "t-o1" } })).await;
    app.wait_version("o1", 1).await;
    let cancelled = ErrorItem::new(ErrorCode::OrderCancelled, "Cannot pay for a cancelled order");
    assert_eq!(error_items(app.pay("ann", "o1", "pm_card_visa").await, 400).await, vec![cancelled]);
    assert!(app.stripe.payment_intents().is_empty());
}

#[tokio::test]
async fn a_valid_payment_charges_the_price_in_cents_and_records_stripes_id() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.5).await;
    let mut spy = EventSpy::new(&app.nats, "payment.created").await;
    let response = app.pay("ann", "o1", "pm_card_visa").await;
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    let payment_id = body["id"].as_str().expect("the payment's id");

    let charges = app.stripe.charges();
    assert_eq!(charges.len(), 1);
    assert_eq!((charges[0].amount, charges[0].currency.as_str()), (2050, "usd"));
    let mut metadata = charges[0].metadata.clone();
    metadata.sort();
    let expected = vec![("attempt_id".to_string(), payment_id.to_string()), ("order_id".to_string(), "o1".to_string())];
    assert_eq!(metadata, expected, "the intent names its order and the attempt, whose id the payment takes");

    let stored = payments::store::get_payment(&app.db, &payment_id.into()).await.unwrap().expect("payment stored");
    assert_eq!((stored.order_id.as_str(), stored.stripe_id.as_str(), stored.amount), ("o1", charges[0].id.as_str(), 2050));
    let event = spy.expect("payment.created").await;
    assert_eq!(event, json!({ "id": payment_id, "orderId": "o1", "stripeId": charges[0].id }));
}

#[tokio::test]
async fn a_legacy_card_token_pays_too() {
    let app = spawn_app().await;
    app.order("o1", "ann", 15.0).await;
    assert_eq!(app.pay("ann", "o1", "tok_visa").await.status().as_u16(), 201);
    let charges = app.stripe.charges();
    assert_eq!(charges.len(), 1);
    assert!(charges[0].payment_method.starts_with("pm_"), "Stripe made a PaymentMethod of the token");
}

#[tokio::test]
async fn a_declined_card_is_402_with_stripes_message_and_another_card_then_pays() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let response = app.pay("ann", "o1", "pm_card_chargeDeclined").await;
    // Stripe's words, and one code whatever they are.
    let declined = ErrorItem::new(ErrorCode::CardDeclined, "Your card was declined.");
    assert_eq!(error_items(response, 402).await, vec![declined]);
    let response = app.pay("ann", "o1", "tok_chargeDeclinedInsufficientFunds").await;
    let insufficient = ErrorItem::new(ErrorCode::CardDeclined, "Your card has insufficient funds.");
    assert_eq!(error_items(response, 402).await, vec![insufficient]);
    let replica = app.replica("o1").await;
    assert_eq!((replica.status.as_str(), replica.payment_id), ("created", None), "the order stays payable");
    let intents = app.stripe.payment_intents();
    assert!(intents.iter().all(|i| i.status == "canceled"), "a declined attempt's intent is cancelled: {intents:?}");

    assert_eq!(app.pay("ann", "o1", "pm_card_mastercard").await.status().as_u16(), 201);
    assert_eq!(app.stripe.charges().len(), 1);
}

#[tokio::test]
async fn a_payment_method_stripe_does_not_know_is_a_token_error() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let response = app.pay("ann", "o1", "pm_card_doesNotExist").await;
    let unknown = ErrorItem::field(ErrorCode::TokenUnknown, "token", "No such PaymentMethod: 'pm_card_doesNotExist'");
    assert_eq!(error_items(response, 400).await, vec![unknown]);
}

#[tokio::test]
async fn a_paid_order_cannot_be_paid_again() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    // Known at once from payments' own records, before order.completed comes back.
    let paid = ErrorItem::new(ErrorCode::OrderPaid, "Order has already been paid");
    assert_eq!(error_items(app.pay("ann", "o1", "pm_card_mastercard").await, 400).await, vec![paid]);
    assert_eq!(errors(app.pay("ann", "o1", "pm_card_visa").await, 400).await, vec![general("Order has already been paid")]);
    assert_eq!(app.stripe.payment_intents().len(), 1, "no second call to Stripe");
}

#[tokio::test]
async fn a_completed_order_cannot_be_paid() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    publish(&app.nats, "order.completed", json!({ "id": "o1", "version": 1, "ticket": { "id": "t-o1" } })).await;
    app.wait_version("o1", 1).await;
    assert_eq!(errors(app.pay("ann", "o1", "pm_card_visa").await, 400).await, vec![general("Order has already been paid")]);
}

/// A card tester's loop: one cheap order, card after card. The sixth card for the order is
/// refused before Stripe is asked, and so is a working card: the order is spent.
#[tokio::test]
async fn five_declined_cards_for_one_order_stop_further_attempts_before_stripe_is_asked() {
    let app = spawn_app().await;
    app.order("o1", "tester", 0.5).await;
    for attempt in 0..5 {
        assert_eq!(app.pay("tester", "o1", "pm_card_chargeDeclined").await.status().as_u16(), 402, "declined card {attempt}");
    }
    let asked = app.stripe.payment_intents().len();
    for card in ["pm_card_chargeDeclined", "pm_card_visa"] {
        let response = app.pay("tester", "o1", card).await;
        assert_eq!(errors(response, 429).await, vec![general("Too many requests")], "{card}");
    }
    assert_eq!(app.stripe.payment_intents().len(), asked, "no card reached Stripe after the limit");
    assert!(app.stripe.charges().is_empty());
}

/// The same tester spreading cards over many orders is stopped by the buyer's hourly limit,
/// counted over concurrent attempts, while another buyer pays as usual.
#[tokio::test]
async fn a_buyer_is_stopped_after_the_hours_declines_over_all_their_orders() {
    let app = spawn_app_with(&[("DECLINES_PER_ORDER", "5"), ("DECLINES_PER_BUYER_PER_HOUR", "6")]).await;
    for i in 0..4 {
        app.order(&format!("o{i}"), "tester", 0.5).await;
    }
    // Four orders' cards at once, three rounds: at most six reach Stripe and are declined.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let round = futures_util::future::join_all((0..4).map(|i| {
            let app = &app;
            async move { app.pay("tester", &format!("o{i}"), "pm_card_chargeDeclined").await }
        }))
        .await;
        statuses.extend(round.iter().map(|r| r.status().as_u16()));
    }
    assert_eq!(statuses.iter().filter(|s| **s == 402).count(), 6, "{statuses:?}");
    assert!(statuses.iter().all(|s| [402, 429, 409].contains(s)), "{statuses:?}");
    let response = app.pay("tester", "o0", "pm_card_visa").await;
    assert_eq!(errors(response, 429).await, vec![general("Too many requests")]);
    app.order("o9", "ann", 20.0).await;
    assert_eq!(app.pay("ann", "o9", "pm_card_visa").await.status().as_u16(), 201);
}
