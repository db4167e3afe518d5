//! `GET /api/openapi.json`: the services' OpenAPI descriptions merged into one, the API as a client
//! sees it through this server (one machine) or the ingress (Kubernetes).
//!
//! Why here: a client knows one address, and each service describes only its own routes (at
//! `/openapi.json` on its own port, which the ingress does not route). On one machine (feature
//! `embedded`) the services run in this process, so their descriptions are merged once at start.
//! Otherwise the web server fetches each service's `/openapi.json` from the URLs server functions
//! call ([`ApiConfig`]) on the first request, merges them and keeps the result for the life of the
//! process; a service that cannot be reached makes the answer a 503 (`service_unavailable`), and
//! the next request tries again. A rolled-out service with new routes shows after the web server's
//! own next roll-out, which the images' shared version makes the same one.
//!
//! The links between services (a new user sells, a listed ticket is ordered, an order is paid:
//! what the fuzzer's stateful phase follows, see `scripts/fuzz`) are added after merging: a
//! service's own description cannot name another service's operations and still be whole.
use std::sync::Arc;
use std::time::Duration;

use app::api::ApiConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use shared::{ApiError, ErrorCode, ErrorItem};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, RefOr};

/// Where the merged description is served.
pub const PATH: &str = "/api/openapi.json";

/// The merged description, or where to fetch its parts.
#[derive(Clone)]
pub enum Descriptions {
    /// Merged and serialized at start (one machine).
    #[cfg_attr(not(feature = "embedded"), allow(dead_code))]
    Merged(Result<Bytes, Arc<str>>),
    /// Fetched from each service on first request (Kubernetes, `scripts/cluster`).
    Remote(Arc<Remote>),
}

impl Descriptions {
    /// The services' own descriptions, merged now.
    #[cfg(feature = "embedded")]
    pub fn merged(services: impl IntoIterator<Item = OpenApi>) -> Self {
        Self::Merged(merge(services).to_json().map(Bytes::from).map_err(|error| Arc::from(error.to_string())))
    }

    /// The services `api` calls, each asked for its `/openapi.json` when first needed.
    pub fn remote(api: &ApiConfig) -> Self {
        let sources =
            [("auth", &api.auth_url), ("tickets", &api.tickets_url), ("orders", &api.orders_url), ("payments", &api.payments_url)]
                .map(|(service, url)| (service, format!("{}/openapi.json", url.trim_end_matches('/'))));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).no_gzip().build().unwrap_or_default();
        Self::Remote(Arc::new(Remote { sources, client, merged: tokio::sync::OnceCell::new() }))
    }
}

/// The services' descriptions at their URLs, and their merge once every one answered.
pub struct Remote {
    sources: [(&'static str, String); 4],
    client: reqwest::Client,
    merged: tokio::sync::OnceCell<Bytes>,
}

impl Remote {
    async fn fetch(&self) -> Result<Bytes, ApiError> {
        let mut descriptions = Vec::with_capacity(self.sources.len());
        for (service, url) in &self.sources {
            let fetched: Result<OpenApi, reqwest::Error> =
                async { self.client.get(url).send().await?.error_for_status()?.json::<OpenApi>().await }.await;
            match fetched {
                Ok(description) => descriptions.push(description),
                Err(error) => {
                    tracing::warn!(service, %url, %error, "a service's API description could not be fetched");
                    let message = format!("The {service} service's API description could not be fetched, please try again");
                    return Err(ApiError::Unavailable(ErrorItem::new(ErrorCode::ServiceUnavailable, message)));
                }
            }
        }
        merge(descriptions).to_json().map(Bytes::from).map_err(|error| ApiError::Internal(error.into()))
    }
}

/// `GET /api/openapi.json`. Merge it into the web server's router before its `/api` 404.
pub fn router(descriptions: Descriptions) -> Router {
    Router::new().route(PATH, get(answer)).with_state(descriptions)
}

async fn answer(State(descriptions): State<Descriptions>) -> Result<Response, ApiError> {
    let body = match descriptions {
        Descriptions::Merged(Ok(body)) => body,
        Descriptions::Merged(Err(why)) => return Err(ApiError::Internal(anyhow::anyhow!("serializing the API description: {why}"))),
        Descriptions::Remote(remote) => remote.merged.get_or_try_init(|| remote.fetch()).await?.clone(),
    };
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(shared::openapi::JSON))], body).into_response())
}

/// One description of the whole API: the services' paths (each already under its `/api` prefix),
/// schemas and security schemes, and the links between services.
pub fn merge(services: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let info = InfoBuilder::new()
        .title("Ticketing API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "An event-driven ticket marketplace: sign up, sell tickets, order one (it is held for the buyer until paid or expired) \
             and pay for it through Stripe. Every error is `{\"errors\": [{\"message\", \"field\"?, \"code\"}]}`; clients translate \
             by `code`. Ids are opaque strings; prices are JSON numbers of dollars; times are RFC 3339 in UTC.",
        ))
        .build();
    let mut merged = OpenApiBuilder::new().info(info).build();
    for service in services {
        merged.merge(service);
    }
    link_services(&mut merged);
    merged
}

/// The links from one service's answers to another service's operations: the journey of a buyer
/// and a seller, for clients and the fuzzer's stateful phase to follow. A link whose source is
/// not described (a service missing from the merge) is left out.
fn link_services(openapi: &mut OpenApi) {
    let links = [
        ("signUp", "201", "sellTicket", LinkBuilder::new().operation_id("createTicket").description("The new user puts a ticket on sale.")),
        (
            "createTicket",
            "201",
            "orderTicket",
            LinkBuilder::new()
                .operation_id("createOrder")
                .request_body(Some(serde_json::json!({ "ticketId": "$response.body#/id" })))
                .description("Someone orders the ticket just listed (its seller is refused: `buy_own_ticket`)."),
        ),
        (
            "listTickets",
            "200",
            "orderNewestTicket",
            LinkBuilder::new()
                .operation_id("createOrder")
                .request_body(Some(serde_json::json!({ "ticketId": "$response.body#/0/id" })))
                .description("A buyer orders the newest ticket on sale."),
        ),
        (
            "createOrder",
            "201",
            "payOrder",
            LinkBuilder::new()
                .operation_id("createPayment")
                .request_body(Some(serde_json::json!({ "orderId": "$response.body#/id", "token": "pm_card_visa" })))
                .description("The buyer pays for the order with Stripe's test card."),
        ),
    ];
    for (source, status, name, link) in links {
        let response = openapi
            .paths
            .paths
            .values_mut()
            .flat_map(shared::openapi::operations_mut)
            .find(|operation| operation.operation_id.as_deref() == Some(source))
            .and_then(|operation| operation.responses.responses.get_mut(status));
        match response {
            Some(RefOr::T(response)) => {
                response.links.insert(name.to_string(), RefOr::T(link.build()));
            }
            _ => tracing::debug!(source, status, "a link between services has no source to start from"),
        }
    }
}

/// The description in step with the code's routes, the docs' route table and (where it is checked
/// out next to the repository) the HTTP contract, `../shared/spec/api.md`.
#[cfg(all(test, feature = "embedded"))]
#[allow(clippy::expect_used, reason = "test helpers (clippy sees no test under this cfg): a panic is a failed test")]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    use super::*;

    /// Routes the code has and the spec does not, each with why. A route missing from both the spec
    /// and this list fails the test: describe it in the spec (or here) before adding it.
    const NOT_IN_THE_SPEC: &[(&str, &str, &str)] = &[(
        "GET",
        "/api/tickets/mine",
        "a seller's own tickets in every state, for the web client's My tickets page (docs/architecture.md)",
    )];

    fn services() -> [OpenApi; 4] {
        [auth::routes::openapi(), tickets::routes::openapi(), orders::routes::openapi(), payments::routes::openapi()]
    }

    fn described() -> Value {
        serde_json::to_value(merge(services())).expect("the description serializes")
    }

    /// `(METHOD, path)` of every operation, and the operation.
    fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
        let mut found = BTreeMap::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                // A path item may say more than its operations (`parameters`, `summary`).
                if ["get", "put", "post", "delete", "patch", "options", "head", "trace"].contains(&method.as_str()) {
                    found.insert((method.to_uppercase(), path.clone()), operation.clone());
                }
            }
        }
        found
    }

    /// At run time: a build reused from another clone of the repo still reads this one's files.
    fn repo() -> PathBuf {
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(), PathBuf::from).join("..")
    }

    /// A table row's route, from its first cell: `` `METHOD /api/path` `` (anything after it in the
    /// cell, such as a body, is left). The spec writes path parameters as `:id`, OpenAPI as `{id}`.
    fn route_of(line: &str) -> Option<(String, String)> {
        let cell = line.strip_prefix("| `")?;
        let (route, _) = cell.split_once('`')?;
        let (method, path) = route.split_once(' ')?;
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method) || !path.starts_with("/api/") {
            return None;
        }
        let segments: Vec<String> =
            path.split('/').map(|segment| segment.strip_prefix(':').map_or(segment.to_string(), |name| format!("{{{name}}}"))).collect();
        Some((method.to_string(), segments.join("/")))
    }

    /// Every row of a markdown table that names a route: its route and its cells.
    fn route_rows(markdown: &str) -> Vec<((String, String), Vec<String>)> {
        markdown
            .lines()
            .filter_map(|line| {
                let route = route_of(line)?;
                let cells: Vec<String> = line.trim().trim_matches('|').split('|').map(|cell| cell.trim().to_string()).collect();
                Some((route, cells))
            })
            .collect()
    }

    fn security_of(operation: &Value) -> &'static str {
        match operation.get("security").and_then(Value::as_array) {
            None => "no",
            Some(requirements) if requirements.iter().any(|r| r.as_object().is_some_and(|r| r.is_empty())) => "optional",
            Some(_) => "yes",
        }
    }

    fn statuses(operation: &Value) -> BTreeSet<String> {
        operation["responses"].as_object().expect("responses").keys().cloned().collect()
    }

    fn is_error_body(response: &Value) -> bool {
        response["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
    }

    #[test]
    fn the_description_lists_the_docs_routes_with_their_sessions() {
        let docs = std::fs::read_to_string(repo().join("docs/architecture.md")).expect("docs/architecture.md");
        let rows = route_rows(&docs);
        assert!(!rows.is_empty(), "docs/architecture.md has no route table");
        // The session column's first word: yes, no or optional.
        let documented: BTreeMap<_, _> =
            rows.into_iter().map(|(route, cells)| (route, cells[2].split_whitespace().next().unwrap_or_default().to_string())).collect();
        let operations = operations(&described());
        assert_eq!(
            documented.keys().collect::<Vec<_>>(),
            operations.keys().collect::<Vec<_>>(),
            "the routes of docs/architecture.md and of the description differ"
        );
        for (route, session) in &documented {
            assert_eq!(
                security_of(&operations[route]),
                session.as_str(),
                "{route:?}: the session column and the description's security differ"
            );
        }
    }

    #[test]
    fn the_description_is_in_step_with_the_spec() {
        let spec = repo().join("../shared/spec/api.md");
        let Ok(spec) = std::fs::read_to_string(&spec) else {
            eprintln!("{} is not checked out next to the repository: the spec is not compared", spec.display());
            return;
        };
        // The spec's "Next" part describes the open issues' routes, not yet this code's.
        let current = spec.split("\n# Next").next().unwrap_or_default();
        let rows = route_rows(current);
        let operations = operations(&described());
        let in_spec: BTreeSet<_> = rows.iter().map(|(route, _)| route.clone()).collect();
        let added: BTreeSet<_> = NOT_IN_THE_SPEC.iter().map(|(method, path, _)| (method.to_string(), path.to_string())).collect();
        let expected: BTreeSet<_> = in_spec.union(&added).cloned().collect();
        let actual: BTreeSet<_> = operations.keys().cloned().collect();
        assert_eq!(
            actual.difference(&expected).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "described but neither in the spec nor in NOT_IN_THE_SPEC"
        );
        assert_eq!(actual.intersection(&added).count(), added.len(), "NOT_IN_THE_SPEC names a route the code no longer has");
        assert_eq!(expected.difference(&actual).collect::<Vec<_>>(), Vec::<&(String, String)>::new(), "in the spec but not described");
        assert!(in_spec.is_disjoint(&added), "a route of NOT_IN_THE_SPEC is in the spec now: drop it from the list");

        // The statuses the spec's last column lists are described, every error with the error body.
        for (route, cells) in rows {
            let errors = cells.last().cloned().unwrap_or_default();
            let listed: BTreeSet<String> = errors
                .split(|c: char| !c.is_ascii_digit())
                .filter(|number| number.len() == 3 && (number.starts_with('4') || number.starts_with('5')))
                .map(str::to_string)
                .collect();
            let operation = &operations[&route];
            let described = statuses(operation);
            let missing: Vec<_> = listed.difference(&described).collect();
            assert!(missing.is_empty(), "{route:?}: the spec lists {missing:?}, the description does not");
            if !listed.is_empty() {
                let responses = operation["responses"].as_object().expect("responses");
                assert!(
                    responses.iter().any(|(status, response)| status.starts_with('4') && is_error_body(response)),
                    "{route:?}: the spec lists errors, and no 4xx answer is the error body"
                );
            }
        }
    }

    #[test]
    fn every_error_answer_is_the_error_body_and_every_body_route_can_be_refused() {
        for ((method, path), operation) in operations(&described()) {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(is_error_body(response), "{method} {path} {status} is not the error body: {response}");
                }
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "413"] {
                    assert!(statuses(&operation).contains(status), "{method} {path} takes a body and does not describe {status}");
                }
            }
            if security_of(&operation) == "yes" {
                assert!(statuses(&operation).contains("401"), "{method} {path} needs a session and does not describe 401");
            }
        }
    }

    #[test]
    fn operation_ids_are_unique_and_every_link_leads_to_one() {
        fn check_links(doc: &Value, whose: &str) {
            let operations = operations(doc);
            let ids: Vec<&str> = operations.values().map(|o| o["operationId"].as_str().expect("an operationId")).collect();
            let unique: BTreeSet<&str> = ids.iter().copied().collect();
            assert_eq!(unique.len(), ids.len(), "{whose}: two operations share an id: {ids:?}");
            for ((method, path), operation) in &operations {
                for (status, response) in operation["responses"].as_object().expect("responses") {
                    for (name, link) in response.get("links").and_then(Value::as_object).into_iter().flatten() {
                        let target = link["operationId"].as_str().unwrap_or_default();
                        assert!(
                            unique.contains(target),
                            "{whose}: {method} {path} {status} links ({name}) to {target:?}, which is not described"
                        );
                    }
                }
            }
        }
        let merged = described();
        check_links(&merged, "the merged description");
        // Each service's own description stands alone: its links stay inside it.
        for service in services() {
            check_links(&serde_json::to_value(&service).expect("serializes"), &service.info.title);
        }
        let links: usize = operations(&merged)
            .values()
            .flat_map(|o| o["responses"].as_object().expect("responses").values().cloned().collect::<Vec<_>>())
            .map(|r| r.get("links").and_then(Value::as_object).map_or(0, |l| l.len()))
            .sum();
        assert!(links >= 4 + 5, "the links between services and within them are described: {links}");
        for scheme in [shared::openapi::SESSION, shared::openapi::BEARER] {
            assert!(merged["components"]["securitySchemes"].get(scheme).is_some(), "the {scheme} scheme is described");
        }
        assert_eq!(merged["openapi"], "3.1.0");
        assert_eq!(merged["info"]["title"], "Ticketing API");
    }

    /// Without the services in this process, the web server reads their descriptions back from
    /// JSON: what they serve must read back whole.
    #[test]
    fn a_description_reads_back_as_served() {
        for service in services() {
            let served = service.to_json().expect("serializes");
            let read: OpenApi = serde_json::from_str(&served).expect("reads back");
            assert_eq!(serde_json::to_value(&read).unwrap(), serde_json::from_str::<Value>(&served).unwrap(), "{}", service.info.title);
        }
    }
}
