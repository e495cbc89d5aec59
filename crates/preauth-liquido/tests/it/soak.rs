//! The testkit's soak against the simulator over loopback HTTP: 2000 hold-and-capture flows,
//! 32 at a time, a quarter of the requests faulted with every kind the fault layer has (delays
//! past the client's attempt timeout, 5xx before and after the effect, 429 and 503 with
//! `Retry-After`, resets, malformed, truncated, empty and HTML bodies). One OAuth2 token
//! serves the whole run, so the token endpoint rarely meets a fault here; every fault kind on
//! the token request is tested on its own in `reliability.rs`. No hold may be captured twice
//! or lost, no flow may panic. The report is printed:
//! `cargo test -p preauth-liquido --all-features soak -- --nocapture`.

use std::sync::Arc;
use std::time::Duration;

use preauth_core::HoldStatus;
use preauth_testkit::harness::Harness;
use preauth_testkit::soak::{SoakConfig, run};

use crate::harness::{LONG_DELAY, LiquidoHarness, fast_transport};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_flows_with_a_quarter_of_requests_faulted() {
    let h = Arc::new(LiquidoHarness::start_with(fast_transport()).await);
    let connections_before = h.control().connections();
    let cfg = SoakConfig {
        flows: 2000,
        concurrency: 32,
        fault_percent: 25,
        seed: 0x0119,
        long_delay: LONG_DELAY,
    };
    let r = run(h.clone(), cfg).await;
    let connections = h.control().connections() - connections_before;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "  token requests {}, TCP connections {connections}",
            h.sim.token_requests()
        );
    }
    assert_eq!(r.flows, 2000);
    assert_eq!(
        r.captured + r.declined + r.authorize_unknown_reported + r.unresolved_reported,
        2000,
        "every flow ends somewhere: {r}"
    );
    // Liquido can look a charge up by its key, so no authorization stays unknown.
    assert_eq!(r.authorize_unknown_reported, 0, "{r}");
    assert!(r.captured > 1800, "{r}");
    assert!(r.reconciles > 0, "{r}");
    assert!(
        r.elapsed < Duration::from_secs(60),
        "well under a minute: {r}"
    );
    // The simulator's ledger agrees with the report: one charge per flow key (the
    // authorize is deduplicated by idempotencyKey however often it was re-sent), each
    // captured at most once, and as many captured as the flows say.
    let ledger = h.sim.ledger();
    assert_eq!(ledger.len(), 2000, "one charge per key");
    assert!(ledger.iter().all(|e| e.captures <= 1));
    let settled = ledger
        .iter()
        .filter(|e| e.status == HoldStatus::Captured)
        .count();
    // A flow left unresolved may still have been captured at the simulator (reported with
    // its reference, never captured twice).
    assert!(
        (r.captured..=r.captured + r.unresolved_reported).contains(&settled),
        "{settled} settled at the simulator: {r}"
    );
    let declined = ledger
        .iter()
        .filter(|e| e.status == HoldStatus::Declined)
        .count();
    assert_eq!(declined, 100, "every 20th flow uses the declining card");
    // The connection pool is reused: far fewer connections than requests (the faults that
    // time out or break a connection open new ones).
    assert!(
        connections < r.requests / 2,
        "{connections} connections for {} requests",
        r.requests
    );
}
