use expiration::ExpirationConfig;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    if let Some(code) = shared::events::dead_letters::command(expiration::events::DURABLE).await {
        return Ok(code);
    }
    let config = ExpirationConfig::from_env().unwrap_or_else(|error| {
        eprintln!("expiration: {error}");
        std::process::exit(2);
    });
    shared::telemetry::init(config.process.log_format, &config.process.traces);
    let server = expiration::application(config).await?;
    tracing::info!(port = server.port(), "expiration service listening");
    server.run_until_stopped().await?;
    // The spans of the last requests and events go out before the process does.
    shared::telemetry::shutdown();
    Ok(std::process::ExitCode::SUCCESS)
}
