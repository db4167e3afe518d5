//! Storage: one SurrealDB handle per service, in that service's own database, with its schema
//! applied idempotently at start.
//!
//! Why the handle is an `Arc`: cloning a `Surreal` opens a new session on the database. Over
//! WebSocket that is a round trip per command of the session's setup (attach, sign in, select
//! the namespace and database) before the clone's first query, and the sign-in makes the server
//! verify the user's password hash, which is slow on purpose. Axum clones a handler's state for
//! every request, so a cloned `Surreal` there cost every request that much (docs/operations.md,
//! "The fault run"). One session shared by all of the service's requests and consumers is what
//! the server expects: a query reads its session (namespace, database, user), it never writes it,
//! and `LET` and transactions live in the query.
//!
//! Why errors are classified here: handlers care about a few outcomes (a rule said no, the
//! record exists, another transaction won, the database is unreachable), and SurrealDB reports
//! some of them as structured kinds and others only in the message. Every caller asks
//! [`classify`], so the message texts are matched in one place, and a test runs each kind
//! against the embedded engine and a real server over WebSocket. A collision a caller expects
//! (the email is taken, the event was recorded before) is named by its index or table through
//! [`ResultExt::on_constraint`]; any other collision stays an error.
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use surrealdb::engine::any::Any;
use surrealdb::types::{AlreadyExistsError, QueryError};
use surrealdb::Surreal;

/// Where a service keeps its data.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `mem://`, `surrealkv://<path>`, `ws://host:port` or `wss://host:port`.
    pub url: String,
    pub namespace: String,
    pub database: String,
    /// Credentials for a SurrealDB server; embedded engines need none.
    pub credentials: Option<(String, String)>,
    /// A PEM file of the certificate authorities a `wss://` server's certificate may chain to,
    /// besides the platform's store (`DATABASE_CA_FILE`): a cluster's own CA, as cert-manager
    /// writes it into a Secret's `ca.crt`.
    pub ca_file: Option<PathBuf>,
}

/// The storage engines a `DATABASE_URL` can name, and the cargo feature that links each.
const ENGINES: &[(&str, &str, bool)] = &[
    ("mem://", "embedded", cfg!(feature = "embedded")),
    ("surrealkv://", "embedded", cfg!(feature = "embedded")),
    ("ws://", "remote", cfg!(feature = "remote")),
    ("wss://", "remote", cfg!(feature = "remote")),
];

impl DatabaseSettings {
    /// A new in-memory database named `database`, empty at every connection: for tests.
    pub fn in_memory(database: &str) -> Self {
        Self { url: "mem://".into(), namespace: "test".into(), database: database.into(), credentials: None, ca_file: None }
    }

    /// Checks that `url` names an engine this build links, so a build without it refuses the
    /// configuration at start instead of failing at the first connection.
    pub fn engine_for(url: &str) -> Result<&'static str, String> {
        match ENGINES.iter().find(|(scheme, _, _)| url.starts_with(scheme)) {
            Some((scheme, _, true)) => Ok(scheme),
            Some((scheme, feature, false)) => {
                Err(format!("this build does not include the {scheme} engine (build with the cargo feature `{feature}`)"))
            }
            None => Err("expected mem://, surrealkv://<path>, ws://host:port or wss://host:port".to_string()),
        }
    }
}

/// The service's database session, shared by every request and consumer of the process, and
/// the signal its outbox relay waits on: a transaction that wrote events
/// (`events::outbox::write`) wakes the relay itself, so the events leave within milliseconds
/// instead of at the relay's next look, and no caller can forget to wake it.
#[derive(Clone, Debug)]
pub struct Db {
    session: Arc<Surreal<Any>>,
    events_written: Arc<tokio::sync::Notify>,
}

impl Db {
    /// Woken after each commit that wrote outbox records.
    pub fn events_written(&self) -> &tokio::sync::Notify {
        &self.events_written
    }
}

impl std::ops::Deref for Db {
    type Target = Surreal<Any>;

    fn deref(&self) -> &Surreal<Any> {
        &self.session
    }
}

/// How long a health check of the database may take before it counts as unreachable.
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// True when the database answers a health check in time.
pub async fn reachable(db: &Db) -> bool {
    matches!(tokio::time::timeout(HEALTH_TIMEOUT, db.health()).await, Ok(Ok(())))
}

/// Connects, selects the service's namespace and database, and applies `schema` (statements that
/// are safe to run on every start: `DEFINE ... IF NOT EXISTS` / `OVERWRITE`).
pub async fn connect(settings: &DatabaseSettings, schema: &str) -> anyhow::Result<Db> {
    if let Some(path) = settings.url.strip_prefix("surrealkv://")
        && let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).with_context(|| format!("creating data folder {}", parent.display()))?;
    }
    let db = if settings.url.starts_with("wss://") {
        surrealdb::engine::any::connect((settings.url.as_str(), tls(settings)?)).await
    } else {
        surrealdb::engine::any::connect(settings.url.as_str()).await
    }
    .with_context(|| format!("connecting to the database at {}", settings.url))?;
    if let Some((username, password)) = &settings.credentials {
        db.signin(surrealdb::opt::auth::Database {
            namespace: settings.namespace.clone(),
            database: settings.database.clone(),
            username: username.clone(),
            password: password.clone(),
        })
        .await
        .with_context(|| format!("signing in to database {} as {username}", settings.database))?;
    }
    db.use_ns(&settings.namespace)
        .use_db(&settings.database)
        .await
        .with_context(|| format!("selecting {}/{}", settings.namespace, settings.database))?;
    // Replicas starting together apply the same schema at once, and all but one of them can
    // lose a write conflict on the definitions: the statements are idempotent, so apply again.
    for attempt in 1u64.. {
        match db.query(schema).await.and_then(|response| response.check()) {
            Ok(_) => break,
            Err(error) if classify(&error) == ErrorKind::Conflict && attempt < SCHEMA_ATTEMPTS => {
                let jitter = u64::from(std::process::id() % 50);
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt + jitter)).await;
            }
            Err(error) => return Err(error).with_context(|| format!("applying the schema of database {}", settings.database)),
        }
    }
    Ok(Db { session: Arc::new(db), events_written: Arc::default() })
}

/// The client side of `wss://`: the server's certificate must chain to the platform's store
/// (`/etc/ssl/certs`, `SSL_CERT_FILE`) or to `DATABASE_CA_FILE`. Ring is named as the crypto
/// provider: the build links two (async-nats' ring, SurrealDB's aws-lc), so rustls cannot pick.
#[cfg(feature = "remote")]
fn tls(settings: &DatabaseSettings) -> anyhow::Result<surrealdb::opt::Config> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "a certificate of the platform's store was not read");
    }
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = &settings.ca_file {
        let certificates = CertificateDer::pem_file_iter(path)
            .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("reading DATABASE_CA_FILE {}", path.display()))?;
        anyhow::ensure!(!certificates.is_empty(), "DATABASE_CA_FILE {} holds no certificate", path.display());
        for certificate in certificates {
            roots.add(certificate).with_context(|| format!("a certificate of DATABASE_CA_FILE {}", path.display()))?;
        }
    }
    anyhow::ensure!(!roots.is_empty(), "no certificate authority to check the database's certificate against: set DATABASE_CA_FILE");
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS for the database")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(surrealdb::opt::Config::new().rustls(config))
}

/// Without the `remote` feature a `wss://` URL is refused with the configuration.
#[cfg(not(feature = "remote"))]
fn tls(_settings: &DatabaseSettings) -> anyhow::Result<surrealdb::opt::Config> {
    anyhow::bail!("this build does not include the wss:// engine (build with the cargo feature `remote`)")
}

/// How often a schema that lost a write conflict is applied again before start-up fails.
const SCHEMA_ATTEMPTS: u64 = 10;

/// What a failed statement means to a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A `THROW` of the query: a rule of the service said no.
    Thrown,
    /// The record, or an entry of a unique index, exists already.
    Exists,
    /// Another transaction wrote the same keys first; running it again may succeed.
    Conflict,
    /// Not run because another statement of its transaction failed.
    NotExecuted,
    /// The database could not be reached (the connection is down or being re-established).
    Unreachable,
    /// Anything else: a bug, or a failure to look at in the logs.
    Other,
}

/// Sorts an error by what it means. Structured kinds come first; SurrealDB reports a unique
/// index violation and some conflicts only as internal errors with a message, so those are
/// recognised by their text, here and nowhere else.
pub fn classify(error: &surrealdb::Error) -> ErrorKind {
    if error.is_thrown() {
        return ErrorKind::Thrown;
    }
    if error.is_connection() {
        return ErrorKind::Unreachable;
    }
    match error.query_details() {
        Some(QueryError::TransactionConflict) => return ErrorKind::Conflict,
        Some(QueryError::NotExecuted) => return ErrorKind::NotExecuted,
        _ => {}
    }
    if matches!(error.already_exists_details(), Some(AlreadyExistsError::Record { .. })) {
        return ErrorKind::Exists;
    }
    let message = error.message();
    if message.contains("already contains") || (message.contains("already exists") && message.contains("Database record")) {
        return ErrorKind::Exists;
    }
    if message.contains("can be retried") || message.to_ascii_lowercase().contains("transaction conflict") {
        return ErrorKind::Conflict;
    }
    if message.contains("not executed") {
        return ErrorKind::NotExecuted;
    }
    ErrorKind::Other
}

/// What a refused write collided with. SurrealDB names it: the record id (whose table we keep)
/// or the unique index. Callers expect one particular collision each (a second sign-up with the
/// same email, a duplicate event), and say which by name through [`ResultExt::on_constraint`];
/// any other collision stays an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// A record id of this table exists already.
    Record(String),
    /// This unique index holds the value already.
    Index(String),
    /// An "already exists" this code cannot name (SurrealDB changed its words): matches nothing.
    Unnamed(String),
}

impl Taken {
    fn of(error: &surrealdb::Error) -> Self {
        let table = |id: &str| id.split_once(':').map_or(id, |(table, _)| table).to_string();
        if let Some(AlreadyExistsError::Record { id }) = error.already_exists_details() {
            return Self::Record(table(id));
        }
        let message = error.message();
        let quoted = |prefix: &str| message.split_once(prefix).and_then(|(_, rest)| rest.split_once('`')).map(|(name, _)| name);
        if let Some(index) = quoted("Database index `") {
            return Self::Index(index.to_string());
        }
        if let Some(id) = quoted("Database record `") {
            return Self::Record(table(id));
        }
        Self::Unnamed(message.to_string())
    }

    /// True for a collision on `constraint`: a unique index's name, or a table's.
    pub fn is(&self, constraint: &str) -> bool {
        matches!(self, Self::Record(name) | Self::Index(name) if name == constraint)
    }
}

/// Expected database outcomes, told apart by the constraint's name, as realworld-axum-sqlx's
/// `on_constraint` does for Postgres.
pub trait ResultExt<T>: Sized {
    /// `Ok(f())` when the write was refused because `constraint` (a unique index, or the table
    /// whose record id is taken) already holds the value; any other result is left as it is.
    fn on_constraint(self, constraint: &str, f: impl FnOnce() -> T) -> Self;
}

impl<T> ResultExt<T> for Result<T, TxError> {
    fn on_constraint(self, constraint: &str, f: impl FnOnce() -> T) -> Self {
        match self {
            Err(TxError::Exists(taken)) if taken.is(constraint) => Ok(f()),
            other => other,
        }
    }
}

impl<T> ResultExt<T> for Result<T, surrealdb::Error> {
    fn on_constraint(self, constraint: &str, f: impl FnOnce() -> T) -> Self {
        match self {
            Err(error) if classify(&error) == ErrorKind::Exists && Taken::of(&error).is(constraint) => Ok(f()),
            other => other,
        }
    }
}

/// Why a transaction did not commit.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// A `THROW "<code>"` of the query: a rule of the service said no.
    #[error("refused: {0}")]
    Refused(String),
    /// A record or unique index entry that already exists.
    #[error("already exists: {0:?}")]
    Exists(Taken),
    /// Another transaction wrote the same keys first; running it again may succeed.
    #[error("conflicting transaction")]
    Conflict,
    #[error(transparent)]
    Failed(#[from] surrealdb::Error),
}

impl TxError {
    /// True when a rule of the transaction threw `code` (`THROW '<code>'`). The codes are each
    /// store's named constants, written into its queries with `format!`, so that the query and
    /// the match cannot drift apart.
    pub fn threw(&self, code: &str) -> bool {
        matches!(self, Self::Refused(thrown) if thrown.contains(code))
    }

    /// The database could not be reached: waiting, not giving up, is the answer.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Failed(error) if classify(error) == ErrorKind::Unreachable)
    }
}

/// Runs a `BEGIN … COMMIT` query and sorts its failure. In a failed transaction every statement
/// reports an error; the one that caused it is the first that is not "not executed".
pub async fn commit(query: surrealdb::method::Query<'_, surrealdb::engine::any::Any>) -> Result<surrealdb::IndexedResults, TxError> {
    let mut response = query.await?;
    let mut errors: Vec<(usize, surrealdb::Error)> = response.take_errors().into_iter().collect();
    if errors.is_empty() {
        return Ok(response);
    }
    errors.sort_by_key(|(index, _)| *index);
    let cause = errors.iter().position(|(_, e)| classify(e) != ErrorKind::NotExecuted).unwrap_or(0);
    let (_, cause) = errors.swap_remove(cause);
    Err(tx_error(cause))
}

fn tx_error(cause: surrealdb::Error) -> TxError {
    match classify(&cause) {
        ErrorKind::Thrown => TxError::Refused(cause.message().to_string()),
        ErrorKind::Exists => TxError::Exists(Taken::of(&cause)),
        ErrorKind::Conflict => TxError::Conflict,
        ErrorKind::NotExecuted | ErrorKind::Unreachable | ErrorKind::Other => TxError::Failed(cause),
    }
}

impl From<TxError> for crate::ApiError {
    fn from(error: TxError) -> Self {
        match error {
            TxError::Failed(error) => error.into(),
            error => crate::ApiError::Internal(anyhow::Error::new(error).context("transaction failed")),
        }
    }
}

impl From<surrealdb::Error> for crate::ApiError {
    fn from(error: surrealdb::Error) -> Self {
        // The connection to a database server dropped (it restarts, the network blipped): the
        // client may try again, so say so with a 503 rather than a 500 that reads as a bug.
        if classify(&error) == ErrorKind::Unreachable {
            tracing::warn!(%error, "database unreachable");
            let message = "Database unreachable, please try again";
            return Self::Unavailable(crate::error::ErrorItem::new(crate::error::ErrorCode::DatabaseUnavailable, message));
        }
        Self::Internal(anyhow::Error::new(error).context("database query failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use surrealdb::types::ConnectionError;

    #[test]
    fn structured_kinds_are_classified_by_kind() {
        assert_eq!(classify(&surrealdb::Error::thrown("STALE".into())), ErrorKind::Thrown);
        assert_eq!(classify(&surrealdb::Error::query("x".into(), QueryError::TransactionConflict)), ErrorKind::Conflict);
        assert_eq!(classify(&surrealdb::Error::query("x".into(), QueryError::NotExecuted)), ErrorKind::NotExecuted);
        let exists = surrealdb::Error::already_exists("x".into(), AlreadyExistsError::Record { id: "ticket:1".into() });
        assert_eq!(classify(&exists), ErrorKind::Exists);
        assert_eq!(Taken::of(&exists), Taken::Record("ticket".into()));
        let down = surrealdb::Error::connection("WebSocket error".into(), ConnectionError::ConnectionFailed);
        assert_eq!(classify(&down), ErrorKind::Unreachable);
    }

    #[test]
    fn kinds_reported_only_in_the_message_are_recognised() {
        let internal = |message: &str| surrealdb::Error::internal(message.to_string());
        let index = internal("Database index `payment_stripe` already contains 'pi_1', with record `payment:a`");
        assert_eq!(classify(&index), ErrorKind::Exists);
        assert_eq!(Taken::of(&index), Taken::Index("payment_stripe".into()));
        let record = internal("Database record `reservation:⟨t-1⟩` already exists");
        assert_eq!(classify(&record), ErrorKind::Exists);
        assert_eq!(Taken::of(&record), Taken::Record("reservation".into()));
        let conflict = internal("Failed to commit transaction due to a read or write conflict. This transaction can be retried");
        assert_eq!(classify(&conflict), ErrorKind::Conflict);
        assert_eq!(classify(&internal("The query was not executed due to a failed transaction")), ErrorKind::NotExecuted);
        assert_eq!(classify(&internal("Found NONE for field `title`")), ErrorKind::Other);
    }

    #[test]
    fn a_failed_transaction_reports_its_cause_not_the_statements_it_stopped() {
        let stopped = surrealdb::Error::query("not executed".into(), QueryError::NotExecuted);
        assert!(matches!(tx_error(stopped), TxError::Failed(_)));
        assert!(matches!(tx_error(surrealdb::Error::thrown("PAID".into())), TxError::Refused(code) if code.contains("PAID")));
    }

    #[test]
    fn only_the_named_constraint_is_an_expected_outcome() {
        let taken = || Err::<&str, _>(TxError::Exists(Taken::Index("user_email".into())));
        assert_eq!(taken().on_constraint("user_email", || "email taken").ok(), Some("email taken"));
        assert!(matches!(taken().on_constraint("user", || "record taken"), Err(TxError::Exists(_))));
        let unnamed = Err::<&str, _>(TxError::Exists(Taken::Unnamed("something exists".into())));
        assert!(unnamed.on_constraint("user_email", || "email taken").is_err());
        let index = Err::<&str, _>(surrealdb::Error::internal(
            "Database index `user_email` already contains 'a@b.co', with record `user:1`".into(),
        ));
        assert_eq!(index.on_constraint("user_email", || "email taken").ok(), Some("email taken"));
        assert_eq!(Ok::<_, TxError>("created").on_constraint("user_email", || "email taken").ok(), Some("created"));
    }
}
