use std::time::Duration;

use serde_json::json;

use crate::helpers::{cookie_pair, session_set_cookie, spawn_app, PASSWORD};

#[tokio::test]
async fn signout_clears_the_session_cookie() {
    let app = spawn_app().await;
    let signup = app.signup("ann@example.com", PASSWORD).await;
    let session = cookie_pair(&session_set_cookie(&signup));

    let response = app.client.post(format!("{}/api/users/signout", app.address)).header("cookie", &session).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let cleared = session_set_cookie(&response);
    assert!(cleared.starts_with("session=;"), "{cleared}");
    for flag in ["Max-Age=0", "HttpOnly", "Path=/", "Expires=Thu, 01 Jan 1970"] {
        assert!(cleared.contains(flag), "{flag} missing from {cleared}");
    }
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), serde_json::json!({}));
}

#[tokio::test]
async fn signout_takes_an_empty_json_body_too() {
    let app = spawn_app().await;
    let response = app.post_json("/api/users/signout", &serde_json::json!({})).await;
    assert_eq!(response.status().as_u16(), 200);
}

async fn signed_in(app: &crate::helpers::TestApp, email: &str) -> String {
    let response = app.signin(email, PASSWORD).await;
    assert_eq!(response.status().as_u16(), 200);
    cookie_pair(&session_set_cookie(&response))
}

async fn sign_out(app: &crate::helpers::TestApp, session: &str, body: Option<serde_json::Value>) -> reqwest::Response {
    let mut request = app.client.post(format!("{}/api/users/signout", app.address)).header("cookie", session);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// A stolen session used to stay valid for its whole 24 hours whatever its owner did.
#[tokio::test]
async fn a_signed_out_session_is_refused_afterwards_and_the_owners_others_are_not() {
    let app = spawn_app().await;
    app.signup("ann@example.com", PASSWORD).await;
    let laptop = signed_in(&app, "ann@example.com").await;
    let phone = signed_in(&app, "ann@example.com").await;
    assert_eq!(app.current_user(Some(&laptop)).await["currentUser"]["email"], "ann@example.com");

    assert_eq!(sign_out(&app, &laptop, None).await.status().as_u16(), 200);
    assert_eq!(app.current_user(Some(&laptop)).await, json!({ "currentUser": null }), "the same token, presented again");
    // As a Bearer header too: the session ended, not the cookie.
    let token = laptop.trim_start_matches("session=");
    let bearer = app.client.get(format!("{}/api/users/currentuser", app.address)).bearer_auth(token).send().await.unwrap();
    assert_eq!(bearer.json::<serde_json::Value>().await.unwrap(), json!({ "currentUser": null }));
    assert_eq!(app.current_user(Some(&phone)).await["currentUser"]["email"], "ann@example.com", "the other device stays signed in");
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_of_the_user_alone() {
    let app = spawn_app().await;
    app.signup("ann@example.com", PASSWORD).await;
    app.signup("bob@example.com", PASSWORD).await;
    let laptop = signed_in(&app, "ann@example.com").await;
    let phone = signed_in(&app, "ann@example.com").await;
    let bob = signed_in(&app, "bob@example.com").await;
    assert_eq!(sign_out(&app, &phone, Some(json!({ "everywhere": true }))).await.status().as_u16(), 200);
    let ended = test_support::eventually(Duration::from_secs(3), || async {
        app.current_user(Some(&laptop)).await == json!({ "currentUser": null })
    })
    .await;
    assert!(ended, "the laptop's session ended too, within a second or so");
    assert_eq!(app.current_user(Some(&phone)).await, json!({ "currentUser": null }));
    assert_eq!(app.current_user(Some(&bob)).await["currentUser"]["email"], "bob@example.com", "another user's session is not touched");
}

#[tokio::test]
async fn a_sign_out_body_that_is_not_the_json_asked_for_is_400_and_ends_nothing() {
    let app = spawn_app().await;
    app.signup("ann@example.com", PASSWORD).await;
    let session = signed_in(&app, "ann@example.com").await;
    let response = app
        .client
        .post(format!("{}/api/users/signout", app.address))
        .header("cookie", &session)
        .header("content-type", "application/json")
        .body("{\"everywhere\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let array =
        app.client.post(format!("{}/api/users/signout", app.address)).header("cookie", &session).json(&json!([])).send().await.unwrap();
    assert_eq!(array.status().as_u16(), 400, "an array is not the object asked for");
    let blank = app.client.post(format!("{}/api/users/signout", app.address)).header("cookie", &session).body("\t").send().await.unwrap();
    assert_eq!(blank.status().as_u16(), 400, "whitespace is not JSON (found by scripts/fuzz)");
    assert_eq!(app.current_user(Some(&session)).await["currentUser"]["email"], "ann@example.com");
}
