use serde_json::json;
use shared::{ErrorCode, ErrorItem};
use test_support::EventSpy;

use crate::helpers::{error_items, errors, field, spawn_app};

#[tokio::test]
async fn the_route_exists_and_requires_a_session() {
    let app = spawn_app().await;
    let response = app.client.post(app.url("/api/tickets")).json(&json!({})).send().await.unwrap();
    assert_eq!(error_items(response, 401).await, vec![ErrorItem::new(ErrorCode::NotAuthorized, "Not authorized")]);
}

#[tokio::test]
async fn auth_comes_before_validation_and_a_signed_in_user_gets_past_it() {
    let app = spawn_app().await;
    let response = app.create("u1", json!({})).await;
    assert_eq!(response.status().as_u16(), 400, "signed in: past auth, stopped by validation");
}

#[tokio::test]
async fn an_empty_or_missing_title_is_refused() {
    let app = spawn_app().await;
    for body in [json!({ "title": "", "price": 10 }), json!({ "title": "   ", "price": 10 }), json!({ "price": 10 })] {
        assert_eq!(errors(app.create("u1", body).await, 400).await, vec![field("Title is required", "title")]);
    }
}

#[tokio::test]
async fn a_negative_zero_or_missing_price_is_refused() {
    let app = spawn_app().await;
    for body in [json!({ "title": "t", "price": -10 }), json!({ "title": "t", "price": 0 }), json!({ "title": "t" })] {
        assert_eq!(errors(app.create("u1", body).await, 400).await, vec![field("Price must be greater than 0", "price")]);
    }
    let refused = [
        (json!(12.345), ErrorCode::PriceMalformed),
        (json!("12.500"), ErrorCode::PriceMalformed),
        (json!(true), ErrorCode::PriceNotNumber),
        (json!(1_000_001), ErrorCode::PriceTooLarge),
    ];
    for (price, code) in refused {
        let errors = error_items(app.create("u1", json!({ "title": "t", "price": price })).await, 400).await;
        assert_eq!(errors[0].field.as_deref(), Some("price"), "{price}");
        assert_eq!(errors[0].code, code, "{price}");
    }
}

#[tokio::test]
async fn a_price_below_stripes_minimum_is_refused_and_nothing_is_listed() {
    let app = spawn_app().await;
    for price in [json!(0.49), json!("0.01")] {
        let response = app.create("u1", json!({ "title": "Cheap", "price": price })).await;
        let expected = ErrorItem::field(ErrorCode::PriceTooSmall, "price", "Price must be at least $0.50");
        assert_eq!(error_items(response, 400).await, vec![expected]);
    }
    assert_eq!(app.create("u1", json!({ "title": "Cheapest", "price": 0.5 })).await.status().as_u16(), 201);
    let listed: Vec<serde_json::Value> = app.client.get(app.url("/api/tickets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.iter().map(|t| t["title"].clone()).collect::<Vec<_>>(), vec![json!("Cheapest")]);
}

/// $1,000,000.00 used to be listable and then could never be paid: Stripe charges at most
/// $999,999.99 in USD.
#[tokio::test]
async fn a_price_above_stripes_largest_charge_is_refused_and_the_largest_is_listed() {
    let app = spawn_app().await;
    for price in [json!(1_000_000), json!("999999.991"), json!("1000000.00")] {
        let response = app.create("u1", json!({ "title": "Dear", "price": price })).await;
        let status = response.status().as_u16();
        let items = error_items(response, 400).await;
        assert_eq!(status, 400, "{price}");
        assert_eq!(items.len(), 1, "{price}: {items:?}");
        assert_eq!(items[0].field.as_deref(), Some("price"), "{price}");
    }
    let response = app.create("u1", json!({ "title": "Dear", "price": 1_000_000 })).await;
    let expected = ErrorItem::field(ErrorCode::PriceTooLarge, "price", "Price must be at most 999999.99");
    assert_eq!(error_items(response, 400).await, vec![expected]);
    let created = app.create("u1", json!({ "title": "Dearest", "price": "999999.99" })).await;
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(created.json::<serde_json::Value>().await.unwrap()["price"], json!(999_999.99));
}

#[tokio::test]
async fn a_title_with_a_bidirectional_override_is_refused() {
    let app = spawn_app().await;
    let response = app.create("u1", json!({ "title": "Concert\u{202E}gpj.exe", "price": 10 })).await;
    assert_eq!(errors(response, 400).await, vec![field("Title must not contain invisible formatting characters", "title")]);
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let app = spawn_app().await;
    let errors = error_items(app.create("u1", json!({ "title": "", "price": 0 })).await, 400).await;
    let expected = vec![
        ErrorItem::field(ErrorCode::TitleRequired, "title", "Title is required"),
        ErrorItem::field(ErrorCode::PriceNotPositive, "price", "Price must be greater than 0"),
    ];
    assert_eq!(errors, expected);
}

#[tokio::test]
async fn a_valid_ticket_is_stored_and_ticket_created_is_published() {
    let app = spawn_app().await;
    let mut spy = EventSpy::new(&app.nats, "ticket.>").await;
    let response = app.create("u1", json!({ "title": "Concert", "price": "20.50" })).await;
    assert_eq!(response.status().as_u16(), 201);
    let ticket: serde_json::Value = response.json().await.unwrap();
    assert_eq!(ticket["title"], "Concert");
    assert_eq!(ticket["price"], 20.5);
    assert_eq!(ticket["userId"], "u1");
    assert_eq!(ticket["version"], 0);
    assert!(ticket.get("orderId").is_none());

    let stored: serde_json::Value = app.get(ticket["id"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(stored, ticket);
    let event = spy.expect("ticket.created").await;
    assert_eq!(event, json!({ "id": ticket["id"], "version": 0, "title": "Concert", "price": 20.5, "userId": "u1" }));
}
