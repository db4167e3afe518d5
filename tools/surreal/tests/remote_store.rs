//! The services' store over WebSocket against SurrealDB's own server (this package's `surreal`
//! binary, SurrealKV), with database users made by the Kubernetes users Job's script: what every
//! service does in the distributed topology.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shared::config::DatabaseSettings;
use shared::store::{self, classify, ErrorKind, TxError};

/// A SurrealDB server on a free port with a fresh SurrealKV folder; killed when dropped.
struct Server {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    /// Each service's database user and password, as the users Job made them.
    users: HashMap<String, String>,
    /// The certificate and key it serves TLS with, once [`Server::serve_tls`] is called.
    tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

const ROOT_PASS: &str = "root-password-for-tests";

impl Server {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port");
        let mut server = Self { child: None, port, dir: tempfile::tempdir().expect("a data folder"), users: HashMap::new(), tls: None };
        server.spawn().await;
        let manifests = cluster::manifests::Manifests::load().expect("k8s/base renders");
        let users: HashMap<String, String> =
            ["auth", "tickets", "orders", "payments"].iter().map(|s| (s.to_string(), format!("{s}-password"))).collect();
        let secret = |name: &str, key: &str| -> Option<String> {
            match (name, key) {
                ("surrealdb-root", "username") => Some("root".into()),
                ("surrealdb-root", "password") => Some(ROOT_PASS.into()),
                (name, "username") => name.strip_prefix("db-").map(str::to_string),
                (name, "password") => users.get(name.strip_prefix("db-")?).cloned(),
                _ => None,
            }
        };
        cluster::topology::run_users_job(&manifests, &format!("http://127.0.0.1:{port}"), secret).await.expect("the users Job runs");
        server.users = users;
        server
    }

    async fn spawn(&mut self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_surreal"));
        command.args(["start", "--user", "root", "--pass", ROOT_PASS, "--bind", &format!("127.0.0.1:{}", self.port), "--log", "warn"]);
        if let Some((certificate, key)) = &self.tls {
            command.arg("--web-crt").arg(certificate).arg("--web-key").arg(key);
        }
        let child = command
            .arg(format!("surrealkv://{}/ticketing.db", self.dir.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the surreal binary starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        let health = format!("http://127.0.0.1:{}/health", self.port);
        loop {
            // Over TLS (which the tests' HTTP client does not speak) an open port is the sign.
            let up = match self.tls {
                None => reqwest::get(&health).await.is_ok_and(|r| r.status().is_success()),
                Some(_) => tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok(),
            };
            if up {
                break;
            }
            assert!(Instant::now() < deadline, "the SurrealDB server did not answer");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Restarts the server serving HTTPS and wss:// only, with a certificate for 127.0.0.1 signed
    /// by a CA of its own; returns the CA's certificate (PEM file), and another CA's.
    async fn serve_tls(&mut self) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = self.dir.path().to_path_buf();
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).expect("written");
            path
        };
        let (ca, issuer) = certificate_authority("Ticketing test CA");
        let (other_ca, _) = certificate_authority("Someone else's CA");
        let key = rcgen::KeyPair::generate().expect("a key");
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("a name");
        let certificate = params.signed_by(&key, &issuer).expect("signed by the CA");
        self.tls = Some((write("tls.crt", certificate.pem()), write("tls.key", key.serialize_pem())));
        let trusted = (write("ca.crt", ca), write("other-ca.crt", other_ca));
        self.restart().await;
        trusted
    }

    /// What a service's configuration says when it runs against this server.
    fn settings(&self, database: &str, user: &str) -> DatabaseSettings {
        DatabaseSettings {
            url: format!("ws://127.0.0.1:{}", self.port),
            namespace: "ticketing".into(),
            database: database.into(),
            credentials: Some((user.into(), self.users[user].clone())),
            ca_file: None,
        }
    }

    async fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: a plain kill(2) on our own child, not yet reaped: SIGTERM, as a pod's restart.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let _ = child.wait();
        }
        self.spawn().await;
    }
}

/// A self-signed certificate authority: its certificate (PEM), and what signs with it.
fn certificate_authority(name: &str) -> (String, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("no names");
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
    let key = rcgen::KeyPair::generate().expect("a key");
    let certificate = params.self_signed(&key).expect("self-signed");
    (certificate.pem(), rcgen::Issuer::new(params, key))
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

const SCHEMA: &str = "
DEFINE TABLE IF NOT EXISTS payment SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS stripe_id ON payment TYPE string;
DEFINE INDEX IF NOT EXISTS payment_stripe ON payment FIELDS stripe_id UNIQUE;
DEFINE TABLE IF NOT EXISTS counter SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS n ON counter TYPE int;
";

#[tokio::test]
async fn every_kind_of_failure_is_told_apart_over_websocket() {
    let server = Server::start().await;
    let db = store::connect(&server.settings("payments", "payments"), SCHEMA).await.expect("payments connects as its own user");

    let thrown = store::commit(db.query("BEGIN TRANSACTION; THROW 'STALE'; COMMIT TRANSACTION;")).await;
    assert!(matches!(&thrown, Err(TxError::Refused(code)) if code.contains("STALE")), "a THROW: {thrown:?}");

    db.query("CREATE payment:a SET stripe_id = 'pi_1'").await.unwrap().check().unwrap();
    let record = store::commit(db.query("BEGIN TRANSACTION; CREATE payment:a SET stripe_id = 'pi_2'; COMMIT TRANSACTION;")).await;
    assert!(matches!(&record, Err(TxError::Exists(taken)) if taken.is("payment")), "an existing record: {record:?}");
    let index = store::commit(db.query("BEGIN TRANSACTION; CREATE payment:b SET stripe_id = 'pi_1'; COMMIT TRANSACTION;")).await;
    assert!(matches!(&index, Err(TxError::Exists(taken)) if taken.is("payment_stripe")), "a unique index entry: {index:?}");

    // Two transactions write the same record; the one that commits second conflicts.
    db.query("CREATE counter:one SET n = 0").await.unwrap().check().unwrap();
    let first = (*db).clone().begin().await.expect("a transaction");
    let second = (*db).clone().begin().await.expect("another");
    first.query("UPDATE counter:one SET n += 1").await.unwrap().check().unwrap();
    second.query("UPDATE counter:one SET n += 10").await.unwrap().check().unwrap();
    first.commit().await.expect("the first commits");
    let error = match second.commit().await {
        Ok(_) => panic!("the second transaction committed over the first"),
        Err(error) => error,
    };
    assert_eq!(classify(&error), ErrorKind::Conflict, "{error:?}");
}

#[tokio::test]
async fn a_service_talks_tls_to_a_server_its_ca_vouches_for_and_to_no_other() {
    let mut server = Server::start().await;
    let (ca, other_ca) = server.serve_tls().await;
    let settings = |ca_file: &std::path::Path| DatabaseSettings {
        url: format!("wss://127.0.0.1:{}", server.port),
        ca_file: Some(ca_file.to_path_buf()),
        ..server.settings("payments", "payments")
    };
    let connect = |settings: DatabaseSettings| async move {
        tokio::time::timeout(Duration::from_secs(30), store::connect(&settings, SCHEMA)).await.expect("an answer within 30 s")
    };
    let db = connect(settings(&ca)).await.expect("payments connects over TLS, trusting the cluster's CA");
    db.query("CREATE payment:tls SET stripe_id = 'pi_tls'").await.unwrap().check().unwrap();
    let found: Option<String> = db.query("SELECT VALUE stripe_id FROM ONLY payment:tls").await.unwrap().take(0).unwrap();
    assert_eq!(found.as_deref(), Some("pi_tls"));

    // A server whose certificate another CA signed (a server in the middle) is refused.
    let refused = connect(settings(&other_ca)).await.expect_err("a certificate its CA did not sign is refused");
    assert!(format!("{refused:#}").to_lowercase().contains("certificate"), "{refused:#}");
    // And the same server in plain WebSocket does not answer at all.
    let plain = DatabaseSettings { url: format!("ws://127.0.0.1:{}", server.port), ..server.settings("payments", "payments") };
    assert!(connect(plain).await.is_err(), "a TLS-only server refuses plaintext");
}

#[tokio::test]
async fn transactions_racing_for_one_record_conflict_and_succeed_on_retry() {
    let server = Server::start().await;
    let db = store::connect(&server.settings("orders", "orders"), SCHEMA).await.expect("orders connects");
    db.query("CREATE counter:race SET n = 0").await.unwrap().check().unwrap();
    let attempts = futures_util::future::join_all((0..16).map(|_| {
        let db = db.clone();
        async move {
            for attempt in 1.. {
                let query = db.query(
                    "BEGIN TRANSACTION; LET $n = (SELECT VALUE n FROM ONLY counter:race); UPDATE counter:race SET n = $n + 1; COMMIT TRANSACTION;",
                );
                match store::commit(query).await {
                    Ok(_) => return attempt,
                    Err(TxError::Conflict) => continue,
                    Err(other) => panic!("a lost race must read as a conflict, not {other:?}"),
                }
            }
            unreachable!()
        }
    }))
    .await;
    let n: Option<i64> = db.query("SELECT VALUE n FROM ONLY counter:race").await.unwrap().take(0).unwrap();
    assert_eq!(n, Some(16), "every increment applied once (attempts: {attempts:?})");
}

#[tokio::test]
async fn a_service_signs_in_once_however_often_its_handle_is_cloned() {
    // Each request clones the service's handle. A clone that opened a session of its own would
    // sign in again (the server verifying a password hash, slow on purpose) before every query: change
    // the password after connecting, and such a clone could not even sign in.
    let server = Server::start().await;
    let db = store::connect(&server.settings("tickets", "tickets"), SCHEMA).await.expect("tickets connects");
    let root = format!("http://127.0.0.1:{}/sql", server.port);
    let rotate = "USE NS ticketing; USE DB tickets; DEFINE USER OVERWRITE tickets ON DATABASE PASSWORD 'rotated' ROLES EDITOR;";
    let rotated = reqwest::Client::new()
        .post(&root)
        .basic_auth("root", Some(ROOT_PASS))
        .header("accept", "application/json")
        .body(rotate)
        .send()
        .await;
    assert!(rotated.is_ok_and(|r| r.status().is_success()), "the password was changed");
    for _ in 0..5 {
        let handle = db.clone();
        let answer: Option<i64> = handle.query("RETURN 1").await.expect("a clone queries on the shared session").take(0).unwrap();
        assert_eq!(answer, Some(1));
    }
}

#[tokio::test]
async fn each_service_reaches_only_its_own_database() {
    let server = Server::start().await;
    let mut settings = server.settings("orders", "tickets");
    settings.credentials = Some(("tickets".into(), server.users["tickets"].clone()));
    assert!(store::connect(&settings, "RETURN 1").await.is_err(), "tickets' user signed in to the orders database");
}

#[tokio::test]
async fn a_query_waits_through_a_server_restart_and_finds_its_data() {
    let mut server = Server::start().await;
    let db = store::connect(&server.settings("auth", "auth"), SCHEMA).await.expect("auth connects");
    db.query("CREATE counter:kept SET n = 7").await.unwrap().check().unwrap();
    server.restart().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let n = loop {
        match db.query("SELECT VALUE n FROM ONLY counter:kept").await.and_then(|mut r| r.take::<Option<i64>>(0)) {
            Ok(n) => break n,
            Err(error) => {
                assert!(Instant::now() < deadline, "no answer 30 s after the restart: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(n, Some(7));
}

#[tokio::test]
async fn replicas_starting_together_all_apply_their_schema() {
    // Every replica of a service applies the schema at start; started together (a rollout, a
    // restart of the whole deployment), they write the same definitions at the same moment.
    let server = Server::start().await;
    let settings = server.settings("tickets", "tickets");
    let schema = format!(
        "{SCHEMA}{}",
        (0..20).map(|i| format!("DEFINE FIELD IF NOT EXISTS f{i} ON counter TYPE option<int>;\n")).collect::<String>()
    );
    let started = futures_util::future::join_all((0..8).map(|_| store::connect(&settings, &schema))).await;
    for result in started {
        assert!(result.is_ok(), "a replica failed to start: {:?}", result.err());
    }
}

/// Two replicas of the auth service on one database, as the distributed topology runs them.
async fn auth_replicas(server: &Server, extra: &[(&str, &str)]) -> Vec<String> {
    let mut bases = Vec::new();
    for _ in 0..2 {
        let mut vars: HashMap<String, String> = [
            ("PORT", "0".to_string()),
            ("DATABASE_URL", format!("ws://127.0.0.1:{}", server.port)),
            ("DATABASE_USER", "auth".to_string()),
            ("DATABASE_PASS", server.users["auth"].clone()),
            ("TRUSTED_PROXIES", "1".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = auth::AuthConfig::read(shared::config::EnvReader::from_map(vars)).expect("auth's configuration");
        let app = auth::application(config).await.expect("an auth replica starts");
        bases.push(format!("http://127.0.0.1:{}", app.port()));
        tokio::spawn(app.run_until_stopped());
    }
    bases
}

async fn post(base: &str, path: &str, from: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response =
        reqwest::Client::new().post(format!("{base}{path}")).header("x-forwarded-for", from).json(&body).send().await.expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Through the distributed topology, eight sign-ups with one email once answered 201, six 400s
/// and a 500: a transaction conflict on the server was taken for a failure.
#[tokio::test]
async fn concurrent_sign_ups_with_one_email_on_two_replicas_are_one_201_and_the_rest_email_in_use() {
    let server = Server::start().await;
    let replicas = auth_replicas(&server, &[]).await;
    let body = serde_json::json!({ "email": "race@example.com", "password": "correct horse battery" });
    let answers = futures_util::future::join_all((0..8).map(|i| {
        let (base, body) = (replicas[i % 2].clone(), body.clone());
        async move { post(&base, "/api/users/signup", &format!("198.51.100.{i}"), body).await }
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(body["errors"][0]["code"], "email_in_use", "{body}");
    }
}

/// Each replica used to count failures in its own memory: behind two replicas a guesser had
/// twenty tries, not ten.
#[tokio::test]
async fn failed_sign_ins_are_counted_across_replicas() {
    let server = Server::start().await;
    let replicas = auth_replicas(&server, &[]).await;
    let (status, _) = post(
        &replicas[0],
        "/api/users/signup",
        "198.51.100.1",
        serde_json::json!({ "email": "ann@example.com", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(status, 201);
    let guess = serde_json::json!({ "email": "ann@example.com", "password": "wrong password" });
    for attempt in 0..10 {
        let (status, body) = post(&replicas[attempt % 2], "/api/users/signin", "203.0.113.66", guess.clone()).await;
        assert_eq!(status, 400, "guess {attempt}: {body}");
    }
    let right = serde_json::json!({ "email": "ann@example.com", "password": "correct horse battery" });
    for replica in &replicas {
        let (status, body) = post(replica, "/api/users/signin", "203.0.113.66", right.clone()).await;
        assert_eq!(status, 429, "{body}");
    }
    let (status, _) = post(&replicas[1], "/api/users/signin", "198.51.100.1", right).await;
    assert_eq!(status, 200, "the owner at another address signs in");
}

/// Two replicas of orders placing orders for one buyer at once: each reads the buyer's count
/// of holds, and without a conflict between them both would pass it.
#[tokio::test]
async fn the_cap_on_a_buyers_holds_holds_across_two_replicas() {
    let server = Server::start().await;
    let settings = server.settings("orders", "orders");
    let replicas = [
        store::connect(&settings, &orders::store::schema()).await.expect("one replica connects"),
        store::connect(&settings, &orders::store::schema()).await.expect("another replica connects"),
    ];
    for i in 0..8 {
        let replica = orders::store::TicketReplica {
            id: format!("t{i}").into(),
            title: format!("ticket {i}"),
            price: 2000,
            user_id: "seller".into(),
            version: contract::Version::FIRST,
            deleted: false,
        };
        assert!(orders::store::insert_ticket(&replicas[0], &replica).await.unwrap());
    }
    let placed = futures_util::future::join_all((0..8).map(|i| {
        let db = replicas[i % 2].clone();
        async move {
            let ticket = orders::store::get_ticket(&db, &format!("t{i}").into()).await.unwrap().unwrap();
            let (id, hoarder) = (contract::OrderId::from(format!("o{i}")), contract::UserId::from("hoarder"));
            let new =
                orders::store::NewOrder { id: &id, user_id: &hoarder, max_holds: 4, ticket: &ticket, expires_at: "2099-01-01T00:00:00Z" };
            loop {
                let event = shared::events::outbox::OutboxRecord::new(&shared::events::OrderCreated {
                    id: id.clone(),
                    version: contract::Version::FIRST,
                    status: shared::events::OrderStatus::Created,
                    user_id: "hoarder".into(),
                    expires_at: time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(900),
                    ticket: shared::events::OrderTicket { id: ticket.id.clone(), price: contract::Cents(2000), version: ticket.version },
                })
                .unwrap();
                match orders::store::place(&db, &new, event).await.expect("a placement decides") {
                    orders::store::Placed::Stale => continue,
                    outcome => return outcome,
                }
            }
        }
    }))
    .await;
    let created = placed.iter().filter(|p| **p == orders::store::Placed::Created).count();
    assert_eq!(created, 4, "{placed:?}");
    assert!(placed.iter().all(|p| matches!(p, orders::store::Placed::Created | orders::store::Placed::TooManyHolds)), "{placed:?}");
}
