//! Expiry precision and the expiration service's memory with many pending expiries.
//!
//! `cargo build --release -p expiration && cargo run --release -p bench --bin expiry` starts a
//! nats-server and the real `expiration` binary (next to this one in the target directory), then:
//! 1. publishes 100,000 `order.created` expiring in an hour (pending, never due here);
//! 2. publishes 10,000 more expiring evenly over the next 30 s;
//!
//! It prints the lateness of each of the 10,000 (when the stream stored its
//! `expiration.complete` minus its `expiresAt`: p50, p99, max), plus the peak resident memory of
//! the expiration process and of nats-server, where the schedules live.
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use futures_util::future::join_all;
use serde_json::json;
use test_support::{all_acked, stored, NatsServer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const PENDING: usize = 100_000;
const DUE: usize = 10_000;
const SPREAD: Duration = Duration::from_secs(30);
const LEAD: Duration = Duration::from_secs(20);

async fn publish_orders(js: &jetstream::Context, orders: &[(String, OffsetDateTime)]) -> anyhow::Result<()> {
    for chunk in orders.chunks(500) {
        let mut acks = Vec::with_capacity(chunk.len());
        for (id, at) in chunk {
            let payload = json!({
                "id": id, "version": 0, "status": "created", "userId": "bench",
                "expiresAt": at.format(&Rfc3339)?, "ticket": { "id": format!("t-{id}"), "price": 10 }
            });
            acks.push(js.publish("order.created", payload.to_string().into()).await?);
        }
        for ack in join_all(acks.into_iter().map(std::future::IntoFuture::into_future)).await {
            ack?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let binary = std::env::current_exe()?.with_file_name("expiration");
    anyhow::ensure!(binary.exists(), "build it first: cargo build --release -p expiration ({} is missing)", binary.display());
    let nats = NatsServer::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut service = Command::new(&binary)
        .env("PORT", port.to_string())
        .env("NATS_URL", nats.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let client = reqwest::Client::new();
    while !client.get(format!("http://127.0.0.1:{port}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let js = jetstream::new(test_support::client(&nats).await);

    let started = Instant::now();
    let later = OffsetDateTime::now_utc() + Duration::from_secs(3600);
    let pending: Vec<_> = (0..PENDING).map(|i| (format!("p{i}"), later)).collect();
    publish_orders(&js, &pending).await?;
    while !all_acked(&nats, "expiration-service").await {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("{PENDING} pending expiries scheduled in {:.1} s", started.elapsed().as_secs_f64());

    let start = OffsetDateTime::now_utc() + LEAD;
    let step = SPREAD / DUE as u32;
    let due: Vec<_> = (0..DUE).map(|i| (format!("d{i}"), start + step * i as u32)).collect();
    publish_orders(&js, &due).await?;
    let expires: HashMap<String, OffsetDateTime> = due.iter().cloned().collect();
    let end = start + SPREAD + Duration::from_secs(3);
    tokio::time::sleep((end - OffsetDateTime::now_utc()).try_into().unwrap_or_default()).await;

    let fired = stored(&nats, "expiration.complete").await;
    let mut lateness = Vec::with_capacity(fired.len());
    let mut counts: HashMap<String, usize> = HashMap::new();
    for message in &fired {
        let id = message.payload["orderId"].as_str().unwrap_or_default().to_string();
        if let Some(at) = expires.get(&id) {
            lateness.push((message.stored_at - *at).max(time::Duration::ZERO).try_into().unwrap_or_default());
        }
        *counts.entry(id).or_default() += 1;
    }
    let twice = counts.values().filter(|c| **c > 1).count();
    println!(
        "expired {} of {DUE} (fired twice: {twice}; pending fired early: {})",
        lateness.len(),
        counts.keys().filter(|k| k.starts_with('p')).count()
    );
    println!("lateness after expiresAt: {}", bench::summary(lateness));
    println!("expiration process peak RSS: {:.1} MiB", bench::memory(service.id()).1);
    println!("nats-server peak RSS: {:.1} MiB", nats.pid().map(|pid| bench::memory(pid).1).unwrap_or_default());
    service.kill()?;
    Ok(())
}
