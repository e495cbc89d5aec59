//! A stateful in-process fake of the Onerway acquiring API (feature `simulator`), faithful to
//! the documented rules:
//!
//! - every request must be `Content-Type: application/json` and carry this merchant's
//!   `merchantNo` and a valid `sign` (SHA-256 over the sorted values plus the secret key);
//!   anything else is refused the way Onerway refuses: HTTP 200 with a `respCode` other than
//!   `20000` and a `respMsg`;
//! - a `merchantTxnId` can be used once (a reused one is refused, never deduplicated);
//! - `products` must add up to `orderAmount`; `appId` must be the merchant's;
//! - CAPTURE takes the full amount only (there is no amount field), once, within **3 days**
//!   of the authorization by [`SimControl::clock`]; past that the AUTH is closed (status `N`)
//!   and capture is refused; VOID only before capture;
//! - refunds go against the CAPTURE, up to what was captured, and wait in audit (status `I`)
//!   until [`Simulator::audit_refund`];
//! - magic cards: [`cards::DECLINE`] is declined (status `F` with a `reason`),
//!   [`cards::THREE_DS`] asks for a 3-D Secure redirect (status `R`, `actionType`
//!   `RedirectURL`) until [`Simulator::complete_three_ds`]; any other valid card is approved;
//! - after every result it sends a signed notification to the AUTH's `txnOrderMsg.notifyUrl`
//!   (follow-ups use their AUTH's): `TXN` for an AUTH that succeeded or failed (not while the
//!   payer is challenged), a CAPTURE, a VOID, an audited REFUND; `REFUND_AUDIT` for a refund
//!   the audit refused. Loopback URLs only ([`deliver_notification`]); signed with a wrong key
//!   when [`Fault::BadSignature`](preauth_core::sim::Fault::BadSignature) is planned;
//! - [`Simulator::ledger`] lists every hold with the captures that took effect on it.
//!
//! Error codes: the docs' appendix was only partly readable. The simulator uses the
//! documented codes where one fits ([`codes`]) and codes of its own otherwise; only the
//! envelope (a `respCode` other than `20000` with a `respMsg`) is documented behaviour.

mod http;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use preauth_core::sim::{SimControl, SimServer, deliver_notification};
use preauth_core::{Clock, HoldStatus, Money};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use time::{OffsetDateTime, UtcOffset};

use crate::config::{OnerwayConfig, OnerwayEnvironment, format_offset};
use crate::convert::{HOLD_VALIDITY, format_time};
use crate::webhook::notification_sign;

/// The merchant number the simulator accepts by default.
pub const SIM_MERCHANT_NO: &str = "800209";
/// The app id the simulator accepts by default.
pub const SIM_APP_ID: &str = "1739545982264549376";
/// The secret key the simulator signs and verifies with by default.
pub const SIM_SECRET_KEY: &str = "sim0nerwaysecretkey0000000000001";

/// Card numbers with a fixed outcome (the workspace's magic cards; all pass Luhn).
pub mod cards {
    /// Approved.
    pub const APPROVE: &str = "4111111111111111";
    /// Declined by the issuer: status `F`.
    pub const DECLINE: &str = "4000000000000002";
    /// 3-D Secure: status `R` with a redirect, authorized once the challenge is completed.
    pub const THREE_DS: &str = "4000000000003220";
}

/// The `respCode`s the simulator answers.
pub mod codes {
    /// Success.
    pub const SUCCESS: &str = "20000";
    /// Documented: "Transaction ID is incorrect" (unknown `originTransactionId`).
    pub const TRANSACTION_ID_INCORRECT: &str = "12007";
    /// Documented: invalid `appId`.
    pub const INVALID_APP_ID: &str = "13001";
    /// Documented: invalid card number.
    pub const INVALID_CARD_NUMBER: &str = "13002";
    /// Documented: the card has expired.
    pub const CARD_EXPIRED: &str = "13004";
    /// Documented: the year must have 2 or 4 digits.
    pub const INVALID_YEAR: &str = "13005";
    /// Documented: invalid state (capture after void, after expiry, twice; void after
    /// capture; refund beyond what was captured).
    pub const INVALID_STATE: &str = "13006";
    /// Simulator's own: the signature does not verify.
    pub const SIGN_INVALID: &str = "13010";
    /// Simulator's own: the `merchantTxnId` was used before.
    pub const DUPLICATE_MERCHANT_TXN_ID: &str = "13011";
    /// Simulator's own: `products` do not add up to `orderAmount`.
    pub const PRODUCTS_MISMATCH: &str = "13012";
    /// Simulator's own: a required parameter is missing.
    pub const MISSING_PARAMETER: &str = "13013";
    /// Simulator's own: unknown `merchantNo`.
    pub const INVALID_MERCHANT: &str = "13014";
    /// Simulator's own: `Content-Type` is not exactly `application/json`.
    pub const CONTENT_TYPE: &str = "13015";
    /// Simulator's own: a parameter has a value Onerway would not accept.
    pub const INVALID_PARAMETER: &str = "13016";
    /// Simulator's own issuer decline, inside the `reason` of a status `F` transaction.
    pub const DO_NOT_HONOR: &str = "30005";
}

/// A notification as delivered: headers (name, value) and the raw body.
pub type Delivery = (Vec<(String, String)>, Vec<u8>);

/// One transaction, as Onerway keeps it.
#[derive(Debug, Clone)]
struct Txn {
    id: String,
    merchant_txn_id: String,
    /// `AUTH`, `CAPTURE`, `VOID` or `REFUND`.
    kind: &'static str,
    origin: Option<String>,
    origin_merchant_txn_id: Option<String>,
    /// `TxnStatusEnum` letter.
    status: &'static str,
    reason: Option<(&'static str, String)>,
    amount: Money,
    created: OffsetDateTime,
    zone: UtcOffset,
    card_masked: Option<String>,
    holder_name: Option<String>,
    redirect_url: Option<String>,
    action_type: Option<&'static str>,
    return_url: Option<String>,
    eci: Option<&'static str>,
    /// Where notifications about this transaction go: the AUTH's `txnOrderMsg.notifyUrl`
    /// (follow-ups inherit it).
    notify_url: Option<String>,
}

#[derive(Debug)]
struct State {
    merchant_no: String,
    app_id: String,
    secret: SecretString,
    txns: BTreeMap<String, Txn>,
    by_merchant_txn_id: BTreeMap<String, String>,
    /// AUTHs in status `S` with no capture or void yet (the ones that can expire).
    open_auths: BTreeSet<String>,
    /// AUTH id -> its successful CAPTURE.
    captured_by: BTreeMap<String, String>,
    /// AUTH id -> its successful VOID.
    voided_by: BTreeMap<String, String>,
    next_id: u64,
}

impl State {
    fn next_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    fn insert(&mut self, txn: Txn) {
        self.by_merchant_txn_id
            .insert(txn.merchant_txn_id.clone(), txn.id.clone());
        if txn.status == "S" {
            match (txn.kind, &txn.origin) {
                ("AUTH", _) => {
                    self.open_auths.insert(txn.id.clone());
                }
                ("CAPTURE", Some(auth)) => {
                    self.open_auths.remove(auth);
                    self.captured_by.insert(auth.clone(), txn.id.clone());
                }
                ("VOID", Some(auth)) => {
                    self.open_auths.remove(auth);
                    self.voided_by.insert(auth.clone(), txn.id.clone());
                }
                _ => {}
            }
        }
        self.txns.insert(txn.id.clone(), txn);
    }

    /// The successful CAPTURE (`kind` `CAPTURE`) or VOID of `auth`.
    fn done(&self, auth: &str, kind: &str) -> Option<&Txn> {
        let by = if kind == "CAPTURE" {
            &self.captured_by
        } else {
            &self.voided_by
        };
        by.get(auth).and_then(|id| self.txns.get(id))
    }

    /// Closes uncaptured authorizations past their validity (status `N`).
    fn expire(&mut self, now: OffsetDateTime) {
        let due: Vec<String> = self
            .open_auths
            .iter()
            .filter(|id| {
                self.txns
                    .get(*id)
                    .is_some_and(|t| now >= t.created + HOLD_VALIDITY)
            })
            .cloned()
            .collect();
        for id in due {
            self.open_auths.remove(&id);
            if let Some(t) = self.txns.get_mut(&id) {
                t.status = "N";
                t.reason = Some((
                    codes::INVALID_STATE,
                    "The authorization expired uncaptured".into(),
                ));
            }
        }
    }

    /// Every AUTH with the status the merchant should see and its successful captures.
    fn holds(&self) -> Vec<SimHold> {
        self.txns
            .values()
            .filter(|t| t.kind == "AUTH")
            .map(|t| {
                // A void leaves the AUTH itself `S`: look at the follow-ups first.
                let status = match (
                    t.status,
                    self.captured_by.contains_key(&t.id),
                    self.voided_by.contains_key(&t.id),
                ) {
                    (_, true, _) => HoldStatus::Captured,
                    (_, false, true) => HoldStatus::Cancelled,
                    ("S", false, false) => HoldStatus::Authorized,
                    ("F", false, false) => HoldStatus::Declined,
                    ("R", false, false) => HoldStatus::RequiresAction,
                    ("N", false, false) => HoldStatus::Expired,
                    _ => HoldStatus::Pending,
                };
                SimHold {
                    merchant_reference: t.merchant_txn_id.clone(),
                    provider_reference: t.id.clone(),
                    status,
                    captures: u32::from(self.captured_by.contains_key(&t.id)),
                }
            })
            .collect()
    }
}

/// One hold as the simulator knows it (for checking a client's view against the truth).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimHold {
    /// The AUTH's `merchantTxnId`.
    pub merchant_reference: String,
    /// The AUTH's `transactionId`.
    pub provider_reference: String,
    /// The hold's status as the simulator sees it.
    pub status: HoldStatus,
    /// How many captures took effect (Onerway allows one).
    pub captures: u32,
}

/// The simulator: shared state plus the [`SimControl`] (clock, faults, request count).
/// Cheap to clone; clones share the state.
#[derive(Clone, Debug)]
pub struct Simulator {
    state: Arc<Mutex<State>>,
    control: SimControl,
}

impl Simulator {
    /// A simulator for the default merchant ([`SIM_MERCHANT_NO`], [`SIM_APP_ID`],
    /// [`SIM_SECRET_KEY`]).
    pub fn new(control: SimControl) -> Self {
        Self::with_credentials(control, SIM_MERCHANT_NO, SIM_APP_ID, SIM_SECRET_KEY)
    }

    /// A simulator for another merchant.
    pub fn with_credentials(
        control: SimControl,
        merchant_no: &str,
        app_id: &str,
        secret_key: &str,
    ) -> Self {
        Simulator {
            state: Arc::new(Mutex::new(State {
                merchant_no: merchant_no.to_owned(),
                app_id: app_id.to_owned(),
                secret: SecretString::from(secret_key.to_owned()),
                txns: BTreeMap::new(),
                by_merchant_txn_id: BTreeMap::new(),
                open_auths: BTreeSet::new(),
                captured_by: BTreeMap::new(),
                voided_by: BTreeMap::new(),
                next_id: 1_815_983_598_810_300_000,
            })),
            control,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> OffsetDateTime {
        self.control.clock.now()
    }

    /// The clock, faults and request count.
    pub fn control(&self) -> &SimControl {
        &self.control
    }

    /// The fake API.
    pub fn router(&self) -> axum::Router {
        http::router(self.clone())
    }

    /// Serves [`router`](Self::router) on a loopback port behind the fault layer.
    ///
    /// # Errors
    /// The I/O error when no port can be bound.
    pub async fn spawn(&self) -> std::io::Result<SimServer> {
        SimServer::spawn(self.router(), self.control.clone()).await
    }

    /// A configuration the simulator accepts, pointed at `base_url` (a custom environment).
    pub fn config(&self, base_url: &str) -> OnerwayConfig {
        let st = self.lock();
        OnerwayConfig::new(
            st.merchant_no.clone(),
            st.app_id.clone(),
            st.secret.expose_secret().to_owned(),
        )
        .with_environment(OnerwayEnvironment::Custom {
            base_url: base_url.to_owned(),
        })
    }

    /// The payer passes 3-D Secure: the AUTH `provider_reference` in status `R` becomes `S`.
    /// `false` when there is no such AUTH waiting for the payer.
    pub fn complete_three_ds(&self, provider_reference: &str) -> bool {
        let done = {
            let mut guard = self.lock();
            let st = &mut *guard;
            match st.txns.get_mut(provider_reference) {
                Some(t) if t.kind == "AUTH" && t.status == "R" => {
                    t.status = "S";
                    t.redirect_url = None;
                    t.action_type = None;
                    t.eci = Some("05");
                    t.reason = Some((codes::SUCCESS, "Success".into()));
                    st.open_auths.insert(provider_reference.to_owned());
                    true
                }
                _ => false,
            }
        };
        if done {
            self.notify(provider_reference);
        }
        done
    }

    /// The ledger: every hold (AUTH) the simulator knows, as it sees it now, with how many
    /// captures took effect on it. A test harness maps it to the soak's ledger entries.
    pub fn ledger(&self) -> Vec<SimHold> {
        self.holds()
    }

    /// Every hold (AUTH) the simulator knows, as it sees it now.
    pub fn holds(&self) -> Vec<SimHold> {
        let now = self.now();
        let mut st = self.lock();
        st.expire(now);
        st.holds()
    }

    /// Onerway's audit of the refund `refund_reference`: approved (`S`) or refused (`F`).
    /// `false` when there is no such refund in audit.
    pub fn audit_refund(&self, refund_reference: &str, approve: bool) -> bool {
        let done = {
            let mut st = self.lock();
            match st.txns.get_mut(refund_reference) {
                Some(t) if t.kind == "REFUND" && t.status == "I" => {
                    t.status = if approve { "S" } else { "F" };
                    if !approve {
                        t.reason = Some((codes::INVALID_STATE, "Refund audit refused".into()));
                    }
                    true
                }
                _ => false,
            }
        };
        if done {
            self.notify(refund_reference);
        }
        done
    }

    /// The notification Onerway would send now about `provider_reference`: for an AUTH, about
    /// its successful CAPTURE or VOID when there is one, else about the AUTH itself; for any
    /// other transaction, about it. Signed with the merchant's key, or with a wrong one when
    /// [`FaultPlan::take_bad_signature`](preauth_core::sim::FaultPlan::take_bad_signature)
    /// says so. Headers and raw JSON body; `None` for an unknown reference.
    pub fn notification_for(&self, provider_reference: &str) -> Option<Delivery> {
        let now = self.now();
        let mut st = self.lock();
        st.expire(now);
        let txn = st.txns.get(provider_reference)?;
        let target = if txn.kind == "AUTH" {
            st.done(&txn.id, "CAPTURE")
                .or_else(|| st.done(&txn.id, "VOID"))
                .unwrap_or(txn)
        } else {
            txn
        };
        let body = self.notification_body(&st, target, "TXN", now)?;
        Some((
            vec![("content-type".to_owned(), "application/json".to_owned())],
            body,
        ))
    }

    /// Delivers the notification about the transaction `id` (as it is now) to its
    /// `notifyUrl`, the way Onerway does after every result: a `TXN` notification for an AUTH
    /// that succeeded or failed (not while it waits for 3-D Secure), a CAPTURE, a VOID, a
    /// REFUND once audited; `REFUND_AUDIT` for a refund the audit refused. Sent in the
    /// background through [`deliver_notification`] (loopback URLs only); nothing happens
    /// without a notify URL or outside a Tokio runtime.
    fn notify(&self, id: &str) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let now = self.now();
        let pending = {
            let st = self.lock();
            let Some(txn) = st.txns.get(id) else {
                return;
            };
            let Some(url) = txn.notify_url.clone().filter(|u| is_loopback(u)) else {
                return;
            };
            let notify_type = match (txn.kind, txn.status) {
                (_, "R" | "P" | "U") | ("REFUND", "I") => return,
                ("REFUND", "F") => "REFUND_AUDIT",
                _ => "TXN",
            };
            self.notification_body(&st, txn, notify_type, now)
                .map(|body| (url, body))
        };
        if let Some((url, body)) = pending {
            deliver_notification(&url, Vec::new(), "application/json", body);
        }
    }

    /// The signed JSON body of a `notify_type` notification about `target`.
    fn notification_body(
        &self,
        st: &State,
        target: &Txn,
        notify_type: &str,
        now: OffsetDateTime,
    ) -> Option<Vec<u8>> {
        let mut fields: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut put = |k: &str, v: Option<String>| {
            fields.insert(k.to_owned(), v);
        };
        put("notifyType", Some(notify_type.into()));
        put("transactionId", Some(target.id.clone()));
        put("txnType", Some(target.kind.into()));
        put("merchantNo", Some(st.merchant_no.clone()));
        put("merchantTxnId", Some(target.merchant_txn_id.clone()));
        put("originTransactionId", target.origin.clone());
        put("originMerchantTxnId", target.origin_merchant_txn_id.clone());
        put("responseTime", Some(format_time(now, target.zone)));
        put("txnTime", Some(format_time(target.created, target.zone)));
        put("txnTimeZone", Some(format_offset(target.zone)));
        put("orderAmount", Some(target.amount.to_major_string()));
        put(
            "orderCurrency",
            Some(target.amount.currency().code().into()),
        );
        put("txnAmount", Some(String::new()));
        put("status", Some(target.status.into()));
        put("reason", reason_text(target));
        put("paymentMethod", Some("VISA".into()));
        put("cardBinCountry", Some("US".into()));
        put("eci", target.eci.map(str::to_owned));
        let secret = if self.control.faults.take_bad_signature() {
            SecretString::from(format!("not-{}", st.secret.expose_secret()))
        } else {
            st.secret.clone()
        };
        let sign = notification_sign(&fields, &secret);
        let mut body = serde_json::Map::new();
        for (k, v) in fields {
            body.insert(k, v.map_or(Value::Null, Value::String));
        }
        body.insert("sign".into(), Value::String(sign));
        serde_json::to_vec(&Value::Object(body)).ok()
    }
}

/// Whether `url` is on this machine (the only place a simulator sends notifications).
fn is_loopback(url: &str) -> bool {
    url::Url::parse(url).ok().is_some_and(|u| match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    })
}

fn reason_text(t: &Txn) -> Option<String> {
    t.reason
        .as_ref()
        .map(|(code, msg)| json!({"respCode": code, "respMsg": msg}).to_string())
}
