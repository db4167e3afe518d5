//! The distributed topology as processes on loopback, wired the way `k8s/base` wires the pods:
//! every Deployment's replicas with the environment its manifest gives them, a 3-node NATS
//! cluster from the NATS ConfigMap, the SurrealDB server with the StatefulSet's arguments, its
//! users made by the users Job's own script, and nginx as the Services and the Ingress.
//!
//! What differs from a cluster, and why (each is printed at start):
//! - addresses: DNS names (`nats`, `surrealdb`, `auth`…) become loopback ports;
//! - the NATS route user and password are on the servers' command line (`--cluster`), since
//!   that flag drops the configuration file's route authorization ([`start_nats`]);
//! - `COOKIE_SECURE=false`: the ingress here serves plain HTTP, and browsers drop `Secure`
//!   cookies sent over it;
//! - `STRIPE_API_BASE`: Stripe is unreachable from this machine, so payments go to the Stripe
//!   double (which runs inside this tool, so that a fault run can make it fail and read its
//!   ledger);
//! - the web server is this machine's build (release, or the debug build `scripts/test` points to with
//!   `WEB_SERVER_BIN`) with `EMBEDDED_SERVICES=false`; the image
//!   leaves the embedded services out at compile time instead. The services are built as their
//!   images build them (`--no-default-features --features remote`; `scripts/cluster` does it).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use stripe_double::StripeDouble;

use crate::manifests::Manifests;
use crate::nginx;
use crate::process::{free_port, Proc};

/// Where the binaries are and how the run is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// The folder with `auth`, `tickets`, `orders`, `payments` and `expiration`.
    pub services_dir: PathBuf,
    /// SurrealDB's server (`tools/surreal`).
    pub surreal_bin: PathBuf,
    /// The web server's binary and its built site (`cargo leptos build --release`).
    pub web_bin: PathBuf,
    pub site_root: PathBuf,
    /// Where data and logs go.
    pub dir: PathBuf,
    /// Overrides the replicas of every Deployment.
    pub replicas: Option<usize>,
    /// Overrides `EXPIRATION_WINDOW_SECONDS` (short holds for a fault run).
    pub expiration_window: Option<u64>,
    pub ingress_port: Option<u16>,
}

/// The service Deployments (everything but the web server), in start order.
pub const SERVICES: &[&str] = &["auth", "tickets", "orders", "payments", "expiration"];
/// Part names that have a Deployment: the services and the web server.
pub const WEB: &str = "web";

pub struct Cluster {
    pub dir: PathBuf,
    /// The ingress: the marketplace's address.
    pub url: String,
    pub nats: Vec<Proc>,
    /// Every NATS server's client URL, as a `NATS_URL` list.
    pub nats_url: String,
    /// How this tool reaches NATS itself.
    pub nats_admin: NatsAdmin,
    pub surreal: Proc,
    /// The replicas of each part (`auth`, …, `web`).
    pub parts: BTreeMap<String, Vec<Proc>>,
    pub nginx: Proc,
    pub stripe: StripeDouble,
    /// Variables that differ from what the manifests say, with why.
    pub overrides: Vec<(String, &'static str)>,
    /// The Secrets this run generated (the benchmark signs sessions with the session key and
    /// writes seed data as a service's database user).
    pub secrets: Secrets,
    /// The SurrealDB server, as the services reach it (`ws://…`).
    pub database_url: String,
}

/// How this tool itself reaches NATS (to read consumers, find a stream's leader): every server,
/// as the operator's user (`admin`, Secret nats-admin); the services connect as their own.
#[derive(Debug, Clone)]
pub struct NatsAdmin {
    pub url: String,
    pub user: String,
    pub password: String,
}

impl NatsAdmin {
    pub async fn client(&self) -> anyhow::Result<async_nats::Client> {
        let client = async_nats::ConnectOptions::new()
            .user_and_password(self.user.clone(), self.password.clone())
            .connection_timeout(Duration::from_secs(5))
            .connect(shared_servers(&self.url)?)
            .await?;
        Ok(client)
    }
}

/// The values of the Kubernetes Secrets, by (Secret, key).
pub struct Secrets(BTreeMap<(String, String), String>);

impl Secrets {
    /// What an operator creates (docs/operations.md, "Running on Kubernetes"): random passwords, and
    /// the session key pair from `auth keygen` of this run's auth binary.
    async fn generate(auth_bin: &Path) -> anyhow::Result<Self> {
        let session_keys = session_key_pair(auth_bin).await?;
        let random = |n: usize| (0..n).map(|_| fastrand::alphanumeric()).collect::<String>();
        let mut values = BTreeMap::new();
        let mut put = |secret: &str, key: &str, value: String| values.insert((secret.to_string(), key.to_string()), value);
        for (key, value) in session_keys {
            // The private key in auth's Secret alone, the public keys in the one every service reads.
            let secret = if key == "SESSION_PUBLIC_KEYS" { "session-public-keys" } else { "session-signing-key" };
            put(secret, &key, value);
        }
        put("ticketing-secrets", "STRIPE_SECRET_KEY", format!("sk_test_cluster{}", random(12)));
        put("ticketing-secrets", "STRIPE_WEBHOOK_SECRET", format!("whsec_cluster{}", random(24)));
        // The web server's proof to auth of the client addresses it names: those two alone.
        put("web-auth-internal", "INTERNAL_SECRET", random(48));
        put("surrealdb-root", "username", "root".to_string());
        put("surrealdb-root", "password", random(24));
        for service in ["auth", "tickets", "orders", "payments"] {
            put(&format!("db-{service}"), "username", service.to_string());
            put(&format!("db-{service}"), "password", random(24));
        }
        // Each NATS user's password (k8s/base/nats.yaml): letters and digits, never digits
        // alone (nats-server would read a number).
        for user in ["auth", "tickets", "orders", "payments", "expiration", "web", "admin"] {
            put(&format!("nats-{user}"), "password", format!("n{}", random(24)));
        }
        // The password the NATS servers open routes to each other with (user `route`): the same
        // shape, and it goes into route URLs as it is, which letters and digits allow.
        put("nats-route", "password", format!("n{}", random(24)));
        Ok(Self(values))
    }

    pub fn get(&self, secret: &str, key: &str) -> Option<String> {
        self.0.get(&(secret.to_string(), key.to_string())).cloned()
    }
}

/// The session key pair as `auth keygen` prints it: (variable, value) for SESSION_KEY_ID,
/// SESSION_SIGNING_KEY and SESSION_PUBLIC_KEYS.
async fn session_key_pair(auth_bin: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let output = tokio::process::Command::new(auth_bin)
        .arg("keygen")
        .output()
        .await
        .with_context(|| format!("running {} keygen", auth_bin.display()))?;
    anyhow::ensure!(output.status.success(), "auth keygen failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).context("auth keygen printed something other than UTF-8")?;
    let pairs: Vec<(String, String)> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    for name in ["SESSION_KEY_ID", "SESSION_SIGNING_KEY", "SESSION_PUBLIC_KEYS"] {
        anyhow::ensure!(pairs.iter().any(|(printed, _)| printed == name), "auth keygen printed no {name}");
    }
    Ok(pairs)
}

/// The user the NATS servers open routes to each other as (`cluster { authorization }` of
/// nats.conf in k8s/base/nats.yaml; the StatefulSet's `NATS_ROUTES` names it too).
pub const NATS_ROUTE_USER: &str = "route";

/// The NATS StatefulSet's servers, running as processes on loopback.
pub struct NatsServers {
    pub servers: Vec<Proc>,
    /// Each server's client address (`nats://127.0.0.1:<port>`), in order.
    pub client_urls: Vec<String>,
    /// Each server's route port (the StatefulSet's 6222), in order.
    pub cluster_ports: Vec<u16>,
}

/// Starts the servers the NATS StatefulSet runs, from the ConfigMap's files (nats.conf and the
/// files it includes, written to `dir`) as they are, with this machine's addresses on the command
/// line and the environment the StatefulSet gives each pod (the Secrets' values from `secret`);
/// returns once each one is healthy with JetStream.
///
/// The routes keep their credentials. A `--cluster` flag (needed here: the servers share one
/// machine, so each needs its own route port) makes nats-server drop the file's
/// `cluster { authorization }` (checked with 2.15: a server started so accepted a route without
/// any), so the flag's URL carries the route user and password instead; `NATS_ROUTES`, which the
/// StatefulSet composes from the Secret nats-route, lists the other servers with them, since a
/// server logs in to a route with its URL's credentials only.
pub async fn start_nats(
    manifests: &Manifests,
    dir: &Path,
    logs: &Path,
    secret: impl Fn(&str, &str) -> Option<String>,
) -> anyhow::Result<NatsServers> {
    let nats_conf = dir.join("nats.conf");
    for (file, text) in manifests.nats_config_files()? {
        std::fs::write(dir.join(&file), text).with_context(|| format!("writing {file}"))?;
    }
    // Every variable the StatefulSet takes from a Secret: the users' passwords and the routes'.
    let secret_env = manifests.nats_secret_env(secret)?;
    let route_password = secret_env
        .iter()
        .find(|(name, _)| name == "NATS_ROUTE_PASSWORD")
        .map(|(_, value)| value.clone())
        .context("the NATS StatefulSet gives no NATS_ROUTE_PASSWORD (Secret nats-route)")?;
    let credentials = format!("{NATS_ROUTE_USER}:{route_password}");
    let count = manifests.nats_servers()?;
    let cluster_ports: Vec<u16> = (0..count).map(|_| free_port()).collect::<Result<_, _>>()?;
    let routes = cluster_ports.iter().map(|p| format!("nats://{credentials}@127.0.0.1:{p}")).collect::<Vec<_>>().join(", ");
    let mut servers = Vec::new();
    let mut client_urls = Vec::new();
    for (i, cluster_port) in cluster_ports.iter().enumerate() {
        let (client, monitor) = (free_port()?, free_port()?);
        let store = dir.join(format!("nats-{i}"));
        let args = vec![
            "--config".into(),
            nats_conf.display().to_string(),
            "--addr".into(),
            "127.0.0.1".into(),
            "--port".into(),
            client.to_string(),
            "--http_port".into(),
            monitor.to_string(),
            "--cluster".into(),
            format!("nats://{credentials}@127.0.0.1:{cluster_port}"),
        ];
        // What the StatefulSet gives each pod: its name, where its volume is, the routes.
        let mut env = vec![
            ("POD_NAME".to_string(), format!("nats-{i}")),
            ("STORE_DIR".to_string(), store.display().to_string()),
            ("NATS_ROUTES".to_string(), format!("[{routes}]")),
        ];
        env.extend(secret_env.iter().cloned());
        let mut server = Proc::new(&format!("nats-{i}"), Path::new("nats-server"), args, env, logs).with_port(monitor);
        server.spawn()?;
        servers.push(server);
        client_urls.push(format!("nats://127.0.0.1:{client}"));
    }
    for server in &mut servers {
        server.wait_http("/healthz?js-enabled-only=true", Duration::from_secs(30), |_| true).await?;
    }
    Ok(NatsServers { servers, client_urls, cluster_ports })
}

fn replace_arg(args: &mut [String], flag: &str, value: String) -> anyhow::Result<()> {
    let at = args.iter().position(|a| a == flag).with_context(|| format!("no {flag} in the manifest's arguments"))?;
    *args.get_mut(at + 1).with_context(|| format!("{flag} without a value"))? = value;
    Ok(())
}

/// SurrealDB's server with the StatefulSet's arguments, bound to loopback, its data in this
/// run's folder, and its users made by the users Job's script: the process and the URL the
/// services reach it at.
async fn start_surrealdb(
    manifests: &Manifests,
    options: &Options,
    logs: &Path,
    secret: impl Fn(&str, &str) -> Option<String>,
) -> anyhow::Result<(Proc, String)> {
    let surreal_port = free_port()?;
    let mut args = manifests.surrealdb_args()?;
    replace_arg(&mut args, "--bind", format!("127.0.0.1:{surreal_port}"))?;
    let path = args.iter_mut().find(|a| a.starts_with("surrealkv://")).context("the surrealdb args name no surrealkv:// path")?;
    *path = format!("surrealkv://{}/ticketing.db", options.dir.join("surrealdb").display());
    let env = vec![
        ("SURREAL_USER".to_string(), secret("surrealdb-root", "username").unwrap_or_default()),
        ("SURREAL_PASS".to_string(), secret("surrealdb-root", "password").unwrap_or_default()),
    ];
    let mut surreal = Proc::new("surrealdb", &options.surreal_bin, args, env, logs).with_port(surreal_port);
    surreal.spawn()?;
    surreal.wait_http("/health", Duration::from_secs(60), |_| true).await?;
    let log = run_users_job(manifests, &format!("http://127.0.0.1:{surreal_port}"), secret).await?;
    std::fs::write(logs.join("surrealdb-users.log"), log)?;
    Ok((surreal, format!("ws://127.0.0.1:{surreal_port}")))
}

/// A port for each replica of every Deployment, and one for each Service stand-in.
#[allow(clippy::type_complexity)]
fn allocate_ports(manifests: &Manifests, options: &Options) -> anyhow::Result<(BTreeMap<String, Vec<u16>>, BTreeMap<String, u16>)> {
    let mut parts_ports = BTreeMap::new();
    let mut service_ports = BTreeMap::new();
    for part in manifests.deployments() {
        let replicas = options.replicas.unwrap_or(manifests.replicas(&part)?);
        parts_ports.insert(part.clone(), (0..replicas).map(|_| free_port()).collect::<Result<_, _>>()?);
        service_ports.insert(part, free_port()?);
    }
    Ok((parts_ports, service_ports))
}

/// nginx as the Ingress and the Services: the Ingress's paths to each Service, each Service to
/// its replicas.
async fn start_ingress(
    manifests: &Manifests,
    dir: &Path,
    port: u16,
    parts_ports: &BTreeMap<String, Vec<u16>>,
    service_ports: &BTreeMap<String, u16>,
) -> anyhow::Result<Proc> {
    let logs = dir.join("logs");
    let conf = nginx::config(dir, port, &manifests.ingress_paths()?, parts_ports, service_ports)?;
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let args = vec![
        "-p".into(),
        dir.display().to_string(),
        "-e".into(),
        logs.join("nginx-error.log").display().to_string(),
        "-c".into(),
        conf_path.display().to_string(),
        "-g".into(),
        // One process: a master's workers would outlive a master killed with this tool.
        "daemon off; master_process off;".into(),
    ];
    let mut nginx = Proc::new("nginx", &nginx_binary(), args, Vec::new(), &logs).with_port(port);
    nginx.spawn()?;
    nginx.wait_port(Duration::from_secs(10)).await?;
    Ok(nginx)
}

impl Wiring<'_> {
    fn service_url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}", self.service_ports.get(name).copied().unwrap_or_default())
    }

    /// A part's program and the environment its manifest gives it, its addresses made this
    /// machine's.
    fn part(
        &self,
        manifests: &Manifests,
        part: &str,
        secret: impl Fn(&str, &str) -> Option<String>,
    ) -> anyhow::Result<(PathBuf, BTreeMap<String, String>)> {
        let mut env = manifests.environment(part, secret)?;
        // Its live updates listen to the events, as the services publish them.
        if env.contains_key("NATS_URL") {
            env.insert("NATS_URL".into(), self.nats_url.clone());
        }
        if part == WEB {
            env.insert("EMBEDDED_SERVICES".into(), "false".into());
            for (var, service) in [("AUTH_URL", "auth"), ("TICKETS_URL", "tickets"), ("ORDERS_URL", "orders"), ("PAYMENTS_URL", "payments")]
            {
                env.insert(var.into(), self.service_url(service));
            }
            env.insert("LEPTOS_SITE_ROOT".into(), self.options.site_root.display().to_string());
            env.insert("LEPTOS_SITE_PKG_DIR".into(), "pkg".into());
            env.insert("LEPTOS_OUTPUT_NAME".into(), "ticketing".into());
            env.insert("LEPTOS_ENV".into(), "PROD".into());
            return Ok((self.options.web_bin.clone(), env));
        }
        if env.contains_key("DATABASE_URL") {
            env.insert("DATABASE_URL".into(), self.database_url.clone());
        }
        if env.contains_key("COOKIE_SECURE") {
            env.insert("COOKIE_SECURE".into(), "false".into());
        }
        if part == "payments" {
            env.insert("STRIPE_API_BASE".into(), format!("http://{}", self.stripe_address));
        }
        if let (Some(window), true) = (self.options.expiration_window, part == "orders") {
            env.insert("EXPIRATION_WINDOW_SECONDS".into(), window.to_string());
        }
        env.insert("HOST".into(), "127.0.0.1".into());
        Ok((self.options.services_dir.join(part), env))
    }

    /// Starts every replica of `part`, each on its own port.
    fn spawn_replicas(&self, part: &str, program: &Path, env: &BTreeMap<String, String>, logs: &Path) -> anyhow::Result<Vec<Proc>> {
        let ports = self.parts_ports.get(part).with_context(|| format!("no Deployment {part} in k8s/base"))?;
        let mut replicas = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let mut env = env.clone();
            if part == WEB {
                env.insert("LEPTOS_SITE_ADDR".into(), format!("127.0.0.1:{port}"));
                // The replicas share this machine: a free metrics port each, not the manifest's
                // fixed one.
                if env.contains_key("METRICS_ADDR") {
                    env.insert("METRICS_ADDR".into(), "127.0.0.1:0".into());
                }
            } else {
                env.insert("PORT".into(), port.to_string());
            }
            let mut replica = Proc::new(&format!("{part}-{i}"), program, Vec::new(), env.into_iter().collect(), logs).with_port(*port);
            replica.spawn()?;
            replicas.push(replica);
        }
        Ok(replicas)
    }
}

/// Every server of a `NATS_URL` list, for a client that moves between them.
pub fn shared_servers(nats_url: &str) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
    nats_url.split(',').map(|s| s.trim().parse::<async_nats::ServerAddr>().map_err(anyhow::Error::from)).collect()
}

/// Where the parts reach what the manifests name by DNS (`nats`, `surrealdb`, `auth`…), and what
/// differs from the manifests, with why.
struct Wiring<'a> {
    options: &'a Options,
    nats_url: String,
    database_url: String,
    stripe_address: std::net::SocketAddr,
    /// A port per replica of each part, and one per Service stand-in in front of them.
    parts_ports: BTreeMap<String, Vec<u16>>,
    service_ports: BTreeMap<String, u16>,
}

impl Cluster {
    /// Starts the stores, the ingress and every replica the manifests ask for, each part once
    /// what it depends on is up, and waits until every replica is ready.
    pub async fn start(options: &Options) -> anyhow::Result<Self> {
        let manifests = Manifests::load()?;
        let dir = options.dir.clone();
        let logs = dir.join("logs");
        for sub in ["logs", "nginx", "surrealdb"] {
            std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        let secrets = Secrets::generate(&options.services_dir.join("auth")).await?;
        let secret = |name: &str, key: &str| secrets.get(name, key);
        let mut overrides = Vec::new();
        let (stripe, stripe_address) = StripeDouble::start(([127, 0, 0, 1], 0).into()).await.context("starting the Stripe double")?;

        // NATS: the StatefulSet's servers from the ConfigMap's files (see `start_nats`).
        let NatsServers { servers: nats, client_urls, .. } = start_nats(&manifests, &dir, &logs, secret).await?;
        let nats_url = client_urls.join(",");
        let nats_admin = NatsAdmin {
            url: nats_url.clone(),
            user: "admin".to_string(),
            password: secret("nats-admin", "password").context("no NATS admin password generated")?,
        };
        overrides.push((format!("NATS_URL={nats_url}"), "every NATS server (the client moves between them), for the Service nats:4222"));
        overrides.push((
            format!("nats-server --cluster nats://{NATS_ROUTE_USER}:…@127.0.0.1:<port>"),
            "a route port per server on one machine; the flag replaces nats.conf's route authorization, so it carries the credentials",
        ));

        let (surreal, database_url) = start_surrealdb(&manifests, options, &logs, secret).await?;
        overrides.push((format!("DATABASE_URL={database_url}"), "the SurrealDB server, for the Service surrealdb:8000"));

        let (parts_ports, service_ports) = allocate_ports(&manifests, options)?;
        let ingress_port = match options.ingress_port {
            Some(port) => port,
            None => free_port()?,
        };
        let nginx = start_ingress(&manifests, &dir, ingress_port, &parts_ports, &service_ports).await?;
        overrides.push(("COOKIE_SECURE=false".into(), "this ingress serves plain HTTP; browsers drop Secure cookies over it"));
        overrides.push((format!("STRIPE_API_BASE=http://{stripe_address}"), "Stripe is unreachable here: the Stripe double"));
        // The double's webhooks come in through the ingress, as Stripe's would.
        let webhook_secret = secrets.get("ticketing-secrets", "STRIPE_WEBHOOK_SECRET").context("no webhook secret generated")?;
        stripe.send_webhooks_to(format!("http://127.0.0.1:{ingress_port}/api/payments/webhook"), webhook_secret);
        if let Some(window) = options.expiration_window {
            overrides.push((format!("EXPIRATION_WINDOW_SECONDS={window}"), "short holds, so orders expire during the run"));
        }

        let wiring =
            Wiring { options, nats_url: nats_url.clone(), database_url: database_url.clone(), stripe_address, parts_ports, service_ports };
        let mut parts = BTreeMap::new();
        for part in SERVICES.iter().chain([&WEB]) {
            let (program, env) = wiring.part(&manifests, part, secret)?;
            parts.insert(part.to_string(), wiring.spawn_replicas(part, &program, &env, &logs)?);
        }
        let mut cluster = Self {
            dir,
            url: format!("http://127.0.0.1:{ingress_port}"),
            nats,
            nats_url,
            nats_admin,
            surreal,
            parts,
            nginx,
            stripe,
            overrides,
            secrets,
            database_url,
        };
        for replicas in cluster.parts.values_mut() {
            for replica in replicas {
                wait_ready(replica, Duration::from_secs(90)).await?;
            }
        }
        Ok(cluster)
    }

    pub fn replica(&mut self, part: &str, index: usize) -> anyhow::Result<&mut Proc> {
        self.parts.get_mut(part).and_then(|r| r.get_mut(index)).with_context(|| format!("no replica {part}-{index}"))
    }

    /// Stops everything, the ingress first and the stores last, each by pid.
    pub async fn stop(mut self) {
        self.nginx.stop(Duration::from_secs(5)).await;
        for part in [WEB].iter().chain(SERVICES.iter().rev()) {
            if let Some(replicas) = self.parts.get_mut(*part) {
                futures_util::future::join_all(replicas.iter_mut().map(|r| r.stop(Duration::from_secs(20)))).await;
            }
        }
        self.surreal.stop(Duration::from_secs(20)).await;
        futures_util::future::join_all(self.nats.iter_mut().map(|n| n.stop(Duration::from_secs(20)))).await;
    }
}

/// Runs the users Job's own script (from `k8s/base`) against the SurrealDB server at `url`:
/// each service's database and its user, as the cluster gets them. Returns what it printed.
pub async fn run_users_job(manifests: &Manifests, url: &str, secret: impl Fn(&str, &str) -> Option<String>) -> anyhow::Result<String> {
    let (script, mut env) = manifests.users_job(secret)?;
    env.insert("SURREALDB_URL".into(), url.to_string());
    let output = tokio::process::Command::new("/bin/sh")
        .args(["-ec", &script])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(&env)
        .output()
        .await
        .context("running the users Job's script (needs curl)")?;
    anyhow::ensure!(output.status.success(), "the users Job failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

/// Ready as its readiness probe says, and (for a service with events) connected to NATS with its
/// streams set up.
pub async fn wait_ready(replica: &mut Proc, within: Duration) -> anyhow::Result<()> {
    replica
        .wait_http("/readyz", within, |body| {
            let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            body["nats"].as_object().is_none_or(|states| states.values().all(|s| s == "connected"))
        })
        .await
}

/// Debian's nginx is in /usr/sbin, which a user's PATH may lack.
fn nginx_binary() -> PathBuf {
    let sbin = Path::new("/usr/sbin/nginx");
    if sbin.exists() {
        sbin.to_path_buf()
    } else {
        PathBuf::from("nginx")
    }
}
