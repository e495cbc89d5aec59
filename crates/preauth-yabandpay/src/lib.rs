//! YabandPay card pre-authorization for the `preauth` workspace.
//!
#![doc = include_str!("../README.md")]

pub mod config;
pub mod convert;
pub mod sign;
pub mod webhook;

mod client;
mod wire;

#[cfg(feature = "simulator")]
pub mod simulator;

#[doc(hidden)]
pub use client::Prepared;
pub use client::YabandPay;
pub use config::{Environment, YabandPayConfig};

/// The provider's name, as [`preauth_core::PreauthProvider::name`] returns it.
pub const PROVIDER: &str = "yabandpay";
