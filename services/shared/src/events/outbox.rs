//! The transactional outbox. A service writes its state change and the event it causes in one
//! database transaction; the relay then publishes outbox records in order, with
//! `Nats-Msg-Id` = the record's id, awaits JetStream's ack and only then removes the record. If
//! the process dies anywhere in between, the record is still there at the next start and is
//! published then; the stream's duplicate window makes a second publish of it harmless.
//!
//! Every replica of a service runs a relay on the one outbox table. Each relay publishes the
//! records its own process wrote, and adopts any record left alone for [`ORPHANED_AFTER`] (its
//! writer died or was restarted). Relays that all took every record published each event twice
//! and lost write conflicts deleting the same records, each loss a pause: under load that
//! delayed events by hundreds of milliseconds.
//!
//! A record keeps the `traceparent` of the span that wrote it (a request's, an event handler's),
//! written in the same transaction, and the relay publishes it as the message's `traceparent`
//! header: whoever handles the event joins the trace of what caused it, however long the record
//! waited. Records from before the field have none and are published without it.
//!
//! The relay reports `outbox_published_total{service, subject}` as it publishes, and after a
//! look at the table (at most every [`GAUGE_EVERY`]) `outbox_backlog{service}` and
//! `outbox_oldest_age_seconds{service}`: the whole table, every writer's records, so each
//! replica reports the same figure (take the max, not the sum). A backlog that grows, or an age
//! well past [`ORPHANED_AFTER`], means events are not leaving: NATS unreachable, or no relay.
use std::time::{Duration, Instant};

use ::metrics::{counter, gauge};

use async_nats::jetstream::{self, message::PublishMessage};
use surrealdb::types::{RecordId, SurrealValue};

use super::Event;
use crate::store::Db;

/// Tables every publishing service adds to its schema.
pub const SCHEMA: &str = "
DEFINE TABLE IF NOT EXISTS outbox SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS subject ON outbox TYPE string;
DEFINE FIELD IF NOT EXISTS payload ON outbox TYPE string;
DEFINE FIELD IF NOT EXISTS writer ON outbox TYPE option<string>;
DEFINE FIELD IF NOT EXISTS created_at ON outbox TYPE option<datetime> DEFAULT time::now();
DEFINE FIELD IF NOT EXISTS traceparent ON outbox TYPE option<string>;
";

/// A record no relay of its writer has published for this long is adopted by any relay.
pub const ORPHANED_AFTER: Duration = Duration::from_secs(2);

/// This process's name as a writer of outbox records: new at every start, so a restarted
/// replica's leftovers count as another writer's (adopted after [`ORPHANED_AFTER`]).
fn writer() -> &'static str {
    static WRITER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    WRITER.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

const BATCH: usize = 256;
/// How often the relay looks without being woken (a write by another replica, a restart).
const POLL: Duration = Duration::from_millis(500);

/// One event waiting to be published, written inside the caller's transaction. A clone is the
/// same record (its id too): a transaction run again after a conflict writes it once.
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub id: RecordId,
    pub subject: String,
    pub payload: String,
    /// The W3C `traceparent` of the span the event was made in; `None` outside any trace.
    pub traceparent: Option<String>,
}

/// A record as the table holds it.
#[derive(SurrealValue)]
struct OutboxRow {
    id: RecordId,
    subject: String,
    payload: String,
    writer: String,
    traceparent: Option<String>,
}

impl OutboxRecord {
    /// The record of `event`, in the trace of the current span.
    pub fn new<E: Event>(event: &E) -> anyhow::Result<Self> {
        let payload = serde_json::to_string(event).map_err(|e| anyhow::anyhow!("encoding {}: {e}", E::SUBJECT))?;
        Ok(Self::on(E::SUBJECT.to_string(), payload))
    }

    /// A record of `payload` on a subject made at run time (a key of a key-value bucket, such as
    /// a revoked session's), in the trace of the current span.
    pub fn on(subject: String, payload: String) -> Self {
        Self {
            // v7: ordered by creation time, so `ORDER BY id` is publishing order.
            id: RecordId::new("outbox", uuid::Uuid::now_v7().simple().to_string()),
            subject,
            payload,
            traceparent: crate::telemetry::current_traceparent(),
        }
    }

    fn row(self) -> OutboxRow {
        OutboxRow { id: self.id, subject: self.subject, payload: self.payload, writer: writer().to_string(), traceparent: self.traceparent }
    }
}

/// A transaction of `statements` that also writes `events` to the outbox: both are committed or
/// neither. Bind the statements' parameters on it, then [`Write::commit`], which wakes the relay
/// when events were written. The one way a service writes a change with the events it causes.
pub fn write<'a>(db: &'a Db, statements: &str, events: impl IntoIterator<Item = OutboxRecord>) -> Write<'a> {
    transaction(db, &format!("{statements}\n{INSERT}"), events)
}

/// The statement that writes a transaction's events. [`write`] puts it after the caller's
/// statements; a transaction whose events are written only on a condition puts it inside its
/// `IF` and is made with [`write_where`].
pub const INSERT: &str = "IF array::len($outbox_rows) > 0 { INSERT INTO outbox $outbox_rows; };";

/// A transaction of `statements`, which write `events` where they say [`INSERT`].
pub fn write_where<'a>(db: &'a Db, statements: &str, events: impl IntoIterator<Item = OutboxRecord>) -> Write<'a> {
    debug_assert!(statements.contains(INSERT), "the statements write no events");
    transaction(db, statements, events)
}

fn transaction<'a>(db: &'a Db, statements: &str, events: impl IntoIterator<Item = OutboxRecord>) -> Write<'a> {
    let rows: Vec<OutboxRow> = events.into_iter().map(OutboxRecord::row).collect();
    // Woken for a record an `IF` did not write, the relay looks once for nothing.
    let wakes = !rows.is_empty();
    let query = db.query(format!("BEGIN TRANSACTION;\n{statements}\nCOMMIT TRANSACTION;")).bind(("outbox_rows", rows));
    Write { db, query, wakes }
}

/// A transaction with its events, to bind and commit ([`write`]).
#[must_use = "a write does nothing until it is committed"]
pub struct Write<'a> {
    db: &'a Db,
    query: surrealdb::method::Query<'a, surrealdb::engine::any::Any>,
    wakes: bool,
}

impl Write<'_> {
    pub fn bind(self, vars: impl surrealdb::method::IntoVariables) -> Self {
        Self { query: self.query.bind(vars), ..self }
    }

    /// Runs the transaction ([`crate::store::commit`]: its errors classified), and wakes the
    /// relay when it carried events: after an error too, which can come after the commit (its
    /// answer lost on the way back); woken for nothing, the relay looks once.
    pub async fn commit(self) -> Result<surrealdb::IndexedResults, crate::store::TxError> {
        let committed = crate::store::commit(self.query).await;
        if self.wakes {
            self.db.events_written().notify_one();
        }
        committed
    }
}

/// The subject as a metric's label: a key-value bucket's keys (one per revoked session) would
/// make a series each, so a bucket's puts count under `$KV.<bucket>`.
fn subject_label(subject: &str) -> String {
    match subject.strip_prefix("$KV.").and_then(|rest| rest.split_once('.')) {
        Some((bucket, _)) => format!("$KV.{bucket}"),
        None => subject.to_string(),
    }
}

#[derive(Debug, SurrealValue)]
struct Pending {
    id: String,
    subject: String,
    payload: String,
    traceparent: Option<String>,
}

/// How often at most the relay counts the table for its gauges: two more queries per look.
const GAUGE_EVERY: Duration = Duration::from_secs(1);

/// Publishes the outbox until the process stops; survives NATS and database outages by retrying
/// with back-off. Asked to stop, it publishes what is committed, then returns. `service` labels
/// its metrics.
pub async fn relay(db: Db, js: jetstream::Context, drain: super::drain::Drain, service: &'static str) {
    let _running = drain.enter();
    let mut backoff = Duration::from_millis(100);
    let mut counted: Option<Instant> = None;
    loop {
        let batch = relay_batch(&db, &js, service).await;
        if !drain.is_stopping() && counted.is_none_or(|at| at.elapsed() >= GAUGE_EVERY) {
            counted = Some(Instant::now());
            update_gauges(&db, service).await;
        }
        match batch {
            Ok(0) if drain.is_stopping() => return,
            Ok(0) => {
                backoff = Duration::from_millis(100);
                tokio::select! {
                    () = db.events_written().notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = drain.stopped() => {}
                }
            }
            Ok(published) => {
                backoff = Duration::from_millis(100);
                tracing::debug!(published, "outbox batch published");
            }
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), retry_in = ?backoff, "outbox relay failed; retrying");
                if drain.is_stopping() {
                    // The records stay; the next replica to run publishes them.
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Publishes up to one batch in order and removes what JetStream acknowledged.
async fn relay_batch(db: &Db, js: &jetstream::Context, service: &'static str) -> anyhow::Result<usize> {
    let mut response = db
        .query(
            "SELECT record::id(id) AS id, subject, payload, traceparent FROM outbox
             WHERE writer = $writer OR created_at < time::now() - $orphaned ORDER BY id LIMIT $batch",
        )
        .bind(("writer", writer().to_string()))
        .bind(("orphaned", surrealdb::types::Duration::from(ORPHANED_AFTER)))
        .bind(("batch", BATCH as i64))
        .await?;
    let pending: Vec<Pending> = response.take(0)?;
    if pending.is_empty() {
        return Ok(0);
    }
    // Send the whole batch, then await the acks in order: one round trip, same order.
    let mut acks = Vec::with_capacity(pending.len());
    let mut failure = None;
    for record in &pending {
        let mut message = PublishMessage::build().payload(record.payload.clone().into()).message_id(&record.id);
        // A header value with a line break would panic the client: such a record goes without.
        if let Some(traceparent) = record.traceparent.as_deref().filter(|value| !value.contains(['\r', '\n'])) {
            message = message.header("traceparent", traceparent);
        }
        match js.send_publish(record.subject.clone(), message).await {
            Ok(ack) => acks.push(ack),
            Err(error) => {
                failure = Some(anyhow::Error::new(error).context(format!("publishing {}", record.subject)));
                break;
            }
        }
    }
    let mut acknowledged = Vec::with_capacity(acks.len());
    for (record, ack) in pending.iter().zip(acks) {
        match ack.await {
            Ok(_) => {
                counter!("outbox_published_total", "service" => service, "subject" => subject_label(&record.subject)).increment(1);
                acknowledged.push(RecordId::new("outbox", record.id.clone()));
            }
            Err(error) => {
                failure = Some(anyhow::Error::new(error).context(format!("awaiting the ack of {}", record.subject)));
                break;
            }
        }
    }
    let published = acknowledged.len();
    if !acknowledged.is_empty() {
        db.query("DELETE $records").bind(("records", acknowledged)).await?.check()?;
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(published),
    }
}

/// How many events wait to be published (for tests and readiness).
pub async fn pending_count(db: &Db) -> anyhow::Result<usize> {
    let mut response = db.query("SELECT count() AS n FROM outbox GROUP ALL").await?;
    let count: Option<i64> = response.take((0, "n"))?;
    Ok(count.unwrap_or(0) as usize)
}

/// How long the oldest record still in the outbox has waited; `None` when it is empty. Ids are
/// UUID v7, so the first by id is the oldest; records written before `created_at` existed have
/// none and are passed over.
pub async fn oldest_age(db: &Db) -> anyhow::Result<Option<Duration>> {
    let mut response = db
        .query(
            "SELECT id, time::millis(time::now()) - time::millis(created_at) AS age_ms FROM outbox
             WHERE created_at != NONE ORDER BY id LIMIT 1",
        )
        .await?;
    let age: Option<i64> = response.take((0, "age_ms"))?;
    // Both times are the database's clock, but a clock set back must not give a negative age.
    Ok(age.map(|ms| Duration::from_millis(ms.max(0) as u64)))
}

/// Sets the backlog gauges; a failed count leaves them as they were (the relay logs its own
/// failures).
async fn update_gauges(db: &Db, service: &'static str) {
    match pending_count(db).await {
        Ok(pending) => gauge!("outbox_backlog", "service" => service).set(pending as f64),
        Err(error) => tracing::debug!(error = format!("{error:#}"), "counting the outbox failed"),
    }
    match oldest_age(db).await {
        Ok(age) => gauge!("outbox_oldest_age_seconds", "service" => service).set(age.unwrap_or_default().as_secs_f64()),
        Err(error) => tracing::debug!(error = format!("{error:#}"), "reading the outbox's oldest record failed"),
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::EnvFilter;

    use super::*;
    use crate::events::TicketDeleted;
    use crate::telemetry::{self, LogFormat, TraceSettings};

    fn record() -> OutboxRecord {
        OutboxRecord::new(&TicketDeleted { id: "t1".into(), version: 1.into() }).expect("an encodable event")
    }

    #[test]
    fn a_record_carries_the_traceparent_of_the_span_that_wrote_it() {
        let subscriber = telemetry::subscriber(LogFormat::Json, EnvFilter::new("info"), std::io::sink, &TraceSettings::none("test"));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
            let caller = "00-4bf92f3577b34da6a736d5e8ce7d1a5c-00f067aa0ba902b7-01";
            telemetry::join(&span, telemetry::remote_parent(|name| (name == "traceparent").then(|| caller.to_string())));
            let _entered = span.enter();
            let traceparent = record().traceparent.expect("written inside a traced span");
            assert_eq!(Some(traceparent.clone()), telemetry::current_traceparent(), "the current span's own");
            assert!(traceparent.starts_with("00-4bf92f3577b34da6a736d5e8ce7d1a5c-"), "{traceparent}");
            assert!(!traceparent.contains("00f067aa0ba902b7"), "the writer's span, a child of the caller's: {traceparent}");
        });
    }

    #[test]
    fn a_record_written_outside_any_trace_has_no_traceparent() {
        assert_eq!(record().traceparent, None);
    }

    async fn database() -> Db {
        let settings = crate::store::DatabaseSettings::in_memory("outbox");
        crate::store::connect(&settings, &format!("{SCHEMA}DEFINE TABLE ticket SCHEMALESS;")).await.expect("an in-memory database")
    }

    async fn subjects(db: &Db) -> Vec<String> {
        db.query("SELECT VALUE subject FROM outbox ORDER BY id").await.unwrap().take(0).unwrap()
    }

    /// Whether the relay was woken: a wake with nobody waiting is kept for the next wait.
    async fn woken(db: &Db) -> bool {
        tokio::time::timeout(Duration::from_millis(50), db.events_written().notified()).await.is_ok()
    }

    #[tokio::test]
    async fn a_write_commits_its_change_with_its_events_and_wakes_the_relay() {
        let db = database().await;
        write(&db, "CREATE ticket:t1 SET title = $title;", [record(), record()]).bind(("title", "Concert")).commit().await.unwrap();
        assert_eq!(subjects(&db).await, ["ticket.deleted", "ticket.deleted"]);
        assert!(woken(&db).await, "the relay is woken by the commit");

        write(&db, "CREATE ticket:t2;", []).commit().await.unwrap();
        assert_eq!(subjects(&db).await.len(), 2, "no event, no record");
        assert!(!woken(&db).await, "nothing to publish, nobody woken");
    }

    #[tokio::test]
    async fn a_transaction_that_fails_writes_neither_its_change_nor_its_events() {
        let db = database().await;
        let refused = write(&db, "CREATE ticket:t1; THROW 'STALE';", [record()]).commit().await;
        assert!(refused.is_err_and(|error| error.threw("STALE")));
        assert!(subjects(&db).await.is_empty());
        let tickets: Vec<surrealdb::types::RecordId> = db.query("SELECT VALUE id FROM ticket").await.unwrap().take(0).unwrap();
        assert!(tickets.is_empty());
    }

    #[tokio::test]
    async fn events_written_where_the_statements_say_are_written_only_when_their_condition_holds() {
        let db = database().await;
        let lapse = format!("IF $due {{ {INSERT} }};");
        write_where(&db, &lapse, [record()]).bind(("due", false)).commit().await.unwrap();
        assert!(subjects(&db).await.is_empty());
        write_where(&db, &lapse, [record()]).bind(("due", true)).commit().await.unwrap();
        assert_eq!(subjects(&db).await, ["ticket.deleted"]);
    }

    #[test]
    fn a_buckets_keys_count_under_the_bucket() {
        assert_eq!(subject_label("$KV.SESSIONS_REVOKED.0194f1a2b3c4"), "$KV.SESSIONS_REVOKED");
        assert_eq!(subject_label("ticket.updated"), "ticket.updated");
    }
}
