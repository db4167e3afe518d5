//! The embedded store against SurrealDB's own server over WebSocket, side by side: what a
//! service's query costs in each topology, and whether concurrent queries queue behind one
//! another on the one WebSocket a service keeps.
//!
//! ```sh
//! cargo build --release -p bench -p surreal && "$CARGO_TARGET_DIR/release/store"
//! ```
//!
//! Both builds in one invocation share surrealdb-core. The server runs on loopback with SurrealKV
//! (as in `scripts/cluster`), the service's database user made by the Kubernetes users Job's
//! script; the embedded store is SurrealKV in this process (as on one machine). Each prints, for
//! the tickets service's two reads (one ticket by id, the first page of 50 available tickets
//! out of 1,000): the time one query takes alone (p50, p99), and for the remote store the
//! server's own time and what the connection adds; then queries per second from 64 concurrent
//! tasks, and their latency.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench::summary;
use contract::Cents;
use shared::config::DatabaseSettings;
use shared::events::outbox::OutboxRecord;
use shared::events::TicketCreated;
use shared::store::{self, Db};
use tickets::store::TicketRow;

const TICKETS: usize = 1_000;
const SAMPLES: usize = 2_000;
const TASKS: usize = 64;
const RUN: Duration = Duration::from_secs(5);

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn surreal_binary() -> anyhow::Result<PathBuf> {
    bench::sibling_binary("surreal", "SURREAL_BIN", "cargo build --release -p bench -p surreal")
}

async fn start_server(dir: &std::path::Path) -> anyhow::Result<(Server, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(surreal_binary()?)
        .args(["start", "--user", "root", "--pass", "bench-root", "--bind", &format!("127.0.0.1:{port}"), "--log", "warn"])
        .arg(format!("surrealkv://{}/ticketing.db", dir.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let server = Server(child);
    while !reqwest::get(format!("http://127.0.0.1:{port}/health")).await.is_ok_and(|r| r.status().is_success()) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let manifests = cluster::manifests::Manifests::load()?;
    let secret = |name: &str, key: &str| -> Option<String> {
        Some(match (name, key) {
            ("surrealdb-root", "username") => "root".into(),
            ("surrealdb-root", "password") => "bench-root".into(),
            (name, "username") => name.strip_prefix("db-")?.to_string(),
            (name, _) => format!("{}-password", name.strip_prefix("db-")?),
        })
    };
    cluster::topology::run_users_job(&manifests, &format!("http://127.0.0.1:{port}"), secret).await?;
    Ok((server, port))
}

async fn fill(db: &Db) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(TICKETS);
    for n in 0..TICKETS {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let row = TicketRow {
            id: id.clone().into(),
            title: format!("bench {n}"),
            price: 1_000,
            user_id: "seller".into(),
            version: contract::Version::FIRST,
            order_id: None,
            reserved_until: None,
            sold: false,
            sold_at: None,
            deleted: false,
        };
        let event = TicketCreated {
            id: row.id.clone(),
            version: contract::Version::FIRST,
            title: row.title.clone(),
            price: Cents(1_000),
            user_id: "seller".into(),
        };
        tickets::store::insert(db, &row, OutboxRecord::new(&event)?).await?;
        ids.push(id);
    }
    db.query("DELETE outbox").await?.check()?;
    Ok(ids)
}

/// Client-side time of each query, and the server's own time for it.
async fn alone(db: &Db, query: &str, ids: &[String]) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut client, mut server) = (Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES));
    for n in 0..SAMPLES {
        let started = Instant::now();
        let mut response = db
            .query(query)
            .bind(("ticket", surrealdb::types::RecordId::new("ticket", ids[n % ids.len()].as_str())))
            .bind(("limit", 50i64))
            .with_stats()
            .await?;
        let (stats, result) = response.take::<surrealdb::types::Value>(0).ok_or_else(|| anyhow::anyhow!("no result"))?;
        result?;
        client.push(started.elapsed());
        server.push(stats.execution_time.unwrap_or_default());
    }
    Ok((client, server))
}

/// What a request cost before a service kept one session: a clone of the `Surreal` handle (a
/// new session, set up again and signed in) for each query.
async fn new_session_each(db: &Db, ids: &[String]) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(100);
    for n in 0..100 {
        let started = Instant::now();
        let session = (**db).clone();
        session.query(BY_ID).bind(("ticket", surrealdb::types::RecordId::new("ticket", ids[n % ids.len()].as_str()))).await?.check()?;
        times.push(started.elapsed());
    }
    Ok(times)
}

/// Queries per second from `TASKS` concurrent tasks, and each query's time.
async fn together(db: &Db, query: &'static str, ids: Arc<Vec<String>>) -> (f64, Vec<Duration>) {
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let (db, ids, done) = (db.clone(), ids.clone(), done.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut n = t;
                while started.elapsed() < RUN {
                    let at = Instant::now();
                    let ticket = surrealdb::types::RecordId::new("ticket", ids[n % ids.len()].as_str());
                    if db.query(query).bind(("ticket", ticket)).bind(("limit", 50i64)).await.and_then(|r| r.check()).is_err() {
                        break;
                    }
                    times.push(at.elapsed());
                    done.fetch_add(1, Ordering::Relaxed);
                    n += TASKS;
                }
                times
            })
        })
        .collect();
    let times: Vec<Duration> = futures_util::future::join_all(tasks).await.into_iter().flat_map(|t| t.unwrap_or_default()).collect();
    (done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(), times)
}

const BY_ID: &str = "SELECT record::id(id) AS id, title, price, user_id, version, order_id, reserved_until, sold, sold_at, deleted \
    FROM ONLY $ticket";
const PAGE: &str = "SELECT record::id(id) AS id, title, price, user_id, version, order_id, reserved_until, sold, sold_at, deleted \
    FROM ticket WHERE deleted = false AND order_id = NONE ORDER BY id DESC LIMIT $limit";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (_server, port) = start_server(&dir.path().join("server")).await?;
    let remote = store::connect(
        &DatabaseSettings {
            url: format!("ws://127.0.0.1:{port}"),
            namespace: "ticketing".into(),
            database: "tickets".into(),
            credentials: Some(("tickets".into(), "tickets-password".into())),
            ca_file: None,
        },
        &tickets::store::schema(),
    )
    .await?;
    let embedded = store::connect(
        &DatabaseSettings {
            url: format!("surrealkv://{}", dir.path().join("embedded").display()),
            namespace: "ticketing".into(),
            database: "tickets".into(),
            credentials: None,
            ca_file: None,
        },
        &tickets::store::schema(),
    )
    .await?;
    let ids = Arc::new(fill(&remote).await?);
    let embedded_ids = Arc::new(fill(&embedded).await?);

    println!("{TICKETS} tickets in each store; {SAMPLES} queries one at a time, then {TASKS} tasks for {RUN:?}\n");
    for (name, query) in [("one ticket by id", BY_ID), ("first page of 50", PAGE)] {
        let (embedded_alone, _) = alone(&embedded, query, &embedded_ids).await?;
        let (remote_alone, server_time) = alone(&remote, query, &ids).await?;
        let overhead: Vec<Duration> = remote_alone.iter().zip(&server_time).map(|(c, s)| c.saturating_sub(*s)).collect();
        let (embedded_rate, embedded_times) = together(&embedded, query, embedded_ids.clone()).await;
        let (remote_rate, remote_times) = together(&remote, query, ids.clone()).await;
        println!("{name}:");
        if query == BY_ID {
            println!("  before    remote     {}  (a new session for each query)", summary(new_session_each(&remote, &ids).await?));
        }
        println!("  alone     embedded   {}", summary(embedded_alone));
        println!("            remote     {}", summary(remote_alone));
        println!("            server     {}", summary(server_time));
        println!("            added      {}  (remote minus the server's own time)", summary(overhead));
        println!("  {TASKS} tasks  embedded   {embedded_rate:>8.0} queries/s  {}", summary(embedded_times));
        println!("            remote     {remote_rate:>8.0} queries/s  {}\n", summary(remote_times));
    }
    Ok(())
}
