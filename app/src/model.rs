//! What the pages show, as the services' APIs return it.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: String,
    pub title: String,
    /// Dollars, as the API has them.
    pub price: f64,
    pub user_id: String,
    pub version: u64,
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub sold: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTicket {
    pub id: String,
    pub title: String,
    pub price: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub expires_at: String,
    pub ticket: OrderTicket,
}

impl Order {
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "created" | "awaiting:payment")
    }
}

/// `$12.50`. In whole cents, so the browser bundle needs no float formatting code.
pub fn dollars(price: f64) -> String {
    let cents = (price * 100.0).round() as i64;
    format!("${}.{:02}", cents / 100, cents % 100)
}
