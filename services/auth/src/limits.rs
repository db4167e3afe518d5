//! Attempts counted per key (an email and address pair, an email, a client address), in the auth
//! database, so that every replica counts the same attempts: with counters in each process, two
//! replicas behind a load balancer allowed twice the limit, and an attacker only had to spread
//! their tries.
//!
//! An attempt is recorded *before* the work it guards (hashing a password) and then counted: a
//! burst of concurrent requests cannot all pass the check before any of them is counted, since
//! each one's count includes every attempt recorded before it, on any replica. (Two racing at
//! the limit may both see themselves over it and both be refused: the error falls on the side
//! of the limit, never past it.) Records rather than a counter row, because concurrent
//! increments of one row would conflict and have to be retried, and an attacker's spray would
//! then make the owner's own attempt fail on conflicts. An attempt stays counted unless the
//! handler forgives it (a sign-in that succeeded, a hash refused as busy, a refused attempt):
//! a client that hangs up while its hash runs has still made its attempt.
//!
//! The window slides: a key is refused while `limit` attempts lie within the last minute.
//! Records older than the window are deleted by later attempts, so the table holds about a
//! minute's worth of attempts whatever the traffic.
use shared::store::Db;
use surrealdb::types::RecordId;

pub const SCHEMA: &str = "
DEFINE TABLE IF NOT EXISTS attempt SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS key ON attempt TYPE string;
DEFINE FIELD IF NOT EXISTS at ON attempt TYPE datetime;
DEFINE INDEX IF NOT EXISTS attempt_key ON attempt FIELDS key;
DEFINE INDEX IF NOT EXISTS attempt_at ON attempt FIELDS at;
";

/// How many attempts a key may make within a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failed sign-ins for one email from one client address: the guesser's limit, which the
    /// owner at another address never meets.
    pub pair: u32,
    /// Failed sign-ins for one email from all addresses together.
    pub email: u32,
    /// Failed sign-ins from one client address over all emails.
    pub address: u32,
    /// Sign-ups from one client address, whatever their outcome.
    pub signups: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { pair: 10, email: 100, address: 100, signups: 30 }
    }
}

/// The keys and limits a sign-in is counted under.
pub fn signin_keys(limits: &Limits, email: &str, client: &str) -> Vec<(String, u32)> {
    vec![
        (format!("pair:{client} {email}"), limits.pair),
        (format!("email:{email}"), limits.email),
        (format!("address:{client}"), limits.address),
    ]
}

/// The key and limit a sign-up is counted under.
pub fn signup_keys(limits: &Limits, client: &str) -> Vec<(String, u32)> {
    vec![(format!("signup:{client}"), limits.signups)]
}

/// Records an attempt under each key and counts them; `None` (nothing stays recorded) when any
/// key is over its limit.
pub async fn begin(db: &Db, keys: &[(String, u32)]) -> Result<Option<Attempt>, surrealdb::Error> {
    let ids: Vec<RecordId> = keys.iter().map(|_| RecordId::new("attempt", uuid::Uuid::now_v7().simple().to_string())).collect();
    let mut statements = String::new();
    let mut checks = Vec::new();
    for i in 0..keys.len() {
        statements.push_str(&format!("CREATE $id{i} SET key = $key{i}, at = time::now() RETURN NONE;\n"));
        checks.push(format!("array::len((SELECT VALUE id FROM attempt WHERE key = $key{i} AND at > time::now() - 1m)) <= $limit{i}"));
    }
    statements.push_str(&format!("RETURN [{}];\n", checks.join(", ")));
    // Last, and allowed to fail (two attempts may race to delete the same old records).
    statements.push_str("DELETE attempt WHERE at < time::now() - 1m;");
    let mut query = db.query(statements);
    for (i, ((key, limit), id)) in keys.iter().zip(&ids).enumerate() {
        query = query
            .bind((format!("id{i}"), id.clone()))
            .bind((format!("key{i}"), key.clone()))
            .bind((format!("limit{i}"), i64::from(*limit)));
    }
    let mut response = query.await?;
    let within: Vec<bool> = response.take(keys.len())?;
    let attempt = Attempt { db: db.clone(), ids };
    if within.len() == keys.len() && within.iter().all(|ok| *ok) {
        return Ok(Some(attempt));
    }
    attempt.forgive().await;
    Ok(None)
}

/// An attempt recorded under its keys; it stays counted unless forgiven.
#[must_use = "an attempt is counted until it is forgiven"]
pub struct Attempt {
    db: Db,
    ids: Vec<RecordId>,
}

impl Attempt {
    /// Takes the attempt back: it did not fail, or was never tried. A failure to delete leaves
    /// the attempt counted for its minute, the safe side, and is logged.
    pub async fn forgive(self) {
        if let Err(error) = self.db.query("DELETE $ids").bind(("ids", self.ids)).await.and_then(|r| r.check()) {
            tracing::warn!(%error, "an attempt could not be forgiven; it stays counted for its minute");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_is_counted_per_pair_per_email_and_per_address() {
        let keys = signin_keys(&Limits::default(), "ann@example.com", "198.51.100.7");
        assert_eq!(
            keys,
            vec![
                ("pair:198.51.100.7 ann@example.com".to_string(), 10),
                ("email:ann@example.com".to_string(), 100),
                ("address:198.51.100.7".to_string(), 100),
            ]
        );
    }
}
