//! Tests of the expiration service against a real nats-server: expiries fire at `expiresAt`,
//! once, across restarts of the service (the real binary, killed) and of NATS.
mod expiry;
mod helpers;
mod restarts;
