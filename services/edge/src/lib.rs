//! What crosses the public edge inward with a request: who the client is ([`client_address`])
//! and which trace the request is in ([`trace_context`]). The web server's pages forward both to
//! the services, so the web client's server build depends on this crate and on `contract`, not
//! on `shared`, which brings storage and the event backbone.
pub mod client_address;
pub mod trace_context;

pub use client_address::{ClientAddr, InternalSecret};
