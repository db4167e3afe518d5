//! Event propagation and request rates of the tickets and orders services on loopback.
//!
//! `cargo run --release -p bench --bin events` starts a nats-server, the tickets and orders
//! services (in-memory databases) and prints:
//! - from `POST /api/tickets` returning to the ticket being orderable (the orders service's
//!   replica has it), and from `POST /api/orders` returning to the ticket showing `orderId`,
//!   over 1,000 tickets: p50, p99, max;
//! - requests per second for `GET /api/tickets` (50 tickets) and `POST /api/orders`, 64
//!   connections.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench::summary;
use serde_json::{json, Value};
use test_support::{env, token, NatsServer};

const TICKETS: usize = 1_000;
const CONNECTIONS: usize = 64;
const RUN: Duration = Duration::from_secs(5);

async fn start(nats: &NatsServer) -> anyhow::Result<(String, String)> {
    let tickets = tickets::application(tickets::TicketsConfig::read(env(nats, &[("RUST_LOG", "warn")]))?).await?;
    let orders = orders::application(orders::OrdersConfig::read(env(nats, &[]))?).await?;
    let urls = (format!("http://127.0.0.1:{}", tickets.port()), format!("http://127.0.0.1:{}", orders.port()));
    tokio::spawn(tickets.run_until_stopped());
    tokio::spawn(orders.run_until_stopped());
    let client = reqwest::Client::new();
    for url in [&urls.0, &urls.1] {
        while !client.get(format!("{url}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(urls)
}

async fn sell(client: &reqwest::Client, tickets: &str, n: usize) -> anyhow::Result<String> {
    let response = client
        .post(format!("{tickets}/api/tickets"))
        .bearer_auth(token("seller"))
        .json(&json!({ "title": format!("bench {n}"), "price": 10 }))
        .send()
        .await?;
    Ok(response.json::<Value>().await?["id"].as_str().unwrap_or_default().to_string())
}

/// The seller's own order attempt answers 400 once the orders service has the ticket, 404 before.
async fn orderable(client: &reqwest::Client, orders: &str, id: &str) -> bool {
    let response = client.post(format!("{orders}/api/orders")).bearer_auth(token("seller")).json(&json!({ "ticketId": id })).send().await;
    response.is_ok_and(|r| r.status().as_u16() == 400)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let nats = NatsServer::start();
    let (tickets, orders) = start(&nats).await?;
    let client = reqwest::Client::new();

    let mut to_orderable = Vec::with_capacity(TICKETS);
    let mut to_reserved = Vec::with_capacity(TICKETS);
    for n in 0..TICKETS {
        let id = sell(&client, &tickets, n).await?;
        let returned = Instant::now();
        while !orderable(&client, &orders, &id).await {}
        to_orderable.push(returned.elapsed());

        let response =
            client.post(format!("{orders}/api/orders")).bearer_auth(token("buyer")).json(&json!({ "ticketId": id })).send().await?;
        anyhow::ensure!(response.status().as_u16() == 201, "order failed: {}", response.status());
        let returned = Instant::now();
        loop {
            let ticket: Value = client.get(format!("{tickets}/api/tickets/{id}")).send().await?.json().await?;
            if ticket.get("orderId").is_some() {
                break;
            }
        }
        to_reserved.push(returned.elapsed());
    }
    println!("POST /api/tickets -> orderable in orders:   {}", summary(to_orderable));
    println!("POST /api/orders  -> orderId on the ticket: {}", summary(to_reserved));

    // 50 available tickets for the listing.
    let mut fresh = Vec::new();
    for n in 0..50 {
        fresh.push(sell(&client, &tickets, TICKETS + n).await?);
    }
    let listed = rate(CONNECTIONS, RUN, {
        let (client, url) = (client.clone(), format!("{tickets}/api/tickets"));
        move |_| {
            let (client, url) = (client.clone(), url.clone());
            async move { client.get(url).send().await.is_ok_and(|r| r.status().is_success()) }
        }
    })
    .await;
    println!("GET /api/tickets (50 tickets), {CONNECTIONS} connections: {listed:.0} req/s");

    // One fresh ticket per order: create them first and wait until orders knows them all.
    let pool: Vec<String> = {
        let mut ids = Vec::new();
        for n in 0..4_000 {
            ids.push(sell(&client, &tickets, 2 * TICKETS + n).await?);
        }
        let last = ids.last().cloned().unwrap_or_default();
        while !orderable(&client, &orders, &last).await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ids
    };
    let pool = Arc::new(pool);
    let next = Arc::new(AtomicUsize::new(0));
    let ordered = rate(CONNECTIONS, RUN, {
        let (client, url) = (client.clone(), format!("{orders}/api/orders"));
        move |_| {
            let (client, url, pool, next) = (client.clone(), url.clone(), pool.clone(), next.clone());
            async move {
                let Some(id) = pool.get(next.fetch_add(1, Ordering::Relaxed)) else { return false };
                let response = client.post(url).bearer_auth(token("buyer")).json(&json!({ "ticketId": id })).send().await;
                response.is_ok_and(|r| r.status().as_u16() == 201)
            }
        }
    })
    .await;
    println!("POST /api/orders, {CONNECTIONS} connections: {ordered:.0} req/s");
    drop(fresh);
    Ok(())
}

/// Successful requests per second over `run`, from `connections` concurrent loops.
async fn rate<F, Fut>(connections: usize, run: Duration, request: F) -> f64
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let loops: Vec<_> = (0..connections)
        .map(|c| {
            let (request, done) = (request.clone(), done.clone());
            tokio::spawn(async move {
                while start.elapsed() < run {
                    if request(c).await {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        break;
                    }
                }
            })
        })
        .collect();
    futures_util::future::join_all(loops).await;
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}
