use auth::AuthConfig;
use reqwest::Response;
use serde_json::{json, Value};
use test_support::NatsServer;
pub use test_support::{cookie_pair, error_items, errors, field, general, session_set_cookie};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// Its own nats-server, running as long as the app: auth publishes the sessions it ends.
    _nats: NatsServer,
}

/// Starts the auth service on a free port with its own in-memory database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the auth service with some settings of the test's own.
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    let nats = NatsServer::start();
    // No session keys: on loopback the built-in development pair signs and verifies.
    let config = AuthConfig::read(test_support::env(&nats, settings)).expect("test configuration is valid");
    let app = auth::application(config).await.expect("the auth service starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    // No cookie store: each test decides which cookie it sends.
    let app = TestApp { address, client: reqwest::Client::new(), _nats: nats };
    test_support::wait_ready(&app.client, &app.address).await;
    app
}

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(format!("{}{path}", self.address)).json(body).send().await.expect("request sent")
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/users/signup", &json!({ "email": email, "password": password })).await
    }

    /// A sign-up, sent, whatever its answer (or none).
    pub fn signup_request(&self, email: &str) -> impl std::future::Future<Output = reqwest::Result<Response>> + use<> {
        self.client.post(format!("{}/api/users/signup", self.address)).json(&json!({ "email": email, "password": PASSWORD })).send()
    }

    pub async fn signin(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/users/signin", &json!({ "email": email, "password": password })).await
    }

    pub async fn current_user(&self, cookie: Option<&str>) -> Value {
        let mut request = self.client.get(format!("{}/api/users/currentuser", self.address));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent").json().await.expect("JSON body")
    }
}
