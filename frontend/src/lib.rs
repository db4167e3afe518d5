//! The browser entry point: takes over the server-rendered page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes: the chunk of the page being hydrated is fetched first.
    leptos::mount::hydrate_lazy(app::App);
}
