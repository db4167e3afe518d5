//! Typed configuration from the environment. Every value is parsed at start; all bad or missing
//! values are reported together, each with the variable's name and what it expects.
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::session::JwtKey;
use crate::telemetry::LogFormat;

/// Reads variables from a map (the process environment, or a test's own) and remembers every
/// problem it met, so one start-up reports them all.
pub struct EnvReader {
    vars: HashMap<String, String>,
    problems: Vec<String>,
    read: NamesRead,
}

/// Every variable name a reader was asked for, shared with whoever kept a handle: what a
/// deployment may set (the Kubernetes manifests are checked against it).
#[derive(Debug, Clone, Default)]
pub struct NamesRead(std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>);

impl NamesRead {
    pub fn names(&self) -> std::collections::BTreeSet<String> {
        self.0.lock().map(|names| names.clone()).unwrap_or_default()
    }

    fn add(&self, name: &str) {
        if let Ok(mut names) = self.0.lock() {
            names.insert(name.to_string());
        }
    }
}

impl EnvReader {
    pub fn from_process() -> Self {
        Self::from_map(std::env::vars().collect())
    }

    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Self { vars, problems: Vec::new(), read: NamesRead::default() }
    }

    /// A handle on the names this reader is asked for, to look at after the reader is consumed.
    pub fn names_read(&self) -> NamesRead {
        self.read.clone()
    }

    /// The raw value, if set and not empty.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.read.add(name);
        self.vars.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    /// A parsed value, or `default` when unset.
    pub fn or<T>(&mut self, name: &str, default: T, expects: &str) -> T
    where
        T: FromStr,
    {
        self.optional(name, expects).unwrap_or(default)
    }

    /// A parsed value when set; a bad value is recorded as a problem.
    pub fn optional<T: FromStr>(&mut self, name: &str, expects: &str) -> Option<T> {
        let raw = self.raw(name)?.trim().to_string();
        match raw.parse() {
            Ok(value) => Some(value),
            Err(_) => {
                self.problems.push(format!("{name}={raw:?} is not valid: expected {expects}"));
                None
            }
        }
    }

    /// A boolean: `true`/`false`/`1`/`0`/`yes`/`no`.
    pub fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => default,
            Some(v) if ["true", "1", "yes", "on"].contains(&v.as_str()) => true,
            Some(v) if ["false", "0", "no", "off"].contains(&v.as_str()) => false,
            Some(v) => {
                self.problems.push(format!("{name}={v:?} is not valid: expected true or false"));
                default
            }
        }
    }

    /// Records a problem found while checking values against each other.
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    /// `Ok` when every value read so far was good.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(self.problems))
        }
    }
}

/// Every problem found in the environment, one per line.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Development runs with safe defaults; production refuses defaults that are only safe locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

impl FromStr for Environment {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "development" | "dev" | "local" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            _ => Err(()),
        }
    }
}

/// Where a service keeps its data.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `mem://`, `surrealkv://<path>` or `ws://host:port`.
    pub url: String,
    pub namespace: String,
    pub database: String,
    /// Credentials for a SurrealDB server; embedded engines need none.
    pub credentials: Option<(String, String)>,
}

/// The storage engines a `DATABASE_URL` can name, and the cargo feature that links each.
const ENGINES: &[(&str, &str, bool)] = &[
    ("mem://", "embedded", cfg!(feature = "embedded")),
    ("surrealkv://", "embedded", cfg!(feature = "embedded")),
    ("ws://", "remote", cfg!(feature = "remote")),
];

impl DatabaseSettings {
    /// Checks that `url` names an engine this build links, so a build without it refuses the
    /// configuration at start instead of failing at the first connection.
    pub fn engine_for(url: &str) -> Result<&'static str, String> {
        match ENGINES.iter().find(|(scheme, _, _)| url.starts_with(scheme)) {
            Some((scheme, _, true)) => Ok(scheme),
            Some((scheme, feature, false)) => {
                Err(format!("this build does not include the {scheme} engine (build with the cargo feature `{feature}`)"))
            }
            None => Err("expected mem://, surrealkv://<path> or ws://host:port".to_string()),
        }
    }
}

/// What every process reads, with or without a database: how it runs and where it listens.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    pub service: &'static str,
    pub environment: Environment,
    pub host: IpAddr,
    pub port: u16,
    pub log_format: LogFormat,
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
        }
    }

    pub fn address(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}

/// What every service with a database and sessions reads: `ServiceSettings::read(env, "auth", 3101)`.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// How it runs and where it listens, as every process.
    pub process: ProcessSettings,
    pub database: DatabaseSettings,
    pub jwt_key: JwtKey,
    pub session_ttl: Duration,
    /// Cookies get `Secure` unless the deployment runs without TLS (the dev mode).
    pub cookie_secure: bool,
    /// Believe `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy: bool,
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
        let database = DatabaseSettings {
            url,
            namespace: env.or("DATABASE_NS", "ticketing".to_string(), "a namespace name"),
            database: env.or("DATABASE_NAME", service.to_string(), "a database name"),
            credentials,
        };
        let jwt_key = match env.raw("JWT_KEY").map(JwtKey::parse) {
            Some(Ok(key)) => key,
            Some(Err(why)) => {
                env.problem(format!("JWT_KEY is not valid: {why}"));
                JwtKey::development()
            }
            None if production => {
                env.problem("JWT_KEY is required when APP_ENV=production (at least 32 bytes of secret)");
                JwtKey::development()
            }
            None => JwtKey::development(),
        };
        let ttl_seconds: u64 = env.or("SESSION_TTL_SECONDS", 86_400, "a number of seconds");
        if ttl_seconds == 0 {
            env.problem("SESSION_TTL_SECONDS must be greater than 0");
        }
        Self {
            database,
            jwt_key,
            session_ttl: Duration::from_secs(ttl_seconds),
            cookie_secure: env.flag("COOKIE_SECURE", production),
            trust_proxy: env.flag("TRUST_PROXY", false),
            process,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.process.address()
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

    #[test]
    fn development_defaults_are_complete() {
        let settings = read(&[]).expect("defaults are valid");
        assert_eq!(settings.process.environment, Environment::Development);
        assert_eq!(settings.process.port, 3101);
        assert_eq!(settings.database.url, "surrealkv://.data/auth");
        assert_eq!(settings.database.database, "auth");
        assert!(!settings.cookie_secure);
        assert_eq!(settings.session_ttl, Duration::from_secs(86_400));
    }

    #[test]
    fn production_refuses_to_start_without_a_jwt_key() {
        let error = read(&[("APP_ENV", "production")]).unwrap_err();
        assert!(error.0.iter().any(|p| p.contains("JWT_KEY is required")), "{error}");
    }

    #[test]
    fn production_takes_a_real_key_and_secures_cookies() {
        let settings = read(&[("APP_ENV", "production"), ("JWT_KEY", &"k".repeat(32))]).expect("valid");
        assert!(settings.cookie_secure);
        assert_eq!(settings.process.log_format, LogFormat::Json);
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let error = read(&[
            ("PORT", "eighty"),
            ("APP_ENV", "staging"),
            ("JWT_KEY", "short"),
            ("DATABASE_URL", "postgres://x"),
            ("COOKIE_SECURE", "maybe"),
        ])
        .unwrap_err();
        let text = error.to_string();
        for name in ["PORT", "APP_ENV", "JWT_KEY", "DATABASE_URL", "COOKIE_SECURE"] {
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
}
