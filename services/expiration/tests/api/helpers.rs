use std::collections::HashMap;
use std::time::Duration;

use expiration::ExpirationConfig;
use serde_json::json;
use test_support::{env, eventually, publish_with_headers, stored, Nats, Stored};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Starts the expiration service in this process and waits until it is ready (its streams exist).
pub async fn spawn_expiration(nats: &impl Nats) {
    let config = ExpirationConfig::read(env(nats, &[])).expect("test configuration is valid");
    let server = expiration::application(config).await.expect("the expiration service starts");
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    test_support::wait_ready(&reqwest::Client::new(), &base).await;
}

pub fn in_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::milliseconds(ms)
}

/// Publishes `order.created` for an order expiring at `at`.
pub async fn order_created(nats: &impl Nats, id: &str, at: OffsetDateTime) {
    order_created_with_headers(nats, id, at, &[]).await;
}

/// [`order_created`] with message headers (a `traceparent`, as orders' relay sends it).
pub async fn order_created_with_headers(nats: &impl Nats, id: &str, at: OffsetDateTime, headers: &[(&str, &str)]) {
    let payload = json!({
        "id": id, "version": 0, "status": "created", "userId": "ann",
        "expiresAt": at.format(&Rfc3339).unwrap(), "ticket": { "id": format!("t-{id}"), "price": 10 }
    });
    publish_with_headers(nats, "order.created", payload, headers).await;
}

/// `expiration.complete` messages in the stream, by order id.
pub async fn fired(nats: &impl Nats) -> HashMap<String, Vec<Stored>> {
    let mut by_order: HashMap<String, Vec<Stored>> = HashMap::new();
    for message in stored(nats, "expiration.complete").await {
        let id = message.payload["orderId"].as_str().unwrap_or_default().to_string();
        by_order.entry(id).or_default().push(message);
    }
    by_order
}

/// Waits until `count` orders have fired (or 10 s pass), then a little longer for duplicates.
pub async fn wait_fired(nats: &impl Nats, count: usize) -> HashMap<String, Vec<Stored>> {
    eventually(Duration::from_secs(10), || async { fired(nats).await.len() >= count }).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    fired(nats).await
}
