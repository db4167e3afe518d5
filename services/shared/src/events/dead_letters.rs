//! Dead letters: the events a consumer gave up on, kept in `TICKETING_DEAD_LETTER` under
//! `deadletter.<consumer>.<subject>` with the reason, and the operator's command to look at them
//! and send them back once the cause is fixed:
//!
//! ```text
//! orders dead-letters list      # what orders-service gave up on, and why
//! orders dead-letters replay    # send each back to orders-service, then remove it
//! ```
//!
//! Every service binary that consumes events has the command (in Kubernetes:
//! `kubectl exec deploy/orders -- env NATS_USER=admin NATS_PASSWORD=… orders dead-letters
//! replay`); it reads `NATS_URL` like the service and runs as the operator's NATS user, `admin`
//! (in development, when `NATS_USER` and `NATS_PASSWORD` are unset, with admin's development
//! password). Not as the service's own user: reading the dead-letter stream takes a consumer, and
//! a user that may create consumers may make one that delivers anywhere (see
//! `permissions`), so services may create none but their durable. A replayed event goes to the
//! consumer that gave up on it alone, on `replay.<consumer>.<subject>`: the other consumers had
//! handled it already.
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, consumer::pull, consumer::DeliverPolicy};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures_util::StreamExt;

use super::nats::{self, NatsSettings, DEAD_LETTER_PREFIX, DEAD_LETTER_STREAM};
use super::permissions;

/// One event a consumer gave up on.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream.
    pub sequence: u64,
    /// The subject it was published on, and is replayed to.
    pub subject: String,
    pub reason: String,
    pub payload: Bytes,
    /// The trace context of the handling that gave up (`traceparent`, `tracestate`): its replay
    /// is handled in the same trace.
    pub trace_headers: Vec<(&'static str, String)>,
}

/// The dead letters of `consumer` (`orders-service`, …), oldest first.
pub async fn list(js: &jetstream::Context, consumer: &str) -> anyhow::Result<Vec<DeadLetter>> {
    let stream = js.get_stream(DEAD_LETTER_STREAM).await.context("opening the dead-letter stream")?;
    let prefix = format!("{DEAD_LETTER_PREFIX}.{consumer}.");
    let mut reader = stream
        .create_consumer(pull::OrderedConfig {
            name: Some(format!("{consumer}-dead-letters-{}", uuid::Uuid::new_v4().simple())),
            filter_subject: format!("{prefix}>"),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await?;
    let pending = reader.info().await?.num_pending;
    let mut messages = reader.messages().await?;
    let mut letters = Vec::new();
    while (letters.len() as u64) < pending {
        let message = tokio::time::timeout(Duration::from_secs(5), messages.next())
            .await
            .context("reading the dead-letter stream timed out")?
            .context("the dead-letter stream ended")??;
        let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str().to_string());
        let subject = header("Ticketing-Original-Subject")
            .unwrap_or_else(|| message.subject.as_str().strip_prefix(&prefix).unwrap_or_default().to_string());
        let sequence = message.info().map_err(|e| anyhow::anyhow!("{e}"))?.stream_sequence;
        letters.push(DeadLetter {
            sequence,
            subject,
            reason: header("Ticketing-Reason").unwrap_or_default(),
            payload: message.payload.clone(),
            trace_headers: crate::telemetry::TRACE_HEADERS.iter().filter_map(|name| Some((*name, header(name)?))).collect(),
        });
    }
    Ok(letters)
}

/// Sends each dead letter of `consumer` back to it (`replay.<consumer>.<subject>`, handled as the
/// original subject), and removes it from the dead-letter stream once the stream stored the
/// replay. Returns how many were replayed.
pub async fn replay(js: &jetstream::Context, consumer: &str) -> anyhow::Result<usize> {
    let stream = js.get_stream(DEAD_LETTER_STREAM).await.context("opening the dead-letter stream")?;
    let letters = list(js, consumer).await?;
    for letter in &letters {
        let mut headers = HeaderMap::new();
        // A second run of the command within the duplicate window stores it once.
        headers.insert("Nats-Msg-Id", format!("replay-{consumer}-{}", letter.sequence).as_str());
        for (name, value) in &letter.trace_headers {
            headers.insert(*name, value.as_str());
        }
        js.publish_with_headers(nats::replay_subject(consumer, &letter.subject), headers, letter.payload.clone())
            .await?
            .await
            .with_context(|| format!("replaying dead letter {} on {}", letter.sequence, letter.subject))?;
        stream.delete_message(letter.sequence).await.with_context(|| format!("removing dead letter {}", letter.sequence))?;
        tracing::info!(consumer, subject = %letter.subject, sequence = letter.sequence, "dead letter replayed");
    }
    Ok(letters.len())
}

/// `<service> dead-letters list|replay`: `None` when the process was started without the
/// command (it runs the service then).
pub async fn command(consumer: &str) -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("dead-letters") {
        return None;
    }
    let mut env = crate::env::EnvReader::from_process();
    let settings = NatsSettings::read(&mut env, permissions::ADMIN);
    if let Err(error) = env.finish() {
        eprintln!("{error}");
        return Some(ExitCode::from(2));
    }
    let result = match args.get(1).map(String::as_str) {
        Some("list") => run_list(&settings, consumer).await,
        Some("replay") => run_replay(&settings, consumer).await,
        _ => {
            eprintln!("usage: dead-letters list | dead-letters replay");
            return Some(ExitCode::from(2));
        }
    };
    Some(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dead-letters: {error:#}");
            ExitCode::FAILURE
        }
    })
}

async fn jetstream(settings: &NatsSettings, consumer: &str) -> anyhow::Result<jetstream::Context> {
    let client = nats::connect_options(settings)
        .name(format!("{consumer} dead-letters"))
        .connection_timeout(Duration::from_secs(5))
        .connect(settings.servers.clone())
        .await
        .with_context(|| format!("connecting to NATS at {}", settings.url()))?;
    if let Some(problem) = nats::version_problem(&client) {
        anyhow::bail!(problem);
    }
    Ok(jetstream::new(client))
}

async fn run_list(settings: &NatsSettings, consumer: &str) -> anyhow::Result<()> {
    let letters = list(&jetstream(settings, consumer).await?, consumer).await?;
    for letter in &letters {
        println!("{}\t{}\t{}\t{}", letter.sequence, letter.subject, letter.reason, String::from_utf8_lossy(&letter.payload));
    }
    println!("{} dead letter(s) of {consumer}", letters.len());
    Ok(())
}

async fn run_replay(settings: &NatsSettings, consumer: &str) -> anyhow::Result<()> {
    let replayed = replay(&jetstream(settings, consumer).await?, consumer).await?;
    println!("replayed {replayed} dead letter(s) of {consumer}");
    Ok(())
}
