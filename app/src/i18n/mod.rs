//! Japanese and English: which one a page is in, and the words of each.
//!
//! Why by hand and not `leptos_i18n`: with it (0.6.2, no plural or ICU format features) the
//! first download grew several times past what its budget had room for (docs/budgets.md;
//! leptos-use's cookie code, ICU locale data and a function per key). Here a page's words are a
//! struct with one field per text, both languages side by side in the page's own module
//! ([`texts!`]): a text missing in one language does not compile, and what the browser gets is
//! the strings and a `match` on the language.
//!
//! The language is fixed for a page load: the server picks it (the `lang` cookie, else
//! `Accept-Language`, else English) and writes it into `<html lang>`, where hydration reads it, so
//! both render the same words. Switching posts a form ([`set_language`]) that sets the cookie and
//! reloads the page the reader was on, with or without JavaScript.
mod errors;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use errors::error_text;

/// The cookie that remembers the reader's choice.
pub const COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    En,
    Ja,
}

impl Locale {
    /// The BCP 47 tag: `<html lang>`, the cookie's value.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
        }
    }

    /// `en`, `ja`, and regional tags of either (`ja-JP`, `en-GB`), in any case.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ja") {
            Some(Self::Ja)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The language of ours the reader prefers most by an `Accept-Language` header: the one of
    /// the highest weight (`q`), the first listed on a tie; English when none is ours.
    pub fn negotiate(accept_language: &str) -> Self {
        let mut best: Option<(Self, u16)> = None;
        for entry in accept_language.split(',') {
            let mut parts = entry.split(';');
            let Some(locale) = parts.next().and_then(Self::from_tag) else {
                continue;
            };
            // Weights have at most three decimals: compared as thousandths.
            let weight = parts
                .find_map(|param| param.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| q.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)).map(|q| (q * 1000.0) as u16));
            match weight {
                Some(weight) if weight > 0 && best.is_none_or(|(_, top)| weight > top) => best = Some((locale, weight)),
                _ => {}
            }
        }
        best.map_or(Self::En, |(locale, _)| locale)
    }

    /// The page's language by the request: its cookie, else its `Accept-Language`.
    #[cfg(feature = "ssr")]
    pub fn of_request(headers: &http::HeaderMap) -> Self {
        let chosen = crate::request::cookie(headers, COOKIE).and_then(Self::from_tag);
        chosen.unwrap_or_else(|| {
            headers.get(http::header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()).map_or(Self::En, Self::negotiate)
        })
    }

    /// The language the page is rendered in: on the server, the request's; in the browser, the
    /// one the server wrote into `<html lang>`.
    pub fn current() -> Self {
        #[cfg(feature = "ssr")]
        return use_context::<http::request::Parts>().map(|parts| Self::of_request(&parts.headers)).unwrap_or_default();
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        return document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|tag| Self::from_tag(&tag))
            .unwrap_or_default();
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        Self::En
    }

    /// The other language: what the switch offers.
    pub fn other(self) -> Self {
        match self {
            Self::En => Self::Ja,
            Self::Ja => Self::En,
        }
    }
}

/// Provided once by the app for every page and component below it.
pub fn provide_locale() {
    provide_context(Locale::current());
}

pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_else(Locale::current)
}

/// A struct of a page's (or a component's) words, one `&'static str` per text, and the two
/// instances of it, English then Japanese:
///
/// ```ignore
/// texts! {
///     struct OrderTexts {
///         paid: "Paid. The ticket is yours.", "支払いが完了しました。チケットはあなたのものです。";
///     }
/// }
/// let t = OrderTexts::of(use_locale());
/// ```
///
/// A text with a value in it has `{}` where the value goes ([`fill`]).
#[macro_export]
macro_rules! texts {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($(#[$field_meta:meta])* $field:ident: $en:literal, $ja:literal;)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$field_meta])* pub $field: &'static str,)*
        }

        impl $name {
            pub fn of(locale: $crate::i18n::Locale) -> &'static Self {
                static EN: $name = $name { $($field: $en,)* };
                static JA: $name = $name { $($field: $ja,)* };
                match locale {
                    $crate::i18n::Locale::En => &EN,
                    $crate::i18n::Locale::Ja => &JA,
                }
            }
        }
    };
}
pub use texts;

/// `template` with each `{}` replaced by the next of `values`, in order: word order differs
/// between the languages, so a text holds its values where its language puts them.
pub fn fill(template: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|v| v.len()).sum::<usize>());
    let mut values = values.iter();
    let mut rest = template;
    while let Some(at) = rest.find("{}") {
        out.push_str(&rest[..at]);
        out.push_str(values.next().copied().unwrap_or_default());
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

/// A day, `2025-01-02` as the API writes it, as the language writes it: `2025-01-02` in English
/// (as before), `2025年1月2日` in Japanese.
pub fn day(locale: Locale, ymd: &str) -> String {
    match (locale, ymd.split('-').collect::<Vec<_>>().as_slice()) {
        (Locale::Ja, [year, month, day]) => {
            format!("{year}年{}月{}日", month.trim_start_matches('0'), day.trim_start_matches('0'))
        }
        _ => ymd.to_string(),
    }
}

texts! {
    /// Words every page shares: the header, the document title, what loading and failing say.
    pub struct Common {
        brand: "Ticketing", "Ticketing";
        /// The document title: the page's, then the brand's.
        title: "{} · Ticketing", "{} · Ticketing";
        main_nav: "Main", "メイン";
        sell: "Sell a ticket", "出品する";
        my_tickets: "My tickets", "出品一覧";
        my_orders: "My orders", "注文履歴";
        sign_up: "Sign Up", "新規登録";
        sign_in: "Sign In", "サインイン";
        sign_out: "Sign Out", "サインアウト";
        /// The switch names the other language in itself.
        switch_to: "日本語", "English";
        loading: "Loading…", "読み込み中…";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heaviest_language_of_ours_wins_and_english_is_the_default() {
        assert_eq!(Locale::negotiate("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7"), Locale::Ja);
        assert_eq!(Locale::negotiate("en-US,en;q=0.9,ja;q=0.8"), Locale::En);
        assert_eq!(Locale::negotiate("fr-FR,fr;q=0.9,ja;q=0.5,en;q=0.4"), Locale::Ja);
        assert_eq!(Locale::negotiate("en;q=0.5, ja;q=0.6"), Locale::Ja);
        assert_eq!(Locale::negotiate("fr, de"), Locale::En);
        assert_eq!(Locale::negotiate("ja;q=0, en;q=0.1"), Locale::En);
        assert_eq!(Locale::negotiate(""), Locale::En);
        assert_eq!(Locale::negotiate("ja;q=abc, *"), Locale::En);
    }

    #[test]
    fn tags_are_read_in_any_case_and_region() {
        assert_eq!(Locale::from_tag("JA-jp"), Some(Locale::Ja));
        assert_eq!(Locale::from_tag("en_GB"), Some(Locale::En));
        assert_eq!(Locale::from_tag("jav"), None);
    }

    #[test]
    fn values_go_where_the_language_puts_them() {
        assert_eq!(fill("{} · Ticketing", &["Sell"]), "Sell · Ticketing");
        assert_eq!(fill("{}でサインイン中", &["a@b.c"]), "a@b.cでサインイン中");
        assert_eq!(fill("{} and {}", &["one"]), "one and ");
        assert_eq!(day(Locale::Ja, "2025-01-02"), "2025年1月2日");
        assert_eq!(day(Locale::En, "2025-01-02"), "2025-01-02");
    }

    #[test]
    fn every_text_has_both_languages() {
        let (en, ja) = (Common::of(Locale::En), Common::of(Locale::Ja));
        assert_eq!(en.sign_in, "Sign In");
        assert_ne!(ja.sign_in, en.sign_in);
    }
}
