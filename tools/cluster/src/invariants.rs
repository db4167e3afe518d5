//! What must hold once the load has stopped and the system has settled, checked from the outside
//! only: the HTTP API as each user sees it, the Stripe double's ledger, and NATS (the
//! dead-letter stream and the consumers' backlog). Money and seats first: no ticket sold twice,
//! no charge without a settled order or a refund.
use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;
use stripe_double::StripeDouble;

use crate::load::{Api, Observed};

/// One invariant and, when it does not hold, examples of why.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub violations: Vec<String>,
}

impl Check {
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The state of everything, read once.
pub struct Snapshot {
    /// Every order of every user, by id.
    pub orders: BTreeMap<String, Value>,
    /// Every ticket a seller was told was created: the API's answer, `None` for a 404.
    pub tickets: BTreeMap<String, Option<Value>>,
    /// The latest `expiresAt` of any order.
    pub last_expiry: Option<time::OffsetDateTime>,
    pub dead_letters: u64,
    /// Consumers with events still to handle: (name, pending, unacked).
    pub backlog: Vec<(String, u64, usize)>,
}

fn get_json(response: Option<(u16, Value, reqwest::header::HeaderMap)>) -> anyhow::Result<(u16, Value)> {
    let (status, body, _) = response.ok_or_else(|| anyhow::anyhow!("no answer"))?;
    Ok((status, body))
}

pub async fn snapshot(api: &Api, observed: &Observed, nats: &crate::topology::NatsAdmin) -> anyhow::Result<Snapshot> {
    let mut orders = BTreeMap::new();
    for user in &observed.users {
        let (status, list) = get_json(api.call("check", Method::GET, "/api/orders", Some(&user.token), None).await)?;
        anyhow::ensure!(status == 200, "GET /api/orders answered {status}");
        for order in list.as_array().into_iter().flatten() {
            if let Some(id) = order["id"].as_str() {
                orders.insert(id.to_string(), order.clone());
            }
        }
    }
    let mut tickets = BTreeMap::new();
    for id in observed.tickets.keys() {
        let (status, ticket) = get_json(api.call("check", Method::GET, &format!("/api/tickets/{id}"), None, None).await)?;
        anyhow::ensure!(status == 200 || status == 404, "GET /api/tickets/{id} answered {status}");
        tickets.insert(id.clone(), (status == 200).then_some(ticket));
    }
    let last_expiry = orders.values().filter_map(expires_at).max();
    let (dead_letters, backlog) = nats_state(nats).await?;
    Ok(Snapshot { orders, tickets, last_expiry, dead_letters, backlog })
}

fn expires_at(order: &Value) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(order["expiresAt"].as_str()?, &time::format_description::well_known::Rfc3339).ok()
}

async fn nats_state(nats: &crate::topology::NatsAdmin) -> anyhow::Result<(u64, Vec<(String, u64, usize)>)> {
    let js = async_nats::jetstream::new(nats.client().await?);
    let mut dead = js.get_stream("TICKETING_DEAD_LETTER").await?;
    let dead_letters = dead.info().await?.state.messages;
    Ok((dead_letters, backlog(&js).await?))
}

/// Each service's durable consumer of `TICKETING` that has not finished: (durable, messages not
/// yet delivered, delivered and not acked). Empty when every event was handled.
pub async fn backlog(js: &async_nats::jetstream::Context) -> anyhow::Result<Vec<(String, u64, usize)>> {
    let mut backlog = Vec::new();
    for durable in ["tickets-service", "orders-service", "payments-service", "expiration-service"] {
        let mut consumer: async_nats::jetstream::consumer::PullConsumer = js.get_consumer_from_stream(durable, "TICKETING").await?;
        let info = consumer.info().await?;
        if info.num_pending > 0 || info.num_ack_pending > 0 {
            backlog.push((durable.to_string(), info.num_pending, info.num_ack_pending));
        }
    }
    Ok(backlog)
}

fn cents(dollars: &Value) -> i64 {
    (dollars.as_f64().unwrap_or(-1.0) * 100.0).round() as i64
}

fn status(order: &Value) -> &str {
    order["status"].as_str().unwrap_or_default()
}

fn is_open(order: &Value) -> bool {
    matches!(status(order), "created" | "awaiting:payment")
}

/// Every invariant, checked against `snapshot` and the Stripe double's ledger.
pub fn check(snapshot: &Snapshot, observed: &Observed, stripe: &StripeDouble, now: time::OffsetDateTime) -> Vec<Check> {
    let by_ticket = orders_by_ticket(&snapshot.orders);
    let ledger = Ledger::of(stripe);
    let dead = if snapshot.dead_letters == 0 { Vec::new() } else { vec![format!("{} dead letters", snapshot.dead_letters)] };
    let backlog = snapshot.backlog.iter().map(|(name, pending, unacked)| format!("{name}: {pending} pending, {unacked} unacked")).collect();
    vec![
        Check { name: "no ticket in two completed orders or reserved by two open ones", violations: one_sale(&by_ticket) },
        Check {
            name: "every completed order has exactly one successful, unrefunded charge of its price",
            violations: paid_once(&snapshot.orders, &ledger),
        },
        Check { name: "every charge not attached to a completed order is refunded", violations: strays(&snapshot.orders, &ledger) },
        Check { name: "every order not paid before its expiry is cancelled and holds nothing", violations: expired(snapshot, now) },
        Check { name: "every 201 a client saw is still there", violations: kept(snapshot, observed) },
        Check { name: "tickets' and orders' views of each ticket agree", violations: agree(snapshot, &by_ticket) },
        Check { name: "the dead-letter stream is empty", violations: dead },
        Check { name: "every event was handled (no consumer backlog)", violations: backlog },
    ]
}

type ByTicket<'a> = BTreeMap<&'a str, Vec<&'a Value>>;

fn orders_by_ticket(orders: &BTreeMap<String, Value>) -> ByTicket<'_> {
    orders.values().fold(BTreeMap::new(), |mut map, order| {
        map.entry(order["ticket"]["id"].as_str().unwrap_or_default()).or_insert_with(Vec::new).push(order);
        map
    })
}

/// The orders on a ticket that hold it: open, or paid.
fn holding<'a>(by_ticket: &'a ByTicket<'a>, ticket_id: &str) -> impl Iterator<Item = &'a &'a Value> {
    by_ticket.get(ticket_id).into_iter().flatten().filter(|o| is_open(o) || status(o) == "complete")
}

fn one_sale(by_ticket: &ByTicket<'_>) -> Vec<String> {
    let mut violations = Vec::new();
    for (ticket, orders) in by_ticket {
        let complete: Vec<&str> = orders.iter().filter(|o| status(o) == "complete").filter_map(|o| o["id"].as_str()).collect();
        let open: Vec<&str> = orders.iter().filter(|o| is_open(o)).filter_map(|o| o["id"].as_str()).collect();
        if complete.len() > 1 {
            violations.push(format!("ticket {ticket} is in {} completed orders: {complete:?}", complete.len()));
        }
        if open.len() > 1 {
            violations.push(format!("ticket {ticket} is reserved by {} open orders: {open:?}", open.len()));
        }
        if !complete.is_empty() && !open.is_empty() {
            violations.push(format!("ticket {ticket} is sold ({complete:?}) and reserved ({open:?})"));
        }
    }
    violations
}

/// The Stripe double's charges by the order their metadata names, and its refunds.
struct Ledger {
    charges_of: BTreeMap<String, Vec<stripe_double::PaymentIntent>>,
    refunds: Vec<stripe_double::Refund>,
}

impl Ledger {
    fn of(stripe: &StripeDouble) -> Self {
        let mut charges_of: BTreeMap<String, Vec<stripe_double::PaymentIntent>> = BTreeMap::new();
        for intent in stripe.charges() {
            let order = intent.metadata.iter().find(|(k, _)| k == "order_id").map(|(_, v)| v.clone()).unwrap_or_default();
            charges_of.entry(order).or_default().push(intent);
        }
        Self { charges_of, refunds: stripe.refunds() }
    }

    fn refunded(&self, intent: &str) -> i64 {
        self.refunds.iter().filter(|r| r.payment_intent == intent).map(|r| r.amount).sum()
    }

    /// The order's charges that were not refunded in full.
    fn kept(&self, order_id: &str) -> impl Iterator<Item = &stripe_double::PaymentIntent> {
        self.charges_of.get(order_id).into_iter().flatten().filter(|pi| self.refunded(&pi.id) < pi.amount)
    }
}

fn paid_once(orders: &BTreeMap<String, Value>, ledger: &Ledger) -> Vec<String> {
    let mut violations = Vec::new();
    for order in orders.values().filter(|o| status(o) == "complete") {
        let id = order["id"].as_str().unwrap_or_default();
        let kept: Vec<_> = ledger.kept(id).collect();
        match kept.as_slice() {
            [charge] if charge.amount == cents(&order["ticket"]["price"]) && ledger.refunded(&charge.id) == 0 => {}
            [charge] => violations.push(format!(
                "order {id}: charged {} (refunded {}), price {}",
                charge.amount,
                ledger.refunded(&charge.id),
                order["ticket"]["price"]
            )),
            other => violations.push(format!("order {id} is complete with {} unrefunded charges", other.len())),
        }
    }
    violations
}

fn strays(orders: &BTreeMap<String, Value>, ledger: &Ledger) -> Vec<String> {
    let mut violations = Vec::new();
    for order_id in ledger.charges_of.keys() {
        if orders.get(order_id).is_some_and(|o| status(o) == "complete") {
            continue;
        }
        for charge in ledger.kept(order_id) {
            let state = orders.get(order_id).map_or("unknown to its buyer", |o| status(o));
            violations.push(format!("charge {} of {} for order {order_id} ({state}) is not refunded", charge.id, charge.amount));
        }
    }
    violations
}

fn expired(snapshot: &Snapshot, now: time::OffsetDateTime) -> Vec<String> {
    let mut violations = Vec::new();
    let settled = now - time::Duration::seconds(2);
    for order in snapshot.orders.values() {
        let Some(expiry) = expires_at(order) else { continue };
        if status(order) == "complete" || expiry > settled {
            continue;
        }
        let id = order["id"].as_str().unwrap_or_default();
        if status(order) != "cancelled" {
            violations.push(format!("order {id} expired at {expiry} but is {}", status(order)));
            continue;
        }
        let ticket_id = order["ticket"]["id"].as_str().unwrap_or_default();
        if let Some(Some(ticket)) = snapshot.tickets.get(ticket_id)
            && ticket["orderId"].as_str() == Some(id)
        {
            violations.push(format!("ticket {ticket_id} is still held by order {id}, which is cancelled"));
        }
    }
    violations
}

fn kept(snapshot: &Snapshot, observed: &Observed) -> Vec<String> {
    let (orders, mut violations) = (&snapshot.orders, Vec::new());
    for id in observed.tickets.keys() {
        match (snapshot.tickets.get(id), observed.deleted.contains(id)) {
            (Some(Some(_)), true) => violations.push(format!("ticket {id} was deleted (204) but is still shown")),
            (Some(None), false) => violations.push(format!("ticket {id} was created (201) but is gone")),
            _ => {}
        }
    }
    for (id, seen) in &observed.orders {
        match orders.get(id) {
            None => violations.push(format!("order {id} was created (201) but its buyer does not see it")),
            Some(order) if order["ticket"]["id"].as_str() != Some(seen.ticket.as_str()) => {
                violations.push(format!("order {id} is for another ticket than the one reserved"))
            }
            Some(_) => {}
        }
        if observed.users.get(seen.buyer).is_none() {
            violations.push(format!("order {id} has no buyer on record"));
        }
    }
    for (payment, order_id) in &observed.payments {
        // Paid, unless its ticket's deletion or a seller's edit raced the payment: then the order
        // is cancelled with that reason and its charge refunded (checked above).
        let settled = orders
            .get(order_id)
            .is_some_and(|o| status(o) == "complete" || o["cancelReason"] == "ticket_withdrawn" || o["cancelReason"] == "ticket_changed");
        if !settled {
            violations
                .push(format!("payment {payment} was accepted (201) but order {order_id} is neither complete nor withdrawn nor changed"));
        }
    }
    violations
}

fn agree(snapshot: &Snapshot, by_ticket: &ByTicket<'_>) -> Vec<String> {
    let mut violations = Vec::new();
    for (ticket_id, ticket) in &snapshot.tickets {
        let Some(ticket) = ticket else {
            if let Some(open) = holding(by_ticket, ticket_id).next() {
                violations.push(format!("ticket {ticket_id} is deleted but order {} holds it ({})", open["id"], status(open)));
            }
            continue;
        };
        let held_by = ticket["orderId"].as_str();
        let sold = ticket["sold"] == true;
        match holding(by_ticket, ticket_id).next() {
            None if held_by.is_some() || sold => violations
                .push(format!("tickets says {ticket_id} is held by {held_by:?} (sold: {sold}); orders has no active order for it")),
            Some(order) if held_by != order["id"].as_str() => {
                violations.push(format!("tickets says {ticket_id} is held by {held_by:?}; orders says by {}", order["id"]))
            }
            Some(order) if sold != (status(order) == "complete") => {
                violations.push(format!("tickets says {ticket_id} sold: {sold}; its order {} is {}", order["id"], status(order)))
            }
            _ => {}
        }
    }
    violations
}
