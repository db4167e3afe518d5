use payments::PaymentsConfig;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    if let Some(code) = shared::events::dead_letters::command(payments::events::DURABLE).await {
        return Ok(code);
    }
    let config = PaymentsConfig::from_env().unwrap_or_else(|error| {
        eprintln!("payments: {error}");
        std::process::exit(2);
    });
    if let Some(code) = payments::refunds::command(&config).await {
        return Ok(code);
    }
    shared::telemetry::init(config.service.process.log_format, &config.service.process.traces);
    let server = payments::application(config).await?;
    tracing::info!(port = server.port(), "payments service listening");
    server.run_until_stopped().await?;
    // The spans of the last requests and events go out before the process does.
    shared::telemetry::shutdown();
    Ok(std::process::ExitCode::SUCCESS)
}
