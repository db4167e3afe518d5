//! Sign-in limits that a guesser meets and the account's owner does not: counted per email and
//! client address pair, with higher ceilings per email and per address, IPv6 by its /64. The test
//! is the ingress (`TRUSTED_PROXIES=1`): it appends each client's address to `X-Forwarded-For`.
use serde_json::json;

use crate::helpers::{errors, general, spawn_app_with, TestApp, PASSWORD};

impl TestApp {
    /// A sign-in from the client at `address`.
    async fn signin_answer(&self, address: &str, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/users/signin", self.address))
            .header("x-forwarded-for", address)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("request sent")
    }

    /// A sign-in from the client at `address`; its status.
    async fn signin_from(&self, address: &str, email: &str, password: &str) -> u16 {
        self.signin_answer(address, email, password).await.status().as_u16()
    }
}

/// Ten wrong passwords from the attacker's address used to lock the owner out everywhere.
#[tokio::test]
async fn a_guesser_locks_only_their_own_address_out_of_the_account() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "1")]).await;
    app.signup("ann@example.com", PASSWORD).await;
    let attacker = "203.0.113.66";
    for attempt in 0..10 {
        assert_eq!(app.signin_from(attacker, "ann@example.com", "guess").await, 400, "guess {attempt}");
    }
    assert_eq!(app.signin_from(attacker, "ann@example.com", PASSWORD).await, 429, "the guesser is stopped, even with the password");
    assert_eq!(app.signin_from("198.51.100.7", "ann@example.com", PASSWORD).await, 200, "the owner at home is not");
}

#[tokio::test]
async fn one_email_has_a_ceiling_over_all_addresses_together() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "1"), ("SIGNIN_FAILURES_PER_EMAIL_PER_MINUTE", "12")]).await;
    app.signup("ann@example.com", PASSWORD).await;
    // A botnet: three guesses from each of four addresses, under the pair limit everywhere.
    for attempt in 0..12 {
        let from = format!("203.0.113.{}", attempt % 4);
        assert_eq!(app.signin_from(&from, "ann@example.com", "guess").await, 400, "guess {attempt}");
    }
    let response = app.signin_answer("198.51.100.7", "ann@example.com", PASSWORD).await;
    assert_eq!(errors(response, 429).await, vec![general("Too many requests")]);
    app.signup("bob@example.com", PASSWORD).await;
    assert_eq!(app.signin_from("198.51.100.7", "bob@example.com", PASSWORD).await, 200, "other emails are not affected");
}

/// An IPv6 client owns a /64 and can pick any address in it for every request.
#[tokio::test]
async fn rotating_addresses_within_one_ipv6_slash_64_is_one_client() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "1"), ("SIGNIN_FAILURES_PER_ADDRESS_PER_MINUTE", "6")]).await;
    app.signup("ann@example.com", PASSWORD).await;
    for attempt in 0..6 {
        let from = format!("2001:db8:7:9:{attempt:x}::{}", attempt + 1);
        assert_eq!(app.signin_from(&from, &format!("user{attempt}@example.com"), "guess").await, 400, "guess {attempt}");
    }
    assert_eq!(app.signin_from("2001:db8:7:9:ffff::1", "ann@example.com", PASSWORD).await, 429, "the same /64");
    assert_eq!(app.signin_from("2001:db8:7:a::1", "ann@example.com", PASSWORD).await, 200, "the next /64 is another client");
}
