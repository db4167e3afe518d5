//! Live updates: the web server turns the services' events into a push stream for the browser
//! (Server-Sent Events), so that the tickets list, a ticket's page and an order's page change
//! without a reload (`app::live` is the browser's side).
//!
//! Why one NATS subscription per web server and not one per browser: each browser's stream is a
//! receiver of one `tokio::sync::broadcast` channel, so an open page costs its connection and no
//! more, and NATS sees one subscriber per pod. Why a core subscription and not a durable
//! consumer: a live page wants what happens from now on; what came before is in the page it
//! loaded, and a stream that may have missed something (fallen behind, reconnected) makes the
//! page read its data again. Why its own NATS user (`web`, `shared::events::permissions::WEB`):
//! it may listen to the events the pages follow and publish nothing.
//!
//! - `GET /live/tickets`: every ticket change as `event: ticket`, `data: {"id": …, "version": …}`
//!   (ticket ids are public), and `event: sold` (`{"id": …}`) when a ticket is sold, which only
//!   its page shows (the list never holds a reserved ticket).
//! - `GET /live/orders/{id}`: that order's changes (paid, cancelled, expired) as `event: order`,
//!   for its buyer alone: asked once, as the stream opens, of the orders service with the
//!   visitor's session (as server functions ask it); otherwise the API's 401 or 404, no stream.
//! - A stream that falls [`CAPACITY`] events behind gets `event: reload`: its page reads its data
//!   again rather than trust what it shows. A comment every [`KEEP_ALIVE`] keeps proxies from
//!   closing an idle stream; `X-Accel-Buffering: no` keeps nginx (the ingress, `scripts/cluster`)
//!   from holding events back; compression leaves `text/event-stream` alone (tower-http's default
//!   predicate, tested below).
//! - Without NATS the pages work as before, without live updates; async-nats reconnects and
//!   subscribes again by itself. On shutdown every stream ends, so the drain does not wait on
//!   them.
//! - Open streams are capped, per web server (`LIVE_MAX_STREAMS`, default 4,000: a stream costs
//!   its connection's buffers, and the pod has 256 MiB) and per client address
//!   (`LIVE_MAX_STREAMS_PER_ADDRESS`, default 16; an IPv6 client by its /64), since a stream
//!   needs no sign-in: past the first, 503 `server_busy` with `Retry-After`; past the second,
//!   429. An order's stream asks the orders service again every [`RECHECK`] and ends when the
//!   answer is no longer 200 (the session expired or was ended, the order is no longer the
//!   visitor's).
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::anyhow;
use app::api::ssr::{session_token, status_for, Service};
use app::api::ApiConfig;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{Stream, StreamExt};
use shared::events::nats::{self, NatsSettings};
use shared::events::permissions::WEB;
use shared::events::{Event, OrderCancelled, OrderCompleted, TicketCreated, TicketDeleted, TicketUpdated};
use shared::extract::ClientAddr;
use shared::ApiError;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit, Semaphore};

/// Changes a stream may fall behind by before it is told to reload.
pub const CAPACITY: usize = 1024;

/// A comment this often on an idle stream: proxies close a connection silent for a minute
/// (nginx's `proxy_read_timeout`).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How often an order's stream asks again whether the visitor may follow it.
pub const RECHECK: Duration = Duration::from_secs(30);

/// How many streams may be open at once, per web server and per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamCaps {
    pub per_server: usize,
    pub per_address: usize,
}

impl Default for StreamCaps {
    fn default() -> Self {
        Self { per_server: 4_000, per_address: 16 }
    }
}

/// The streams open now, counted so that each cap holds; a [`Slot`] is given back when its
/// stream ends (the browser went away, or the server stops).
struct OpenStreams {
    caps: StreamCaps,
    server: Arc<Semaphore>,
    by_address: Mutex<HashMap<String, usize>>,
}

/// One open stream's place under the caps.
struct Slot {
    _server: OwnedSemaphorePermit,
    address: String,
    open: Arc<OpenStreams>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut by_address = self.open.by_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}

impl OpenStreams {
    fn new(caps: StreamCaps) -> Arc<Self> {
        Arc::new(Self { caps, server: Arc::new(Semaphore::new(caps.per_server)), by_address: Mutex::default() })
    }

    /// A place for one more stream from `address`, or the answer that refuses it.
    fn take(self: &Arc<Self>, address: String) -> Result<Slot, ApiError> {
        let Ok(server) = self.server.clone().try_acquire_owned() else {
            tracing::warn!(cap = self.caps.per_server, "live stream refused: this server's streams are all taken");
            return Err(ApiError::Busy { retry_after: 5 });
        };
        let mut by_address = self.by_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = by_address.entry(address.clone()).or_default();
        if *count >= self.caps.per_address {
            tracing::warn!(client.address = %address, cap = self.caps.per_address, "live stream refused: too many from this address");
            return Err(ApiError::TooManyRequests);
        }
        *count += 1;
        Ok(Slot { _server: server, address, open: self.clone() })
    }
}

/// How long the server waits at start for NATS to confirm the live updates' subscriptions.
const SUBSCRIBED_WITHIN: Duration = Duration::from_secs(5);

/// When a sale is told to the ticket's page: `order.completed` reaches the tickets service and
/// this server at the same moment, no ticket event follows it, and the page must read the ticket
/// after the tickets service marked it sold. Twice, for a tickets service slow to apply it.
const SOLD_AFTER: [Duration; 2] = [Duration::from_millis(250), Duration::from_millis(1_500)];

/// What changed, as the browser's stream names it (`event:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// A ticket was listed, reserved, released, edited or deleted.
    Ticket,
    /// A ticket was sold.
    Sold,
    /// An order was paid or cancelled (by its buyer, expired, or its ticket withdrawn).
    Order,
}

impl Topic {
    fn name(self) -> &'static str {
        match self {
            Self::Ticket => "ticket",
            Self::Sold => "sold",
            Self::Order => "order",
        }
    }
}

/// A change a page may show: of which record, and its version when the event carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEvent {
    pub topic: Topic,
    pub id: String,
    pub version: Option<u64>,
}

impl LiveEvent {
    fn sse(&self) -> sse::Event {
        let data = match self.version {
            Some(version) => serde_json::json!({ "id": self.id, "version": version }),
            None => serde_json::json!({ "id": self.id }),
        };
        sse::Event::default().event(self.topic.name()).data(data.to_string())
    }
}

/// The changes an event on `subject` makes to what pages show, each with how long to wait before
/// telling them. Nothing for a subject the pages do not follow or a payload that cannot be read.
fn what_changed(subject: &str, payload: &[u8]) -> Vec<(LiveEvent, Duration)> {
    let now = |topic, id, version| (LiveEvent { topic, id, version }, Duration::ZERO);
    let read =
        match subject {
            TicketCreated::SUBJECT => serde_json::from_slice::<TicketCreated>(payload)
                .map(|e| vec![now(Topic::Ticket, e.id.into_string(), Some(e.version.get()))]),
            TicketUpdated::SUBJECT => serde_json::from_slice::<TicketUpdated>(payload)
                .map(|e| vec![now(Topic::Ticket, e.id.into_string(), Some(e.version.get()))]),
            TicketDeleted::SUBJECT => serde_json::from_slice::<TicketDeleted>(payload)
                .map(|e| vec![now(Topic::Ticket, e.id.into_string(), Some(e.version.get()))]),
            OrderCancelled::SUBJECT => serde_json::from_slice::<OrderCancelled>(payload)
                .map(|e| vec![now(Topic::Order, e.id.into_string(), Some(e.version.get()))]),
            OrderCompleted::SUBJECT => serde_json::from_slice::<OrderCompleted>(payload).map(|e| {
                let mut changes = vec![now(Topic::Order, e.id.into_string(), Some(e.version.get()))];
                let sold = LiveEvent { topic: Topic::Sold, id: e.ticket.id.into_string(), version: None };
                changes.extend(SOLD_AFTER.map(|after| (sold.clone(), after)));
                changes
            }),
            _ => return Vec::new(),
        };
    read.unwrap_or_else(|error| {
        tracing::warn!(subject, %error, "an event the live updates cannot read");
        Vec::new()
    })
}

/// The web server's live updates: the changes every stream receives, when to stop, and where the
/// orders service answers (who may follow an order).
#[derive(Clone)]
pub struct Live {
    changes: broadcast::Sender<LiveEvent>,
    stop: watch::Receiver<bool>,
    api: ApiConfig,
    open: Arc<OpenStreams>,
    recheck: Duration,
}

impl Live {
    /// Reads `NATS_URL` and the web server's NATS user (`NATS_USER` and `NATS_PASSWORD`; in
    /// development, when both are unset, `web` with its development password), then listens. A
    /// bad configuration stops the server; NATS unreachable does not.
    pub async fn start(api: ApiConfig) -> anyhow::Result<Self> {
        let mut env = shared::config::EnvReader::from_process();
        let settings = NatsSettings::read_listener(&mut env, WEB.name);
        let defaults = StreamCaps::default();
        let caps = StreamCaps {
            per_server: env.or("LIVE_MAX_STREAMS", defaults.per_server, "a number of streams"),
            per_address: env.or("LIVE_MAX_STREAMS_PER_ADDRESS", defaults.per_address, "a number of streams"),
        };
        env.finish().map_err(|e| anyhow!("live updates: {e}"))?;
        let (live, stopping) = Self::new(api, caps, RECHECK);
        match nats::connect(&settings, WEB.name).await {
            Ok(client) => match listen(&client).await {
                Ok(messages) => {
                    // Core NATS keeps nothing for a subscriber that is not there yet: a page opened
                    // before the server has the subscriptions would miss what happens meanwhile.
                    // So the server takes no traffic until they are in place, or NATS is late.
                    if tokio::time::timeout(SUBSCRIBED_WITHIN, client.flush()).await.is_err() {
                        tracing::warn!("NATS has not confirmed the live updates' subscriptions yet; serving anyway");
                    }
                    tokio::spawn(relay(client, messages, live.changes.clone()));
                }
                Err(error) => tracing::error!(error = format!("{error:#}"), "no live updates: pages change only when reloaded"),
            },
            Err(error) => tracing::error!(error = format!("{error:#}"), "no live updates: pages change only when reloaded"),
        }
        tokio::spawn(async move {
            shared::http::shutdown_signal().await;
            let _ = stopping.send(true);
        });
        Ok(live)
    }

    /// Without NATS: the tests feed [`Live::changes`] themselves.
    fn new(api: ApiConfig, caps: StreamCaps, recheck: Duration) -> (Self, watch::Sender<bool>) {
        let (changes, _) = broadcast::channel(CAPACITY);
        let (stopping, stop) = watch::channel(false);
        (Self { changes, stop, api, open: OpenStreams::new(caps), recheck }, stopping)
    }

    /// `/live/tickets` and `/live/orders/{id}`.
    pub fn router(self) -> Router {
        Router::new().route("/live/tickets", get(tickets)).route("/live/orders/{id}", get(order)).with_state(self)
    }

    /// The changes `wanted` from `changes` on, as an event stream that holds `slot` and ends when
    /// the server stops or `ended` says so.
    fn respond(
        &self,
        changes: broadcast::Receiver<LiveEvent>,
        slot: Slot,
        ended: Option<watch::Receiver<bool>>,
        wanted: impl Fn(&LiveEvent) -> bool + Send + 'static,
    ) -> Response {
        let events = stream(changes, Ends { server: self.stop.clone(), this: ended, _slot: slot }, wanted);
        let unbuffered = [(HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no"))];
        (unbuffered, Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))).into_response()
    }
}

/// The client a request comes from, as the edge derived it.
fn client_of(parts: &Parts) -> String {
    parts.extensions.get::<ClientAddr>().copied().unwrap_or(ClientAddr(None)).key()
}

/// Every ticket's changes.
async fn tickets(State(live): State<Live>, parts: Parts) -> Result<Response, ApiError> {
    let slot = live.open.take(client_of(&parts))?;
    let changes = live.changes.subscribe();
    Ok(live.respond(changes, slot, None, |change| matches!(change.topic, Topic::Ticket | Topic::Sold)))
}

/// One order's changes, for its buyer.
async fn order(State(live): State<Live>, Path(id): Path<String>, parts: Parts) -> Result<Response, ApiError> {
    // Anything but an id is no order, and never part of a path.
    if !app::api::is_id(&id) {
        return Err(ApiError::NotFound);
    }
    let slot = live.open.take(client_of(&parts))?;
    // Listening before asking: a change made while the orders service answers is not lost.
    let changes = live.changes.subscribe();
    let session = session_token(&parts);
    let path = format!("/api/orders/{id}");
    match status_for(&live.api, Service::Orders, &path, session.as_deref()).await {
        Ok(200) => {}
        Ok(401) => return Err(ApiError::Unauthorized),
        Ok(404) => return Err(ApiError::NotFound),
        Ok(status) => return Err(ApiError::Internal(anyhow!("the orders service answered {status} for order {id}"))),
        Err(error) => return Err(ApiError::Internal(anyhow!("asking the orders service whose order {id} is: {error}"))),
    }
    let ended = recheck(live.api.clone(), path, session, live.recheck);
    Ok(live.respond(changes, slot, Some(ended), move |change| change.topic == Topic::Order && change.id == id))
}

/// Asks the orders service every `every` whether the session may still follow the order at
/// `path`; says `true` (end the stream) once the answer is another status than 200. The orders
/// service unreachable ends nothing: the stream goes on until it answers. Stops asking when the
/// stream has ended.
fn recheck(api: ApiConfig, path: String, session: Option<String>, every: Duration) -> watch::Receiver<bool> {
    let (end, ended) = watch::channel(false);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = end.closed() => return,
            }
            match status_for(&api, Service::Orders, &path, session.as_deref()).await {
                Ok(200) | Err(_) => {}
                Ok(status) => {
                    tracing::info!(path, status, "an order's live stream ended: the visitor may no longer follow it");
                    let _ = end.send(true);
                    return;
                }
            }
        }
    });
    ended
}

/// What ends one stream: the server stopping, the stream's own end (an order no longer the
/// visitor's), and the slot it holds under the caps, given back with it.
struct Ends {
    server: watch::Receiver<bool>,
    this: Option<watch::Receiver<bool>>,
    _slot: Slot,
}

impl Ends {
    async fn reached(&mut self) {
        let this = async {
            match &mut self.this {
                Some(this) => {
                    let _ = this.wait_for(|ended| *ended).await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            // Cloned from a receiver that never looked: a stop before this stream began shows too.
            _ = self.server.changed() => {}
            () = this => {}
        }
    }
}

/// One browser's events: the changes it wants, `reload` when it fell behind, until the server
/// stops (or the channel closes, which it does not while the server runs).
fn stream(
    changes: broadcast::Receiver<LiveEvent>,
    ends: Ends,
    wanted: impl Fn(&LiveEvent) -> bool + Send + 'static,
) -> impl Stream<Item = Result<sse::Event, Infallible>> + Send + 'static {
    futures_util::stream::unfold((changes, ends, wanted), |(mut changes, mut ends, wanted)| async move {
        loop {
            let received = tokio::select! {
                received = changes.recv() => received,
                () = ends.reached() => return None,
            };
            let event = match received {
                Ok(change) if wanted(&change) => change.sse(),
                Ok(_) => continue,
                // What it missed is unknown: the page reads everything it shows again. (An event
                // without data is never dispatched by the browser, so it carries an empty object.)
                Err(RecvError::Lagged(_)) => sse::Event::default().event("reload").data("{}"),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok::<_, Infallible>(event), (changes, ends, wanted)));
        }
    })
}

type Messages = futures_util::stream::SelectAll<async_nats::Subscriber>;

/// Subscribes to every subject the web user hears, as one stream of messages. A subscription
/// async-nats makes again after a reconnection.
async fn listen(client: &async_nats::Client) -> anyhow::Result<Messages> {
    let mut subscriptions = Vec::new();
    for subject in WEB.hears {
        subscriptions.push(client.subscribe(*subject).await.map_err(|error| anyhow!("subscribing to {subject}: {error}"))?);
    }
    Ok(futures_util::stream::select_all(subscriptions))
}

/// Hands each change to the streams; ends when the connection is closed for good. Holds the
/// client, whose last handle closing would end the subscriptions.
async fn relay(_client: async_nats::Client, mut messages: Messages, changes: broadcast::Sender<LiveEvent>) {
    while let Some(message) = messages.next().await {
        for (change, after) in what_changed(message.subject.as_str(), &message.payload) {
            if after.is_zero() {
                // No stream open is not an error.
                let _ = changes.send(change);
            } else {
                let changes = changes.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = changes.send(change);
                });
            }
        }
    }
    tracing::warn!("the live updates' NATS connection closed: pages change only when reloaded");
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use shared::http::InternalSecret;
    use tower::ServiceExt;
    use tower_http::compression::CompressionLayer;

    use super::*;

    fn api(orders_url: &str) -> ApiConfig {
        ApiConfig {
            auth_url: String::new(),
            tickets_url: String::new(),
            orders_url: orders_url.to_string(),
            payments_url: String::new(),
            stripe_publishable_key: None,
            internal_secret: InternalSecret::new(&[3; 32]),
        }
    }

    fn change(topic: Topic, id: &str, version: Option<u64>) -> LiveEvent {
        LiveEvent { topic, id: id.to_string(), version }
    }

    #[test]
    fn each_event_becomes_the_changes_its_pages_show() {
        let created = serde_json::json!({ "id": "t1", "version": 0, "title": "Gig", "price": 12.5, "userId": "u1" }).to_string();
        assert_eq!(what_changed("ticket.created", created.as_bytes()), [(change(Topic::Ticket, "t1", Some(0)), Duration::ZERO)]);
        let reserved =
            serde_json::json!({ "id": "t1", "version": 1, "title": "Gig", "price": 12.5, "userId": "u1", "orderId": "o1" }).to_string();
        assert_eq!(what_changed("ticket.updated", reserved.as_bytes()), [(change(Topic::Ticket, "t1", Some(1)), Duration::ZERO)]);
        let deleted = serde_json::json!({ "id": "t1", "version": 2 }).to_string();
        assert_eq!(what_changed("ticket.deleted", deleted.as_bytes()), [(change(Topic::Ticket, "t1", Some(2)), Duration::ZERO)]);
        let cancelled = serde_json::json!({ "id": "o1", "version": 1, "ticket": { "id": "t1" } }).to_string();
        assert_eq!(what_changed("order.cancelled", cancelled.as_bytes()), [(change(Topic::Order, "o1", Some(1)), Duration::ZERO)]);
        // A sale: the order's page at once, the ticket's once the tickets service marked it sold.
        let completed = serde_json::json!({ "id": "o1", "version": 1, "ticket": { "id": "t1" } }).to_string();
        assert_eq!(
            what_changed("order.completed", completed.as_bytes()),
            [
                (change(Topic::Order, "o1", Some(1)), Duration::ZERO),
                (change(Topic::Sold, "t1", None), SOLD_AFTER[0]),
                (change(Topic::Sold, "t1", None), SOLD_AFTER[1]),
            ]
        );
        assert!(what_changed("ticket.created", b"not json").is_empty());
        assert!(what_changed("payment.created", b"{}").is_empty());
    }

    /// The next chunk of `body` within a second, as text; `None` when it ended.
    async fn next_chunk(body: &mut axum::body::BodyDataStream) -> Option<String> {
        let chunk = tokio::time::timeout(Duration::from_secs(1), body.next()).await.expect("a chunk within a second");
        chunk.map(|bytes| String::from_utf8(bytes.expect("a chunk").to_vec()).expect("text"))
    }

    /// `GET uri` through `router`, as a browser asks (gzip accepted), with `cookie` if any.
    async fn open(router: Router, uri: &str, cookie: Option<&str>) -> Response {
        let mut request = Request::builder().uri(uri).header(header::ACCEPT_ENCODING, "gzip");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        router.oneshot(request.body(Body::empty()).expect("a request")).await.expect("an answer")
    }

    #[tokio::test]
    async fn the_tickets_stream_passes_each_change_on_at_once_through_compression_and_ends_at_shutdown() {
        let (live, stopping) = Live::new(api(""), StreamCaps::default(), RECHECK);
        let router = live.clone().router().layer(CompressionLayer::new());
        let response = open(router, "/live/tickets", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("text/event-stream"));
        assert_eq!(headers.get(header::CONTENT_ENCODING), None, "compressed, events would wait in the encoder's buffer");
        assert_eq!(headers.get("x-accel-buffering").and_then(|v| v.to_str().ok()), Some("no"));
        let mut body = response.into_body().into_data_stream();

        live.changes.send(change(Topic::Order, "o1", Some(1))).expect("a stream listens");
        live.changes.send(change(Topic::Ticket, "t1", Some(3))).expect("a stream listens");
        let event = next_chunk(&mut body).await.expect("an event");
        assert_eq!(event, "event: ticket\ndata: {\"id\":\"t1\",\"version\":3}\n\n", "orders are not on the tickets stream");
        live.changes.send(change(Topic::Sold, "t1", None)).expect("a stream listens");
        assert_eq!(next_chunk(&mut body).await.as_deref(), Some("event: sold\ndata: {\"id\":\"t1\"}\n\n"));

        stopping.send(true).expect("the stream watches");
        assert_eq!(next_chunk(&mut body).await, None, "the stream ends, so the server's drain does not wait on it");
    }

    #[tokio::test]
    async fn a_stream_that_fell_behind_is_told_to_reload() {
        let (live, _stopping) = Live::new(api(""), StreamCaps::default(), RECHECK);
        let response = open(live.clone().router(), "/live/tickets", None).await;
        let mut body = response.into_body().into_data_stream();
        for version in 0..(CAPACITY as u64 + 10) {
            live.changes.send(change(Topic::Ticket, "t1", Some(version))).expect("a stream listens");
        }
        assert_eq!(next_chunk(&mut body).await.as_deref(), Some("event: reload\ndata: {}\n\n"));
    }

    /// An orders service whose only order, `o1`, is the holder of the session `ann`'s.
    async fn orders_service() -> String {
        let router = Router::new().route(
            "/api/orders/{id}",
            get(|Path(id): Path<String>, headers: axum::http::HeaderMap| async move {
                let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                match (id.as_str(), cookie.as_str()) {
                    (_, "") => StatusCode::UNAUTHORIZED,
                    ("o1", "session=ann") => StatusCode::OK,
                    ("o1", _) => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::NOT_FOUND,
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("its address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn an_order_is_followed_by_its_buyer_alone() {
        let (live, _stopping) = Live::new(api(&orders_service().await), StreamCaps::default(), RECHECK);
        let status = |cookie: Option<&'static str>, uri: &'static str| {
            let router = live.clone().router();
            async move { open(router, uri, cookie).await.status() }
        };
        assert_eq!(status(None, "/live/orders/o1").await, StatusCode::UNAUTHORIZED, "signed out");
        assert_eq!(status(Some("session=bob"), "/live/orders/o1").await, StatusCode::UNAUTHORIZED, "someone else's");
        assert_eq!(status(Some("session=ann"), "/live/orders/o2").await, StatusCode::NOT_FOUND);
        assert_eq!(status(Some("session=ann"), "/live/orders/..%2Fusers").await, StatusCode::NOT_FOUND, "never a path");
        let refused = open(live.clone().router(), "/live/orders/o1", None).await;
        let body = axum::body::to_bytes(refused.into_body(), 1024).await.expect("a body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("the API's error shape");
        assert_eq!(body["errors"][0]["code"], "not_authorized", "{body}");

        let response = open(live.clone().router(), "/live/orders/o1", Some("session=ann")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body().into_data_stream();
        live.changes.send(change(Topic::Order, "o2", Some(1))).expect("a stream listens");
        live.changes.send(change(Topic::Ticket, "t1", Some(1))).expect("a stream listens");
        live.changes.send(change(Topic::Order, "o1", Some(1))).expect("a stream listens");
        assert_eq!(next_chunk(&mut body).await.as_deref(), Some("event: order\ndata: {\"id\":\"o1\",\"version\":1}\n\n"));
    }

    /// `GET uri` through `router` from the client at `address`, as the edge names it.
    async fn open_from(router: Router, uri: &str, address: &str) -> Response {
        let mut request = Request::builder().uri(uri).body(Body::empty()).expect("a request");
        request.extensions_mut().insert(ClientAddr(Some(address.parse().expect("an address"))));
        router.oneshot(request).await.expect("an answer")
    }

    /// A stream needs no sign-in: without caps, one client could hold every connection a web
    /// server can keep.
    #[tokio::test]
    async fn open_streams_are_capped_per_client_and_per_server() {
        let (live, _stopping) = Live::new(api(""), StreamCaps { per_server: 3, per_address: 2 }, RECHECK);
        let open = |address: &'static str| {
            let router = live.clone().router();
            async move { open_from(router, "/live/tickets", address).await }
        };
        // A stream is open while its response is held.
        let first = open("198.51.100.7").await;
        let second = open("198.51.100.7").await;
        assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
        assert_eq!(open("198.51.100.7").await.status(), StatusCode::TOO_MANY_REQUESTS, "a third from one client");
        let other = open("2001:db8::1").await;
        assert_eq!(other.status(), StatusCode::OK, "another client");
        let full = open("203.0.113.9").await;
        assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE, "the server's three are taken");
        assert!(full.headers().contains_key("retry-after"));
        // A browser that goes away gives its stream's place back.
        drop(first);
        let fourth = open("2001:db8::2").await;
        assert_eq!(fourth.status(), StatusCode::OK, "a place again");
        drop(second);
        assert_eq!(open("2001:db8::3").await.status(), StatusCode::TOO_MANY_REQUESTS, "the same /64 as two open streams");
        drop((other, fourth));
    }

    /// An order's stream opened with a session that has since ended (or an order no longer the
    /// visitor's) used to go on for as long as the browser kept it.
    #[tokio::test]
    async fn an_orders_stream_ends_once_its_visitor_may_no_longer_follow_it() {
        let allowed = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let router = Router::new().route(
            "/api/orders/{id}",
            get({
                let allowed = allowed.clone();
                move || {
                    let allowed = allowed.load(std::sync::atomic::Ordering::SeqCst);
                    async move {
                        if allowed {
                            StatusCode::OK
                        } else {
                            StatusCode::UNAUTHORIZED
                        }
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("its address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        let (live, _stopping) = Live::new(api(&format!("http://{address}")), StreamCaps::default(), Duration::from_millis(100));
        let response = open(live.clone().router(), "/live/orders/o1", Some("session=ann")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body().into_data_stream();
        live.changes.send(change(Topic::Order, "o1", Some(1))).expect("a stream listens");
        assert_eq!(next_chunk(&mut body).await.as_deref(), Some("event: order\ndata: {\"id\":\"o1\",\"version\":1}\n\n"));
        allowed.store(false, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(next_chunk(&mut body).await, None, "the stream ends at the next check");
    }
}
