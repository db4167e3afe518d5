//! Events as the orders service handles them.
use std::time::Duration;

use serde_json::{json, Value};
use test_support::{eventually, wait_acked, EventSpy, NatsServer};

use crate::helpers::{known_ticket, publish, spawn_app, ticket_created, TestApp};

async fn ticket_in_order(app: &TestApp, user: &str, ticket: &str) -> Value {
    let order: Value = app.order(user, ticket).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap().to_string();
    let fetched: Value = app.get_order(user, &id).await.json().await.unwrap();
    app.cancel(user, &id).await;
    fetched["ticket"].clone()
}

fn updated(id: &str, version: u64, title: &str) -> Value {
    json!({ "id": id, "version": version, "title": title, "price": 30.0, "userId": "seller" })
}

/// Until the consumer has handled and acked every event published so far.
async fn handled(nats: &NatsServer) {
    wait_acked(nats, "orders-service", Duration::from_secs(10)).await;
}

#[tokio::test]
async fn ticket_created_makes_a_replica_with_the_same_id_title_and_price() {
    let (app, nats) = spawn_app().await;
    publish(&nats, "ticket.created", ticket_created("t1", 12.5)).await;
    app.wait_orderable("t1").await;
    let ticket = ticket_in_order(&app, "buyer", "t1").await;
    assert_eq!(ticket, json!({ "id": "t1", "title": "ticket t1", "price": 12.5, "version": 0 }));
    let acked = eventually(Duration::from_secs(5), || test_support::all_acked(&nats, "orders-service")).await;
    assert!(acked, "ticket.created was acked");
}

#[tokio::test]
async fn ticket_updated_applies_in_version_order_even_when_it_arrives_out_of_order() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    publish(&nats, "ticket.updated", updated("t1", 1, "v1")).await;
    // Version 3 arrives before version 2: it is not acked, it waits, then both apply in order.
    publish(&nats, "ticket.updated", updated("t1", 3, "v3")).await;
    let redelivered =
        eventually(Duration::from_secs(5), || async { test_support::consumer_state(&nats, "orders-service").await.redelivered > 0 }).await;
    assert!(redelivered, "version 3 is not acked while version 2 is missing: it comes back");
    assert_eq!(ticket_in_order(&app, "buyer", "t1").await["version"], 1, "and it is not applied");
    publish(&nats, "ticket.updated", updated("t1", 2, "v2")).await;
    let applied = eventually(Duration::from_secs(5), || async {
        let ticket = ticket_in_order(&app, "buyer", "t1").await;
        ticket["version"] == 3 && ticket["title"] == "v3"
    })
    .await;
    assert!(applied);
    // Both applied updates were acked: version 3 no longer comes back.
    handled(&nats).await;
}

#[tokio::test]
async fn a_duplicate_or_old_ticket_updated_has_no_effect() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    publish(&nats, "ticket.updated", updated("t1", 1, "first")).await;
    publish(&nats, "ticket.updated", updated("t1", 1, "duplicate")).await;
    publish(&nats, "ticket.created", ticket_created("t1", 99.0)).await;
    handled(&nats).await;
    let ticket = ticket_in_order(&app, "buyer", "t1").await;
    assert_eq!((ticket["title"].as_str(), ticket["version"].as_u64(), ticket["price"].as_f64()), (Some("first"), Some(1), Some(30.0)));
}

#[tokio::test]
async fn payment_expired_cancels_an_open_order_and_publishes() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let mut spy = EventSpy::new(&nats, "order.cancelled").await;
    publish(&nats, "payment.expired", json!({ "orderId": id })).await;
    assert_eq!(spy.expect("order.cancelled").await["id"], id);
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!(after["status"], "cancelled");
    assert_eq!(after["cancelReason"], "expired", "{after}");
    // payment.expired was acked, not left to come back.
    handled(&nats).await;
}

#[tokio::test]
async fn an_expiry_after_the_buyers_cancellation_keeps_the_buyers_reason() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    assert_eq!(app.cancel("ann", id).await.status().as_u16(), 204);
    publish(&nats, "payment.expired", json!({ "orderId": id })).await;
    handled(&nats).await;
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!((after["version"].as_u64(), after["cancelReason"].as_str()), (Some(1), Some("buyer")), "{after}");
}

/// Ann's order for a known ticket t1, paid: its id, and a spy on order events since the payment.
async fn paid_order(app: &TestApp, nats: &NatsServer) -> (String, EventSpy) {
    known_ticket(app, nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap().to_string();
    let mut spy = EventSpy::new(nats, "order.>").await;
    publish(nats, "payment.created", json!({ "id": "p1", "orderId": id, "stripeId": "pi_1" })).await;
    assert_eq!(spy.expect("order.completed").await, json!({ "id": id, "version": 1, "ticket": { "id": "t1" } }));
    (id, spy)
}

#[tokio::test]
async fn payment_expired_leaves_a_completed_order_alone() {
    let (app, nats) = spawn_app().await;
    let (id, mut spy) = paid_order(&app, &nats).await;
    let id = id.as_str();
    publish(&nats, "payment.expired", json!({ "orderId": id })).await;
    handled(&nats).await;
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!((after["status"].as_str(), after["version"].as_u64()), (Some("complete"), Some(1)));
    assert!(after.get("cancelReason").is_none(), "{after}");
    assert!(spy.next(Duration::from_millis(200)).await.is_none(), "no order.cancelled for a complete order");
}

#[tokio::test]
async fn deleting_a_ticket_makes_it_unorderable_and_cancels_its_open_order() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    publish(&nats, "ticket.deleted", json!({ "id": "t1", "version": 1 })).await;
    let cancelled = eventually(Duration::from_secs(5), || async {
        app.get_order("ann", id).await.json::<Value>().await.unwrap()["status"] == "cancelled"
    })
    .await;
    assert!(cancelled);
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!(after["cancelReason"], "ticket_withdrawn", "{after}");
    assert_eq!(app.order("bob", "t1").await.status().as_u16(), 404);
}

#[tokio::test]
async fn an_order_paid_before_its_tickets_deletion_arrived_is_cancelled_for_a_refund() {
    // The seller deleted the ticket while the buyer reserved and paid it: there is no ticket to
    // give, so the paid order is cancelled and order.cancelled tells payments to refund.
    let (app, nats) = spawn_app().await;
    let (id, mut spy) = paid_order(&app, &nats).await;
    let id = id.as_str();
    publish(&nats, "ticket.deleted", json!({ "id": "t1", "version": 1 })).await;
    let cancelled = spy.expect("order.cancelled").await;
    assert_eq!((cancelled["id"].as_str(), cancelled["version"].as_u64()), (Some(id), Some(2)));
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!((after["status"].as_str(), after["cancelReason"].as_str()), (Some("cancelled"), Some("ticket_withdrawn")), "{after}");
}

/// The seller raised the price from $20 to $1,000 and got 200 while a buyer's order for $20 was
/// on its way: that order used to go on holding (and charging $20 for) a ticket its seller had
/// repriced. It is cancelled with `ticket_changed`; the ticket is orderable at its new price.
#[tokio::test]
async fn a_sellers_edit_racing_an_order_cancels_the_order_and_says_why() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let mut spy = test_support::EventSpy::new(&nats, "order.cancelled").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    assert_eq!(order["ticket"]["price"], 20.0, "the price the buyer saw");
    // The edit won the race at the tickets service: it comes before the reservation.
    let edit = json!({ "id": "t1", "version": 1, "title": "ticket t1", "price": 1000.0, "userId": "seller" });
    publish(&nats, "ticket.updated", edit.clone()).await;
    let cancelled = spy.expect("order.cancelled").await;
    assert_eq!(cancelled["id"].as_str(), Some(id));
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!((after["status"].as_str(), after["cancelReason"].as_str()), (Some("cancelled"), Some("ticket_changed")), "{after}");
    assert_eq!(after["ticket"]["price"], 20.0, "the order still shows what its buyer saw");
    // The same event again changes nothing, and the ticket is orderable at its new price.
    publish(&nats, "ticket.updated", edit).await;
    assert!(spy.next(Duration::from_millis(300)).await.is_none(), "cancelled once");
    let again: Value = app.order("bob", "t1").await.json().await.unwrap();
    assert_eq!(again["ticket"]["price"], 1000.0, "{again}");
}

/// A ticket event that repeats what the buyer saw (its own reservation, a release) leaves the
/// order alone.
#[tokio::test]
async fn the_reservation_of_the_ticket_as_ordered_keeps_the_order() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let reserved = json!({ "id": "t1", "version": 1, "title": "ticket t1", "price": 20.0, "userId": "seller", "orderId": id });
    publish(&nats, "ticket.updated", reserved).await;
    handled(&nats).await;
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!(after["status"], "created", "{after}");
}

#[tokio::test]
async fn a_payment_for_an_order_already_cancelled_leaves_it_cancelled() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let mut spy = EventSpy::new(&nats, "order.>").await;
    publish(&nats, "payment.expired", json!({ "orderId": id })).await;
    assert_eq!(spy.expect("order.cancelled").await["id"], id);
    // The payment raced the expiry and lost: payments refunds it; the order stays cancelled.
    publish(&nats, "payment.created", json!({ "id": "p1", "orderId": id, "stripeId": "pi_1" })).await;
    handled(&nats).await;
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!((after["status"].as_str(), after["version"].as_u64()), (Some("cancelled"), Some(1)));
    assert_eq!(after["cancelReason"], "expired", "{after}");
    assert!(spy.next(Duration::from_millis(200)).await.is_none(), "no order.completed for a cancelled order");
}

#[tokio::test]
async fn an_order_keeps_the_price_and_version_its_buyer_saw_when_the_ticket_changes() {
    // A seller's edit that races the reservation: the order shows (and payments charges) the
    // price the buyer ordered at, not the edit.
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let seen = order["ticket"].clone();
    assert_eq!((seen["price"].as_f64(), seen["version"].as_u64()), (Some(20.0), Some(0)));
    publish(&nats, "ticket.updated", json!({ "id": "t1", "version": 1, "title": "edited", "price": 99.0, "userId": "seller" })).await;
    let applied = eventually(Duration::from_secs(5), || test_support::all_acked(&nats, "orders-service")).await;
    assert!(applied, "the edit was applied to the replica");
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!(after["ticket"], seen, "the order still shows what its buyer saw");
    let listed: Vec<Value> =
        app.client.get(app.url("/api/orders")).bearer_auth(test_support::token("ann")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["ticket"], seen);
}
