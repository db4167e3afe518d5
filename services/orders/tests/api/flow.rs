//! The tickets and orders services together on one nats-server: events end to end.
use std::time::Duration;

use serde_json::{json, Value};
use test_support::{env, eventually, token, NatsServer};
use tickets::TicketsConfig;

use crate::helpers::{spawn_orders, TestApp};

pub async fn spawn_tickets(nats: &NatsServer, extra: &[(&str, &str)]) -> TestApp {
    let config = TicketsConfig::read(env(nats, extra)).expect("valid configuration");
    let server = tickets::application(config).await.expect("tickets starts");
    let app = TestApp { address: format!("http://127.0.0.1:{}", server.port()), client: reqwest::Client::new() };
    tokio::spawn(server.run_until_stopped());
    app.wait_until_ready().await;
    app
}

pub async fn sell(tickets: &TestApp, title: &str) -> String {
    let response = tickets
        .client
        .post(tickets.url("/api/tickets"))
        .bearer_auth(token("seller"))
        .json(&json!({ "title": title, "price": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

pub async fn ticket(tickets: &TestApp, id: &str) -> Value {
    tickets.client.get(tickets.url(&format!("/api/tickets/{id}"))).send().await.unwrap().json().await.unwrap()
}

pub async fn until_ticket(tickets: &TestApp, id: &str, check: impl Fn(&Value) -> bool) {
    let held = eventually(Duration::from_secs(5), || async { check(&ticket(tickets, id).await) }).await;
    assert!(held, "ticket {id} never reached the expected state: {}", ticket(tickets, id).await);
}

#[tokio::test]
async fn a_ticket_flows_from_listing_to_reservation_and_back() {
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[]).await;

    let id = sell(&tickets, "Concert").await;
    orders.wait_orderable(&id).await;

    let order: Value = orders.order("buyer", &id).await.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_string();
    until_ticket(&tickets, &id, |t| t["orderId"] == order_id.as_str() && t["version"] == 1).await;

    assert_eq!(orders.cancel("buyer", &order_id).await.status().as_u16(), 204);
    until_ticket(&tickets, &id, |t| t.get("orderId").is_none() && t["version"] == 2).await;

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
    let id = sell(&tickets, "Gone soon").await;
    orders.wait_orderable(&id).await;
    let response = tickets.client.delete(tickets.url(&format!("/api/tickets/{id}"))).bearer_auth(token("seller")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let unorderable = eventually(Duration::from_secs(5), || async { orders.order("buyer", &id).await.status().as_u16() == 404 }).await;
    assert!(unorderable);
}
