//! HTTP plumbing shared by every service: the body limit, JSON fallbacks, panic safety, request
//! logs, health probes and graceful serving.
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::events::Backbone;
use crate::extract::TrustProxy;
use crate::store::Db;

/// Request bodies over this are a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Wraps a service's API routes: a wrong method on a known path answers in the API's error
/// shape (carried by each route, so it holds wherever the router is merged), 413 before anything
/// else looks at the request, a JSON 500 for a panic, a span per request, and the proxy trust
/// setting for [`crate::extract::ClientAddr`].
pub fn api_layers(router: Router, trust_proxy: bool) -> Router {
    router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(reject_large_bodies))
        .layer(axum::Extension(TrustProxy(trust_proxy)))
        .layer(CatchPanicLayer::custom(|_| ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()))
        .layer(TraceLayer::new_for_http())
}

/// Bodies up to this size are read (and dropped) before a 413 goes out.
const DRAIN_BYTES: usize = 1024 * 1024;

/// A declared length over the limit is refused before authentication or parsing runs. The body
/// is read first when it is not huge: a server that answers and closes with the body unread
/// resets the connection, and a proxy still sending it (an ingress) then answers 502 instead of
/// our 413. Larger bodies are the ingress's to refuse (its own limit is 1 MiB by default).
async fn reject_large_bodies(request: Request, next: Next) -> Response {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES => {
            if length <= DRAIN_BYTES {
                let _ = axum::body::to_bytes(request.into_body(), DRAIN_BYTES).await;
            }
            ApiError::PayloadTooLarge.into_response()
        }
        _ => next.run(request).await,
    }
}

/// Unknown routes answer in the API's error shape.
pub fn api_fallbacks(router: Router) -> Router {
    router.fallback(|| async { ApiError::NotFound })
}

/// What `/readyz` looks at. Ready means able to serve requests: every database reachable.
/// NATS is reported but does not decide: while it is away, writes wait in the outbox and events
/// wait in the stream, so taking every replica out of service for a NATS blip would turn a
/// delay nobody notices into an outage.
#[derive(Clone, Default)]
pub struct Readiness {
    pub databases: Vec<(&'static str, Db)>,
    pub backbones: Vec<(&'static str, Backbone)>,
}

/// How long a database may take to answer a health check.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

impl Readiness {
    /// The name of each database that is not reachable.
    pub async fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for (name, db) in &self.databases {
            if !database_reachable(db).await {
                failures.push(format!("database of {name} unreachable"));
            }
        }
        failures
    }

    /// Each backbone's state: `connected`, or why it is not usable.
    pub fn nats(&self) -> serde_json::Map<String, serde_json::Value> {
        self.backbones
            .iter()
            .map(|(name, backbone)| (name.to_string(), serde_json::json!(backbone.problem().unwrap_or_else(|| "connected".to_string()))))
            .collect()
    }

    /// Everything both readinesses check.
    pub fn merge(mut self, other: Readiness) -> Self {
        self.databases.extend(other.databases);
        self.backbones.extend(other.backbones);
        self
    }
}

/// True when the database answers a health check in time.
pub async fn database_reachable(db: &Db) -> bool {
    matches!(tokio::time::timeout(HEALTH_TIMEOUT, db.health()).await, Ok(Ok(())))
}

/// `/healthz` (the process is up) and `/readyz` (it can serve requests; NATS's state reported).
pub fn health_routes(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route("/readyz", get(ready))
        .with_state(readiness)
}

async fn ready(State(readiness): State<Readiness>) -> Response {
    let failures = readiness.failures().await;
    let nats = readiness.nats();
    if failures.is_empty() {
        Json(serde_json::json!({ "status": "ready", "nats": nats })).into_response()
    } else {
        let errors: Vec<_> = failures.iter().map(|f| serde_json::json!({ "message": f })).collect();
        let body = serde_json::json!({ "status": "unavailable", "errors": errors, "nats": nats });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// Serves until Ctrl-C or SIGTERM, then lets in-flight requests finish. Peer addresses are kept
/// for the rate limits.
pub async fn serve(listener: TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown_signal()).await
}

/// How long the event work may take to stop, within Kubernetes' default 30 s grace period (the
/// pre-stop pause and the HTTP drain come first).
pub const DRAIN_WITHIN: Duration = Duration::from_secs(15);

/// Stops the consumers after the event in hand and publishes the committed outbox.
pub async fn drain(backbones: &[Backbone]) {
    let drained = futures_util::future::join_all(backbones.iter().map(|b| b.drain.drain(DRAIN_WITHIN))).await;
    if drained.iter().all(|done| *done) {
        tracing::info!("event work drained");
    } else {
        tracing::warn!("event work still running after {DRAIN_WITHIN:?}; unacked events will be redelivered");
    }
}

/// Resolves on Ctrl-C or SIGTERM (what Kubernetes sends before killing a pod).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutdown signal received: draining in-flight requests");
}

/// A service on its own port: its API routes, health probes and JSON fallbacks.
pub struct Server {
    listener: TcpListener,
    router: Router,
    backbones: Vec<Backbone>,
}

impl Server {
    pub async fn bind(address: SocketAddr, api: Router, readiness: Readiness) -> anyhow::Result<Self> {
        let backbones = readiness.backbones.iter().map(|(_, backbone)| backbone.clone()).collect();
        let router = api_fallbacks(api.merge(health_routes(readiness)));
        let listener = TcpListener::bind(address).await.map_err(|e| anyhow::anyhow!("binding {address}: {e}"))?;
        Ok(Self { listener, router, backbones })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until SIGTERM or Ctrl-C, lets in-flight requests finish, then drains the event work.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        serve(self.listener, self.router).await?;
        drain(&self.backbones).await;
        Ok(())
    }
}
