use tickets::TicketsConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = TicketsConfig::from_env().unwrap_or_else(|error| {
        eprintln!("tickets: {error}");
        std::process::exit(2);
    });
    shared::telemetry::init(config.service.process.log_format);
    let server = tickets::application(config).await?;
    tracing::info!(port = server.port(), "tickets service listening");
    server.run_until_stopped().await?;
    Ok(())
}
