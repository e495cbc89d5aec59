//! The conformance harness: the Liquido client over loopback HTTP against the simulator, with
//! the simulator's clock injected into the client.

use std::sync::Arc;
use std::time::Duration;

use preauth_core::sim::{SimControl, SimServer};
use preauth_core::{Currency, Hold, PreauthProvider, Transport};
use preauth_liquido::Liquido;
use preauth_liquido::simulator::Simulator;
use preauth_testkit::harness::{Delivery, Harness};
use preauth_testkit::soak::LedgerEntry;
use preauth_testkit::test_transport;

pub(crate) struct LiquidoHarness {
    pub(crate) sim: Simulator,
    pub(crate) server: SimServer,
    pub(crate) client: Liquido,
}

/// Attempts time out after 250 ms (well before [`LONG_DELAY`], so the delay faults are real
/// timeouts), three attempts with short backoff: fault scenarios finish quickly.
pub(crate) fn fast_transport() -> Transport {
    preauth_testkit::harness::fast_transport(Duration::from_millis(250))
}

/// A delay longer than [`fast_transport`]'s attempt timeout.
pub(crate) const LONG_DELAY: Duration = Duration::from_millis(400);

impl LiquidoHarness {
    pub(crate) async fn start() -> Self {
        Self::start_with(test_transport()).await
    }

    /// A harness whose client sends through `transport` (its timeouts and retries).
    pub(crate) async fn start_with(transport: Transport) -> Self {
        let sim = Simulator::new(SimControl::default());
        let server = sim.spawn().await.expect("simulator starts");
        let client = Liquido::new(sim.config(&server.base_url()))
            .expect("simulator config is valid")
            .with_transport(transport)
            .with_clock(Arc::new(sim.control().clock.clone()));
        LiquidoHarness {
            sim,
            server,
            client,
        }
    }
}

/// For `conformance_tests!`.
pub(crate) async fn start() -> LiquidoHarness {
    LiquidoHarness::start().await
}

#[preauth_core::async_trait]
impl Harness for LiquidoHarness {
    fn provider(&self) -> Arc<dyn PreauthProvider> {
        Arc::new(self.client.clone())
    }

    fn control(&self) -> &SimControl {
        self.sim.control()
    }

    /// Liquido is a Latin-American acquirer: holds in BRL, in Brazil.
    fn currency(&self) -> Currency {
        Currency::BRL
    }

    fn country(&self) -> &'static str {
        "BR"
    }

    /// Plays the payer through the simulator's 3-D Secure page: a real GET of the redirect URL
    /// the hold carries.
    async fn complete_three_ds(&self, hold: &Hold) {
        let Some(preauth_core::NextAction::Redirect { url }) = &hold.next_action else {
            panic!("the hold has no redirect to follow: {hold:?}");
        };
        let req = preauth_core::transport::HttpRequest::new(
            preauth_core::transport::Method::Get,
            url.as_str(),
            preauth_core::Operation::Retrieve,
            "3ds-page",
        );
        let resp = test_transport().send(&req).await.expect("3-D Secure page");
        assert_eq!(resp.status, 200, "the 3-D Secure page answers");
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
                merchant_reference: e.key.clone(),
                provider_reference: e.key,
                status: e.status,
                captures: e.captures,
            })
            .collect()
    }
}
