use shared::config::{ConfigError, EnvReader, ServiceSettings};
use shared::events::nats::NatsSettings;

/// Everything the tickets service reads from the environment.
#[derive(Debug, Clone)]
pub struct TicketsConfig {
    pub service: ServiceSettings,
    pub nats: NatsSettings,
}

impl TicketsConfig {
    pub const DEFAULT_PORT: u16 = 3102;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(EnvReader::from_process())
    }

    pub fn read(mut env: EnvReader) -> Result<Self, ConfigError> {
        let service = ServiceSettings::read(&mut env, "tickets", Self::DEFAULT_PORT);
        let nats = NatsSettings::read(&mut env, "tickets");
        env.finish()?;
        Ok(Self { service, nats })
    }
}
