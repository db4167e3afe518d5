use serde_json::json;
use shared::{ErrorCode, ErrorItem};

use crate::helpers::{error_items, errors, general, session_set_cookie, spawn_app, PASSWORD};

fn invalid_credentials() -> ErrorItem {
    ErrorItem::new(ErrorCode::InvalidCredentials, "Invalid credentials")
}

#[tokio::test]
async fn an_email_that_never_signed_up_gets_invalid_credentials() {
    let app = spawn_app().await;
    let response = app.signin("nobody@example.com", PASSWORD).await;
    assert_eq!(error_items(response, 400).await, vec![invalid_credentials()]);
}

#[tokio::test]
async fn a_wrong_password_gets_the_same_invalid_credentials() {
    let app = spawn_app().await;
    app.signup("ann@example.com", PASSWORD).await;
    let response = app.signin("ann@example.com", "wrong password").await;
    // The same code too: a client must not be able to tell an unknown email from a wrong password.
    assert_eq!(error_items(response, 400).await, vec![invalid_credentials()]);
}

#[tokio::test]
async fn valid_credentials_return_200_the_user_and_a_session_cookie() {
    let app = spawn_app().await;
    let signup: serde_json::Value = app.signup("ann@example.com", PASSWORD).await.json().await.unwrap();
    let response = app.signin(" Ann@Example.com", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 200);
    let cookie = session_set_cookie(&response);
    assert!(cookie.contains("HttpOnly") && cookie.contains("Max-Age=86400"), "{cookie}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "id": signup["id"], "email": "ann@example.com" }));
}

#[tokio::test]
async fn a_missing_password_and_a_bad_email_are_both_reported() {
    let app = spawn_app().await;
    let response = app.post_json("/api/users/signin", &json!({ "email": "nope" })).await;
    assert_eq!(
        error_items(response, 400).await,
        vec![
            ErrorItem::field(ErrorCode::EmailInvalid, "email", "Email must be valid"),
            ErrorItem::field(ErrorCode::PasswordRequired, "password", "You must supply a password"),
        ]
    );
}

#[tokio::test]
async fn ten_failures_for_one_email_lock_it_even_for_the_right_password() {
    let app = spawn_app().await;
    app.signup("ann@example.com", PASSWORD).await;
    for _ in 0..10 {
        assert_eq!(app.signin("ann@example.com", "wrong password").await.status().as_u16(), 400);
    }
    let response = app.signin("ann@example.com", PASSWORD).await;
    assert_eq!(error_items(response, 429).await, vec![ErrorItem::new(ErrorCode::TooManyRequests, "Too many requests")]);
    // Another account from the same address is not affected by this email's lock.
    app.signup("bob@example.com", PASSWORD).await;
    assert_eq!(app.signin("bob@example.com", PASSWORD).await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_hundred_failures_from_one_address_lock_that_address() {
    let app = spawn_app().await;
    app.signup("ann@example.com", PASSWORD).await;
    // Spread over many emails so that no single email reaches its own limit.
    for i in 0..100 {
        let response = app.signin(&format!("user{}@example.com", i % 20), "wrong password").await;
        assert_eq!(response.status().as_u16(), 400, "failure {i}");
    }
    let response = app.signin("ann@example.com", PASSWORD).await;
    assert_eq!(errors(response, 429).await, vec![general("Too many requests")]);
}

#[tokio::test]
async fn signup_is_never_limited_per_email() {
    let app = spawn_app().await;
    for _ in 0..12 {
        app.signin("ann@example.com", "wrong password").await;
    }
    assert_eq!(app.signup("ann@example.com", PASSWORD).await.status().as_u16(), 201);
}
