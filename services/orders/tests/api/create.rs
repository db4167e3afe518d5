use serde_json::{json, Value};
use shared::{ErrorCode, ErrorItem};
use test_support::{token, EventSpy};

use crate::helpers::{error_items, errors, general, known_ticket, spawn_app};

#[tokio::test]
async fn requires_a_session_and_a_ticket_id() {
    let (app, _nats) = spawn_app().await;
    let response = app.client.post(app.url("/api/orders")).json(&json!({ "ticketId": "t" })).send().await.unwrap();
    assert_eq!(errors(response, 401).await, vec![general("Not authorized")]);
    let response = app.client.post(app.url("/api/orders")).bearer_auth(token("buyer")).json(&json!({})).send().await.unwrap();
    let expected = ErrorItem::field(ErrorCode::TicketIdRequired, "ticketId", "TicketId must be provided");
    assert_eq!(error_items(response, 400).await, vec![expected]);
}

#[tokio::test]
async fn a_ticket_that_does_not_exist_cannot_be_ordered() {
    let (app, _nats) = spawn_app().await;
    assert_eq!(errors(app.order("buyer", "no-such-ticket").await, 404).await, vec![general("Not Found")]);
}

#[tokio::test]
async fn you_cannot_buy_your_own_ticket() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let refused = ErrorItem::new(ErrorCode::BuyOwnTicket, "You cannot buy your own ticket");
    assert_eq!(error_items(app.order("seller", "t1").await, 400).await, vec![refused]);
}

#[tokio::test]
async fn an_order_reserves_the_ticket_and_publishes_order_created() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "t1").await;
    let mut spy = EventSpy::new(&nats, "order.created").await;
    let before = time::OffsetDateTime::now_utc();
    let response = app.order("buyer", "t1").await;
    assert_eq!(response.status().as_u16(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "created");
    assert_eq!(order["userId"], "buyer");
    assert_eq!(order["version"], 0);
    assert_eq!(order["ticket"], json!({ "id": "t1", "title": "ticket t1", "price": 20.0, "version": 0 }));
    let expires =
        time::OffsetDateTime::parse(order["expiresAt"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    let window = (expires - before).whole_seconds();
    assert!((899..=901).contains(&window), "expiresAt is now + 900 s, got {window}");

    let event = spy.expect("order.created").await;
    assert_eq!(event["id"], order["id"]);
    assert_eq!(event["ticket"], json!({ "id": "t1", "price": 20.0, "version": 0 }));
    assert_eq!(event["expiresAt"].as_str().map(|s| !s.is_empty()), Some(true));

    let refused = ErrorItem::new(ErrorCode::TicketReserved, "Ticket is already reserved");
    assert_eq!(error_items(app.order("other-buyer", "t1").await, 400).await, vec![refused]);
}

#[tokio::test]
async fn thirty_two_concurrent_buyers_get_exactly_one_order() {
    let (app, nats) = spawn_app().await;
    known_ticket(&app, &nats, "hot").await;
    let buyers: Vec<String> = (0..32).map(|i| format!("buyer{i}")).collect();
    let attempts = buyers.iter().map(|buyer| app.order(buyer, "hot"));
    let responses = futures_util::future::join_all(attempts).await;
    let mut created = 0;
    for response in responses {
        match response.status().as_u16() {
            201 => created += 1,
            400 => assert_eq!(errors(response, 400).await, vec![general("Ticket is already reserved")]),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn the_expiration_window_comes_from_the_environment() {
    let nats = test_support::NatsServer::start();
    let app = crate::helpers::spawn_orders(&nats, &[("EXPIRATION_WINDOW_SECONDS", "60")]).await;
    known_ticket(&app, &nats, "t1").await;
    let order: Value = app.order("buyer", "t1").await.json().await.unwrap();
    let expires =
        time::OffsetDateTime::parse(order["expiresAt"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    let window = (expires - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((58..=60).contains(&window), "{window}");
}

#[tokio::test]
async fn a_buyer_racing_for_eight_tickets_holds_four_and_is_told_why() {
    let (app, nats) = spawn_app().await;
    for i in 0..8 {
        known_ticket(&app, &nats, &format!("h{i}")).await;
    }
    // A bot's burst: all eight at once, so that every order reads the count before the others commit.
    let app = &app;
    let responses = futures_util::future::join_all((0..8).map(|i| async move { (i, app.order("hoarder", &format!("h{i}")).await) })).await;
    let mut held = Vec::new();
    for (i, response) in responses {
        match response.status().as_u16() {
            201 => held.push(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()),
            _ => {
                let refused = ErrorItem::new(ErrorCode::TooManyHolds, "Too many tickets on hold");
                assert_eq!(error_items(response, 400).await, vec![refused], "ticket h{i}");
            }
        }
    }
    assert_eq!(held.len(), 4, "the default MAX_HOLDS_PER_BUYER is 4");
    // Other buyers are not affected, and a hold given back makes room for one more.
    assert_eq!(app.order("someone-else", "h7").await.status().as_u16(), 201);
    assert_eq!(app.cancel("hoarder", &held[0]).await.status().as_u16(), 204);
    let free = (0..7).map(|i| format!("h{i}")).collect::<Vec<_>>();
    let mut placed = false;
    for id in &free {
        if app.order("hoarder", id).await.status().as_u16() == 201 {
            placed = true;
            break;
        }
    }
    assert!(placed, "after one cancellation the buyer may hold a fourth ticket again");
}

#[tokio::test]
async fn the_cap_on_holds_is_configurable() {
    let nats = test_support::NatsServer::start();
    let app = crate::helpers::spawn_orders(&nats, &[("MAX_HOLDS_PER_BUYER", "1")]).await;
    known_ticket(&app, &nats, "a").await;
    known_ticket(&app, &nats, "b").await;
    assert_eq!(app.order("buyer", "a").await.status().as_u16(), 201);
    let refused = ErrorItem::new(ErrorCode::TooManyHolds, "Too many tickets on hold");
    assert_eq!(error_items(app.order("buyer", "b").await, 400).await, vec![refused]);
}
