//! # preauth-core
//!
//! The shared model of the `preauth` workspace: one trait, [`PreauthProvider`], that every
//! provider crate implements; [`Money`] with checked minor-unit conversions; one [`Hold`]
//! shape with one [`HoldStatus`] and one transition table ([`state`]); truthful
//! [`Capabilities`]; an [`Error`] that says what to do next; idempotency keys and an injected
//! [`Clock`]; the HTTP [`transport`] with timeouts and safe retries; and the webhook model.
//!
//! Provider crates depend on this crate only. A merchant usually depends on the `preauth`
//! facade instead, which re-exports all of it.
//!
//! ```
//! use preauth_core::{Currency, Money};
//!
//! let amount = Money::parse_major("24.99", Currency::EUR)?;
//! assert_eq!(amount.to_minor_units()?, 2499);
//! assert!(Money::parse_major("0.001", Currency::EUR).is_err()); // never rounded
//! # Ok::<(), preauth_core::MoneyError>(())
//! ```

pub mod capabilities;
pub mod error;
pub mod hold;
pub mod ids;
pub mod json;
pub mod money;
pub mod provider;
pub mod reconcile;
pub mod request;
#[cfg(feature = "sim")]
pub mod sim;
pub mod state;
pub mod transport;
pub mod webhook;

pub use async_trait::async_trait;
pub use capabilities::{Capabilities, Operation};
pub use error::{Error, ProviderDetails, Result, WebhookRejection};
pub use hold::{
    CardSummary, DeclineReason, Hold, HoldRef, HoldStatus, NextAction, Refund, RefundStatus,
};
pub use ids::{
    Clock, IdempotencyKey, KeyGenerator, ManualClock, RandomKeys, SequentialKeys, SystemClock,
};
pub use money::{Currency, Money, MoneyError};
pub use provider::PreauthProvider;
pub use request::{
    Address, AuthorizeRequest, BrowserInfo, CancelRequest, CaptureRequest, CardDetails,
    DecrementRequest, Document, LineItem, LineItemKind, Payer, PaymentMethod, RefundRequest,
    ThreeDs,
};
pub use secrecy::{ExposeSecret, SecretString};
pub use transport::{RetryPolicy, Transport, TransportConfig};
pub use webhook::{Notification, NotificationKind, ReplayGuard, WebhookAck, WebhookRequest};
