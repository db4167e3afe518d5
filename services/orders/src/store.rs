//! The orders service's own database: orders, a replica of each ticket, and one reservation per
//! ticket. The reservation's record id is the ticket's id, so a second active order for a ticket
//! cannot be written: the database refuses it, whatever the timing.
use contract::{CancelReason, Cents, Order, OrderId, OrderTicket, TicketId, UserId, Version};
use shared::events::outbox::{self, OutboxRecord};
use shared::events::{OrderCancelled, OrderStatus, TicketRef};
use shared::store::{commit, Db, ResultExt, TxError};
use surrealdb::types::{RecordId, SurrealValue};

pub fn schema() -> String {
    format!(
        "{}
DEFINE TABLE IF NOT EXISTS ticket SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS title ON ticket TYPE string;
DEFINE FIELD IF NOT EXISTS price ON ticket TYPE int;
DEFINE FIELD IF NOT EXISTS user_id ON ticket TYPE string;
DEFINE FIELD IF NOT EXISTS version ON ticket TYPE int;
DEFINE FIELD IF NOT EXISTS deleted ON ticket TYPE bool DEFAULT false;
DEFINE TABLE IF NOT EXISTS orders SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user_id ON orders TYPE string;
DEFINE FIELD IF NOT EXISTS ticket ON orders TYPE record<ticket>;
DEFINE FIELD IF NOT EXISTS status ON orders TYPE string;
DEFINE FIELD IF NOT EXISTS expires_at ON orders TYPE string;
DEFINE FIELD IF NOT EXISTS version ON orders TYPE int;
DEFINE FIELD IF NOT EXISTS cancel_reason ON orders TYPE option<string>;
-- The ticket as the buyer saw it when ordering: what the order shows and payments charges,
-- whatever a seller's edit racing the reservation did to the ticket after. (Orders from before
-- these fields fall back to the ticket's replica.)
DEFINE FIELD IF NOT EXISTS ticket_title ON orders TYPE option<string>;
DEFINE FIELD IF NOT EXISTS ticket_price ON orders TYPE option<int>;
DEFINE FIELD IF NOT EXISTS ticket_version ON orders TYPE option<int>;
DEFINE INDEX IF NOT EXISTS orders_user ON orders FIELDS user_id;
DEFINE TABLE IF NOT EXISTS reservation SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS order_id ON reservation TYPE string;
-- One row per buyer, written by every reservation of theirs: two replicas placing orders for
-- one buyer at once collide on it, so the count of their holds is read and raised in turn.
DEFINE TABLE IF NOT EXISTS buyer SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS placed_at ON buyer TYPE datetime;
",
        outbox::SCHEMA
    )
}

/// The tables whose record ids decide an outcome: a ticket's replica exists once, and a ticket
/// has one reservation (its record id is the ticket's).
const TICKET: &str = "ticket";
const RESERVATION: &str = "reservation";

pub fn ticket(id: &TicketId) -> RecordId {
    RecordId::new(TICKET, id.as_str())
}

fn order(id: &OrderId) -> RecordId {
    RecordId::new("orders", id.as_str())
}

fn reservation(ticket_id: &TicketId) -> RecordId {
    RecordId::new(RESERVATION, ticket_id.as_str())
}

#[derive(Debug, Clone, SurrealValue)]
pub struct TicketReplica {
    pub id: TicketId,
    pub title: String,
    pub price: i64,
    pub user_id: UserId,
    pub version: Version,
    pub deleted: bool,
}

const TICKET_FIELDS: &str = "record::id(id) AS id, title, price, user_id, version, deleted";

pub async fn get_ticket(db: &Db, id: &TicketId) -> Result<Option<TicketReplica>, surrealdb::Error> {
    let mut response = db.query(format!("SELECT {TICKET_FIELDS} FROM ONLY $ticket")).bind(("ticket", ticket(id))).await?;
    response.take(0)
}

/// The ticket's replica and the order holding it, if any, in one round trip: in a rush most
/// buyers find the ticket taken, and this read answers them without a transaction. (It decides
/// nothing: the transaction in [`place`] still refuses a second reservation.)
pub async fn ticket_and_holder(db: &Db, id: &TicketId) -> Result<(Option<TicketReplica>, Option<OrderId>), surrealdb::Error> {
    let mut response = db
        .query(format!("SELECT {TICKET_FIELDS} FROM ONLY $ticket; SELECT VALUE order_id FROM ONLY $reservation;"))
        .bind(("ticket", ticket(id)))
        .bind(("reservation", reservation(id)))
        .await?;
    Ok((response.take(0)?, response.take(1)?))
}

#[derive(Debug, Clone, SurrealValue)]
pub struct OrderRow {
    pub id: OrderId,
    pub user_id: UserId,
    pub status: String,
    pub expires_at: String,
    pub version: Version,
    pub ticket_id: TicketId,
    pub ticket_title: String,
    pub ticket_price: i64,
    pub ticket_version: Version,
    /// Why the order was cancelled (a [`CancelReason`]); none on orders cancelled before reasons
    /// were recorded.
    pub cancel_reason: Option<String>,
}

impl OrderRow {
    pub fn status(&self) -> OrderStatus {
        OrderStatus::parse(&self.status).unwrap_or(OrderStatus::Cancelled)
    }

    pub fn view(&self) -> Order {
        Order {
            id: self.id.clone(),
            user_id: self.user_id.clone(),
            status: self.status(),
            expires_at: self.expires_at.clone(),
            version: self.version,
            ticket: OrderTicket {
                id: self.ticket_id.clone(),
                title: self.ticket_title.clone(),
                price: Cents(self.ticket_price),
                version: self.ticket_version,
            },
            cancel_reason: self.cancel_reason.as_deref().and_then(CancelReason::parse),
        }
    }
}

const ORDER_FIELDS: &str = "record::id(id) AS id, user_id, status, expires_at, version, record::id(ticket) AS ticket_id, \
    ticket_title ?? ticket.title AS ticket_title, ticket_price ?? ticket.price AS ticket_price, \
    ticket_version ?? ticket.version AS ticket_version, cancel_reason";

pub async fn get_order(db: &Db, id: &OrderId) -> Result<Option<OrderRow>, surrealdb::Error> {
    let mut response = db.query(format!("SELECT {ORDER_FIELDS} FROM ONLY $order")).bind(("order", order(id))).await?;
    response.take(0)
}

/// The caller's orders, newest first (ids are UUIDv7).
pub async fn list_orders(db: &Db, user_id: &UserId) -> Result<Vec<OrderRow>, surrealdb::Error> {
    let mut response = db
        .query(format!("SELECT {ORDER_FIELDS} FROM orders WHERE user_id = $user ORDER BY id DESC"))
        .bind(("user", user_id.clone()))
        .await?;
    response.take(0)
}

/// The order holding a ticket, if any.
pub async fn reservation_of(db: &Db, ticket_id: &TicketId) -> Result<Option<OrderId>, surrealdb::Error> {
    let mut response = db.query("SELECT VALUE order_id FROM ONLY $reservation").bind(("reservation", reservation(ticket_id))).await?;
    response.take(0)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Placed {
    Created,
    /// Another active order holds the ticket.
    Reserved,
    /// The ticket changed since it was read: read and decide again.
    Stale,
    /// The buyer holds as many open orders as they may.
    TooManyHolds,
}

pub struct NewOrder<'a> {
    pub id: &'a OrderId,
    pub user_id: &'a UserId,
    /// How many open orders (`created`, `awaiting:payment`) the buyer may hold, this one included.
    pub max_holds: u32,
    /// The ticket's replica as read: the order is made against exactly this version.
    pub ticket: &'a TicketReplica,
    pub expires_at: &'a str,
}

/// Thrown when the row a transaction read changed before it wrote: read again.
const STALE: &str = "STALE";
/// Thrown when the buyer already holds `max_holds` open orders.
const HOLDS: &str = "TOO_MANY_HOLDS";

/// The order, its ticket's reservation and `order.created`, in one transaction.
///
/// Why the buyer's row is written: the count of their open orders is a read, and two replicas
/// placing orders for one buyer at once would each read the count before the other's order and
/// both pass (write skew). Both also write the buyer's row, so one of them loses a conflict and
/// reads the count again (`Placed::Stale`); the cap holds across replicas, not per process.
pub async fn place(db: &Db, new: &NewOrder<'_>, event: OutboxRecord) -> Result<Placed, TxError> {
    let statements = format!(
        "LET $t = (SELECT version, deleted FROM ONLY $ticket);
         IF $t = NONE OR $t.deleted OR $t.version != $ticket_version {{ THROW '{STALE}'; }};
         LET $held = array::len((SELECT VALUE id FROM orders WHERE user_id = $user_id AND status IN ['created', 'awaiting:payment']));
         IF $held >= $max_holds {{ THROW '{HOLDS}'; }};
         UPSERT $buyer SET placed_at = time::now();
         CREATE $reservation SET order_id = $order_id;
         CREATE $order SET user_id = $user_id, ticket = $ticket, status = 'created', expires_at = $expires_at, version = 0,
             ticket_title = $title, ticket_price = $price, ticket_version = $ticket_version;"
    );
    let write = outbox::write(db, &statements, [event])
        .bind(("ticket", ticket(&new.ticket.id)))
        .bind(("ticket_version", new.ticket.version))
        .bind(("title", new.ticket.title.clone()))
        .bind(("price", new.ticket.price))
        .bind(("reservation", reservation(&new.ticket.id)))
        .bind(("order", order(new.id)))
        .bind(("order_id", new.id.clone()))
        .bind(("user_id", new.user_id.clone()))
        .bind(("buyer", RecordId::new("buyer", new.user_id.as_str())))
        .bind(("max_holds", i64::from(new.max_holds)))
        .bind(("expires_at", new.expires_at.to_string()));
    match write.commit().await.map(|_| Placed::Created).on_constraint(RESERVATION, || Placed::Reserved) {
        Err(error) if error.threw(STALE) => Ok(Placed::Stale),
        Err(error) if error.threw(HOLDS) => Ok(Placed::TooManyHolds),
        Err(TxError::Conflict) => Ok(Placed::Stale),
        placed => placed,
    }
}

/// How an order ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// Paid: it keeps its ticket.
    Complete,
    /// By its buyer (`DELETE /api/orders/:id`): the ticket is free again.
    Cancel,
    /// Not paid in time (`payment.expired`): the ticket is free again.
    Expire,
    /// Its ticket was deleted by a seller in a race with the reservation: cancelled even when
    /// already paid (payments then refunds), since there is no ticket to give.
    Withdraw,
    /// Its ticket's price or title was changed by the seller in a race with the reservation:
    /// cancelled even when already paid (payments then refunds), since the buyer would get, or
    /// the seller sell, something else than what they were shown.
    Change,
}

/// Cancels an order with `order.cancelled` (an open one, or with [`Closing::Withdraw`] a paid
/// one too); `false` if it changed meanwhile. The buyer's route ([`Closing::Cancel`]) and the
/// event handlers (expiry, a withdrawn ticket) both cancel through here.
pub async fn cancel(db: &Db, row: &OrderRow, closing: Closing) -> anyhow::Result<bool> {
    let event = OrderCancelled { id: row.id.clone(), version: row.version.next()?, ticket: TicketRef { id: row.ticket_id.clone() } };
    Ok(close(db, row, closing, OutboxRecord::new(&event)?).await?)
}

/// Ends an order at `version` with its event, in one transaction; a cancelled order gives its
/// ticket's reservation back and records why. `false` when the order changed meanwhile (or is no
/// longer open). A cancelled order is never in `from`, so it keeps its first reason.
pub async fn close(db: &Db, row: &OrderRow, closing: Closing, event: OutboxRecord) -> Result<bool, TxError> {
    let (order_id, ticket_id, version) = (&row.id, &row.ticket_id, row.version);
    const OPEN: &str = "['created', 'awaiting:payment']";
    const RELEASE: &str = "DELETE $reservation WHERE order_id = $order_id;";
    let (status, from, reason, release) = match closing {
        Closing::Complete => (OrderStatus::Complete, OPEN, None, ""),
        Closing::Cancel => (OrderStatus::Cancelled, OPEN, Some(CancelReason::Buyer), RELEASE),
        Closing::Expire => (OrderStatus::Cancelled, OPEN, Some(CancelReason::Expired), RELEASE),
        Closing::Withdraw => {
            (OrderStatus::Cancelled, "['created', 'awaiting:payment', 'complete']", Some(CancelReason::TicketWithdrawn), RELEASE)
        }
        Closing::Change => {
            (OrderStatus::Cancelled, "['created', 'awaiting:payment', 'complete']", Some(CancelReason::TicketChanged), RELEASE)
        }
    };
    let statements = format!(
        "LET $changed = (UPDATE $order SET status = $status, version = version + 1, cancel_reason = $reason
             WHERE version = $version AND status IN {from} RETURN VALUE id);
         IF array::len($changed) = 0 {{ THROW '{STALE}'; }};
         {release}"
    );
    let write = outbox::write(db, &statements, [event])
        .bind(("order", order(order_id)))
        .bind(("order_id", order_id.clone()))
        .bind(("reservation", reservation(ticket_id)))
        .bind(("version", version))
        .bind(("status", status.as_str().to_string()))
        .bind(("reason", reason.map(|reason| reason.as_str().to_string())));
    match write.commit().await {
        Ok(_) => Ok(true),
        Err(error) if error.threw(STALE) => Ok(false),
        Err(TxError::Conflict) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Inserts a ticket replica; `false` if it already exists (a duplicate event).
pub async fn insert_ticket(db: &Db, replica: &TicketReplica) -> Result<bool, TxError> {
    let query = db
        .query("CREATE $ticket SET title = $title, price = $price, user_id = $user_id, version = $version, deleted = false")
        .bind(("ticket", ticket(&replica.id)))
        .bind(("title", replica.title.clone()))
        .bind(("price", replica.price))
        .bind(("user_id", replica.user_id.clone()))
        .bind(("version", replica.version));
    commit(query).await.map(|_| true).on_constraint(TICKET, || false)
}

/// Applies a ticket change at exactly `version` (the replica's version + 1).
pub async fn update_ticket(db: &Db, replica: &TicketReplica) -> Result<bool, TxError> {
    let query = db
        .query(
            "UPDATE $ticket SET title = $title, price = $price, user_id = $user_id, version = $version, deleted = $deleted
             WHERE version = $version - 1 RETURN VALUE id",
        )
        .bind(("ticket", ticket(&replica.id)))
        .bind(("title", replica.title.clone()))
        .bind(("price", replica.price))
        .bind(("user_id", replica.user_id.clone()))
        .bind(("version", replica.version))
        .bind(("deleted", replica.deleted));
    let mut response = commit(query).await?;
    let changed: Vec<RecordId> = response.take(0).map_err(TxError::Failed)?;
    Ok(!changed.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_named_in_outcomes_are_the_schemas() {
        let schema = schema();
        for table in [TICKET, RESERVATION] {
            assert!(schema.contains(&format!("DEFINE TABLE IF NOT EXISTS {table} ")), "{table}");
        }
    }
}
