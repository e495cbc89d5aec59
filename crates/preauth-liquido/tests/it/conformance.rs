//! The whole preauth-testkit conformance suite against the simulator over loopback HTTP. The
//! soak with random faults is in `soak.rs`.

use crate::harness::start;

preauth_testkit::conformance_tests!(start);
