//! Logs and traces through `tracing`, set up once per process.
//!
//! Why traces, and why this way: one purchase crosses the web server, orders, tickets, payments
//! and expiration, over HTTP and over NATS, and is one OpenTelemetry trace across all of them.
//! `tracing`'s spans are the spans: a [`tracing_opentelemetry`] layer gives each one an
//! OpenTelemetry span in the tracer provider of this process, which always exists, exporter or
//! not, so trace ids are made, propagated and logged even when nothing collects the spans. The
//! OTLP exporter (HTTP/protobuf) is added only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! The context travels as W3C trace context (`traceparent`, `tracestate`):
//! - HTTP in: the span of each request ([`request_span`]) is a child of the caller's
//!   `traceparent`; HTTP out: the web server's server functions send theirs
//!   ([`current_trace_headers`]).
//! - NATS: the outbox record takes the `traceparent` of the span that writes it, in the same
//!   transaction, and the relay publishes it as a message header; the consumer's span for each
//!   event ([`join`]) is a child of it. Expiration's scheduled messages, dead letters and their
//!   replays carry it on.
//!
//! Logs carry the trace id: in JSON, every line inside a traced span has a top-level `trace_id`
//! (whatever spans nest below the request's or the event's); in the pretty format, the request
//! and event spans show a `trace_id` field.
//!
//! Lines and spans have a filter each (per-layer filtering): `RUST_LOG` chooses what is logged,
//! `OTEL_TRACES_FILTER` what becomes a span, both [`DEFAULT_FILTER`] when unset. With one global
//! filter, an operator who set `RUST_LOG=warn` to quiet the logs lost every trace, and every trace
//! id in the events' headers (the request and event spans are at `info`). A line carries its
//! trace id only from a span the traces' filter keeps.
use std::str::FromStr;
use std::sync::OnceLock;

use opentelemetry::trace::{TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::{Span, Subscriber};
use tracing_opentelemetry::{OpenTelemetrySpanExt, OtelData};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use crate::env::EnvReader;

/// Trace context in and out of headers lives with the client's address in `edge`, which the web
/// client's server build uses without the rest of this crate.
pub use edge::trace_context::{current_trace_headers, current_traceparent, join, remote_parent, trace_headers, TRACE_HEADERS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

impl FromStr for LogFormat {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "pretty" | "text" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            _ => Err(()),
        }
    }
}

/// The filter when `RUST_LOG` is unset: the database's own chatter stays out.
pub const DEFAULT_FILTER: &str = "info,surrealdb=warn,surrealdb_core=warn,surrealkv=warn";

/// Where spans go: `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME`, the standard variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSettings {
    /// The OTLP collector's base URL (`http://collector:4318`); spans are sent to its
    /// `/v1/traces` over HTTP/protobuf. Unset: traces are made and propagated, not exported.
    pub endpoint: Option<String>,
    /// The `service.name` spans are exported under: `OTEL_SERVICE_NAME`, else the process's own
    /// name (`orders`, …; `web` for the web server and the services it runs on one machine).
    pub service_name: String,
    /// Which spans are made (`OTEL_TRACES_FILTER`, `RUST_LOG`'s syntax; [`DEFAULT_FILTER`]
    /// when unset), whatever the logs' filter.
    pub filter: String,
}

impl TraceSettings {
    /// No exporter, spans named for `service`.
    pub fn none(service: &str) -> Self {
        Self { endpoint: None, service_name: service.to_string(), filter: DEFAULT_FILTER.to_string() }
    }

    pub fn read(env: &mut EnvReader, service: &str) -> Self {
        let endpoint = env.raw("OTEL_EXPORTER_OTLP_ENDPOINT").map(|endpoint| endpoint.trim().to_string());
        if let Some(endpoint) = &endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            env.problem(format!(
                "OTEL_EXPORTER_OTLP_ENDPOINT={endpoint:?} is not valid: expected the URL of an OTLP/HTTP collector, such as http://localhost:4318"
            ));
        }
        let service_name = env.raw("OTEL_SERVICE_NAME").map_or_else(|| service.to_string(), |name| name.trim().to_string());
        let filter = env.raw("OTEL_TRACES_FILTER").map_or_else(|| DEFAULT_FILTER.to_string(), |filter| filter.trim().to_string());
        if let Err(error) = EnvFilter::try_new(&filter) {
            env.problem(format!("OTEL_TRACES_FILTER={filter:?} is not valid: {error} (RUST_LOG's syntax, such as info,surrealdb=warn)"));
        }
        Self { endpoint, service_name, filter }
    }

    /// Where spans are sent: the OTLP/HTTP traces path under the endpoint, as the standard
    /// variable means it.
    pub fn traces_url(&self) -> Option<String> {
        self.endpoint.as_ref().map(|endpoint| format!("{}/v1/traces", endpoint.trim_end_matches('/')))
    }
}

/// The process's tracer provider: one, made by the first caller, because every service of a
/// process (the web server on one machine, a test binary) shares the one subscriber.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

fn provider(traces: &TraceSettings) -> &'static SdkTracerProvider {
    PROVIDER.get_or_init(|| {
        let resource = Resource::builder().with_service_name(traces.service_name.clone()).build();
        let builder = SdkTracerProvider::builder().with_resource(resource);
        let Some(url) = traces.traces_url() else {
            return builder.build();
        };
        match exporter(&url) {
            Ok(exporter) => builder.with_batch_exporter(exporter).build(),
            Err(error) => {
                // No subscriber yet to say it with: stderr, as configuration problems are.
                eprintln!("traces: no OTLP exporter to {url} ({error}); spans are made but not exported");
                builder.build()
            }
        }
    })
}

/// OTLP over HTTP/protobuf. The batch processor exports from a thread of its own with a blocking
/// client (the crate's default, built on its own thread), never on the services' runtime.
fn exporter(url: &str) -> Result<opentelemetry_otlp::SpanExporter, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(Protocol::HttpBinary).with_endpoint(url).build()
}

/// The subscriber [`init`] installs, writing to `writer` instead of stdout: the same layers, so
/// a test that reads the lines reads what a service prints. `filter` is the lines'; the spans'
/// is `traces.filter`. The first call in a process makes its tracer provider from `traces`.
pub fn subscriber<W>(format: LogFormat, filter: EnvFilter, writer: W, traces: &TraceSettings) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // Checked when the configuration was read; a filter that no longer parses keeps the default.
    let span_filter = EnvFilter::try_new(&traces.filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let spans = tracing_opentelemetry::layer().with_tracer(provider(traces).tracer("ticketing")).with_filter(span_filter);
    let (pretty, json) = match format {
        LogFormat::Pretty => (Some(fmt::layer().compact().with_writer(writer).with_filter(filter)), None),
        LogFormat::Json => {
            let lines = fmt::format().json().flatten_event(true).with_current_span(true).with_span_list(false);
            let layer = fmt::layer().fmt_fields(JsonFields::new()).event_format(WithTraceId(lines)).with_writer(writer);
            (None, Some(layer.with_filter(filter)))
        }
    };
    tracing_subscriber::registry().with(spans).with(pretty).with(json)
}

/// Installs [`subscriber`] as the process's; false when one is installed already (several
/// services in one process, or a test binary's capture), which is then kept.
pub fn install<W>(format: LogFormat, filter: EnvFilter, writer: W, traces: &TraceSettings) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // For any library that propagates through the global API; ours use the same propagator.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    subscriber(format, filter, writer, traces).try_init().is_ok()
}

/// Installs the global subscriber on stdout; `RUST_LOG` overrides [`DEFAULT_FILTER`]. A second
/// call (several services in one process) is a no-op.
pub fn init(format: LogFormat, traces: &TraceSettings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    if install(format, filter, std::io::stdout, traces)
        && let Some(url) = traces.traces_url()
    {
        tracing::info!(url, service = %traces.service_name, "exporting traces over OTLP/HTTP");
    }
}

/// Sends the spans still waiting to the collector and stops the exporter: the last thing a
/// process does, after its work drained. Spans made after it have no trace id.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        tracing::debug!(%error, "the tracer provider did not shut down cleanly");
    }
}

/// The span of one HTTP request, `TraceLayer`'s `make_span`: named for the route, and a child of
/// the trace the caller sent in `traceparent`, if any. Inside another request's span (on one
/// machine the services' routes run inside the web server's), it is that span's child instead,
/// and the outer one shows the trace id.
pub fn request_span(request: &axum::http::Request<axum::body::Body>) -> Span {
    span_of(request, true)
}

/// The span of one HTTP request at the public edge (the web server, which browsers reach): the
/// root of a new trace whatever `traceparent` the caller sent. A client's trace context is not
/// adopted: it would let anyone choose trace ids (to collide with, or to be sampled into,
/// another's trace). Behind the edge, the ingress removes the headers before the services'
/// [`request_span`] (scripts/cluster's nginx does; in Kubernetes it is the ingress controller's
/// configuration, k8s/README.md), and the web server's own calls carry its trace.
pub fn edge_request_span(request: &axum::http::Request<axum::body::Body>) -> Span {
    span_of(request, false)
}

fn span_of(request: &axum::http::Request<axum::body::Body>, adopt_caller: bool) -> Span {
    let method = request.method();
    let name = match request.extensions().get::<axum::extract::MatchedPath>() {
        Some(route) => format!("{method} {}", route.as_str()),
        None => method.to_string(),
    };
    let nested = in_trace(&Span::current());
    // The path alone: a query string may hold what a trace should not keep.
    let span = tracing::info_span!(
        "request",
        otel.name = %name,
        otel.kind = "server",
        method = %method,
        path = %request.uri().path(),
        trace_id = tracing::field::Empty
    );
    if !nested {
        let headers = request.headers();
        let parent =
            adopt_caller.then(|| remote_parent(|name| headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)));
        join(&span, parent.flatten());
    }
    span
}

fn in_trace(span: &Span) -> bool {
    span.context().span().span_context().is_valid()
}

/// A JSON line with a top-level `trace_id` when it was written inside a traced span: a log
/// collector finds a trace's lines by one key, however deep the span that wrote them. The inner
/// format writes one object per line; a line of another shape is left as it is.
struct WithTraceId<F>(F);

impl<S, N, F> FormatEvent<S, N> for WithTraceId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &tracing::Event<'_>) -> std::fmt::Result {
        let Some(trace_id) = event_trace_id(ctx) else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_suffix("}\n") {
            Some(object) => writeln!(writer, "{object},\"trace_id\":\"{trace_id}\"}}"),
            None => writer.write_str(&line),
        }
    }
}

/// The trace id of the innermost span around the event that is in a trace.
fn event_trace_id<S, N>(ctx: &FmtContext<'_, S, N>) -> Option<TraceId>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    ctx.event_scope()?
        .find_map(|span| {
            let extensions = span.extensions();
            extensions.get::<OtelData>().and_then(OtelData::trace_id)
        })
        .filter(|trace_id| *trace_id != TraceId::INVALID)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    const TRACE_ID: &str = "4bf92f3577b34da6a736d5e8ce7d1a5c";
    const TRACEPARENT: &str = "00-4bf92f3577b34da6a736d5e8ce7d1a5c-00f067aa0ba902b7-01";

    /// The lines a subscriber wrote.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    impl Lines {
        fn json(&self) -> Vec<serde_json::Value> {
            let text = String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("UTF-8");
            text.lines().map(|line| serde_json::from_str(line).expect("each line is a JSON object")).collect()
        }
    }

    fn caller(name: &str) -> Option<String> {
        (name == "traceparent").then(|| TRACEPARENT.to_string())
    }

    #[test]
    fn a_json_line_in_a_joined_span_carries_the_callers_trace_id_and_one_outside_none() {
        let lines = Lines::default();
        let subscriber = subscriber(LogFormat::Json, EnvFilter::new("info"), lines.clone(), &TraceSettings::none("test"));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            let span = tracing::info_span!("event", subject = "ticket.created", trace_id = tracing::field::Empty);
            join(&span, remote_parent(caller));
            let _entered = span.enter();
            // A span below it has no trace_id field of its own; the line still has the id.
            let inner = tracing::info_span!("inner");
            let _inner = inner.enter();
            tracing::info!(ticket.id = "t1", "handled");
        });
        let lines = lines.json();
        let line = |message: &str| lines.iter().find(|line| line["message"] == message).cloned().expect("the line was written");
        let outside = line("outside");
        assert!(outside.get("trace_id").is_none(), "{outside}");
        let handled = line("handled");
        assert_eq!(handled["ticket.id"], "t1");
        assert_eq!(handled["trace_id"], TRACE_ID, "{handled}");
        assert_eq!(handled["span"]["name"], "inner", "the line was written in the inner span: {handled}");
    }

    #[test]
    fn a_span_joined_to_a_caller_passes_its_trace_on_with_its_own_span_id() {
        let subscriber = subscriber(LogFormat::Json, EnvFilter::new("info"), std::io::sink, &TraceSettings::none("test"));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
            join(&span, remote_parent(caller));
            let headers = trace_headers(&span);
            let (name, traceparent) = headers.first().expect("a traceparent");
            assert_eq!(*name, "traceparent");
            let parts: Vec<&str> = traceparent.split('-').collect();
            assert_eq!(parts.len(), 4, "{traceparent}");
            assert_eq!(parts[1], TRACE_ID, "the caller's trace");
            assert_ne!(parts[2], "00f067aa0ba902b7", "this span's id, not the caller's");
            // A child made inside it carries the same trace.
            let _entered = span.enter();
            let child = tracing::info_span!("child");
            let _child = child.enter();
            assert!(current_traceparent().is_some_and(|tp| tp.contains(TRACE_ID)));
        });
    }

    #[test]
    fn without_a_caller_a_span_starts_a_trace_and_garbage_is_no_caller() {
        assert!(remote_parent(|_| None).is_none());
        assert!(remote_parent(|name| (name == "traceparent").then(|| "00-not-a-trace-01".to_string())).is_none());
        let subscriber = subscriber(LogFormat::Pretty, EnvFilter::new("info"), std::io::sink, &TraceSettings::none("test"));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
            join(&span, None);
            let headers = trace_headers(&span);
            assert!(headers.iter().any(|(name, value)| *name == "traceparent" && !value.contains(TRACE_ID)), "{headers:?}");
        });
        // Outside any subscriber there is no trace to pass on.
        assert!(current_trace_headers().is_empty());
    }

    /// A browser's `traceparent` used to become the web server's trace: anyone could choose the
    /// trace ids of their requests. Behind the edge, the caller's trace is joined.
    #[test]
    fn the_public_edge_starts_its_own_trace_whatever_the_caller_sent() {
        let subscriber = subscriber(LogFormat::Json, EnvFilter::new("info"), std::io::sink, &TraceSettings::none("test"));
        tracing::subscriber::with_default(subscriber, || {
            let request =
                || axum::http::Request::builder().uri("/").header("traceparent", TRACEPARENT).body(axum::body::Body::empty()).unwrap();
            let edge = trace_headers(&edge_request_span(&request()));
            assert!(edge.iter().any(|(name, value)| *name == "traceparent" && !value.contains(TRACE_ID)), "{edge:?}");
            let inside = trace_headers(&request_span(&request()));
            assert!(inside.iter().any(|(name, value)| *name == "traceparent" && value.contains(TRACE_ID)), "{inside:?}");
        });
    }

    #[test]
    fn the_exporter_is_configured_by_the_standard_variables() {
        let read = |vars: &[(&str, &str)]| {
            let mut env = EnvReader::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            let settings = TraceSettings::read(&mut env, "orders");
            env.finish().map(|()| settings)
        };
        assert_eq!(read(&[]).expect("off by default"), TraceSettings::none("orders"));
        let on = read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"), ("OTEL_SERVICE_NAME", "orders-eu")]).expect("valid");
        assert_eq!(on.traces_url().as_deref(), Some("http://collector:4318/v1/traces"));
        assert_eq!(on.service_name, "orders-eu");
        assert!(read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]).is_err(), "not a URL");
        assert_eq!(read(&[("OTEL_TRACES_FILTER", "debug,surrealdb=warn")]).expect("valid").filter, "debug,surrealdb=warn");
        assert!(read(&[("OTEL_TRACES_FILTER", "info,ticketing=loudest")]).is_err(), "not a filter");
    }
}
