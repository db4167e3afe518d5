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
    shared::telemetry::init(config.service.process.log_format, &config.service.process.traces);
    let server = auth::application(config).await?;
    tracing::info!(port = server.port(), "auth service listening");
    server.run_until_stopped().await?;
    // The spans of the last requests and events go out before the process does.
    shared::telemetry::shutdown();
    Ok(std::process::ExitCode::SUCCESS)
}
