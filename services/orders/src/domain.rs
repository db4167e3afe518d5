use serde::Serialize;
use shared::events::OrderStatus;
use shared::money::Cents;

/// The ticket an order is for: any non-empty id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketId(String);

impl TicketId {
    pub fn parse(raw: Option<String>) -> Result<Self, &'static str> {
        match raw.map(|id| id.trim().to_string()) {
            Some(id) if !id.is_empty() => Ok(Self(id)),
            _ => Err("TicketId must be provided"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The ticket inside an order, as the orders service currently knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderTicketView {
    pub id: String,
    pub title: String,
    pub price: Cents,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub id: String,
    pub user_id: String,
    pub status: OrderStatus,
    pub expires_at: String,
    pub version: u64,
    pub ticket: OrderTicketView,
    /// Why the system cancelled the order, when it did (absent for a buyer's cancellation or an
    /// expiry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<CancelReason>,
}

/// Why the system cancelled an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The seller deleted the ticket while this order was being placed; a payment is refunded.
    TicketWithdrawn,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TicketWithdrawn => "ticket_withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        (raw == Self::TicketWithdrawn.as_str()).then_some(Self::TicketWithdrawn)
    }
}

/// RFC 3339 in UTC with millisecond precision, as orders store and show it.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at.replace_nanosecond(at.millisecond() as u32 * 1_000_000).unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
