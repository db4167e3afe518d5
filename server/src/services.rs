//! The services this process runs. With `embedded` (one machine) each service is built here, on
//! its own database, and its routes are merged into the web server's; without it, or with
//! `EMBEDDED_SERVICES=false` (Kubernetes, `scripts/cluster`), the ingress routes `/api` to the
//! services and server functions reach them by URL. The switch is read at start so that one
//! build serves both topologies; the images leave the embedded services out to stay small.
use std::net::SocketAddr;

use app::api::ApiConfig;
use axum::Router;
use shared::http::Readiness;

use crate::openapi::Descriptions;
use crate::security::EdgeSettings;

pub struct Services {
    pub router: Router,
    pub readiness: Readiness,
    pub api: ApiConfig,
    /// The web server's own edge (client address, security headers), in both topologies.
    pub edge: EdgeSettings,
    /// `METRICS_ADDR`: where `/metrics` is served, on a listener of its own because the site's
    /// port is public (the ingress routes `/` to it). Unset: nowhere.
    pub metrics: Option<SocketAddr>,
    /// `/api/openapi.json`: the services' descriptions, merged here or fetched from them.
    pub openapi: Descriptions,
}

pub async fn start(address: SocketAddr) -> anyhow::Result<Services> {
    let mut env = shared::config::EnvReader::from_process();
    let edge = EdgeSettings::read(&mut env, address);
    let metrics: Option<SocketAddr> = env.optional("METRICS_ADDR", "an address and port to serve /metrics on, such as 0.0.0.0:9100");
    if metrics.is_some_and(|metrics| metrics.port() != 0 && metrics.port() == address.port()) {
        env.problem("METRICS_ADDR must not be the site's port: the ingress routes that one to everyone");
    }
    // One process, one service name: on one machine the embedded services' spans are the web's.
    let traces = shared::telemetry::TraceSettings::read(&mut env, "web");
    #[cfg(feature = "embedded")]
    if env.flag("EMBEDDED_SERVICES", true) {
        env.finish().map_err(|e| anyhow::anyhow!("server: {e}"))?;
        return Ok(Services { metrics, ..embedded(address, edge, &traces).await? });
    }
    Ok(Services { metrics, ..remote(env, edge, &traces)? })
}

#[cfg(feature = "embedded")]
async fn embedded(address: SocketAddr, edge: EdgeSettings, traces: &shared::telemetry::TraceSettings) -> anyhow::Result<Services> {
    use anyhow::Context;

    let auth_config = auth::AuthConfig::from_env().map_err(|e| anyhow::anyhow!("auth: {e}"))?;
    let tickets_config = tickets::TicketsConfig::from_env().map_err(|e| anyhow::anyhow!("tickets: {e}"))?;
    let orders_config = orders::OrdersConfig::from_env().map_err(|e| anyhow::anyhow!("orders: {e}"))?;
    let expiration_config = expiration::ExpirationConfig::from_env().map_err(|e| anyhow::anyhow!("expiration: {e}"))?;
    shared::telemetry::init(auth_config.service.process.log_format, traces);
    // The services answer on this server's address, not on their HOST: the built-in development
    // session keys (anyone can sign with them) are only for a server on loopback.
    if !address.ip().is_loopback() && auth_config.service.session_keys.has_development_key() {
        anyhow::bail!(
            "auth: the built-in development session keys are refused on {address}, which is not a loopback address: set SESSION_KEY_ID, SESSION_SIGNING_KEY and SESSION_PUBLIC_KEYS (`auth keygen` makes a key pair)"
        );
    }

    // Without a Stripe key, payments go to a Stripe double in this process: test mode.
    let mut vars: std::collections::HashMap<String, String> = std::env::vars().collect();
    let configured = |name: &str| vars.get(name).is_some_and(|v| !v.trim().is_empty());
    if !configured("STRIPE_SECRET_KEY") && !configured("STRIPE_API_BASE") {
        let (double, stripe) =
            stripe_double::StripeDouble::start(([127, 0, 0, 1], 0).into()).await.context("starting the Stripe double")?;
        tracing::warn!(stripe = %stripe, "no STRIPE_SECRET_KEY: payments are in test mode, against a local Stripe double");
        vars.insert("STRIPE_API_BASE".into(), format!("http://{stripe}"));
        // Its webhooks come back to this server, as Stripe's would through the ingress.
        let secret =
            vars.get("STRIPE_WEBHOOK_SECRET").cloned().unwrap_or_else(|| payments::config::StripeSettings::DOUBLE_WEBHOOK_SECRET.into());
        double.send_webhooks_to(format!("http://{address}/api/payments/webhook"), secret);
    }
    let payments_config =
        payments::PaymentsConfig::read(shared::config::EnvReader::from_map(vars)).map_err(|e| anyhow::anyhow!("payments: {e}"))?;

    let auth = auth::AuthService::build(&auth_config).await.context("starting the auth service")?;
    let tickets = tickets::TicketsService::build(&tickets_config).await.context("starting the tickets service")?;
    let orders = orders::OrdersService::build(&orders_config).await.context("starting the orders service")?;
    let payments = payments::PaymentsService::build(&payments_config).await.context("starting the payments service")?;
    let expiration = expiration::ExpirationService::build(&expiration_config).await.context("starting the expiration service")?;
    let readiness =
        auth.readiness().merge(tickets.readiness()).merge(orders.readiness()).merge(payments.readiness()).merge(expiration.readiness());
    let router = auth.router.merge(tickets.router).merge(orders.router).merge(payments.router);
    // Server functions call the API on this same port, as a browser would through the ingress.
    let own = format!("http://{address}");
    let url = |name: &str| std::env::var(name).unwrap_or_else(|_| own.clone());
    let api = ApiConfig {
        auth_url: url("AUTH_URL"),
        tickets_url: url("TICKETS_URL"),
        orders_url: url("ORDERS_URL"),
        payments_url: url("PAYMENTS_URL"),
        stripe_publishable_key: std::env::var("STRIPE_PUBLISHABLE_KEY").ok().filter(|k| !k.trim().is_empty()),
        // The embedded auth read the same INTERNAL_SECRET.
        internal_secret: edge.internal_secret.clone(),
    };
    let openapi =
        Descriptions::merged([auth::routes::openapi(), tickets::routes::openapi(), orders::routes::openapi(), payments::routes::openapi()]);
    Ok(Services { router, readiness, api, edge, metrics: None, openapi })
}

/// The web server alone: server functions call the services where the environment says.
fn remote(mut env: shared::config::EnvReader, edge: EdgeSettings, traces: &shared::telemetry::TraceSettings) -> anyhow::Result<Services> {
    use shared::telemetry::LogFormat;

    let format = env.or("LOG_FORMAT", LogFormat::Json, "pretty or json");
    let api = ApiConfig {
        auth_url: env.or("AUTH_URL", "http://auth:3000".to_string(), "a URL"),
        tickets_url: env.or("TICKETS_URL", "http://tickets:3000".to_string(), "a URL"),
        orders_url: env.or("ORDERS_URL", "http://orders:3000".to_string(), "a URL"),
        payments_url: env.or("PAYMENTS_URL", "http://payments:3000".to_string(), "a URL"),
        stripe_publishable_key: env.raw("STRIPE_PUBLISHABLE_KEY").map(str::to_string),
        internal_secret: edge.internal_secret.clone(),
    };
    env.finish().map_err(|e| anyhow::anyhow!("server: {e}"))?;
    shared::telemetry::init(format, traces);
    let openapi = Descriptions::remote(&api);
    Ok(Services { router: Router::new(), readiness: Readiness::default(), api, edge, metrics: None, openapi })
}
