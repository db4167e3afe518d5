//! The one error type every handler returns, so no route can answer in another shape.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use contract::{ErrorBody, ErrorItem};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Every bad input field at once.
    #[error("invalid input: {0:?}")]
    Validation(Vec<ErrorItem>),
    /// A 400 that is not about a field's shape (malformed JSON, a business rule).
    #[error("{}", .0.message)]
    BadRequest(ErrorItem),
    #[error("Not authorized")]
    Unauthorized,
    /// The card was declined; the message is the payment provider's.
    #[error("{0}")]
    PaymentRequired(String),
    #[error("Not Found")]
    NotFound,
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("Request body too large")]
    PayloadTooLarge,
    #[error("Too many requests")]
    TooManyRequests,
    /// The request clashes with work in flight (a payment for the same order); the message says which.
    #[error("{0}")]
    Conflict(String),
    /// Too much work queued (password hashing): try again after `retry_after` seconds.
    #[error("Server busy, try again")]
    Busy { retry_after: u32 },
    /// A dependency we cannot reach (NATS, Stripe); the message says which.
    #[error("{0}")]
    Unavailable(String),
    /// A dependency answered, but wrongly (Stripe failing); the message says which.
    #[error("{0}")]
    BadGateway(String),
    /// A bug or a failed dependency: the details go to the log, never to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 about one field's value, such as `Email in use`.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![ErrorItem::field(field, message)])
    }

    /// A 400 that names no field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(ErrorItem::new(message))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn items(self) -> Vec<ErrorItem> {
        match self {
            Self::Validation(items) => items,
            Self::BadRequest(item) => vec![item],
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                vec![ErrorItem::new("Something went wrong")]
            }
            other => vec![ErrorItem::new(other.to_string())],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::Busy { retry_after } => Some(*retry_after),
            _ => None,
        };
        let mut response = (status, Json(ErrorBody { errors: self.items() })).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        response
    }
}

/// Collects the result of parsing each input field, so a request hears about every bad field at
/// once. Parse into domain types, then call [`FieldErrors::finish`].
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<ErrorItem>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the error of `parsed`, if any, against `field`, and hands back the value.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(ErrorItem::field(field, error.to_string()));
                None
            }
        }
    }

    /// `Ok` when no field failed.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// Parses every field, reports all failures together, and binds the parsed values:
/// `parse_fields!(email = "email": UserEmail::parse(body.email));`
#[macro_export]
macro_rules! parse_fields {
    ($($name:ident = $field:literal : $parse:expr),+ $(,)?) => {
        let mut __errors = $crate::error::FieldErrors::new();
        $( let $name = __errors.check($field, $parse); )+
        __errors.finish()?;
        $( let Some($name) = $name else {
            return Err($crate::ApiError::Internal($crate::__anyhow::anyhow!("field {} parsed without error but has no value", $field)).into());
        }; )+
    };
}

impl From<surrealdb::Error> for ApiError {
    fn from(error: surrealdb::Error) -> Self {
        // The connection to a database server dropped (it restarts, the network blipped): the
        // client may try again, so say so with a 503 rather than a 500 that reads as a bug.
        if crate::store::classify(&error) == crate::store::ErrorKind::Unreachable {
            tracing::warn!(%error, "database unreachable");
            return Self::Unavailable("Database unreachable, please try again".to_string());
        }
        Self::Internal(anyhow::Error::new(error).context("database query failed"))
    }
}
