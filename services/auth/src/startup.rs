//! Wiring: from configuration to a router, and from a router to a listening server.
use anyhow::Context;
use axum::Router;
use shared::events::Backbone;
use shared::http::{accept_signed_client_address, api_layers, Readiness, Server};
use shared::session::{Revocations, Sessions};
use shared::store::{self, Db};

use crate::config::AuthConfig;
use crate::domain::hashing::Hasher;
use crate::limits;
use crate::routes::{self, AppState};
use crate::store::SCHEMA;

/// The service's routes and what readiness depends on, ready to be served alone or mounted in
/// the single-machine web server.
pub struct AuthService {
    pub router: Router,
    pub db: Db,
    pub backbone: Backbone,
}

impl AuthService {
    pub async fn build(config: &AuthConfig) -> anyhow::Result<Self> {
        let settings = &config.service;
        let db = store::connect(&settings.database, &format!("{SCHEMA}{}{}", limits::SCHEMA, shared::events::outbox::SCHEMA))
            .await
            .context("auth database")?;
        let backbone = Backbone::connect(&config.nats, "auth").await?;
        backbone.spawn_relay(db.clone());
        let sessions = Sessions::issuer(&config.signing_key, &settings.session_keys, settings.session_ttl)
            .with_revocations(Revocations::from_nats(backbone.client.clone()));
        let state = AppState {
            db: db.clone(),
            sessions,
            cookie_secure: settings.cookie_secure,
            hasher: Hasher::for_this_machine(),
            limits: config.limits,
        };
        // The web server's signed address for its visitor replaces the one derived at the edge.
        let api = accept_signed_client_address(routes::router(state), config.internal_secret.clone());
        let router = api_layers(api, settings.trusted_proxies);
        Ok(Self { router, db, backbone })
    }

    pub fn readiness(&self) -> Readiness {
        Readiness { databases: vec![("auth", self.db.clone())], backbones: vec![("auth", self.backbone.clone())] }
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
