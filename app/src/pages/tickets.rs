//! `/` (tickets for sale), `/tickets/new`, `/tickets/:id` and `/tickets/:id/edit`, with the
//! server functions behind them. Every form works with and without JavaScript.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_query_map;

use crate::components::form::{action_error, field_error, general_errors, Field, FormErrors, SubmitButton};
use crate::components::layout::{Card, LoadFailed, Notice};
use crate::error::AppError;
use crate::model::{dollars, Ticket};
use crate::pages::orders::CreateOrder;
use crate::pages::route_id;
use crate::session::use_session;

/// Tickets on the landing page at first, and how many more each "Load more" shows.
pub const PAGE: usize = 20;

#[cfg(feature = "ssr")]
mod forward {
    pub use crate::api::ssr::{call, Service};
    pub use reqwest::Method;
}

/// The newest `count` tickets on sale, and whether there are more.
#[server(prefix = "/_fn", endpoint = "tickets")]
pub async fn list_tickets(count: usize) -> Result<(Vec<Ticket>, bool), AppError> {
    use forward::*;
    // The API pages by `before`, up to 200 at a time; gather one more than asked to know if
    // there are more.
    let wanted = count.clamp(1, 1_000) + 1;
    let mut tickets: Vec<Ticket> = Vec::new();
    loop {
        let limit = (wanted - tickets.len()).min(200);
        let path = match tickets.last() {
            Some(last) => format!("/api/tickets?limit={limit}&before={}", last.id),
            None => format!("/api/tickets?limit={limit}"),
        };
        let page: Vec<Ticket> = call(Service::Tickets, Method::GET, &path, None::<&()>).await?;
        let done = page.len() < limit;
        tickets.extend(page);
        if done || tickets.len() >= wanted {
            break;
        }
    }
    let more = tickets.len() >= wanted;
    tickets.truncate(wanted - 1);
    Ok((tickets, more))
}

#[server(prefix = "/_fn", endpoint = "ticket")]
pub async fn get_ticket(id: String) -> Result<Ticket, AppError> {
    use forward::*;
    call(Service::Tickets, Method::GET, &format!("/api/tickets/{id}"), None::<&()>).await
}

#[server(prefix = "/_fn", endpoint = "sell")]
pub async fn create_ticket(title: String, price: String) -> Result<(), AppError> {
    use forward::*;
    let ticket: Ticket = call(Service::Tickets, Method::POST, "/api/tickets", Some(&price_body(&title, &price))).await?;
    leptos_axum::redirect(&format!("/tickets/{}", ticket.id));
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "edit")]
pub async fn update_ticket(id: String, title: String, price: String) -> Result<(), AppError> {
    use forward::*;
    let _: Ticket = call(Service::Tickets, Method::PUT, &format!("/api/tickets/{id}"), Some(&price_body(&title, &price))).await?;
    leptos_axum::redirect(&format!("/tickets/{id}"));
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "delete")]
pub async fn delete_ticket(id: String) -> Result<(), AppError> {
    use forward::*;
    let _: () = call(Service::Tickets, Method::DELETE, &format!("/api/tickets/{id}"), None::<&()>).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The form's price goes to the API as typed (the API accepts numeric strings and says what is
/// wrong with anything else).
#[cfg(feature = "ssr")]
fn price_body(title: &str, price: &str) -> serde_json::Value {
    let price = price.trim();
    let price = price.strip_prefix('$').unwrap_or(price);
    match price.parse::<f64>() {
        Ok(number) if number.is_finite() => serde_json::json!({ "title": title, "price": number }),
        _ => serde_json::json!({ "title": title, "price": price }),
    }
}

/// `12.5` becomes `12.50` when the price field loses focus.
fn two_decimals(raw: &str) -> Option<String> {
    let number: f64 = raw.trim().trim_start_matches('$').parse().ok()?;
    (number.is_finite() && number >= 0.0).then(|| format!("{number:.2}"))
}

/// `/`: the tickets on sale, newest first, with "Load more" (a link, so it works without
/// JavaScript too).
#[component]
pub fn LandingPage() -> impl IntoView {
    let query = use_query_map();
    let count = move || query.with(|q| q.get("show").and_then(|s| s.parse::<usize>().ok())).unwrap_or(PAGE).clamp(PAGE, 1_000);
    let tickets = Resource::new(count, list_tickets);
    let session = use_session();
    view! {
        <Title text="" />
        <section class="flex flex-col gap-6">
            <div class="flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 class="text-3xl font-bold tracking-tight">"Tickets for sale"</h1>
                    <Transition fallback=|| ()>
                        <p data-testid="session-status" class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                            {move || session.get().map(|user| match user {
                                Some(user) => format!("You are signed in as {}", user.email),
                                None => "You are not signed in".to_string(),
                            })}
                        </p>
                    </Transition>
                </div>
                <A href="/tickets/new" attr:class="rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600">
                    "Sell a ticket"
                </A>
            </div>
            <Transition fallback=|| view! { <p>"Loading tickets…"</p> }>
                {move || Suspend::new(async move {
                    match tickets.await {
                        Err(error) => view! { <LoadFailed error /> }.into_any(),
                        Ok((list, _)) if list.is_empty() => view! {
                            <div data-testid="empty-state" class="rounded-2xl border border-dashed border-slate-300 p-10 text-center dark:border-slate-700">
                                <p class="text-lg font-medium">"No tickets for sale right now."</p>
                                <p class="mt-1 text-slate-600 dark:text-slate-400">"Have one to sell? List it in a minute."</p>
                            </div>
                        }.into_any(),
                        Ok((list, more)) => {
                            let shown = list.len();
                            view! {
                                <ul class="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label="Tickets for sale">
                                    {list.into_iter().map(|ticket| view! { <TicketCard ticket /> }).collect_view()}
                                </ul>
                                <Show when=move || more>
                                    <div class="text-center">
                                        <A href=format!("/?show={}", shown + PAGE) attr:class="inline-block rounded-lg border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:border-slate-700 dark:hover:bg-slate-800">
                                            "Load more"
                                        </A>
                                    </div>
                                </Show>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TicketCard(ticket: Ticket) -> impl IntoView {
    let href = format!("/tickets/{}", ticket.id);
    let label = format!("View {}", ticket.title);
    view! {
        <li class="flex flex-col justify-between gap-3 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <div>
                <h2 class="break-words text-lg font-semibold">{ticket.title}</h2>
                <p class="text-slate-600 dark:text-slate-400">{dollars(ticket.price)}</p>
            </div>
            <A href=href attr:class="self-start font-medium text-indigo-600 underline dark:text-indigo-400" attr:aria-label=label>"View"</A>
        </li>
    }
}

const TICKET_FIELDS: &[&str] = &["title", "price"];

/// `/tickets/new`: sell a ticket.
#[component]
pub fn NewTicketPage() -> impl IntoView {
    let action = ServerAction::<CreateTicket>::new();
    let error = action_error(action);
    let session = use_session();
    view! {
        <Card title="Sell a ticket">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.await {
                        None => view! { <Redirect path="/auth/signin?next=/tickets/new" /> }.into_any(),
                        Some(_) => view! {
                            <ActionForm action=action attr:class="flex flex-col gap-4" attr:novalidate=true>
                                <FormErrors messages=general_errors(error, TICKET_FIELDS) />
                                <Field name="title" label="Title" error=field_error(error, "title") />
                                <Field name="price" label="Price (USD)" inputmode="decimal" on_blur=two_decimals error=field_error(error, "price") />
                                <SubmitButton label="List ticket" pending_label="Listing…" pending=action.pending() />
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Card>
    }
}

/// What `/tickets/:id` loads. Its lazy route starts it (`LazyRoute::data`) while the page's
/// chunk downloads, instead of after. The page's actions stay in its chunk (in the first
/// download they would cost every visitor their code) and load it again when they are done.
#[derive(Clone, Copy)]
pub struct TicketData {
    ticket: Resource<Result<Ticket, AppError>>,
}

impl TicketData {
    pub fn load() -> Self {
        Self { ticket: Resource::new(route_id(), get_ticket) }
    }
}

/// `/tickets/:id`: the ticket, Purchase for buyers, Edit and Delete for its seller.
#[component]
pub fn TicketPage(data: TicketData) -> impl IntoView {
    let TicketData { ticket } = data;
    let purchase = ServerAction::<CreateOrder>::new();
    let delete = ServerAction::<DeleteTicket>::new();
    Effect::watch(move || purchase.version().get(), move |_, _, _| ticket.refetch(), false);
    let session = use_session();
    let purchase_error = action_error(purchase);
    let delete_error = action_error(delete);
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = session.await;
                match ticket.await {
                    Err(error) if error.is_not_found() => view! { <Gone /> }.into_any(),
                    Err(error) => view! { <LoadFailed error /> }.into_any(),
                    Ok(ticket) => {
                        let mine = user.as_ref().is_some_and(|u| u.id == ticket.user_id);
                        let state = if ticket.sold { "Sold" } else if ticket.order_id.is_some() { "Reserved" } else { "On sale" };
                        let available = ticket.order_id.is_none();
                        let (id, title) = (ticket.id.clone(), ticket.title.clone());
                        view! {
                            <Title text=title.clone() />
                            <article class="mx-auto flex w-full max-w-xl flex-col gap-4 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
                                <div class="flex flex-wrap items-start justify-between gap-2">
                                    <h1 class="break-words text-2xl font-bold">{title}</h1>
                                    <span data-testid="ticket-state" class="rounded-full bg-slate-100 px-3 py-1 text-sm font-medium dark:bg-slate-800">{state}</span>
                                </div>
                                <p class="text-xl">{dollars(ticket.price)}</p>
                                <Show when=move || mine>
                                    <p data-testid="seller-marker" class="text-sm font-medium text-emerald-700 dark:text-emerald-400">"You are selling this ticket."</p>
                                </Show>
                                {match (user.is_some(), mine, available) {
                                    (_, true, true) => {
                                        let edit = format!("/tickets/{id}/edit");
                                        view! {
                                            <FormErrors messages=general_errors(delete_error, &[]) />
                                            <div class="flex flex-wrap gap-3">
                                                <A href=edit attr:class="rounded-lg border border-slate-300 px-4 py-2 font-semibold hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:border-slate-700 dark:hover:bg-slate-800">"Edit"</A>
                                                <ActionForm action=delete>
                                                    <input type="hidden" name="id" value=id.clone() />
                                                    <button type="submit" disabled=move || delete.pending().get() class="rounded-lg border border-red-300 px-4 py-2 font-semibold text-red-700 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-red-600 disabled:opacity-60 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950">
                                                        {move || if delete.pending().get() { "Deleting…" } else { "Delete" }}
                                                    </button>
                                                </ActionForm>
                                            </div>
                                        }.into_any()
                                    }
                                    (_, true, false) => view! {
                                        <p class="text-slate-600 dark:text-slate-400">"A buyer holds this ticket, so it cannot be edited or deleted."</p>
                                    }.into_any(),
                                    (true, false, true) => view! {
                                        <ActionForm action=purchase attr:class="flex flex-col gap-3">
                                            <FormErrors messages=general_errors(purchase_error, &[]) />
                                            <input type="hidden" name="ticket_id" value=id.clone() />
                                            <SubmitButton label="Purchase" pending_label="Reserving…" pending=purchase.pending() />
                                        </ActionForm>
                                    }.into_any(),
                                    (false, false, true) => {
                                        let next = format!("/auth/signin?next=/tickets/{id}");
                                        view! { <A href=next attr:class="font-medium text-indigo-600 underline dark:text-indigo-400">"Sign in to buy this ticket"</A> }.into_any()
                                    }
                                    (_, false, false) => view! {
                                        <p class="text-slate-600 dark:text-slate-400">
                                            {if ticket.sold { "This ticket has been sold." } else { "Someone is buying this ticket right now. Check back in a few minutes." }}
                                        </p>
                                    }.into_any(),
                                }}
                            </article>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Gone() -> impl IntoView {
    crate::pages::not_found::respond_not_found();
    view! {
        <Title text="Ticket not found" />
        <section class="flex flex-col items-start gap-3">
            <h1 class="text-2xl font-bold">"This ticket is gone"</h1>
            <p class="text-slate-600 dark:text-slate-400">"It was deleted by its seller, or never existed."</p>
            <A href="/" attr:class="font-medium text-indigo-600 underline dark:text-indigo-400">"See the tickets for sale"</A>
        </section>
    }
}

/// What `/tickets/:id/edit` loads, started with the chunk download (as [`TicketData`]).
#[derive(Clone, Copy)]
pub struct EditTicketData {
    ticket: Resource<Result<Ticket, AppError>>,
}

impl EditTicketData {
    pub fn load() -> Self {
        Self { ticket: Resource::new(route_id(), get_ticket) }
    }
}

/// `/tickets/:id/edit`: the seller changes title or price while nobody holds the ticket.
#[component]
pub fn EditTicketPage(data: EditTicketData) -> impl IntoView {
    let id = route_id();
    let EditTicketData { ticket } = data;
    let action = ServerAction::<UpdateTicket>::new();
    let error = action_error(action);
    let session = use_session();
    view! {
        <Card title="Edit ticket">
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let user = session.await;
                    match (user, ticket.await) {
                        (None, _) => view! { <Redirect path=format!("/auth/signin?next=/tickets/{}/edit", id()) /> }.into_any(),
                        (_, Err(error)) => view! { <LoadFailed error /> }.into_any(),
                        (Some(user), Ok(ticket)) if user.id != ticket.user_id => view! {
                            <Notice tone="error">"Only the seller can edit this ticket."</Notice>
                        }.into_any(),
                        (Some(_), Ok(ticket)) if ticket.order_id.is_some() => {
                            let back = format!("/tickets/{}", ticket.id);
                            view! {
                                <Notice tone="info">"This ticket is reserved by a buyer, so it cannot be edited. If the order expires or is cancelled, it is yours to edit again."</Notice>
                                <A href=back attr:class="mt-4 inline-block font-medium text-indigo-600 underline dark:text-indigo-400">"Back to the ticket"</A>
                            }.into_any()
                        }
                        (Some(_), Ok(ticket)) => view! {
                            <ActionForm action=action attr:class="flex flex-col gap-4" attr:novalidate=true>
                                <FormErrors messages=general_errors(error, TICKET_FIELDS) />
                                <input type="hidden" name="id" value=ticket.id.clone() />
                                <Field name="title" label="Title" value=ticket.title.clone() error=field_error(error, "title") />
                                <Field name="price" label="Price (USD)" inputmode="decimal" value=ticket.price.to_string() on_blur=two_decimals error=field_error(error, "price") />
                                <SubmitButton label="Save changes" pending_label="Saving…" pending=action.pending() />
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Card>
    }
}
