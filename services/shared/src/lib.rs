//! What every Ticketing service speaks: the API's error shape, typed configuration, sessions,
//! storage, telemetry, metrics, what the OpenAPI descriptions share, and the HTTP plumbing (body
//! limits, fallbacks, health probes).
pub mod config;
pub mod env;
pub mod error;
pub mod events;
pub mod extract;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod session;
pub mod store;
pub mod telemetry;
pub mod timestamp;

pub use error::{ApiError, Coded, ErrorBody, ErrorCode, ErrorItem};

#[doc(hidden)]
pub use anyhow as __anyhow;
