//! Every page, the landing page too, loaded on demand, so the bundle every visitor downloads
//! first stays small (`cargo leptos build --split`). A page that loads data starts loading it in
//! `data()`, in parallel with its code's download (as Leptos' hackernews example does); only
//! `view()` is in the split-off code.
//!
//! Why pages are split in five groups rather than one module each (Leptos' `#[lazy_route]`):
//! wasm-split puts the code two pages share in a module of its own, one per set of pages that
//! shares it. With ten pages that made 98 modules, 55 of them for a ticket's page; the browser
//! fetched and instantiated each, a large part of the hydration task (Chrome's profiler,
//! docs/budgets.md), the task Lighthouse counts as blocking. Pages that are visited together
//! form a group, one split module (`split_<group>.wasm`), so a page needs its group's module and
//! the modules its group shares with the others: 13 to 16. A page's first visit also fetches its
//! group's other pages, which share most of their code with it. The landing page, the most
//! visited and the lightest, is a group of its own.
//!
//! This is what `#[lazy_route]` expands to, with the group as the split module's name
//! (`preload` loads the modules before the router hydrates the page), less the server's record
//! of the page's modules for `<link rel=preload>`s in the `<head>`: the app's code is fetched
//! after the first paint (`crate::shell`), and the page's modules all at once with the route.
use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::pages::auth::{SignInPage, SignOutPage, SignUpPage};
use crate::pages::mine::MyTicketsPage;
use crate::pages::orders::{OrderData, OrderPage, OrdersData, OrdersPage};
use crate::pages::tickets::{EditTicketPage, LandingData, LandingPage, NewTicketPage, TicketData, TicketPage};

macro_rules! lazy_page {
    ($group:ident, $route:ident, $view:ident, $preload:ident, $page:ident) => {
        pub struct $route;
        lazy_page!(@impl $group, $route, $view, $preload, $route, |_this| view! { <$page /> }.into_any());
    };
    ($group:ident, $route:ident, $view:ident, $preload:ident, $page:ident, $data:ident) => {
        pub struct $route($data);
        lazy_page!(@impl $group, $route, $view, $preload, $route($data::load()), |this| view! { <$page data=this.0 /> }.into_any());
    };
    // `$view` and `$preload` name the split function and its loader: `wasm_split` exports them
    // under names derived from theirs, which must differ between pages of one group.
    (@impl $group:ident, $route:ident, $view:ident, $preload:ident, $data:expr, |$this:ident| $body:expr) => {
        impl LazyRoute for $route {
            fn data() -> Self {
                $data
            }

            async fn view(this: Self) -> AnyView {
                #[cfg(feature = "hydrate")]
                let view = $view(this).await;
                #[cfg(not(feature = "hydrate"))]
                let view = $view(this);
                view
            }

            async fn preload() {
                #[cfg(feature = "hydrate")]
                $preload().await;
            }
        }

        #[cfg_attr(
            feature = "hydrate",
            leptos::wasm_split::wasm_split($group, wasm_split_path = ::leptos::wasm_split, preload(#[doc(hidden)] $preload))
        )]
        fn $view($this: $route) -> AnyView {
            $body
        }
    };
}

// The list of tickets, alone: every visitor's first page.
lazy_page!(pages_landing, LandingRoute, landing_view, landing_preload, LandingPage, LandingData);
// A ticket's page, where a buyer reserves it.
lazy_page!(pages_ticket, TicketRoute, ticket_view, ticket_preload, TicketPage, TicketData);
// A buyer's orders and an order's page, where they pay.
lazy_page!(pages_orders, OrdersRoute, orders_view, orders_preload, OrdersPage, OrdersData);
lazy_page!(pages_orders, OrderRoute, order_view, order_preload, OrderPage, OrderData);
// Selling: a new listing, an edit, a seller's own tickets.
lazy_page!(pages_sell, NewTicketRoute, new_ticket_view, new_ticket_preload, NewTicketPage);
lazy_page!(pages_sell, EditTicketRoute, edit_ticket_view, edit_ticket_preload, EditTicketPage, TicketData);
lazy_page!(pages_sell, MyTicketsRoute, my_tickets_view, my_tickets_preload, MyTicketsPage);
// Signing up, in and out.
lazy_page!(pages_account, SignUpRoute, sign_up_view, sign_up_preload, SignUpPage);
lazy_page!(pages_account, SignInRoute, sign_in_view, sign_in_preload, SignInPage);
lazy_page!(pages_account, SignOutRoute, sign_out_view, sign_out_preload, SignOutPage);
