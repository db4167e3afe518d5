//! What a payment request is made of, parsed once at the edge.
use std::fmt;

use contract::OrderId;
use shared::error::{Coded, ErrorCode};

/// Why a payment request's field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentInputError {
    OrderIdRequired,
    TokenRequired,
    TokenInvalid,
}

impl fmt::Display for PaymentInputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OrderIdRequired => "OrderId must be provided",
            Self::TokenRequired => "Token must be provided",
            Self::TokenInvalid => "Token must be a Stripe payment method (pm_…) or card token (tok_…)",
        })
    }
}

impl Coded for PaymentInputError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::OrderIdRequired => ErrorCode::OrderIdRequired,
            Self::TokenRequired => ErrorCode::TokenRequired,
            Self::TokenInvalid => ErrorCode::TokenInvalid,
        }
    }
}

/// The order to pay: any non-empty id, trimmed (an unknown one is the route's 404).
pub fn order_to_pay(raw: Option<OrderId>) -> Result<OrderId, PaymentInputError> {
    OrderId::given(raw).ok_or(PaymentInputError::OrderIdRequired)
}

/// What the buyer pays with: a Stripe PaymentMethod (`pm_…`, from Stripe.js or a test method)
/// or a legacy card token (`tok_…`). Card numbers never reach us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentToken {
    Method(String),
    CardToken(String),
}

impl PaymentToken {
    pub fn parse(raw: Option<String>) -> Result<Self, PaymentInputError> {
        let Some(token) = raw.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
            return Err(PaymentInputError::TokenRequired);
        };
        let well_formed = token.len() <= 200 && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match token {
            _ if !well_formed => Err(PaymentInputError::TokenInvalid),
            t if t.starts_with("pm_") && t.len() > 3 => Ok(Self::Method(t)),
            t if t.starts_with("tok_") && t.len() > 4 => Ok(Self::CardToken(t)),
            _ => Err(PaymentInputError::TokenInvalid),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Method(t) | Self::CardToken(t) => t,
        }
    }
}

/// A closed set of states a record keeps as text: the enum with its stored names, `ALL`, reading
/// one back, `Display`, and the set as SurrealQL writes it for the field's `ASSERT`, so the
/// database refuses a value the enum does not have, as the code cannot write one. Payouts'
/// states will be declared the same way.
macro_rules! stored_states {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// A state read back from the database; `None` for one this build does not know.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|state| state.as_str() == raw)
            }

            /// The set for the field's `ASSERT $value IN …`: `['pending', 'action', …]`.
            pub fn surql_set() -> String {
                let quoted: Vec<String> = Self::ALL.iter().map(|state| format!("'{}'", state.as_str())).collect();
                format!("[{}]", quoted.join(", "))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_states! {
    /// Where a payment attempt stands: the `state` of its record.
    pub enum AttemptState {
        /// Recorded, Stripe being called or called without an outcome yet: it may have charged.
        Pending = "pending",
        /// The customer must authenticate (3-D Secure); nothing is charged until they do.
        Action = "action",
        Succeeded = "succeeded",
        /// The card was refused (declined, or unknown to Stripe): counts against the decline limits.
        Failed = "failed",
        /// Given up without a charge: never confirmed, or cancelled at Stripe.
        Abandoned = "abandoned",
    }
}

stored_states! {
    /// Where a payment's refund stands. Every successful charge is a payment; one that could not
    /// settle its order (or whose order was cancelled after) is given back by the refunder.
    pub enum RefundState {
        /// It settled its order: nothing to give back.
        None = "none",
        /// To be refunded (now, or after a refusal's back-off).
        Due = "due",
        /// Stripe refused too often: waits for an operator (`payments refunds retry`).
        Parked = "parked",
        Done = "done",
    }
}

/// How an attempt ends without a charge, or pauses for its customer: the states
/// `attempts::Attempts::end` may write (a charge's `succeeded` is written only with its payment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    WaitsForCustomer,
    Refused,
    Abandoned,
}

impl Ending {
    pub fn state(self) -> AttemptState {
        match self {
            Self::WaitsForCustomer => AttemptState::Action,
            Self::Refused => AttemptState::Failed,
            Self::Abandoned => AttemptState::Abandoned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_payment_methods_or_card_tokens() {
        assert_eq!(PaymentToken::parse(Some("pm_card_visa".into())), Ok(PaymentToken::Method("pm_card_visa".into())));
        assert_eq!(PaymentToken::parse(Some(" tok_visa ".into())), Ok(PaymentToken::CardToken("tok_visa".into())));
        for bad in ["pm_", "4242424242424242", "pm card", "sk_test_x", "tok_<script>"] {
            assert_eq!(PaymentToken::parse(Some(bad.into())), Err(PaymentInputError::TokenInvalid), "{bad}");
        }
        assert_eq!(PaymentToken::parse(Some(" ".into())), Err(PaymentInputError::TokenRequired));
        assert_eq!(PaymentToken::parse(None), Err(PaymentInputError::TokenRequired));
    }

    #[test]
    fn every_attempt_state_reads_back_as_itself() {
        for state in AttemptState::ALL {
            assert_eq!(AttemptState::parse(state.as_str()), Some(state));
        }
        assert_eq!(AttemptState::parse("paid"), None);
        assert_eq!(RefundState::surql_set(), "['none', 'due', 'parked', 'done']", "what the schema asserts");
        assert_eq!(Ending::WaitsForCustomer.state(), AttemptState::Action);
        assert_eq!(Ending::Refused.state(), AttemptState::Failed, "what the decline limits count");
    }
}
