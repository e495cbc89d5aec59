//! The harness a provider's simulator implements so the conformance suite can drive it.

use std::sync::Arc;

use async_trait::async_trait;
use preauth_core::sim::SimControl;
use preauth_core::{
    Address, AuthorizeRequest, BrowserInfo, CardDetails, Currency, Document, Hold, LineItem, Money,
    Payer, PaymentMethod, PreauthProvider, ThreeDs,
};

/// Card numbers every simulator honours (all pass the Luhn check).
pub mod cards {
    /// Approved.
    pub const APPROVE: &str = "4111111111111111";
    /// Declined by the issuer.
    pub const DECLINE: &str = "4000000000000002";
    /// Approved after a 3-D Secure challenge: the authorization asks for a redirect.
    pub const THREE_DS: &str = "4000000000003220";
}

/// A signed notification as the provider would deliver it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Headers (name, value).
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
}

impl Delivery {
    /// Header pairs borrowed for [`preauth_core::WebhookRequest::new`].
    pub fn header_refs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// What the conformance suite needs from a provider and its simulator.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The provider under test, pointed at the simulator (over loopback HTTP), as the
    /// trait object a merchant would hold.
    fn provider(&self) -> Arc<dyn PreauthProvider>;

    /// The simulator's clock, faults and request count.
    fn control(&self) -> &SimControl;

    /// The currency holds are placed in.
    fn currency(&self) -> Currency {
        Currency::EUR
    }

    /// The country of the payment (ISO 3166-1 alpha-2).
    fn country(&self) -> &'static str {
        "BR"
    }

    /// A complete authorization request for `amount` on the card `number`, with everything
    /// this provider requires (payer, addresses, line items adding up, browser data).
    fn authorize_request(&self, amount: Money, number: &str) -> AuthorizeRequest {
        standard_request(amount, number, self.country())
    }

    /// Plays the payer through the simulator's 3-D Secure page for `hold`, so the hold
    /// becomes authorized. Providers without 3-D Secure leave the default.
    async fn complete_three_ds(&self, hold: &Hold) {
        let _ = hold;
    }

    /// The notification the provider would send now about `hold`, signed as the provider
    /// signs it; `None` when the provider sends none for this state.
    fn notification_for(&self, hold: &Hold) -> Option<Delivery> {
        let _ = hold;
        None
    }

    /// Every hold the simulator knows, with how many captures took effect on each (for the
    /// soak's double-capture and lost-hold checks).
    fn ledger(&self) -> Vec<crate::soak::LedgerEntry> {
        Vec::new()
    }
}

/// The request [`Harness::authorize_request`] builds by default.
///
/// # Panics
/// When `number` is not a valid card number (a bug in the calling test).
#[allow(clippy::expect_used)]
pub fn standard_request(amount: Money, number: &str, country: &str) -> AuthorizeRequest {
    let card = CardDetails::new(number, 12, 2030, "123", "Ana Silva").expect("a valid test card");
    let address = Address::new(country)
        .with_street("Rua 9 de Setembro", "15")
        .with_complement("casa")
        .with_district("Jardim Gaivotas")
        .with_city("Sao Paulo")
        .with_state("SP")
        .with_postal_code("04849333");
    let payer = Payer::new("Ana", "Silva")
        .with_email("ana@example.com")
        .with_phone("+55 81987654321")
        .with_document(Document::new("CPF", "00123456789"))
        .with_billing_address(address.clone());
    let three_ds = if number == cards::THREE_DS {
        ThreeDs::Required
    } else {
        ThreeDs::Auto
    };
    let mut browser = BrowserInfo::default();
    browser.accept = Some("text/html".into());
    browser.user_agent = Some("Mozilla/5.0".into());
    browser.language = Some("en-US".into());
    browser.color_depth = Some(24);
    browser.screen_height = Some(1080);
    browser.screen_width = Some(1920);
    browser.time_zone_offset = Some(-480);
    browser.java_enabled = Some(false);
    AuthorizeRequest::new(amount, PaymentMethod::Card(card))
        .with_country(country)
        .with_payer(payer)
        .with_shipping_address(address)
        .with_line_item(LineItem::new("Hotel stay", amount, 1))
        .with_description("Hotel stay deposit")
        .with_return_url("https://merchant.example/return")
        .with_notify_url("https://merchant.example/notify")
        .with_three_ds(three_ds)
        .with_browser(browser)
        .with_customer_ip("127.0.0.1")
}

/// A transport for fault and soak tests: attempts time out after `attempt_timeout` (keep it
/// shorter than the delay faults, so they are real timeouts), 3 s in all, three attempts with
/// very short backoff.
///
/// # Panics
/// When the TLS stack cannot be initialised (never on a working machine).
#[allow(clippy::expect_used)]
pub fn fast_transport(attempt_timeout: std::time::Duration) -> preauth_core::Transport {
    use std::time::Duration;

    use preauth_core::{RetryPolicy, TransportConfig};
    preauth_core::Transport::new(
        TransportConfig::default()
            .with_connect_timeout(Duration::from_millis(500))
            .with_attempt_timeout(attempt_timeout)
            .with_total_timeout(Duration::from_secs(3))
            .with_retry(
                RetryPolicy::default()
                    .with_max_attempts(3)
                    .with_backoff(Duration::from_millis(5), Duration::from_millis(25)),
            ),
    )
    .expect("transport")
}

/// A transport for tests against a loopback simulator: 1 s per attempt, 5 s in all, three
/// attempts with short backoff, so fault scenarios finish quickly.
///
/// # Panics
/// When the TLS stack cannot be initialised (never on a working machine).
#[allow(clippy::expect_used)]
pub fn test_transport() -> preauth_core::Transport {
    use std::time::Duration;

    use preauth_core::{RetryPolicy, TransportConfig};
    preauth_core::Transport::new(
        TransportConfig::default()
            .with_connect_timeout(Duration::from_millis(500))
            .with_attempt_timeout(Duration::from_millis(1000))
            .with_total_timeout(Duration::from_secs(5))
            .with_retry(
                RetryPolicy::default()
                    .with_max_attempts(3)
                    .with_backoff(Duration::from_millis(20), Duration::from_millis(100)),
            ),
    )
    .expect("transport")
}
