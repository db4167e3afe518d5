use shared::config::{ConfigError, EnvReader, ProcessSettings};
use shared::events::nats::NatsSettings;

/// Everything the expiration service reads from the environment: where it listens (for its
/// health probes) and where NATS is. It has no database.
#[derive(Debug, Clone)]
pub struct ExpirationConfig {
    pub process: ProcessSettings,
    pub nats: NatsSettings,
}

impl ExpirationConfig {
    pub const DEFAULT_PORT: u16 = 3105;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(EnvReader::from_process())
    }

    pub fn read(mut env: EnvReader) -> Result<Self, ConfigError> {
        let process = ProcessSettings::read(&mut env, "expiration", Self::DEFAULT_PORT);
        let nats = NatsSettings::read(&mut env, "expiration");
        env.finish()?;
        Ok(Self { process, nats })
    }
}
