//! The workspace conformance suite, against the simulator over loopback HTTP.

use std::sync::Arc;

use preauth_core::sim::{SimControl, SimServer};
use preauth_core::{Hold, PreauthProvider, Transport};
use preauth_testkit::harness::{Delivery, Harness};
use preauth_testkit::soak::LedgerEntry;
use preauth_testkit::test_transport;
use preauth_yabandpay::YabandPay;
use preauth_yabandpay::simulator::Simulator;

/// The simulator on a loopback port and a client pointed at it, sharing the simulator's clock.
pub(crate) struct YabandPayHarness {
    pub(crate) sim: Simulator,
    pub(crate) server: SimServer,
    pub(crate) client: YabandPay,
    provider: Arc<dyn PreauthProvider>,
}

pub(crate) async fn harness() -> YabandPayHarness {
    harness_with(test_transport()).await
}

/// A harness whose client sends through `transport` (its timeouts and retries).
pub(crate) async fn harness_with(transport: Transport) -> YabandPayHarness {
    let sim = Simulator::new(SimControl::default());
    let server = sim.spawn().await.expect("simulator starts");
    let client = YabandPay::new(sim.config(&server.base_url()))
        .expect("simulator config is valid")
        .with_transport(transport)
        .with_clock(Arc::new(sim.control().clock.clone()));
    YabandPayHarness {
        provider: Arc::new(client.clone()),
        sim,
        server,
        client,
    }
}

#[preauth_core::async_trait]
impl Harness for YabandPayHarness {
    fn provider(&self) -> Arc<dyn PreauthProvider> {
        self.provider.clone()
    }

    fn control(&self) -> &SimControl {
        self.sim.control()
    }

    fn country(&self) -> &'static str {
        "NL"
    }

    async fn complete_three_ds(&self, hold: &Hold) {
        assert!(
            self.sim.complete_three_ds(&hold.provider_reference),
            "the hold was waiting for 3-D Secure"
        );
    }

    fn notification_for(&self, hold: &Hold) -> Option<Delivery> {
        self.sim
            .notification_for(&hold.provider_reference)
            .map(|(headers, body)| Delivery { headers, body })
    }

    fn ledger(&self) -> Vec<LedgerEntry> {
        self.sim
            .ledger()
            .into_iter()
            .map(|e| LedgerEntry {
                merchant_reference: e.order_id,
                provider_reference: e.trade_id,
                status: e.status,
                captures: e.captures,
            })
            .collect()
    }
}

preauth_testkit::conformance_tests!(harness);
