//! Page building blocks: a page's title and description, a titled card, a notice, and what a
//! page shows when its data could not be loaded.
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::Redirect;

use crate::error::AppError;
use crate::i18n::use_locale;

/// The page's `<title>` (the shell adds the site's name) and its description for search results
/// and link previews. Once per page: a second `<Title>` would race the first for the tab.
#[component]
pub fn PageMeta(#[prop(into)] title: String, #[prop(into)] description: String) -> impl IntoView {
    view! {
        <Title text=title />
        <Meta name="description" content=description />
    }
}

/// A page's main card under its heading. (The page says its own title with [`PageMeta`]: the
/// heading is not always the title, and an edit page's title names the ticket.)
#[component]
pub fn Card(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="mx-auto w-full max-w-md rounded-2xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h1 class="mb-4 text-2xl font-bold">{title}</h1>
            {children()}
        </section>
    }
}

/// A message in a box: `error` is announced to screen readers at once (`alert`), `info` and
/// `success` politely (`status`). With an `id`, an action can move focus to it
/// ([`focus_when_shown`]) once it shows what the action did.
#[component]
pub fn Notice(tone: &'static str, #[prop(optional)] id: Option<&'static str>, children: Children) -> impl IntoView {
    let class = match tone {
        "error" => "rounded-lg border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200",
        "success" => "rounded-lg border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-200",
        _ => "rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200",
    };
    let role = if tone == "error" { "alert" } else { "status" };
    view! { <div id=id tabindex=id.map(|_| "-1") role=role class=class>{children()}</div> }
}

/// Links that stand alone or end a sentence: at least 24 px high, so a finger finds them.
pub const LINK: &str = "inline-flex min-h-6 items-center font-medium text-indigo-600 underline dark:text-indigo-400";

/// Moves keyboard focus to the element `selector` names as soon as it is on the page: after an
/// action, to the message that says what it did or to the content it brought, which may first
/// have to load (another page's chunk, the data). Gives up quietly after ten seconds.
pub fn focus_when_shown(selector: String) {
    #[cfg(feature = "hydrate")]
    try_focus(selector, 200);
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

#[cfg(feature = "hydrate")]
fn try_focus(selector: String, tries: u16) {
    use wasm_bindgen::JsCast;
    let found = document().query_selector(&selector).ok().flatten().and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
    match found {
        Some(element) => {
            let _ = element.focus();
        }
        None if tries > 0 => set_timeout(move || try_focus(selector, tries - 1), std::time::Duration::from_millis(50)),
        None => {}
    }
}

/// What a page shows when its data could not be loaded, so that every page says it the same
/// way: a page for signed-in users (`signin_then`: where to come back to) sends a signed-out
/// visitor to sign in; anything else is said in an error notice. A page handles what only it
/// can say (a ticket that is gone) before this.
#[component]
pub fn LoadFailed(error: AppError, #[prop(optional, into)] signin_then: Option<String>) -> impl IntoView {
    match signin_then {
        Some(next) if error.is_unauthorized() => view! { <Redirect path=format!("/auth/signin?next={next}") /> }.into_any(),
        _ => view! { <Notice tone="error">{error.text(use_locale())}</Notice> }.into_any(),
    }
}
