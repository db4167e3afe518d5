//! `order.created` becomes a JetStream scheduled message (`Nats-Schedule: @at <expiresAt>`,
//! nats-server 2.12+) that the server itself publishes as `expiration.complete` when it is due.
//!
//! Why scheduled messages: the schedule is stored in the `TICKETING_EXPIRATIONS` stream (file
//! storage, replicated in a cluster), so a restart of this service or of NATS loses nothing, and
//! this process holds no timer or task per pending order: 100,000 pending expiries cost it
//! nothing. The server fires a one-shot schedule once and purges it in the same step; the fired
//! `expiration.complete` reaches `TICKETING` as a stream source. Schedules live in a stream of
//! their own because a schedule may fire any subject of its stream: in `TICKETING` one could fire
//! another service's events.
//!
//! For the same reason this service never sees an expiry happen: how late expiries are
//! (`expiry_lateness_seconds`) is measured by orders when it cancels the order.
//!
//! The schedule carries the trace context of the `order.created` handling (`traceparent`), and
//! the server keeps a schedule's headers on the message it fires (all but its own
//! `Nats-Schedule-*`, `Nats-Msg-Id` and the like): the expiry's handling in orders is in the
//! trace of the purchase.
use async_nats::jetstream;
use async_nats::HeaderMap;
use contract::OrderId;
use shared::events::consumer::{ConsumerSpec, Delivery, Dependency, Outcome};
use shared::events::{Event, ExpirationComplete, OrderCreated};
use time::format_description::well_known::Rfc3339;

/// Subject of an order's schedule: `expiration.schedule.<orderId>`. One schedule per subject, so
/// scheduling an order again replaces its schedule instead of adding one.
pub const SCHEDULE_PREFIX: &str = shared::events::nats::SCHEDULE_PREFIX;

/// The durable consumer all replicas share; its dead letters are `deadletter.expiration-service.>`.
pub const DURABLE: &str = "expiration-service";

/// Handling is one publish to JetStream: while JetStream does not answer, the consumer pauses.
pub fn consumer() -> ConsumerSpec {
    ConsumerSpec::new(DURABLE, vec![OrderCreated::SUBJECT], Dependency::JetStream)
}

/// Schedules the order's expiry at its `expiresAt`. What the expiry does is the payments
/// service's to decide (a card may be in flight), then the orders service's (docs/events.md).
pub async fn handle(js: &jetstream::Context, delivery: Delivery) -> anyhow::Result<Outcome> {
    let event = match delivery.parse::<OrderCreated>() {
        Ok(event) => event,
        Err(outcome) => return Ok(outcome),
    };
    // The id becomes a subject token: anything else than a plain id could address other subjects.
    if event.id.as_str().is_empty() || !event.id.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Ok(Outcome::Reject(format!("order id {:?} cannot name a schedule", event.id)));
    }
    schedule(js, &event.id, event.expires_at).await?;
    tracing::debug!(order.id = %event.id, expires_at = %event.expires_at, "expiry scheduled");
    Ok(Outcome::Ack)
}

/// Stores the schedule and waits for the stream's ack, so `order.created` is acked only once its
/// expiry is durable. `Nats-Msg-Id` makes a redelivered `order.created` store it once. The
/// current span's trace context goes with it to the fired `expiration.complete`.
pub async fn schedule(js: &jetstream::Context, order_id: &OrderId, at: time::OffsetDateTime) -> anyhow::Result<()> {
    let at = at.to_offset(time::UtcOffset::UTC).format(&Rfc3339)?;
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Schedule", format!("@at {at}").as_str());
    headers.insert("Nats-Schedule-Target", ExpirationComplete::SUBJECT);
    headers.insert("Nats-Msg-Id", format!("expiration-{order_id}").as_str());
    for (name, value) in shared::telemetry::current_trace_headers() {
        headers.insert(name, value);
    }
    let payload = serde_json::to_vec(&ExpirationComplete { order_id: order_id.clone() })?;
    js.publish_with_headers(format!("{SCHEDULE_PREFIX}.{order_id}"), headers, payload.into())
        .await?
        .await
        .map_err(|error| anyhow::anyhow!("storing the expiry of order {order_id}: {error}"))?;
    Ok(())
}
