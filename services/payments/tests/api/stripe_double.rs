//! The Stripe double's responses parse in async-stripe, errors included: what the payments
//! service relies on when it runs against the double instead of Stripe.
use std::collections::HashMap;

use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::{CreatePaymentIntent, RetrievePaymentIntent};
use stripe_core::refund::CreateRefund;
use stripe_double::StripeDouble;

async fn client() -> (StripeDouble, stripe::Client) {
    let (double, address) = StripeDouble::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let client = stripe::ClientBuilder::new("sk_test_double").url(format!("http://{address}/")).build().unwrap();
    (double, client)
}

fn visa(amount: i64) -> CreatePaymentIntent {
    CreatePaymentIntent::new(amount, stripe_types::Currency::USD)
        .confirm(true)
        .payment_method("pm_card_visa")
        .metadata(HashMap::from([("order_id".to_string(), "o1".to_string())]))
}

#[tokio::test]
async fn a_payment_intent_a_retrieval_and_a_refund_parse() {
    let (_, client) = client().await;
    let intent = visa(1999).send(&client).await.expect("a succeeded intent parses");
    assert_eq!((intent.amount, intent.currency, intent.status.as_str()), (1999, stripe_types::Currency::USD, "succeeded"));
    assert_eq!(intent.metadata.get("order_id").map(String::as_str), Some("o1"));

    let fetched = RetrievePaymentIntent::new(intent.id.clone()).send(&client).await.expect("retrieval parses");
    assert_eq!((fetched.id, fetched.amount_received), (intent.id.clone(), 1999));

    let refund = CreateRefund::new().payment_intent(intent.id.to_string()).send(&client).await.expect("a refund parses");
    assert_eq!((refund.amount, refund.status.as_deref()), (1999, Some("succeeded")));
    let again = CreateRefund::new().payment_intent(intent.id.to_string()).send(&client).await.unwrap_err();
    assert!(
        matches!(&again, StripeError::Stripe(e, 400) if e.code.as_ref().map(|c| c.as_str()) == Some("charge_already_refunded")),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_decline_and_an_unknown_method_are_stripe_errors_with_their_details() {
    let (_, client) = client().await;
    let declined = CreatePaymentIntent::new(500, stripe_types::Currency::USD)
        .confirm(true)
        .payment_method("pm_card_chargeDeclined")
        .send(&client)
        .await
        .unwrap_err();
    let StripeError::Stripe(error, 402) = declined else { panic!("a 402 card error, got {declined:?}") };
    assert_eq!(error.type_.as_str(), "card_error");
    assert_eq!(error.code.as_ref().map(|c| c.as_str()), Some("card_declined"));
    assert_eq!(error.decline_code.as_deref(), Some("generic_decline"));
    assert_eq!(error.message.as_deref(), Some("Your card was declined."));
    assert_eq!(error.payment_intent.map(|pi| pi.status.as_str().to_string()).as_deref(), Some("requires_payment_method"));

    let unknown =
        CreatePaymentIntent::new(500, stripe_types::Currency::USD).confirm(true).payment_method("pm_nope").send(&client).await.unwrap_err();
    let StripeError::Stripe(error, 400) = unknown else { panic!("a 400, got {unknown:?}") };
    assert_eq!((error.code.as_ref().map(|c| c.as_str()), error.param.as_deref()), (Some("resource_missing"), Some("payment_method")));
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_result() {
    let (double, client) = client().await;
    let key = || RequestStrategy::Idempotent(IdempotencyKey::new("charge-o1-pm_card_visa").unwrap());
    let first = visa(1000).customize().request_strategy(key()).send(&client).await.unwrap();
    let second = visa(1000).customize().request_strategy(key()).send(&client).await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(double.charges().len(), 1);
    let other = visa(2000).customize().request_strategy(key()).send(&client).await.unwrap_err();
    assert!(matches!(&other, StripeError::Stripe(e, 400) if e.type_.as_str() == "idempotency_error"), "{other:?}");
}

#[tokio::test]
async fn a_key_that_is_not_a_test_key_is_refused() {
    let (_, address) = StripeDouble::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let client = stripe::ClientBuilder::new("sk_live_real").url(format!("http://{address}/")).build().unwrap();
    let refused = visa(1000).send(&client).await.unwrap_err();
    assert!(matches!(refused, StripeError::Stripe(_, 401)), "{refused:?}");
}
