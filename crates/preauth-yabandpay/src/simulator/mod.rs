//! A stateful in-process fake of the YabandPay API (feature `simulator`), faithful to the
//! docs where they speak and explicit where it has to invent.
//!
//! One endpoint, `POST /Payments`, dispatching on `method` like the real one. Every request
//! is checked as YabandPay documents it, in this order:
//!
//! | check | answer |
//! |---|---|
//! | the body is a JSON envelope with `user`, `sign`, `method`, `time`, `data` | `-3001` Required field is missing |
//! | `user` is the simulator's cashier ([`SIM_USER`]) | `-2001` The user not exist |
//! | `sign` is the HMAC-SHA256 of the sorted `k=v&…` string under [`SIM_SECRET_KEY`] | `-403` The signature Error |
//! | the method's required `data` fields are present and non-empty | `-3001` Required field is missing |
//! | `request_id` was not used before (by a request that succeeded) | `-4118` Incorrect request ID |
//! | `trade_id` / `refund_id` exists | `-4024` The original trade ID is incorrect |
//! | the rules: one capture per hold, capture ≤ held, decrement leaves something held, same currency, 30-day validity, refunds ≤ captured and fewer than 30 | [`RULE_CODE`] with a message (the docs publish no code for these: **invented**) |
//!
//! Magic cards (the card number in `cardinfo`): [`cards::APPROVE`] is authorized at once,
//! [`cards::DECLINE`] answers `state: "declined"`, [`cards::THREE_DS`] answers
//! `state: "pending"` with a `url` to the simulator's 3-D Secure page
//! (`GET /threeds/{trade_id}` passes the challenge and links back to `redirect_url`, or call
//! [`Simulator::complete_three_ds`]), after which the hold is
//! `authorized`. Time is [`SimControl::clock`]: an authorized hold is `expired` 30 days after
//! it was authorized, a pending one after its `timeout` minutes. Faults are applied by
//! [`SimServer`]'s layer.
//!
//! Notifications: every transition is notified as YabandPay does, signed over `data`, to the
//! `notify_url` of the request that caused it (authorized / declined for an authorization,
//! authorized with the new amount for a decrement, paid for a capture, cancelled for a cancel,
//! `type: refund` / `refunded` for a refund to its own or the order's URL, authorized when the
//! payer passes 3-D Secure). They are delivered with [`deliver_notification`], so only to
//! loopback URLs, as JSON `{"sign","data"}` or as a `resultData=` form body
//! ([`Simulator::set_notify_format`]). [`Simulator::notification_for`] gives the payment
//! notification of an order on demand. A notification is signed with a wrong key when
//! [`FaultPlan::take_bad_signature`](preauth_core::sim::FaultPlan::take_bad_signature) says so.
//!
//! The decrement follows this crate's reading of the docs: `amount` is the reduction, and the
//! answer's `amount` is what is held afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use preauth_core::sim::{SimControl, SimServer, deliver_notification};
use preauth_core::webhook::signature_matches;
use preauth_core::{Currency, HoldStatus, Money};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::config::YabandPayConfig;
use crate::convert::HOLD_VALIDITY;
use crate::sign;
use crate::webhook::FORM_FIELD;
use crate::wire::method;

/// The cashier UID the simulator knows (the docs' example UID).
pub const SIM_USER: &str = "016683";

/// The secret key the simulator signs and verifies with.
pub const SIM_SECRET_KEY: &str = "yabandpay-simulator-secret-key";

/// The code of rule violations the docs publish no code for. **Invented** by the simulator.
pub const RULE_CODE: &str = "-4000";

/// Card numbers the simulator honours (the workspace's magic cards; all pass the Luhn check).
pub mod cards {
    /// Authorized at once.
    pub const APPROVE: &str = "4111111111111111";
    /// Declined (`state: "declined"`).
    pub const DECLINE: &str = "4000000000000002";
    /// Needs 3-D Secure: `state: "pending"` with a `url`.
    pub const THREE_DS: &str = "4000000000003220";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Pending,
    Authorized,
    Paid,
    Declined,
    Cancelled,
    Expired,
    Refunded,
}

impl St {
    fn hold_status(self) -> HoldStatus {
        match self {
            St::Pending => HoldStatus::Pending,
            St::Authorized => HoldStatus::Authorized,
            St::Paid => HoldStatus::Captured,
            St::Declined => HoldStatus::Declined,
            St::Cancelled => HoldStatus::Cancelled,
            St::Expired => HoldStatus::Expired,
            St::Refunded => HoldStatus::Refunded,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            St::Pending => "pending",
            St::Authorized => "authorized",
            St::Paid => "paid",
            St::Declined => "declined",
            St::Cancelled => "cancelled",
            St::Expired => "expired",
            St::Refunded => "refunded",
        }
    }
}

#[derive(Debug, Clone)]
struct Order {
    trade_id: String,
    order_id: String,
    currency: Currency,
    /// What is held now (after decrements).
    held: Money,
    captured: Option<Money>,
    refunded: Money,
    refund_count: u32,
    /// Captures that took effect (one at most, by YabandPay's rule).
    capture_count: u32,
    state: St,
    created_at: OffsetDateTime,
    authorized_at: Option<OffsetDateTime>,
    timeout_minutes: u32,
    description: String,
    notify_url: String,
    redirect_url: String,
}

impl Order {
    /// The amount YabandPay reports: what was captured once paid, what is held before.
    fn amount(&self) -> Money {
        match self.state {
            St::Paid | St::Refunded => self.captured.unwrap_or(self.held),
            _ => self.held,
        }
    }

    /// Lapses the order by the clock.
    fn refresh(&mut self, now: OffsetDateTime) {
        match self.state {
            St::Authorized => {
                let since = self.authorized_at.unwrap_or(self.created_at);
                if now >= since + HOLD_VALIDITY {
                    self.state = St::Expired;
                }
            }
            St::Pending => {
                let timeout = time::Duration::minutes(i64::from(self.timeout_minutes));
                if now >= self.created_at + timeout {
                    self.state = St::Expired;
                }
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone)]
struct SimRefund {
    refund_id: String,
    trade_id: String,
    m_refund_id: Option<String>,
    amount: Money,
    description: String,
    notify_url: String,
    at: OffsetDateTime,
}

#[derive(Debug, Default)]
struct SimState {
    orders: BTreeMap<String, Order>,
    refunds: BTreeMap<String, SimRefund>,
    request_ids: BTreeSet<String>,
    seq: u64,
    notify_format: NotifyFormat,
    /// Notifications due after the current request: (notify URL, what about).
    outbox: Vec<(String, Due)>,
}

/// A notification a transition makes due.
#[derive(Debug, Clone)]
enum Due {
    /// About an order's new state.
    Payment(String),
    /// About a refund (by `refund_id`).
    Refund(String),
}

/// How the simulator delivers notifications.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyFormat {
    /// `application/json`: `{"sign":"…","data":{…}}` (notify.html).
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`: `resultData=<URL-encoded JSON>` (the SDK's
    /// `Notify::input` accepts it).
    Form,
}

impl SimState {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// The simulator. Cheap to clone; clones share state.
#[derive(Clone, Debug)]
pub struct Simulator {
    state: Arc<Mutex<SimState>>,
    control: SimControl,
}

/// One order as the simulator knows it: the truth a test checks the client's view against.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LedgerEntry {
    /// `order_id` (the merchant's reference: the authorization's key).
    pub order_id: String,
    /// `trade_id` (the provider's reference).
    pub trade_id: String,
    /// The state YabandPay would report now.
    pub state: &'static str,
    /// That state in the common model.
    pub status: HoldStatus,
    /// Captures that took effect.
    pub captures: u32,
    /// What is held now.
    pub held: Money,
}

/// Headers of a notification delivery (name, value).
pub type Headers = Vec<(String, String)>;

/// A refusal: `status:false` with a code and message.
struct Refusal(&'static str, String);

type Step<T> = std::result::Result<T, Refusal>;

fn missing() -> Refusal {
    Refusal("-3001", "Required field is missing".into())
}

fn rule(message: &str) -> Refusal {
    Refusal(RULE_CODE, message.into())
}

fn no_trade() -> Refusal {
    Refusal("-4024", "The original trade ID is incorrect".into())
}

/// A JSON object written in the order given (the docs' field order).
struct Ordered(Vec<(&'static str, Value)>);

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

fn req_str(data: &Map<String, Value>, key: &str) -> Step<String> {
    match data.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(missing()),
    }
}

fn opt_str(data: &Map<String, Value>, key: &str) -> Option<String> {
    match data.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn amount_in(data: &Map<String, Value>, key: &str, currency: Currency) -> Step<Money> {
    let text = req_str(data, key)?;
    let m = Money::parse_major(&text, currency)
        .map_err(|_| rule(&format!("The {key} is not a valid amount")))?;
    if m.is_zero() {
        return Err(rule(&format!("The {key} must be greater than zero")));
    }
    Ok(m)
}

fn currency_in(data: &Map<String, Value>, key: &str) -> Step<Currency> {
    let code = req_str(data, key)?;
    Currency::from_code(&code).map_err(|_| rule(&format!("The {key} is not supported")))
}

fn fmt(m: &Money) -> String {
    m.to_major_string_trimmed()
}

impl Simulator {
    /// A simulator with no orders, driven by `control` (clock, faults, request count).
    pub fn new(control: SimControl) -> Self {
        Simulator {
            state: Arc::new(Mutex::new(SimState::default())),
            control,
        }
    }

    /// The control shared with the harness.
    pub fn control(&self) -> &SimControl {
        &self.control
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self) -> OffsetDateTime {
        use preauth_core::Clock;
        self.control.clock.now()
    }

    /// The fake API: `POST /Payments` and the 3-D Secure page `GET /threeds/{trade_id}`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/Payments", post(payments))
            .route("/threeds/{trade_id}", get(three_ds_page))
            .with_state(self.clone())
    }

    /// Serves [`router`](Self::router) on a loopback port behind the fault layer.
    ///
    /// # Errors
    /// The I/O error when no port can be bound.
    pub async fn spawn(&self) -> std::io::Result<SimServer> {
        SimServer::spawn(self.router(), self.control.clone()).await
    }

    /// A configuration the simulator accepts, pointed at `base_url`, with default notify and
    /// redirect URLs.
    pub fn config(&self, base_url: &str) -> YabandPayConfig {
        YabandPayConfig::new(SIM_USER, SIM_SECRET_KEY)
            .with_base_url(base_url)
            .with_notify_url("https://merchant.example/notify")
            .with_redirect_url("https://merchant.example/return")
    }

    /// The payer passes 3-D Secure: a pending hold becomes authorized. `false` when there is
    /// no such pending hold.
    pub fn complete_three_ds(&self, provider_reference: &str) -> bool {
        let now = self.now();
        let mut st = self.lock();
        let Some(o) = st.orders.get_mut(provider_reference) else {
            return false;
        };
        o.refresh(now);
        if o.state != St::Pending {
            return false;
        }
        o.state = St::Authorized;
        o.authorized_at = Some(now);
        let url = o.notify_url.clone();
        st.outbox
            .push((url, Due::Payment(provider_reference.to_owned())));
        self.flush(st);
        true
    }

    /// The state YabandPay would report for `trade_id` now (`authorized`, `paid`, …).
    pub fn state_of(&self, trade_id: &str) -> Option<&'static str> {
        let now = self.now();
        let mut st = self.lock();
        let o = st.orders.get_mut(trade_id)?;
        o.refresh(now);
        Some(o.state.as_str())
    }

    /// How notifications are delivered from now on (JSON by default).
    pub fn set_notify_format(&self, format: NotifyFormat) {
        self.lock().notify_format = format;
    }

    /// Every order, by `trade_id`, as it stands now on the simulator's clock.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        let now = self.now();
        let mut st = self.lock();
        st.orders
            .values_mut()
            .map(|o| {
                o.refresh(now);
                LedgerEntry {
                    order_id: o.order_id.clone(),
                    trade_id: o.trade_id.clone(),
                    state: o.state.as_str(),
                    status: o.state.hold_status(),
                    captures: o.capture_count,
                    held: o.held,
                }
            })
            .collect()
    }

    /// What is held now for `trade_id` (after decrements).
    pub fn held(&self, trade_id: &str) -> Option<Money> {
        self.lock().orders.get(trade_id).map(|o| o.held)
    }

    /// The payment notification YabandPay would send now about `provider_reference`:
    /// headers and a JSON body `{"sign":…,"data":{…}}`, signed over `data` as the SDK verifies
    /// it (every key, empty ones as `key=`). Signed with a wrong key when the fault plan asks
    /// for a bad signature.
    pub fn notification_for(&self, provider_reference: &str) -> Option<(Headers, Vec<u8>)> {
        let now = self.now();
        let order = {
            let mut st = self.lock();
            let o = st.orders.get_mut(provider_reference)?;
            o.refresh(now);
            o.clone()
        };
        let (headers, _, body) = self.signed(payment_fields(&order), NotifyFormat::Json)?;
        Some((headers, body))
    }

    /// `fields` signed (with a wrong key when the fault plan asks for a bad signature) and
    /// encoded in `format`: headers, content type, body.
    fn signed(
        &self,
        fields: Vec<(&'static str, Value)>,
        format: NotifyFormat,
    ) -> Option<(Headers, &'static str, Vec<u8>)> {
        let string =
            sign::string_to_sign(fields.iter().map(|(k, v)| (*k, v.as_str().unwrap_or(""))));
        let key = if self.control.faults.take_bad_signature() {
            "not-the-secret-key"
        } else {
            SIM_SECRET_KEY
        };
        let signature = sign::sign(key.as_bytes(), &string);
        let data = Ordered(fields);
        let json = serde_json::to_vec(&NotifyOut {
            sign: &signature,
            data: &data,
        })
        .ok()?;
        let (content_type, body) = match format {
            NotifyFormat::Json => ("application/json", json),
            NotifyFormat::Form => {
                let json = String::from_utf8(json).ok()?;
                let form = serde_urlencoded::to_string([(FORM_FIELD, json)]).ok()?;
                ("application/x-www-form-urlencoded", form.into_bytes())
            }
        };
        Some((
            vec![("content-type".to_owned(), content_type.to_owned())],
            content_type,
            body,
        ))
    }

    /// Signs and sends every notification the request made due, to loopback URLs only
    /// (nothing is signed for other URLs, so a scripted bad signature waits for a delivery).
    /// Takes the lock guard so the orders are read as the transition left them.
    fn flush(&self, mut st: MutexGuard<'_, SimState>) {
        let due = std::mem::take(&mut st.outbox);
        let format = st.notify_format;
        let mut out = Vec::new();
        for (url, what) in due {
            if !is_loopback(&url) {
                continue;
            }
            let fields = match &what {
                Due::Payment(trade_id) => st.orders.get(trade_id).map(payment_fields),
                Due::Refund(refund_id) => st.refunds.get(refund_id).and_then(|r| {
                    st.orders
                        .get(&r.trade_id)
                        .map(|o| refund_notify_fields(o, r))
                }),
            };
            if let Some(fields) = fields {
                out.push((url, fields));
            }
        }
        drop(st);
        // Deliveries need a runtime (the simulator's handlers always run in one).
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        for (url, fields) in out {
            if let Some((_, content_type, body)) = self.signed(fields, format) {
                deliver_notification(&url, Vec::new(), content_type, body);
            }
        }
    }

    /// Handles one `POST /Payments` body; `host` builds the 3-D Secure URL.
    fn handle(&self, body: &[u8], host: &str) -> Value {
        let now = self.now();
        let mut st = self.lock();
        let seq = st.next();
        let response_id = format!("{}{seq:010}", now.unix_timestamp());
        let result = self.dispatch(&mut st, body, host, now);
        if result.is_err() {
            st.outbox.clear();
        }
        self.flush(st);
        match result {
            Ok(data) => json!({
                "status": true,
                "code": "200",
                "data": data,
                "message": "",
                "response_id": response_id,
            }),
            Err(Refusal(code, message)) => json!({
                "status": false,
                "code": code,
                "data": [],
                "message": message,
                "response_id": response_id,
            }),
        }
    }

    fn dispatch(
        &self,
        st: &mut SimState,
        body: &[u8],
        host: &str,
        now: OffsetDateTime,
    ) -> Step<Value> {
        let env: Map<String, Value> = match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => m,
            _ => return Err(missing()),
        };
        let user = req_str(&env, "user")?;
        if user != SIM_USER {
            return Err(Refusal("-2001", "The user not exist".into()));
        }
        let received = req_str(&env, "sign")?;
        let method_name = req_str(&env, "method")?;
        let time = match env.get("time") {
            Some(Value::Number(n)) if n.is_i64() => n.to_string(),
            _ => return Err(missing()),
        };
        let data = match env.get("data") {
            Some(Value::Object(m)) => m.clone(),
            _ => return Err(missing()),
        };
        let rendered: Vec<(String, String)> = data
            .iter()
            .map(|(k, v)| (k.clone(), sign::value_to_sign_string(v)))
            .collect();
        let mut params: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [
            ("user", user.as_str()),
            ("method", method_name.as_str()),
            ("time", time.as_str()),
        ] {
            if !data.contains_key(k) {
                params.push((k, v));
            }
        }
        params.extend(rendered.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let expected = sign::sign(SIM_SECRET_KEY.as_bytes(), &sign::string_to_sign(params));
        if !signature_matches(&expected, &received) {
            return Err(Refusal("-403", "The signature Error".into()));
        }
        match method_name.as_str() {
            method::CREATE_CARD_PAYMENTS => authorize(st, &data, host, now),
            method::CAPTURE => capture(st, &data, now),
            method::PREAUTH_DECREMENT => decrement(st, &data, now),
            method::CANCEL_PAYMENT => cancel(st, &data, now),
            method::QUERY_ORDER => query(st, &data, now),
            method::CREATE_REFUND => create_refund(st, &data, now),
            method::QUERY_REFUND_ORDER => query_refund(st, &data),
            _ => Err(rule("The method is not supported")),
        }
    }
}

/// `data` of a payment notification about `order` as it stands (notify.html fields).
fn payment_fields(order: &Order) -> Vec<(&'static str, Value)> {
    let amount = fmt(&order.amount());
    vec![
        ("type", "payment".into()),
        ("user", SIM_USER.into()),
        ("order_id", order.order_id.clone().into()),
        ("trade_id", order.trade_id.clone().into()),
        (
            "transaction_id",
            format!("sim{}", order.trade_id.replace('-', "")).into(),
        ),
        ("amount", amount.clone().into()),
        ("currency", order.currency.code().into()),
        ("settlement_amount", amount.into()),
        ("settlement_currency", order.currency.code().into()),
        ("exchange_rate", "1".into()),
        ("description", order.description.clone().into()),
        (
            "createDate",
            order.created_at.unix_timestamp().to_string().into(),
        ),
        ("state", order.state.as_str().into()),
        ("demo", "".into()),
        ("pay_method", "online".into()),
        ("sub_pay_method", "Card".into()),
    ]
}

/// `data` of a refund notification (`type: refund`, `state: refunded`, with `m_refund_id`).
fn refund_notify_fields(order: &Order, refund: &SimRefund) -> Vec<(&'static str, Value)> {
    vec![
        ("type", "refund".into()),
        ("user", SIM_USER.into()),
        ("order_id", order.order_id.clone().into()),
        ("trade_id", order.trade_id.clone().into()),
        ("refund_id", refund.refund_id.clone().into()),
        (
            "m_refund_id",
            refund.m_refund_id.clone().unwrap_or_default().into(),
        ),
        ("refund_amount", fmt(&refund.amount).into()),
        ("refund_currency", refund.amount.currency().code().into()),
        ("amount", fmt(&order.amount()).into()),
        ("currency", order.currency.code().into()),
        ("description", refund.description.clone().into()),
        ("state", "refunded".into()),
        ("demo", "".into()),
    ]
}

/// Whether `url` points at this machine (the only place a simulator sends notifications).
fn is_loopback(url: &str) -> bool {
    url::Url::parse(url).ok().is_some_and(|u| match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    })
}

#[derive(serde::Serialize)]
struct NotifyOut<'a> {
    sign: &'a str,
    data: &'a Ordered,
}

fn fresh_request_id(st: &SimState, data: &Map<String, Value>) -> Step<String> {
    let id = req_str(data, "request_id")?;
    if st.request_ids.contains(&id) {
        return Err(Refusal("-4118", "Incorrect request ID".into()));
    }
    Ok(id)
}

fn order_mut<'a>(
    st: &'a mut SimState,
    data: &Map<String, Value>,
    now: OffsetDateTime,
) -> Step<&'a mut Order> {
    let trade_id = req_str(data, "trade_id")?;
    let o = st.orders.get_mut(&trade_id).ok_or_else(no_trade)?;
    o.refresh(now);
    Ok(o)
}

fn card_number(data: &Map<String, Value>) -> Step<Option<String>> {
    if let Some(info) = opt_str(data, "cardinfo") {
        let info: Map<String, Value> = match serde_json::from_str(&info) {
            Ok(Value::Object(m)) => m,
            _ => return Err(missing()),
        };
        for k in ["card_holder", "expiration_month", "expiration_year", "cvc"] {
            req_str(&info, k)?;
        }
        return req_str(&info, "card_number").map(Some);
    }
    if opt_str(data, "payment_token_object").is_some() {
        return Ok(None);
    }
    Err(missing())
}

fn authorize(
    st: &mut SimState,
    data: &Map<String, Value>,
    host: &str,
    now: OffsetDateTime,
) -> Step<Value> {
    for k in [
        "pay_method",
        "sub_pay_method",
        "operation",
        "order_id",
        "3ds_initiate",
        "amount",
        "currency",
        "description",
        "redirect_url",
        "notify_url",
    ] {
        req_str(data, k)?;
    }
    let request_id = fresh_request_id(st, data)?;
    let number = card_number(data)?;
    if req_str(data, "pay_method")? != "online" {
        return Err(rule("The pay_method must be online"));
    }
    if !matches!(
        req_str(data, "sub_pay_method")?.as_str(),
        "Card" | "Cards HPP" | "Credit Card"
    ) {
        return Err(rule("The sub_pay_method is not supported"));
    }
    let sale = match req_str(data, "operation")?.as_str() {
        "2" => false,
        "1" => true,
        _ => return Err(rule("The operation is not supported")),
    };
    if !matches!(req_str(data, "3ds_initiate")?.as_str(), "01") {
        return Err(rule("The 3ds_initiate value needs approval"));
    }
    let currency = currency_in(data, "currency")?;
    let amount = amount_in(data, "amount", currency)?;
    let timeout_minutes = match opt_str(data, "timeout").map(|t| t.parse::<u32>()) {
        None | Some(Ok(0)) => 1440,
        Some(Ok(m)) => m,
        Some(Err(_)) => return Err(rule("The timeout is not a number of minutes")),
    };
    let n = st.next();
    let trade_id = format!("{n:08x}-5eed-4000-8000-{n:012x}");
    let (state, url) = match number.as_deref() {
        Some(cards::DECLINE) => (St::Declined, None),
        Some(cards::THREE_DS) => (
            St::Pending,
            Some(format!("http://{host}/threeds/{trade_id}")),
        ),
        _ if sale => (St::Paid, None),
        _ => (St::Authorized, None),
    };
    let order = Order {
        trade_id: trade_id.clone(),
        order_id: req_str(data, "order_id")?,
        currency,
        held: amount,
        captured: (state == St::Paid).then_some(amount),
        refunded: Money::zero(currency),
        refund_count: 0,
        capture_count: 0,
        state,
        created_at: now,
        authorized_at: (state == St::Authorized).then_some(now),
        timeout_minutes,
        description: req_str(data, "description")?,
        notify_url: req_str(data, "notify_url")?,
        redirect_url: req_str(data, "redirect_url")?,
    };
    let mut out = vec![
        ("order_id", Value::from(order.order_id.clone())),
        ("trade_id", Value::from(trade_id.clone())),
        ("amount", Value::from(fmt(&amount))),
        ("currency", Value::from(currency.code())),
        ("state", Value::from(state.as_str())),
    ];
    if let Some(url) = url {
        out.push(("url", Value::from(url)));
    }
    if state != St::Pending {
        st.outbox
            .push((order.notify_url.clone(), Due::Payment(trade_id.clone())));
    }
    st.orders.insert(trade_id, order);
    st.request_ids.insert(request_id);
    Ok(to_value(out))
}

fn to_value(fields: Vec<(&'static str, Value)>) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn capture(st: &mut SimState, data: &Map<String, Value>, now: OffsetDateTime) -> Step<Value> {
    for k in [
        "trade_id",
        "amount",
        "currency",
        "description",
        "notify_url",
    ] {
        req_str(data, k)?;
    }
    let request_id = fresh_request_id(st, data)?;
    let o = order_mut(st, data, now)?;
    match o.state {
        St::Authorized => {}
        St::Paid | St::Refunded => {
            return Err(rule("Only one capture is allowed per authorization"));
        }
        St::Expired => return Err(rule("The pre-authorization has expired")),
        _ => return Err(rule("The order is not authorized")),
    }
    let currency = currency_in(data, "currency")?;
    if currency != o.currency {
        return Err(rule("The currency must match the pre-authorization"));
    }
    let amount = amount_in(data, "amount", currency)?;
    if amount.amount() > o.held.amount() {
        return Err(rule("The amount exceeds the authorized amount"));
    }
    o.state = St::Paid;
    o.captured = Some(amount);
    o.capture_count += 1;
    let due = Due::Payment(o.trade_id.clone());
    let out = to_value(vec![
        ("order_id", o.order_id.clone().into()),
        ("trade_id", o.trade_id.clone().into()),
        ("amount", fmt(&amount).into()),
        ("currency", o.currency.code().into()),
        ("state", o.state.as_str().into()),
    ]);
    st.request_ids.insert(request_id);
    st.outbox.push((req_str(data, "notify_url")?, due));
    Ok(out)
}

fn decrement(st: &mut SimState, data: &Map<String, Value>, now: OffsetDateTime) -> Step<Value> {
    for k in [
        "trade_id",
        "amount",
        "currency",
        "description",
        "notify_url",
    ] {
        req_str(data, k)?;
    }
    let request_id = fresh_request_id(st, data)?;
    let o = order_mut(st, data, now)?;
    match o.state {
        St::Authorized => {}
        St::Expired => return Err(rule("The pre-authorization has expired")),
        _ => return Err(rule("Only an authorized order can be decreased")),
    }
    let currency = currency_in(data, "currency")?;
    if currency != o.currency {
        return Err(rule("The currency must match the pre-authorization"));
    }
    let by = amount_in(data, "amount", currency)?;
    if by.amount() >= o.held.amount() {
        return Err(rule(
            "The decrease amount must be less than the pre-authorized amount",
        ));
    }
    o.held = o
        .held
        .checked_sub(&by)
        .map_err(|_| rule("The decrease amount must be less than the pre-authorized amount"))?;
    let out = to_value(vec![
        ("order_id", o.order_id.clone().into()),
        ("trade_id", o.trade_id.clone().into()),
        ("amount", fmt(&o.held).into()),
        ("currency", o.currency.code().into()),
        ("state", o.state.as_str().into()),
    ]);
    let due = Due::Payment(o.trade_id.clone());
    st.request_ids.insert(request_id);
    st.outbox.push((req_str(data, "notify_url")?, due));
    Ok(out)
}

fn cancel(st: &mut SimState, data: &Map<String, Value>, now: OffsetDateTime) -> Step<Value> {
    let o = order_mut(st, data, now)?;
    match o.state {
        St::Pending | St::Authorized => {}
        St::Paid if o.refund_count == 0 => {}
        St::Paid => return Err(rule("A refunded order cannot be cancelled")),
        _ => return Err(rule("The order cannot be cancelled")),
    }
    o.state = St::Cancelled;
    let amount = fmt(&o.amount());
    let due = (o.notify_url.clone(), Due::Payment(o.trade_id.clone()));
    let out = to_value(vec![
        ("type", "payment".into()),
        ("user", SIM_USER.into()),
        ("amount", amount.clone().into()),
        ("currency", o.currency.code().into()),
        ("settlement_amount", amount.into()),
        ("settlement_currency", o.currency.code().into()),
        ("exchange_rate", "1".into()),
        ("trade_id", o.trade_id.clone().into()),
        ("description", o.description.clone().into()),
        ("order_id", o.order_id.clone().into()),
        (
            "createDate",
            o.created_at.unix_timestamp().to_string().into(),
        ),
        ("demo", "".into()),
        ("transaction_id", "".into()),
        ("state", o.state.as_str().into()),
    ]);
    st.outbox.push(due);
    Ok(out)
}

fn query(st: &mut SimState, data: &Map<String, Value>, now: OffsetDateTime) -> Step<Value> {
    let o = order_mut(st, data, now)?;
    let amount = fmt(&o.amount());
    let info = to_value(vec![
        ("trade_id", o.trade_id.clone().into()),
        ("merchant_name", "YabandPay Simulator".into()),
        ("store_name", "Simulator".into()),
        ("user", SIM_USER.into()),
        ("cashier_name", "Simulator".into()),
        ("pay_method", "online".into()),
        ("sub_pay_method", "Card".into()),
        ("order_id", o.order_id.clone().into()),
        ("amount", amount.clone().into()),
        ("currency", o.currency.code().into()),
        ("settlement_amount", amount.into()),
        ("settlement_currency", o.currency.code().into()),
        ("exchange_rate", "1".into()),
        ("description", o.description.clone().into()),
        (
            "created_at",
            o.created_at.unix_timestamp().to_string().into(),
        ),
        ("redirect_url", o.redirect_url.clone().into()),
        ("notify_url", o.notify_url.clone().into()),
        ("state", o.state.as_str().into()),
        ("time_out", o.timeout_minutes.to_string().into()),
        ("amount_cny", "".into()),
        ("merchant_cost", "0.00".into()),
    ]);
    Ok(json!({ "transaction_info": info }))
}

fn create_refund(st: &mut SimState, data: &Map<String, Value>, now: OffsetDateTime) -> Step<Value> {
    for k in [
        "trade_id",
        "refund_amount",
        "refund_currency",
        "refund_description",
    ] {
        req_str(data, k)?;
    }
    let n = st.next();
    let o = order_mut(st, data, now)?;
    if o.state != St::Paid {
        return Err(rule("Only a paid order can be refunded"));
    }
    let currency = currency_in(data, "refund_currency")?;
    if currency != o.currency {
        return Err(rule("The refund currency must match the original order"));
    }
    let amount = amount_in(data, "refund_amount", currency)?;
    let captured = o.captured.unwrap_or(o.held);
    let left = captured
        .checked_sub(&o.refunded)
        .map_err(|_| rule("Nothing is left to refund"))?;
    if amount.amount() > left.amount() {
        return Err(rule(
            "The refund amount exceeds the original payment amount",
        ));
    }
    if o.refund_count >= 29 {
        return Err(rule("Partial refunds for one order must be fewer than 30"));
    }
    o.refunded = o
        .refunded
        .checked_add(&amount)
        .map_err(|_| rule("The refund amount is not valid"))?;
    o.refund_count += 1;
    if o.refunded == captured {
        o.state = St::Refunded;
    }
    let refund = SimRefund {
        refund_id: format!("{n:08x}-fund-4000-8000-{n:012x}"),
        trade_id: o.trade_id.clone(),
        m_refund_id: opt_str(data, "m_refund_id"),
        amount,
        description: req_str(data, "refund_description")?,
        notify_url: opt_str(data, "notify_url").unwrap_or_default(),
        at: now,
    };
    let url = opt_str(data, "notify_url").unwrap_or_else(|| o.notify_url.clone());
    st.outbox.push((url, Due::Refund(refund.refund_id.clone())));
    let out = to_value(vec![
        ("refund_id", refund.refund_id.clone().into()),
        (
            "m_refund_id",
            refund.m_refund_id.clone().map_or(Value::Null, Value::from),
        ),
        ("trade_id", refund.trade_id.clone().into()),
        ("refund_amount", fmt(&amount).into()),
        ("refund_currency", currency.code().into()),
    ]);
    st.refunds.insert(refund.refund_id.clone(), refund);
    Ok(out)
}

fn query_refund(st: &mut SimState, data: &Map<String, Value>) -> Step<Value> {
    let id = req_str(data, "refund_id")?;
    let r = st.refunds.get(&id).ok_or_else(no_trade)?;
    Ok(to_value(vec![
        (
            "transaction_id",
            format!("sim{}", r.trade_id.replace('-', "")).into(),
        ),
        ("refund_id", r.refund_id.clone().into()),
        (
            "m_refund_id",
            r.m_refund_id.clone().map_or(Value::Null, Value::from),
        ),
        ("refund_time", r.at.unix_timestamp().to_string().into()),
        ("state", "refunded".into()),
        ("refund_amount", fmt(&r.amount).into()),
        ("refund_currency", r.amount.currency().code().into()),
        ("refund_description", r.description.clone().into()),
        ("notify_url", r.notify_url.clone().into()),
        ("demo", "".into()),
        ("settlement_refund_amount", fmt(&r.amount).into()),
        (
            "settlement_refund_currency",
            r.amount.currency().code().into(),
        ),
        ("merchant_cost", "0".into()),
        ("yb_transaction_id", r.trade_id.clone().into()),
    ]))
}

async fn payments(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let reply = sim.handle(&body, &host);
    axum::Json(reply).into_response()
}

async fn three_ds_page(State(sim): State<Simulator>, Path(trade_id): Path<String>) -> Response {
    let redirect = sim
        .lock()
        .orders
        .get(&trade_id)
        .map(|o| o.redirect_url.clone());
    match redirect {
        Some(url) => {
            let passed = sim.complete_three_ds(&trade_id);
            let what = if passed {
                "3-D Secure passed"
            } else {
                "nothing to authenticate"
            };
            axum::response::Html(format!(
                "<!DOCTYPE html><html><body><p>{what}.</p><a href=\"{url}\">Return to the shop</a></body></html>"
            ))
            .into_response()
        }
        None => (
            axum::http::StatusCode::NOT_FOUND,
            "unknown 3-D Secure session",
        )
            .into_response(),
    }
}
