//! Extractors whose rejections are [`ApiError`]s, so even a malformed request is answered in the
//! API's error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, ErrorItem};

/// The client's address, derived at the edge (`edge::client_address`).
pub use edge::ClientAddr;

/// A JSON body: wrong content type, malformed JSON and wrong JSON types are 400s that say what is
/// wrong (a wrong type names its field), a body over the limit is a 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            let message = "Expected a JSON body with Content-Type: application/json";
            return Err(ApiError::bad_request(ErrorCode::WrongContentType, message));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request(ErrorCode::BodyUnreadable, "Could not read the request body")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(req: &Request) -> bool {
    let Some(content_type) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserializes `bytes`, mapping serde's errors to the API's 400s.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data if path != "." && !path.is_empty() => {
                let message = capitalize(&strip_position(&inner.to_string()));
                ApiError::Validation(vec![ErrorItem::field(ErrorCode::WrongType, path, message)])
            }
            serde_json::error::Category::Data => {
                let message = format!("Invalid request body: {}", strip_position(&inner.to_string()));
                ApiError::bad_request(ErrorCode::InvalidBody, message)
            }
            _ => malformed(inner),
        }
    })?;
    deserializer.end().map_err(malformed)?;
    Ok(value)
}

/// A body that is not JSON at all (or JSON with something after it).
fn malformed(error: serde_json::Error) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidJson, format!("Malformed JSON: {error}"))
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

fn capitalize(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
