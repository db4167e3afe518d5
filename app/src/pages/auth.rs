//! `/auth/signup`, `/auth/signin`, `/auth/signout`: forms that work with and without JavaScript.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::form::{action_error, first_invalid, Field, FormErrors, SubmitButton};
use crate::components::layout::{Card, Notice, PageMeta, LINK};
use crate::error::AppError;

#[server(prefix = "/_fn", endpoint = "signup")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    forward_credentials("/api/users/signup", &email, &password, None).await
}

/// `next` is where the visitor was going when a page sent them to sign in.
#[server(prefix = "/_fn", endpoint = "signin")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    forward_credentials("/api/users/signin", &email, &password, next).await
}

#[server(prefix = "/_fn", endpoint = "signout")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::api::ssr::{call, Service};
    let _: serde_json::Value = call(Service::Auth, reqwest::Method::POST, "/api/users/signout", Some(&serde_json::json!({}))).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Sign-up and sign-in take the same body; the auth service's cookie is passed on by `call`.
#[cfg(feature = "ssr")]
async fn forward_credentials(path: &str, email: &str, password: &str, next: Option<String>) -> Result<(), AppError> {
    use crate::api::ssr::{call, Service};
    let body = serde_json::json!({ "email": email, "password": password });
    let _: contract::User = call(Service::Auth, reqwest::Method::POST, path, Some(&body))
        .await
        .map_err(|e| e.required_if_empty("email", email, contract::ErrorCode::EmailRequired, "Email is required"))?;
    leptos_axum::redirect(&next.filter(|n| is_local_path(n)).unwrap_or_else(|| "/".to_string()));
    Ok(())
}

#[cfg(feature = "ssr")]
/// Only a path on this site: `//evil.example` and `https://…` would send the visitor elsewhere,
/// and so would `/\evil.example` and `/<tab>/evil.example`, since browsers read `\` as `/` and
/// drop tabs and newlines from a URL before reading it.
fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains("://")
        && !path.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

/// A server action of this page whose completion refetches the session (the header changes).
fn session_action<S>() -> ServerAction<S>
where
    S: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let action = ServerAction::<S>::new();
    Effect::new(move |seen: Option<usize>| {
        let version = action.version().get();
        if seen.is_some_and(|seen| seen != version) {
            crate::session::session_changed();
        }
        version
    });
    action
}

const FIELDS: &[&str] = &["email", "password"];

/// The email and password fields with their errors, shared by sign-up and sign-in.
#[component]
fn CredentialFields(error: Memo<Option<AppError>>, password_autocomplete: &'static str) -> impl IntoView {
    let field = move |name: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(name)));
    view! {
        <FormErrors messages=Signal::derive(move || error.get().map(|e| e.general(FIELDS)).unwrap_or_default()) />
        <Field name="email" label="Email" kind="email" autocomplete="email" error=field("email") first_invalid=first_invalid(error, FIELDS, "email") />
        <Field
            name="password"
            label="Password"
            kind="password"
            autocomplete=password_autocomplete
            error=field("password")
            first_invalid=first_invalid(error, FIELDS, "password")
        />
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = session_action::<SignUp>();
    let error = action_error(action);
    view! {
        <PageMeta title="Sign up" description="Create an account to sell tickets and buy them." />
        <Card title="Sign Up">
            <ActionForm action=action attr:class="flex flex-col gap-4" attr:novalidate=true>
                <CredentialFields error password_autocomplete="new-password" />
                <SubmitButton label="Sign Up" pending_label="Signing up…" pending=action.pending() />
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">
                "Already have an account? " <A href="/auth/signin" attr:class=LINK>"Sign in"</A>
            </p>
        </Card>
    }
}

/// What a visitor sent here from a page that needs a session reads above the form: why.
fn why_sign_in(next: &str) -> &'static str {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["orders"] => "Please sign in to see your orders.",
        ["orders", _] => "Please sign in to see your order.",
        ["tickets", "new"] => "Please sign in to sell a ticket.",
        ["tickets", "mine"] => "Please sign in to see your tickets.",
        ["tickets", _, "edit"] => "Please sign in to edit your ticket.",
        ["tickets", _] => "Please sign in to buy this ticket.",
        _ => "Please sign in to continue.",
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = session_action::<SignIn>();
    let error = action_error(action);
    let next = use_query_map().with_untracked(|q| q.get("next"));
    let why = next.as_deref().map(why_sign_in);
    view! {
        <PageMeta title="Sign in" description="Sign in to sell tickets, buy them and see your orders." />
        <Card title="Sign In">
            {why.map(|why| view! { <div class="mb-4"><Notice tone="info">{why}</Notice></div> })}
            <ActionForm action=action attr:class="flex flex-col gap-4" attr:novalidate=true>
                {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                <CredentialFields error password_autocomplete="current-password" />
                <SubmitButton label="Sign In" pending_label="Signing in…" pending=action.pending() />
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">
                "New here? " <A href="/auth/signup" attr:class=LINK>"Create an account"</A>
            </p>
        </Card>
    }
}

/// Signing out changes state, so it is a POST: with JavaScript the page does it at once, without
/// it the visitor presses the button.
#[component]
pub fn SignOutPage() -> impl IntoView {
    let action = session_action::<SignOut>();
    let error = action_error(action);
    Effect::new(move |_| {
        action.dispatch(SignOut {});
    });
    view! {
        <PageMeta title="Sign out" description="Signing you out of Ticketing." />
        <Card title="Sign Out">
            <ActionForm action=action attr:class="flex flex-col gap-4">
                <FormErrors messages=Signal::derive(move || error.get().map(|e| e.general(&[])).unwrap_or_default()) />
                <p>"Signing you out…"</p>
                <SubmitButton label="Sign Out" pending_label="Signing out…" pending=action.pending() />
            </ActionForm>
        </Card>
    }
}
