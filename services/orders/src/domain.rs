use std::fmt;

use contract::TicketId;
use shared::error::{Coded, ErrorCode};

/// A `ticketId` missing or blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketIdMissing;

impl fmt::Display for TicketIdMissing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketId must be provided")
    }
}

impl Coded for TicketIdMissing {
    fn code(&self) -> ErrorCode {
        ErrorCode::TicketIdRequired
    }
}

/// The ticket an order is for: any non-empty id, trimmed (an unknown one is the route's 404).
pub fn ticket_to_order(raw: Option<TicketId>) -> Result<TicketId, TicketIdMissing> {
    TicketId::given(raw).ok_or(TicketIdMissing)
}
