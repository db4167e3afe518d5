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
