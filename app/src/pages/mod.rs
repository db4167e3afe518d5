//! One module per page (or group of pages), with the server functions it uses beside it.
pub mod auth;
pub mod lazy;
pub mod mine;
pub mod not_found;
pub mod orders;
pub mod tickets;

/// The `:id` of the current route, read reactively: what the ticket and order pages load by.
pub(crate) fn route_id() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    use leptos::prelude::With;
    let params = leptos_router::hooks::use_params_map();
    move || params.with(|p| p.get("id").unwrap_or_default())
}
