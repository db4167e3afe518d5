//! What the payments service does with events: keep its replica of each order by version, mark
//! for refund the payment of an order that was cancelled, and close an order to payments when its
//! time runs out (`expiration.complete`; see `attempts` for the deadline). Idempotent.
use std::time::Duration;

use contract::{OrderId, Version};
use shared::events::consumer::{apply_next, ConsumerSpec, Delivery, Dependency, Outcome};
use shared::events::{Event, ExpirationComplete, OrderCancelled, OrderCompleted, OrderCreated, OrderStatus};
use shared::store::Db;

use crate::attempts::Attempts;
use crate::store::{self, OrderReplica};

/// The durable consumer all replicas share; its dead letters are `deadletter.payments-service.>`.
pub const DURABLE: &str = "payments-service";

/// Pauses while the service's database is unreachable.
pub fn consumer(db: &Db) -> ConsumerSpec {
    ConsumerSpec::new(
        DURABLE,
        vec![OrderCreated::SUBJECT, OrderCancelled::SUBJECT, OrderCompleted::SUBJECT, ExpirationComplete::SUBJECT],
        Dependency::Database(db.clone()),
    )
}

/// How long an early event waits for the one before it.
const EARLY: Duration = Duration::from_millis(50);

/// Handles one delivery; `cancelled` is called after an order's cancellation was applied.
pub async fn handle(attempts: &Attempts, cancelled: impl Fn(), delivery: Delivery) -> anyhow::Result<Outcome> {
    let db = &attempts.db;
    let outcome = match delivery.subject.as_str() {
        OrderCreated::SUBJECT => match delivery.parse::<OrderCreated>() {
            Ok(event) => order_created(db, event).await?,
            Err(outcome) => outcome,
        },
        OrderCancelled::SUBJECT => match delivery.parse::<OrderCancelled>() {
            Ok(event) => {
                let outcome = apply(db, &event.id, event.version, OrderStatus::Cancelled).await?;
                cancelled();
                outcome
            }
            Err(outcome) => outcome,
        },
        OrderCompleted::SUBJECT => match delivery.parse::<OrderCompleted>() {
            Ok(event) => apply(db, &event.id, event.version, OrderStatus::Complete).await?,
            Err(outcome) => outcome,
        },
        ExpirationComplete::SUBJECT => match delivery.parse::<ExpirationComplete>() {
            // Before its `order.created`: wait for the replica.
            Ok(event) => {
                if attempts.expire(&event.order_id).await? {
                    Outcome::Ack
                } else {
                    Outcome::Wait(EARLY)
                }
            }
            Err(outcome) => outcome,
        },
        other => Outcome::Reject(format!("no handler for {other}")),
    };
    Ok(outcome)
}

async fn order_created(db: &Db, event: OrderCreated) -> anyhow::Result<Outcome> {
    let replica = OrderReplica {
        id: event.id,
        user_id: event.user_id,
        price: event.ticket.price.0,
        status: event.status.as_str().to_string(),
        expires_at: event.expires_at.format(&time::format_description::well_known::Rfc3339)?,
        version: event.version,
        payment_id: None,
        closed: false,
        lapsed: false,
    };
    // An existing replica means a duplicate delivery: no effect.
    store::insert_order(db, &replica).await?;
    Ok(Outcome::Ack)
}

/// The order replica's status by the version rule (`shared::events::consumer::apply_next`).
async fn apply(db: &Db, order_id: &OrderId, version: Version, status: OrderStatus) -> anyhow::Result<Outcome> {
    let current = store::get_order(db, order_id).await?.map(|c| c.version);
    apply_next(current, version, EARLY, async move || Ok(store::apply_status(db, order_id, version, status).await?)).await
}
