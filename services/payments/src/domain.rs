//! What a payment request is made of, parsed once at the edge.

/// The order to pay: any non-empty id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderId(String);

impl OrderId {
    pub fn parse(raw: Option<String>) -> Result<Self, &'static str> {
        match raw.map(|id| id.trim().to_string()) {
            Some(id) if !id.is_empty() => Ok(Self(id)),
            _ => Err("OrderId must be provided"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the buyer pays with: a Stripe PaymentMethod (`pm_…`, from Stripe.js or a test method)
/// or a legacy card token (`tok_…`). Card numbers never reach us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentToken {
    Method(String),
    CardToken(String),
}

impl PaymentToken {
    pub fn parse(raw: Option<String>) -> Result<Self, &'static str> {
        let Some(token) = raw.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
            return Err("Token must be provided");
        };
        let well_formed = token.len() <= 200 && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match token {
            _ if !well_formed => Err("Token must be a Stripe payment method (pm_…) or card token (tok_…)"),
            t if t.starts_with("pm_") && t.len() > 3 => Ok(Self::Method(t)),
            t if t.starts_with("tok_") && t.len() > 4 => Ok(Self::CardToken(t)),
            _ => Err("Token must be a Stripe payment method (pm_…) or card token (tok_…)"),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Method(t) | Self::CardToken(t) => t,
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
        for bad in ["", "pm_", "4242424242424242", "pm card", "sk_test_x", "tok_<script>"] {
            assert!(PaymentToken::parse(Some(bad.into())).is_err(), "{bad}");
        }
        assert!(PaymentToken::parse(None).is_err());
    }
}
