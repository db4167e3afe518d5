//! The on-sale figures: what the single-machine server serves when a drop goes on sale, and
//! whether that stays flat as the catalogue grows. Each rate of the list and the page is printed
//! beside a ceiling measured in the same run (an axum handler in this process returning the same
//! bytes), so a slower or faster day moves both.
//!
//! ```sh
//! scripts/bench        # builds the release server and this benchmark, then runs it
//! ```
//!
//! It runs the release `server` binary (as `cargo leptos build --release` makes it) against a
//! nats-server of its own, in three phases, each on a fresh data folder:
//!
//! 1. **50 tickets, then the rush.** `GET /api/tickets` and the server-rendered `/` at 64
//!    connections; then 1,000 more tickets go on sale and 10,000 buyers (one session each, ten
//!    per ticket) race for them at 256 connections through `POST /api/orders`. It prints the
//!    answers by status, the rate, latency percentiles, when the list showed the drop sold out
//!    and when every consumer (tickets, payments, expiration) had acked every event; exactly
//!    1,000 orders must succeed and the tickets service must hold each ticket reserved. Then
//!    100 sign-ups at once, and the server's memory before and after.
//! 2. **1,000 tickets** (a quarter reserved) written straight into the tickets database before
//!    the server starts: the list's first page and a page deep in it (`before=`), at 64
//!    connections and at one.
//! 3. **100,000 tickets**, the same; and the server's idle memory with them stored.
//!
//! The load generator is `wrk` (Debian's); its Lua scripts are below. wrk drives one
//! connection per in-flight request, so latency is per request; 256 connections is 256
//! buyers pressing at the same moment.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::header;
use axum::routing::get;
use bench::{thousands, wrk, WrkRun};
use bytes::Bytes;
use serde_json::{json, Value};
use shared::events::permissions;
use surrealdb::types::{RecordId, SurrealValue};
use test_support::{consumer_state, token, NatsServer};

const RUN_SECONDS: u64 = 5;
const DROP: usize = 1_000;
const BUYERS: usize = 10_000;
const RUSH_CONNECTIONS: usize = 256;
const SIGNUPS: usize = 100;

/// Counts each answer's status on the thread's `counts`, for `done` to print.
const COUNTING: &str = r#"
counts = {}
function setup(thread) counted_thread = thread end
local function count(status) counts[status] = (counts[status] or 0) + 1 end
"#;

/// Each buyer once, then stop: the file holds one `token ticketId` line per buyer. wrk keeps
/// every connection busy until it stops, so once every buyer is sent the connections ask for
/// `/readyz` (a 200, which no order answer is, and not counted) while the last buyers are
/// answered.
const RACE: &str = r#"
local buyers = {}
local sent, answered = 0, 0
local idle = wrk.format("GET", "/readyz")
function init(args)
  for line in io.lines(args[1]) do
    local token, ticket = line:match("^(%S+) (%S+)$")
    buyers[#buyers + 1] = wrk.format("POST", "/api/orders",
      { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
      '{"ticketId":"' .. ticket .. '"}')
  end
end
function request()
  sent = sent + 1
  if sent > #buyers then return idle end
  return buyers[sent]
end
function response(status)
  if status == 200 then return end
  if answered < #buyers then
    count(status)
    answered = answered + 1
    if answered == #buyers then wrk.thread:stop(); io.write("bench stopped\n"); io.flush() end
  end
end
"#;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn server_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("SERVER_BIN") {
        return Ok(path.into());
    }
    let here = std::env::current_exe()?;
    let binary = here.parent().map(|dir| dir.join("server")).filter(|p| p.exists());
    binary.ok_or_else(|| anyhow::anyhow!("build the server first: cargo leptos build --release (scripts/bench does)"))
}

/// The release web server with every service embedded, on its own data folder.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(data: &Path, nats: &NatsServer) -> anyhow::Result<Self> {
        let port = test_support::free_port();
        let root = repo_root();
        let child = Command::new(server_binary()?)
            .current_dir(&root)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", root.join("target/site"))
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_OUTPUT_NAME", "ticketing")
            .env("DATA_DIR", data)
            .env("NATS_URL", nats.url())
            .env("RUST_LOG", "warn")
            // The sign-up burst comes from many addresses, as through a load balancer.
            .env("TRUSTED_PROXIES", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            anyhow::ensure!(Instant::now() < deadline, "the server was not ready within a minute");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }

    /// Resident memory now and at its peak, in MiB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib = |key: &str| {
            status.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok()).unwrap_or(0.0)
        };
        (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
    }
}

/// The ceilings: the same bytes the server answered, from a handler that does nothing else.
async fn ceiling(json: Bytes, html: Bytes) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/tickets", get(move || std::future::ready(([(header::CONTENT_TYPE, "application/json")], json.clone()))))
        .route("/page", get(move || std::future::ready(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html.clone()))));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

fn get_run(url: &str, connections: usize) -> anyhow::Result<WrkRun> {
    wrk(url, connections, RUN_SECONDS, "", &[])
}

/// A figure and its ceiling on one line.
fn versus(label: &str, run: &WrkRun, ceiling: &WrkRun) {
    println!("{label:<58} {:<44} ceiling {:<44} {:>5.1} % of it", run.line(), ceiling.line(), 100.0 * run.rate() / ceiling.rate());
    if run.non_2xx + run.socket_errors > 0 {
        println!("{:<58} !! {} non-2xx answers, {} socket errors", "", run.non_2xx, run.socket_errors);
    }
}

#[derive(SurrealValue)]
struct Seed {
    id: RecordId,
    title: String,
    price: i64,
    user_id: String,
    version: i64,
    order_id: Option<String>,
    sold: bool,
    deleted: bool,
}

/// Writes `count` tickets (every fourth one reserved) into the tickets database of `data`, as
/// the service would have stored them, and returns their ids, oldest first.
async fn seed(data: &Path, count: usize) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let db = surrealdb::engine::any::connect(format!("surrealkv://{}", data.join("tickets").display())).await?;
    db.use_ns("ticketing").use_db("tickets").await?;
    db.query(tickets::store::schema()).await?.check()?;
    let ids: Vec<String> = (0..count).map(|_| uuid::Uuid::now_v7().simple().to_string()).collect();
    for (batch, chunk) in ids.chunks(2_000).enumerate() {
        let rows: Vec<Seed> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| Seed {
                id: RecordId::new("ticket", id.as_str()),
                title: format!("Seeded ticket {}", batch * 2_000 + i),
                price: 2_500 + (i as i64 % 50) * 100,
                user_id: format!("seller{}", i % 20),
                version: 0,
                order_id: (i % 4 == 3).then(|| uuid::Uuid::now_v7().simple().to_string()),
                sold: false,
                deleted: false,
            })
            .collect();
        db.query("INSERT INTO ticket $rows RETURN NONE").bind(("rows", rows)).await?.check()?;
    }
    drop(db);
    // The embedded store closes its files in the background.
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("seeded {} tickets in {:.1} s", thousands(count as f64), started.elapsed().as_secs_f64());
    Ok(ids)
}

/// The list at `count` tickets: first page and a deep page, 64 connections and one.
async fn list_phase(count: usize) -> anyhow::Result<(WrkRun, WrkRun)> {
    let data = tempfile::tempdir()?;
    let ids = seed(data.path(), count).await?;
    let nats = NatsServer::start();
    let server = Server::start(data.path(), &nats).await?;
    let client = reqwest::Client::new();
    let body = client.get(format!("{}/api/tickets", server.base)).send().await?.bytes().await?;
    let first: Vec<Value> = serde_json::from_slice(&body)?;
    anyhow::ensure!(first.len() == 50, "the first page has {} tickets", first.len());
    let ceil = ceiling(body, Bytes::new()).await?;
    let middle = &ids[ids.len() / 2];
    let deep = format!("{}/api/tickets?before={middle}", server.base);
    let page: Vec<Value> = client.get(&deep).send().await?.json().await?;
    anyhow::ensure!(page.len() == 50, "the deep page has {} tickets", page.len());
    if count >= 100_000 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (rss, _) = server.memory();
        println!("server idle RSS with {} tickets stored: {rss:.1} MiB", thousands(count as f64));
    }
    let n = thousands(count as f64);
    let ceiling64 = get_run(&format!("{ceil}/tickets"), 64)?;
    let first64 = get_run(&format!("{}/api/tickets", server.base), 64)?;
    versus(&format!("GET /api/tickets, {n} tickets, 64 connections"), &first64, &ceiling64);
    let ceiling1 = get_run(&format!("{ceil}/tickets"), 1)?;
    let first1 = get_run(&format!("{}/api/tickets", server.base), 1)?;
    versus(&format!("GET /api/tickets, {n} tickets, 1 connection"), &first1, &ceiling1);
    let deep64 = get_run(&deep, 64)?;
    versus(&format!("GET /api/tickets?before=<middle>, {n} tickets, 64 conn."), &deep64, &ceiling64);
    let deep1 = get_run(&deep, 1)?;
    versus(&format!("GET /api/tickets?before=<middle>, {n} tickets, 1 conn."), &deep1, &ceiling1);
    Ok((first1, deep1))
}

async fn sell(client: &reqwest::Client, base: &str, seller: &str, n: usize) -> anyhow::Result<String> {
    let response = client
        .post(format!("{base}/api/tickets"))
        .bearer_auth(token(seller))
        .json(&json!({ "title": format!("Drop ticket {n}"), "price": 40 + n % 60 }))
        .send()
        .await?;
    anyhow::ensure!(response.status().as_u16() == 201, "listing a ticket: {}", response.status());
    Ok(response.json::<Value>().await?["id"].as_str().unwrap_or_default().to_string())
}

/// True when every consumer of `TICKETING` has acked everything.
async fn all_delivered(nats: &NatsServer) -> bool {
    for service in permissions::SERVICES {
        let state = consumer_state(nats, service.durable).await;
        if state.pending > 0 || state.ack_pending > 0 {
            return false;
        }
    }
    true
}

async fn listed(client: &reqwest::Client, base: &str) -> usize {
    let response = client.get(format!("{base}/api/tickets?limit=200")).send().await;
    match response {
        Ok(r) => r.json::<Vec<Value>>().await.map_or(usize::MAX, |l| l.len()),
        Err(_) => usize::MAX,
    }
}

async fn rush_phase() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let nats = NatsServer::start();
    let server = Server::start(data.path(), &nats).await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    for n in 0..50 {
        sell(&client, &base, "seller", n).await?;
    }
    let json = client.get(format!("{base}/api/tickets")).send().await?.bytes().await?;
    let html = client.get(format!("{base}/")).send().await?.bytes().await?;
    let ceil = ceiling(json, html).await?;

    let ceiling_json = get_run(&format!("{ceil}/tickets"), 64)?;
    versus("GET /api/tickets, 50 tickets, 64 connections", &get_run(&format!("{base}/api/tickets"), 64)?, &ceiling_json);
    let ceiling_page = get_run(&format!("{ceil}/page"), 64)?;
    versus("server-rendered /, 50 tickets, 64 connections", &get_run(&format!("{base}/"), 64)?, &ceiling_page);

    // The drop: 1,000 tickets from ten sellers, every one known to orders before the doors open.
    let drop: Vec<String> = {
        let mut ids = Vec::with_capacity(DROP);
        for chunk in (0..DROP).collect::<Vec<_>>().chunks(16) {
            let listed =
                chunk.iter().map(|&n| sell(&client, &base, ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"][n % 10], n));
            ids.extend(futures_util::future::try_join_all(listed).await?);
        }
        ids
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !all_delivered(&nats).await {
        anyhow::ensure!(Instant::now() < deadline, "the drop's events were not delivered within a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let buyers = tempfile::NamedTempFile::new()?;
    // A ticket's ten buyers one after another: they are in flight together, as in a real drop
    // where everyone wants the front row at the same second.
    let lines: Vec<String> = (0..BUYERS).map(|b| format!("{} {}", token(&format!("buyer{b}")), drop[b / (BUYERS / DROP)])).collect();
    std::fs::write(buyers.path(), lines.join("\n") + "\n")?;

    // Doors open: watch the list and the consumers while wrk runs.
    let started = Instant::now();
    let watcher = {
        let (client, base) = (client.clone(), base.clone());
        tokio::spawn(async move {
            let (mut sold_out, mut delivered) = (None, None);
            while delivered.is_none() && started.elapsed() < Duration::from_secs(120) {
                if sold_out.is_none() && listed(&client, &base).await <= 50 {
                    sold_out = Some(started.elapsed());
                }
                if sold_out.is_some() && all_delivered(&nats).await {
                    delivered = Some(started.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (sold_out, delivered)
        })
    };
    let url = format!("{base}/api/orders");
    let path = buyers.path().to_string_lossy().to_string();
    let race = tokio::task::spawn_blocking(move || wrk(&url, RUSH_CONNECTIONS, 120, &format!("{COUNTING}{RACE}"), &[&path])).await??;
    let wrk_done = started.elapsed();
    let (sold_out, delivered) = watcher.await?;
    let (rss, peak) = server.memory();

    let by_status: BTreeMap<u16, u64> = race.statuses.clone();
    let created = by_status.get(&201).copied().unwrap_or(0);
    let server_errors: u64 = by_status.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum();
    let answered: u64 = by_status.values().sum();
    println!("on-sale: {} buyers, {RUSH_CONNECTIONS} connections, for {} tickets", thousands(BUYERS as f64), thousands(DROP as f64));
    println!(
        "  answers: {} ({})",
        thousands(answered as f64),
        by_status.iter().map(|(s, n)| format!("{s}: {}", thousands(*n as f64))).collect::<Vec<_>>().join(", ")
    );
    println!(
        "  POST /api/orders: {} answers/s sustained over {:.2} s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms \
         (with the few /readyz of the tail)",
        thousands(answered as f64 / race.seconds.max(f64::EPSILON)),
        race.seconds,
        race.p50,
        race.p90,
        race.p99,
        race.max
    );
    let ms = |d: Option<Duration>| d.map_or("not within 2 minutes".to_string(), |d| format!("{:.0} ms", d.as_secs_f64() * 1000.0));
    println!("  wrk finished after {:.0} ms; the list showed the drop sold out after {}", wrk_done.as_secs_f64() * 1000.0, ms(sold_out));
    println!("  every event acked by every consumer (tickets, payments, expiration) after {}", ms(delivered));
    println!("  server RSS after the rush: {rss:.1} MiB (peak {peak:.1} MiB)");
    let reserved = listed(&client, &base).await;
    let verdict = created == DROP as u64 && server_errors == 0 && reserved == 50 && delivered.is_some();
    println!(
        "  {}: {created} orders created for {DROP} tickets, {server_errors} server errors, {} of the drop still listed",
        if verdict { "ok" } else { "NOT OK" },
        reserved.saturating_sub(50)
    );

    // A burst of sign-ups, each from its own address: Argon2 is bounded (one hash per core, a
    // queue of eight per core; the rest are told to come back). One request each, at once: a
    // load generator would send the refused ones again at once.
    let (before, _) = server.memory();
    let burst = (0..SIGNUPS).map(|n| {
        client
            .post(format!("{base}/api/users/signup"))
            .header("x-forwarded-for", format!("10.1.{}.{}", n / 250, n % 250 + 1))
            .json(&json!({ "email": format!("burst{n}@example.com"), "password": format!("burst-password-{n}") }))
            .send()
    });
    let mut statuses = BTreeMap::<u16, u64>::new();
    for answer in futures_util::future::join_all(burst).await {
        *statuses.entry(answer.map_or(0, |r| r.status().as_u16())).or_default() += 1;
    }
    let (after, peak) = server.memory();
    println!(
        "{SIGNUPS} sign-ups at once: {}; RSS {before:.1} -> {after:.1} MiB (peak {peak:.1} MiB)",
        statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", ")
    );
    anyhow::ensure!(verdict, "the rush did not end as it must");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("(wrk -t1, loopback, release build; ceiling = an axum handler returning the same bytes, same run)");
    // `RUSH_PHASES=rush` or `=lists` runs one part (to profile it).
    let phases = std::env::var("RUSH_PHASES").unwrap_or_else(|_| "rush,lists".into());
    if phases.contains("rush") {
        rush_phase().await?;
    }
    if !phases.contains("lists") {
        return Ok(());
    }
    let (small_first, small_deep) = list_phase(1_000).await?;
    let (large_first, large_deep) = list_phase(100_000).await?;
    println!(
        "flat in the table size, 1 connection p50: first page {:.2} -> {:.2} ms ({:.2}x), deep page {:.2} -> {:.2} ms ({:.2}x)",
        small_first.p50,
        large_first.p50,
        large_first.p50 / small_first.p50,
        small_deep.p50,
        large_deep.p50,
        large_deep.p50 / small_deep.p50
    );
    Ok(())
}
