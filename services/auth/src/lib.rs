//! The auth service: sign-up, sign-in, sign-out and the current user (`/api/users`).
//!
//! Inner layout, as in every service: `domain` (types that parse input), `store` (its own
//! database), `routes` (HTTP), `startup` (wiring). Auth consumes no events; it publishes one kind,
//! through its outbox: a session ended (sign-out), as a key of the revoked sessions' bucket that
//! every service looks sessions up in. It is the only service that signs sessions; `keygen`
//! makes the key pair for it.
pub mod config;
pub mod domain;
pub mod keygen;
pub mod limits;
pub mod routes;
pub mod startup;
pub mod store;

pub use config::AuthConfig;
pub use startup::{application, AuthService};
