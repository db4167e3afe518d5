use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use shared::session::{SigningKey, DEVELOPMENT_KID};
use test_support::{session_claims, sign, token};

use crate::helpers::{cookie_pair, session_set_cookie, spawn_app, TestApp, PASSWORD};

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Signed with the key auth signs with here (the development pair, as nothing is configured).
fn signed(claims: &Value) -> String {
    sign(&SigningKey::development(), Some(DEVELOPMENT_KID), claims)
}

async fn assert_no_session(app: &TestApp, token: &str) {
    let body = app.current_user(Some(&format!("session={token}"))).await;
    assert_eq!(body, json!({ "currentUser": null }), "{token}");
    let response = app.client.get(format!("{}/api/users/currentuser", app.address)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), json!({ "currentUser": null }), "as a bearer token: {token}");
}

#[tokio::test]
async fn returns_the_signed_in_users_details() {
    let app = spawn_app().await;
    let signup = app.signup("ann@example.com", PASSWORD).await;
    let cookie = cookie_pair(&session_set_cookie(&signup));
    let user: Value = signup.json().await.unwrap();

    let body = app.current_user(Some(&cookie)).await;
    assert_eq!(body["currentUser"]["id"], user["id"]);
    assert_eq!(body["currentUser"]["email"], "ann@example.com");
    assert!(body["currentUser"]["iat"].as_i64().is_some_and(|iat| (iat - now()).abs() < 60));
}

#[tokio::test]
async fn returns_null_when_not_signed_in() {
    let app = spawn_app().await;
    assert_eq!(app.current_user(None).await, json!({ "currentUser": null }));
}

#[tokio::test]
async fn a_bearer_token_is_a_session_too() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/api/users/currentuser", app.address)).bearer_auth(token("u1")).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["currentUser"]["id"], "u1");
}

#[tokio::test]
async fn when_a_bearer_header_is_present_it_alone_decides() {
    let app = spawn_app().await;
    let cookie = format!("session={}", token("u1"));
    let response = app
        .client
        .get(format!("{}/api/users/currentuser", app.address))
        .header("cookie", cookie)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), json!({ "currentUser": null }));
}

#[tokio::test]
async fn claims_signed_as_auth_signs_them_are_a_session() {
    // The control for the refusals below: the same helpers, nothing changed.
    let app = spawn_app().await;
    let body = app.current_user(Some(&format!("session={}", signed(&session_claims("u1"))))).await;
    assert_eq!(body["currentUser"]["id"], "u1");
}

#[tokio::test]
async fn a_token_signed_with_another_ed25519_key_is_no_session() {
    let app = spawn_app().await;
    let other = SigningKey::from_seed(DEVELOPMENT_KID, [7; 32]).unwrap();
    assert_no_session(&app, &sign(&other, Some(DEVELOPMENT_KID), &session_claims("u1"))).await;
}

#[tokio::test]
async fn an_unknown_or_missing_kid_is_no_session() {
    let app = spawn_app().await;
    let development = SigningKey::development();
    assert_no_session(&app, &sign(&development, Some("retired-key"), &session_claims("u1"))).await;
    assert_no_session(&app, &sign(&development, None, &session_claims("u1"))).await;
}

#[tokio::test]
async fn hs256_tokens_are_no_session() {
    let app = spawn_app().await;
    // As sessions were made before: HS256 with a shared secret.
    let secret = "test-key-that-is-at-least-32-bytes-long";
    let old = encode(&Header::default(), &session_claims("u1"), &EncodingKey::from_secret(secret.as_bytes())).unwrap();
    // HS256 keyed with the public key, under its kid: the algorithm confusion attack.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(DEVELOPMENT_KID.to_string());
    let public = SigningKey::development().public_key();
    let confused = encode(&header, &session_claims("u1"), &EncodingKey::from_secret(&public)).unwrap();
    for token in [old, confused] {
        assert_no_session(&app, &token).await;
    }
}

#[tokio::test]
async fn a_wrong_or_missing_issuer_or_audience_is_no_session() {
    let app = spawn_app().await;
    for (claim, value) in [("iss", Some("someone-else")), ("aud", Some("another-app")), ("iss", None), ("aud", None)] {
        let mut claims = session_claims("u1");
        match value {
            Some(value) => claims[claim] = json!(value),
            None => drop(claims.as_object_mut().unwrap().remove(claim)),
        }
        assert_no_session(&app, &signed(&claims)).await;
    }
}

#[tokio::test]
async fn expired_unsigned_and_malformed_tokens_are_no_session() {
    let app = spawn_app().await;
    let mut claims = session_claims("u1");
    claims["exp"] = json!(now() - 5);
    let expired = signed(&claims);
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{DEVELOPMENT_KID}"}}"#));
    let unsigned = format!("{header}.{}.", URL_SAFE_NO_PAD.encode(session_claims("u1").to_string()));
    for token in [expired, unsigned, "garbage".to_string()] {
        assert_no_session(&app, &token).await;
    }
}
