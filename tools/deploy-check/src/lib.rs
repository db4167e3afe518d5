//! Reads the Kubernetes manifests as the cluster would get them: each overlay rendered by
//! `kubectl kustomize`, YAML turned into JSON by the PyYAML that `kubernetes-validate` brings
//! (both installed by `scripts/setup`).
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use serde_json::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository folder")
}

fn python() -> PathBuf {
    let cache = std::env::var("TICKETING_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/ticketing"));
    cache.join("venv/bin/python")
}

/// Every document of a YAML text.
pub fn yaml_documents(yaml: &[u8]) -> anyhow::Result<Vec<Value>> {
    let mut child = Command::new(python())
        .args(["-c", "import sys, json, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("running the venv's python (scripts/setup installs it)")?;
    std::io::Write::write_all(&mut child.stdin.take().context("stdin")?, yaml)?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("YAML did not parse");
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The resources of `k8s/overlays/<overlay>`, rendered.
pub fn render(overlay: &str) -> anyhow::Result<Vec<Value>> {
    let path = repo().join("k8s/overlays").join(overlay);
    let output = Command::new("kubectl").arg("kustomize").arg(&path).output().context("running kubectl kustomize")?;
    if !output.status.success() {
        bail!("kubectl kustomize {}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    }
    yaml_documents(&output.stdout)
}

pub fn of_kind<'a>(resources: &'a [Value], kind: &str) -> Vec<&'a Value> {
    resources.iter().filter(|r| r["kind"] == kind).collect()
}

pub fn named<'a>(resources: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    resources.iter().find(|r| r["kind"] == kind && r["metadata"]["name"] == name)
}
