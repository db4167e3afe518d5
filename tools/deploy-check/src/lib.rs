//! Reads the Kubernetes manifests as the cluster would get them: each overlay rendered by
//! `kubectl kustomize`, YAML turned into JSON by the PyYAML that `kubernetes-validate` brings
//! (both installed by `scripts/setup`).
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use serde_json::Value;

/// The checkout this runs in: the package's folder cargo names at run time (tests, `cargo run`);
/// else, for a binary run by hand or by `scripts/test`, the working folder or the nearest one
/// above it that holds the manifests; else the folder the binary was compiled in. The compiled-in
/// path alone is not enough: with two clones sharing one target directory, cargo reuses a crate
/// built in the other clone, and its path may be gone (a CI checkout was).
#[allow(clippy::expect_used, reason = "a check run from a checkout: without the folder there is nothing to check")]
pub fn repo() -> PathBuf {
    // Every crate that calls this sits two levels down (tools/<name>).
    if let Some(package) = std::env::var_os("CARGO_MANIFEST_DIR") {
        return PathBuf::from(package).join("../..").canonicalize().expect("the repository folder");
    }
    let is_checkout = |dir: &Path| dir.join("k8s/base").is_dir() && dir.join("scripts/nats-dev.conf").is_file();
    if let Ok(here) = std::env::current_dir()
        && let Some(found) = here.ancestors().find(|dir| is_checkout(dir))
    {
        return found.to_path_buf();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository folder")
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
    render_dir(&repo().join("k8s/overlays").join(overlay))
}

/// The resources of a kustomization folder (`k8s/base`, an overlay), rendered.
pub fn render_dir(path: &Path) -> anyhow::Result<Vec<Value>> {
    let output = Command::new("kubectl").arg("kustomize").arg(path).output().context("running kubectl kustomize")?;
    if !output.status.success() {
        bail!("kubectl kustomize {}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    }
    yaml_documents(&output.stdout)
}

/// A container's environment as Kubernetes gives it: plain values, ConfigMap keys resolved from
/// the manifests, and Secret keys from `secret(secret name, key)` (a missing optional one is
/// left out, a missing required one is an error).
pub fn environment(
    resources: &[Value],
    container: &Value,
    secret: impl Fn(&str, &str) -> Option<String>,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut vars = std::collections::BTreeMap::new();
    for entry in container["env"].as_array().into_iter().flatten() {
        let name = entry["name"].as_str().context("an env entry without a name")?.to_string();
        let value = if let Some(value) = entry["value"].as_str() {
            Some(value.to_string())
        } else if let Some(reference) = entry["valueFrom"]["configMapKeyRef"].as_object() {
            let map_name = reference["name"].as_str().unwrap_or_default();
            let key = reference["key"].as_str().unwrap_or_default();
            let map =
                named(resources, "ConfigMap", map_name).with_context(|| format!("{name}: ConfigMap {map_name} is not in the manifests"))?;
            Some(map["data"][key].as_str().with_context(|| format!("{name}: key {key} missing from ConfigMap {map_name}"))?.to_string())
        } else if let Some(reference) = entry["valueFrom"]["secretKeyRef"].as_object() {
            let secret_name = reference["name"].as_str().unwrap_or_default();
            let key = reference["key"].as_str().unwrap_or_default();
            match secret(secret_name, key) {
                Some(value) => Some(value),
                None if reference["optional"] == true => None,
                None => bail!("{name}: secret {secret_name}/{key} is not set"),
            }
        } else {
            bail!("{name}: neither a value nor a ConfigMap or Secret reference");
        };
        if let Some(value) = value {
            vars.insert(name, value);
        }
    }
    Ok(vars)
}

pub fn of_kind<'a>(resources: &'a [Value], kind: &str) -> Vec<&'a Value> {
    resources.iter().filter(|r| r["kind"] == kind).collect()
}

pub fn named<'a>(resources: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    resources.iter().find(|r| r["kind"] == kind && r["metadata"]["name"] == name)
}
