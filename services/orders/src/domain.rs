use std::fmt;

use shared::error::{Coded, ErrorCode};

/// The ticket an order is for: any non-empty id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketId(String);

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

impl TicketId {
    pub fn parse(raw: Option<String>) -> Result<Self, TicketIdMissing> {
        match raw.map(|id| id.trim().to_string()) {
            Some(id) if !id.is_empty() => Ok(Self(id)),
            _ => Err(TicketIdMissing),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
