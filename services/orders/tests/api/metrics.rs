//! `/metrics` on the service's own port: Prometheus' text format, and requests counted by route.
//! The recorder is one per test binary and other tests run beside these, so only one series'
//! difference, before and after, means anything, and "at least". Series that move when an event
//! crosses to another service are the system tests'.
use test_support::{metric_value, scrape};

use crate::helpers::{spawn_app, TestApp};

/// A series' value in `text`; a series never recorded is a counter at 0.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_value(text, name, labels).unwrap_or(0.0)
}

async fn metrics_of(app: &TestApp) -> String {
    scrape(&app.client, &app.address).await
}

#[tokio::test]
async fn metrics_are_served_in_prometheus_text_format_on_the_service_port() {
    let (app, _nats) = spawn_app().await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4");
    // The readiness probes that came before were counted.
    let text = response.text().await.unwrap();
    assert!(text.contains("# TYPE http_requests_total counter"), "{text}");
    let probes = [("service", "orders"), ("method", "GET"), ("route", "/readyz"), ("status", "200")];
    assert!(value(&text, "http_requests_total", &probes) >= 1.0, "{text}");
}

#[tokio::test]
async fn an_unknown_path_is_counted_as_unmatched_never_under_its_own_name() {
    let (app, _nats) = spawn_app().await;
    let unmatched = [("service", "orders"), ("method", "GET"), ("route", "unmatched"), ("status", "404")];
    let before = metrics_of(&app).await;
    let response = app.client.get(app.url("/no/such/path-4711")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let after = metrics_of(&app).await;
    assert!(value(&after, "http_requests_total", &unmatched) >= value(&before, "http_requests_total", &unmatched) + 1.0, "{after}");
    assert!(!after.contains("path-4711"), "a raw path became a label: {after}");
}
