//! Live updates in the browser: a page follows the web server's stream of changes (`/live/…`,
//! `server/src/live.rs`) and loads its data again when something it shows changed. Only in the
//! browser, after hydration; without JavaScript the pages are as they were rendered.
//!
//! Each page calls [`follow`] from its own lazy route's chunk (`crate::pages::lazy`), so this
//! code is fetched only with a page that follows the stream.
#[cfg(feature = "hydrate")]
pub use browser::*;

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Event, EventSource, MessageEvent};

    /// Every ticket's changes.
    pub const TICKETS: &str = "/live/tickets";

    /// Follows the stream at `url` for as long as the current owner (the page) lives:
    /// `on_change(Some(id))` for each event of one of `topics` about the record `id`, and
    /// `on_change(None)` when changes may have been missed (the server's `reload`, or the browser
    /// reconnected after losing the stream), after which the page should load its data again.
    /// Nothing happens when the browser cannot open it.
    pub fn follow(url: &str, topics: &'static [&'static str], on_change: impl Fn(Option<String>) + 'static) {
        let Ok(source) = EventSource::new(url) else {
            return;
        };
        // Callbacks of the type Leptos' own event listeners have: their JavaScript glue is in the
        // first download already, and every other callback type would add its own.
        let listener = |callback: Box<dyn FnMut(Event)>| -> Closure<dyn FnMut(Event)> { Closure::wrap(callback) };
        let on_change = Rc::new(on_change);
        let changed = {
            let on_change = on_change.clone();
            listener(Box::new(move |event: Event| {
                on_change(event.unchecked_ref::<MessageEvent>().data().as_string().and_then(|data| id_of(&data)))
            }))
        };
        let missed = {
            let on_change = on_change.clone();
            listener(Box::new(move |_: Event| on_change(None)))
        };
        // The first `open` is the stream's start; any later one a reconnection (the browser
        // reconnects by itself), and what changed in between is unknown. Not the first: the order
        // page follows from an effect of its data, and a reload there would open a new stream,
        // whose first `open` would reload again. (What changes between the page's render and the
        // stream's start is missed until the next change: under a second, after hydration.)
        let opened = Cell::new(false);
        let reopened = listener(Box::new(move |_: Event| {
            if opened.replace(true) {
                on_change(None);
            }
        }));
        for topic in topics {
            let _ = source.add_event_listener_with_callback(topic, changed.as_ref().unchecked_ref());
        }
        let _ = source.add_event_listener_with_callback("reload", missed.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("open", reopened.as_ref().unchecked_ref());
        // Closed with the page. The callbacks live as long as the source: they are dropped with
        // the page's other values, after its cleanups ran.
        let kept = StoredValue::new_local((source, changed, missed, reopened));
        on_cleanup(move || {
            let _ = kept.try_with_value(|(source, ..)| source.close());
        });
    }

    /// The `id` of an event's data, `{"id": …, …}`.
    fn id_of(data: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Change {
            id: String,
        }
        serde_json::from_str::<Change>(data).ok().map(|change| change.id)
    }
}
