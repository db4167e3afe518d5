//! The payments service: paying for an order through Stripe (`/api/payments`), at most one
//! payment per order, Stripe's webhooks (`/api/payments/webhook`), and refunds for charges that
//! could not settle their order.
//!
//! Inner layout, as in every service: `domain`, `store`, `routes`, `events`, `startup`; plus
//! `gateway` (Stripe), `attempts` (a charge from attempt to outcome, and the reconciler) and
//! `refunds`.
pub mod attempts;
pub mod config;
pub mod domain;
pub mod events;
pub mod gateway;
pub mod refunds;
pub mod routes;
pub mod startup;
pub mod store;

pub use config::PaymentsConfig;
pub use startup::{application, PaymentsService};
