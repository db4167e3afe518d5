//! Each service's `/metrics` moves when an event crosses between them. The recorder is one per
//! test binary and other tests run beside these, so only a difference, before and after, and
//! "at least".
use std::time::Duration;

use serde_json::Value;
use test_support::{eventually, metric_value, scrape, NatsServer, Service};

use crate::helpers::{spawn_orders, spawn_tickets};

/// A counter's value in `text`; one never recorded is at 0.
fn count(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_value(text, name, labels).unwrap_or_default()
}

async fn metrics_of(app: &Service) -> String {
    scrape(&app.client, &app.address).await
}

#[tokio::test]
async fn an_order_moves_the_request_counter_and_the_tickets_consumer_counter() {
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[]).await;
    let id = tickets.sell("Metered").await;
    orders.wait_orderable(&id).await;

    let created = [("service", "orders"), ("method", "POST"), ("route", "/api/orders"), ("status", "201")];
    let handled = [("consumer", "tickets-service"), ("subject", "order.created"), ("outcome", "acked")];
    let (orders_before, tickets_before) = (metrics_of(&orders).await, metrics_of(&tickets).await);

    let response = orders.order("buyer", &id).await;
    assert_eq!(response.status().as_u16(), 201);
    let order: Value = response.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_string();
    // The ticket shows the order once the tickets service's handler committed.
    tickets.until_ticket(&id, |t| t["orderId"] == order_id.as_str()).await;

    let orders_after = metrics_of(&orders).await;
    assert!(
        count(&orders_after, "http_requests_total", &created) >= count(&orders_before, "http_requests_total", &created) + 1.0,
        "POST /api/orders was not counted: {orders_after}"
    );
    // The count follows the commit, before the ack.
    let before = count(&tickets_before, "events_handled_total", &handled);
    let counted = eventually(Duration::from_secs(5), || async {
        count(&metrics_of(&tickets).await, "events_handled_total", &handled) >= before + 1.0
    })
    .await;
    assert!(counted, "order.created handled by tickets was not counted: {}", metrics_of(&tickets).await);
}
