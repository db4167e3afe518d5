use orders::OrdersConfig;
use serde_json::{json, Value};
use test_support::{env, NatsServer, Service};
pub use test_support::{error_items, errors, general, publish};

/// The orders service under test; its calls by route are the harness' (`test_support::Service`).
pub type TestApp = Service;

/// Starts the orders service against `nats` with `extra` settings.
pub async fn spawn_orders(nats: &NatsServer, extra: &[(&str, &str)]) -> TestApp {
    let config = OrdersConfig::read(env(nats, extra)).expect("test configuration is valid");
    Service::serve(orders::application(config).await.expect("the orders service starts")).await
}

pub async fn spawn_app() -> (TestApp, NatsServer) {
    let nats = NatsServer::start();
    (spawn_orders(&nats, &[]).await, nats)
}

/// A ticket as the tickets service announces it, sold by `seller`.
pub fn ticket_created(id: &str, price: f64) -> Value {
    json!({ "id": id, "version": 0, "title": format!("ticket {id}"), "price": price, "userId": "seller" })
}

/// Publishes `ticket.created` and waits until the orders service knows the ticket.
pub async fn known_ticket(app: &TestApp, nats: &NatsServer, id: &str) {
    publish(nats, "ticket.created", ticket_created(id, 20.0)).await;
    app.wait_orderable(id).await;
}
