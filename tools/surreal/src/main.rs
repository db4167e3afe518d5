//! The `surreal` command (`surreal start --user root --pass … --bind 127.0.0.1:8000 surrealkv://…`),
//! built from SurrealDB's server library: what the `surrealdb/surrealdb:v3` image runs in
//! Kubernetes, run here as a process by `scripts/cluster` and by the remote-store tests.
// The server's query types nest deeply; its own binary raises the limit the same way.
#![recursion_limit = "256"]

fn main() -> std::process::ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
