//! Only auth signs sessions, and every other service verifies them with the public key alone:
//! what auth issues works at tickets, a sign-out at auth reaches tickets through NATS, and a
//! service holding another key refuses the session.
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::session::SigningKey;
use test_support::{cookie_pair, errors, general, session_set_cookie, token, NatsServer, Service};

use crate::helpers::{spawn_auth, spawn_tickets};

const PASSWORD: &str = "correct horse battery";

/// A real key pair's SESSION_KEY_ID, SESSION_SIGNING_KEY and SESSION_PUBLIC_KEYS.
fn key_vars(kid: &str, seed: u8) -> (String, String, String) {
    let key = SigningKey::from_seed(kid, [seed; 32]).expect("a valid kid");
    (key.kid().to_string(), key.to_base64(), key.verifying_keys().to_string())
}

/// Auth signing with the key pair `kid`/`seed`, and a cookie for a new user's session.
async fn auth_with_key(nats: &NatsServer, kid: &str, seed: &str, public: &str) -> (Service, reqwest::Response) {
    let auth = spawn_auth(nats, &[("SESSION_KEY_ID", kid), ("SESSION_SIGNING_KEY", seed), ("SESSION_PUBLIC_KEYS", public)]).await;
    let signup = auth.signup("ann@example.com", PASSWORD).await;
    (auth, signup)
}

/// A $20 ticket listed with `cookie` as the session.
async fn sell(tickets: &Service, cookie: &str) -> reqwest::Response {
    let body = json!({ "title": "Concert", "price": 20 });
    tickets.client.post(tickets.url("/api/tickets")).header("cookie", cookie).json(&body).send().await.expect("request sent")
}

#[tokio::test]
async fn a_session_auth_issues_works_at_tickets_with_the_public_key_alone() {
    let nats = NatsServer::start();
    let (kid, seed, public) = key_vars("2030-01", 1);
    let (_auth, signup) = auth_with_key(&nats, &kid, &seed, &public).await;
    let cookie = cookie_pair(&session_set_cookie(&signup));
    let user: Value = signup.json().await.unwrap();

    let tickets = spawn_tickets(&nats, &[("SESSION_PUBLIC_KEYS", &public)]).await;
    let response = sell(&tickets, &cookie).await;
    assert_eq!(response.status().as_u16(), 201);
    let ticket: Value = response.json().await.unwrap();
    assert_eq!(ticket["userId"], user["id"]);

    // Signed with the development key, which this deployment does not hold: no session.
    let dev = format!("session={}", token("u1"));
    assert_eq!(errors(sell(&tickets, &dev).await, 401).await, vec![general("Not authorized")]);
}

/// Signing out ends the session everywhere: the tickets service, which holds only the public key
/// and never hears from auth directly, refuses the same token within a second, as a cookie and
/// as a Bearer header.
#[tokio::test]
async fn a_session_signed_out_at_auth_is_refused_by_tickets_within_a_second() {
    let nats = NatsServer::start();
    let auth = spawn_auth(&nats, &[]).await;
    let cookie = cookie_pair(&session_set_cookie(&auth.signup("ann@example.com", PASSWORD).await));
    let development = shared::session::VerifyingKeys::development().to_string();
    let tickets = spawn_tickets(&nats, &[("SESSION_PUBLIC_KEYS", &development)]).await;
    assert_eq!(sell(&tickets, &cookie).await.status().as_u16(), 201);

    let signed_out = auth.client.post(auth.url("/api/users/signout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(signed_out.status().as_u16(), 200);
    let started = Instant::now();
    let refused =
        test_support::eventually(Duration::from_secs(5), || async { sell(&tickets, &cookie).await.status().as_u16() == 401 }).await;
    let took = started.elapsed();
    assert!(refused, "tickets refuses the signed-out session");
    assert!(took < Duration::from_millis(1_500), "within a second (and a poll): {took:?}");
    let token = cookie.trim_start_matches("session=");
    let body = json!({ "title": "Concert", "price": 20 });
    let bearer = tickets.client.post(tickets.url("/api/tickets")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(bearer.status().as_u16(), 401, "as a Bearer header too");
}

#[tokio::test]
async fn a_service_holding_another_public_key_refuses_the_session() {
    let nats = NatsServer::start();
    let (kid, seed, public) = key_vars("2030-01", 1);
    let (_auth, signup) = auth_with_key(&nats, &kid, &seed, &public).await;
    let cookie = cookie_pair(&session_set_cookie(&signup));

    // The same kid with another key, and another kid: neither verifies what auth signed.
    for (kid, seed) in [("2030-01", 2), ("2030-02", 2)] {
        let (_, _, other) = key_vars(kid, seed);
        let tickets = spawn_tickets(&nats, &[("SESSION_PUBLIC_KEYS", &other)]).await;
        assert_eq!(errors(sell(&tickets, &cookie).await, 401).await, vec![general("Not authorized")], "{other}");
    }
}
