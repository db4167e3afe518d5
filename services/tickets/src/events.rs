//! What the tickets service does with order events: reserve a ticket for a new order, release it
//! when that order is cancelled, mark it sold when it completes. Each handler is idempotent.
use std::time::Duration;

use contract::{Cents, OrderId, Version};
use shared::events::consumer::{ConsumerSpec, Delivery, Dependency, Outcome};
use shared::events::outbox::OutboxRecord;
use shared::events::{Event, OrderCancelled, OrderCompleted, OrderCreated, TicketUpdated};
use shared::store::Db;
use shared::timestamp::rfc3339;

use crate::store::{self, Guarded, Holding, TicketRow};

/// The durable consumer all replicas share; its dead letters are `deadletter.tickets-service.>`.
pub const DURABLE: &str = "tickets-service";

/// Pauses while the service's database is unreachable.
pub fn consumer(db: &Db) -> ConsumerSpec {
    ConsumerSpec::new(
        DURABLE,
        vec![OrderCreated::SUBJECT, OrderCancelled::SUBJECT, OrderCompleted::SUBJECT],
        Dependency::Database(db.clone()),
    )
}

/// Waiting for an earlier event (a cancellation that frees the ticket) to arrive.
const EARLY: Duration = Duration::from_millis(100);

/// `changed` runs after every handler that may have written, failed ones included: an error can
/// come after a commit (its answer lost on the way back).
pub async fn handle(db: Db, changed: impl Fn(), delivery: Delivery) -> anyhow::Result<Outcome> {
    let handled = match delivery.subject.as_str() {
        OrderCreated::SUBJECT => match delivery.parse::<OrderCreated>() {
            Ok(event) => order_created(&db, event).await,
            Err(outcome) => return Ok(outcome),
        },
        OrderCancelled::SUBJECT => match delivery.parse::<OrderCancelled>() {
            Ok(event) => order_cancelled(&db, event).await,
            Err(outcome) => return Ok(outcome),
        },
        OrderCompleted::SUBJECT => match delivery.parse::<OrderCompleted>() {
            Ok(event) => order_completed(&db, event).await,
            Err(outcome) => return Ok(outcome),
        },
        other => return Ok(Outcome::Reject(format!("no handler for {other}"))),
    };
    changed();
    handled
}

fn updated(row: &TicketRow, order_id: Option<OrderId>) -> anyhow::Result<OutboxRecord> {
    OutboxRecord::new(&TicketUpdated {
        id: row.id.clone(),
        version: row.version.next()?,
        title: row.title.clone(),
        price: Cents(row.price),
        user_id: row.user_id.clone(),
        order_id,
    })
}

async fn order_created(db: &Db, event: OrderCreated) -> anyhow::Result<Outcome> {
    for _ in 0..5 {
        // Any version of this order seen before: a duplicate, or a late arrival after its
        // cancellation. Either way it must not reserve the ticket (again).
        if store::seen_order(db, &event.id).await?.is_some() {
            return Ok(Outcome::Ack);
        }
        let Some(ticket) = store::get(db, &event.ticket.id).await?.filter(|t| !t.deleted) else {
            // Unknown, or deleted before the order arrived (orders cancels that order when it
            // hears of the deletion): record the order and move on. Reserving a deleted ticket
            // would publish a ticket.updated that brings it back to life in other services.
            if store::apply_order(db, &event.ticket.id, Version::FIRST, None, &event.id, event.version, None).await? == Guarded::Written {
                return Ok(Outcome::Ack);
            }
            continue;
        };
        if ticket.order_id.as_ref().is_some_and(|o| *o != event.id) {
            // Still held by an order whose cancellation has not arrived yet.
            return Ok(Outcome::Wait(EARLY));
        }
        let record = updated(&ticket, Some(event.id.clone()))?;
        let until = rfc3339(event.expires_at);
        let holding = Holding::Reserve { until: &until };
        if store::apply_order(db, &ticket.id, ticket.version, Some(holding), &event.id, event.version, Some(record)).await?
            == Guarded::Written
        {
            return Ok(Outcome::Ack);
        }
    }
    anyhow::bail!("ticket {} kept changing while reserving it", event.ticket.id)
}

/// Marks the ticket sold. A paid order's `order.created` can arrive after its
/// `order.completed` (a relay's publish failed and was retried): the reservation must be made
/// first, or the paid ticket would stay on sale, so until this service has seen the order
/// created the event waits for it.
async fn order_completed(db: &Db, event: OrderCompleted) -> anyhow::Result<Outcome> {
    match store::seen_order(db, &event.id).await? {
        None => Ok(Outcome::Wait(EARLY)),
        Some(seen) if seen >= event.version => Ok(Outcome::Ack),
        Some(_) => {
            // The event carries no time: sold when this service learns it, moments after payment.
            let sold_at = rfc3339(time::OffsetDateTime::now_utc());
            store::mark_sold(db, &event, &sold_at).await?;
            Ok(Outcome::Ack)
        }
    }
}

async fn order_cancelled(db: &Db, event: OrderCancelled) -> anyhow::Result<Outcome> {
    for _ in 0..5 {
        if store::seen_order(db, &event.id).await?.is_some_and(|seen| seen >= event.version) {
            return Ok(Outcome::Ack);
        }
        let ticket = store::get(db, &event.ticket.id).await?;
        match ticket {
            // Release the ticket only if this order still holds it. A sold one too: orders
            // cancels a paid order only when its ticket was deleted or changed while it was
            // placed, and payments refunds it, so the ticket is on sale again at the seller's
            // price (docs/events.md, "A seller's edit racing an order").
            Some(ticket) if ticket.order_id.as_ref() == Some(&event.id) => {
                let record = updated(&ticket, None)?;
                let holding = Holding::Release;
                if store::apply_order(db, &ticket.id, ticket.version, Some(holding), &event.id, event.version, Some(record)).await?
                    == Guarded::Written
                {
                    return Ok(Outcome::Ack);
                }
            }
            // Not held by this order (never reserved, or the ticket is gone): only remember the
            // order, so that a late order.created for it reserves nothing.
            _ => {
                if store::apply_order(db, &event.ticket.id, Version::FIRST, None, &event.id, event.version, None).await? == Guarded::Written
                {
                    return Ok(Outcome::Ack);
                }
            }
        }
    }
    anyhow::bail!("ticket {} kept changing while releasing it", event.ticket.id)
}
