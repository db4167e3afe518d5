//! Order events as the tickets service handles them.
use std::time::Duration;

use serde_json::{json, Value};
use shared::{ErrorCode, ErrorItem};
use test_support::{eventually, wait_acked, EventSpy};

use crate::helpers::{error_items, errors, general, spawn_app, TestApp};

/// The order's deadline as orders publishes it, in another offset and finer than a millisecond,
/// and as the ticket shows it: in UTC, to the millisecond.
const EXPIRES_AT: &str = "2030-01-02T04:04:05.678901+01:00";
const RESERVED_UNTIL: &str = "2030-01-02T03:04:05.678Z";

fn order_created(order: &str, ticket: &Value) -> Value {
    json!({ "id": order, "version": 0, "status": "created", "userId": "buyer",
            "expiresAt": EXPIRES_AT, "ticket": { "id": ticket["id"], "price": ticket["price"] } })
}

fn order_cancelled(order: &str, ticket: &Value) -> Value {
    json!({ "id": order, "version": 1, "ticket": { "id": ticket["id"] } })
}

/// Until the consumer has handled and acked every event published so far.
async fn handled(app: &TestApp) {
    wait_acked(&app.nats, "tickets-service", Duration::from_secs(10)).await;
}

async fn ticket_json(app: &TestApp, ticket: &Value) -> Value {
    app.get(ticket["id"].as_str().unwrap()).await.json().await.unwrap()
}

async fn until(app: &TestApp, ticket: &Value, check: impl Fn(&Value) -> bool) -> Value {
    let ok = eventually(Duration::from_secs(5), || async { check(&ticket_json(app, ticket).await) }).await;
    let last = ticket_json(app, ticket).await;
    assert!(ok, "condition never held; last ticket: {last}");
    last
}

#[tokio::test]
async fn order_created_reserves_the_ticket_and_publishes_ticket_updated() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    let mut spy = EventSpy::new(&app.nats, "ticket.updated").await;
    app.publish("order.created", order_created("o1", &ticket)).await;

    let reserved = until(&app, &ticket, |t| t["orderId"] == "o1").await;
    assert_eq!(reserved["version"], 1);
    assert_eq!(reserved["reservedUntil"], RESERVED_UNTIL, "held until the order's expiresAt: {reserved}");
    assert!(reserved.get("soldAt").is_none(), "{reserved}");
    let event = spy.expect("ticket.updated").await;
    assert_eq!((event["orderId"].as_str(), event["version"].as_u64()), (Some("o1"), Some(1)));
    let acked = eventually(Duration::from_secs(5), || async { test_support::all_acked(&app.nats, "tickets-service").await }).await;
    assert!(acked, "order.created was acked");

    let edit = app.put(Some("seller"), ticket["id"].as_str().unwrap(), json!({ "title": "x", "price": 1 })).await;
    let refused = ErrorItem::new(ErrorCode::EditReservedTicket, "Cannot edit a reserved ticket");
    assert_eq!(error_items(edit, 400).await, vec![refused]);
    let delete = app.delete("seller", ticket["id"].as_str().unwrap()).await;
    let refused = ErrorItem::new(ErrorCode::DeleteReservedTicket, "Cannot delete a reserved ticket");
    assert_eq!(error_items(delete, 400).await, vec![refused]);
    let listed: Vec<Value> = app.client.get(app.url("/api/tickets")).send().await.unwrap().json().await.unwrap();
    assert!(listed.is_empty(), "a reserved ticket is not listed");
}

#[tokio::test]
async fn order_cancelled_releases_the_ticket_and_publishes() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    app.publish("order.created", order_created("o1", &ticket)).await;
    until(&app, &ticket, |t| t["orderId"] == "o1").await;
    let mut spy = EventSpy::new(&app.nats, "ticket.updated").await;
    app.publish("order.cancelled", order_cancelled("o1", &ticket)).await;
    let released = until(&app, &ticket, |t| t.get("orderId").is_none()).await;
    assert_eq!(released["version"], 2);
    assert!(released.get("reservedUntil").is_none(), "a free ticket has no deadline: {released}");
    let event = spy.expect("ticket.updated").await;
    assert!(event.get("orderId").is_none() && event["version"] == 2, "{event}");
    // order.cancelled was acked, not left to come back.
    handled(&app).await;
}

#[tokio::test]
async fn a_cancellation_of_another_order_leaves_the_reservation_alone() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    app.publish("order.created", order_created("o1", &ticket)).await;
    until(&app, &ticket, |t| t["orderId"] == "o1").await;
    app.publish("order.cancelled", order_cancelled("other", &ticket)).await;
    handled(&app).await;
    let after = ticket_json(&app, &ticket).await;
    assert_eq!((after["orderId"].as_str(), after["version"].as_u64()), (Some("o1"), Some(1)));
}

#[tokio::test]
async fn the_same_event_twice_has_one_effect() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    for _ in 0..2 {
        app.publish("order.created", order_created("o1", &ticket)).await;
    }
    until(&app, &ticket, |t| t["orderId"] == "o1").await;
    // The duplicate was handled too.
    handled(&app).await;
    assert_eq!(ticket_json(&app, &ticket).await["version"], 1);
}

#[tokio::test]
async fn a_late_order_created_after_its_cancellation_does_not_reserve() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    app.publish("order.cancelled", order_cancelled("o1", &ticket)).await;
    app.publish("order.created", order_created("o1", &ticket)).await;
    handled(&app).await;
    let after = ticket_json(&app, &ticket).await;
    assert!(after.get("orderId").is_none() && after["version"] == 0, "{after}");
}

#[tokio::test]
async fn a_new_order_waits_for_the_previous_orders_cancellation() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    app.publish("order.created", order_created("o1", &ticket)).await;
    until(&app, &ticket, |t| t["orderId"] == "o1").await;
    // o2 arrives before o1's cancellation: it waits, then applies.
    app.publish("order.created", order_created("o2", &ticket)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.publish("order.cancelled", order_cancelled("o1", &ticket)).await;
    let after = until(&app, &ticket, |t| t["orderId"] == "o2").await;
    assert_eq!(after["version"], 3);
}

#[tokio::test]
async fn an_order_for_a_ticket_deleted_meanwhile_does_not_reserve_it() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "Deleted first", 5.0).await;
    assert_eq!(app.delete("seller", ticket["id"].as_str().unwrap()).await.status().as_u16(), 204);
    let mut spy = EventSpy::new(&app.nats, "ticket.updated").await;
    // The buyer's order was placed before the orders service heard of the deletion.
    app.publish("order.created", order_created("o1", &ticket)).await;
    let acked = eventually(Duration::from_secs(5), || async { test_support::all_acked(&app.nats, "tickets-service").await }).await;
    assert!(acked, "order.created was acked");
    assert!(spy.next(Duration::from_millis(300)).await.is_none(), "no ticket.updated brings the deleted ticket back");
    assert_eq!(app.get(ticket["id"].as_str().unwrap()).await.status().as_u16(), 404);
}

#[tokio::test]
async fn a_paid_orders_completion_that_arrives_before_its_creation_still_sells_the_ticket() {
    // A relay whose publish of order.created failed retries it after order.completed went out.
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    app.publish("order.completed", json!({ "id": "o1", "version": 1, "ticket": { "id": ticket["id"] } })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.publish("order.created", order_created("o1", &ticket)).await;
    let sold = until(&app, &ticket, |t| t["orderId"] == "o1" && t["sold"] == true).await;
    assert_eq!(sold["version"], 1);
    assert!(sold.get("reservedUntil").is_none() && sold["soldAt"].is_string(), "{sold}");
    let listed: Vec<Value> = app.client.get(app.url("/api/tickets")).send().await.unwrap().json().await.unwrap();
    assert!(listed.is_empty(), "a paid ticket is never back on sale");
}

#[tokio::test]
async fn a_sold_ticket_shows_when_it_was_sold_and_no_longer_a_deadline() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    app.publish("order.created", order_created("o1", &ticket)).await;
    let reserved = until(&app, &ticket, |t| t["orderId"] == "o1").await;
    assert_eq!(reserved["reservedUntil"], RESERVED_UNTIL, "{reserved}");
    // soldAt is to the millisecond: it may read up to one before this.
    let before = time::OffsetDateTime::now_utc() - time::Duration::milliseconds(1);
    app.publish("order.completed", json!({ "id": "o1", "version": 1, "ticket": { "id": ticket["id"] } })).await;
    let sold = until(&app, &ticket, |t| t["sold"] == true).await;
    assert!(sold.get("reservedUntil").is_none(), "a paid ticket has no deadline: {sold}");
    let sold_at = sold["soldAt"].as_str().unwrap_or_default();
    let at = time::OffsetDateTime::parse(sold_at, &time::format_description::well_known::Rfc3339);
    let at = at.unwrap_or_else(|error| panic!("soldAt {sold_at:?} is not RFC 3339: {error}"));
    assert!(sold_at.ends_with('Z') && before <= at && at <= time::OffsetDateTime::now_utc(), "sold when it was handled: {sold}");
}

/// A ticket reserved by order `o1`, which was then paid: sold.
async fn sold_ticket() -> (TestApp, Value) {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    app.publish("order.created", order_created("o1", &ticket)).await;
    until(&app, &ticket, |t| t["orderId"] == "o1").await;
    app.publish("order.completed", json!({ "id": "o1", "version": 1, "ticket": { "id": ticket["id"] } })).await;
    until(&app, &ticket, |t| t["sold"] == true).await;
    (app, ticket)
}

#[tokio::test]
async fn a_paid_order_cancelled_for_a_changed_ticket_puts_the_ticket_back_on_sale() {
    // A seller's edit raced the order (docs/events.md): orders cancels the order even though it
    // was paid, and payments refunds it. The ticket was sold meanwhile; it is on sale again.
    // (Found by the fault run: the cancellation was retried until it was dead-lettered, and the
    // refunded order's ticket stayed sold.)
    let (app, ticket) = sold_ticket().await;
    let mut spy = EventSpy::new(&app.nats, "ticket.updated").await;
    app.publish("order.cancelled", json!({ "id": "o1", "version": 2, "ticket": { "id": ticket["id"] } })).await;

    let released = until(&app, &ticket, |t| t.get("orderId").is_none()).await;
    assert_eq!((released.get("sold"), released.get("soldAt"), released["version"].as_u64()), (None, None, Some(2)), "{released}");
    let listed: Vec<Value> = app.client.get(app.url("/api/tickets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.len(), 1, "on sale again: {listed:?}");
    let (_, event) = spy.next(Duration::from_secs(5)).await.expect("ticket.updated tells the other services");
    assert_eq!((event["version"].as_u64(), event.get("orderId")), (Some(2), None), "{event}");
    test_support::wait_acked(&app.nats, "tickets-service", Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_sold_ticket_can_be_neither_edited_nor_deleted() {
    let (app, ticket) = sold_ticket().await;

    let id = ticket["id"].as_str().unwrap();
    let edit = app.put(Some("seller"), id, json!({ "title": "x", "price": 1 })).await;
    assert_eq!(errors(edit, 400).await, vec![general("Cannot edit a reserved ticket")]);
    assert_eq!(errors(app.delete("seller", id).await, 400).await, vec![general("Cannot delete a reserved ticket")]);
    let kept = ticket_json(&app, &ticket).await;
    assert_eq!((kept["title"].as_str(), kept["orderId"].as_str(), kept["sold"].as_bool()), (Some("t"), Some("o1"), Some(true)));
}
