//! The web server: renders the Leptos app, serves the browser bundle, and on one machine (feature
//! `embedded`) runs every service in this process and answers their `/api` routes on the same
//! port, as the ingress does in Kubernetes. With `METRICS_ADDR` it serves `/metrics` on a
//! listener of its own: the site's port is public, and on one machine the one recorder of this
//! process holds every embedded service's metrics too.
use std::net::SocketAddr;

use anyhow::Context;
use app::{shell, App};
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use shared::http::{health_routes, serve};
use shared::ApiError;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

mod live;
mod openapi;
mod security;
mod services;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Each worker thread's stack. Tokio's 2 MiB default left the debug build (the one the journeys
/// run) a thin margin: on one machine a request runs the web server's layers, a server function,
/// and the embedded service's handler with its extractors in one task, and its futures are
/// large before optimisation; one more layer or lookup overflowed it. A stack is reserved, not
/// used: the cost is address space.
const WORKER_STACK: usize = 8 << 20;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK)
        .build()
        .context("starting the runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    // Before the services start, so that their first events are recorded.
    shared::metrics::install();
    let conf = get_configuration(None).context("reading the Leptos configuration")?;
    let options = conf.leptos_options;
    let address: SocketAddr = options.site_addr;

    let services = services::start(address).await?;
    let api = services.api.clone();
    // The pages' live updates: one NATS subscription for every browser's stream (live.rs).
    let live = live::Live::start(api.clone()).await?;
    let backbones: Vec<_> = services.readiness.backbones.iter().map(|(_, backbone)| backbone.clone()).collect();

    let routes = generate_route_list(App);
    let context = {
        let api = api.clone();
        move || {
            provide_context(api.clone());
            security::provide_request_nonce();
            // Called in the request's span: its trace, for the page's calls to the services.
            provide_context(app::api::ssr::RequestTrace::current());
        }
    };
    let app = Router::new()
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(security::provide_request_nonce, shell))
        .with_state(options)
        .merge(services.router)
        .merge(openapi::router(services.openapi))
        .merge(live.router())
        // Unknown `/api` paths get the API's JSON 404, everything else the app's HTML 404.
        .route("/api/{*rest}", any(|| async { ApiError::NotFound }))
        .layer(middleware::from_fn(reject_cross_site))
        .layer(answers_compressed())
        // A span per request, the root of its trace: this is the public edge, where a caller's
        // `traceparent` is not adopted.
        .layer(TraceLayer::new_for_http().make_span_with(shared::telemetry::edge_request_span));
    // The client's address derived once, the Content-Security-Policy and the other headers.
    let app = security::layers(app, &services.edge)
        // Probes stay out of the request log: a 503 while the services start is not an error.
        .merge(health_routes(services.readiness));
    // Every answer of this port, the embedded services' `/api` routes included (they are this
    // server's routes on one machine), counted as the web's; static files and the 404 page are
    // the fallback's, `route="unmatched"`.
    let app = shared::metrics::track_requests(app, "web");

    if let Some(metrics_address) = services.metrics {
        let listener =
            tokio::net::TcpListener::bind(metrics_address).await.with_context(|| format!("binding METRICS_ADDR {metrics_address}"))?;
        let bound = listener.local_addr().map_or_else(|_| metrics_address.to_string(), |a| a.to_string());
        tracing::info!(address = %bound, "metrics on http://{bound}/metrics");
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, shared::metrics::router()).await {
                tracing::error!(%error, "the metrics listener stopped");
            }
        });
    }

    let listener = tokio::net::TcpListener::bind(address).await.with_context(|| format!("binding {address}"))?;
    tracing::info!(%address, "listening on http://{address}");
    serve(listener, app).await?;
    shared::http::drain(&backbones).await;
    shared::telemetry::shutdown();
    Ok(())
}

/// Gzip and nothing else, said in code rather than left to Cargo features: the test build unifies
/// tower-http's features with the SurrealDB server's (`compression-full`), and a layer that
/// offers whatever is compiled in answered Brotli there and gzip in the shipped build. Gzip is
/// the one every client decodes (an HTTP library that forwards a browser's `Accept-Encoding`
/// may not know Brotli) and costs little per answer; the bundle's files are precompressed in
/// both encodings and served as they are.
fn answers_compressed() -> CompressionLayer {
    CompressionLayer::new().no_br().no_deflate().no_zstd()
}

/// Server functions (`/_fn/…`) take form posts, which any site could send: refuse those that the
/// browser says came from elsewhere (`Sec-Fetch-Site`) or whose `Origin` is not this host.
async fn reject_cross_site(request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/_fn/") && is_cross_site(request.headers()) {
        tracing::warn!(uri = %request.uri(), "cross-site server function call refused");
        return (StatusCode::FORBIDDEN, "Cross-site requests are not allowed").into_response();
    }
    next.run(request).await
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Neither header: not a browser (curl, a test). Cookies are SameSite=Lax besides.
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    origin == "null" || origin_host != host
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn same_origin_posts_pass() {
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!is_cross_site(&headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")])));
        assert!(!is_cross_site(&headers(&[])));
    }

    #[test]
    fn cross_site_posts_are_refused() {
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(is_cross_site(&headers(&[("origin", "https://evil.example"), ("host", "127.0.0.1:3000")])));
        assert!(is_cross_site(&headers(&[("origin", "null"), ("host", "127.0.0.1:3000")])));
    }
}
