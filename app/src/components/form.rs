//! Form building blocks: a labelled field with its error, the errors that belong to no field,
//! and a submit button that shows progress and cannot be pressed twice. After a failed submit,
//! focus goes to what there is to fix.
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::i18n::{use_locale, Locale};

/// The latest error of `action`: from its last run with JavaScript, or from the URL after a plain
/// form post. When a run with JavaScript fails, focus goes to the first field with an error in
/// the action's form, or else to the errors above it (without JavaScript, the field's
/// `autofocus` does it: see [`first_invalid`]).
pub fn action_error<S>(action: ServerAction<S>) -> Memo<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let query = use_query_map();
    after_each_run(action, move || {
        if action.value().with_untracked(|value| matches!(value, Some(Err(_)))) {
            focus_problem(format!("form[action='{}']", S::PATH));
        }
    });
    Memo::new(move |_| match action.value().get() {
        Some(result) => result.err(),
        None => query.with(|q| AppError::from_query(S::PATH, q)),
    })
}

/// Runs `then` each time `action` has run, whatever it returned (not at the first render): `then`
/// reads the outcome untracked (`action.value().with_untracked(…)`).
pub fn after_each_run<S>(action: ServerAction<S>, then: impl Fn() + Send + Sync + 'static)
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
    S::Error: Clone + Send + Sync + 'static,
{
    Effect::watch(move || action.version().get(), move |_, _, _| then(), false);
}

/// Moves focus, once the browser has drawn the errors, to what there is to fix in the form
/// `selector` names: its first field with an error, or else its errors.
pub fn focus_problem(selector: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        let Some(form) = document().query_selector(&selector).ok().flatten() else {
            return;
        };
        let target =
            ["[aria-invalid='true']", "[role='alert']"].into_iter().find_map(|problem| form.query_selector(problem).ok().flatten());
        if let Some(target) = target.and_then(|target| target.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = target.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

/// The errors of `error` that belong to none of `fields`, for [`FormErrors`].
pub fn general_errors(error: Memo<Option<AppError>>, fields: &'static [&'static str]) -> Signal<Vec<String>> {
    let locale = use_locale();
    Signal::derive(move || error.get().map(|e| e.general(fields, locale)).unwrap_or_default())
}

/// The error of `error` about `name`, for [`Field`].
pub fn field_error(error: Memo<Option<AppError>>, name: &'static str) -> Signal<Option<String>> {
    let locale = use_locale();
    Signal::derive(move || error.get().and_then(|e| e.field(name, locale)))
}

/// Whether `name` is the first of the form's `fields` that `error` names, for [`Field`]: that
/// field takes focus when the page comes back from a plain form post.
pub fn first_invalid(error: Memo<Option<AppError>>, fields: &'static [&'static str], name: &'static str) -> Signal<bool> {
    Signal::derive(move || {
        error.with(|e| e.as_ref().and_then(|e| fields.iter().find(|field| e.field(field, Locale::En).is_some())) == Some(&name))
    })
}

/// A labelled input. Its error is tied to it for screen readers (`aria-invalid`,
/// `aria-describedby`) and announced when it appears.
#[component]
pub fn Field(
    /// The input's `name`: the server function's argument it fills.
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    /// The value the field starts with (an edit form).
    #[prop(optional, into)]
    value: Option<String>,
    /// `decimal` brings up a number keyboard on phones.
    #[prop(optional)]
    inputmode: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    /// Whether this is the form's first field with an error (see `first_invalid()`): it is
    /// focused when the page loads.
    #[prop(optional, into)]
    first_invalid: Signal<bool>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    view! {
        <div class="flex flex-col gap-1">
            <label for=id.clone() class="text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                inputmode=(!inputmode.is_empty()).then_some(inputmode)
                value=value
                required=true
                autofocus=move || first_invalid.get()
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=move || error.get().map(|_| described_by.clone())
                class="rounded-lg border border-slate-300 bg-white px-3 py-2 text-base shadow-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/40 aria-[invalid=true]:border-red-500 dark:border-slate-700 dark:bg-slate-900"
            />
            <Show when=move || error.get().is_some()>
                <p id=error_id.clone() role="alert" class="text-sm text-red-600 dark:text-red-400">
                    {move || error.get()}
                </p>
            </Show>
        </div>
    }
}

/// Errors that belong to no field, shown above the form.
#[component]
pub fn FormErrors(#[prop(into)] messages: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <Show when=move || !messages.get().is_empty()>
            // Focusable, so a failed submit can move focus here.
            <div role="alert" tabindex="-1" class="rounded-lg border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
                <ul class="list-none space-y-1">
                    <For each=move || messages.get() key=|m| m.clone() let:message>
                        <li>{message}</li>
                    </For>
                </ul>
            </div>
        </Show>
    }
}

/// The form's submit button: disabled with a progress label while the action runs.
#[component]
pub fn SubmitButton(#[prop(into)] label: String, pending_label: &'static str, #[prop(into)] pending: Signal<bool>) -> impl IntoView {
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            aria-busy=move || pending.get().to_string()
            class="inline-flex items-center justify-center rounded-lg bg-indigo-600 px-4 py-2 font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-wait disabled:opacity-60"
        >
            {move || if pending.get() { pending_label.to_string() } else { label.clone() }}
        </button>
    }
}
