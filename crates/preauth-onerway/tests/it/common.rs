//! Fixtures shared by the tests: a client with a fixed clock and keys, the simulator harness.

use std::sync::Arc;

use preauth_core::sim::{SimControl, SimServer};
use preauth_core::{Hold, ManualClock, PreauthProvider, SequentialKeys, Transport};
use preauth_onerway::simulator::Simulator;
use preauth_onerway::{Onerway, OnerwayConfig};
use preauth_testkit::harness::{Delivery, Harness};
use preauth_testkit::soak::LedgerEntry;
use time::OffsetDateTime;
use time::macros::{datetime, offset};

/// The secret of the offline client (not a real key).
pub(crate) const TEST_SECRET: &str = "test-secret-key-0123456789abcdef";

/// 2024-07-24 13:33:23 +08:00, seed 001's `merchantTxnTime`.
pub(crate) const SEED_TIME: OffsetDateTime = datetime!(2024-07-24 13:33:23 +08:00);

/// Seed 001's merchant, in +08:00, with a clock stopped at [`SEED_TIME`] and keys
/// `hold-000001`, `hold-000002`, …
pub(crate) fn seed_client() -> (Onerway, ManualClock) {
    let config = OnerwayConfig::new("800209", "1739545982264549376", TEST_SECRET)
        .with_time_zone(offset!(+08:00));
    let clock = ManualClock::new(SEED_TIME);
    let client = Onerway::new(config)
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
        .with_keys(Arc::new(SequentialKeys::new("hold-")));
    (client, clock)
}

/// The simulator on loopback, the client pointed at it sharing the simulator's clock.
pub(crate) struct OnerwayHarness {
    pub(crate) sim: Simulator,
    pub(crate) server: SimServer,
    pub(crate) client: Onerway,
}

impl OnerwayHarness {
    pub(crate) async fn start() -> Self {
        Self::start_with(preauth_testkit::test_transport()).await
    }

    /// The simulator and a client that sends through `transport` (its timeouts and retries).
    pub(crate) async fn start_with(transport: Transport) -> Self {
        let sim = Simulator::new(SimControl::default());
        let server = sim.spawn().await.expect("simulator binds");
        let client = Onerway::new(sim.config(&server.base_url()))
            .unwrap()
            .with_transport(transport)
            .with_clock(Arc::new(sim.control().clock.clone()));
        OnerwayHarness {
            sim,
            server,
            client,
        }
    }

    /// A client for the same simulator with other credentials.
    pub(crate) fn client_with(&self, f: impl FnOnce(OnerwayConfig) -> OnerwayConfig) -> Onerway {
        let config = f(self.sim.config(&self.server.base_url()));
        Onerway::new(config)
            .unwrap()
            .with_transport(preauth_testkit::test_transport())
            .with_clock(Arc::new(self.sim.control().clock.clone()))
    }

    pub(crate) fn base_url(&self) -> String {
        self.server.base_url()
    }
}

#[preauth_core::async_trait]
impl Harness for OnerwayHarness {
    fn provider(&self) -> Arc<dyn PreauthProvider> {
        Arc::new(self.client.clone())
    }

    fn control(&self) -> &SimControl {
        self.sim.control()
    }

    async fn complete_three_ds(&self, hold: &Hold) {
        assert!(
            self.sim.complete_three_ds(&hold.provider_reference),
            "the simulator had a 3-D Secure challenge waiting"
        );
    }

    fn notification_for(&self, hold: &Hold) -> Option<Delivery> {
        self.sim
            .notification_for(&hold.provider_reference)
            .map(|(headers, body)| Delivery { headers, body })
    }

    fn ledger(&self) -> Vec<LedgerEntry> {
        self.sim
            .holds()
            .into_iter()
            .map(|h| LedgerEntry {
                merchant_reference: h.merchant_reference,
                provider_reference: h.provider_reference,
                status: h.status,
                captures: h.captures,
            })
            .collect()
    }
}
