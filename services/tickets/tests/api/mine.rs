//! `GET /api/tickets/mine`: the caller's own tickets in every state, newest first.
use std::time::Duration;

use serde_json::{json, Value};
use test_support::{eventually, token};

use crate::helpers::{errors, general, spawn_app, TestApp};

/// The order's deadline as orders publishes it, and as the ticket shows it (UTC, milliseconds).
const EXPIRES_AT: &str = "2030-01-02T04:04:05.678901+01:00";
const RESERVED_UNTIL: &str = "2030-01-02T03:04:05.678Z";

async fn mine(app: &TestApp, user: &str) -> Vec<Value> {
    let response = app.client.get(app.url("/api/tickets/mine")).bearer_auth(token(user)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

fn titles(tickets: &[Value]) -> Vec<&str> {
    tickets.iter().map(|t| t["title"].as_str().unwrap()).collect()
}

/// Until `GET /api/tickets/:id` shows what `check` wants: order events are handled asynchronously.
async fn until(app: &TestApp, ticket: &Value, check: impl Fn(&Value) -> bool) {
    let id = ticket["id"].as_str().unwrap();
    let ok = eventually(Duration::from_secs(5), || async { check(&app.get(id).await.json::<Value>().await.unwrap()) }).await;
    assert!(ok, "ticket {id} never reached the state wanted");
}

#[tokio::test]
async fn signed_out_is_a_401() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/tickets/mine")).send().await.unwrap();
    assert_eq!(errors(response, 401).await, vec![general("Not authorized")]);
}

#[tokio::test]
async fn another_method_is_a_405_even_signed_in() {
    // `mine` is its own route, not an id: a write on it is the API's wrong-method answer.
    let app = spawn_app().await;
    for method in [reqwest::Method::POST, reqwest::Method::PUT, reqwest::Method::DELETE] {
        let request = app.client.request(method.clone(), app.url("/api/tickets/mine")).bearer_auth(token("u1"));
        let response = request.json(&json!({ "title": "t", "price": 5 })).send().await.unwrap();
        assert_eq!(errors(response, 405).await, vec![general("Method not allowed")], "{method}");
    }
}

#[tokio::test]
async fn a_user_without_tickets_gets_an_empty_list() {
    let app = spawn_app().await;
    app.ticket("someone-else", "theirs", 5.0).await;
    assert!(mine(&app, "u1").await.is_empty());
}

#[tokio::test]
async fn the_callers_own_tickets_in_every_state_newest_first_without_deleted_ones() {
    let app = spawn_app().await;
    let sold = app.ticket("seller", "sold", 5.0).await;
    let reserved = app.ticket("seller", "reserved", 6.0).await;
    let deleted = app.ticket("seller", "deleted", 7.0).await;
    app.ticket("other", "theirs", 8.0).await;
    let on_sale = app.ticket("seller", "on sale", 9.0).await;
    assert_eq!(app.delete("seller", deleted["id"].as_str().unwrap()).await.status().as_u16(), 204);

    for (order, ticket) in [("o1", &sold), ("o2", &reserved)] {
        let created = json!({ "id": order, "version": 0, "status": "created", "userId": "buyer",
                              "expiresAt": EXPIRES_AT, "ticket": { "id": ticket["id"], "price": ticket["price"] } });
        app.publish("order.created", created).await;
        until(&app, ticket, |t| t["orderId"] == order).await;
    }
    app.publish("order.completed", json!({ "id": "o1", "version": 1, "ticket": { "id": sold["id"] } })).await;
    until(&app, &sold, |t| t["sold"] == true).await;

    let listed = mine(&app, "seller").await;
    assert_eq!(titles(&listed), ["on sale", "reserved", "sold"], "{listed:?}");
    assert_eq!(listed[0], on_sale, "on sale: as it was created");
    assert_eq!(listed[1]["orderId"], "o2");
    assert_eq!(listed[1]["reservedUntil"], RESERVED_UNTIL, "held until the order's expiresAt: {}", listed[1]);
    assert!(listed[1].get("sold").is_none() && listed[1].get("soldAt").is_none(), "{}", listed[1]);
    assert_eq!((listed[2]["orderId"].as_str(), listed[2]["sold"].as_bool()), (Some("o1"), Some(true)));
    assert!(listed[2]["soldAt"].is_string() && listed[2].get("reservedUntil").is_none(), "{}", listed[2]);
    // Each as the ticket's own page shows it.
    for ticket in &listed {
        let shown: Value = app.get(ticket["id"].as_str().unwrap()).await.json().await.unwrap();
        assert_eq!(&shown, ticket);
    }

    assert_eq!(titles(&mine(&app, "other").await), ["theirs"], "another user sees only theirs");
    let public: Vec<Value> = app.client.get(app.url("/api/tickets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(titles(&public), ["on sale", "theirs"], "the public list is unchanged: only tickets on sale");
}
