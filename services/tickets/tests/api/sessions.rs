//! Tickets only verifies sessions: a token it did not get from auth's key, or not as auth makes
//! them, is no session, so a protected route answers 401.
use serde_json::{json, Value};
use shared::session::{SigningKey, DEVELOPMENT_KID};
use test_support::{session_claims, sign, sign_hs256};

use crate::helpers::{errors, general, spawn_app, TestApp};

async fn create_with(app: &TestApp, token: &str) -> reqwest::Response {
    let body = json!({ "title": "Concert", "price": 20 });
    app.client.post(app.url("/api/tickets")).bearer_auth(token).json(&body).send().await.unwrap()
}

/// Changes one claim (`None` removes it) and signs the rest as auth does.
fn with(claim: &str, value: Option<Value>) -> String {
    let mut claims = session_claims("u1");
    match value {
        Some(value) => claims[claim] = value,
        None => drop(claims.as_object_mut().unwrap().remove(claim)),
    }
    sign(&SigningKey::development(), Some(DEVELOPMENT_KID), &claims)
}

#[tokio::test]
async fn a_token_signed_as_auth_signs_it_is_a_session() {
    // The control for the refusals below.
    let app = spawn_app().await;
    let token = sign(&SigningKey::development(), Some(DEVELOPMENT_KID), &session_claims("u1"));
    assert_eq!(create_with(&app, &token).await.status().as_u16(), 201);
}

#[tokio::test]
async fn forged_foreign_and_expired_tokens_get_401() {
    let app = spawn_app().await;
    let claims = session_claims("u1");
    let development = SigningKey::development();
    let other_key = SigningKey::from_seed(DEVELOPMENT_KID, [9; 32]).unwrap();
    let expired = session_claims("u1")["iat"].as_i64().unwrap() - 5;
    let tokens = [
        ("another Ed25519 key", sign(&other_key, Some(DEVELOPMENT_KID), &claims)),
        ("an unknown kid", sign(&development, Some("retired"), &claims)),
        ("no kid", sign(&development, None, &claims)),
        ("HS256 with a shared secret", sign_hs256(b"test-key-that-is-at-least-32-bytes-long", None, &claims)),
        ("HS256 keyed with the public key", sign_hs256(&development.public_key(), Some(DEVELOPMENT_KID), &claims)),
        ("another issuer", with("iss", Some(json!("someone-else")))),
        ("another audience", with("aud", Some(json!("another-app")))),
        ("no issuer", with("iss", None)),
        ("no audience", with("aud", None)),
        ("expired", with("exp", Some(json!(expired)))),
    ];
    for (what, token) in tokens {
        assert_eq!(errors(create_with(&app, &token).await, 401).await, vec![general("Not authorized")], "{what}");
    }
}
