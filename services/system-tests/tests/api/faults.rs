//! NATS restarted while a service writes: the event waits in the writer's outbox and reaches
//! the other service after the outage.
use std::time::Duration;

use test_support::NatsServer;

use crate::helpers::{spawn_orders, spawn_tickets};

#[tokio::test]
async fn nats_stopped_and_restarted_during_a_write_loses_nothing() {
    let mut nats = NatsServer::start();
    let tickets = spawn_tickets(&nats, &[]).await;
    let orders = spawn_orders(&nats, &[]).await;

    nats.stop();
    // Written while NATS is down: the ticket and its event wait in the outbox.
    let id = tickets.sell("Written during the outage").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    nats.restart();

    orders.wait_orderable(&id).await;
    let order = orders.order("buyer", &id).await;
    assert_eq!(order.status().as_u16(), 201);
}
