//! HTTP plumbing shared by every service: the body limit, JSON fallbacks, panic safety, request
//! logs, health probes, request metrics and graceful serving.
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::env::EnvReader;
use crate::error::{ApiError, ErrorCode, ErrorItem};
use crate::events::Backbone;
use crate::store::Db;

/// Request bodies over this are a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Wraps a service's API routes: a wrong method on a known path answers in the API's error
/// shape (carried by each route, so it holds wherever the router is merged), 413 before anything
/// else looks at the request, the client's address derived at the edge for
/// [`ClientAddr`] (behind `trusted_proxies` proxies of ours, see [`client_address`]), a JSON 500
/// for a panic, `X-Content-Type-Options: nosniff` on every answer, and a span per request that
/// joins the caller's trace ([`crate::telemetry::request_span`]).
pub fn api_layers(router: Router, trusted_proxies: usize) -> Router {
    let router = router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(reject_large_bodies));
    nosniff(
        derive_client_address(router, trusted_proxies)
            .layer(CatchPanicLayer::custom(|_| ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response())),
    )
    .layer(TraceLayer::new_for_http().make_span_with(crate::telemetry::request_span))
}

/// `X-Content-Type-Options: nosniff` on every answer: a browser never reads a JSON answer (or
/// anything else) as another type than the one it is declared with.
pub fn nosniff(router: Router) -> Router {
    router.layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// `TRUSTED_PROXIES`: how many proxies of ours stand in front of this process (the ingress
/// controller: 1), each appending the address it was called from to `X-Forwarded-For`. Default 0:
/// the TCP peer is the client and `X-Forwarded-For` is ignored. The boolean `TRUST_PROXY` it
/// replaces is refused rather than ignored: ignoring it would silently put every client of a
/// deployment that still sets it under its proxy's address.
pub fn read_trusted_proxies(env: &mut EnvReader) -> usize {
    if env.raw("TRUST_PROXY").is_some() {
        env.problem("TRUST_PROXY is no longer read: set TRUSTED_PROXIES to the number of proxies in front (1 behind the ingress)");
    }
    env.or("TRUSTED_PROXIES", 0, "a number of proxies in front (0: the peer is the client)")
}

pub use edge::client_address::{
    accept_signed_client_address, client_address, derive_client_address, InternalSecret, CLIENT_ADDRESS, CLIENT_ADDRESS_PROOF,
};

/// Reads `INTERNAL_SECRET` (at least [`InternalSecret::MIN_BYTES`] bytes). Unset, the development
/// secret, which anyone can read here: refused when `production` or when the process listens
/// on an address other machines reach (`listening_on` not loopback), as the development
/// session keys are.
pub fn read_internal_secret(env: &mut EnvReader, production: bool, listening_on: IpAddr) -> InternalSecret {
    let refused = if production {
        Some("APP_ENV=production".to_string())
    } else if !listening_on.is_loopback() {
        Some(format!("listening on {listening_on}, which is not a loopback address"))
    } else {
        None
    };
    match env.raw("INTERNAL_SECRET").map(|secret| secret.trim().to_string()) {
        Some(secret) if secret.len() < InternalSecret::MIN_BYTES => {
            env.problem(format!("INTERNAL_SECRET is too short: at least {} bytes", InternalSecret::MIN_BYTES));
            InternalSecret::development()
        }
        Some(secret) => {
            let secret = InternalSecret::new(secret.as_bytes());
            if let (true, Some(why)) = (secret.is_development(), &refused) {
                env.problem(format!("INTERNAL_SECRET is the built-in development secret, which is refused when {why}"));
            }
            secret
        }
        None => {
            if let Some(why) = refused {
                env.problem(format!(
                    "INTERNAL_SECRET is required when {why}: the same secret for the web server and auth (at least {} bytes), so that only the web server can tell auth its client's address",
                    InternalSecret::MIN_BYTES
                ));
            }
            InternalSecret::development()
        }
    }
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

pub use crate::store::reachable as database_reachable;

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
        let errors: Vec<_> = failures.into_iter().map(|f| ErrorItem::new(ErrorCode::DatabaseUnavailable, f)).collect();
        let body = serde_json::json!({ "status": "unavailable", "errors": errors, "nats": nats });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// Serves until Ctrl-C or SIGTERM, then lets in-flight requests finish. Peer addresses are kept
/// for the rate limits.
pub async fn serve(listener: TcpListener, router: Router) -> std::io::Result<()> {
    // Nagle's algorithm holds a response's second small write (a streamed page's next chunk)
    // until the first is acknowledged, and the client delays that acknowledgement by up to
    // 40 ms: every server-rendered page paid it (docs/benchmarks.md).
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY could not be set");
        }
    });
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

/// A service on its own port: its API routes, health probes and JSON fallbacks, every answer
/// counted under `service` (see [`crate::metrics`]).
pub struct Server {
    listener: TcpListener,
    router: Router,
    backbones: Vec<Backbone>,
}

impl Server {
    /// `api` brings its own `/metrics` ([`crate::metrics::router`], or one that adds to it): the
    /// routes the single-machine web server merges must not have it, since its port is public.
    pub async fn bind(service: &'static str, address: SocketAddr, api: Router, readiness: Readiness) -> anyhow::Result<Self> {
        let backbones = readiness.backbones.iter().map(|(_, backbone)| backbone.clone()).collect();
        // Counted last, so that unmatched requests (the fallback) and final statuses are too.
        let router = crate::metrics::track_requests(nosniff(api_fallbacks(api.merge(health_routes(readiness)))), service);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn read_secret(vars: &[(&str, &str)], production: bool, host: &str) -> Result<InternalSecret, crate::config::ConfigError> {
        let mut env = EnvReader::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let secret = read_internal_secret(&mut env, production, ip(host));
        env.finish().map(|()| secret)
    }

    #[test]
    fn the_development_internal_secret_is_refused_beyond_loopback_and_in_production() {
        assert!(read_secret(&[], false, "127.0.0.1").expect("fine on loopback").is_development());
        assert!(read_secret(&[], false, "::1").is_ok());
        let error = read_secret(&[], false, "0.0.0.0").unwrap_err().to_string();
        assert!(error.contains("INTERNAL_SECRET is required"), "{error}");
        assert!(read_secret(&[], true, "127.0.0.1").unwrap_err().to_string().contains("APP_ENV=production"));
        let development = std::str::from_utf8(InternalSecret::DEVELOPMENT).expect("text");
        assert!(read_secret(&[("INTERNAL_SECRET", development)], false, "10.1.2.3").is_err(), "named, it is refused all the same");
        assert!(read_secret(&[("INTERNAL_SECRET", "short")], false, "127.0.0.1").unwrap_err().to_string().contains("too short"));
        let real = "r".repeat(40);
        assert!(!read_secret(&[("INTERNAL_SECRET", &real)], true, "0.0.0.0").expect("a real secret").is_development());
    }

    #[test]
    fn the_old_boolean_trust_proxy_is_refused_not_ignored() {
        let mut env = EnvReader::from_map([("TRUST_PROXY".to_string(), "true".to_string())].into_iter().collect());
        assert_eq!(read_trusted_proxies(&mut env), 0);
        assert!(env.finish().unwrap_err().to_string().contains("TRUSTED_PROXIES"));
        let mut env = EnvReader::from_map([("TRUSTED_PROXIES".to_string(), "2".to_string())].into_iter().collect());
        assert_eq!(read_trusted_proxies(&mut env), 2);
        assert!(env.finish().is_ok());
    }
}
