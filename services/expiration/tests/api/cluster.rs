//! Scheduled expiries in a NATS cluster, as Kubernetes runs it: the `TICKETING_EXPIRATIONS` stream
//! (where the schedules are) at three replicas keeps every pending expiry when the server leading
//! it is lost, and the new leader fires each one once.
use std::time::Duration;

use test_support::{all_acked, eventually, NatsCluster};

use crate::helpers::*;

#[tokio::test]
async fn pending_expiries_survive_the_loss_of_the_stream_leader() {
    let mut nats = NatsCluster::start(3).await;
    let config = expiration::ExpirationConfig::read(test_support::env(&nats, &[("NATS_STREAM_REPLICAS", "3")])).expect("valid");
    let server = expiration::application(config).await.expect("the expiration service starts");
    tokio::spawn(server.run_until_stopped());
    // Creating a stream at three replicas takes a few seconds in a fresh cluster.
    let ready = eventually(Duration::from_secs(60), || test_support::consumer_exists(&nats, "expiration-service")).await;
    assert!(ready, "the service never set up its stream and consumer");

    for i in 0..20 {
        order_created(&nats, &format!("o{i}"), in_ms(6_000)).await;
    }
    assert!(eventually(Duration::from_secs(20), || all_acked(&nats, "expiration-service")).await, "every expiry scheduled");
    let leader = nats.leader_of("TICKETING_EXPIRATIONS").await;
    nats.kill(&leader);

    // They fire into TICKETING_EXPIRATIONS on time; TICKETING's source of them resumes after
    // the server retries it, 30-40 s after a leader is lost (measured: docs/events.md).
    let all_fired = eventually(Duration::from_secs(90), || async { fired(&nats).await.len() >= 20 }).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let by_order = fired(&nats).await;
    assert!(all_fired, "every expiry fired after {leader} was lost: {} of 20", by_order.len());
    assert!(by_order.values().all(|f| f.len() == 1), "none fired twice");
    let new_leader = nats.leader_of("TICKETING_EXPIRATIONS").await;
    assert_ne!(new_leader, leader, "another server leads the stream");
}
