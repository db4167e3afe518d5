use std::time::Duration;

use orders::OrdersConfig;
use reqwest::Response;
use serde_json::{json, Value};
use test_support::{env, eventually, token, NatsServer};
pub use test_support::{error_items, errors, general, publish};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
}

/// Starts the orders service against `nats` with `extra` settings.
pub async fn spawn_orders(nats: &NatsServer, extra: &[(&str, &str)]) -> TestApp {
    let config = OrdersConfig::read(env(nats, extra)).expect("test configuration is valid");
    let server = orders::application(config).await.expect("the orders service starts");
    let app = TestApp { address: format!("http://127.0.0.1:{}", server.port()), client: reqwest::Client::new() };
    tokio::spawn(server.run_until_stopped());
    app.wait_until_ready().await;
    app
}

pub async fn spawn_app() -> (TestApp, NatsServer) {
    let nats = NatsServer::start();
    (spawn_orders(&nats, &[]).await, nats)
}

impl TestApp {
    pub async fn wait_until_ready(&self) {
        test_support::wait_ready(&self.client, &self.address).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn order(&self, user: &str, ticket_id: &str) -> Response {
        self.client.post(self.url("/api/orders")).bearer_auth(token(user)).json(&json!({ "ticketId": ticket_id })).send().await.unwrap()
    }

    pub async fn get_order(&self, user: &str, id: &str) -> Response {
        self.client.get(self.url(&format!("/api/orders/{id}"))).bearer_auth(token(user)).send().await.unwrap()
    }

    pub async fn cancel(&self, user: &str, id: &str) -> Response {
        self.client.delete(self.url(&format!("/api/orders/{id}"))).bearer_auth(token(user)).send().await.unwrap()
    }

    /// Polls until the orders service knows `ticket_id` (a replica from `ticket.created`).
    pub async fn wait_orderable(&self, ticket_id: &str) {
        // Generous: after a NATS outage, the relay's and the consumer's back-off come first.
        let known = eventually(Duration::from_secs(15), || self.replica_known(ticket_id)).await;
        assert!(known, "ticket {ticket_id} never reached the orders service");
    }

    async fn replica_known(&self, ticket_id: &str) -> bool {
        // The seller's own order attempt answers 400 ("your own ticket") once the replica exists,
        // 404 before; it never creates anything.
        let response = self.order("seller", ticket_id).await;
        response.status().as_u16() != 404
    }
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
