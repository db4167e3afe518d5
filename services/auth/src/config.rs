use shared::config::{ConfigError, EnvReader, Environment, ServiceSettings};
use shared::http::InternalSecret;
use shared::session::SigningKey;

/// Everything the auth service reads from the environment.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub service: ServiceSettings,
    /// The key sessions are signed with (`SESSION_KEY_ID`, `SESSION_SIGNING_KEY`): auth is the
    /// only service that reads it.
    pub signing_key: SigningKey,
    /// `INTERNAL_SECRET`, shared with the web server only: a client address the web server signs
    /// with it is the one sign-ins and sign-ups are counted under.
    pub internal_secret: InternalSecret,
    /// Failed sign-ins allowed per email within a minute before further tries get 429.
    pub email_failures_per_minute: u32,
    /// Failed sign-ins allowed per client address within a minute.
    pub address_failures_per_minute: u32,
    /// Sign-ups allowed per client address within a minute (`SIGNUPS_PER_ADDRESS_PER_MINUTE`,
    /// default 30: a shared address such as a campus NAT still signs up a class at once).
    pub signups_per_address_per_minute: u32,
}

impl AuthConfig {
    pub const DEFAULT_PORT: u16 = 3101;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(EnvReader::from_process())
    }

    pub fn read(mut env: EnvReader) -> Result<Self, ConfigError> {
        let service = ServiceSettings::read(&mut env, "auth", Self::DEFAULT_PORT);
        let signing_key = service.read_signing_key(&mut env);
        let production = service.process.environment == Environment::Production;
        let internal_secret = InternalSecret::read(&mut env, production, service.process.host);
        let signups_per_address_per_minute = env.or("SIGNUPS_PER_ADDRESS_PER_MINUTE", 30, "a whole number of sign-ups");
        let config = Self {
            service,
            signing_key,
            internal_secret,
            email_failures_per_minute: 10,
            address_failures_per_minute: 100,
            signups_per_address_per_minute,
        };
        env.finish()?;
        Ok(config)
    }
}
