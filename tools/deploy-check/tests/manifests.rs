//! The manifests agree with the code: run with `cargo test -p deploy-check`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
use std::collections::{BTreeMap, BTreeSet, HashMap};

use deploy_check::{named, of_kind, render, repo, yaml_documents};
use serde_json::Value;
use shared::config::{EnvReader, NamesRead};
use shared::session::SigningKey;

const OVERLAYS: &[&str] = &["dev", "prod"];

/// The session key pair the secrets hold, as `auth keygen` prints it.
fn session_key() -> SigningKey {
    SigningKey::from_seed("deploy-check", [7; 32]).expect("a valid key id")
}

/// A Deployment's environment, with ConfigMap references resolved and secrets replaced by
/// values of the right shape (what the secrets' README asks for).
fn environment(resources: &[Value], deployment: &Value) -> BTreeMap<String, String> {
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    deploy_check::environment(resources, container, |_, key| {
        Some(match key {
            "SESSION_KEY_ID" => session_key().kid().to_string(),
            "SESSION_SIGNING_KEY" => session_key().to_base64(),
            "SESSION_PUBLIC_KEYS" => session_key().verifying_keys().to_string(),
            "STRIPE_SECRET_KEY" => "sk_live_from_the_secret".to_string(),
            "STRIPE_WEBHOOK_SECRET" => "whsec_from_the_secret".to_string(),
            "INTERNAL_SECRET" => "i".repeat(48),
            _ => "from-the-secret".to_string(),
        })
    })
    .expect("every variable resolves")
}

/// Reads a service's configuration from `vars` with its own type; the names it asked for.
fn read_config(service: &str, vars: &BTreeMap<String, String>) -> Result<BTreeSet<String>, String> {
    let env = EnvReader::from_map(vars.clone().into_iter().collect::<HashMap<_, _>>());
    let names: NamesRead = env.names_read();
    let result = match service {
        "auth" => auth::AuthConfig::read(env).map(drop),
        "tickets" => tickets::TicketsConfig::read(env).map(drop),
        "orders" => orders::OrdersConfig::read(env).map(drop),
        "payments" => payments::PaymentsConfig::read(env).map(drop),
        "expiration" => expiration::ExpirationConfig::read(env).map(drop),
        other => panic!("no configuration type for {other}"),
    };
    result.map_err(|error| error.to_string())?;
    Ok(names.names())
}

/// What the web server reads (server/src/services.rs without `embedded`, and Leptos' own).
const WEB_VARIABLES: &[&str] = &[
    "LOG_FORMAT",
    "RUST_LOG",
    "AUTH_URL",
    "TICKETS_URL",
    "ORDERS_URL",
    "PAYMENTS_URL",
    "STRIPE_PUBLISHABLE_KEY",
    "METRICS_ADDR",
    // shared::telemetry::TraceSettings, read in server/src/services.rs.
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    // server/src/live.rs: the live updates' NATS listener (`NatsSettings::read_listener`).
    "NATS_URL",
    "NATS_USER",
    "NATS_PASSWORD",
    // server/src/security.rs: the edge.
    "APP_ENV",
    "TRUSTED_PROXIES",
    "INTERNAL_SECRET",
    "LEPTOS_SITE_ADDR",
    "LEPTOS_SITE_ROOT",
    "LEPTOS_SITE_PKG_DIR",
    "LEPTOS_OUTPUT_NAME",
    "LEPTOS_ENV",
];

#[test]
fn every_deployment_sets_what_its_service_requires_and_nothing_it_ignores() {
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        let deployments = of_kind(&resources, "Deployment");
        assert_eq!(deployments.len(), 6, "{overlay}: one Deployment per part");
        for deployment in deployments {
            let name = deployment["metadata"]["name"].as_str().unwrap_or_default();
            let vars = environment(&resources, deployment);
            let allowed: BTreeSet<String> = if name == "web" {
                WEB_VARIABLES.iter().map(|v| v.to_string()).collect()
            } else {
                read_config(name, &vars).unwrap_or_else(|error| panic!("{overlay}/{name} would not start: {error}"))
            };
            let ignored: Vec<&String> = vars.keys().filter(|v| !allowed.contains(*v)).collect();
            assert!(ignored.is_empty(), "{overlay}/{name} sets variables it never reads: {ignored:?}");
        }
    }
}

#[test]
fn a_deployment_missing_a_required_variable_is_caught() {
    // The check above can fail: without SESSION_PUBLIC_KEYS or STRIPE_SECRET_KEY in production, payments
    // refuses to start.
    let resources = render("prod").expect("the overlay renders");
    let deployment = named(&resources, "Deployment", "payments").expect("payments is deployed");
    let mut vars = environment(&resources, deployment);
    vars.remove("STRIPE_SECRET_KEY");
    let error = read_config("payments", &vars).unwrap_err();
    assert!(error.contains("STRIPE_SECRET_KEY"), "{error}");
}

/// The Secret holding the private key sessions are signed with.
const SIGNING_SECRET: &str = "session-signing-key";

/// The Secrets a pod template's containers read: env and envFrom references, and volumes.
fn secrets_read(template: &Value) -> BTreeSet<String> {
    let spec = &template["spec"];
    let mut names = BTreeSet::new();
    let containers = spec["containers"].as_array().into_iter().flatten().chain(spec["initContainers"].as_array().into_iter().flatten());
    for container in containers {
        for entry in container["env"].as_array().into_iter().flatten() {
            names.extend(entry["valueFrom"]["secretKeyRef"]["name"].as_str().map(str::to_string));
        }
        for source in container["envFrom"].as_array().into_iter().flatten() {
            names.extend(source["secretRef"]["name"].as_str().map(str::to_string));
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        names.extend(volume["secret"]["secretName"].as_str().map(str::to_string));
        for source in volume["projected"]["sources"].as_array().into_iter().flatten() {
            names.extend(source["secret"]["name"].as_str().map(str::to_string));
        }
    }
    names
}

/// The workloads (of every kind that runs pods) that read the Secret `secret`.
fn readers_of(resources: &[Value], secret: &str) -> Vec<String> {
    let mut readers = Vec::new();
    for kind in ["Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"] {
        for workload in of_kind(resources, kind) {
            let spec = &workload["spec"];
            let template = if kind == "CronJob" { &spec["jobTemplate"]["spec"]["template"] } else { &spec["template"] };
            if secrets_read(template).contains(secret) {
                readers.push(workload["metadata"]["name"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    readers
}

#[test]
fn only_auth_is_given_the_session_signing_key() {
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        let readers = readers_of(&resources, SIGNING_SECRET);
        assert_eq!(readers, ["auth"], "{overlay}: who reads the Secret {SIGNING_SECRET}");
        // And what it holds is read by auth alone: no other service's configuration asks for it.
        for name in ["tickets", "orders", "payments", "expiration"] {
            let deployment = named(&resources, "Deployment", name).expect("deployed");
            let vars = environment(&resources, deployment);
            assert!(!vars.contains_key("SESSION_SIGNING_KEY") && !vars.contains_key("SESSION_KEY_ID"), "{overlay}/{name}");
        }
    }
}

/// The Secret holding `INTERNAL_SECRET`, with which the web server proves to auth the client
/// addresses it names.
const INTERNAL_SECRET: &str = "web-auth-internal";

#[test]
fn only_the_web_server_and_auth_share_the_internal_secret() {
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        let mut readers = readers_of(&resources, INTERNAL_SECRET);
        readers.sort();
        assert_eq!(readers, ["auth", "web"], "{overlay}: who reads the Secret {INTERNAL_SECRET}");
        for name in ["auth", "web"] {
            let deployment = named(&resources, "Deployment", name).expect("deployed");
            let vars = environment(&resources, deployment);
            assert!(vars.contains_key("INTERNAL_SECRET"), "{overlay}/{name} is given INTERNAL_SECRET");
            assert_eq!(vars.get("TRUSTED_PROXIES").map(String::as_str), Some("1"), "{overlay}/{name}: behind the ingress");
        }
    }
}

/// The HTTP contract: each prefix and the service that answers it; everything else is the web server.
const ROUTES: &[(&str, &str)] =
    &[("/api/users", "auth"), ("/api/tickets", "tickets"), ("/api/orders", "orders"), ("/api/payments", "payments"), ("/", "web")];

#[test]
fn every_api_prefix_is_routed_to_its_service_by_the_ingress_and_the_httproute() {
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        let ingress = of_kind(&resources, "Ingress");
        assert_eq!(ingress.len(), 1, "{overlay}: one Ingress");
        let mut routed = BTreeMap::new();
        for rule in ingress[0]["spec"]["rules"].as_array().into_iter().flatten() {
            for path in rule["http"]["paths"].as_array().into_iter().flatten() {
                assert_eq!(path["pathType"], "Prefix");
                routed.insert(path["path"].as_str().unwrap_or_default(), path["backend"]["service"]["name"].as_str().unwrap_or_default());
            }
        }
        let routes = of_kind(&resources, "HTTPRoute");
        assert_eq!(routes.len(), 1, "{overlay}: one HTTPRoute");
        let mut http_routed = BTreeMap::new();
        for rule in routes[0]["spec"]["rules"].as_array().into_iter().flatten() {
            let prefix = &rule["matches"][0]["path"];
            assert_eq!(prefix["type"], "PathPrefix");
            http_routed.insert(prefix["value"].as_str().unwrap_or_default(), rule["backendRefs"][0]["name"].as_str().unwrap_or_default());
        }
        for (prefix, service) in ROUTES {
            assert_eq!(routed.get(prefix), Some(service), "{overlay}: Ingress routes {prefix}");
            assert_eq!(http_routed.get(prefix), Some(service), "{overlay}: HTTPRoute routes {prefix}");
            assert!(named(&resources, "Service", service).is_some(), "{overlay}: {service} has a Service");
        }
        assert_eq!(routed.len(), ROUTES.len(), "{overlay}: no other Ingress paths");
    }
}

#[test]
fn skaffold_builds_every_image_the_manifests_use() {
    let skaffold = yaml_documents(&std::fs::read(repo().join("skaffold.yaml")).unwrap()).unwrap();
    assert_eq!(skaffold[0]["apiVersion"], "skaffold/v4beta14");
    let built: BTreeSet<&str> =
        skaffold[0]["build"]["artifacts"].as_array().unwrap().iter().map(|a| a["image"].as_str().unwrap_or_default()).collect();
    let resources = render("dev").expect("the dev overlay renders");
    let used: BTreeSet<&str> = of_kind(&resources, "Deployment")
        .iter()
        .map(|d| d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(built, used, "skaffold builds exactly the images the dev overlay deploys");
    assert_eq!(skaffold[0]["manifests"]["kustomize"]["paths"][0], "k8s/overlays/dev");
}

#[test]
fn stateless_parts_run_at_least_two_replicas_in_prod_with_probes_and_limits() {
    let resources = render("prod").expect("the overlay renders");
    for deployment in of_kind(&resources, "Deployment") {
        let name = deployment["metadata"]["name"].as_str().unwrap_or_default();
        assert!(deployment["spec"]["replicas"].as_u64() >= Some(2), "{name} replicas");
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz", "{name}");
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz", "{name}");
        assert!(container["resources"]["limits"]["memory"].is_string(), "{name} memory limit");
        assert!(named(&resources, "PodDisruptionBudget", name).is_some(), "{name} PodDisruptionBudget");
    }
    let nats = named(&resources, "StatefulSet", "nats").expect("NATS runs as a StatefulSet");
    assert_eq!(nats["spec"]["replicas"], 3);
    let config = named(&resources, "ConfigMap", "ticketing-config").unwrap();
    assert_eq!(config["data"]["NATS_STREAM_REPLICAS"], "3", "the TICKETING stream has three replicas");
}

/// Where a Deployment's container listens, by port name: `containerPort`s.
fn container_ports(container: &Value) -> BTreeMap<String, u64> {
    container["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["name"].as_str().unwrap_or_default().to_string(), p["containerPort"].as_u64().unwrap_or_default()))
        .collect()
}

#[test]
fn every_part_is_scraped_where_it_serves_metrics_and_never_on_a_routed_port_of_the_web() {
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        for deployment in of_kind(&resources, "Deployment") {
            let name = deployment["metadata"]["name"].as_str().unwrap_or_default();
            let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
            assert_eq!(annotations["prometheus.io/scrape"], "true", "{overlay}/{name}");
            assert_eq!(annotations["prometheus.io/path"], "/metrics", "{overlay}/{name}");
            let port: u64 = annotations["prometheus.io/port"].as_str().and_then(|p| p.parse().ok()).expect("a port number");
            let container = &deployment["spec"]["template"]["spec"]["containers"][0];
            let ports = container_ports(container);
            let vars = environment(&resources, deployment);
            if name == "web" {
                // The http port is the public site: metrics on their own listener.
                assert_eq!(ports.get("metrics"), Some(&port), "{overlay}/web: the scraped port is its metrics port");
                assert_ne!(ports.get("http"), Some(&port), "{overlay}/web: the site's port is routed to everyone");
                assert_eq!(vars.get("METRICS_ADDR").map(String::as_str), Some(format!("0.0.0.0:{port}").as_str()), "{overlay}/web");
            } else {
                // A service serves /metrics beside its probes, on the port the ingress routes
                // only /api/... to.
                assert_eq!(ports.get("http"), Some(&port), "{overlay}/{name}: the scraped port is its own");
                assert_eq!(vars.get("PORT").and_then(|p| p.parse::<u64>().ok()), Some(port), "{overlay}/{name}: it listens there");
            }
        }
    }
}
