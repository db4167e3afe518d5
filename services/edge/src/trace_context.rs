//! Which trace a request or a message is in: W3C trace context (`traceparent`, `tracestate`)
//! read from a caller and written onto what a span sends on, the same on HTTP headers and NATS
//! message headers. The spans are `tracing`'s, with their OpenTelemetry context
//! (`tracing-opentelemetry`); the exporter and the subscriber are `shared::telemetry`'s.
use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The headers W3C trace context travels in, on HTTP requests and NATS messages alike.
pub const TRACE_HEADERS: [&str; 2] = ["traceparent", "tracestate"];

/// Makes `span` a child of `parent` (a caller's trace context, from [`remote_parent`]), or the
/// root of a new trace without one, and records its trace id in its `trace_id` field. Before
/// the span is first entered: after that its parent is fixed.
pub fn join(span: &Span, parent: Option<Context>) {
    if let Some(parent) = parent {
        // Fails only without the OpenTelemetry layer or for a disabled span: nothing to join.
        let _ = span.set_parent(parent);
    }
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id != TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

/// The trace context a caller sent, read with `header` (`traceparent`, `tracestate`); `None`
/// when there is none or it does not parse.
pub fn remote_parent(header: impl Fn(&str) -> Option<String>) -> Option<Context> {
    let fields: HashMap<String, String> = TRACE_HEADERS.into_iter().filter_map(|name| Some((name.to_string(), header(name)?))).collect();
    if fields.is_empty() {
        return None;
    }
    let context = TraceContextPropagator::new().extract(&fields);
    context.span().span_context().is_valid().then_some(context)
}

/// The trace context of `span` as headers (`traceparent`, and `tracestate` when there is one);
/// none when the span is in no trace (no subscriber, or filtered out).
pub fn trace_headers(span: &Span) -> Vec<(&'static str, String)> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return Vec::new();
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut fields);
    TRACE_HEADERS.into_iter().filter_map(|name| Some((name, fields.remove(name)?))).collect()
}

/// [`trace_headers`] of the current span: what a call or a message made here carries on.
pub fn current_trace_headers() -> Vec<(&'static str, String)> {
    trace_headers(&Span::current())
}

/// The current span's `traceparent`, if it is in a trace.
pub fn current_traceparent() -> Option<String> {
    current_trace_headers().into_iter().find_map(|(name, value)| (name == "traceparent").then_some(value))
}
