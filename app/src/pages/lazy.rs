//! Every page, the landing page too, loaded on demand: each is its own
//! WebAssembly chunk (`cargo leptos build --split`), fetched when its route is first visited,
//! so the bundle every visitor downloads first stays small. A page that loads data starts
//! loading it in `data()`, in parallel with its chunk's download (as Leptos' hackernews example
//! does); only `view()` is in the chunk.
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::pages::auth::{SignInPage, SignOutPage, SignUpPage};
use crate::pages::mine::MyTicketsPage;
use crate::pages::orders::{OrderData, OrderPage, OrdersData, OrdersPage};
use crate::pages::tickets::{EditTicketPage, LandingData, LandingPage, NewTicketPage, TicketData, TicketPage};

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
    ($route:ident, $page:ident, $data:ident) => {
        pub struct $route($data);

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route($data::load())
            }

            fn view(this: Self) -> AnyView {
                view! { <$page data=this.0 /> }.into_any()
            }
        }
    };
}

lazy_page!(LandingRoute, LandingPage, LandingData);
lazy_page!(SignUpRoute, SignUpPage);
lazy_page!(SignInRoute, SignInPage);
lazy_page!(SignOutRoute, SignOutPage);
lazy_page!(NewTicketRoute, NewTicketPage);
lazy_page!(MyTicketsRoute, MyTicketsPage);
lazy_page!(TicketRoute, TicketPage, TicketData);
lazy_page!(EditTicketRoute, EditTicketPage, TicketData);
lazy_page!(OrdersRoute, OrdersPage, OrdersData);
lazy_page!(OrderRoute, OrderPage, OrderData);
