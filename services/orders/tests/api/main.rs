//! API tests: the real orders service on a random port, an in-memory database and its own
//! nats-server; `flow` adds the real tickets service beside it, `lifecycle` every service.
mod cancel;
mod create;
mod events;
mod faults;
mod flow;
mod helpers;
mod lifecycle;
mod show;
