use shared::config::{ConfigError, EnvReader, Environment, ServiceSettings};
use shared::events::nats::NatsSettings;

/// Where charges go: Stripe itself, or a Stripe double speaking its wire format.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    pub secret_key: String,
    /// `None` is Stripe's own API.
    pub api_base: Option<String>,
    /// The secret Stripe signs this endpoint's webhooks with (`whsec_…`).
    pub webhook_secret: String,
    /// When the reconciler first asks Stripe about an attempt that has no outcome.
    pub reconcile_after: std::time::Duration,
    /// How long an order past its deadline waits for a card still in flight before it lapses
    /// anyway (`PAYMENT_DEADLINE_WAIT_SECONDS`, default 300): a seat is never held for a charge
    /// that does not come back; one that comes after is refunded.
    pub deadline_wait: std::time::Duration,
}

impl StripeSettings {
    /// The key a Stripe double accepts when no real key is configured.
    pub const DOUBLE_KEY: &str = "sk_test_double";
    /// The webhook secret the Stripe double signs with unless told otherwise.
    pub const DOUBLE_WEBHOOK_SECRET: &str = "whsec_double";

    pub fn read(env: &mut EnvReader, environment: Environment) -> Self {
        let api_base = env.raw("STRIPE_API_BASE").map(str::to_string);
        if let Some(base) = &api_base
            && !(base.starts_with("http://") || base.starts_with("https://"))
        {
            env.problem(format!("STRIPE_API_BASE={base:?} is not valid: expected an http:// or https:// URL"));
        }
        let secret_key = match env.raw("STRIPE_SECRET_KEY") {
            Some(key) if ["sk_test_", "sk_live_", "rk_test_", "rk_live_"].iter().any(|p| key.starts_with(p)) => key.to_string(),
            Some(_) => {
                env.problem("STRIPE_SECRET_KEY is not valid: expected a Stripe secret key (sk_test_… or sk_live_…)");
                String::new()
            }
            None if environment == Environment::Production => {
                env.problem("STRIPE_SECRET_KEY is required when APP_ENV=production");
                String::new()
            }
            None if api_base.is_none() => {
                env.problem("set STRIPE_SECRET_KEY to use Stripe, or STRIPE_API_BASE to a Stripe test double (scripts/dev starts one)");
                String::new()
            }
            None => Self::DOUBLE_KEY.to_string(),
        };
        let webhook_secret = match env.raw("STRIPE_WEBHOOK_SECRET") {
            Some(secret) if secret.starts_with("whsec_") && secret.len() > 6 => secret.to_string(),
            Some(_) => {
                env.problem("STRIPE_WEBHOOK_SECRET is not valid: expected the endpoint's signing secret (whsec_…)");
                String::new()
            }
            // Without it anyone could post "payment succeeded": real Stripe needs the real secret.
            None if environment == Environment::Production || api_base.is_none() => {
                env.problem("STRIPE_WEBHOOK_SECRET is required to talk to Stripe (the webhook endpoint's signing secret, whsec_…)");
                String::new()
            }
            None => Self::DOUBLE_WEBHOOK_SECRET.to_string(),
        };
        let reconcile_after = seconds(env, "PAYMENT_RECONCILE_AFTER_SECONDS", 60);
        let deadline_wait = seconds(env, "PAYMENT_DEADLINE_WAIT_SECONDS", 300);
        Self { secret_key, api_base, webhook_secret, reconcile_after, deadline_wait }
    }

    /// Charges are not real: a test key, or no Stripe at all.
    pub fn test_mode(&self) -> bool {
        !self.secret_key.contains("_live_")
    }
}

/// A duration in whole seconds from 1 to 3600, `default` when unset.
fn seconds(env: &mut EnvReader, name: &str, default: u64) -> std::time::Duration {
    let seconds: u64 = env.or(name, default, "whole seconds from 1 to 3600");
    if !(1..=3600).contains(&seconds) {
        env.problem(format!("{name}={seconds} is not valid: expected whole seconds from 1 to 3600"));
    }
    std::time::Duration::from_secs(seconds.clamp(1, 3600))
}

/// Everything the payments service reads from the environment.
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    pub service: ServiceSettings,
    pub nats: NatsSettings,
    pub stripe: StripeSettings,
    /// `DECLINES_PER_ORDER` (default 5) and `DECLINES_PER_BUYER_PER_HOUR` (default 20).
    pub declines: crate::store::DeclineLimits,
}

impl PaymentsConfig {
    pub const DEFAULT_PORT: u16 = 3104;

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(EnvReader::from_process())
    }

    pub fn read(mut env: EnvReader) -> Result<Self, ConfigError> {
        let service = ServiceSettings::read(&mut env, "payments", Self::DEFAULT_PORT);
        let nats = NatsSettings::read(&mut env, "payments");
        let stripe = StripeSettings::read(&mut env, service.process.environment);
        let defaults = crate::store::DeclineLimits::default();
        let declines = crate::store::DeclineLimits {
            per_order: env.or("DECLINES_PER_ORDER", defaults.per_order, "a whole number of declined cards"),
            per_buyer_per_hour: env.or("DECLINES_PER_BUYER_PER_HOUR", defaults.per_buyer_per_hour, "a whole number of declined cards"),
        };
        if declines.per_order == 0 || declines.per_buyer_per_hour == 0 {
            env.problem("DECLINES_PER_ORDER and DECLINES_PER_BUYER_PER_HOUR must be at least 1");
        }
        env.finish()?;
        Ok(Self { service, nats, stripe, declines })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<PaymentsConfig, ConfigError> {
        PaymentsConfig::read(EnvReader::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
    }

    #[test]
    fn a_double_needs_no_key_but_production_needs_one() {
        let config = read(&[("STRIPE_API_BASE", "http://127.0.0.1:12111")]).expect("valid");
        assert!(config.stripe.test_mode());
        let error = read(&[("APP_ENV", "production")]).unwrap_err();
        assert!(error.to_string().contains("STRIPE_SECRET_KEY is required"), "{error}");
        assert!(read(&[]).unwrap_err().to_string().contains("STRIPE_API_BASE"));
    }

    #[test]
    fn a_live_key_is_not_test_mode_and_a_bad_key_is_refused() {
        let config = read(&[("STRIPE_SECRET_KEY", "sk_live_abc"), ("STRIPE_WEBHOOK_SECRET", "whsec_abc")]).expect("valid");
        assert!(!config.stripe.test_mode());
        assert!(config.stripe.api_base.is_none());
        assert!(read(&[("STRIPE_SECRET_KEY", "pk_test_abc"), ("STRIPE_WEBHOOK_SECRET", "whsec_abc")]).is_err());
    }

    #[test]
    fn real_stripe_needs_the_webhook_secret_and_a_double_has_its_own() {
        let error = read(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).unwrap_err();
        assert!(error.to_string().contains("STRIPE_WEBHOOK_SECRET is required"), "{error}");
        assert!(read(&[("STRIPE_SECRET_KEY", "sk_test_abc"), ("STRIPE_WEBHOOK_SECRET", "secret")]).is_err());
        let config = read(&[("STRIPE_API_BASE", "http://127.0.0.1:12111")]).expect("valid");
        assert_eq!(config.stripe.webhook_secret, StripeSettings::DOUBLE_WEBHOOK_SECRET);
    }
}
