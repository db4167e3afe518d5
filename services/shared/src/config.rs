//! Typed configuration from the environment. Every value is parsed at start; all bad or missing
//! values are reported together, each with the variable's name and what it expects.
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

pub use crate::env::{ConfigError, EnvReader, Environment, NamesRead};
use crate::session::{SigningKey, VerifyingKeys};
pub use crate::store::DatabaseSettings;
use crate::telemetry::{LogFormat, TraceSettings};

/// What every process reads, with or without a database: how it runs and where it listens.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    pub service: &'static str,
    pub environment: Environment,
    pub host: IpAddr,
    pub port: u16,
    pub log_format: LogFormat,
    /// Where its spans go (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`; none by default).
    pub traces: TraceSettings,
}

impl ProcessSettings {
    pub fn read(env: &mut EnvReader, service: &'static str, default_port: u16) -> Self {
        let environment = env.or("APP_ENV", Environment::Development, "development or production");
        let production = environment == Environment::Production;
        Self {
            service,
            environment,
            host: env.or("HOST", IpAddr::from([127, 0, 0, 1]), "an IP address"),
            port: env.or("PORT", default_port, "a port number (0 picks a free one)"),
            log_format: env.or("LOG_FORMAT", if production { LogFormat::Json } else { LogFormat::Pretty }, "pretty or json"),
            traces: TraceSettings::read(env, service),
        }
    }

    pub fn address(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// Why the built-in development session keys may not be used here, if they may not: anyone
    /// can sign with them, so only a development run that no other machine reaches may.
    fn development_keys_refused(&self) -> Option<String> {
        if self.environment == Environment::Production {
            Some("APP_ENV=production".to_string())
        } else if !self.host.is_loopback() {
            Some(format!("HOST={} is not a loopback address", self.host))
        } else {
            None
        }
    }
}

/// What every service with a database and sessions reads: `ServiceSettings::read(env, "auth", 3101)`.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// How it runs and where it listens, as every process.
    pub process: ProcessSettings,
    pub database: DatabaseSettings,
    /// The public keys sessions are verified with (`SESSION_PUBLIC_KEYS`).
    pub session_keys: VerifyingKeys,
    pub session_ttl: Duration,
    /// Cookies get `Secure` unless the deployment runs without TLS (the dev mode).
    pub cookie_secure: bool,
    /// How many proxies of ours stand in front (`TRUSTED_PROXIES`, default 0: the peer is the
    /// client); see [`crate::http::client_address`].
    pub trusted_proxies: usize,
}

impl ServiceSettings {
    /// Reads the common settings; the service adds its own with the same reader, then calls
    /// [`EnvReader::finish`].
    pub fn read(env: &mut EnvReader, service: &'static str, default_port: u16) -> Self {
        let process = ProcessSettings::read(env, service, default_port);
        let production = process.environment == Environment::Production;
        let data_dir: PathBuf = env.or("DATA_DIR", PathBuf::from(".data"), "a directory path");
        let url =
            env.raw("DATABASE_URL").map(str::to_string).unwrap_or_else(|| format!("surrealkv://{}", data_dir.join(service).display()));
        if let Err(why) = DatabaseSettings::engine_for(&url) {
            env.problem(format!("DATABASE_URL={url:?} is not valid: {why}"));
        }
        let credentials = match (env.raw("DATABASE_USER"), env.raw("DATABASE_PASS")) {
            (Some(user), Some(pass)) => Some((user.to_string(), pass.to_string())),
            (None, None) => None,
            _ => {
                env.problem("DATABASE_USER and DATABASE_PASS must be set together");
                None
            }
        };
        let ca_file = env.raw("DATABASE_CA_FILE").map(PathBuf::from);
        if ca_file.is_some() && !url.starts_with("wss://") {
            // A CA for a connection that is not TLS: the operator believes it is.
            env.problem(format!("DATABASE_CA_FILE is set but DATABASE_URL={url:?} is not wss://"));
        }
        let database = DatabaseSettings {
            url,
            namespace: env.or("DATABASE_NS", "ticketing".to_string(), "a namespace name"),
            database: env.or("DATABASE_NAME", service.to_string(), "a database name"),
            credentials,
            ca_file,
        };
        let session_keys = read_session_keys(env, &process);
        let ttl_seconds: u64 = env.or("SESSION_TTL_SECONDS", 86_400, "a number of seconds");
        if ttl_seconds == 0 {
            env.problem("SESSION_TTL_SECONDS must be greater than 0");
        }
        Self {
            database,
            session_keys,
            session_ttl: Duration::from_secs(ttl_seconds),
            cookie_secure: env.flag("COOKIE_SECURE", production),
            trusted_proxies: crate::http::read_trusted_proxies(env),
            process,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.process.address()
    }

    /// The key sessions are signed with: only auth reads it (`SESSION_KEY_ID` and
    /// `SESSION_SIGNING_KEY`, the standard base64 of a 32-byte Ed25519 seed), so no other
    /// service can be given it. Unset, the built-in development key, under the same rule as the
    /// public keys. Its public key must be among `SESSION_PUBLIC_KEYS`, or auth would sign
    /// sessions no service accepts.
    pub fn read_signing_key(&self, env: &mut EnvReader) -> SigningKey {
        let refused = self.process.development_keys_refused();
        let parsed = match (env.raw("SESSION_KEY_ID"), env.raw("SESSION_SIGNING_KEY")) {
            (Some(kid), Some(seed)) => SigningKey::parse(kid.trim(), seed),
            (None, None) => {
                if let Some(why) = &refused {
                    env.problem(format!(
                        "SESSION_SIGNING_KEY and SESSION_KEY_ID are required when {why}: the built-in development key is public, so anyone could sign sessions with it (`auth keygen` makes a key pair)"
                    ));
                } else if env.raw("SESSION_PUBLIC_KEYS").is_some() {
                    env.problem("SESSION_SIGNING_KEY and SESSION_KEY_ID are required with SESSION_PUBLIC_KEYS: without them auth would sign with the built-in development key");
                }
                return SigningKey::development();
            }
            _ => {
                env.problem("SESSION_SIGNING_KEY and SESSION_KEY_ID must be set together");
                return SigningKey::development();
            }
        };
        let key = match parsed {
            Ok(key) => key,
            Err(why) => {
                env.problem(format!("SESSION_KEY_ID or SESSION_SIGNING_KEY is not valid: {why}"));
                return SigningKey::development();
            }
        };
        if let (true, Some(why)) = (key.is_development(), &refused) {
            env.problem(format!(
                "SESSION_SIGNING_KEY is the built-in development key, which is refused when {why}: anyone could sign sessions with it"
            ));
        }
        // A bad SESSION_PUBLIC_KEYS is reported already; comparing with its stand-in would only add noise.
        let public_keys_valid = env.raw("SESSION_PUBLIC_KEYS").is_none_or(|keys| VerifyingKeys::parse(keys).is_ok());
        if public_keys_valid && self.session_keys.get(key.kid()) != Some(&key.public_key()) {
            env.problem(format!(
                "SESSION_PUBLIC_KEYS has no key {kid:?} matching the signing key, so no service would accept the sessions auth signs: add {public}",
                kid = key.kid(),
                public = key.verifying_keys()
            ));
        }
        key
    }
}

/// The public keys sessions are verified with (`SESSION_PUBLIC_KEYS`, `kid:base64[,kid:base64…]`);
/// unset, the built-in development key pair's, which only a development run on loopback may use.
fn read_session_keys(env: &mut EnvReader, process: &ProcessSettings) -> VerifyingKeys {
    let refused = process.development_keys_refused();
    match env.raw("SESSION_PUBLIC_KEYS").map(VerifyingKeys::parse) {
        Some(Ok(keys)) => {
            if let (true, Some(why)) = (keys.has_development_key(), &refused) {
                env.problem(format!("SESSION_PUBLIC_KEYS holds the built-in development key, which is refused when {why}: anyone could sign sessions with it"));
            }
            keys
        }
        Some(Err(why)) => {
            env.problem(format!("SESSION_PUBLIC_KEYS is not valid: {why} (expected kid:base64-public-key[,kid:base64-public-key])"));
            VerifyingKeys::development()
        }
        None => {
            if let Some(why) = refused {
                env.problem(format!(
                    "SESSION_PUBLIC_KEYS is required when {why}: the built-in development key pair is public, so anyone could sign sessions with it (`auth keygen` makes a key pair)"
                ));
            }
            VerifyingKeys::development()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ServiceSettings, ConfigError> {
        let mut env = EnvReader::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let settings = ServiceSettings::read(&mut env, "auth", 3101);
        env.finish().map(|()| settings)
    }

    /// Reads as auth does: the common settings, then the signing key.
    fn read_auth(vars: &[(&str, &str)]) -> Result<(ServiceSettings, SigningKey), ConfigError> {
        let mut env = EnvReader::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let settings = ServiceSettings::read(&mut env, "auth", 3101);
        let key = settings.read_signing_key(&mut env);
        env.finish().map(|()| (settings, key))
    }

    /// A real key pair's variables: SESSION_KEY_ID, SESSION_SIGNING_KEY, SESSION_PUBLIC_KEYS.
    fn key_vars(seed: u8) -> (String, String, String) {
        let key = SigningKey::from_seed(&format!("key-{seed}"), [seed; 32]).expect("a valid kid");
        (key.kid().to_string(), key.to_base64(), key.verifying_keys().to_string())
    }

    fn problems(error: &ConfigError, text: &str) -> bool {
        error.0.iter().any(|p| p.contains(text))
    }

    #[test]
    fn development_defaults_are_complete() {
        let settings = read(&[]).expect("defaults are valid");
        assert_eq!(settings.process.environment, Environment::Development);
        assert_eq!(settings.process.port, 3101);
        assert_eq!(settings.database.url, "surrealkv://.data/auth");
        assert_eq!(settings.database.database, "auth");
        assert!(!settings.cookie_secure);
        assert_eq!(settings.session_ttl, Duration::from_secs(86_400));
        assert_eq!(settings.session_keys, VerifyingKeys::development());
        let (_, key) = read_auth(&[]).expect("defaults are valid for auth too");
        assert!(key.is_development());
    }

    #[test]
    fn production_refuses_to_start_without_session_keys() {
        let error = read_auth(&[("APP_ENV", "production")]).unwrap_err();
        assert!(problems(&error, "SESSION_PUBLIC_KEYS is required when APP_ENV=production"), "{error}");
        assert!(problems(&error, "SESSION_SIGNING_KEY and SESSION_KEY_ID are required when APP_ENV=production"), "{error}");
    }

    #[test]
    fn production_takes_real_keys_and_secures_cookies() {
        let (kid, seed, public) = key_vars(42);
        let (settings, key) = read_auth(&[
            ("APP_ENV", "production"),
            ("SESSION_KEY_ID", &kid),
            ("SESSION_SIGNING_KEY", &seed),
            ("SESSION_PUBLIC_KEYS", &public),
        ])
        .expect("valid");
        assert!(settings.cookie_secure);
        assert_eq!(settings.process.log_format, LogFormat::Json);
        assert_eq!(key.kid(), kid);
        assert_eq!(settings.session_keys.get(&kid), Some(&key.public_key()));
    }

    #[test]
    fn the_development_keys_are_refused_unless_the_service_listens_on_loopback() {
        let error = read_auth(&[("HOST", "0.0.0.0")]).unwrap_err();
        assert!(problems(&error, "SESSION_PUBLIC_KEYS is required when HOST=0.0.0.0 is not a loopback address"), "{error}");
        assert!(problems(&error, "SESSION_SIGNING_KEY and SESSION_KEY_ID are required when HOST=0.0.0.0"), "{error}");

        // Named explicitly, under any kid, they are refused all the same.
        let seed = SigningKey::development().to_base64();
        let public = SigningKey::parse("renamed", &seed).expect("the development seed").verifying_keys().to_string();
        let explicit: Vec<(&str, &str)> =
            vec![("SESSION_KEY_ID", "renamed"), ("SESSION_SIGNING_KEY", seed.as_str()), ("SESSION_PUBLIC_KEYS", public.as_str())];
        let mut off_loopback = explicit.clone();
        off_loopback.push(("HOST", "10.1.2.3"));
        let error = read_auth(&off_loopback).unwrap_err();
        assert!(problems(&error, "SESSION_PUBLIC_KEYS holds the built-in development key"), "{error}");
        assert!(problems(&error, "SESSION_SIGNING_KEY is the built-in development key"), "{error}");
        assert!(read_auth(&explicit).is_ok(), "on loopback they are fine");
        assert!(read_auth(&[("HOST", "::1")]).is_ok(), "::1 is loopback");
    }

    #[test]
    fn a_service_that_only_verifies_needs_only_the_public_keys() {
        let (_, _, public) = key_vars(42);
        let settings = read(&[("HOST", "0.0.0.0"), ("APP_ENV", "production"), ("SESSION_PUBLIC_KEYS", &public)]).expect("valid");
        assert!(!settings.session_keys.has_development_key());
    }

    #[test]
    fn auth_refuses_a_signing_key_whose_public_key_is_not_listed() {
        let (kid, seed, _) = key_vars(42);
        let (_, _, other) = key_vars(43);
        let error = read_auth(&[("SESSION_KEY_ID", &kid), ("SESSION_SIGNING_KEY", &seed), ("SESSION_PUBLIC_KEYS", &other)]).unwrap_err();
        assert!(problems(&error, "SESSION_PUBLIC_KEYS has no key \"key-42\" matching the signing key"), "{error}");
        // The same kid with another key is no match either.
        let (_, other_seed, _) = key_vars(43);
        let (_, _, public) = key_vars(42);
        let error =
            read_auth(&[("SESSION_KEY_ID", &kid), ("SESSION_SIGNING_KEY", &other_seed), ("SESSION_PUBLIC_KEYS", &public)]).unwrap_err();
        assert!(problems(&error, "SESSION_PUBLIC_KEYS has no key"), "{error}");
    }

    #[test]
    fn a_bad_or_half_signing_key_is_refused_without_repeating_it() {
        let (kid, seed, public) = key_vars(42);
        let error = read_auth(&[("SESSION_SIGNING_KEY", &seed), ("SESSION_PUBLIC_KEYS", &public)]).unwrap_err();
        assert!(problems(&error, "must be set together"), "{error}");
        let short = "c2hvcnQtc2VjcmV0"; // base64 of 12 bytes
        let error = read_auth(&[("SESSION_KEY_ID", &kid), ("SESSION_SIGNING_KEY", short), ("SESSION_PUBLIC_KEYS", &public)]).unwrap_err();
        assert!(problems(&error, "the seed is 12 bytes"), "{error}");
        assert!(!error.to_string().contains(short), "{error}");
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let error = read(&[
            ("PORT", "eighty"),
            ("APP_ENV", "staging"),
            ("SESSION_PUBLIC_KEYS", "nonsense"),
            ("DATABASE_URL", "postgres://x"),
            ("COOKIE_SECURE", "maybe"),
        ])
        .unwrap_err();
        let text = error.to_string();
        for name in ["PORT", "APP_ENV", "SESSION_PUBLIC_KEYS", "DATABASE_URL", "COOKIE_SECURE"] {
            assert!(text.contains(name), "{name} missing from: {text}");
        }
    }

    #[test]
    fn a_database_url_must_name_an_engine_this_build_links() {
        let remote = read(&[("DATABASE_URL", "ws://127.0.0.1:8000")]);
        let embedded = read(&[("DATABASE_URL", "mem://")]);
        assert_eq!(remote.is_ok(), cfg!(feature = "remote"), "{:?}", remote.err());
        assert_eq!(embedded.is_ok(), cfg!(feature = "embedded"), "{:?}", embedded.err());
        if let Err(error) = remote {
            assert!(error.to_string().contains("feature `remote`"), "{error}");
        }
    }

    #[test]
    fn a_ca_file_goes_with_a_tls_url_only() {
        let tls = read(&[("DATABASE_URL", "wss://surrealdb:8000"), ("DATABASE_CA_FILE", "/etc/surrealdb-ca/ca.crt")]);
        assert_eq!(tls.is_ok(), cfg!(feature = "remote"), "{:?}", tls.err());
        // The operator believes the connection is TLS; it is not.
        let plain = read(&[("DATABASE_URL", "ws://surrealdb:8000"), ("DATABASE_CA_FILE", "/etc/surrealdb-ca/ca.crt")]);
        let error = plain.expect_err("a CA for a plaintext URL is refused");
        assert!(error.to_string().contains("DATABASE_CA_FILE is set but DATABASE_URL=\"ws://surrealdb:8000\" is not wss://"), "{error}");
    }
}
