//! Test harness shared by every service's tests: a real `nats-server` on a free port with its own
//! temporary store and the users and permissions every server runs with
//! (`shared::events::permissions`), environment maps for configuration, session tokens, a spy
//! on events, a capture of the services' logs ([`logs`]), and a running service with the calls
//! tests make to it ([`Service`]). A service under test connects as its
//! own NATS user (the development password); the harness itself as the operator's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use shared::config::EnvReader;
use shared::events::permissions::{self, Passwords};
use shared::session::{Sessions, SigningKey, AUDIENCE, ISSUER};
use shared::{ErrorBody, ErrorCode, ErrorItem};

mod service;
pub use service::{cookie_pair, session_set_cookie, Service};

/// A JetStream-enabled nats-server owned by one test; killed when dropped.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    store: tempfile::TempDir,
}

/// Writes the servers' users and permissions (development passwords, as `scripts/nats-dev.conf`)
/// into `dir`, for `nats-server -c`.
fn nats_config(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("nats.conf");
    std::fs::write(&path, permissions::authorization(Passwords::Development)).expect("the NATS configuration is written");
    path
}

/// How the harness connects: as the operator's user, which may do anything (spy on events,
/// publish as any service, read streams and consumers).
pub fn admin_options() -> async_nats::ConnectOptions {
    async_nats::ConnectOptions::new()
        .user_and_password(permissions::ADMIN.to_string(), permissions::development_password(permissions::ADMIN))
}

/// How a service connects (`tickets`, `orders`, `payments`, `expiration`): as its own user, with
/// its replies under its own inbox prefix.
pub fn service_options(user: &str) -> async_nats::ConnectOptions {
    async_nats::ConnectOptions::new()
        .user_and_password(user.to_string(), permissions::development_password(user))
        .custom_inbox_prefix(permissions::inbox_prefix(user))
}

fn nats_binary() -> PathBuf {
    if let Ok(path) = std::env::var("NATS_SERVER_BIN") {
        return path.into();
    }
    // scripts/setup installs it here; PATH may not have it when tests run from an IDE.
    let cache = std::env::var("TICKETING_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/ticketing"));
    let candidate = cache.join("venv/bin/nats-server");
    if candidate.exists() {
        candidate
    } else {
        PathBuf::from("nats-server")
    }
}

impl NatsServer {
    /// Starts a server on a free port (`-p -1`) and waits until it accepts connections.
    pub fn start() -> Self {
        let store = tempfile::tempdir().expect("temporary store");
        let ports = tempfile::tempdir().expect("temporary ports folder");
        let child = Self::spawn(&store, "-1", Some(ports.path()));
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            let found = std::fs::read_dir(ports.path()).ok().and_then(|mut entries| entries.next()).and_then(|e| e.ok());
            if let Some(entry) = found {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
                    let url = json["nats"][0].as_str().unwrap_or_default().to_string();
                    if let Some(port) = url.rsplit(':').next().and_then(|p| p.parse().ok()) {
                        break port;
                    }
                }
            }
            assert!(Instant::now() < deadline, "nats-server did not start (is scripts/setup done?)");
            std::thread::sleep(Duration::from_millis(20));
        };
        Self { child: Some(child), port, store }
    }

    fn spawn(store: &tempfile::TempDir, port: &str, ports_dir: Option<&std::path::Path>) -> Child {
        let mut command = Command::new(nats_binary());
        command.arg("-c").arg(nats_config(store.path()));
        command.args(["-js", "-a", "127.0.0.1", "-p", port, "-sd"]).arg(store.path());
        if let Some(dir) = ports_dir {
            command.arg("--ports_file_dir").arg(dir);
        }
        command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("nats-server runs (scripts/setup installs it)")
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (its store stays), as a crash would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same store.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Some(Self::spawn(&self.store, &self.port.to_string(), None));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not come back");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A NATS deployment a test talks to: one server or a cluster.
pub trait Nats {
    /// The `NATS_URL` a service gets: one URL, or every member's, comma-separated.
    fn url(&self) -> String;
}

impl Nats for NatsServer {
    fn url(&self) -> String {
        NatsServer::url(self)
    }
}

/// A client of `nats` as the operator's user, connected to any member.
pub async fn client(nats: &impl Nats) -> async_nats::Client {
    let servers = shared::events::nats::parse_servers(&nats.url()).expect("valid NATS URLs");
    admin_options().connect(servers).await.expect("connects to NATS")
}

/// A port nothing listens on now, for a process a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// One member of a [`NatsCluster`].
pub struct ClusterNode {
    pub name: String,
    pub port: u16,
    cluster_port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

/// A JetStream cluster of nats-servers on loopback (`nats-0`, `nats-1`, …), as the
/// Kubernetes StatefulSet runs them; each member is killed when dropped.
pub struct NatsCluster {
    pub nodes: Vec<ClusterNode>,
}

impl NatsCluster {
    /// Starts `size` servers routed to each other and waits until JetStream answers.
    pub async fn start(size: usize) -> Self {
        let nodes = (0..size)
            .map(|i| ClusterNode {
                name: format!("nats-{i}"),
                port: free_port(),
                cluster_port: free_port(),
                store: tempfile::tempdir().expect("temporary store"),
                child: None,
            })
            .collect();
        let mut cluster = Self { nodes };
        for i in 0..size {
            cluster.spawn(i);
        }
        let ready = eventually(Duration::from_secs(30), || async {
            let Ok(servers) = shared::events::nats::parse_servers(&cluster.url()) else { return false };
            let Ok(client) = admin_options().connect(servers).await else { return false };
            async_nats::jetstream::new(client).query_account().await.is_ok()
        })
        .await;
        assert!(ready, "the NATS cluster never elected a JetStream leader");
        cluster
    }

    fn spawn(&mut self, index: usize) {
        let routes = self.nodes.iter().map(|n| format!("nats://127.0.0.1:{}", n.cluster_port)).collect::<Vec<_>>().join(",");
        let node = &mut self.nodes[index];
        let child = Command::new(nats_binary())
            .arg("-c")
            .arg(nats_config(node.store.path()))
            .args(["-js", "-a", "127.0.0.1", "-p", &node.port.to_string(), "-n", &node.name, "--cluster_name", "ticketing"])
            .args(["--cluster", &format!("nats://127.0.0.1:{}", node.cluster_port), "--routes", &routes, "-sd"])
            .arg(node.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server runs (scripts/setup installs it)");
        node.child = Some(child);
    }

    /// Kills a member (its store stays), as a lost node would.
    pub fn kill(&mut self, name: &str) {
        let node = self.nodes.iter_mut().find(|n| n.name == name).expect("a member of the cluster");
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed member again with its store.
    pub fn restart(&mut self, name: &str) {
        let index = self.nodes.iter().position(|n| n.name == name).expect("a member of the cluster");
        self.spawn(index);
    }

    /// The member that leads `stream` now. While the cluster elects a leader (the stream's, or
    /// JetStream's own when the member killed held both) its API requests time out or name
    /// nobody: it asks again until one names a leader, for up to 30 s.
    pub async fn leader_of(&self, stream: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let js = async_nats::jetstream::new(client(self).await);
            let leader = async {
                let mut stream = js.get_stream(stream).await.map_err(|e| e.to_string())?;
                let info = stream.info().await.map_err(|e| e.to_string())?;
                info.cluster.as_ref().and_then(|c| c.leader.clone()).ok_or_else(|| "no leader yet".to_string())
            }
            .await;
            match leader {
                Ok(leader) => return leader,
                Err(why) => {
                    assert!(Instant::now() < deadline, "no leader of {stream} named within 30 s: {why}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}

impl Nats for NatsCluster {
    fn url(&self) -> String {
        self.nodes.iter().map(|n| format!("nats://127.0.0.1:{}", n.port)).collect::<Vec<_>>().join(",")
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// An environment for a service under test: in-memory database, free port on loopback, and no
/// session keys, so the built-in development pair verifies what [`token`] signs.
pub fn env(nats: &impl Nats, extra: &[(&str, &str)]) -> EnvReader {
    // `TEST_LOG=1 cargo test …`: the services' logs next to a failing test (as zero2prod does).
    if std::env::var_os("TEST_LOG").is_some() {
        shared::telemetry::init(shared::telemetry::LogFormat::Pretty, &shared::telemetry::TraceSettings::none("test"));
    }
    let mut vars: HashMap<String, String> =
        [("PORT", "0"), ("DATABASE_URL", "mem://")].into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    vars.insert("NATS_URL".into(), nats.url());
    for (key, value) in extra {
        vars.insert(key.to_string(), value.to_string());
    }
    EnvReader::from_map(vars)
}

/// A session token for a user, as the auth service issues it with the development key pair
/// (what every service under test verifies with when no key is configured).
pub fn token(user_id: &str) -> String {
    token_signed_by(&SigningKey::development(), user_id)
}

/// A session token for a user, as auth configured with `key` issues it.
pub fn token_signed_by(key: &SigningKey, user_id: &str) -> String {
    Sessions::issuer(key, &key.verifying_keys(), Duration::from_secs(3600))
        .issue(&user_id.into(), &format!("{user_id}@example.com"))
        .expect("token")
}

/// The claims auth puts in a session for `user_id`, valid for an hour: for tests that change
/// one of them and [`sign`] the result.
pub fn session_claims(user_id: &str) -> serde_json::Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    serde_json::json!({
        "id": user_id,
        "email": format!("{user_id}@example.com"),
        "iat": now,
        "exp": now + 3600,
        "iss": ISSUER,
        "aud": AUDIENCE,
    })
}

/// Any claims, signed as auth signs (EdDSA, header `kid`) with `key` under `kid` (`None`: no
/// `kid` header).
pub fn sign(key: &SigningKey, kid: Option<&str>, claims: &serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &key.encoding_key()).expect("token")
}

/// Any claims as an HS256 token with a shared `secret`, as sessions were made before auth alone
/// signed them: every service must refuse it.
pub fn sign_hs256(secret: &[u8], kid: Option<&str>, claims: &serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_secret(secret)).expect("token")
}

/// Polls `check` until it is true or `timeout` passes; true if it became true.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (10 s at most) until `{base}/readyz` answers 200 with its event backbone connected and
/// its streams set up, and fails the test if it never does.
pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    let url = format!("{base}/readyz");
    let ready = eventually(Duration::from_secs(10), || async {
        let Ok(response) = client.get(&url).send().await else { return false };
        if !response.status().is_success() {
            return false;
        }
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        body["nats"].as_object().is_none_or(|states| states.values().all(|state| state == "connected"))
    })
    .await;
    assert!(ready, "never became ready at {base}");
}

/// Watches the subjects events are published on, to assert what a service published.
pub struct EventSpy {
    subscriber: async_nats::Subscriber,
}

impl EventSpy {
    pub async fn new(nats: &impl Nats, subject: &str) -> Self {
        let client = client(nats).await;
        let subscriber = client.subscribe(subject.to_string()).await.expect("spy subscribes");
        client.flush().await.expect("spy subscription registered");
        Self { subscriber }
    }

    /// The next event on the watched subjects: (subject, payload).
    pub async fn next(&mut self, timeout: Duration) -> Option<(String, serde_json::Value)> {
        let message = tokio::time::timeout(timeout, self.subscriber.next()).await.ok()??;
        Some((message.subject.to_string(), serde_json::from_slice(&message.payload).ok()?))
    }

    /// Waits for an event on `subject`, skipping others.
    pub async fn expect(&mut self, subject: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Some(remaining) = deadline.checked_duration_since(Instant::now()) {
            match self.next(remaining).await {
                Some((s, payload)) if s == subject => return payload,
                Some(_) => continue,
                None => break,
            }
        }
        panic!("no {subject} event within 5 s");
    }
}

/// Publishes an event through JetStream as another service would, and waits for the stream's ack.
pub async fn publish(nats: &impl Nats, subject: &str, payload: serde_json::Value) {
    publish_with_headers(nats, subject, payload, &[]).await;
}

/// [`publish`] with message headers (a `traceparent`, as an outbox relay sends it).
pub async fn publish_with_headers(nats: &impl Nats, subject: &str, payload: serde_json::Value, headers: &[(&str, &str)]) {
    let js = async_nats::jetstream::new(client(nats).await);
    let mut map = async_nats::HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, *value);
    }
    js.publish_with_headers(subject.to_string(), map, payload.to_string().into())
        .await
        .expect("published")
        .await
        .expect("stored by the stream");
}

/// Asserts the status and the API's error shape, and returns the entries as (message, field).
/// Every entry must carry a code (see [`error_items`]).
pub async fn errors(response: reqwest::Response, status: u16) -> Vec<(String, Option<String>)> {
    error_items(response, status).await.into_iter().map(|item| (item.message, item.field)).collect()
}

/// Asserts the status and the API's error shape, and returns the entries whole, codes included.
/// A code that is missing or that this build does not know fails here, so every test that reads
/// an error checks that it has one.
pub async fn error_items(response: reqwest::Response, status: u16) -> Vec<ErrorItem> {
    assert_eq!(response.status().as_u16(), status);
    let body: serde_json::Value = response.json().await.expect("errors are JSON");
    for entry in body["errors"].as_array().expect("an errors array") {
        let code: ErrorCode = serde_json::from_value(entry["code"].clone()).expect("each error has a code");
        assert_ne!(code, ErrorCode::Unknown, "{entry}: a code this build does not know");
    }
    serde_json::from_value::<ErrorBody>(body).expect("each error has a message, and a field only as a string").errors
}

/// An expected error entry about `field`.
pub fn field(message: &str, field: &str) -> (String, Option<String>) {
    (message.to_string(), Some(field.to_string()))
}

/// An expected error entry that names no field.
pub fn general(message: &str) -> (String, Option<String>) {
    (message.to_string(), None)
}

/// What a durable consumer has not finished: messages delivered but not acked, messages not yet
/// delivered, and messages delivered more than once.
#[derive(Debug, PartialEq, Eq)]
pub struct ConsumerState {
    pub ack_pending: usize,
    pub pending: u64,
    pub redelivered: usize,
}

pub async fn consumer_state(nats: &impl Nats, durable: &str) -> ConsumerState {
    read_consumer_state(nats, durable).await.expect("the durable consumer's state")
}

/// The consumer's state, or why it could not be read. In a cluster that has just formed (or
/// lost a server), JetStream's API can time out for a while: a wait for a state reads again
/// rather than failing the test.
async fn read_consumer_state(nats: &impl Nats, durable: &str) -> Result<ConsumerState, String> {
    let js = async_nats::jetstream::new(client(nats).await);
    let mut consumer: async_nats::jetstream::consumer::PullConsumer =
        js.get_consumer_from_stream(durable, "TICKETING").await.map_err(|error| format!("the durable consumer: {error}"))?;
    let info = consumer.info().await.map_err(|error| format!("consumer info: {error}"))?;
    Ok(ConsumerState { ack_pending: info.num_ack_pending, pending: info.num_pending, redelivered: info.num_redelivered })
}

/// True once the service has created its durable consumer.
pub async fn consumer_exists(nats: &impl Nats, durable: &str) -> bool {
    let Ok(servers) = shared::events::nats::parse_servers(&nats.url()) else { return false };
    let Ok(client) = admin_options().connect(servers).await else {
        return false;
    };
    let js = async_nats::jetstream::new(client);
    js.get_consumer_from_stream::<async_nats::jetstream::consumer::pull::Config, _, _>(durable, "TICKETING").await.is_ok()
}

/// True once every event the consumer received was handled and acked (false while the
/// consumer does not exist yet).
pub async fn all_acked(nats: &impl Nats, durable: &str) -> bool {
    if !consumer_exists(nats, durable).await {
        return false;
    }
    read_consumer_state(nats, durable).await.is_ok_and(|state| state.ack_pending == 0 && state.pending == 0)
}

/// Waits until `durable` has handled and acked every event published so far (none left to
/// deliver, none delivered and unacked) and returns its state then; fails the test, with the
/// last state seen, if that takes longer than `within`. Called after a publish, it makes an
/// assertion that nothing changed mean something: the handler ran.
pub async fn wait_acked(nats: &impl Nats, durable: &str, within: Duration) -> ConsumerState {
    let deadline = Instant::now() + within;
    let mut last = None;
    loop {
        if consumer_exists(nats, durable).await {
            match read_consumer_state(nats, durable).await {
                Ok(state) if state.ack_pending == 0 && state.pending == 0 => return state,
                Ok(state) => last = Some(format!("{state:?}")),
                Err(error) => last = Some(error),
            }
        }
        assert!(Instant::now() < deadline, "{durable} did not ack every event within {within:?}; last state: {last:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One message as the `TICKETING` stream stored it: its payload and when the server stored it
/// (for a scheduled message, when the schedule fired).
#[derive(Debug, Clone)]
pub struct Stored {
    pub payload: serde_json::Value,
    pub stored_at: time::OffsetDateTime,
    /// Its headers, the last value of each (a scheduled message's are the schedule's, but for
    /// the server's own).
    pub headers: HashMap<String, String>,
}

/// Every message the stream holds on `subject`, oldest first. Reads the stream itself, so it
/// sees messages the server published on its own (scheduled ones), which a core subscription
/// does not.
pub async fn stored(nats: &impl Nats, subject: &str) -> Vec<Stored> {
    use async_nats::jetstream::consumer::{pull, DeliverPolicy};
    let js = async_nats::jetstream::new(client(nats).await);
    // In a cluster that just lost a server, the stream answers once it has a leader again.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (consumer, pending) = loop {
        let opened = async {
            let stream = js.get_stream("TICKETING").await?;
            let config =
                pull::OrderedConfig { filter_subject: subject.to_string(), deliver_policy: DeliverPolicy::All, ..Default::default() };
            let mut consumer = stream.create_consumer(config).await?;
            let pending = consumer.info().await?.num_pending;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((consumer, pending))
        };
        match opened.await {
            Ok(opened) => break opened,
            Err(error) if Instant::now() > deadline => panic!("the stream cannot be read: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    let mut messages = consumer.messages().await.expect("messages");
    let mut found = Vec::new();
    while (found.len() as u64) < pending {
        let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(5), messages.next()).await else {
            break;
        };
        let stored_at = message.info().map(|info| info.published).expect("a JetStream message");
        let payload = serde_json::from_slice(&message.payload).unwrap_or(serde_json::Value::Null);
        let headers = message
            .headers
            .iter()
            .flat_map(|headers| headers.iter())
            .filter_map(|(name, values)| Some((name.to_string(), values.last()?.as_str().to_string())))
            .collect();
        found.push(Stored { payload, stored_at, headers });
    }
    found
}

/// `GET {base}/metrics`, which must answer 200 in Prometheus' text format.
pub async fn scrape(client: &reqwest::Client, base: &str) -> String {
    let response = client.get(format!("{base}/metrics")).send().await.expect("/metrics answers");
    assert_eq!(response.status().as_u16(), 200, "GET {base}/metrics");
    response.text().await.expect("the metrics text")
}

/// The value of the series `name` with exactly `labels` (in any order) in a scrape's `text`;
/// `None` when the series is not there, which for a counter means it never moved. The recorder
/// is one per process, shared by every test of a binary: compare one series before and after,
/// never an absolute value.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut wanted: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    wanted.sort();
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        // The value is after the last space: label values may hold spaces, a number does not.
        let (series, value) = line.trim().rsplit_once(' ')?;
        let (found, mut found_labels) = series_parts(series)?;
        found_labels.sort();
        (found == name && found_labels == wanted).then(|| value.parse::<f64>().ok()).flatten()
    })
}

/// A series' name and labels: `name` or `name{key="value",…}`, values with `\"`, `\\` and `\n`
/// escaped (and braces unescaped: a route template is `/api/orders/{id}`).
fn series_parts(series: &str) -> Option<(&str, Vec<(String, String)>)> {
    let Some((name, rest)) = series.split_once('{') else {
        return Some((series, Vec::new()));
    };
    let mut chars = rest.strip_suffix('}')?.chars().peekable();
    let mut labels = Vec::new();
    loop {
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=') {
            key.push(c);
        }
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('=') || chars.next() != Some('"') {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\\' => match chars.next()? {
                    'n' => value.push('\n'),
                    escaped => value.push(escaped),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.push((key.trim().to_string(), value));
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(_) => return None,
        }
    }
    Some((name, labels))
}

/// The services' logs as JSON lines, for a test that asserts what was logged.
///
/// Why one capture per test binary: a service logs from tasks it spawns (its consumer, its
/// relay), on any thread of the runtime, so a subscriber set for one thread or one future would
/// miss them; the global one sees everything. It is the subscriber `shared::telemetry::init`
/// installs (same layers, JSON, the default filter), writing into a buffer, so what a test reads
/// is what a service prints, trace ids included. It is also what gives the services' spans their
/// trace context: without a subscriber there are no spans. Every test of the binary that runs
/// after the first [`capture`] writes into it, so a test finds its own lines by what is unique to
/// it (an id, a trace id). `TEST_LOG=1` installs the pretty one first, and then there is nothing
/// to capture.
pub mod logs {
    use std::sync::{Arc, Mutex, OnceLock};

    use shared::telemetry::{self, LogFormat, TraceSettings};
    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::EnvFilter;

    /// Every line written since the capture was installed.
    #[derive(Clone, Default)]
    pub struct Logs(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Logs {
        type Writer = Logs;

        fn make_writer(&'a self) -> Logs {
            self.clone()
        }
    }

    impl Logs {
        /// Every line so far, each a JSON object.
        pub fn lines(&self) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            String::from_utf8_lossy(&bytes).lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
        }

        /// The first line that `matches`, if one was written.
        pub fn find(&self, matches: impl Fn(&serde_json::Value) -> bool) -> Option<serde_json::Value> {
            let bytes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            String::from_utf8_lossy(&bytes).lines().filter_map(|line| serde_json::from_str(line).ok()).find(|line| matches(line))
        }
    }

    /// Installs the capture the first time (for the rest of the test binary) and returns it.
    pub fn capture() -> Logs {
        static LOGS: OnceLock<Logs> = OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Logs::default();
            let filter = EnvFilter::new(telemetry::DEFAULT_FILTER);
            let installed = telemetry::install(LogFormat::Json, filter, logs.clone(), &TraceSettings::none("test"));
            assert!(installed, "another subscriber is installed (TEST_LOG=1?): the logs cannot be captured");
            logs
        })
        .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP http_requests_total HTTP requests answered.
# TYPE http_requests_total counter
http_requests_total{service="orders",method="POST",route="/api/orders",status="201"} 3
http_requests_total{service="orders",method="GET",route="/api/orders/{id}",status="200"} 7
http_requests_total{service="orders",method="GET",route="/api/orders/{id}",status="404"} 1
outbox_backlog{service="orders"} 0
payments_refunds_parked 2
odd{note="a \"quoted\" {brace}, and a space"} 1.5
"#;

    #[test]
    fn a_series_is_found_by_its_exact_labels_in_any_order() {
        let created = [("method", "POST"), ("route", "/api/orders"), ("service", "orders"), ("status", "201")];
        assert_eq!(metric_value(TEXT, "http_requests_total", &created), Some(3.0));
        let shown = [("service", "orders"), ("method", "GET"), ("route", "/api/orders/{id}"), ("status", "200")];
        assert_eq!(metric_value(TEXT, "http_requests_total", &shown), Some(7.0));
        assert_eq!(metric_value(TEXT, "outbox_backlog", &[("service", "orders")]), Some(0.0));
        assert_eq!(metric_value(TEXT, "payments_refunds_parked", &[]), Some(2.0));
        assert_eq!(metric_value(TEXT, "odd", &[("note", "a \"quoted\" {brace}, and a space")]), Some(1.5));
    }

    #[test]
    fn a_subset_or_another_name_is_not_the_series() {
        assert_eq!(metric_value(TEXT, "http_requests_total", &[("service", "orders")]), None);
        assert_eq!(metric_value(TEXT, "http_requests", &[("service", "orders"), ("method", "POST")]), None);
        assert_eq!(metric_value(TEXT, "outbox_backlog", &[]), None);
        assert_eq!(metric_value(TEXT, "outbox_backlog", &[("service", "tickets")]), None);
    }
}
