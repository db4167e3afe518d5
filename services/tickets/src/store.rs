//! The tickets service's own database. Every write that other services must hear about commits
//! together with its outbox record.
use contract::{Cents, OrderId, Ticket, TicketId, UserId, Version};
use shared::events::outbox::{self, OutboxRecord};
use shared::events::OrderCompleted;
use shared::store::{commit, Db, TxError};
use surrealdb::types::{RecordId, SurrealValue};

pub fn schema() -> String {
    format!(
        "{}
DEFINE TABLE IF NOT EXISTS ticket SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS title ON ticket TYPE string;
DEFINE FIELD IF NOT EXISTS price ON ticket TYPE int;
DEFINE FIELD IF NOT EXISTS user_id ON ticket TYPE string;
DEFINE FIELD IF NOT EXISTS version ON ticket TYPE int;
DEFINE FIELD IF NOT EXISTS order_id ON ticket TYPE option<string>;
-- The holding order's `expiresAt` while it is unpaid, and when the ticket was sold: RFC 3339 in
-- UTC to the millisecond, as the orders service writes times.
DEFINE FIELD IF NOT EXISTS reserved_until ON ticket TYPE option<string>;
DEFINE FIELD IF NOT EXISTS sold_at ON ticket TYPE option<string>;
DEFINE FIELD IF NOT EXISTS sold ON ticket TYPE bool DEFAULT false;
DEFINE FIELD IF NOT EXISTS deleted ON ticket TYPE bool DEFAULT false;
-- A seller's own tickets (`GET /api/tickets/mine`) without reading everyone's.
DEFINE INDEX IF NOT EXISTS ticket_user ON ticket FIELDS user_id;
-- The last version seen of each order that touched a ticket: a late order.created for an order
-- already cancelled must not reserve the ticket again.
DEFINE TABLE IF NOT EXISTS seen_order SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS version ON seen_order TYPE int;
",
        outbox::SCHEMA
    )
}

#[derive(Debug, Clone, SurrealValue)]
pub struct TicketRow {
    pub id: TicketId,
    pub title: String,
    pub price: i64,
    pub user_id: UserId,
    pub version: Version,
    pub order_id: Option<OrderId>,
    /// The holding order's `expiresAt`, while that order is unpaid.
    pub reserved_until: Option<String>,
    pub sold: bool,
    pub sold_at: Option<String>,
    pub deleted: bool,
}

impl TicketRow {
    pub fn view(&self) -> Ticket {
        Ticket {
            id: self.id.clone(),
            title: self.title.clone(),
            price: Cents(self.price),
            user_id: self.user_id.clone(),
            version: self.version,
            order_id: self.order_id.clone(),
            reserved_until: self.reserved_until.clone(),
            sold: self.sold,
            sold_at: self.sold_at.clone(),
        }
    }
}

const FIELDS: &str = "record::id(id) AS id, title, price, user_id, version, order_id, reserved_until, sold, sold_at, deleted";

fn ticket(id: &TicketId) -> RecordId {
    RecordId::new("ticket", id.as_str())
}

fn seen(order_id: &OrderId) -> RecordId {
    RecordId::new("seen_order", order_id.as_str())
}

pub async fn get(db: &Db, id: &TicketId) -> Result<Option<TicketRow>, surrealdb::Error> {
    let mut response = db.query(format!("SELECT {FIELDS} FROM ONLY $ticket")).bind(("ticket", ticket(id))).await?;
    response.take(0)
}

/// Tickets neither reserved nor deleted, newest first; `before` pages back from a ticket's id
/// (ids are UUIDv7, so their order is creation order).
pub async fn list_available(db: &Db, limit: usize, before: Option<&TicketId>) -> Result<Vec<TicketRow>, surrealdb::Error> {
    let filter = if before.is_some() { "AND id < $before" } else { "" };
    let mut response = db
        .query(format!("SELECT {FIELDS} FROM ticket WHERE deleted = false AND order_id = NONE {filter} ORDER BY id DESC LIMIT $limit"))
        .bind(("limit", limit as i64))
        .bind(("before", before.map(ticket)))
        .await?;
    response.take(0)
}

/// A user's tickets that are not deleted, in every state, newest first (ids are UUIDv7). Not paged:
/// one seller's tickets are few.
pub async fn list_of_user(db: &Db, user_id: &UserId) -> Result<Vec<TicketRow>, surrealdb::Error> {
    let mut response = db
        .query(format!("SELECT {FIELDS} FROM ticket WHERE user_id = $user AND deleted = false ORDER BY id DESC"))
        .bind(("user", user_id.clone()))
        .await?;
    response.take(0)
}

pub async fn insert(db: &Db, row: &TicketRow, event: OutboxRecord) -> Result<(), TxError> {
    outbox::write(db, "CREATE $ticket SET title = $title, price = $price, user_id = $user_id, version = 0;", [event])
        .bind(("ticket", ticket(&row.id)))
        .bind(("title", row.title.clone()))
        .bind(("price", row.price))
        .bind(("user_id", row.user_id.clone()))
        .commit()
        .await
        .map(drop)
}

/// The outcome of a write guarded by the version it was decided on.
#[derive(Debug, PartialEq, Eq)]
pub enum Guarded {
    Written,
    /// The ticket changed since it was read (another writer, a reservation): read and decide again.
    Stale,
}

fn guarded(result: Result<surrealdb::IndexedResults, TxError>) -> Result<Guarded, TxError> {
    match result {
        Ok(_) => Ok(Guarded::Written),
        Err(TxError::Refused(code)) if code.contains("STALE") => Ok(Guarded::Stale),
        Err(TxError::Conflict) => Ok(Guarded::Stale),
        Err(error) => Err(error),
    }
}

/// Applies `set` to an unreserved, undeleted ticket at `version`, bumping the version, with its
/// event, in one transaction.
async fn write_unreserved(
    db: &Db,
    id: &TicketId,
    version: Version,
    set: &str,
    binds: Vec<(&'static str, surrealdb::types::Value)>,
    event: OutboxRecord,
) -> Result<Guarded, TxError> {
    let statements = format!(
        "LET $changed = (UPDATE $ticket SET {set}, version = version + 1
             WHERE version = $version AND order_id = NONE AND deleted = false RETURN VALUE id);
         IF array::len($changed) = 0 {{ THROW 'STALE'; }};"
    );
    let mut write = outbox::write(db, &statements, [event]).bind(("ticket", ticket(id))).bind(("version", version));
    for bind in binds {
        write = write.bind(bind);
    }
    guarded(write.commit().await)
}

pub async fn update(db: &Db, id: &TicketId, version: Version, title: &str, price: Cents, event: OutboxRecord) -> Result<Guarded, TxError> {
    let binds = vec![("title", title.to_string().into_value()), ("price", price.0.into_value())];
    write_unreserved(db, id, version, "title = $title, price = $price", binds, event).await
}

pub async fn delete(db: &Db, id: &TicketId, version: Version, event: OutboxRecord) -> Result<Guarded, TxError> {
    write_unreserved(db, id, version, "deleted = true", Vec::new(), event).await
}

/// The version we last saw of an order, if any.
pub async fn seen_order(db: &Db, order_id: &OrderId) -> Result<Option<Version>, surrealdb::Error> {
    let mut response = db.query("SELECT VALUE version FROM ONLY $order").bind(("order", seen(order_id))).await?;
    response.take(0)
}

/// What an order's event does to its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding<'a> {
    /// Held by the order until its `expiresAt` (RFC 3339 UTC).
    Reserve { until: &'a str },
    /// Free again, and on sale: a sold ticket too, when its paid order was cancelled.
    Release,
}

/// Sets or clears the ticket's reservation at `version` (with `ticket.updated`), and records the
/// order's version, in one transaction. `holding` and `event` are `None` when only the order is
/// recorded.
///
/// Two replicas can handle two events of one order at once (its creation and its cancellation),
/// each deciding on what it read before. So the transaction checks again what the decision
/// rested on: that no event of this order as new as this one was applied meanwhile, and, when
/// only the order is recorded, that the ticket is not held by it (a reservation made meanwhile
/// must be released, not forgotten). Either check failing is `Stale`: read and decide again.
pub async fn apply_order(
    db: &Db,
    ticket_id: &TicketId,
    ticket_version: Version,
    holding: Option<Holding<'_>>,
    order_id: &OrderId,
    order_version: Version,
    event: Option<OutboxRecord>,
) -> Result<Guarded, TxError> {
    let (set, reserved_until) = match holding {
        Some(Holding::Reserve { until }) => (Some("order_id = $order_id, reserved_until = $reserved_until"), Some(until.to_string())),
        Some(Holding::Release) => (Some("order_id = NONE, reserved_until = NONE, sold = false, sold_at = NONE"), None),
        None => (None, None),
    };
    let ticket_write = match set {
        Some(set) => format!(
            "LET $changed = (UPDATE $ticket SET {set}, version = version + 1 WHERE version = $version RETURN VALUE id);
             IF array::len($changed) = 0 {{ THROW 'STALE'; }};"
        ),
        None => String::new(),
    };
    let not_held = if set.is_none() { "IF (SELECT VALUE order_id FROM ONLY $ticket) = $order_id { THROW 'STALE'; };" } else { "" };
    let statements = format!(
        "IF (SELECT VALUE version FROM ONLY $seen) >= $order_version {{ THROW 'STALE'; }};
         {not_held}
         {ticket_write}
         UPSERT $seen SET version = math::max([version ?? -1, $order_version]);"
    );
    let write = outbox::write(db, &statements, event)
        .bind(("ticket", ticket(ticket_id)))
        .bind(("version", ticket_version))
        .bind(("order_id", order_id.clone()))
        .bind(("reserved_until", reserved_until))
        .bind(("seen", seen(order_id)))
        .bind(("order_version", order_version));
    guarded(write.commit().await)
}

/// Marks a ticket sold at `sold_at` (its order completed); it stays held by the order, no longer
/// until a deadline, and its version is the orders service's business no more. A ticket sold
/// already keeps its first `sold_at`.
pub async fn mark_sold(db: &Db, sale: &OrderCompleted, sold_at: &str) -> Result<(), TxError> {
    let (ticket_id, order_id, order_version) = (&sale.ticket.id, &sale.id, sale.version);
    let query = db
        .query(
            "BEGIN TRANSACTION;
             UPDATE $ticket SET sold = true, sold_at = sold_at ?? $sold_at, reserved_until = NONE WHERE order_id = $order_id;
             UPSERT $seen SET version = math::max([version ?? -1, $order_version]);
             COMMIT TRANSACTION;",
        )
        .bind(("ticket", ticket(ticket_id)))
        .bind(("order_id", order_id.clone()))
        .bind(("seen", seen(order_id)))
        .bind(("order_version", order_version))
        .bind(("sold_at", sold_at.to_string()));
    commit(query).await.map(drop)
}
