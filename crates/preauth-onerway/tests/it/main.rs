//! The Onerway crate's integration tests: request snapshots, published signing vectors,
//! recorded responses, end-to-end flows and the conformance suite against the simulator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod conformance;
mod faults;
mod flows;
mod fuzz;
mod responses;
mod secrets;
mod snapshots;
mod soak;
mod vectors;
mod webhooks;
