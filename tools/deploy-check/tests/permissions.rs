//! Who may do what in the manifests, checked against the code: each service (and the web server,
//! which only listens) connects to NATS as its own user, whose permissions the servers'
//! configuration holds exactly as `shared::events::permissions` renders them, from its own
//! Secret; and the network policies
//! isolate every pod and open only the paths the marketplace uses. Run with `cargo test -p
//! deploy-check`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use deploy_check::{named, of_kind, render};
use serde_json::Value;
use shared::events::permissions::{self, Passwords};

const OVERLAYS: &[&str] = &["dev", "prod"];

/// A container's environment entries by name.
fn env_entries(container: &Value) -> BTreeMap<String, &Value> {
    container["env"].as_array().into_iter().flatten().map(|e| (e["name"].as_str().unwrap_or_default().to_string(), e)).collect()
}

fn secret_of(entry: &Value) -> Option<(&str, &str)> {
    let reference = &entry["valueFrom"]["secretKeyRef"];
    Some((reference["name"].as_str()?, reference["key"].as_str()?))
}

#[test]
fn the_nats_servers_run_the_users_and_permissions_the_code_declares() {
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        let config = named(&resources, "ConfigMap", "nats-config").expect("the NATS ConfigMap");
        let main = config["data"]["nats.conf"].as_str().expect("nats-config has nats.conf");
        assert!(permissions::significant_lines(main).contains(&"include auth.conf"), "{overlay}: nats.conf includes auth.conf");
        let auth = config["data"]["auth.conf"].as_str().expect("nats-config has auth.conf");
        assert_eq!(
            permissions::significant_lines(auth),
            permissions::significant_lines(&permissions::authorization(Passwords::Environment)),
            "{overlay}: auth.conf differs from permissions::authorization(Passwords::Environment): render it again"
        );
        // Each user's password reaches the servers from that user's Secret.
        let nats = named(&resources, "StatefulSet", "nats").expect("NATS runs as a StatefulSet");
        let env = env_entries(&nats["spec"]["template"]["spec"]["containers"][0]);
        for user in permissions::users() {
            let variable = permissions::password_variable(user);
            let secret = env.get(&variable).and_then(|entry| secret_of(entry));
            let expected = format!("nats-{user}");
            assert_eq!(secret, Some((expected.as_str(), "password")), "{overlay}: the NATS servers' {variable}");
        }
    }
}

#[test]
fn each_service_connects_to_nats_as_its_own_user_with_its_own_secrets() {
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        let deployments = of_kind(&resources, "Deployment");
        for deployment in &deployments {
            let name = deployment["metadata"]["name"].as_str().unwrap_or_default();
            let env = env_entries(&deployment["spec"]["template"]["spec"]["containers"][0]);
            if permissions::connects(name) {
                assert_eq!(env.get("NATS_USER").map(|e| &e["value"]), Some(&Value::from(name)), "{overlay}/{name}: NATS_USER");
                let expected = format!("nats-{name}");
                let password = env.get("NATS_PASSWORD").and_then(|entry| secret_of(entry));
                assert_eq!(password, Some((expected.as_str(), "password")), "{overlay}/{name}: NATS_PASSWORD");
            } else {
                // A part without a NATS user of its own sets no NATS variable.
                let nats: Vec<&String> = env.keys().filter(|k| k.starts_with("NATS_")).collect();
                assert!(nats.is_empty(), "{overlay}/{name} has no NATS user but sets {nats:?}");
            }
            // No other part's NATS user nor database user.
            for (variable, entry) in &env {
                if let Some((secret, _)) = secret_of(entry)
                    && let Some(owner) = secret.strip_prefix("nats-").or_else(|| secret.strip_prefix("db-"))
                {
                    assert_eq!(owner, name, "{overlay}/{name}: {variable} reads the Secret {secret}");
                }
            }
        }
        let with_users: BTreeSet<&str> =
            deployments.iter().filter_map(|d| d["metadata"]["name"].as_str()).filter(|name| permissions::connects(name)).collect();
        let declared: BTreeSet<&str> =
            permissions::SERVICES.iter().map(|s| s.name).chain(permissions::LISTENERS.iter().map(|l| l.name)).collect();
        assert_eq!(with_users, declared, "{overlay}: every NATS user of the code is a Deployment's");
    }
}

#[test]
fn each_user_is_allowed_the_durable_consumer_and_schedules_its_service_uses() {
    let durables = [
        ("tickets", tickets::events::DURABLE),
        ("orders", orders::events::DURABLE),
        ("payments", payments::events::DURABLE),
        ("expiration", expiration::events::DURABLE),
    ];
    for (name, durable) in durables {
        assert_eq!(permissions::service(name).and_then(|s| s.durable), Some(durable), "{name}'s durable consumer");
    }
    let schedule = format!("{}.o1", expiration::events::SCHEDULE_PREFIX);
    let expiration = permissions::service("expiration").expect("expiration has a user");
    assert!(expiration.publish_allow().iter().any(|p| permissions::covers(p, &schedule)), "expiration may store {schedule}");
}

/// One end of a connection.
#[derive(Debug, Clone)]
enum End {
    /// A pod of the marketplace's namespace, by its labels.
    Pod(BTreeMap<String, String>),
    /// A pod of another namespace: the namespace's labels and the pod's.
    Other { namespace: BTreeMap<String, String>, pod: BTreeMap<String, String> },
    /// An address outside the cluster.
    Address(IpAddr),
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The network policies of one rendered overlay, as a CNI enforces them.
struct Policies {
    policies: Vec<Value>,
    /// The labels of the namespace the marketplace runs in.
    namespace: BTreeMap<String, String>,
}

fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector["matchLabels"].as_object().into_iter().flatten().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let by_expressions = selector["matchExpressions"].as_array().into_iter().flatten().all(|expression| {
        let found = labels.get(expression["key"].as_str().unwrap_or_default()).map(String::as_str);
        let values: Vec<&str> = expression["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        match expression["operator"].as_str() {
            Some("In") => found.is_some_and(|f| values.contains(&f)),
            Some("NotIn") => found.is_none_or(|f| !values.contains(&f)),
            Some("Exists") => found.is_some(),
            Some("DoesNotExist") => found.is_none(),
            other => panic!("unknown selector operator {other:?}"),
        }
    });
    by_labels && by_expressions
}

fn in_block(cidr: &str, address: IpAddr) -> bool {
    let (network, prefix) = cidr.split_once('/').expect("a CIDR");
    let prefix: u32 = prefix.parse().expect("a prefix length");
    match (network.parse::<IpAddr>().expect("a network address"), address) {
        (IpAddr::V4(network), IpAddr::V4(address)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
            u32::from(network) & mask == u32::from(address) & mask
        }
        (IpAddr::V6(network), IpAddr::V6(address)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
            u128::from(network) & mask == u128::from(address) & mask
        }
        _ => false,
    }
}

impl Policies {
    fn of(resources: &[Value]) -> Self {
        let policies: Vec<Value> = of_kind(resources, "NetworkPolicy").into_iter().cloned().collect();
        let namespace = resources.iter().find_map(|r| r["metadata"]["namespace"].as_str()).expect("the overlay sets a namespace");
        Self { policies, namespace: labels(&[("kubernetes.io/metadata.name", namespace)]) }
    }

    fn peer_matches(&self, peer: &Value, end: &End) -> bool {
        if let Some(block) = peer.get("ipBlock") {
            // The blocks here leave out private ranges: they match no pod.
            let End::Address(address) = end else { return false };
            let excepted = block["except"].as_array().into_iter().flatten().filter_map(Value::as_str).any(|e| in_block(e, *address));
            return in_block(block["cidr"].as_str().expect("a cidr"), *address) && !excepted;
        }
        let (namespace, pod) = match end {
            End::Pod(pod) => (&self.namespace, pod),
            End::Other { namespace, pod } => (namespace, pod),
            End::Address(_) => return false,
        };
        let namespace_matches = match peer.get("namespaceSelector") {
            Some(selector) => selects(selector, namespace),
            // A pod selector alone means the policy's own namespace.
            None => matches!(end, End::Pod(_)),
        };
        namespace_matches && peer.get("podSelector").is_none_or(|selector| selects(selector, pod))
    }

    /// Whether the policies that select `pod` for `direction` let it talk with `other`.
    fn lets(&self, pod: &BTreeMap<String, String>, direction: &str, other: &End, port: u16, protocol: &str) -> bool {
        let (rules, peers) = if direction == "Ingress" { ("ingress", "from") } else { ("egress", "to") };
        let selecting: Vec<&Value> = self
            .policies
            .iter()
            .filter(|p| selects(&p["spec"]["podSelector"], pod))
            .filter(|p| p["spec"]["policyTypes"].as_array().into_iter().flatten().any(|t| t == direction))
            .collect();
        if selecting.is_empty() {
            return true;
        }
        selecting.iter().any(|policy| {
            policy["spec"][rules].as_array().into_iter().flatten().any(|rule| {
                let peer_ok = match rule[peers].as_array() {
                    Some(list) => list.iter().any(|peer| self.peer_matches(peer, other)),
                    None => true,
                };
                let port_ok = match rule["ports"].as_array() {
                    Some(list) => list.iter().any(|p| {
                        p["protocol"].as_str().unwrap_or("TCP") == protocol
                            && (p["port"].is_null() || p["port"].as_u64() == Some(port.into()))
                    }),
                    None => true,
                };
                peer_ok && port_ok
            })
        })
    }

    /// Whether a connection from `from` to `to` on `port` gets through: out of `from` and into `to`.
    fn allows(&self, from: &End, to: &End, port: u16, protocol: &str) -> bool {
        let out = match from {
            End::Pod(pod) => self.lets(pod, "Egress", to, port, protocol),
            _ => true,
        };
        let into = match to {
            End::Pod(pod) => self.lets(pod, "Ingress", from, port, protocol),
            _ => true,
        };
        out && into
    }
}

/// Every pod the manifests run, by its `app.kubernetes.io/name`, with its labels.
fn pods(resources: &[Value]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut pods = BTreeMap::new();
    for kind in ["Deployment", "StatefulSet", "Job"] {
        for workload in of_kind(resources, kind) {
            let workload_name = workload["metadata"]["name"].as_str().unwrap_or_default();
            let found: BTreeMap<String, String> = workload["spec"]["template"]["metadata"]["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            let name = found.get("app.kubernetes.io/name").unwrap_or_else(|| panic!("{kind} {workload_name}'s pods have no name label"));
            pods.insert(name.clone(), found.clone());
        }
    }
    pods
}

#[test]
fn every_pod_is_isolated_by_default() {
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        let policies = of_kind(&resources, "NetworkPolicy");
        let default_deny = policies.iter().find(|p| {
            let spec = &p["spec"];
            spec["podSelector"].as_object().is_some_and(|s| s.is_empty())
                && spec["policyTypes"] == serde_json::json!(["Ingress", "Egress"])
                && spec["ingress"].is_null()
                && spec["egress"].is_null()
        });
        assert!(default_deny.is_some(), "{overlay}: a policy denies every pod's ingress and egress");
        for policy in &policies {
            assert!(policy["spec"]["policyTypes"].is_array(), "{overlay}: {} names its policy types", policy["metadata"]["name"]);
        }
        let pods = pods(&resources);
        let expected: BTreeSet<&str> =
            ["auth", "tickets", "orders", "payments", "expiration", "web", "nats", "surrealdb", "surrealdb-users"].into_iter().collect();
        assert_eq!(pods.keys().map(String::as_str).collect::<BTreeSet<_>>(), expected, "{overlay}: the pods the policies know");
    }
}

#[test]
fn only_the_paths_the_marketplace_uses_are_open() {
    const PORTS: &[u16] = &[53, 80, 443, 3000, 4222, 6222, 8000, 8222, 9100];
    let open: BTreeSet<(&str, &str, u16)> = [
        [("web", "auth", 3000), ("web", "tickets", 3000), ("web", "orders", 3000), ("web", "payments", 3000)].as_slice(),
        &[("tickets", "nats", 4222), ("orders", "nats", 4222), ("payments", "nats", 4222), ("expiration", "nats", 4222)],
        // Auth ends sessions (its outbox puts them into the revoked sessions' bucket).
        &[("auth", "nats", 4222)],
        // The web server's live updates: it listens to events.
        &[("web", "nats", 4222)],
        &[("nats", "nats", 6222)],
        &[("auth", "surrealdb", 8000), ("tickets", "surrealdb", 8000), ("orders", "surrealdb", 8000), ("payments", "surrealdb", 8000)],
        &[("surrealdb-users", "surrealdb", 8000)],
    ]
    .concat()
    .into_iter()
    .collect();
    let routed = ["auth", "tickets", "orders", "payments", "web"];
    // Where Prometheus reads /metrics: each service's own port, the web server's metrics port.
    let scraped: BTreeSet<(&str, u16)> =
        [("auth", 3000), ("tickets", 3000), ("orders", 3000), ("payments", 3000), ("expiration", 3000), ("web", 9100)]
            .into_iter()
            .collect();
    let prometheus = End::Other {
        namespace: labels(&[("kubernetes.io/metadata.name", "monitoring")]),
        pod: labels(&[("app.kubernetes.io/name", "prometheus")]),
    };
    let ingress_controller = End::Other {
        namespace: labels(&[("kubernetes.io/metadata.name", "ingress-nginx")]),
        pod: labels(&[("app.kubernetes.io/name", "ingress-nginx")]),
    };
    let dns = End::Other { namespace: labels(&[("kubernetes.io/metadata.name", "kube-system")]), pod: labels(&[("k8s-app", "kube-dns")]) };
    let stranger = End::Other { namespace: labels(&[("kubernetes.io/metadata.name", "default")]), pod: labels(&[("app", "curious")]) };
    let stripe: IpAddr = "54.187.216.72".parse().unwrap();
    let stripe_v6: IpAddr = "2600:1f14::1".parse().unwrap();
    for overlay in OVERLAYS {
        let resources = render(overlay).expect("the overlay renders");
        let policies = Policies::of(&resources);
        let pods = pods(&resources);
        for (from, from_labels) in &pods {
            let source = End::Pod(from_labels.clone());
            for (to, to_labels) in &pods {
                let target = End::Pod(to_labels.clone());
                for &port in PORTS {
                    let expected = open.contains(&(from.as_str(), to.as_str(), port));
                    assert_eq!(policies.allows(&source, &target, port, "TCP"), expected, "{overlay}: {from} → {to}:{port}");
                }
            }
            for protocol in ["UDP", "TCP"] {
                assert!(policies.allows(&source, &dns, 53, protocol), "{overlay}: {from} resolves names ({protocol})");
            }
            assert!(!policies.allows(&source, &dns, 443, "TCP"), "{overlay}: {from} → kube-dns:443");
            for port in [443, 80] {
                let expected = from == "payments" && port == 443;
                assert_eq!(policies.allows(&source, &End::Address(stripe), port, "TCP"), expected, "{overlay}: {from} → Stripe:{port}");
                assert_eq!(
                    policies.allows(&source, &End::Address(stripe_v6), port, "TCP"),
                    expected,
                    "{overlay}: {from} → [Stripe]:{port}"
                );
            }
            for private in ["10.96.0.1", "169.254.169.254", "192.168.1.1", "fd00::1"] {
                let address = End::Address(private.parse().unwrap());
                assert!(!policies.allows(&source, &address, 443, "TCP"), "{overlay}: {from} → {private}:443");
            }
            for &port in PORTS {
                let expected = routed.contains(&from.as_str()) && port == 3000;
                assert_eq!(policies.allows(&ingress_controller, &source, port, "TCP"), expected, "{overlay}: ingress → {from}:{port}");
                let expected = scraped.contains(&(from.as_str(), port));
                assert_eq!(policies.allows(&prometheus, &source, port, "TCP"), expected, "{overlay}: monitoring → {from}:{port}");
                assert!(!policies.allows(&stranger, &source, port, "TCP"), "{overlay}: another namespace → {from}:{port}");
                assert!(!policies.allows(&source, &stranger, port, "TCP"), "{overlay}: {from} → another namespace:{port}");
            }
        }
    }
}
