//! The event backbone: typed events (one Rust type per subject), the JetStream stream and
//! consumers, and the transactional outbox that publishes what a transaction committed.
pub mod backbone;
pub mod catalog;
pub mod consumer;
pub mod dead_letters;
pub mod drain;
pub mod nats;
pub mod outbox;
pub mod permissions;
pub mod streams;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use backbone::Backbone;
pub use catalog::*;

/// An event and the subject it travels on: publisher and consumer share the type, so a payload
/// cannot drift between services.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    const SUBJECT: &'static str;
}
