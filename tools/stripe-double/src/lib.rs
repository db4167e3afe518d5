//! A Stripe test double: the calls Ticketing makes (`POST /v1/payment_intents`, with or without
//! `confirm=true`, `POST /v1/payment_intents/:id/confirm`, `GET /v1/payment_intents/:id`,
//! `POST /v1/refunds`), form-encoded in and Stripe's JSON out, with its error objects, and the
//! signed webhooks Stripe sends (`payment_intent.succeeded`, `payment_intent.payment_failed`,
//! `charge.refunded`).
//!
//! Idempotency keys behave as Stripe documents where the payments service depends on it: a
//! result that reached execution is stored and replayed for the same key (a 500 in the middle of
//! execution included), a validation error is not stored, and a request whose key is in use by
//! another request still in flight gets a 409 `idempotency_error`.
//!
//! Webhooks go to one endpoint, signed as Stripe signs them (`Stripe-Signature: t=…,v1=…`, an
//! HMAC-SHA256 with the endpoint secret), and are retried while the endpoint does not answer 2xx.
//! A test can delay, duplicate or drop them ([`WebhookMode`]).
//!
//! Stripe's API is unreachable from where this project is built and tested, and no fake in the
//! package registries speaks the PaymentIntent API in a shape async-stripe parses. The payments
//! service's tests prove that every response here parses with async-stripe.
//!
//! Test payment methods behave as on Stripe: `pm_card_visa`, `pm_card_mastercard`, `tok_visa`
//! and `tok_mastercard` succeed; `pm_card_chargeDeclined`, `tok_chargeDeclined`,
//! `pm_card_chargeDeclinedInsufficientFunds` and `tok_chargeDeclinedInsufficientFunds` decline;
//! `pm_card_threeDSecure2Required` needs the customer's authentication (`requires_action`),
//! which a test completes with [`StripeDouble::authenticate`].
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// A payment intent as the double keeps it.
#[derive(Debug, Clone)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    /// `requires_payment_method`, `requires_confirmation`, `requires_action`, `succeeded` or
    /// `canceled`.
    pub status: &'static str,
    /// The PaymentMethod's id, empty until there is one.
    pub payment_method: String,
    /// The test method (`pm_card_visa`, `tok_visa`…) whose behaviour a confirmation gets.
    pub test_method: String,
    pub charge: Option<String>,
    pub metadata: Vec<(String, String)>,
    pub created: i64,
    /// The decline, for an intent that failed.
    pub last_error: Option<Value>,
    /// Redirect-based methods are allowed, so confirming needs a `return_url`.
    pub redirects_allowed: bool,
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub payment_intent: String,
    pub charge: String,
    pub amount: i64,
    pub currency: String,
    pub created: i64,
}

/// What happens to the webhooks the double sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookMode {
    /// Sent at once, retried until the endpoint answers 2xx.
    #[default]
    Send,
    /// Sent after this long.
    Delay(Duration),
    /// Sent twice, as Stripe may.
    Duplicate,
    /// Never sent (an endpoint Stripe cannot reach).
    Drop,
}

/// A webhook event the double made, sent or not.
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    pub id: String,
    pub kind: String,
    /// The object's id (the payment intent's or the charge's).
    pub object_id: String,
    /// Deliveries the endpoint answered with a 2xx.
    pub delivered: usize,
}

/// A response kept for an idempotency key, with what it was a response to.
struct Replay {
    request: (Method, String, Vec<(String, String)>),
    status: StatusCode,
    body: Value,
}

#[derive(Default)]
struct Ledger {
    intents: Vec<PaymentIntent>,
    refunds: Vec<Refund>,
    replays: HashMap<String, Replay>,
    /// Idempotency keys of requests being handled.
    in_flight: HashSet<String>,
    /// When set, every call fails with this status (Stripe having an outage).
    failing: Option<StatusCode>,
    /// Charges that are made and then answered with a 500 that is kept for their key.
    fail_after_charge: usize,
    /// Whether the call being handled charged a card.
    charged: bool,
    /// When set, every answer comes this much later (Stripe being slow); the work is done first.
    slow: Option<Duration>,
    /// The same, for the answers of calls that charged a card only.
    slow_charges: Option<Duration>,
    webhook_url: Option<String>,
    webhook_secret: String,
    webhook_mode: WebhookMode,
    events: Vec<WebhookEvent>,
    /// Events made by a call, sent once the call's lock is released.
    unsent: Vec<(String, String)>,
}

/// Lets a test stop payment intents at the door, to act while a charge is in flight.
#[derive(Default)]
struct Gate {
    held: std::sync::atomic::AtomicBool,
    waiting: std::sync::atomic::AtomicUsize,
    opened: tokio::sync::Notify,
}

/// The double's state, shared with the test that started it.
#[derive(Clone)]
pub struct StripeDouble(Arc<Mutex<Ledger>>, Arc<Gate>, reqwest::Client);

impl Default for StripeDouble {
    fn default() -> Self {
        let ledger = Ledger { webhook_secret: Self::WEBHOOK_SECRET.to_string(), ..Ledger::default() };
        Self(Arc::new(Mutex::new(ledger)), Arc::default(), reqwest::Client::new())
    }
}

impl StripeDouble {
    /// The endpoint secret webhooks are signed with unless a test sets another.
    pub const WEBHOOK_SECRET: &str = "whsec_double";

    fn state(&self) -> MutexGuard<'_, Ledger> {
        // A poisoned lock only means a handler panicked mid-way; the data is still usable.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every payment intent created, declined ones included, oldest first.
    pub fn payment_intents(&self) -> Vec<PaymentIntent> {
        self.state().intents.clone()
    }

    /// Intents that succeeded: the charges a card holder would see.
    pub fn charges(&self) -> Vec<PaymentIntent> {
        self.state().intents.iter().filter(|pi| pi.status == "succeeded").cloned().collect()
    }

    pub fn refunds(&self) -> Vec<Refund> {
        self.state().refunds.clone()
    }

    /// Holds every following payment intent request until [`StripeDouble::release`].
    pub fn hold(&self) {
        self.1.held.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many payment intent requests are being held.
    pub fn held(&self) -> usize {
        self.1.waiting.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn release(&self) {
        self.1.held.store(false, std::sync::atomic::Ordering::SeqCst);
        self.1.opened.notify_waiters();
    }

    async fn pass_gate(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let gate = &self.1;
        self.1.waiting.fetch_add(1, SeqCst);
        loop {
            let opened = gate.opened.notified();
            if !gate.held.load(SeqCst) {
                break;
            }
            opened.await;
        }
        gate.waiting.fetch_sub(1, SeqCst);
    }

    /// Makes every following call fail with `status` (`None` heals it).
    pub fn fail_with(&self, status: Option<u16>) {
        self.state().failing = status.and_then(|s| StatusCode::from_u16(s).ok());
    }

    /// Makes the next `charges` successful charges happen and then answer a 500, which is kept
    /// for their idempotency key: Stripe failing in the middle of execution, after the money
    /// moved. Only Stripe's webhooks and a retrieval tell what happened.
    pub fn fail_after_charge(&self, charges: usize) {
        self.state().fail_after_charge = charges;
    }

    /// Makes every following answer arrive `delay` late (`None` heals it). The charge or refund
    /// happens at once; only its answer waits, as when Stripe is slow.
    pub fn slow_by(&self, delay: Option<Duration>) {
        self.state().slow = delay;
    }

    /// Makes the answers of calls that charge a card arrive `delay` late (`None` heals it): the
    /// money moves at once, the caller waits.
    pub fn slow_charges_by(&self, delay: Option<Duration>) {
        self.state().slow_charges = delay;
    }

    /// Sends webhooks to `url`, signed with `secret`.
    pub fn send_webhooks_to(&self, url: impl Into<String>, secret: impl Into<String>) {
        let mut state = self.state();
        state.webhook_url = Some(url.into());
        state.webhook_secret = secret.into();
    }

    pub fn webhooks(&self, mode: WebhookMode) {
        self.state().webhook_mode = mode;
    }

    /// Every webhook event made so far, oldest first.
    pub fn webhook_events(&self) -> Vec<WebhookEvent> {
        self.state().events.clone()
    }

    /// The customer completes (or fails) the authentication a `requires_action` intent waits
    /// for, as Stripe.js's `handleNextAction` would; the outcome is told by webhook.
    pub fn authenticate(&self, intent_id: &str, succeeds: bool) -> bool {
        let mut state = self.state();
        let Some(index) = state.intents.iter().position(|pi| pi.id == intent_id && pi.status == "requires_action") else {
            return false;
        };
        if succeeds {
            let intent = &mut state.intents[index];
            intent.status = "succeeded";
            intent.charge = Some(new_id("ch"));
            let body = intent_json(intent);
            queue_event(&mut state, "payment_intent.succeeded", body);
        } else {
            let intent = &mut state.intents[index];
            intent.status = "requires_payment_method";
            intent.last_error = Some(json!({
                "type": "card_error", "code": "payment_intent_authentication_failure",
                "message": "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
            }));
            let body = intent_json(intent);
            queue_event(&mut state, "payment_intent.payment_failed", body);
        }
        drop(state);
        self.flush_webhooks();
        true
    }

    /// Sends the events the last call made, in the background.
    fn flush_webhooks(&self) {
        let (unsent, url, secret, mode) = {
            let mut state = self.state();
            (std::mem::take(&mut state.unsent), state.webhook_url.clone(), state.webhook_secret.clone(), state.webhook_mode)
        };
        let Some(url) = url else { return };
        for (id, payload) in unsent {
            let copies = match mode {
                WebhookMode::Drop => 0,
                WebhookMode::Duplicate => 2,
                WebhookMode::Send | WebhookMode::Delay(_) => 1,
            };
            let delay = match mode {
                WebhookMode::Delay(delay) => delay,
                _ => Duration::ZERO,
            };
            for _ in 0..copies {
                let (double, url, secret, payload, id) = (self.clone(), url.clone(), secret.clone(), payload.clone(), id.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    double.deliver(&url, &secret, &id, &payload).await;
                });
            }
        }
    }

    /// Posts one event until the endpoint answers 2xx, as Stripe retries (over days there;
    /// about two minutes here).
    async fn deliver(&self, url: &str, secret: &str, id: &str, payload: &str) {
        for wait in [0u64, 1, 1, 2, 4, 8, 16, 30, 60] {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let signature = sign(secret, now(), payload);
            let sent = self
                .2
                .post(url)
                .header("content-type", "application/json; charset=utf-8")
                .header("stripe-signature", signature)
                .body(payload.to_string())
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    if let Some(event) = self.state().events.iter_mut().find(|e| e.id == id) {
                        event.delivered += 1;
                    }
                    return;
                }
                Ok(response) => tracing::info!(event = id, status = %response.status(), "webhook refused; will retry"),
                Err(error) => tracing::info!(event = id, %error, "webhook not delivered; will retry"),
            }
        }
        tracing::warn!(event = id, "webhook given up");
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/payment_intents", post(create_payment_intent))
            .route("/v1/payment_intents/{id}", get(retrieve_payment_intent))
            .route("/v1/payment_intents/{id}/confirm", post(confirm_payment_intent))
            .route("/v1/payment_intents/{id}/cancel", post(cancel_payment_intent))
            .route("/v1/refunds", post(create_refund))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "invalid_request_error", None, "Unrecognized request URL.", None) })
            .with_state(self.clone())
    }

    /// Serves on `address` (port 0 picks a free one) in the background.
    pub async fn start(address: SocketAddr) -> std::io::Result<(Self, SocketAddr)> {
        let double = Self::default();
        let listener = tokio::net::TcpListener::bind(address).await?;
        let bound = listener.local_addr()?;
        let router = double.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "stripe double stopped");
            }
        });
        Ok((double, bound))
    }
}

/// Stripe's signature header: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>">`.
pub fn sign(secret: &str, timestamp: i64, payload: &str) -> String {
    #[allow(clippy::expect_used, reason = "HMAC takes a key of any length")]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn queue_event(state: &mut Ledger, kind: &str, object: Value) {
    let id = new_id("evt");
    let object_id = object["id"].as_str().unwrap_or_default().to_string();
    let event = json!({
        "id": id,
        "object": "event",
        "api_version": "2026-09-30.endive",
        "created": now(),
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind,
    });
    state.events.push(WebhookEvent { id: id.clone(), kind: kind.to_string(), object_id, delivered: 0 });
    state.unsent.push((id, event.to_string()));
}

/// How a test payment method behaves.
enum Card {
    Succeeds,
    Declines { code: &'static str, message: &'static str },
    NeedsAuthentication,
}

fn card(method: &str) -> Option<Card> {
    let name = method.strip_prefix("pm_card_").or_else(|| method.strip_prefix("tok_"))?;
    match name {
        "visa" | "mastercard" | "amex" => Some(Card::Succeeds),
        "chargeDeclined" => Some(Card::Declines { code: "generic_decline", message: "Your card was declined." }),
        "chargeDeclinedInsufficientFunds" => {
            Some(Card::Declines { code: "insufficient_funds", message: "Your card has insufficient funds." })
        }
        "threeDSecure2Required" | "threeDSecureRequired" | "authenticationRequired" => Some(Card::NeedsAuthentication),
        _ => None,
    }
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..24])
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str, param: Option<&str>) -> Response {
    (status, Json(error_body(kind, code, message, param))).into_response()
}

fn parse_form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// The checks every call gets: a test secret key, and the outage switch.
// The error is the answer itself, sent as it is: boxing it would only move the size.
#[allow(clippy::result_large_err)]
fn precheck(double: &StripeDouble, headers: &HeaderMap) -> Result<(), Response> {
    if let Some(status) = double.state().failing {
        return Err(error(status, "api_error", None, "An unknown error occurred with Stripe's test double.", None));
    }
    let key = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match key {
        Some(key) if key.starts_with("sk_test_") => Ok(()),
        Some(key) => Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            &format!("Invalid API Key provided: {}", key.chars().take(8).collect::<String>()),
            None,
        )),
        None => Err(error(StatusCode::UNAUTHORIZED, "invalid_request_error", None, "You did not provide an API key.", None)),
    }
}

/// What a call's work came to: `Invalid` is a validation error, answered but never stored for
/// the key (Stripe does not keep requests that failed before execution).
enum Outcome {
    Done(StatusCode, Value),
    Invalid(StatusCode, Value),
}

fn invalid(code: &str, message: &str, param: Option<&str>) -> Outcome {
    Outcome::Invalid(StatusCode::BAD_REQUEST, error_body("invalid_request_error", Some(code), message, param))
}

/// Runs a call once per idempotency key, as Stripe does: a repeat gets the first response, a
/// repeat while the first is still being handled gets a 409, and `handle` runs at most once.
async fn idempotent(
    double: &StripeDouble,
    headers: &HeaderMap,
    method: Method,
    path: &str,
    form: Vec<(String, String)>,
    handle: impl FnOnce(&mut Ledger, &[(String, String)]) -> Outcome,
) -> Response {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut sorted = form.clone();
    sorted.sort();
    let request = (method, path.to_string(), sorted);
    let (response, late) = {
        let mut state = double.state();
        if let Some(key) = &key {
            if state.in_flight.contains(key) {
                let message = "There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later.";
                return error(StatusCode::CONFLICT, "idempotency_error", None, message, None);
            }
            if let Some(replay) = state.replays.get(key) {
                if replay.request != request {
                    let message = format!(
                        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                    );
                    return error(StatusCode::BAD_REQUEST, "idempotency_error", None, &message, None);
                }
                let mut response = (replay.status, Json(replay.body.clone())).into_response();
                response.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
                return response;
            }
            state.in_flight.insert(key.clone());
        }
        state.charged = false;
        let (status, body, keep) = match handle(&mut state, &form) {
            Outcome::Done(_, _) if state.charged && state.fail_after_charge > 0 => {
                state.fail_after_charge -= 1;
                let body = error_body("api_error", None, "An unknown error occurred with Stripe's test double.", None);
                (StatusCode::INTERNAL_SERVER_ERROR, body, true)
            }
            Outcome::Done(status, body) => (status, body, true),
            Outcome::Invalid(status, body) => (status, body, false),
        };
        if let (Some(key), true) = (&key, keep) {
            state.replays.insert(key.clone(), Replay { request, status, body: body.clone() });
        }
        let late = if state.charged { state.slow_charges.or(state.slow) } else { state.slow };
        ((status, body), late)
    };
    double.flush_webhooks();
    // A slow answer: the key stays in use until it is sent.
    if let Some(delay) = late {
        tokio::time::sleep(delay).await;
    }
    if let Some(key) = &key {
        double.state().in_flight.remove(key);
    }
    (response.0, Json(response.1)).into_response()
}

/// Stripe's error object: `{"error": {type, message, code?, doc_url?, param?}}`.
fn error_body(kind: &str, code: Option<&str>, message: &str, param: Option<&str>) -> Value {
    let mut body = json!({ "type": kind, "message": message });
    if let Some(code) = code {
        body["code"] = json!(code);
        body["doc_url"] = json!(format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")));
    }
    if let Some(param) = param {
        body["param"] = json!(param);
    }
    json!({ "error": body })
}

async fn create_payment_intent(State(double): State<StripeDouble>, headers: HeaderMap, body: Bytes) -> Response {
    double.pass_gate().await;
    if let Err(response) = precheck(&double, &headers) {
        return response;
    }
    let form = parse_form(&body);
    idempotent(&double, &headers, Method::POST, "/v1/payment_intents", form, |state, form| {
        let Some(amount) = param(form, "amount").and_then(|a| a.parse::<i64>().ok()) else {
            return invalid("parameter_missing", "Missing required param: amount.", Some("amount"));
        };
        if amount < 50 {
            return invalid("amount_too_small", "Amount must be at least $0.50 usd", Some("amount"));
        }
        // Stripe's largest charge: eight digits of cents in USD.
        if amount > 99_999_999 {
            return invalid("amount_too_large", "Amount must be no more than $999,999.99", Some("amount"));
        }
        let Some(currency) = param(form, "currency").map(str::to_ascii_lowercase) else {
            return invalid("parameter_missing", "Missing required param: currency.", Some("currency"));
        };
        let (method, param_name) = match (param(form, "payment_method"), param(form, "payment_method_data[card][token]")) {
            (Some(pm), _) => (Some(pm.to_string()), "payment_method"),
            (None, Some(token)) => (Some(token.to_string()), "payment_method_data[card][token]"),
            (None, None) => (None, "payment_method"),
        };
        if let Some(method) = &method
            && card(method).is_none()
        {
            let what = if method.starts_with("tok_") { "token" } else { "PaymentMethod" };
            return invalid("resource_missing", &format!("No such {what}: '{method}'"), Some(param_name));
        }
        let confirm = param(form, "confirm") == Some("true");
        if confirm && method.is_none() {
            let message = "You must provide a payment method to confirm this PaymentIntent.";
            return invalid("parameter_missing", message, Some("payment_method"));
        }
        let metadata =
            form.iter().filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_string(), v.clone()))).collect();
        let automatic = param(form, "automatic_payment_methods[enabled]") == Some("true");
        let redirects_allowed = automatic && param(form, "automatic_payment_methods[allow_redirects]") != Some("never");
        if confirm && redirects_allowed && param(form, "return_url").is_none() {
            return invalid("parameter_missing", RETURN_URL_NEEDED, Some("return_url"));
        }
        let intent = PaymentIntent {
            id: new_id("pi"),
            amount,
            currency,
            status: if method.is_some() { "requires_confirmation" } else { "requires_payment_method" },
            // A token becomes a PaymentMethod of its own, as on Stripe.
            payment_method: match &method {
                Some(m) if m.starts_with("tok_") => new_id("pm"),
                Some(m) => m.clone(),
                None => String::new(),
            },
            test_method: method.clone().unwrap_or_default(),
            charge: None,
            metadata,
            created: now(),
            last_error: None,
            redirects_allowed,
        };
        state.intents.push(intent);
        let index = state.intents.len() - 1;
        if confirm {
            confirm_intent(state, index, form)
        } else {
            Outcome::Done(StatusCode::OK, intent_json(&state.intents[index]))
        }
    })
    .await
}

async fn confirm_payment_intent(State(double): State<StripeDouble>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    double.pass_gate().await;
    if let Err(response) = precheck(&double, &headers) {
        return response;
    }
    let form = parse_form(&body);
    let path = format!("/v1/payment_intents/{id}/confirm");
    idempotent(&double, &headers, Method::POST, &path, form, |state, form| {
        let Some(index) = state.intents.iter().position(|pi| pi.id == id) else {
            return invalid("resource_missing", &format!("No such payment_intent: '{id}'"), Some("intent"));
        };
        if let Some(method) = param(form, "payment_method") {
            if card(method).is_none() {
                return invalid("resource_missing", &format!("No such PaymentMethod: '{method}'"), Some("payment_method"));
            }
            state.intents[index].payment_method = method.to_string();
            state.intents[index].test_method = method.to_string();
        }
        confirm_intent(state, index, form)
    })
    .await
}

const RETURN_URL_NEEDED: &str = "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.";

/// Confirms an intent with its payment method: the card's behaviour decides.
fn confirm_intent(state: &mut Ledger, index: usize, form: &[(String, String)]) -> Outcome {
    let intent = &state.intents[index];
    if !["requires_confirmation", "requires_payment_method"].contains(&intent.status) {
        let message = format!(
            "You cannot confirm this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_payment_method.",
            intent.status
        );
        return invalid("payment_intent_unexpected_state", &message, None);
    }
    if intent.redirects_allowed && param(form, "return_url").is_none() {
        return invalid("parameter_missing", RETURN_URL_NEEDED, Some("return_url"));
    }
    let Some(behaviour) = card(&intent.test_method) else {
        let message = "You must provide a payment method to confirm this PaymentIntent.";
        return invalid("parameter_missing", message, Some("payment_method"));
    };
    let intent = &mut state.intents[index];
    match behaviour {
        Card::Succeeds => {
            intent.status = "succeeded";
            intent.charge = Some(new_id("ch"));
            intent.last_error = None;
            let body = intent_json(intent);
            state.charged = true;
            queue_event(state, "payment_intent.succeeded", body.clone());
            Outcome::Done(StatusCode::OK, body)
        }
        Card::NeedsAuthentication => {
            intent.status = "requires_action";
            Outcome::Done(StatusCode::OK, intent_json(intent))
        }
        Card::Declines { code, message } => {
            let charge = new_id("ch");
            intent.status = "requires_payment_method";
            let decline = json!({
                "type": "card_error", "code": "card_declined", "decline_code": code, "message": message,
                "charge": charge, "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            });
            intent.last_error = Some(decline.clone());
            let mut body = decline;
            body["payment_intent"] = intent_json(intent);
            let event = intent_json(intent);
            queue_event(state, "payment_intent.payment_failed", event);
            Outcome::Done(StatusCode::PAYMENT_REQUIRED, json!({ "error": body }))
        }
    }
}

async fn cancel_payment_intent(State(double): State<StripeDouble>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    if let Err(response) = precheck(&double, &headers) {
        return response;
    }
    let form = parse_form(&body);
    let path = format!("/v1/payment_intents/{id}/cancel");
    idempotent(&double, &headers, Method::POST, &path, form, |state, _| {
        let Some(intent) = state.intents.iter_mut().find(|pi| pi.id == id) else {
            return invalid("resource_missing", &format!("No such payment_intent: '{id}'"), Some("intent"));
        };
        if !["requires_payment_method", "requires_confirmation", "requires_action"].contains(&intent.status) {
            let message = format!(
                "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
                intent.status
            );
            return invalid("payment_intent_unexpected_state", &message, None);
        }
        intent.status = "canceled";
        Outcome::Done(StatusCode::OK, intent_json(intent))
    })
    .await
}

async fn retrieve_payment_intent(State(double): State<StripeDouble>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(response) = precheck(&double, &headers) {
        return response;
    }
    let state = double.state();
    match state.intents.iter().find(|pi| pi.id == id) {
        Some(intent) => Json(intent_json(intent)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such payment_intent: '{id}'"),
            Some("intent"),
        ),
    }
}

async fn create_refund(State(double): State<StripeDouble>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = precheck(&double, &headers) {
        return response;
    }
    let form = parse_form(&body);
    idempotent(&double, &headers, Method::POST, "/v1/refunds", form, |state, form| {
        let Some(id) = param(form, "payment_intent") else {
            let message = "One of the following params should be provided for this request: payment_intent or charge.";
            return invalid("parameter_missing", message, Some("payment_intent"));
        };
        let Some(intent) = state.intents.iter().find(|pi| pi.id == id).cloned() else {
            return invalid("resource_missing", &format!("No such payment_intent: '{id}'"), Some("payment_intent"));
        };
        let Some(charge) = intent.charge.clone().filter(|_| intent.status == "succeeded") else {
            let message = format!("This PaymentIntent ({id}) does not have a successful charge to refund.");
            return invalid("charge_not_refundable", &message, None);
        };
        let refunded: i64 = state.refunds.iter().filter(|r| r.payment_intent == id).map(|r| r.amount).sum();
        let amount = param(form, "amount").and_then(|a| a.parse().ok()).unwrap_or(intent.amount - refunded);
        if refunded >= intent.amount {
            // Reached execution: Stripe keeps this answer for the key.
            let message = format!("Charge {charge} has already been refunded.");
            let body = error_body("invalid_request_error", Some("charge_already_refunded"), &message, None);
            return Outcome::Done(StatusCode::BAD_REQUEST, body);
        }
        if amount <= 0 || refunded + amount > intent.amount {
            let message = format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({})", intent.amount - refunded);
            return invalid("amount_too_large", &message, Some("amount"));
        }
        let refund = Refund {
            id: new_id("re"),
            payment_intent: id.to_string(),
            charge: charge.clone(),
            amount,
            currency: intent.currency.clone(),
            created: now(),
        };
        let body = refund_json(&refund);
        state.refunds.push(refund);
        let charge_body = charge_json(&intent, &charge, refunded + amount);
        queue_event(state, "charge.refunded", charge_body);
        Outcome::Done(StatusCode::OK, body)
    })
    .await
}

/// A PaymentIntent object with every field async-stripe expects, as Stripe sends it.
fn intent_json(intent: &PaymentIntent) -> Value {
    let metadata: serde_json::Map<String, Value> = intent.metadata.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let received = if intent.status == "succeeded" { intent.amount } else { 0 };
    let next_action = (intent.status == "requires_action").then(|| json!({ "type": "use_stripe_sdk", "use_stripe_sdk": {} }));
    let payment_method = intent.payment_method.as_str();
    json!({
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": received,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": { "allow_redirects": if intent.redirects_allowed { "always" } else { "never" }, "enabled": true },
        "canceled_at": if intent.status == "canceled" { json!(now()) } else { Value::Null },
        "cancellation_reason": if intent.status == "canceled" { json!("abandoned") } else { Value::Null },
        "capture_method": "automatic",
        "client_secret": format!("{}_secret_{}", intent.id, &intent.id[3..]),
        "confirmation_method": "automatic",
        "created": intent.created,
        "currency": intent.currency,
        "customer": null,
        "description": null,
        "last_payment_error": intent.last_error,
        "latest_charge": intent.charge,
        "livemode": false,
        "metadata": metadata,
        "next_action": next_action,
        "on_behalf_of": null,
        "payment_method": if payment_method.is_empty() || intent.status == "requires_payment_method" { Value::Null } else { json!(payment_method) },
        "payment_method_configuration_details": null,
        "payment_method_options": { "card": { "installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic" } },
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": intent.status,
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// A Charge object, as `charge.refunded` carries it.
fn charge_json(intent: &PaymentIntent, charge: &str, refunded: i64) -> Value {
    let metadata: serde_json::Map<String, Value> = intent.metadata.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "id": charge,
        "object": "charge",
        "amount": intent.amount,
        "amount_captured": intent.amount,
        "amount_refunded": refunded,
        "billing_details": { "address": null, "email": null, "name": null, "phone": null },
        "captured": true,
        "created": intent.created,
        "currency": intent.currency,
        "disputed": false,
        "livemode": false,
        "metadata": metadata,
        "paid": true,
        "payment_intent": intent.id,
        "refunded": refunded >= intent.amount,
        "status": "succeeded",
    })
}

fn refund_json(refund: &Refund) -> Value {
    json!({
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": format!("txn_{}", &refund.id[3..]),
        "charge": refund.charge,
        "created": refund.created,
        "currency": refund.currency,
        "destination_details": null,
        "metadata": {},
        "payment_intent": refund.payment_intent,
        "reason": null,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    })
}
