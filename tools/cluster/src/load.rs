//! Buyers and sellers using the marketplace through the ingress, as people would: sellers list
//! tickets and now and then edit or withdraw one; buyers browse, reserve, and then pay (sometimes
//! after a declined card, sometimes with a double click), cancel, or walk away and let the hold
//! expire. Every answer is recorded with its time, and every success a client saw (a 201, a 204)
//! is kept, so the invariants can be checked against what clients were told.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

/// One answer: when, to what, with which status (0: no answer at all).
#[derive(Debug, Clone)]
pub struct Answer {
    pub at: Duration,
    pub route: &'static str,
    pub status: u16,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct SeenOrder {
    pub buyer: usize,
    pub ticket: String,
}

/// What the clients were told.
#[derive(Debug, Default)]
pub struct Observed {
    pub answers: Vec<Answer>,
    pub users: Vec<User>,
    /// Tickets created (201), with their seller's index in `users`.
    pub tickets: BTreeMap<String, usize>,
    /// Tickets whose delete was answered 204.
    pub deleted: BTreeSet<String>,
    /// Orders created (201).
    pub orders: BTreeMap<String, SeenOrder>,
    /// Payments created (201): payment id to order id.
    pub payments: BTreeMap<String, String>,
}

#[derive(Clone)]
pub struct Recorder {
    started: Instant,
    observed: Arc<Mutex<Observed>>,
}

impl Recorder {
    pub fn new(started: Instant) -> Self {
        Self { started, observed: Arc::default() }
    }

    pub fn observed(&self) -> MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn answer(&self, route: &'static str, status: u16) {
        let at = self.started.elapsed();
        self.observed().answers.push(Answer { at, route, status });
    }
}

/// A client of the ingress that records every answer.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    recorder: Recorder,
}

impl Api {
    pub fn new(base: &str, recorder: Recorder) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).pool_max_idle_per_host(4).build()?;
        Ok(Self { client, base: base.to_string(), recorder })
    }

    /// Sends a request; `None` when no answer came (connection refused or reset, timeout).
    pub async fn call(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Option<(u16, Value, reqwest::header::HeaderMap)> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let text = response.text().await.unwrap_or_default();
                self.recorder.answer(route, status);
                Some((status, serde_json::from_str(&text).unwrap_or(Value::Null), headers))
            }
            Err(_) => {
                self.recorder.answer(route, 0);
                None
            }
        }
    }

    /// Signs up (retrying through faults) and returns the user with their session token.
    pub async fn sign_up(&self, email: &str, stop: &AtomicBool) -> Option<User> {
        let body = json!({ "email": email, "password": "correct horse battery staple" });
        for _ in 0..60 {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            match self.call("POST /api/users/signup", Method::POST, "/api/users/signup", None, Some(body.clone())).await {
                Some((201, user, headers)) => return session(&user, &headers),
                // An earlier attempt got through but its answer was lost: sign in instead.
                Some((400, answer, _)) if answer.to_string().contains("Email in use") => {
                    if let Some((200, user, headers)) =
                        self.call("POST /api/users/signin", Method::POST, "/api/users/signin", None, Some(body.clone())).await
                    {
                        return session(&user, &headers);
                    }
                }
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        None
    }
}

/// The user an auth answer names, with the session its cookie carries.
fn session(user: &Value, headers: &reqwest::header::HeaderMap) -> Option<User> {
    let token = headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("session=").map(|rest| rest.split(';').next().unwrap_or_default().to_string()))?;
    Some(User { id: user["id"].as_str()?.to_string(), token })
}

/// How many of each, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub sellers: usize,
    pub buyers: usize,
    pub duration: Duration,
}

async fn think(range: std::ops::Range<u64>) {
    tokio::time::sleep(Duration::from_millis(fastrand::u64(range))).await;
}

/// Runs the sellers and buyers until `load.duration` has passed; returns once all have stopped.
pub async fn run(api: Api, load: Load, run_id: &str) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for n in 0..load.sellers {
        let (api, stop, email) = (api.clone(), stop.clone(), format!("seller{n}-{run_id}@example.com"));
        tasks.push(tokio::spawn(async move { seller(api, email, stop).await }));
    }
    for n in 0..load.buyers {
        let (api, stop, email) = (api.clone(), stop.clone(), format!("buyer{n}-{run_id}@example.com"));
        tasks.push(tokio::spawn(async move { buyer(api, email, stop).await }));
    }
    tokio::time::sleep(load.duration).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
}

fn register(api: &Api, user: User) -> usize {
    let mut observed = api.recorder.observed();
    observed.users.push(user);
    observed.users.len() - 1
}

fn price() -> Value {
    // From $0.50 to $250.00, whole cents.
    json!(fastrand::i64(50..=25_000) as f64 / 100.0)
}

async fn seller(api: Api, email: String, stop: Arc<AtomicBool>) {
    let Some(user) = api.sign_up(&email, &stop).await else { return };
    let me = register(&api, user.clone());
    let mut mine: Vec<String> = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let roll = fastrand::u8(0..100);
        if roll < 10 && !mine.is_empty() {
            let id = mine[fastrand::usize(0..mine.len())].clone();
            let body = json!({ "title": format!("{email} ticket {n} (edited)"), "price": price() });
            api.call("PUT /api/tickets/:id", Method::PUT, &format!("/api/tickets/{id}"), Some(&user.token), Some(body)).await;
        } else if roll < 15 && !mine.is_empty() {
            let id = mine.swap_remove(fastrand::usize(0..mine.len()));
            if let Some((204, _, _)) =
                api.call("DELETE /api/tickets/:id", Method::DELETE, &format!("/api/tickets/{id}"), Some(&user.token), None).await
            {
                api.recorder.observed().deleted.insert(id);
            }
        } else {
            n += 1;
            let body = json!({ "title": format!("{email} ticket {n}"), "price": price() });
            if let Some((201, ticket, _)) = api.call("POST /api/tickets", Method::POST, "/api/tickets", Some(&user.token), Some(body)).await
                && let Some(id) = ticket["id"].as_str()
            {
                api.recorder.observed().tickets.insert(id.to_string(), me);
                mine.push(id.to_string());
            }
        }
        think(600..1_400).await;
    }
}

async fn buyer(api: Api, email: String, stop: Arc<AtomicBool>) {
    let Some(user) = api.sign_up(&email, &stop).await else { return };
    let me = register(&api, user.clone());
    while !stop.load(Ordering::Relaxed) {
        if fastrand::u8(0..10) == 0 {
            // The landing page, rendered by the web server from the tickets service.
            api.call("GET /", Method::GET, "/", None, None).await;
        }
        let Some((200, list, _)) = api.call("GET /api/tickets", Method::GET, "/api/tickets", None, None).await else {
            think(200..600).await;
            continue;
        };
        let candidates: Vec<String> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["userId"] != json!(user.id))
            .filter_map(|t| t["id"].as_str().map(str::to_string))
            .collect();
        if candidates.is_empty() {
            think(300..800).await;
            continue;
        }
        let ticket = candidates[fastrand::usize(0..candidates.len())].clone();
        let body = json!({ "ticketId": ticket });
        let Some((201, order, _)) = api.call("POST /api/orders", Method::POST, "/api/orders", Some(&user.token), Some(body)).await else {
            think(200..600).await;
            continue;
        };
        let Some(order_id) = order["id"].as_str().map(str::to_string) else { continue };
        api.recorder.observed().orders.insert(order_id.clone(), SeenOrder { buyer: me, ticket });
        think(300..1_500).await;
        match fastrand::u8(0..100) {
            0..10 => {
                // A declined card first, then one that works.
                pay(&api, &user, &order_id, "pm_card_chargeDeclined").await;
                pay(&api, &user, &order_id, "pm_card_visa").await;
            }
            10..22 => {
                // A double click: the same card twice at once.
                let (a, b) = (api.clone(), api.clone());
                let (u1, u2) = (user.clone(), user.clone());
                let (o1, o2) = (order_id.clone(), order_id.clone());
                tokio::join!(
                    async move { pay(&a, &u1, &o1, "pm_card_visa").await },
                    async move { pay(&b, &u2, &o2, "pm_card_visa").await }
                );
            }
            22..60 => pay(&api, &user, &order_id, "pm_card_visa").await,
            60..78 => {
                api.call("DELETE /api/orders/:id", Method::DELETE, &format!("/api/orders/{order_id}"), Some(&user.token), None).await;
            }
            // Walks away: the hold expires.
            _ => {}
        }
        if fastrand::u8(0..4) == 0 {
            api.call("GET /api/orders", Method::GET, "/api/orders", Some(&user.token), None).await;
        }
        think(200..800).await;
    }
}

/// Pays, trying again (with the same card, as a person pressing "try again" would) while the
/// answer is lost or a 5xx.
async fn pay(api: &Api, user: &User, order_id: &str, card: &str) {
    let body = json!({ "orderId": order_id, "token": card });
    for _ in 0..8 {
        match api.call("POST /api/payments", Method::POST, "/api/payments", Some(&user.token), Some(body.clone())).await {
            Some((201, payment, _)) => {
                if let Some(id) = payment["id"].as_str() {
                    api.recorder.observed().payments.insert(id.to_string(), order_id.to_string());
                }
                return;
            }
            Some((status, _, _)) if status < 500 && status != 409 => return,
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}
