//! The auth service's own database: users, with a unique index on the email so two concurrent
//! sign-ups for one address cannot both succeed; and the sessions it issued, so that signing out
//! everywhere can end each of them.
use contract::UserId;

use crate::domain::UserEmail;
use serde::Serialize;
use shared::events::nats::revoked_session_subject;
use shared::events::outbox::{self, OutboxRecord};
use shared::store::{classify, Db, ErrorKind, ResultExt, TxError};
use surrealdb::types::{RecordId, SurrealValue};

pub const SCHEMA: &str = "
DEFINE TABLE IF NOT EXISTS session SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS user_id ON session TYPE string;
DEFINE FIELD IF NOT EXISTS expires_at ON session TYPE datetime;
DEFINE INDEX IF NOT EXISTS session_user ON session FIELDS user_id;
DEFINE INDEX IF NOT EXISTS session_expires ON session FIELDS expires_at;
DEFINE TABLE IF NOT EXISTS user SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS email ON user TYPE string;
DEFINE FIELD IF NOT EXISTS password_hash ON user TYPE string;
DEFINE FIELD IF NOT EXISTS created_at ON user TYPE datetime DEFAULT time::now();
DEFINE INDEX IF NOT EXISTS user_email ON user FIELDS email UNIQUE;
";

/// The unique index of `SCHEMA` that refuses a second user with the same email.
const USER_EMAIL: &str = "user_email";

#[derive(Debug, Clone, SurrealValue)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
}

#[derive(Debug)]
pub enum Insert {
    Created,
    EmailTaken,
}

/// Creates the user unless the email is taken.
///
/// Why the retry: on SurrealDB's server, concurrent sign-ups for one email can lose a
/// transaction conflict on the unique index's entry instead of reading it as taken. Written
/// again, the loser finds the winner's entry and answers `EmailTaken`, the race it was; the
/// conflict itself is never the client's answer (it used to be a 500).
pub async fn insert_user(db: &Db, id: &UserId, email: &UserEmail, password_hash: &str) -> Result<Insert, surrealdb::Error> {
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        let result = db
            .query("CREATE $user SET email = $email, password_hash = $hash")
            .bind(("user", RecordId::new("user", id.as_str())))
            .bind(("email", email.as_str().to_string()))
            .bind(("hash", password_hash.to_string()))
            .await
            .and_then(|response| response.check());
        match result.map(|_| Insert::Created).on_constraint(USER_EMAIL, || Insert::EmailTaken) {
            Err(error) if classify(&error) == ErrorKind::Conflict && attempt < CONFLICT_ATTEMPTS => {
                tracing::debug!(attempt, "sign-up lost a write conflict; writing again");
                tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
            }
            outcome => return outcome,
        }
    }
}

/// How often a sign-up that lost a write conflict is written again.
const CONFLICT_ATTEMPTS: u64 = 8;

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<UserRecord>, surrealdb::Error> {
    let mut response = db
        .query("SELECT record::id(id) AS id, email, password_hash FROM user WHERE email = $email LIMIT 1")
        .bind(("email", email.to_string()))
        .await?;
    response.take(0)
}

/// A session issued: its id, whose it is and when its token expires (unix seconds).
pub struct IssuedSession<'a> {
    pub sid: &'a str,
    pub user_id: &'a UserId,
    pub expires: i64,
}

/// Remembers a session as it is issued, and forgets those that have expired (the last statement,
/// allowed to fail: two sign-ins may race to delete the same rows).
pub async fn record_session(db: &Db, session: &IssuedSession<'_>) -> Result<(), surrealdb::Error> {
    let mut response = db
        .query(
            // `$session` is SurrealDB's own (the connection's session): a protected name.
            "CREATE $issued SET user_id = $user_id, expires_at = time::from_secs($expires) RETURN NONE;
             DELETE session WHERE expires_at < time::now();",
        )
        .bind(("issued", RecordId::new("session", session.sid)))
        .bind(("user_id", session.user_id.clone()))
        .bind(("expires", session.expires))
        .await?;
    let errors = response.take_errors();
    match errors.into_iter().find(|(index, _)| *index == 0) {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// The sessions of `user_id` that have not expired, with their expiry (unix seconds).
pub async fn live_sessions(db: &Db, user_id: &UserId) -> Result<Vec<(String, i64)>, surrealdb::Error> {
    #[derive(SurrealValue)]
    struct Live {
        sid: String,
        expires: i64,
    }
    let mut response = db
        .query("SELECT record::id(id) AS sid, time::unix(expires_at) AS expires FROM session WHERE user_id = $user_id AND expires_at > time::now()")
        .bind(("user_id", user_id.clone()))
        .await?;
    let live: Vec<Live> = response.take(0)?;
    Ok(live.into_iter().map(|l| (l.sid, l.expires)).collect())
}

/// What the revoked sessions' bucket holds for a session: whose it was, and until when its
/// token would have been valid (after which the key means nothing).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Revoked<'a> {
    user_id: &'a UserId,
    until: i64,
}

/// Ends `sessions` (their ids and expiries), all of `user_id`: each is deleted and its end put
/// into the revoked sessions' bucket through the outbox, in one transaction, so that every
/// service hears of it however the process fares after the commit.
pub async fn end_sessions(db: &Db, user_id: &UserId, sessions: &[(String, i64)]) -> Result<(), TxError> {
    if sessions.is_empty() {
        return Ok(());
    }
    let mut events = Vec::new();
    for (sid, until) in sessions {
        let payload = serde_json::to_string(&Revoked { user_id, until: *until })
            .map_err(|e| TxError::Failed(surrealdb::Error::internal(e.to_string())))?;
        events.push(OutboxRecord::on(revoked_session_subject(sid), payload));
    }
    let ids: Vec<RecordId> = sessions.iter().map(|(sid, _)| RecordId::new("session", sid.as_str())).collect();
    outbox::write(db, "DELETE $sessions;", events).bind(("sessions", ids)).commit().await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_constraint_is_the_schemas_unique_index() {
        assert!(SCHEMA.contains(&format!("DEFINE INDEX IF NOT EXISTS {USER_EMAIL} ON user FIELDS email UNIQUE;")));
    }
}
