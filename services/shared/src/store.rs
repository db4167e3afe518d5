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
