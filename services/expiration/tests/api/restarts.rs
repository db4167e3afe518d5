//! The schedule survives: the expiration binary killed with `kill -9` mid-way, and NATS itself
//! killed and restarted, lose no expiry and fire none twice.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use test_support::{all_acked, eventually, NatsServer};

use crate::helpers::*;

fn start(nats: &NatsServer) -> Child {
    let port = test_support::free_port();
    Command::new(env!("CARGO_BIN_EXE_expiration"))
        .env("PORT", port.to_string())
        .env("NATS_URL", nats.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the expiration binary starts")
}

#[tokio::test]
async fn the_service_killed_with_pending_expiries_fires_them_all_once_after_restart() {
    let nats = NatsServer::start();
    // The stream exists before the orders are published (the service creates it).
    let mut service = start(&nats);
    assert!(eventually(Duration::from_secs(20), || async { test_support::consumer_exists(&nats, "expiration-service").await }).await);
    for i in 0..100 {
        order_created(&nats, &format!("o{i}"), in_ms(2_500 + i * 10)).await;
    }
    // Killed while it works through them: some scheduled and acked, some not yet.
    service.kill().expect("killed");
    service.wait().expect("reaped");
    let mut service = start(&nats);
    assert!(eventually(Duration::from_secs(20), || all_acked(&nats, "expiration-service")).await);
    let fired = wait_fired(&nats, 100).await;
    let _ = service.kill();
    let _ = service.wait();
    assert_eq!(fired.len(), 100, "every expiry fired");
    assert!(fired.values().all(|f| f.len() == 1), "none fired twice");
}

#[tokio::test]
async fn a_nats_restart_loses_no_pending_expiry() {
    let mut nats = NatsServer::start();
    spawn_expiration(&nats).await;
    for i in 0..20 {
        order_created(&nats, &format!("o{i}"), in_ms(2_500)).await;
    }
    assert!(eventually(Duration::from_secs(10), || all_acked(&nats, "expiration-service")).await);
    nats.restart();
    let fired = wait_fired(&nats, 20).await;
    assert_eq!(fired.len(), 20, "every expiry fired after the restart");
    assert!(fired.values().all(|f| f.len() == 1));
}
