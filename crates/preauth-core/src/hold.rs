//! The hold model: one [`Hold`] shape and one [`HoldStatus`] for every provider.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::money::{Money, MoneyError};

/// Where a hold is in its life. One enum for every provider; each provider crate maps its own
/// statuses onto it in one total `match`, keeping the raw string in [`Hold::raw_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoldStatus {
    /// Created, outcome not final yet (processing, awaiting payment of a non-card method).
    Pending,
    /// The payer must act first (3-D Secure redirect); see [`Hold::next_action`].
    RequiresAction,
    /// Funds are held and can be captured, reduced or released.
    Authorized,
    /// Funds were captured, all or part; see [`Hold::captured`] and [`Hold::refunded`].
    Captured,
    /// Released before capture; no funds move.
    Cancelled,
    /// Refused by the issuer or the provider; no funds are held.
    Declined,
    /// The hold lapsed uncaptured; no funds can be captured any more.
    Expired,
    /// Everything captured was refunded.
    Refunded,
    /// The payer disputed the charge (chargeback).
    Disputed,
}

impl HoldStatus {
    /// Every status, in declaration order (for exhaustive tests and tables).
    pub const ALL: [HoldStatus; 9] = [
        HoldStatus::Pending,
        HoldStatus::RequiresAction,
        HoldStatus::Authorized,
        HoldStatus::Captured,
        HoldStatus::Cancelled,
        HoldStatus::Declined,
        HoldStatus::Expired,
        HoldStatus::Refunded,
        HoldStatus::Disputed,
    ];

    /// The snake_case name used in serde, tracing and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Pending => "pending",
            HoldStatus::RequiresAction => "requires_action",
            HoldStatus::Authorized => "authorized",
            HoldStatus::Captured => "captured",
            HoldStatus::Cancelled => "cancelled",
            HoldStatus::Declined => "declined",
            HoldStatus::Expired => "expired",
            HoldStatus::Refunded => "refunded",
            HoldStatus::Disputed => "disputed",
        }
    }

    /// No further transition is possible (cancelled, declined, expired).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            HoldStatus::Cancelled | HoldStatus::Declined | HoldStatus::Expired
        )
    }
}

impl fmt::Display for HoldStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the payer has to do before the hold is placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NextAction {
    /// Send the payer's browser to `url` (3-D Secure challenge or a hosted payment page).
    Redirect {
        /// Where to send the payer.
        url: String,
    },
    /// The provider asked for something this library does not model; the raw kind is kept.
    Other {
        /// The provider's own name for the action (e.g. Onerway `QrCode`).
        kind: String,
    },
}

/// The brand and last four digits of the card; never the number.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CardSummary {
    /// Network brand as the provider names it (`VISA`, `MASTERCARD`, …).
    pub brand: Option<String>,
    /// Last four digits.
    pub last4: Option<String>,
    /// Expiry month 1–12.
    pub exp_month: Option<u8>,
    /// Expiry year, four digits.
    pub exp_year: Option<u16>,
}

impl CardSummary {
    /// A summary with brand and last four digits.
    pub fn new(brand: Option<String>, last4: Option<String>) -> Self {
        CardSummary {
            brand,
            last4,
            exp_month: None,
            exp_year: None,
        }
    }
}

/// Why the provider declined, as it said it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeclineReason {
    /// The provider's code, when it gives one.
    pub code: Option<String>,
    /// The provider's message, when it gives one.
    pub message: Option<String>,
}

impl DeclineReason {
    /// A reason from an optional code and message.
    pub fn new(code: Option<String>, message: Option<String>) -> Self {
        DeclineReason { code, message }
    }
}

impl fmt::Display for DeclineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (Some(c), Some(m)) => write!(f, "{c}: {m}"),
            (Some(c), None) => f.write_str(c),
            (None, Some(m)) => f.write_str(m),
            (None, None) => f.write_str("no reason given"),
        }
    }
}

/// How to find a hold again at its provider.
///
/// `provider_reference` is the provider's id (Onerway `transactionId`, YabandPay `trade_id`,
/// Liquido `idempotencyKey`); `merchant_reference` is the key the merchant sent with the
/// authorization. After an authorize whose outcome is unknown only the merchant reference is
/// known; providers whose [`Capabilities::lookup_by_merchant_reference`](crate::Capabilities)
/// is set can find the hold by it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HoldRef {
    /// The provider's id for the hold, when known.
    pub provider_reference: Option<String>,
    /// The merchant's reference (the authorization's idempotency key), when known.
    pub merchant_reference: Option<String>,
}

impl HoldRef {
    /// A reference by the provider's id.
    pub fn provider(id: impl Into<String>) -> Self {
        HoldRef {
            provider_reference: Some(id.into()),
            merchant_reference: None,
        }
    }

    /// A reference by the merchant's reference (the authorization's idempotency key).
    pub fn merchant(reference: impl Into<String>) -> Self {
        HoldRef {
            provider_reference: None,
            merchant_reference: Some(reference.into()),
        }
    }

    /// Both references.
    pub fn both(provider: impl Into<String>, merchant: impl Into<String>) -> Self {
        HoldRef {
            provider_reference: Some(provider.into()),
            merchant_reference: Some(merchant.into()),
        }
    }

    /// Whichever reference is known, the provider's first (for logs and errors).
    pub fn display_reference(&self) -> &str {
        self.provider_reference
            .as_deref()
            .or(self.merchant_reference.as_deref())
            .unwrap_or("")
    }
}

impl fmt::Display for HoldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.provider_reference, &self.merchant_reference) {
            (Some(p), Some(m)) => write!(f, "{p} (merchant reference {m})"),
            (Some(p), None) => f.write_str(p),
            (None, Some(m)) => write!(f, "merchant reference {m}"),
            (None, None) => f.write_str("(no reference)"),
        }
    }
}

/// A hold on a card as the provider last reported it.
///
/// Amounts: `authorized` is what is held now (after any decrement), `captured` the total
/// captured, `refunded` the total refunded; all in the hold's currency. A `Hold` is plain data
/// (serde), so the merchant can store it and pass it back to later operations, which check it
/// against the transition table before sending anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hold {
    /// The provider's name ([`PreauthProvider::name`](crate::PreauthProvider::name)).
    pub provider: std::borrow::Cow<'static, str>,
    /// The provider's id for the hold.
    pub provider_reference: String,
    /// The merchant's reference: the authorization's idempotency key.
    pub merchant_reference: String,
    /// The common status.
    pub status: HoldStatus,
    /// The provider's status exactly as received (`AUTHORIZED`, `S`, `authorized`, …).
    pub raw_status: String,
    /// The amount held now.
    pub authorized: Money,
    /// The total captured.
    pub captured: Money,
    /// The total refunded.
    pub refunded: Money,
    /// How many captures were made.
    pub capture_count: u32,
    /// The provider's id of the last capture, where it is a transaction of its own (Onerway
    /// refunds against it).
    pub capture_reference: Option<String>,
    /// Brand and last four digits, when the provider returned them.
    pub card: Option<CardSummary>,
    /// What the payer must do when the status is [`HoldStatus::RequiresAction`].
    pub next_action: Option<NextAction>,
    /// Why the hold was declined.
    pub decline: Option<DeclineReason>,
    /// When the provider created the hold, when known.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When the hold lapses uncaptured, when known (provider's documented validity).
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl Hold {
    /// A hold with nothing captured or refunded yet.
    pub fn new(
        provider: impl Into<std::borrow::Cow<'static, str>>,
        provider_reference: impl Into<String>,
        merchant_reference: impl Into<String>,
        status: HoldStatus,
        raw_status: impl Into<String>,
        authorized: Money,
    ) -> Self {
        let zero = Money::zero(authorized.currency());
        Hold {
            provider: provider.into(),
            provider_reference: provider_reference.into(),
            merchant_reference: merchant_reference.into(),
            status,
            raw_status: raw_status.into(),
            authorized,
            captured: zero,
            refunded: zero,
            capture_count: 0,
            capture_reference: None,
            card: None,
            next_action: None,
            decline: None,
            created_at: None,
            expires_at: None,
        }
    }

    /// Sets the captured total.
    #[must_use]
    pub fn with_captured(mut self, captured: Money) -> Self {
        self.captured = captured;
        self
    }

    /// Sets the refunded total.
    #[must_use]
    pub fn with_refunded(mut self, refunded: Money) -> Self {
        self.refunded = refunded;
        self
    }

    /// Sets the card summary.
    #[must_use]
    pub fn with_card(mut self, card: CardSummary) -> Self {
        self.card = Some(card);
        self
    }

    /// Sets the next action.
    #[must_use]
    pub fn with_next_action(mut self, action: NextAction) -> Self {
        self.next_action = Some(action);
        self
    }

    /// Sets the decline reason.
    #[must_use]
    pub fn with_decline(mut self, reason: DeclineReason) -> Self {
        self.decline = Some(reason);
        self
    }

    /// Sets the creation time.
    #[must_use]
    pub fn with_created_at(mut self, at: OffsetDateTime) -> Self {
        self.created_at = Some(at);
        self
    }

    /// Sets the expiry.
    #[must_use]
    pub fn with_expires_at(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// The reference to find this hold again.
    pub fn reference(&self) -> HoldRef {
        HoldRef::both(&self.provider_reference, &self.merchant_reference)
    }

    /// What can still be captured: held minus captured (zero when nothing is capturable in
    /// the current status).
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] when the hold's amounts disagree (a provider bug).
    pub fn capturable(&self) -> Result<Money, MoneyError> {
        match self.status {
            HoldStatus::Authorized | HoldStatus::Captured => {
                self.authorized.saturating_sub(&self.captured)
            }
            _ => Ok(Money::zero(self.authorized.currency())),
        }
    }

    /// What can still be refunded: captured minus refunded.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] when the hold's amounts disagree (a provider bug).
    pub fn refundable(&self) -> Result<Money, MoneyError> {
        self.captured.saturating_sub(&self.refunded)
    }

    /// Whether the hold has lapsed at `now` by its known expiry.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }
}

/// A refund of (part of) a captured hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// The provider's name.
    pub provider: std::borrow::Cow<'static, str>,
    /// The provider's id for the refund.
    pub provider_reference: String,
    /// The refund's idempotency key.
    pub merchant_reference: String,
    /// The hold refunded.
    pub hold: HoldRef,
    /// The amount refunded.
    pub amount: Money,
    /// Where the refund is.
    pub status: RefundStatus,
    /// The provider's status exactly as received.
    pub raw_status: String,
}

impl Refund {
    /// A refund record.
    pub fn new(
        provider: impl Into<std::borrow::Cow<'static, str>>,
        provider_reference: impl Into<String>,
        merchant_reference: impl Into<String>,
        hold: HoldRef,
        amount: Money,
        status: RefundStatus,
        raw_status: impl Into<String>,
    ) -> Self {
        Refund {
            provider: provider.into(),
            provider_reference: provider_reference.into(),
            merchant_reference: merchant_reference.into(),
            hold,
            amount,
            status,
            raw_status: raw_status.into(),
        }
    }
}

/// Where a refund is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundStatus {
    /// Accepted, not final (in review, processing).
    Pending,
    /// The money went back to the payer.
    Succeeded,
    /// Refused or failed.
    Failed,
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        })
    }
}
