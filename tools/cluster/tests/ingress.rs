//! The ingress of the local topology is generated from the Ingress manifest; nginx accepts it, and
//! every API prefix of the contract reaches the Service the manifest names.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
use std::collections::BTreeMap;

use cluster::manifests::Manifests;

#[test]
fn nginx_accepts_the_configuration_generated_from_the_manifests() {
    let manifests = Manifests::load().expect("k8s/base renders");
    let paths = manifests.ingress_paths().expect("the Ingress has paths");
    let routed: BTreeMap<&str, &str> = paths.iter().map(|p| (p.path.as_str(), p.service.as_str())).collect();
    for (prefix, service) in
        [("/api/users", "auth"), ("/api/tickets", "tickets"), ("/api/orders", "orders"), ("/api/payments", "payments"), ("/", "web")]
    {
        assert_eq!(routed.get(prefix), Some(&service), "{prefix}");
    }
    let mut upstreams = BTreeMap::new();
    let mut services = BTreeMap::new();
    for (i, part) in manifests.deployments().iter().enumerate() {
        let replicas = manifests.replicas(part).unwrap();
        upstreams.insert(part.clone(), (0..replicas as u16).map(|r| 20_000 + 10 * i as u16 + r).collect());
        services.insert(part.clone(), 21_000 + i as u16);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
    let conf = cluster::nginx::config(dir.path(), 22_000, &paths, &upstreams, &services).unwrap();
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, &conf).unwrap();
    let nginx = if std::path::Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx" } else { "nginx" };
    let output = std::process::Command::new(nginx)
        .arg("-t")
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("logs/error.log"))
        .arg("-c")
        .arg(&conf_path)
        .output()
        .expect("nginx runs (scripts/setup installs it)");
    assert!(output.status.success(), "nginx -t refused:\n{}\n{conf}", String::from_utf8_lossy(&output.stderr));
}
