//! Prices: integer cents inside, dollars (a JSON number with at most two decimals) on the wire.
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of US cents. Serialized as dollars: `1250` is `12.5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub i64);

impl Cents {
    pub fn dollars(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Dollars to cents, rounding away float noise (`12.35` is `1234.9999…` as a float).
    pub fn from_dollars(dollars: f64) -> Option<Self> {
        let cents = (dollars * 100.0).round();
        (cents.is_finite() && cents.abs() < 9e15).then_some(Self(cents as i64))
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, (self.0 % 100).abs())
    }
}

impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.dollars())
    }
}

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let dollars = f64::deserialize(deserializer)?;
        Self::from_dollars(dollars).ok_or_else(|| serde::de::Error::custom("price out of range"))
    }
}

/// By hand, as serde is: a JSON number of dollars. No `multipleOf: 0.01`, which validators
/// check in floating point and so refuse prices such as 0.07.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Cents {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .description(Some("US dollars with at most two decimals (12.5 is $12.50), charged as integer cents."))
            .examples([12.5])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Cents {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_travel_as_dollars_and_back() {
        for cents in [1, 10, 1234, 1235, 99_999_999, 100_000_000] {
            let json = serde_json::to_string(&Cents(cents)).unwrap();
            assert_eq!(serde_json::from_str::<Cents>(&json).unwrap(), Cents(cents), "{json}");
        }
        assert_eq!(serde_json::to_string(&Cents(1250)).unwrap(), "12.5");
        assert_eq!(Cents(1205).to_string(), "12.05");
    }
}
