//! <!-- The crate documentation is the README, included below. -->
#![doc = include_str!("../README.md")]

mod client;
pub mod config;
mod convert;
pub mod sign;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod webhook;
mod wire;

pub use client::Liquido;
pub use config::{LiquidoConfig, LiquidoEnvironment};

/// This provider's name, as [`PreauthProvider::name`](preauth_core::PreauthProvider::name)
/// reports it.
pub const PROVIDER: &str = "liquido";
