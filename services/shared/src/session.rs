//! Sessions: a signed JWT (HS256 only) in the `session` cookie or an `Authorization: Bearer`
//! header. An invalid or expired token is no session.
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts};
use axum_extra::extract::CookieJar;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "session";

/// Only safe on a developer's machine: production refuses to start with it.
const DEVELOPMENT_KEY: &str = "development-only-key-never-use-in-production";

/// The HS256 secret. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct JwtKey(Arc<[u8]>);

impl JwtKey {
    pub fn parse(secret: &str) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err(format!("must be at least 32 bytes, got {}", secret.len()));
        }
        if secret == DEVELOPMENT_KEY {
            return Err("is the development key".into());
        }
        Ok(Self(secret.as_bytes().into()))
    }

    pub fn development() -> Self {
        Self(DEVELOPMENT_KEY.as_bytes().into())
    }
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKey(..)")
    }
}

/// What a session token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub id: String,
    pub email: String,
    pub iat: i64,
    pub exp: i64,
}

/// Issues and checks session tokens; cheap to clone.
#[derive(Clone)]
pub struct Sessions(Arc<SessionsInner>);

struct SessionsInner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl Sessions {
    pub fn new(key: &JwtKey, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        Self(Arc::new(SessionsInner {
            encoding: EncodingKey::from_secret(&key.0),
            decoding: DecodingKey::from_secret(&key.0),
            validation,
            ttl,
        }))
    }

    pub fn ttl(&self) -> Duration {
        self.0.ttl
    }

    /// A signed token for the user, valid for the configured time to live.
    pub fn issue(&self, id: &str, email: &str) -> anyhow::Result<String> {
        let iat = OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims { id: id.to_string(), email: email.to_string(), iat, exp: iat + self.0.ttl.as_secs() as i64 };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)?)
    }

    /// The claims of a valid token; `None` for anything forged, expired or malformed.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation).map(|data| data.claims).ok()
    }

    /// The token a request carries: the Bearer header when present (it alone decides), else the
    /// `session` cookie.
    pub fn from_parts(&self, parts: &Parts) -> Option<Claims> {
        if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
            let token = authorization.to_str().ok()?.strip_prefix("Bearer ")?;
            return self.verify(token.trim());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        self.verify(jar.get(SESSION_COOKIE)?.value())
    }
}

/// The signed-in user, if any.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Option<Claims>);

/// The signed-in user; a request without a valid session is a 401.
#[derive(Debug, Clone)]
pub struct RequireUser(pub Claims);

impl<S> FromRequestParts<S> for CurrentUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Sessions::from_ref(state).from_parts(parts)))
    }
}

impl<S> FromRequestParts<S> for RequireUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Sessions::from_ref(state).from_parts(parts).map(Self).ok_or(ApiError::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new(&JwtKey::parse(&"s".repeat(32)).unwrap(), Duration::from_secs(60))
    }

    #[test]
    fn an_issued_token_verifies() {
        let s = sessions();
        let token = s.issue("u1", "a@b.co").unwrap();
        let claims = s.verify(&token).unwrap();
        assert_eq!((claims.id.as_str(), claims.email.as_str()), ("u1", "a@b.co"));
        assert_eq!(claims.exp - claims.iat, 60);
    }

    #[test]
    fn a_token_signed_with_another_key_is_no_session() {
        let other = Sessions::new(&JwtKey::parse(&"t".repeat(32)).unwrap(), Duration::from_secs(60));
        assert!(sessions().verify(&other.issue("u1", "a@b.co").unwrap()).is_none());
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(JwtKey::parse("short").is_err());
    }
}
