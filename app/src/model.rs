//! What the pages show: the services' JSON as the contract crate types it (so a change to the API
//! is a compile error here too), and how the pages format it.
pub use contract::{Cents, Order, OrderStatus, Ticket};

/// `$12.50`. From whole cents, so the browser bundle needs no float formatting code.
pub fn dollars(price: Cents) -> String {
    format!("${price}")
}
