use crate::helpers::{errors, general, spawn_app};

#[tokio::test]
async fn an_unknown_id_is_a_404() {
    let app = spawn_app().await;
    for id in ["0190a0a0a0a0a0a0a0a0a0a0a0a0a0a0", "not-an-id", "ticket:x"] {
        assert_eq!(errors(app.get(id).await, 404).await, vec![general("Not Found")], "{id}");
    }
}

#[tokio::test]
async fn an_existing_ticket_is_returned() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "Concert", 20.0).await;
    let response = app.get(ticket["id"].as_str().unwrap()).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), ticket);
}

#[tokio::test]
async fn a_deleted_ticket_is_a_404() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "Concert", 20.0).await;
    let id = ticket["id"].as_str().unwrap();
    assert_eq!(app.delete("u1", id).await.status().as_u16(), 204);
    assert_eq!(app.get(id).await.status().as_u16(), 404);
}
