//! The Stripe double's responses parse in async-stripe, errors included: what the payments
//! service relies on when it runs against the double instead of Stripe.
use std::collections::HashMap;

use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::{CreatePaymentIntent, RetrievePaymentIntent};
use stripe_core::refund::CreateRefund;
use stripe_double::StripeDouble;

async fn client() -> (StripeDouble, stripe::Client) {
    install_crypto();
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

/// async-stripe asks rustls for the process's provider, as the gateway does (see gateway.rs); a
/// test that builds its own client must not depend on another test having built a gateway.
fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[tokio::test]
async fn a_key_that_is_not_a_test_key_is_refused() {
    install_crypto();
    let (_, address) = StripeDouble::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let client = stripe::ClientBuilder::new("sk_live_real").url(format!("http://{address}/")).build().unwrap();
    let refused = visa(1000).send(&client).await.unwrap_err();
    assert!(matches!(refused, StripeError::Stripe(_, 401)), "{refused:?}");
}

fn key(raw: &str) -> RequestStrategy {
    RequestStrategy::Idempotent(IdempotencyKey::new(raw).unwrap())
}

#[tokio::test]
async fn a_500_in_the_middle_of_execution_is_kept_for_its_key_and_a_validation_error_is_not() {
    let (double, client) = client().await;
    double.fail_after_charge(1);
    let first = visa(1000).customize().request_strategy(key("k1")).send(&client).await.unwrap_err();
    assert!(matches!(first, StripeError::Stripe(_, 500)), "{first:?}");
    assert_eq!(double.charges().len(), 1, "the charge happened");
    // The same key replays the 500: only a new attempt (a new key) or a retrieval tells more.
    let again = visa(1000).customize().request_strategy(key("k1")).send(&client).await.unwrap_err();
    assert!(matches!(again, StripeError::Stripe(_, 500)), "{again:?}");
    assert_eq!(double.charges().len(), 1, "and was not made again");

    // A request refused before execution is not kept: the same key then works.
    let invalid = visa(10).customize().request_strategy(key("k2")).send(&client).await.unwrap_err();
    assert!(matches!(&invalid, StripeError::Stripe(e, 400) if e.code.as_ref().map(|c| c.as_str()) == Some("amount_too_small")));
    visa(1000).customize().request_strategy(key("k2")).send(&client).await.expect("the key was free");
}

#[tokio::test]
async fn a_key_in_use_by_a_request_in_flight_gets_a_409() {
    let (double, client) = client().await;
    double.slow_charges_by(Some(std::time::Duration::from_secs(2)));
    let first = tokio::spawn({
        let client = client.clone();
        async move { visa(1000).customize().request_strategy(key("k1")).send(&client).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let second = visa(1000).customize().request_strategy(key("k1")).send(&client).await.unwrap_err();
    assert!(matches!(&second, StripeError::Stripe(e, 409) if e.type_.as_str() == "idempotency_error"), "{second:?}");
    first.await.unwrap().expect("the first goes through");
    assert_eq!(double.charges().len(), 1);
}

#[tokio::test]
async fn redirect_capable_methods_need_a_return_url_and_3ds_needs_action() {
    use stripe_core::payment_intent::{ConfirmPaymentIntent, CreatePaymentIntentAutomaticPaymentMethods};
    let (double, client) = client().await;
    let redirects = CreatePaymentIntent::new(1000, stripe_types::Currency::USD)
        .confirm(true)
        .payment_method("pm_card_visa")
        .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods::new(true))
        .send(&client)
        .await
        .unwrap_err();
    assert!(matches!(&redirects, StripeError::Stripe(e, 400) if e.param.as_deref() == Some("return_url")), "{redirects:?}");
    assert!(double.payment_intents().is_empty());

    let intent = CreatePaymentIntent::new(1000, stripe_types::Currency::USD)
        .payment_method("pm_card_threeDSecure2Required")
        .send(&client)
        .await
        .unwrap();
    assert_eq!(intent.status.as_str(), "requires_confirmation");
    let confirmed = ConfirmPaymentIntent::new(intent.id.clone()).send(&client).await.unwrap();
    assert_eq!(confirmed.status.as_str(), "requires_action");
    assert!(confirmed.next_action.is_some() && confirmed.client_secret.is_some());
    assert!(double.charges().is_empty());
}

#[tokio::test]
async fn the_double_refuses_what_stripe_cannot_charge_in_usd() {
    let (double, client) = client().await;
    let too_large = visa(100_000_000).send(&client).await.unwrap_err();
    assert!(
        matches!(&too_large, StripeError::Stripe(e, 400) if e.code.as_ref().map(|c| c.as_str()) == Some("amount_too_large")),
        "{too_large:?}"
    );
    visa(99_999_999).send(&client).await.expect("$999,999.99 is Stripe's largest USD charge");
    assert_eq!(double.payment_intents().len(), 1);
}
