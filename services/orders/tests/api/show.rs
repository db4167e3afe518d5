use serde_json::Value;
use test_support::token;

use crate::helpers::{errors, general, known_ticket, spawn_app};

#[tokio::test]
async fn each_user_gets_exactly_their_own_orders_newest_first_with_their_tickets() {
    let (app, nats) = spawn_app().await;
    for id in ["t1", "t2", "t3"] {
        known_ticket(&app, &nats, id).await;
    }
    let first: Value = app.order("ann", "t1").await.json().await.unwrap();
    let second: Value = app.order("ann", "t2").await.json().await.unwrap();
    app.order("bob", "t3").await;

    let list: Vec<Value> = app.client.get(app.url("/api/orders")).bearer_auth(token("ann")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list, vec![second, first]);
    assert_eq!(list[0]["ticket"]["id"], "t2");

    let response = app.client.get(app.url("/api/orders")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn the_owner_gets_the_order_and_another_user_gets_401() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let fetched: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!(fetched, order);
    assert_eq!(errors(app.get_order("bob", id).await, 401).await, vec![general("Not authorized")]);
    assert_eq!(errors(app.get_order("ann", "nope").await, 404).await, vec![general("Not Found")]);
}
