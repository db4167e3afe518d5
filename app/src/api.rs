//! Server-side forwarding to the services' HTTP APIs, with the visitor's session. Server
//! functions call these; the browser never talks to a service except through them or `/api`.
pub use contract::SessionUser;

/// Where each service's API answers, provided to server functions as context.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub auth_url: String,
    pub tickets_url: String,
    pub orders_url: String,
    pub payments_url: String,
    /// Stripe.js's key; without it the order page offers Stripe's test cards (test mode).
    pub stripe_publishable_key: Option<String>,
    /// `INTERNAL_SECRET`, shared with auth only: proves the visitor's address sent with a call to
    /// auth (see [`ssr::client_address_headers`]).
    #[cfg(feature = "ssr")]
    pub internal_secret: edge::InternalSecret,
}

/// True for an id the services could have made (their ids are UUIDs in hex, and tests use
/// letters and digits): one path segment, never `..`, a `/` or an escape that would point a
/// forwarded call at another path of the service with the visitor's session.
pub fn is_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use http::header::{COOKIE, SET_COOKIE};
    use http::request::Parts;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use reqwest::Method;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use contract::{ErrorBody, SESSION_COOKIE};

    use super::ApiConfig;
    use crate::error::AppError;

    /// The session cookie the visitor sent, if any.
    pub fn session_token(parts: &Parts) -> Option<String> {
        cookie(&parts.headers, SESSION_COOKIE).map(str::to_string)
    }

    pub use crate::request::cookie;

    fn client() -> &'static reqwest::Client {
        static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
        // No `Accept-Encoding`: the services answer on the cluster's network, uncompressed, and
        // the build's reqwest features (the tests' build has gzip) must not change what is asked.
        CLIENT.get_or_init(|| reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).no_gzip().build().unwrap_or_default())
    }

    /// The trace context of the request being answered, provided by the server for each
    /// request: a resource that renders a page runs in a task of its own, outside the request's
    /// span, and its calls to the services must still be in the page's trace.
    #[derive(Clone, Debug, Default)]
    pub struct RequestTrace(pub Vec<(&'static str, String)>);

    impl RequestTrace {
        /// The current span's (the request's, where the server provides it).
        pub fn current() -> Self {
            Self(edge::trace_context::current_trace_headers())
        }
    }

    /// The `traceparent` (and `tracestate`) a call to a service carries: the current span's,
    /// else the request's, so that the service's request span joins the visitor's trace.
    fn trace_headers() -> Vec<(&'static str, String)> {
        let current = edge::trace_context::current_trace_headers();
        if !current.is_empty() {
            return current;
        }
        use_context::<RequestTrace>().map(|trace| trace.0).unwrap_or_default()
    }

    impl ApiConfig {
        /// Where `service` answers.
        pub fn base(&self, service: Service) -> &str {
            match service {
                Service::Auth => &self.auth_url,
                Service::Tickets => &self.tickets_url,
                Service::Orders => &self.orders_url,
                Service::Payments => &self.payments_url,
            }
        }
    }

    /// Which service a call goes to.
    #[derive(Clone, Copy, Debug)]
    pub enum Service {
        Auth,
        Tickets,
        Orders,
        Payments,
    }

    /// For a call to auth: the visitor's address as this server derived it at its edge
    /// (`TRUSTED_PROXIES`), named in `X-Client-Address` with an HMAC proof that only the holders of
    /// `INTERNAL_SECRET` (this server and auth) can make. Auth counts sign-ins and sign-ups under
    /// it; without it every visitor would share the web server's address. Nothing when the
    /// address is unknown.
    pub fn client_address_headers(parts: &Parts, config: &ApiConfig) -> Vec<(&'static str, String)> {
        match parts.extensions.get::<edge::ClientAddr>() {
            Some(edge::ClientAddr(Some(address))) => config.internal_secret.client_address_headers(*address),
            _ => Vec::new(),
        }
    }

    /// `/api/<collection>/<id>`, or the API's 404 for an id that is not one (see [`super::is_id`]),
    /// answered here without asking the service.
    pub fn item_path(collection: &str, id: &str) -> Result<String, AppError> {
        if super::is_id(id) {
            return Ok(format!("/api/{collection}/{id}"));
        }
        answer_with_status(404);
        Err(AppError::Api { status: 404, messages: vec![contract::ErrorItem::new(contract::ErrorCode::NotFound, "Not Found").into()] })
    }

    /// Calls `method path` on `service` with the visitor's session (and, to auth, address), copies any
    /// `Set-Cookie` back to the browser, and turns an error answer into an [`AppError`].
    /// A server function called from script answers with the status of its error, so a refused
    /// sign-in is a 400, not a server error. Plain form posts and page renders (which accept
    /// HTML) keep theirs: a form post must stay a redirect back to the form.
    pub fn answer_with_status(status: u16) {
        let accepts_html = use_context::<Parts>()
            .as_ref()
            .and_then(|p| p.headers.get(http::header::ACCEPT))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        if !accepts_html && let (Some(options), Ok(code)) = (use_context::<ResponseOptions>(), http::StatusCode::from_u16(status)) {
            options.set_status(code);
        }
    }

    /// The status `GET path` on `service` answers the visitor whose session token this is, asked
    /// outside any server function (no Leptos context: the live routes' ownership check, see
    /// server/src/live.rs), with the same client and the same base URLs as [`call`].
    pub async fn status_for(config: &ApiConfig, service: Service, path: &str, session: Option<&str>) -> Result<u16, AppError> {
        let mut request = client().get(format!("{}{path}", config.base(service)));
        for (name, value) in trace_headers() {
            request = request.header(name, value);
        }
        if let Some(token) = session {
            request = request.header(COOKIE, format!("{SESSION_COOKIE}={token}"));
        }
        let response = request.send().await.map_err(|error| {
            tracing::error!(%error, ?service, path, "service unreachable");
            AppError::Unavailable(format!("The {service:?} service is unavailable. Please try again."))
        })?;
        Ok(response.status().as_u16())
    }

    pub async fn call<T: DeserializeOwned>(
        service: Service,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T, AppError> {
        request(service, method, path, body, true).await
    }

    /// [`call`] for a question whose refusal is an answer, not the page's error (is this order
    /// the visitor's?): the service's error status is not passed on to this server's answer.
    pub async fn call_quietly<T: DeserializeOwned>(
        service: Service,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T, AppError> {
        request(service, method, path, body, false).await
    }

    async fn request<T: DeserializeOwned>(
        service: Service,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        pass_status_on: bool,
    ) -> Result<T, AppError> {
        let config = use_context::<ApiConfig>().ok_or_else(|| AppError::Unavailable("The API is not configured".into()))?;
        let parts = use_context::<Parts>();
        let mut request = client().request(method, format!("{}{path}", config.base(service)));
        for (name, value) in trace_headers() {
            request = request.header(name, value);
        }
        if let Some(parts) = &parts {
            if let Some(token) = session_token(parts) {
                request = request.header(COOKIE, format!("{SESSION_COOKIE}={token}"));
            }
            // Only auth limits by address, and only auth can check the proof: the others are not
            // handed proofs they could replay.
            if matches!(service, Service::Auth) {
                for (name, value) in client_address_headers(parts, &config) {
                    request = request.header(name, value);
                }
            }
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| {
            tracing::error!(%error, ?service, path, "service unreachable");
            AppError::Unavailable(format!("The {service:?} service is unavailable. Please try again."))
        })?;
        if let Some(options) = use_context::<ResponseOptions>() {
            for cookie in response.headers().get_all(SET_COOKIE) {
                options.append_header(SET_COOKIE, cookie.clone());
            }
        }
        let status = response.status();
        let bytes = response.bytes().await.map_err(|error| {
            tracing::error!(%error, ?service, path, "reading a service's answer");
            AppError::Unavailable("The service answer was cut off. Please try again.".into())
        })?;
        if !status.is_success() && pass_status_on {
            answer_with_status(status.as_u16());
        }
        if status.is_success() {
            // A 204 has no body: read it as `null`, which `()` accepts.
            let bytes = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
            serde_json::from_slice(bytes).map_err(|error| {
                tracing::error!(%error, ?service, path, "unexpected answer from a service");
                AppError::Unavailable("The service gave an answer we could not read.".into())
            })
        } else {
            match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => Err(AppError::Api { status: status.as_u16(), messages: body.errors.into_iter().map(Into::into).collect() }),
                Err(_) => {
                    tracing::error!(%status, ?service, path, "error answer outside the API's shape");
                    Err(AppError::Unavailable("Something went wrong. Please try again.".into()))
                }
            }
        }
    }
}

#[cfg(feature = "ssr")]
/// Only a path on this site: `//evil.example` and `https://…` would send the visitor elsewhere,
/// and so would `/\evil.example` and `/<tab>/evil.example`, since browsers read `\` as `/` and
/// drop tabs and newlines from a URL before reading it.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains("://")
        && !path.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_id_is_one_path_segment_and_nothing_that_could_leave_it() {
        assert!(super::is_id("0194f1a2b3c4d5e6f708192a3b4c5d6e"));
        assert!(super::is_id("t-1_b"));
        for bad in ["", "..", ".", "a/b", "..%2Fusers", "a?b", "a#b", "a%2e", "a\\b", "ä", &"x".repeat(65)] {
            assert!(!super::is_id(bad), "{bad:?}");
        }
    }
}
