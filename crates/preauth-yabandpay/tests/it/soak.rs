//! The testkit's soak against the simulator over loopback HTTP: 2000 hold-and-capture flows,
//! a quarter of the requests faulted with every kind the fault layer has (delays past the
//! client's attempt timeout, 5xx before and after the effect, 429 and 503 with `Retry-After`,
//! resets, malformed, truncated, empty and HTML bodies). No hold may be captured twice or lost;
//! an authorization whose outcome is unknown is reported with its reference (YabandPay cannot
//! look holds up by `order_id`).

use std::sync::Arc;
use std::time::Duration;

use preauth_core::Transport;
use preauth_testkit::harness::Harness;
use preauth_testkit::soak::{SoakConfig, run};

use crate::conformance::harness_with;

/// Attempts time out well before the soak's long delay, so the delay faults are real
/// timeouts; retries (of reads, and of 429/503 with `Retry-After`) are quick.
pub(crate) fn soak_transport() -> Transport {
    preauth_testkit::harness::fast_transport(Duration::from_millis(200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_the_soak() {
    let h = harness_with(soak_transport()).await;
    let connections_before = h.control().connections();
    let h: Arc<dyn Harness> = Arc::new(h);
    let cfg = SoakConfig {
        flows: 2000,
        fault_percent: 25,
        concurrency: 32,
        long_delay: Duration::from_millis(400),
        ..SoakConfig::default()
    };
    let r = run(h.clone(), cfg).await;
    assert_eq!(r.flows, 2000);
    assert_eq!(
        r.captured + r.declined + r.authorize_unknown_reported + r.unresolved_reported,
        2000,
        "{r}"
    );
    assert!(r.captured > 1400, "{r}");
    assert!(
        r.authorize_unknown_reported > 0,
        "outcome-unknown authorizations are reported: {r}"
    );
    assert!(r.reconciles > 0, "{r}");
    // The ledger agrees: every captured hold was captured exactly once at the simulator.
    let ledger = h.ledger();
    let captured_once = ledger.iter().filter(|e| e.captures == 1).count();
    assert!(captured_once >= r.captured, "{r}");
    assert!(ledger.iter().all(|e| e.captures <= 1));
    // The connection pool is reused: far fewer connections than requests (faults that break
    // a connection or time out open new ones).
    let connections = h.control().connections() - connections_before;
    assert!(
        connections < r.requests / 2,
        "{connections} connections for {} requests",
        r.requests
    );
}
