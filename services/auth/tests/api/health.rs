use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_the_database_is_up() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
}

/// On its own port the service describes its routes (the web server merges this into
/// `/api/openapi.json`; the ingress never routes `/openapi.json` to a service).
#[tokio::test]
async fn the_service_describes_its_routes_at_openapi_json() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/openapi.json", app.address)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let description: serde_json::Value = response.json().await.unwrap();
    assert_eq!(description["openapi"], "3.1.0");
    let paths: Vec<&str> = description["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(paths, ["/api/users/currentuser", "/api/users/signin", "/api/users/signout", "/api/users/signup"]);
    assert_eq!(description["paths"]["/api/users/signup"]["post"]["operationId"], "signUp");
    assert!(description["components"]["securitySchemes"]["session"].is_object(), "{description}");
}
