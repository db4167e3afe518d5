//! The live updates' figures: the web server's memory with 1,000 idle subscribers of
//! `/live/tickets`, and the time from an event to the browser: for each of 200 tickets listed
//! one at a time, from the API's 201 to the ticket's event at the first (and at the last) of 10
//! sampled subscribers; and whether every subscriber heard every ticket.
//!
//! ```sh
//! cargo leptos build --release --split && cargo run --release -p bench --bin live
//! ```
//!
//! It starts the release `server` (every service embedded; `SERVER_BIN` names another) on a
//! fresh data folder with a nats-server of its own, as `scripts/measure` does, so that it knows
//! the server's pid and reads its memory from `/proc`. `LIVE_SUBSCRIBERS` and `LIVE_TICKETS`
//! change the counts. Each subscriber is a task of this process with a connection of its own (an
//! HTTP/1.1 stream, as a browser's EventSource); they are opened 100 at a time, since the
//! server's listen backlog is finite. Both ends need a file descriptor per subscriber.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bench::{memory, summary, WebServer};
use serde_json::json;
use test_support::NatsServer;
use tokio::sync::mpsc;

const SUBSCRIBERS: usize = 1_000;
const TICKETS: usize = 200;
/// Subscribers whose arrival times are kept, spread over the connection order.
const SAMPLED: usize = 10;
/// Subscribers connecting at once.
const BATCH: usize = 100;
/// How long a ticket's event may take to reach the sampled subscribers before the run fails.
const PATIENCE: Duration = Duration::from_secs(5);

/// A count from the environment, or `default`.
fn count(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(value) => {
            let n: usize = value.trim().parse().with_context(|| format!("{name}={value:?} is not a number"))?;
            anyhow::ensure!(n > 0, "{name} must be at least 1");
            Ok(n)
        }
        Err(_) => Ok(default),
    }
}

/// The `id` of an event's `data: {"id": …}` line.
fn id_of(event: &str) -> Option<String> {
    let data = event.lines().find_map(|line| line.strip_prefix("data: "))?;
    serde_json::from_str::<serde_json::Value>(data).ok()?["id"].as_str().map(str::to_string)
}

/// One subscriber: says whether its stream opened, then reads it for as long as the server
/// sends, counting each ticket event; a sampled one also reports when each ticket's event
/// arrived (when its bytes did, before they are parsed).
async fn subscribe(
    client: reqwest::Client,
    url: String,
    delivered: Arc<AtomicU64>,
    sample: Option<mpsc::UnboundedSender<(String, Instant)>>,
    opened: mpsc::Sender<anyhow::Result<()>>,
) {
    let mut response = match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => {
            let _ = opened.send(Err(anyhow::anyhow!("{url} answered {}", response.status()))).await;
            return;
        }
        Err(error) => {
            let _ = opened.send(Err(anyhow::anyhow!("{url}: {error} (enough file descriptors? ulimit -n)"))).await;
            return;
        }
    };
    let _ = opened.send(Ok(())).await;
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            // Keep-alive comments (`:`) and anything but a ticket's change.
            if !event.starts_with("event: ticket\n") {
                continue;
            }
            delivered.fetch_add(1, Ordering::Relaxed);
            if let Some(sample) = &sample
                && let Some(id) = id_of(&event)
            {
                let _ = sample.send((id, at));
            }
        }
    }
}

/// Opens `subscribers` streams of `url`, a batch at a time, each batch open before the next
/// connects; `sampled` of them, spread over the connection order, send their arrival times.
async fn open_subscribers(
    url: &str,
    subscribers: usize,
    sampled: usize,
    delivered: &Arc<AtomicU64>,
) -> anyhow::Result<mpsc::UnboundedReceiver<(String, Instant)>> {
    let streams = reqwest::Client::new();
    let (samples_to, samples) = mpsc::unbounded_channel();
    let step = subscribers / sampled;
    for first in (0..subscribers).step_by(BATCH) {
        let batch = BATCH.min(subscribers - first);
        let (opened_to, mut opened) = mpsc::channel(batch);
        for i in first..first + batch {
            let sample = (i % step == 0 && i / step < sampled).then(|| samples_to.clone());
            tokio::spawn(subscribe(streams.clone(), url.to_string(), delivered.clone(), sample, opened_to.clone()));
        }
        for _ in 0..batch {
            opened.recv().await.context("a subscriber's task ended without a word")??;
        }
    }
    Ok(samples)
}

/// When each ticket's event reached the sampled subscribers, measured from the API's 201.
struct Arrivals {
    first: Vec<Duration>,
    last: Vec<Duration>,
    /// Events that overtook the API's answer (the relay publishes as the transaction commits).
    before_the_answer: usize,
}

/// Lists `tickets` tickets one at a time: each one's event has reached every sampled subscriber
/// before the next is listed.
async fn list_and_time(
    api: &reqwest::Client,
    base: &str,
    tickets: usize,
    sampled: usize,
    samples: &mut mpsc::UnboundedReceiver<(String, Instant)>,
) -> anyhow::Result<Arrivals> {
    let mut arrivals = Arrivals { first: Vec::new(), last: Vec::new(), before_the_answer: 0 };
    let mut arrived: HashMap<String, Vec<Instant>> = HashMap::new();
    for i in 0..tickets {
        let response = api.post(format!("{base}/api/tickets")).json(&json!({ "title": format!("Live {i}"), "price": 10 })).send().await?;
        let answered = Instant::now();
        anyhow::ensure!(response.status().as_u16() == 201, "listing a ticket answered {}", response.status());
        let ticket: serde_json::Value = response.json().await?;
        let id = ticket["id"].as_str().context("a listed ticket without an id")?.to_string();
        let deadline = answered + PATIENCE;
        while arrived.get(&id).map_or(0, Vec::len) < sampled {
            let heard = arrived.get(&id).map_or(0, Vec::len);
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                bail!("ticket {id}'s event reached {heard} of {sampled} sampled subscribers within {PATIENCE:?}");
            };
            match tokio::time::timeout(left, samples.recv()).await {
                Ok(Some((got, at))) => arrived.entry(got).or_default().push(at),
                Ok(None) => bail!("every sampled subscriber's stream ended"),
                Err(_) => bail!("ticket {id}'s event reached {heard} of {sampled} sampled subscribers within {PATIENCE:?}"),
            }
        }
        let times = arrived.remove(&id).unwrap_or_default();
        let (Some(earliest), Some(latest)) = (times.iter().min(), times.iter().max()) else {
            bail!("ticket {id}'s event arrived nowhere");
        };
        if *earliest < answered {
            arrivals.before_the_answer += 1;
        }
        arrivals.first.push(earliest.saturating_duration_since(answered));
        arrivals.last.push(latest.saturating_duration_since(answered));
    }
    Ok(arrivals)
}

/// Waits (up to [`PATIENCE`]) for `delivered` to reach `expected`, and says how many it reached.
async fn all_heard(delivered: &AtomicU64, expected: u64) -> u64 {
    let deadline = Instant::now() + PATIENCE;
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    delivered.load(Ordering::Relaxed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let subscribers = count("LIVE_SUBSCRIBERS", SUBSCRIBERS)?;
    let tickets = count("LIVE_TICKETS", TICKETS)?;
    let sampled = SAMPLED.min(subscribers);
    let nats = NatsServer::start();
    let data = tempfile::tempdir()?;
    let server = WebServer::start(data.path(), &nats.url(), &[]).await?;
    let (base, pid) = (server.base.clone(), server.child.id());
    println!("live updates: the release server at {base} (pid {pid}), {subscribers} subscribers of /live/tickets, {tickets} tickets");

    let api = reqwest::Client::builder().cookie_store(true).build()?;
    api.get(&base).send().await?.error_for_status()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle, _) = memory(pid);
    println!("web server RSS, idle after one page: {idle:.1} MiB");

    let delivered = Arc::new(AtomicU64::new(0));
    let connecting = Instant::now();
    let mut samples = open_subscribers(&format!("{base}/live/tickets"), subscribers, sampled, &delivered).await?;
    println!("{subscribers} streams open in {:.2} s", connecting.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (connected, _) = memory(pid);
    let added = connected - idle;
    println!(
        "web server RSS with {subscribers} idle subscribers: {connected:.1} MiB ({added:+.1} MiB, {:.1} KiB per subscriber)",
        added * 1024.0 / subscribers as f64
    );

    let signup = api
        .post(format!("{base}/api/users/signup"))
        .json(&json!({ "email": "live-seller@example.com", "password": "live-bench-password" }))
        .send()
        .await?;
    anyhow::ensure!(signup.status().as_u16() == 201, "the seller's sign-up answered {}", signup.status());

    let arrivals = list_and_time(&api, &base, tickets, sampled, &mut samples).await?;
    println!(
        "event to browser, from the API's 201 to the ticket's event at the first of {sampled} sampled subscribers: {}",
        summary(arrivals.first)
    );
    println!("  and at the last of them: {}", summary(arrivals.last));
    println!(
        "  ({} of {tickets} events reached a subscriber before the API's answer reached the bench: counted as 0)",
        arrivals.before_the_answer
    );

    let expected = (subscribers * tickets) as u64;
    let heard = all_heard(&delivered, expected).await;
    println!("ticket events delivered: {heard} of {expected} ({subscribers} subscribers × {tickets} tickets)");
    let (after, peak) = memory(pid);
    println!("web server RSS after the events: {after:.1} MiB (peak {peak:.1} MiB)");
    anyhow::ensure!(heard == expected, "{} ticket events never reached their subscriber", expected - heard);
    Ok(())
}
