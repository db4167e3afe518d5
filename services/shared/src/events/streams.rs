//! Where events live: the JetStream streams, their subjects, and the revoked sessions' bucket. The
//! connection (`nats`) creates them and the permissions (`permissions`) grant them by these names;
//! both read them here, so neither depends on the other for them.

/// The stream every event lives in. `expiration.complete` comes into it from
/// [`EXPIRATION_STREAM`] (a stream source), where the server fires the expiration service's
/// schedules.
pub const STREAM: &str = "TICKETING";
/// Subjects of the stream: the events its owners publish, and each consumer's replays.
pub const SUBJECTS: &[&str] = &["ticket.>", "order.>", "payment.>", "replay.>"];
/// The expiration service's schedules and what they fire. Scheduled messages are allowed in this
/// stream only: a schedule's target must be a subject of its own stream, so no schedule can fire
/// another owner's event (in `TICKETING`, a schedule on `payment.created` could fire
/// `order.completed`).
pub const EXPIRATION_STREAM: &str = "TICKETING_EXPIRATIONS";
pub const EXPIRATION_SUBJECTS: &[&str] = &["expiration.>"];
/// `expiration.schedule.<orderId>`: one schedule per order.
pub const SCHEDULE_PREFIX: &str = "expiration.schedule";
/// Messages that could never be handled, kept for a person to look at.
pub const DEAD_LETTER_STREAM: &str = "TICKETING_DEAD_LETTER";
pub const DEAD_LETTER_PREFIX: &str = "deadletter";
/// `replay.<consumer>.<subject>`: a dead letter sent back to the one consumer that gave up on it,
/// on a subject only that consumer's service may publish.
pub const REPLAY_PREFIX: &str = "replay";
/// The sessions ended before their expiry (signed out), a key-value bucket: one key per session
/// id, written by auth's outbox, read by every service (`shared::session::Revocations`).
pub const REVOKED_SESSIONS: &str = "SESSIONS_REVOKED";
/// The stream that holds [`REVOKED_SESSIONS`], as NATS names a bucket's stream.
pub const REVOKED_SESSIONS_STREAM: &str = "KV_SESSIONS_REVOKED";

/// The subject that records session `sid` as ended: a put into [`REVOKED_SESSIONS`].
pub fn revoked_session_subject(sid: &str) -> String {
    format!("$KV.{REVOKED_SESSIONS}.{sid}")
}
