//! `/api/payments`. Checks run in the order auth, validation, 404, owner, cancelled, already
//! paid; then Stripe; then the payment is recorded, or the charge is given back.
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use shared::events::outbox::OutboxRecord;
use shared::events::{Backbone, OrderStatus, PaymentCreated};
use shared::extract::ApiJson;
use shared::session::{RequireUser, Sessions};
use shared::store::Db;
use shared::{parse_fields, ApiError};

use crate::domain::{OrderId, PaymentToken, PaymentView};
use crate::gateway::{ChargeError, Gateway};
use crate::refunds::Refunder;
use crate::store::{self, Charge, Settled};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub sessions: Sessions,
    pub backbone: Backbone,
    pub gateway: Gateway,
    pub refunder: Refunder,
}

impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new().route("/api/payments", post(create)).with_state(state)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentBody {
    order_id: Option<String>,
    token: Option<String>,
}

const CANCELLED: &str = "Cannot pay for a cancelled order";
const PAID: &str = "Order has already been paid";
const ATTEMPTS: usize = 5;

async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    ApiJson(body): ApiJson<PaymentBody>,
) -> Result<(StatusCode, Json<PaymentView>), ApiError> {
    parse_fields!(
        order_id = "orderId": OrderId::parse(body.order_id),
        token = "token": PaymentToken::parse(body.token),
    );
    let order = store::get_order(&state.db, order_id.as_str()).await?.ok_or(ApiError::NotFound)?;
    if order.user_id != user.id {
        return Err(ApiError::Unauthorized);
    }
    match order.status() {
        OrderStatus::Cancelled => return Err(ApiError::bad_request(CANCELLED)),
        OrderStatus::Complete => return Err(ApiError::bad_request(PAID)),
        OrderStatus::Created | OrderStatus::AwaitingPayment if order.payment_id.is_some() => {
            return Err(ApiError::bad_request(PAID));
        }
        OrderStatus::Created | OrderStatus::AwaitingPayment => {}
    }

    let stripe_id = state.gateway.charge(&order.id, order.price, &token).await.map_err(|error| match error {
        ChargeError::Declined(message) => {
            tracing::info!(order.id = %order.id, %message, "card declined");
            ApiError::PaymentRequired(message)
        }
        ChargeError::UnknownMethod(message) => ApiError::field("token", message),
        ChargeError::Unreachable(why) => {
            tracing::error!(order.id = %order.id, %why, "Stripe unreachable");
            ApiError::Unavailable("Payment provider unreachable, please try again".to_string())
        }
        ChargeError::Failed(why) | ChargeError::ServerError(why) => {
            tracing::error!(order.id = %order.id, %why, "Stripe failed");
            ApiError::BadGateway("Payment provider failed, please try again".to_string())
        }
    })?;

    let payment_id = uuid::Uuid::now_v7().simple().to_string();
    let charge = Charge { payment_id: &payment_id, order_id: &order.id, stripe_id: &stripe_id, amount: order.price };
    let event = PaymentCreated { id: payment_id.clone(), order_id: order.id.clone(), stripe_id: stripe_id.clone() };
    for _ in 0..ATTEMPTS {
        match store::settle(&state.db, &charge, OutboxRecord::new(&event)?).await? {
            Settled::Paid => {
                state.backbone.outbox.wake();
                tracing::info!(order.id = %order.id, payment.id = %payment_id, stripe.id = %stripe_id, amount = order.price, "payment recorded");
                return Ok((StatusCode::CREATED, Json(PaymentView { id: payment_id })));
            }
            Settled::Retry => continue,
            Settled::Cancelled => {
                give_back(&state, &charge).await?;
                return Err(ApiError::bad_request(CANCELLED));
            }
            Settled::AlreadyPaid => {
                let winner = store::get_order(&state.db, &order.id).await?.and_then(|o| o.payment_id);
                let winner = match winner {
                    Some(id) => store::get_payment(&state.db, &id).await?,
                    None => None,
                };
                // A replayed charge (the same card submitted twice) is the payment itself.
                if winner.is_none_or(|w| w.stripe_id != stripe_id) {
                    give_back(&state, &charge).await?;
                }
                return Err(ApiError::bad_request(PAID));
            }
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("order {} kept changing while recording its payment", order.id)))
}

/// A charge that cannot settle the order is refunded; it is recorded first so that a crash
/// cannot forget it.
async fn give_back(state: &AppState, charge: &Charge<'_>) -> Result<(), ApiError> {
    store::keep_for_refund(&state.db, charge).await?;
    tracing::warn!(order.id = %charge.order_id, stripe.id = %charge.stripe_id, "charge cannot settle the order; refunding");
    state.refunder.wake();
    Ok(())
}
