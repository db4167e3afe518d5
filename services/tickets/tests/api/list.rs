use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::ErrorCode;
use test_support::{eventually, EventSpy};
use tickets::listing::TTL;

use crate::helpers::{error_items, spawn_app, spawn_replicas};

async fn list(app: &crate::helpers::TestApp, query: &str) -> reqwest::Response {
    app.client.get(app.url(&format!("/api/tickets{query}"))).send().await.unwrap()
}

#[tokio::test]
async fn lists_the_tickets_created_newest_first() {
    let app = spawn_app().await;
    for title in ["a", "b", "c"] {
        app.ticket("u1", title, 5.0).await;
    }
    let tickets: Vec<Value> = list(&app, "").await.json().await.unwrap();
    let titles: Vec<&str> = tickets.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["c", "b", "a"]);
}

#[tokio::test]
async fn pages_with_limit_and_before() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.ticket("u1", &format!("t{i}"), 5.0).await;
    }
    let first: Vec<Value> = list(&app, "?limit=2").await.json().await.unwrap();
    assert_eq!(first.iter().map(|t| t["title"].as_str().unwrap()).collect::<Vec<_>>(), ["t4", "t3"]);
    let before = first[1]["id"].as_str().unwrap();
    let second: Vec<Value> = list(&app, &format!("?limit=2&before={before}")).await.json().await.unwrap();
    assert_eq!(second.iter().map(|t| t["title"].as_str().unwrap()).collect::<Vec<_>>(), ["t2", "t1"]);
}

#[tokio::test]
async fn bad_paging_parameters_are_400s_on_their_field() {
    let app = spawn_app().await;
    let limit = (Some("limit"), ErrorCode::LimitInvalid);
    let before = (Some("before"), ErrorCode::BeforeUnknown);
    let queries = [("?limit=0", limit), ("?limit=201", limit), ("?limit=abc", limit), ("?before=unknown", before)];
    for (query, expected) in queries {
        let errors = error_items(list(&app, query).await, 400).await;
        assert_eq!((errors[0].field.as_deref(), errors[0].code), expected, "{query}");
    }
}

#[tokio::test]
async fn deleted_tickets_are_hidden() {
    let app = spawn_app().await;
    let kept = app.ticket("u1", "kept", 5.0).await;
    let gone = app.ticket("u1", "gone", 5.0).await;
    app.delete("u1", gone["id"].as_str().unwrap()).await;
    let tickets: Vec<Value> = list(&app, "").await.json().await.unwrap();
    assert_eq!(tickets, vec![kept]);
}

/// The titles a replica at `base` lists on `/api/tickets{query}`.
async fn titles(client: &reqwest::Client, base: &str, query: &str) -> Vec<String> {
    let response = client.get(format!("{base}/api/tickets{query}")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let tickets: Vec<Value> = response.json().await.unwrap();
    tickets.iter().map(|t| t["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_listed_ticket_is_listed_edited_right_after_its_edit_and_not_after_its_deletion() {
    let app = spawn_app().await;
    let ticket = app.ticket("u1", "before", 5.0).await;
    let id = ticket["id"].as_str().unwrap();
    for _ in 0..2 {
        // The second time, as kept from the first.
        assert_eq!(titles(&app.client, &app.address, "").await, ["before"]);
    }
    assert_eq!(app.put(Some("u1"), id, json!({ "title": "after", "price": 5 })).await.status().as_u16(), 200);
    assert_eq!(titles(&app.client, &app.address, "").await, ["after"]);
    assert_eq!(app.delete("u1", id).await.status().as_u16(), 204);
    assert!(titles(&app.client, &app.address, "").await.is_empty());
}

/// Another replica keeps its answers too, and hears of the first one's writes from their events,
/// well before what it kept expires. Each step lists a page the second replica has not listed
/// before, so what it keeps is newer than `kept_at`.
#[tokio::test]
async fn a_replica_lists_another_replicas_writes_before_its_kept_answers_expire() {
    let (first, second) = spawn_replicas().await;
    let mut spy = EventSpy::new(&first.nats, "ticket.>").await;
    let ticket = first.ticket("u1", "before", 5.0).await;
    let id = ticket["id"].as_str().unwrap();
    // The replicas subscribe as the spy does: the creation is heard by now, and cannot make the
    // second replica drop the answer it is about to keep.
    spy.expect("ticket.created").await;

    let kept_at = Instant::now();
    assert_eq!(titles(&first.client, &second, "").await, ["before"]);
    assert_eq!(first.put(Some("u1"), id, json!({ "title": "after", "price": 5 })).await.status().as_u16(), 200);
    let edited = eventually(Duration::from_secs(5), || async { titles(&first.client, &second, "").await == ["after"] }).await;
    assert!(edited, "the second replica never listed the first one's edit");
    assert!(kept_at.elapsed() < TTL, "the edit was listed only once the kept answer expired: ticket.updated was not heard");
    spy.expect("ticket.updated").await;

    let kept_at = Instant::now();
    assert_eq!(titles(&first.client, &second, "?limit=10").await, ["after"]);
    assert_eq!(first.delete("u1", id).await.status().as_u16(), 204);
    let deleted = eventually(Duration::from_secs(5), || async { titles(&first.client, &second, "?limit=10").await.is_empty() }).await;
    assert!(deleted, "the second replica never stopped listing the ticket the first one deleted");
    assert!(kept_at.elapsed() < TTL, "the deletion was listed only once the kept answer expired: ticket.deleted was not heard");
}
