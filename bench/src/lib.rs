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

/// What one `wrk` run measured, read from the `done` hook of [`WRK_REPORT`].
#[derive(Debug, Clone, Default)]
pub struct WrkRun {
    pub requests: u64,
    pub seconds: f64,
    /// Latency percentiles in milliseconds: p50, p90, p99, max.
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    /// Answers that were not 2xx or 3xx, and connect/read/write/timeout errors.
    pub non_2xx: u64,
    pub socket_errors: u64,
    /// `connect 0, read 1, write 0, timeout 0`
    pub socket_kinds: String,
    /// Answers by status, when the script counts them (`status <code> <n>` lines).
    pub statuses: std::collections::BTreeMap<u16, u64>,
    /// Seconds from the first request to the last counted answer, when the script keeps them
    /// (globals `first` and `last`).
    pub span: Option<f64>,
}

impl WrkRun {
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// `12,345 req/s, p50 1.23 ms, p99 4.56 ms`
    pub fn line(&self) -> String {
        format!("{} req/s, p50 {:.2} ms, p99 {:.2} ms", thousands(self.rate()), self.p50, self.p99)
    }
}

/// The `done` hook every run's script ends with: the figures on lines the bench reads.
pub const WRK_REPORT: &str = r#"
function done(summary, latency, requests)
  io.write(string.format("bench requests %d\n", summary.requests))
  io.write(string.format("bench seconds %f\n", summary.duration / 1e6))
  io.write(string.format("bench p50 %f\n", latency:percentile(50) / 1000))
  io.write(string.format("bench p90 %f\n", latency:percentile(90) / 1000))
  io.write(string.format("bench p99 %f\n", latency:percentile(99) / 1000))
  io.write(string.format("bench max %f\n", latency.max / 1000))
  io.write(string.format("bench non2xx %d\n", summary.errors.status))
  local e = summary.errors
  io.write(string.format("bench socket %d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("bench socket_kinds connect %d, read %d, write %d, timeout %d\n", e.connect, e.read, e.write, e.timeout))
  if counted_thread then
    local counts = counted_thread:get("counts")
    for status, n in pairs(counts) do io.write(string.format("bench status %d %d\n", status, n)) end
    local first, last = counted_thread:get("first"), counted_thread:get("last")
    if first and last then io.write(string.format("bench span %f\n", last - first)) end
  end
end
"#;

/// Runs `wrk` (Debian's; `scripts/setup` installs it) with one thread, `connections`
/// connections, for `seconds` (or until the script stops it), `script` prepended to
/// [`WRK_REPORT`], and `args` after `--` for the script's `init`.
pub fn wrk(url: &str, connections: usize, seconds: u64, script: &str, args: &[&str]) -> anyhow::Result<WrkRun> {
    use anyhow::Context;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("run.lua");
    std::fs::write(&path, format!("{script}\n{WRK_REPORT}"))?;
    let mut child = std::process::Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s"), "--timeout", "10s", "-s"])
        .arg(&path)
        .arg(url)
        .arg("--")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("running wrk (scripts/setup installs it: apt-get install wrk)")?;
    // A script that stops its thread (`bench stopped`) leaves wrk waiting out the duration;
    // SIGINT ends it then, and its summary covers the time until the stop.
    let started = std::time::Instant::now();
    let mut stopped_after = None;
    let mut text = String::new();
    if let Some(stdout) = child.stdout.take() {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line?;
            if line == "bench stopped" && stopped_after.is_none() {
                stopped_after = Some(started.elapsed());
                let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    let output = child.wait_with_output()?;
    anyhow::ensure!(output.status.success(), "wrk failed: {}{}", text, String::from_utf8_lossy(&output.stderr));
    let mut run = WrkRun::default();
    for line in text.lines().filter_map(|l| l.strip_prefix("bench ")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or_default();
        match fields.first().copied() {
            Some("requests") => run.requests = number(1) as u64,
            Some("seconds") => run.seconds = number(1),
            Some("p50") => run.p50 = number(1),
            Some("p90") => run.p90 = number(1),
            Some("p99") => run.p99 = number(1),
            Some("max") => run.max = number(1),
            Some("non2xx") => run.non_2xx = number(1) as u64,
            Some("socket") => run.socket_errors = number(1) as u64,
            Some("socket_kinds") => run.socket_kinds = fields[1..].join(" "),
            Some("span") => run.span = Some(number(1)),
            Some("status") => {
                run.statuses.insert(number(1) as u16, number(2) as u64);
            }
            _ => {}
        }
    }
    if let Some(elapsed) = stopped_after {
        run.seconds = run.seconds.min(elapsed.as_secs_f64());
    }
    anyhow::ensure!(run.requests > 0, "wrk made no requests: {text}");
    Ok(run)
}

/// A binary built beside this benchmark (`target/release/<name>`), or the one the variable `var`
/// names; `how` says how to build it when it is missing.
pub fn sibling_binary(name: &str, var: &str, how: &str) -> anyhow::Result<std::path::PathBuf> {
    if let Some(path) = std::env::var_os(var) {
        return Ok(path.into());
    }
    let here = std::env::current_exe()?;
    let binary = here.parent().map(|dir| dir.join(name)).filter(|p| p.exists());
    binary.ok_or_else(|| anyhow::anyhow!("no {name} beside the benchmark: {how}"))
}

/// Resident memory of a process now and at its peak (`VmRSS`, `VmHWM`), in MiB; 0 when it is
/// gone.
pub fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok()).unwrap_or(0.0)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

/// `12345.6` as `12,346`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The repository's folder (the benchmarks read its `target/site`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(std::path::Path::to_path_buf).unwrap_or_default()
}

/// The release web server's binary, beside the benchmark's.
pub fn server_binary() -> anyhow::Result<std::path::PathBuf> {
    sibling_binary("server", "SERVER_BIN", "build it with cargo leptos build --release --split (scripts/bench does)")
}

/// The release web server with every service embedded, on its own data folder, ready
/// (`/readyz` 200) once [`WebServer::start`] returns, and stopped when dropped.
pub struct WebServer {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for WebServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WebServer {
    /// Starts it on `data` against the NATS server at `nats_url`, with `env` besides.
    pub async fn start(data: &std::path::Path, nats_url: &str, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        use std::process::{Command, Stdio};
        let port = test_support::free_port();
        let root = repo_root();
        let child = Command::new(server_binary()?)
            .current_dir(&root)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", root.join("target/site"))
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_OUTPUT_NAME", "ticketing")
            .env("DATA_DIR", data)
            .env("NATS_URL", nats_url)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !client.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            anyhow::ensure!(std::time::Instant::now() < deadline, "the server was not ready within a minute");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }
}
