use auth::AuthConfig;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    if let Some(code) = auth::keygen::command() {
        return Ok(code);
    }
    let config = AuthConfig::from_env().unwrap_or_else(|error| {
        eprintln!("auth: {error}");
        std::process::exit(2);
    });
    shared::telemetry::init(config.service.process.log_format);
    let server = auth::application(config).await?;
    tracing::info!(port = server.port(), "auth service listening");
    server.run_until_stopped().await?;
    Ok(std::process::ExitCode::SUCCESS)
}
