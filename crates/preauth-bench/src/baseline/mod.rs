//! The hand-written baseline: what a merchant writes without the library, straight on
//! `serde_json`, `sha2`/`hmac` and a plain `reqwest::Client`, for one provider at a time.
//!
//! It does the same wire work as the library, byte for byte (the crate's tests check that the
//! bodies and signatures are identical for the same inputs): same fields in the same order,
//! same signatures, same endpoints and headers. Answers are read into minimal borrowed
//! structs with the checks a careful hand-written integration makes: HTTP status, the
//! provider's result code, the reference matches, status mapping (an unknown status is an
//! error), amounts parsed as integers of minor units, currency checked. It does **not** do
//! what the library adds on top (card summary, times, expiry, typed errors with provider
//! details, pre-flight state checks, tracing, retries); `BENCHMARKS.md` says so next to the
//! figures.
//!
//! Amounts: every benchmark order is in a currency with two decimals (BRL, USD, EUR), which
//! is what a hand-written integration for one market assumes.

pub mod liquido;
pub mod onerway;
pub mod yabandpay;

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::fixture::{Answer, Canned, NOW, Order, Provider};

/// Why the baseline refused an answer or could not build a request (a short static reason,
/// never a value from the body).
pub type BaselineError = &'static str;

/// A result of the baseline.
pub type BResult<T> = Result<T, BaselineError>;

/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/x-www-form-urlencoded`.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// A request ready to send: URL, headers, body. Every baseline request is a `POST`.
#[derive(Clone)]
pub struct WireRequest {
    /// The URL.
    pub url: String,
    /// Header names and values, in the order they are sent.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// The body (empty for a Liquido full capture).
    pub body: Vec<u8>,
}

impl WireRequest {
    /// A `POST` to `url` with no header and no body.
    pub fn post(url: String) -> Self {
        WireRequest {
            url,
            headers: Vec::with_capacity(4),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sets the body and its content type.
    #[must_use]
    pub fn body(self, content_type: &'static str, body: Vec<u8>) -> Self {
        let mut s = self.header("content-type", content_type);
        s.body = body;
        s
    }
}

/// The common statuses, as the baseline maps each provider's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not final yet.
    Pending,
    /// The payer must act (3-D Secure).
    RequiresAction,
    /// Held.
    Authorized,
    /// Captured.
    Captured,
    /// Released.
    Cancelled,
    /// Refused.
    Declined,
    /// Lapsed.
    Expired,
    /// Refunded.
    Refunded,
    /// Charged back.
    Disputed,
}

impl Status {
    /// The same snake_case name the library's `HoldStatus::as_str` gives.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::RequiresAction => "requires_action",
            Status::Authorized => "authorized",
            Status::Captured => "captured",
            Status::Cancelled => "cancelled",
            Status::Declined => "declined",
            Status::Expired => "expired",
            Status::Refunded => "refunded",
            Status::Disputed => "disputed",
        }
    }
}

/// What the baseline keeps of a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldView {
    /// The provider's reference (Liquido key, Onerway `transactionId`, YabandPay `trade_id`).
    pub reference: String,
    /// The status.
    pub status: Status,
    /// Held, in minor units.
    pub authorized_minor: i64,
    /// Captured, in minor units.
    pub captured_minor: i64,
}

/// What the baseline keeps of a verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    /// The hold it is about (provider reference).
    pub reference: String,
    /// The hold's new status, when the notification says.
    pub status: Option<Status>,
    /// The amount it reports, in minor units.
    pub amount_minor: Option<i64>,
}

/// A JSON string borrowed from the body when it has no escapes.
#[derive(Deserialize)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl Text<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Key-value pairs serialized as one JSON object, in the given order.
pub struct Pairs<'a>(pub &'a [(&'a str, &'a str)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Minor units of a two-decimal currency as a major-unit string: `30000` → `"300.00"`.
pub fn major(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// The shortest major-unit string: `30000` → `"300"`, `2490` → `"24.9"`, `2499` → `"24.99"`.
pub fn major_trimmed(minor: i64) -> String {
    let (int, frac) = (minor / 100, minor % 100);
    if frac == 0 {
        int.to_string()
    } else if frac % 10 == 0 {
        format!("{int}.{}", frac / 10)
    } else {
        format!("{int}.{frac:02}")
    }
}

/// Parses a major-unit amount of a two-decimal currency (`"300"`, `"300.0"`, `"300.00"`)
/// into minor units; `None` for anything else (signs, exponents, a third decimal).
pub fn parse_major(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 15 || !digits(int) || frac.len() > 2 || !digits(frac) {
        return None;
    }
    if s.contains('.') && frac.is_empty() {
        return None;
    }
    let mut minor: i64 = int.parse().ok()?;
    minor = minor.checked_mul(100)?;
    let cents = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    minor.checked_add(cents)
}

/// A plain `reqwest` client, as a hand-written integration builds one.
///
/// # Errors
/// When the TLS stack cannot start.
// The baseline is the one place a plain client is legitimate: it is what the library is
// measured against.
#[allow(clippy::disallowed_methods)]
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .build()
        .map_err(|e| format!("cannot build the baseline HTTP client: {e}"))
}

/// Sends `req` and reads the whole answer: status and body.
///
/// # Errors
/// The transport error, as text.
pub async fn send(client: &reqwest::Client, req: WireRequest) -> Result<(u16, Bytes), String> {
    let mut rb = client.post(&req.url);
    for (name, value) in &req.headers {
        rb = rb.header(*name, value.as_ref());
    }
    let resp = rb
        .body(req.body)
        .send()
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(|e| format!("read: {e}"))?;
    Ok((status, body))
}

enum Kind {
    Liquido(liquido::LiquidoWire),
    Onerway(onerway::OnerwayWire),
    YabandPay(yabandpay::YabandPayWire),
}

/// The baseline's side of the CPU measurements, over one provider's canned traffic: the same
/// three operations as [`crate::library::Lib`].
pub struct Base {
    kind: Kind,
    order: Order,
    token: String,
    hold: HoldView,
    authorize: Answer,
    capture: Answer,
    webhook_headers: Vec<(String, String)>,
    webhook_body: Vec<u8>,
}

impl Base {
    /// The baseline for the simulator `canned` was recorded from; the hold to capture is the
    /// canned authorization's, parsed once here.
    ///
    /// # Errors
    /// When the canned answers do not parse (a bug).
    pub fn new(canned: &Canned) -> Result<Base, String> {
        let base = canned.base_url.as_str();
        let kind = match canned.provider {
            Provider::Liquido => Kind::Liquido(liquido::LiquidoWire::for_simulator(base)),
            Provider::Onerway => Kind::Onerway(onerway::OnerwayWire::for_simulator(base)),
            Provider::YabandPay => Kind::YabandPay(yabandpay::YabandPayWire::for_simulator(base)),
        };
        let mut b = Base {
            kind,
            order: canned.order.clone(),
            token: canned.token.clone(),
            hold: HoldView {
                reference: String::new(),
                status: Status::Pending,
                authorized_minor: 0,
                captured_minor: 0,
            },
            authorize: canned.authorize.clone(),
            capture: canned.capture.clone(),
            webhook_headers: canned.webhook_headers.clone(),
            webhook_body: canned.webhook_body.clone(),
        };
        b.hold = b.authorize()?.1;
        Ok(b)
    }

    /// The request for the canned authorization, and the hold read from the canned answer.
    ///
    /// # Errors
    /// The baseline's refusal (never, on the canned traffic).
    pub fn authorize(&self) -> BResult<(WireRequest, HoldView)> {
        Ok((self.authorize_request()?, self.authorize_answer()?))
    }

    /// The authorization's build step alone.
    ///
    /// # Errors
    /// The baseline's refusal (never, on the canned traffic).
    pub fn authorize_request(&self) -> BResult<WireRequest> {
        let o = &self.order;
        match &self.kind {
            Kind::Liquido(w) => w.authorize(o, &self.token),
            Kind::Onerway(w) => w.authorize(o, NOW),
            Kind::YabandPay(w) => w.authorize(o, NOW),
        }
    }

    /// The authorization's parse step alone.
    ///
    /// # Errors
    /// The baseline's refusal (never, on the canned traffic).
    pub fn authorize_answer(&self) -> BResult<HoldView> {
        let (o, a) = (&self.order, &self.authorize);
        match &self.kind {
            Kind::Liquido(w) => w.parse_authorize(a.status, &a.body, &o.key, o.currency),
            Kind::Onerway(w) => w.parse_authorize(a.status, &a.body, o),
            Kind::YabandPay(w) => w.parse_authorize(a.status, &a.body, o),
        }
    }

    /// The request for a full capture of the canned hold, and the hold read from the canned
    /// answer.
    ///
    /// # Errors
    /// The baseline's refusal (never, on the canned traffic).
    pub fn capture(&self) -> BResult<(WireRequest, HoldView)> {
        Ok((self.capture_request()?, self.capture_answer()?))
    }

    /// The capture's build step alone.
    ///
    /// # Errors
    /// The baseline's refusal (never, on the canned traffic).
    pub fn capture_request(&self) -> BResult<WireRequest> {
        let (o, hold) = (&self.order, &self.hold);
        match &self.kind {
            Kind::Liquido(w) => Ok(w.capture(&o.key, &self.token)),
            Kind::Onerway(w) => w.capture(&o.capture_key, &hold.reference),
            Kind::YabandPay(w) => w.capture(hold, o.currency, &o.capture_key, NOW),
        }
    }

    /// The capture's parse step alone.
    ///
    /// # Errors
    /// The baseline's refusal (never, on the canned traffic).
    pub fn capture_answer(&self) -> BResult<HoldView> {
        let (o, a, hold) = (&self.order, &self.capture, &self.hold);
        match &self.kind {
            Kind::Liquido(w) => w.parse_capture(a.status, &a.body, &o.key, o.currency),
            Kind::Onerway(w) => w.parse_capture(a.status, &a.body, hold),
            Kind::YabandPay(w) => w.parse_capture(a.status, &a.body, hold),
        }
    }

    /// The canned notification, verified and read.
    ///
    /// # Errors
    /// The baseline's refusal (never, on the canned traffic).
    pub fn webhook(&self) -> BResult<EventView> {
        match &self.kind {
            Kind::Liquido(w) => {
                let headers: Vec<(&str, &str)> = self
                    .webhook_headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                w.verify_webhook(&headers, &self.webhook_body, NOW.unix_timestamp())
            }
            Kind::Onerway(w) => w.verify_webhook(&self.webhook_body),
            Kind::YabandPay(w) => w.verify_webhook(&self.webhook_body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(major(30000), "300.00");
        assert_eq!(major(5), "0.05");
        assert_eq!(major_trimmed(30000), "300");
        assert_eq!(major_trimmed(2490), "24.9");
        assert_eq!(major_trimmed(10), "0.1");
        assert_eq!(major_trimmed(2499), "24.99");
        assert_eq!(parse_major("300"), Some(30000));
        assert_eq!(parse_major("300.0"), Some(30000));
        assert_eq!(parse_major("24.99"), Some(2499));
        for bad in ["", ".5", "1.", "1.234", "-1", "1e3", " 1"] {
            assert_eq!(parse_major(bad), None, "{bad:?}");
        }
    }
}
