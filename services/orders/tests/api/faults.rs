//! Delivery faults: two replicas on one durable consumer. (NATS restarted during a write is the
//! system tests': a ticket written in the outage reaches orders after it.)
use std::time::Duration;

use test_support::{eventually, wait_acked, NatsServer};

use crate::helpers::{publish, spawn_orders, ticket_created};

#[tokio::test]
async fn two_replicas_on_one_durable_consumer_handle_each_event_once_in_total() {
    let nats = NatsServer::start();
    // Two replicas of the orders service, each with its own (in-memory) store, so what each
    // handled can be told apart: every ticket must be known to exactly one of them.
    let a = spawn_orders(&nats, &[]).await;
    let b = spawn_orders(&nats, &[]).await;
    let ids: Vec<String> = (0..40).map(|i| format!("t{i}")).collect();
    for id in &ids {
        publish(&nats, "ticket.created", ticket_created(id, 5.0)).await;
    }
    for id in &ids {
        let settled = eventually(Duration::from_secs(5), || async { knows(&a, id).await || knows(&b, id).await }).await;
        assert!(settled, "{id} was handled by no replica");
    }
    // Every event acked: no second, wrong delivery is still to come when we check that none did.
    wait_acked(&nats, "orders-service", Duration::from_secs(10)).await;
    let mut by_a = 0;
    for id in &ids {
        let (in_a, in_b) = (knows(&a, id).await, knows(&b, id).await);
        assert!(in_a ^ in_b, "{id}: handled by a={in_a} b={in_b}");
        by_a += usize::from(in_a);
    }
    assert!(by_a > 0 && by_a < ids.len(), "both replicas pulled work ({by_a} of {} by a)", ids.len());
}

/// Whether this replica has the ticket: the seller's own order attempt answers 404 until it does.
async fn knows(app: &crate::helpers::TestApp, id: &str) -> bool {
    app.order("seller", id).await.status().as_u16() != 404
}
