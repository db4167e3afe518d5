//! A service's durable consumer: every replica pulls from the one consumer named after the
//! service, so each event is handled by one replica. Acks are explicit and sent only after the
//! handler's transaction committed; a failed handler is redelivered with back-off; an event that
//! can never succeed goes to the dead-letter stream after a bounded number of tries.
use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, AckKind};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures_util::StreamExt;

use super::nats::{DEAD_LETTER_PREFIX, STREAM};
use super::Event;

/// Deliveries of one message before it is dead-lettered.
pub const MAX_ATTEMPTS: i64 = 20;

/// What the handler made of a delivery.
#[derive(Debug)]
pub enum Outcome {
    /// Handled (or a duplicate): ack.
    Ack,
    /// Not yet: an event it depends on has not arrived. Redelivered after `delay`.
    Wait(Duration),
    /// Can never succeed (an unreadable payload): dead-letter now.
    Reject(String),
}

/// One delivery, with its subject and how many times it has been delivered.
pub struct Delivery {
    pub subject: String,
    pub payload: Bytes,
    pub attempt: i64,
}

impl Delivery {
    /// The typed event; an unreadable payload is an [`Outcome::Reject`].
    pub fn parse<E: Event>(&self) -> Result<E, Outcome> {
        serde_json::from_slice(&self.payload).map_err(|error| Outcome::Reject(format!("unreadable {} payload: {error}", E::SUBJECT)))
    }
}

/// The durable consumer of a service.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// `tickets-service`, `orders-service`, …
    pub durable: String,
    pub subjects: Vec<&'static str>,
    /// How long a delivered message may go unacked before it is delivered again: also how long
    /// the messages a killed replica had in hand wait before another replica gets them.
    pub ack_wait: Duration,
}

impl ConsumerSpec {
    pub fn new(durable: &str, subjects: Vec<&'static str>) -> Self {
        Self { durable: durable.to_string(), subjects, ack_wait: Duration::from_secs(30) }
    }

    pub fn ack_wait(self, ack_wait: Duration) -> Self {
        Self { ack_wait, ..self }
    }
}

fn retry_delay(attempt: i64) -> Duration {
    Duration::from_millis((50u64 << attempt.clamp(0, 7) as u32).min(5_000))
}

/// Consumes until the process stops, re-creating the consumer after NATS outages. Asked to stop,
/// it finishes (and acks) the event in hand and pulls no more.
pub async fn run<H, F>(js: jetstream::Context, spec: ConsumerSpec, handler: H, drain: super::drain::Drain)
where
    H: Fn(Delivery) -> F + Send + Sync,
    F: Future<Output = anyhow::Result<Outcome>> + Send,
{
    let _running = drain.enter();
    let mut backoff = Duration::from_millis(200);
    loop {
        let consumed = tokio::select! {
            consumed = consume(&js, &spec, &handler, &drain) => consumed,
            // Still setting up (NATS down): nothing in hand to finish.
            () = drain.stopped(), if !drain.is_stopping() => return,
        };
        if drain.is_stopping() {
            tracing::info!(consumer = %spec.durable, "stopped consuming");
            return;
        }
        match consumed {
            Ok(()) => tracing::warn!(consumer = %spec.durable, "message stream ended; reconnecting"),
            Err(error) => {
                tracing::warn!(consumer = %spec.durable, error = format!("{error:#}"), retry_in = ?backoff, "consumer failed; retrying")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = drain.stopped() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn consume<H, F>(js: &jetstream::Context, spec: &ConsumerSpec, handler: &H, drain: &super::drain::Drain) -> anyhow::Result<()>
where
    H: Fn(Delivery) -> F + Send + Sync,
    F: Future<Output = anyhow::Result<Outcome>> + Send,
{
    let stream = js.get_stream(STREAM).await?;
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some(spec.durable.clone()),
            filter_subjects: spec.subjects.iter().map(|s| s.to_string()).collect(),
            ack_policy: AckPolicy::Explicit,
            ack_wait: spec.ack_wait,
            // We count attempts ourselves so that the last one is dead-lettered, not dropped.
            max_deliver: -1,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    tracing::info!(consumer = %spec.durable, subjects = ?spec.subjects, "consuming events");
    loop {
        let next = tokio::select! {
            next = messages.next() => next,
            () = drain.stopped() => return Ok(()),
        };
        let Some(message) = next else { break };
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(consumer = %spec.durable, %error, "pull failed");
                continue;
            }
        };
        handle(js, spec, handler, message).await;
    }
    Ok(())
}

async fn handle<H, F>(js: &jetstream::Context, spec: &ConsumerSpec, handler: &H, message: jetstream::Message)
where
    H: Fn(Delivery) -> F + Send + Sync,
    F: Future<Output = anyhow::Result<Outcome>> + Send,
{
    let attempt = message.info().map(|info| info.delivered).unwrap_or(1);
    let subject = message.subject.to_string();
    let delivery = Delivery { subject: subject.clone(), payload: message.payload.clone(), attempt };
    let outcome = handler(delivery).await;
    let ack = match outcome {
        Ok(Outcome::Ack) => AckKind::Ack,
        Ok(Outcome::Wait(delay)) if attempt < MAX_ATTEMPTS => {
            tracing::debug!(%subject, attempt, ?delay, "event arrived early; waiting");
            AckKind::Nak(Some(delay))
        }
        Err(error) if attempt < MAX_ATTEMPTS => {
            let delay = retry_delay(attempt);
            tracing::warn!(%subject, attempt, ?delay, error = format!("{error:#}"), "handler failed; will retry");
            AckKind::Nak(Some(delay))
        }
        Ok(Outcome::Reject(reason)) => dead_letter(js, spec, &message, &reason).await,
        Ok(Outcome::Wait(_)) => dead_letter(js, spec, &message, "still waiting for an earlier event").await,
        Err(error) => dead_letter(js, spec, &message, &format!("{error:#}")).await,
    };
    if let Err(error) = message.ack_with(ack).await {
        // Not acked means redelivered after ack_wait; handlers are idempotent.
        tracing::warn!(%subject, %error, "could not acknowledge");
    }
}

/// Keeps the message in the dead-letter stream, then stops its redelivery. If the dead-letter
/// publish itself fails, the message is retried instead of being lost.
async fn dead_letter(js: &jetstream::Context, spec: &ConsumerSpec, message: &jetstream::Message, reason: &str) -> AckKind {
    let subject = format!("{DEAD_LETTER_PREFIX}.{}.{}", spec.durable, message.subject);
    let mut headers = HeaderMap::new();
    headers.insert("Ticketing-Reason", reason.replace(['\r', '\n'], " ").as_str());
    headers.insert("Ticketing-Original-Subject", message.subject.as_str());
    let stored = match js.publish_with_headers(subject, headers, message.payload.clone()).await {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    match stored {
        true => {
            tracing::error!(subject = %message.subject, consumer = %spec.durable, reason, "event dead-lettered");
            AckKind::Term
        }
        false => {
            tracing::error!(subject = %message.subject, "dead-letter publish failed; will retry the event");
            AckKind::Nak(Some(Duration::from_secs(5)))
        }
    }
}
