//! Ids and versions: a type each, so that an order's id handed where a ticket's belongs, or a
//! version counted past what the database stores, does not compile.
//!
//! Why ids are opaque strings and not parsed UUIDs: a service makes them (UUIDv7 in hex), and
//! everything else only looks them up; an id nobody made is simply not found (404), which is
//! the answer a client relies on, so there is nothing to validate. What the types add is that
//! the three kinds never mix. On the wire they are plain JSON strings (`serde(transparent)`);
//! in SurrealDB, strings (with the `store` feature, which only the services turn on).
//!
//! Why one version type: versions are `u64` in events and answers and `int` (i64) in SurrealDB.
//! A [`Version`] holds `0..=i64::MAX` from every door it comes in by (an event, a row, the next
//! version), so writing it to the database can never wrap, and reading a negative one is an
//! error rather than a huge number.
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

macro_rules! ids {
    ($($(#[$meta:meta])* $name:ident: $described:literal;)*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }

            /// The id a request gave, trimmed; `None` when it gave none or only blanks (what a
            /// service answers as the field's "required" error).
            pub fn given(raw: Option<Self>) -> Option<Self> {
                raw.map(|id| id.0.trim().to_string()).filter(|id| !id.is_empty()).map(Self)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_string())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($described))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        #[cfg(feature = "store")]
        impl surrealdb_types::SurrealValue for $name {
            fn kind_of() -> surrealdb_types::Kind {
                <String as surrealdb_types::SurrealValue>::kind_of()
            }

            fn is_value(value: &surrealdb_types::Value) -> bool {
                <String as surrealdb_types::SurrealValue>::is_value(value)
            }

            fn into_value(self) -> surrealdb_types::Value {
                surrealdb_types::SurrealValue::into_value(self.0)
            }

            fn from_value(value: surrealdb_types::Value) -> Result<Self, surrealdb_types::Error> {
                <String as surrealdb_types::SurrealValue>::from_value(value).map(Self)
            }
        }
    )*};
}

ids! {
    /// A ticket's id, made by the tickets service.
    TicketId: "A ticket's id (opaque).";
    /// An order's id, made by the orders service.
    OrderId: "An order's id (opaque).";
    /// A user's id, made by the auth service.
    UserId: "A user's id (opaque).";
    /// A payment's id, made by the payments service.
    PaymentId: "A payment's id (opaque).";
}

/// How many times a ticket or an order has changed: 0 when made, one more at each change that
/// other services hear of. Between 0 and `i64::MAX`, whatever it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Version(u64);

/// A version past what the database stores, or a negative one read from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionOutOfRange;

impl fmt::Display for VersionOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a version must be between 0 and {}", i64::MAX)
    }
}

impl std::error::Error for VersionOutOfRange {}

impl Version {
    pub const FIRST: Self = Self(0);

    /// From a stored `int`: never negative.
    pub fn from_stored(stored: i64) -> Result<Self, VersionOutOfRange> {
        u64::try_from(stored).map(Self).map_err(|_| VersionOutOfRange)
    }

    pub fn new(version: u64) -> Result<Self, VersionOutOfRange> {
        i64::try_from(version).map(|_| Self(version)).map_err(|_| VersionOutOfRange)
    }

    /// As SurrealDB stores it. Lossless: a version never exceeds `i64::MAX`.
    pub fn stored(self) -> i64 {
        self.0 as i64
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// The version a change makes.
    pub fn next(self) -> Result<Self, VersionOutOfRange> {
        Self::new(self.0 + 1)
    }
}

/// Lossless: every `u32` is within range.
impl From<u32> for Version {
    fn from(version: u32) -> Self {
        Self(u64::from(version))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(u64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Version {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(utoipa::openapi::schema::KnownFormat::Int64)))
            .minimum(Some(0))
            .description(Some("How many times it has changed: 0 when made, one more at each change."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Version {}

#[cfg(feature = "store")]
impl surrealdb_types::SurrealValue for Version {
    fn kind_of() -> surrealdb_types::Kind {
        <i64 as surrealdb_types::SurrealValue>::kind_of()
    }

    fn is_value(value: &surrealdb_types::Value) -> bool {
        <i64 as surrealdb_types::SurrealValue>::is_value(value)
    }

    fn into_value(self) -> surrealdb_types::Value {
        surrealdb_types::SurrealValue::into_value(self.stored())
    }

    fn from_value(value: surrealdb_types::Value) -> Result<Self, surrealdb_types::Error> {
        let stored = <i64 as surrealdb_types::SurrealValue>::from_value(value)?;
        Self::from_stored(stored).map_err(|error| surrealdb_types::Error::internal(format!("version {stored}: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_stay_within_what_the_database_stores() {
        assert_eq!(Version::from_stored(-1), Err(VersionOutOfRange));
        assert_eq!(Version::from_stored(7).map(Version::stored), Ok(7));
        assert_eq!(Version::new(i64::MAX as u64 + 1), Err(VersionOutOfRange));
        let last = Version::new(i64::MAX as u64).expect("i64::MAX is a version");
        assert_eq!(last.next(), Err(VersionOutOfRange));
        assert_eq!(Version::FIRST.next().map(Version::get), Ok(1));
    }

    #[test]
    fn versions_past_the_range_are_refused_on_the_wire() {
        assert!(serde_json::from_str::<Version>("9223372036854775808").is_err());
        assert!(serde_json::from_str::<Version>("-1").is_err());
        assert_eq!(serde_json::from_str::<Version>("3").ok().map(Version::get), Some(3));
    }

    #[test]
    fn a_given_id_is_trimmed_and_blank_is_none() {
        assert_eq!(OrderId::given(Some(" o1 ".into())), Some("o1".into()));
        assert_eq!(OrderId::given(Some("  ".into())), None);
        assert_eq!(OrderId::given(None), None);
    }

    #[test]
    fn ids_are_plain_strings_on_the_wire() {
        let id: OrderId = serde_json::from_str("\"0190a\"").expect("a string is an id");
        assert_eq!(id.as_str(), "0190a");
        assert_eq!(serde_json::to_string(&id).ok().as_deref(), Some("\"0190a\""));
    }
}
