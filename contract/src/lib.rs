//! The HTTP API's JSON, written once: the services serialize these types and the web client
//! deserializes them, so a change to the contract is a compile error on both sides of the wire
//! instead of a page that silently shows nothing.
//!
//! Why a crate of its own: the web client's browser bundle builds it for wasm, so it may depend
//! on serde and nothing else (no axum, no SurrealDB, no `time`). What a service only *does* with
//! these values (parsing input, storing, publishing) stays in the service; the event payloads
//! that only services read stay in `shared::events`, which borrows [`OrderStatus`] and
//! [`Cents`] from here because they are the same values on both wires.
mod money;

pub use money::Cents;
use serde::{Deserialize, Serialize};

/// The cookie that carries the session token (a JWT signed by auth).
pub const SESSION_COOKIE: &str = "session";

/// A ticket as `GET /api/tickets` and `GET /api/tickets/:id` show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: String,
    pub title: String,
    pub price: Cents,
    pub user_id: String,
    pub version: u64,
    /// The order holding the ticket, while one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
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
    pub id: String,
    pub user_id: String,
    pub status: OrderStatus,
    /// The buyer's deadline, RFC 3339 in UTC, to the millisecond: a card must be submitted
    /// before it; an unpaid order with none at Stripe is cancelled at it.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub expires_at: String,
    pub version: u64,
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
    pub id: String,
    pub title: String,
    /// The price the buyer is charged.
    pub price: Cents,
    pub version: u64,
}

/// What `POST /api/payments` answers: a payment, or an attempt waiting for the customer's
/// authentication (`status` and `clientSecret`, for Stripe.js's `handleNextAction`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PaymentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl Payment {
    pub fn paid(id: String) -> Self {
        Self { id, status: None, client_secret: None }
    }

    pub fn needs_action(id: String, client_secret: Option<String>) -> Self {
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
    pub id: String,
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
    pub id: String,
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

/// The kind of an error, stable across releases and translations: one per thing a client can
/// hit. Each is listed with its status in `docs/errors.md`; a unit test keeps the two in step.
///
/// Serde and `Debug` go through [`ErrorCode::as_str`] by hand: the derives would put every name
/// into the browser bundle three more times (about 2.7 KB gzip of a 300 KB budget).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum ErrorCode {
    // Any route.
    NotAuthorized,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    TooManyRequests,
    ServerBusy,
    Internal,
    DatabaseUnavailable,
    /// The web server could not reach a service (for `/api/openapi.json`, which it merges from them).
    ServiceUnavailable,
    // The request body.
    WrongContentType,
    BodyUnreadable,
    InvalidJson,
    InvalidBody,
    WrongType,
    // Sign-up and sign-in.
    EmailRequired,
    EmailInvalid,
    EmailInUse,
    PasswordLength,
    PasswordRequired,
    InvalidCredentials,
    // Tickets.
    TitleRequired,
    TitleTooLong,
    TitleControlCharacters,
    TitleInvisibleCharacters,
    PriceRequired,
    PriceNotPositive,
    PriceNotNumber,
    PriceMalformed,
    PriceTooSmall,
    PriceTooLarge,
    LimitInvalid,
    BeforeUnknown,
    EditReservedTicket,
    DeleteReservedTicket,
    // Orders.
    TicketIdRequired,
    BuyOwnTicket,
    TicketReserved,
    TooManyHolds,
    CancelCompletedOrder,
    // Payments.
    OrderIdRequired,
    TokenRequired,
    TokenInvalid,
    TokenUnknown,
    OrderCancelled,
    OrderPaid,
    PaymentInProgress,
    CardDeclined,
    CardNeedsAuthentication,
    PaymentProviderUnavailable,
    PaymentProviderFailed,
    PaymentProviderNoAnswer,
    PaymentProcessing,
    WebhookSignatureMissing,
    WebhookNotUtf8,
    WebhookMalformed,
    WebhookSignatureStale,
    WebhookSignatureInvalid,
    /// A code this build does not know (a newer server's), or none (an older one's): read by
    /// its status and message. Never sent.
    #[default]
    Unknown,
}

impl ErrorCode {
    /// Every code, in declaration order (a test holds it to the enum).
    pub const ALL: [Self; 58] = [
        Self::NotAuthorized,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::PayloadTooLarge,
        Self::TooManyRequests,
        Self::ServerBusy,
        Self::Internal,
        Self::DatabaseUnavailable,
        Self::ServiceUnavailable,
        Self::WrongContentType,
        Self::BodyUnreadable,
        Self::InvalidJson,
        Self::InvalidBody,
        Self::WrongType,
        Self::EmailRequired,
        Self::EmailInvalid,
        Self::EmailInUse,
        Self::PasswordLength,
        Self::PasswordRequired,
        Self::InvalidCredentials,
        Self::TitleRequired,
        Self::TitleTooLong,
        Self::TitleControlCharacters,
        Self::TitleInvisibleCharacters,
        Self::PriceRequired,
        Self::PriceNotPositive,
        Self::PriceNotNumber,
        Self::PriceMalformed,
        Self::PriceTooSmall,
        Self::PriceTooLarge,
        Self::LimitInvalid,
        Self::BeforeUnknown,
        Self::EditReservedTicket,
        Self::DeleteReservedTicket,
        Self::TicketIdRequired,
        Self::BuyOwnTicket,
        Self::TicketReserved,
        Self::TooManyHolds,
        Self::CancelCompletedOrder,
        Self::OrderIdRequired,
        Self::TokenRequired,
        Self::TokenInvalid,
        Self::TokenUnknown,
        Self::OrderCancelled,
        Self::OrderPaid,
        Self::PaymentInProgress,
        Self::CardDeclined,
        Self::CardNeedsAuthentication,
        Self::PaymentProviderUnavailable,
        Self::PaymentProviderFailed,
        Self::PaymentProviderNoAnswer,
        Self::PaymentProcessing,
        Self::WebhookSignatureMissing,
        Self::WebhookNotUtf8,
        Self::WebhookMalformed,
        Self::WebhookSignatureStale,
        Self::WebhookSignatureInvalid,
        Self::Unknown,
    ];

    /// The code for a wire name: `Unknown` for a name this build does not know.
    pub fn from_name(name: &str) -> Self {
        Self::ALL.into_iter().find(|code| code.as_str() == name).unwrap_or(Self::Unknown)
    }

    /// The wire name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAuthorized => "not_authorized",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::TooManyRequests => "too_many_requests",
            Self::ServerBusy => "server_busy",
            Self::Internal => "internal",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::ServiceUnavailable => "service_unavailable",
            Self::WrongContentType => "wrong_content_type",
            Self::BodyUnreadable => "body_unreadable",
            Self::InvalidJson => "invalid_json",
            Self::InvalidBody => "invalid_body",
            Self::WrongType => "wrong_type",
            Self::EmailRequired => "email_required",
            Self::EmailInvalid => "email_invalid",
            Self::EmailInUse => "email_in_use",
            Self::PasswordLength => "password_length",
            Self::PasswordRequired => "password_required",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TitleRequired => "title_required",
            Self::TitleTooLong => "title_too_long",
            Self::TitleControlCharacters => "title_control_characters",
            Self::TitleInvisibleCharacters => "title_invisible_characters",
            Self::PriceRequired => "price_required",
            Self::PriceNotPositive => "price_not_positive",
            Self::PriceNotNumber => "price_not_number",
            Self::PriceMalformed => "price_malformed",
            Self::PriceTooSmall => "price_too_small",
            Self::PriceTooLarge => "price_too_large",
            Self::LimitInvalid => "limit_invalid",
            Self::BeforeUnknown => "before_unknown",
            Self::EditReservedTicket => "edit_reserved_ticket",
            Self::DeleteReservedTicket => "delete_reserved_ticket",
            Self::TicketIdRequired => "ticket_id_required",
            Self::BuyOwnTicket => "buy_own_ticket",
            Self::TicketReserved => "ticket_reserved",
            Self::TooManyHolds => "too_many_holds",
            Self::CancelCompletedOrder => "cancel_completed_order",
            Self::OrderIdRequired => "order_id_required",
            Self::TokenRequired => "token_required",
            Self::TokenInvalid => "token_invalid",
            Self::TokenUnknown => "token_unknown",
            Self::OrderCancelled => "order_cancelled",
            Self::OrderPaid => "order_paid",
            Self::PaymentInProgress => "payment_in_progress",
            Self::CardDeclined => "card_declined",
            Self::CardNeedsAuthentication => "card_needs_authentication",
            Self::PaymentProviderUnavailable => "payment_provider_unavailable",
            Self::PaymentProviderFailed => "payment_provider_failed",
            Self::PaymentProviderNoAnswer => "payment_provider_no_answer",
            Self::PaymentProcessing => "payment_processing",
            Self::WebhookSignatureMissing => "webhook_signature_missing",
            Self::WebhookNotUtf8 => "webhook_not_utf8",
            Self::WebhookMalformed => "webhook_malformed",
            Self::WebhookSignatureStale => "webhook_signature_stale",
            Self::WebhookSignatureInvalid => "webhook_signature_invalid",
            Self::Unknown => "unknown",
        }
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
        let names = Self::ALL.into_iter().filter(|code| *code != Self::Unknown).map(Self::as_str);
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
            version: 0,
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

    /// Every code, in declaration order. `after` matches without a wildcard, so a new variant
    /// does not compile until it is chained in there, and then the tests below hold it to the docs.
    fn every_code() -> Vec<ErrorCode> {
        let mut codes = vec![ErrorCode::NotAuthorized];
        while let Some(next) = codes.last().copied().and_then(after) {
            codes.push(next);
        }
        codes
    }

    fn after(code: ErrorCode) -> Option<ErrorCode> {
        use ErrorCode::*;
        match code {
            NotAuthorized => Some(NotFound),
            NotFound => Some(MethodNotAllowed),
            MethodNotAllowed => Some(PayloadTooLarge),
            PayloadTooLarge => Some(TooManyRequests),
            TooManyRequests => Some(ServerBusy),
            ServerBusy => Some(Internal),
            Internal => Some(DatabaseUnavailable),
            DatabaseUnavailable => Some(ServiceUnavailable),
            ServiceUnavailable => Some(WrongContentType),
            WrongContentType => Some(BodyUnreadable),
            BodyUnreadable => Some(InvalidJson),
            InvalidJson => Some(InvalidBody),
            InvalidBody => Some(WrongType),
            WrongType => Some(EmailRequired),
            EmailRequired => Some(EmailInvalid),
            EmailInvalid => Some(EmailInUse),
            EmailInUse => Some(PasswordLength),
            PasswordLength => Some(PasswordRequired),
            PasswordRequired => Some(InvalidCredentials),
            InvalidCredentials => Some(TitleRequired),
            TitleRequired => Some(TitleTooLong),
            TitleTooLong => Some(TitleControlCharacters),
            TitleControlCharacters => Some(TitleInvisibleCharacters),
            TitleInvisibleCharacters => Some(PriceRequired),
            PriceRequired => Some(PriceNotPositive),
            PriceNotPositive => Some(PriceNotNumber),
            PriceNotNumber => Some(PriceMalformed),
            PriceMalformed => Some(PriceTooSmall),
            PriceTooSmall => Some(PriceTooLarge),
            PriceTooLarge => Some(LimitInvalid),
            LimitInvalid => Some(BeforeUnknown),
            BeforeUnknown => Some(EditReservedTicket),
            EditReservedTicket => Some(DeleteReservedTicket),
            DeleteReservedTicket => Some(TicketIdRequired),
            TicketIdRequired => Some(BuyOwnTicket),
            BuyOwnTicket => Some(TicketReserved),
            TicketReserved => Some(TooManyHolds),
            TooManyHolds => Some(CancelCompletedOrder),
            CancelCompletedOrder => Some(OrderIdRequired),
            OrderIdRequired => Some(TokenRequired),
            TokenRequired => Some(TokenInvalid),
            TokenInvalid => Some(TokenUnknown),
            TokenUnknown => Some(OrderCancelled),
            OrderCancelled => Some(OrderPaid),
            OrderPaid => Some(PaymentInProgress),
            PaymentInProgress => Some(CardDeclined),
            CardDeclined => Some(CardNeedsAuthentication),
            CardNeedsAuthentication => Some(PaymentProviderUnavailable),
            PaymentProviderUnavailable => Some(PaymentProviderFailed),
            PaymentProviderFailed => Some(PaymentProviderNoAnswer),
            PaymentProviderNoAnswer => Some(PaymentProcessing),
            PaymentProcessing => Some(WebhookSignatureMissing),
            WebhookSignatureMissing => Some(WebhookNotUtf8),
            WebhookNotUtf8 => Some(WebhookMalformed),
            WebhookMalformed => Some(WebhookSignatureStale),
            WebhookSignatureStale => Some(WebhookSignatureInvalid),
            WebhookSignatureInvalid => Some(Unknown),
            Unknown => None,
        }
    }

    #[test]
    fn each_code_travels_as_its_name_and_back() {
        let codes = every_code();
        assert_eq!(ErrorCode::ALL.to_vec(), codes, "ErrorCode::ALL misses a code or has them out of order");
        for code in &codes {
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
        let mut codes: Vec<&str> = every_code().into_iter().map(ErrorCode::as_str).collect();
        codes.sort_unstable();
        assert_eq!(documented, codes, "docs/errors.md and ErrorCode differ");
    }
}
