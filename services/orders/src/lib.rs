//! The orders service: reserving a ticket (`/api/orders`), with at most one active order per
//! ticket, and the order's life from events (expiry, payment, the ticket's changes).
//!
//! Inner layout, as in every service: `domain`, `store`, `routes`, `events`, `startup`.
pub mod config;
pub mod domain;
pub mod events;
pub mod routes;
pub mod startup;
pub mod store;

pub use config::OrdersConfig;
pub use startup::{application, OrdersService};
