//! Every page but the landing page, loaded on demand: each is its own
//! WebAssembly chunk (`cargo leptos build --split`), fetched when its route is first visited,
//! so the bundle every visitor downloads first stays small.
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::pages::auth::{SignInPage, SignOutPage, SignUpPage};
use crate::pages::orders::{OrderPage, OrdersPage};
use crate::pages::tickets::{EditTicketPage, NewTicketPage, TicketPage};

macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(SignUpRoute, SignUpPage);
lazy_page!(SignInRoute, SignInPage);
lazy_page!(SignOutRoute, SignOutPage);
lazy_page!(NewTicketRoute, NewTicketPage);
lazy_page!(TicketRoute, TicketPage);
lazy_page!(EditTicketRoute, EditTicketPage);
lazy_page!(OrdersRoute, OrdersPage);
lazy_page!(OrderRoute, OrderPage);
