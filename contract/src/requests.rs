//! The bodies the API takes, beside the answers it gives: the web client's server functions
//! build them, the services read them, so a renamed field is a compile error on both sides.
//!
//! Why every field is an `Option`: a missing field is a validation error on that field, in the
//! API's error shape, with the others' errors beside it (`shared::parse_fields!`); a serde error
//! would name only the first. What a valid request carries is said in the OpenAPI schema, and
//! the services parse each field into a domain type (`Title`, `Price`, `Email`…), so nothing
//! past the route reads these.
use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, TicketId};

/// An email and a password: `POST /api/users/signup` and `/signin`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// An email address of at most 254 bytes; trimmed and lower-cased before use.
    #[cfg_attr(feature = "openapi", schema(value_type = String, max_length = 254, example = "ann@example.com"))]
    pub email: Option<String>,
    /// Sign-up: 8 to 128 characters. Sign-in: the account's password.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "a long password"))]
    pub password: Option<String>,
}

/// What a sign-out may say: nothing (`{}` or no body), or to end every session of the user.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOutBody {
    /// `true`: end every session of the user (every device), not only this one.
    #[serde(default)]
    pub everywhere: bool,
}

/// A ticket's title and price: `POST /api/tickets` and `PUT /api/tickets/:id`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketBody {
    /// Trimmed, then 1 to 200 characters, without control characters or invisible formatting
    /// characters (such as bidirectional overrides).
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1, example = "Concert"))]
    pub title: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::price, required))]
    pub price: Option<PriceInput>,
}

/// A price as a request gives it. The service parses it (`tickets::domain::Price`): a number or
/// a string of digits, in range, with at most two decimals; anything else is the field's error,
/// not the body's, so it is kept here as `Other`.
#[derive(Debug, Clone, PartialEq)]
pub enum PriceInput {
    Number(f64),
    Text(String),
    /// `true`, an array, an object: refused by the service as "must be a number".
    Other,
}

impl Serialize for PriceInput {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(number) => serializer.serialize_f64(*number),
            Self::Text(text) => serializer.serialize_str(text),
            Self::Other => serializer.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for PriceInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = PriceInput;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a price")
            }
            fn visit_f64<E>(self, v: f64) -> Result<PriceInput, E> {
                Ok(PriceInput::Number(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<PriceInput, E> {
                Ok(PriceInput::Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<PriceInput, E> {
                Ok(PriceInput::Number(v as f64))
            }
            fn visit_str<E>(self, v: &str) -> Result<PriceInput, E> {
                Ok(PriceInput::Text(v.to_string()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<PriceInput, E> {
                Ok(PriceInput::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<PriceInput, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(PriceInput::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<PriceInput, A::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(PriceInput::Other)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The ticket to order: `POST /api/orders`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderBody {
    /// The ticket to reserve.
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1))]
    pub ticket_id: Option<TicketId>,
}

/// The order to pay for, and what to pay with: `POST /api/payments`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentBody {
    /// The order to pay for (the caller's own).
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1))]
    pub order_id: Option<OrderId>,
    /// A Stripe PaymentMethod id (`pm_card_visa`; Stripe.js makes real ones) or a legacy card
    /// token (`tok_visa`): letters, digits and `_`, at most 200.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = r"^(pm|tok)_[A-Za-z0-9_]+$", max_length = 200, example = "pm_card_visa"))]
    pub token: Option<String>,
}

#[cfg(feature = "openapi")]
mod openapi {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    use utoipa::openapi::RefOr;

    /// A price as a request may give it: a number, or a string of digits with at most two
    /// decimals. The pattern is the parser's own (`"12."` reads as 12), so the fuzzer's malformed
    /// strings are the ones the service refuses. A number's decimals and a string's range are said
    /// in words only: validators check `multipleOf` in floating point, and a pattern cannot
    /// compare amounts.
    pub fn price() -> RefOr<Schema> {
        let description =
            "Dollars, from 0.50 to 999,999.99 (Stripe's smallest and largest USD charges), with at most two decimals: a JSON number \
                           or a string of digits (`\"12.50\"`; no sign, exponent or spaces).";
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0.5)).maximum(Some(999_999.99)))
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^[0-9]{1,9}(\.[0-9]{0,2})?$")))
            .description(Some(description))
            .examples([serde_json::json!(12.5)])
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_is_read_as_the_request_gave_it_and_anything_else_is_kept_for_the_fields_error() {
        let read = |json: &str| serde_json::from_str::<TicketBody>(json).unwrap().price;
        assert_eq!(read(r#"{"price": 12}"#), Some(PriceInput::Number(12.0)));
        assert_eq!(read(r#"{"price": 12.5}"#), Some(PriceInput::Number(12.5)));
        assert_eq!(read(r#"{"price": "12.50"}"#), Some(PriceInput::Text("12.50".into())));
        assert_eq!(read(r#"{"price": true}"#), Some(PriceInput::Other));
        assert_eq!(read(r#"{"price": [1, {"a": 2}]}"#), Some(PriceInput::Other));
        assert_eq!(read(r#"{"price": {"cents": 1250}}"#), Some(PriceInput::Other));
        assert_eq!(read(r#"{"price": null}"#), None);
        assert_eq!(read(r#"{"title": "Concert"}"#), None);
    }

    #[test]
    fn bodies_go_on_the_wire_in_the_apis_names() {
        let order = serde_json::to_value(OrderBody { ticket_id: Some("t1".into()) }).unwrap();
        assert_eq!(order, serde_json::json!({ "ticketId": "t1" }));
        let payment = serde_json::to_value(PaymentBody { order_id: Some("o1".into()), token: Some("pm_card_visa".into()) }).unwrap();
        assert_eq!(payment, serde_json::json!({ "orderId": "o1", "token": "pm_card_visa" }));
        let ticket = TicketBody { title: Some("Concert".into()), price: Some(PriceInput::Text("12.50".into())) };
        assert_eq!(serde_json::to_value(ticket).unwrap(), serde_json::json!({ "title": "Concert", "price": "12.50" }));
    }
}
