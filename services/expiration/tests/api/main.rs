//! Tests of the expiration service against a real nats-server: expiries fire at `expiresAt`,
//! once, across restarts of the service (the real binary, killed) and of NATS, and in a
//! three-server NATS cluster that loses the stream's leader.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
mod cluster;
mod expiry;
mod helpers;
mod restarts;
