use std::time::Duration;

use contract::{OrderId, PaymentId, UserId};
use payments::PaymentsConfig;
use reqwest::Response;
use serde_json::{json, Value};
use shared::store::Db;
pub use shared::{ErrorCode, ErrorItem};
use stripe_double::StripeDouble;
use test_support::{env, eventually, token, NatsServer};
pub use test_support::{error_items, errors, general, publish, EventSpy};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub stripe: StripeDouble,
    /// Where the double answers, for a test that calls it as a process of ours would.
    pub stripe_url: String,
    pub nats: NatsServer,
    pub attempts: payments::attempts::Attempts,
}

/// Starts a Stripe double, then the payments service against it and `nats`; the double's
/// webhooks go to the service.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let nats = NatsServer::start();
    let (stripe, stripe_address) = StripeDouble::start(([127, 0, 0, 1], 0).into()).await.expect("the Stripe double starts");
    let base = format!("http://{stripe_address}");
    let mut vars = vec![("STRIPE_API_BASE", base.as_str())];
    vars.extend_from_slice(extra);
    spawn_with(nats, stripe, &vars).await
}

pub async fn spawn_with(nats: NatsServer, stripe: StripeDouble, extra: &[(&str, &str)]) -> TestApp {
    let config = PaymentsConfig::read(env(&nats, extra)).expect("test configuration is valid");
    let service = payments::PaymentsService::build(&config).await.expect("the payments service starts");
    let (db, attempts) = (service.db.clone(), service.attempts.clone());
    let readiness = service.readiness();
    let router = service.router.merge(payments::routes::metrics_router(db.clone()));
    let server = shared::http::Server::bind("payments", config.service.address(), router, readiness).await.expect("binds");
    let address = format!("http://127.0.0.1:{}", server.port());
    stripe.send_webhooks_to(format!("{address}/api/payments/webhook"), config.stripe.webhook_secret.clone());
    let stripe_url = config.stripe.api_base.clone().unwrap_or_default();
    let app = TestApp { address, client: reqwest::Client::new(), db, stripe, stripe_url, nats, attempts };
    tokio::spawn(server.run_until_stopped());
    app.wait_until_ready().await;
    app
}

impl TestApp {
    pub async fn wait_until_ready(&self) {
        test_support::wait_ready(&self.client, &self.address).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn pay(&self, user: &str, order_id: &str, token_: &str) -> Response {
        self.client
            .post(self.url("/api/payments"))
            .bearer_auth(token(user))
            .json(&json!({ "orderId": order_id, "token": token_ }))
            .send()
            .await
            .expect("request sent")
    }

    /// Pays in a task of its own, for a test that acts while the payment is at Stripe.
    pub fn pay_in_background(&self, user: &str, order_id: &str, token_: &str) -> tokio::task::JoinHandle<Response> {
        let request =
            self.client.post(self.url("/api/payments")).bearer_auth(token(user)).json(&json!({ "orderId": order_id, "token": token_ }));
        tokio::spawn(async move { request.send().await.expect("request sent") })
    }

    /// Publishes `order.created` for `user` at `price` dollars and waits until payments knows it.
    pub async fn order(&self, id: &str, user: &str, price: f64) {
        publish(&self.nats, "order.created", order_created(id, user, price)).await;
        let known = eventually(Duration::from_secs(5), || async {
            payments::store::get_order(&self.db, &id.into()).await.ok().flatten().is_some()
        })
        .await;
        assert!(known, "order {id} never reached the payments service");
    }

    pub async fn replica(&self, id: &str) -> payments::store::OrderReplica {
        payments::store::get_order(&self.db, &id.into()).await.expect("query runs").expect("replica exists")
    }

    /// Waits until the order's replica is at `version`.
    pub async fn wait_version(&self, id: &str, version: u32) {
        let reached = eventually(Duration::from_secs(5), || async {
            payments::store::get_order(&self.db, &id.into()).await.ok().flatten().is_some_and(|o| o.version == version.into())
        })
        .await;
        assert!(reached, "order {id} never reached version {version}");
    }

    /// Waits until the order is paid and returns its payment's id.
    pub async fn wait_paid(&self, id: &str) -> Option<PaymentId> {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while std::time::Instant::now() < deadline {
            if let Some(paid) = payments::store::get_order(&self.db, &id.into()).await.ok().flatten().and_then(|o| o.payment_id) {
                return Some(paid);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Waits until Stripe has `count` refunds.
    pub async fn wait_refunds(&self, count: usize) -> bool {
        eventually(Duration::from_secs(10), || async { self.stripe.refunds().len() == count }).await
    }
}

/// An order as the orders service announces it, expiring in 15 minutes.
pub fn order_created(id: &str, user: &str, price: f64) -> Value {
    let expires = time::OffsetDateTime::now_utc() + Duration::from_secs(900);
    let expires = expires.format(&time::format_description::well_known::Rfc3339).expect("formats");
    json!({ "id": id, "version": 0, "status": "created", "userId": user, "expiresAt": expires, "ticket": { "id": format!("t-{id}"), "price": price } })
}

/// Ann's $20 attempt `id` on `order`: [`AttemptFor::as_new`] is it as the service would record
/// it (checked in an hour).
pub fn attempt(id: &str, order: &str) -> AttemptFor {
    AttemptFor { id: id.into(), order: order.into(), buyer: "ann".into() }
}

/// The ids an attempt of [`attempt`] borrows.
pub struct AttemptFor {
    pub id: PaymentId,
    pub order: OrderId,
    pub buyer: UserId,
}

impl AttemptFor {
    pub fn as_new(&self) -> payments::store::NewAttempt<'_> {
        payments::store::NewAttempt {
            id: &self.id,
            order_id: &self.order,
            user_id: &self.buyer,
            amount: 2000,
            token: "pm_card_visa",
            hold: Duration::from_secs(60),
            check_after: Duration::from_secs(3600),
            limits: Default::default(),
        }
    }
}
