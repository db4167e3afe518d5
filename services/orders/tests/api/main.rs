//! API tests: the real orders service on a random port, an in-memory database and its own
//! nats-server; `flow` and `metrics` add the real tickets service beside it, `lifecycle` every
//! service, `traces` the tickets and expiration services with the logs captured.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
mod cancel;
mod create;
mod events;
mod faults;
mod flow;
mod helpers;
mod lifecycle;
mod metrics;
mod show;
mod traces;
