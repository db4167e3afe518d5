//! The API's errors in the reader's language, by their stable `code` (docs/errors.md).
use super::Locale;

/// What the error with `code` says in `locale`; `None` where the service's English `message` is
/// the text (in English, and for a code this table does not know: a newer server's).
pub fn error_text(locale: Locale, code: &str) -> Option<&'static str> {
    match locale {
        Locale::En => None,
        Locale::Ja => japanese(code),
    }
}

fn japanese(code: &str) -> Option<&'static str> {
    Some(match code {
        "not_authorized" => "サインインしてください。",
        _ => return None,
    })
}
