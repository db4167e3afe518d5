//! Input that has been parsed is valid by construction: a handler that holds a `UserEmail` never
//! checks it again.
use std::fmt;

use validator::ValidateEmail;

/// An email address, trimmed and lower-cased so that one person has one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEmail(String);

impl UserEmail {
    pub fn parse(raw: Option<String>) -> Result<Self, &'static str> {
        const INVALID: &str = "Email must be valid";
        let email = raw.ok_or(INVALID)?.trim().to_lowercase();
        if email.len() > 254 || !email.validate_email() {
            return Err(INVALID);
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
    pub fn parse(raw: Option<String>) -> Result<Self, &'static str> {
        let password = raw.ok_or(Self::RULE)?;
        let length = password.chars().count();
        if !(8..=128).contains(&length) {
            return Err(Self::RULE);
        }
        Ok(Self(password))
    }

    const RULE: &'static str = "Password must be between 8 and 128 characters";

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A password given at sign-in: anything but nothing (the rules may have changed since sign-up).
#[derive(Clone)]
pub struct GivenPassword(String);

impl GivenPassword {
    pub fn parse(raw: Option<String>) -> Result<Self, &'static str> {
        match raw {
            Some(password) if !password.is_empty() && password.len() <= 4096 => Ok(Self(password)),
            _ => Err("You must supply a password"),
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
            assert!(UserEmail::parse(Some(raw.into())).is_err(), "{raw:?} accepted");
        }
        assert!(UserEmail::parse(None).is_err());
    }

    #[test]
    fn passwords_are_8_to_128_characters() {
        assert!(NewPassword::parse(Some("1234567".into())).is_err());
        assert!(NewPassword::parse(Some("12345678".into())).is_ok());
        assert!(NewPassword::parse(Some("é".repeat(128))).is_ok());
        assert!(NewPassword::parse(Some("x".repeat(129))).is_err());
        assert!(NewPassword::parse(None).is_err());
    }

    #[test]
    fn passwords_never_reach_debug_output() {
        assert_eq!(format!("{:?}", NewPassword::parse(Some("hunter2hunter2".into())).unwrap()), "NewPassword(..)");
    }
}

/// Argon2id with the OWASP parameters (the crate's defaults: 19 MiB, 2 passes, 1 lane), run off
/// the async threads because each hash takes tens of milliseconds on purpose.
pub mod hashing {
    use std::sync::OnceLock;

    use anyhow::Context;
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::Argon2;

    use super::{GivenPassword, NewPassword};

    pub async fn hash(password: NewPassword) -> anyhow::Result<String> {
        tokio::task::spawn_blocking(move || hash_blocking(password.expose())).await.context("hashing task failed")?
    }

    fn hash_blocking(password: &str) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    }

    /// Checks `password` against `stored`. With no stored hash (unknown email) it verifies against
    /// a dummy hash, so both cases take the same time and an attacker cannot tell them apart.
    pub async fn verify(password: GivenPassword, stored: Option<String>) -> anyhow::Result<bool> {
        tokio::task::spawn_blocking(move || {
            let known = stored.is_some();
            let stored = match stored {
                Some(stored) => stored,
                None => dummy_hash()?.to_string(),
            };
            let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            let matches = Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok();
            Ok(known && matches)
        })
        .await
        .context("verification task failed")?
    }

    fn dummy_hash() -> anyhow::Result<&'static str> {
        static DUMMY: OnceLock<String> = OnceLock::new();
        if let Some(hash) = DUMMY.get() {
            return Ok(hash);
        }
        let hash = hash_blocking("not a password anyone has")?;
        Ok(DUMMY.get_or_init(|| hash))
    }
}
