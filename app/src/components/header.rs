use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::i18n::{use_locale, Common};
use crate::session::use_session;

/// The brand, and the links that fit whether the visitor is signed in. Signed in, the brand and
/// four links share one row down to a 375 px wide phone: below `sm` the brand is its icon alone
/// (the word stays its accessible name) and the links are smaller, each still a 24 px tap target.
#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    let t = Common::of(use_locale());
    let link = "inline-flex min-h-8 items-center whitespace-nowrap rounded-md px-1.5 text-xs font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600 sm:px-3 sm:py-2 sm:text-sm dark:hover:bg-slate-800";
    view! {
        <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <nav aria-label=t.main_nav class="mx-auto flex w-full max-w-5xl flex-wrap items-center justify-between gap-2 px-4 py-3">
                <A href="/" attr:class="flex min-h-8 items-center gap-2 text-lg font-bold tracking-tight text-indigo-600 dark:text-indigo-400">
                    // The favicon, already cached by the browser (an inline SVG grew the first download: docs/budgets.md).
                    <img src="/favicon.svg" alt="" width="28" height="28" class="size-7 shrink-0" />
                    <span class="max-sm:sr-only">{t.brand}</span>
                </A>
                <Transition fallback=|| ()>
                    <ul class="flex flex-wrap items-center gap-0.5 sm:gap-1">
                        {move || session.get().map(|user| match user {
                            Some(_) => view! {
                                <li><A href="/tickets/new" attr:class=link>{t.sell}</A></li>
                                <li><A href="/tickets/mine" attr:class=link>{t.my_tickets}</A></li>
                                <li><A href="/orders" attr:class=link>{t.my_orders}</A></li>
                                <li><A href="/auth/signout" attr:class=link>{t.sign_out}</A></li>
                            }.into_any(),
                            None => view! {
                                <li><A href="/auth/signup" attr:class=link>{t.sign_up}</A></li>
                                <li><A href="/auth/signin" attr:class=link>{t.sign_in}</A></li>
                            }.into_any(),
                        })}
                    </ul>
                </Transition>
            </nav>
        </header>
    }
}

/// The language switch: a form post that sets the `lang` cookie and comes back to this page
/// ([`set_language`]), so it is the same with and without JavaScript. It names the
/// other language in that language, as language pickers do.
#[component]
pub fn Footer() -> impl IntoView {
    let locale = use_locale();
    let other = locale.other();
    let t = Common::of(locale);
    let location = use_location();
    let next = move || {
        let (path, search) = (location.pathname.get(), location.search.get());
        match search.trim_start_matches('?') {
            "" => path,
            query => format!("{path}?{query}"),
        }
    };
    view! {
        <footer class="mx-auto flex w-full max-w-5xl justify-end px-4 pb-8">
            <form method="post" action="/_fn/language">
                <input type="hidden" name="lang" value=other.tag() />
                <input type="hidden" name="next" value=next />
                <button type="submit" lang=other.tag() data-testid="language-switch" class="inline-flex min-h-6 items-center text-sm font-medium text-slate-600 underline hover:text-indigo-600 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:text-slate-400">
                    {t.switch_to}
                </button>
            </form>
        </footer>
    }
}

/// Sets the reader's language (the `lang` cookie, for a year) and sends them back to `next`, the
/// page they were on: a form post, so it is the same with and without JavaScript, and the page
/// they come back to is rendered in the new language from the start.
#[server(prefix = "/_fn", endpoint = "language")]
pub async fn set_language(lang: String, next: String) -> Result<(), crate::error::AppError> {
    let locale = crate::i18n::Locale::from_tag(&lang).unwrap_or_default();
    // Only a path on this site (the check the sign-in page makes of its `next`).
    let on_this_site = crate::api::is_local_path(&next);
    let next = if on_this_site { next } else { "/".to_string() };
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        let cookie = format!("{}={}; Path=/; Max-Age=31536000; SameSite=Lax", crate::i18n::COOKIE, locale.tag());
        if let Ok(value) = http::HeaderValue::from_str(&cookie) {
            options.append_header(http::header::SET_COOKIE, value);
        }
    }
    leptos_axum::redirect(&next);
    Ok(())
}
