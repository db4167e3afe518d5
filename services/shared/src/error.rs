//! The one error type every handler returns, so no route can answer in another shape.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use contract::{ErrorBody, ErrorCode, ErrorItem};

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
    #[error("{}", .0.message)]
    PaymentRequired(ErrorItem),
    #[error("Not Found")]
    NotFound,
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("Request body too large")]
    PayloadTooLarge,
    #[error("Too many requests")]
    TooManyRequests,
    /// The request clashes with work in flight (a payment for the same order); the message says which.
    #[error("{}", .0.message)]
    Conflict(ErrorItem),
    /// Too much work queued (password hashing): try again after `retry_after` seconds.
    #[error("Server busy, try again")]
    Busy { retry_after: u32 },
    /// A dependency we cannot reach (NATS, Stripe); the message says which.
    #[error("{}", .0.message)]
    Unavailable(ErrorItem),
    /// A dependency answered, but wrongly (Stripe failing); the message says which.
    #[error("{}", .0.message)]
    BadGateway(ErrorItem),
    /// A bug or a failed dependency: the details go to the log, never to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 about one field's value, such as `Email in use`.
    pub fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![ErrorItem::field(code, field, message)])
    }

    /// A 400 that names no field.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::BadRequest(ErrorItem::new(code, message))
    }

    /// The kind of error answered (of the first one, for several bad fields).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(items) => items.first().map_or(ErrorCode::Unknown, |item| item.code),
            Self::BadRequest(item)
            | Self::PaymentRequired(item)
            | Self::Conflict(item)
            | Self::Unavailable(item)
            | Self::BadGateway(item) => item.code,
            Self::Unauthorized => ErrorCode::NotAuthorized,
            Self::NotFound => ErrorCode::NotFound,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::TooManyRequests => ErrorCode::TooManyRequests,
            Self::Busy { .. } => ErrorCode::ServerBusy,
            Self::Internal(_) => ErrorCode::Internal,
        }
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
            Self::BadRequest(item)
            | Self::PaymentRequired(item)
            | Self::Conflict(item)
            | Self::Unavailable(item)
            | Self::BadGateway(item) => vec![item],
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                vec![ErrorItem::new(ErrorCode::Internal, "Something went wrong")]
            }
            // The rest say the same every time: their message is their `Display`.
            fixed => vec![ErrorItem::new(fixed.code(), fixed.to_string())],
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

/// An input error that knows its kind: what a domain type's `parse` refuses with, so each bad
/// field is answered with its code as well as its message (the error's `Display`).
pub trait Coded {
    fn code(&self) -> ErrorCode;
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
    pub fn check<T, E: std::fmt::Display + Coded>(&mut self, field: &str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(ErrorItem::field(error.code(), field, error.to_string()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_with_a_fixed_message_answer_with_their_own_code() {
        let fixed = [
            (ApiError::Unauthorized, ErrorCode::NotAuthorized, "Not authorized"),
            (ApiError::NotFound, ErrorCode::NotFound, "Not Found"),
            (ApiError::MethodNotAllowed, ErrorCode::MethodNotAllowed, "Method not allowed"),
            (ApiError::PayloadTooLarge, ErrorCode::PayloadTooLarge, "Request body too large"),
            (ApiError::TooManyRequests, ErrorCode::TooManyRequests, "Too many requests"),
            (ApiError::Busy { retry_after: 1 }, ErrorCode::ServerBusy, "Server busy, try again"),
            (ApiError::Internal(anyhow::anyhow!("a secret detail")), ErrorCode::Internal, "Something went wrong"),
        ];
        for (error, code, message) in fixed {
            assert_eq!(error.code(), code);
            assert_eq!(error.items(), vec![ErrorItem::new(code, message)]);
        }
    }

    /// A refusal of the kind domain types give.
    #[derive(Debug)]
    struct TooShort;

    impl std::fmt::Display for TooShort {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Password must be between 8 and 128 characters")
        }
    }

    impl Coded for TooShort {
        fn code(&self) -> ErrorCode {
            ErrorCode::PasswordLength
        }
    }

    #[test]
    fn a_bad_field_is_answered_with_its_code_and_message() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.check("email", Ok::<_, TooShort>(1)), Some(1));
        assert_eq!(errors.check::<(), _>("password", Err(TooShort)), None);
        let Err(ApiError::Validation(items)) = errors.finish() else { panic!("a validation error") };
        let message = "Password must be between 8 and 128 characters";
        assert_eq!(items, vec![ErrorItem::field(ErrorCode::PasswordLength, "password", message)]);
    }
}
