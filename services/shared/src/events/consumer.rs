//! A service's durable consumer: every replica pulls from the one consumer named after the
//! service, so each event is handled by one replica. Acks are explicit and sent only after the
//! handler's transaction committed; a failed handler is redelivered with back-off.
//!
//! What may send an event to the dead-letter stream, and what may not: an event that can never
//! succeed (an unreadable payload) goes at once, and one whose handler keeps failing while
//! everything it needs is reachable goes after [`MAX_FAILURES`] failures. Waiting is never a
//! failure: an event that arrived before the one it depends on (a version gap) waits as long as
//! it takes, with growing pauses, and a handler that failed because its database is unreachable
//! pauses the whole consumer until the database answers again. Counting JetStream's deliveries
//! instead would dead-letter good events during any outage longer than the back-off (about
//! 70 s), and the services would drift apart for good. Dead letters can be replayed
//! (`<service> dead-letters replay`, see [`super::dead_letters`]).
//!
//! Each delivery is counted in `events_handled_total{consumer, subject, outcome}` with the
//! outcome `acked`, `waiting` (an earlier event first), `retried` (the handler failed),
//! `paused` (its dependency is unreachable) or `dead_lettered`; a delivery after the first in
//! `events_redelivered_total`, and the handler's time in `event_handle_duration_seconds`.
//!
//! Each delivery is handled in a span of its own (`event`, exported under the subject's name,
//! with the consumer, subject and attempt), a child of the trace context the message carries in
//! its `traceparent` header (see [`crate::telemetry`]): what the handler logs and writes is in
//! the trace of the request that caused the event.
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use ::metrics::{counter, histogram};
use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, AckKind};
use async_nats::HeaderMap;
use bytes::Bytes;
use contract::Version;
use futures_util::StreamExt;
use tracing::Instrument;

use super::nats::{self, DEAD_LETTER_PREFIX, REPLAY_PREFIX, STREAM};
use super::Event;
use crate::store::Db;

/// Failures of one event's handler, while its dependencies were reachable, before the event is
/// dead-lettered.
pub const MAX_FAILURES: u32 = 20;

/// What the handler made of a delivery.
#[derive(Debug)]
pub enum Outcome {
    /// Handled (or a duplicate): ack.
    Ack,
    /// Not yet: an event it depends on has not arrived. Redelivered after at least `delay`;
    /// never dead-lettered.
    Wait(Duration),
    /// Can never succeed (an unreadable payload): dead-letter now.
    Reject(String),
}

/// The version rule of every replica kept from another service's events: apply exactly the
/// next version, ack an older one (a duplicate or a redelivery), and wait while a version before
/// it has not arrived. `current` is the replica's version (`None`: the event that creates it has
/// not arrived, so wait for it; `early` is how long); `apply` writes the next version and says
/// whether it won (`false`: a concurrent handler changed the replica first, so read again at
/// once).
pub async fn apply_next<F>(current: Option<Version>, incoming: Version, early: Duration, apply: F) -> anyhow::Result<Outcome>
where
    F: AsyncFnOnce() -> anyhow::Result<bool>,
{
    let Some(current) = current else {
        return Ok(Outcome::Wait(early));
    };
    if incoming <= current {
        return Ok(Outcome::Ack);
    }
    if current.next() != Ok(incoming) {
        return Ok(Outcome::Wait(early));
    }
    if apply().await? {
        Ok(Outcome::Ack)
    } else {
        Ok(Outcome::Wait(Duration::ZERO))
    }
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

/// What a handler needs besides NATS: while it is unreachable the consumer pauses, and handler
/// failures do not count towards the dead-letter limit.
#[derive(Debug, Clone)]
pub enum Dependency {
    /// The service's own database.
    Database(Db),
    /// JetStream itself (a handler that only publishes).
    JetStream,
}

/// The durable consumer of a service.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// `tickets-service`, `orders-service`, …
    pub durable: String,
    /// The events it handles; it also reads its own replays (`replay.<durable>.<subject>`), which
    /// handlers see under the original subject.
    pub subjects: Vec<&'static str>,
    pub dependency: Dependency,
}

/// How long a replica may hold an event without acking it, or saying it still works on it: also
/// how long the events a killed replica had in hand wait before another gets them. Short, so that the events a killed replica held go to another within seconds; a handler that
/// takes longer keeps its event with progress acks.
pub const ACK_WAIT: Duration = Duration::from_secs(5);

/// Events a replica pulls at a time: few, so that a killed replica held few of them.
const PULL_BATCH: usize = 16;
/// How long a pull request lasts, and how often the server must say it is alive meanwhile. When
/// the NATS server leading the consumer is lost, its pending pulls are lost with it: the
/// client's defaults (30 s, heartbeats every 15 s) left a replica idle for up to half a minute
/// after each such loss while events waited.
const PULL_EXPIRES: Duration = Duration::from_secs(5);
const PULL_HEARTBEAT: Duration = Duration::from_secs(1);
/// A replica handles one event at a time, so a handler this slow is worth a warning.
const SLOW_HANDLER: Duration = Duration::from_millis(500);
/// How long a replica keeps an event with progress acks while its handler runs.
const MAX_HOLD: Duration = Duration::from_secs(60);

impl ConsumerSpec {
    pub fn new(durable: &str, subjects: Vec<&'static str>, dependency: Dependency) -> Self {
        Self { durable: durable.to_string(), subjects, dependency }
    }

    /// The consumer's filter: its subjects and its own replays.
    fn filter_subjects(&self) -> Vec<String> {
        self.subjects.iter().map(|s| s.to_string()).chain([nats::replay_subject(&self.durable, ">")]).collect()
    }
}

/// The subject an event was published on: a replay (`replay.<durable>.<subject>`) comes back
/// under its original subject.
fn original_subject<'a>(durable: &str, subject: &'a str) -> &'a str {
    subject
        .strip_prefix(REPLAY_PREFIX)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.strip_prefix(durable))
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(subject)
}

/// The `subject` label of a delivery: one of the consumer's subjects, or `other` (a replay of
/// something it does not handle), so that no publisher can add series.
fn subject_label(spec: &ConsumerSpec, subject: &str) -> &'static str {
    spec.subjects.iter().find(|known| **known == subject).copied().unwrap_or("other")
}

fn retry_delay(failures: u32) -> Duration {
    Duration::from_millis((50u64 << failures.clamp(0, 7)).min(5_000))
}

/// A waiting event comes back after the delay its handler asked for, and less often the longer
/// it waits: 25 ms at first, 5 s from the ninth delivery on.
fn wait_delay(asked: Duration, attempt: i64) -> Duration {
    asked.max(Duration::from_millis(25u64 << (attempt - 1).clamp(0, 8) as u32).min(Duration::from_secs(5)))
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
    // Failures per stream sequence, counted only while the dependency answered.
    let mut failures = HashMap::new();
    loop {
        let started = std::time::Instant::now();
        // Asked to stop, it returns between events: the one in hand is finished and acked.
        let consumed = consume(&js, &spec, &handler, &drain, &mut failures).await;
        // A consumer that ran a while before it failed starts over from a short pause: each
        // NATS server lost must not add to the next reconnection's wait.
        if started.elapsed() > Duration::from_secs(10) {
            backoff = Duration::from_millis(200);
        }
        if drain.is_stopping() {
            tracing::info!(consumer = %spec.durable, "stopped consuming");
            return;
        }
        match consumed {
            // What was pulled before the pause waited too long: pull anew, at once.
            Ok(Ended::Paused) => continue,
            Ok(Ended::Stream) => tracing::warn!(consumer = %spec.durable, "message stream ended; reconnecting"),
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

/// Why [`consume`] returned without an error.
enum Ended {
    /// The message stream ended (or the process is stopping).
    Stream,
    /// The consumer paused for its dependency and may go on with a fresh pull.
    Paused,
}

async fn consume<H, F>(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    handler: &H,
    drain: &super::drain::Drain,
    failures: &mut HashMap<u64, u32>,
) -> anyhow::Result<Ended>
where
    H: Fn(Delivery) -> F + Send + Sync,
    F: Future<Output = anyhow::Result<Outcome>> + Send,
{
    let setup = async {
        let stream = js.get_stream(STREAM).await?;
        let consumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(spec.durable.clone()),
                filter_subjects: spec.filter_subjects(),
                ack_policy: AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                // We count failures ourselves: an outage must not use up an event's deliveries.
                max_deliver: -1,
                ..Default::default()
            })
            .await?;
        let messages =
            consumer.stream().max_messages_per_batch(PULL_BATCH).expires(PULL_EXPIRES).heartbeat(PULL_HEARTBEAT).messages().await?;
        anyhow::Ok(messages)
    };
    let mut messages = tokio::select! {
        messages = setup => messages?,
        // Still setting up (NATS down): nothing in hand to finish.
        () = drain.stopped() => return Ok(Ended::Stream),
    };
    tracing::info!(consumer = %spec.durable, subjects = ?spec.subjects, "consuming events");
    loop {
        let next = tokio::select! {
            next = messages.next() => next,
            () = drain.stopped() => return Ok(Ended::Stream),
        };
        let Some(message) = next else { break };
        let message = match message {
            Ok(message) => message,
            // The server holding the pull is gone (a NATS server lost): pull anew now rather
            // than wait for the client's own fallback.
            Err(error) if matches!(error.kind(), pull::MessagesErrorKind::MissingHeartbeat) => {
                return Err(anyhow::Error::new(error).context("the pull went unanswered"));
            }
            Err(error) => {
                tracing::warn!(consumer = %spec.durable, %error, "pull failed");
                continue;
            }
        };
        let span = event_span(spec, &message);
        if handle(js, spec, handler, message, failures).instrument(span).await == Flow::Pause {
            // Events pulled meanwhile go back after the ack wait; a fresh pull follows.
            pause(js, spec, drain).await;
            return Ok(Ended::Paused);
        }
    }
    Ok(Ended::Stream)
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    /// The dependency is unreachable: pull nothing until it answers.
    Pause,
}

/// What to do with a delivery once its handler returned.
#[derive(Debug, PartialEq)]
enum Decision {
    Ack,
    /// Deliver again after the delay; `pause` stops the consumer until its dependency answers.
    Retry {
        delay: Duration,
        pause: bool,
    },
    DeadLetter(String),
}

/// The rule of this module, apart from any I/O: `failures` is how often this event's handler
/// failed before while the dependency answered (updated here), `reachable` whether the
/// dependency answers now (asked only after a failure).
fn decide(outcome: &anyhow::Result<Outcome>, attempt: i64, failures: &mut u32, reachable: impl FnOnce() -> bool) -> Decision {
    match outcome {
        Ok(Outcome::Ack) => Decision::Ack,
        Ok(Outcome::Wait(asked)) => Decision::Retry { delay: wait_delay(*asked, attempt), pause: false },
        Ok(Outcome::Reject(reason)) => Decision::DeadLetter(reason.clone()),
        Err(_) if !reachable() => Decision::Retry { delay: Duration::from_secs(1), pause: true },
        Err(error) => {
            *failures += 1;
            if *failures >= MAX_FAILURES {
                Decision::DeadLetter(format!("{error:#}"))
            } else {
                Decision::Retry { delay: retry_delay(*failures), pause: false }
            }
        }
    }
}

/// The span a delivery is handled in: a child of the trace the message carries, if any.
fn event_span(spec: &ConsumerSpec, message: &jetstream::Message) -> tracing::Span {
    let subject = original_subject(&spec.durable, message.subject.as_str());
    let attempt = message.info().map(|info| info.delivered).unwrap_or(1);
    let span = tracing::info_span!(
        "event",
        otel.name = %subject,
        otel.kind = "consumer",
        consumer = %spec.durable,
        subject = %subject,
        attempt,
        trace_id = tracing::field::Empty
    );
    let headers = message.headers.as_ref();
    let parent = crate::telemetry::remote_parent(|name| headers?.get(name).map(|value| value.as_str().to_string()));
    crate::telemetry::join(&span, parent);
    span
}

async fn handle<H, F>(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    handler: &H,
    message: jetstream::Message,
    failures: &mut HashMap<u64, u32>,
) -> Flow
where
    H: Fn(Delivery) -> F + Send + Sync,
    F: Future<Output = anyhow::Result<Outcome>> + Send,
{
    let (attempt, sequence) = message.info().map(|info| (info.delivered, info.stream_sequence)).unwrap_or((1, 0));
    let subject = original_subject(&spec.durable, message.subject.as_str()).to_string();
    let label = subject_label(spec, &subject);
    if attempt > 1 {
        counter!("events_redelivered_total", "consumer" => spec.durable.clone(), "subject" => label).increment(1);
    }
    let delivery = Delivery { subject: subject.clone(), payload: message.payload.clone(), attempt };
    let outcome = run_holding(&message, handler(delivery), spec, &subject, attempt).await;
    let reachable = match &outcome {
        Err(_) => reachable(js, &spec.dependency).await,
        Ok(_) => true,
    };
    let mut count = failures.get(&sequence).copied().unwrap_or(0);
    let (ack, handled, flow) = match decide(&outcome, attempt, &mut count, || reachable) {
        Decision::Ack => {
            failures.remove(&sequence);
            (AckKind::Ack, "acked", Flow::Continue)
        }
        Decision::DeadLetter(reason) => {
            failures.remove(&sequence);
            match dead_letter(js, spec, &message, &subject, &reason).await {
                AckKind::Term => {
                    counter!("events_dead_lettered_total", "consumer" => spec.durable.clone(), "subject" => label).increment(1);
                    (AckKind::Term, "dead_lettered", Flow::Continue)
                }
                // The dead-letter stream did not take it: the event comes back.
                other => (other, "retried", Flow::Continue),
            }
        }
        Decision::Retry { delay, pause } => {
            let (handled, flow) = log_retry(&outcome, pause, &subject, attempt, count, delay);
            if outcome.is_err() && !pause {
                failures.insert(sequence, count);
            }
            (AckKind::Nak(Some(delay)), handled, flow)
        }
    };
    counter!("events_handled_total", "consumer" => spec.durable.clone(), "subject" => label, "outcome" => handled).increment(1);
    if let Err(error) = message.ack_with(ack).await {
        // Not acked means redelivered after ack_wait; handlers are idempotent.
        tracing::warn!(%subject, %error, "could not acknowledge");
    }
    flow
}

/// Runs the handler while holding its event: a slow handler (its database slow or
/// reconnecting) keeps the event with progress acks, since another replica would get it after
/// the ack wait, until [`MAX_HOLD`], after which it may never finish and another replica tries.
async fn run_holding<F>(
    message: &jetstream::Message,
    handling: F,
    spec: &ConsumerSpec,
    subject: &str,
    attempt: i64,
) -> anyhow::Result<Outcome>
where
    F: Future<Output = anyhow::Result<Outcome>>,
{
    let started = std::time::Instant::now();
    tokio::pin!(handling);
    let mut still_working = tokio::time::interval_at(tokio::time::Instant::now() + ACK_WAIT / 2, ACK_WAIT / 2);
    let mut holding = true;
    let outcome = loop {
        tokio::select! {
            outcome = &mut handling => break outcome,
            _ = still_working.tick(), if holding => {
                if started.elapsed() >= MAX_HOLD {
                    tracing::warn!(%subject, attempt, held = ?started.elapsed(), "event handler still running; letting the event go to another replica");
                    holding = false;
                } else if let Err(error) = message.ack_with(AckKind::Progress).await {
                    tracing::debug!(%subject, %error, "progress ack failed");
                }
            }
        }
    };
    let took = started.elapsed();
    histogram!("event_handle_duration_seconds", "consumer" => spec.durable.clone()).record(took);
    if took > SLOW_HANDLER {
        tracing::warn!(%subject, attempt, ?took, "slow event handler: the events behind it wait");
    }
    outcome
}

/// Says why an event goes back, and whether the consumer pauses: the metric's outcome label and
/// the flow. An event that waits for an earlier one is normal (logged every 100th time); a
/// failure is not.
fn log_retry(
    outcome: &anyhow::Result<Outcome>,
    pause: bool,
    subject: &str,
    attempt: i64,
    failures: u32,
    delay: Duration,
) -> (&'static str, Flow) {
    match (outcome, pause) {
        (Ok(_), _) if attempt % 100 == 0 => {
            tracing::warn!(%subject, attempt, ?delay, "event still waiting for an earlier one");
            ("waiting", Flow::Continue)
        }
        (Ok(_), _) => {
            tracing::debug!(%subject, attempt, ?delay, "event arrived early; waiting");
            ("waiting", Flow::Continue)
        }
        (Err(error), true) => {
            tracing::warn!(%subject, error = format!("{error:#}"), "handler failed while its dependency is unreachable; pausing");
            ("paused", Flow::Pause)
        }
        (Err(error), false) => {
            tracing::warn!(%subject, failures, ?delay, error = format!("{error:#}"), "handler failed; will retry");
            ("retried", Flow::Continue)
        }
    }
}

/// Whether what the handlers need answers now.
async fn reachable(js: &jetstream::Context, dependency: &Dependency) -> bool {
    match dependency {
        Dependency::Database(db) => crate::store::reachable(db).await,
        Dependency::JetStream => matches!(tokio::time::timeout(Duration::from_secs(2), js.query_account()).await, Ok(Ok(_))),
    }
}

/// Waits until the dependency answers again (or the process is asked to stop).
async fn pause(js: &jetstream::Context, spec: &ConsumerSpec, drain: &super::drain::Drain) {
    let started = std::time::Instant::now();
    loop {
        if reachable(js, &spec.dependency).await {
            tracing::info!(consumer = %spec.durable, paused = ?started.elapsed(), "dependency reachable again; resuming");
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            () = drain.stopped() => return,
        }
    }
}

/// Keeps the message in the dead-letter stream under its original `subject` (a replay that fails
/// again is dead-lettered as the event it is), then stops its redelivery. If the dead-letter
/// publish itself fails, the message is retried instead of being lost.
async fn dead_letter(js: &jetstream::Context, spec: &ConsumerSpec, message: &jetstream::Message, subject: &str, reason: &str) -> AckKind {
    let dead = format!("{DEAD_LETTER_PREFIX}.{}.{subject}", spec.durable);
    let mut headers = HeaderMap::new();
    headers.insert("Ticketing-Reason", reason.replace(['\r', '\n'], " ").as_str());
    headers.insert("Ticketing-Original-Subject", subject);
    // Called in the event's span: a replay of it is handled in the same trace.
    for (name, value) in crate::telemetry::current_trace_headers() {
        headers.insert(name, value);
    }
    let stored = match js.publish_with_headers(dead, headers, message.payload.clone()).await {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    match stored {
        true => {
            tracing::error!(%subject, consumer = %spec.durable, reason, "event dead-lettered");
            AckKind::Term
        }
        false => {
            tracing::error!(%subject, "dead-letter publish failed; will retry the event");
            AckKind::Nak(Some(Duration::from_secs(5)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The version rule: which version is applied, acked unapplied, or made to wait.
    #[tokio::test]
    async fn only_the_next_version_is_applied_older_ones_are_acked_and_gaps_wait() {
        let early = Duration::from_millis(50);
        let applied = std::cell::Cell::new(0);
        let apply = |won: bool| {
            let applied = &applied;
            async move || {
                applied.set(applied.get() + 1);
                Ok(won)
            }
        };
        let outcome = |o: anyhow::Result<Outcome>| format!("{:?}", o.expect("no error"));
        assert_eq!(outcome(apply_next(None, 1.into(), early, apply(true)).await), "Wait(50ms)", "not created yet");
        assert_eq!(outcome(apply_next(Some(3.into()), 3.into(), early, apply(true)).await), "Ack", "a duplicate");
        assert_eq!(outcome(apply_next(Some(3.into()), 2.into(), early, apply(true)).await), "Ack", "an older one");
        assert_eq!(outcome(apply_next(Some(3.into()), 5.into(), early, apply(true)).await), "Wait(50ms)", "a gap");
        assert_eq!(applied.get(), 0, "none of those is applied");
        assert_eq!(outcome(apply_next(Some(3.into()), 4.into(), early, apply(true)).await), "Ack", "the next one");
        assert_eq!(outcome(apply_next(Some(3.into()), 4.into(), early, apply(false)).await), "Wait(0ns)", "lost to a concurrent write");
        assert_eq!(applied.get(), 2);
    }

    fn failed() -> anyhow::Result<Outcome> {
        Err(anyhow::anyhow!("database query failed"))
    }

    #[test]
    fn a_replay_is_handled_under_its_original_subject_by_its_own_consumer_only() {
        assert_eq!(original_subject("orders-service", "replay.orders-service.payment.created"), "payment.created");
        assert_eq!(original_subject("orders-service", "payment.created"), "payment.created");
        assert_eq!(original_subject("orders-service", "replay.tickets-service.order.created"), "replay.tickets-service.order.created");
        assert_eq!(original_subject("orders", "replay.orders-service.x"), "replay.orders-service.x");
        let spec = ConsumerSpec::new("orders-service", vec!["payment.created"], Dependency::JetStream);
        assert_eq!(spec.filter_subjects(), ["payment.created", "replay.orders-service.>"]);
        assert_eq!(subject_label(&spec, original_subject("orders-service", "replay.orders-service.payment.created")), "payment.created");
        assert_eq!(subject_label(&spec, "replay.orders-service.made.up"), "other");
    }

    #[test]
    fn waiting_for_an_earlier_event_never_dead_letters() {
        let mut failures = 0;
        for attempt in [1, 20, 21, 1_000] {
            let decision = decide(&Ok(Outcome::Wait(Duration::from_millis(50))), attempt, &mut failures, || true);
            assert!(matches!(decision, Decision::Retry { pause: false, .. }), "attempt {attempt}: {decision:?}");
        }
        assert_eq!(failures, 0);
    }

    #[test]
    fn failures_while_the_dependency_is_unreachable_pause_and_do_not_count() {
        let mut failures = MAX_FAILURES - 1;
        for attempt in [1, 50, 5_000] {
            let decision = decide(&failed(), attempt, &mut failures, || false);
            assert_eq!(decision, Decision::Retry { delay: Duration::from_secs(1), pause: true });
        }
        assert_eq!(failures, MAX_FAILURES - 1, "an outage uses up none of the event's tries");
    }

    #[test]
    fn an_event_whose_handler_keeps_failing_is_dead_lettered_after_the_limit() {
        let mut failures = 0;
        for _ in 1..MAX_FAILURES {
            assert!(matches!(decide(&failed(), 1, &mut failures, || true), Decision::Retry { pause: false, .. }));
        }
        assert!(matches!(decide(&failed(), 1, &mut failures, || true), Decision::DeadLetter(reason) if reason.contains("query failed")));
        let unreadable = Ok(Outcome::Reject("unreadable payload".into()));
        assert_eq!(decide(&unreadable, 1, &mut 0, || true), Decision::DeadLetter("unreadable payload".into()));
    }

    #[test]
    fn a_waiting_event_backs_off_but_comes_back_within_five_seconds() {
        assert_eq!(wait_delay(Duration::ZERO, 1), Duration::from_millis(25));
        assert_eq!(wait_delay(Duration::from_millis(50), 1), Duration::from_millis(50));
        assert_eq!(wait_delay(Duration::ZERO, 4), Duration::from_millis(200));
        assert_eq!(wait_delay(Duration::ZERO, 1_000), Duration::from_secs(5));
    }
}
