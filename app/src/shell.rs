use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use leptos_router::{Lazy, SsrMode};

use crate::components::header::{Footer, Header};
use crate::i18n::{fill, provide_locale, use_locale, Common, Locale};
use crate::pages::lazy::{
    EditTicketRoute, LandingRoute, MyTicketsRoute, NewTicketRoute, OrderRoute, OrdersRoute, SignInRoute, SignOutRoute, SignUpRoute,
    TicketRoute,
};
use crate::pages::not_found::NotFound;
use crate::session::provide_session;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang=Locale::current().tag()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationAfterPaint options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// Loads the app's code once the page has been painted, then hydrates.
///
/// Why not Leptos' `<HydrationScripts>`: it preloads the main module from the `<head>`, and its
/// split manifest has the server preload the page's modules too. On a slow link those share the
/// wire with what the first paint needs, and Lighthouse counted every one of them before the
/// page's Largest Contentful Paint: on its emulated phone, several times the paint's own time
/// (docs/budgets.md). The page is complete without the code (rendered on the server; links
/// and forms work), so the code waits for one frame: its fetch starts in the task after the first
/// paint, or at once in a tab that is not shown (or stops being shown first), which paints
/// nothing and would never run the frame's callback. The page's modules load when hydration
/// reaches its route (`crate::pages::lazy`). Hydration runs in a task of its own after the main
/// module's instantiation, so neither blocks the page for as long as both.
#[component]
fn HydrationAfterPaint(options: LeptosOptions) -> impl IntoView {
    // The same for every page: written once.
    static SCRIPT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let script = SCRIPT.get_or_init(|| {
        // Names as cargo-leptos writes them without `hash-files`, which this build leaves off
        // (with it on, they would come from its hash file, as `<HydrationScripts>` reads them).
        let pkg = format!("/{}", options.site_pkg_dir);
        let name = &options.output_name;
        // A split build's loader of the page modules, which the main module imports: fetched
        // beside it rather than after it.
        let split_loader = format!("{pkg}/__wasm_split.______________________.js");
        let split_build = std::path::Path::new(options.site_root.as_ref()).join(&split_loader[1..]).exists();
        let preload = if split_build {
            format!(r#"const link = document.createElement("link"); link.rel = "modulepreload"; link.href = "{split_loader}"; document.head.append(link);"#)
        } else {
            String::new()
        };
        format!(
            r#"(() => {{
  let started = false;
  const start = () => {{
    if (started) return;
    started = true;
    {preload}
    const wasm = fetch("{pkg}/{name}.wasm");
    import("{pkg}/{name}.js").then((app) => app.default({{ module_or_path: wasm }}).then(() => setTimeout(app.hydrate)));
  }};
  if (document.visibilityState === "hidden") start();
  else {{
    requestAnimationFrame(() => setTimeout(start));
    document.addEventListener("visibilitychange", start, {{ once: true }});
  }}
}})();"#
        )
    });
    view! { <script type="module" nonce=leptos::nonce::use_nonce()>{script.as_str()}</script> }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_session();
    provide_locale();
    let t = Common::of(use_locale());
    // Effects run only in the browser, after hydration: tests wait for this mark before clicking.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/ticketing.css" />
        <Title formatter=move |page: String| if page.is_empty() { t.brand.to_string() } else { fill(t.title, &[&page]) } />
        // Every page arrives complete (the header knows who is signed in), so it works without
        // JavaScript. Pages that may send a signed-out visitor to sign in render fully before the
        // first byte (`Async`), so that can be a real redirect.
        <Router>
            <Header />
            <main class="mx-auto w-full max-w-5xl px-4 py-8">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view={Lazy::<LandingRoute>::new()} ssr=SsrMode::InOrder />
                    <Route path=path!("/auth/signup") view={Lazy::<SignUpRoute>::new()} ssr=SsrMode::InOrder />
                    <Route path=path!("/auth/signin") view={Lazy::<SignInRoute>::new()} ssr=SsrMode::InOrder />
                    <Route path=path!("/auth/signout") view={Lazy::<SignOutRoute>::new()} ssr=SsrMode::InOrder />
                    <Route path=path!("/tickets/new") view={Lazy::<NewTicketRoute>::new()} ssr=SsrMode::Async />
                    // Before `/tickets/:id`, which would otherwise take `mine` for an id.
                    <Route path=path!("/tickets/mine") view={Lazy::<MyTicketsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/tickets/:id") view={Lazy::<TicketRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/tickets/:id/edit") view={Lazy::<EditTicketRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/orders") view={Lazy::<OrdersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/orders/:id") view={Lazy::<OrderRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </main>
            <Footer />
        </Router>
    }
}
