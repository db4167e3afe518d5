//! `/api/users`: the handlers, in the order of checks the spec gives (size, parsing, validation,
//! then each route's own rules), each with its OpenAPI description ([`openapi`]).
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use contract::{Credentials, CurrentUser as CurrentUserView, ErrorBody, SessionUser, SignOutBody, User, UserId};
use shared::extract::{ApiJson, ClientAddr};
use shared::openapi::Common;
use shared::session::{CurrentUser, Sessions, SESSION_COOKIE};
use shared::store::Db;
use shared::{parse_fields, ApiError, ErrorCode};

use crate::domain::hashing::{HashError, Hasher};
use crate::domain::{GivenPassword, NewPassword, UserEmail};
use crate::limits::{self, Limits};
use crate::store::{self, Insert};

/// What the handlers share. Only the session verifier is taken on its own (`RequireUser`,
/// `CurrentUser`); the derive says so once.
#[derive(Clone, FromRef)]
pub struct AppState {
    #[from_ref(skip)]
    pub db: Db,
    pub sessions: Sessions,
    #[from_ref(skip)]
    pub cookie_secure: bool,
    #[from_ref(skip)]
    pub hasher: Hasher,
    /// Attempts allowed per minute, counted in the database ([`limits`]).
    #[from_ref(skip)]
    pub limits: Limits,
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => ApiError::Busy { retry_after: 1 },
            HashError::Failed(error) => ApiError::Internal(error),
        }
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

/// The routes of [`router`] as OpenAPI 3.1: served at `/openapi.json` on the service's own port,
/// merged by the web server into `/api/openapi.json`. A route added above is described here too.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <Description as utoipa::OpenApi>::openapi()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "auth", description = "Sign-up, sign-in and sessions: `/api/users`."),
    paths(signup, signin, signout, current_user),
    modifiers(&Common),
    tags((name = "users", description = "Accounts and sessions (the auth service)."))
)]
struct Description;

/// A sign-up: a new account, signed in at once.
///
/// The email is trimmed and lower-cased and must not have an account yet (also under concurrent
/// sign-ups). Sign-ups are limited per client address, never per email. Password hashing is
/// bounded: when too many hashes are queued the answer is 503 with `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/users/signup",
    operation_id = "signUp",
    tag = "users",
    request_body(content = Credentials, content_type = "application/json"),
    responses(
        (status = 201, description = "Signed up, and signed in: the session cookie is set.", body = User,
            headers(("set-cookie" = String, description = "The session cookie: `session`, HttpOnly, SameSite=Lax, Path=/."))),
        (status = 400, description = "`email_invalid` or `email_in_use` (field email), `password_length` (field password), or a body that is not the JSON asked for.", body = ErrorBody),
        (status = 429, description = "Too many sign-ups from this client address (`too_many_requests`).", body = ErrorBody),
        (status = 503, description = "Too many password hashes queued (`server_busy`, with `Retry-After`), or the database cannot be reached (`database_unavailable`).", body = ErrorBody,
            headers(("retry-after" = u32, description = "Seconds to wait before trying again, with `server_busy`."))),
    )
)]
async fn signup(
    State(state): State<AppState>,
    client: ClientAddr,
    jar: CookieJar,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, CookieJar, Json<User>), ApiError> {
    parse_fields!(
        email = "email": UserEmail::parse(body.email),
        password = "password": NewPassword::parse(body.password),
    );
    let client = client.key();
    let Some(attempt) = limits::begin(&state.db, &limits::signup_keys(&state.limits, &client)).await? else {
        tracing::warn!(client.address = %client, "sign-up refused: too many from this address");
        return Err(ApiError::TooManyRequests);
    };
    let hash = match state.hasher.hash(password).await {
        Ok(hash) => hash,
        Err(error) => {
            // Busy (or broken): the client is told to come back, so this one is not counted.
            attempt.forgive().await;
            return Err(error.into());
        }
    };
    let id = UserId::from(uuid::Uuid::now_v7().simple().to_string());
    // The unique index decides between concurrent sign-ups, not a prior lookup.
    match store::insert_user(&state.db, &id, &email, &hash).await? {
        Insert::EmailTaken => return Err(ApiError::field(ErrorCode::EmailInUse, "email", "Email in use")),
        Insert::Created => {}
    }
    tracing::info!(user.id = %id, "user signed up");
    let jar = jar.add(state.session_cookie(&id, email.as_str()).await?);
    Ok((StatusCode::CREATED, jar, Json(User { id, email: email.to_string() })))
}

/// A sign-in, with the session cookie as the answer.
///
/// An unknown email and a wrong password get the same answer. Failures are counted across
/// replicas: after 10 within a minute for one email from one client address, sign-ins for that
/// email from that address get 429 (even with the right password) until the minute has passed,
/// while the owner at another address is not affected; one email gets at most 100 failures a
/// minute from all addresses, and one address 100 over all emails (IPv6 by its /64).
#[utoipa::path(
    post,
    path = "/api/users/signin",
    operation_id = "signIn",
    tag = "users",
    request_body(content = Credentials, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in: the session cookie is set.", body = User,
            headers(("set-cookie" = String, description = "The session cookie: `session`, HttpOnly, SameSite=Lax, Path=/."))),
        (status = 400, description = "`email_invalid` (field email), `password_required` (field password), `invalid_credentials`, or a body that is not the JSON asked for.", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this email from this client address, for this email, or from this client address (`too_many_requests`).", body = ErrorBody),
        (status = 503, description = "Too many password hashes queued (`server_busy`, with `Retry-After`), or the database cannot be reached (`database_unavailable`).", body = ErrorBody,
            headers(("retry-after" = u32, description = "Seconds to wait before trying again, with `server_busy`."))),
    )
)]
async fn signin(
    State(state): State<AppState>,
    client: ClientAddr,
    jar: CookieJar,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(CookieJar, Json<User>), ApiError> {
    parse_fields!(
        email = "email": UserEmail::parse(body.email),
        password = "password": GivenPassword::parse(body.password),
    );
    let client = client.key();
    // Counted before the hash, so concurrent tries cannot all slip past the limit while the
    // first ones are still hashing; taken back when the sign-in succeeds or was never tried.
    let Some(attempt) = limits::begin(&state.db, &limits::signin_keys(&state.limits, email.as_str(), &client)).await? else {
        tracing::warn!(client.address = %client, "sign-in refused: too many failures");
        return Err(ApiError::TooManyRequests);
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
            attempt.forgive().await;
            return Err(error);
        }
    };
    attempt.forgive().await;
    let jar = jar.add(state.session_cookie(&user.id, &user.email).await?);
    Ok((jar, Json(User { id: user.id, email: user.email })))
}

/// A sign-out: the session ends on the server and its cookie is cleared. Takes `{}` or no body
/// (or `{"everywhere": true}` to end every session of the user), with or without a session.
///
/// The token the request carries (the cookie, or the Bearer header) is refused afterwards by
/// every service, within a second: its session id is put into the revoked sessions through the
/// outbox, and every service looks a session up there. A token issued before sessions had ids
/// cannot be revoked and lives out its lifetime.
#[utoipa::path(
    post,
    path = "/api/users/signout",
    operation_id = "signOut",
    tag = "users",
    security((), ("session" = []), ("bearer" = [])),
    request_body(content = Option<SignOutBody>, content_type = "application/json", description = "Optional: `{}`, no body, or `{\"everywhere\": true}`."),
    responses(
        (status = 200, description = "Signed out: `{}`, the session ended on the server, and the cookie cleared (`Max-Age=0`).", body = Object, content_type = "application/json",
            headers(("set-cookie" = String, description = "The session cookie, cleared."))),
        (status = 400, description = "A body that is not the JSON asked for.", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`): the session was not ended.", body = ErrorBody),
    )
)]
async fn signout(
    State(state): State<AppState>,
    CurrentUser(claims): CurrentUser,
    jar: CookieJar,
    body: axum::body::Bytes,
) -> Result<(CookieJar, Json<serde_json::Value>), ApiError> {
    let body = sign_out_body(&body)?;
    if let Some(claims) = claims {
        let mut ending: Vec<(String, i64)> = claims.sid.iter().map(|sid| (sid.clone(), claims.exp)).collect();
        if body.everywhere {
            for session in store::live_sessions(&state.db, &claims.id).await? {
                if !ending.iter().any(|(sid, _)| *sid == session.0) {
                    ending.push(session);
                }
            }
        }
        store::end_sessions(&state.db, &claims.id, &ending).await?;
        for (sid, _) in &ending {
            state.sessions.revocations().note_revoked(sid);
        }
        tracing::info!(user.id = %claims.id, sessions = ending.len(), everywhere = body.everywhere, "signed out");
    }
    let mut cleared = state.cookie(String::new());
    cleared.set_max_age(time::Duration::ZERO);
    cleared.set_expires(time::OffsetDateTime::UNIX_EPOCH);
    Ok((jar.add(cleared), Json(serde_json::json!({}))))
}

/// No body, `null` or an object; serde would also read a struct from an array, which the
/// description does not allow.
fn sign_out_body(bytes: &[u8]) -> Result<SignOutBody, ApiError> {
    // No body at all is "this session"; anything sent must be JSON, whitespace alone included
    // (the description says so, and schemathesis holds the service to it).
    if bytes.is_empty() {
        return Ok(SignOutBody::default());
    }
    match shared::extract::parse_json::<serde_json::Value>(bytes)? {
        serde_json::Value::Null => Ok(SignOutBody::default()),
        serde_json::Value::Object(_) => shared::extract::parse_json(bytes),
        _ => Err(ApiError::bad_request(ErrorCode::InvalidBody, "Invalid request body: expected a JSON object")),
    }
}

/// Who the session names: `{"currentUser": {id, email, iat}}`, or `{"currentUser": null}` without
/// a valid session (an invalid or expired token is no session).
#[utoipa::path(
    get,
    path = "/api/users/currentuser",
    operation_id = "currentUser",
    tag = "users",
    security((), ("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user, or `null`.", body = CurrentUserView),
    )
)]
async fn current_user(CurrentUser(claims): CurrentUser) -> Json<CurrentUserView> {
    Json(CurrentUserView { current_user: claims.map(|c| SessionUser { id: c.id, email: c.email, iat: c.iat }) })
}

impl AppState {
    fn cookie(&self, value: String) -> Cookie<'static> {
        Cookie::build((SESSION_COOKIE, value)).http_only(true).same_site(SameSite::Lax).path("/").secure(self.cookie_secure).build()
    }

    /// A fresh session token in a cookie that lives exactly as long as the token; the session
    /// is recorded, so that signing out everywhere can end it.
    async fn session_cookie(&self, id: &UserId, email: &str) -> Result<Cookie<'static>, ApiError> {
        let (token, claims) = self.sessions.issue_session(id, email)?;
        if let Some(sid) = &claims.sid {
            store::record_session(&self.db, &store::IssuedSession { sid, user_id: id, expires: claims.exp }).await?;
        }
        let max_age = time::Duration::seconds(self.sessions.ttl().as_secs() as i64);
        let mut cookie = self.cookie(token);
        cookie.set_max_age(max_age);
        Ok(cookie)
    }
}
