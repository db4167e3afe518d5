//! Input that has been parsed is valid by construction: a handler that holds a `UserEmail` never
//! checks it again.
use std::fmt;

use shared::error::{Coded, ErrorCode};
use validator::ValidateEmail;

/// Why a sign-up's or sign-in's field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialError {
    EmailInvalid,
    PasswordLength,
    PasswordRequired,
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EmailInvalid => "Email must be valid",
            Self::PasswordLength => "Password must be between 8 and 128 characters",
            Self::PasswordRequired => "You must supply a password",
        })
    }
}

impl Coded for CredentialError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::EmailInvalid => ErrorCode::EmailInvalid,
            Self::PasswordLength => ErrorCode::PasswordLength,
            Self::PasswordRequired => ErrorCode::PasswordRequired,
        }
    }
}

/// An email address, trimmed and lower-cased so that one person has one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEmail(String);

impl UserEmail {
    pub fn parse(raw: Option<String>) -> Result<Self, CredentialError> {
        let email = raw.ok_or(CredentialError::EmailInvalid)?.trim().to_lowercase();
        if email.len() > 254 || !email.validate_email() {
            return Err(CredentialError::EmailInvalid);
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password chosen at sign-up. Its `Debug` hides it, so it cannot reach a log.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: Option<String>) -> Result<Self, CredentialError> {
        let password = raw.ok_or(CredentialError::PasswordLength)?;
        let length = password.chars().count();
        if !(8..=128).contains(&length) {
            return Err(CredentialError::PasswordLength);
        }
        Ok(Self(password))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A password given at sign-in: anything but nothing (the rules may have changed since sign-up).
#[derive(Clone)]
pub struct GivenPassword(String);

impl GivenPassword {
    pub fn parse(raw: Option<String>) -> Result<Self, CredentialError> {
        match raw {
            Some(password) if !password.is_empty() && password.len() <= 4096 => Ok(Self(password)),
            _ => Err(CredentialError::PasswordRequired),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

impl fmt::Debug for GivenPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GivenPassword(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = UserEmail::parse(Some("  Ann@Example.COM ".into())).unwrap();
        assert_eq!(email.as_str(), "ann@example.com");
    }

    #[test]
    fn invalid_emails_are_refused() {
        for raw in ["", "ann", "ann@", "@example.com", "ann example@x.com"] {
            assert_eq!(UserEmail::parse(Some(raw.into())), Err(CredentialError::EmailInvalid), "{raw:?}");
        }
        assert_eq!(UserEmail::parse(None), Err(CredentialError::EmailInvalid));
    }

    #[test]
    fn passwords_are_8_to_128_characters() {
        let refused = |raw: Option<String>| NewPassword::parse(raw).err();
        assert_eq!(refused(Some("1234567".into())), Some(CredentialError::PasswordLength));
        assert!(NewPassword::parse(Some("12345678".into())).is_ok());
        assert!(NewPassword::parse(Some("é".repeat(128))).is_ok());
        assert_eq!(refused(Some("x".repeat(129))), Some(CredentialError::PasswordLength));
        assert_eq!(refused(None), Some(CredentialError::PasswordLength));
    }

    #[test]
    fn a_sign_in_needs_some_password() {
        assert_eq!(GivenPassword::parse(Some(String::new())).err(), Some(CredentialError::PasswordRequired));
        assert_eq!(GivenPassword::parse(None).err(), Some(CredentialError::PasswordRequired));
        assert!(GivenPassword::parse(Some("short".into())).is_ok());
    }

    #[test]
    fn each_refusal_says_why_with_its_own_code() {
        use CredentialError::*;
        let refusals = [EmailInvalid, PasswordLength, PasswordRequired];
        let codes: Vec<_> = refusals.iter().map(|refusal| refusal.code()).collect();
        assert_eq!(codes, [ErrorCode::EmailInvalid, ErrorCode::PasswordLength, ErrorCode::PasswordRequired]);
        assert_eq!(CredentialError::EmailInvalid.to_string(), "Email must be valid");
    }

    #[test]
    fn passwords_never_reach_debug_output() {
        assert_eq!(format!("{:?}", NewPassword::parse(Some("hunter2hunter2".into())).unwrap()), "NewPassword(..)");
    }
}

/// Argon2id with the OWASP parameters (the crate's defaults: 19 MiB, 2 passes, 1 lane), run off
/// the async threads because each hash takes tens of milliseconds on purpose.
///
/// Each hash holds 19 MiB while it runs, so a burst of sign-ins must not start them all at once
/// (unbounded, a burst of sign-ups took the server far past an auth pod's 256 MiB:
/// docs/operations.md, "Auth's bounded work"). A [`hashing::Hasher`] runs one hash per core and
/// lets a few more per core wait; beyond that the answer is "busy" at once.
pub mod hashing {
    use std::sync::{Arc, Mutex, OnceLock};

    use anyhow::Context;
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
    use argon2::{Algorithm, Argon2, Block, Params, Version};
    use tokio::sync::Semaphore;

    use super::{GivenPassword, NewPassword};

    /// Hashes that may wait per core: a few hundred milliseconds of work, then "busy".
    pub const QUEUE_PER_CORE: usize = 8;

    #[derive(Debug, thiserror::Error)]
    pub enum HashError {
        #[error("too many password hashes queued")]
        Busy,
        #[error(transparent)]
        Failed(#[from] anyhow::Error),
    }

    /// Argon2's working memory, kept between hashes. Allocating 19 MiB for every hash left the
    /// allocator holding many times that after a burst, however few ran at once (docs/budgets.md);
    /// with one buffer per running hash, auth's memory is its base plus 19 MiB per core.
    type Scratch = Vec<Block>;

    #[derive(Clone)]
    pub struct Hasher {
        /// Hashes running or waiting to run.
        admitted: Arc<Semaphore>,
        /// Hashes running.
        running: Arc<Semaphore>,
        /// Working memory of hashes that ran: never more buffers than may run at once.
        scratch: Arc<Mutex<Vec<Scratch>>>,
    }

    impl Hasher {
        pub fn new(parallel: usize, queue: usize) -> Self {
            let parallel = parallel.max(1);
            Self {
                admitted: Arc::new(Semaphore::new(parallel + queue)),
                running: Arc::new(Semaphore::new(parallel)),
                scratch: Arc::new(Mutex::new(Vec::new())),
            }
        }

        /// One hash per core this process may use (cgroup limits included).
        pub fn for_this_machine() -> Self {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            Self::new(cores, cores * QUEUE_PER_CORE)
        }

        async fn run<T: Send + 'static>(
            &self,
            work: impl FnOnce(&mut Scratch) -> anyhow::Result<T> + Send + 'static,
        ) -> Result<T, HashError> {
            let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| HashError::Busy)?;
            let running = self.running.clone().acquire_owned().await.map_err(|_| HashError::Busy)?;
            let pool = self.scratch.clone();
            // The permits go with the work: a client that hangs up does not free a slot while its
            // hash still runs.
            let task = tokio::task::spawn_blocking(move || {
                let _permits = (admitted, running);
                let mut scratch = pool.lock().ok().and_then(|mut pool| pool.pop()).unwrap_or_default();
                let result = work(&mut scratch);
                if let Ok(mut pool) = pool.lock() {
                    pool.push(scratch);
                }
                result
            });
            Ok(task.await.context("hashing task failed")??)
        }

        pub async fn hash(&self, password: NewPassword) -> Result<String, HashError> {
            self.run(move |scratch| hash_with(scratch, password.expose())).await
        }

        /// Checks `password` against `stored`. With no stored hash (unknown email) it verifies
        /// against a dummy hash, so both cases take the same time and an attacker cannot tell
        /// them apart.
        pub async fn verify(&self, password: GivenPassword, stored: Option<String>) -> Result<bool, HashError> {
            self.run(move |scratch| {
                let known = stored.is_some();
                let stored = match stored {
                    Some(stored) => stored,
                    None => dummy_hash(scratch)?.to_string(),
                };
                let matches = verify_with(scratch, password.expose(), &stored)?;
                Ok(known && matches)
            })
            .await
        }
    }

    /// Argon2id with the crate's default (OWASP) parameters, as a PHC string.
    fn hash_with(scratch: &mut Scratch, password: &str) -> anyhow::Result<String> {
        let argon = Argon2::default();
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt.as_salt().decode_b64(&mut salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        compute(scratch, &argon, password, salt_raw, &mut out)?;
        let hash = PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params()).map_err(|e| anyhow::anyhow!("parameters: {e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
        };
        Ok(hash.to_string())
    }

    /// Hashes `password` with the stored hash's own algorithm, version, parameters and salt, and
    /// compares in constant time.
    fn verify_with(scratch: &mut Scratch, password: &str, stored: &str) -> anyhow::Result<bool> {
        let unreadable = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored hash unreadable: {e}");
        let parsed = PasswordHash::new(stored).map_err(|e| unreadable(&e))?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| unreadable(&e))?;
        let version = parsed.version.map(Version::try_from).transpose().map_err(|e| unreadable(&e))?.unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(anyhow::anyhow!("stored hash unreadable: no salt or no hash"));
        };
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|e| unreadable(&e))?;
        let mut out = vec![0u8; expected.len()];
        compute(scratch, &Argon2::new(algorithm, version, params), password, salt_raw, &mut out)?;
        Ok(Output::new(&out).map_err(|e| unreadable(&e))? == expected)
    }

    fn compute(scratch: &mut Scratch, argon: &Argon2<'_>, password: &str, salt: &[u8], out: &mut [u8]) -> anyhow::Result<()> {
        let blocks = argon.params().block_count();
        let hashed = if blocks <= Params::default().block_count() {
            if scratch.len() < blocks {
                scratch.resize(blocks, Block::default());
            }
            argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut scratch[..])
        } else {
            // A hash stored with more memory than ours: its buffer is not kept.
            argon.hash_password_into(password.as_bytes(), salt, out)
        };
        hashed.map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    }

    fn dummy_hash(scratch: &mut Scratch) -> anyhow::Result<&'static str> {
        static DUMMY: OnceLock<String> = OnceLock::new();
        if let Some(hash) = DUMMY.get() {
            return Ok(hash);
        }
        let hash = hash_with(scratch, "not a password anyone has")?;
        Ok(DUMMY.get_or_init(|| hash))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn beyond_the_queue_the_answer_is_busy_at_once() {
            let hasher = Hasher::new(1, 2);
            let password = || NewPassword::parse(Some("correct horse battery".into())).unwrap();
            let results = futures_util::future::join_all((0..6).map(|_| hasher.hash(password()))).await;
            let busy = results.iter().filter(|r| matches!(r, Err(HashError::Busy))).count();
            assert_eq!(busy, 3, "1 running + 2 waiting admitted, the other 3 busy");
            assert!(hasher.hash(password()).await.is_ok(), "slots are free again afterwards");
        }

        #[tokio::test]
        async fn a_hash_verifies_its_password_only_and_reads_as_argon2id() {
            let hasher = Hasher::new(1, 0);
            let stored = hasher.hash(NewPassword::parse(Some("correct horse battery".into())).unwrap()).await.unwrap();
            assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
            let given = |p: &str| GivenPassword::parse(Some(p.into())).unwrap();
            assert!(hasher.verify(given("correct horse battery"), Some(stored.clone())).await.unwrap());
            assert!(!hasher.verify(given("correct horse battery!"), Some(stored)).await.unwrap());
            assert!(!hasher.verify(given("correct horse battery"), None).await.unwrap());
        }

        #[tokio::test]
        async fn hashes_made_by_the_argon2_crate_itself_still_verify() {
            use argon2::password_hash::PasswordHasher;
            let salt = SaltString::generate(&mut OsRng);
            let stored = Argon2::default().hash_password(b"an older account", &salt).unwrap().to_string();
            let hasher = Hasher::new(1, 0);
            assert!(hasher.verify(GivenPassword::parse(Some("an older account".into())).unwrap(), Some(stored)).await.unwrap());
        }
    }
}
