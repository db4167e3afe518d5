//! `cluster up | faults | contract`: see the crate's documentation and `scripts/cluster`.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use cluster::faults::{self, Injected};
use cluster::invariants::{self, Check};
use cluster::load::{self, Api, Load, Recorder};
use cluster::topology::{Cluster, Options};

const USAGE: &str = "usage:
  cluster up [--replicas N] [--expiration-window SECONDS] [--port PORT]
  cluster faults [--short | --minutes M] [--faults N] [--seed N] [--keep] [--replicas N] [--port PORT]
  cluster contract [<base-url>]   (without a URL: a single-machine server of its own)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("up") => match known(&args[1..], &["--replicas", "--expiration-window", "--port"], &[]) {
            Ok(()) => up(&args[1..]).await,
            Err(error) => Err(error),
        },
        Some("faults") => match known(&args[1..], &["--minutes", "--faults", "--seed", "--replicas", "--port"], &["--short", "--keep"]) {
            Ok(()) => fault_run(&args[1..]).await,
            Err(error) => Err(error),
        },
        Some("contract") if args.get(1).is_some_and(|a| a.starts_with('-')) => Err(anyhow::anyhow!("{USAGE}")),
        Some("contract") => match args.get(1) {
            Some(url) => contract(url).await,
            None => single_machine_contract().await,
        },
        _ => Err(anyhow::anyhow!("{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cluster: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A typo or `--help` prints the usage instead of starting a cluster that ignores it.
fn known(args: &[String], with_value: &[&str], switches: &[&str]) -> anyhow::Result<()> {
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if with_value.contains(&arg.as_str()) {
            rest.next();
        } else if !switches.contains(&arg.as_str()) {
            anyhow::bail!("{arg:?} is not an option here\n{USAGE}");
        }
    }
    Ok(())
}

/// The value after `--name`, parsed.
fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> anyhow::Result<Option<T>> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(at) => {
            let raw = args.get(at + 1).with_context(|| format!("{name} needs a value"))?;
            raw.parse().map(Some).map_err(|_| anyhow::anyhow!("{name} {raw:?} is not valid"))
        }
    }
}

fn options(args: &[String], run: &str) -> anyhow::Result<Options> {
    // The SurrealDB server sits next to this tool (both come from the tests' build); the
    // services come from CLUSTER_BIN_DIR (scripts/cluster builds them as the images do), or the
    // tests' build; the web server is WEB_SERVER_BIN, or else the release build `cargo leptos
    // build --release` made.
    let exe = std::env::current_exe()?;
    let own_dir = exe.parent().context("the tool's folder")?.to_path_buf();
    let services_dir = std::env::var_os("CLUSTER_BIN_DIR").map(PathBuf::from).unwrap_or_else(|| own_dir.clone());
    let web_bin = match std::env::var_os("WEB_SERVER_BIN") {
        Some(path) => PathBuf::from(path),
        None => own_dir.parent().context("the target folder")?.join("release/server"),
    };
    let cache = cluster::cache_dir();
    Ok(Options {
        services_dir,
        surreal_bin: own_dir.join("surreal"),
        web_bin,
        site_root: deploy_check::repo().join("target/site"),
        dir: cache.join("cluster").join(run),
        replicas: flag(args, "--replicas")?,
        expiration_window: flag(args, "--expiration-window")?,
        ingress_port: flag(args, "--port")?,
    })
}

fn run_name(kind: &str) -> String {
    format!("{kind}-{}", time::OffsetDateTime::now_utc().unix_timestamp())
}

async fn start(options: &Options) -> anyhow::Result<Cluster> {
    println!("[cluster] starting in {} (logs in logs/)", options.dir.display());
    let started = Instant::now();
    let cluster = Cluster::start(options).await?;
    println!("[cluster] up in {:.1}s; wired as k8s/base says, except:", started.elapsed().as_secs_f64());
    for (var, why) in &cluster.overrides {
        println!("[cluster]   {var}  ({why})");
    }
    let replicas: Vec<String> = cluster.parts.iter().map(|(part, r)| format!("{part} ×{}", r.len())).collect();
    println!("[cluster] {} NATS servers, SurrealDB, {}", cluster.nats.len(), replicas.join(", "));
    println!("[cluster] services from {}", options.services_dir.display());
    Ok(cluster)
}

async fn up(args: &[String]) -> anyhow::Result<()> {
    let options = options(args, &run_name("up"))?;
    let cluster = start(&options).await?;
    println!("\nThe marketplace is at {}  (Ctrl-C stops every process this started)\n", cluster.url);
    shutdown_signal().await;
    println!("[cluster] stopping");
    cluster.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

async fn contract(url: &str) -> anyhow::Result<()> {
    let failures = cluster::contract::run(url.trim_end_matches('/')).await?;
    anyhow::ensure!(failures.is_empty(), "the API contract does not hold at {url}:\n  {}", failures.join("\n  "));
    println!("[contract] every case holds at {url}");
    Ok(())
}

/// The contract against the single-machine server (the web server binary, every service in it),
/// started here with a nats-server of its own and a fresh data folder.
async fn single_machine_contract() -> anyhow::Result<()> {
    use cluster::process::{free_port, Proc};
    let options = options(&[], &run_name("contract"))?;
    let logs = options.dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let (nats_port, web_port) = (free_port()?, free_port()?);
    // The users and permissions of a development run (the server's services use their
    // development passwords).
    let nats_args = ["-js", "-a", "127.0.0.1", "-p", &nats_port.to_string(), "-sd"].map(str::to_string);
    let mut nats_args = nats_args.to_vec();
    nats_args.push(options.dir.join("nats").display().to_string());
    nats_args.extend(["-c".to_string(), deploy_check::repo().join("scripts/nats-dev.conf").display().to_string()]);
    let mut nats = Proc::new("nats", std::path::Path::new("nats-server"), nats_args, Vec::new(), &logs).with_port(nats_port);
    nats.spawn()?;
    nats.wait_port(Duration::from_secs(10)).await?;
    let env = [
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{web_port}")),
        ("LEPTOS_SITE_ROOT", options.site_root.display().to_string()),
        ("LEPTOS_SITE_PKG_DIR", "pkg".to_string()),
        ("LEPTOS_OUTPUT_NAME", "ticketing".to_string()),
        ("LEPTOS_ENV", "PROD".to_string()),
        ("DATA_DIR", options.dir.join("data").display().to_string()),
        ("NATS_URL", format!("nats://127.0.0.1:{nats_port}")),
    ];
    let env = env.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut web = Proc::new("server", &options.web_bin, Vec::new(), env, &logs).with_port(web_port);
    web.spawn()?;
    let result = async {
        cluster::topology::wait_ready(&mut web, Duration::from_secs(60)).await?;
        contract(&format!("http://127.0.0.1:{web_port}")).await
    }
    .await;
    web.stop(Duration::from_secs(10)).await;
    nats.stop(Duration::from_secs(5)).await;
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&options.dir);
    }
    result
}

/// How the run is sized.
struct Run {
    load: Load,
    faults: usize,
    /// Seconds between one fault and the next.
    apart: std::ops::RangeInclusive<u64>,
    window: u64,
}

async fn fault_run(args: &[String]) -> anyhow::Result<()> {
    // The faults (kinds, order, gaps, targets) come from this seed; the buyers' and sellers'
    // choices vary from run to run.
    let seed = flag::<u64>(args, "--seed")?.unwrap_or_else(|| fastrand::u64(..));
    println!("[faults] seed {seed} (--seed {seed} repeats these faults)");
    let short = args.iter().any(|a| a == "--short");
    let mut run = if short {
        Run { load: Load { sellers: 3, buyers: 8, duration: Duration::from_secs(80) }, faults: 5, apart: 10..=12, window: 20 }
    } else {
        let minutes: u64 = flag(args, "--minutes")?.unwrap_or(5);
        let duration = Duration::from_secs(minutes * 60);
        Run { load: Load { sellers: 4, buyers: 12, duration }, faults: (duration.as_secs() / 15) as usize, apart: 10..=20, window: 30 }
    };
    if let Some(count) = flag::<usize>(args, "--faults")? {
        run.faults = count;
    }
    let name = run_name("faults");
    let mut options = options(args, &name)?;
    options.expiration_window = Some(run.window);
    let mut cluster = start(&options).await?;
    let outcome = drive(&mut cluster, &run, &name, seed).await;
    let keep = args.iter().any(|a| a == "--keep") || !matches!(outcome, Ok(true));
    cluster.stop().await;
    if keep {
        println!("[faults] data and logs kept in {}", options.dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&options.dir);
    }
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => anyhow::bail!("an invariant does not hold or the contract failed (see above)"),
        Err(error) => Err(error),
    }
}

/// Contract, load with faults, settling, checks and figures; true when everything held.
async fn drive(cluster: &mut Cluster, run: &Run, name: &str, seed: u64) -> anyhow::Result<bool> {
    let contract_failures = cluster::contract::run(&cluster.url).await?;
    let attack_failures = cluster::attacks::run(&cluster.url).await?;
    let started = Instant::now();
    let recorder = Recorder::new(started);
    let api = Api::new(&cluster.url, recorder.clone())?;
    println!(
        "[faults] {} sellers and {} buyers for {:?}; orders hold tickets for {} s",
        run.load.sellers, run.load.buyers, run.load.duration, run.window
    );
    let until = run.load.duration.saturating_sub(Duration::from_secs(10));
    // The first fault comes at 10 s; these many fit even if every gap is the longest.
    let sure = (until.as_secs().saturating_sub(10) / run.apart.end().max(&1) + 1) as usize;
    let mut rng = fastrand::Rng::with_seed(seed);
    let plan = faults::plan(&mut rng, run.faults, sure);
    let injecting = faults::inject(&mut rng, cluster, &plan, run.apart.clone(), started, until);
    let (_, injected) = tokio::join!(load::run(api.clone(), run.load, name), injecting);
    let injected = injected?;
    let load_stopped = started.elapsed();
    println!("[faults] load stopped at {:.1}s; waiting for the system to settle", load_stopped.as_secs_f64());

    // Settle: every order past its expiry and every invariant holding, or give up.
    let limit = Duration::from_secs(run.window + 120);
    let settle_started = Instant::now();
    let checker = Api::new(&cluster.url, Recorder::new(started))?;
    // The load has stopped: what its clients were told is final.
    let observed = std::mem::take(&mut *recorder.observed());
    let (checks, snapshot) = loop {
        let snapshot = invariants::snapshot(&checker, &observed, &cluster.nats_admin).await;
        let now = time::OffsetDateTime::now_utc();
        match snapshot {
            Ok(snapshot) => {
                let checks = invariants::check(&snapshot, &observed, &cluster.stripe, now);
                let all_final = snapshot.last_expiry.is_none_or(|last| now > last + time::Duration::seconds(2));
                if (all_final && checks.iter().all(Check::holds)) || settle_started.elapsed() > limit {
                    break (checks, snapshot);
                }
            }
            Err(error) if settle_started.elapsed() > limit => return Err(error.context("reading the final state")),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let settled = Settled { checks, snapshot, took: settle_started.elapsed(), contract_failures, attack_failures };
    report(&observed, &injected, &settled, cluster);
    Ok(settled.contract_failures.is_empty() && settled.attack_failures.is_empty() && settled.checks.iter().all(Check::holds))
}

/// How the run ended.
struct Settled {
    checks: Vec<Check>,
    snapshot: invariants::Snapshot,
    /// From the end of the load to the last check.
    took: Duration,
    contract_failures: Vec<String>,
    /// What the attacks before the load got through ([`cluster::attacks`]).
    attack_failures: Vec<String>,
}

fn report(observed: &load::Observed, injected: &[Injected], settled: &Settled, cluster: &Cluster) {
    let (answers, checks, snapshot) = (&observed.answers, &settled.checks, &settled.snapshot);
    let in_window = |at: Duration| injected.iter().any(|f| at >= f.start && at <= f.end);
    let mut by_status: BTreeMap<u16, (usize, usize)> = BTreeMap::new();
    for answer in answers {
        let entry = by_status.entry(answer.status).or_default();
        if in_window(answer.at) {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    println!("\n=== fault run ===");
    println!("requests made: {}", answers.len());
    println!("answers by status (during a fault window / outside):");
    for (status, (during, outside)) in &by_status {
        let label = if *status == 0 { "no answer".to_string() } else { status.to_string() };
        println!("  {label:>9}: {:>6} / {:>6}", during, outside);
    }
    let mut failed_by_route: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for answer in answers.iter().filter(|a| a.status >= 400 || a.status == 0) {
        *failed_by_route.entry((answer.route, answer.status)).or_default() += 1;
    }
    println!("answers other than 2xx, by route:");
    for ((route, status), count) in &failed_by_route {
        let label = if *status == 0 { "no answer".to_string() } else { status.to_string() };
        println!("  {route:<26} {label:>9}: {count}");
    }
    let fault_5xx: usize = by_status.iter().filter(|(s, _)| **s >= 500 || **s == 0).map(|(_, (d, _))| d).sum();
    let other_5xx: usize = by_status.iter().filter(|(s, _)| **s >= 500 || **s == 0).map(|(_, (_, o))| o).sum();
    println!("5xx or no answer: {fault_5xx} during fault windows, {other_5xx} outside");
    println!("faults injected: {}", injected.len());
    for fault in injected {
        println!("  {:>6.1}s–{:>6.1}s  {}", fault.start.as_secs_f64(), fault.end.as_secs_f64(), fault.what);
    }
    let statuses = snapshot.orders.values().fold(BTreeMap::new(), |mut map: BTreeMap<String, usize>, o| {
        *map.entry(o["status"].as_str().unwrap_or_default().to_string()).or_default() += 1;
        map
    });
    println!(
        "tickets listed: {} ({} deleted); orders: {} {statuses:?}; payments accepted: {}",
        observed.tickets.len(),
        observed.deleted.len(),
        snapshot.orders.len(),
        observed.payments.len()
    );
    let charges = cluster.stripe.charges();
    let refunds = cluster.stripe.refunds();
    println!("Stripe: {} successful charges, {} refunds", charges.len(), refunds.len());
    println!("invariants:");
    for check in checks {
        println!("  [{}] {}", if check.holds() { "ok" } else { "VIOLATED" }, check.name);
        for violation in check.violations.iter().take(10) {
            println!("        {violation}");
        }
    }
    if !settled.contract_failures.is_empty() {
        println!("  [VIOLATED] the API contract through the ingress:");
        for failure in &settled.contract_failures {
            println!("        {failure}");
        }
    }
    let attacks = if settled.attack_failures.is_empty() { "ok" } else { "VIOLATED" };
    println!("  [{attacks}] hoarding, card testing, password guessing and signed-out sessions stopped across two replicas");
    for failure in &settled.attack_failures {
        println!("        {failure}");
    }
    if checks.iter().all(Check::holds) {
        println!("converged {:.1}s after the load stopped", settled.took.as_secs_f64());
    } else {
        println!("did not converge: the invariants above still failed {:.1}s after the load stopped", settled.took.as_secs_f64());
    }
}
