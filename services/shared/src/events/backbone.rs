//! One service's connection to the event backbone: the NATS client, the streams, the outbox
//! relay and the durable consumer, each retrying on its own so a service starts (not ready)
//! while NATS is down and recovers when it comes back.
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::Client;

use super::consumer::{self, ConsumerSpec, Delivery, Outcome};
use super::nats::{self, NatsSettings};
use super::outbox;
use crate::store::Db;

#[derive(Clone)]
pub struct Backbone {
    pub client: Client,
    pub js: jetstream::Context,
    /// Stops the relay and the consumers on shutdown.
    pub drain: super::drain::Drain,
    streams_ready: Arc<AtomicBool>,
    /// Labels the relay's metrics.
    service: &'static str,
}

impl Backbone {
    pub async fn connect(settings: &NatsSettings, service: &'static str) -> anyhow::Result<Self> {
        // The relay and the consumers record from their first event on.
        crate::metrics::install();
        let client = nats::connect(settings, service).await?;
        let js = jetstream::new(client.clone());
        let backbone = Self { client, js, drain: super::drain::Drain::default(), streams_ready: Arc::default(), service };
        backbone.spawn_stream_setup(settings.clone(), service.to_string());
        Ok(backbone)
    }

    /// Creates the streams as soon as the server answers, and says once if it is too old.
    fn spawn_stream_setup(&self, settings: NatsSettings, service: String) {
        let (client, js, ready) = (self.client.clone(), self.js.clone(), self.streams_ready.clone());
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                if client.connection_state() == async_nats::connection::State::Connected {
                    if let Some(problem) = nats::version_problem(&client) {
                        tracing::error!(%service, "{problem}");
                    }
                    match nats::ensure_streams(&js, &settings).await {
                        Ok(()) => {
                            ready.store(true, Ordering::Release);
                            tracing::info!(%service, server = %client.server_info().version, "event streams ready");
                            report_stream_fill(js, &settings).await;
                            return;
                        }
                        Err(error) => tracing::warn!(%service, error = format!("{error:#}"), "stream setup failed; retrying"),
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        });
    }

    /// Publishes this service's outbox for as long as the process runs, woken by every commit
    /// on `db` that wrote events.
    pub fn spawn_relay(&self, db: Db) {
        tokio::spawn(outbox::relay(db, self.js.clone(), self.drain.clone(), self.service));
    }

    /// Hands every event on `spec`'s subjects to `handler`, acking after it returns.
    pub fn spawn_consumer<H, F>(&self, spec: ConsumerSpec, handler: H)
    where
        H: Fn(Delivery) -> F + Send + Sync + 'static,
        F: Future<Output = anyhow::Result<Outcome>> + Send + 'static,
    {
        let (js, drain, ready) = (self.js.clone(), self.drain.clone(), self.streams_ready.clone());
        tokio::spawn(async move {
            // A consumer needs its stream: start once the stream setup has made it.
            while !ready.load(Ordering::Acquire) {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                    () = drain.stopped() => return,
                }
            }
            consumer::run(js, spec, handler, drain).await;
        });
    }

    /// Why the backbone is not usable right now, if it is not.
    pub fn problem(&self) -> Option<String> {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Some("NATS unreachable".to_string());
        }
        if let Some(problem) = nats::version_problem(&self.client) {
            return Some(problem);
        }
        (!self.streams_ready.load(Ordering::Acquire)).then(|| "event streams not set up yet".to_string())
    }
}

/// How full each stream is, as gauges, every 15 s for as long as the process runs: at its
/// limit a stream refuses publishes, which then wait in the outboxes
/// ([`nats::stream_configs`]), so the alert fires well before (docs/operations.md).
async fn report_stream_fill(js: jetstream::Context, settings: &NatsSettings) {
    let names: Vec<String> = nats::stream_configs(settings).into_iter().map(|config| config.name).collect();
    loop {
        for name in &names {
            match js.get_stream(name).await {
                Ok(stream) => {
                    let info = stream.cached_info();
                    let stream = name.clone();
                    ::metrics::gauge!("jetstream_stream_bytes", "stream" => stream.clone()).set(info.state.bytes as f64);
                    ::metrics::gauge!("jetstream_stream_max_bytes", "stream" => stream.clone()).set(info.config.max_bytes as f64);
                    ::metrics::gauge!("jetstream_stream_messages", "stream" => stream).set(info.state.messages as f64);
                }
                Err(error) => tracing::debug!(stream = %name, %error, "could not read the stream's state"),
            }
        }
        tokio::time::sleep(STREAM_FILL_EVERY).await;
    }
}

const STREAM_FILL_EVERY: Duration = Duration::from_secs(15);
