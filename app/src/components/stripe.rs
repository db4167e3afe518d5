//! Stripe's Payment Element, through Stripe.js (loaded from js.stripe.com when the form first
//! shows). The card details go from the browser to Stripe; our server only ever sees the
//! PaymentMethod id Stripe.js returns, which the `pay` server function charges. The order page
//! owns that server function: this form hands it the PaymentMethod id (`on_token`) and shows
//! how it went (`pending`, `error`, and `needs_action`, the client secret of a card that needs
//! 3-D Secure).
use leptos::prelude::*;

use crate::components::form::{focus_problem, general_errors, FormErrors};
use crate::error::AppError;
use crate::i18n::{fill, texts, use_locale};

texts! {
    /// The card form's words, and the fallbacks for what Stripe.js did not explain itself (its
    /// own messages come in the page's language: the Payment Element is given the locale).
    pub struct StripeTexts {
        /// The form's accessible name, which also finds it to focus its error.
        payment_label: "Payment", "お支払い";
        needs_javascript: "Paying by card needs JavaScript: Stripe collects the card in the browser.",
            "カードでのお支払いにはJavaScriptが必要です。カード情報はStripeがブラウザ上で受け付けます。";
        /// The price.
        pay: "Pay {}", "{}を支払う";
        paying: "Paying…", "お支払い中…";
        not_ready: "The card form is not ready yet.", "カード入力欄の準備ができていません。";
        no_answer: "Stripe did not answer.", "Stripeから応答がありませんでした。";
        not_authenticated: "The card was not authenticated.", "カードの認証ができませんでした。";
        not_accepted: "The card was not accepted.", "このカードはご利用いただけませんでした。";
        no_payment_method: "Stripe returned no payment method.", "Stripeから支払い方法が返されませんでした。";
    }
}

#[component]
pub fn PaymentElement(
    on_token: Callback<String>,
    #[prop(into)] pending: Signal<bool>,
    error: Memo<Option<AppError>>,
    #[prop(into)] needs_action: Signal<Option<String>>,
    price: String,
    amount_cents: i64,
    publishable_key: String,
) -> impl IntoView {
    let locale = use_locale();
    let t = StripeTexts::of(locale);
    // Errors from Stripe.js itself (an incomplete card), shown with the server's.
    let local_error = RwSignal::new(None::<String>);
    let working = RwSignal::new(false);
    let ready = RwSignal::new(false);
    let messages = {
        let server = general_errors(error, &[]);
        Signal::derive(move || local_error.get().map(|e| vec![e]).unwrap_or_else(|| server.get()))
    };
    #[cfg(feature = "hydrate")]
    let stripe = mount::start(publishable_key.clone(), amount_cents, locale, ready);
    #[cfg(not(feature = "hydrate"))]
    let _ = (&publishable_key, amount_cents);
    #[cfg(feature = "hydrate")]
    take_through_challenge(stripe, needs_action, working, local_error, t);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            working.set(true);
            local_error.set(None);
            leptos::task::spawn_local(async move {
                match mount::payment_method(stripe, t).await {
                    Ok(token) => on_token.run(token),
                    Err(message) => local_error.set(Some(message)),
                }
                working.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (on_token, working, local_error, needs_action);
    };
    let busy = move || working.get() || pending.get();
    focus_error_when_done(busy, messages, t.payment_label);
    view! {
        <form on:submit=submit class="flex flex-col gap-4" aria-label=t.payment_label>
            <FormErrors messages />
            <div id="payment-element" data-testid="payment-element" class="min-h-24 rounded-lg border border-slate-200 p-3 dark:border-slate-700">
                <noscript>{t.needs_javascript}</noscript>
            </div>
            <button
                type="submit"
                disabled=move || busy() || !ready.get()
                aria-busy=move || busy().to_string()
                class="inline-flex items-center justify-center rounded-lg bg-indigo-600 px-4 py-2 font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-wait disabled:opacity-60"
            >
                {move || if busy() { t.paying.to_string() } else { fill(t.pay, &[price.as_str()]) }}
            </button>
        </form>
    }
}

/// A card that needs 3-D Secure: Stripe.js shows the bank's challenge, Stripe tells the payments
/// service the outcome, and the page is loaded again to show it.
#[cfg(feature = "hydrate")]
fn take_through_challenge(
    stripe: mount::Mounted,
    needs_action: Signal<Option<String>>,
    working: RwSignal<bool>,
    local_error: RwSignal<Option<String>>,
    t: &'static StripeTexts,
) {
    Effect::new(move |_| {
        if let Some(client_secret) = needs_action.get() {
            working.set(true);
            leptos::task::spawn_local(async move {
                match mount::next_action(stripe, client_secret, t).await {
                    Ok(()) => {
                        let _ = window().location().reload();
                    }
                    Err(message) => {
                        local_error.set(Some(message));
                        working.set(false);
                    }
                }
            });
        }
    });
}

/// A payment that failed, in Stripe.js's words or the server's: once the form is no longer
/// busy, focus goes to the error.
fn focus_error_when_done(busy: impl Fn() -> bool + Send + Sync + 'static, messages: Signal<Vec<String>>, form_label: &'static str) {
    Effect::watch(
        busy,
        move |&now, before, _| {
            if !now && before == Some(&true) && messages.with_untracked(|messages| !messages.is_empty()) {
                focus_problem(format!("form[aria-label='{form_label}']"));
            }
        },
        false,
    );
}

#[cfg(feature = "hydrate")]
mod mount {
    use js_sys::{Function, Object, Promise, Reflect};
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::StripeTexts;
    use crate::i18n::Locale;

    const STRIPE_JS: &str = "https://js.stripe.com/v3/";

    /// Stripe's objects once mounted: `(stripe, elements)`.
    pub type Mounted = StoredValue<Option<(JsValue, JsValue)>, LocalStorage>;

    fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
        Reflect::get(target, &JsValue::from_str(key)).map_err(|_| format!("Stripe.js has no {key}"))
    }

    fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
        let function: Function = get(target, method)?.dyn_into().map_err(|_| format!("Stripe.js {method} is not a function"))?;
        let args: js_sys::Array = args.iter().collect();
        function.apply(target, &args).map_err(|e| e.as_string().unwrap_or_else(|| format!("Stripe.js {method} failed")))
    }

    fn object(entries: &[(&str, JsValue)]) -> JsValue {
        let object = Object::new();
        for (key, value) in entries {
            let _ = Reflect::set(&object, &JsValue::from_str(key), value);
        }
        object.into()
    }

    /// Loads Stripe.js once per page and resolves when `window.Stripe` exists.
    async fn load_stripe_js() -> Result<JsValue, String> {
        let window: JsValue = window().into();
        let existing = get(&window, "Stripe")?;
        if !existing.is_undefined() {
            return Ok(existing);
        }
        let script: web_sys::HtmlScriptElement =
            document().create_element("script").map_err(|_| "cannot create a script")?.unchecked_into();
        script.set_src(STRIPE_JS);
        let loaded = Promise::new(&mut |resolve, reject| {
            script.set_onload(Some(&resolve));
            script.set_onerror(Some(&reject));
        });
        document().head().ok_or("no <head>")?.append_child(&script).map_err(|_| "cannot add Stripe.js")?;
        JsFuture::from(loaded).await.map_err(|_| "Stripe.js could not be loaded. Check your connection and reload.".to_string())?;
        get(&window, "Stripe")
    }

    /// Loads Stripe.js and mounts the Payment Element into `#payment-element`, in the page's
    /// language (else Stripe picks the browser's).
    pub fn start(key: String, amount: i64, locale: Locale, ready: RwSignal<bool>) -> Mounted {
        let mounted: Mounted = StoredValue::new_local(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let constructor: Function = load_stripe_js().await?.dyn_into().map_err(|_| "Stripe is not a function")?;
                let stripe = constructor.call1(&JsValue::NULL, &JsValue::from_str(&key)).map_err(|_| "Stripe(key) failed")?;
                let options = object(&[
                    ("mode", "payment".into()),
                    ("amount", JsValue::from_f64(amount as f64)),
                    ("currency", "usd".into()),
                    ("paymentMethodCreation", "manual".into()),
                    ("locale", locale.tag().into()),
                ]);
                let elements = call(&stripe, "elements", &[options])?;
                let element = call(&elements, "create", &["payment".into()])?;
                call(&element, "mount", &["#payment-element".into()])?;
                Ok::<_, String>((stripe, elements))
            }
            .await;
            match result {
                Ok(objects) => {
                    mounted.set_value(Some(objects));
                    ready.set(true);
                }
                Err(message) => leptos::logging::warn!("payment element: {message}"),
            }
        });
        mounted
    }

    /// Lets Stripe.js take the buyer through what the payment still needs (3-D Secure); Stripe's
    /// message if it failed.
    pub async fn next_action(mounted: Mounted, client_secret: String, t: &'static StripeTexts) -> Result<(), String> {
        let (stripe, _) = mounted.get_value().ok_or(t.not_ready)?;
        let handled = call(&stripe, "handleNextAction", &[object(&[("clientSecret", client_secret.into())])])?;
        let result = JsFuture::from(Promise::from(handled)).await.map_err(|_| t.no_answer)?;
        match get(&result, "error").ok().filter(|e| !e.is_undefined() && !e.is_null()) {
            Some(error) => Err(get(&error, "message").ok().and_then(|m| m.as_string()).unwrap_or_else(|| t.not_authenticated.to_string())),
            None => Ok(()),
        }
    }

    /// Asks Stripe.js for a PaymentMethod from what the buyer entered: its id, or Stripe's
    /// message for the buyer.
    pub async fn payment_method(mounted: Mounted, t: &'static StripeTexts) -> Result<String, String> {
        let (stripe, elements) = mounted.get_value().ok_or(t.not_ready)?;
        let message = |result: &JsValue| {
            get(result, "error")
                .ok()
                .filter(|e| !e.is_undefined() && !e.is_null())
                .map(|e| get(&e, "message").ok().and_then(|m| m.as_string()).unwrap_or_else(|| t.not_accepted.to_string()))
        };
        let submitted = JsFuture::from(Promise::from(call(&elements, "submit", &[])?)).await.map_err(|_| t.no_answer)?;
        if let Some(message) = message(&submitted) {
            return Err(message);
        }
        let created = call(&stripe, "createPaymentMethod", &[object(&[("elements", elements.clone())])])?;
        let result = JsFuture::from(Promise::from(created)).await.map_err(|_| t.no_answer)?;
        if let Some(message) = message(&result) {
            return Err(message);
        }
        get(&get(&result, "paymentMethod")?, "id")?.as_string().ok_or_else(|| t.no_payment_method.to_string())
    }
}
