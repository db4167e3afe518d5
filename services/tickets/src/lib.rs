//! The tickets service: tickets for sale (`/api/tickets`), reserved and released by order events.
//!
//! Inner layout, as in every service: `domain` (types that parse input), `store` (its own
//! database, each write with its event in one transaction), `routes` (HTTP), `events` (what it
//! consumes), `startup` (wiring). Besides: `listing`, the answers of the list kept in memory
//! until a write (of any replica) makes them stale.
pub mod config;
pub mod domain;
pub mod events;
pub mod listing;
pub mod routes;
pub mod startup;
pub mod store;

pub use config::TicketsConfig;
pub use startup::{application, TicketsService};
