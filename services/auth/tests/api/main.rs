//! API tests: each spawns the real auth service on a random port with an in-memory database and
//! talks HTTP to it. One module per route, as in zero-to-production's `tests/api`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
mod bursts;
mod client_address;
mod contract;
mod currentuser;
mod health;
mod helpers;
mod limits;
mod sessions;
mod signin;
mod signout;
mod signup;
