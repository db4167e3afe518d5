//! Reading the environment: every variable parsed at start, all bad or missing values reported
//! together, each with the variable's name and what it expects. What each part of a service
//! reads is beside that part (`store::DatabaseSettings`, `events::nats::NatsSettings`…); the
//! service's one typed configuration puts them together (`config`).
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

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
