use std::time::Duration;

use shared::config::{ConfigError, EnvReader, ServiceSettings};
use shared::events::nats::NatsSettings;

/// Everything the orders service reads from the environment.
#[derive(Debug, Clone)]
pub struct OrdersConfig {
    pub service: ServiceSettings,
    pub nats: NatsSettings,
    /// How long an order holds its ticket before it expires.
    pub expiration_window: Duration,
    /// Open orders a buyer may hold at once (`MAX_HOLDS_PER_BUYER`, default 4): a bot cannot
    /// reserve every ticket on sale and sit on them for the window.
    pub max_holds_per_buyer: u32,
}

impl OrdersConfig {
    pub const DEFAULT_PORT: u16 = 3103;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(EnvReader::from_process())
    }

    pub fn read(mut env: EnvReader) -> Result<Self, ConfigError> {
        let service = ServiceSettings::read(&mut env, "orders", Self::DEFAULT_PORT);
        let nats = NatsSettings::read(&mut env, "orders");
        let window: u64 = env.or("EXPIRATION_WINDOW_SECONDS", 900, "a number of seconds");
        if window == 0 {
            env.problem("EXPIRATION_WINDOW_SECONDS must be greater than 0");
        }
        let max_holds_per_buyer: u32 = env.or("MAX_HOLDS_PER_BUYER", 4, "a whole number of orders");
        if max_holds_per_buyer == 0 {
            env.problem("MAX_HOLDS_PER_BUYER must be at least 1");
        }
        env.finish()?;
        Ok(Self { service, nats, expiration_window: Duration::from_secs(window), max_holds_per_buyer })
    }
}
