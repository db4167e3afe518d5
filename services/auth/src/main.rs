use auth::{AuthConfig, Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = AuthConfig::from_env().unwrap_or_else(|error| {
        eprintln!("auth: {error}");
        std::process::exit(2);
    });
    shared::telemetry::init(config.service.log_format);
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "auth service listening");
    app.run_until_stopped().await?;
    Ok(())
}
