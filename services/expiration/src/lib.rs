//! The expiration service: every order expires at its `expiresAt` unless it was paid or
//! cancelled first. It publishes `expiration.complete`; the payments service answers it (a card
//! may be in flight) and the orders service cancels on that answer (docs/events.md).
//!
//! Inner layout: `config`, `events`, `startup`. No `store` and no `routes`: the pending
//! expiries are JetStream scheduled messages, and the only HTTP it serves is its health probes.
pub mod config;
pub mod events;
pub mod startup;

pub use config::ExpirationConfig;
pub use startup::{application, ExpirationService};
