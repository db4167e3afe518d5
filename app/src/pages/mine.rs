//! `/tickets/mine` (my tickets): what the visitor is selling and has sold, with the server
//! function behind it. Links only, so it works without JavaScript.
use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::layout::{LoadFailed, PageMeta};
use crate::error::AppError;
use crate::i18n::{texts, use_locale, Common};
use crate::model::{dollars, Ticket, TicketState};

texts! {
    /// My tickets; its heading and the link to sell are the header's words ([`Common`]).
    pub struct MineTexts {
        description: "The tickets you listed: on sale, held by a buyer, or sold.", "出品したチケットの一覧です。販売中・予約中・販売済みのチケットを確認できます。";
        none_yet: "You have not listed any tickets yet.", "まだチケットを出品していません。";
        /// Followed by the link to sell a ticket.
        have_one: "Have one to sell? ", "売りたいチケットはありますか？";
        list_label: "Your tickets", "出品したチケット";
    }
}

/// The visitor's own tickets in every state, newest first (401 when signed out).
#[server(prefix = "/_fn", endpoint = "my_tickets")]
pub async fn my_tickets() -> Result<Vec<Ticket>, AppError> {
    use crate::api::ssr::{call, Service};
    call(Service::Tickets, reqwest::Method::GET, "/api/tickets/mine", None::<&()>).await
}

/// `/tickets/mine`: the visitor's tickets, each with its one state (on sale, reserved until a
/// time, sold on a day) and a link to its page.
#[component]
pub fn MyTicketsPage() -> impl IntoView {
    // Started here, after the chunk, not in `LazyRoute::data()` as the other pages do: that
    // would grow every visitor's first download, which is at its budget (docs/budgets.md).
    let tickets = Resource::new(|| (), |_| my_tickets());
    let locale = use_locale();
    let (t, common) = (MineTexts::of(locale), Common::of(locale));
    let link = "font-medium text-indigo-600 underline dark:text-indigo-400";
    view! {
        <PageMeta title=common.my_tickets description=t.description />
        <section class="flex flex-col gap-4">
            <h1 class="text-3xl font-bold tracking-tight">{common.my_tickets}</h1>
            <Suspense fallback=move || view! { <p>{common.loading}</p> }>
                {move || Suspend::new(async move {
                    match tickets.await {
                        Err(error) => view! { <LoadFailed error signin_then="/tickets/mine" /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <div data-testid="empty-state" class="rounded-2xl border border-dashed border-slate-300 p-10 text-center dark:border-slate-700">
                                <p class="text-lg font-medium">{t.none_yet}</p>
                                <p class="mt-1 text-slate-600 dark:text-slate-400">
                                    {t.have_one}<A href="/tickets/new" attr:class=link>{common.sell}</A>
                                </p>
                            </div>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="flex flex-col gap-3" aria-label=t.list_label>
                                {list.into_iter().map(|ticket| view! { <MyTicketRow ticket /> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn MyTicketRow(ticket: Ticket) -> impl IntoView {
    let href = format!("/tickets/{}", ticket.id);
    let state = TicketState::of(&ticket);
    let locale = use_locale();
    // The same words as the ticket's page; the colour tells the states apart at a glance.
    let colour = match state {
        TicketState::OnSale => "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100",
        TicketState::Reserved(_) => "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
        TicketState::Sold(_) => "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
    };
    let badge = format!("rounded-full px-3 py-1 text-sm font-medium {colour}");
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <div class="min-w-0">
                <A href=href attr:class="break-words font-semibold text-indigo-600 underline dark:text-indigo-400">{ticket.title}</A>
                <p class="text-sm text-slate-600 dark:text-slate-400">{dollars(ticket.price)}</p>
            </div>
            <span data-testid="ticket-state" class=badge>{state.label(locale)}</span>
        </li>
    }
}
