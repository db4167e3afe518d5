//! The browser entry point: takes over the server-rendered page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic's message in the console, in debug builds: the release bundle aborts on a panic,
    // and leaving the hook out keeps its formatting code out of every visitor's first download.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // Lazy routes: the chunk of the page being hydrated is fetched first.
    leptos::mount::hydrate_lazy(app::App);
}
