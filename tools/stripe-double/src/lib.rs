//! A Stripe test double: the three calls Ticketing makes (`POST /v1/payment_intents` with
//! `confirm=true`, `GET /v1/payment_intents/:id`, `POST /v1/refunds`), form-encoded in and
//! Stripe's JSON out, including its error objects and `Idempotency-Key` replays.
//!
//! Stripe's API is unreachable from where this project is built and tested, and no fake in the
//! package registries speaks the PaymentIntent API in a shape async-stripe parses. The payments
//! service's tests prove that every response here parses with async-stripe.
//!
//! Test payment methods behave as on Stripe: `pm_card_visa`, `pm_card_mastercard`, `tok_visa`
//! and `tok_mastercard` succeed; `pm_card_chargeDeclined`, `tok_chargeDeclined`,
//! `pm_card_chargeDeclinedInsufficientFunds` and `tok_chargeDeclinedInsufficientFunds` decline.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

/// A payment intent as the double keeps it.
#[derive(Debug, Clone)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: &'static str,
    pub payment_method: String,
    pub charge: Option<String>,
    pub metadata: Vec<(String, String)>,
    pub created: i64,
    /// The decline, for an intent that failed.
    pub last_error: Option<Value>,
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
    /// When set, every call fails with this status (Stripe having an outage).
    failing: Option<StatusCode>,
    /// When set, every answer comes this much later (Stripe being slow); the work is done first.
    slow: Option<std::time::Duration>,
}

/// Lets a test stop payment intents at the door, to act while a charge is in flight.
#[derive(Default)]
struct Gate {
    held: std::sync::atomic::AtomicBool,
    waiting: std::sync::atomic::AtomicUsize,
    opened: tokio::sync::Notify,
}

/// The double's state, shared with the test that started it.
#[derive(Clone, Default)]
pub struct StripeDouble(Arc<Mutex<Ledger>>, Arc<Gate>);

impl StripeDouble {
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

    /// Makes every following answer arrive `delay` late (`None` heals it). The charge or refund
    /// happens at once; only its answer waits, as when Stripe is slow.
    pub fn slow_by(&self, delay: Option<std::time::Duration>) {
        self.state().slow = delay;
    }

    async fn answer_late(&self) {
        let delay = self.state().slow;
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/payment_intents", post(create_payment_intent))
            .route("/v1/payment_intents/{id}", get(retrieve_payment_intent))
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

/// How a test payment method behaves.
enum Card {
    Succeeds,
    Declines { code: &'static str, message: &'static str },
}

fn card(method: &str) -> Option<Card> {
    let name = method.strip_prefix("pm_card_").or_else(|| method.strip_prefix("tok_"))?;
    match name {
        "visa" | "mastercard" | "amex" => Some(Card::Succeeds),
        "chargeDeclined" => Some(Card::Declines { code: "generic_decline", message: "Your card was declined." }),
        "chargeDeclinedInsufficientFunds" => {
            Some(Card::Declines { code: "insufficient_funds", message: "Your card has insufficient funds." })
        }
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

/// Runs `handle` once per idempotency key; a repeat gets the first response, as Stripe does.
fn idempotent(
    double: &StripeDouble,
    headers: &HeaderMap,
    method: Method,
    path: &str,
    form: Vec<(String, String)>,
    handle: impl FnOnce(&mut Ledger, &[(String, String)]) -> (StatusCode, Value),
) -> Response {
    let mut state = double.state();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut sorted = form.clone();
    sorted.sort();
    let request = (method, path.to_string(), sorted);
    if let Some(key) = &key {
        if let Some(replay) = state.replays.get(key) {
            if replay.request != request {
                let message = format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                );
                return error(StatusCode::BAD_REQUEST, "idempotency_error", None, &message, None);
            }
            let mut response = (replay.status, Json(replay.body.clone())).into_response();
            response.headers_mut().insert("idempotent-replayed", "true".parse().expect("static header value"));
            return response;
        }
    }
    let (status, body) = handle(&mut state, &form);
    if let Some(key) = key {
        // Stripe keeps results of requests that reached processing, errors included.
        state.replays.insert(key, Replay { request, status, body: body.clone() });
    }
    (status, Json(body)).into_response()
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
    let response = idempotent(&double, &headers, Method::POST, "/v1/payment_intents", form, |state, form| {
        let Some(amount) = param(form, "amount").and_then(|a| a.parse::<i64>().ok()) else {
            return (
                StatusCode::BAD_REQUEST,
                error_body("invalid_request_error", Some("parameter_missing"), "Missing required param: amount.", Some("amount")),
            );
        };
        if amount < 50 {
            let message = "Amount must be at least $0.50 usd";
            return (StatusCode::BAD_REQUEST, error_body("invalid_request_error", Some("amount_too_small"), message, Some("amount")));
        }
        let Some(currency) = param(form, "currency").map(str::to_ascii_lowercase) else {
            return (
                StatusCode::BAD_REQUEST,
                error_body("invalid_request_error", Some("parameter_missing"), "Missing required param: currency.", Some("currency")),
            );
        };
        let (method, param_name) = match (param(form, "payment_method"), param(form, "payment_method_data[card][token]")) {
            (Some(pm), _) => (pm.to_string(), "payment_method"),
            (None, Some(token)) => (token.to_string(), "payment_method_data[card][token]"),
            (None, None) => {
                let message = "You must provide a payment method to confirm this PaymentIntent.";
                return (
                    StatusCode::BAD_REQUEST,
                    error_body("invalid_request_error", Some("parameter_missing"), message, Some("payment_method")),
                );
            }
        };
        if param(form, "confirm") != Some("true") {
            let message = "This double only creates and confirms in one call: send confirm=true.";
            return (StatusCode::BAD_REQUEST, error_body("invalid_request_error", Some("parameter_invalid"), message, Some("confirm")));
        }
        let Some(behaviour) = card(&method) else {
            let what = if method.starts_with("tok_") { "token" } else { "PaymentMethod" };
            let message = format!("No such {what}: '{method}'");
            return (StatusCode::BAD_REQUEST, error_body("invalid_request_error", Some("resource_missing"), &message, Some(param_name)));
        };
        // A token becomes a PaymentMethod of its own, as on Stripe.
        let payment_method = if method.starts_with("tok_") { new_id("pm") } else { method.clone() };
        let metadata =
            form.iter().filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_string(), v.clone()))).collect();
        let mut intent = PaymentIntent {
            id: new_id("pi"),
            amount,
            currency,
            status: "succeeded",
            payment_method,
            charge: None,
            metadata,
            created: now(),
            last_error: None,
        };
        match behaviour {
            Card::Succeeds => {
                intent.charge = Some(new_id("ch"));
                let body = intent_json(&intent);
                state.intents.push(intent);
                (StatusCode::OK, body)
            }
            Card::Declines { code, message } => {
                let charge = new_id("ch");
                intent.status = "requires_payment_method";
                intent.last_error = Some(json!({
                    "type": "card_error", "code": "card_declined", "decline_code": code, "message": message,
                    "charge": charge, "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                }));
                let mut body = json!({
                    "type": "card_error", "code": "card_declined", "decline_code": code, "message": message,
                    "charge": charge, "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                });
                body["payment_intent"] = intent_json(&intent);
                state.intents.push(intent);
                (StatusCode::PAYMENT_REQUIRED, json!({ "error": body }))
            }
        }
    });
    double.answer_late().await;
    response
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
    let response = idempotent(&double, &headers, Method::POST, "/v1/refunds", form, |state, form| {
        let Some(id) = param(form, "payment_intent") else {
            let message = "One of the following params should be provided for this request: payment_intent or charge.";
            return (
                StatusCode::BAD_REQUEST,
                error_body("invalid_request_error", Some("parameter_missing"), message, Some("payment_intent")),
            );
        };
        let Some(intent) = state.intents.iter().find(|pi| pi.id == id).cloned() else {
            let message = format!("No such payment_intent: '{id}'");
            return (
                StatusCode::BAD_REQUEST,
                error_body("invalid_request_error", Some("resource_missing"), &message, Some("payment_intent")),
            );
        };
        let Some(charge) = intent.charge.clone().filter(|_| intent.status == "succeeded") else {
            let message = format!("This PaymentIntent ({id}) does not have a successful charge to refund.");
            return (StatusCode::BAD_REQUEST, error_body("invalid_request_error", Some("charge_not_refundable"), &message, None));
        };
        let refunded: i64 = state.refunds.iter().filter(|r| r.payment_intent == id).map(|r| r.amount).sum();
        let amount = param(form, "amount").and_then(|a| a.parse().ok()).unwrap_or(intent.amount - refunded);
        if refunded >= intent.amount {
            let message = format!("Charge {charge} has already been refunded.");
            return (StatusCode::BAD_REQUEST, error_body("invalid_request_error", Some("charge_already_refunded"), &message, None));
        }
        if amount <= 0 || refunded + amount > intent.amount {
            let message = format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({})", intent.amount - refunded);
            return (StatusCode::BAD_REQUEST, error_body("invalid_request_error", Some("amount_too_large"), &message, Some("amount")));
        }
        let refund =
            Refund { id: new_id("re"), payment_intent: id.to_string(), charge, amount, currency: intent.currency.clone(), created: now() };
        let body = refund_json(&refund);
        state.refunds.push(refund);
        (StatusCode::OK, body)
    });
    double.answer_late().await;
    response
}

/// A PaymentIntent object with every field async-stripe expects, as Stripe sends it.
fn intent_json(intent: &PaymentIntent) -> Value {
    let metadata: serde_json::Map<String, Value> = intent.metadata.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let received = if intent.status == "succeeded" { intent.amount } else { 0 };
    json!({
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": received,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": { "allow_redirects": "never", "enabled": true },
        "canceled_at": null,
        "cancellation_reason": null,
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
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": if intent.status == "succeeded" { json!(intent.payment_method) } else { Value::Null },
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
