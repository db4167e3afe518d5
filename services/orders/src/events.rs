//! What the orders service does with events: keep its ticket replica by version, cancel orders
//! that expired or whose ticket was deleted, complete orders that were paid. Idempotent.
//!
//! An order's expiry is the payments service's word (`payment.expired`), not the timer's
//! (`expiration.complete`, which payments consumes): only payments knows whether a card was in
//! flight when the time ran out, and an order cancelled under a charge made in time would be a
//! buyer's "paid" turned into a refund (docs/events.md, "The payment deadline").
use std::time::Duration;

use ::metrics::histogram;
use contract::{TicketId, UserId, Version};
use shared::events::consumer::{apply_next, ConsumerSpec, Delivery, Dependency, Outcome};
use shared::events::{
    Event, OrderCompleted, OrderStatus, PaymentCreated, PaymentExpired, TicketCreated, TicketDeleted, TicketRef, TicketUpdated,
};
use shared::store::Db;

use shared::events::outbox::OutboxRecord;

use crate::store::{self, Closing, TicketReplica};

/// The durable consumer all replicas share; its dead letters are `deadletter.orders-service.>`.
pub const DURABLE: &str = "orders-service";

/// Pauses while the service's database is unreachable.
pub fn consumer(db: &Db) -> ConsumerSpec {
    ConsumerSpec::new(
        DURABLE,
        vec![TicketCreated::SUBJECT, TicketUpdated::SUBJECT, TicketDeleted::SUBJECT, PaymentExpired::SUBJECT, PaymentCreated::SUBJECT],
        Dependency::Database(db.clone()),
    )
}

/// How long an early event waits for the one before it.
const EARLY: Duration = Duration::from_millis(50);

pub async fn handle(db: Db, delivery: Delivery) -> anyhow::Result<Outcome> {
    macro_rules! on {
        ($event:ty, $handler:expr) => {
            match delivery.parse::<$event>() {
                Ok(event) => $handler(&db, event).await?,
                Err(outcome) => return Ok(outcome),
            }
        };
    }
    let outcome = match delivery.subject.as_str() {
        TicketCreated::SUBJECT => on!(TicketCreated, ticket_created),
        TicketUpdated::SUBJECT => on!(TicketUpdated, ticket_updated),
        TicketDeleted::SUBJECT => on!(TicketDeleted, ticket_deleted),
        PaymentExpired::SUBJECT => on!(PaymentExpired, payment_expired),
        PaymentCreated::SUBJECT => on!(PaymentCreated, payment_created),
        other => Outcome::Reject(format!("no handler for {other}")),
    };
    Ok(outcome)
}

/// The replica a ticket event describes.
fn replica(id: TicketId, title: String, price: contract::Cents, user_id: UserId, version: Version) -> TicketReplica {
    TicketReplica { id, title, price: price.0, user_id, version, deleted: false }
}

async fn ticket_created(db: &Db, event: TicketCreated) -> anyhow::Result<Outcome> {
    let replica = replica(event.id, event.title, event.price, event.user_id, event.version);
    // An existing replica means a duplicate delivery: no effect.
    if store::insert_ticket(db, &replica).await? {
        tracing::info!(ticket.id = %replica.id, version = %replica.version, "ticket replica created");
    }
    Ok(Outcome::Ack)
}

/// The ticket replica by the version rule (`shared::events::consumer::apply_next`).
async fn apply_version(db: &Db, replica: TicketReplica) -> anyhow::Result<Outcome> {
    let current = store::get_ticket(db, &replica.id).await?;
    let version = replica.version;
    // A deletion is final: no later version brings a ticket back.
    let deleted = current.as_ref().is_some_and(|c| c.deleted);
    apply_next(current.map(|c| c.version), version, EARLY, async move || {
        let replica = TicketReplica { deleted: replica.deleted || deleted, ..replica };
        Ok(store::update_ticket(db, &replica).await?)
    })
    .await
}

async fn ticket_updated(db: &Db, event: TicketUpdated) -> anyhow::Result<Outcome> {
    let (id, version) = (event.id.clone(), event.version);
    // A reservation (it names its order) repeats the ticket as it was: only an edit, which names
    // none, can change what an order was made against. So a rush's reservations cost no check.
    let edit = event.order_id.is_none();
    let outcome = apply_version(db, replica(event.id, event.title, event.price, event.user_id, event.version)).await?;
    if edit && matches!(outcome, Outcome::Ack) && !cancel_if_changed(db, &id, version).await? {
        return Ok(Outcome::Wait(Duration::ZERO));
    }
    Ok(outcome)
}

/// The rule for a seller's edit racing a reservation (docs/events.md): the order holding the
/// ticket was placed against the price and title its buyer saw; when the ticket, as of this
/// event, says otherwise, the seller changed it before the reservation reached the tickets
/// service (which refuses edits to reserved tickets after). The order is cancelled with
/// `ticket_changed`, and a payment refunded, rather than charge a price the seller has since
/// replaced or sell at one the buyer never saw. Only when the replica is at `version`: an old
/// event delivered again describes a ticket that has moved on. `false` when the order changed
/// meanwhile (look again).
async fn cancel_if_changed(db: &Db, ticket_id: &TicketId, version: Version) -> anyhow::Result<bool> {
    let Some(ticket) = store::get_ticket(db, ticket_id).await?.filter(|t| t.version == version && !t.deleted) else {
        return Ok(true);
    };
    let Some(order_id) = store::reservation_of(db, ticket_id).await? else { return Ok(true) };
    let Some(order) = store::get_order(db, &order_id).await? else { return Ok(true) };
    let held = order.status().is_open() || order.status() == OrderStatus::Complete;
    if !held || (order.ticket_price == ticket.price && order.ticket_title == ticket.title) {
        return Ok(true);
    }
    if !store::cancel(db, &order, Closing::Change).await? {
        return Ok(false);
    }
    tracing::warn!(order.id = %order.id, ticket.id = %ticket_id, ordered_at = order.ticket_price, now = ticket.price, "order cancelled: the seller changed its ticket while it was placed");
    Ok(true)
}

async fn ticket_deleted(db: &Db, event: TicketDeleted) -> anyhow::Result<Outcome> {
    let Some(current) = store::get_ticket(db, &event.id).await? else {
        return Ok(Outcome::Wait(EARLY));
    };
    let replica = TicketReplica { version: event.version, deleted: true, ..current };
    let outcome = apply_version(db, replica).await?;
    if matches!(outcome, Outcome::Ack) {
        // An order placed before the deletion arrived must not keep a ticket that is gone, even
        // if its buyer paid meanwhile: it is cancelled, and payments refunds the charge. (A
        // ticket held by an order cannot be deleted, so only such a race gets here.)
        if let Some(order_id) = store::reservation_of(db, &event.id).await?
            && let Some(order) = store::get_order(db, &order_id).await?
        {
            let paid = order.status() == OrderStatus::Complete;
            if order.status().is_open() || paid {
                if !store::cancel(db, &order, Closing::Withdraw).await? {
                    return Ok(Outcome::Wait(Duration::ZERO));
                }
                tracing::warn!(order.id = %order.id, ticket.id = %event.id, paid, "order cancelled: its ticket was deleted");
            }
        }
    }
    Ok(outcome)
}

async fn payment_expired(db: &Db, event: PaymentExpired) -> anyhow::Result<Outcome> {
    let Some(order) = store::get_order(db, &event.order_id).await? else {
        return Ok(Outcome::Wait(EARLY));
    };
    // Complete and cancelled orders are left alone.
    if order.status().is_open() {
        if !store::cancel(db, &order, Closing::Expire).await? {
            return Ok(Outcome::Wait(Duration::ZERO));
        }
        record_lateness(&order.expires_at);
        tracing::info!(order.id = %order.id, "order expired unpaid: cancelled");
    }
    Ok(Outcome::Ack)
}

/// `expiry_lateness_seconds`: how long after its `expiresAt` an unpaid order was cancelled,
/// recorded once per order (a redelivery finds it cancelled). Measured here because nothing
/// else sees the whole of it: the expiration service only stores a schedule, NATS fires it, and
/// payments answers it. An order with a card in flight at its expiry waits for that card (at
/// most about a minute), which shows in the top buckets.
fn record_lateness(expires_at: &str) {
    match time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339) {
        Ok(at) => {
            // Clocks apart could make it negative.
            let late = (time::OffsetDateTime::now_utc() - at).as_seconds_f64().max(0.0);
            histogram!("expiry_lateness_seconds").record(late);
        }
        Err(error) => tracing::warn!(expires_at, %error, "an order's expiresAt does not read as RFC 3339"),
    }
}

async fn payment_created(db: &Db, event: PaymentCreated) -> anyhow::Result<Outcome> {
    let Some(order) = store::get_order(db, &event.order_id).await? else {
        return Ok(Outcome::Wait(EARLY));
    };
    // A cancelled order stays cancelled: the payments service refunds.
    if !order.status().is_open() {
        return Ok(Outcome::Ack);
    }
    let completed =
        OrderCompleted { id: order.id.clone(), version: order.version.next()?, ticket: TicketRef { id: order.ticket_id.clone() } };
    let record = OutboxRecord::new(&completed)?;
    if store::close(db, &order, Closing::Complete, record).await? {
        Ok(Outcome::Ack)
    } else {
        Ok(Outcome::Wait(Duration::ZERO))
    }
}
