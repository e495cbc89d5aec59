//! One error type whose variants tell the caller what to do next.
//!
//! | variant | what happened | what to do |
//! |---|---|---|
//! | [`Error::InvalidRequest`], [`Error::Unsupported`], [`Error::InvalidState`], [`Error::Config`] | refused locally, **nothing was sent** | fix the input or the flow |
//! | [`Error::Declined`], [`Error::Rejected`] | the provider answered no | show the reason; do not retry as is |
//! | [`Error::NotFound`] | the provider has no such hold | for a reconcile: the operation never took effect |
//! | [`Error::Unauthenticated`] | credentials refused | fix the configuration |
//! | [`Error::RateLimited`], [`Error::Unavailable`] | nothing took effect | retry later ([`Error::is_retryable`]) |
//! | [`Error::OutcomeUnknown`] | the request **may have taken effect** | reconcile with `retrieve` before anything else ([`Error::is_outcome_unknown`]) |
//! | [`Error::Protocol`] | an answer that cannot be understood | report; for a mutating call, reconcile |
//! | [`Error::InvalidWebhook`] | a notification failed verification | answer non-2xx, do not act on it |
//!
//! No variant carries a reqwest or serde type, and no message carries a secret: messages are
//! built from provider codes, statuses and references only, never from request bodies.

use std::fmt;
use std::time::Duration;

use crate::capabilities::Operation;
use crate::hold::{Hold, HoldStatus};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed lower-level cause (never a reqwest or serde type in the public API by name).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What the provider said about a failure, where it said anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderDetails {
    /// The provider's error or status code (`20000`, `-4024`, `2001`, …).
    pub code: Option<String>,
    /// The provider's message.
    pub message: Option<String>,
    /// The HTTP status of the answer.
    pub http_status: Option<u16>,
    /// The provider's request or response id, for support tickets.
    pub request_id: Option<String>,
}

impl ProviderDetails {
    /// Details from a code and a message.
    pub fn new(code: Option<String>, message: Option<String>) -> Self {
        ProviderDetails {
            code,
            message,
            http_status: None,
            request_id: None,
        }
    }

    /// Sets the HTTP status.
    #[must_use]
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }
}

impl fmt::Display for ProviderDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(c) = &self.code {
            write!(f, "code {c}")?;
            sep = ", ";
        }
        if let Some(m) = &self.message {
            write!(f, "{sep}{m:?}")?;
            sep = ", ";
        }
        if let Some(s) = self.http_status {
            write!(f, "{sep}http {s}")?;
            sep = ", ";
        }
        if let Some(r) = &self.request_id {
            write!(f, "{sep}request id {r}")?;
            sep = ", ";
        }
        if sep.is_empty() {
            f.write_str("no details")?;
        }
        Ok(())
    }
}

/// Why a notification was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// No signature where the provider always sends one.
    MissingSignature,
    /// The signature does not match the body and the key.
    BadSignature,
    /// The signed timestamp is outside the tolerance window (a replay or a skewed clock).
    StaleTimestamp,
    /// The body or the signature header cannot be parsed.
    Malformed,
    /// This delivery was already seen (see [`ReplayGuard`](crate::webhook::ReplayGuard)).
    Duplicate,
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WebhookRejection::MissingSignature => "missing signature",
            WebhookRejection::BadSignature => "signature does not match",
            WebhookRejection::StaleTimestamp => "timestamp outside the tolerance window",
            WebhookRejection::Malformed => "malformed notification",
            WebhookRejection::Duplicate => "duplicate delivery",
        })
    }
}

/// Every way an operation can fail. See the [module docs](self) for what to do with each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is malformed (an amount with too many decimals, a bad card number, line
    /// items that do not add up). Nothing was sent.
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
    },

    /// The provider does not offer this operation or variant. Nothing was sent.
    #[error("{provider} does not support {operation}: {detail}")]
    Unsupported {
        /// The provider.
        provider: &'static str,
        /// The operation.
        operation: Operation,
        /// What exactly is not supported.
        detail: String,
    },

    /// The hold's known state does not allow the operation (capture a cancelled hold, capture
    /// more than remains, a second capture where only one is allowed). Nothing was sent.
    #[error("cannot {operation} a hold that is {status}: {message}")]
    InvalidState {
        /// The operation refused.
        operation: Operation,
        /// The hold's status when it was refused.
        status: HoldStatus,
        /// Why.
        message: String,
    },

    /// The issuer or the provider declined the authorization; `hold` is the declined hold
    /// when the provider created one.
    #[error("{provider} declined: {details}")]
    Declined {
        /// The provider.
        provider: &'static str,
        /// What the provider said.
        details: Box<ProviderDetails>,
        /// The declined hold, when the provider returned one.
        hold: Option<Box<Hold>>,
    },

    /// The provider refused the request (a business rule, a parameter it does not accept).
    /// The operation did not take effect.
    #[error("{provider} rejected {operation}: {details}")]
    Rejected {
        /// The provider.
        provider: &'static str,
        /// The operation.
        operation: Operation,
        /// What the provider said.
        details: Box<ProviderDetails>,
    },

    /// The provider has no hold or refund with this reference.
    #[error("{provider} has no record of {reference}")]
    NotFound {
        /// The provider.
        provider: &'static str,
        /// The reference looked up.
        reference: String,
        /// What the provider said.
        details: Box<ProviderDetails>,
    },

    /// The credentials were refused.
    #[error("{provider} refused the credentials: {details}")]
    Unauthenticated {
        /// The provider.
        provider: &'static str,
        /// What the provider said.
        details: Box<ProviderDetails>,
    },

    /// Too many requests; nothing took effect. Retry after `retry_after` when given.
    #[error("{provider} rate limited the request{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The provider.
        provider: &'static str,
        /// How long the provider asked to wait.
        retry_after: Option<Duration>,
        /// What the provider said.
        details: Box<ProviderDetails>,
    },

    /// The provider could not be reached or answered that it is unavailable, and the
    /// operation did not take effect. Safe to retry.
    #[error("{provider} unavailable for {operation}: {reason}")]
    Unavailable {
        /// The provider.
        provider: &'static str,
        /// The operation.
        operation: Operation,
        /// What happened.
        reason: String,
        /// The lower-level cause.
        #[source]
        source: Option<BoxError>,
    },

    /// The request may have taken effect: a timeout after it was sent, a connection reset, a
    /// 5xx on a mutating call. **Reconcile** with `retrieve` (or the provider's lookup by
    /// `reference`) before anything else; never send a new capture blindly.
    #[error(
        "outcome of {operation} at {provider} is unknown ({reason}); reconcile {reference} before retrying"
    )]
    OutcomeUnknown {
        /// The provider.
        provider: &'static str,
        /// The operation.
        operation: Operation,
        /// The reference to reconcile with: the hold's provider reference, or the merchant
        /// reference (idempotency key) when the provider's id is not known yet.
        reference: String,
        /// What happened.
        reason: String,
        /// The lower-level cause.
        #[source]
        source: Option<BoxError>,
    },

    /// An answer that cannot be understood: not JSON, truncated, an HTML error page, an
    /// unknown status, a bad response signature.
    #[error("protocol error from {provider} during {operation}: {message}")]
    Protocol {
        /// The provider.
        provider: &'static str,
        /// The operation.
        operation: Operation,
        /// What is wrong (never the body itself).
        message: String,
        /// What the provider said, when anything could be read.
        details: Box<ProviderDetails>,
    },

    /// A notification failed verification; do not act on it.
    #[error("{provider} notification rejected: {reason}")]
    InvalidWebhook {
        /// The provider.
        provider: &'static str,
        /// Why.
        reason: WebhookRejection,
    },

    /// The configuration is incomplete or invalid (missing key, bad URL).
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

/// A caller's amount that cannot be used (too many decimals, negative, another currency) is
/// an invalid request. Provider crates parsing a provider's answer map money errors to
/// [`Error::Protocol`] explicitly instead.
impl From<crate::money::MoneyError> for Error {
    fn from(e: crate::money::MoneyError) -> Self {
        Error::invalid_request(e.to_string())
    }
}

impl Error {
    /// An [`Error::InvalidRequest`].
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            message: message.into(),
        }
    }

    /// An [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// An [`Error::Unsupported`].
    pub fn unsupported(
        provider: &'static str,
        operation: Operation,
        detail: impl Into<String>,
    ) -> Self {
        Error::Unsupported {
            provider,
            operation,
            detail: detail.into(),
        }
    }

    /// An [`Error::Protocol`] with no provider details.
    pub fn protocol(
        provider: &'static str,
        operation: Operation,
        message: impl Into<String>,
    ) -> Self {
        Error::Protocol {
            provider,
            operation,
            message: message.into(),
            details: Box::default(),
        }
    }

    /// An [`Error::Rejected`].
    pub fn rejected(
        provider: &'static str,
        operation: Operation,
        details: ProviderDetails,
    ) -> Self {
        Error::Rejected {
            provider,
            operation,
            details: Box::new(details),
        }
    }

    /// An [`Error::InvalidWebhook`].
    pub fn webhook(provider: &'static str, reason: WebhookRejection) -> Self {
        Error::InvalidWebhook { provider, reason }
    }

    /// Safe to try again as is, later: nothing took effect.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::Unavailable { .. })
    }

    /// The request may have taken effect; reconcile before anything else.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }

    /// Refused locally: nothing was sent to the provider.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            Error::InvalidRequest { .. }
                | Error::Unsupported { .. }
                | Error::InvalidState { .. }
                | Error::Config { .. }
        )
    }

    /// The provider's details, where the error carries them.
    pub fn provider_details(&self) -> Option<&ProviderDetails> {
        match self {
            Error::Declined { details, .. }
            | Error::Rejected { details, .. }
            | Error::NotFound { details, .. }
            | Error::Unauthenticated { details, .. }
            | Error::RateLimited { details, .. }
            | Error::Protocol { details, .. } => Some(details),
            _ => None,
        }
    }

    /// A short stable name of the variant, for logs, metrics and CLI exit codes.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidRequest { .. } => "invalid_request",
            Error::Unsupported { .. } => "unsupported",
            Error::InvalidState { .. } => "invalid_state",
            Error::Declined { .. } => "declined",
            Error::Rejected { .. } => "rejected",
            Error::NotFound { .. } => "not_found",
            Error::Unauthenticated { .. } => "unauthenticated",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable { .. } => "unavailable",
            Error::OutcomeUnknown { .. } => "outcome_unknown",
            Error::Protocol { .. } => "protocol",
            Error::InvalidWebhook { .. } => "invalid_webhook",
            Error::Config { .. } => "config",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let unknown = Error::OutcomeUnknown {
            provider: "x",
            operation: Operation::Capture,
            reference: "r".into(),
            reason: "timeout".into(),
            source: None,
        };
        assert!(unknown.is_outcome_unknown());
        assert!(!unknown.is_retryable());
        assert!(!unknown.is_local());
        let unavailable = Error::Unavailable {
            provider: "x",
            operation: Operation::Capture,
            reason: "connection refused".into(),
            source: None,
        };
        assert!(unavailable.is_retryable());
        assert!(Error::invalid_request("x").is_local());
        assert!(Error::unsupported("x", Operation::Decrement, "no").is_local());
        assert_eq!(
            unknown.to_string(),
            "outcome of capture at x is unknown (timeout); reconcile r before retrying"
        );
    }

    #[test]
    fn details_display() {
        let d = ProviderDetails::new(
            Some("-4024".into()),
            Some("The original trade ID is incorrect".into()),
        )
        .with_http_status(200)
        .with_request_id(Some("abc".into()));
        assert_eq!(
            d.to_string(),
            "code -4024, \"The original trade ID is incorrect\", http 200, request id abc"
        );
        assert_eq!(ProviderDetails::default().to_string(), "no details");
    }
}
