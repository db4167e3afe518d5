use reqwest::Response;
use serde_json::{json, Value};
use shared::http::Server;
use test_support::{env, token, NatsServer};
pub use test_support::{error_items, errors, field, general};
use tickets::{TicketsConfig, TicketsService};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub nats: NatsServer,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the tickets service with some settings of the test's own.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let nats = NatsServer::start();
    let config = TicketsConfig::read(env(&nats, extra)).expect("test configuration is valid");
    let server = tickets::application(config).await.expect("the tickets service starts");
    let address = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    let app = TestApp { address, client: reqwest::Client::new(), nats };
    app.wait_until_ready().await;
    app
}

/// Two replicas on one database and one NATS server, as Kubernetes runs several on one database
/// server: the first as a `TestApp`, and the second's address.
pub async fn spawn_replicas() -> (TestApp, String) {
    let nats = NatsServer::start();
    let config = TicketsConfig::read(env(&nats, &[])).expect("test configuration is valid");
    let first = TicketsService::build(&config).await.expect("the first replica starts");
    let second = TicketsService::on_database(&config, first.db.clone()).await.expect("the second replica starts");
    let client = reqwest::Client::new();
    let mut addresses = Vec::new();
    for service in [first, second] {
        let readiness = service.readiness();
        let server = Server::bind("tickets", config.service.address(), service.router.merge(shared::metrics::router()), readiness)
            .await
            .expect("a replica binds its port");
        let address = format!("http://127.0.0.1:{}", server.port());
        tokio::spawn(server.run_until_stopped());
        test_support::wait_ready(&client, &address).await;
        addresses.push(address);
    }
    let second = addresses.pop().expect("the second replica's address");
    let first = addresses.pop().expect("the first replica's address");
    (TestApp { address: first, client, nats }, second)
}

impl TestApp {
    /// Ready once NATS is connected and the stream exists (the consumer needs it).
    async fn wait_until_ready(&self) {
        test_support::wait_ready(&self.client, &self.address).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn create(&self, user: &str, body: Value) -> Response {
        self.client.post(self.url("/api/tickets")).bearer_auth(token(user)).json(&body).send().await.unwrap()
    }

    /// Creates a ticket and returns its JSON.
    pub async fn ticket(&self, user: &str, title: &str, price: f64) -> Value {
        let response = self.create(user, json!({ "title": title, "price": price })).await;
        assert_eq!(response.status().as_u16(), 201);
        response.json().await.unwrap()
    }

    pub async fn get(&self, id: &str) -> Response {
        self.client.get(self.url(&format!("/api/tickets/{id}"))).send().await.unwrap()
    }

    pub async fn put(&self, user: Option<&str>, id: &str, body: Value) -> Response {
        let mut request = self.client.put(self.url(&format!("/api/tickets/{id}"))).json(&body);
        if let Some(user) = user {
            request = request.bearer_auth(token(user));
        }
        request.send().await.unwrap()
    }

    pub async fn delete(&self, user: &str, id: &str) -> Response {
        self.client.delete(self.url(&format!("/api/tickets/{id}"))).bearer_auth(token(user)).send().await.unwrap()
    }

    /// Publishes an event as another service would.
    pub async fn publish(&self, subject: &str, payload: Value) {
        test_support::publish(&self.nats, subject, payload).await;
    }
}
