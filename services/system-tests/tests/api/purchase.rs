//! The tickets and orders services together on one nats-server: a ticket's events end to end.
use std::time::Duration;

use serde_json::{json, Value};
use test_support::{eventually, token, NatsServer};

use crate::helpers::{spawn_orders, spawn_tickets};

#[tokio::test]
async fn a_ticket_flows_from_listing_to_reservation_and_back() {
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[]).await;

    let id = tickets.sell("Concert").await;
    orders.wait_orderable(&id).await;

    let order: Value = orders.order("buyer", &id).await.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_string();
    tickets.until_ticket(&id, |t| t["orderId"] == order_id.as_str() && t["version"] == 1).await;

    assert_eq!(orders.cancel("buyer", &order_id).await.status().as_u16(), 204);
    tickets.until_ticket(&id, |t| t.get("orderId").is_none() && t["version"] == 2).await;

    // The owner edits the released ticket; the orders service's replica follows.
    let response = tickets
        .client
        .put(tickets.url(&format!("/api/tickets/{id}")))
        .bearer_auth(token("seller"))
        .json(&json!({ "title": "Concert (moved)", "price": 12 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // An order placed once the replica has the edit shows it (one placed before keeps what its
    // buyer saw, and is cancelled again here).
    let caught_up = eventually(Duration::from_secs(10), || async {
        let order: Value = orders.order("buyer", &id).await.json().await.unwrap();
        if let Some(order_id) = order["id"].as_str() {
            orders.cancel("buyer", order_id).await;
        }
        order["ticket"]["title"] == "Concert (moved)" && order["ticket"]["price"] == 12.0
    })
    .await;
    assert!(caught_up, "the orders service's replica never showed the edit");
}

#[tokio::test]
async fn a_deleted_ticket_cannot_be_ordered() {
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[]).await;
    let id = tickets.sell("Gone soon").await;
    orders.wait_orderable(&id).await;
    let response = tickets.client.delete(tickets.url(&format!("/api/tickets/{id}"))).bearer_auth(token("seller")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let unorderable = eventually(Duration::from_secs(5), || async { orders.order("buyer", &id).await.status().as_u16() == 404 }).await;
    assert!(unorderable);
}
