//! HTTP plumbing shared by every service: the body limit, JSON fallbacks, panic safety, request
//! logs, health probes, request metrics and graceful serving.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::EnvReader;
use crate::error::{ApiError, ErrorCode, ErrorItem};
use crate::events::Backbone;
use crate::extract::ClientAddr;
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

/// The client's address, from the TCP `peer` and the `X-Forwarded-For` hops in `headers`, behind
/// `trusted_proxies` proxies of ours.
///
/// The chain is the `X-Forwarded-For` hops, left to right, then the peer. Each proxy of ours
/// appends the address it was called from, so the last `trusted_proxies` entries of the chain
/// are our proxies and the one before them is the client: the address our outermost proxy was
/// called from, the rightmost entry that is not one of ours. Everything further left came with
/// the request and is never believed, however it looks. With 0 trusted proxies the peer is the client. A chain shorter than that did not
/// come through all of our proxies (a caller inside the cluster, such as the web server): its
/// peer is the address. So is an unreadable hop in the client's place.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted_proxies: usize) -> Option<IpAddr> {
    let peer = peer?;
    if trusted_proxies == 0 {
        return Some(peer);
    }
    // Bytes, not `to_str`: a value the client made unreadable must not take the proxies' hops
    // after it out of the count.
    let mut chain: Vec<Option<IpAddr>> =
        headers.get_all("x-forwarded-for").iter().flat_map(|value| value.as_bytes().split(|b| *b == b',')).map(parse_hop).collect();
    chain.push(Some(peer));
    match chain.len().checked_sub(trusted_proxies + 1) {
        Some(client) => chain[client].or(Some(peer)),
        None => Some(peer),
    }
}

/// One `X-Forwarded-For` hop: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop).ok()?.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')).and_then(|h| h.parse::<IpAddr>().ok()))
}

/// Derives the client's address once per request ([`client_address`]) and puts it into the
/// request's extensions, where [`ClientAddr`] (and the web server's server functions) read it.
pub fn derive_client_address(router: Router, trusted_proxies: usize) -> Router {
    router.layer(middleware::from_fn_with_state(trusted_proxies, put_client_address))
}

async fn put_client_address(State(trusted_proxies): State<usize>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let address = client_address(peer, request.headers(), trusted_proxies);
    request.extensions_mut().insert(ClientAddr(address));
    next.run(request).await
}

/// The header the web server names its client's address in when it calls auth.
pub const CLIENT_ADDRESS: &str = "x-client-address";
/// `<unix seconds>.<hex HMAC-SHA256>` of the address and that time, keyed with [`InternalSecret`].
pub const CLIENT_ADDRESS_PROOF: &str = "x-client-address-proof";
/// How old (or how far ahead, for clocks apart) a proof may be.
const PROOF_LIFETIME_SECONDS: u64 = 60;

/// `INTERNAL_SECRET`: shared by the web server and auth only. With it the web server proves that
/// a client address it passes on is the one it derived at its edge, so auth can count a sign-in
/// under the visitor's address instead of the web server's, and nobody else can choose the
/// address auth counts them under.
#[derive(Clone)]
pub struct InternalSecret(Arc<[u8]>);

impl std::fmt::Debug for InternalSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_development() { "InternalSecret(development)" } else { "InternalSecret(..)" })
    }
}

impl InternalSecret {
    /// Shorter secrets are refused.
    pub const MIN_BYTES: usize = 32;
    /// Public, so only for a development run that no other machine reaches.
    const DEVELOPMENT: &'static [u8] = b"ticketing development internal secret: loopback only";

    pub fn new(secret: &[u8]) -> Self {
        Self(Arc::from(secret))
    }

    pub fn development() -> Self {
        Self::new(Self::DEVELOPMENT)
    }

    pub fn is_development(&self) -> bool {
        &*self.0 == Self::DEVELOPMENT
    }

    /// Reads `INTERNAL_SECRET` (at least [`Self::MIN_BYTES`] bytes). Unset, the development
    /// secret, which anyone can read here: refused when `production` or when the process listens
    /// on an address other machines reach (`listening_on` not loopback), as the development
    /// session keys are.
    pub fn read(env: &mut EnvReader, production: bool, listening_on: IpAddr) -> Self {
        let refused = if production {
            Some("APP_ENV=production".to_string())
        } else if !listening_on.is_loopback() {
            Some(format!("listening on {listening_on}, which is not a loopback address"))
        } else {
            None
        };
        match env.raw("INTERNAL_SECRET").map(|secret| secret.trim().to_string()) {
            Some(secret) if secret.len() < Self::MIN_BYTES => {
                env.problem(format!("INTERNAL_SECRET is too short: at least {} bytes", Self::MIN_BYTES));
                Self::development()
            }
            Some(secret) => {
                let secret = Self::new(secret.as_bytes());
                if let (true, Some(why)) = (secret.is_development(), &refused) {
                    env.problem(format!("INTERNAL_SECRET is the built-in development secret, which is refused when {why}"));
                }
                secret
            }
            None => {
                if let Some(why) = refused {
                    env.problem(format!(
                        "INTERNAL_SECRET is required when {why}: the same secret for the web server and auth (at least {} bytes), so that only the web server can tell auth its client's address",
                        Self::MIN_BYTES
                    ));
                }
                Self::development()
            }
        }
    }

    fn mac(&self, address: &str, issued: &str) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).ok()?;
        mac.update(b"ticketing client address v1\n");
        mac.update(address.as_bytes());
        mac.update(b"\n");
        mac.update(issued.as_bytes());
        Some(mac)
    }

    /// The headers that name `address` as the client's to auth, with their proof.
    pub fn client_address_headers(&self, address: IpAddr) -> Vec<(&'static str, String)> {
        self.client_address_headers_at(address, unix_now())
    }

    /// As [`Self::client_address_headers`], issued at `now` (Unix seconds).
    pub fn client_address_headers_at(&self, address: IpAddr, now: u64) -> Vec<(&'static str, String)> {
        let address = address.to_string();
        let issued = now.to_string();
        let Some(mac) = self.mac(&address, &issued) else {
            return Vec::new();
        };
        let tag: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        vec![(CLIENT_ADDRESS, address), (CLIENT_ADDRESS_PROOF, format!("{issued}.{tag}"))]
    }

    /// The address in [`CLIENT_ADDRESS`], if [`CLIENT_ADDRESS_PROOF`] proves this secret signed
    /// it within [`PROOF_LIFETIME_SECONDS`] of `now`; each header exactly once.
    pub fn verified_client_address(&self, headers: &HeaderMap, now: u64) -> Option<IpAddr> {
        let address = single(headers, CLIENT_ADDRESS)?;
        let (issued, tag) = single(headers, CLIENT_ADDRESS_PROOF)?.split_once('.')?;
        let issued_at: u64 = issued.parse().ok()?;
        if now.abs_diff(issued_at) > PROOF_LIFETIME_SECONDS {
            return None;
        }
        let tag = from_hex(tag)?;
        self.mac(address, issued)?.verify_slice(&tag).ok()?;
        address.parse().ok()
    }
}

/// A header's value when it is present exactly once.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| text.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Auth only: a request that names its client in [`CLIENT_ADDRESS`] with a valid proof (the web
/// server, for its visitor) is counted under that address; any other keeps the address derived
/// at the edge, and a name without a valid proof is ignored. Apply inside [`api_layers`], so this
/// runs after the edge's derivation.
pub fn accept_signed_client_address(router: Router, secret: InternalSecret) -> Router {
    router.layer(middleware::from_fn_with_state(secret, signed_client_address))
}

async fn signed_client_address(State(secret): State<InternalSecret>, mut request: Request, next: Next) -> Response {
    let named = request.headers().contains_key(CLIENT_ADDRESS) || request.headers().contains_key(CLIENT_ADDRESS_PROOF);
    if named {
        match secret.verified_client_address(request.headers(), unix_now()) {
            Some(address) => {
                request.extensions_mut().insert(ClientAddr(Some(address)));
            }
            None => tracing::warn!(
                "a client address without a valid proof was ignored (forged, stale, or INTERNAL_SECRET differs between the web server and auth)"
            ),
        }
    }
    next.run(request).await
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
    // 40 ms: every server-rendered page paid it, 23 pages a second on one connection.
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

    fn forwarded(hops: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for hop in hops {
            headers.append("x-forwarded-for", HeaderValue::from_str(hop).expect("a header value"));
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_x_forwarded_for_says() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(client_address(Some(ip("198.51.100.7")), &headers, 0), Some(ip("198.51.100.7")));
        assert_eq!(client_address(None, &headers, 0), None);
    }

    #[test]
    fn behind_one_proxy_the_client_is_the_hop_it_appended_never_the_leftmost() {
        let ingress = Some(ip("10.0.0.2"));
        // What the ingress sends on for a client that sent no X-Forwarded-For.
        assert_eq!(client_address(ingress, &forwarded(&["198.51.100.7"]), 1), Some(ip("198.51.100.7")));
        // A client that forged hops: they stay on the left, the ingress's hop is still the last.
        let forged = forwarded(&["1.2.3.4, 5.6.7.8, 198.51.100.7"]);
        assert_eq!(client_address(ingress, &forged, 1), Some(ip("198.51.100.7")));
        // The same with the forged hops in a header line of their own.
        let forged = forwarded(&["1.2.3.4", "198.51.100.7"]);
        assert_eq!(client_address(ingress, &forged, 1), Some(ip("198.51.100.7")));
        // Garbage on the left neither shifts the count nor takes the place.
        let garbage = forwarded(&["not an address,, [::1]:80, 198.51.100.7"]);
        assert_eq!(client_address(ingress, &garbage, 1), Some(ip("198.51.100.7")));
    }

    #[test]
    fn behind_two_proxies_the_client_is_the_second_address_from_the_right() {
        let headers = forwarded(&["1.2.3.4, 198.51.100.7:4711, 10.0.0.9"]);
        assert_eq!(client_address(Some(ip("10.0.0.2")), &headers, 2), Some(ip("198.51.100.7")));
        let v6 = forwarded(&["[2001:db8::1]:443, 10.0.0.9"]);
        assert_eq!(client_address(Some(ip("10.0.0.2")), &v6, 2), Some(ip("2001:db8::1")));
    }

    #[test]
    fn a_chain_shorter_than_the_trusted_proxies_is_taken_at_its_peer() {
        // A caller inside the cluster (the web server calling auth) sends no X-Forwarded-For.
        assert_eq!(client_address(Some(ip("10.0.0.5")), &HeaderMap::new(), 1), Some(ip("10.0.0.5")));
        assert_eq!(client_address(Some(ip("10.0.0.5")), &forwarded(&["1.2.3.4"]), 2), Some(ip("10.0.0.5")));
        // An unreadable hop in the client's place: the peer, not a guess further left.
        assert_eq!(client_address(Some(ip("10.0.0.2")), &forwarded(&["1.2.3.4, unknown"]), 1), Some(ip("10.0.0.2")));
    }

    fn headers_of(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        headers
    }

    #[test]
    fn a_signed_client_address_verifies_with_the_same_secret_only() {
        let secret = InternalSecret::new(&[7; 32]);
        let now = 1_800_000_000;
        let headers = headers_of(&secret.client_address_headers_at(ip("198.51.100.7"), now));
        assert_eq!(secret.verified_client_address(&headers, now), Some(ip("198.51.100.7")));
        assert_eq!(secret.verified_client_address(&headers, now + PROOF_LIFETIME_SECONDS), Some(ip("198.51.100.7")));
        assert_eq!(InternalSecret::new(&[8; 32]).verified_client_address(&headers, now), None, "another secret");
        assert_eq!(InternalSecret::development().verified_client_address(&headers, now), None, "the development secret");
        assert_eq!(secret.verified_client_address(&headers, now + PROOF_LIFETIME_SECONDS + 1), None, "stale");
    }

    #[test]
    fn a_client_address_without_its_own_proof_is_refused() {
        let secret = InternalSecret::new(&[7; 32]);
        let now = 1_800_000_000;
        let signed = secret.client_address_headers_at(ip("198.51.100.7"), now);
        let proof = signed[1].1.clone();
        // The proof of one address does not carry another.
        let swapped = headers_of(&[(CLIENT_ADDRESS, "203.0.113.9".to_string()), (CLIENT_ADDRESS_PROOF, proof.clone())]);
        assert_eq!(secret.verified_client_address(&swapped, now), None);
        // No proof, a malformed one, a moved timestamp, or a second address: refused.
        assert_eq!(secret.verified_client_address(&headers_of(&signed[..1]), now), None);
        let malformed = headers_of(&[(CLIENT_ADDRESS, "198.51.100.7".to_string()), (CLIENT_ADDRESS_PROOF, "zz".to_string())]);
        assert_eq!(secret.verified_client_address(&malformed, now), None);
        let (_, tag) = proof.split_once('.').expect("issued.tag");
        let moved = headers_of(&[(CLIENT_ADDRESS, "198.51.100.7".to_string()), (CLIENT_ADDRESS_PROOF, format!("{}.{tag}", now + 1))]);
        assert_eq!(secret.verified_client_address(&moved, now), None);
        let mut twice = headers_of(&signed);
        twice.append(CLIENT_ADDRESS, HeaderValue::from_static("203.0.113.9"));
        assert_eq!(secret.verified_client_address(&twice, now), None);
    }

    fn read_secret(vars: &[(&str, &str)], production: bool, host: &str) -> Result<InternalSecret, crate::config::ConfigError> {
        let mut env = EnvReader::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let secret = InternalSecret::read(&mut env, production, ip(host));
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
