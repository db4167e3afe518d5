//! `/api/orders`. Checks run in the order auth, validation, 404, own ticket, reserved.
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use contract::{Cents, Order};
use serde::Deserialize;
use shared::events::outbox::OutboxRecord;
use shared::events::{Backbone, OrderCreated, OrderStatus, OrderTicket};
use shared::extract::ApiJson;
use shared::session::{RequireUser, Sessions};
use shared::store::Db;
use shared::{parse_fields, ApiError, ErrorCode};

use shared::timestamp::rfc3339;

use crate::domain::TicketId;
use crate::store::{self, Closing, NewOrder, OrderRow, Placed};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub sessions: Sessions,
    pub backbone: Backbone,
    pub expiration_window: Duration,
    pub turns: Arc<Turns>,
}

/// Buyers of one ticket take turns in this replica. When a drop opens, a ticket's buyers arrive
/// together: without turns each of them reads the ticket free and runs a reservation
/// transaction, and all but one lose it on a conflict, read again and are told it is reserved.
/// With turns the first one's transaction decides and the others read its reservation and are
/// answered without a transaction of their own. The transaction still decides every
/// reservation, across replicas too: turns only save this replica the conflicts, so a buyer who
/// waited too long for a turn goes ahead without one. Striped (a fixed set of locks, a ticket
/// hashed to one with this process's own keys), so it needs no cleanup and never grows; with
/// 16,384 stripes about one ticket in seventeen of a 1,000-ticket drop shares its stripe.
pub struct Turns {
    stripes: Box<[tokio::sync::Mutex<()>]>,
    keys: std::hash::RandomState,
}

impl Turns {
    const STRIPES: usize = 16_384;
    /// Longer than a reservation takes, short enough that a stuck one holds nobody for long.
    const PATIENCE: Duration = Duration::from_secs(2);

    pub fn new() -> Self {
        Self { stripes: (0..Self::STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(), keys: Default::default() }
    }

    async fn take(&self, ticket_id: &str) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        use std::hash::BuildHasher;
        let stripe = self.keys.hash_one(ticket_id) as usize % self.stripes.len();
        tokio::time::timeout(Self::PATIENCE, self.stripes[stripe].lock()).await.ok()
    }
}

impl Default for Turns {
    fn default() -> Self {
        Self::new()
    }
}

impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new().route("/api/orders", get(list).post(create)).route("/api/orders/{id}", get(show).delete(cancel)).with_state(state)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderBody {
    ticket_id: Option<String>,
}

const ATTEMPTS: usize = 5;

/// Whether the holder was read first or the reservation lost the race, the buyer hears the same.
fn reserved() -> ApiError {
    ApiError::bad_request(ErrorCode::TicketReserved, "Ticket is already reserved")
}

async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    ApiJson(body): ApiJson<OrderBody>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    parse_fields!(ticket_id = "ticketId": TicketId::parse(body.ticket_id));
    let turn = state.turns.take(ticket_id.as_str()).await;
    for _ in 0..ATTEMPTS {
        let (ticket, holder) = store::ticket_and_holder(&state.db, ticket_id.as_str()).await?;
        let ticket = ticket.filter(|t| !t.deleted).ok_or(ApiError::NotFound)?;
        if ticket.user_id == user.id {
            return Err(ApiError::bad_request(ErrorCode::BuyOwnTicket, "You cannot buy your own ticket"));
        }
        if holder.is_some() {
            return Err(reserved());
        }
        let id = uuid::Uuid::now_v7().simple().to_string();
        let expires_at = time::OffsetDateTime::now_utc() + state.expiration_window;
        let expires = rfc3339(expires_at);
        let event = OrderCreated {
            id: id.clone(),
            version: 0,
            status: OrderStatus::Created,
            user_id: user.id.clone(),
            expires_at,
            ticket: OrderTicket { id: ticket.id.clone(), price: Cents(ticket.price), version: ticket.version as u64 },
        };
        let new = NewOrder { id: &id, user_id: &user.id, ticket: &ticket, expires_at: &expires };
        match store::place(&state.db, &new, OutboxRecord::new(&event)?).await? {
            Placed::Reserved => return Err(reserved()),
            Placed::Stale => continue,
            Placed::Created => {
                // The next buyer will read the reservation.
                drop(turn);
                state.backbone.outbox.wake();
                tracing::info!(order.id = %id, ticket.id = %ticket.id, "order created");
                let row = store::get_order(&state.db, &id).await?.ok_or_else(|| anyhow::anyhow!("order {id} vanished"))?;
                return Ok((StatusCode::CREATED, Json(row.view())));
            }
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("ticket {} kept changing while ordering it", ticket_id.as_str())))
}

async fn list(State(state): State<AppState>, RequireUser(user): RequireUser) -> Result<Json<Vec<Order>>, ApiError> {
    let rows = store::list_orders(&state.db, &user.id).await?;
    Ok(Json(rows.iter().map(OrderRow::view).collect()))
}

async fn owned(state: &AppState, id: &str, user_id: &str) -> Result<OrderRow, ApiError> {
    let row = store::get_order(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if row.user_id != user_id {
        return Err(ApiError::Unauthorized);
    }
    Ok(row)
}

async fn show(State(state): State<AppState>, RequireUser(user): RequireUser, Path(id): Path<String>) -> Result<Json<Order>, ApiError> {
    Ok(Json(owned(&state, &id, &user.id).await?.view()))
}

async fn cancel(State(state): State<AppState>, RequireUser(user): RequireUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    for _ in 0..ATTEMPTS {
        let row = owned(&state, &id, &user.id).await?;
        match row.status() {
            OrderStatus::Complete => {
                return Err(ApiError::bad_request(ErrorCode::CancelCompletedOrder, "Cannot cancel a completed order"));
            }
            OrderStatus::Cancelled => return Ok(StatusCode::NO_CONTENT),
            OrderStatus::Created | OrderStatus::AwaitingPayment => {
                if store::cancel(&state.db, &row, Closing::Cancel).await? {
                    state.backbone.outbox.wake();
                    tracing::info!(order.id = %id, "order cancelled by its buyer");
                    return Ok(StatusCode::NO_CONTENT);
                }
            }
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("order {id} kept changing while cancelling it")))
}
