//! Attacks on the marketplace through the ingress, where every service runs as two replicas: the
//! limits must be counted across them, not per process. Each case is what a hostile client
//! does, and says what the marketplace must answer:
//! - a bot places eight orders at once to hoard tickets: four holds, then `too_many_holds`;
//! - a card tester tries card after card on one cheap order: five declines, then 429 before
//!   Stripe is asked;
//! - a guesser tries passwords for one account: ten failures, then 429 even for the right one;
//! - a signed-out session, presented again: refused within about a second by another service.
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> anyhow::Result<(u16, Value, String)> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("session=").map(|rest| rest.split(';').next().unwrap_or_default().to_string()))
            .unwrap_or_default();
        Ok((status, response.json().await.unwrap_or(Value::Null), cookie))
    }

    /// A new account; its session token.
    async fn sign_up(&self, email: &str) -> anyhow::Result<String> {
        let (status, body, token) =
            self.call(Method::POST, "/api/users/signup", None, Some(json!({ "email": email, "password": PASSWORD }))).await?;
        anyhow::ensure!(status == 201 && !token.is_empty(), "signing up {email}: {status} {body}");
        Ok(token)
    }
}

const PASSWORD: &str = "correct horse battery staple";

/// Every attack against `base`; what did not hold, as sentences (empty when all held).
pub async fn run(base: &str) -> anyhow::Result<Vec<String>> {
    let client = Client { http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?, base: base.to_string() };
    let run = fastrand::u32(..);
    let mut failures = Vec::new();
    failures.extend(hoarding(&client, run).await?);
    failures.extend(guessing(&client, run).await?);
    failures.extend(signed_out(&client, run).await?);
    for failure in &failures {
        println!("[attacks] VIOLATED: {failure}");
    }
    if failures.is_empty() {
        println!("[attacks] holds, declined cards, password guesses and signed-out sessions are stopped across replicas");
    }
    Ok(failures)
}

/// Eight orders at once by one buyer, then one order's cards declined until refused.
async fn hoarding(client: &Client, run: u32) -> anyhow::Result<Vec<String>> {
    let seller = client.sign_up(&format!("attack-seller-{run}@example.com")).await?;
    let buyer = client.sign_up(&format!("attack-hoarder-{run}@example.com")).await?;
    let mut tickets = Vec::new();
    for n in 0..8 {
        let body = json!({ "title": format!("Hoarded {n}"), "price": 0.5 });
        let (status, ticket, _) = client.call(Method::POST, "/api/tickets", Some(&seller), Some(body)).await?;
        anyhow::ensure!(status == 201, "listing a ticket: {status} {ticket}");
        tickets.push(ticket["id"].as_str().unwrap_or_default().to_string());
    }
    // Orderable once the orders service has heard of each ticket: the seller's own order is
    // refused as their own (400) from then on, and never made.
    for id in &tickets {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, _, _) = client.call(Method::POST, "/api/orders", Some(&seller), Some(json!({ "ticketId": id }))).await?;
            if status == 400 {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "ticket {id} never reached the orders service");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let orders = futures_util::future::join_all(
        tickets.iter().map(|id| client.call(Method::POST, "/api/orders", Some(&buyer), Some(json!({ "ticketId": id })))),
    )
    .await;
    let mut failures = Vec::new();
    let mut held = Vec::new();
    let mut refused = 0;
    for answer in orders {
        match answer? {
            (201, order, _) => held.push(order["id"].as_str().unwrap_or_default().to_string()),
            (400, body, _) if body["errors"][0]["code"] == "too_many_holds" => refused += 1,
            (status, body, _) => failures.push(format!("a hoarder's order was answered {status} {body}")),
        }
    }
    if held.len() != 4 || refused != 4 {
        failures.push(format!("eight orders at once by one buyer: {} held and {refused} refused, expected 4 and 4", held.len()));
    }
    let Some(order) = held.first() else { return Ok(failures) };
    let pay = |card: &str| json!({ "orderId": order, "token": card });
    for attempt in 1..=5 {
        let (status, body, _) = client.call(Method::POST, "/api/payments", Some(&buyer), Some(pay("pm_card_chargeDeclined"))).await?;
        if status != 402 {
            failures.push(format!("declined card {attempt} of a card tester: {status} {body}, expected 402"));
        }
    }
    let (status, body, _) = client.call(Method::POST, "/api/payments", Some(&buyer), Some(pay("pm_card_visa"))).await?;
    if status != 429 {
        failures.push(format!("a sixth card on one order: {status} {body}, expected 429"));
    }
    Ok(failures)
}

/// Ten wrong passwords for one account from one address, across the auth replicas.
async fn guessing(client: &Client, run: u32) -> anyhow::Result<Vec<String>> {
    let email = format!("attack-guessed-{run}@example.com");
    client.sign_up(&email).await?;
    let mut failures = Vec::new();
    for guess in 1..=10 {
        let (status, body, _) = client
            .call(Method::POST, "/api/users/signin", None, Some(json!({ "email": email, "password": format!("guess {guess}") })))
            .await?;
        if status != 400 {
            failures.push(format!("wrong password {guess}: {status} {body}, expected 400"));
        }
    }
    let (status, body, _) =
        client.call(Method::POST, "/api/users/signin", None, Some(json!({ "email": email, "password": PASSWORD }))).await?;
    if status != 429 {
        failures.push(format!("the eleventh sign-in from the guesser's address: {status} {body}, expected 429"));
    }
    Ok(failures)
}

/// A session signed out at auth, presented again to orders.
async fn signed_out(client: &Client, run: u32) -> anyhow::Result<Vec<String>> {
    let token = client.sign_up(&format!("attack-signed-out-{run}@example.com")).await?;
    let (status, _, _) = client.call(Method::GET, "/api/orders", Some(&token), None).await?;
    anyhow::ensure!(status == 200, "a fresh session at orders: {status}");
    let (status, body, _) = client.call(Method::POST, "/api/users/signout", Some(&token), None).await?;
    anyhow::ensure!(status == 200, "signing out: {status} {body}");
    let signed_out = Instant::now();
    loop {
        let (status, _, _) = client.call(Method::GET, "/api/orders", Some(&token), None).await?;
        if status == 401 {
            println!(
                "[attacks] a signed-out session was refused by orders {:.0} ms after the sign-out",
                signed_out.elapsed().as_secs_f64() * 1e3
            );
            return Ok(Vec::new());
        }
        if signed_out.elapsed() > Duration::from_secs(3) {
            return Ok(vec![format!("a signed-out session was still accepted by orders {:?} later", signed_out.elapsed())]);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
