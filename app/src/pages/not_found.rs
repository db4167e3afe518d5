use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::layout::PageMeta;
use crate::i18n::{texts, use_locale};

texts! {
    /// The page for an address no route knows.
    pub struct NotFoundTexts {
        title: "Page not found", "ページが見つかりません";
        nothing_here: "There is nothing at this address.", "このアドレスにはページがありません。";
        see_tickets: "See the tickets for sale", "販売中のチケットを見る";
    }
}

/// Answers the page being rendered with status 404 (on the server; nothing in the browser).
pub fn respond_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// Any path no route knows, answered with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    respond_not_found();
    let t = NotFoundTexts::of(use_locale());
    view! {
        <PageMeta title=t.title description=t.nothing_here />
        <section class="flex flex-col items-start gap-3">
            <h1 class="text-3xl font-bold">{t.title}</h1>
            <p class="text-slate-600 dark:text-slate-400">{t.nothing_here}</p>
            <A href="/" attr:class="font-medium text-indigo-600 underline dark:text-indigo-400">{t.see_tickets}</A>
        </section>
    }
}
