//! Performance benchmarks of the preauth library against a hand-written baseline that does
//! the same wire work directly on `serde_json`, `sha2`/`hmac` and a plain `reqwest::Client`.
//!
//! Run it with `cargo xtask bench` (or `cargo xtask bench --quick` for a smoke run); the
//! results and what they mean are in `BENCHMARKS.md` at the root of the repository.
//!
//! - [`fixture`]: the order every measurement uses, and canned answers recorded from the
//!   providers' simulators;
//! - [`library`] and [`baseline`]: the two sides, over the same canned traffic;
//! - [`cpu`]: time per operation of the pure paths (median of rounds);
//! - [`e2e`]: hold → capture flows against a loopback simulator, with request and connection
//!   counts;
//! - [`mem`]: resident memory and CPU time from `/proc`;
//! - [`report`], [`run`]: the Markdown report.

pub mod baseline;
pub mod cpu;
pub mod e2e;
pub mod fixture;
pub mod library;
pub mod mem;
pub mod report;
pub mod run;
