//! Sessions: a JWT in the `session` cookie or an `Authorization: Bearer` header, signed by the
//! auth service alone with Ed25519 (EdDSA) and verified by every service with public keys.
//!
//! - The header's `kid` names the key. Verifiers hold several public keys by kid, so a new key
//!   is given to every service before auth signs with it, and the old one stays until the
//!   sessions it signed have expired.
//! - Claims `id`, `email`, `iat`, `exp`, `iss` ([`ISSUER`]) and `aud` ([`AUDIENCE`]). Any other
//!   algorithm (HS256 with a shared secret, as sessions were made before, or `none`), issuer or
//!   audience, an unknown or missing `kid`, an expired or malformed token is no session.
//! - A session ends before it expires when its owner signs out (or out everywhere): its `sid`
//!   is then revoked ([`Revocations`]), and every service refuses the token within a second.
//! - A development key pair is built in so that a developer's machine and the tests need no
//!   setup. Its private half is in this file, so anyone can sign with it: the configuration
//!   refuses it in production and on any address but loopback (see `config`).
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts};
use axum_extra::extract::CookieJar;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use contract::UserId;

use crate::error::ApiError;

pub use contract::SESSION_COOKIE;

/// The `iss` of every session: only auth issues them.
pub const ISSUER: &str = "ticketing-auth";

/// The `aud` of every session: the marketplace's services.
pub const AUDIENCE: &str = "ticketing";

/// The built-in development key pair's id.
pub const DEVELOPMENT_KID: &str = "development";

/// The built-in development key pair's seed: public by being here, so only for a development
/// run on loopback.
const DEVELOPMENT_SEED: [u8; 32] = *b"ticketing-development-only-seed!";

/// An Ed25519 private key in PKCS#8 v1 (RFC 8410) is this prefix and the 32-byte seed; that DER
/// is what jsonwebtoken's `EncodingKey::from_ed_der` takes.
const PKCS8_ED25519_PREFIX: [u8; 16] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// A key id as the `kid` header and `SESSION_PUBLIC_KEYS` carry it: short, and free of the
/// list's separators.
fn check_kid(kid: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if kid.is_empty() || kid.len() > 64 || !kid.chars().all(allowed) {
        return Err(format!("the key id {kid:?} is not valid: expected 1 to 64 letters, digits, '.', '_' or '-'"));
    }
    Ok(())
}

/// The key auth signs sessions with: an Ed25519 seed and its key id. Its `Debug` never shows
/// the seed.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    seed: [u8; 32],
}

impl SigningKey {
    pub fn from_seed(kid: &str, seed: [u8; 32]) -> Result<Self, String> {
        check_kid(kid)?;
        Ok(Self { kid: kid.to_string(), seed })
    }

    /// `seed` is the standard base64 of the 32-byte Ed25519 seed, as `auth keygen` prints it.
    /// Errors never repeat the seed.
    pub fn parse(kid: &str, seed: &str) -> Result<Self, String> {
        let bytes = BASE64.decode(seed.trim()).map_err(|_| "the seed is not base64".to_string())?;
        let seed: [u8; 32] =
            bytes.try_into().map_err(|bytes: Vec<u8>| format!("the seed is {} bytes, expected the 32 of an Ed25519 seed", bytes.len()))?;
        Self::from_seed(kid, seed)
    }

    /// The built-in development key (kid [`DEVELOPMENT_KID`]).
    pub fn development() -> Self {
        Self { kid: DEVELOPMENT_KID.to_string(), seed: DEVELOPMENT_SEED }
    }

    pub fn is_development(&self) -> bool {
        self.seed == DEVELOPMENT_SEED
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The seed as `SESSION_SIGNING_KEY` takes it.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.seed)
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        ed25519_dalek::SigningKey::from_bytes(&self.seed).verifying_key().to_bytes()
    }

    /// Its public key alone, under its kid.
    pub fn verifying_keys(&self) -> VerifyingKeys {
        VerifyingKeys(vec![(self.kid.clone(), self.public_key())])
    }

    /// The key as jsonwebtoken signs with it.
    pub fn encoding_key(&self) -> EncodingKey {
        let mut der = Vec::with_capacity(PKCS8_ED25519_PREFIX.len() + self.seed.len());
        der.extend_from_slice(&PKCS8_ED25519_PREFIX);
        der.extend_from_slice(&self.seed);
        EncodingKey::from_ed_der(&der)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The public keys sessions are verified with, by kid, in the order configured: one, or two while
/// a key is rotated. Written `kid:base64[,kid:base64…]` (standard base64 of the 32-byte key).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKeys(Vec<(String, [u8; 32])>);

impl VerifyingKeys {
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut keys: Vec<(String, [u8; 32])> = Vec::new();
        for (n, entry) in list.split(',').map(str::trim).enumerate() {
            // Entries are not repeated in errors: a private key pasted here by mistake stays out of logs.
            let Some((kid, key)) = entry.split_once(':') else {
                return Err(format!("entry {} is not kid:base64-public-key", n + 1));
            };
            let kid = kid.trim();
            check_kid(kid)?;
            if keys.iter().any(|(known, _)| known == kid) {
                return Err(format!("the key id {kid:?} is listed twice"));
            }
            let bytes = BASE64.decode(key.trim()).map_err(|_| format!("the key of {kid:?} is not base64"))?;
            let bytes: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
                format!("the key of {kid:?} is {} bytes, expected the 32 of an Ed25519 public key", bytes.len())
            })?;
            // A small-order key would accept signatures made without any private key.
            match ed25519_dalek::VerifyingKey::from_bytes(&bytes) {
                Ok(key) if !key.is_weak() => keys.push((kid.to_string(), bytes)),
                _ => return Err(format!("the key of {kid:?} is not a usable Ed25519 public key")),
            }
        }
        Ok(Self(keys))
    }

    /// The built-in development key pair's public key.
    pub fn development() -> Self {
        SigningKey::development().verifying_keys()
    }

    /// Whether any key is the development key's, under whatever kid.
    pub fn has_development_key(&self) -> bool {
        let development = SigningKey::development().public_key();
        self.0.iter().any(|(_, key)| *key == development)
    }

    pub fn get(&self, kid: &str) -> Option<&[u8; 32]> {
        self.0.iter().find(|(known, _)| known == kid).map(|(_, key)| key)
    }
}

/// As `SESSION_PUBLIC_KEYS` takes them.
impl fmt::Display for VerifyingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (kid, key)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{kid}:{}", BASE64.encode(key))?;
        }
        Ok(())
    }
}

impl fmt::Debug for VerifyingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKeys({self})")
    }
}

/// What a session token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub id: UserId,
    pub email: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// The session's own id, by which it is revoked. Tokens issued before sessions could be
    /// revoked have none, and live out their lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Checks session tokens, and in auth issues them; cheap to clone.
#[derive(Clone)]
pub struct Sessions(Arc<SessionsInner>, Revocations);

struct SessionsInner {
    /// Auth's alone.
    signer: Option<Signer>,
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

struct Signer {
    kid: String,
    key: EncodingKey,
    ttl: Duration,
}

impl Sessions {
    /// What every service but auth holds: it verifies sessions and cannot make them.
    pub fn verifier(keys: &VerifyingKeys) -> Self {
        Self::build(None, keys)
    }

    /// Auth's: signs with `key`, valid for `ttl`, and verifies with `keys` (the configuration
    /// checks that they hold `key`'s public key).
    pub fn issuer(key: &SigningKey, keys: &VerifyingKeys, ttl: Duration) -> Self {
        Self::build(Some(Signer { kid: key.kid.clone(), key: key.encoding_key(), ttl }), keys)
    }

    fn build(signer: Option<Signer>, keys: &VerifyingKeys) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.leeway = 0;
        // jsonwebtoken only compares iss and aud when present: make them required.
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        let keys = keys.0.iter().map(|(kid, key)| (kid.clone(), DecodingKey::from_ed_der(key))).collect();
        Self(Arc::new(SessionsInner { signer, keys, validation }), Revocations::none())
    }

    /// The same sessions, refusing those revoked in `revocations`.
    pub fn with_revocations(self, revocations: Revocations) -> Self {
        Self(self.0, revocations)
    }

    /// Where revoked sessions are looked up (and, in auth, noted).
    pub fn revocations(&self) -> &Revocations {
        &self.1
    }

    /// How long a session auth issues lasts; zero where sessions are only verified.
    pub fn ttl(&self) -> Duration {
        self.0.signer.as_ref().map_or(Duration::ZERO, |signer| signer.ttl)
    }

    /// A signed token for the user, valid for the configured time to live.
    pub fn issue(&self, id: &UserId, email: &str) -> anyhow::Result<String> {
        self.issue_session(id, email).map(|(token, _)| token)
    }

    /// A signed token for a new session of the user, and what it says (its `sid` and `exp`
    /// are what auth records, to revoke it later).
    pub fn issue_session(&self, id: &UserId, email: &str) -> anyhow::Result<(String, Claims)> {
        let Some(signer) = &self.0.signer else {
            anyhow::bail!("this service only verifies sessions: auth alone signs them");
        };
        let iat = OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            id: id.clone(),
            email: email.to_string(),
            iat,
            exp: iat + signer.ttl.as_secs() as i64,
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            sid: Some(uuid::Uuid::new_v4().simple().to_string()),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(signer.kid.clone());
        Ok((jsonwebtoken::encode(&header, &claims, &signer.key)?, claims))
    }

    /// The claims of a valid token; `None` for anything forged, expired, malformed, signed
    /// another way or with a key this service does not hold.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        // `decode` refuses other algorithms too; checking first keeps any other algorithm's
        // code away from the token whatever key its kid names.
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let key = self.0.keys.get(header.kid.as_deref()?)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.0.validation).map(|data| data.claims).ok()
    }

    /// The token a request carries: the Bearer header when present (it alone decides), else the
    /// `session` cookie. Its signature and times only: [`Sessions::current`] also refuses a
    /// revoked session.
    pub fn from_parts(&self, parts: &Parts) -> Option<Claims> {
        if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
            let token = authorization.to_str().ok()?.strip_prefix("Bearer ")?;
            return self.verify(token.trim());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        self.verify(jar.get(SESSION_COOKIE)?.value())
    }

    /// The session a request carries, unless it is invalid or was ended (signed out).
    pub async fn current(&self, parts: &Parts) -> Option<Claims> {
        let claims = self.from_parts(parts)?;
        match &claims.sid {
            // Boxed: every handler's extractors await this, and its future is large.
            Some(sid) if Box::pin(self.1.is_revoked(sid)).await => None,
            _ => Some(claims),
        }
    }
}

/// Sessions ended before their expiry, by `sid`: a NATS key-value bucket
/// ([`crate::events::nats::REVOKED_SESSIONS`]) that auth writes through its outbox and every
/// service reads.
///
/// Why read on demand rather than keep a copy: a copy would be fed by a consumer, and a NATS
/// user that may create consumers may point one's deliveries at any subject (see
/// `events::permissions`); a lookup is a direct get, which reads and nothing else. Each answer is
/// kept for a second ([`Revocations::REMEMBERED`]), so a busy buyer's requests cost one lookup a
/// second and a revocation reaches every service within a second. While NATS cannot answer,
/// sessions are taken as not revoked (and said so in the logs): a NATS outage must not sign
/// everybody out, and the token's signature and expiry still hold.
#[derive(Clone)]
pub struct Revocations(Option<Arc<RevocationsInner>>);

struct RevocationsInner {
    client: async_nats::Client,
    js: async_nats::jetstream::Context,
    bucket: tokio::sync::OnceCell<async_nats::jetstream::kv::Store>,
    /// Each sid's last answer, for [`Revocations::REMEMBERED`].
    answers: moka::sync::Cache<String, bool>,
}

impl Revocations {
    /// How long an answer is kept: the longest a revoked session goes on being accepted.
    pub const REMEMBERED: Duration = Duration::from_secs(1);

    /// Nothing is revoked (a part with no NATS, and tests of tokens alone).
    pub fn none() -> Self {
        Self(None)
    }

    /// Looked up in the bucket through `client`, the service's NATS connection.
    pub fn from_nats(client: async_nats::Client) -> Self {
        let answers = moka::sync::Cache::builder().max_capacity(100_000).time_to_live(Self::REMEMBERED).build();
        let js = async_nats::jetstream::new(client.clone());
        Self(Some(Arc::new(RevocationsInner { client, js, bucket: tokio::sync::OnceCell::new(), answers })))
    }

    /// Whether the session `sid` was ended.
    pub async fn is_revoked(&self, sid: &str) -> bool {
        let Some(inner) = &self.0 else { return false };
        if let Some(known) = inner.answers.get(sid) {
            return known;
        }
        if inner.client.connection_state() != async_nats::connection::State::Connected {
            // Not waited for: every request would wait on the outage.
            tracing::debug!("NATS unreachable: revoked sessions cannot be looked up; the session is taken as valid");
            return false;
        }
        let looked_up = async {
            let bucket = inner.bucket.get_or_try_init(|| inner.js.get_key_value(crate::events::nats::REVOKED_SESSIONS)).await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(bucket.get(sid).await?.is_some())
        };
        let revoked = match tokio::time::timeout(LOOKUP_LIMIT, looked_up).await {
            Ok(Ok(revoked)) => revoked,
            Ok(Err(error)) => {
                tracing::warn!(%error, "revoked sessions cannot be looked up; the session is taken as valid");
                false
            }
            Err(_) => {
                tracing::warn!("revoked sessions did not answer in time; the session is taken as valid");
                false
            }
        };
        inner.answers.insert(sid.to_string(), revoked);
        revoked
    }

    /// Remembers at once that `sid` was ended here (auth, on sign-out), before the bucket has it.
    pub fn note_revoked(&self, sid: &str) {
        if let Some(inner) = &self.0 {
            inner.answers.insert(sid.to_string(), true);
        }
    }
}

/// How long a lookup may take before the session is taken as not revoked.
const LOOKUP_LIMIT: Duration = Duration::from_millis(500);

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
        Ok(Self(Sessions::from_ref(state).current(parts).await))
    }
}

impl<S> FromRequestParts<S> for RequireUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Sessions::from_ref(state).current(parts).await.map(Self).ok_or(ApiError::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    fn key(kid: &str, byte: u8) -> SigningKey {
        SigningKey::from_seed(kid, [byte; 32]).unwrap()
    }

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    fn claims() -> serde_json::Value {
        json!({ "id": "u1", "email": "a@b.co", "iat": now(), "exp": now() + 60, "iss": ISSUER, "aud": AUDIENCE })
    }

    /// A token with any claims, header algorithm and kid, signed with `key`.
    fn sign(key: &SigningKey, kid: Option<&str>, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, &key.encoding_key()).unwrap()
    }

    #[test]
    fn what_auth_issues_verifies_with_the_public_key_alone() {
        let signing = key("k1", 1);
        let token = Sessions::issuer(&signing, &signing.verifying_keys(), TTL).issue(&"u1".into(), "a@b.co").unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!((header.alg, header.kid.as_deref()), (Algorithm::EdDSA, Some("k1")));
        let claims = Sessions::verifier(&signing.verifying_keys()).verify(&token).expect("a session");
        assert_eq!((claims.id.as_str(), claims.email.as_str()), ("u1", "a@b.co"));
        assert_eq!((claims.iss.as_str(), claims.aud.as_str()), (ISSUER, AUDIENCE));
        assert_eq!(claims.exp - claims.iat, 60);
    }

    #[test]
    fn a_verifier_cannot_issue() {
        let sessions = Sessions::verifier(&VerifyingKeys::development());
        assert!(sessions.issue(&"u1".into(), "a@b.co").is_err());
        assert_eq!(sessions.ttl(), Duration::ZERO);
    }

    #[test]
    fn a_token_signed_with_another_key_under_a_known_kid_is_no_session() {
        let verifier = Sessions::verifier(&key("k1", 1).verifying_keys());
        assert!(verifier.verify(&sign(&key("k1", 1), Some("k1"), &claims())).is_some(), "the control case verifies");
        assert!(verifier.verify(&sign(&key("k1", 2), Some("k1"), &claims())).is_none());
    }

    #[test]
    fn an_unknown_or_missing_kid_is_no_session() {
        let signing = key("k1", 1);
        let verifier = Sessions::verifier(&signing.verifying_keys());
        assert!(verifier.verify(&sign(&signing, Some("k2"), &claims())).is_none());
        assert!(verifier.verify(&sign(&signing, None, &claims())).is_none());
    }

    #[test]
    fn other_algorithms_are_no_session() {
        let signing = key("k1", 1);
        let verifier = Sessions::verifier(&signing.verifying_keys());
        // HS256 with a shared secret, as sessions were made before.
        let old = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &EncodingKey::from_secret(&[b's'; 32])).unwrap();
        // HS256 keyed with the public key under its kid: the classic algorithm confusion.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let confused = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&signing.public_key())).unwrap();
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        let unsigned = format!("{}.{body}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#));
        for token in [old, confused, unsigned] {
            assert!(verifier.verify(&token).is_none(), "{token}");
        }
    }

    #[test]
    fn a_wrong_or_missing_issuer_or_audience_is_no_session() {
        let signing = key("k1", 1);
        let verifier = Sessions::verifier(&signing.verifying_keys());
        let mut cases = Vec::new();
        for (claim, value) in [("iss", json!("someone-else")), ("aud", json!("another-app")), ("aud", json!(["another-app"]))] {
            let mut changed = claims();
            changed[claim] = value;
            cases.push(changed);
        }
        for claim in ["iss", "aud"] {
            let mut missing = claims();
            missing.as_object_mut().unwrap().remove(claim);
            cases.push(missing);
        }
        for claims in cases {
            assert!(verifier.verify(&sign(&signing, Some("k1"), &claims)).is_none(), "{claims}");
        }
    }

    #[test]
    fn an_expired_token_is_no_session() {
        let signing = key("k1", 1);
        let mut expired = claims();
        expired["exp"] = json!(now() - 1);
        assert!(Sessions::verifier(&signing.verifying_keys()).verify(&sign(&signing, Some("k1"), &expired)).is_none());
    }

    #[test]
    fn during_a_rotation_both_keys_verify_and_the_old_one_goes_with_its_removal() {
        let (old, new) = (key("old", 1), key("new", 2));
        let both = VerifyingKeys::parse(&format!("{},{}", old.verifying_keys(), new.verifying_keys())).unwrap();
        let old_token = Sessions::issuer(&old, &old.verifying_keys(), TTL).issue(&"u1".into(), "a@b.co").unwrap();
        let new_token = Sessions::issuer(&new, &both, TTL).issue(&"u2".into(), "b@b.co").unwrap();
        let verifier = Sessions::verifier(&both);
        assert_eq!(verifier.verify(&old_token).map(|c| c.id), Some("u1".into()));
        assert_eq!(verifier.verify(&new_token).map(|c| c.id), Some("u2".into()));
        let after = Sessions::verifier(&new.verifying_keys());
        assert!(after.verify(&old_token).is_none());
        assert!(after.verify(&new_token).is_some());
    }

    #[test]
    fn public_keys_round_trip_and_bad_lists_are_refused() {
        let keys = format!("{}, {}", key("a", 1).verifying_keys(), key("b.2_x-y", 2).verifying_keys());
        let parsed = VerifyingKeys::parse(&keys).unwrap();
        assert_eq!(parsed.get("a"), Some(&key("a", 1).public_key()));
        assert_eq!(VerifyingKeys::parse(&parsed.to_string()).unwrap(), parsed);
        let good = BASE64.encode(key("a", 1).public_key());
        let mut small_order = [0u8; 32];
        small_order[0] = 1; // the identity point
        for bad in [
            "a".to_string(),
            format!("a:{good},"),
            format!("a:{good},a:{good}"),
            format!("a b:{good}"),
            format!(":{good}"),
            "a:not base64!".to_string(),
            format!("a:{}", BASE64.encode([1u8; 31])),
            format!("a:{}", BASE64.encode(small_order)),
        ] {
            assert!(VerifyingKeys::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signing_keys_parse_from_base64_and_never_show_the_seed() {
        let signing = key("k1", 7);
        let parsed = SigningKey::parse("k1", &signing.to_base64()).unwrap();
        assert_eq!(parsed.public_key(), signing.public_key());
        assert!(!format!("{parsed:?}").contains(&signing.to_base64()));
        assert!(SigningKey::parse("k1", &BASE64.encode([7u8; 31])).is_err());
        assert!(SigningKey::parse("k1", "%%%").is_err());
        assert!(SigningKey::parse("k 1", &signing.to_base64()).is_err());
    }

    #[test]
    fn the_development_key_is_recognised_under_any_kid() {
        assert!(SigningKey::development().is_development());
        assert!(!key("k1", 1).is_development());
        let renamed = SigningKey::parse("renamed", &SigningKey::development().to_base64()).unwrap();
        assert!(renamed.is_development());
        assert!(renamed.verifying_keys().has_development_key());
        assert!(!key("k1", 1).verifying_keys().has_development_key());
    }
}
