use serde_json::Value;
use shared::{ErrorCode, ErrorItem};
use test_support::EventSpy;

use crate::helpers::{error_items, errors, general, known_ticket, publish, spawn_app};

#[tokio::test]
async fn cancelling_marks_the_order_cancelled_publishes_and_frees_the_ticket() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let mut spy = EventSpy::new(&nats, "order.cancelled").await;

    assert_eq!(app.cancel("ann", id).await.status().as_u16(), 204);
    let cancelled: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!((cancelled["status"].as_str(), cancelled["version"].as_u64()), (Some("cancelled"), Some(1)));
    assert_eq!(cancelled["cancelReason"], "buyer", "{cancelled}");
    let event = spy.expect("order.cancelled").await;
    assert_eq!(event, serde_json::json!({ "id": id, "version": 1, "ticket": { "id": "t1" } }));

    assert_eq!(app.order("bob", "t1").await.status().as_u16(), 201, "the ticket is free again");
}

#[tokio::test]
async fn cancelling_a_cancelled_order_changes_nothing() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    app.cancel("ann", id).await;
    assert_eq!(app.cancel("ann", id).await.status().as_u16(), 204);
    let after: Value = app.get_order("ann", id).await.json().await.unwrap();
    assert_eq!(after["version"], 1);
    assert_eq!(after["cancelReason"], "buyer", "{after}");
}

#[tokio::test]
async fn a_completed_order_cannot_be_cancelled_and_others_cannot_cancel() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("ann", "t1").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    assert_eq!(errors(app.cancel("bob", id).await, 401).await, vec![general("Not authorized")]);
    publish(&nats, "payment.created", serde_json::json!({ "id": "p1", "orderId": id, "stripeId": "pi_1" })).await;
    let completed = test_support::eventually(std::time::Duration::from_secs(5), || async {
        app.get_order("ann", id).await.json::<Value>().await.unwrap()["status"] == "complete"
    })
    .await;
    assert!(completed);
    let refused = ErrorItem::new(ErrorCode::CancelCompletedOrder, "Cannot cancel a completed order");
    assert_eq!(error_items(app.cancel("ann", id).await, 400).await, vec![refused]);
}
