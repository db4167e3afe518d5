//! `stripe-double`: serves the Stripe test double on `PORT` (default 12111, as stripe-mock), and
//! sends its webhooks to `WEBHOOK_URL` (if set) signed with `WEBHOOK_SECRET` (default
//! `whsec_double`, what the payments service expects from the double).
use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(12111);
    let host: std::net::IpAddr = std::env::var("HOST").ok().and_then(|h| h.parse().ok()).unwrap_or([127, 0, 0, 1].into());
    match stripe_double::StripeDouble::start(SocketAddr::new(host, port)).await {
        Ok((double, address)) => {
            if let Ok(url) = std::env::var("WEBHOOK_URL") {
                let secret = std::env::var("WEBHOOK_SECRET").unwrap_or_else(|_| stripe_double::StripeDouble::WEBHOOK_SECRET.to_string());
                println!("stripe double sends webhooks to {url}");
                double.send_webhooks_to(url, secret);
            }
            println!("stripe double listening on http://{address}");
            let _ = tokio::signal::ctrl_c().await;
        }
        Err(error) => {
            eprintln!("stripe double: cannot listen on {host}:{port}: {error}");
            std::process::exit(1);
        }
    }
}
