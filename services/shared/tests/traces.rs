//! Spans reach an OTLP collector whatever level the logs are at: an operator who quiets the logs
//! with `RUST_LOG=warn` keeps every trace (a filter per layer). A test binary of its own, since
//! the tracer provider and the subscriber are one per process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
use std::io::Write;
use std::sync::{Arc, Mutex};

use shared::telemetry::{self, LogFormat, TraceSettings};
use tracing_subscriber::EnvFilter;

/// What the service printed.
#[derive(Clone, Default)]
struct Printed(Arc<Mutex<Vec<u8>>>);

impl Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Printed {
    type Writer = Printed;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn spans_are_exported_while_the_logs_are_at_warn() {
    // A collector: what arrives on /v1/traces, as OTLP/HTTP protobuf bodies.
    let exported: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = exported.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let bodies = bodies.clone();
            async move { bodies.lock().unwrap().push(body.to_vec()) }
        }),
    );
    runtime.spawn(async move { axum::serve(listener, collector).await });

    let traces = TraceSettings {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        service_name: "orders".to_string(),
        filter: telemetry::DEFAULT_FILTER.to_string(),
    };
    let printed = Printed::default();
    assert!(telemetry::install(LogFormat::Json, EnvFilter::new("warn"), printed.clone(), &traces), "the process's subscriber");
    {
        let span = tracing::info_span!("request", route = "/api/orders/:id");
        let _entered = span.enter();
        tracing::info!("an info line, hidden at warn");
        tracing::warn!("a warning, shown");
    }
    // Sends what the batch holds, and waits for the collector's answer.
    telemetry::shutdown();

    let exported = exported.lock().unwrap();
    let has = |needle: &[u8]| exported.iter().any(|body| body.windows(needle.len()).any(|window| window == needle));
    assert!(!exported.is_empty(), "nothing reached the collector");
    assert!(has(b"request") && has(b"/api/orders/:id"), "the request's span, with its route, was exported");
    let printed = String::from_utf8(printed.0.lock().unwrap().clone()).unwrap();
    assert!(printed.contains("a warning, shown"), "{printed}");
    assert!(!printed.contains("hidden at warn"), "the logs stay at warn: {printed}");
}
