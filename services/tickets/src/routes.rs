//! `/api/tickets` and the caller's own, `/api/tickets/mine`. Checks run in the order auth,
//! validation, 404, owner (401), reserved (400).
use std::collections::HashMap;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use contract::Ticket;
use serde::Deserialize;
use shared::events::outbox::OutboxRecord;
use shared::events::{Backbone, TicketCreated, TicketDeleted, TicketUpdated};
use shared::extract::ApiJson;
use shared::session::{RequireUser, Sessions};
use shared::store::Db;
use shared::{parse_fields, ApiError, ErrorCode};

use crate::domain::{ListQueryError, Price, Title};
use crate::listing::Listing;
use crate::store::{self, Guarded, TicketRow};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub sessions: Sessions,
    pub backbone: Backbone,
    pub listing: Listing,
}

impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/tickets", get(list).post(create))
        // A static segment: axum matches it before `{id}` (ticket ids are UUIDs, never `mine`).
        .route("/api/tickets/mine", get(mine))
        .route("/api/tickets/{id}", get(show).put(update).delete(remove))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct TicketBody {
    title: Option<String>,
    price: Option<serde_json::Value>,
}

/// A write and its event are committed: the lists kept are stale (before the response, so the
/// writer's next list shows its write), and the relay wakes so the event leaves at once.
fn committed(state: &AppState) {
    state.listing.invalidate();
    state.backbone.outbox.wake();
}

async fn create(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    ApiJson(body): ApiJson<TicketBody>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    parse_fields!(
        title = "title": Title::parse(body.title),
        price = "price": Price::parse(body.price.as_ref()),
    );
    let row = TicketRow {
        id: uuid::Uuid::now_v7().simple().to_string(),
        title: title.as_str().to_string(),
        price: price.cents().0,
        user_id: user.id.clone(),
        version: 0,
        order_id: None,
        reserved_until: None,
        sold: false,
        sold_at: None,
        deleted: false,
    };
    let created = TicketCreated { id: row.id.clone(), version: 0, title: row.title.clone(), price: price.cents(), user_id: user.id };
    store::insert(&state.db, &row, OutboxRecord::new(&created)?).await?;
    committed(&state);
    tracing::info!(ticket.id = %row.id, "ticket created");
    Ok((StatusCode::CREATED, Json(row.view())))
}

/// Served from the answers kept (`listing`) when it can be. Only answers that passed every check
/// are kept, and a `before` that was a ticket's id stays one (deleting a ticket only marks it).
async fn list(State(state): State<AppState>, Query(query): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let mut errors = shared::error::FieldErrors::new();
    let limit = errors.check(
        "limit",
        match query.get("limit") {
            None => Ok(50),
            Some(raw) => raw.parse::<usize>().ok().filter(|l| (1..=200).contains(l)).ok_or(ListQueryError::Limit),
        },
    );
    let before = query.get("before").cloned();
    let Some(limit) = limit else {
        // Refused whatever else: report `before`'s problem with it.
        check_before(&state, before.as_deref(), &mut errors).await?;
        return Err(errors.finish().err().unwrap_or_else(|| ApiError::Internal(anyhow::anyhow!("a refused limit without an error"))));
    };
    let (state, before) = (&state, before.as_deref());
    let body = state
        .listing
        .get_or_read(limit, before, move || async move {
            let mut errors = shared::error::FieldErrors::new();
            check_before(state, before, &mut errors).await?;
            errors.finish()?;
            let rows = store::list_available(&state.db, limit, before).await?;
            let views: Vec<Ticket> = rows.iter().map(TicketRow::view).collect();
            Ok::<_, ApiError>(Bytes::from(serde_json::to_vec(&views).map_err(anyhow::Error::from)?))
        })
        .await?;
    Ok(json_body(body))
}

/// `before` must be a ticket's id (deleting a ticket only marks it, so an id stays one).
async fn check_before(state: &AppState, before: Option<&str>, errors: &mut shared::error::FieldErrors) -> Result<(), ApiError> {
    if let Some(before) = before {
        let known = store::get(&state.db, before).await?.is_some();
        errors.check("before", if known { Ok(()) } else { Err(ListQueryError::UnknownBefore) });
    }
    Ok(())
}

/// A JSON body already serialized: the response `Json` gives.
fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// The caller's own tickets in every state (on sale, reserved, sold), not deleted, newest first.
/// Read from the database each time: per user, so the list's cache does not fit.
async fn mine(State(state): State<AppState>, RequireUser(user): RequireUser) -> Result<Json<Vec<Ticket>>, ApiError> {
    let rows = store::list_of_user(&state.db, &user.id).await?;
    Ok(Json(rows.iter().map(TicketRow::view).collect()))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Ticket>, ApiError> {
    let row = store::get(&state.db, &id).await?.filter(|t| !t.deleted).ok_or(ApiError::NotFound)?;
    Ok(Json(row.view()))
}

/// A ticket the caller may change: it exists, is theirs, and is not reserved (else `reserved`, the
/// refusal for what the caller tried).
async fn editable(state: &AppState, id: &str, user_id: &str, reserved: Reserved) -> Result<TicketRow, ApiError> {
    let row = store::get(&state.db, id).await?.filter(|t| !t.deleted).ok_or(ApiError::NotFound)?;
    if row.user_id != user_id {
        return Err(ApiError::Unauthorized);
    }
    if row.order_id.is_some() {
        let (code, message) = reserved;
        return Err(ApiError::bad_request(code, message));
    }
    Ok(row)
}

/// What a change of a reserved ticket is refused with.
type Reserved = (ErrorCode, &'static str);
const EDIT_RESERVED: Reserved = (ErrorCode::EditReservedTicket, "Cannot edit a reserved ticket");
const DELETE_RESERVED: Reserved = (ErrorCode::DeleteReservedTicket, "Cannot delete a reserved ticket");

/// A guarded write lost a race: decide again on what is there now, a few times at most.
const ATTEMPTS: usize = 5;

async fn update(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TicketBody>,
) -> Result<Json<Ticket>, ApiError> {
    parse_fields!(
        title = "title": Title::parse(body.title),
        price = "price": Price::parse(body.price.as_ref()),
    );
    for _ in 0..ATTEMPTS {
        let row = editable(&state, &id, &user.id, EDIT_RESERVED).await?;
        let updated = TicketUpdated {
            id: id.clone(),
            version: row.version as u64 + 1,
            title: title.as_str().to_string(),
            price: price.cents(),
            user_id: row.user_id.clone(),
            order_id: None,
        };
        if store::update(&state.db, &id, row.version, title.as_str(), price.cents(), OutboxRecord::new(&updated)?).await?
            == Guarded::Written
        {
            committed(&state);
            let row = TicketRow { title: updated.title, price: price.cents().0, version: updated.version as i64, ..row };
            return Ok(Json(row.view()));
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("ticket {id} kept changing during an update")))
}

async fn remove(State(state): State<AppState>, RequireUser(user): RequireUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    for _ in 0..ATTEMPTS {
        let row = editable(&state, &id, &user.id, DELETE_RESERVED).await?;
        let deleted = TicketDeleted { id: id.clone(), version: row.version as u64 + 1 };
        if store::delete(&state.db, &id, row.version, OutboxRecord::new(&deleted)?).await? == Guarded::Written {
            committed(&state);
            tracing::info!(ticket.id = %id, "ticket deleted");
            return Ok(StatusCode::NO_CONTENT);
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("ticket {id} kept changing during a delete")))
}
