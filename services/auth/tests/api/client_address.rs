//! The address auth limits by is the client's: derived at the edge from `TRUSTED_PROXIES` (the
//! rightmost hop our proxies wrote, never one the client wrote), or the one the web server
//! names with proof (`X-Client-Address`, HMAC with `INTERNAL_SECRET`), never one without it.
use std::net::IpAddr;

use serde_json::json;
use shared::http::{InternalSecret, CLIENT_ADDRESS, CLIENT_ADDRESS_PROOF};

use test_support::{errors, general};

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};

/// What the web server and auth share in these tests.
const SECRET: &str = "an internal secret for the client address tests";

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

impl TestApp {
    /// A sign-up with extra headers; its status.
    async fn signup_with(&self, email: &str, headers: &[(&str, String)]) -> u16 {
        let mut request =
            self.client.post(format!("{}/api/users/signup", self.address)).json(&json!({ "email": email, "password": PASSWORD }));
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        request.send().await.expect("request sent").status().as_u16()
    }

    /// A sign-in with extra headers.
    async fn signin_with(&self, email: &str, password: &str, headers: &[(&str, String)]) -> reqwest::Response {
        let mut request =
            self.client.post(format!("{}/api/users/signin", self.address)).json(&json!({ "email": email, "password": password }));
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        request.send().await.expect("request sent")
    }
}

/// The headers the web server sends for its visitor at `address`, signed with `secret`.
fn from_the_web_server(secret: &str, address: &str) -> Vec<(&'static str, String)> {
    InternalSecret::new(secret.as_bytes()).client_address_headers(ip(address))
}

#[tokio::test]
async fn behind_the_ingress_a_forged_leftmost_hop_does_not_change_the_address() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "1"), ("SIGNUPS_PER_ADDRESS_PER_MINUTE", "2")]).await;
    // The test is the ingress (a trusted proxy on loopback): it appends the client's address.
    // The client forges a different leftmost hop every time.
    let from = |forged: usize, client: &str| vec![("x-forwarded-for", format!("10.9.8.{forged}, {client}"))];
    assert_eq!(app.signup_with("one@example.com", &from(1, "198.51.100.7")).await, 201);
    assert_eq!(app.signup_with("two@example.com", &from(2, "198.51.100.7")).await, 201);
    assert_eq!(app.signup_with("three@example.com", &from(3, "198.51.100.7")).await, 429, "the forged hops are one client");
    // Another client behind the same ingress has a window of its own.
    assert_eq!(app.signup_with("four@example.com", &from(3, "203.0.113.9")).await, 201);
}

#[tokio::test]
async fn a_client_address_without_valid_proof_is_ignored() {
    let app = spawn_app_with(&[("INTERNAL_SECRET", SECRET), ("SIGNUPS_PER_ADDRESS_PER_MINUTE", "2")]).await;
    let forged = |n: usize| {
        let mut headers = from_the_web_server("not the secret auth and the web server share!", &format!("192.0.2.{n}"));
        // A second kind of forgery: a proof with the right shape and no right to it.
        if n.is_multiple_of(2) {
            headers[1].1 = format!("{}.{}", headers[1].1.split('.').next().unwrap_or_default(), "00".repeat(32));
        }
        headers
    };
    let bare = |n: usize| vec![(CLIENT_ADDRESS, format!("192.0.2.{n}"))];
    // All from this test's own address (the peer), whatever the headers say.
    assert_eq!(app.signup_with("one@example.com", &forged(1)).await, 201);
    assert_eq!(app.signup_with("two@example.com", &bare(2)).await, 201);
    assert_eq!(app.signup_with("three@example.com", &forged(3)).await, 429, "the forged addresses were ignored");
    assert_eq!(app.signup_with("four@example.com", &forged(4)).await, 429);
    assert_eq!(app.signup_with("five@example.com", &bare(5)).await, 429);
    // The same header with the shared secret's proof is believed: a fresh address, a fresh window.
    assert_eq!(app.signup_with("six@example.com", &from_the_web_server(SECRET, "192.0.2.6")).await, 201);
    // A stale proof (an hour old) is not.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let stale = InternalSecret::new(SECRET.as_bytes()).client_address_headers_at(ip("192.0.2.7"), now - 3600);
    assert_eq!(stale[0], (CLIENT_ADDRESS, "192.0.2.7".to_string()));
    assert_eq!(stale[1].0, CLIENT_ADDRESS_PROOF);
    assert_eq!(app.signup_with("seven@example.com", &stale).await, 429);
}

#[tokio::test]
async fn web_sign_ins_from_two_client_addresses_get_separate_windows() {
    // Both come from the web server (one TCP peer, the web server's own address), each naming
    // its visitor with proof, as its server functions do.
    let app = spawn_app_with(&[("INTERNAL_SECRET", SECRET), ("TRUSTED_PROXIES", "1")]).await;
    assert_eq!(app.signup("ann@example.com", PASSWORD).await.status().as_u16(), 201);
    let attacker = from_the_web_server(SECRET, "198.51.100.66");
    let visitor = from_the_web_server(SECRET, "203.0.113.9");

    // The attacker uses up its address's 100 failures (distinct emails: the per-email limit of 10
    // does not apply).
    for i in 0..100 {
        let response = app.signin_with(&format!("nobody{i}@example.com"), "wrong password", &attacker).await;
        assert_eq!(response.status().as_u16(), 400, "failure {i} is counted, not refused");
    }
    let refused = app.signin_with("ann@example.com", PASSWORD, &attacker).await;
    assert_eq!(errors(refused, 429).await, vec![general("Too many requests")]);

    // Another visitor signing in through the same web server is not locked out.
    let response = app.signin_with("ann@example.com", PASSWORD, &visitor).await;
    assert_eq!(response.status().as_u16(), 200, "a separate window for another client address");
    // Nor is the web server's own address (a request without a signed address).
    assert_eq!(app.signin("ann@example.com", PASSWORD).await.status().as_u16(), 200);
}
