//! Wiring: database, event backbone (outbox relay and consumer), routes.
use anyhow::Context;
use axum::Router;
use shared::events::Backbone;
use shared::http::{api_layers, Readiness, Server};
use shared::session::{Revocations, Sessions};
use shared::store::{self, Db};

use crate::config::OrdersConfig;
use crate::routes::{self, AppState};
use crate::{events, store as orders_store};

/// The service's routes and what its readiness depends on, ready to be served alone or mounted
/// in the single-machine web server.
pub struct OrdersService {
    pub router: Router,
    pub db: Db,
    pub backbone: Backbone,
}

impl OrdersService {
    pub async fn build(config: &OrdersConfig) -> anyhow::Result<Self> {
        let settings = &config.service;
        let db = store::connect(&settings.database, &orders_store::schema()).await.context("orders database")?;
        let backbone = Backbone::connect(&config.nats, "orders").await?;
        backbone.spawn_relay(db.clone());
        let consumer_db = db.clone();
        backbone.spawn_consumer(events::consumer(&db), move |delivery| events::handle(consumer_db.clone(), delivery));
        let state = AppState {
            db: db.clone(),
            sessions: Sessions::verifier(&settings.session_keys).with_revocations(Revocations::from_nats(backbone.client.clone())),
            backbone: backbone.clone(),
            expiration_window: config.expiration_window,
            max_holds: config.max_holds_per_buyer,
            turns: Default::default(),
        };
        let router = api_layers(routes::router(state), settings.trusted_proxies);
        Ok(Self { router, db, backbone })
    }

    pub fn readiness(&self) -> Readiness {
        Readiness { databases: vec![("orders", self.db.clone())], backbones: vec![("orders", self.backbone.clone())] }
    }
}

/// The orders service on its own port, as it runs in Kubernetes and in the API tests.
pub async fn application(config: OrdersConfig) -> anyhow::Result<Server> {
    let service = OrdersService::build(&config).await?;
    let readiness = service.readiness();
    // Its metrics and its description beside the API, on this port only (the ingress routes `/api`).
    let router = service.router.merge(shared::metrics::router()).merge(shared::openapi::router(&routes::openapi()));
    Server::bind("orders", config.service.address(), router, readiness).await
}
