//! The charge flow on its own (`Attempts::charge`), against the Stripe double: each state an
//! attempt can leave `charge` in, and each reason it does not begin. The HTTP answers to the
//! same cases are `create.rs`'s and `failures.rs`'s.
use payments::attempts::{ChargeRefused, Outcome};
use payments::domain::PaymentToken;
use payments::gateway::ChargeError;

use stripe_double::WebhookMode;

use crate::helpers::*;

async fn charge(app: &TestApp, card: &str) -> Result<Outcome, ChargeRefused> {
    charge_for(app, "o1", card).await
}

async fn charge_for(app: &TestApp, order: &str, card: &str) -> Result<Outcome, ChargeRefused> {
    let order = app.replica(order).await;
    let token = PaymentToken::parse(Some(card.to_string())).unwrap();
    app.attempts.charge(&"ann".into(), &order, &token).await
}

/// The states of o1's attempts, oldest first.
async fn states(app: &TestApp) -> Vec<String> {
    states_of(app, "o1").await
}

async fn states_of(app: &TestApp, order: &str) -> Vec<String> {
    let mut answer = app
        .db
        .query("SELECT VALUE state FROM attempt WHERE order_id = $order ORDER BY id")
        .bind(("order", order.to_string()))
        .await
        .unwrap();
    answer.take(0).unwrap()
}

#[tokio::test]
async fn a_card_that_pays_settles_the_order_and_the_attempt_succeeds() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let Ok(Outcome::Paid(payment)) = charge(&app, "pm_card_visa").await else { panic!("not paid") };
    assert_eq!(app.replica("o1").await.payment_id, Some(payment));
    assert_eq!(states(&app).await, ["succeeded"]);
    assert_eq!(app.stripe.charges().len(), 1);
}

#[tokio::test]
async fn a_declined_card_fails_the_attempt_and_frees_the_order() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    assert!(matches!(charge(&app, "pm_card_chargeDeclined").await, Ok(Outcome::Declined(_))));
    assert_eq!(states(&app).await, ["failed"]);
    assert!(matches!(charge(&app, "pm_card_visa").await, Ok(Outcome::Paid(_))), "another card may pay");
}

#[tokio::test]
async fn a_card_that_needs_authentication_waits_for_its_customer() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    let Ok(Outcome::NeedsAction { client_secret, .. }) = charge(&app, "pm_card_threeDSecure2Required").await else {
        panic!("no challenge")
    };
    assert!(client_secret.is_some_and(|secret| secret.contains("_secret_")));
    assert_eq!(states(&app).await, ["action"]);
    assert!(app.stripe.charges().is_empty());
}

#[tokio::test]
async fn a_method_stripe_does_not_know_fails_the_attempt_before_any_charge() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    assert!(matches!(charge(&app, "pm_no_such_card").await, Err(ChargeRefused::Provider(ChargeError::UnknownMethod(_)))));
    assert_eq!(states(&app).await, ["failed"]);
}

#[tokio::test]
async fn stripe_failing_before_the_confirm_abandons_the_attempt() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    app.stripe.fail_with(Some(500));
    assert!(matches!(charge(&app, "pm_card_visa").await, Err(ChargeRefused::Provider(ChargeError::ServerError(_)))));
    assert_eq!(states(&app).await, ["abandoned"]);
}

#[tokio::test]
async fn a_confirm_without_an_answer_leaves_the_attempt_open_for_the_reconciler() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    app.stripe.webhooks(WebhookMode::Drop);
    app.stripe.fail_after_charge(1);
    assert!(matches!(charge(&app, "pm_card_visa").await, Err(ChargeRefused::NoAnswer)));
    assert_eq!(states(&app).await, ["pending"]);
    assert!(matches!(charge(&app, "pm_card_visa").await, Err(ChargeRefused::InProgress)), "the order is held by it");
}

#[tokio::test]
async fn an_order_that_cannot_take_a_card_begins_no_attempt() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    assert!(matches!(charge(&app, "pm_card_visa").await, Ok(Outcome::Paid(_))));
    assert!(matches!(charge(&app, "pm_card_visa").await, Err(ChargeRefused::Paid)), "paid already");
    assert_eq!(states(&app).await, ["succeeded"]);

    app.order("o2", "ann", 20.0).await;
    publish(&app.nats, "order.cancelled", serde_json::json!({ "id": "o2", "version": 1, "ticket": { "id": "t-o2" } })).await;
    app.wait_version("o2", 1).await;
    assert!(matches!(charge_for(&app, "o2", "pm_card_visa").await, Err(ChargeRefused::Cancelled)));
    assert!(states_of(&app, "o2").await.is_empty());

    app.order("o3", "ann", 20.0).await;
    for _ in 0..5 {
        assert!(matches!(charge_for(&app, "o3", "pm_card_chargeDeclined").await, Ok(Outcome::Declined(_))));
    }
    assert!(matches!(charge_for(&app, "o3", "pm_card_visa").await, Err(ChargeRefused::TooManyDeclines)), "a card tester's sixth card");
    assert_eq!(states_of(&app, "o3").await.len(), 5);
}

/// The states are a closed set in the schema too: what the code cannot write, the database
/// refuses (a hand-made fix by an operator, a bug in a query's text).
#[tokio::test]
async fn the_database_refuses_an_attempt_or_refund_state_the_code_does_not_have() {
    let app = spawn_app().await;
    app.order("o1", "ann", 20.0).await;
    assert!(matches!(charge(&app, "pm_card_visa").await, Ok(Outcome::Paid(_))));
    for (statement, field) in [("UPDATE attempt SET state = 'paid'", "state"), ("UPDATE payment SET refund = 'maybe'", "refund")] {
        let refused = app.db.query(statement).await.unwrap().check();
        assert!(refused.is_err(), "{field}: {statement} was written");
    }
    assert_eq!(states(&app).await, ["succeeded"]);
    let payment = &payments::store::payments_of(&app.db, &"o1".into()).await.unwrap()[0];
    assert_eq!(payment.refund_state(), Some(payments::domain::RefundState::None));
}
