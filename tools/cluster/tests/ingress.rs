//! The ingress of the local topology is generated from the Ingress manifest; nginx accepts it,
//! every API prefix of the contract reaches the Service the manifest names, and what nginx
//! answers by itself on the API is in the API's error shape.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cluster::manifests::Manifests;
use cluster::process::{free_port, Proc};

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

/// Where Debian's nginx is (scripts/setup installs it); a user's PATH may lack /usr/sbin.
fn nginx_program() -> &'static Path {
    let sbin = Path::new("/usr/sbin/nginx");
    if sbin.exists() {
        sbin
    } else {
        Path::new("nginx")
    }
}

fn content_type(response: &reqwest::Response) -> Option<String> {
    response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// What nginx answers by itself under /api (a body over its limit, a Service that does not
/// answer) is in the API's error shape, `{"errors":[{"message":…,"code":…}]}`, not nginx's HTML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ingress_answers_its_own_errors_on_the_api_in_the_api_error_shape() {
    let manifests = Manifests::load().expect("k8s/base renders");
    let paths = manifests.ingress_paths().expect("the Ingress has paths");
    // Every Service's replica on a port nothing listens on: every upstream is down.
    let mut upstreams = BTreeMap::new();
    for part in manifests.deployments() {
        upstreams.insert(part, vec![free_port().unwrap()]);
    }
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
    let port = free_port().unwrap();
    let conf = cluster::nginx::config(dir.path(), port, &paths, &upstreams, &BTreeMap::new()).unwrap();
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, &conf).unwrap();
    let args = vec![
        "-p".to_string(),
        dir.path().display().to_string(),
        "-e".to_string(),
        logs.join("nginx-error.log").display().to_string(),
        "-c".to_string(),
        conf_path.display().to_string(),
        "-g".to_string(),
        "daemon off; master_process off;".to_string(),
    ];
    let mut nginx = Proc::new("nginx", nginx_program(), args, Vec::new(), &logs).with_port(port);
    nginx.spawn().unwrap();
    nginx.wait_port(Duration::from_secs(10)).await.unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let base = format!("http://127.0.0.1:{port}");

    // Over nginx's limit (its default, 1 MiB; the services' own, 64 KiB, answers the same shape).
    let response = client
        .post(format!("{base}/api/tickets"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(vec![b' '; (1 << 20) + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(content_type(&response).as_deref(), Some("application/json"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "errors": [{ "message": "Request body too large", "code": "payload_too_large" }] }));

    // A Service with no replica answering: 502, in the same shape, on every API route (an unknown
    // one goes to the web server, as before).
    for path in ["/api/tickets", "/api/users/currentuser", "/api/orders", "/api/nowhere"] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 502, "{path}");
        assert_eq!(content_type(&response).as_deref(), Some("application/json"), "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "service_unavailable", "{path}: {body}");
    }
    // The pages keep nginx's own page.
    let response = client.get(format!("{base}/tickets")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert_ne!(content_type(&response).as_deref(), Some("application/json"));
    nginx.stop(Duration::from_secs(5)).await;
}
