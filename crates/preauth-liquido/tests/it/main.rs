//! Integration tests of preauth-liquido: request snapshots, recorded responses, the token
//! cache, webhooks (verified directly and delivered end to end to a loopback receiver), the
//! simulator end to end, one fault at a time (`reliability`), property tests of every parser
//! (`fuzz`), secrets, the conformance suite and the 2000-flow soak over loopback HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;
mod delivery;
mod e2e;
mod fuzz;
mod harness;
mod reliability;
mod responses;
mod secrets;
mod snapshots;
mod soak;
mod token;
mod webhooks;
