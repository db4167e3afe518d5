//! Prometheus metrics: one recorder per process, a `GET /metrics` route that renders it, and the
//! layer that counts HTTP requests. The metrics themselves are recorded where their events happen
//! (the consumer, the outbox relay, the Stripe gateway, …) through the `metrics` facade's
//! `counter!`, `gauge!` and `histogram!`; every one of them is listed in the table under
//! "Metrics" in docs/operations.md.
//!
//! Why one global recorder, installed by [`install`] from wherever it is first needed: on one
//! machine every service runs inside the web server's process, and the API tests run many apps
//! in one test binary. The facade has exactly one recorder per process, so installing is
//! idempotent (a `OnceLock`), and whatever runs in a process shows on every `/metrics` of that
//! process. Each series says where it comes from in its labels (`service`, `consumer`), so the
//! text is the same whichever port it is read on; tests compare one series before and after,
//! never absolute values. Until the recorder is installed the facade drops what is recorded, so
//! everything that records (the routers, the backbone) installs it first.
//!
//! Why the exporter without its HTTP listener: a service already serves HTTP with its probes, and
//! its `/metrics` belongs next to them on the service's own port, which the ingress does not
//! route to (it routes `/api/<service>` only). The web server's own port is routed at `/`, so it
//! serves `/metrics` only on a listener of its own (`METRICS_ADDR`). Rendering ourselves also
//! lets payments append the figures it counts in its database when scraped.
//!
//! Why route templates and a closed set of methods as labels: every distinct label value is a
//! series kept for the life of the process. The raw path (`/api/orders/01J…`) or a made-up
//! method would let any client grow the memory of every process and of Prometheus; the route
//! template (`/api/orders/{id}`) is bounded by the code. Requests that match no route are
//! `route="unmatched"`.
//!
//! Histograms get explicit buckets (without them the exporter renders summaries, which cannot be
//! aggregated across replicas): the `_seconds` ones from 1 ms to 10 s, and the expiry lateness
//! from 0.1 s to 10 min (an order waits for a card in flight at its expiry).
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ::metrics::{counter, describe_counter, describe_gauge, describe_histogram, histogram, Unit};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The content type of Prometheus' text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The `route` of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Buckets of every `_seconds` histogram: an HTTP request, an event handled, a Stripe call.
const SECONDS_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Buckets of `expiry_lateness_seconds`: the spec's second, and the minute a card in flight at
/// the expiry may take (two Stripe calls of 20 s, the reconciler's pass).
const LATENESS_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 300.0, 600.0];

/// How often histogram samples nobody scraped are folded into their buckets, so that a process
/// nobody scrapes does not keep every sample.
const UPKEEP: Duration = Duration::from_secs(5);

/// Installs the process's recorder the first time it is called, and returns a handle that
/// renders it; later calls return the same handle. Safe from every service in one process and
/// from every test in one binary.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(build).clone()
}

fn build() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full("expiry_lateness_seconds".to_string()), LATENESS_BUCKETS)
        .and_then(|builder| builder.set_buckets_for_metric(Matcher::Suffix("_seconds".to_string()), SECONDS_BUCKETS));
    let recorder = match builder {
        Ok(builder) => builder.build_recorder(),
        Err(error) => {
            tracing::warn!(%error, "histogram buckets refused; histograms are rendered as summaries");
            PrometheusBuilder::new().build_recorder()
        }
    };
    let handle = recorder.handle();
    match ::metrics::set_global_recorder(recorder) {
        Ok(()) => describe(),
        // Only another recorder installed by something else gets here: ours then stays empty.
        Err(error) => tracing::warn!(%error, "another metrics recorder is installed; /metrics shows nothing"),
    }
    let upkeep = handle.clone();
    // A thread rather than a task: a test's runtime ends with its test, the recorder does not.
    let spawned = std::thread::Builder::new().name("metrics-upkeep".to_string()).spawn(move || loop {
        std::thread::sleep(UPKEEP);
        upkeep.run_upkeep();
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no metrics upkeep thread: histogram samples are kept until scraped");
    }
    handle
}

/// The `# HELP` line of every metric recorded through the facade (docs/operations.md has the
/// same list, with the labels).
fn describe() {
    describe_counter!("http_requests_total", "HTTP requests answered, by service, method, route template and status.");
    describe_histogram!("http_request_duration_seconds", Unit::Seconds, "Time to answer an HTTP request, by service, method and route.");
    describe_counter!("events_handled_total", "Event deliveries handled by a durable consumer, by subject and outcome.");
    describe_counter!("events_redelivered_total", "Event deliveries that were not the first delivery of their event.");
    describe_counter!("events_dead_lettered_total", "Events moved to the dead-letter stream.");
    describe_histogram!("event_handle_duration_seconds", Unit::Seconds, "Time a consumer's handler took for one delivery.");
    describe_gauge!("outbox_backlog", "Outbox records not yet published, after the relay's last look.");
    describe_gauge!("outbox_oldest_age_seconds", Unit::Seconds, "Age of the oldest unpublished outbox record (0 when none).");
    describe_counter!("outbox_published_total", "Outbox records published to JetStream, by subject.");
    describe_gauge!("jetstream_stream_bytes", Unit::Bytes, "Bytes a stream holds, by stream (read every 15 s by each service).");
    describe_gauge!("jetstream_stream_max_bytes", Unit::Bytes, "A stream's size limit; at it, publishes wait in the outboxes.");
    describe_gauge!("jetstream_stream_messages", "Messages a stream holds, by stream.");
    describe_histogram!(
        "expiry_lateness_seconds",
        Unit::Seconds,
        "From an unpaid order's expiresAt to its cancellation on payment.expired (a card in flight at the expiry is waited for)."
    );
    describe_histogram!("stripe_request_duration_seconds", Unit::Seconds, "Time of a call to Stripe, by operation.");
    describe_counter!("stripe_errors_total", "Calls to Stripe that failed, by operation and kind (declined, transient, other).");
    describe_counter!("payments_refunds_issued_total", "Refunds Stripe made (or had made before) for charges given back.");
}

/// Everything recorded in this process, in Prometheus' text format.
pub fn render() -> String {
    install().render()
}

/// `text` as a scrape answer.
pub fn text_response(text: String) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}

/// `GET /metrics`: what [`render`] gives.
pub fn router() -> Router {
    install();
    Router::new().route("/metrics", get(|| async { text_response(render()) }))
}

/// Counts every request `router` answers as `http_requests_total{service, method, route,
/// status}` and times it as `http_request_duration_seconds{service, method, route}`. Apply it
/// last (outermost), after the fallback is set, so that every answer is counted with its final
/// status and unmatched requests too.
pub fn track_requests(router: Router, service: &'static str) -> Router {
    install();
    router.layer(middleware::from_fn_with_state(service, record_request))
}

async fn record_request(State(service): State<&'static str>, request: Request, next: Next) -> Response {
    // The template the router matched; the fallback sets none.
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| UNMATCHED.to_string(), |path| path.as_str().to_string());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16().to_string();
    counter!("http_requests_total", "service" => service, "method" => method, "route" => route.clone(), "status" => status).increment(1);
    histogram!("http_request_duration_seconds", "service" => service, "method" => method, "route" => route).record(took);
    response
}

/// The standard methods by name, anything else as `other`: a client may send any token as a
/// method, and each would be a series of its own.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];
    KNOWN.into_iter().find(|known| *known == method.as_str()).unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_standard_methods_are_labels_of_their_own() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").expect("a token")), "other");
    }

    #[test]
    fn installing_twice_gives_one_recorder() {
        let (first, second) = (install(), install());
        counter!("metrics_module_test_total", "case" => "twice").increment(1);
        let line = "metrics_module_test_total{case=\"twice\"} 1";
        assert!(first.render().contains(line), "{}", first.render());
        assert!(second.render().contains(line));
    }

    #[test]
    fn seconds_histograms_have_buckets_not_quantiles() {
        install();
        histogram!("metrics_module_test_seconds").record(0.003);
        let text = render();
        assert!(text.contains("# TYPE metrics_module_test_seconds histogram"), "{text}");
        assert!(text.contains("metrics_module_test_seconds_bucket{le=\"0.005\"} 1"), "{text}");
    }
}
