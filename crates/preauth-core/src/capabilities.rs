//! What a provider can do, truthfully, so callers and the conformance suite can rely on it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One verb per operation, used in errors, tracing spans, the CLI and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// Place a hold.
    Authorize,
    /// Capture all or part of a hold.
    Capture,
    /// Release a hold.
    Cancel,
    /// Reduce a hold.
    Decrement,
    /// Read a hold's state.
    Retrieve,
    /// Give back captured money.
    Refund,
    /// Read a refund's state.
    RetrieveRefund,
    /// Verify and parse a notification.
    VerifyWebhook,
    /// Obtain an access token (Liquido).
    Authenticate,
    /// Deliver a notification (simulators sending webhooks).
    Notify,
}

impl Operation {
    /// The lower-case verb.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Authorize => "authorize",
            Operation::Capture => "capture",
            Operation::Cancel => "cancel",
            Operation::Decrement => "decrement",
            Operation::Retrieve => "retrieve",
            Operation::Refund => "refund",
            Operation::RetrieveRefund => "retrieve_refund",
            Operation::VerifyWebhook => "verify_webhook",
            Operation::Authenticate => "authenticate",
            Operation::Notify => "notify",
        }
    }

    /// Whether the operation can move money or change a hold (so an ambiguous failure leaves
    /// the outcome unknown rather than merely unavailable).
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Operation::Authorize
                | Operation::Capture
                | Operation::Cancel
                | Operation::Decrement
                | Operation::Refund
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Truthful flags and limits of one provider. An operation that is not claimed returns
/// [`Error::Unsupported`](crate::Error::Unsupported) before any request; the conformance
/// suite in `preauth-testkit` checks both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Capture less than the held amount.
    pub partial_capture: bool,
    /// Capture more than once against one hold.
    pub multiple_captures: bool,
    /// Reduce the held amount without capturing ([`PreauthProvider::decrement`](crate::PreauthProvider::decrement)).
    pub decrement: bool,
    /// Cancel a hold that is still pending or awaiting the payer (Liquido PIX, BOLETO,
    /// PIC_PAY while `IN_PROGRESS`), not only an authorized one.
    pub cancel_pending: bool,
    /// Refund a capture.
    pub refund: bool,
    /// Refund less than was captured.
    pub partial_refund: bool,
    /// Find a hold by the merchant's reference alone (reconcile an authorize whose outcome is
    /// unknown).
    pub lookup_by_merchant_reference: bool,
    /// The provider deduplicates a re-sent authorization with the same idempotency key, so an
    /// authorize may be re-sent safely with the same key.
    pub authorize_idempotent: bool,
    /// Verify and parse signed notifications.
    pub webhook_verification: bool,
    /// 3-D Secure with a redirect.
    pub three_ds: bool,
    /// How long an authorized hold stays capturable, when the provider documents it.
    #[serde(with = "opt_secs")]
    pub hold_validity: Option<Duration>,
}

impl Capabilities {
    /// Nothing claimed; build up with the `with_*` methods.
    pub const fn none() -> Self {
        Capabilities {
            partial_capture: false,
            multiple_captures: false,
            decrement: false,
            cancel_pending: false,
            refund: false,
            partial_refund: false,
            lookup_by_merchant_reference: false,
            authorize_idempotent: false,
            webhook_verification: false,
            three_ds: false,
            hold_validity: None,
        }
    }

    /// Sets [`Capabilities::partial_capture`].
    #[must_use]
    pub const fn with_partial_capture(mut self, v: bool) -> Self {
        self.partial_capture = v;
        self
    }
    /// Sets [`Capabilities::multiple_captures`].
    #[must_use]
    pub const fn with_multiple_captures(mut self, v: bool) -> Self {
        self.multiple_captures = v;
        self
    }
    /// Sets [`Capabilities::decrement`].
    #[must_use]
    pub const fn with_decrement(mut self, v: bool) -> Self {
        self.decrement = v;
        self
    }
    /// Sets [`Capabilities::cancel_pending`].
    #[must_use]
    pub const fn with_cancel_pending(mut self, v: bool) -> Self {
        self.cancel_pending = v;
        self
    }
    /// Sets [`Capabilities::refund`].
    #[must_use]
    pub const fn with_refund(mut self, v: bool) -> Self {
        self.refund = v;
        self
    }
    /// Sets [`Capabilities::partial_refund`].
    #[must_use]
    pub const fn with_partial_refund(mut self, v: bool) -> Self {
        self.partial_refund = v;
        self
    }
    /// Sets [`Capabilities::lookup_by_merchant_reference`].
    #[must_use]
    pub const fn with_lookup_by_merchant_reference(mut self, v: bool) -> Self {
        self.lookup_by_merchant_reference = v;
        self
    }
    /// Sets [`Capabilities::authorize_idempotent`].
    #[must_use]
    pub const fn with_authorize_idempotent(mut self, v: bool) -> Self {
        self.authorize_idempotent = v;
        self
    }
    /// Sets [`Capabilities::webhook_verification`].
    #[must_use]
    pub const fn with_webhook_verification(mut self, v: bool) -> Self {
        self.webhook_verification = v;
        self
    }
    /// Sets [`Capabilities::three_ds`].
    #[must_use]
    pub const fn with_three_ds(mut self, v: bool) -> Self {
        self.three_ds = v;
        self
    }
    /// Sets [`Capabilities::hold_validity`].
    #[must_use]
    pub const fn with_hold_validity(mut self, v: Option<Duration>) -> Self {
        self.hold_validity = v;
        self
    }

    /// Whether `op` is offered at all.
    pub fn supports(&self, op: Operation) -> bool {
        match op {
            Operation::Decrement => self.decrement,
            Operation::Refund | Operation::RetrieveRefund => self.refund,
            Operation::VerifyWebhook => self.webhook_verification,
            _ => true,
        }
    }
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}
