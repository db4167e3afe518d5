//! `/api/tickets` and the caller's own, `/api/tickets/mine`. Checks run in the order auth,
//! validation, 404, owner (401), reserved (400). Each handler carries its OpenAPI description
//! ([`openapi`]).
use shared::openapi::Common;
use std::collections::HashMap;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use contract::{ErrorBody, Ticket, TicketBody, TicketId, UserId, Version};
use shared::events::outbox::OutboxRecord;
use shared::events::{Backbone, TicketCreated, TicketDeleted, TicketUpdated};
use shared::extract::ApiJson;
use shared::session::{RequireUser, Sessions};
use shared::store::Db;
use shared::{parse_fields, ApiError, ErrorCode};

use crate::domain::{ListQueryError, Price, Title};
use crate::listing::Listing;
use crate::store::{self, Guarded, TicketRow};

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
    pub listing: Listing,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/tickets", get(list).post(create))
        // A static segment: axum matches it before `{id}` (ticket ids are UUIDs, never `mine`).
        .route("/api/tickets/mine", get(mine))
        .route("/api/tickets/{id}", get(show).put(update).delete(remove))
        .with_state(state)
}

/// The routes of [`router`] as OpenAPI 3.1: served at `/openapi.json` on the service's own port,
/// merged by the web server into `/api/openapi.json`. A route added above is described here too.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <Description as utoipa::OpenApi>::openapi()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "tickets", description = "Tickets for sale: `/api/tickets`."),
    paths(list, create, mine, show, update, remove),
    modifiers(&Common),
    tags((name = "tickets", description = "Tickets for sale, and a seller's own (the tickets service)."))
)]
struct Description;

/// A write and its event are committed: the lists kept are stale (before the response, so the
/// writer's next list shows its write; the commit woke the relay itself).
fn committed(state: &AppState) {
    state.listing.invalidate();
}

/// A ticket put on sale by the signed-in seller, at `version` 0.
#[utoipa::path(
    post,
    path = "/api/tickets",
    operation_id = "createTicket",
    tag = "tickets",
    security(("session" = []), ("bearer" = [])),
    request_body(content = TicketBody, content_type = "application/json"),
    responses(
        (status = 201, description = "On sale.", body = Ticket,
            links(
                ("showTicket" = (operation_id = "showTicket", parameters(("id" = "$response.body#/id")), description = "The ticket just listed.")),
                ("updateTicket" = (operation_id = "updateTicket", parameters(("id" = "$response.body#/id")), description = "Its seller changes it.")),
                ("deleteTicket" = (operation_id = "deleteTicket", parameters(("id" = "$response.body#/id")), description = "Its seller withdraws it.")),
            )),
        (status = 400, description = "`title_required`, `title_too_long`, `title_control_characters`, `title_invisible_characters` (field title); `price_not_positive`, `price_not_number`, `price_malformed`, `price_too_small`, `price_too_large` (field price); every bad field at once.", body = ErrorBody),
        (status = 401, description = "No valid session (`not_authorized`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
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
        id: TicketId::from(uuid::Uuid::now_v7().simple().to_string()),
        title: title.as_str().to_string(),
        price: price.cents().0,
        user_id: user.id.clone(),
        version: Version::FIRST,
        order_id: None,
        reserved_until: None,
        sold: false,
        sold_at: None,
        deleted: false,
    };
    let created =
        TicketCreated { id: row.id.clone(), version: Version::FIRST, title: row.title.clone(), price: price.cents(), user_id: user.id };
    store::insert(&state.db, &row, OutboxRecord::new(&created)?).await?;
    committed(&state);
    tracing::info!(ticket.id = %row.id, "ticket created");
    Ok((StatusCode::CREATED, Json(row.view())))
}

/// Served from the answers kept (`listing`) when it can be. Only answers that passed every check
/// are kept, and a `before` that was a ticket's id stays one (deleting a ticket only marks it).
#[utoipa::path(
    get,
    path = "/api/tickets",
    operation_id = "listTickets",
    tag = "tickets",
    summary = "The tickets on sale",
    description = "Tickets neither reserved nor deleted, newest first (by creation), a page at a time: `limit` of them, \
                   listed before the ticket `before` names.",
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "How many tickets, 1 to 200 (default 50)."),
        ("before" = Option<String>, Query, description = "A ticket's id: only tickets listed before it (the next page)."),
    ),
    responses(
        (status = 200, description = "Tickets on sale, newest first.", body = [Ticket]),
        (status = 400, description = "`limit_invalid` (field limit), `before_unknown` (field before).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, Query(query): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    let mut errors = shared::error::FieldErrors::new();
    let limit = errors.check(
        "limit",
        match query.get("limit") {
            None => Ok(50),
            Some(raw) => raw.parse::<usize>().ok().filter(|l| (1..=200).contains(l)).ok_or(ListQueryError::Limit),
        },
    );
    let before = query.get("before").cloned().map(TicketId::from);
    let Some(limit) = limit else {
        // Refused whatever else: report `before`'s problem with it.
        check_before(&state, before.as_ref(), &mut errors).await?;
        return Err(errors.finish().err().unwrap_or_else(|| ApiError::Internal(anyhow::anyhow!("a refused limit without an error"))));
    };
    let (state, before) = (&state, before.as_ref());
    let body = state
        .listing
        .get_or_read(limit, before.map(TicketId::as_str), move || async move {
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
async fn check_before(state: &AppState, before: Option<&TicketId>, errors: &mut shared::error::FieldErrors) -> Result<(), ApiError> {
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
#[utoipa::path(
    get,
    path = "/api/tickets/mine",
    operation_id = "myTickets",
    tag = "tickets",
    summary = "The seller's own tickets",
    description = "The caller's tickets that are not deleted, in every state: on sale, reserved (with `orderId` and \
                   `reservedUntil`) or sold (with `sold` and `soldAt`), newest first.",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The seller's tickets that are not deleted, on sale, reserved or sold, newest first; not paged.", body = [Ticket]),
        (status = 401, description = "No valid session (`not_authorized`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn mine(State(state): State<AppState>, RequireUser(user): RequireUser) -> Result<Json<Vec<Ticket>>, ApiError> {
    let rows = store::list_of_user(&state.db, &user.id).await?;
    Ok(Json(rows.iter().map(TicketRow::view).collect()))
}

/// A ticket, reserved and sold ones too.
#[utoipa::path(
    get,
    path = "/api/tickets/{id}",
    operation_id = "showTicket",
    tag = "tickets",
    params(("id" = String, Path, description = "The ticket's id (any string: an unknown one is a 404).")),
    responses(
        (status = 200, description = "The ticket.", body = Ticket),
        (status = 404, description = "Unknown or deleted (`not_found`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn show(State(state): State<AppState>, Path(id): Path<TicketId>) -> Result<Json<Ticket>, ApiError> {
    let row = store::get(&state.db, &id).await?.filter(|t| !t.deleted).ok_or(ApiError::NotFound)?;
    Ok(Json(row.view()))
}

/// A ticket the caller may change: it exists, is theirs, and is not reserved (else `reserved`, the
/// refusal for what the caller tried).
async fn editable(state: &AppState, id: &TicketId, user_id: &UserId, reserved: Reserved) -> Result<TicketRow, ApiError> {
    let row = store::get(&state.db, id).await?.filter(|t| !t.deleted).ok_or(ApiError::NotFound)?;
    if row.user_id != *user_id {
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

/// A change of title and price by the ticket's seller, at `version` + 1.
#[utoipa::path(
    put,
    path = "/api/tickets/{id}",
    operation_id = "updateTicket",
    tag = "tickets",
    security(("session" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The ticket's id.")),
    request_body(content = TicketBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The ticket as changed.", body = Ticket,
            links(("showTicket" = (operation_id = "showTicket", parameters(("id" = "$response.body#/id")), description = "The ticket as changed.")))),
        (status = 400, description = "The fields' errors as on `POST /api/tickets`, or `edit_reserved_ticket` while an order holds it.", body = ErrorBody),
        (status = 401, description = "No valid session, or not the seller (`not_authorized`).", body = ErrorBody),
        (status = 404, description = "Unknown or deleted (`not_found`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<TicketId>,
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
            version: row.version.next().map_err(anyhow::Error::from)?,
            title: title.as_str().to_string(),
            price: price.cents(),
            user_id: row.user_id.clone(),
            order_id: None,
        };
        if store::update(&state.db, &id, row.version, title.as_str(), price.cents(), OutboxRecord::new(&updated)?).await?
            == Guarded::Written
        {
            committed(&state);
            let row = TicketRow { title: updated.title, price: price.cents().0, version: updated.version, ..row };
            return Ok(Json(row.view()));
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("ticket {id} kept changing during an update")))
}

/// A ticket withdrawn by its seller.
#[utoipa::path(
    delete,
    path = "/api/tickets/{id}",
    operation_id = "deleteTicket",
    tag = "tickets",
    security(("session" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "The ticket's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "`delete_reserved_ticket` while an order holds it.", body = ErrorBody),
        (status = 401, description = "No valid session, or not the seller (`not_authorized`).", body = ErrorBody),
        (status = 404, description = "Unknown or already deleted (`not_found`).", body = ErrorBody),
        (status = 503, description = "The database cannot be reached (`database_unavailable`).", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, RequireUser(user): RequireUser, Path(id): Path<TicketId>) -> Result<StatusCode, ApiError> {
    for _ in 0..ATTEMPTS {
        let row = editable(&state, &id, &user.id, DELETE_RESERVED).await?;
        let deleted = TicketDeleted { id: id.clone(), version: row.version.next().map_err(anyhow::Error::from)? };
        if store::delete(&state.db, &id, row.version, OutboxRecord::new(&deleted)?).await? == Guarded::Written {
            committed(&state);
            tracing::info!(ticket.id = %id, "ticket deleted");
            return Ok(StatusCode::NO_CONTENT);
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("ticket {id} kept changing during a delete")))
}
