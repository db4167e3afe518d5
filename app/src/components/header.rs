use leptos::prelude::*;
use leptos_router::components::A;

use crate::session::use_session;

/// The brand, and the links that fit whether the visitor is signed in.
#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    let link = "rounded-md px-3 py-2 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:hover:bg-slate-800";
    view! {
        <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <nav aria-label="Main" class="mx-auto flex w-full max-w-5xl flex-wrap items-center justify-between gap-2 px-4 py-3">
                <A href="/" attr:class="text-lg font-bold tracking-tight text-indigo-600 dark:text-indigo-400">"Ticketing"</A>
                <Transition fallback=|| ()>
                    <ul class="flex flex-wrap items-center gap-1">
                        {move || session.get().map(|user| match user {
                            Some(_) => view! {
                                <li><A href="/tickets/new" attr:class=link>"Sell a ticket"</A></li>
                                <li><A href="/orders" attr:class=link>"My Orders"</A></li>
                                <li><A href="/auth/signout" attr:class=link>"Sign Out"</A></li>
                            }.into_any(),
                            None => view! {
                                <li><A href="/auth/signup" attr:class=link>"Sign Up"</A></li>
                                <li><A href="/auth/signin" attr:class=link>"Sign In"</A></li>
                            }.into_any(),
                        })}
                    </ul>
                </Transition>
            </nav>
        </header>
    }
}
