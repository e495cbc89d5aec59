//! Onerway card pre-authorization for the `preauth` workspace; the rest of these docs is the crate README.
#![doc = include_str!("../README.md")]

mod client;
pub mod config;
mod convert;
pub mod sign;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod webhook;
mod wire;

pub use client::{CAPABILITIES, Onerway};
pub use config::{OnerwayConfig, OnerwayEnvironment};

/// The provider's name, as [`preauth_core::PreauthProvider::name`] returns it.
pub const PROVIDER: &str = "onerway";
