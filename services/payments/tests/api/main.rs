//! API tests: the real payments service on a random port, an in-memory database, its own
//! nats-server and the Stripe double in the same process (so tests can look at its charges).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
mod charge;
mod crash;
mod create;
mod deadline;
mod events;
mod failures;
mod helpers;
mod metrics;
mod permissions;
mod races;
mod stripe_double;
mod webhooks;
