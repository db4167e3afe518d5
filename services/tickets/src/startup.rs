//! Wiring: database, event backbone (outbox relay and consumer), routes.
use anyhow::Context;
use axum::Router;
use shared::events::Backbone;
use shared::http::{api_layers, Readiness, Server};
use shared::session::{Revocations, Sessions};
use shared::store::{self, Db};

use crate::config::TicketsConfig;
use crate::listing::Listing;
use crate::routes::{self, AppState};
use crate::{events, store as tickets_store};

/// The service's routes and what its readiness depends on, ready to be served alone or mounted
/// in the single-machine web server.
pub struct TicketsService {
    pub router: Router,
    pub db: Db,
    pub backbone: Backbone,
}

impl TicketsService {
    pub async fn build(config: &TicketsConfig) -> anyhow::Result<Self> {
        let db = store::connect(&config.service.database, &tickets_store::schema()).await.context("tickets database")?;
        Self::on_database(config, db).await
    }

    /// A replica on a database already connected: the API tests run two replicas on one
    /// in-memory database, as Kubernetes runs several on one server.
    pub async fn on_database(config: &TicketsConfig, db: Db) -> anyhow::Result<Self> {
        let settings = &config.service;
        let backbone = Backbone::connect(&config.nats, "tickets").await?;
        backbone.spawn_relay(db.clone());
        // One cache of the lists, made stale by this replica's writes (routes and events) and by
        // the other replicas' events.
        let listing = Listing::new();
        listing.spawn_listener(backbone.client.clone());
        let (consumer_db, consumer_listing) = (db.clone(), listing.clone());
        backbone.spawn_consumer(events::consumer(&db), move |delivery| {
            let (db, listing) = (consumer_db.clone(), consumer_listing.clone());
            async move { events::handle(db, move || listing.invalidate(), delivery).await }
        });
        let state = AppState {
            db: db.clone(),
            sessions: Sessions::verifier(&settings.session_keys).with_revocations(Revocations::from_nats(backbone.client.clone())),
            backbone: backbone.clone(),
            listing,
        };
        let router = api_layers(routes::router(state), settings.trusted_proxies);
        Ok(Self { router, db, backbone })
    }

    pub fn readiness(&self) -> Readiness {
        Readiness { databases: vec![("tickets", self.db.clone())], backbones: vec![("tickets", self.backbone.clone())] }
    }
}

/// The tickets service on its own port, as it runs in Kubernetes and in the API tests.
pub async fn application(config: TicketsConfig) -> anyhow::Result<Server> {
    let service = TicketsService::build(&config).await?;
    let readiness = service.readiness();
    // Its metrics and its description beside the API, on this port only (the ingress routes `/api`).
    let router = service.router.merge(shared::metrics::router()).merge(shared::openapi::router(&routes::openapi()));
    Server::bind("tickets", config.service.address(), router, readiness).await
}
