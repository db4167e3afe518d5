//! The HTTP API's JSON, written once: the services serialize these types and the web client
//! deserializes them, and the request bodies ([`TicketBody`] and the others) go the other way, so a change to the
//! contract is a compile error on both sides of the wire instead of a page that silently shows
//! nothing.
//!
//! Why a crate of its own: the web client's browser bundle builds it for wasm, so it may depend
//! on serde and nothing else (no axum, no SurrealDB, no `time`). What a service only *does* with
//! these values (parsing input, storing, publishing) stays in the service; the event payloads
//! that only services read stay in `shared::events`, which borrows [`OrderStatus`] and
//! [`Cents`] from here because they are the same values on both wires.
mod ids;
mod money;
mod requests;

pub use ids::{OrderId, PaymentId, TicketId, UserId, Version, VersionOutOfRange};
pub use money::Cents;
pub use requests::{Credentials, OrderBody, PaymentBody, PriceInput, SignOutBody, TicketBody};
use serde::{Deserialize, Serialize};

/// The cookie that carries the session token (a JWT signed by auth).
pub const SESSION_COOKIE: &str = "session";

/// A ticket as `GET /api/tickets` and `GET /api/tickets/:id` show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: TicketId,
    pub title: String,
    pub price: Cents,
    pub user_id: UserId,
    pub version: Version,
    /// The order holding the ticket, while one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// Until when the holding order may be paid (its `expiresAt`, RFC 3339 UTC), while an unpaid
    /// order holds the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub reserved_until: Option<String>,
    /// Present (and true) once the order holding it was paid: it will not come back on sale.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sold: bool,
    /// When the ticket was sold (RFC 3339 UTC), once it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub sold_at: Option<String>,
}

/// `created`, `cancelled`, `awaiting:payment` or `complete`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    #[serde(rename = "created")]
    Created,
    #[serde(rename = "cancelled")]
    Cancelled,
    #[serde(rename = "awaiting:payment")]
    AwaitingPayment,
    #[serde(rename = "complete")]
    Complete,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Cancelled => "cancelled",
            Self::AwaitingPayment => "awaiting:payment",
            Self::Complete => "complete",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Created, Self::Cancelled, Self::AwaitingPayment, Self::Complete].into_iter().find(|s| s.as_str() == raw)
    }

    /// Still holding its ticket and waiting to be paid.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Created | Self::AwaitingPayment)
    }
}

/// Why an order was cancelled: the API's status stays `cancelled`, and this tells a buyer who
/// let it lapse from one who cancelled it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The buyer cancelled it (`DELETE /api/orders/:id`).
    Buyer,
    /// It was not paid by `expiresAt`, and no card submitted before it was charged.
    Expired,
    /// The seller deleted the ticket while this order was being placed; a payment is refunded.
    TicketWithdrawn,
    /// The seller changed the ticket's price or title while this order was being placed: the
    /// order would have bought something other than what its buyer saw. A payment is refunded.
    TicketChanged,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buyer => "buyer",
            Self::Expired => "expired",
            Self::TicketWithdrawn => "ticket_withdrawn",
            Self::TicketChanged => "ticket_changed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Buyer, Self::Expired, Self::TicketWithdrawn, Self::TicketChanged].into_iter().find(|reason| reason.as_str() == raw)
    }
}

/// An order as `/api/orders` shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    /// The buyer's deadline, RFC 3339 in UTC, to the millisecond: a card must be submitted
    /// before it; an unpaid order with none at Stripe is cancelled at it.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub expires_at: String,
    pub version: Version,
    pub ticket: OrderTicket,
    /// Why the order was cancelled, once it is (absent on orders cancelled before reasons were
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<CancelReason>,
}

/// The ticket inside an order, as the orders service knows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTicket {
    pub id: TicketId,
    pub title: String,
    /// The price the buyer is charged.
    pub price: Cents,
    pub version: Version,
}

/// What `POST /api/payments` answers: a payment, or an attempt waiting for the customer's
/// authentication (`status` and `clientSecret`, for Stripe.js's `handleNextAction`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: PaymentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PaymentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl Payment {
    pub fn paid(id: PaymentId) -> Self {
        Self { id, status: None, client_secret: None }
    }

    pub fn needs_action(id: PaymentId, client_secret: Option<String>) -> Self {
        Self { id, status: Some(PaymentStatus::RequiresAction), client_secret }
    }
}

/// A payment that is not settled yet.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// The card needs the customer's authentication (3-D Secure) before it is charged.
    RequiresAction,
}

/// A user as sign-up and sign-in answer it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
}

/// `GET /api/users/currentuser`: the session's user, or `null` when there is none.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUser {
    /// Always present: `null` without a valid session.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub current_user: Option<SessionUser>,
}

/// The user a valid session names, and when it was issued (Unix seconds).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: UserId,
    pub email: String,
    pub iat: i64,
}

/// The body of every error answer: `{"errors": [...]}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub errors: Vec<ErrorItem>,
}

/// One entry of [`ErrorBody`]; `field` is present only for a bad input field. Clients translate
/// by `code`; `message` stays English.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorItem {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Defaults so that a body from before codes still reads. Every service sends it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub code: ErrorCode,
}

impl ErrorItem {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { message: message.into(), field: None, code }
    }

    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { message: message.into(), field: Some(field.into()), code }
    }
}

/// Declares [`ErrorCode`] from one list of variants and their wire names: the enum,
/// [`ErrorCode::ALL`] and [`ErrorCode::as_str`] cannot disagree, so a new code is a line here, a row
/// in `docs/errors.md` (a test holds the two together) and its Japanese text (a match on the
/// enum, which the compiler holds to it).
macro_rules! error_codes {
    ($($(#[$meta:meta])* $variant:ident = $name:literal,)*) => {
        /// The kind of an error, stable across releases and translations: one per thing a client can
        /// hit. Each is listed with its status in `docs/errors.md`; a unit test keeps the two in step.
        ///
        /// Serde and `Debug` go through [`ErrorCode::as_str`] by hand: the derives would put every name
        /// into the browser bundle three more times, which is at its budget (docs/budgets.md).
        #[derive(Clone, Copy, Default, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[$meta])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The wire name, as serde writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    // Any route.
    NotAuthorized = "not_authorized",
    NotFound = "not_found",
    MethodNotAllowed = "method_not_allowed",
    PayloadTooLarge = "payload_too_large",
    TooManyRequests = "too_many_requests",
    ServerBusy = "server_busy",
    Internal = "internal",
    DatabaseUnavailable = "database_unavailable",
    /// The web server could not reach a service (for `/api/openapi.json`, which it merges from them).
    ServiceUnavailable = "service_unavailable",
    // The request body.
    WrongContentType = "wrong_content_type",
    BodyUnreadable = "body_unreadable",
    InvalidJson = "invalid_json",
    InvalidBody = "invalid_body",
    WrongType = "wrong_type",
    // Sign-up and sign-in.
    EmailRequired = "email_required",
    EmailInvalid = "email_invalid",
    EmailInUse = "email_in_use",
    PasswordLength = "password_length",
    PasswordRequired = "password_required",
    InvalidCredentials = "invalid_credentials",
    // Tickets.
    TitleRequired = "title_required",
    TitleTooLong = "title_too_long",
    TitleControlCharacters = "title_control_characters",
    TitleInvisibleCharacters = "title_invisible_characters",
    PriceRequired = "price_required",
    PriceNotPositive = "price_not_positive",
    PriceNotNumber = "price_not_number",
    PriceMalformed = "price_malformed",
    PriceTooSmall = "price_too_small",
    PriceTooLarge = "price_too_large",
    LimitInvalid = "limit_invalid",
    BeforeUnknown = "before_unknown",
    EditReservedTicket = "edit_reserved_ticket",
    DeleteReservedTicket = "delete_reserved_ticket",
    // Orders.
    TicketIdRequired = "ticket_id_required",
    BuyOwnTicket = "buy_own_ticket",
    TicketReserved = "ticket_reserved",
    TooManyHolds = "too_many_holds",
    CancelCompletedOrder = "cancel_completed_order",
    // Payments.
    OrderIdRequired = "order_id_required",
    TokenRequired = "token_required",
    TokenInvalid = "token_invalid",
    TokenUnknown = "token_unknown",
    OrderCancelled = "order_cancelled",
    OrderPaid = "order_paid",
    PaymentInProgress = "payment_in_progress",
    CardDeclined = "card_declined",
    CardNeedsAuthentication = "card_needs_authentication",
    PaymentProviderUnavailable = "payment_provider_unavailable",
    PaymentProviderFailed = "payment_provider_failed",
    PaymentProviderNoAnswer = "payment_provider_no_answer",
    PaymentProcessing = "payment_processing",
    WebhookSignatureMissing = "webhook_signature_missing",
    WebhookNotUtf8 = "webhook_not_utf8",
    WebhookMalformed = "webhook_malformed",
    WebhookSignatureStale = "webhook_signature_stale",
    WebhookSignatureInvalid = "webhook_signature_invalid",
    /// A code this build does not know (a newer server's), or none (an older one's): read by
    /// its status and message. Never sent.
    #[default]
    Unknown = "unknown",
}

impl ErrorCode {
    /// The code for a wire name: `Unknown` for a name this build does not know.
    pub fn from_name(name: &str) -> Self {
        Self::ALL.iter().copied().find(|code| code.as_str() == name).unwrap_or(Self::Unknown)
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from_name(&String::deserialize(deserializer)?))
    }
}

impl std::fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// By hand, as serde is: a string, one of the names the services send. `unknown` is left out
/// because no service sends it (it is what a client reads a code it does not know as).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let names = Self::ALL.iter().copied().filter(|code| *code != Self::Unknown).map(Self::as_str);
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(names))
            .description(Some("The kind of error, stable across releases: clients translate by it (docs/errors.md lists them)."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ErrorCode {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_ticket_on_sale_leaves_out_its_order_and_sold() {
        let ticket = Ticket {
            id: "t1".into(),
            title: "Concert".into(),
            price: Cents(1250),
            user_id: "u1".into(),
            version: Version::FIRST,
            order_id: None,
            reserved_until: None,
            sold: false,
            sold_at: None,
        };
        let wire = serde_json::to_value(&ticket).unwrap();
        assert_eq!(wire, json!({ "id": "t1", "title": "Concert", "price": 12.5, "userId": "u1", "version": 0 }));
        assert_eq!(serde_json::from_value::<Ticket>(wire).unwrap(), ticket);
    }

    #[test]
    fn order_statuses_travel_as_the_original_app_spelled_them() {
        for status in [OrderStatus::Created, OrderStatus::Cancelled, OrderStatus::AwaitingPayment, OrderStatus::Complete] {
            assert_eq!(serde_json::to_value(status).unwrap(), json!(status.as_str()));
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert!(serde_json::from_value::<OrderStatus>(json!("expired")).is_err());
    }

    #[test]
    fn a_payment_waiting_for_authentication_says_so() {
        let wire = serde_json::to_value(Payment::needs_action("p1".into(), Some("pi_secret".into()))).unwrap();
        assert_eq!(wire, json!({ "id": "p1", "status": "requires_action", "clientSecret": "pi_secret" }));
        assert_eq!(serde_json::to_value(Payment::paid("p1".into())).unwrap(), json!({ "id": "p1" }));
    }

    #[test]
    fn errors_name_a_field_only_when_there_is_one() {
        let body = ErrorBody {
            errors: vec![
                ErrorItem::new(ErrorCode::NotAuthorized, "Not authorized"),
                ErrorItem::field(ErrorCode::EmailInUse, "email", "Email in use"),
            ],
        };
        let wire = serde_json::to_value(&body).unwrap();
        assert_eq!(
            wire,
            json!({ "errors": [
                { "message": "Not authorized", "code": "not_authorized" },
                { "message": "Email in use", "field": "email", "code": "email_in_use" },
            ] })
        );
        assert_eq!(serde_json::from_value::<ErrorBody>(wire).unwrap(), body);
    }

    #[test]
    fn a_code_this_build_does_not_know_still_reads() {
        let newer = json!({ "errors": [{ "message": "Seat taken", "field": "seat", "code": "seat_taken" }] });
        let body = serde_json::from_value::<ErrorBody>(newer).unwrap();
        assert_eq!(body.errors, vec![ErrorItem::field(ErrorCode::Unknown, "seat", "Seat taken")]);
        let older = json!({ "errors": [{ "message": "Not authorized" }] });
        assert_eq!(serde_json::from_value::<ErrorBody>(older).unwrap().errors[0].code, ErrorCode::Unknown);
    }

    #[test]
    fn each_code_travels_as_its_name_and_back() {
        let codes = ErrorCode::ALL;
        for code in codes {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(json!(code.as_str())).unwrap(), *code);
        }
        let mut names: Vec<_> = codes.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), codes.len(), "two codes share a name");
    }

    /// `docs/errors.md` is where clients look the codes up: its table lists each code once, and
    /// nothing else.
    #[test]
    fn the_docs_list_every_code() {
        let docs = include_str!("../../docs/errors.md");
        let mut documented: Vec<&str> = docs
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split_once('`').map(|(code, _)| code))
            .collect();
        documented.sort_unstable();
        let mut codes: Vec<&str> = ErrorCode::ALL.iter().copied().map(ErrorCode::as_str).collect();
        codes.sort_unstable();
        assert_eq!(documented, codes, "docs/errors.md and ErrorCode differ");
    }
}
