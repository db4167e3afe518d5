//! `/auth/signup`, `/auth/signin`, `/auth/signout`: forms that work with and without JavaScript.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::form::{action_error, field_error, first_invalid, general_errors, Field, FormErrors, SubmitButton};
use crate::components::layout::{Card, Notice, PageMeta, LINK};
use crate::error::AppError;
use crate::i18n::{texts, use_locale, Common};

texts! {
    /// Sign up, sign in and sign out; the buttons and headings are the header's words ([`Common`]).
    pub struct AuthTexts {
        email_label: "Email", "メールアドレス";
        password_label: "Password", "パスワード";
        sign_up_title: "Sign up", "新規登録";
        sign_up_description: "Create an account to sell tickets and buy them.", "アカウントを作成すると、チケットの出品と購入ができます。";
        signing_up: "Signing up…", "登録中…";
        /// Followed by the link to sign in.
        have_account: "Already have an account? ", "アカウントをお持ちの方は";
        sign_in_link: "Sign in", "サインイン";
        sign_in_title: "Sign in", "サインイン";
        sign_in_description: "Sign in to sell tickets, buy them and see your orders.", "チケットの出品・購入や注文の確認には、サインインしてください。";
        signing_in: "Signing in…", "サインイン中…";
        /// Followed by the link to sign up.
        new_here: "New here? ", "初めての方は";
        create_account: "Create an account", "アカウントを作成";
        why_orders: "Please sign in to see your orders.", "注文履歴を見るには、サインインしてください。";
        why_order: "Please sign in to see your order.", "注文の詳細を見るには、サインインしてください。";
        why_sell: "Please sign in to sell a ticket.", "チケットを出品するには、サインインしてください。";
        why_my_tickets: "Please sign in to see your tickets.", "出品したチケットを見るには、サインインしてください。";
        why_edit: "Please sign in to edit your ticket.", "チケットを編集するには、サインインしてください。";
        why_buy: "Please sign in to buy this ticket.", "このチケットを購入するには、サインインしてください。";
        why_continue: "Please sign in to continue.", "続けるには、サインインしてください。";
        sign_out_title: "Sign out", "サインアウト";
        sign_out_description: "Sign out of Ticketing on this device.", "このデバイスでTicketingからサインアウトします。";
        sign_out_question: "Sign out of Ticketing on this device?", "このデバイスでTicketingからサインアウトしますか？";
        everywhere_question: "Or end every session of yours, on every device (a phone you lost, a shared computer):",
            "または、すべてのデバイスのセッションを終了します（紛失した携帯電話や共用のパソコンなど）：";
        sign_out_everywhere: "Sign out everywhere", "すべてのデバイスからサインアウト";
        signing_out: "Signing out…", "サインアウト中…";
    }
}

#[server(prefix = "/_fn", endpoint = "signup")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    forward_credentials("/api/users/signup", &email, &password, None).await
}

/// `next` is where the visitor was going when a page sent them to sign in.
#[server(prefix = "/_fn", endpoint = "signin")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    forward_credentials("/api/users/signin", &email, &password, next).await
}

/// Ends this session, or (`everywhere`) every session of the visitor's, on every device.
#[server(prefix = "/_fn", endpoint = "signout")]
pub async fn sign_out(everywhere: Option<bool>) -> Result<(), AppError> {
    use crate::api::ssr::{call, Service};
    let body = contract::SignOutBody { everywhere: everywhere.unwrap_or(false) };
    let _: serde_json::Value = call(Service::Auth, reqwest::Method::POST, "/api/users/signout", Some(&body)).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Sign-up and sign-in take the same body; the auth service's cookie is passed on by `call`.
#[cfg(feature = "ssr")]
async fn forward_credentials(path: &str, email: &str, password: &str, next: Option<String>) -> Result<(), AppError> {
    use crate::api::ssr::{call, Service};
    let body = contract::Credentials { email: Some(email.to_string()), password: Some(password.to_string()) };
    let _: contract::User = call(Service::Auth, reqwest::Method::POST, path, Some(&body))
        .await
        .map_err(|e| e.required_if_empty("email", email, contract::ErrorCode::EmailRequired, "Email is required"))?;
    leptos_axum::redirect(&next.filter(|n| crate::api::is_local_path(n)).unwrap_or_else(|| "/".to_string()));
    Ok(())
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
    let t = AuthTexts::of(use_locale());
    let field = move |name: &'static str| field_error(error, name);
    view! {
        <FormErrors messages=general_errors(error, FIELDS) />
        <Field name="email" label=t.email_label kind="email" autocomplete="email" error=field("email") first_invalid=first_invalid(error, FIELDS, "email") />
        <Field
            name="password"
            label=t.password_label
            kind="password"
            autocomplete=password_autocomplete
            error=field("password")
            first_invalid=first_invalid(error, FIELDS, "password")
        />
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let locale = use_locale();
    let (t, common) = (AuthTexts::of(locale), Common::of(locale));
    let action = session_action::<SignUp>();
    let error = action_error(action);
    view! {
        <PageMeta title=t.sign_up_title description=t.sign_up_description />
        <Card title=common.sign_up>
            <ActionForm action=action attr:class="flex flex-col gap-4" attr:novalidate=true>
                <CredentialFields error password_autocomplete="new-password" />
                <SubmitButton label=common.sign_up pending_label=t.signing_up pending=action.pending() />
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">
                {t.have_account} <A href="/auth/signin" attr:class=LINK>{t.sign_in_link}</A>
            </p>
        </Card>
    }
}

/// What a visitor sent here from a page that needs a session reads above the form: why.
fn why_sign_in(t: &'static AuthTexts, next: &str) -> &'static str {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["orders"] => t.why_orders,
        ["orders", _] => t.why_order,
        ["tickets", "new"] => t.why_sell,
        ["tickets", "mine"] => t.why_my_tickets,
        ["tickets", _, "edit"] => t.why_edit,
        ["tickets", _] => t.why_buy,
        _ => t.why_continue,
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let locale = use_locale();
    let (t, common) = (AuthTexts::of(locale), Common::of(locale));
    let action = session_action::<SignIn>();
    let error = action_error(action);
    let next = use_query_map().with_untracked(|q| q.get("next"));
    let why = next.as_deref().map(|next| why_sign_in(t, next));
    view! {
        <PageMeta title=t.sign_in_title description=t.sign_in_description />
        <Card title=common.sign_in>
            {why.map(|why| view! { <div class="mb-4"><Notice tone="info">{why}</Notice></div> })}
            <ActionForm action=action attr:class="flex flex-col gap-4" attr:novalidate=true>
                {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
                <CredentialFields error password_autocomplete="current-password" />
                <SubmitButton label=common.sign_in pending_label=t.signing_in pending=action.pending() />
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">
                {t.new_here} <A href="/auth/signup" attr:class=LINK>{t.create_account}</A>
            </p>
        </Card>
    }
}

/// Signing out changes state, so it is a POST the visitor makes by pressing the button, with
/// the server functions' same-origin checks: opening the page signs nobody out, so a link or an
/// embedded page on another site cannot sign a visitor out.
#[component]
pub fn SignOutPage() -> impl IntoView {
    let locale = use_locale();
    let (t, common) = (AuthTexts::of(locale), Common::of(locale));
    let action = session_action::<SignOut>();
    let error = action_error(action);
    view! {
        <PageMeta title=t.sign_out_title description=t.sign_out_description />
        <Card title=common.sign_out>
            <ActionForm action=action attr:class="flex flex-col gap-4">
                <FormErrors messages=general_errors(error, &[]) />
                <p>{t.sign_out_question}</p>
                <SubmitButton label=common.sign_out pending_label=t.signing_out pending=action.pending() />
            </ActionForm>
            <ActionForm action=action attr:class="mt-6 flex flex-col gap-4 border-t border-slate-200 pt-6 dark:border-slate-800">
                <input type="hidden" name="everywhere" value="true" />
                <p class="text-sm text-slate-600 dark:text-slate-400">{t.everywhere_question}</p>
                <SubmitButton label=t.sign_out_everywhere pending_label=t.signing_out pending=action.pending() />
            </ActionForm>
        </Card>
    }
}
