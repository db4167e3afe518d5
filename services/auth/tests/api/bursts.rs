//! Bursts of sign-ins and sign-ups: limits hold however many arrive at once, and password
//! hashing (19 MiB each) never runs unbounded.
use std::process::{Child, Command, Stdio};

use futures_util::future::join_all;
use serde_json::json;
use test_support::{free_port, general, wait_ready};

use crate::helpers::{errors, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn concurrent_failed_sign_ins_cannot_slip_past_the_address_limit() {
    let app = spawn_app().await;
    app.signup("ann@example.com", PASSWORD).await;
    // Distinct emails, so only the address's limit of 100 failures applies.
    let emails: Vec<String> = (0..150).map(|i| format!("nobody{i}@example.com")).collect();
    let tries = emails.iter().map(|email| app.signin(email, "wrong password"));
    let statuses: Vec<u16> = join_all(tries).await.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| [400, 429, 503].contains(s)), "{statuses:?}");
    let failed = statuses.iter().filter(|&&s| s == 400).count();
    assert!(failed <= 100, "{failed} failures counted, the limit is 100");
    // Busy answers were not counted: the limit is reached after exactly 100 failures.
    let mut more = 0;
    while app.signin(&format!("late{more}@example.com"), "wrong password").await.status().as_u16() == 400 {
        more += 1;
        assert!(failed + more <= 100, "more than 100 failures allowed");
    }
    assert_eq!(failed + more, 100);
    let response = app.signin("ann@example.com", PASSWORD).await;
    assert_eq!(errors(response, 429).await, vec![general("Too many requests")]);
}

#[tokio::test]
async fn sign_ups_are_limited_per_address_but_sign_ins_are_not_touched() {
    let app = spawn_app().await;
    for i in 0..30 {
        assert_eq!(app.signup(&format!("user{i}@example.com"), PASSWORD).await.status().as_u16(), 201, "sign-up {i}");
    }
    let response = app.signup("one-more@example.com", PASSWORD).await;
    assert_eq!(errors(response, 429).await, vec![general("Too many requests")]);
    assert_eq!(app.signin("user0@example.com", PASSWORD).await.status().as_u16(), 200);
}

struct Auth(Child);

impl Drop for Auth {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The highest resident memory of a process so far, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process's status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc status");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("VmHWM in kB") * 1024
}

#[tokio::test]
async fn two_hundred_sign_ins_at_once_keep_auth_within_its_pod_memory() {
    let port = free_port();
    let nats = test_support::NatsServer::start();
    let auth = Auth(
        Command::new(env!("CARGO_BIN_EXE_auth"))
            .env("PORT", port.to_string())
            .env("DATABASE_URL", "mem://")
            .env("NATS_URL", test_support::Nats::url(&nats))
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the auth binary starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let signup = client.post(format!("{base}/api/users/signup")).json(&json!({ "email": "ann@example.com", "password": PASSWORD }));
    assert_eq!(signup.send().await.expect("sign-up sent").status().as_u16(), 201);
    let before = peak_rss(auth.0.id());

    let tries = (0..200).map(|i| {
        let (email, password) =
            if i % 2 == 0 { ("ann@example.com".to_string(), PASSWORD) } else { (format!("nobody{i}@example.com"), "wrong password") };
        client.post(format!("{base}/api/users/signin")).json(&json!({ "email": email, "password": password })).send()
    });
    let statuses: Vec<u16> = join_all(tries).await.into_iter().map(|r| r.expect("an answer").status().as_u16()).collect();
    assert!(statuses.iter().all(|s| [200, 400, 429, 503].contains(s)), "{statuses:?}");
    assert!(statuses.contains(&200), "some sign-ins got through: {statuses:?}");

    // An auth pod is limited to 256 MiB; 200 unbounded hashes would take 3.8 GB.
    let peak = peak_rss(auth.0.id());
    let limit = 256 * 1024 * 1024;
    eprintln!("auth's peak RSS: {} MiB before the burst, {} MiB after", before >> 20, peak >> 20);
    assert!(peak < limit, "peak RSS {} MiB (before the burst {} MiB)", peak >> 20, before >> 20);
}

#[tokio::test]
async fn a_full_hashing_queue_answers_busy_with_retry_after() {
    let app = spawn_app_with(&[("SIGNUPS_PER_ADDRESS_PER_MINUTE", "100000")]).await;
    // More sign-ups at once than hashes may run and wait on any machine this runs on.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let count = cores * 9 + 20;
    let tries = (0..count).map(|i| app.signup_request(&format!("burst{i}@example.com")));
    let responses: Vec<reqwest::Response> = join_all(tries).await.into_iter().map(|r| r.expect("an answer")).collect();
    let busy: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status().as_u16() == 503).collect();
    assert!(!busy.is_empty(), "a queue beyond {} waiting hashes answers busy", cores * 8);
    assert!(busy.iter().all(|r| r.headers().get("retry-after").is_some_and(|v| v == "1")));
    assert!(responses.iter().all(|r| [201, 503].contains(&r.status().as_u16())));
}
