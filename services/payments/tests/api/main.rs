//! API tests: the real payments service on a random port, an in-memory database, its own
//! nats-server and the Stripe double in the same process (so tests can look at its charges).
mod crash;
mod create;
mod events;
mod failures;
mod helpers;
mod permissions;
mod races;
mod stripe_double;
mod webhooks;
