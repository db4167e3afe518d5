use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::layout::PageMeta;

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
    view! {
        <PageMeta title="Page not found" description="There is nothing at this address." />
        <section class="flex flex-col items-start gap-3">
            <h1 class="text-3xl font-bold">"Page not found"</h1>
            <p class="text-slate-600 dark:text-slate-400">"There is nothing at this address."</p>
            <A href="/" attr:class="font-medium text-indigo-600 underline dark:text-indigo-400">"See the tickets for sale"</A>
        </section>
    }
}
