use orders::OrdersConfig;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    if let Some(code) = shared::events::dead_letters::command(orders::events::DURABLE).await {
        return Ok(code);
    }
    let config = OrdersConfig::from_env().unwrap_or_else(|error| {
        eprintln!("orders: {error}");
        std::process::exit(2);
    });
    shared::telemetry::init(config.service.process.log_format, &config.service.process.traces);
    let server = orders::application(config).await?;
    tracing::info!(port = server.port(), "orders service listening");
    server.run_until_stopped().await?;
    // The spans of the last requests and events go out before the process does.
    shared::telemetry::shutdown();
    Ok(std::process::ExitCode::SUCCESS)
}
