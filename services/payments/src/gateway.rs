//! Stripe, through async-stripe: a PaymentIntent is created for a payment attempt, then
//! confirmed (the charge), retrieved when an answer was lost, and refunded. Every call that
//! changes something carries an idempotency key derived from the attempt (or the payment), so a
//! repeated call replays the first result instead of charging or refunding again; a new attempt
//! (another card after a decline) gets new keys.
//!
//! Every call is timed in `stripe_request_duration_seconds{operation}` and a failed one counted
//! in `stripe_errors_total{operation, kind}`, `kind` being what the caller makes of it
//! ([`ChargeError::kind`]): a decline is the buyer's card, `transient` is Stripe down or failing.
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use ::metrics::{counter, histogram};

use contract::PaymentId;
use serde::Serialize;
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_core::payment_intent::{
    CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods,
    CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects, RetrievePaymentIntent,
};
use stripe_core::refund::CreateRefund;
use stripe_core::PaymentIntent;

use crate::config::StripeSettings;
use crate::domain::PaymentToken;
use crate::store::AttemptRow;

/// A PaymentIntent as far as an attempt cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    pub state: IntentState,
    /// The attempt it was made for, from its metadata.
    pub attempt_id: Option<PaymentId>,
    /// In the currency's smallest unit (cents), and the currency's ISO code, lower case: a
    /// webhook settles an attempt only for the amount and currency the attempt asked.
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentState {
    /// Charged.
    Succeeded,
    /// Waiting for the customer (3-D Secure); the client secret lets Stripe.js finish it.
    NeedsAction { client_secret: Option<String> },
    /// Declined or cancelled: no charge; Stripe's message, for the buyer.
    Failed(String),
    /// Not confirmed: no charge was asked for.
    Unconfirmed,
    /// Confirmed, and Stripe is still working on it.
    Processing,
}

impl From<&PaymentIntent> for Intent {
    fn from(intent: &PaymentIntent) -> Self {
        let state = match intent.status.as_str() {
            "succeeded" => IntentState::Succeeded,
            "requires_action" => IntentState::NeedsAction { client_secret: intent.client_secret.clone() },
            "requires_payment_method" if intent.last_payment_error.is_some() => IntentState::Failed(
                intent
                    .last_payment_error
                    .as_ref()
                    .and_then(|error| error.message.clone())
                    .unwrap_or_else(|| "Your card was declined.".to_string()),
            ),
            "canceled" => IntentState::Failed("The payment was cancelled.".to_string()),
            "requires_payment_method" | "requires_confirmation" => IntentState::Unconfirmed,
            _ => IntentState::Processing,
        };
        Self {
            id: intent.id.to_string(),
            state,
            attempt_id: intent.metadata.get("attempt_id").cloned().map(PaymentId::from),
            amount: intent.amount,
            currency: intent.currency.to_string().to_ascii_lowercase(),
        }
    }
}

/// Why a charge did not go through.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    /// The card was declined; the message is Stripe's, for the buyer.
    #[error("{0}")]
    Declined(String),
    /// Stripe does not know the payment method or token.
    #[error("{0}")]
    UnknownMethod(String),
    /// Stripe could not be reached.
    #[error("Payment provider unreachable: {0}")]
    Unreachable(String),
    /// Stripe answered with something other than a result.
    #[error("Payment provider failed: {0}")]
    Failed(String),
    /// Stripe answered with a 5xx, 401, 403, 409 or 429: trouble that passes, whatever the call.
    #[error("Payment provider failed: {0}")]
    ServerError(String),
}

impl ChargeError {
    /// Whether trying the same call again later may succeed whatever it asks (Stripe down or
    /// failing), rather than Stripe refusing this particular call.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::ServerError(_))
    }

    /// The `kind` label of `stripe_errors_total`: `declined`, `transient` or `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Declined(_) => "declined",
            _ if self.is_transient() => "transient",
            _ => "other",
        }
    }
}

/// Times one call to Stripe and counts its failure; what fails before the call (a key we could
/// not make) is not Stripe's and is not counted.
async fn observed<T>(operation: &'static str, call: impl Future<Output = Result<T, ChargeError>>) -> Result<T, ChargeError> {
    let started = Instant::now();
    let result = call.await;
    histogram!("stripe_request_duration_seconds", "operation" => operation).record(started.elapsed());
    if let Err(error) = &result {
        counter!("stripe_errors_total", "operation" => operation, "kind" => error.kind()).increment(1);
    }
    result
}

#[derive(Clone)]
pub struct Gateway {
    client: stripe::Client,
    test_mode: bool,
}

/// Stripe's limit on one call; a slower answer is treated as unreachable.
const TIMEOUT: Duration = Duration::from_secs(20);

impl Gateway {
    pub fn new(settings: &StripeSettings) -> anyhow::Result<Self> {
        // async-stripe asks rustls for the process's crypto provider, which rustls can only pick
        // by itself when one provider is linked. Another part of a binary may link a second one
        // (the test build links aws-lc-rs for the SurrealDB server), so choose the one
        // async-stripe is built for. A provider installed before (by this or another part) stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = stripe::ClientBuilder::new(settings.secret_key.clone()).timeout(TIMEOUT).app_info(
            "ticketing",
            Some(env!("CARGO_PKG_VERSION").to_string()),
            None,
        );
        if let Some(base) = &settings.api_base {
            let base = if base.ends_with('/') { base.clone() } else { format!("{base}/") };
            builder = builder.url(base);
        }
        let client = builder.build().map_err(|error| anyhow::anyhow!("building the Stripe client: {error}"))?;
        Ok(Self { client, test_mode: settings.test_mode() })
    }

    pub fn test_mode(&self) -> bool {
        self.test_mode
    }

    /// Creates the PaymentIntent for an attempt, unconfirmed: no money moves yet, and a repeat
    /// (the same attempt) is the same intent. Returns its id.
    pub async fn create_intent(&self, attempt: &AttemptRow) -> Result<String, ChargeError> {
        let key = idempotency_key(&format!("attempt-{}", attempt.id))?;
        let metadata =
            HashMap::from([("order_id".to_string(), attempt.order_id.to_string()), ("attempt_id".to_string(), attempt.id.to_string())]);
        let token = PaymentToken::parse(Some(attempt.token.clone())).map_err(|why| ChargeError::Failed(why.to_string()))?;
        let call = async {
            let result = match token {
                PaymentToken::Method(method) => {
                    // Our flow has no page to come back to from a redirect: cards and the like only.
                    let mut automatic = CreatePaymentIntentAutomaticPaymentMethods::new(true);
                    automatic.allow_redirects = Some(CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects::Never);
                    CreatePaymentIntent::new(attempt.amount, stripe_types::Currency::USD)
                        .payment_method(method)
                        .automatic_payment_methods(automatic)
                        .metadata(metadata)
                        .customize()
                        .request_strategy(RequestStrategy::Idempotent(key))
                        .send(&self.client)
                        .await
                }
                PaymentToken::CardToken(token) => {
                    CreateWithCardToken::new(attempt.amount, &token, metadata)
                        .customize()
                        .request_strategy(RequestStrategy::Idempotent(key))
                        .send(&self.client)
                        .await
                }
            };
            result.map_err(charge_error)
        };
        Ok(observed("create_intent", call).await?.id.to_string())
    }

    /// Confirms an attempt's intent: the charge. A decline is an error; a card that needs the
    /// customer's authentication is [`IntentState::NeedsAction`].
    pub async fn confirm(&self, attempt_id: &str, intent_id: &str) -> Result<Intent, ChargeError> {
        let key = idempotency_key(&format!("attempt-{attempt_id}-confirm"))?;
        let call = async {
            ConfirmPaymentIntent::new(intent_id)
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&self.client)
                .await
                .map_err(charge_error)
        };
        let intent = observed("confirm", call).await?;
        Ok(Intent::from(&intent))
    }

    /// Cancels an intent nobody will confirm, so that it can never charge. An intent that has
    /// moved on (succeeded, say) cannot be cancelled: Stripe's answer is an error, and the
    /// caller asks where it stands instead.
    pub async fn cancel(&self, intent_id: &str) -> Result<Intent, ChargeError> {
        let call = async { CancelPaymentIntent::new(intent_id).send(&self.client).await.map_err(charge_error) };
        let intent = observed("cancel", call).await?;
        Ok(Intent::from(&intent))
    }

    /// Asks Stripe where an intent stands.
    pub async fn retrieve(&self, intent_id: &str) -> Result<Intent, ChargeError> {
        let call = async { RetrievePaymentIntent::new(intent_id).send(&self.client).await.map_err(charge_error) };
        let intent = observed("retrieve", call).await?;
        Ok(Intent::from(&intent))
    }

    /// Refunds a PaymentIntent in full; `payment_id` keys the call so a retry is one refund.
    pub async fn refund(&self, payment_id: &PaymentId, intent_id: &str) -> Result<String, ChargeError> {
        let key = idempotency_key(&format!("refund-{payment_id}"))?;
        let call = async {
            let result = CreateRefund::new()
                .payment_intent(intent_id.to_string())
                .metadata(HashMap::from([("payment_id".to_string(), payment_id.to_string())]))
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&self.client)
                .await;
            match result {
                Ok(refund) => Ok(refund.id.to_string()),
                // Refunded before (by us on another replica, or by hand in Stripe's dashboard).
                Err(StripeError::Stripe(error, _)) if error.code.as_ref().is_some_and(|c| c.as_str() == "charge_already_refunded") => {
                    Ok(String::new())
                }
                Err(error) => Err(charge_error(error)),
            }
        };
        observed("refund", call).await
    }
}

fn idempotency_key(raw: &str) -> Result<IdempotencyKey, ChargeError> {
    IdempotencyKey::new(raw).map_err(|error| ChargeError::Failed(format!("idempotency key: {error}")))
}

fn charge_error(error: StripeError) -> ChargeError {
    match error {
        StripeError::Stripe(error, status) => {
            let message = error.message.clone().unwrap_or_else(|| "Your card was declined.".to_string());
            let code = error.code.as_ref().map(|c| c.as_str().to_string()).unwrap_or_default();
            let param = error.param.clone().unwrap_or_default();
            match error.type_.as_str() {
                "card_error" => ChargeError::Declined(message),
                "invalid_request_error" if code == "resource_missing" && param.starts_with("payment_method") => {
                    ChargeError::UnknownMethod(message)
                }
                // Stripe's own trouble, a rate limit, a request with the same key in flight, or
                // a key being rotated: none says anything about this call.
                kind if status >= 500 || [401, 403, 409, 429].contains(&status) => {
                    ChargeError::ServerError(format!("HTTP {status} {kind} {code}: {message}"))
                }
                kind => ChargeError::Failed(format!("HTTP {status} {kind} {code}: {message}")),
            }
        }
        StripeError::ClientError(message) => ChargeError::Unreachable(message),
        StripeError::Timeout => ChargeError::Unreachable("timed out".to_string()),
        // A 5xx page that is not Stripe's JSON (a proxy's) loses its status here: trouble too.
        StripeError::JSONDeserialize(why) => ChargeError::ServerError(format!("an answer that is not Stripe's: {why}")),
        other => ChargeError::Failed(other.to_string()),
    }
}

/// A PaymentIntent with a legacy card token as its payment method data. async-stripe's
/// typed request has no `payment_method_data[card]` (Stripe documents it only for tokens), so
/// this request is ours; it goes through the same client and parses into the same type.
#[derive(Serialize)]
struct CreateWithCardToken {
    amount: i64,
    currency: &'static str,
    payment_method_data: CardTokenData,
    automatic_payment_methods: AutomaticMethods,
    metadata: HashMap<String, String>,
}

#[derive(Serialize)]
struct CardTokenData {
    #[serde(rename = "type")]
    kind: &'static str,
    card: CardToken,
}

#[derive(Serialize)]
struct CardToken {
    token: String,
}

#[derive(Serialize)]
struct AutomaticMethods {
    enabled: bool,
    allow_redirects: &'static str,
}

impl CreateWithCardToken {
    fn new(amount: i64, token: &str, metadata: HashMap<String, String>) -> Self {
        Self {
            amount,
            currency: "usd",
            payment_method_data: CardTokenData { kind: "card", card: CardToken { token: token.to_string() } },
            automatic_payment_methods: AutomaticMethods { enabled: true, allow_redirects: "never" },
            metadata,
        }
    }
}

impl StripeRequest for CreateWithCardToken {
    type Output = PaymentIntent;

    fn build(&self) -> RequestBuilder {
        RequestBuilder::new(StripeMethod::Post, "/payment_intents").form(self)
    }
}
