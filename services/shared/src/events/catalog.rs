//! Every event of the events contract (docs/events.md), as the JSON (camelCase) that travels on NATS.
use serde::{Deserialize, Serialize};

use super::Event;
/// The same status the HTTP API shows.
pub use contract::OrderStatus;
use contract::{Cents, OrderId, PaymentId, TicketId, UserId, Version};

macro_rules! event {
    ($type:ident, $subject:literal) => {
        impl Event for $type {
            const SUBJECT: &'static str = $subject;
        }
    };
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketCreated {
    pub id: TicketId,
    pub version: Version,
    pub title: String,
    pub price: Cents,
    pub user_id: UserId,
}
event!(TicketCreated, "ticket.created");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketUpdated {
    pub id: TicketId,
    pub version: Version,
    pub title: String,
    pub price: Cents,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
}
event!(TicketUpdated, "ticket.updated");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketDeleted {
    pub id: TicketId,
    pub version: Version,
}
event!(TicketDeleted, "ticket.deleted");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTicket {
    pub id: TicketId,
    /// The price the buyer saw, and is charged.
    pub price: Cents,
    /// The ticket's version the order was made against (absent in events from before it was
    /// sent: 0).
    #[serde(default)]
    pub version: Version,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub id: OrderId,
    pub version: Version,
    pub status: OrderStatus,
    pub user_id: UserId,
    /// RFC 3339, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
    pub ticket: OrderTicket,
}
event!(OrderCreated, "order.created");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRef {
    pub id: TicketId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub id: OrderId,
    pub version: Version,
    pub ticket: TicketRef,
}
event!(OrderCancelled, "order.cancelled");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCompleted {
    pub id: OrderId,
    pub version: Version,
    pub ticket: TicketRef,
}
event!(OrderCompleted, "order.completed");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpirationComplete {
    pub order_id: OrderId,
}
event!(ExpirationComplete, "expiration.complete");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCreated {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub stripe_id: String,
}
event!(PaymentCreated, "payment.created");

/// An order's time to pay ran out with no payment in flight and none made: orders cancels it.
/// Payments publishes it, once per order, when `expiration.complete` has come and every attempt
/// begun before `expiresAt` has ended without a charge (docs/events.md, "The payment deadline").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentExpired {
    pub order_id: OrderId,
}
event!(PaymentExpired, "payment.expired");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_match_the_event_contract() {
        let event = OrderCreated {
            id: "o1".into(),
            version: 0.into(),
            status: OrderStatus::Created,
            user_id: "u1".into(),
            expires_at: time::macros::datetime!(2026-01-02 03:04:05 UTC),
            ticket: OrderTicket { id: "t1".into(), price: Cents(1250), version: 3.into() },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({
                "id": "o1", "version": 0, "status": "created", "userId": "u1",
                "expiresAt": "2026-01-02T03:04:05Z", "ticket": { "id": "t1", "price": 12.5, "version": 3 }
            })
        );
        let updated =
            TicketUpdated { id: "t".into(), version: 1.into(), title: "x".into(), price: Cents(100), user_id: "u".into(), order_id: None };
        assert!(serde_json::to_value(&updated).unwrap().get("orderId").is_none());
        assert_eq!(serde_json::to_value(OrderStatus::AwaitingPayment).unwrap(), "awaiting:payment");
    }
}
