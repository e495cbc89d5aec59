//! Integration tests of preauth-liquido: request snapshots, recorded responses, the token
//! cache, webhooks, the simulator end to end, and the conformance suite over loopback HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;
mod e2e;
mod harness;
mod responses;
mod secrets;
mod snapshots;
mod token;
mod webhooks;
