use expiration::ExpirationConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = ExpirationConfig::from_env().unwrap_or_else(|error| {
        eprintln!("expiration: {error}");
        std::process::exit(2);
    });
    shared::telemetry::init(config.process.log_format);
    let server = expiration::application(config).await?;
    tracing::info!(port = server.port(), "expiration service listening");
    server.run_until_stopped().await?;
    Ok(())
}
