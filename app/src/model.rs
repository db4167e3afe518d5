//! What the pages show: the services' JSON as the contract crate types it (so a change to the API
//! is a compile error here too), and how the pages format it. Everything here is integer and
//! string work: float formatting or a date library would grow the browser bundle.
pub use contract::{CancelReason, Cents, Order, OrderStatus, Ticket};

use crate::i18n::{day, fill, Locale};

/// `$12.05`, `$1,000,000.00`. From whole cents, so the browser bundle needs no float formatting
/// code. The same in Japanese: prices are US dollars, which Japanese writes this way too
/// (`Intl.NumberFormat("ja-JP", {currency: "USD"})` gives `$1,234.56`).
pub fn dollars(price: Cents) -> String {
    let cents = price.0.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        // A comma before every group of three digits counted from the right.
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if price.0 < 0 { "-" } else { "" };
    format!("{sign}${grouped}.{:02}", cents % 100)
}

/// `14:58` for 898 seconds: minutes, then zero-padded seconds.
pub fn countdown(seconds: i64) -> String {
    let seconds = seconds.max(0);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// `14:05` from the API's `2025-01-02T14:05:09.123Z` (RFC 3339 in UTC), read by position: the
/// API always writes this shape, and a date library in the bundle would cost every visitor.
pub fn utc_time(at: &str) -> Option<&str> {
    if at.as_bytes().get(10) == Some(&b'T') && at.as_bytes().get(13) == Some(&b':') {
        at.get(11..16)
    } else {
        None
    }
}

/// `2025-01-02` from `2025-01-02T14:05:09.123Z`.
pub fn utc_date(at: &str) -> Option<&str> {
    if at.as_bytes().get(10) == Some(&b'T') {
        at.get(..10)
    } else {
        None
    }
}

/// An order as its buyer should read it: the API's status, why it was cancelled, and whether its
/// time to pay ran out (an open order is cancelled a moment after that, but can no longer be
/// paid, so it reads as expired at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    Open,
    Paid,
    Expired,
    /// By the buyer (or, on orders older than cancellation reasons, for a reason not recorded).
    Cancelled,
    /// The seller deleted the ticket while the order was being placed.
    Withdrawn,
    /// The seller changed the ticket's price or title while the order was being placed.
    Changed,
}

impl OrderState {
    pub fn of(order: &Order, ran_out: bool) -> Self {
        match (order.status, order.cancel_reason) {
            (OrderStatus::Complete, _) => Self::Paid,
            (OrderStatus::Cancelled, Some(CancelReason::Expired)) => Self::Expired,
            (OrderStatus::Cancelled, Some(CancelReason::TicketWithdrawn)) => Self::Withdrawn,
            (OrderStatus::Cancelled, Some(CancelReason::TicketChanged)) => Self::Changed,
            (OrderStatus::Cancelled, _) => Self::Cancelled,
            (OrderStatus::Created | OrderStatus::AwaitingPayment, _) if ran_out => Self::Expired,
            (OrderStatus::Created | OrderStatus::AwaitingPayment, _) => Self::Open,
        }
    }

    /// The status badge's words.
    pub fn label(self, locale: Locale) -> &'static str {
        let (en, ja) = match self {
            Self::Open => ("Awaiting payment", "お支払い待ち"),
            Self::Paid => ("Paid", "お支払い済み"),
            Self::Expired => ("Expired", "期限切れ"),
            Self::Cancelled => ("Cancelled", "キャンセル済み"),
            Self::Withdrawn => ("Withdrawn by the seller", "出品取り下げ"),
            Self::Changed => ("Changed by the seller", "出品内容の変更"),
        };
        if locale == Locale::Ja {
            ja
        } else {
            en
        }
    }
}

/// A ticket's one state, with the time or day it reads with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketState {
    OnSale,
    /// Held by an unpaid order, until `HH:MM` (UTC) when the API says.
    Reserved(Option<String>),
    /// Sold, on `YYYY-MM-DD` when the API says.
    Sold(Option<String>),
}

impl TicketState {
    pub fn of(ticket: &Ticket) -> Self {
        if ticket.sold {
            Self::Sold(ticket.sold_at.as_deref().and_then(utc_date).map(str::to_string))
        } else if ticket.order_id.is_some() {
            Self::Reserved(ticket.reserved_until.as_deref().and_then(utc_time).map(str::to_string))
        } else {
            Self::OnSale
        }
    }

    /// The state badge's words.
    pub fn label(&self, locale: Locale) -> String {
        match (self, locale) {
            (Self::OnSale, Locale::En) => "On sale".to_string(),
            (Self::OnSale, Locale::Ja) => "販売中".to_string(),
            (Self::Reserved(Some(until)), Locale::En) => format!("Reserved until {until} UTC"),
            (Self::Reserved(Some(until)), Locale::Ja) => format!("{until}（UTC）まで予約中"),
            (Self::Reserved(None), Locale::En) => "Reserved".to_string(),
            (Self::Reserved(None), Locale::Ja) => "予約中".to_string(),
            (Self::Sold(Some(sold)), Locale::En) => format!("Sold on {sold}"),
            (Self::Sold(Some(sold)), Locale::Ja) => format!("販売済み（{}）", day(Locale::Ja, sold)),
            (Self::Sold(None), Locale::En) => "Sold".to_string(),
            (Self::Sold(None), Locale::Ja) => "販売済み".to_string(),
        }
    }
}

/// When a hold ends, to go into a sentence about it: ` until 14:05 UTC` (it ends an English
/// sentence, space included), `14:05（UTC）まで` (Japanese puts it before the verb); nothing when
/// the time is unknown.
pub fn until(locale: Locale, time: Option<&str>) -> String {
    let template = if locale == Locale::Ja { "{}（UTC）まで" } else { " until {} UTC" };
    time.map(|t| fill(template, &[t])).unwrap_or_default()
}

/// The day of a sale, to go into a sentence about it: ` on 2025-01-02`, `2025年1月2日に`;
/// nothing when the day is unknown.
pub fn on_day(locale: Locale, sold: Option<&str>) -> String {
    match (locale, sold) {
        (Locale::Ja, Some(sold)) => format!("{}に", day(Locale::Ja, sold)),
        (Locale::En, Some(sold)) => format!(" on {sold}"),
        (_, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_group_thousands_from_whole_cents() {
        assert_eq!(dollars(Cents(1205)), "$12.05");
        assert_eq!(dollars(Cents(100_000_000)), "$1,000,000.00");
        assert_eq!(dollars(Cents(123_456)), "$1,234.56");
        assert_eq!(dollars(Cents(99_999)), "$999.99");
        assert_eq!(dollars(Cents(50)), "$0.50");
        assert_eq!(dollars(Cents(0)), "$0.00");
        assert_eq!(dollars(Cents(-1205)), "-$12.05");
    }

    #[test]
    fn a_countdown_reads_as_minutes_and_seconds() {
        assert_eq!(countdown(898), "14:58");
        assert_eq!(countdown(900), "15:00");
        assert_eq!(countdown(61), "1:01");
        assert_eq!(countdown(1), "0:01");
        assert_eq!(countdown(0), "0:00");
        assert_eq!(countdown(-3), "0:00");
    }

    #[test]
    fn times_and_days_are_read_from_rfc_3339() {
        assert_eq!(utc_time("2025-01-02T14:05:09.123Z"), Some("14:05"));
        assert_eq!(utc_date("2025-01-02T14:05:09.123Z"), Some("2025-01-02"));
        assert_eq!(utc_time("2025-01-02"), None);
        assert_eq!(utc_time("not a time at all"), None);
        assert_eq!(utc_date(""), None);
    }

    fn order(status: OrderStatus, cancel_reason: Option<CancelReason>) -> Order {
        Order {
            id: "o1".into(),
            user_id: "u1".into(),
            status,
            expires_at: "2025-01-02T14:05:09.123Z".into(),
            version: 0.into(),
            ticket: contract::OrderTicket { id: "t1".into(), title: "Concert".into(), price: Cents(1250), version: 0.into() },
            cancel_reason,
        }
    }

    #[test]
    fn an_order_reads_as_its_status_and_reason() {
        assert_eq!(OrderState::of(&order(OrderStatus::Created, None), false), OrderState::Open);
        assert_eq!(OrderState::of(&order(OrderStatus::AwaitingPayment, None), true), OrderState::Expired);
        assert_eq!(OrderState::of(&order(OrderStatus::Complete, None), true), OrderState::Paid);
        assert_eq!(OrderState::of(&order(OrderStatus::Cancelled, Some(CancelReason::Expired)), false), OrderState::Expired);
        assert_eq!(OrderState::of(&order(OrderStatus::Cancelled, Some(CancelReason::Buyer)), true), OrderState::Cancelled);
        assert_eq!(OrderState::of(&order(OrderStatus::Cancelled, Some(CancelReason::TicketWithdrawn)), false), OrderState::Withdrawn);
        assert_eq!(OrderState::of(&order(OrderStatus::Cancelled, Some(CancelReason::TicketChanged)), false), OrderState::Changed);
        assert_eq!(OrderState::of(&order(OrderStatus::Cancelled, None), false), OrderState::Cancelled);
    }

    #[test]
    fn a_ticket_has_one_state() {
        let mut ticket = Ticket {
            id: "t1".into(),
            title: "Concert".into(),
            price: Cents(1250),
            user_id: "u1".into(),
            version: 0.into(),
            order_id: None,
            reserved_until: None,
            sold: false,
            sold_at: None,
        };
        assert_eq!(TicketState::of(&ticket).label(Locale::En), "On sale");
        ticket.order_id = Some("o1".into());
        ticket.reserved_until = Some("2025-01-02T14:05:09.123Z".into());
        assert_eq!(TicketState::of(&ticket).label(Locale::En), "Reserved until 14:05 UTC");
        assert_eq!(TicketState::of(&ticket).label(Locale::Ja), "14:05（UTC）まで予約中");
        ticket.reserved_until = None;
        ticket.sold = true;
        ticket.sold_at = Some("2025-01-02T14:01:00.000Z".into());
        assert_eq!(TicketState::of(&ticket).label(Locale::En), "Sold on 2025-01-02");
        assert_eq!(TicketState::of(&ticket).label(Locale::Ja), "販売済み（2025年1月2日）");
    }

    #[test]
    fn a_hold_and_a_sale_go_where_the_language_puts_them() {
        assert_eq!(until(Locale::En, Some("14:05")), " until 14:05 UTC");
        assert_eq!(until(Locale::Ja, Some("14:05")), "14:05（UTC）まで");
        assert_eq!(until(Locale::Ja, None), "");
        assert_eq!(on_day(Locale::En, Some("2025-01-02")), " on 2025-01-02");
        assert_eq!(on_day(Locale::Ja, Some("2025-01-02")), "2025年1月2日に");
    }
}
