//! Extractors whose rejections are [`ApiError`]s, so even a malformed request is answered in the
//! API's error shape.
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, ErrorItem};

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

/// The client's address, as derived once at the edge ([`crate::http::derive_client_address`],
/// part of [`crate::http::api_layers`]; for auth, a signed address from the web server
/// replaces it). `None` when not even the peer is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// Who the client counts as, for limits: an IPv4 address as it is, an IPv6 address by its
    /// /64 (one subscriber's network, whose addresses a client can rotate through at will),
    /// `unknown` when not even the peer is known.
    pub fn key(&self) -> String {
        match self.0.map(|a| a.to_canonical()) {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
            None => "unknown".to_string(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(derived) = parts.extensions.get::<ClientAddr>() {
            return Ok(*derived);
        }
        // Outside the edge layer nothing in front is trusted: the peer is the client.
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

#[cfg(test)]
mod tests {
    use super::ClientAddr;

    #[test]
    fn an_ipv6_client_counts_as_its_slash_64_and_ipv4_as_itself() {
        let key = |a: &str| ClientAddr(Some(a.parse().unwrap())).key();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7", "an IPv4-mapped address is the IPv4 client");
        assert_eq!(ClientAddr(None).key(), "unknown");
    }
}
