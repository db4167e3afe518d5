//! The on-sale figures: what the marketplace serves when a drop goes on sale, and
//! whether that stays flat as the catalogue grows. Each rate of the list and the page is printed
//! beside a ceiling measured in the same run (an axum handler in this process returning the same
//! bytes), so a slower or faster day moves both.
//!
//! ```sh
//! scripts/bench        # builds the release server and this benchmark, then runs it
//! ```
//!
//! It measures a marketplace of its own in up to two topologies (`RUSH_TOPOLOGY=single`, the
//! default, `distributed` or `both`): the release `server` binary with every service embedded
//! and a nats-server of its own; or the distributed topology of `scripts/cluster` built for
//! release (every service a process, two replicas each, on a SurrealDB server over WebSocket, a
//! 3-node NATS cluster and nginx in front). In each, three phases, each on a fresh store:
//!
//! 1. **50 tickets, then the rush.** `GET /api/tickets` and the server-rendered `/` at 64
//!    connections; then 1,000 more tickets go on sale and 10,000 buyers (one session each, ten
//!    per ticket) race for them at 256 connections through `POST /api/orders`. It prints the
//!    answers by status, the rate, latency percentiles, when the list showed the drop sold out
//!    and when every consumer (tickets, payments, expiration) had acked every event; exactly
//!    1,000 orders must succeed and the tickets service must hold each ticket reserved. Then
//!    100 sign-ups at once, and the server's memory before and after.
//! 2. **1,000 tickets** (a quarter reserved) written straight into the tickets database (before
//!    the server starts; in the distributed topology, as the tickets service's database user):
//!    the list's first page and a page deep in it (`before=`), at 64 connections and at one.
//! 3. **100,000 tickets**, the same; and the server's idle memory with them stored.
//!
//! The load generator is `wrk` (Debian's); its Lua scripts are below. wrk drives one
//! connection per in-flight request, so latency is per request; 256 connections is 256
//! buyers pressing at the same moment.
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::http::header;
use axum::routing::get;
use bench::{memory, thousands, wrk, WebServer, WrkRun};
use bytes::Bytes;
use cluster::topology::Cluster;
use serde_json::{json, Value};
use shared::session::SigningKey;
use surrealdb::types::{RecordId, SurrealValue};
use test_support::{token_signed_by, NatsServer};

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
/// `/healthz` (counted apart) while the last buyers are answered. An answer that never comes
/// (a socket error) would keep it waiting: longer than wrk's own timeout after the last
/// buyer's answer it stops anyway, and the bench prints how many were lost.
/// The idle requests are cheap but not free: they share the server with the last buyers.
/// The rate is over the time from the first buyer sent to the last one answered (LuaJIT's FFI
/// reads the monotonic clock; Lua's own clocks count seconds or CPU time).
const RACE: &str = r#"
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *at);
]]
local clock = ffi.new("bench_timespec")
local function now() ffi.C.clock_gettime(1, clock); return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9 end
local buyers = {}
local sent, answered = 0, 0
first, last = nil, nil
local idle
function init(args)
  -- Formatted here, not when the script loads: wrk adds the Host header just before init.
  idle = wrk.format("GET", "/healthz")
  for line in io.lines(args[1]) do
    local token, ticket = line:match("^(%S+) (%S+)$")
    buyers[#buyers + 1] = wrk.format("POST", "/api/orders",
      { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
      '{"ticketId":"' .. ticket .. '"}')
  end
end
local verified = false
function request()
  -- wrk calls it once before any connection, to check that it makes a request: that call
  -- sends nothing, so it must not use up a buyer.
  if not verified then verified = true; return buyers[1] end
  if not first then first = now(); last = first end
  sent = sent + 1
  if sent > #buyers then return idle end
  return buyers[sent]
end
local function stop() wrk.thread:stop(); io.write("bench stopped\n"); io.flush() end
-- The idle answer is /healthz's own body; everything else answers a buyer (an order, an error
-- in the API's shape, or a proxy's error page), counted by status. Idle answers are counted
-- apart (as status + 1000), so that they are seen, never mistaken.
function response(status, headers, body)
  if answered >= #buyers then return end
  if status == 200 and body and body:find('"status":"ok"', 1, true) then
    count(1000 + status)
    if sent > #buyers and now() - last > 11 then stop() end
  else
    count(status)
    answered = answered + 1
    last = now()
    if answered == #buyers then stop() end
  end
end
"#;

/// Which deployment the figures are of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topology {
    /// The release web server with every service embedded, on embedded SurrealDB (surrealkv)
    /// and a nats-server of its own.
    Single,
    /// `scripts/cluster`'s topology: every service a process of its own (release builds, two
    /// replicas each, and two of the web server), on the SurrealDB server over WebSocket and a
    /// 3-node NATS cluster, behind nginx.
    Distributed,
}

impl Topology {
    fn name(self) -> &'static str {
        match self {
            Self::Single => "single machine",
            Self::Distributed => "distributed",
        }
    }
}

enum Running {
    Single { _server: WebServer, _nats: NatsServer, _data: tempfile::TempDir },
    Distributed(Box<Cluster>),
}

/// A marketplace to measure: where it answers, how its sessions are signed, how to read its
/// consumers, and which processes to weigh.
struct Target {
    base: String,
    key: SigningKey,
    nats: async_nats::Client,
    /// The marketplace's own processes (the web server and the services), whose memory is summed.
    pids: Vec<u32>,
    running: Running,
}

impl Target {
    /// A fresh marketplace with `seeded` tickets already stored (every fourth one reserved);
    /// returns it and the seeded tickets' ids, oldest first.
    async fn start(topology: Topology, seeded: usize) -> anyhow::Result<(Self, Vec<String>)> {
        match topology {
            Topology::Single => {
                let data = tempfile::tempdir()?;
                let mut ids = Vec::new();
                if seeded > 0 {
                    let db = surrealdb::engine::any::connect(format!("surrealkv://{}", data.path().join("tickets").display())).await?;
                    db.use_ns("ticketing").use_db("tickets").await?;
                    db.query(tickets::store::schema()).await?.check()?;
                    ids = seed(&db, seeded).await?;
                    drop(db);
                    // The embedded store closes its files in the background.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                let nats = NatsServer::start();
                // The sign-up burst comes from many addresses, as through a load balancer.
                let server = WebServer::start(data.path(), &nats.url(), &[("TRUSTED_PROXIES", "1")]).await?;
                let target = Self {
                    base: server.base.clone(),
                    key: SigningKey::development(),
                    nats: test_support::client(&nats).await,
                    pids: vec![server.child.id()],
                    running: Running::Single { _server: server, _nats: nats, _data: data },
                };
                Ok((target, ids))
            }
            Topology::Distributed => {
                let cluster = Cluster::start(&cluster_options()?).await?;
                match Self::prepare(&cluster, seeded).await {
                    Ok((key, nats, ids)) => {
                        let pids = cluster.parts.values().flatten().filter_map(|p| p.pid()).collect();
                        let base = cluster.url.clone();
                        Ok((Self { base, key, nats, pids, running: Running::Distributed(Box::new(cluster)) }, ids))
                    }
                    Err(error) => {
                        // Stopped in order, and its folder kept for the logs.
                        cluster.stop().await;
                        Err(error)
                    }
                }
            }
        }
    }

    /// The distributed topology's session key and NATS client, and its seeded tickets.
    async fn prepare(cluster: &Cluster, seeded: usize) -> anyhow::Result<(SigningKey, async_nats::Client, Vec<String>)> {
        let secret =
            |name: &str, key: &str| cluster.secrets.get(name, key).ok_or_else(|| anyhow::anyhow!("the cluster generated no {name}/{key}"));
        let key =
            SigningKey::parse(&secret("session-signing-key", "SESSION_KEY_ID")?, &secret("session-signing-key", "SESSION_SIGNING_KEY")?)
                .map_err(|why| anyhow::anyhow!("the cluster's session key: {why}"))?;
        let mut ids = Vec::new();
        if seeded > 0 {
            // As the tickets service's own database user, into its database (the service made
            // the schema when it started).
            let db = surrealdb::engine::any::connect(cluster.database_url.as_str()).await?;
            db.signin(surrealdb::opt::auth::Database {
                namespace: "ticketing".into(),
                database: "tickets".into(),
                username: secret("db-tickets", "username")?,
                password: secret("db-tickets", "password")?,
            })
            .await?;
            db.use_ns("ticketing").use_db("tickets").await?;
            ids = seed(&db, seeded).await?;
            // Written behind the services' backs: no event bumps the replicas' kept pages, so
            // wait out their lifetime.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Ok((key, cluster.nats_admin.client().await?, ids))
    }

    /// Stops the marketplace; a distributed run's folder (its stores, 100,000 tickets among
    /// them, and logs) goes too.
    async fn stop(self) {
        if let Running::Distributed(cluster) = self.running {
            let dir = cluster.dir.clone();
            cluster.stop().await;
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// A session for `user`, signed as this marketplace's auth signs them.
    fn token(&self, user: &str) -> String {
        token_signed_by(&self.key, user)
    }

    /// Resident memory of the marketplace's processes, summed: now and the sum of their peaks.
    fn memory(&self) -> (f64, f64) {
        self.pids.iter().map(|pid| memory(*pid)).fold((0.0, 0.0), |(now, peak), (n, p)| (now + n, peak + p))
    }

    /// `server` or `12 processes`, for the memory lines.
    fn processes(&self) -> String {
        match self.pids.len() {
            1 => "server".to_string(),
            n => format!("{n} processes (services and web servers, summed)"),
        }
    }

    /// The SurrealDB server's memory, when there is one.
    fn database_memory(&self) -> Option<f64> {
        match &self.running {
            Running::Distributed(cluster) => cluster.surreal.pid().map(|pid| memory(pid).0),
            Running::Single { .. } => None,
        }
    }

    /// True when every consumer of `TICKETING` has acked everything.
    async fn all_delivered(&self) -> bool {
        let js = async_nats::jetstream::new(self.nats.clone());
        cluster::invariants::backlog(&js).await.is_ok_and(|backlog| backlog.is_empty())
    }
}

/// The distributed topology's processes as `scripts/cluster` runs them, but release builds:
/// the services, the web server and the SurrealDB server from `target/release` (scripts/bench
/// builds them), each run in a folder of its own under the cache.
fn cluster_options() -> anyhow::Result<cluster::topology::Options> {
    let release = bench::server_binary()?.parent().map(Path::to_path_buf).unwrap_or_default();
    let cache = cluster::cache_dir();
    let run = format!("bench-{}", time::OffsetDateTime::now_utc().unix_timestamp_nanos());
    Ok(cluster::topology::Options {
        services_dir: release.clone(),
        surreal_bin: release.join("surreal"),
        web_bin: release.join("server"),
        site_root: bench::repo_root().join("target/site"),
        dir: cache.join("cluster").join(run),
        replicas: None,
        expiration_window: None,
        ingress_port: None,
    })
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
        println!("{:<58} !! {} non-2xx answers, socket errors: {}", "", run.non_2xx, run.socket_kinds);
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

/// Writes `count` tickets (every fourth one reserved) into the tickets database `db` (its
/// namespace and database selected), as the service would have stored them, and returns their
/// ids, oldest first.
async fn seed<C: surrealdb::Connection>(db: &surrealdb::Surreal<C>, count: usize) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
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
    println!("seeded {} tickets in {:.1} s", thousands(count as f64), started.elapsed().as_secs_f64());
    Ok(ids)
}

/// The list at `count` tickets: first page and a deep page, 64 connections and one.
async fn list_phase(topology: Topology, count: usize) -> anyhow::Result<(WrkRun, WrkRun)> {
    let (target, ids) = Target::start(topology, count).await?;
    let result = list_runs(&target, &ids, count).await;
    target.stop().await;
    result
}

async fn list_runs(target: &Target, ids: &[String], count: usize) -> anyhow::Result<(WrkRun, WrkRun)> {
    let base = &target.base;
    let client = reqwest::Client::new();
    let body = client.get(format!("{base}/api/tickets")).send().await?.bytes().await?;
    let first: Vec<Value> = serde_json::from_slice(&body)?;
    anyhow::ensure!(first.len() == 50, "the first page has {} tickets", first.len());
    let ceil = ceiling(body, Bytes::new()).await?;
    let middle = &ids[ids.len() / 2];
    let deep = format!("{base}/api/tickets?before={middle}");
    let page: Vec<Value> = client.get(&deep).send().await?.json().await?;
    anyhow::ensure!(page.len() == 50, "the deep page has {} tickets", page.len());
    if count >= 100_000 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (rss, _) = target.memory();
        let database = target.database_memory().map(|m| format!("; SurrealDB server {m:.1} MiB")).unwrap_or_default();
        println!("idle RSS with {} tickets stored: {} {rss:.1} MiB{database}", thousands(count as f64), target.processes());
    }
    let n = thousands(count as f64);
    let ceiling64 = get_run(&format!("{ceil}/tickets"), 64)?;
    let first64 = get_run(&format!("{base}/api/tickets"), 64)?;
    versus(&format!("GET /api/tickets, {n} tickets, 64 connections"), &first64, &ceiling64);
    let ceiling1 = get_run(&format!("{ceil}/tickets"), 1)?;
    let first1 = get_run(&format!("{base}/api/tickets"), 1)?;
    versus(&format!("GET /api/tickets, {n} tickets, 1 connection"), &first1, &ceiling1);
    let deep64 = get_run(&deep, 64)?;
    versus(&format!("GET /api/tickets?before=<middle>, {n} tickets, 64 conn."), &deep64, &ceiling64);
    let deep1 = get_run(&deep, 1)?;
    versus(&format!("GET /api/tickets?before=<middle>, {n} tickets, 1 conn."), &deep1, &ceiling1);
    Ok((first1, deep1))
}

async fn sell(target: &Target, client: &reqwest::Client, seller: &str, n: usize) -> anyhow::Result<String> {
    let response = client
        .post(format!("{}/api/tickets", target.base))
        .bearer_auth(target.token(seller))
        .json(&json!({ "title": format!("Drop ticket {n}"), "price": 40 + n % 60 }))
        .send()
        .await?;
    anyhow::ensure!(response.status().as_u16() == 201, "listing a ticket: {}", response.status());
    let id = response.json::<Value>().await?["id"].as_str().map(str::to_string);
    id.ok_or_else(|| anyhow::anyhow!("a listed ticket's answer has no id"))
}

/// How many tickets the list shows, up to 200 (`None` when it could not be read).
async fn listed(client: &reqwest::Client, base: &str) -> Option<usize> {
    let response = client.get(format!("{base}/api/tickets?limit=200")).send().await.ok()?;
    response.json::<Vec<Value>>().await.ok().map(|list| list.len())
}

async fn rush_phase(topology: Topology) -> anyhow::Result<()> {
    let (target, _) = Target::start(topology, 0).await?;
    let result = rush(&target).await;
    target.stop().await;
    result
}

async fn rush(target: &Target) -> anyhow::Result<()> {
    let base = target.base.clone();
    let client = reqwest::Client::new();
    for n in 0..50 {
        sell(target, &client, "seller", n).await?;
    }
    let json = client.get(format!("{base}/api/tickets")).send().await?.bytes().await?;
    let html = client.get(format!("{base}/")).send().await?.bytes().await?;
    let ceil = ceiling(json, html).await?;

    let ceiling_json = get_run(&format!("{ceil}/tickets"), 64)?;
    versus("GET /api/tickets, 50 tickets, 64 connections", &get_run(&format!("{base}/api/tickets"), 64)?, &ceiling_json);
    let ceiling_page = get_run(&format!("{ceil}/page"), 64)?;
    versus("server-rendered /, 50 tickets, 64 connections", &get_run(&format!("{base}/"), 64)?, &ceiling_page);

    let drop = list_the_drop(target, &client).await?;
    let buyers = tempfile::NamedTempFile::new()?;
    // A ticket's ten buyers one after another: they are in flight together, as in a real drop
    // where everyone wants the front row at the same second.
    let lines: Vec<String> = (0..BUYERS).map(|b| format!("{} {}", target.token(&format!("buyer{b}")), drop[b / (BUYERS / DROP)])).collect();
    std::fs::write(buyers.path(), lines.join("\n") + "\n")?;

    let race = race(target, &client, buyers.path()).await?;
    let verdict = report_race(target, &client, &race).await;
    signup_burst(target, &client).await;
    anyhow::ensure!(verdict, "the rush did not end as it must");
    Ok(())
}

/// The drop: 1,000 tickets from ten sellers, every one known to orders before the doors open.
async fn list_the_drop(target: &Target, client: &reqwest::Client) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(DROP);
    for chunk in (0..DROP).collect::<Vec<_>>().chunks(16) {
        let listed = chunk.iter().map(|&n| sell(target, client, ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"][n % 10], n));
        ids.extend(futures_util::future::try_join_all(listed).await?);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !target.all_delivered().await {
        anyhow::ensure!(Instant::now() < deadline, "the drop's events were not delivered within a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(ids)
}

/// What the doors' opening measured.
struct Race {
    run: WrkRun,
    /// From the doors' opening: when wrk finished, when the list showed the drop sold out, and
    /// when every consumer had acked every event.
    wrk_done: Duration,
    sold_out: Option<Duration>,
    delivered: Option<Duration>,
}

/// Doors open: every buyer in `buyers` sent once by wrk, while the list and the consumers are
/// watched.
async fn race(target: &Target, client: &reqwest::Client, buyers: &Path) -> anyhow::Result<Race> {
    let base = &target.base;
    let started = Instant::now();
    let watch = async {
        let (mut sold_out, mut delivered) = (None, None);
        while delivered.is_none() && started.elapsed() < Duration::from_secs(120) {
            if sold_out.is_none() && listed(client, base).await.is_some_and(|n| n <= 50) {
                sold_out = Some(started.elapsed());
            }
            if sold_out.is_some() && target.all_delivered().await {
                delivered = Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (sold_out, delivered)
    };
    let url = format!("{base}/api/orders");
    let path = buyers.to_string_lossy().to_string();
    let run = async {
        let run = tokio::task::spawn_blocking(move || wrk(&url, RUSH_CONNECTIONS, 120, &format!("{COUNTING}{RACE}"), &[&path])).await;
        (run, started.elapsed())
    };
    let ((sold_out, delivered), (run, wrk_done)) = tokio::join!(watch, run);
    Ok(Race { run: run??, wrk_done, sold_out, delivered })
}

/// Prints what the race measured, and says whether it ended as it must: every ticket sold
/// once, no server error, every buyer answered, the drop gone from the list, every event acked.
async fn report_race(target: &Target, client: &reqwest::Client, race: &Race) -> bool {
    let run = &race.run;
    let (rss, peak) = target.memory();
    let (by_status, idle): (BTreeMap<u16, u64>, BTreeMap<u16, u64>) = run.statuses.iter().partition(|(status, _)| **status < 1000);
    let created = by_status.get(&201).copied().unwrap_or(0);
    let server_errors: u64 = by_status.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum();
    let answered: u64 = by_status.values().sum();
    let lost = (BUYERS as u64).saturating_sub(answered);
    println!("on-sale: {} buyers, {RUSH_CONNECTIONS} connections, for {} tickets", thousands(BUYERS as f64), thousands(DROP as f64));
    println!(
        "  answers: {} ({}); no answer: {lost} (socket errors: {})",
        thousands(answered as f64),
        by_status.iter().map(|(s, n)| format!("{s}: {}", thousands(*n as f64))).collect::<Vec<_>>().join(", "),
        run.socket_kinds
    );
    println!(
        "  idle requests once every buyer was sent (GET /healthz): {}",
        idle.iter().map(|(s, n)| format!("{}: {}", s - 1000, thousands(*n as f64))).collect::<Vec<_>>().join(", ")
    );
    let span = run.span.unwrap_or(run.seconds);
    println!(
        "  POST /api/orders: {} answers/s over {span:.2} s (first buyer sent to last answered); latency p50 {:.2} ms, p90 {:.2} ms, \
         p99 {:.2} ms, max {:.2} ms (with the idle requests of the tail)",
        thousands(answered as f64 / span.max(f64::EPSILON)),
        run.p50,
        run.p90,
        run.p99,
        run.max
    );
    let ms = |d: Option<Duration>| d.map_or("not within 2 minutes".to_string(), |d| format!("{:.0} ms", d.as_secs_f64() * 1000.0));
    println!(
        "  wrk finished after {:.0} ms; the list showed the drop sold out after {}",
        race.wrk_done.as_secs_f64() * 1000.0,
        ms(race.sold_out)
    );
    println!("  every event acked by every consumer (tickets, payments, expiration) after {}", ms(race.delivered));
    println!("  RSS after the rush, {}: {rss:.1} MiB (peak {peak:.1} MiB)", target.processes());
    let still_listed = settled_list(client, &target.base).await;
    let verdict = created == DROP as u64 && server_errors == 0 && lost == 0 && still_listed == Some(50) && race.delivered.is_some();
    println!(
        "  {}: {created} orders created for {DROP} tickets, {server_errors} server errors, {lost} buyers without an answer, {} listed \
         (the 50 before the drop, none of it)",
        if verdict { "ok" } else { "NOT OK" },
        still_listed.map_or("unreadable".to_string(), |n| n.to_string()),
    );
    verdict
}

/// How many tickets the list shows once it has settled on 50, or after two seconds. Another
/// tickets replica hears of the last reservations through a core NATS message, which can come
/// just after the consumers acked: its kept page may be a second old.
async fn settled_list(client: &reqwest::Client, base: &str) -> Option<usize> {
    let mut still_listed = listed(client, base).await;
    let deadline = Instant::now() + Duration::from_secs(2);
    while still_listed != Some(50) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        still_listed = listed(client, base).await;
    }
    still_listed
}

/// A burst of sign-ups, each from its own address: Argon2 is bounded (one hash per core, a
/// queue of eight per core; the rest are told to come back). One request each, at once: a
/// load generator would send the refused ones again at once.
async fn signup_burst(target: &Target, client: &reqwest::Client) {
    let base = &target.base;
    let (before, _) = target.memory();
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
    let (after, peak) = target.memory();
    println!(
        "{SIGNUPS} sign-ups at once: {}; RSS of the {} {before:.1} -> {after:.1} MiB (peak {peak:.1} MiB)",
        statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", "),
        target.processes()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `RUSH_PHASES=rush` or `=lists` runs one part (to profile it); `RUSH_TOPOLOGY=distributed`
    // or `=both` measures the distributed topology too.
    let phases = std::env::var("RUSH_PHASES").unwrap_or_else(|_| "rush,lists".into());
    let topologies = match std::env::var("RUSH_TOPOLOGY").as_deref() {
        Ok("distributed") => vec![Topology::Distributed],
        Ok("both") => vec![Topology::Single, Topology::Distributed],
        Ok("single") | Err(_) => vec![Topology::Single],
        Ok(other) => anyhow::bail!("RUSH_TOPOLOGY={other:?}: single, distributed or both"),
    };
    for topology in topologies {
        println!(
            "\n== {}  (wrk -t1, loopback, release build; ceiling = an axum handler returning the same bytes, same run)",
            topology.name()
        );
        if phases.contains("rush") {
            rush_phase(topology).await?;
        }
        if !phases.contains("lists") {
            continue;
        }
        let (small_first, small_deep) = list_phase(topology, 1_000).await?;
        let (large_first, large_deep) = list_phase(topology, 100_000).await?;
        println!(
            "flat in the table size, 1 connection p50: first page {:.2} -> {:.2} ms ({:.2}x), deep page {:.2} -> {:.2} ms ({:.2}x)",
            small_first.p50,
            large_first.p50,
            large_first.p50 / small_first.p50,
            small_deep.p50,
            large_deep.p50,
            large_deep.p50 / small_deep.p50
        );
    }
    Ok(())
}
