//! Every service started as its own tests start it (in this process, an in-memory database, on
//! a free port), against one nats-server.
use stripe_double::StripeDouble;
use test_support::{env, NatsServer, Service};

pub async fn spawn_auth(nats: &NatsServer, extra: &[(&str, &str)]) -> Service {
    let config = auth::AuthConfig::read(env(nats, extra)).expect("valid configuration");
    Service::serve(auth::application(config).await.expect("auth starts")).await
}

pub async fn spawn_tickets(nats: &NatsServer, extra: &[(&str, &str)]) -> Service {
    let config = tickets::TicketsConfig::read(env(nats, extra)).expect("valid configuration");
    Service::serve(tickets::application(config).await.expect("tickets starts")).await
}

pub async fn spawn_orders(nats: &NatsServer, extra: &[(&str, &str)]) -> Service {
    let config = orders::OrdersConfig::read(env(nats, extra)).expect("valid configuration");
    Service::serve(orders::application(config).await.expect("orders starts")).await
}

/// Expiration has no HTTP API beside its probes; it is ready once it answers them.
pub async fn spawn_expiration(nats: &NatsServer) {
    let config = expiration::ExpirationConfig::read(env(nats, &[])).expect("valid configuration");
    Service::serve(expiration::application(config).await.expect("expiration starts")).await;
}

/// Payments against a Stripe double of its own, which the test can ask what was charged.
pub async fn spawn_payments(nats: &NatsServer) -> (Service, StripeDouble) {
    let (stripe, address) = StripeDouble::start(([127, 0, 0, 1], 0).into()).await.expect("the Stripe double starts");
    let base = format!("http://{address}");
    let config = payments::PaymentsConfig::read(env(nats, &[("STRIPE_API_BASE", &base)])).expect("valid configuration");
    (Service::serve(payments::application(config).await.expect("payments starts")).await, stripe)
}
