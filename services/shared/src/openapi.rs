//! What every service's OpenAPI description has in common, and how a service serves its own.
//!
//! Why descriptions generated from the code: each handler carries its `#[utoipa::path(...)]` and
//! each service's `routes::openapi()` sits next to its router, so a route and its description
//! change together. The web server merges the services' descriptions into `/api/openapi.json`,
//! a test there holds them to the routes the docs list, and `scripts/fuzz` holds the running
//! system to them.
//!
//! Why [`Common`] adds some of it after the macros: what every route shares is said once here
//! rather than on each handler: the session's security schemes, the error body's schema, and the
//! answers any route can give whatever it does (500 for a bug or a failed dependency; for a route
//! that takes a body, 400 for a body that is not the JSON it takes and 413 over 64 KiB). A
//! handler that says more about one of those statuses keeps its own.
//!
//! Why `/openapi.json` on the service's own port and not under `/api`: like `/metrics`, it is for
//! the web server and operators. The ingress routes only `/api/<service>` to a service, so clients
//! read the merged description at the web server's `/api/openapi.json`.
use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use contract::{ErrorBody, SESSION_COOKIE};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::Ref;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, Content, OpenApi, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::error::ApiError;

/// The security scheme of the session cookie, as handlers name it in `security(...)`.
pub const SESSION: &str = "session";
/// The security scheme of `Authorization: Bearer <jwt>`, which every service also accepts.
pub const BEARER: &str = "bearer";

/// The media type of every JSON answer and body.
pub const JSON: &str = "application/json";

/// Adds what every service's description shares (see the module's notes). Named in each
/// service's `#[openapi(modifiers(&shared::openapi::Common))]`.
pub struct Common;

impl utoipa::Modify for Common {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie sign-up and sign-in set: a JWT signed by auth (EdDSA).",
            ))),
        );
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The session's JWT in `Authorization: Bearer`; when the header is present it alone decides."))
                    .build(),
            ),
        );
        let mut schemas = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
        <ErrorBody as ToSchema>::schemas(&mut schemas);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                let takes_body = operation.request_body.is_some();
                let responses = &mut operation.responses.responses;
                responses
                    .entry("500".to_string())
                    .or_insert_with(|| error_response("A bug or a failed dependency (`internal`); the details are only in the logs."));
                if takes_body {
                    responses.entry("400".to_string()).or_insert_with(|| {
                        error_response("The body is not the JSON this route takes (`invalid_json`, `invalid_body`, `wrong_type`, `wrong_content_type`).")
                    });
                    responses.entry("413".to_string()).or_insert_with(|| error_response("The body is over 64 KiB (`payload_too_large`)."));
                }
            }
        }
    }
}

/// An error answer: `{"errors": [...]}`.
pub fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new().description(description).content(JSON, Content::new(Some(Ref::from_schema_name("ErrorBody")))).build().into()
}

/// Every operation of a path, with its method as OpenAPI spells it (lower case).
pub fn operations(item: &PathItem) -> impl Iterator<Item = (&'static str, &Operation)> {
    [
        ("get", &item.get),
        ("put", &item.put),
        ("post", &item.post),
        ("delete", &item.delete),
        ("options", &item.options),
        ("head", &item.head),
        ("patch", &item.patch),
        ("trace", &item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_ref().map(|operation| (method, operation)))
}

/// Every operation of a path, to change.
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.options, &mut item.head, &mut item.patch, &mut item.trace]
        .into_iter()
        .flatten()
}

/// `GET /openapi.json`: the service's description, serialized once. Merge it into the router the
/// service serves on its own port only (as [`crate::metrics::router`]), never into the routes the
/// single-machine web server merges.
pub fn router(description: &OpenApi) -> Router {
    let json = description.to_json().map(Bytes::from).map_err(|error| error.to_string());
    Router::new().route(
        "/openapi.json",
        get(move || {
            let json = json.clone();
            async move { json_answer(json) }
        }),
    )
}

fn json_answer(json: Result<Bytes, String>) -> Response {
    match json {
        Ok(body) => ([(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body).into_response(),
        Err(why) => ApiError::Internal(anyhow::anyhow!("serializing the OpenAPI description: {why}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathsBuilder};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::Modify;

    #[test]
    fn every_operation_gets_the_shared_answers_and_keeps_its_own() {
        let with_body = OperationBuilder::new()
            .request_body(Some(RequestBodyBuilder::new().content(JSON, Content::new(Some(Ref::from_schema_name("X")))).build()))
            .response("400", error_response("a field of its own"))
            .build();
        let without_body = OperationBuilder::new().build();
        let paths = PathsBuilder::new()
            .path("/a", PathItem::new(HttpMethod::Post, with_body))
            .path("/b", PathItem::new(HttpMethod::Get, without_body))
            .build();
        let mut openapi = utoipa::openapi::OpenApiBuilder::new().paths(paths).build();
        Common.modify(&mut openapi);

        let responses = |path: &str| {
            let item = openapi.paths.paths.get(path).expect("the path");
            let (_, operation) = operations(item).next().expect("its operation");
            operation.responses.responses.clone()
        };
        let a = responses("/a");
        assert_eq!(a.keys().collect::<Vec<_>>(), ["400", "413", "500"]);
        let Some(RefOr::T(bad_request)) = a.get("400") else { panic!("an inline 400") };
        assert_eq!(bad_request.description, "a field of its own", "a handler's own 400 is kept");
        assert_eq!(responses("/b").keys().collect::<Vec<_>>(), ["500"], "no body, no 400 or 413");

        let components = openapi.components.expect("components");
        assert!(components.security_schemes.contains_key(SESSION) && components.security_schemes.contains_key(BEARER));
        for schema in ["ErrorBody", "ErrorItem", "ErrorCode"] {
            assert!(components.schemas.contains_key(schema), "{schema} is described");
        }
    }
}
