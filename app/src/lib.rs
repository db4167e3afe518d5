//! The web client: pages and components, and the server functions that forward to the services.
//! Compiled twice: with `ssr` into the server, with `hydrate` into the browser bundle.
//! Dependencies point down: pages use components, `session` and `api`; components never use
//! pages (what a component must send to a page's server function, it hands to a callback).
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod i18n;
pub mod live;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod request;
pub mod session;
mod shell;

pub use shell::{shell, App};
