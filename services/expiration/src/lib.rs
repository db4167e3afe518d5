//! The expiration service: every order expires at its `expiresAt` unless it was paid or
//! cancelled first. It publishes `expiration.complete`; the orders service decides.
//!
//! Inner layout: `config`, `events`, `startup`. No `store` and no `routes`: the pending
//! expiries are JetStream scheduled messages, and the only HTTP it serves is its health probes.
pub mod config;
pub mod events;
pub mod startup;

pub use config::ExpirationConfig;
pub use startup::{application, ExpirationService};
