//! Integration tests of preauth-yabandpay: strings to sign and request snapshots against the
//! docs, recorded answers, the simulator's rules, the conformance suite, and secrets.
//! The simulator-backed modules need feature `simulator` (`--all-features`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[cfg(feature = "simulator")]
mod conformance;
mod fuzz;
#[cfg(feature = "simulator")]
mod reliability;
mod responses;
#[cfg(feature = "simulator")]
mod secrets;
mod signing;
#[cfg(feature = "simulator")]
mod simulator;
mod snapshots;
#[cfg(feature = "simulator")]
mod soak;
#[cfg(feature = "simulator")]
mod webhooks;
