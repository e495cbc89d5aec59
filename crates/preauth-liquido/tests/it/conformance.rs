//! The whole preauth-testkit conformance suite against the simulator over loopback HTTP, and
//! a short soak with random faults checked against the simulator's ledger.

use std::sync::Arc;
use std::time::Duration;

use preauth_testkit::soak::{self, SoakConfig};

use crate::harness::{LiquidoHarness, start};

preauth_testkit::conformance_tests!(start);

/// 300 hold flows, 16 at a time, with a fault on 25 % of requests (every kind the fault layer
/// has, the token endpoint included): no double capture, no lost hold, no panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_random_faults() {
    let h = Arc::new(LiquidoHarness::start().await);
    let report = soak::run(
        h.clone(),
        SoakConfig {
            flows: 300,
            concurrency: 16,
            fault_percent: 25,
            seed: 0x0119,
            long_delay: Duration::from_millis(1200),
        },
    )
    .await;
    assert_eq!(report.double_captures, 0);
    assert_eq!(report.lost_holds, 0);
    assert!(report.captured > 200, "{report}");
}
