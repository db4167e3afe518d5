use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{cookie_pair, session_set_cookie, spawn_app, JWT_KEY, PASSWORD};

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn token(key: &str, exp: i64) -> String {
    let claims = json!({ "id": "u1", "email": "ann@example.com", "iat": now() - 10, "exp": exp });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(key.as_bytes())).unwrap()
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
    let response =
        app.client.get(format!("{}/api/users/currentuser", app.address)).bearer_auth(token(JWT_KEY, now() + 60)).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["currentUser"]["id"], "u1");
}

#[tokio::test]
async fn when_a_bearer_header_is_present_it_alone_decides() {
    let app = spawn_app().await;
    let cookie = format!("session={}", token(JWT_KEY, now() + 60));
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
async fn forged_expired_and_unsigned_tokens_are_no_session() {
    let app = spawn_app().await;
    let forged = token("another-key-that-is-also-32-bytes-long", now() + 60);
    let expired = token(JWT_KEY, now() - 5);
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({ "id": "u1", "email": "a@b.co", "iat": now(), "exp": now() + 60 }).to_string());
    let unsigned = format!("{header}.{claims}.");
    for token in [forged, expired, unsigned, "garbage".to_string()] {
        let body = app.current_user(Some(&format!("session={token}"))).await;
        assert_eq!(body, json!({ "currentUser": null }), "{token}");
    }
}
