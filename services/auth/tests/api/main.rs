//! API tests: each spawns the real auth service on a random port with an in-memory database and
//! talks HTTP to it. One module per route, as in zero-to-production's `tests/api`.
mod bursts;
mod client_address;
mod contract;
mod currentuser;
mod health;
mod helpers;
mod sessions;
mod signin;
mod signout;
mod signup;
