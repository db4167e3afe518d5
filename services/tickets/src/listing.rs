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
//! Why one read per page (a single flight): when a page expires or a write makes it stale, every
//! request for it misses at once; each running the query queued them all behind each other (a
//! p99 many times one query's: docs/benchmarks.md, "The herd at expiry"). The requests that miss
//! a page together now wait for the one query the first of them runs.
//!
//! How replicas learn of each other's writes: every write of the service commits an event
//! (`ticket.created`, `ticket.updated`, `ticket.deleted`) that some replica's relay publishes, and
//! each replica listens to those subjects and bumps its generation; its own writes bump it at
//! once. Hearing an event is not guaranteed (NATS down, a relay that cannot publish, a slow
//! subscriber's dropped messages), so entries also expire after [`TTL`]: the longest a replica
//! can show a list that misses another replica's write.
use std::future::Future;
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

/// A page's answer, read once: every request that misses it waits for the same read.
type Slot = Arc<tokio::sync::OnceCell<Bytes>>;

/// The cached listing answers of this replica; clones share them.
#[derive(Clone)]
pub struct Listing(Arc<Inner>);

struct Inner {
    generation: AtomicU64,
    /// Each page's answer, with the generation read before its query.
    pages: Cache<Page, (u64, Slot)>,
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

    fn generation(&self) -> u64 {
        self.0.generation.load(Ordering::SeqCst)
    }

    /// The page's answer: kept in the current generation, or read by `read` once for every
    /// request that misses it meanwhile. A failed read is not kept (the next request reads again).
    pub async fn get_or_read<E, F, Fut>(&self, limit: usize, before: Option<&str>, read: F) -> Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
    {
        let page = (limit, before.map(str::to_string));
        // Read before the query: a write committed from now on makes its answer one not to serve.
        let generation = self.generation();
        let slot = match self.0.pages.get(&page) {
            Some((kept, slot)) if kept == generation => slot,
            _ => {
                let slot = Slot::default();
                self.0.pages.insert(page, (generation, slot.clone()));
                slot
            }
        };
        slot.get_or_try_init(read).await.cloned()
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
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn body(text: &'static str) -> Bytes {
        Bytes::from_static(text.as_bytes())
    }

    /// Reads `answer` through the listing, counting the reads that ran.
    async fn read(listing: &Listing, limit: usize, before: Option<&str>, reads: &AtomicUsize, answer: &'static str) -> Bytes {
        let result: Result<Bytes, ()> = listing
            .get_or_read(limit, before, move || async move {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(body(answer))
            })
            .await;
        result.unwrap()
    }

    #[tokio::test]
    async fn a_page_is_read_once_until_a_write() {
        let (listing, reads) = (Listing::new(), AtomicUsize::new(0));
        assert_eq!(read(&listing, 50, None, &reads, "[1]").await, body("[1]"));
        assert_eq!(read(&listing, 50, None, &reads, "[2]").await, body("[1]"), "kept");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(read(&listing, 50, Some("t1"), &reads, "[3]").await, body("[3]"), "another page");
        assert_eq!(read(&listing, 20, None, &reads, "[4]").await, body("[4]"), "another limit");
        listing.invalidate();
        assert_eq!(read(&listing, 50, None, &reads, "[5]").await, body("[5]"), "read again after a write");
    }

    #[tokio::test]
    async fn an_answer_read_across_a_write_is_not_served_after_it() {
        let listing = Listing::new();
        let writer = &listing;
        let stale: Result<Bytes, ()> = listing
            .get_or_read(50, None, move || async move {
                // A write commits while the query runs.
                writer.invalidate();
                Ok(body("[stale]"))
            })
            .await;
        assert_eq!(stale, Ok(body("[stale]")), "the request that raced the write gets what it read");
        let reads = AtomicUsize::new(0);
        assert_eq!(read(&listing, 50, None, &reads, "[fresh]").await, body("[fresh]"));
    }

    #[tokio::test]
    async fn requests_missing_a_page_together_share_one_read() {
        let (listing, reads) = (Listing::new(), AtomicUsize::new(0));
        let reads = &reads;
        let slow = move || async move {
            reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, ()>(body("[1]"))
        };
        let (a, b, c) =
            tokio::join!(listing.get_or_read(50, None, slow), listing.get_or_read(50, None, slow), listing.get_or_read(50, None, slow));
        assert_eq!((a, b, c), (Ok(body("[1]")), Ok(body("[1]")), Ok(body("[1]"))));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let (listing, reads) = (Listing::new(), AtomicUsize::new(0));
        let failed: Result<Bytes, &str> = listing.get_or_read(50, None, || async { Err("database down") }).await;
        assert_eq!(failed, Err("database down"));
        assert_eq!(read(&listing, 50, None, &reads, "[1]").await, body("[1]"));
    }
}
