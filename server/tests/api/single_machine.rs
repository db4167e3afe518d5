//! The single-machine server: every service in one process on one port, SurrealDB embedded,
//! its own nats-server. Started as a user starts it, from the binary, on a fresh data folder.
//!
//! Besides what it checks, this test makes `cargo test` build the server binary with the tests'
//! features, so that `scripts/test` runs the browser journeys on that build instead of compiling
//! the stack once more.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use shared::{ErrorCode, ErrorItem};
use test_support::{error_items, eventually, free_port, metric_value, scrape, NatsServer};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_server_starts_renders_pages_and_answers_the_api_on_one_port() {
    let nats = NatsServer::start();
    let (data, site) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port, metrics_port) = (free_port(), free_port());
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_server"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("LEPTOS_SITE_ROOT", site.path())
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_OUTPUT_NAME", "ticketing")
            .env("DATA_DIR", data.path())
            .env("NATS_URL", nats.url())
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let ready = eventually(Duration::from_secs(60), || async {
        client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success())
    })
    .await;
    assert!(ready, "the server never became ready at {base}");

    let home = client.get(&base).send().await.unwrap();
    assert_eq!(home.status().as_u16(), 200);
    let html = home.text().await.unwrap();
    // The names cargo-leptos gives the bundle (`LEPTOS_OUTPUT_NAME` in .cargo/config.toml).
    assert!(html.contains("/pkg/ticketing.js") && html.contains("/pkg/ticketing.wasm"), "the page loads the hydration bundle: {html}");
    assert!(html.contains("No tickets for sale right now."), "the empty list is rendered: {html}");
    // Gzip whatever else the client offers, in this build (whose features are unified with the
    // SurrealDB server's, Brotli included) as in the shipped one.
    let raw = reqwest::Client::builder().no_gzip().no_brotli().no_deflate().no_zstd().build().unwrap();
    for path in ["/", "/api/openapi.json"] {
        let answer = raw.get(format!("{base}{path}")).header("accept-encoding", "br, zstd, deflate, gzip").send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{path}");
        assert_eq!(answer.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"), "{path}");
    }

    // The services answer on the same port, and the page reads the session through them.
    let signup = client
        .post(format!("{base}/api/users/signup"))
        .json(&serde_json::json!({ "email": "ann@example.com", "password": "a long password" }));
    assert_eq!(signup.send().await.unwrap().status().as_u16(), 201);
    let html = client.get(&base).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("ann@example.com"), "the header names the signed-in user: {html}");
    let missing = client.get(format!("{base}/no-such-page")).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    // An unknown `/api` path is the web server's own answer: the API's shape, code included.
    let missing = client.get(format!("{base}/api/no-such-route")).send().await.unwrap();
    assert_eq!(error_items(missing, 404).await, vec![ErrorItem::new(ErrorCode::NotFound, "Not Found")]);

    // Japanese or English: by the `lang` cookie, else by `Accept-Language`; English by default.
    let visitor = reqwest::Client::new();
    let page = |accept_language: &'static str, cookie: &'static str| {
        let request = visitor.get(&base).header("accept-language", accept_language).header("cookie", cookie);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let japanese = page("ja-JP,ja;q=0.9,en-US;q=0.8", "").await;
    assert!(japanese.contains(r#"<html lang="ja""#) && japanese.contains(">新規登録<"), "Japanese by the header: {japanese}");
    let english = page("fr-FR, de;q=0.9", "").await;
    assert!(english.contains(r#"<html lang="en""#) && english.contains(">Sign Up<"), "English by default: {english}");
    let answer = visitor.get(&base).send().await.unwrap();
    let vary: Vec<_> = answer.headers().get_all("vary").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(vary.iter().any(|v| v.contains("Accept-Language") && v.contains("Cookie")), "a page says what it depends on: {vary:?}");
    let chosen = page("ja-JP,ja;q=0.9", "lang=en").await;
    assert!(chosen.contains(r#"<html lang="en""#), "the cookie over the header: {chosen}");
    // The switch is a form post: it sets the cookie for a year and goes back to the page it was
    // posted from, never to another site.
    let switch = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for (next, back) in [
        ("/tickets/new?from=switch", "/tickets/new?from=switch"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("/\\evil.example/", "/"),
    ] {
        let switched = switch
            .post(format!("{base}/_fn/language"))
            .header("accept", "text/html")
            .form(&[("lang", "ja"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert!(switched.status().is_redirection(), "{next}: {}", switched.status());
        assert_eq!(switched.headers()["location"], back, "{next}");
        let cookie = switched.headers()["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("lang=ja;") && cookie.contains("Max-Age=31536000"), "{cookie}");
    }

    // The API's description: every service's routes merged, with the links between them.
    let description = client.get(format!("{base}/api/openapi.json")).send().await.unwrap();
    assert_eq!(description.status().as_u16(), 200);
    let description: serde_json::Value = description.json().await.unwrap();
    assert_eq!(description["info"]["title"], "Ticketing API");
    for path in ["/api/users/signup", "/api/tickets/{id}", "/api/orders", "/api/payments/webhook"] {
        assert!(description["paths"].get(path).is_some(), "{path} is described");
    }
    let pay = &description["paths"]["/api/orders"]["post"]["responses"]["201"]["links"]["payOrder"];
    assert_eq!(pay["operationId"], "createPayment", "an order links to its payment: {pay}");

    // Metrics on their own listener, with the embedded services' series beside the web's; the
    // public port has no /metrics (the app's 404 page).
    let metrics = scrape(&client, &format!("http://127.0.0.1:{metrics_port}")).await;
    let signed_up = [("service", "web"), ("method", "POST"), ("route", "/api/users/signup"), ("status", "201")];
    assert_eq!(metric_value(&metrics, "http_requests_total", &signed_up), Some(1.0), "{metrics}");
    assert!(metrics.contains("# TYPE outbox_backlog gauge"), "the services' relays report here too: {metrics}");
    let public = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(public.status().as_u16(), 404);
    let page = public.text().await.unwrap();
    assert!(!page.contains("# TYPE"), "the site's port serves metrics: {page}");

    // Live updates: a ticket listed now reaches a stream already open, through the web server's
    // own NATS user (the harness' nats-server has every user of the permissions table).
    let mut stream = reqwest::Client::new().get(format!("{base}/live/tickets")).send().await.unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    let listed = client.post(format!("{base}/api/tickets")).json(&serde_json::json!({ "title": "Live", "price": 10 }));
    let ticket: serde_json::Value = listed.send().await.unwrap().json().await.unwrap();
    let id = ticket["id"].as_str().unwrap().to_string();
    let heard = tokio::time::timeout(Duration::from_secs(5), async {
        let mut text = String::new();
        while let Some(chunk) = stream.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains(&id) {
                break;
            }
        }
        text
    })
    .await
    .expect("the new ticket's event within 5 s");
    assert!(heard.contains(&format!("event: ticket\ndata: {{\"id\":\"{id}\",\"version\":0}}")), "{heard}");
    // A server function forwards an id as one path segment, never as a path: `..` once turned
    // "cancel this order" into a DELETE of another route of the service, with the visitor's session.
    let forged = client.post(format!("{base}/_fn/cancel")).form(&[("id", format!("../tickets/{id}"))]).send().await.unwrap();
    assert_eq!(forged.status().as_u16(), 404, "{:?}", forged.text().await);
    let still = client.get(format!("{base}/api/tickets/{id}")).send().await.unwrap();
    assert_eq!(still.status().as_u16(), 200, "the ticket is still listed");
    // An order's stream is its buyer's: none for an order that is not the visitor's.
    let refused = client.get(format!("{base}/live/orders/o1")).send().await.unwrap();
    assert_eq!(error_items(refused, 404).await, vec![ErrorItem::new(ErrorCode::NotFound, "Not Found")]);
}
