//! The error shape for requests that never reach a handler's logic.
use shared::{ErrorCode, ErrorItem};

use crate::helpers::{error_items, errors, spawn_app};

#[tokio::test]
async fn malformed_json_is_a_400_in_the_error_shape() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/users/signup", app.address))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let errors = error_items(response, 400).await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.starts_with("Malformed JSON"), "{errors:?}");
    assert_eq!(errors[0].code, ErrorCode::InvalidJson);
}

#[tokio::test]
async fn a_wrong_content_type_is_a_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/users/signup", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a%40b.co&password=12345678")
        .send()
        .await
        .unwrap();
    let errors = error_items(response, 400).await;
    assert!(errors[0].message.contains("application/json"), "{errors:?}");
    assert_eq!(errors[0].code, ErrorCode::WrongContentType);
}

#[tokio::test]
async fn a_field_of_the_wrong_json_type_is_a_400_on_that_field() {
    let app = spawn_app().await;
    let response = app.post_json("/api/users/signup", &serde_json::json!({ "email": 42, "password": "12345678" })).await;
    let errors = error_items(response, 400).await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field.as_deref(), Some("email"), "{errors:?}");
    assert_eq!(errors[0].code, ErrorCode::WrongType);
}

#[tokio::test]
async fn a_body_over_64_kib_is_a_413() {
    let app = spawn_app().await;
    let big = serde_json::json!({ "email": "a@b.co", "password": "x".repeat(70 * 1024) });
    let response = app.post_json("/api/users/signup", &big).await;
    let too_large = ErrorItem::new(ErrorCode::PayloadTooLarge, "Request body too large");
    assert_eq!(error_items(response, 413).await, vec![too_large]);
}

#[tokio::test]
async fn unknown_routes_are_a_json_404() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/api/users/nothing-here", app.address)).send().await.unwrap();
    assert_eq!(error_items(response, 404).await, vec![ErrorItem::new(ErrorCode::NotFound, "Not Found")]);
}

#[tokio::test]
async fn a_known_path_with_the_wrong_method_is_a_json_405() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/api/users/signup", app.address)).send().await.unwrap();
    let not_allowed = ErrorItem::new(ErrorCode::MethodNotAllowed, "Method not allowed");
    assert_eq!(error_items(response, 405).await, vec![not_allowed]);
}

#[tokio::test]
async fn validation_runs_after_parsing_and_names_the_field() {
    let app = spawn_app().await;
    let response = app.post_json("/api/users/signup", &serde_json::json!({ "email": "a@b.co", "password": true })).await;
    let errors = errors(response, 400).await;
    assert_eq!(errors[0].1.as_deref(), Some("password"), "{errors:?}");
}
