//! The web server's binary, run as the browser journeys and the distributed topology run it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test, with its message
mod single_machine;
