use leptos::prelude::*;
use leptos_meta::Title;

use crate::pages::session::use_session;

/// `/`: what the marketplace is, and who you are signed in as.
#[component]
pub fn LandingPage() -> impl IntoView {
    let session = use_session();
    view! {
        <Title text="" />
        <section class="flex flex-col gap-3">
            <h1 class="text-3xl font-bold tracking-tight">"Tickets for sale"</h1>
            <p class="text-slate-600 dark:text-slate-400">
                "Buy and sell event tickets. A reserved ticket is held for you while you pay."
            </p>
            <Transition fallback=|| ()>
                <p data-testid="session-status" class="text-sm">
                    {move || session.get().map(|user| match user {
                        Some(user) => format!("You are signed in as {}", user.email),
                        None => "You are not signed in".to_string(),
                    })}
                </p>
            </Transition>
        </section>
    }
}
