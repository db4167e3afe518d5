//! The payments service's own database: a replica of each order, the payment attempts, the
//! payments, and the Stripe webhook events already handled.
//!
//! An attempt is written before Stripe is called, and its id keys every Stripe call for it, so
//! whatever happens after (a crash, a timeout, a lost answer) the attempt says where to look. An
//! order is marked as being paid by one attempt at a time (`paying`, until `paying_until`: the
//! mark expires, so a lost process never locks an order). A payment's id is its attempt's.
//!
//! An order records the payment that settled it, so of two payments for one order only one can
//! win; a charge that lost (or whose order was cancelled meanwhile) is kept with `refund = 'due'`
//! until Stripe has refunded it.
//!
//! The payment deadline (docs/events.md): an attempt may begin until the order's `expiresAt`;
//! `expiration.complete` closes the order (`closed_at`); once it is closed and no attempt is in
//! flight, unpaid, it lapses (`lapsed_at`) and `payment.expired` tells orders to cancel it. Every
//! transaction that could be the one to find "closed, nothing in flight" writes a new
//! `changed_at` on the order's row (a write of the same values is none: SurrealDB skips it), so
//! two of them (two replicas ending two attempts) cannot both miss or both find it. A closed order
//! waiting for its attempts has a `closing` row, which the reconciler sweeps: it lapses what a
//! lost transaction missed, and, past the deadline's wait, an order whose card never comes back.
use contract::{OrderId, PaymentId, UserId, Version};
use shared::events::outbox::{self, OutboxRecord};

use crate::domain::{AttemptState, Ending, RefundState};
use shared::events::OrderStatus;
use shared::store::{commit, Db, ResultExt, TxError};
use surrealdb::types::{RecordId, SurrealValue};

pub fn schema() -> String {
    // OVERWRITE: a database made before the assertions gets them too (its values are all in the
    // set). Every replica applies the schema at its start, so a new state is added in two
    // releases: the set that allows it first, the code that writes it in the next.
    let (attempt_states, refund_states) = (AttemptState::surql_set(), RefundState::surql_set());
    format!(
        "{}
DEFINE TABLE IF NOT EXISTS orders SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user_id ON orders TYPE string;
DEFINE FIELD IF NOT EXISTS price ON orders TYPE int;
DEFINE FIELD IF NOT EXISTS status ON orders TYPE string;
DEFINE FIELD IF NOT EXISTS expires_at ON orders TYPE string;
DEFINE FIELD IF NOT EXISTS version ON orders TYPE int;
DEFINE FIELD IF NOT EXISTS payment_id ON orders TYPE option<string>;
DEFINE FIELD IF NOT EXISTS paying ON orders TYPE option<string>;
DEFINE FIELD IF NOT EXISTS paying_until ON orders TYPE option<datetime>;
-- When `expiration.complete` came: no attempt may begin after it.
DEFINE FIELD IF NOT EXISTS closed_at ON orders TYPE option<datetime>;
-- When `payment.expired` was written: the order is as good as cancelled, a charge is refunded.
DEFINE FIELD IF NOT EXISTS lapsed_at ON orders TYPE option<datetime>;
-- Written by every transaction that may lapse the order, so that two of them always conflict.
DEFINE FIELD IF NOT EXISTS changed_at ON orders TYPE option<datetime>;
-- The orders closed and still waiting to lapse or settle, one row each (the reconciler's sweep).
DEFINE TABLE IF NOT EXISTS closing SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS closed_at ON closing TYPE datetime;
DEFINE TABLE IF NOT EXISTS attempt SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS order_id ON attempt TYPE string;
DEFINE FIELD IF NOT EXISTS amount ON attempt TYPE int;
DEFINE FIELD IF NOT EXISTS token ON attempt TYPE string;
DEFINE FIELD OVERWRITE state ON attempt TYPE string ASSERT $value IN {attempt_states};
DEFINE FIELD IF NOT EXISTS intent_id ON attempt TYPE option<string>;
DEFINE FIELD IF NOT EXISTS error ON attempt TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON attempt TYPE datetime;
DEFINE FIELD IF NOT EXISTS check_after ON attempt TYPE datetime;
DEFINE FIELD IF NOT EXISTS checks ON attempt TYPE int;
-- The buyer who submitted the card (none on attempts from before it was recorded).
DEFINE FIELD IF NOT EXISTS user_id ON attempt TYPE option<string>;
DEFINE INDEX IF NOT EXISTS attempt_state ON attempt FIELDS state;
DEFINE INDEX IF NOT EXISTS attempt_order ON attempt FIELDS order_id;
DEFINE INDEX IF NOT EXISTS attempt_user ON attempt FIELDS user_id;
-- One row per buyer, written by each attempt of theirs: two replicas starting attempts for one
-- buyer at once collide on it, so the count of their declined cards is read in turn.
DEFINE TABLE IF NOT EXISTS payer SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS attempted_at ON payer TYPE datetime;
DEFINE TABLE IF NOT EXISTS webhook_event SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS kind ON webhook_event TYPE string;
DEFINE FIELD IF NOT EXISTS received_at ON webhook_event TYPE datetime;
DEFINE TABLE IF NOT EXISTS payment SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS order_id ON payment TYPE string;
DEFINE FIELD IF NOT EXISTS stripe_id ON payment TYPE string;
DEFINE FIELD IF NOT EXISTS amount ON payment TYPE int;
DEFINE FIELD OVERWRITE refund ON payment TYPE string ASSERT $value IN {refund_states};
DEFINE FIELD IF NOT EXISTS refund_id ON payment TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON payment TYPE datetime;
DEFINE FIELD IF NOT EXISTS refund_attempts ON payment TYPE option<int>;
DEFINE FIELD IF NOT EXISTS refund_after ON payment TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS refund_error ON payment TYPE option<string>;
DEFINE INDEX IF NOT EXISTS payment_stripe ON payment FIELDS stripe_id UNIQUE;
DEFINE INDEX IF NOT EXISTS payment_order ON payment FIELDS order_id;
DEFINE INDEX IF NOT EXISTS payment_refund ON payment FIELDS refund;
",
        outbox::SCHEMA
    )
}

/// The tables and unique index whose collisions are expected outcomes: an order replica and a
/// webhook event are recorded once, and a payment once by its id and once by its Stripe charge.
const ORDERS: &str = "orders";
const WEBHOOK_EVENT: &str = "webhook_event";
const PAYMENT: &str = "payment";
const PAYMENT_STRIPE: &str = "payment_stripe";

fn order(id: &OrderId) -> RecordId {
    RecordId::new(ORDERS, id.as_str())
}

fn payment(id: &PaymentId) -> RecordId {
    RecordId::new(PAYMENT, id.as_str())
}

/// An attempt's record: a charge it makes becomes the payment of the same id.
fn attempt(id: &PaymentId) -> RecordId {
    RecordId::new("attempt", id.as_str())
}

/// A payment attempt: one card submitted for one order.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct AttemptRow {
    /// The id the payment takes if this attempt charges.
    pub id: PaymentId,
    pub order_id: OrderId,
    /// In cents.
    pub amount: i64,
    pub token: String,
    /// As stored; read it with [`AttemptRow::state`].
    pub state: String,
    pub intent_id: Option<String>,
    pub error: Option<String>,
    /// Seconds since the attempt began.
    pub age: i64,
    /// Times the reconciler asked Stripe about it.
    pub checks: i64,
}

impl AttemptRow {
    /// An unknown state (written by a newer build) counts as pending: still to be concluded.
    pub fn state(&self) -> AttemptState {
        AttemptState::parse(&self.state).unwrap_or(AttemptState::Pending)
    }
}

const ATTEMPT_FIELDS: &str = "record::id(id) AS id, order_id, amount, token, state, intent_id, error, \
    duration::secs(time::now() - created_at) AS age, checks";

// What the transactions' rules `THROW`, each read back with `TxError::threw`.
/// The order is cancelled or past its expiry: it cannot be paid.
const CANCELLED: &str = "CANCELLED";
/// The order is paid already.
const PAID: &str = "PAID";
/// Another attempt is charging the order, or may have charged it.
const IN_PROGRESS: &str = "IN_PROGRESS";
/// This very charge is recorded already.
const RECORDED: &str = "RECORDED";
/// The order replica changed before the write: read again.
const STALE: &str = "STALE";
/// The order, or its buyer, has had as many cards refused as the limits allow.
const DECLINES: &str = "TOO_MANY_DECLINES";

pub async fn get_attempt(db: &Db, id: &PaymentId) -> Result<Option<AttemptRow>, surrealdb::Error> {
    let mut response = db.query(format!("SELECT {ATTEMPT_FIELDS} FROM ONLY $attempt")).bind(("attempt", attempt(id))).await?;
    response.take(0)
}

/// Why an attempt could not begin.
#[derive(Debug, PartialEq, Eq)]
pub enum Begun {
    Started(AttemptRow),
    Cancelled,
    Paid,
    /// Another attempt for the order is in flight.
    InProgress,
    /// Too many cards were refused for this order, or for this buyer within the hour.
    TooManyDeclines,
    Retry,
}

/// How many refused cards (attempts that ended `failed`: declined, or unknown to Stripe) are
/// allowed before further attempts are refused with 429: a card tester needs many tries, a
/// buyer with a typo needs few. Counted in the database, so across every replica. The buyer's
/// count includes their attempts still in flight (`pending`), which may yet be refused: a tester
/// firing cards at several orders at once would otherwise pass the limit by as many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclineLimits {
    /// Per order, ever (`DECLINES_PER_ORDER`, default 5).
    pub per_order: u32,
    /// Per buyer, over every order, within the last hour (`DECLINES_PER_BUYER_PER_HOUR`, default 20).
    pub per_buyer_per_hour: u32,
}

impl Default for DeclineLimits {
    fn default() -> Self {
        Self { per_order: 5, per_buyer_per_hour: 20 }
    }
}

/// A card submitted for an order, about to be recorded as an attempt.
pub struct NewAttempt<'a> {
    pub id: &'a PaymentId,
    pub order_id: &'a OrderId,
    /// The buyer submitting it, whose refused cards are counted.
    pub user_id: &'a UserId,
    /// In cents.
    pub amount: i64,
    pub token: &'a str,
    /// How long the order is marked as being paid by this attempt.
    pub hold: std::time::Duration,
    /// When the reconciler first asks Stripe about it.
    pub check_after: std::time::Duration,
    pub limits: DeclineLimits,
}

/// Records a new attempt and marks the order as being paid by it for `hold`, unless the order
/// is cancelled, paid, being paid by another attempt whose mark has not expired, or has an
/// attempt that reached Stripe without an outcome yet.
pub async fn begin_attempt(db: &Db, new: &NewAttempt<'_>) -> Result<Begun, TxError> {
    // An attempt that reached Stripe and has no outcome (`$unsure`) may have charged: until a
    // webhook or the reconciler tells, another card could be a second charge. The buyer's row is
    // written so that two attempts of one buyer (on two orders, two replicas) cannot both read
    // the count of refused cards before the other is recorded.
    let query = db
        .query(format!(
            "BEGIN TRANSACTION;
             LET $o = (SELECT status, payment_id, paying, paying_until, expires_at, closed_at FROM ONLY $order);
             IF $o = NONE OR $o.status = 'cancelled' OR $o.closed_at != NONE OR type::datetime($o.expires_at) <= time::now() {{ THROW '{CANCELLED}'; }};
             IF $o.payment_id != NONE OR $o.status = 'complete' {{ THROW '{PAID}'; }};
             IF $o.paying != NONE AND $o.paying_until > time::now() {{ THROW '{IN_PROGRESS}'; }};
             LET $unsure = (SELECT VALUE id FROM attempt WHERE order_id = $order_id AND state = 'pending' AND intent_id != NONE LIMIT 1);
             IF array::len($unsure) > 0 {{ THROW '{IN_PROGRESS}'; }};
             LET $refused_here = array::len((SELECT VALUE id FROM attempt WHERE order_id = $order_id AND state = 'failed'));
             LET $refused_buyer = array::len((SELECT VALUE id FROM attempt
                 WHERE user_id = $user_id AND state IN ['failed', 'pending'] AND created_at > time::now() - 1h));
             IF $refused_here >= $per_order OR $refused_buyer >= $per_buyer {{ THROW '{DECLINES}'; }};
             UPSERT $payer SET attempted_at = time::now();
             UPDATE $order SET paying = $attempt_id, paying_until = time::now() + $hold;
             CREATE $attempt SET order_id = $order_id, user_id = $user_id, amount = $amount, token = $card, state = 'pending',
                 created_at = time::now(), check_after = time::now() + $check_after, checks = 0;
             COMMIT TRANSACTION;"
        ))
        .bind(("order", order(new.order_id)))
        .bind(("attempt", attempt(new.id)))
        .bind(("payer", RecordId::new("payer", new.user_id.as_str())))
        .bind(("attempt_id", new.id.clone()))
        .bind(("order_id", new.order_id.clone()))
        .bind(("user_id", new.user_id.clone()))
        .bind(("per_order", i64::from(new.limits.per_order)))
        .bind(("per_buyer", i64::from(new.limits.per_buyer_per_hour)))
        .bind(("amount", new.amount))
        // `$token` is SurrealDB's own (the session's token): a protected name.
        .bind(("card", new.token.to_string()))
        .bind(("hold", surrealdb::types::Duration::from(new.hold)))
        .bind(("check_after", surrealdb::types::Duration::from(new.check_after)));
    match commit(query).await {
        Ok(_) => Ok(Begun::Started(AttemptRow {
            id: new.id.clone(),
            order_id: new.order_id.clone(),
            amount: new.amount,
            token: new.token.to_string(),
            state: AttemptState::Pending.as_str().to_string(),
            intent_id: None,
            error: None,
            age: 0,
            checks: 0,
        })),
        Err(error) if error.threw(CANCELLED) => Ok(Begun::Cancelled),
        Err(error) if error.threw(IN_PROGRESS) => Ok(Begun::InProgress),
        Err(error) if error.threw(PAID) => Ok(Begun::Paid),
        Err(error) if error.threw(DECLINES) => Ok(Begun::TooManyDeclines),
        Err(TxError::Conflict) => Ok(Begun::Retry),
        Err(error) => Err(error),
    }
}

/// Remembers the intent made for an attempt: from here on Stripe can be asked about it. Only
/// while the attempt is `pending`: `false` when it has ended meanwhile (the reconciler gave up
/// on a request that took too long) or holds another intent, and then the intent must not be
/// confirmed. `true` again for the intent it already holds.
pub async fn set_intent(db: &Db, pending: &AttemptRow, intent_id: &str) -> Result<bool, surrealdb::Error> {
    let mut response = db
        .query(
            "UPDATE $attempt SET intent_id = $intent_id WHERE intent_id = NONE AND state = 'pending' RETURN NONE;
             SELECT VALUE intent_id FROM ONLY $attempt;",
        )
        .bind(("attempt", attempt(&pending.id)))
        .bind(("intent_id", intent_id.to_string()))
        .await?;
    let held: Option<String> = response.take(1)?;
    Ok(held.as_deref() == Some(intent_id))
}

/// How often a transaction that lost a conflict and may simply run again is tried.
const CONFLICT_TRIES: usize = 5;

/// Unpaid, closed, and nothing in flight (or `$force`: waited long enough): the order lapses,
/// with `payment.expired` (the transaction's event: `outbox::write_where`), and leaves
/// `closing`. Run inside a transaction that has written `$order`; `$order_id`, `$closing` and
/// `$force` bound.
fn lapse_if_due() -> String {
    format!(
        "LET $w = (SELECT status, payment_id, closed_at, lapsed_at FROM ONLY $order);
    LET $in_flight = (SELECT VALUE id FROM attempt WHERE order_id = $order_id AND state IN ['pending', 'action'] LIMIT 1);
    IF $w != NONE AND $w.closed_at != NONE AND $w.lapsed_at = NONE AND $w.payment_id = NONE
        AND $w.status IN ['created', 'awaiting:payment'] AND (array::len($in_flight) = 0 OR $force) {{
        UPDATE $order SET lapsed_at = time::now();
        DELETE $closing;
        {}
    }};",
        outbox::INSERT
    )
}

/// An order paid, cancelled or lapsed waits for nothing: it leaves `closing`.
const SETTLED: &str = "LET $now = (SELECT status, payment_id, lapsed_at FROM ONLY $order);
    IF $now = NONE OR $now.payment_id != NONE OR $now.lapsed_at != NONE OR $now.status NOT IN ['created', 'awaiting:payment'] {
        DELETE $closing;
    };";

fn closing(order_id: &OrderId) -> RecordId {
    RecordId::new("closing", order_id.as_str())
}

/// Ends an attempt that charged nothing (`failed`, `abandoned`) or waits for the customer
/// (`action`), and frees the order for another attempt. The last attempt in flight of a closed
/// order lapses it (`lapse`, its `payment.expired`, is written then, and only then).
///
/// Others write the same records meanwhile: the event consumer the order's replica (a buyer who
/// cancels while a card is refused), a webhook or the reconciler the attempt. The transaction
/// writes the same whichever goes first, so a conflict is met by running it again; it used to
/// answer the buyer a 500 (found by `scripts/fuzz`).
pub async fn end_attempt(db: &Db, ended: &AttemptRow, ending: Ending, error: Option<&str>, lapse: OutboxRecord) -> Result<(), TxError> {
    let (attempt_id, order_id) = (&ended.id, &ended.order_id);
    let mut tries = 1;
    loop {
        // The order's row is written even when the attempt does not hold it (see the module's note).
        let statements = format!(
            "UPDATE $attempt SET state = $state, error = $error WHERE state IN ['pending', 'action'];
             LET $mine = (SELECT VALUE paying FROM ONLY $order) = $attempt_id;
             UPDATE $order SET paying_until = IF $mine {{ NONE }} ELSE {{ paying_until }}, paying = IF $mine {{ NONE }} ELSE {{ paying }},
                 changed_at = time::now();
             {}",
            lapse_if_due()
        );
        let write = outbox::write_where(db, &statements, [lapse.clone()])
            .bind(("attempt", attempt(attempt_id)))
            .bind(("order", order(order_id)))
            .bind(("closing", closing(order_id)))
            .bind(("force", false))
            .bind(("order_id", order_id.clone()))
            .bind(("attempt_id", attempt_id.clone()))
            .bind(("state", ending.state().as_str().to_string()))
            .bind(("error", error.map(str::to_string)));
        match write.commit().await {
            Err(TxError::Conflict) if tries < CONFLICT_TRIES => tries += 1,
            result => return result.map(drop),
        }
    }
}

/// Closes an order to new attempts (`expiration.complete` came), and lapses it at once if no
/// attempt is in flight; otherwise it waits in `closing`. Returns the attempts waiting for their
/// customer (3-D Secure), which the caller cancels at Stripe, their next check made due in
/// [`CHALLENGE_CHECK`] in case it cannot; `None` when the order's replica is not here yet.
pub async fn close(db: &Db, order_id: &OrderId, lapse: OutboxRecord) -> Result<Option<Vec<AttemptRow>>, TxError> {
    if get_order(db, order_id).await?.is_none() {
        return Ok(None);
    }
    let mut tries = 1;
    loop {
        let statements = format!(
            "UPDATE $order SET closed_at = closed_at ?? time::now(), changed_at = time::now();
             UPSERT $closing SET closed_at = (SELECT VALUE closed_at FROM ONLY $order);
             UPDATE attempt SET check_after = time::now() + $challenge_check WHERE order_id = $order_id AND state = 'action';
             {}
             {SETTLED}",
            lapse_if_due()
        );
        let write = outbox::write_where(db, &statements, [lapse.clone()])
            .bind(("order", order(order_id)))
            .bind(("closing", closing(order_id)))
            .bind(("force", false))
            .bind(("challenge_check", surrealdb::types::Duration::from(CHALLENGE_CHECK)))
            .bind(("order_id", order_id.clone()));
        match write.commit().await {
            Err(TxError::Conflict) if tries < CONFLICT_TRIES => tries += 1,
            Err(error) => return Err(error),
            Ok(_) => break,
        }
    }
    let mut response = db
        .query(format!("SELECT {ATTEMPT_FIELDS} FROM attempt WHERE order_id = $order_id AND state = 'action' ORDER BY id"))
        .bind(("order_id", order_id.clone()))
        .await?;
    Ok(Some(response.take(0)?))
}

/// When the reconciler looks at a challenge left open at the deadline, in case cancelling it
/// right away failed (Stripe unreachable): not at once, which would race that cancel.
pub const CHALLENGE_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// The reconciler's sweep of closed orders: lapses those whose last attempt ended in a
/// transaction that lost the lapse to a conflict's blind spot (belt and braces: every such
/// transaction writes the order), and those closed longer than `wait` whatever is in flight (a
/// charge that comes after is refunded). Orders paid or cancelled meanwhile leave `closing`.
/// Returns how many lapsed.
pub async fn sweep_closing(db: &Db, wait: std::time::Duration, limit: usize) -> anyhow::Result<usize> {
    let mut response = db
        .query("SELECT VALUE record::id(id) FROM closing WHERE closed_at <= time::now() - 5s ORDER BY closed_at LIMIT $limit")
        .bind(("limit", limit as i64))
        .await?;
    let waiting: Vec<OrderId> = response.take(0)?;
    let mut lapsed = 0;
    for order_id in waiting {
        let lapse = OutboxRecord::new(&shared::events::PaymentExpired { order_id: order_id.clone() })?;
        let statements = format!(
            "LET $since = (SELECT VALUE closed_at FROM ONLY $closing);
             LET $force = $since != NONE AND $since <= time::now() - $wait;
             UPDATE $order SET changed_at = time::now();
             {}
             {SETTLED}",
            lapse_if_due()
        );
        let write = outbox::write_where(db, &statements, [lapse])
            .bind(("order", order(&order_id)))
            .bind(("closing", closing(&order_id)))
            .bind(("order_id", order_id.clone()))
            .bind(("wait", surrealdb::types::Duration::from(wait)));
        match write.commit().await {
            Ok(_) => {}
            // Another replica's sweep, or an attempt ending: looked at again next pass.
            Err(TxError::Conflict) => continue,
            Err(error) => return Err(error.into()),
        }
        if get_order(db, &order_id).await?.is_some_and(|o| o.lapsed) {
            lapsed += 1;
        }
    }
    Ok(lapsed)
}

/// Attempts without an outcome whose next check is due, oldest first.
pub async fn unsettled_attempts(db: &Db, limit: usize) -> Result<Vec<AttemptRow>, surrealdb::Error> {
    let mut response = db
        .query(format!(
            "SELECT {ATTEMPT_FIELDS} FROM attempt WHERE state IN ['pending', 'action'] AND check_after <= time::now()
             ORDER BY id LIMIT $limit"
        ))
        .bind(("limit", limit as i64))
        .await?;
    response.take(0)
}

/// Counts a check of an attempt and sets the next one `after` from now.
pub async fn checked(db: &Db, attempt_id: &PaymentId, after: std::time::Duration) -> Result<(), surrealdb::Error> {
    db.query("UPDATE $attempt SET checks += 1, check_after = time::now() + $after")
        .bind(("attempt", attempt(attempt_id)))
        .bind(("after", surrealdb::types::Duration::from(after)))
        .await?
        .check()?;
    Ok(())
}

/// Records a webhook event as handled; `false` if it was before.
pub async fn webhook_handled(db: &Db, event_id: &str, kind: &str) -> Result<bool, TxError> {
    let query = db
        .query("CREATE $event SET kind = $kind, received_at = time::now()")
        .bind(("event", RecordId::new(WEBHOOK_EVENT, event_id)))
        .bind(("kind", kind.to_string()));
    commit(query).await.map(|_| true).on_constraint(WEBHOOK_EVENT, || false)
}

pub async fn webhook_seen(db: &Db, event_id: &str) -> Result<bool, surrealdb::Error> {
    let mut response = db.query("RETURN record::exists($event)").bind(("event", RecordId::new(WEBHOOK_EVENT, event_id))).await?;
    Ok(response.take::<Option<bool>>(0)?.unwrap_or(false))
}

/// Stripe refunded a charge (we asked, or someone did in Stripe's dashboard); `in_full` unless
/// only part of it. Returns the payment as it was, if the charge is one of ours. A partial
/// refund changes nothing here: a refund that is due stays due for the rest.
pub async fn refunded_at_stripe(db: &Db, intent_id: &str, in_full: bool) -> Result<Option<PaymentRow>, surrealdb::Error> {
    let mut response = db
        .query(format!(
            "SELECT {PAYMENT_FIELDS} FROM payment WHERE stripe_id = $stripe_id;
             IF $in_full {{ UPDATE payment SET refund = 'done' WHERE stripe_id = $stripe_id AND refund != 'done'; }};"
        ))
        .bind(("stripe_id", intent_id.to_string()))
        .bind(("in_full", in_full))
        .await?;
    let before: Vec<PaymentRow> = response.take(0)?;
    Ok(before.into_iter().next())
}

/// What payments knows of an order, from the orders service's events.
#[derive(Debug, Clone, SurrealValue)]
pub struct OrderReplica {
    pub id: OrderId,
    pub user_id: UserId,
    /// In cents.
    pub price: i64,
    pub status: String,
    pub expires_at: String,
    pub version: Version,
    /// The payment that settled the order, once there is one.
    pub payment_id: Option<PaymentId>,
    /// `expiration.complete` came: no attempt may begin, and one waiting for its customer is cancelled.
    pub closed: bool,
    /// `payment.expired` was written: orders cancels it, and a charge for it is refunded.
    pub lapsed: bool,
}

impl OrderReplica {
    pub fn status(&self) -> OrderStatus {
        OrderStatus::parse(&self.status).unwrap_or(OrderStatus::Cancelled)
    }
}

pub async fn get_order(db: &Db, id: &OrderId) -> Result<Option<OrderReplica>, surrealdb::Error> {
    let mut response = db
        .query(
            "SELECT record::id(id) AS id, user_id, price, status, expires_at, version, payment_id, closed_at != NONE AS closed, lapsed_at != NONE AS lapsed FROM ONLY $order",
        )
        .bind(("order", order(id)))
        .await?;
    response.take(0)
}

#[derive(Debug, Clone, SurrealValue)]
pub struct PaymentRow {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub stripe_id: String,
    pub amount: i64,
    /// As stored; read it with [`PaymentRow::refund_state`].
    pub refund: String,
    pub refund_id: Option<String>,
    /// Refunds Stripe refused so far.
    pub refund_attempts: i64,
    pub refund_error: Option<String>,
}

impl PaymentRow {
    /// `None` for a state this build does not know (written by a newer one).
    pub fn refund_state(&self) -> Option<RefundState> {
        RefundState::parse(&self.refund)
    }
}

const PAYMENT_FIELDS: &str =
    "record::id(id) AS id, order_id, stripe_id, amount, refund, refund_id, refund_attempts ?? 0 AS refund_attempts, refund_error";

pub async fn get_payment(db: &Db, id: &PaymentId) -> Result<Option<PaymentRow>, surrealdb::Error> {
    let mut response = db.query(format!("SELECT {PAYMENT_FIELDS} FROM ONLY $payment")).bind(("payment", payment(id))).await?;
    response.take(0)
}

pub async fn payments_of(db: &Db, order_id: &OrderId) -> Result<Vec<PaymentRow>, surrealdb::Error> {
    let mut response = db
        .query(format!("SELECT {PAYMENT_FIELDS} FROM payment WHERE order_id = $order_id ORDER BY id"))
        .bind(("order_id", order_id.clone()))
        .await?;
    response.take(0)
}

/// A charge Stripe accepted, for an attempt (whose id the payment takes).
pub struct Charge<'a> {
    pub payment_id: &'a PaymentId,
    pub order_id: &'a OrderId,
    pub stripe_id: &'a str,
    pub amount: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Settled {
    /// The payment settled the order; `payment.created` is in the outbox.
    Paid,
    /// The order was cancelled meanwhile.
    Cancelled,
    /// Another payment settled it first.
    AlreadyPaid,
    /// This charge was recorded before (by the request, a webhook or the reconciler).
    Recorded,
    /// Something changed while writing: read and decide again.
    Retry,
}

/// Records a charge as the order's payment with `payment.created`, in one transaction. Writing
/// the order record makes this conflict with a concurrent cancellation or a second payment. An
/// order that lapsed counts as cancelled even before `order.cancelled` arrives: its
/// `payment.expired` is on its way to orders, which cancels it. A charge of an attempt begun
/// before the expiry settles the order however late Stripe reports it, as long as the order has
/// not lapsed, and it cannot lapse while that attempt is in flight.
pub async fn settle(db: &Db, charge: &Charge<'_>, event: OutboxRecord) -> Result<Settled, TxError> {
    let statements = format!(
        "LET $o = (SELECT status, payment_id, lapsed_at FROM ONLY $order);
             IF $o.payment_id = $payment_id {{ THROW '{RECORDED}'; }};
             IF $o = NONE OR $o.status = 'cancelled' OR $o.lapsed_at != NONE {{ THROW '{CANCELLED}'; }};
             IF $o.payment_id != NONE {{ THROW '{PAID}'; }};
             UPDATE $order SET payment_id = $payment_id, paying = NONE, paying_until = NONE;
             DELETE $closing;
             CREATE $payment SET order_id = $order_id, stripe_id = $stripe_id, amount = $amount, refund = 'none', created_at = time::now();
             UPDATE $attempt SET state = 'succeeded', intent_id = $stripe_id, error = NONE;"
    );
    let write = outbox::write(db, &statements, [event])
        .bind(("order", order(charge.order_id)))
        .bind(("closing", closing(charge.order_id)))
        .bind(("payment", payment(charge.payment_id)))
        .bind(("attempt", attempt(charge.payment_id)))
        .bind(("payment_id", charge.payment_id.clone()))
        .bind(("order_id", charge.order_id.clone()))
        .bind(("stripe_id", charge.stripe_id.to_string()))
        .bind(("amount", charge.amount));
    // A payment of this id or this charge exists: the same charge was kept for a refund already.
    let settled = write
        .commit()
        .await
        .map(|_| Settled::Paid)
        .on_constraint(PAYMENT, || Settled::Recorded)
        .on_constraint(PAYMENT_STRIPE, || Settled::Recorded);
    match settled {
        Err(error) if error.threw(RECORDED) => Ok(Settled::Recorded),
        Err(error) if error.threw(CANCELLED) => Ok(Settled::Cancelled),
        Err(error) if error.threw(PAID) => Ok(Settled::AlreadyPaid),
        Err(TxError::Conflict) => Ok(Settled::Retry),
        settled => settled,
    }
}

/// Keeps a charge that must be given back; the refunder does it. A charge already on record
/// is left alone. Its attempt succeeded (at Stripe) and no longer holds the order.
pub async fn keep_for_refund(db: &Db, charge: &Charge<'_>) -> Result<(), TxError> {
    let query = db
        .query(
            "BEGIN TRANSACTION;
             CREATE $payment SET order_id = $order_id, stripe_id = $stripe_id, amount = $amount, refund = 'due', created_at = time::now();
             UPDATE $attempt SET state = 'succeeded', intent_id = $stripe_id, error = NONE;
             UPDATE $order SET paying = NONE, paying_until = NONE WHERE paying = $payment_id;
             COMMIT TRANSACTION;",
        )
        .bind(("payment", payment(charge.payment_id)))
        .bind(("attempt", attempt(charge.payment_id)))
        .bind(("order", order(charge.order_id)))
        .bind(("payment_id", charge.payment_id.clone()))
        .bind(("order_id", charge.order_id.clone()))
        .bind(("stripe_id", charge.stripe_id.to_string()))
        .bind(("amount", charge.amount));
    commit(query).await.map(|_| ()).on_constraint(PAYMENT, || ()).on_constraint(PAYMENT_STRIPE, || ())
}

/// Refunds due now but those in `skip`: a refund Stripe refused waits until its next try.
pub async fn due_refunds(db: &Db, limit: usize, skip: &[PaymentId]) -> Result<Vec<PaymentRow>, surrealdb::Error> {
    let mut response = db
        .query(format!(
            "SELECT {PAYMENT_FIELDS} FROM payment WHERE refund = 'due' AND (refund_after = NONE OR refund_after <= time::now())
             AND record::id(id) NOTINSIDE $skip ORDER BY id LIMIT $limit"
        ))
        .bind(("limit", limit as i64))
        .bind(("skip", skip.to_vec()))
        .await?;
    response.take(0)
}

/// What an operator watches: refunds due and parked, and attempts without an outcome.
#[derive(Debug, Clone, PartialEq, Eq, SurrealValue)]
pub struct Backlog {
    pub refunds_due: i64,
    pub refunds_parked: i64,
    pub attempts_unsettled: i64,
}

pub async fn backlog(db: &Db) -> Result<Backlog, surrealdb::Error> {
    let mut response = db
        .query(
            "RETURN {
                refunds_due: count(SELECT id FROM payment WHERE refund = 'due'),
                refunds_parked: count(SELECT id FROM payment WHERE refund = 'parked'),
                attempts_unsettled: count(SELECT id FROM attempt WHERE state IN ['pending', 'action'])
            }",
        )
        .await?;
    let backlog: Option<Backlog> = response.take(0)?;
    Ok(backlog.unwrap_or(Backlog { refunds_due: 0, refunds_parked: 0, attempts_unsettled: 0 }))
}

/// Refunds in this state, oldest first.
pub async fn refunds_in(db: &Db, state: RefundState) -> Result<Vec<PaymentRow>, surrealdb::Error> {
    let mut response = db
        .query(format!("SELECT {PAYMENT_FIELDS} FROM payment WHERE refund = $state ORDER BY id"))
        .bind(("state", state.to_string()))
        .await?;
    response.take(0)
}

/// Records that Stripe refused a refund: tried again after `retry_in`, or parked.
pub async fn refund_refused(
    db: &Db,
    payment_id: &PaymentId,
    attempts: i64,
    error: &str,
    retry_in: Option<std::time::Duration>,
) -> Result<(), surrealdb::Error> {
    let (state, after) = match retry_in {
        Some(delay) => (RefundState::Due, Some(surrealdb::types::Duration::from(delay))),
        None => (RefundState::Parked, None),
    };
    db.query(
        "UPDATE $payment SET refund = $state, refund_attempts = $attempts, refund_error = $error,
         refund_after = IF $after = NONE { NONE } ELSE { time::now() + $after } WHERE refund = 'due'",
    )
    .bind(("payment", payment(payment_id)))
    .bind(("state", state.as_str().to_string()))
    .bind(("attempts", attempts))
    .bind(("error", error.to_string()))
    .bind(("after", after))
    .await?
    .check()?;
    Ok(())
}

/// Makes parked refunds (all, or one) due again, with their attempts counted from zero.
pub async fn unpark_refunds(db: &Db, payment_id: Option<&PaymentId>) -> Result<usize, surrealdb::Error> {
    let target = if payment_id.is_some() { "$payment" } else { "payment" };
    let mut response = db
        .query(format!(
            "UPDATE {target} SET refund = 'due', refund_attempts = 0, refund_after = NONE WHERE refund = 'parked' RETURN VALUE id"
        ))
        .bind(("payment", payment_id.map(payment)))
        .await?;
    let changed: Vec<RecordId> = response.take(0)?;
    Ok(changed.len())
}

pub async fn mark_refunded(db: &Db, refunded: &PaymentRow, refund_id: &str) -> Result<(), surrealdb::Error> {
    // The refund's webhook may have marked it done already; the id comes from here.
    db.query("UPDATE $payment SET refund = 'done', refund_id = $refund_id WHERE refund = 'due' OR (refund = 'done' AND refund_id = NONE)")
        .bind(("payment", payment(&refunded.id)))
        .bind(("refund_id", refund_id.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// Inserts an order replica; `false` if it already exists (a duplicate event).
pub async fn insert_order(db: &Db, replica: &OrderReplica) -> Result<bool, TxError> {
    let query = db
        .query("CREATE $order SET user_id = $user_id, price = $price, status = $status, expires_at = $expires_at, version = $version")
        .bind(("order", order(&replica.id)))
        .bind(("user_id", replica.user_id.clone()))
        .bind(("price", replica.price))
        .bind(("status", replica.status.clone()))
        .bind(("expires_at", replica.expires_at.clone()))
        .bind(("version", replica.version));
    commit(query).await.map(|_| true).on_constraint(ORDERS, || false)
}

/// Applies an order's new status at exactly `version` (the replica's + 1). A cancelled order's
/// payment, if it has one, becomes due for a refund in the same transaction.
pub async fn apply_status(db: &Db, order_id: &OrderId, version: Version, status: OrderStatus) -> Result<bool, TxError> {
    let refund = if status == OrderStatus::Cancelled {
        // The payments of this order by their index, then the refund check: given both
        // conditions, SurrealDB 3.3 also walked the `refund` index, every payment ever made
        // with `refund = 'none'`, many times slower (docs/operations.md, "The fault run").
        "UPDATE (SELECT VALUE id FROM payment WHERE order_id = $order_id) SET refund = 'due' WHERE refund = 'none';"
    } else {
        ""
    };
    let query = db
        .query(format!(
            "BEGIN TRANSACTION;
             LET $changed = (UPDATE $order SET status = $status, version = $version WHERE version = $version - 1 RETURN VALUE id);
             IF array::len($changed) = 0 {{ THROW '{STALE}'; }};
             {refund}
             DELETE $closing;
             COMMIT TRANSACTION;"
        ))
        .bind(("order", order(order_id)))
        .bind(("closing", closing(order_id)))
        .bind(("order_id", order_id.clone()))
        .bind(("version", version))
        .bind(("status", status.as_str().to_string()));
    match commit(query).await {
        Ok(_) => Ok(true),
        Err(error) if error.threw(STALE) => Ok(false),
        Err(TxError::Conflict) => Ok(false),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constraints_named_in_outcomes_are_the_schemas() {
        let schema = schema();
        for table in [ORDERS, WEBHOOK_EVENT, PAYMENT] {
            assert!(schema.contains(&format!("DEFINE TABLE IF NOT EXISTS {table} ")), "{table}");
        }
        assert!(schema.contains(&format!("DEFINE INDEX IF NOT EXISTS {PAYMENT_STRIPE} ON {PAYMENT} FIELDS stripe_id UNIQUE;")));
    }
}
