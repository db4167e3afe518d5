//! One module per page (or group of pages), with the server functions it uses beside it.
pub mod auth;
pub mod lazy;
pub mod not_found;
pub mod orders;
pub mod tickets;
