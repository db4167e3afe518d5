use serde_json::Value;

use crate::helpers::{errors, spawn_app};

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
    for query in ["?limit=0", "?limit=201", "?limit=abc", "?before=unknown"] {
        let errors = errors(list(&app, query).await, 400).await;
        let expected = if query.contains("limit") { "limit" } else { "before" };
        assert_eq!(errors[0].1.as_deref(), Some(expected), "{query}");
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
