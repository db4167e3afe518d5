use reqwest::Response;
use serde_json::{json, Value};
use test_support::{env, token, NatsServer};
pub use test_support::{errors, field, general};
use tickets::TicketsConfig;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub nats: NatsServer,
}

pub async fn spawn_app() -> TestApp {
    let nats = NatsServer::start();
    let config = TicketsConfig::read(env(&nats, &[])).expect("test configuration is valid");
    let server = tickets::application(config).await.expect("the tickets service starts");
    let address = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    let app = TestApp { address, client: reqwest::Client::new(), nats };
    app.wait_until_ready().await;
    app
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
