//! Page building blocks: a titled card and a notice.
use leptos::prelude::*;
use leptos_meta::Title;

/// A page's main card, with its title as the page title too.
#[component]
pub fn Card(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <section class="mx-auto w-full max-w-md rounded-2xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h1 class="mb-4 text-2xl font-bold">{title}</h1>
            {children()}
        </section>
    }
}

/// A message in a box: `error` is announced to screen readers, `info` and `success` are not.
#[component]
pub fn Notice(tone: &'static str, children: Children) -> impl IntoView {
    let class = match tone {
        "error" => "rounded-lg border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200",
        "success" => "rounded-lg border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-200",
        _ => "rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200",
    };
    view! { <div role=(tone == "error").then_some("alert") class=class>{children()}</div> }
}
