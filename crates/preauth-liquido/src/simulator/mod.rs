//! A stateful in-process fake of Liquido's HTTP API (feature `simulator`), faithful to the
//! docs where they speak and explicit where it had to choose.
//!
//! - `POST /oauth2/token`: checks `client_id`, `client_secret` and
//!   `grant_type=client_credentials` (400 `{"error":"invalid_client"}` otherwise, as Cognito
//!   answers), issues bearer tokens valid for 3600 s of the simulator's clock, and counts
//!   every token request ([`Simulator::token_requests`]).
//! - Every `/v1/...` call needs a live bearer token and the API key: 401 otherwise.
//! - `POST /v1/payments/charges/card`: validates the body as Liquido documents it (country,
//!   payment method, payer name rule, `expirationMonth` "09", `expirationYear` "2030", …; 400
//!   otherwise); a reused `idempotencyKey` returns the existing charge. Magic cards:
//!   [`cards::DECLINE`] → `FAILED` with `transferStatusCode` 2001 and a `transferErrorMsg`;
//!   [`cards::THREE_DS`] → `IN_PROGRESS` with `transferDetails.card.card3dsInfo.threeDsRedirectUrl`
//!   (a page of the simulator; [`Simulator::complete_three_ds`] does the same); any other valid
//!   card → `AUTHORIZED` (`capture: false`) or `SETTLED`.
//! - Capture: only `AUTHORIZED`, once, amount ≤ held (`finalAmount` = captured). Cancel: a card
//!   charge in `AUTHORIZED`, or `PIX_DYNAMIC_QR`/`BOLETO`/`PIC_PAY` in `IN_PROGRESS`.
//!   Refund: a `SETTLED` charge, up to what was captured and not refunded, in the charge's
//!   currency and country; the charge becomes `REFUNDED` once everything captured is refunded.
//! - Validity: a card authorization (or an unfinished 3-D Secure) older than
//!   [`crate::config::DEFAULT_HOLD_VALIDITY_SECS`] by the control
//!   clock becomes `EXPIRED` and can no longer be captured.
//! - Business refusals are HTTP 400 `{"code":400,"message":"…"}`; unknown charges 404.
//! - Notifications: after each transition the signed notification is POSTed to the request's
//!   `callbackUrl` when it is on loopback ([`Simulator::deliver_notification`]);
//!   [`Simulator::notification_for`] gives the same notification to a test directly.
//! - [`Simulator::ledger`]: every charge with how many captures took effect on it.

mod routes;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use preauth_core::HoldStatus;
use preauth_core::sim::{SimControl, SimServer};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::config::{DEFAULT_HOLD_VALIDITY_SECS, LiquidoConfig, LiquidoEnvironment};
use crate::convert::{TransferStatus, format_time};
use crate::sign;

/// The card numbers the simulator honours (the same as `preauth_testkit::harness::cards`).
pub mod cards {
    /// Approved.
    pub const APPROVE: &str = "4111111111111111";
    /// Declined by the issuer: `FAILED`, `transferStatusCode` 2001.
    pub const DECLINE: &str = "4000000000000002";
    /// Asks for 3-D Secure: `IN_PROGRESS` with a redirect URL.
    pub const THREE_DS: &str = "4000000000003220";
}

/// The client id the simulator accepts.
pub const CLIENT_ID: &str = "sim-liquido-client";
/// The client secret the simulator accepts (and signs notifications with).
pub const CLIENT_SECRET: &str = "sim-liquido-client-secret";
/// The API key the simulator accepts.
pub const API_KEY: &str = "sim-liquido-api-key";
/// How long a simulator token lives, in seconds.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;
/// The `transferStatusCode` of a declined card.
pub const DECLINE_CODE: i64 = 2001;

/// One charge as the simulator knows it (for checking a client's view against the truth).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LedgerEntry {
    /// The charge's `idempotencyKey` (both the merchant's and Liquido's reference).
    pub key: String,
    /// Its status in the common model.
    pub status: HoldStatus,
    /// Its `transferStatus`.
    pub raw_status: &'static str,
    /// How many captures took effect on it.
    pub captures: u32,
}

/// The fake Liquido. Clones share state.
#[derive(Clone, Debug)]
pub struct Simulator {
    state: Arc<Mutex<SimState>>,
    control: SimControl,
}

#[derive(Debug, Default)]
pub(crate) struct SimState {
    pub(crate) charges: BTreeMap<String, SimCharge>,
    pub(crate) refunds: BTreeMap<String, SimRefund>,
    pub(crate) tokens: BTreeMap<String, OffsetDateTime>,
    pub(crate) saved_cards: BTreeMap<String, SimCard>,
    pub(crate) token_requests: u64,
    pub(crate) deliveries: u64,
    pub(crate) next_id: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct SimCard {
    pub(crate) holder: String,
    pub(crate) brand: &'static str,
    pub(crate) bin: String,
    pub(crate) last4: String,
    pub(crate) exp_month: i64,
    pub(crate) exp_year: i64,
    pub(crate) card_id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct SimThreeDs {
    pub(crate) merchant_site: Option<String>,
    pub(crate) redirect_url: String,
}

#[derive(Debug, Clone)]
pub(crate) struct SimCharge {
    pub(crate) key: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) country: String,
    pub(crate) payment_method: String,
    pub(crate) capture: bool,
    pub(crate) status: TransferStatus,
    pub(crate) status_code: i64,
    pub(crate) error_msg: Option<String>,
    pub(crate) captured: Option<i64>,
    /// Captures that took effect (a ledger for double-capture checks).
    pub(crate) captures: u32,
    pub(crate) refunded: i64,
    pub(crate) created: OffsetDateTime,
    pub(crate) final_status_time: Option<OffsetDateTime>,
    pub(crate) payer: Option<Value>,
    pub(crate) description: Option<String>,
    pub(crate) callback_url: Option<String>,
    pub(crate) sub_merchant_id: Option<String>,
    pub(crate) card: Option<SimCard>,
    pub(crate) three_ds: Option<SimThreeDs>,
}

#[derive(Debug, Clone)]
pub(crate) struct SimRefund {
    pub(crate) key: String,
    pub(crate) reference_id: String,
    pub(crate) payment_method: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) country: String,
    pub(crate) description: Option<String>,
    pub(crate) callback_url: Option<String>,
    pub(crate) created: OffsetDateTime,
}

pub(crate) fn is_card_method(m: &str) -> bool {
    matches!(m, "CREDIT_CARD" | "CARD" | "DEBIT_CARD")
}

impl SimCharge {
    /// Applies the validity window at `now`.
    pub(crate) fn refresh(&mut self, now: OffsetDateTime, validity: Duration) {
        let lapses = is_card_method(&self.payment_method)
            && matches!(
                self.status,
                TransferStatus::Authorized | TransferStatus::InProgress
            );
        if lapses && now >= self.created + validity {
            self.status = TransferStatus::Expired;
            self.final_status_time = Some(self.created + validity);
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let time = |t: OffsetDateTime| format_time(t);
        let final_amount = self.captured.unwrap_or(self.amount);
        let mut details = serde_json::Map::new();
        if let Some(card) = &self.card {
            let mut c = json!({
                "cardInfo": {
                    "cardHolderName": card.holder,
                    "expirationMonth": card.exp_month,
                    "expirationYear": card.exp_year,
                    "brand": card.brand,
                    "bin": card.bin,
                    "last4": card.last4,
                },
                "cardId": card.card_id,
            });
            if let (Some(tds), Some(obj)) = (&self.three_ds, c.as_object_mut()) {
                obj.insert(
                    "card3dsInfo".into(),
                    json!({
                        "use3ds": true,
                        "merchantSite3ds": tds.merchant_site,
                        "threeDsRedirectUrl": tds.redirect_url,
                    }),
                );
            }
            details.insert("card".into(), c);
        } else if self.payment_method == "PIX_DYNAMIC_QR" {
            details.insert(
                "pix".into(),
                json!({
                    "qrCode": format!("00020101021226580014BR.GOV.BCB.PIX0136{}", self.key),
                    "qrCodeType": "DYNAMIC",
                    "expirationTime": time(self.created + Duration::from_secs(86_400)),
                }),
            );
        }
        json!({
            "transferStatusCode": self.status_code,
            "transferErrorMsg": self.error_msg,
            "idempotencyKey": self.key,
            "referenceId": self.key,
            "paymentMethod": self.payment_method,
            "paymentFlow": "DIRECT",
            "amount": self.amount,
            "currency": self.currency,
            "finalAmount": final_amount,
            "finalCurrency": self.currency,
            "country": self.country,
            "createTime": time(self.created),
            "scheduledTime": time(self.created),
            "finalStatusTime": self.final_status_time.map(time),
            "payer": self.payer,
            "transferStatus": self.status.as_str(),
            "description": self.description,
            "callbackUrl": self.callback_url,
            "subMerchantId": self.sub_merchant_id,
            "transferDetails": Value::Object(details),
        })
    }
}

/// A notification before it is signed: where it goes, its event name, its `chargeDetails`.
#[derive(Debug, Clone)]
pub(crate) struct Note {
    pub(crate) callback_url: Option<String>,
    pub(crate) event: &'static str,
    pub(crate) details: Value,
}

impl SimCharge {
    /// The notification about this charge as it is now. Event names: `CHARGE_SUCCEEDED` for
    /// `IN_PROGRESS`, `AUTHORIZED`, `SETTLED`, `REFUNDING` and `REFUNDED`; `CHARGE_FAILED`
    /// for `FAILED`, `CANCELLED` and `EXPIRED`; `CHARGE_CHARGED_BACK`. `None` in
    /// `INITIAL_STATUS`.
    pub(crate) fn note(&self) -> Option<Note> {
        let event = match self.status {
            TransferStatus::InitialStatus => return None,
            TransferStatus::InProgress
            | TransferStatus::Authorized
            | TransferStatus::Settled
            | TransferStatus::Refunding
            | TransferStatus::Refunded => "CHARGE_SUCCEEDED",
            TransferStatus::Failed | TransferStatus::Cancelled | TransferStatus::Expired => {
                "CHARGE_FAILED"
            }
            TransferStatus::ChargedBack => "CHARGE_CHARGED_BACK",
        };
        Some(Note {
            callback_url: self.callback_url.clone(),
            event,
            details: self.to_json(),
        })
    }
}

impl SimRefund {
    /// The `CHARGE_REFUND_SUCCEEDED` notification about this refund.
    pub(crate) fn note(&self) -> Note {
        Note {
            callback_url: self.callback_url.clone(),
            event: "CHARGE_REFUND_SUCCEEDED",
            details: self.to_json(),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "transferStatusCode": 200,
            "transferErrorMsg": null,
            "idempotencyKey": self.key,
            "referenceId": self.reference_id,
            "paymentMethod": self.payment_method,
            "amount": self.amount,
            "currency": self.currency,
            "country": self.country,
            "finalAmount": self.amount,
            "finalCurrency": self.currency,
            "createTime": format_time(self.created),
            "scheduledTime": format_time(self.created),
            "finalStatusTime": format_time(self.created),
            "transferStatus": "SETTLED",
            "description": self.description,
            "callbackUrl": self.callback_url,
        })
    }
}

impl Simulator {
    /// A simulator with no charges, driven by `control`.
    pub fn new(control: SimControl) -> Self {
        Simulator {
            state: Arc::new(Mutex::new(SimState::default())),
            control,
        }
    }

    /// The clock, faults and request count shared with the harness.
    pub fn control(&self) -> &SimControl {
        &self.control
    }

    /// The fake API.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    /// Serves the fake API on a free loopback port, behind the fault layer.
    ///
    /// # Errors
    /// The I/O error when no port can be bound.
    pub async fn spawn(&self) -> std::io::Result<SimServer> {
        SimServer::spawn(self.router(), self.control.clone()).await
    }

    /// A configuration with the credentials the simulator accepts, pointed at `base_url`
    /// (token URL `{base_url}/oauth2/token`).
    pub fn config(&self, base_url: &str) -> LiquidoConfig {
        let base = base_url.trim_end_matches('/');
        LiquidoConfig::new(CLIENT_ID, CLIENT_SECRET, API_KEY).with_environment(
            LiquidoEnvironment::Custom {
                auth_url: format!("{base}/oauth2/token"),
                api_url: base.to_owned(),
            },
        )
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        use preauth_core::Clock;
        self.control.clock.now()
    }

    pub(crate) fn validity(&self) -> Duration {
        Duration::from_secs(DEFAULT_HOLD_VALIDITY_SECS)
    }

    /// How many requests reached the token endpoint.
    pub fn token_requests(&self) -> u64 {
        self.lock().token_requests
    }

    /// Every charge the simulator holds, in key order, brought up to date with the clock.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        let now = self.now();
        let validity = self.validity();
        let mut st = self.lock();
        st.charges
            .values_mut()
            .map(|c| {
                c.refresh(now, validity);
                LedgerEntry {
                    key: c.key.clone(),
                    status: c.status.hold_status(
                        c.status == TransferStatus::InProgress && c.three_ds.is_some(),
                    ),
                    raw_status: c.status.as_str(),
                    captures: c.captures,
                }
            })
            .collect()
    }

    /// The access tokens issued so far (for tests that check no token leaks).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().tokens.keys().cloned().collect()
    }

    /// Invalidates every issued token, so the next API call answers 401.
    pub fn revoke_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// The payer passes 3-D Secure for the charge `provider_reference`: an `IN_PROGRESS`
    /// card charge becomes `AUTHORIZED` (`SETTLED` when it was a sale). `false` when there is
    /// no such charge awaiting 3-D Secure.
    pub fn complete_three_ds(&self, provider_reference: &str) -> bool {
        let now = self.now();
        let validity = self.validity();
        let mut st = self.lock();
        let Some(c) = st.charges.get_mut(provider_reference) else {
            return false;
        };
        c.refresh(now, validity);
        if c.status != TransferStatus::InProgress || c.three_ds.is_none() {
            return false;
        }
        if c.capture {
            c.status = TransferStatus::Settled;
            c.captured = Some(c.amount);
            c.captures += 1;
            c.final_status_time = Some(now);
        } else {
            c.status = TransferStatus::Authorized;
        }
        let note = c.note();
        drop(st);
        if let Some(note) = note {
            self.deliver(note);
        }
        true
    }

    /// Adds a `PIX_DYNAMIC_QR` charge awaiting payment (`IN_PROGRESS`), which Liquido lets the
    /// merchant cancel (seed 003).
    pub fn create_pix_charge(&self, key: &str, amount_minor: i64) {
        let now = self.now();
        let charge = SimCharge {
            key: key.to_owned(),
            amount: amount_minor,
            currency: "BRL".into(),
            country: "BR".into(),
            payment_method: "PIX_DYNAMIC_QR".into(),
            capture: true,
            status: TransferStatus::InProgress,
            status_code: 200,
            error_msg: None,
            captured: None,
            captures: 0,
            refunded: 0,
            created: now,
            final_status_time: None,
            payer: None,
            description: None,
            callback_url: None,
            sub_merchant_id: None,
            card: None,
            three_ds: None,
        };
        self.lock().charges.insert(key.to_owned(), charge);
    }

    /// The payer disputes a settled charge: it becomes `CHARGED_BACK`. `false` when it is not
    /// settled.
    pub fn charge_back(&self, provider_reference: &str) -> bool {
        let now = self.now();
        let note = match self.lock().charges.get_mut(provider_reference) {
            Some(c) if c.status == TransferStatus::Settled => {
                c.status = TransferStatus::ChargedBack;
                c.final_status_time = Some(now);
                c.note()
            }
            _ => return false,
        };
        if let Some(note) = note {
            self.deliver(note);
        }
        true
    }

    /// The notification Liquido would send now about the charge or refund
    /// `provider_reference`, signed with the client secret (or a wrong key when the fault
    /// plan asks for a bad signature): headers and raw body.
    ///
    /// Event names: `CHARGE_SUCCEEDED` for `IN_PROGRESS`, `AUTHORIZED`, `SETTLED`, `REFUNDING`
    /// and `REFUNDED` charges (Liquido documents no event of its own for authorizations,
    /// captures or cancels, and sends `CHARGE_SUCCEEDED` even for payments in progress);
    /// `CHARGE_FAILED` for `FAILED`, `CANCELLED` and `EXPIRED`; `CHARGE_CHARGED_BACK`;
    /// `CHARGE_REFUND_SUCCEEDED` for a refund. `None` for an unknown reference or a charge in
    /// `INITIAL_STATUS`.
    #[allow(clippy::type_complexity)]
    pub fn notification_for(
        &self,
        provider_reference: &str,
    ) -> Option<(Vec<(String, String)>, Vec<u8>)> {
        let note = self.notification_parts(provider_reference)?;
        let (signature, body) = self.sign_notification(note.event, &note.details)?;
        Some((
            vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                (sign::SIGNATURE_HEADER.to_owned(), signature),
            ],
            body,
        ))
    }

    /// The callback URL, event name and `chargeDetails` of the notification about a charge or
    /// refund as it is now.
    fn notification_parts(&self, provider_reference: &str) -> Option<Note> {
        let now = self.now();
        let validity = self.validity();
        let mut st = self.lock();
        if let Some(r) = st.refunds.get(provider_reference) {
            return Some(r.note());
        }
        let c = st.charges.get_mut(provider_reference)?;
        c.refresh(now, validity);
        c.note()
    }

    /// The body `{"eventType", "data": {"chargeDetails"}}` and its `Liquido-Signature` at the
    /// control clock's now (a wrong key when the fault plan asks for a bad signature).
    fn sign_notification(&self, event: &str, details: &Value) -> Option<(String, Vec<u8>)> {
        let body = serde_json::to_vec(&json!({
            "eventType": event,
            "data": { "chargeDetails": details },
        }))
        .ok()?;
        let secret = if self.control.faults.take_bad_signature() {
            "not-the-client-secret"
        } else {
            CLIENT_SECRET
        };
        let header = sign::signature_header(secret, &body, self.now().unix_timestamp());
        Some((header, body))
    }

    /// Delivers the notification about `provider_reference` as it is now to the
    /// `callbackUrl` of its request (again: Liquido retries deliveries). The simulator does
    /// this by itself after each transition, with the state of that moment: a charge
    /// authorized, declined or settled at creation, authorized after 3-D Secure, captured,
    /// cancelled or charged back, and each refund (`CHARGE_REFUND_SUCCEEDED`, to the refund's
    /// `callbackUrl`). Nothing is sent for a request without a `callbackUrl`, for a URL off
    /// loopback (a simulator never sends traffic off the machine), outside a Tokio runtime,
    /// for a charge created awaiting 3-D Secure (nothing happened yet) or for a lapse of
    /// validity (found lazily, not at the moment it happens).
    ///
    /// Returns whether a delivery was started; it runs in the background through
    /// [`preauth_core::sim::deliver_notification`] and never delays the API answer.
    pub fn deliver_notification(&self, provider_reference: &str) -> bool {
        self.notification_parts(provider_reference)
            .is_some_and(|note| self.deliver(note))
    }

    /// Signs `note` and sends it to its callback URL in the background (see
    /// [`Simulator::deliver_notification`]).
    pub(crate) fn deliver(&self, note: Note) -> bool {
        let Note {
            callback_url: Some(url),
            event,
            details,
        } = note
        else {
            return false;
        };
        // Checked before signing, so an undeliverable notification does not use up a
        // BadSignature fault meant for a delivered one.
        if tokio::runtime::Handle::try_current().is_err() || !is_loopback_url(&url) {
            return false;
        }
        let Some((signature, body)) = self.sign_notification(event, &details) else {
            return false;
        };
        self.lock().deliveries += 1;
        preauth_core::sim::deliver_notification(
            &url,
            vec![(sign::SIGNATURE_HEADER, signature)],
            "application/json",
            body,
        );
        true
    }

    /// How many notifications the simulator has started to deliver to callback URLs.
    pub fn deliveries(&self) -> u64 {
        self.lock().deliveries
    }
}

/// Whether `url` points at this machine (`127.0.0.0/8`, `::1` or `localhost`).
fn is_loopback_url(url: &str) -> bool {
    url::Url::parse(url).ok().is_some_and(|u| match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    })
}
