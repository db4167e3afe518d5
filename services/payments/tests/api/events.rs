use std::time::Duration;

use serde_json::json;
use test_support::{all_acked, consumer_state, eventually};

use crate::helpers::*;

#[tokio::test]
async fn order_created_stores_the_replica_with_the_tickets_price() {
    let app = spawn_app().await;
    app.order("o1", "ann", 12.34).await;
    let replica = app.replica("o1").await;
    assert_eq!((replica.user_id.as_str(), replica.price, replica.status.as_str(), replica.version), ("ann", 1234, "created", 0.into()));
    assert!(eventually(Duration::from_secs(5), || all_acked(&app.nats, "payments-service")).await);
}

#[tokio::test]
async fn order_cancelled_cancels_the_replica_and_a_duplicate_changes_nothing() {
    let app = spawn_app().await;
    app.order("o1", "ann", 10.0).await;
    let cancelled = json!({ "id": "o1", "version": 1, "ticket": { "id": "t-o1" } });
    publish(&app.nats, "order.cancelled", cancelled.clone()).await;
    app.wait_version("o1", 1).await;
    assert_eq!(app.replica("o1").await.status, "cancelled");
    publish(&app.nats, "order.cancelled", cancelled).await;
    publish(&app.nats, "order.created", order_created("o1", "ann", 99.0)).await;
    assert!(eventually(Duration::from_secs(5), || all_acked(&app.nats, "payments-service")).await);
    let replica = app.replica("o1").await;
    assert_eq!((replica.status.as_str(), replica.version, replica.price), ("cancelled", 1.into(), 1000));
}

#[tokio::test]
async fn an_event_that_skips_a_version_waits_for_the_one_before() {
    let app = spawn_app().await;
    app.order("o1", "ann", 10.0).await;
    // Version 2 (cancelled) arrives before version 1 (completed cannot precede it, but the rule
    // is the version, not the kind).
    publish(&app.nats, "order.cancelled", json!({ "id": "o1", "version": 2, "ticket": { "id": "t-o1" } })).await;
    // Delivered, handled and sent back: it waits rather than being acked.
    let redelivered =
        eventually(Duration::from_secs(5), || async { consumer_state(&app.nats, "payments-service").await.redelivered > 0 }).await;
    assert!(redelivered, "version 2 is not acked while version 1 is missing: it comes back");
    assert_eq!(app.replica("o1").await.version, 0.into(), "not applied before version 1");
    publish(&app.nats, "order.completed", json!({ "id": "o1", "version": 1, "ticket": { "id": "t-o1" } })).await;
    app.wait_version("o1", 2).await;
    assert_eq!(app.replica("o1").await.status, "cancelled");
    assert!(eventually(Duration::from_secs(5), || all_acked(&app.nats, "payments-service")).await);
}

#[tokio::test]
async fn an_order_created_before_its_replica_is_paid_once_it_arrives() {
    let app = spawn_app().await;
    assert_eq!(app.pay("ann", "late", "pm_card_visa").await.status().as_u16(), 404);
    app.order("late", "ann", 10.0).await;
    assert_eq!(app.pay("ann", "late", "pm_card_visa").await.status().as_u16(), 201);
}
