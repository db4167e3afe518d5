//! `/metrics` on the service's own port: Prometheus' text format, and series that move when
//! their events happen. The recorder is one per test binary and other tests run beside these,
//! so only one series' difference, before and after, means anything, and "at least".
use std::time::Duration;

use serde_json::Value;
use test_support::{eventually, metric_value, scrape, NatsServer};

use crate::flow::{sell, spawn_tickets, until_ticket};
use crate::helpers::{spawn_app, spawn_orders, TestApp};

/// A series' value in `text`; a series never recorded is a counter at 0.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_value(text, name, labels).unwrap_or(0.0)
}

async fn metrics_of(app: &TestApp) -> String {
    scrape(&app.client, &app.address).await
}

#[tokio::test]
async fn metrics_are_served_in_prometheus_text_format_on_the_service_port() {
    let (app, _nats) = spawn_app().await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4");
    // The readiness probes that came before were counted.
    let text = response.text().await.unwrap();
    assert!(text.contains("# TYPE http_requests_total counter"), "{text}");
    let probes = [("service", "orders"), ("method", "GET"), ("route", "/readyz"), ("status", "200")];
    assert!(value(&text, "http_requests_total", &probes) >= 1.0, "{text}");
}

#[tokio::test]
async fn an_unknown_path_is_counted_as_unmatched_never_under_its_own_name() {
    let (app, _nats) = spawn_app().await;
    let unmatched = [("service", "orders"), ("method", "GET"), ("route", "unmatched"), ("status", "404")];
    let before = metrics_of(&app).await;
    let response = app.client.get(app.url("/no/such/path-4711")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let after = metrics_of(&app).await;
    assert!(value(&after, "http_requests_total", &unmatched) >= value(&before, "http_requests_total", &unmatched) + 1.0, "{after}");
    assert!(!after.contains("path-4711"), "a raw path became a label: {after}");
}

#[tokio::test]
async fn an_order_moves_the_request_counter_and_the_tickets_consumer_counter() {
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[]).await;
    let id = sell(&tickets, "Metered").await;
    orders.wait_orderable(&id).await;

    let created = [("service", "orders"), ("method", "POST"), ("route", "/api/orders"), ("status", "201")];
    let handled = [("consumer", "tickets-service"), ("subject", "order.created"), ("outcome", "acked")];
    let (orders_before, tickets_before) = (metrics_of(&orders).await, metrics_of(&tickets).await);

    let response = orders.order("buyer", &id).await;
    assert_eq!(response.status().as_u16(), 201);
    let order: Value = response.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_string();
    // The ticket shows the order once the tickets service's handler committed.
    until_ticket(&tickets, &id, |t| t["orderId"] == order_id.as_str()).await;

    let orders_after = metrics_of(&orders).await;
    assert!(
        value(&orders_after, "http_requests_total", &created) >= value(&orders_before, "http_requests_total", &created) + 1.0,
        "POST /api/orders was not counted: {orders_after}"
    );
    // The count follows the commit, before the ack.
    let before = value(&tickets_before, "events_handled_total", &handled);
    let counted = eventually(Duration::from_secs(5), || async {
        value(&metrics_of(&tickets).await, "events_handled_total", &handled) >= before + 1.0
    })
    .await;
    assert!(counted, "order.created handled by tickets was not counted: {}", metrics_of(&tickets).await);
}
