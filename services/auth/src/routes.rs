//! `/api/users`: the handlers, in the order of checks the spec gives (size, parsing, validation,
//! then each route's own rules).
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use contract::{CurrentUser as CurrentUserView, SessionUser, User};
use serde::Deserialize;
use shared::extract::{ApiJson, ClientAddr};
use shared::session::{CurrentUser, Sessions, SESSION_COOKIE};
use shared::store::Db;
use shared::{parse_fields, ApiError, ErrorCode};

use crate::domain::hashing::{HashError, Hasher};
use crate::domain::{GivenPassword, NewPassword, UserEmail};
use crate::limits::AttemptWindow;
use crate::store::{self, Insert};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub sessions: Sessions,
    pub cookie_secure: bool,
    pub hasher: Hasher,
    /// Failed sign-ins per email, and per client address.
    pub email_failures: AttemptWindow,
    pub address_failures: AttemptWindow,
    /// Sign-ups per client address, whatever their outcome.
    pub address_signups: AttemptWindow,
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => ApiError::Busy { retry_after: 1 },
            HashError::Failed(error) => ApiError::Internal(error),
        }
    }
}

/// The key a client's attempts are counted under.
fn address_key(address: Option<std::net::IpAddr>) -> String {
    address.map_or_else(|| "unknown".to_string(), |a| a.to_string())
}

impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/users/signup", post(signup))
        .route("/api/users/signin", post(signin))
        .route("/api/users/signout", post(signout))
        .route("/api/users/currentuser", get(current_user))
        .with_state(state)
}

/// Both fields optional here so that a missing one is a validation error on that field.
#[derive(Debug, Deserialize)]
struct Credentials {
    email: Option<String>,
    password: Option<String>,
}

async fn signup(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    jar: CookieJar,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, CookieJar, Json<User>), ApiError> {
    parse_fields!(
        email = "email": UserEmail::parse(body.email),
        password = "password": NewPassword::parse(body.password),
    );
    let address = address_key(address);
    let Some(attempt) = state.address_signups.begin(&address) else {
        tracing::warn!(client.address = %address, "sign-up refused: too many from this address");
        return Err(ApiError::TooManyRequests);
    };
    let hash = match state.hasher.hash(password).await {
        Ok(hash) => hash,
        Err(error) => {
            // Busy (or broken): the client is told to come back, so this one is not counted.
            attempt.forgive();
            return Err(error.into());
        }
    };
    let id = uuid::Uuid::now_v7().simple().to_string();
    // The unique index decides between concurrent sign-ups, not a prior lookup.
    match store::insert_user(&state.db, &id, email.as_str(), &hash).await? {
        Insert::EmailTaken => return Err(ApiError::field(ErrorCode::EmailInUse, "email", "Email in use")),
        Insert::Created => {}
    }
    tracing::info!(user.id = %id, "user signed up");
    let jar = jar.add(state.session_cookie(&id, email.as_str())?);
    Ok((StatusCode::CREATED, jar, Json(User { id, email: email.to_string() })))
}

async fn signin(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    jar: CookieJar,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(CookieJar, Json<User>), ApiError> {
    parse_fields!(
        email = "email": UserEmail::parse(body.email),
        password = "password": GivenPassword::parse(body.password),
    );
    let address = address_key(address);
    // Counted before the hash, so concurrent tries cannot all slip past the limit while the
    // first ones are still hashing; taken back when the sign-in succeeds or was never tried.
    let (by_address, by_email) = match (state.address_failures.begin(&address), state.email_failures.begin(email.as_str())) {
        (Some(by_address), Some(by_email)) => (by_address, by_email),
        (by_address, by_email) => {
            for attempt in [by_address, by_email].into_iter().flatten() {
                attempt.forgive();
            }
            tracing::warn!(client.address = %address, "sign-in refused: too many failures");
            return Err(ApiError::TooManyRequests);
        }
    };
    let checked = match store::find_by_email(&state.db, email.as_str()).await {
        Ok(user) => state
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
            .await
            .map(|valid| user.filter(|_| valid))
            .map_err(ApiError::from),
        Err(error) => Err(error.into()),
    };
    let user = match checked {
        Ok(Some(user)) => user,
        Ok(None) => return Err(ApiError::bad_request(ErrorCode::InvalidCredentials, "Invalid credentials")),
        Err(error) => {
            by_address.forgive();
            by_email.forgive();
            return Err(error);
        }
    };
    by_address.forgive();
    by_email.forgive();
    let jar = jar.add(state.session_cookie(&user.id, &user.email)?);
    Ok((jar, Json(User { id: user.id, email: user.email })))
}

async fn signout(State(state): State<AppState>, jar: CookieJar) -> (CookieJar, Json<serde_json::Value>) {
    let mut cleared = state.cookie(String::new());
    cleared.set_max_age(time::Duration::ZERO);
    cleared.set_expires(time::OffsetDateTime::UNIX_EPOCH);
    (jar.add(cleared), Json(serde_json::json!({})))
}

async fn current_user(CurrentUser(claims): CurrentUser) -> Json<CurrentUserView> {
    Json(CurrentUserView { current_user: claims.map(|c| SessionUser { id: c.id, email: c.email, iat: c.iat }) })
}

impl AppState {
    fn cookie(&self, value: String) -> Cookie<'static> {
        Cookie::build((SESSION_COOKIE, value)).http_only(true).same_site(SameSite::Lax).path("/").secure(self.cookie_secure).build()
    }

    /// A fresh session token in a cookie that lives exactly as long as the token.
    fn session_cookie(&self, id: &str, email: &str) -> Result<Cookie<'static>, ApiError> {
        let token = self.sessions.issue(id, email)?;
        let max_age = time::Duration::seconds(self.sessions.ttl().as_secs() as i64);
        let mut cookie = self.cookie(token);
        cookie.set_max_age(max_age);
        Ok(cookie)
    }
}
