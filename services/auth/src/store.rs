//! The auth service's own database: users, with a unique index on the email so two concurrent
//! sign-ups for one address cannot both succeed.
use shared::store::{Db, ResultExt};
use surrealdb::types::{RecordId, SurrealValue};

pub const SCHEMA: &str = "
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
    pub id: String,
    pub email: String,
    pub password_hash: String,
}

#[derive(Debug)]
pub enum Insert {
    Created,
    EmailTaken,
}

pub async fn insert_user(db: &Db, id: &str, email: &str, password_hash: &str) -> Result<Insert, surrealdb::Error> {
    let result = db
        .query("CREATE $user SET email = $email, password_hash = $hash")
        .bind(("user", RecordId::new("user", id)))
        .bind(("email", email.to_string()))
        .bind(("hash", password_hash.to_string()))
        .await
        .and_then(|response| response.check());
    result.map(|_| Insert::Created).on_constraint(USER_EMAIL, || Insert::EmailTaken)
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<UserRecord>, surrealdb::Error> {
    let mut response = db
        .query("SELECT record::id(id) AS id, email, password_hash FROM user WHERE email = $email LIMIT 1")
        .bind(("email", email.to_string()))
        .await?;
    response.take(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_constraint_is_the_schemas_unique_index() {
        assert!(SCHEMA.contains(&format!("DEFINE INDEX IF NOT EXISTS {USER_EMAIL} ON user FIELDS email UNIQUE;")));
    }
}
