use shared::config::{ConfigError, EnvReader, Environment, ServiceSettings};
use shared::events::nats::NatsSettings;
use shared::http::InternalSecret;
use shared::session::SigningKey;

use crate::limits::Limits;

/// Everything the auth service reads from the environment.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub service: ServiceSettings,
    /// Its NATS user (`auth`): it publishes the sessions it ends, and looks sessions up.
    pub nats: NatsSettings,
    /// The key sessions are signed with (`SESSION_KEY_ID`, `SESSION_SIGNING_KEY`): auth is the
    /// only service that reads it.
    pub signing_key: SigningKey,
    /// `INTERNAL_SECRET`, shared with the web server only: a client address the web server signs
    /// with it is the one sign-ins and sign-ups are counted under.
    pub internal_secret: InternalSecret,
    /// Attempts allowed per minute, counted in the database across replicas: failed sign-ins per
    /// email and address pair (`SIGNIN_FAILURES_PER_PAIR_PER_MINUTE`, default 10), per email
    /// (`SIGNIN_FAILURES_PER_EMAIL_PER_MINUTE`, 100) and per client address
    /// (`SIGNIN_FAILURES_PER_ADDRESS_PER_MINUTE`, 100; IPv6 by its /64); sign-ups per client
    /// address (`SIGNUPS_PER_ADDRESS_PER_MINUTE`, 30: a shared address such as a campus NAT
    /// still signs up a class at once).
    pub limits: Limits,
}

impl AuthConfig {
    pub const DEFAULT_PORT: u16 = 3101;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(EnvReader::from_process())
    }

    pub fn read(mut env: EnvReader) -> Result<Self, ConfigError> {
        let service = ServiceSettings::read(&mut env, "auth", Self::DEFAULT_PORT);
        let nats = NatsSettings::read(&mut env, "auth");
        let signing_key = service.read_signing_key(&mut env);
        let production = service.process.environment == Environment::Production;
        let internal_secret = shared::http::read_internal_secret(&mut env, production, service.process.host);
        let defaults = Limits::default();
        let expects = "a whole number of attempts";
        let limits = Limits {
            pair: env.or("SIGNIN_FAILURES_PER_PAIR_PER_MINUTE", defaults.pair, expects),
            email: env.or("SIGNIN_FAILURES_PER_EMAIL_PER_MINUTE", defaults.email, expects),
            address: env.or("SIGNIN_FAILURES_PER_ADDRESS_PER_MINUTE", defaults.address, expects),
            signups: env.or("SIGNUPS_PER_ADDRESS_PER_MINUTE", defaults.signups, expects),
        };
        let config = Self { service, nats, signing_key, internal_secret, limits };
        env.finish()?;
        Ok(config)
    }
}
