//! Stripe unreachable or failing: a clear 503/502 in the error shape, and the order stays payable.
use stripe_double::StripeDouble;
use test_support::NatsServer;

use crate::helpers::*;

#[tokio::test]
async fn stripe_unreachable_is_503_and_the_order_stays_payable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{closed}");
    let app = spawn_with(NatsServer::start(), StripeDouble::default(), &[("STRIPE_API_BASE", &base)]).await;
    app.order("o1", "ann", 20.0).await;
    let response = app.pay("ann", "o1", "pm_card_visa").await;
    let message = "Payment provider unreachable, please try again";
    assert_eq!(error_items(response, 503).await, vec![ErrorItem::new(ErrorCode::PaymentProviderUnavailable, message)]);
    assert_eq!(app.replica("o1").await.payment_id, None);
}

#[tokio::test]
async fn stripe_failing_is_502_and_a_retry_after_it_recovers_pays() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    app.stripe.fail_with(Some(500));
    let response = app.pay("ann", "o1", "pm_card_visa").await;
    let failed = ErrorItem::new(ErrorCode::PaymentProviderFailed, "Payment provider failed, please try again");
    assert_eq!(error_items(response, 502).await, vec![failed]);
    app.stripe.fail_with(None);
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 201);
    assert_eq!(app.stripe.charges().len(), 1);
}

#[tokio::test]
async fn a_key_stripe_refuses_is_502_not_a_decline() {
    let nats = NatsServer::start();
    let (stripe, address) = StripeDouble::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let base = format!("http://{address}");
    let app = spawn_with(nats, stripe, &[("STRIPE_API_BASE", &base), ("STRIPE_SECRET_KEY", "sk_live_not_for_a_double")]).await;
    app.order("o1", "ann", 20.0).await;
    assert_eq!(app.pay("ann", "o1", "pm_card_visa").await.status().as_u16(), 502);
}
