//! Ticket input that has been parsed: a `Title` and a `Price` are valid by construction.
use std::fmt;

use contract::{Cents, PriceInput};
use shared::error::{Coded, ErrorCode};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Why a title was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleError {
    Required,
    TooLong,
    ControlCharacters,
    InvisibleCharacters,
}

impl fmt::Display for TitleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Required => "Title is required",
            Self::TooLong => "Title must be at most 200 characters",
            Self::ControlCharacters => "Title must not contain control characters",
            Self::InvisibleCharacters => "Title must not contain invisible formatting characters",
        })
    }
}

impl Coded for TitleError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Required => ErrorCode::TitleRequired,
            Self::TooLong => ErrorCode::TitleTooLong,
            Self::ControlCharacters => ErrorCode::TitleControlCharacters,
            Self::InvisibleCharacters => ErrorCode::TitleInvisibleCharacters,
        }
    }
}

/// Why a price was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceError {
    /// Missing, or a number not above 0.
    NotPositive,
    /// Neither a number nor a string.
    NotNumber,
    /// Not digits with at most two decimals.
    Malformed,
    TooSmall,
    TooLarge,
}

impl fmt::Display for PriceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotPositive => "Price must be greater than 0",
            Self::NotNumber => "Price must be a number",
            Self::Malformed => "Price must be a number with at most two decimals",
            Self::TooSmall => "Price must be at least $0.50",
            Self::TooLarge => "Price must be at most 999999.99",
        })
    }
}

impl Coded for PriceError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotPositive => ErrorCode::PriceNotPositive,
            Self::NotNumber => ErrorCode::PriceNotNumber,
            Self::Malformed => ErrorCode::PriceMalformed,
            Self::TooSmall => ErrorCode::PriceTooSmall,
            Self::TooLarge => ErrorCode::PriceTooLarge,
        }
    }
}

/// Why the query of `GET /api/tickets` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListQueryError {
    /// `limit` is not a number from 1 to 200.
    Limit,
    /// `before` is not the id of a ticket.
    UnknownBefore,
}

impl fmt::Display for ListQueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Limit => "Limit must be a number from 1 to 200",
            Self::UnknownBefore => "Before must be the id of a ticket",
        })
    }
}

impl Coded for ListQueryError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Limit => ErrorCode::LimitInvalid,
            Self::UnknownBefore => ErrorCode::BeforeUnknown,
        }
    }
}

/// Trimmed, 1 to 200 characters, no control or format characters nor line breaks: a
/// bidirectional override (U+202E) would make a title read as something else wherever it is
/// shown, and tag characters carry invisible text. The zero-width joiner is the one format
/// character allowed, since emoji sequences (👩‍🎤) are made with it; flags made of tag
/// characters are refused with the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: Option<String>) -> Result<Self, TitleError> {
        let title = raw.unwrap_or_default().trim().to_string();
        if title.is_empty() {
            return Err(TitleError::Required);
        }
        if title.chars().count() > 200 {
            return Err(TitleError::TooLong);
        }
        if title.chars().any(char::is_control) {
            return Err(TitleError::ControlCharacters);
        }
        let hidden = |c: char| match c.general_category() {
            GeneralCategory::Format => c != '\u{200D}',
            GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => true,
            _ => false,
        };
        if title.chars().any(hidden) {
            return Err(TitleError::InvisibleCharacters);
        }
        Ok(Self(title))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At least $0.50 (Stripe's smallest charge in USD: a cheaper ticket could be listed and
/// reserved but never paid for) and at most $999,999.99 (Stripe's largest USD charge: a dearer
/// ticket could be listed but never paid for), with at most two decimals; from a JSON
/// number or a string of digits (`"12.50"`: no sign, exponent or spaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(Cents);

/// Stripe refuses a larger USD charge (`amount_too_large`).
pub const MAX_CENTS: i64 = 99_999_999;
/// Stripe refuses a smaller USD charge (`amount_too_small`).
pub const MIN_CENTS: i64 = 50;

impl Price {
    pub fn parse(raw: Option<&PriceInput>) -> Result<Self, PriceError> {
        let text = match raw {
            None => return Err(PriceError::NotPositive),
            Some(PriceInput::Number(n)) if *n <= 0.0 => return Err(PriceError::NotPositive),
            // Written out in full (never with an exponent): `12.5`, `12`, `12.345`.
            Some(PriceInput::Number(n)) => n.to_string(),
            Some(PriceInput::Text(text)) => text.clone(),
            Some(PriceInput::Other) => return Err(PriceError::NotNumber),
        };
        let cents = decimal_cents(&text).ok_or(PriceError::Malformed)?;
        match cents {
            c if c <= 0 => Err(PriceError::NotPositive),
            c if c < MIN_CENTS => Err(PriceError::TooSmall),
            c if c > MAX_CENTS => Err(PriceError::TooLarge),
            c => Ok(Self(Cents(c))),
        }
    }

    pub fn cents(self) -> Cents {
        self.0
    }
}

/// `"12"`, `"12.5"`, `"12.50"`, `"12.0"` (a float's rendering) in cents; anything else `None`.
fn decimal_cents(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || !digits(whole) || fraction.len() > 2 || !digits(fraction) {
        return None;
    }
    let fraction = format!("{fraction:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + fraction.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The price as a request body carries it, read as the service reads it.
    fn price(v: serde_json::Value) -> Result<i64, PriceError> {
        let input: PriceInput = serde_json::from_value(v).expect("any JSON value is a PriceInput");
        Price::parse(Some(&input)).map(|p| p.cents().0)
    }

    #[test]
    fn prices_arrive_as_numbers_or_numeric_strings() {
        assert_eq!(price(json!(12.5)), Ok(1250));
        assert_eq!(price(json!(12.35)), Ok(1235));
        assert_eq!(price(json!("12.50")), Ok(1250));
        assert_eq!(price(json!(999_999.99)), Ok(99_999_999));
        assert_eq!(price(json!("999999.99")), Ok(99_999_999));
        assert_eq!(price(json!("7")), Ok(700));
        assert_eq!(price(json!(0.5)), Ok(50));
    }

    #[test]
    fn a_price_stripe_cannot_charge_is_refused() {
        assert_eq!(price(json!(0.49)), Err(PriceError::TooSmall));
        assert_eq!(price(json!("0.01")), Err(PriceError::TooSmall));
        assert_eq!(price(json!(0)), Err(PriceError::NotPositive));
    }

    #[test]
    fn bad_prices_are_refused() {
        use PriceError::*;
        for (bad, why) in [
            (json!(0), NotPositive),
            (json!(-5), NotPositive),
            (json!("-5"), Malformed),
            (json!(12.345), Malformed),
            (json!("12.500"), Malformed),
            (json!("1e3"), Malformed),
            (json!(" 12"), Malformed),
            (json!(true), NotNumber),
            (json!(1_000_000), TooLarge),
            (json!("1000000.00"), TooLarge),
            (json!(""), Malformed),
            (json!("abc"), Malformed),
        ] {
            assert_eq!(price(bad.clone()), Err(why), "{bad}");
        }
        assert_eq!(Price::parse(None), Err(NotPositive));
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(Title::parse(Some("  Concert ".into())).unwrap().as_str(), "Concert");
        assert_eq!(Title::parse(Some("   ".into())), Err(TitleError::Required));
        assert_eq!(Title::parse(None), Err(TitleError::Required));
        assert!(Title::parse(Some("é".repeat(200))).is_ok());
        assert_eq!(Title::parse(Some("é".repeat(201))), Err(TitleError::TooLong));
        assert_eq!(Title::parse(Some("a\u{7}b".into())), Err(TitleError::ControlCharacters));
    }

    #[test]
    fn titles_cannot_hide_what_they_say() {
        for hidden in
            ["Concert\u{202E}gpj.exe", "a\u{2066}b\u{2069}", "zero\u{200B}width", "soft\u{AD}hyphen", "\u{FEFF}BOM", "line\u{2028}break"]
        {
            assert_eq!(Title::parse(Some(hidden.into())), Err(TitleError::InvisibleCharacters), "{hidden:?}");
        }
        assert!(Title::parse(Some("Band 👩\u{200D}🎤 live, Zürich, 東京".into())).is_ok());
    }
}
