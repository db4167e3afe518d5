//! One process of the topology: started with its own environment, its output appended to a log
//! file, stopped by pid. Every child runs in a process group of its own (a Ctrl-C in the
//! terminal reaches only this tool, which then stops them in order), is killed when its handle
//! is dropped, and is killed by the kernel if this tool dies without stopping it
//! (`PR_SET_PDEATHSIG`), so nothing outlives a run. Children must not fork helpers of their own
//! (nginx runs without a master process for that reason).
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::{Child, Command};

pub struct Proc {
    pub name: String,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
    /// Where it answers HTTP, if it does (health checks).
    pub port: Option<u16>,
    /// How many times it was started.
    pub starts: usize,
}

impl Proc {
    pub fn new(name: &str, program: &Path, args: Vec<String>, env: Vec<(String, String)>, logs: &Path) -> Self {
        Self {
            name: name.to_string(),
            program: program.to_path_buf(),
            args,
            env,
            log: logs.join(format!("{name}.log")),
            child: None,
            port: None,
            starts: 0,
        }
    }

    pub fn with_port(self, port: u16) -> Self {
        Self { port: Some(port), ..self }
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            // `RUST_LOG=shared::events=debug scripts/cluster up`: more detail from every part.
            .envs(std::env::var("RUST_LOG").ok().map(|filter| ("RUST_LOG", filter)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            // Dropped (a failed start, a panic): gone too.
            .kill_on_drop(true);
        // SAFETY: prctl is async-signal-safe; it only sets a flag on the child being created.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().with_context(|| format!("starting {} ({})", self.name, self.program.display()))?;
        self.child = Some(child);
        self.starts += 1;
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// SIGKILL, as a crash or an OOM kill would: nothing gets to clean up.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// SIGTERM, then SIGKILL after `grace`, as Kubernetes stops a pod.
    pub async fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else { return };
        if let Some(pid) = child.id() {
            // SAFETY: a plain kill(2) on a child we started and have not reaped.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(grace, child.wait()).await.is_err() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Waits until `GET http://127.0.0.1:<port><path>` answers 200 and `accept` likes the body.
    pub async fn wait_http(&mut self, path: &str, within: Duration, accept: impl Fn(&str) -> bool) -> anyhow::Result<()> {
        let port = self.port.with_context(|| format!("{} has no port", self.name))?;
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let url = format!("http://127.0.0.1:{port}{path}");
        let deadline = Instant::now() + within;
        loop {
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
                && accept(&response.text().await.unwrap_or_default())
            {
                return Ok(());
            }
            if !self.running() {
                anyhow::bail!("{} exited while starting; see {}", self.name, self.log.display());
            }
            if Instant::now() > deadline {
                anyhow::bail!("{} not ready at {url} within {within:?}; see {}", self.name, self.log.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the port accepts connections.
    pub async fn wait_port(&mut self, within: Duration) -> anyhow::Result<()> {
        let port = self.port.with_context(|| format!("{} has no port", self.name))?;
        let deadline = Instant::now() + within;
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if !self.running() {
                anyhow::bail!("{} exited while starting; see {}", self.name, self.log.display());
            }
            if Instant::now() > deadline {
                anyhow::bail!("{} not listening on {port} within {within:?}; see {}", self.name, self.log.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
