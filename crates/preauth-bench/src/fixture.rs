//! The inputs of every measurement: one order per provider, given to the library as an
//! [`AuthorizeRequest`] and to the baseline as an [`Order`] (the same data), and canned
//! answers recorded from the providers' own simulators ([`record`]).

use bytes::Bytes;
use preauth::{
    Address, AuthorizeRequest, CardDetails, Currency, IdempotencyKey, Money, Payer, PaymentMethod,
};
use preauth_core::sim::SimControl;
use time::OffsetDateTime;

use crate::baseline::{self, http_client, send};

/// The providers measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Liquido: OAuth2 token, then bearer + API key.
    Liquido,
    /// Onerway: SHA-256 signed parameters.
    Onerway,
    /// YabandPay: HMAC-SHA256 signed envelope.
    YabandPay,
}

impl Provider {
    /// Every provider, in report order.
    pub const ALL: [Provider; 3] = [Provider::Liquido, Provider::Onerway, Provider::YabandPay];

    /// The name the facade knows it by.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Liquido => "liquido",
            Provider::Onerway => "onerway",
            Provider::YabandPay => "yabandpay",
        }
    }

    /// The currency its orders are in (two decimals each).
    pub fn currency(self) -> &'static str {
        match self {
            Provider::Liquido => "BRL",
            Provider::Onerway => "USD",
            Provider::YabandPay => "EUR",
        }
    }
}

/// The simulators' clock, and the library clients' clock in the CPU measurements.
pub const NOW: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

/// One order as the baseline takes it: plain data, the same as the library's request.
#[derive(Debug, Clone)]
pub struct Order {
    /// The idempotency key (Liquido `idempotencyKey`, Onerway `merchantTxnId`, YabandPay
    /// `order_id` and `request_id`).
    pub key: String,
    /// The key of the capture (Onerway `merchantTxnId`, YabandPay `request_id`):
    /// `{key}-capture`.
    pub capture_key: String,
    /// The amount held, in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: &'static str,
    /// ISO 3166-1 alpha-2.
    pub country: &'static str,
    /// Card number.
    pub card_number: &'static str,
    /// Card CVC.
    pub card_cvc: &'static str,
    /// Expiry month.
    pub exp_month: u8,
    /// Expiry year.
    pub exp_year: u16,
    /// Name on the card.
    pub holder_name: &'static str,
    /// Payer's given name.
    pub first_name: &'static str,
    /// Payer's family name.
    pub last_name: &'static str,
    /// Payer's e-mail.
    pub email: &'static str,
    /// Payer's phone.
    pub phone: &'static str,
    /// Billing street.
    pub street: &'static str,
    /// Billing house number.
    pub number: &'static str,
    /// Billing city.
    pub city: &'static str,
    /// Billing state.
    pub state: &'static str,
    /// Billing postal code.
    pub postal_code: &'static str,
    /// Description.
    pub description: &'static str,
    /// Notification URL.
    pub notify_url: &'static str,
    /// Return URL after 3-D Secure.
    pub return_url: &'static str,
    /// Payer's IP.
    pub customer_ip: &'static str,
}

impl Order {
    /// A 300.00 hold for `provider` under `key`, on the simulators' approving card.
    pub fn new(provider: Provider, key: &str) -> Order {
        Order {
            key: key.to_owned(),
            capture_key: format!("{key}-capture"),
            amount_minor: 30_000,
            currency: provider.currency(),
            country: "BR",
            card_number: "4111111111111111",
            card_cvc: "123",
            exp_month: 12,
            exp_year: 2030,
            holder_name: "Ana Silva",
            first_name: "Ana",
            last_name: "Silva",
            email: "ana@example.com",
            phone: "+55 81987654321",
            street: "Rua 9 de Setembro",
            number: "15",
            city: "Sao Paulo",
            state: "SP",
            postal_code: "04849333",
            description: "Hotel stay deposit",
            notify_url: "https://merchant.example/notify",
            return_url: "https://merchant.example/return",
            customer_ip: "127.0.0.1",
        }
    }

    /// The same order as the library's request (with its idempotency key).
    ///
    /// # Errors
    /// When a field is invalid (a bug in the fixture).
    pub fn authorize_request(&self) -> preauth::Result<AuthorizeRequest> {
        let currency = Currency::from_code(self.currency)?;
        let amount = Money::from_minor(self.amount_minor, currency)?;
        let card = CardDetails::new(
            self.card_number,
            self.exp_month,
            self.exp_year,
            self.card_cvc,
            self.holder_name,
        )?;
        let address = Address::new(self.country)
            .with_street(self.street, self.number)
            .with_city(self.city)
            .with_state(self.state)
            .with_postal_code(self.postal_code);
        let payer = Payer::new(self.first_name, self.last_name)
            .with_email(self.email)
            .with_phone(self.phone)
            .with_billing_address(address);
        Ok(AuthorizeRequest::new(amount, PaymentMethod::Card(card))
            .with_idempotency_key(IdempotencyKey::new(self.key.as_str())?)
            .with_country(self.country)
            .with_payer(payer)
            .with_description(self.description)
            .with_notify_url(self.notify_url)
            .with_return_url(self.return_url)
            .with_customer_ip(self.customer_ip))
    }
}

/// An HTTP answer: status and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Bytes,
}

/// One provider's canned traffic: the answers its simulator gave to an authorization and a
/// full capture of [`Order::new`]`(provider, "bench-canned-1")`, and the notification it
/// signed about the captured hold, at [`NOW`].
#[derive(Debug, Clone)]
pub struct Canned {
    /// The provider.
    pub provider: Provider,
    /// The simulator's base URL when it was recorded (requests are built for it).
    pub base_url: String,
    /// The order.
    pub order: Order,
    /// Liquido's access token (empty for the others).
    pub token: String,
    /// The hold's provider reference.
    pub reference: String,
    /// The answer to the authorization.
    pub authorize: Answer,
    /// The answer to the capture.
    pub capture: Answer,
    /// The notification's headers.
    pub webhook_headers: Vec<(String, String)>,
    /// The notification's raw body.
    pub webhook_body: Vec<u8>,
}

impl Canned {
    /// The notification's headers as `(name, value)` slices.
    pub fn webhook_header_refs(&self) -> Vec<(&str, &str)> {
        self.webhook_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// The key of the canned order.
pub const CANNED_KEY: &str = "bench-canned-1";

fn io(e: std::io::Error) -> String {
    format!("cannot start the simulator: {e}")
}

/// Records `provider`'s canned traffic: starts its simulator at [`NOW`], authorizes and
/// captures [`CANNED_KEY`] with the baseline (the simulator checks every signature), and
/// asks it for the notification about the captured hold.
///
/// # Errors
/// When the simulator refuses anything (a bug in the baseline).
pub async fn record(provider: Provider) -> Result<Canned, String> {
    let order = Order::new(provider, CANNED_KEY);
    let client = http_client()?;
    let control = SimControl::new(NOW);
    let answer = |(status, body): (u16, Bytes)| Answer { status, body };
    match provider {
        Provider::Liquido => {
            let sim = preauth::liquido::simulator::Simulator::new(control);
            let server = sim.spawn().await.map_err(io)?;
            let base_url = server.base_url();
            let wire = baseline::liquido::LiquidoWire::for_simulator(&base_url);
            let (s, b) = send(&client, wire.token_request()?).await?;
            let token = wire.parse_token(s, &b)?;
            let authorize = answer(send(&client, wire.authorize(&order, &token)?).await?);
            wire.parse_authorize(
                authorize.status,
                &authorize.body,
                &order.key,
                order.currency,
            )?;
            let capture = answer(send(&client, wire.capture(&order.key, &token)).await?);
            wire.parse_capture(capture.status, &capture.body, &order.key, order.currency)?;
            let (webhook_headers, webhook_body) = sim
                .notification_for(&order.key)
                .ok_or("the simulator has no notification")?;
            Ok(Canned {
                provider,
                base_url,
                reference: order.key.clone(),
                order,
                token,
                authorize,
                capture,
                webhook_headers,
                webhook_body,
            })
        }
        Provider::Onerway => {
            let sim = preauth::onerway::simulator::Simulator::new(control);
            let server = sim.spawn().await.map_err(io)?;
            let base_url = server.base_url();
            let wire = baseline::onerway::OnerwayWire::for_simulator(&base_url);
            let authorize = answer(send(&client, wire.authorize(&order, NOW)?).await?);
            let hold = wire.parse_authorize(authorize.status, &authorize.body, &order)?;
            let capture =
                answer(send(&client, wire.capture(&order.capture_key, &hold.reference)?).await?);
            wire.parse_capture(capture.status, &capture.body, &hold)?;
            let (webhook_headers, webhook_body) = sim
                .notification_for(&hold.reference)
                .ok_or("the simulator has no notification")?;
            Ok(Canned {
                provider,
                base_url,
                reference: hold.reference,
                order,
                token: String::new(),
                authorize,
                capture,
                webhook_headers,
                webhook_body,
            })
        }
        Provider::YabandPay => {
            let sim = preauth::yabandpay::simulator::Simulator::new(control);
            let server = sim.spawn().await.map_err(io)?;
            let base_url = server.base_url();
            let wire = baseline::yabandpay::YabandPayWire::for_simulator(&base_url);
            let authorize = answer(send(&client, wire.authorize(&order, NOW)?).await?);
            let hold = wire.parse_authorize(authorize.status, &authorize.body, &order)?;
            let capture = answer(
                send(
                    &client,
                    wire.capture(&hold, order.currency, &order.capture_key, NOW)?,
                )
                .await?,
            );
            wire.parse_capture(capture.status, &capture.body, &hold)?;
            let (webhook_headers, webhook_body) = sim
                .notification_for(&hold.reference)
                .ok_or("the simulator has no notification")?;
            Ok(Canned {
                provider,
                base_url,
                reference: hold.reference,
                order,
                token: String::new(),
                authorize,
                capture,
                webhook_headers,
                webhook_body,
            })
        }
    }
}
