//! The web client: pages and components, and the server functions that forward to the services.
//! Compiled twice: with `ssr` into the server, with `hydrate` into the browser bundle.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
mod shell;

pub use shell::{shell, App};
