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
                    // The favicon, already cached by the browser (an inline SVG cost the first download 1 KB).
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
/// (`crate::i18n::set_language`), so it is the same with and without JavaScript. It names the
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
