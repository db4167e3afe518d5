//! The web server's edge: the client's address, derived once from `TRUSTED_PROXIES` (server
//! functions name it to auth with proof, see `app::api::ssr`), and the security headers of every
//! answer.
//!
//! - `Content-Security-Policy`: scripts only from this origin, Stripe.js (`js.stripe.com`) and
//!   inline scripts that carry this response's nonce (Leptos' hydration bootstrap and its
//!   resource scripts take the nonce from the Leptos context, see [`provide_request_nonce`]);
//!   `'wasm-unsafe-eval'` to compile the app's WebAssembly; styles, images, fonts only from this
//!   origin; requests to this origin and Stripe's API; frames only Stripe's; nobody may frame us
//!   (`frame-ancestors 'none'`); forms post only here; no `<base>`, no plugins. No
//!   `'unsafe-inline'` anywhere.
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin` (other
//!   sites see our origin, never a path with an order id or a `next`), `X-Frame-Options: DENY`
//!   for browsers older than `frame-ancestors`.
//! - `Strict-Transport-Security` only with `APP_ENV=production`, where the ingress terminates
//!   TLS; a development server on plain HTTP must not pin browsers to HTTPS for its host.
use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use shared::config::{EnvReader, Environment};
use shared::http::InternalSecret;
use tower_http::set_header::SetResponseHeaderLayer;

/// One year; without `includeSubDomains`, which would bind sibling hosts of the deployment's
/// domain that this app does not serve.
const HSTS: &str = "max-age=31536000";

/// How the web server meets the outside, read at start.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// Proxies of ours in front (`TRUSTED_PROXIES`; 1 behind the ingress).
    pub trusted_proxies: usize,
    /// `INTERNAL_SECRET`, shared with auth only: proves to auth the client addresses server
    /// functions name.
    pub internal_secret: InternalSecret,
    /// Send `Strict-Transport-Security` (`APP_ENV=production`).
    pub hsts: bool,
    /// cargo-leptos' live reload (`LEPTOS_WATCH`, development only) talks over a WebSocket on
    /// its own port.
    pub live_reload: bool,
}

impl EdgeSettings {
    /// Reads `APP_ENV`, `TRUSTED_PROXIES` and `INTERNAL_SECRET` (whose development default is
    /// refused unless the server listens on loopback, at `address`).
    pub fn read(env: &mut EnvReader, address: SocketAddr) -> Self {
        let environment = env.or("APP_ENV", Environment::Development, "development or production");
        let production = environment == Environment::Production;
        Self {
            trusted_proxies: shared::http::read_trusted_proxies(env),
            internal_secret: shared::http::read_internal_secret(env, production, address.ip()),
            hsts: production,
            live_reload: std::env::var_os("LEPTOS_WATCH").is_some(),
        }
    }
}

/// The Content-Security-Policy of an answer whose inline scripts carry `nonce`.
pub fn content_security_policy(nonce: &str, live_reload: bool) -> String {
    let live_reload = if live_reload { " ws: wss:" } else { "" };
    format!(
        "default-src 'self'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval' https://js.stripe.com https://*.js.stripe.com; \
         style-src 'self'; img-src 'self'; font-src 'self'; \
         connect-src 'self' https://api.stripe.com{live_reload}; \
         frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )
}

/// The edge of the web server's router: the client's address ([`shared::http::derive_client_address`]),
/// a fresh nonce and the Content-Security-Policy that allows it, and the other security headers.
pub fn layers(router: Router, settings: &EdgeSettings) -> Router {
    let router = shared::http::derive_client_address(router, settings.trusted_proxies)
        .layer(middleware::from_fn_with_state(Policy { live_reload: settings.live_reload }, with_nonce))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            settings.hsts.then(|| HeaderValue::from_static(HSTS)),
        ));
    shared::http::nosniff(router)
}

#[derive(Debug, Clone, Copy)]
struct Policy {
    live_reload: bool,
}

/// A nonce per request, in the request's extensions for the page to use, and the policy that
/// allows it on the answer. (A layer of its own because the value differs per request; the fixed
/// headers are tower-http's `SetResponseHeaderLayer`.)
async fn with_nonce(State(policy): State<Policy>, mut request: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    let value = HeaderValue::from_str(&content_security_policy(&nonce, policy.live_reload));
    request.extensions_mut().insert(nonce);
    let mut response = next.run(request).await;
    if let Ok(value) = value {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    // A page depends on who reads it: the session and the chosen language come from `Cookie`,
    // the language otherwise from `Accept-Language`. Said, so that no cache between the server
    // and the reader hands one reader's page, or language, to another. (Here rather than in a
    // layer of its own: each layer deepens every request's future, and the debug build's worker
    // stacks have little room to spare on the payment path.)
    let page = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if page {
        response.headers_mut().append(header::VARY, HeaderValue::from_static("Cookie, Accept-Language"));
    }
    response
}

/// Leptos context, for every page render (also the 404 page): the nonce of this request (from
/// [`layers`]) replaces the one leptos_axum made up, so the hydration scripts carry the nonce the
/// header allows.
pub fn provide_request_nonce() {
    if let Some(nonce) = use_context::<Parts>().and_then(|parts| parts.extensions.get::<Nonce>().cloned()) {
        provide_context(nonce);
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::Html;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn settings(hsts: bool) -> EdgeSettings {
        EdgeSettings { trusted_proxies: 1, internal_secret: InternalSecret::new(&[3; 32]), hsts, live_reload: false }
    }

    /// A page that shows the nonce it was given, as the shell's scripts do.
    fn page() -> Router {
        Router::new().route(
            "/",
            get(|parts: Parts| async move {
                let nonce = parts.extensions.get::<Nonce>().map(|n| n.to_string()).unwrap_or_default();
                Html(format!("<script nonce=\"{nonce}\">hydrate()</script>"))
            }),
        )
    }

    async fn get_page(router: &Router) -> (HeaderMap, String) {
        let request = axum::http::Request::builder().uri("/").body(Body::empty()).expect("a request");
        let response = router.clone().oneshot(request).await.expect("an answer");
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body");
        (headers, String::from_utf8(body.to_vec()).expect("text"))
    }

    fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn every_page_carries_the_security_headers_and_its_scripts_the_allowed_nonce() {
        let router = layers(page(), &settings(false));
        let (headers, body) = get_page(&router).await;
        let policy = header(&headers, "content-security-policy").expect("a Content-Security-Policy");
        let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the policy");
        assert!(nonce.len() >= 16, "{nonce}");
        assert!(body.contains(&format!("nonce=\"{nonce}\"")), "the page's script carries the policy's nonce: {body}");
        for directive in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "script-src 'self' 'nonce-",
            "https://js.stripe.com",
            "connect-src 'self' https://api.stripe.com",
            "frame-src https://js.stripe.com",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(policy.contains(directive), "{directive} missing from {policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&headers, "referrer-policy"), Some("strict-origin-when-cross-origin"));
        assert_eq!(header(&headers, "x-frame-options"), Some("DENY"));
        assert_eq!(header(&headers, "strict-transport-security"), None, "no HSTS outside production");

        let (again, _) = get_page(&router).await;
        assert_ne!(header(&again, "content-security-policy"), Some(policy), "a fresh nonce per answer");
    }

    #[tokio::test]
    async fn production_pins_browsers_to_https() {
        let (headers, _) = get_page(&layers(page(), &settings(true))).await;
        assert_eq!(header(&headers, "strict-transport-security"), Some(HSTS));
    }

    fn api_config(secret: &InternalSecret) -> app::api::ApiConfig {
        app::api::ApiConfig {
            auth_url: String::new(),
            tickets_url: String::new(),
            orders_url: String::new(),
            payments_url: String::new(),
            stripe_publishable_key: None,
            internal_secret: secret.clone(),
        }
    }

    /// A request as the ingress (a trusted proxy at 10.0.0.2) sends it on.
    fn through_the_ingress(uri: &str, forwarded_for: &str) -> Request {
        axum::http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("x-forwarded-for", forwarded_for)
            .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 2], 40000))))
            .body(Body::empty())
            .expect("a request")
    }

    #[tokio::test]
    async fn server_functions_name_the_visitor_to_auth_with_proof() {
        let edge = settings(false);
        let config = api_config(&edge.internal_secret);
        // What a server function sends auth, for the request it serves.
        let web = layers(
            Router::new().route(
                "/",
                axum::routing::post(move |parts: Parts| {
                    let config = config.clone();
                    async move {
                        let mut headers = HeaderMap::new();
                        for (name, value) in app::api::ssr::client_address_headers(&parts, &config) {
                            headers.insert(name, HeaderValue::from_str(&value).expect("a header value"));
                        }
                        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                        config.internal_secret.verified_client_address(&headers, now).map(|a| a.to_string()).unwrap_or_default()
                    }
                }),
            ),
            &edge,
        );
        let named = |forwarded_for: &'static str| {
            let web = web.clone();
            async move {
                let response = web.oneshot(through_the_ingress("/", forwarded_for)).await.expect("an answer");
                let body = axum::body::to_bytes(response.into_body(), 1024).await.expect("a body");
                String::from_utf8(body.to_vec()).expect("text")
            }
        };
        assert_eq!(named("198.51.100.7").await, "198.51.100.7");
        // A hop the visitor wrote (the leftmost) is not what auth is told.
        assert_eq!(named("6.6.6.6, 198.51.100.7").await, "198.51.100.7");
        assert_eq!(named("203.0.113.9").await, "203.0.113.9");
    }

    #[test]
    fn without_a_derived_address_nothing_is_named() {
        let config = api_config(&InternalSecret::new(&[3; 32]));
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        assert!(app::api::ssr::client_address_headers(&parts, &config).is_empty());
        parts.extensions.insert(shared::extract::ClientAddr(Some(IpAddr::from([198, 51, 100, 7]))));
        let named = app::api::ssr::client_address_headers(&parts, &config);
        assert_eq!(named.first().map(|(name, value)| (*name, value.as_str())), Some((shared::http::CLIENT_ADDRESS, "198.51.100.7")));
    }

    /// Through the web server into the embedded auth service, as on one machine: sign-ups of two
    /// visitors behind the same ingress are counted per visitor, and a forged leftmost hop changes
    /// nothing.
    #[cfg(feature = "embedded")]
    #[tokio::test]
    async fn sign_ups_through_the_web_server_are_counted_per_visitor() {
        let vars: std::collections::HashMap<String, String> = [
            ("DATABASE_URL", "mem://"),
            ("SIGNUPS_PER_ADDRESS_PER_MINUTE", "1"),
            ("INTERNAL_SECRET", "a secret that only the web server and auth share"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let auth_config = auth::AuthConfig::read(EnvReader::from_map(vars)).expect("a valid auth configuration");
        let auth_router = auth::AuthService::build(&auth_config).await.expect("auth starts").router;
        let edge = EdgeSettings { internal_secret: auth_config.internal_secret.clone(), ..settings(false) };
        let config = api_config(&edge.internal_secret);
        // A server function signing up: the visitor's email, forwarded to auth as `call` does.
        let web = layers(
            Router::new().route(
                "/signup/{email}",
                axum::routing::post(move |axum::extract::Path(email): axum::extract::Path<String>, parts: Parts| {
                    let (auth_router, config) = (auth_router.clone(), config.clone());
                    async move {
                        let body = format!("{{\"email\":\"{email}\",\"password\":\"correct horse battery\"}}");
                        let mut request = axum::http::Request::builder()
                            .method("POST")
                            .uri("/api/users/signup")
                            .header("content-type", "application/json");
                        for (name, value) in app::api::ssr::client_address_headers(&parts, &config) {
                            request = request.header(name, value);
                        }
                        let request = request.body(Body::from(body)).expect("a request");
                        auth_router.oneshot(request).await.map_or(StatusCode::INTERNAL_SERVER_ERROR, |r| r.status())
                    }
                }),
            ),
            &edge,
        );
        let sign_up = |email: &'static str, forwarded_for: &'static str| {
            let web = web.clone();
            async move { web.oneshot(through_the_ingress(&format!("/signup/{email}"), forwarded_for)).await.expect("an answer").status() }
        };
        assert_eq!(sign_up("ann@example.com", "198.51.100.7").await, StatusCode::CREATED);
        assert_eq!(sign_up("bob@example.com", "6.6.6.6, 198.51.100.7").await, StatusCode::TOO_MANY_REQUESTS, "the same visitor");
        assert_eq!(sign_up("cat@example.com", "203.0.113.9").await, StatusCode::CREATED, "another visitor, another window");
    }
}
