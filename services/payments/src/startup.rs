//! Wiring: database, Stripe, event backbone (outbox relay and consumer), refunds, the attempts'
//! reconciler, routes.
use anyhow::Context;
use axum::Router;
use shared::events::Backbone;
use shared::http::{api_layers, Readiness, Server};
use shared::session::{Revocations, Sessions};
use shared::store::{self, Db};

use crate::attempts::Attempts;
use crate::config::PaymentsConfig;
use crate::gateway::Gateway;
use crate::refunds::Refunder;
use crate::routes::{self, AppState};
use crate::{events, store as payments_store};

/// The service's routes and what its readiness depends on, ready to be served alone or mounted
/// in the single-machine web server.
pub struct PaymentsService {
    pub router: Router,
    pub db: Db,
    pub backbone: Backbone,
    pub gateway: Gateway,
    /// The charge flow, for a test that drives it without HTTP.
    pub attempts: Attempts,
}

impl PaymentsService {
    pub async fn build(config: &PaymentsConfig) -> anyhow::Result<Self> {
        let settings = &config.service;
        let db = store::connect(&settings.database, &payments_store::schema()).await.context("payments database")?;
        let gateway = Gateway::new(&config.stripe)?;
        match &config.stripe.api_base {
            Some(base) => {
                tracing::info!(api = %base, test_mode = gateway.test_mode(), "payments go to a Stripe double")
            }
            None => tracing::info!(test_mode = gateway.test_mode(), "payments go to Stripe"),
        }
        let backbone = Backbone::connect(&config.nats, "payments").await?;
        backbone.spawn_relay(db.clone());
        let refunder = Refunder::default();
        refunder.spawn(db.clone(), gateway.clone());
        let attempts = Attempts {
            db: db.clone(),
            gateway: gateway.clone(),
            refunder: refunder.clone(),
            reconcile_after: config.stripe.reconcile_after,
            deadline_wait: config.stripe.deadline_wait,
            declines: config.declines,
        };
        let consumer_attempts = attempts.clone();
        backbone.spawn_consumer(events::consumer(&db), move |delivery| {
            let (attempts, on_cancel) = (consumer_attempts.clone(), refunder.clone());
            async move { events::handle(&attempts, move || on_cancel.wake(), delivery).await }
        });
        attempts.spawn_reconciler();
        let state = AppState {
            sessions: Sessions::verifier(&settings.session_keys).with_revocations(Revocations::from_nats(backbone.client.clone())),
            attempts: attempts.clone(),
            webhook_secret: config.stripe.webhook_secret.clone(),
        };
        let router = api_layers(routes::router(state), settings.trusted_proxies);
        Ok(Self { router, db, backbone, gateway, attempts })
    }

    pub fn readiness(&self) -> Readiness {
        Readiness { databases: vec![("payments", self.db.clone())], backbones: vec![("payments", self.backbone.clone())] }
    }
}

/// The payments service on its own port, as it runs in Kubernetes and in the API tests.
pub async fn application(config: PaymentsConfig) -> anyhow::Result<Server> {
    let service = PaymentsService::build(&config).await?;
    let readiness = service.readiness();
    // Its metrics and its description beside the API, on this port only (the ingress routes `/api`).
    let router = service.router.merge(routes::metrics_router(service.db.clone())).merge(shared::openapi::router(&routes::openapi()));
    Server::bind("payments", config.service.address(), router, readiness).await
}
