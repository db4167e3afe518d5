//! What an operator relies on: a replica stays in service while NATS is away, and dead letters
//! can be looked at and sent back once their cause is fixed.
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use test_support::eventually;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_nats_outage_leaves_the_service_ready_and_serving() {
    let mut app = spawn_app().await;
    app.nats.stop();
    let readyz = app.url("/readyz");
    let reported = eventually(Duration::from_secs(10), || async {
        let Ok(response) = app.client.get(&readyz).send().await else { return false };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or_default();
        status == 200 && body["nats"]["tickets"].as_str().is_some_and(|state| state != "connected")
    })
    .await;
    assert!(reported, "ready (200), with NATS's state reported as not connected");
    // Writes go on: their events wait in the outbox.
    let created = app.create("seller", json!({ "title": "during the outage", "price": 5 })).await;
    assert_eq!(created.status().as_u16(), 201);
}

#[tokio::test]
async fn dead_letters_are_listed_and_replayed_by_the_service_binary() {
    let app = spawn_app().await;
    let ticket = app.ticket("seller", "t", 5.0).await;
    // A good order.created that the tickets service once gave up on (a bug since fixed).
    let event = json!({ "id": "o1", "version": 0, "status": "created", "userId": "buyer",
                        "expiresAt": "2030-01-01T00:00:00Z", "ticket": { "id": ticket["id"], "price": 5 } });
    let js = async_nats::jetstream::new(test_support::client(&app.nats).await);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Ticketing-Original-Subject", "order.created");
    headers.insert("Ticketing-Reason", "database query failed");
    js.publish_with_headers("deadletter.tickets-service.order.created", headers, event.to_string().into()).await.unwrap().await.unwrap();

    let command = |verb: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_tickets"))
            .args(["dead-letters", verb])
            .env("NATS_URL", app.nats.url())
            .output()
            .expect("the tickets binary runs");
        assert!(output.status.success(), "dead-letters {verb}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    let listed = command("list");
    assert!(listed.contains("order.created") && listed.contains("database query failed"), "{listed}");
    assert!(listed.contains("1 dead letter(s) of tickets-service"), "{listed}");
    assert!(command("replay").contains("replayed 1 dead letter(s)"));

    let id = ticket["id"].as_str().unwrap();
    let reserved = eventually(Duration::from_secs(5), || async {
        let ticket: Value = app.get(id).await.json().await.unwrap();
        ticket["orderId"] == "o1"
    })
    .await;
    assert!(reserved, "the replayed order.created reserved the ticket");
    let mut dead = js.get_stream("TICKETING_DEAD_LETTER").await.unwrap();
    assert_eq!(dead.info().await.unwrap().state.messages, 0, "a replayed dead letter leaves the stream");
    assert!(command("list").contains("0 dead letter(s)"));
}
