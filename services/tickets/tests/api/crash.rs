//! A process killed for real after the commit and before the publish publishes the event when
//! it starts again: the outbox record survives on disk.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use test_support::{eventually, free_port, token, EventSpy, NatsServer};

fn start(data: &std::path::Path, port: u16, nats: &NatsServer) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tickets"))
        .env("PORT", port.to_string())
        .env("DATABASE_URL", format!("surrealkv://{}", data.join("tickets").display()))
        .env("NATS_URL", nats.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the tickets binary starts")
}

async fn healthy(client: &reqwest::Client, port: u16) -> bool {
    eventually(Duration::from_secs(20), || async {
        client.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_ok_and(|r| r.status().is_success())
    })
    .await
}

#[tokio::test]
async fn an_event_committed_before_a_kill_is_published_after_restart() {
    let mut nats = NatsServer::start();
    let data = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let port = free_port();

    // NATS is down, so the relay cannot publish: the event can only be in the outbox.
    nats.stop();
    let mut first = start(data.path(), port, &nats);
    assert!(healthy(&client, port).await, "first process never answered");
    let response = client
        .post(format!("http://127.0.0.1:{port}/api/tickets"))
        .bearer_auth(token("seller"))
        .json(&json!({ "title": "Survives a crash", "price": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    first.kill().expect("kill -9");
    first.wait().unwrap();

    nats.restart();
    let mut spy = EventSpy::new(&nats, "ticket.created").await;
    let mut second = start(data.path(), port, &nats);
    let event = spy.expect("ticket.created").await;
    assert_eq!(event["id"], id.as_str());
    assert!(spy.next(Duration::from_millis(500)).await.is_none(), "published once");
    second.kill().ok();
    second.wait().ok();
}

/// SIGTERM (what Kubernetes sends): in-flight work finishes, the consumer stops, the committed
/// outbox is published, and the process exits cleanly well within the 30 s grace period.
#[tokio::test]
async fn sigterm_publishes_the_outbox_and_exits_cleanly() {
    let nats = NatsServer::start();
    let data = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let port = free_port();
    let mut spy = EventSpy::new(&nats, "ticket.created").await;
    let mut process = start(data.path(), port, &nats);
    test_support::wait_ready(&client, &format!("http://127.0.0.1:{port}")).await;
    let response = client
        .post(format!("http://127.0.0.1:{port}/api/tickets"))
        .bearer_auth(token("seller"))
        .json(&json!({ "title": "Published before exit", "price": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    let stopping = std::time::Instant::now();
    let signalled = Command::new("kill").args(["-TERM", &process.id().to_string()]).status().expect("kill runs");
    assert!(signalled.success());
    let status = loop {
        if let Some(status) = process.try_wait().unwrap() {
            break status;
        }
        assert!(stopping.elapsed() < Duration::from_secs(20), "still running 20 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exited with {status}");
    assert_eq!(spy.expect("ticket.created").await["id"], id.as_str());
}
