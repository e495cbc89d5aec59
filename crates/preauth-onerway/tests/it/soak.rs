//! The testkit's soak against the simulator: 600 hold-and-capture flows (enough for every
//! fault kind to be exercised, see `soak::run`) with a quarter of the
//! requests faulted (delays past the timeout, 5xx before and after the effect, resets,
//! malformed, truncated, empty and HTML bodies). No hold may be captured twice or lost.

use std::sync::Arc;

use preauth_testkit::harness::Harness;
use preauth_testkit::soak::{SoakConfig, run};

use crate::common::OnerwayHarness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_the_soak() {
    let h: Arc<dyn Harness> = Arc::new(OnerwayHarness::start().await);
    let cfg = SoakConfig {
        flows: 600,
        ..SoakConfig::default()
    };
    let r = run(h, cfg).await;
    assert_eq!(r.flows, 600);
    assert!(r.captured > 450, "{r}");
}
