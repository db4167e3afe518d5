//! Wiring: from configuration to a router, and from a router to a listening server.
use anyhow::Context;
use axum::Router;
use shared::http::{accept_signed_client_address, api_layers, Readiness, Server};
use shared::session::Sessions;
use shared::store::{self, Db};

use crate::config::AuthConfig;
use crate::domain::hashing::Hasher;
use crate::limits::AttemptWindow;
use crate::routes::{self, AppState};
use crate::store::SCHEMA;

/// The service's routes and what readiness depends on, ready to be served alone or mounted in
/// the single-machine web server.
pub struct AuthService {
    pub router: Router,
    pub db: Db,
}

impl AuthService {
    pub async fn build(config: &AuthConfig) -> anyhow::Result<Self> {
        let settings = &config.service;
        let db = store::connect(&settings.database, SCHEMA).await.context("auth database")?;
        let state = AppState {
            db: db.clone(),
            sessions: Sessions::issuer(&config.signing_key, &settings.session_keys, settings.session_ttl),
            cookie_secure: settings.cookie_secure,
            hasher: Hasher::for_this_machine(),
            email_failures: AttemptWindow::new(config.email_failures_per_minute),
            address_failures: AttemptWindow::new(config.address_failures_per_minute),
            address_signups: AttemptWindow::new(config.signups_per_address_per_minute),
        };
        // The web server's signed address for its visitor replaces the one derived at the edge.
        let api = accept_signed_client_address(routes::router(state), config.internal_secret.clone());
        let router = api_layers(api, settings.trusted_proxies);
        Ok(Self { router, db })
    }

    pub fn readiness(&self) -> Readiness {
        Readiness { databases: vec![("auth", self.db.clone())], backbones: Vec::new() }
    }
}

/// The auth service on its own port, as it runs in Kubernetes and in the API tests.
pub async fn application(config: AuthConfig) -> anyhow::Result<Server> {
    let service = AuthService::build(&config).await?;
    let readiness = service.readiness();
    // Its metrics and its description beside the API, on this port only (the ingress routes `/api`).
    let router = service.router.merge(shared::metrics::router()).merge(shared::openapi::router(&routes::openapi()));
    Server::bind("auth", config.service.address(), router, readiness).await
}
