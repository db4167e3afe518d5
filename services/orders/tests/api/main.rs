//! API tests: the real orders service on a random port, an in-memory database and its own
//! nats-server, which the tests publish the other services' events on. Orders with the other
//! services running is `services/system-tests`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
mod cancel;
mod create;
mod events;
mod faults;
mod helpers;
mod metrics;
mod show;
