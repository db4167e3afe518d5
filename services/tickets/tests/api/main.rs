//! API tests: each spawns the real tickets service on a random port with an in-memory database
//! and its own nats-server.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
mod crash;
mod create;
mod events;
mod helpers;
mod list;
mod mine;
mod operations;
mod sessions;
mod show;
mod streams;
mod update;
mod versions;
