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

/// RFC 3339 in UTC with millisecond precision, as orders store and show it.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at.replace_nanosecond(at.millisecond() as u32 * 1_000_000).unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
