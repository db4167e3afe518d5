//! The answers of `GET /api/tickets`, kept in memory. Listing is the marketplace's most frequent
//! request, and each one cost a database query (parse, plan, scan, convert) for an answer that
//! changes only when a ticket is written; so the serialized answer of each page is kept.
//!
//! Why a generation counter rather than clearing the cache: a request that read the database
//! before a write committed and stores its answer after the write's clearing would keep a stale
//! answer. Every entry carries the generation read before its query, every write bumps the
//! generation after it commits, and an entry of an older generation is a miss: a stale answer
//! can be stored but never served.
//!
//! How replicas learn of each other's writes: every write of the service commits an event
//! (`ticket.created`, `ticket.updated`, `ticket.deleted`) that some replica's relay publishes, and
//! each replica listens to those subjects and bumps its generation; its own writes bump it at
//! once. Hearing an event is not guaranteed (NATS down, a relay that cannot publish, a slow
//! subscriber's dropped messages), so entries also expire after [`TTL`]: the longest a replica
//! can show a list that misses another replica's write.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use moka::sync::Cache;
use shared::events::{Event, TicketCreated, TicketDeleted, TicketUpdated};

/// How long an answer may be served when the event of another replica's write never arrives.
/// Short enough that a buyer does not notice; long enough that a burst of requests costs one
/// query a second per page.
pub const TTL: Duration = Duration::from_secs(1);

/// Pages kept at most (a `limit` and a `before`), so that clients paging with every ticket id
/// cannot grow it without bound.
const MAX_PAGES: u64 = 1024;

/// A page: its `limit` and its `before`.
type Page = (usize, Option<String>);

/// The cached listing answers of this replica; clones share them.
#[derive(Clone)]
pub struct Listing(Arc<Inner>);

struct Inner {
    generation: AtomicU64,
    /// Each page's JSON body, with the generation read before its query.
    pages: Cache<Page, (u64, Bytes)>,
}

impl Default for Listing {
    fn default() -> Self {
        Self::new()
    }
}

impl Listing {
    pub fn new() -> Self {
        Self(Arc::new(Inner { generation: AtomicU64::new(0), pages: Cache::builder().max_capacity(MAX_PAGES).time_to_live(TTL).build() }))
    }

    /// A ticket was written (committed): every answer kept so far may be stale.
    pub fn invalidate(&self) {
        self.0.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The generation now: read it before the query whose answer is [`put`](Self::put).
    pub fn generation(&self) -> u64 {
        self.0.generation.load(Ordering::SeqCst)
    }

    /// The page's body, if it was kept in the current generation.
    pub fn get(&self, limit: usize, before: Option<&str>) -> Option<Bytes> {
        let (generation, body) = self.0.pages.get(&(limit, before.map(str::to_string)))?;
        (generation == self.generation()).then_some(body)
    }

    /// Keeps the page's body, read by a query that started in `generation`, unless a write
    /// committed since (the entry would be a miss anyway; this spares the insert).
    pub fn put(&self, limit: usize, before: Option<&str>, generation: u64, body: Bytes) {
        if generation == self.generation() {
            self.0.pages.insert((limit, before.map(str::to_string)), (generation, body));
        }
    }

    /// Invalidates on every ticket event any replica publishes (its own included, harmlessly).
    /// A core subscription: JetStream's publishes are ordinary messages, and async-nats
    /// subscribes again by itself after a reconnection. Ends when the connection closes.
    pub fn spawn_listener(&self, client: async_nats::Client) {
        let listing = self.clone();
        tokio::spawn(async move {
            let mut subscriptions = Vec::new();
            for subject in [TicketCreated::SUBJECT, TicketUpdated::SUBJECT, TicketDeleted::SUBJECT] {
                match client.subscribe(subject).await {
                    Ok(subscription) => subscriptions.push(subscription),
                    Err(error) => {
                        tracing::warn!(%subject, %error, "cannot hear other replicas' writes: lists may lag them by the cache's lifetime");
                        return;
                    }
                }
            }
            let mut events = futures_util::stream::select_all(subscriptions);
            while events.next().await.is_some() {
                listing.invalidate();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &'static str) -> Bytes {
        Bytes::from_static(text.as_bytes())
    }

    #[test]
    fn a_page_kept_in_the_current_generation_is_served() {
        let listing = Listing::new();
        let generation = listing.generation();
        listing.put(50, None, generation, body("[1]"));
        assert_eq!(listing.get(50, None), Some(body("[1]")));
        assert_eq!(listing.get(50, Some("t1")), None, "another page");
        assert_eq!(listing.get(20, None), None, "another limit");
    }

    #[test]
    fn a_write_makes_every_kept_page_a_miss() {
        let listing = Listing::new();
        listing.put(50, Some("t1"), listing.generation(), body("[1]"));
        listing.invalidate();
        assert_eq!(listing.get(50, Some("t1")), None);
    }

    #[test]
    fn an_answer_read_before_a_write_is_not_kept() {
        let listing = Listing::new();
        let generation = listing.generation();
        // The query runs; a write commits meanwhile.
        listing.invalidate();
        listing.put(50, None, generation, body("[stale]"));
        assert_eq!(listing.get(50, None), None);
        // The next reader's answer, read after the write, is kept.
        listing.put(50, None, listing.generation(), body("[fresh]"));
        assert_eq!(listing.get(50, None), Some(body("[fresh]")));
    }
}
