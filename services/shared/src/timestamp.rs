//! How the services write times in their JSON and their stores: RFC 3339 in UTC, to the
//! millisecond. Orders writes an order's `expiresAt` with it and tickets the ticket's
//! `reservedUntil`, which must read exactly the same.
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// `2030-01-02T03:04:05.678Z`.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let at = at.replace_nanosecond(at.millisecond() as u32 * 1_000_000).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_utc_to_the_millisecond() {
        let at = |raw: &str| OffsetDateTime::parse(raw, &Rfc3339).unwrap();
        assert_eq!(rfc3339(at("2030-01-02T04:04:05.678901+01:00")), "2030-01-02T03:04:05.678Z");
        assert_eq!(rfc3339(at("2030-01-02T03:04:05Z")), "2030-01-02T03:04:05Z");
    }
}
