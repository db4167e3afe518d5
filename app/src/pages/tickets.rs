//! `/` (tickets for sale), `/tickets/new`, `/tickets/:id` and `/tickets/:id/edit`, with the
//! server functions behind them. Every form works with and without JavaScript.
use leptos::prelude::*;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::form::{action_error, after_each_run, field_error, first_invalid, general_errors, Field, FormErrors, SubmitButton};
use crate::components::layout::{focus_when_shown, Card, LoadFailed, Notice, PageMeta, LINK};
use crate::error::AppError;
use crate::i18n::{fill, texts, use_locale, Common};
use crate::model::{dollars, on_day, until, Ticket, TicketState};
use crate::pages::orders::CreateOrder;
use crate::pages::route_id;
use crate::session::use_session;

texts! {
    /// The landing page and its ticket cards.
    pub struct LandingTexts {
        description: "Tickets for sale, newest first. List yours in a minute; buy one and pay while we hold it for you.",
            "販売中のチケットを新着順に掲載しています。出品は1分で完了。購入したチケットは、お支払いが済むまで確保しておきます。";
        heading: "Tickets for sale", "販売中のチケット";
        /// The list's name for screen readers.
        list_label: "Tickets for sale", "販売中のチケット";
        signed_in_as: "You are signed in as {}", "{}でサインインしています";
        not_signed_in: "You are not signed in", "サインインしていません";
        sell: "Sell a ticket", "チケットを出品";
        /// After a delete; `{}` is the ticket's title.
        deleted: "Deleted “{}”.", "「{}」を削除しました。";
        loading: "Loading tickets…", "チケットを読み込み中…";
        empty: "No tickets for sale right now.", "現在、販売中のチケットはありません。";
        empty_hint: "Have one to sell? List it in a minute.", "売りたいチケットはありますか？1分で出品できます。";
        load_more: "Load more", "さらに表示";
        /// The seller's own tickets.
        yours: "Yours", "あなたの出品";
        view: "View", "詳細を見る";
        /// The card's link for screen readers; `{}` is the ticket's title.
        view_label: "View {}", "「{}」の詳細を見る";
    }
}

texts! {
    /// The ticket page, and what it says of a ticket that is gone.
    pub struct TicketTexts {
        /// The page's description: title, price, state.
        description: "{}: {}. {}.", "{}：{}。{}。";
        edit: "Edit", "編集";
        /// Opens the question before a delete.
        delete_ask: "Delete…", "削除…";
        delete_question: "Delete this ticket? This cannot be undone.", "このチケットを削除しますか？この操作は取り消せません。";
        delete: "Delete", "削除";
        deleting: "Deleting…", "削除中…";
        keep: "Keep it", "削除しない";
        /// `{}`: until when, or nothing.
        held_for_seller: "A buyer holds this ticket{}, so it cannot be edited or deleted now.",
            "購入者がこのチケットを{}確保しているため、現在は編集・削除できません。";
        /// `{}`: on which day, or nothing.
        sold_by_you: "You sold this ticket{}.", "このチケットは{}売れました。";
        held_by_you: "You hold this ticket{}.", "このチケットを{}確保しています。";
        pay: "Pay for your order", "お支払いに進む";
        bought_by_you: "You bought this ticket{}.", "このチケットを{}購入しました。";
        see_order: "See your order", "注文を見る";
        purchase: "Purchase", "購入する";
        reserving: "Reserving…", "購入手続き中…";
        sign_in_to_buy: "Sign in to buy this ticket", "サインインしてこのチケットを購入";
        held_by_someone: "Someone is buying this ticket right now. Check back in a few minutes.",
            "現在、ほかの方がこのチケットの購入手続き中です。数分後にもう一度ご確認ください。";
        sold: "This ticket has been sold.", "このチケットは販売済みです。";
        selling: "You are selling this ticket.", "このチケットはあなたが出品しています。";
        gone_title: "Ticket not found", "チケットが見つかりません";
        gone_description: "This ticket was deleted by its seller, or never existed.",
            "このチケットは出品者により削除されたか、存在しません。";
        gone_heading: "This ticket is gone", "このチケットは見つかりません";
        gone_text: "It was deleted by its seller, or never existed.", "出品者により削除されたか、存在しないチケットです。";
        see_tickets: "See the tickets for sale", "販売中のチケットを見る";
    }
}

texts! {
    /// Selling a ticket and editing it: the same two fields.
    pub struct TicketFormTexts {
        title: "Title", "タイトル";
        price: "Price (USD)", "価格（USD）";
        sell_title: "Sell a ticket", "チケットを出品";
        sell_description: "List a ticket for sale: its title and its price in US dollars.",
            "チケットを出品します。タイトルと価格（USD）を入力してください。";
        list: "List ticket", "出品する";
        listing: "Listing…", "出品しています…";
        edit_heading: "Edit ticket", "チケットを編集";
        /// The edit page's title; `{}` is the ticket's.
        edit_named: "Edit {}", "「{}」を編集";
        edit_description: "Change a ticket's title or price while nobody holds it.",
            "誰にも確保されていない間は、チケットのタイトルと価格を変更できます。";
        only_seller: "Only the seller can edit this ticket.", "このチケットを編集できるのは出品者だけです。";
        save: "Save changes", "変更を保存";
        saving: "Saving…", "保存中…";
        back: "Back to the ticket", "チケットに戻る";
        /// `{}`: until when, or nothing.
        held: "A buyer holds this ticket{}, so it cannot be edited now. If the order expires or is cancelled, it is yours to edit again.",
            "購入者がこのチケットを{}確保しているため、現在は編集できません。注文が期限切れになるかキャンセルされると、再び編集できます。";
        /// `{}`: on which day, or nothing.
        sold: "You sold this ticket{}, so it cannot be edited.", "このチケットは{}売れたため、編集できません。";
    }
}

/// Tickets on the landing page at first, and how many more each "Load more" shows.
pub const PAGE: usize = 20;

#[cfg(feature = "ssr")]
mod forward {
    pub use crate::api::ssr::{call, call_quietly, item_path, Service};
    pub use contract::ErrorCode;
    pub use reqwest::{Method, Url};
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

/// The ticket, and the visitor's order holding it if the order is theirs. Only the buyer may
/// read an order, so asking the orders service tells: 200 is theirs; 401 or 404 is someone
/// else's, an answer rather than the page's error.
#[server(prefix = "/_fn", endpoint = "ticket_page")]
pub async fn get_ticket_details(id: String) -> Result<TicketDetails, AppError> {
    use forward::*;
    let ticket: Ticket = call(Service::Tickets, Method::GET, &item_path("tickets", &id)?, None::<&()>).await?;
    let signed_in = use_context::<http::request::Parts>().is_some_and(|parts| crate::api::ssr::session_token(&parts).is_some());
    let my_order = match ticket.order_id.as_ref() {
        Some(order_id) if signed_in && crate::api::is_id(order_id.as_str()) => {
            let path = format!("/api/orders/{order_id}");
            let answer: Result<contract::Order, AppError> = call_quietly(Service::Orders, Method::GET, &path, None::<&()>).await;
            match answer {
                Ok(order) => Some(order.id),
                Err(AppError::Api { status: 401 | 404, .. }) => None,
                // The page still shows the ticket; only the way to the order is missing.
                Err(error) => {
                    tracing::warn!(%error, %order_id, "could not tell whose order holds a ticket");
                    None
                }
            }
        }
        _ => None,
    };
    Ok(TicketDetails { ticket, my_order })
}

#[server(prefix = "/_fn", endpoint = "sell")]
pub async fn create_ticket(title: String, price: String) -> Result<(), AppError> {
    use forward::*;
    let ticket: Ticket = call(Service::Tickets, Method::POST, "/api/tickets", Some(&price_body(&title, &price)))
        .await
        .map_err(|error| error.required_if_empty("price", &price, ErrorCode::PriceRequired, PRICE_REQUIRED))?;
    leptos_axum::redirect(&format!("/tickets/{}", ticket.id));
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "edit")]
pub async fn update_ticket(id: String, title: String, price: String) -> Result<(), AppError> {
    use forward::*;
    let _: Ticket = call(Service::Tickets, Method::PUT, &item_path("tickets", &id)?, Some(&price_body(&title, &price)))
        .await
        .map_err(|error| error.required_if_empty("price", &price, ErrorCode::PriceRequired, PRICE_REQUIRED))?;
    leptos_axum::redirect(&format!("/tickets/{id}"));
    Ok(())
}

/// What an empty price field says (the API, sent `""`, says it is not a number).
#[cfg(feature = "ssr")]
const PRICE_REQUIRED: &str = "Price is required";

/// Deletes the ticket and sends the seller to `/?deleted=<its title>`, where the landing page
/// says so.
#[server(prefix = "/_fn", endpoint = "delete")]
pub async fn delete_ticket(id: String) -> Result<(), AppError> {
    use forward::*;
    let path = item_path("tickets", &id)?;
    // The title as the service has it, not as a form could claim it.
    let ticket: Ticket = call(Service::Tickets, Method::GET, &path, None::<&()>).await?;
    let _: () = call(Service::Tickets, Method::DELETE, &path, None::<&()>).await?;
    let landing = Url::parse_with_params("http://localhost/", [("deleted", &ticket.title)])
        .map(|url| format!("/?{}", url.query().unwrap_or_default()))
        .unwrap_or_else(|_| "/".to_string());
    leptos_axum::redirect(&landing);
    Ok(())
}

/// The form's price goes to the API as typed (the API accepts numeric strings and says what is
/// wrong with anything else, `12.345` included: the form does not round it).
#[cfg(feature = "ssr")]
fn price_body(title: &str, price: &str) -> contract::TicketBody {
    use contract::PriceInput;
    let price = price.trim();
    let price = price.strip_prefix('$').unwrap_or(price);
    let price = match price.parse::<f64>() {
        Ok(number) if number.is_finite() => PriceInput::Number(number),
        _ => PriceInput::Text(price.to_string()),
    };
    contract::TicketBody { title: Some(title.to_string()), price: Some(price) }
}

/// How many tickets `/` shows: `?show=`, a page's worth at least.
fn shown(query: Memo<leptos_router::params::ParamsMap>) -> usize {
    query.with(|q| q.get("show").and_then(|s| s.parse::<usize>().ok())).unwrap_or(PAGE).clamp(PAGE, 1_000)
}

/// What `/` loads, started with its chunk's download (as [`TicketData`]).
#[derive(Clone, Copy)]
pub struct LandingData {
    tickets: Resource<Result<(Vec<Ticket>, bool), AppError>>,
}

impl LandingData {
    pub fn load() -> Self {
        let query = use_query_map();
        Self { tickets: Resource::new(move || shown(query), list_tickets) }
    }
}

/// `/`: the tickets on sale, newest first, with "Load more" (a link, so it works without
/// JavaScript too), and what a seller just deleted (`?deleted=<title>`).
#[component]
pub fn LandingPage(data: LandingData) -> impl IntoView {
    let LandingData { tickets } = data;
    let query = use_query_map();
    let count = move || shown(query);
    let deleted = move || query.with(|q| q.get("deleted"));
    // Live: the list follows every ticket change in the count it shows: listed, reserved,
    // released, edited or deleted (a sale changes no list: the ticket left it when reserved).
    // Without JavaScript it stays as rendered.
    #[cfg(feature = "hydrate")]
    crate::live::follow(crate::live::TICKETS, &["ticket"], move |_| tickets.refetch());
    // How many tickets focus last moved in for: "Load more" moves it to the first new one once,
    // not again each time a live update draws the list anew.
    let focused = StoredValue::new(0);
    let session = use_session();
    let t = LandingTexts::of(use_locale());
    view! {
        <PageMeta title="" description=t.description />
        <section class="flex flex-col gap-6">
            <LandingHeader />
            {move || deleted().map(|title| view! { <Notice tone="success" id="deleted">{fill(t.deleted, &[&title])}</Notice> })}
            <Transition fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match tickets.await {
                        Err(error) => view! { <LoadFailed error /> }.into_any(),
                        Ok((list, _)) if list.is_empty() => view! {
                            <div data-testid="empty-state" class="rounded-2xl border border-dashed border-slate-300 p-10 text-center dark:border-slate-700">
                                <p class="text-lg font-medium">{t.empty}</p>
                                <p class="mt-1 text-slate-600 dark:text-slate-400">{t.empty_hint}</p>
                            </div>
                        }.into_any(),
                        Ok((list, more)) => {
                            // The seller's own tickets are marked: the session is read once for the list.
                            let me = session.await.map(|user| user.id);
                            let shown = list.len();
                            let landed = focused.get_value() == count();
                            focused.set_value(count());
                            // Each ticket is `#t-<index>`, so "Load more" can land on the first new one.
                            let next = format!("/?show={}#t-{shown}", shown + PAGE);
                            view! {
                                <ul class="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label=t.list_label>
                                    {list.into_iter().enumerate().map(|(index, ticket)| {
                                        let own = me.as_ref() == Some(&ticket.user_id);
                                        // After "Load more", focus goes to the first ticket it brought.
                                        let first_new = !landed && index > 0 && index + PAGE == count();
                                        view! { <TicketCard ticket index own first_new /> }
                                    }).collect_view()}
                                </ul>
                                <Show when=move || more>
                                    <div class="text-center">
                                        // A plain link: the router's `<A>` would mark it as the current page (same
                                        // path). Without JavaScript the browser lands on the first new ticket; with
                                        // it the page stays where it is (`data-noscroll`) and that ticket takes focus.
                                        <a
                                            href=next.clone()
                                            data-noscroll=true
                                            class="inline-block rounded-lg border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:border-slate-700 dark:hover:bg-slate-800"
                                        >
                                            {t.load_more}
                                        </a>
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

/// The page's heading, who is signed in, and the way to sell.
#[component]
fn LandingHeader() -> impl IntoView {
    let session = use_session();
    let t = LandingTexts::of(use_locale());
    view! {
        <div class="flex flex-wrap items-end justify-between gap-3">
            <div>
                <h1 class="text-3xl font-bold tracking-tight">{t.heading}</h1>
                <Transition fallback=|| ()>
                    <p data-testid="session-status" class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                        {move || session.get().map(|user| match user {
                            Some(user) => fill(t.signed_in_as, &[&user.email]),
                            None => t.not_signed_in.to_string(),
                        })}
                    </p>
                </Transition>
            </div>
            <A href="/tickets/new" attr:class="rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600">
                {t.sell}
            </A>
        </div>
    }
}

/// A ticket on sale, marked "Yours" for its signed-in seller. It is `#t-<index>`, so "Load more"
/// can land on the first new one.
#[component]
fn TicketCard(ticket: Ticket, index: usize, own: bool, first_new: bool) -> impl IntoView {
    let t = LandingTexts::of(use_locale());
    let href = format!("/tickets/{}", ticket.id);
    let label = fill(t.view_label, &[&ticket.title]);
    let card = NodeRef::<leptos::html::Li>::new();
    if first_new {
        Effect::new(move || {
            if let Some(card) = card.get() {
                let _ = card.focus();
            }
        });
    }
    view! {
        <li node_ref=card id=format!("t-{index}") tabindex=first_new.then_some("-1") class="flex flex-col justify-between gap-3 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <div>
                <div class="flex items-start justify-between gap-2">
                    <h2 class="min-w-0 break-words text-lg font-semibold">{ticket.title}</h2>
                    {own.then(|| view! {
                        <span data-testid="own-marker" class="shrink-0 rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100">{t.yours}</span>
                    })}
                </div>
                <p class="text-slate-600 dark:text-slate-400">{dollars(ticket.price)}</p>
            </div>
            <A href=href attr:class="self-start font-medium text-indigo-600 underline dark:text-indigo-400" attr:aria-label=label>{t.view}</A>
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
    let t = TicketFormTexts::of(use_locale());
    view! {
        <PageMeta title=t.sell_title description=t.sell_description />
        <Card title=t.sell_title>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.await {
                        None => view! { <Redirect path="/auth/signin?next=/tickets/new" /> }.into_any(),
                        Some(_) => view! {
                            <ActionForm action=action attr:class="flex flex-col gap-4" attr:novalidate=true>
                                <FormErrors messages=general_errors(error, TICKET_FIELDS) />
                                <Field name="title" label=t.title error=field_error(error, "title") first_invalid=first_invalid(error, TICKET_FIELDS, "title") />
                                <Field name="price" label=t.price inputmode="decimal" error=field_error(error, "price") first_invalid=first_invalid(error, TICKET_FIELDS, "price") />
                                <SubmitButton label=t.list pending_label=t.listing pending=action.pending() />
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Card>
    }
}

/// A ticket and whether the visitor's own order holds it, so the buyer holding it is told so
/// (not that someone is buying it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketDetails {
    pub ticket: Ticket,
    /// The visitor's order that reserved or bought the ticket, if it is theirs.
    pub my_order: Option<contract::OrderId>,
}

/// What `/tickets/:id` loads. Its lazy route starts it (`LazyRoute::data`) while the page's
/// chunk downloads, instead of after. The page's actions stay in its chunk (in the first
/// download they would cost every visitor their code) and load it again when they are done.
#[derive(Clone, Copy)]
pub struct TicketData {
    details: Resource<Result<TicketDetails, AppError>>,
}

impl TicketData {
    pub fn load() -> Self {
        Self { details: Resource::new(route_id(), get_ticket_details) }
    }
}

/// Who looks at a ticket, as far as its page is concerned.
enum Viewer {
    Seller,
    /// Reserved or bought it through this order.
    Holder(contract::OrderId),
    SignedIn,
    SignedOut,
}

/// `/tickets/:id`: the ticket in one state (on sale, reserved until a time, sold on a day), and
/// what this visitor can do: Purchase, Edit and Delete for its seller while it is on sale, the
/// way to their order for the buyer holding it.
#[component]
pub fn TicketPage(data: TicketData) -> impl IntoView {
    let TicketData { details } = data;
    let actions = TicketActions::new(details);
    follow_this_ticket(details);
    let session = use_session();
    let common = Common::of(use_locale());
    view! {
        <Transition fallback=move || view! { <p>{common.loading}</p> }>
            {move || Suspend::new(async move {
                let user = session.await;
                match details.await {
                    Err(error) if error.is_not_found() => view! { <Gone /> }.into_any(),
                    Err(error) => view! { <LoadFailed error /> }.into_any(),
                    Ok(TicketDetails { ticket, my_order }) => {
                        let viewer = match (&user, my_order) {
                            (Some(user), _) if user.id == ticket.user_id => Viewer::Seller,
                            (_, Some(order)) => Viewer::Holder(order),
                            (Some(_), None) => Viewer::SignedIn,
                            (None, None) => Viewer::SignedOut,
                        };
                        view! { <TicketView ticket viewer actions /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The page's two actions, Purchase and Delete, and what each said when it failed.
#[derive(Clone, Copy)]
struct TicketActions {
    purchase: ServerAction<CreateOrder>,
    delete: ServerAction<DeleteTicket>,
    purchase_error: Memo<Option<AppError>>,
    delete_error: Memo<Option<AppError>>,
}

impl TicketActions {
    fn new(details: Resource<Result<TicketDetails, AppError>>) -> Self {
        let (purchase, delete) = (ServerAction::<CreateOrder>::new(), ServerAction::<DeleteTicket>::new());
        after_each_run(purchase, move || {
            details.refetch();
            // A purchase leads to its order's page: focus goes there once it is shown.
            if purchase.value().with_untracked(|value| matches!(value, Some(Ok(())))) {
                focus_when_shown("#order-heading".to_string());
            }
        });
        // A delete leads to the landing page, to the notice that says it happened.
        after_each_run(delete, move || {
            if delete.value().with_untracked(|value| matches!(value, Some(Ok(())))) {
                focus_when_shown("#deleted".to_string());
            }
        });
        Self { purchase, delete, purchase_error: action_error(purchase), delete_error: action_error(delete) }
    }
}

/// Live: this ticket reserved, released, sold, edited or deleted shows without a reload. (This
/// page is a lazy route: the code is in its chunk.)
fn follow_this_ticket(details: Resource<Result<TicketDetails, AppError>>) {
    #[cfg(feature = "hydrate")]
    {
        let params = leptos_router::hooks::use_params_map();
        let this = move |id: &str| params.with_untracked(|p| p.get("id")).is_some_and(|shown| shown == id);
        crate::live::follow(crate::live::TICKETS, &["ticket", "sold"], move |changed| {
            if changed.is_none_or(|id| this(&id)) {
                details.refetch();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = details;
}

/// The ticket as loaded: its title, state and price, and what this viewer can do with it.
#[component]
fn TicketView(ticket: Ticket, viewer: Viewer, actions: TicketActions) -> impl IntoView {
    let locale = use_locale();
    let t = TicketTexts::of(locale);
    let state = TicketState::of(&ticket);
    let price = dollars(ticket.price);
    let description = fill(t.description, &[&ticket.title, &price, &state.label(locale)]);
    let selling = matches!(viewer, Viewer::Seller) && !matches!(state, TicketState::Sold(_));
    let (id, title, label) = (ticket.id.into_string(), ticket.title, state.label(locale));
    view! {
        <PageMeta title=title.clone() description />
        <article class="mx-auto flex w-full max-w-xl flex-col gap-4 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <div class="flex flex-wrap items-start justify-between gap-2">
                <h1 class="break-words text-2xl font-bold">{title}</h1>
                <span data-testid="ticket-state" class="rounded-full bg-slate-100 px-3 py-1 text-sm font-medium dark:bg-slate-800">{label}</span>
            </div>
            <p class="text-xl">{price}</p>
            <Show when=move || selling>
                <p data-testid="seller-marker" class="text-sm font-medium text-emerald-700 dark:text-emerald-400">{t.selling}</p>
            </Show>
            <WhatYouCanDo state viewer id actions />
        </article>
    }
}

/// What the viewer can do with the ticket in its state, or why they cannot.
#[component]
fn WhatYouCanDo(state: TicketState, viewer: Viewer, id: String, actions: TicketActions) -> impl IntoView {
    let locale = use_locale();
    let t = TicketTexts::of(locale);
    let note = "text-slate-600 dark:text-slate-400";
    let TicketActions { purchase, purchase_error, .. } = actions;
    match (state, viewer) {
        (TicketState::OnSale, Viewer::Seller) => view! { <OwnerControls id actions /> }.into_any(),
        (TicketState::Reserved(hold), Viewer::Seller) => {
            let text = fill(t.held_for_seller, &[&until(locale, hold.as_deref())]);
            view! { <p class=note>{text}</p> }.into_any()
        }
        (TicketState::Sold(day), Viewer::Seller) => {
            let text = fill(t.sold_by_you, &[&on_day(locale, day.as_deref())]);
            view! { <p class=note>{text}</p> }.into_any()
        }
        (TicketState::Reserved(hold), Viewer::Holder(order)) => {
            let text = fill(t.held_by_you, &[&until(locale, hold.as_deref())]);
            let href = format!("/orders/{order}");
            view! {
                <p class="font-medium">{text}</p>
                <A href=href attr:class="self-start rounded-lg bg-indigo-600 px-4 py-2 font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600">{t.pay}</A>
            }
            .into_any()
        }
        (TicketState::Sold(day), Viewer::Holder(order)) => {
            let text = fill(t.bought_by_you, &[&on_day(locale, day.as_deref())]);
            let href = format!("/orders/{order}");
            view! {
                <p class="font-medium">{text}</p>
                <A href=href attr:class=LINK>{t.see_order}</A>
            }
            .into_any()
        }
        (TicketState::OnSale, Viewer::SignedIn | Viewer::Holder(_)) => view! {
            <ActionForm action=purchase attr:class="flex flex-col gap-3">
                <FormErrors messages=general_errors(purchase_error, &[]) />
                <input type="hidden" name="ticket_id" value=id />
                <SubmitButton label=t.purchase pending_label=t.reserving pending=purchase.pending() />
            </ActionForm>
        }
        .into_any(),
        (TicketState::OnSale, Viewer::SignedOut) => {
            let next = format!("/auth/signin?next=/tickets/{id}");
            view! { <A href=next attr:class=LINK>{t.sign_in_to_buy}</A> }.into_any()
        }
        (TicketState::Reserved(_), Viewer::SignedIn | Viewer::SignedOut) => view! { <p class=note>{t.held_by_someone}</p> }.into_any(),
        (TicketState::Sold(_), Viewer::SignedIn | Viewer::SignedOut) => view! { <p class=note>{t.sold}</p> }.into_any(),
    }
}

/// Edit, and Delete behind a question, for the seller of a ticket on sale.
#[component]
fn OwnerControls(id: String, actions: TicketActions) -> impl IntoView {
    let t = TicketTexts::of(use_locale());
    let TicketActions { delete, delete_error, .. } = actions;
    let edit = format!("/tickets/{id}/edit");
    let here = format!("/tickets/{id}");
    let question = NodeRef::<leptos::html::Details>::new();
    let opener = NodeRef::<leptos::html::Summary>::new();
    // "Keep it" closes the question with JavaScript; without, it is a link back to this page,
    // where the question is closed.
    let keep = move |event: leptos::ev::MouseEvent| {
        if let (Some(question), Some(opener)) = (question.get(), opener.get()) {
            event.prevent_default();
            question.set_open(false);
            let _ = opener.focus();
        }
    };
    view! {
        <div class="flex flex-wrap items-start gap-3">
            <A href=edit attr:class="inline-flex min-h-6 items-center rounded-lg border border-slate-300 px-4 py-2 font-semibold hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:border-slate-700 dark:hover:bg-slate-800">{t.edit}</A>
            // Delete asks first, with or without JavaScript (a disclosure, no `confirm()`). A
            // failed delete opens it again with the error, after a plain form post too.
            <details node_ref=question open=move || delete_error.get().is_some()>
                <summary node_ref=opener class="flex min-h-6 cursor-pointer list-none items-center rounded-lg border border-red-300 px-4 py-2 font-semibold text-red-700 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-red-600 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950">
                    {t.delete_ask}
                </summary>
                <ActionForm action=delete attr:class="mt-3 flex flex-col gap-3 rounded-lg border border-red-200 bg-red-50 p-4 dark:border-red-900 dark:bg-red-950">
                    <FormErrors messages=general_errors(delete_error, &[]) />
                    <p class="font-medium">{t.delete_question}</p>
                    <input type="hidden" name="id" value=id />
                    <div class="flex flex-wrap gap-3">
                        <button type="submit" disabled=move || delete.pending().get() class="inline-flex min-h-6 items-center rounded-lg bg-red-600 px-4 py-2 font-semibold text-white shadow-sm hover:bg-red-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600 disabled:opacity-60">
                            {move || if delete.pending().get() { t.deleting } else { t.delete }}
                        </button>
                        <a href=here on:click=keep class="inline-flex min-h-6 items-center rounded-lg border border-slate-300 bg-white px-4 py-2 font-semibold hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600 dark:border-slate-700 dark:bg-slate-900 dark:hover:bg-slate-800">
                            {t.keep}
                        </a>
                    </div>
                </ActionForm>
            </details>
        </div>
    }
}

#[component]
fn Gone() -> impl IntoView {
    crate::pages::not_found::respond_not_found();
    let t = TicketTexts::of(use_locale());
    view! {
        <PageMeta title=t.gone_title description=t.gone_description />
        <section class="flex flex-col items-start gap-3">
            <h1 class="text-2xl font-bold">{t.gone_heading}</h1>
            <p class="text-slate-600 dark:text-slate-400">{t.gone_text}</p>
            <A href="/" attr:class=LINK>{t.see_tickets}</A>
        </section>
    }
}

/// `/tickets/:id/edit`: the seller changes title or price while nobody holds the ticket.
#[component]
pub fn EditTicketPage(data: TicketData) -> impl IntoView {
    let id = route_id();
    // The ticket page's data: one server function fewer in every visitor's first download.
    let TicketData { details } = data;
    let action = ServerAction::<UpdateTicket>::new();
    let error = action_error(action);
    let session = use_session();
    let back = "mt-4 inline-flex min-h-6 items-center font-medium text-indigo-600 underline dark:text-indigo-400";
    let locale = use_locale();
    let (t, common) = (TicketFormTexts::of(locale), Common::of(locale));
    view! {
        <Card title=t.edit_heading>
            <Transition fallback=move || view! { <p>{common.loading}</p> }>
                {move || Suspend::new(async move {
                    let user = session.await;
                    let loaded = details.await.map(|details| details.ticket);
                    let title = match &loaded {
                        Ok(ticket) => fill(t.edit_named, &[&ticket.title]),
                        Err(_) => t.edit_heading.to_string(),
                    };
                    let page = match (user, loaded) {
                        (None, _) => view! { <Redirect path=format!("/auth/signin?next=/tickets/{}/edit", id()) /> }.into_any(),
                        (_, Err(error)) => view! { <LoadFailed error /> }.into_any(),
                        (Some(user), Ok(ticket)) if user.id != ticket.user_id => view! {
                            <Notice tone="error">{t.only_seller}</Notice>
                        }.into_any(),
                        (Some(_), Ok(ticket)) => match TicketState::of(&ticket) {
                            TicketState::OnSale => {
                                let href = format!("/tickets/{}", ticket.id);
                                view! {
                                    <ActionForm action=action attr:class="flex flex-col gap-4" attr:novalidate=true>
                                        <FormErrors messages=general_errors(error, TICKET_FIELDS) />
                                        <input type="hidden" name="id" value=ticket.id.to_string() />
                                        <Field name="title" label=t.title value=ticket.title.clone() error=field_error(error, "title") first_invalid=first_invalid(error, TICKET_FIELDS, "title") />
                                        <Field name="price" label=t.price inputmode="decimal" value=ticket.price.to_string() error=field_error(error, "price") first_invalid=first_invalid(error, TICKET_FIELDS, "price") />
                                        <SubmitButton label=t.save pending_label=t.saving pending=action.pending() />
                                    </ActionForm>
                                    // The way back without saving. `exact`: this page's path starts with
                                    // the ticket's, which is not the current page.
                                    <A href=href exact=true attr:class=back>{t.back}</A>
                                }.into_any()
                            }
                            TicketState::Reserved(hold) => {
                                let text = fill(t.held, &[&until(locale, hold.as_deref())]);
                                let href = format!("/tickets/{}", ticket.id);
                                view! {
                                    <Notice tone="info">{text}</Notice>
                                    <A href=href exact=true attr:class=back>{t.back}</A>
                                }.into_any()
                            }
                            TicketState::Sold(day) => {
                                let text = fill(t.sold, &[&on_day(locale, day.as_deref())]);
                                let href = format!("/tickets/{}", ticket.id);
                                view! {
                                    <Notice tone="info">{text}</Notice>
                                    <A href=href exact=true attr:class=back>{t.back}</A>
                                }.into_any()
                            }
                        },
                    };
                    view! {
                        <PageMeta title description=t.edit_description />
                        {page}
                    }
                })}
            </Transition>
        </Card>
    }
}
