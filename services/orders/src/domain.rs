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
