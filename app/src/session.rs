//! Who is signed in, fetched from the auth service and refetched after every sign-up, sign-in or
//! sign-out.
use leptos::prelude::*;

use crate::api::SessionUser;
use crate::error::AppError;

#[server(prefix = "/_fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    use crate::api::ssr::{call, Service};

    let answer: contract::CurrentUser = call(Service::Auth, reqwest::Method::GET, "/api/users/currentuser", None::<&()>).await?;
    Ok(answer.current_user)
}

#[derive(Clone, Copy)]
struct Session(Resource<Option<SessionUser>>, RwSignal<usize>);

pub fn provide_session() {
    let changes = RwSignal::new(0);
    // An unreachable auth service reads as signed out rather than breaking every page.
    let user = Resource::new(move || changes.get(), |_| async { current_user().await.ok().flatten() });
    provide_context(Session(user, changes));
}

/// Reads who is signed in again, after signing up, in or out. (A counter rather than the auth
/// actions themselves, so the auth pages' code can live in their own lazily loaded chunk.)
pub fn session_changed() {
    if let Some(Session(_, changes)) = use_context::<Session>() {
        changes.update(|n| *n += 1);
    }
}

/// The signed-in user (`None` when signed out); read it inside `Suspense` or `Transition`.
pub fn use_session() -> Resource<Option<SessionUser>> {
    expect_context::<Session>().0
}
