//! `/api/orders`. Checks run in the order auth, validation, 404, own ticket, reserved. Each handler
//! carries its OpenAPI description ([`openapi`]).
use shared::openapi::Common;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use contract::{Cents, ErrorBody, Order, OrderBody, OrderId, TicketId, UserId, Version};
use shared::events::outbox::OutboxRecord;
use shared::events::{Backbone, OrderCreated, OrderStatus, OrderTicket};
use shared::extract::ApiJson;
use shared::session::{RequireUser, Sessions};
use shared::store::Db;
use shared::{parse_fields, ApiError, ErrorCode};

use shared::timestamp::rfc3339;

use crate::domain::ticket_to_order;
use crate::store::{self, Closing, NewOrder, OrderRow, Placed};

/// What the handlers share. Only the session verifier is taken on its own (`RequireUser`,
/// `CurrentUser`); the derive says so once.
#[derive(Clone, FromRef)]
pub struct AppState {
    #[from_ref(skip)]
    pub db: Db,
    pub sessions: Sessions,
    #[from_ref(skip)]
    pub backbone: Backbone,
    #[from_ref(skip)]
    pub expiration_window: Duration,
    /// Open orders a buyer may hold at once (`MAX_HOLDS_PER_BUYER`).
    #[from_ref(skip)]
    pub max_holds: u32,
    #[from_ref(skip)]
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

    async fn take(&self, ticket_id: &TicketId) -> Option<tokio::sync::MutexGuard<'_, ()>> {
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

pub fn router(state: AppState) -> Router {
    Router::new().route("/api/orders", get(list).post(create)).route("/api/orders/{id}", get(show).delete(cancel)).with_state(state)
}

/// The routes of [`router`] as OpenAPI 3.1: served at `/openapi.json` on the service's own port,
/// merged by the web server into `/api/openapi.json`. A route added above is described here too.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <Description as utoipa::OpenApi>::openapi()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "orders", description = "Orders: `/api/orders`."),
    paths(create, list, show, cancel),
    modifiers(&Common),
    tags((name = "orders", description = "A buyer's orders, each holding one ticket until paid or cancelled (the orders service)."))
)]
struct Description;

const ATTEMPTS: usize = 5;

/// Whether the holder was read first or the reservation lost the race, the buyer hears the same.
fn reserved() -> ApiError {
    ApiError::bad_request(ErrorCode::TicketReserved, "Ticket is already reserved")
}

/// An order for a ticket: it holds the ticket until paid, cancelled or expired.
///
/// At most one order per ticket is active (`created`, `awaiting:payment` or `complete`) at any
/// time, however many buyers race for it. `expiresAt` is now plus the expiration window, and the
/// buyer's deadline: an order not `complete` by then, with no card submitted before it still at
/// Stripe, is cancelled within a second and the ticket is free again; a card submitted before it
/// settles the order whenever Stripe answers. A buyer holds at most
/// `MAX_HOLDS_PER_BUYER` open orders (`created` or `awaiting:payment`; default 4), counted
/// across every replica: one account cannot hoard the tickets on sale.
#[utoipa::path(
    post,
    path = "/api/orders",
    operation_id = "createOrder",
    tag = "orders",
    security(("session" = []), ("bearer" = [])),
    request_body(content = OrderBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The order, `created`, holding the ticket.", body = Order,
            links(
                ("showOrder" = (operation_id = "showOrder", parameters(("id" = "$response.body#/id")), description = "The order just made.")),
                ("cancelOrder" = (operation_id = "cancelOrder", parameters(("id" = "$response.body#/id")), description = "Its buyer cancels it.")),
            )),
        (status = 400, description = "`ticket_id_required` (field ticketId), `buy_own_ticket`, `ticket_reserved`, `too_many_holds` (the buyer already holds `MAX_HOLDS_PER_BUYER` open orders, default 4).", body = ErrorBody),
        (status = 401, description = "No valid session (`not_authorized`).", body = ErrorBody),
        (status = 404, description = "Unknown or deleted ticket (`not_found`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    ApiJson(body): ApiJson<OrderBody>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    parse_fields!(ticket_id = "ticketId": ticket_to_order(body.ticket_id));
    let turn = state.turns.take(&ticket_id).await;
    for _ in 0..ATTEMPTS {
        let (ticket, holder) = store::ticket_and_holder(&state.db, &ticket_id).await?;
        let ticket = ticket.filter(|t| !t.deleted).ok_or(ApiError::NotFound)?;
        if ticket.user_id == user.id {
            return Err(ApiError::bad_request(ErrorCode::BuyOwnTicket, "You cannot buy your own ticket"));
        }
        if holder.is_some() {
            return Err(reserved());
        }
        let id = OrderId::from(uuid::Uuid::now_v7().simple().to_string());
        let expires_at = time::OffsetDateTime::now_utc() + state.expiration_window;
        let expires = rfc3339(expires_at);
        let event = OrderCreated {
            id: id.clone(),
            version: Version::FIRST,
            status: OrderStatus::Created,
            user_id: user.id.clone(),
            expires_at,
            ticket: OrderTicket { id: ticket.id.clone(), price: Cents(ticket.price), version: ticket.version },
        };
        let new = NewOrder { id: &id, user_id: &user.id, max_holds: state.max_holds, ticket: &ticket, expires_at: &expires };
        match store::place(&state.db, &new, OutboxRecord::new(&event)?).await? {
            Placed::Reserved => return Err(reserved()),
            Placed::TooManyHolds => {
                tracing::info!(user.id = %user.id, ticket.id = %ticket.id, max = state.max_holds, "order refused: too many tickets on hold");
                return Err(ApiError::bad_request(ErrorCode::TooManyHolds, "Too many tickets on hold"));
            }
            Placed::Stale => continue,
            Placed::Created => {
                // The next buyer will read the reservation.
                drop(turn);
                tracing::info!(order.id = %id, ticket.id = %ticket.id, "order created");
                let row = store::get_order(&state.db, &id).await?.ok_or_else(|| anyhow::anyhow!("order {id} vanished"))?;
                return Ok((StatusCode::CREATED, Json(row.view())));
            }
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("ticket {} kept changing while ordering it", ticket_id)))
}

/// The caller's orders, in every status, newest first.
#[utoipa::path(
    get,
    path = "/api/orders",
    operation_id = "listOrders",
    tag = "orders",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's orders, newest first.", body = [Order]),
        (status = 401, description = "No valid session (`not_authorized`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, RequireUser(user): RequireUser) -> Result<Json<Vec<Order>>, ApiError> {
    let rows = store::list_orders(&state.db, &user.id).await?;
    Ok(Json(rows.iter().map(OrderRow::view).collect()))
}

async fn owned(state: &AppState, id: &OrderId, user_id: &UserId) -> Result<OrderRow, ApiError> {
    let row = store::get_order(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    if row.user_id != *user_id {
        return Err(ApiError::Unauthorized);
    }
    Ok(row)
}

/// One of the caller's orders.
#[utoipa::path(
    get,
    path = "/api/orders/{id}",
    operation_id = "showOrder",
    tag = "orders",
    security(("session" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The order's id (any string: an unknown one is a 404).")),
    responses(
        (status = 200, description = "The order.", body = Order),
        (status = 401, description = "No valid session, or someone else's order (`not_authorized`).", body = ErrorBody),
        (status = 404, description = "Unknown order (`not_found`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn show(State(state): State<AppState>, RequireUser(user): RequireUser, Path(id): Path<OrderId>) -> Result<Json<Order>, ApiError> {
    Ok(Json(owned(&state, &id, &user.id).await?.view()))
}

/// A cancellation by the buyer: the order becomes `cancelled` (reason `buyer`) and its ticket is
/// free again. The order stays readable; cancelling a cancelled order changes nothing.
#[utoipa::path(
    delete,
    path = "/api/orders/{id}",
    operation_id = "cancelOrder",
    tag = "orders",
    security(("session" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The order's id.")),
    responses(
        (status = 204, description = "Cancelled (or it already was)."),
        (status = 400, description = "`cancel_completed_order`: it is paid.", body = ErrorBody),
        (status = 401, description = "No valid session, or someone else's order (`not_authorized`).", body = ErrorBody),
        (status = 404, description = "Unknown order (`not_found`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn cancel(State(state): State<AppState>, RequireUser(user): RequireUser, Path(id): Path<OrderId>) -> Result<StatusCode, ApiError> {
    for _ in 0..ATTEMPTS {
        let row = owned(&state, &id, &user.id).await?;
        match row.status() {
            OrderStatus::Complete => {
                return Err(ApiError::bad_request(ErrorCode::CancelCompletedOrder, "Cannot cancel a completed order"));
            }
            OrderStatus::Cancelled => return Ok(StatusCode::NO_CONTENT),
            OrderStatus::Created | OrderStatus::AwaitingPayment => {
                if store::cancel(&state.db, &row, Closing::Cancel).await? {
                    tracing::info!(order.id = %id, "order cancelled by its buyer");
                    return Ok(StatusCode::NO_CONTENT);
                }
            }
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("order {id} kept changing while cancelling it")))
}
