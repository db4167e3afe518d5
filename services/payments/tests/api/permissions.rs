//! docs/events.md, "Who may publish": a message on a subject from any user but its owner is
//! refused by the server. The server runs the users and permissions of every deployment
//! (`shared::events::permissions`); payments connects as its own user, as the service does.
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::HeaderMap;
use serde_json::json;
use shared::events::nats::{ensure_streams, NatsSettings};
use shared::events::permissions::{self, SERVICES};
use test_support::{client, env, service_options, stored, NatsServer};
use tokio::sync::mpsc;

/// A connection as `user` (its own password and inbox prefix), and every error the server sends
/// it.
async fn connect_as(nats: &NatsServer, user: &str) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
    let (errors, received) = mpsc::unbounded_channel();
    let client = service_options(user)
        .event_callback(move |event| {
            let errors = errors.clone();
            async move {
                if let async_nats::Event::ServerError(error) = event {
                    let _ = errors.send(error.to_string());
                }
            }
        })
        .connect(nats.url())
        .await
        .unwrap_or_else(|error| panic!("{user} connects with its own password: {error}"));
    (client, received)
}

/// A JetStream context that waits one second for a publish ack: a refused publish gets none.
fn jetstream_of(client: async_nats::Client) -> jetstream::Context {
    let mut js = jetstream::new(client);
    js.set_timeout(Duration::from_secs(1));
    js
}

/// The streams, made as payments makes them at start (its user may create them).
async fn streams_made_by(nats: &NatsServer, js: &jetstream::Context) {
    let mut vars = env(nats, &[]);
    let settings = NatsSettings::read(&mut vars, "payments");
    ensure_streams(js, &settings).await.expect("payments may create the streams");
}

/// Waits (5 s at most) for a permissions violation on `subject` among `errors`.
async fn refused(errors: &mut mpsc::UnboundedReceiver<String>, subject: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, errors.recv()).await {
            Ok(Some(error)) => {
                let error = error.to_lowercase();
                if error.contains("permissions violation") && error.contains(&format!("\"{}\"", subject.to_lowercase())) {
                    return true;
                }
            }
            _ => return false,
        }
    }
    false
}

#[tokio::test]
async fn payments_may_publish_payment_created_and_the_server_refuses_it_order_cancelled() {
    let nats = NatsServer::start();
    let (payments, mut errors) = connect_as(&nats, "payments").await;
    let js = jetstream_of(payments);
    streams_made_by(&nats, &js).await;

    let paid = json!({ "id": "p1", "orderId": "o1", "stripeId": "pi_1" }).to_string();
    js.publish("payment.created", paid.into()).await.expect("sent").await.expect("payments' own event is stored");
    assert_eq!(stored(&nats, "payment.created").await.len(), 1);

    let cancelled = json!({ "id": "o1", "version": 1, "ticket": { "id": "t1" } }).to_string();
    let ack = js.publish("order.cancelled", cancelled.into()).await.expect("sent");
    assert!(ack.await.is_err(), "no stream acknowledges a publish the server refused");
    assert!(refused(&mut errors, "order.cancelled").await, "the server reports a permissions violation for order.cancelled");
    assert!(stored(&nats, "order.cancelled").await.is_empty(), "nothing was stored on order.cancelled");
}

#[tokio::test]
async fn no_service_may_publish_another_owners_events() {
    let nats = NatsServer::start();
    streams_made_by(&nats, &jetstream::new(client(&nats).await)).await;
    let subjects = ["ticket.created", "ticket.updated", "ticket.deleted", "order.created", "order.cancelled", "order.completed"]
        .into_iter()
        .chain(["payment.created", "expiration.complete", "expiration.schedule.o1"]);
    for service in SERVICES {
        let (connection, mut errors) = connect_as(&nats, service.name).await;
        let publish_allow = service.publish_allow();
        for subject in subjects.clone().filter(|s| !publish_allow.iter().any(|p| permissions::covers(p, s))) {
            connection.publish(subject, "{}".into()).await.expect("sent");
            connection.flush().await.expect("flushed");
            assert!(refused(&mut errors, subject).await, "the server refuses {subject} from {}", service.name);
        }
    }
    for subject in subjects {
        assert!(stored(&nats, subject).await.is_empty(), "nothing reached the streams on {subject}");
    }
}

#[tokio::test]
async fn a_schedule_cannot_fire_another_owners_event() {
    let nats = NatsServer::start();
    let (payments, _) = connect_as(&nats, "payments").await;
    let payments = jetstream_of(payments);
    streams_made_by(&nats, &payments).await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    let at = format!("@at {}", soon.format(&time::format_description::well_known::Rfc3339).unwrap());
    let schedule = |target: &str| {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Schedule", at.as_str());
        headers.insert("Nats-Schedule-Target", target);
        headers
    };
    // In the events stream, scheduled messages are not allowed at all.
    let ack = payments.publish_with_headers("payment.created", schedule("order.completed"), "{}".into()).await.expect("sent");
    assert!(ack.await.is_err(), "a schedule in the events stream is refused");
    // The expiration service's schedules may fire only the subjects of their own stream.
    let (expiration, _) = connect_as(&nats, "expiration").await;
    let expiration = jetstream_of(expiration);
    let ack = expiration.publish_with_headers("expiration.schedule.o1", schedule("order.cancelled"), "{}".into()).await.expect("sent");
    assert!(ack.await.is_err(), "a schedule targeting another owner's subject is refused");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(stored(&nats, "order.completed").await.is_empty());
    assert!(stored(&nats, "order.cancelled").await.is_empty());
}

#[tokio::test]
async fn the_web_server_may_listen_to_the_events_its_pages_follow_and_publish_nothing() {
    use futures_util::StreamExt;

    let nats = NatsServer::start();
    let (web, mut errors) = connect_as(&nats, permissions::WEB.name).await;
    let mut heard = web.subscribe("ticket.updated").await.expect("web may subscribe to ticket.updated");
    web.flush().await.expect("flushed");
    let (tickets, _) = connect_as(&nats, "tickets").await;
    tickets.publish("ticket.updated", "{}".into()).await.expect("sent");
    tickets.flush().await.expect("flushed");
    let message = tokio::time::timeout(Duration::from_secs(5), heard.next()).await.expect("heard within 5 s");
    assert_eq!(message.map(|m| m.subject.to_string()), Some("ticket.updated".to_string()));

    for subject in ["ticket.updated", "order.cancelled", "payment.created", "_INBOX.web.x"] {
        web.publish(subject, "{}".into()).await.expect("sent");
        web.flush().await.expect("flushed");
        assert!(refused(&mut errors, subject).await, "the server refuses {subject} from web");
    }
    let _foreign = web.subscribe("payment.created").await.expect("sent");
    web.flush().await.expect("flushed");
    assert!(refused(&mut errors, "payment.created").await, "web may not hear payment.created");
}

/// A consumer that pushes delivers wherever its creator says, and nats-server publishes there on
/// its behalf whatever the creator's permissions. A service could once create consumers on the
/// dead-letter stream, and one delivered its dead letters onto the web server's
/// `order.completed`. Now only the operator's user reads that stream.
#[tokio::test]
async fn a_service_cannot_make_the_dead_letter_stream_deliver_onto_another_subject() {
    use async_nats::jetstream::consumer::push;
    use futures_util::StreamExt;

    let nats = NatsServer::start();
    let (payments, mut errors) = connect_as(&nats, "payments").await;
    let payments = jetstream_of(payments);
    streams_made_by(&nats, &payments).await;
    payments.publish("deadletter.payments-service.order.completed", "{}".into()).await.expect("sent").await.expect("its own dead letter");
    let (web, _) = connect_as(&nats, permissions::WEB.name).await;
    let mut heard = web.subscribe("order.completed").await.expect("web hears order.completed");
    web.flush().await.expect("flushed");

    let stream = payments.get_stream_no_info("TICKETING_DEAD_LETTER").await.expect("a handle needs no request");
    let pushed = stream
        .create_consumer(push::Config {
            deliver_subject: "order.completed".to_string(),
            filter_subject: "deadletter.payments-service.>".to_string(),
            ..Default::default()
        })
        .await;
    assert!(pushed.is_err(), "payments may not create a consumer on the dead-letter stream");
    let violation = tokio::time::timeout(Duration::from_secs(5), errors.recv()).await.ok().flatten().unwrap_or_default().to_lowercase();
    assert!(violation.contains("permissions violation") && violation.contains("consumer.create"), "{violation}");
    let delivered = tokio::time::timeout(Duration::from_secs(2), heard.next()).await;
    assert!(delivered.is_err(), "nothing reached web's order.completed: {delivered:?}");
    // The operator reads it, as `dead-letters list` does.
    let admin = jetstream::new(client(&nats).await);
    let letters = shared::events::dead_letters::list(&admin, "payments-service").await.expect("admin reads the dead letters");
    assert_eq!(letters.len(), 1);
}
