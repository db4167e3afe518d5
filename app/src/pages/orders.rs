//! `/orders` (my orders) and `/orders/:id` (countdown, payment, cancel), with the server
//! functions behind them.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use crate::components::form::{action_error, general_errors, FormErrors, SubmitButton};
use crate::components::layout::{LoadFailed, Notice};
use crate::components::stripe::PaymentElement;
use crate::error::AppError;
use crate::model::{dollars, Order, OrderStatus};
use crate::pages::route_id;

#[cfg(feature = "ssr")]
mod forward {
    pub use crate::api::ssr::{answer_with_status, call, Service};
    pub use reqwest::Method;
}

/// An order as its page needs it: the times are read on the server so the first render in the
/// browser (hydration) shows the same countdown as the HTML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDetails {
    pub order: Order,
    pub expires_ms: i64,
    pub now_ms: i64,
    /// Stripe.js's key; without it the page offers Stripe's test cards (test mode).
    pub publishable_key: Option<String>,
}

#[server(prefix = "/_fn", endpoint = "orders")]
pub async fn list_orders() -> Result<Vec<Order>, AppError> {
    use forward::*;
    call(Service::Orders, Method::GET, "/api/orders", None::<&()>).await
}

#[server(prefix = "/_fn", endpoint = "order")]
pub async fn get_order(id: String) -> Result<OrderDetails, AppError> {
    use forward::*;
    use time::format_description::well_known::Rfc3339;
    let order: Order = call(Service::Orders, Method::GET, &format!("/api/orders/{id}"), None::<&()>).await?;
    let millis = |at: time::OffsetDateTime| (at.unix_timestamp_nanos() / 1_000_000) as i64;
    let expires_ms = time::OffsetDateTime::parse(&order.expires_at, &Rfc3339).map(millis).unwrap_or_default();
    let publishable_key = use_context::<crate::api::ApiConfig>().and_then(|c| c.stripe_publishable_key);
    Ok(OrderDetails { order, expires_ms, now_ms: millis(time::OffsetDateTime::now_utc()), publishable_key })
}

#[server(prefix = "/_fn", endpoint = "purchase")]
pub async fn create_order(ticket_id: String) -> Result<(), AppError> {
    use forward::*;
    let order: Order = call(Service::Orders, Method::POST, "/api/orders", Some(&serde_json::json!({ "ticketId": ticket_id }))).await?;
    leptos_axum::redirect(&format!("/orders/{}", order.id));
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "cancel")]
pub async fn cancel_order(id: String) -> Result<(), AppError> {
    use forward::*;
    let _: () = call(Service::Orders, Method::DELETE, &format!("/api/orders/{id}"), None::<&()>).await?;
    leptos_axum::redirect(&format!("/orders/{id}"));
    Ok(())
}

/// Pays for an order. `Some(client secret)` when the card needs the buyer's authentication
/// (3-D Secure), which Stripe.js then completes in the browser; the order completes when
/// Stripe tells the payments service.
#[server(prefix = "/_fn", endpoint = "pay")]
pub async fn pay(order_id: String, token: String) -> Result<Option<String>, AppError> {
    use forward::*;
    let body = serde_json::json!({ "orderId": order_id, "token": token });
    let paid: contract::Payment = call(Service::Payments, Method::POST, "/api/payments", Some(&body)).await?;
    if paid.status == Some(contract::PaymentStatus::RequiresAction) {
        let with_stripe_js = use_context::<crate::api::ApiConfig>().is_some_and(|config| config.stripe_publishable_key.is_some());
        if let (Some(secret), true) = (paid.client_secret, with_stripe_js) {
            return Ok(Some(secret));
        }
        answer_with_status(402);
        return Err(AppError::Api {
            status: 402,
            messages: vec![contract::ErrorItem::new("This card needs 3-D Secure authentication, which only Stripe.js can do, and payments are in test mode here. Nothing was charged: choose another card.")],
        });
    }
    // The order completes when payment.created reaches the orders service, milliseconds later:
    // wait for it so the page the buyer lands on says "Paid".
    let path = format!("/api/orders/{order_id}");
    for _ in 0..40 {
        let order: Order = call(Service::Orders, Method::GET, &path, None::<&()>).await?;
        if !order.status.is_open() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    leptos_axum::redirect(&format!("/orders/{order_id}"));
    Ok(None)
}

/// An order's status in words and colour.
#[component]
pub fn StatusBadge(status: OrderStatus) -> impl IntoView {
    let (label, class) = match status {
        OrderStatus::Complete => ("Paid", "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100"),
        OrderStatus::Cancelled => ("Cancelled", "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100"),
        OrderStatus::Created | OrderStatus::AwaitingPayment => {
            ("Awaiting payment", "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100")
        }
    };
    view! { <span data-testid="order-status" class=format!("rounded-full px-3 py-1 text-sm font-medium {class}")>{label}</span> }
}

/// What `/orders` loads. Its lazy route starts it (`LazyRoute::data`) while the page's chunk
/// downloads, instead of after.
#[derive(Clone, Copy)]
pub struct OrdersData {
    orders: Resource<Result<Vec<Order>, AppError>>,
}

impl OrdersData {
    pub fn load() -> Self {
        Self { orders: Resource::new(|| (), |_| list_orders()) }
    }
}

/// `/orders`: the visitor's orders, newest first.
#[component]
pub fn OrdersPage(data: OrdersData) -> impl IntoView {
    let OrdersData { orders } = data;
    view! {
        <Title text="My Orders" />
        <section class="flex flex-col gap-4">
            <h1 class="text-3xl font-bold tracking-tight">"My Orders"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match orders.await {
                        Err(error) => view! { <LoadFailed error signin_then="/orders" /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="text-slate-600 dark:text-slate-400">"You have no orders yet. "<A href="/" attr:class="font-medium text-indigo-600 underline dark:text-indigo-400">"Find a ticket"</A></p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="flex flex-col gap-3" aria-label="Orders">
                                {list.into_iter().map(|order| {
                                    let href = format!("/orders/{}", order.id);
                                    view! {
                                        <li class="flex flex-wrap items-center justify-between gap-3 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
                                            <div class="min-w-0">
                                                <p class="break-words font-semibold">{order.ticket.title.clone()}</p>
                                                <p class="text-sm text-slate-600 dark:text-slate-400">{dollars(order.ticket.price)}</p>
                                            </div>
                                            <div class="flex items-center gap-3">
                                                <StatusBadge status=order.status />
                                                <A href=href attr:class="font-medium text-indigo-600 underline dark:text-indigo-400">"View order"</A>
                                            </div>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// What `/orders/:id` loads, started with the chunk download (as [`OrdersData`]). The page's
/// actions stay in its chunk and load it again when they are done.
#[derive(Clone, Copy)]
pub struct OrderData {
    details: Resource<Result<OrderDetails, AppError>>,
}

impl OrderData {
    pub fn load() -> Self {
        Self { details: Resource::new(route_id(), get_order) }
    }
}

/// `/orders/:id`: the order, a countdown while it is open, the payment form and Cancel.
#[component]
pub fn OrderPage(data: OrderData) -> impl IntoView {
    let id = route_id();
    let OrderData { details } = data;
    let pay_action = ServerAction::<Pay>::new();
    let cancel = ServerAction::<CancelOrder>::new();
    Effect::watch(move || (pay_action.version().get(), cancel.version().get()), move |_, _, _| details.refetch(), false);
    let pay_error = action_error(pay_action);
    let cancel_error = action_error(cancel);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match details.await {
                    Err(error) if error.is_not_found() => view! { <Notice tone="error">"There is no such order."</Notice> }.into_any(),
                    Err(error) => view! { <LoadFailed error signin_then=format!("/orders/{}", id()) /> }.into_any(),
                    Ok(details) => {
                        let order = details.order.clone();
                        let now = RwSignal::new(details.now_ms);
                        tick_every_second(now);
                        let expires = details.expires_ms;
                        let left = move || ((expires - now.get()) as f64 / 1000.0).ceil().max(0.0) as i64;
                        let open = order.status.is_open();
                        // A memo: the form is rebuilt when it appears or goes, not at every tick.
                        let payable = Memo::new(move |_| open && left() > 0);
                        let price = dollars(order.ticket.price);
                        let ticket_href = format!("/tickets/{}", order.ticket.id);
                        let (order_id, publishable_key) = (order.id.clone(), details.publishable_key.clone());
                        let amount_cents = order.ticket.price.0;
                        view! {
                            <Title text="Order" />
                            <article class="mx-auto flex w-full max-w-xl flex-col gap-4 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
                                <div class="flex flex-wrap items-start justify-between gap-2">
                                    <h1 class="text-2xl font-bold">"Your order"</h1>
                                    <StatusBadge status=order.status />
                                </div>
                                <p class="break-words text-lg"><A href=ticket_href attr:class="font-semibold underline">{order.ticket.title.clone()}</A>" · "{price.clone()}</p>
                                {match order.status {
                                    OrderStatus::Complete => view! { <Notice tone="success">"Paid. The ticket is yours."</Notice> }.into_any(),
                                    OrderStatus::Cancelled => view! { <Notice tone="info">"This order was cancelled; the ticket went back on sale."</Notice> }.into_any(),
                                    OrderStatus::Created | OrderStatus::AwaitingPayment => view! {
                                        <p role="timer" data-testid="countdown" class="text-lg font-medium">
                                            {move || if left() > 0 { format!("Time left to pay: {} seconds", left()) } else { "Order expired".to_string() }}
                                        </p>
                                    }.into_any(),
                                }}
                                {move || payable.get().then(|| {
                                    let (order_id, price) = (order_id.clone(), price.clone());
                                    let payment = match publishable_key.clone() {
                                        Some(publishable_key) => {
                                            let paying = order_id.clone();
                                            let on_token = Callback::new(move |token: String| {
                                                pay_action.dispatch(Pay { order_id: paying.clone(), token });
                                            });
                                            let needs_action = Signal::derive(move || pay_action.value().get().and_then(|paid| paid.ok().flatten()));
                                            view! {
                                                <PaymentElement on_token pending=pay_action.pending() error=pay_error needs_action price amount_cents publishable_key />
                                            }.into_any()
                                        }
                                        None => view! { <PaymentForm action=pay_action order_id=order_id.clone() price error=pay_error /> }.into_any(),
                                    };
                                    view! {
                                        {payment}
                                        <ActionForm action=cancel attr:class="flex flex-col gap-2">
                                            <FormErrors messages=general_errors(cancel_error, &[]) />
                                            <input type="hidden" name="id" value=order_id />
                                            <button type="submit" disabled=move || cancel.pending().get() class="self-start text-sm font-medium text-slate-600 underline hover:text-red-700 focus-visible:outline-2 focus-visible:outline-indigo-600 disabled:opacity-60 dark:text-slate-400">
                                                {move || if cancel.pending().get() { "Cancelling…" } else { "Cancel order" }}
                                            </button>
                                        </ActionForm>
                                    }
                                })}
                            </article>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// In the browser, moves `now` to the clock once a second; on the server it stays at the time
/// the page was rendered, so hydration starts from the same text.
fn tick_every_second(now: RwSignal<i64>) {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            now.set(js_sys::Date::now() as i64);
            if let Ok(handle) = set_interval_with_handle(move || now.set(js_sys::Date::now() as i64), std::time::Duration::from_secs(1)) {
                on_cleanup(move || handle.clear());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = now;
    });
}

/// Paying in test mode (no Stripe publishable key): a choice of Stripe's test cards, one that
/// succeeds, one that is declined and one that needs 3-D Secure (which only Stripe.js can
/// complete: the page says so). It works without JavaScript.
#[component]
fn PaymentForm(action: ServerAction<Pay>, order_id: String, price: String, error: Memo<Option<AppError>>) -> impl IntoView {
    let radio = "h-4 w-4 accent-indigo-600 focus-visible:outline-2 focus-visible:outline-indigo-600";
    view! {
        <ActionForm action=action attr:class="flex flex-col gap-4" attr:aria-label="Payment">
            <FormErrors messages=general_errors(error, &[]) />
            <input type="hidden" name="order_id" value=order_id />
            <fieldset class="flex flex-col gap-2 rounded-lg border border-slate-200 p-4 dark:border-slate-700">
                <legend class="px-1 text-sm font-medium">"Test card"</legend>
                <label class="flex items-center gap-2">
                    <input type="radio" name="token" value="pm_card_visa" checked=true class=radio />
                    "Visa ending 4242 (succeeds)"
                </label>
                <label class="flex items-center gap-2">
                    <input type="radio" name="token" value="pm_card_chargeDeclined" class=radio />
                    "Visa ending 0002 (declined)"
                </label>
                <label class="flex items-center gap-2">
                    <input type="radio" name="token" value="pm_card_threeDSecure2Required" class=radio />
                    "Visa ending 3220 (needs 3-D Secure)"
                </label>
            </fieldset>
            <p data-testid="test-mode" class="text-sm text-amber-800 dark:text-amber-300">"Payments are in test mode: no real card is charged."</p>
            <SubmitButton label=format!("Pay {price}") pending_label="Paying…" pending=action.pending() />
        </ActionForm>
    }
}
