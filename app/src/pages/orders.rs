//! `/orders` (my orders) and `/orders/:id` (countdown, payment, cancel), with the server
//! functions behind them.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::form::{action_error, after_each_run, general_errors, FormErrors, SubmitButton};
use crate::components::layout::{focus_when_shown, LoadFailed, Notice, PageMeta, LINK};
use crate::components::stripe::PaymentElement;
use crate::error::AppError;
use crate::i18n::{fill, texts, use_locale, Common};
use crate::model::{countdown, dollars, utc_time, CancelReason, Order, OrderState};
use crate::pages::route_id;

texts! {
    /// `/orders`: the buyer's list of orders.
    pub struct OrdersTexts {
        page_title: "My orders", "注文履歴";
        page_description: "Your orders: what you paid for, and what is waiting for payment.", "ご注文の一覧です。お支払い済みの注文とお支払い待ちの注文を確認できます。";
        heading: "My Orders", "注文履歴";
        /// Followed by the link to find a ticket, hence the English space.
        none_yet: "You have no orders yet. ", "まだ注文はありません。";
        find_ticket: "Find a ticket", "チケットを探す";
        list_label: "Orders", "注文";
        view_order: "View order", "注文を見る";
    }
}

texts! {
    /// `/orders/:id`: the order, its countdown, the test-card payment form and Cancel.
    pub struct OrderTexts {
        no_such_order: "There is no such order.", "この注文は見つかりません。";
        /// The ticket's title.
        page_title: "Order for {}", "{}のご注文";
        /// The ticket's title, then its price.
        page_description: "Your order for {} at {}.", "{}（{}）のご注文です。";
        heading: "Your order", "ご注文内容";
        /// The minutes and seconds left (`14:58`).
        time_left: "Time left to pay: {}", "お支払いの残り時間：{}";
        /// When the time to pay ended (`14:05`), to go into `expired` and `expired_back_on_sale`.
        expired_at: " at {} UTC", "{}（UTC）に";
        /// `expired_at`, or nothing when the time is unknown.
        expired: "This order expired{}.", "この注文は{}期限切れになりました。";
        expired_back_on_sale: "This order expired{}; the ticket went back on sale.", "この注文は{}期限切れになり、チケットは再び販売中になりました。";
        paid: "Paid. The ticket is yours.", "お支払いが完了しました。チケットの購入が確定しました。";
        cancelled_by_you: "You cancelled this order; the ticket went back on sale.", "この注文をキャンセルしました。チケットは再び販売中になりました。";
        cancelled: "This order was cancelled; the ticket went back on sale.", "この注文はキャンセルされました。チケットは再び販売中になりました。";
        withdrawn: "The seller withdrew this ticket, so this order was cancelled. Anything you paid is refunded.",
            "出品者がこのチケットを取り下げたため、この注文はキャンセルされました。お支払い済みの金額は返金されます。";
        changed: "The seller changed this ticket's price or title while your order was being placed, so the order was cancelled. Anything you paid is refunded; the ticket's page shows it as it is now.",
            "注文の処理中に出品者がこのチケットの価格またはタイトルを変更したため、この注文はキャンセルされました。お支払い済みの金額は返金されます。現在の内容はチケットのページでご確認ください。";
        cancel_order: "Cancel order", "注文をキャンセル";
        cancelling: "Cancelling…", "キャンセル中…";
        payment_label: "Payment", "お支払い";
        test_card: "Test card", "テストカード";
        card_succeeds: "Visa ending 4242 (succeeds)", "末尾4242のVisa（成功）";
        card_declined: "Visa ending 0002 (declined)", "末尾0002のVisa（拒否）";
        card_needs_3ds: "Visa ending 3220 (needs 3-D Secure)", "末尾3220のVisa（3Dセキュアが必要）";
        test_mode: "Payments are in test mode: no real card is charged.", "テストモードです。実際のカードには請求されません。";
        /// The price.
        pay: "Pay {}", "{}を支払う";
        paying: "Paying…", "お支払い中…";
    }
}

#[cfg(feature = "ssr")]
mod forward {
    pub use crate::api::ssr::{answer_with_status, call, item_path, Service};
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

/// An order in the visitor's list, and whether its time to pay has run out (it is cancelled a
/// moment later; until then it already reads as expired).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedOrder {
    pub order: Order,
    pub ran_out: bool,
}

#[server(prefix = "/_fn", endpoint = "orders")]
pub async fn list_orders() -> Result<Vec<ListedOrder>, AppError> {
    use forward::*;
    let orders: Vec<Order> = call(Service::Orders, Method::GET, "/api/orders", None::<&()>).await?;
    let now = unix_ms(time::OffsetDateTime::now_utc());
    Ok(orders.into_iter().map(|order| ListedOrder { ran_out: expiry_ms(&order) <= now, order }).collect())
}

#[server(prefix = "/_fn", endpoint = "order")]
pub async fn get_order(id: String) -> Result<OrderDetails, AppError> {
    use forward::*;
    let order: Order = call(Service::Orders, Method::GET, &item_path("orders", &id)?, None::<&()>).await?;
    let expires_ms = expiry_ms(&order);
    let publishable_key = use_context::<crate::api::ApiConfig>().and_then(|c| c.stripe_publishable_key);
    Ok(OrderDetails { order, expires_ms, now_ms: unix_ms(time::OffsetDateTime::now_utc()), publishable_key })
}

#[cfg(feature = "ssr")]
fn unix_ms(at: time::OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// When the order's time to pay ends, in Unix milliseconds (0 if the API's time cannot be read).
#[cfg(feature = "ssr")]
fn expiry_ms(order: &Order) -> i64 {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(&order.expires_at, &Rfc3339).map(unix_ms).unwrap_or_default()
}

#[server(prefix = "/_fn", endpoint = "purchase")]
pub async fn create_order(ticket_id: String) -> Result<(), AppError> {
    use forward::*;
    let body = contract::OrderBody { ticket_id: Some(ticket_id.into()) };
    let order: Order = call(Service::Orders, Method::POST, "/api/orders", Some(&body)).await?;
    leptos_axum::redirect(&format!("/orders/{}", order.id));
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "cancel")]
pub async fn cancel_order(id: String) -> Result<(), AppError> {
    use forward::*;
    let _: () = call(Service::Orders, Method::DELETE, &item_path("orders", &id)?, None::<&()>).await?;
    leptos_axum::redirect(&format!("/orders/{id}"));
    Ok(())
}

/// Pays for an order. `Some(client secret)` when the card needs the buyer's authentication
/// (3-D Secure), which Stripe.js then completes in the browser; the order completes when
/// Stripe tells the payments service.
#[server(prefix = "/_fn", endpoint = "pay")]
pub async fn pay(order_id: String, token: String) -> Result<Option<String>, AppError> {
    let paid = charge(&order_id, &token).await;
    if let Err(error) = &paid {
        back_with_card(&order_id, &token, error);
    }
    paid
}

#[cfg(feature = "ssr")]
async fn charge(order_id: &str, token: &str) -> Result<Option<String>, AppError> {
    use forward::*;
    let body = contract::PaymentBody { order_id: Some(order_id.into()), token: Some(token.to_string()) };
    let paid: contract::Payment = call(Service::Payments, Method::POST, "/api/payments", Some(&body)).await?;
    if paid.status == Some(contract::PaymentStatus::RequiresAction) {
        let with_stripe_js = use_context::<crate::api::ApiConfig>().is_some_and(|config| config.stripe_publishable_key.is_some());
        if let (Some(secret), true) = (paid.client_secret, with_stripe_js) {
            return Ok(Some(secret));
        }
        answer_with_status(402);
        return Err(AppError::Api {
            status: 402,
            messages: vec![crate::error::Problem::from(contract::ErrorItem::new(
                contract::ErrorCode::CardNeedsAuthentication,
                "This card needs 3-D Secure authentication, which only Stripe.js can do, and payments are in test mode here. Nothing was charged: choose another card.",
            ))],
        });
    }
    // The order completes when payment.created reaches the orders service, milliseconds later:
    // wait for it so the page the buyer lands on says "Paid".
    let path = item_path("orders", order_id)?;
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

/// After a plain form post (no JavaScript) that failed, the order's page comes back with the
/// test card the buyer chose still chosen (`?card=`), and the error where Leptos puts it
/// (`__path`, `__err`). With JavaScript the form is still on the page as the buyer left it.
#[cfg(feature = "ssr")]
fn back_with_card(order_id: &str, token: &str, error: &AppError) {
    use leptos::server_fn::error::ServerFnUrlError;
    use leptos::server_fn::ServerFn;
    let plain_post = use_context::<http::request::Parts>()
        .and_then(|parts| parts.headers.get(http::header::ACCEPT)?.to_str().ok().map(|accept| accept.contains("text/html")))
        .unwrap_or(false);
    // An order id is letters and digits; anything else keeps Leptos' own way back.
    if !plain_post || !crate::api::is_id(order_id) {
        return;
    }
    let Ok(base) = reqwest::Url::parse_with_params(&format!("http://localhost/orders/{order_id}"), [("card", token)]) else {
        return;
    };
    if let Ok(url) = ServerFnUrlError::new(Pay::PATH, error.clone()).to_url(base.as_str()) {
        leptos_axum::redirect(&format!("{}?{}", url.path(), url.query().unwrap_or_default()));
    }
}

/// An order's state in words and colour: the same on the order's page and in the list. On the
/// page it changes when the countdown reaches zero.
#[component]
pub fn StatusBadge(#[prop(into)] state: Signal<OrderState>) -> impl IntoView {
    let locale = use_locale();
    let class = move || {
        let colour = match state.get() {
            OrderState::Paid => "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100",
            OrderState::Open => "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
            OrderState::Expired | OrderState::Cancelled | OrderState::Withdrawn | OrderState::Changed => {
                "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100"
            }
        };
        format!("rounded-full px-3 py-1 text-sm font-medium {colour}")
    };
    view! { <span data-testid="order-status" class=class>{move || state.get().label(locale)}</span> }
}

/// What `/orders` loads. Its lazy route starts it (`LazyRoute::data`) while the page's chunk
/// downloads, instead of after.
#[derive(Clone, Copy)]
pub struct OrdersData {
    orders: Resource<Result<Vec<ListedOrder>, AppError>>,
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
    let locale = use_locale();
    let (t, common) = (OrdersTexts::of(locale), Common::of(locale));
    view! {
        <PageMeta title=t.page_title description=t.page_description />
        <section class="flex flex-col gap-4">
            <h1 class="text-3xl font-bold tracking-tight">{t.heading}</h1>
            <Suspense fallback=move || view! { <p>{common.loading}</p> }>
                {move || Suspend::new(async move {
                    match orders.await {
                        Err(error) => view! { <LoadFailed error signin_then="/orders" /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="text-slate-600 dark:text-slate-400">{t.none_yet}<A href="/" attr:class=LINK>{t.find_ticket}</A></p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="flex flex-col gap-3" aria-label=t.list_label>
                                {list.into_iter().map(|ListedOrder { order, ran_out }| {
                                    let href = format!("/orders/{}", order.id);
                                    let state = OrderState::of(&order, ran_out);
                                    view! {
                                        <li class="flex flex-wrap items-center justify-between gap-3 rounded-2xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
                                            <div class="min-w-0">
                                                <p class="break-words font-semibold">{order.ticket.title.clone()}</p>
                                                <p class="text-sm text-slate-600 dark:text-slate-400">{dollars(order.ticket.price)}</p>
                                            </div>
                                            <div class="flex items-center gap-3">
                                                <StatusBadge state=Signal::stored(state) />
                                                <A href=href attr:class=LINK>{t.view_order}</A>
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
    let locale = use_locale();
    let (t, common) = (OrderTexts::of(locale), Common::of(locale));
    let actions = OrderActions::new(details);
    follow_while_open(details, id);
    let card = RwSignal::new(card_chosen_before());
    view! {
        <Suspense fallback=move || view! { <p>{common.loading}</p> }>
            {move || Suspend::new(async move {
                match details.await {
                    Err(error) if error.is_not_found() => view! { <Notice tone="error">{t.no_such_order}</Notice> }.into_any(),
                    Err(error) => view! { <LoadFailed error signin_then=format!("/orders/{}", id()) /> }.into_any(),
                    Ok(details) => {
                        actions.refocus();
                        view! { <OrderView details actions card /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The page's two actions, Pay and Cancel, and what each said when it failed.
#[derive(Clone, Copy)]
struct OrderActions {
    pay: ServerAction<Pay>,
    cancel: ServerAction<CancelOrder>,
    pay_error: Memo<Option<AppError>>,
    cancel_error: Memo<Option<AppError>>,
}

impl OrderActions {
    /// A payment or cancellation that went through loads the order again; one that failed
    /// leaves the form as the buyer left it (the card they chose), with focus on the error.
    fn new(details: Resource<Result<OrderDetails, AppError>>) -> Self {
        let (pay, cancel) = (ServerAction::<Pay>::new(), ServerAction::<CancelOrder>::new());
        let actions = Self { pay, cancel, pay_error: action_error(pay), cancel_error: action_error(cancel) };
        // Not after `Some(client secret)`: Stripe.js takes the buyer through 3-D Secure first.
        after_each_run(pay, move || {
            if actions.paid() {
                details.refetch();
            }
        });
        after_each_run(cancel, move || {
            if actions.cancelled() {
                details.refetch();
            }
        });
        actions
    }

    fn paid(&self) -> bool {
        self.pay.value().with_untracked(|value| matches!(value, Some(Ok(None))))
    }

    fn cancelled(&self) -> bool {
        self.cancel.value().with_untracked(|value| matches!(value, Some(Ok(()))))
    }

    /// Where focus goes once the render being made is on the page: to what a payment or
    /// cancellation that went through says, else back to what had it in the render this one
    /// replaces (the heading a purchase focused, when a live update renders the page again:
    /// that can come just after the reload of the same change). At every render, for that
    /// reason.
    fn refocus(self) {
        let refocus = match (self.paid(), self.cancelled()) {
            (true, _) => Some("order-paid".to_string()),
            (_, true) => Some("order-cancelled".to_string()),
            _ => focused_id(),
        };
        if let Some(id) = refocus {
            // A frame later: the effect may run while the old render, whose element has the
            // same id, is still on the page.
            Effect::new(move || {
                let id = id.clone();
                request_animation_frame(move || focus_when_shown(format!("#{id}")));
            });
        }
    }
}

/// Live: an open order paid or cancelled elsewhere (another tab, Stripe's webhook, its expiry)
/// shows without a reload. Only an open order changes, and only its buyer may follow it (the
/// stream refuses anyone else), so it is followed once it has loaded as an open order, and no
/// longer once it is not. (This page is a lazy route: the code is in its chunk.)
fn follow_while_open(details: Resource<Result<OrderDetails, AppError>>, id: impl Fn() -> String + Send + Sync + 'static) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let open = details.with(|loaded| matches!(loaded, Some(Ok(loaded)) if loaded.order.status.is_open()));
        if open {
            crate::live::follow(&format!("/live/orders/{}", id()), &["order"], move |_| details.refetch());
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (details, id);
}

/// The test card chosen: the one a plain form post that failed came back with, at first.
fn card_chosen_before() -> String {
    use_query_map()
        .with_untracked(|q| q.get("card"))
        .filter(|card| TEST_CARDS.iter().any(|token| token == card))
        .unwrap_or_else(|| TEST_CARDS[0].to_string())
}

/// The order as loaded: what it is for, its state in words, and while it is open the payment
/// form and Cancel.
#[component]
fn OrderView(details: OrderDetails, actions: OrderActions, card: RwSignal<String>) -> impl IntoView {
    let t = OrderTexts::of(use_locale());
    let order = details.order;
    let now = RwSignal::new(details.now_ms);
    tick_every_second(now);
    let expires = details.expires_ms;
    // Whole seconds left, rounded up: `0:01` until the very end, in integers only.
    let left = Signal::derive(move || ((expires - now.get()).max(0) + 999) / 1000);
    let open = order.status.is_open();
    // What the order reads as now, and once its time has run out on this page.
    let (as_sent, ran_out) = (OrderState::of(&order, false), OrderState::of(&order, true));
    // Memos: the badge, the text and the form change when the state does, not at every tick
    // (`left` is read only while the order is open). A card submitted before the end is still
    // being charged, and settles the order if Stripe takes it (docs/events.md, "The payment
    // deadline"): the form stays, "Paying…", until the answer, rather than read "Expired".
    let state = Memo::new(move |_| if open && left.get() == 0 && !actions.pay.pending().get() { ran_out } else { as_sent });
    let payable = Memo::new(move |_| state.get() == OrderState::Open);
    let price = dollars(order.ticket.price);
    let ticket_href = format!("/tickets/{}", order.ticket.id);
    let expired_at = utc_time(&order.expires_at).map(|time| fill(t.expired_at, &[time])).unwrap_or_default();
    let by_buyer = order.cancel_reason == Some(CancelReason::Buyer);
    let title = fill(t.page_title, &[order.ticket.title.as_str()]);
    let description = fill(t.page_description, &[order.ticket.title.as_str(), price.as_str()]);
    let (order_id, amount_cents) = (order.id.to_string(), order.ticket.price.0);
    let publishable_key = details.publishable_key;
    view! {
        <PageMeta title description />
        <article class="mx-auto flex w-full max-w-xl flex-col gap-4 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <div class="flex flex-wrap items-start justify-between gap-2">
                // Focused when a purchase leads here.
                <h1 id="order-heading" tabindex="-1" class="text-2xl font-bold">{t.heading}</h1>
                <StatusBadge state />
            </div>
            <p class="break-words text-lg"><A href=ticket_href attr:class="inline-block min-h-6 font-semibold underline">{order.ticket.title.clone()}</A>" · "{price.clone()}</p>
            <OrderNotice state open left expired_at by_buyer />
            {move || payable.get().then(|| {
                let (order_id, price, publishable_key) = (order_id.clone(), price.clone(), publishable_key.clone());
                view! {
                    <Payment actions order_id=order_id.clone() price amount_cents publishable_key card />
                    <CancelForm actions order_id />
                }
            })}
        </article>
    }
}

/// What the order's state says: the countdown while it is open, else how it ended.
#[component]
fn OrderNotice(state: Memo<OrderState>, open: bool, left: Signal<i64>, expired_at: String, by_buyer: bool) -> impl IntoView {
    let t = OrderTexts::of(use_locale());
    move || match state.get() {
        OrderState::Open => view! {
            <p role="timer" data-testid="countdown" class="text-lg font-medium">
                {move || fill(t.time_left, &[countdown(left.get()).as_str()])}
            </p>
        }
        .into_any(),
        // The countdown reached zero on this page; the order is cancelled a moment later and
        // then reads as below.
        OrderState::Expired if open => {
            let text = fill(t.expired, &[expired_at.as_str()]);
            view! { <p role="timer" data-testid="countdown" class="text-lg font-medium">{text}</p> }.into_any()
        }
        OrderState::Expired => {
            let text = fill(t.expired_back_on_sale, &[expired_at.as_str()]);
            view! { <Notice tone="info">{text}</Notice> }.into_any()
        }
        OrderState::Paid => view! { <Notice tone="success" id="order-paid">{t.paid}</Notice> }.into_any(),
        OrderState::Cancelled if by_buyer => view! { <Notice tone="info" id="order-cancelled">{t.cancelled_by_you}</Notice> }.into_any(),
        OrderState::Cancelled => view! { <Notice tone="info" id="order-cancelled">{t.cancelled}</Notice> }.into_any(),
        OrderState::Withdrawn => view! { <Notice tone="info">{t.withdrawn}</Notice> }.into_any(),
        OrderState::Changed => view! { <Notice tone="info">{t.changed}</Notice> }.into_any(),
    }
}

/// Stripe's Payment Element with a publishable key, else the test cards.
#[component]
fn Payment(
    actions: OrderActions,
    order_id: String,
    price: String,
    amount_cents: i64,
    publishable_key: Option<String>,
    card: RwSignal<String>,
) -> impl IntoView {
    let OrderActions { pay, pay_error, .. } = actions;
    match publishable_key {
        Some(publishable_key) => {
            let on_token = Callback::new(move |token: String| {
                pay.dispatch(Pay { order_id: order_id.clone(), token });
            });
            let needs_action = Signal::derive(move || pay.value().get().and_then(|paid| paid.ok().flatten()));
            view! {
                <PaymentElement on_token pending=pay.pending() error=pay_error needs_action price amount_cents publishable_key />
            }
            .into_any()
        }
        None => view! { <PaymentForm action=pay order_id price error=pay_error card /> }.into_any(),
    }
}

#[component]
fn CancelForm(actions: OrderActions, order_id: String) -> impl IntoView {
    let t = OrderTexts::of(use_locale());
    let OrderActions { cancel, cancel_error, .. } = actions;
    view! {
        <ActionForm action=cancel attr:class="flex flex-col gap-2">
            <FormErrors messages=general_errors(cancel_error, &[]) />
            <input type="hidden" name="id" value=order_id />
            // At least 24 px high: a finger's target, though it reads as a link.
            <button type="submit" disabled=move || cancel.pending().get() class="inline-flex min-h-6 items-center self-start py-1 text-sm font-medium text-slate-600 underline hover:text-red-700 focus-visible:outline-2 focus-visible:outline-indigo-600 disabled:opacity-60 dark:text-slate-400">
                {move || if cancel.pending().get() { t.cancelling } else { t.cancel_order }}
            </button>
        </ActionForm>
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

/// The id of the element that has focus, if it has one (in the browser; nothing on the server).
fn focused_id() -> Option<String> {
    #[cfg(feature = "hydrate")]
    return document().active_element().map(|element| element.id()).filter(|id| !id.is_empty());
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Stripe's test cards: one that succeeds, one that is declined and one that needs 3-D Secure
/// (their labels, in the same order, are in [`OrderTexts`]).
const TEST_CARDS: [&str; 3] = ["pm_card_visa", "pm_card_chargeDeclined", "pm_card_threeDSecure2Required"];

/// Paying in test mode (no Stripe publishable key): a choice of Stripe's test cards (3-D Secure
/// only Stripe.js can complete: the page says so). It works without JavaScript. `card` is the
/// one chosen, kept when a payment fails.
#[component]
fn PaymentForm(
    action: ServerAction<Pay>,
    order_id: String,
    price: String,
    error: Memo<Option<AppError>>,
    card: RwSignal<String>,
) -> impl IntoView {
    let t = OrderTexts::of(use_locale());
    let radio = "h-4 w-4 accent-indigo-600 focus-visible:outline-2 focus-visible:outline-indigo-600";
    let chosen = card.get_untracked();
    view! {
        <ActionForm action=action attr:class="flex flex-col gap-4" attr:aria-label=t.payment_label>
            <FormErrors messages=general_errors(error, &[]) />
            <input type="hidden" name="order_id" value=order_id />
            <fieldset class="flex flex-col gap-1 rounded-lg border border-slate-200 p-4 dark:border-slate-700">
                <legend class="px-1 text-sm font-medium">{t.test_card}</legend>
                {TEST_CARDS
                    .into_iter()
                    .zip([t.card_succeeds, t.card_declined, t.card_needs_3ds])
                    .map(|(token, label)| {
                        let picked = token == chosen;
                        view! {
                            // The whole row is the target, at least 24 px high.
                            <label class="flex min-h-6 cursor-pointer items-center gap-2 py-1">
                                <input type="radio" name="token" value=token checked=picked on:change=move |_| card.set(token.to_string()) class=radio />
                                {label}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <p data-testid="test-mode" class="text-sm text-amber-800 dark:text-amber-300">{t.test_mode}</p>
            <SubmitButton label=fill(t.pay, &[price.as_str()]) pending_label=t.paying pending=action.pending() />
        </ActionForm>
    }
}
