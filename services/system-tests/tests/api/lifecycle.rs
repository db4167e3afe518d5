//! The whole purchase life cycle with every service on one nats-server: tickets, orders,
//! payments (against the Stripe double) and expiration. An unpaid order expires and frees its
//! ticket; a paid one completes, keeps its ticket and never expires.
//!
//! An expiry goes expiration → payments (`expiration.complete`) → orders (`payment.expired`),
//! so a test of it runs payments too.
use std::time::Duration;

use serde_json::{json, Value};
use test_support::{eventually, stored, token, wait_acked, NatsServer, Service};

use crate::helpers::{spawn_expiration, spawn_orders, spawn_payments, spawn_tickets};

const WINDOW: &str = "2";

async fn order_status(orders: &Service, id: &str) -> String {
    let order: Value = orders.get_order("buyer", id).await.json().await.unwrap();
    order["status"].as_str().unwrap_or_default().to_string()
}

async fn listed(tickets: &Service, id: &str) -> bool {
    let list: Value = tickets.client.get(tickets.url("/api/tickets")).send().await.unwrap().json().await.unwrap();
    list.as_array().is_some_and(|l| l.iter().any(|t| t["id"] == id))
}

#[tokio::test]
async fn an_unpaid_order_expires_at_its_expires_at_and_frees_the_ticket() {
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[("EXPIRATION_WINDOW_SECONDS", WINDOW)]).await;
    spawn_expiration(&nats).await;
    let _payments = spawn_payments(&nats).await;

    let id = tickets.sell("Expiring").await;
    orders.wait_orderable(&id).await;
    let order: Value = orders.order("buyer", &id).await.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_string();
    // Held until the order's deadline, to the millisecond the order shows.
    tickets.until_ticket(&id, |t| t["orderId"] == order_id.as_str() && t["reservedUntil"] == order["expiresAt"]).await;
    assert!(!listed(&tickets, &id).await, "a reserved ticket is not on sale");

    let cancelled = eventually(Duration::from_secs(5), || async { order_status(&orders, &order_id).await == "cancelled" }).await;
    assert!(cancelled, "the order expired");
    // At its deadline, not half a minute after (the spec's second is measured by
    // `expiry_lateness_seconds` and the expiry bench; a test under a loaded machine gets slack).
    let expires_at =
        time::OffsetDateTime::parse(order["expiresAt"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    let late = time::OffsetDateTime::now_utc() - expires_at;
    assert!(late < time::Duration::seconds(10), "cancelled {late} after expiresAt");
    let expired: Value = orders.get_order("buyer", &order_id).await.json().await.unwrap();
    assert_eq!(expired["cancelReason"], "expired", "{expired}");
    tickets.until_ticket(&id, |t| t.get("orderId").is_none() && t.get("reservedUntil").is_none()).await;
    assert!(listed(&tickets, &id).await, "the ticket is on sale again");
}

#[tokio::test]
async fn a_paid_order_completes_keeps_its_ticket_and_does_not_expire() {
    let nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[("EXPIRATION_WINDOW_SECONDS", WINDOW)]).await;
    spawn_expiration(&nats).await;
    let (payments, stripe) = spawn_payments(&nats).await;

    let id = tickets.sell("Paid for").await;
    orders.wait_orderable(&id).await;
    let order: Value = orders.order("buyer", &id).await.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_string();

    let pay = || async {
        let body = json!({ "orderId": order_id, "token": "pm_card_visa" });
        payments.client.post(payments.url("/api/payments")).bearer_auth(token("buyer")).json(&body).send().await.unwrap()
    };
    // 404 until order.created reaches payments (milliseconds).
    let paid = eventually(Duration::from_secs(5), || async { pay().await.status().as_u16() == 201 }).await;
    assert!(paid);
    let completed = eventually(Duration::from_secs(5), || async { order_status(&orders, &order_id).await == "complete" }).await;
    assert!(completed, "payment.created completed the order");
    assert_eq!(stripe.charges().len(), 1);
    assert_eq!(stripe.charges()[0].amount, 1000);

    // The expiry fires (expiration.complete is in the stream) and payments answers it with no
    // payment.expired: still complete, and the ticket stays with its buyer.
    let expired = eventually(Duration::from_secs(10), || async {
        stored(&nats, "expiration.complete").await.iter().any(|m| m.payload["orderId"] == order_id.as_str())
    })
    .await;
    assert!(expired, "the order's expiry fired");
    wait_acked(&nats, "payments-service", Duration::from_secs(10)).await;
    wait_acked(&nats, "orders-service", Duration::from_secs(10)).await;
    assert!(stored(&nats, "payment.expired").await.is_empty(), "a paid order does not lapse");
    assert_eq!(order_status(&orders, &order_id).await, "complete");
    let sold = tickets.ticket(&id).await;
    assert_eq!((sold["orderId"].as_str(), sold["sold"].as_bool()), (Some(order_id.as_str()), Some(true)));
    assert!(sold.get("reservedUntil").is_none() && sold["soldAt"].is_string(), "sold, with no deadline left: {sold}");
    assert!(!listed(&tickets, &id).await, "a sold ticket is not on sale");
    assert!(stripe.refunds().is_empty());
}
