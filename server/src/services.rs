//! The services this process runs. With `embedded` (one machine) each service is built here, on
//! its own database, and its routes are merged into the web server's; without it (Kubernetes)
//! the ingress routes `/api` to the services and server functions reach them by URL.
use std::net::SocketAddr;

use axum::Router;
use shared::http::Readiness;

pub struct Services {
    pub router: Router,
    pub readiness: Readiness,
    pub auth_url: String,
}

#[cfg(feature = "embedded")]
pub async fn start(address: SocketAddr) -> anyhow::Result<Services> {
    use anyhow::Context;

    let auth_config = auth::AuthConfig::from_env().map_err(|e| anyhow::anyhow!("auth: {e}"))?;
    shared::telemetry::init(auth_config.service.log_format);
    let auth = auth::AuthService::build(&auth_config).await.context("starting the auth service")?;
    let readiness = Readiness { databases: vec![("auth", auth.db.clone())] };
    let own = format!("http://{address}");
    Ok(Services {
        router: auth.router,
        readiness,
        auth_url: std::env::var("AUTH_URL").unwrap_or(own),
    })
}

#[cfg(not(feature = "embedded"))]
pub async fn start(_address: SocketAddr) -> anyhow::Result<Services> {
    use shared::config::EnvReader;
    use shared::telemetry::LogFormat;

    let mut env = EnvReader::from_process();
    let format = env.or("LOG_FORMAT", LogFormat::Json, "pretty or json");
    let auth_url = env.or("AUTH_URL", "http://auth:3000".to_string(), "a URL");
    env.finish().map_err(|e| anyhow::anyhow!("server: {e}"))?;
    shared::telemetry::init(format);
    Ok(Services { router: Router::new(), readiness: Readiness::default(), auth_url })
}
