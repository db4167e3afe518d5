//! Storage: one SurrealDB handle per service, in that service's own database, with its schema
//! applied idempotently at start.
use anyhow::Context;
use surrealdb::engine::any::Any;
use surrealdb::Surreal;

use crate::config::DatabaseSettings;

pub type Db = Surreal<Any>;

/// Connects, selects the service's namespace and database, and applies `schema` (statements that
/// are safe to run on every start: `DEFINE ... IF NOT EXISTS` / `OVERWRITE`).
pub async fn connect(settings: &DatabaseSettings, schema: &str) -> anyhow::Result<Db> {
    if let Some(path) = settings.url.strip_prefix("surrealkv://") {
        if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("creating data folder {}", parent.display()))?;
        }
    }
    let db = surrealdb::engine::any::connect(settings.url.as_str())
        .await
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
    db.query(schema)
        .await
        .and_then(|response| response.check())
        .with_context(|| format!("applying the schema of database {}", settings.database))?;
    Ok(db)
}

/// A write refused by a unique index: SurrealDB reports it only in the message.
pub fn is_unique_violation(error: &surrealdb::Error) -> bool {
    error.message().contains("already contains")
}

/// Why a transaction did not commit.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// A `THROW "<code>"` of the query: a rule of the service said no.
    #[error("refused: {0}")]
    Refused(String),
    /// A record or unique index entry that already exists.
    #[error("already exists: {0}")]
    Exists(String),
    /// Another transaction wrote the same keys first; running it again may succeed.
    #[error("conflicting transaction")]
    Conflict,
    #[error(transparent)]
    Failed(#[from] surrealdb::Error),
}

/// Runs a `BEGIN … COMMIT` query and sorts its failure. In a failed transaction every statement
/// reports an error; the one that caused it is the one that says something else than "not
/// executed".
pub async fn commit(query: surrealdb::method::Query<'_, surrealdb::engine::any::Any>) -> Result<surrealdb::IndexedResults, TxError> {
    let mut response = query.await?;
    let mut errors: Vec<(usize, surrealdb::Error)> = response.take_errors().into_iter().collect();
    if errors.is_empty() {
        return Ok(response);
    }
    errors.sort_by_key(|(index, _)| *index);
    let cause = errors.iter().map(|(_, e)| e).find(|e| !e.message().contains("not executed")).unwrap_or(&errors[0].1);
    let message = cause.message().to_string();
    if cause.is_thrown() {
        return Err(TxError::Refused(message));
    }
    if message.contains("already exists") || is_unique_violation(cause) {
        return Err(TxError::Exists(message));
    }
    if message.contains("can be retried") || message.to_ascii_lowercase().contains("conflict") {
        return Err(TxError::Conflict);
    }
    Err(TxError::Failed(errors.swap_remove(errors.iter().position(|(_, e)| e.message() == message).unwrap_or(0)).1))
}

impl From<TxError> for crate::ApiError {
    fn from(error: TxError) -> Self {
        crate::ApiError::Internal(anyhow::Error::new(error).context("transaction failed"))
    }
}
