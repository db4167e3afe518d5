//! One trace per purchase: a request's trace (the caller's, from its `traceparent`) goes with the
//! events it causes, through the outbox and NATS, and the handlers in other services log under
//! its trace id. The logs are the services' own JSON lines, captured for this test binary.
use std::time::Duration;

use serde_json::{json, Value};
use test_support::logs::{self, Logs};
use test_support::{eventually, token, NatsServer};

use crate::helpers::{spawn_expiration, spawn_orders, spawn_payments, spawn_tickets};

/// A caller's `traceparent` in `trace_id`, from a span of its own.
fn traceparent(trace_id: &str) -> String {
    format!("00-{trace_id}-00f067aa0ba902b7-01")
}

/// The captured line that says `message` with `field` = `value`, once one is written.
async fn line(logs: &Logs, message: &str, field: &str, value: &str) -> Value {
    let matches = |line: &Value| line["message"] == message && line[field] == value;
    let written = eventually(Duration::from_secs(10), || async { logs.find(matches).is_some() }).await;
    assert!(written, "no {message:?} line with {field}={value} was logged");
    logs.find(matches).unwrap()
}

#[tokio::test]
async fn an_event_handler_logs_under_the_trace_id_of_the_request_that_caused_it() {
    let logs = logs::capture();
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let _orders = spawn_orders(&nats, &[]).await;

    let trace_id = "4bf92f3577b34da6a736d5e8ce7d1a5c";
    let response = tickets
        .client
        .post(tickets.url("/api/tickets"))
        .bearer_auth(token("seller"))
        .header("traceparent", traceparent(trace_id))
        .json(&json!({ "title": "Traced", "price": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    // Logged by the orders service's consumer as it handles ticket.created.
    let handled = line(&logs, "ticket replica created", "ticket.id", &id).await;
    assert_eq!(handled["trace_id"], trace_id, "{handled}");
    assert_eq!(handled["span"]["consumer"], "orders-service", "{handled}");
    assert_eq!(handled["span"]["subject"], "ticket.created", "{handled}");

    // A request without a caller's trace starts its own, which its events carry just the same.
    let untraced = tickets.sell("Untraced").await;
    let handled = line(&logs, "ticket replica created", "ticket.id", &untraced).await;
    let own = handled["trace_id"].as_str().unwrap_or_default();
    assert!(own.len() == 32 && own != trace_id, "a trace of its own: {handled}");
}

#[tokio::test]
async fn an_expiry_is_handled_in_the_trace_of_the_order_that_set_it() {
    let logs = logs::capture();
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[("EXPIRATION_WINDOW_SECONDS", "2")]).await;
    spawn_expiration(&nats).await;
    let _payments = spawn_payments(&nats).await;
    let id = tickets.sell("Expiring, traced").await;
    orders.wait_orderable(&id).await;

    // The order's request → order.created (orders' outbox) → the expiration service's handler →
    // its schedule → expiration.complete, fired by NATS → payments' handler → payment.expired
    // (payments' outbox) → orders' handler.
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let response = orders
        .client
        .post(orders.url("/api/orders"))
        .bearer_auth(token("buyer"))
        .header("traceparent", traceparent(trace_id))
        .json(&json!({ "ticketId": id }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let order_id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    let expired = line(&logs, "order expired unpaid: cancelled", "order.id", &order_id).await;
    assert_eq!(expired["trace_id"], trace_id, "{expired}");
    assert_eq!(expired["span"]["subject"], "payment.expired", "{expired}");
}
