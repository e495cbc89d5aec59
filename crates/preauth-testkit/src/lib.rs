//! # preauth-testkit
//!
//! What every provider crate of the `preauth` workspace is held to:
//!
//! - [`harness::Harness`]: the trait a provider's simulator implements (build a provider pointed
//!   at it, magic cards, clock, faults, request count, 3-D Secure, signed notifications);
//! - [`conformance`]: the suite of scenarios, gated by capabilities, and
//!   [`conformance_tests!`] to run all of them as one test each;
//! - [`reference`](mod@reference): an in-memory provider that passes the whole suite, the executable
//!   specification the real providers are held to.

pub mod conformance;
pub mod harness;
pub mod logs;
pub mod reference;
pub mod soak;

pub use harness::{Delivery, Harness, cards, test_transport};
pub use reference::{ReferenceHarness, ReferenceProvider};
