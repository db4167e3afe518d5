//! What the topology takes from the Kubernetes manifests (`k8s/base`, rendered by kustomize):
//! each Deployment's replicas and environment, the Services' ports, the Ingress's paths, the
//! SurrealDB server's arguments and the users Job's script. Nothing here restates the
//! manifests: a change there changes what runs here.
use std::collections::BTreeMap;

use anyhow::Context;
use deploy_check::{named, of_kind, render_dir, repo};
use serde_json::Value;

pub struct Manifests {
    resources: Vec<Value>,
}

/// One path rule of the Ingress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressPath {
    pub path: String,
    /// `Prefix` or `Exact`.
    pub path_type: String,
    pub service: String,
}

impl Manifests {
    /// `k8s/base` as kustomize renders it.
    pub fn load() -> anyhow::Result<Self> {
        Ok(Self { resources: render_dir(&repo().join("k8s/base")).context("rendering k8s/base")? })
    }

    fn resource(&self, kind: &str, name: &str) -> anyhow::Result<&Value> {
        named(&self.resources, kind, name).with_context(|| format!("no {kind} {name} in k8s/base"))
    }

    fn container(&self, kind: &str, name: &str) -> anyhow::Result<&Value> {
        Ok(&self.resource(kind, name)?["spec"]["template"]["spec"]["containers"][0])
    }

    /// The Deployments: the service parts and the web server.
    pub fn deployments(&self) -> Vec<String> {
        of_kind(&self.resources, "Deployment").iter().filter_map(|d| d["metadata"]["name"].as_str().map(str::to_string)).collect()
    }

    pub fn replicas(&self, deployment: &str) -> anyhow::Result<usize> {
        let replicas = self.resource("Deployment", deployment)?["spec"]["replicas"].as_u64().unwrap_or(1);
        Ok(replicas as usize)
    }

    /// A Deployment's environment, secrets taken from `secret(name, key)`.
    pub fn environment(&self, deployment: &str, secret: impl Fn(&str, &str) -> Option<String>) -> anyhow::Result<BTreeMap<String, String>> {
        deploy_check::environment(&self.resources, self.container("Deployment", deployment)?, secret)
            .with_context(|| format!("the environment of Deployment {deployment}"))
    }

    /// The Ingress's rules, in the order written.
    pub fn ingress_paths(&self) -> anyhow::Result<Vec<IngressPath>> {
        let ingress = of_kind(&self.resources, "Ingress");
        let ingress = ingress.first().context("no Ingress in k8s/base")?;
        let mut paths = Vec::new();
        for rule in ingress["spec"]["rules"].as_array().into_iter().flatten() {
            for path in rule["http"]["paths"].as_array().into_iter().flatten() {
                paths.push(IngressPath {
                    path: path["path"].as_str().context("an Ingress path without a path")?.to_string(),
                    path_type: path["pathType"].as_str().unwrap_or("Prefix").to_string(),
                    service: path["backend"]["service"]["name"].as_str().context("an Ingress path without a service")?.to_string(),
                });
            }
        }
        Ok(paths)
    }

    /// The SurrealDB server's command-line arguments (its StatefulSet's `args`).
    pub fn surrealdb_args(&self) -> anyhow::Result<Vec<String>> {
        let args = self.container("StatefulSet", "surrealdb")?["args"].as_array().context("the surrealdb container has no args")?;
        Ok(args.iter().filter_map(|a| a.as_str().map(str::to_string)).collect())
    }

    /// The users Job's shell script and its environment.
    pub fn users_job(&self, secret: impl Fn(&str, &str) -> Option<String>) -> anyhow::Result<(String, BTreeMap<String, String>)> {
        let container = &self.resource("Job", "surrealdb-users")?["spec"]["template"]["spec"]["containers"][0];
        let script = container["args"][0].as_str().context("the users Job has no script")?.to_string();
        let env = deploy_check::environment(&self.resources, container, secret)?;
        Ok((script, env))
    }

    /// The NATS servers' configuration file as the ConfigMap holds it.
    pub fn nats_config(&self) -> anyhow::Result<String> {
        Ok(self.resource("ConfigMap", "nats-config")?["data"]["nats.conf"].as_str().context("nats-config has no nats.conf")?.to_string())
    }

    /// Every file of the NATS ConfigMap (`nats.conf`, and `auth.conf` it includes), by name.
    pub fn nats_config_files(&self) -> anyhow::Result<Vec<(String, String)>> {
        let data = self.resource("ConfigMap", "nats-config")?["data"].as_object().context("nats-config has no data")?;
        let mut files = Vec::new();
        for (name, text) in data {
            let text = text.as_str().with_context(|| format!("nats-config/{name} is not text"))?;
            files.push((name.clone(), text.to_string()));
        }
        Ok(files)
    }

    /// The NATS servers' variables that come from Secrets (each user's password), with the values
    /// `secret(name, key)` gives.
    pub fn nats_secret_env(&self, secret: impl Fn(&str, &str) -> Option<String>) -> anyhow::Result<Vec<(String, String)>> {
        let container = self.container("StatefulSet", "nats")?;
        let mut env = Vec::new();
        for entry in container["env"].as_array().into_iter().flatten() {
            let reference = &entry["valueFrom"]["secretKeyRef"];
            let (Some(name), Some(secret_name), Some(key)) =
                (entry["name"].as_str(), reference["name"].as_str(), reference["key"].as_str())
            else {
                continue;
            };
            let value = secret(secret_name, key).with_context(|| format!("{name}: secret {secret_name}/{key} is not set"))?;
            env.push((name.to_string(), value));
        }
        Ok(env)
    }

    /// How many NATS servers the StatefulSet runs.
    pub fn nats_servers(&self) -> anyhow::Result<usize> {
        Ok(self.resource("StatefulSet", "nats")?["spec"]["replicas"].as_u64().unwrap_or(1) as usize)
    }
}
