use serde_json::{json, Value};
use shared::{ErrorCode, ErrorItem};

use crate::helpers::{error_items, errors, field, session_set_cookie, spawn_app, PASSWORD};

#[tokio::test]
async fn signup_returns_201_with_the_user_and_a_session_cookie() {
    let app = spawn_app().await;
    let response = app.signup("ann@example.com", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 201);
    let cookie = session_set_cookie(&response);
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "dev mode runs without TLS: {cookie}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "ann@example.com");
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty() && !id.contains(':')));
    assert!(body.get("password").is_none() && body.get("passwordHash").is_none());
}

#[tokio::test]
async fn an_invalid_email_is_a_400_on_field_email() {
    let app = spawn_app().await;
    for email in ["not-an-email", "", "ann@", "   "] {
        let response = app.signup(email, PASSWORD).await;
        let expected = vec![ErrorItem::field(ErrorCode::EmailInvalid, "email", "Email must be valid")];
        assert_eq!(error_items(response, 400).await, expected, "{email:?}");
    }
}

#[tokio::test]
async fn an_invalid_password_is_a_400_on_field_password() {
    let app = spawn_app().await;
    for password in ["", "short", &"x".repeat(129)] {
        let response = app.signup("ann@example.com", password).await;
        let expected = vec![field("Password must be between 8 and 128 characters", "password")];
        assert_eq!(errors(response, 400).await, expected);
    }
}

#[tokio::test]
async fn missing_fields_are_all_reported_at_once() {
    let app = spawn_app().await;
    let response = app.post_json("/api/users/signup", &json!({})).await;
    assert_eq!(
        error_items(response, 400).await,
        vec![
            ErrorItem::field(ErrorCode::EmailInvalid, "email", "Email must be valid"),
            ErrorItem::field(ErrorCode::PasswordLength, "password", "Password must be between 8 and 128 characters"),
        ]
    );
}

#[tokio::test]
async fn a_second_signup_with_the_same_email_is_refused_whatever_its_case() {
    let app = spawn_app().await;
    assert_eq!(app.signup("ann@example.com", PASSWORD).await.status().as_u16(), 201);
    let response = app.signup("  ANN@Example.com ", PASSWORD).await;
    let in_use = ErrorItem::field(ErrorCode::EmailInUse, "email", "Email in use");
    assert_eq!(error_items(response, 400).await, vec![in_use]);
}

#[tokio::test]
async fn emails_are_stored_trimmed_and_lower_cased() {
    let app = spawn_app().await;
    let body: Value = app.signup("  Bob@Example.COM ", PASSWORD).await.json().await.unwrap();
    assert_eq!(body["email"], "bob@example.com");
    assert_eq!(app.signin("bob@example.com", PASSWORD).await.status().as_u16(), 200);
}

#[tokio::test]
async fn concurrent_signups_for_one_email_create_exactly_one_user() {
    let app = spawn_app().await;
    let attempts = (0..16).map(|_| app.signup("race@example.com", PASSWORD));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 15, "{statuses:?}");
}
