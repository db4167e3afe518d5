//! The API's answers that must not depend on the topology: the same requests, run against the
//! single-machine server and against the distributed topology's ingress, must get the same
//! statuses and the same error shapes (the HTTP contract: every error is
//! `{"errors":[{"message", "field"?, "code"}]}`, unknown `/api` paths are a JSON 404, other
//! unknown paths the web client's HTML 404).
use reqwest::Method;
use serde_json::{json, Value};

/// What an answer must be.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// The API's error shape with this code and message (its start) first.
    Error(&'static str, &'static str),
    /// JSON equal to this.
    Json(fn() -> Value),
    /// JSON whose value at this pointer is this.
    JsonAt(&'static str, fn() -> Value),
    /// An HTML page.
    Html,
}

const NOT_ALLOWED: Body = Body::Error("method_not_allowed", "Method not allowed");
const NOT_FOUND: Body = Body::Error("not_found", "Not Found");
const NOT_AUTHORIZED: Body = Body::Error("not_authorized", "Not authorized");

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Option<Vec<u8>>,
    content_type: Option<&'static str>,
    status: u16,
    expect: Body,
}

fn cases() -> Vec<Case> {
    let case = |name, method, path, status, expect| Case { name, method, path, body: None, content_type: None, status, expect };
    vec![
        case("a wrong method on a ticket", Method::PATCH, "/api/tickets/some-id", 405, NOT_ALLOWED),
        case("a wrong method on the orders", Method::DELETE, "/api/orders", 405, NOT_ALLOWED),
        case("a wrong method on payments", Method::GET, "/api/payments", 405, NOT_ALLOWED),
        case("a wrong method on sign-up", Method::GET, "/api/users/signup", 405, NOT_ALLOWED),
        case("an unknown /api path", Method::GET, "/api/nothing-here", 404, NOT_FOUND),
        case("an unknown path under a service's prefix", Method::GET, "/api/tickets/some-id/nothing", 404, NOT_FOUND),
        case("a prefix is a whole segment", Method::GET, "/api/usersx", 404, NOT_FOUND),
        case("a service's bare prefix", Method::GET, "/api/users", 404, NOT_FOUND),
        case("an unknown ticket", Method::GET, "/api/tickets/no-such-ticket", 404, NOT_FOUND),
        case("selling while signed out", Method::POST, "/api/tickets", 401, NOT_AUTHORIZED),
        case("orders while signed out", Method::GET, "/api/orders", 401, NOT_AUTHORIZED),
        case("my tickets while signed out", Method::GET, "/api/tickets/mine", 401, NOT_AUTHORIZED),
        case("a wrong method on my tickets", Method::POST, "/api/tickets/mine", 405, NOT_ALLOWED),
        case(
            "the current user while signed out",
            Method::GET,
            "/api/users/currentuser",
            200,
            Body::Json(|| json!({ "currentUser": null })),
        ),
        case("an unknown page", Method::GET, "/no-such-page", 404, Body::Html),
        // Merged by the web server: on one machine from its own process, behind the ingress from
        // each service's /openapi.json.
        case(
            "the API's description, every service's routes in it",
            Method::GET,
            "/api/openapi.json",
            200,
            Body::JsonAt("/paths/~1api~1payments/post/operationId", || json!("createPayment")),
        ),
        Case {
            name: "malformed JSON",
            method: Method::POST,
            path: "/api/users/signup",
            body: Some(b"{\"email\": ".to_vec()),
            content_type: Some("application/json"),
            status: 400,
            expect: Body::Error("invalid_json", "Malformed JSON"),
        },
        Case {
            name: "a body over 64 KiB",
            method: Method::POST,
            path: "/api/users/signup",
            body: Some(vec![b' '; 100 * 1024]),
            content_type: Some("application/json"),
            status: 413,
            expect: Body::Error("payload_too_large", "Request body too large"),
        },
    ]
}

/// Runs every case against `base`; the failures, each saying what differed.
pub async fn run(base: &str) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?;
    let mut failures = Vec::new();
    for case in cases() {
        let mut request =
            client.request(case.method.clone(), format!("{base}{}", case.path)).header("accept", "application/json, text/html");
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(body) = case.body.clone() {
            request = request.body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let text = response.text().await.unwrap_or_default();
        let mut problems = Vec::new();
        if status != case.status {
            problems.push(format!("status {status}, expected {}", case.status));
        }
        match case.expect {
            Body::Error(code, message) => {
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let first = &body["errors"][0];
                // Clients translate by the code, so it must hold in every topology as the message does.
                let said = first["message"].as_str().unwrap_or_default();
                if first["code"].as_str() != Some(code) || !said.starts_with(message) {
                    problems.push(format!("body {text:.200?}, expected the error shape with {code:?} and {message:?}"));
                }
            }
            Body::Json(expected) => {
                if serde_json::from_str::<Value>(&text).ok() != Some(expected()) {
                    problems.push(format!("body {text:.200?}, expected {}", expected()));
                }
            }
            Body::JsonAt(pointer, expected) => {
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if body.pointer(pointer) != Some(&expected()) {
                    problems.push(format!("body {text:.200?}, expected {} at {pointer}", expected()));
                }
            }
            Body::Html => {
                if !content_type.starts_with("text/html") {
                    problems.push(format!("content type {content_type:?}, expected an HTML page"));
                }
            }
        }
        let verdict = if problems.is_empty() { "ok" } else { "FAILED" };
        println!("[contract] {verdict:<6} {} {} ({})", case.method, case.path, case.name);
        if !problems.is_empty() {
            failures.push(format!("{} {} ({}): {}", case.method, case.path, case.name, problems.join("; ")));
        }
    }
    Ok(failures)
}
