//! The faults of an on-sale day, injected while the load runs: a replica killed (SIGKILL, as an
//! OOM kill or a lost node) and restarted after a pause, a NATS server killed and restarted (one
//! of them the `TICKETING` stream's leader), the SurrealDB server restarted, and Stripe failing
//! with 500s and then answering slowly. Each fault has a window, from injection until the part is
//! back and ready plus a grace period, so 5xx answers can be told apart by whether a fault
//! explains them.
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::topology::{wait_ready, Cluster};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    KillReplica,
    KillNats,
    /// Kill the NATS server that leads the `TICKETING` stream.
    KillStreamLeader,
    RestartDatabase,
    StripeOutage,
}

/// A fault as it happened.
#[derive(Debug, Clone)]
pub struct Injected {
    pub what: String,
    /// From the start of the run.
    pub start: Duration,
    pub end: Duration,
}

/// After a part is back, answers may still fail for a moment (reconnects, nginx's fail timeout).
const GRACE: Duration = Duration::from_secs(3);

/// The faults of a run, in order: every kind once, at random places among the first `sure`
/// (the faults that fit in the run whatever the random gaps), the rest replica kills and, one in
/// four, NATS server kills.
pub fn plan(rng: &mut fastrand::Rng, count: usize, sure: usize) -> Vec<Kind> {
    let required = [Kind::KillReplica, Kind::KillStreamLeader, Kind::RestartDatabase, Kind::StripeOutage, Kind::KillNats];
    let mut kinds: Vec<Kind> =
        (0..count.max(required.len())).map(|_| if rng.u8(0..4) == 0 { Kind::KillNats } else { Kind::KillReplica }).collect();
    let mut places: Vec<usize> = (0..sure.clamp(required.len(), kinds.len())).collect();
    rng.shuffle(&mut places);
    for (kind, place) in required.into_iter().zip(places) {
        kinds[place] = kind;
    }
    kinds.truncate(count);
    kinds
}

/// Injects `faults` one after the other, `apart` seconds apart (drawn from the range), starting
/// 10 s in and none after `until`; returns what was done and when.
pub async fn inject(
    rng: &mut fastrand::Rng,
    cluster: &mut Cluster,
    faults: &[Kind],
    apart: std::ops::RangeInclusive<u64>,
    started: Instant,
    until: Duration,
) -> anyhow::Result<Vec<Injected>> {
    let mut injected = Vec::new();
    let mut next = Duration::from_secs(10);
    for kind in faults {
        if next >= until {
            break;
        }
        if let Some(wait) = next.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let start = started.elapsed();
        let what = match kind {
            Kind::KillReplica => kill_replica(rng, cluster).await?,
            Kind::KillNats => kill_nats(rng, cluster, None).await?,
            Kind::KillStreamLeader => {
                let leader = stream_leader(&cluster.nats_admin).await?;
                kill_nats(rng, cluster, Some(&leader)).await?
            }
            Kind::RestartDatabase => restart_database(cluster).await?,
            Kind::StripeOutage => stripe_outage(cluster).await,
        };
        let end = started.elapsed() + GRACE;
        println!("[faults] {:>6.1}s {what} (back after {:.1}s)", start.as_secs_f64(), (end - start - GRACE).as_secs_f64());
        injected.push(Injected { what, start, end });
        next = started.elapsed().max(start + Duration::from_secs(rng.u64(apart.clone())));
    }
    Ok(injected)
}

async fn kill_replica(rng: &mut fastrand::Rng, cluster: &mut Cluster) -> anyhow::Result<String> {
    let parts: Vec<String> = cluster.parts.keys().cloned().collect();
    let part = &parts[rng.usize(0..parts.len())];
    let index = rng.usize(0..cluster.parts[part].len());
    let replica = cluster.replica(part, index)?;
    replica.kill().await;
    // Kubernetes restarts a killed container after a short back-off.
    tokio::time::sleep(Duration::from_millis(rng.u64(1_000..3_000))).await;
    replica.spawn()?;
    wait_ready(replica, Duration::from_secs(90)).await?;
    Ok(format!("SIGKILL {}, restarted", replica.name))
}

async fn kill_nats(rng: &mut fastrand::Rng, cluster: &mut Cluster, name: Option<&str>) -> anyhow::Result<String> {
    let index = match name {
        Some(name) => cluster.nats.iter().position(|n| n.name == name).with_context(|| format!("no NATS server {name}"))?,
        None => rng.usize(0..cluster.nats.len()),
    };
    let server = &mut cluster.nats[index];
    server.kill().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    server.spawn()?;
    server.wait_http("/healthz?js-enabled-only=true", Duration::from_secs(60), |_| true).await?;
    let role = if name.is_some() { " (the TICKETING stream's leader)" } else { "" };
    Ok(format!("SIGKILL NATS server {}{role}, restarted after 5 s", server.name))
}

/// The NATS server that leads the `TICKETING` stream now.
pub async fn stream_leader(nats: &crate::topology::NatsAdmin) -> anyhow::Result<String> {
    let js = async_nats::jetstream::new(nats.client().await?);
    let mut stream = js.get_stream("TICKETING").await?;
    let info = stream.info().await?;
    info.cluster.as_ref().and_then(|c| c.leader.clone()).context("the TICKETING stream has no leader")
}

async fn restart_database(cluster: &mut Cluster) -> anyhow::Result<String> {
    let stopped = Instant::now();
    cluster.surreal.stop(Duration::from_secs(20)).await;
    cluster.surreal.spawn()?;
    cluster.surreal.wait_http("/health", Duration::from_secs(60), |_| true).await?;
    Ok(format!("SurrealDB server restarted (SIGTERM, down {:.1}s)", stopped.elapsed().as_secs_f64()))
}

async fn stripe_outage(cluster: &mut Cluster) -> String {
    cluster.stripe.fail_with(Some(500));
    tokio::time::sleep(Duration::from_secs(8)).await;
    cluster.stripe.fail_with(None);
    cluster.stripe.slow_by(Some(Duration::from_secs(3)));
    tokio::time::sleep(Duration::from_secs(8)).await;
    cluster.stripe.slow_by(None);
    "Stripe double: 500 on every call for 8 s, then every answer 3 s late for 8 s".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_fault_is_planned_where_it_surely_runs() {
        for seed in 0..100 {
            let plan = plan(&mut fastrand::Rng::with_seed(seed), 20, 14);
            assert_eq!(plan.len(), 20);
            for kind in [Kind::KillReplica, Kind::KillStreamLeader, Kind::RestartDatabase, Kind::StripeOutage, Kind::KillNats] {
                assert!(plan[..14].contains(&kind), "{kind:?} missing from the first 14 of {plan:?}");
            }
        }
        assert!(plan(&mut fastrand::Rng::new(), 0, 0).is_empty());
    }

    #[test]
    fn a_seed_repeats_its_plan() {
        assert_eq!(plan(&mut fastrand::Rng::with_seed(7), 20, 14), plan(&mut fastrand::Rng::with_seed(7), 20, 14));
    }
}
