use serde_json::json;
use test_support::EventSpy;

use crate::helpers::{errors, field, general, spawn_app};

#[tokio::test]
async fn an_unknown_id_is_a_404() {
    let app = spawn_app().await;
    let response = app.put(Some("u1"), "nope", json!({ "title": "t", "price": 5 })).await;
    assert_eq!(errors(response, 404).await, vec![general("Not Found")]);
}

#[tokio::test]
async fn a_signed_out_user_gets_401() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "t", 5.0).await;
    let response = app.put(None, ticket["id"].as_str().unwrap(), json!({ "title": "t", "price": 5 })).await;
    assert_eq!(errors(response, 401).await, vec![general("Not authorized")]);
}

#[tokio::test]
async fn another_users_ticket_is_401() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "t", 5.0).await;
    let response = app.put(Some("u2"), ticket["id"].as_str().unwrap(), json!({ "title": "mine now", "price": 1 })).await;
    assert_eq!(errors(response, 401).await, vec![general("Not authorized")]);
    let response = app.delete("u2", ticket["id"].as_str().unwrap()).await;
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn invalid_title_or_price_is_a_400() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "t", 5.0).await;
    let id = ticket["id"].as_str().unwrap();
    assert_eq!(
        errors(app.put(Some("u1"), id, json!({ "title": "", "price": 5 })).await, 400).await,
        vec![field("Title is required", "title")]
    );
    assert_eq!(
        errors(app.put(Some("u1"), id, json!({ "title": "t", "price": -5 })).await, 400).await,
        vec![field("Price must be greater than 0", "price")]
    );
}

#[tokio::test]
async fn a_valid_update_is_stored_bumps_the_version_and_publishes() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "t", 5.0).await;
    let id = ticket["id"].as_str().unwrap();
    let mut spy = EventSpy::new(&app.nats, "ticket.updated").await;
    let response = app.put(Some("u1"), id, json!({ "title": "new title", "price": 100 })).await;
    assert_eq!(response.status().as_u16(), 200);
    let updated: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (updated["title"].as_str(), updated["price"].as_f64(), updated["version"].as_u64()),
        (Some("new title"), Some(100.0), Some(1))
    );
    let stored: serde_json::Value = app.get(id).await.json().await.unwrap();
    assert_eq!(stored, updated);
    let event = spy.expect("ticket.updated").await;
    assert_eq!(event, json!({ "id": id, "version": 1, "title": "new title", "price": 100.0, "userId": "u1" }));

    app.put(Some("u1"), id, json!({ "title": "again", "price": 101 })).await;
    assert_eq!(spy.expect("ticket.updated").await["version"], 2, "every save adds exactly one");
}

#[tokio::test]
async fn concurrent_writers_each_get_their_own_version() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "t", 5.0).await;
    let id = ticket["id"].as_str().unwrap();
    let writes = (0..8).map(|i| app.put(Some("u1"), id, json!({ "title": format!("w{i}"), "price": 5 })));
    let statuses: Vec<u16> = futures_util::future::join_all(writes).await.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let stored: serde_json::Value = app.get(id).await.json().await.unwrap();
    assert_eq!(stored["version"], 8, "eight saves, eight versions: none lost, none doubled");
}

#[tokio::test]
async fn delete_publishes_ticket_deleted_with_the_next_version() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "t", 5.0).await;
    let id = ticket["id"].as_str().unwrap();
    let mut spy = EventSpy::new(&app.nats, "ticket.deleted").await;
    assert_eq!(app.delete("u1", id).await.status().as_u16(), 204);
    assert_eq!(spy.expect("ticket.deleted").await, json!({ "id": id, "version": 1 }));
    assert_eq!(app.delete("u1", id).await.status().as_u16(), 404);
}
