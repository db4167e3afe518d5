use std::time::Duration;

use test_support::{all_acked, eventually, NatsServer};

use crate::helpers::*;

#[tokio::test]
async fn an_order_expires_within_a_second_of_its_expires_at_and_not_before() {
    let nats = NatsServer::start();
    spawn_expiration(&nats).await;
    let at = in_ms(2_000);
    order_created(&nats, "o1", at).await;
    let fired = wait_fired(&nats, 1).await;
    let fired = &fired["o1"];
    assert_eq!(fired.len(), 1);
    let lateness = fired[0].stored_at - at;
    assert!(lateness >= time::Duration::ZERO, "fired {lateness} early");
    assert!(lateness < time::Duration::seconds(1), "fired {lateness} late");
}

#[tokio::test]
async fn a_redelivered_order_created_expires_once() {
    let nats = NatsServer::start();
    spawn_expiration(&nats).await;
    let at = in_ms(1_500);
    for _ in 0..3 {
        order_created(&nats, "o1", at).await;
    }
    let fired = wait_fired(&nats, 1).await;
    assert_eq!(fired["o1"].len(), 1);
}

#[tokio::test]
async fn an_order_already_past_its_expiry_expires_at_once() {
    let nats = NatsServer::start();
    spawn_expiration(&nats).await;
    order_created(&nats, "late", in_ms(-5_000)).await;
    let started = std::time::Instant::now();
    let fired = wait_fired(&nats, 1).await;
    assert_eq!(fired["late"].len(), 1);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn many_orders_each_expire_once_and_the_consumer_is_drained() {
    let nats = NatsServer::start();
    spawn_expiration(&nats).await;
    for i in 0..200 {
        order_created(&nats, &format!("o{i}"), in_ms(1_000 + i * 5)).await;
    }
    assert!(eventually(Duration::from_secs(10), || all_acked(&nats, "expiration-service")).await);
    let fired = wait_fired(&nats, 200).await;
    assert_eq!(fired.len(), 200);
    assert!(fired.values().all(|f| f.len() == 1), "each fires once");
}

#[tokio::test]
async fn the_expiry_carries_the_trace_of_the_order_created_it_was_scheduled_from() {
    // With a subscriber the handler runs in a span, and so in a trace.
    test_support::logs::capture();
    let nats = NatsServer::start();
    spawn_expiration(&nats).await;
    let trace_id = "4bf92f3577b34da6a736d5e8ce7d1a5c";
    let caller = format!("00-{trace_id}-00f067aa0ba902b7-01");
    order_created_with_headers(&nats, "traced", in_ms(500), &[("traceparent", caller.as_str())]).await;
    let fired = wait_fired(&nats, 1).await;
    let traceparent = fired["traced"][0].headers.get("traceparent").cloned().unwrap_or_default();
    // The server kept the schedule's header on the message it fired.
    assert!(traceparent.starts_with(&format!("00-{trace_id}-")), "the fired expiry's traceparent: {traceparent:?}");
    assert!(!traceparent.contains("00f067aa0ba902b7"), "the handling's span, a child of the publisher's: {traceparent}");
}
