//! The NATS servers of the manifests admit into their cluster only servers that know the route
//! password (Secret nats-route): a rogue nats-server that opens routes to them without it is
//! refused, so what an anonymous client publishes there (a forged `payment.created`) reaches no
//! subscriber of the real cluster, while an authorized user's message crosses the routes.
//!
//! The servers run as `scripts/cluster` runs them (`topology::start_nats`: the ConfigMap's files
//! as they are, the StatefulSet's environment); nats-server must be on PATH (`scripts/setup`
//! installs it in the venv `scripts/env.sh` puts there).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
use std::path::Path;
use std::time::{Duration, Instant};

use cluster::manifests::Manifests;
use cluster::process::{free_port, Proc};
use cluster::topology::{start_nats, NATS_ROUTE_USER};
use futures_util::StreamExt;

/// A value for every Secret the NATS StatefulSet reads: letters and digits, one per Secret.
fn secret(name: &str, _key: &str) -> Option<String> {
    Some(format!("{}x7", name.replace('-', "")))
}

async fn connect(url: &str, user: &str) -> async_nats::Client {
    let password = secret(&format!("nats-{user}"), "password").unwrap();
    async_nats::ConnectOptions::new()
        .user_and_password(user.to_string(), password)
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .unwrap_or_else(|error| panic!("{user} connects to {url}: {error}"))
}

/// The next message within `within`, if any.
async fn next(subscriber: &mut async_nats::Subscriber, within: Duration) -> Option<async_nats::Message> {
    tokio::time::timeout(within, subscriber.next()).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_route_password_cannot_join_the_cluster() {
    let manifests = Manifests::load().expect("k8s/base renders");
    let conf = manifests.nats_config().unwrap();
    assert!(
        conf.contains(&format!("user: {NATS_ROUTE_USER}")) && conf.contains("password: $NATS_ROUTE_PASSWORD"),
        "nats.conf's cluster block has the route authorization:\n{conf}"
    );
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut nats = start_nats(&manifests, dir.path(), &logs, secret).await.expect("the manifests' NATS servers start");
    assert!(nats.servers.len() >= 2, "a cluster of {} servers", nats.servers.len());

    // The operator's subscriber on the first server.
    let admin = connect(&nats.client_urls[0], "admin").await;
    let mut subscriber = admin.subscribe("payment.created").await.unwrap();
    admin.flush().await.unwrap();

    // Control: payments' own message, published on another server, crosses the routes (once the
    // subscription's interest has reached that server).
    let payments = connect(&nats.client_urls[1], "payments").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut arrived = false;
    while !arrived && Instant::now() < deadline {
        payments.publish("payment.created", "real".into()).await.unwrap();
        payments.flush().await.unwrap();
        arrived = next(&mut subscriber, Duration::from_millis(250)).await.is_some_and(|m| m.payload == "real");
    }
    assert!(arrived, "a message of the payments user on nats-1 reached the subscriber on nats-0: the routes work");

    // The rogue: no credentials, no JetStream, routes to every real server.
    let (client, monitor, route_port) = (free_port().unwrap(), free_port().unwrap(), free_port().unwrap());
    let routes = nats.cluster_ports.iter().map(|p| format!("nats://127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
    let args: Vec<String> = vec![
        "--addr".into(),
        "127.0.0.1".into(),
        "--port".into(),
        client.to_string(),
        "--http_port".into(),
        monitor.to_string(),
        "--cluster".into(),
        format!("nats://127.0.0.1:{route_port}"),
        "--cluster_name".into(),
        "ticketing".into(),
        "--routes".into(),
        routes,
    ];
    let mut rogue = Proc::new("rogue", Path::new("nats-server"), args, Vec::new(), &logs).with_port(monitor);
    rogue.spawn().unwrap();
    rogue.wait_http("/varz", Duration::from_secs(10), |_| true).await.unwrap();
    let anonymous = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(format!("nats://127.0.0.1:{client}"))
        .await
        .expect("an anonymous client connects to the rogue");

    // A forged payment, again and again for 3 seconds: the rogue tries its routes meanwhile.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        anonymous.publish("payment.created", "forged".into()).await.unwrap();
        anonymous.flush().await.unwrap();
        if let Some(message) = next(&mut subscriber, Duration::from_millis(100)).await {
            assert_ne!(message.payload, "forged", "a rogue server's message reached the cluster");
        }
    }
    while let Some(message) = next(&mut subscriber, Duration::from_millis(500)).await {
        assert_ne!(message.payload, "forged", "a rogue server's message reached the cluster");
    }
    let routez: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{monitor}/routez")).await.unwrap().json().await.unwrap();
    assert_eq!(routez["num_routes"], 0, "the rogue holds no route: {routez}");

    rogue.stop(Duration::from_secs(5)).await;
    for server in &mut nats.servers {
        server.stop(Duration::from_secs(10)).await;
    }
}
