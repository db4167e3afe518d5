//! `/api/payments`. Checks run in the order auth, validation, 404, owner, cancelled, already
//! paid, another attempt in flight; then the attempt is recorded and Stripe is called (see
//! `attempts` for how a charge is never lost). `/api/payments/webhook` takes Stripe's events.
//! Each handler carries its OpenAPI description ([`openapi`]).
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use contract::{ErrorBody, OrderId, Payment, PaymentBody};
use serde::Serialize;
use shared::extract::ApiJson;
use shared::openapi::Common;
use shared::session::{RequireUser, Sessions};
use shared::{parse_fields, ApiError, ErrorCode, ErrorItem};
use stripe_webhook::{EventObject, Webhook, WebhookError};
use utoipa::ToSchema;

use crate::attempts::{ChargeRefused, Outcome};
use crate::domain::{order_to_pay, PaymentToken, RefundState};
use crate::gateway::{ChargeError, Intent};
use crate::store;

/// What the handlers share. Only the session verifier is taken on its own (`RequireUser`,
/// `CurrentUser`); the derive says so once.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub sessions: Sessions,
    #[from_ref(skip)]
    pub attempts: crate::attempts::Attempts,
    /// The endpoint secret Stripe signs webhooks with.
    #[from_ref(skip)]
    pub webhook_secret: String,
}

/// `GET /metrics` in Prometheus' text format: what this process recorded
/// ([`shared::metrics`]), then what needs an operator (parked refunds above all). Served on the
/// service's own port only (the ingress routes `/api/payments`). The refund and attempt figures
/// are counted in the database when scraped, so every replica reports the same shared figures
/// (and each test app its own database's, though the recorder is one per process).
pub fn metrics_router(db: shared::store::Db) -> Router {
    shared::metrics::install();
    Router::new().route("/metrics", axum::routing::get(metrics)).with_state(db)
}

async fn metrics(State(db): State<shared::store::Db>) -> Result<axum::response::Response, ApiError> {
    let backlog = store::backlog(&db).await?;
    let mut body = shared::metrics::render();
    body.push_str(&format!(
        "# HELP payments_refunds_parked Refunds Stripe refused too often, waiting for an operator (payments refunds list).\n\
         # TYPE payments_refunds_parked gauge\npayments_refunds_parked {}\n\
         # HELP payments_refunds_due Charges to give back that are not refunded yet.\n\
         # TYPE payments_refunds_due gauge\npayments_refunds_due {}\n\
         # HELP payments_attempts_unsettled Payment attempts without an outcome yet (in flight, or waiting for the customer).\n\
         # TYPE payments_attempts_unsettled gauge\npayments_attempts_unsettled {}\n",
        backlog.refunds_parked, backlog.refunds_due, backlog.attempts_unsettled
    ));
    Ok(shared::metrics::text_response(body))
}

pub fn router(state: AppState) -> Router {
    Router::new().route("/api/payments", post(create)).route("/api/payments/webhook", post(webhook)).with_state(state)
}

/// The routes of [`router`] as OpenAPI 3.1: served at `/openapi.json` on the service's own port,
/// merged by the web server into `/api/openapi.json`. A route added above is described here too.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <Description as utoipa::OpenApi>::openapi()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "payments", description = "Payments through Stripe: `/api/payments`."),
    paths(create, webhook),
    modifiers(&Common),
    tags((name = "payments", description = "Paying for an order, and Stripe's events about the charges (the payments service)."))
)]
struct Description;

/// What the webhook answers Stripe.
#[derive(Debug, Serialize, ToSchema)]
struct Receipt {
    received: bool,
    /// Present (and true) when this event id was handled before: nothing changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
}

fn cancelled() -> ApiError {
    ApiError::bad_request(ErrorCode::OrderCancelled, "Cannot pay for a cancelled order")
}

fn paid() -> ApiError {
    ApiError::bad_request(ErrorCode::OrderPaid, "Order has already been paid")
}

fn declined(message: String) -> ApiError {
    ApiError::PaymentRequired(ErrorItem::new(ErrorCode::CardDeclined, message))
}

/// A payment for one of the caller's orders, charged through Stripe for the price the order was
/// made at.
///
/// A double submit never charges twice: of two concurrent submissions for one order exactly one
/// gets 201 and the other 409 or `order_paid`. A charge that succeeds for an order cancelled
/// meanwhile is refunded, and the order stays cancelled.
#[utoipa::path(
    post,
    path = "/api/payments",
    operation_id = "createPayment",
    tag = "payments",
    security(("session" = []), ("bearer" = [])),
    request_body(content = PaymentBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Paid: the order becomes `complete`.", body = Payment),
        (status = 202, description = "The card needs the customer's authentication (3-D Secure): `status` is `requires_action`, with Stripe.js's `clientSecret`.", body = Payment),
        (status = 400, description = "`order_id_required` (field orderId), `token_required`, `token_invalid`, `token_unknown` (field token), `order_cancelled`, `order_paid`.", body = ErrorBody),
        (status = 401, description = "No valid session, or someone else's order (`not_authorized`).", body = ErrorBody),
        (status = 402, description = "Stripe declined the card (`card_declined`); the message is Stripe's.", body = ErrorBody),
        (status = 404, description = "Unknown order (`not_found`).", body = ErrorBody),
        (status = 409, description = "Another payment for the order is in flight (`payment_in_progress`).", body = ErrorBody),
        (status = 429, description = "Too many cards refused: 5 for this order, or 20 for this buyer within the hour by default (`too_many_requests`).", body = ErrorBody),
        (status = 502, description = "Stripe failed the charge (`payment_provider_failed`), did not answer once it was sent (`payment_provider_no_answer`), or is still processing it (`payment_processing`).", body = ErrorBody),
        (status = 503, description = "Stripe could not be reached before charging (`payment_provider_unavailable`), or the database cannot be (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    ApiJson(body): ApiJson<PaymentBody>,
) -> Result<(StatusCode, Json<Payment>), ApiError> {
    parse_fields!(
        order_id = "orderId": order_to_pay(body.order_id),
        token = "token": PaymentToken::parse(body.token),
    );
    let order = store::get_order(&state.attempts.db, &order_id).await?.ok_or(ApiError::NotFound)?;
    if order.user_id != user.id {
        return Err(ApiError::Unauthorized);
    }
    match state.attempts.charge(&user.id, &order, &token).await {
        Ok(Outcome::Paid(id)) => Ok((StatusCode::CREATED, Json(Payment::paid(id)))),
        Ok(Outcome::NeedsAction { attempt_id, client_secret }) => {
            tracing::info!(order.id = %order.id, attempt.id = %attempt_id, "payment needs the customer's authentication");
            Ok((StatusCode::ACCEPTED, Json(Payment::needs_action(attempt_id, client_secret))))
        }
        Ok(Outcome::Declined(message)) => {
            tracing::info!(order.id = %order.id, %message, "card declined");
            Err(declined(message))
        }
        Ok(Outcome::Cancelled) | Err(ChargeRefused::Cancelled) => Err(cancelled()),
        Ok(Outcome::AlreadyPaid) | Err(ChargeRefused::Paid) => Err(paid()),
        Ok(Outcome::Unknown) => {
            let message = "The payment is still being processed. If it goes through, the order completes shortly.";
            Err(ApiError::BadGateway(ErrorItem::new(ErrorCode::PaymentProcessing, message)))
        }
        Err(ChargeRefused::InProgress) => {
            let message = "A payment for this order is in progress";
            Err(ApiError::Conflict(ErrorItem::new(ErrorCode::PaymentInProgress, message)))
        }
        Err(ChargeRefused::TooManyDeclines) => Err(ApiError::TooManyRequests),
        Err(ChargeRefused::Provider(error)) => Err(charge_error(&order.id, error)),
        Err(ChargeRefused::Stopped) => {
            let message = "The payment took too long and was stopped. Nothing was charged: please try again.";
            Err(ApiError::BadGateway(ErrorItem::new(ErrorCode::PaymentProviderNoAnswer, message)))
        }
        Err(ChargeRefused::NoAnswer) => Err(ApiError::BadGateway(ErrorItem::new(
            ErrorCode::PaymentProviderNoAnswer,
            "The payment provider did not answer. If the payment went through, the order completes shortly; otherwise try again in a minute.",
        ))),
        Err(ChargeRefused::Store(error)) => Err(internal(error)),
    }
}

/// An attempt's step that failed: the database's own errors keep their answer (503 while it is
/// unreachable), anything else is a 500.
fn internal(error: anyhow::Error) -> ApiError {
    match error.downcast::<shared::store::TxError>() {
        Ok(error) => error.into(),
        Err(error) => match error.downcast::<surrealdb::Error>() {
            Ok(error) => error.into(),
            Err(error) => ApiError::Internal(error),
        },
    }
}

fn charge_error(order_id: &OrderId, error: ChargeError) -> ApiError {
    match error {
        ChargeError::Declined(message) => declined(message),
        ChargeError::UnknownMethod(message) => ApiError::field(ErrorCode::TokenUnknown, "token", message),
        ChargeError::Unreachable(why) => {
            tracing::error!(order.id = %order_id, %why, "Stripe unreachable");
            let message = "Payment provider unreachable, please try again";
            ApiError::Unavailable(ErrorItem::new(ErrorCode::PaymentProviderUnavailable, message))
        }
        ChargeError::Failed(why) | ChargeError::ServerError(why) => {
            tracing::error!(order.id = %order_id, %why, "Stripe failed");
            let message = "Payment provider failed, please try again";
            ApiError::BadGateway(ErrorItem::new(ErrorCode::PaymentProviderFailed, message))
        }
    }
}

/// Stripe's events about our charges, signed with the endpoint's secret. Each event id is
/// handled once; an event that fails to be handled answers 500, so Stripe sends it again.
#[utoipa::path(
    post,
    path = "/api/payments/webhook",
    operation_id = "stripeWebhook",
    tag = "payments",
    params(("Stripe-Signature" = String, Header, description = "Stripe's signature of the body with the endpoint's secret (`t=<unix seconds>,v1=<hex HMAC-SHA256>`), checked with a timestamp tolerance.")),
    request_body(content = Object, content_type = "application/json", description = "A Stripe event, exactly as Stripe signed it."),
    responses(
        (status = 200, description = "Handled, or deliberately ignored; the same event id twice changes nothing.", body = Receipt),
        (status = 400, description = "`webhook_signature_missing`, `webhook_signature_invalid`, `webhook_signature_stale`, `webhook_not_utf8`, `webhook_malformed`.", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`); Stripe sends the event again.", body = ErrorBody),
    )
)]
async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Json<Receipt>, ApiError> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| ApiError::bad_request(ErrorCode::WebhookSignatureMissing, "Missing Stripe-Signature header"))?;
    let Ok(payload) = std::str::from_utf8(&body) else {
        return Err(ApiError::bad_request(ErrorCode::WebhookNotUtf8, "Webhook body is not UTF-8"));
    };
    let event = Webhook::construct_event(payload, signature, &state.webhook_secret).map_err(|error| match error {
        WebhookError::BadParse(why) => {
            tracing::warn!(%why, "malformed webhook event");
            ApiError::bad_request(ErrorCode::WebhookMalformed, "Malformed webhook event")
        }
        WebhookError::BadTimestamp(at) => {
            tracing::warn!(signed_at = at, "stale webhook signature");
            ApiError::bad_request(ErrorCode::WebhookSignatureStale, "Stale Stripe-Signature timestamp")
        }
        other => {
            tracing::warn!(error = %other, "webhook signature refused");
            ApiError::bad_request(ErrorCode::WebhookSignatureInvalid, "Invalid Stripe-Signature")
        }
    })?;
    let db = &state.attempts.db;
    let event_id = event.id.to_string();
    if store::webhook_seen(db, &event_id).await? {
        return Ok(Json(Receipt { received: true, duplicate: true }));
    }
    let kind = event.type_.as_str().to_string();
    match &event.data.object {
        EventObject::PaymentIntentSucceeded(intent) | EventObject::PaymentIntentPaymentFailed(intent) => {
            state.attempts.on_intent(&Intent::from(intent.as_ref())).await.map_err(ApiError::Internal)?;
        }
        EventObject::ChargeRefunded(charge) => {
            if let Some(intent) = &charge.payment_intent {
                let intent_id = intent.id().to_string();
                match store::refunded_at_stripe(db, &intent_id, charge.refunded).await? {
                    Some(payment) if payment.refund_state() == Some(RefundState::None) => tracing::warn!(
                        order.id = %payment.order_id, stripe.id = %intent_id,
                        "a paid order's charge was refunded at Stripe, not by Ticketing; the order stays complete"
                    ),
                    Some(_) => {}
                    None => tracing::info!(stripe.id = %intent_id, "refund of a charge that is not ours; ignored"),
                }
            }
        }
        _ => tracing::debug!(event.id = %event_id, %kind, "webhook event not used"),
    }
    store::webhook_handled(db, &event_id, &kind).await?;
    Ok(Json(Receipt { received: true, duplicate: false }))
}
