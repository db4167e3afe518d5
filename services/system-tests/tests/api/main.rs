//! Tests of services together: each starts the services it needs, for real, on one nats-server
//! of its own, and checks what crosses between them (events, sessions, traces). A service's own
//! tests (`services/<name>/tests/api`) start it alone and play the others' part on NATS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
mod faults;
mod helpers;
mod lifecycle;
mod metrics;
mod purchase;
mod sessions;
mod traces;
