//! The distributed topology, run for real on one machine, and the runs that hold it to account.
//!
//! `scripts/cluster` brings it up: a SurrealDB server (our `surreal` binary, SurrealKV), the
//! database users made by the Kubernetes users Job's own script, a 3-node NATS cluster with
//! JetStream (`TICKETING` at 3 replicas, as the ConfigMap says), the replicas of every Deployment
//! of `k8s/base` as separate processes with the environment their manifests give them, and nginx
//! standing in for the Services and the Ingress (its locations generated from the Ingress).
//!
//! `scripts/cluster faults` runs buyers and sellers through the ingress while it kills replicas,
//! NATS servers and the database and makes Stripe fail, then checks from the outside that no
//! seat was sold twice and no money was lost ([`invariants`]). `scripts/cluster contract <url>`
//! checks that a topology answers the API's edge cases as the single-machine server does. Before
//! its load, the fault run also makes the [`attacks`] that limits counted across replicas stop.
pub mod attacks;
pub mod contract;
pub mod faults;
pub mod invariants;
pub mod load;
pub mod manifests;
pub mod nginx;
pub mod process;
pub mod topology;

/// Where scripts keep build output and runs (`TICKETING_CACHE`, as `scripts/env.sh` sets it;
/// `~/.cache/ticketing` when run outside the scripts). A run's folder goes under `cluster/`.
pub fn cache_dir() -> std::path::PathBuf {
    std::env::var_os("TICKETING_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/ticketing"))
}
