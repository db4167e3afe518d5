//! Stripe calls on `/metrics`: each timed by operation, a failure counted by the kind callers act
//! on. The recorder is one per test binary and other tests run beside: only one series'
//! difference, before and after, means anything.
use test_support::{metric_value, scrape};

use crate::helpers::*;

/// A series' value in `text`; a series never recorded is a counter at 0.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_value(text, name, labels).unwrap_or(0.0)
}

#[tokio::test]
async fn a_declined_card_is_a_declined_confirm_and_each_call_is_timed() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let declined = [("operation", "confirm"), ("kind", "declined")];
    let created = [("operation", "create_intent")];
    let before = scrape(&app.client, &app.address).await;

    assert_eq!(app.pay("ann", "o1", "pm_card_chargeDeclined").await.status().as_u16(), 402);

    let after = scrape(&app.client, &app.address).await;
    assert!(value(&after, "stripe_errors_total", &declined) >= value(&before, "stripe_errors_total", &declined) + 1.0, "{after}");
    let calls = "stripe_request_duration_seconds_count";
    assert!(value(&after, calls, &created) >= value(&before, calls, &created) + 1.0, "{after}");
    assert!(after.contains("# TYPE stripe_request_duration_seconds histogram"), "{after}");
    // The figures payments counts in its database follow the recorder's text.
    assert!(after.contains("# TYPE payments_refunds_parked gauge"), "{after}");
}
