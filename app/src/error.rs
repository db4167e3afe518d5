//! The error every server function returns. It carries the API's `{"errors": [...]}` entries so
//! a page can show each next to its field, also after a no-JavaScript form post (the error then
//! travels in the redirect URL).
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr, ServerFnUrlError};
use serde::{Deserialize, Serialize};

use crate::i18n::{error_text, texts, Locale};

/// One of the API's error entries, as pages carry it. The code stays its wire name (`contract::
/// ErrorCode::as_str`): in `contract::ErrorItem` it is the enum, and reading that in the browser
/// takes a table of every code's name into the first download, at its budget (docs/budgets.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub message: String,
    pub field: Option<String>,
    pub code: String,
}

#[cfg(feature = "ssr")]
impl From<contract::ErrorItem> for Problem {
    fn from(item: contract::ErrorItem) -> Self {
        Self { message: item.message, field: item.field, code: item.code.as_str().to_string() }
    }
}

impl Problem {
    /// What the reader is shown: the text for its code in their language, else the service's
    /// English message.
    pub fn text(&self, locale: Locale) -> String {
        error_text(locale, &self.code).map_or_else(|| self.message.clone(), str::to_string)
    }
}

texts! {
    /// What the web server says itself when a service cannot answer.
    struct ErrorTexts {
        unavailable: "The service is unavailable. Please try again.", "サービスに接続できません。しばらくしてからもう一度お試しください。";
        something_wrong: "Something went wrong. Please try again.", "問題が発生しました。もう一度お試しください。";
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// What a service answered.
    #[error("{}", messages.iter().map(|m| m.message.as_str()).collect::<Vec<_>>().join("; "))]
    Api { status: u16, messages: Vec<Problem> },
    /// A service could not be reached, or answered something we cannot read.
    #[error("{0}")]
    Unavailable(String),
    /// The server function machinery itself failed (network, encoding).
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::ServerFn(value)
    }
}

impl AppError {
    /// The message for one form field, if the API named it, in the reader's language.
    pub fn field(&self, name: &str, locale: Locale) -> Option<String> {
        match self {
            Self::Api { messages, .. } => messages.iter().find(|m| m.field.as_deref() == Some(name)).map(|m| m.text(locale)),
            _ => None,
        }
    }

    /// Messages that belong to no field of the form, in the reader's language: shown above it.
    pub fn general(&self, fields: &[&str], locale: Locale) -> Vec<String> {
        match self {
            Self::Api { messages, .. } => {
                let mut texts: Vec<String> = Vec::new();
                // Distinct: two English messages can share a code, and so a Japanese text.
                for text in messages.iter().filter(|m| m.field.as_deref().is_none_or(|f| !fields.contains(&f))).map(|m| m.text(locale)) {
                    if !texts.contains(&text) {
                        texts.push(text);
                    }
                }
                texts
            }
            Self::Unavailable(message) if locale == Locale::En => vec![message.clone()],
            Self::Unavailable(_) => vec![ErrorTexts::of(locale).unavailable.to_string()],
            Self::ServerFn(_) => vec![ErrorTexts::of(locale).something_wrong.to_string()],
        }
    }

    /// The whole error as one text in the reader's language: for a page that could not load.
    pub fn text(&self, locale: Locale) -> String {
        self.general(&[], locale).join(if locale == Locale::Ja { "" } else { "; " })
    }

    /// The visitor is not signed in (or not the owner): the API answered 401.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Api { status: 401, .. })
    }

    /// The API answered 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, .. })
    }

    /// The API reads an empty field as a malformed one ("Email must be valid", "Price must be a
    /// number with at most two decimals"); a visitor who left it empty is told it is required,
    /// with the code that says so. Only `field`'s entry changes, and only when the API named it.
    #[cfg(feature = "ssr")]
    pub fn required_if_empty(mut self, field: &str, given: &str, code: contract::ErrorCode, message: &str) -> Self {
        if given.trim().is_empty()
            && let Self::Api { messages, .. } = &mut self
        {
            for item in messages.iter_mut().filter(|item| item.field.as_deref() == Some(field)) {
                item.message = message.to_string();
                item.code = code.as_str().to_string();
            }
        }
        self
    }

    /// The error a no-JavaScript form post left in the URL (`__path`/`__err`), if it came from the
    /// server function at `path`.
    pub fn from_query(path: &str, query: &leptos_router::params::ParamsMap) -> Option<Self> {
        if query.get_str("__path")? != path {
            return None;
        }
        Some(ServerFnUrlError::<Self>::decode_err(query.get_str("__err")?))
    }
}
