//! A service of ours on a free port, and the calls tests make to it by route. Each service's own
//! tests and the system tests (`services/system-tests`) start services through [`Service::serve`]
//! and talk to them through these, so a route's call is written once.
use std::time::Duration;

use reqwest::header::SET_COOKIE;
use reqwest::Response;
use serde_json::{json, Value};

use crate::{eventually, token};

/// Where a running service answers, and the client tests talk to it with (no cookie store: each
/// test says which cookie it sends).
pub struct Service {
    pub address: String,
    pub client: reqwest::Client,
}

impl Service {
    /// Runs `server` in the background and waits until it is ready.
    pub async fn serve(server: shared::http::Server) -> Self {
        let service = Self { address: format!("http://127.0.0.1:{}", server.port()), client: reqwest::Client::new() };
        tokio::spawn(server.run_until_stopped());
        service.wait_until_ready().await;
        service
    }

    pub async fn wait_until_ready(&self) {
        crate::wait_ready(&self.client, &self.address).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `POST /api/orders` for `ticket_id`, as `user`.
    pub async fn order(&self, user: &str, ticket_id: &str) -> Response {
        self.client.post(self.url("/api/orders")).bearer_auth(token(user)).json(&json!({ "ticketId": ticket_id })).send().await.unwrap()
    }

    pub async fn get_order(&self, user: &str, id: &str) -> Response {
        self.client.get(self.url(&format!("/api/orders/{id}"))).bearer_auth(token(user)).send().await.unwrap()
    }

    pub async fn cancel(&self, user: &str, id: &str) -> Response {
        self.client.delete(self.url(&format!("/api/orders/{id}"))).bearer_auth(token(user)).send().await.unwrap()
    }

    /// Polls the orders service until it knows `ticket_id` (a replica from `ticket.created`).
    pub async fn wait_orderable(&self, ticket_id: &str) {
        // Generous: after a NATS outage, the relay's and the consumer's back-off come first.
        // The seller's own order answers 400 ("your own ticket") once the replica exists, 404
        // before; it never creates anything.
        let known = eventually(Duration::from_secs(15), || async { self.order("seller", ticket_id).await.status().as_u16() != 404 }).await;
        assert!(known, "ticket {ticket_id} never reached the orders service");
    }

    /// `POST /api/tickets` as `seller`, $10: the new ticket's id.
    pub async fn sell(&self, title: &str) -> String {
        let listed = self.client.post(self.url("/api/tickets")).bearer_auth(token("seller")).json(&json!({ "title": title, "price": 10 }));
        let response = listed.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 201);
        response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    pub async fn ticket(&self, id: &str) -> Value {
        self.client.get(self.url(&format!("/api/tickets/{id}"))).send().await.unwrap().json().await.unwrap()
    }

    /// Waits until the ticket passes `check`, and fails the test if it never does.
    pub async fn until_ticket(&self, id: &str, check: impl Fn(&Value) -> bool) {
        let held = eventually(Duration::from_secs(5), || async { check(&self.ticket(id).await) }).await;
        assert!(held, "ticket {id} never reached the expected state: {}", self.ticket(id).await);
    }

    /// `POST /api/users/signup`.
    pub async fn signup(&self, email: &str, password: &str) -> Response {
        let body = json!({ "email": email, "password": password });
        self.client.post(self.url("/api/users/signup")).json(&body).send().await.expect("request sent")
    }
}

/// The `session` Set-Cookie header of a response.
pub fn session_set_cookie(response: &Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .expect("a session cookie is set")
        .to_string()
}

/// `session=<token>`, ready for a Cookie header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}
