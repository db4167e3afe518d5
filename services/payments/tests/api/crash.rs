//! The payments process killed for real right after Stripe charged, before it wrote anything:
//! the charge still settles the order, and nobody paid twice.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use stripe_double::{StripeDouble, WebhookMode};
use test_support::{eventually, free_port, publish, token, EventSpy, NatsServer};

use crate::helpers::{errors, general, order_created};

fn start(data: &std::path::Path, port: u16, nats: &NatsServer, stripe: &std::net::SocketAddr) -> Child {
    Command::new(env!("CARGO_BIN_EXE_payments"))
        .env("PORT", port.to_string())
        .env("DATABASE_URL", format!("surrealkv://{}", data.join("payments").display()))
        .env("NATS_URL", nats.url())
        .env("STRIPE_API_BASE", format!("http://{stripe}"))
        .env("PAYMENT_RECONCILE_AFTER_SECONDS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the payments binary starts")
}

#[tokio::test]
async fn a_process_killed_after_stripe_charged_settles_the_charge_when_it_starts_again() {
    let nats = NatsServer::start();
    let data = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let port = free_port();
    let (stripe, stripe_address) = StripeDouble::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    // No webhook gets through: the process must find out from Stripe by itself.
    stripe.webhooks(WebhookMode::Drop);
    let base = format!("http://127.0.0.1:{port}");

    let mut first = start(data.path(), port, &nats, &stripe_address);
    test_support::wait_ready(&client, &base).await;
    publish(&nats, "order.created", order_created("o1", "ann", 20.0)).await;
    let known = eventually(Duration::from_secs(10), || async { test_support::all_acked(&nats, "payments-service").await }).await;
    assert!(known, "payments never took the order");

    // Stripe charges at once and answers late: the process dies waiting for the answer.
    stripe.slow_charges_by(Some(Duration::from_secs(60)));
    let paying = tokio::spawn({
        let (client, url) = (client.clone(), format!("{base}/api/payments"));
        async move { client.post(url).bearer_auth(token("ann")).json(&json!({ "orderId": "o1", "token": "pm_card_visa" })).send().await }
    });
    assert!(eventually(Duration::from_secs(10), || async { stripe.charges().len() == 1 }).await, "the card was charged");
    first.kill().expect("kill -9");
    first.wait().unwrap();
    assert!(paying.await.unwrap().is_err(), "the buyer got no answer");
    stripe.slow_charges_by(None);

    let mut spy = EventSpy::new(&nats, "payment.created").await;
    let mut second = start(data.path(), port, &nats, &stripe_address);
    let event = spy.expect("payment.created").await;
    assert_eq!((event["orderId"].as_str(), event["stripeId"].as_str()), (Some("o1"), Some(stripe.charges()[0].id.as_str())));
    assert!(spy.next(Duration::from_millis(500)).await.is_none(), "published once");
    assert_eq!(stripe.charges().len(), 1, "nobody charged again");
    assert!(stripe.refunds().is_empty(), "the charge settled the order");

    // The buyer, back on the page, is told the order is paid.
    let again =
        client.post(format!("{base}/api/payments")).bearer_auth(token("ann")).json(&json!({ "orderId": "o1", "token": "pm_card_visa" }));
    assert_eq!(errors(again.send().await.unwrap(), 400).await, vec![general("Order has already been paid")]);
    second.kill().ok();
    second.wait().ok();
}
