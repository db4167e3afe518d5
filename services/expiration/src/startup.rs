//! Wiring: the event backbone and its consumer, the health probes and metrics.
use shared::events::Backbone;
use shared::http::{Readiness, Server};

use crate::config::ExpirationConfig;
use crate::events;

pub struct ExpirationService {
    pub backbone: Backbone,
}

impl ExpirationService {
    pub async fn build(config: &ExpirationConfig) -> anyhow::Result<Self> {
        let backbone = Backbone::connect(&config.nats, "expiration").await?;
        let js = backbone.js.clone();
        backbone.spawn_consumer(events::consumer(), move |delivery| {
            let js = js.clone();
            async move { events::handle(&js, delivery).await }
        });
        Ok(Self { backbone })
    }

    pub fn readiness(&self) -> Readiness {
        Readiness { databases: Vec::new(), backbones: vec![("expiration", self.backbone.clone())] }
    }
}

/// The expiration service on its own port (health probes and metrics only), as it runs in
/// Kubernetes.
pub async fn application(config: ExpirationConfig) -> anyhow::Result<Server> {
    let service = ExpirationService::build(&config).await?;
    let readiness = service.readiness();
    Server::bind("expiration", config.process.address(), shared::metrics::router(), readiness).await
}
