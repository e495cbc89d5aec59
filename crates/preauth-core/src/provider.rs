//! The trait every provider implements.

use std::fmt;

use async_trait::async_trait;

use crate::capabilities::{Capabilities, Operation};
use crate::error::{Error, Result};
use crate::hold::{Hold, HoldRef, Refund};
use crate::request::{
    AuthorizeRequest, CancelRequest, CaptureRequest, DecrementRequest, RefundRequest,
};
use crate::webhook::{Notification, WebhookAck, WebhookRequest};

/// Card pre-authorization at one provider. Object-safe: hold providers as
/// `Arc<dyn PreauthProvider>` and swap them by configuration.
///
/// Every implementation:
/// - checks the request against [`capabilities`](Self::capabilities) and the hold state machine
///   ([`crate::state`]) **before** sending anything, returning
///   [`Error::Unsupported`], [`Error::InvalidState`] or [`Error::InvalidRequest`];
/// - reuses the same idempotency key on every retry of one operation;
/// - maps every provider status in one total `match` (an unknown one is [`Error::Protocol`]);
/// - never puts a secret in an error, a `Debug` output or a log line.
#[async_trait]
pub trait PreauthProvider: fmt::Debug + Send + Sync {
    /// The provider's name (`"liquido"`, `"onerway"`, `"yabandpay"`).
    fn name(&self) -> &'static str;

    /// What this provider can do.
    fn capabilities(&self) -> Capabilities;

    /// Places a hold. The result is [`Authorized`](crate::HoldStatus::Authorized),
    /// [`RequiresAction`](crate::HoldStatus::RequiresAction) (send the payer to
    /// [`Hold::next_action`]) or [`Pending`](crate::HoldStatus::Pending).
    ///
    /// # Errors
    /// [`Error::Declined`] (with the declined hold) when the issuer or provider says no;
    /// [`Error::OutcomeUnknown`] carrying the idempotency key when the hold may exist;
    /// any other [`Error`] variant as documented there.
    async fn authorize(&self, req: AuthorizeRequest) -> Result<Hold>;

    /// Captures all (`amount: None`) or part of a hold.
    ///
    /// # Errors
    /// [`Error::InvalidState`] or [`Error::Unsupported`] before sending; provider errors after.
    async fn capture(&self, req: CaptureRequest) -> Result<Hold>;

    /// Releases a hold.
    ///
    /// # Errors
    /// [`Error::InvalidState`] before sending; provider errors after.
    async fn cancel(&self, req: CancelRequest) -> Result<Hold>;

    /// Reduces a hold by an amount, keeping the rest held.
    ///
    /// # Errors
    /// [`Error::Unsupported`] unless [`Capabilities::decrement`] is claimed.
    async fn decrement(&self, req: DecrementRequest) -> Result<Hold> {
        let _ = req;
        Err(Error::unsupported(
            self.name(),
            Operation::Decrement,
            "holds cannot be reduced",
        ))
    }

    /// Reads a hold's current state from the provider.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the provider has no such hold; [`Error::Unsupported`] for a
    /// merchant-reference-only lookup without [`Capabilities::lookup_by_merchant_reference`].
    async fn retrieve(&self, hold: &HoldRef) -> Result<Hold>;

    /// Refunds all (`amount: None`) or part of a captured hold.
    ///
    /// # Errors
    /// [`Error::Unsupported`], [`Error::InvalidState`] before sending; provider errors after.
    async fn refund(&self, req: RefundRequest) -> Result<Refund>;

    /// Verifies a notification and parses it into the common model.
    ///
    /// # Errors
    /// [`Error::InvalidWebhook`] when verification fails; [`Error::Unsupported`] without
    /// [`Capabilities::webhook_verification`].
    fn verify_webhook(&self, req: &WebhookRequest<'_>) -> Result<Notification> {
        let _ = req;
        Err(Error::unsupported(
            self.name(),
            Operation::VerifyWebhook,
            "notifications are not verified",
        ))
    }

    /// The exact answer the provider expects once a notification is accepted.
    fn webhook_ack(&self, notification: &Notification) -> WebhookAck {
        let _ = notification;
        WebhookAck::new(200, "text/plain", "ok")
    }
}
