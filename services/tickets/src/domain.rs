//! Ticket input that has been parsed: a `Title` and a `Price` are valid by construction.
use contract::Cents;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Trimmed, 1 to 200 characters, no control or format characters nor line breaks: a
/// bidirectional override (U+202E) would make a title read as something else wherever it is
/// shown, and tag characters carry invisible text. The zero-width joiner is the one format
/// character allowed, since emoji sequences (👩‍🎤) are made with it; flags made of tag
/// characters are refused with the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: Option<String>) -> Result<Self, &'static str> {
        let title = raw.unwrap_or_default().trim().to_string();
        if title.is_empty() {
            return Err("Title is required");
        }
        if title.chars().count() > 200 {
            return Err("Title must be at most 200 characters");
        }
        if title.chars().any(char::is_control) {
            return Err("Title must not contain control characters");
        }
        let hidden = |c: char| match c.general_category() {
            GeneralCategory::Format => c != '\u{200D}',
            GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => true,
            _ => false,
        };
        if title.chars().any(hidden) {
            return Err("Title must not contain invisible formatting characters");
        }
        Ok(Self(title))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At least $0.50 (Stripe's smallest charge in USD: a cheaper ticket could be listed and
/// reserved but never paid for) and at most $1,000,000, with at most two decimals; from a JSON
/// number or a string of digits (`"12.50"`: no sign, exponent or spaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(Cents);

const MAX_CENTS: i64 = 100_000_000;
/// Stripe refuses a smaller USD charge (`amount_too_small`).
pub const MIN_CENTS: i64 = 50;

impl Price {
    pub fn parse(raw: Option<&serde_json::Value>) -> Result<Self, &'static str> {
        const POSITIVE: &str = "Price must be greater than 0";
        let text = match raw {
            None | Some(serde_json::Value::Null) => return Err(POSITIVE),
            Some(serde_json::Value::Number(n)) => {
                if n.as_f64().is_some_and(|v| v <= 0.0) {
                    return Err(POSITIVE);
                }
                n.to_string()
            }
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(_) => return Err("Price must be a number"),
        };
        let cents = decimal_cents(&text).ok_or("Price must be a number with at most two decimals")?;
        match cents {
            c if c <= 0 => Err(POSITIVE),
            c if c < MIN_CENTS => Err("Price must be at least $0.50"),
            c if c > MAX_CENTS => Err("Price must be at most 1000000"),
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

    fn price(v: serde_json::Value) -> Result<i64, &'static str> {
        Price::parse(Some(&v)).map(|p| p.cents().0)
    }

    #[test]
    fn prices_arrive_as_numbers_or_numeric_strings() {
        assert_eq!(price(json!(12.5)), Ok(1250));
        assert_eq!(price(json!(12.35)), Ok(1235));
        assert_eq!(price(json!("12.50")), Ok(1250));
        assert_eq!(price(json!(1_000_000)), Ok(100_000_000));
        assert_eq!(price(json!("7")), Ok(700));
        assert_eq!(price(json!(0.5)), Ok(50));
    }

    #[test]
    fn a_price_stripe_cannot_charge_is_refused() {
        assert_eq!(price(json!(0.49)), Err("Price must be at least $0.50"));
        assert_eq!(price(json!("0.01")), Err("Price must be at least $0.50"));
        assert_eq!(price(json!(0)), Err("Price must be greater than 0"));
    }

    #[test]
    fn bad_prices_are_refused() {
        for bad in [
            json!(0),
            json!(-5),
            json!("-5"),
            json!(12.345),
            json!("12.500"),
            json!("1e3"),
            json!(" 12"),
            json!(true),
            json!(1_000_000.01),
            json!(""),
            json!("abc"),
        ] {
            assert!(price(bad.clone()).is_err(), "{bad} accepted");
        }
        assert!(Price::parse(None).is_err());
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(Title::parse(Some("  Concert ".into())).unwrap().as_str(), "Concert");
        assert_eq!(Title::parse(Some("   ".into())), Err("Title is required"));
        assert_eq!(Title::parse(None), Err("Title is required"));
        assert!(Title::parse(Some("é".repeat(200))).is_ok());
        assert!(Title::parse(Some("é".repeat(201))).is_err());
        assert!(Title::parse(Some("a\u{7}b".into())).is_err());
    }

    #[test]
    fn titles_cannot_hide_what_they_say() {
        for hidden in
            ["Concert\u{202E}gpj.exe", "a\u{2066}b\u{2069}", "zero\u{200B}width", "soft\u{AD}hyphen", "\u{FEFF}BOM", "line\u{2028}break"]
        {
            assert_eq!(Title::parse(Some(hidden.into())), Err("Title must not contain invisible formatting characters"), "{hidden:?}");
        }
        assert!(Title::parse(Some("Band 👩\u{200D}🎤 live, Zürich, 東京".into())).is_ok());
    }
}
