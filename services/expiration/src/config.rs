use shared::config::{ConfigError, EnvReader, ProcessSettings};
use shared::events::nats::NatsSettings;

/// Everything the expiration service reads from the environment: where it listens (for its
/// health probes) and where NATS is. It has no database.
#[derive(Debug, Clone)]
pub struct ExpirationConfig {
    pub process: ProcessSettings,
    pub nats: NatsSettings,
    /// How long after an order's expiry it is cancelled (`EXPIRATION_GRACE_SECONDS`, default
    /// 30). Payments refuses a charge after the expiry itself; the grace lets a payment settled
    /// just before it reach orders first even while NATS fails over, so a buyer told "paid"
    /// never finds the order cancelled.
    pub grace: std::time::Duration,
}

impl ExpirationConfig {
    pub const DEFAULT_PORT: u16 = 3105;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(EnvReader::from_process())
    }

    pub fn read(mut env: EnvReader) -> Result<Self, ConfigError> {
        let process = ProcessSettings::read(&mut env, "expiration", Self::DEFAULT_PORT);
        let nats = NatsSettings::read(&mut env, "expiration");
        let grace: u64 = env.or("EXPIRATION_GRACE_SECONDS", 30, "a number of seconds from 0 to 300");
        if grace > 300 {
            env.problem(format!("EXPIRATION_GRACE_SECONDS={grace} is not valid: expected 0 to 300"));
        }
        env.finish()?;
        Ok(Self { process, nats, grace: std::time::Duration::from_secs(grace) })
    }
}
