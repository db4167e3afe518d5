//! Helpers for the benchmarks: percentiles and a steady request loop.
use std::time::Duration;

/// p50, p99 and max of `samples`, in milliseconds.
pub fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        samples.len(),
        ms(at(0.50)),
        ms(at(0.99)),
        ms(*samples.last().unwrap_or(&Duration::ZERO))
    )
}
