//! The wire format, named as in YabandPay's docs.
//!
//! Requests: `{"user","sign","method","time","data":{…}}`, every `data` value a string (the
//! nested `cardinfo` is sent as its JSON text). Responses:
//! `{"status":bool,"code":"200"|"-xxxx","data":{…},"message":"","response_id":"…"}`.
//! Response types accept unknown fields and `null`s; which fields are required is decided in
//! [`crate::convert`], so that a missing one is a typed error naming it.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The methods this crate calls.
pub(crate) mod method {
    pub(crate) const CREATE_CARD_PAYMENTS: &str = "v3.CreateCardPayments";
    pub(crate) const CAPTURE: &str = "v3.Capture";
    pub(crate) const PREAUTH_DECREMENT: &str = "v3.PreauthDecrement";
    pub(crate) const CANCEL_PAYMENT: &str = "v3.CancelPayment";
    pub(crate) const QUERY_ORDER: &str = "v3.QueryOrder";
    pub(crate) const CREATE_REFUND: &str = "v3.CreateRefund";
    pub(crate) const QUERY_REFUND_ORDER: &str = "v3.QueryRefundOrder";
}

/// The `data` object of a request: string fields in the order the docs list them. Empty
/// values are never added, so they are neither sent nor signed. Not `Debug`: it can hold the
/// card number (`cardinfo`).
#[derive(Default)]
pub(crate) struct Fields(Vec<(&'static str, String)>);

impl Fields {
    pub(crate) fn new() -> Self {
        Fields::default()
    }

    /// Adds `key` unless `value` is empty.
    pub(crate) fn push(&mut self, key: &'static str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.0.push((key, value));
        }
    }

    pub(crate) fn pairs(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The request envelope, serialized once; its `sign` is over exactly these values.
#[derive(Serialize)]
pub(crate) struct RequestEnvelope<'a> {
    pub(crate) user: &'a str,
    pub(crate) sign: &'a str,
    pub(crate) method: &'a str,
    /// Unix seconds, a JSON number (`Long` in the docs).
    pub(crate) time: i64,
    pub(crate) data: &'a Fields,
}

/// `cardinfo`: sent as a JSON string, fields in the docs' order. Not `Debug`.
#[derive(Serialize)]
pub(crate) struct CardInfo<'a> {
    pub(crate) card_holder: &'a str,
    pub(crate) card_number: &'a str,
    /// `"MM"`.
    pub(crate) expiration_month: String,
    /// `"YYYY"`.
    pub(crate) expiration_year: String,
    pub(crate) cvc: &'a str,
}

/// The response envelope, loosely typed: `status` must be a bool and `code` a string (a
/// number is tolerated), checked in [`crate::convert`].
#[derive(Debug, Deserialize)]
pub(crate) struct ResponseEnvelope {
    #[serde(default)]
    pub(crate) status: Option<Value>,
    #[serde(default)]
    pub(crate) code: Option<Value>,
    #[serde(default)]
    pub(crate) data: Option<Value>,
    #[serde(default)]
    pub(crate) message: Option<Value>,
    #[serde(default)]
    pub(crate) response_id: Option<Value>,
}

/// `data` of `v3.CreateCardPayments`. The docs' example response is cut off; by analogy with
/// `v3.CreatePayments` it carries `trade_id` and `url` (the payment / 3-D Secure page), and
/// possibly `state`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PaymentData {
    #[serde(default)]
    pub(crate) trade_id: Option<Value>,
    #[serde(default)]
    pub(crate) url: Option<Value>,
    #[serde(default)]
    pub(crate) state: Option<Value>,
    #[serde(default)]
    pub(crate) amount: Option<Value>,
    #[serde(default)]
    pub(crate) currency: Option<Value>,
}

/// `data` of `v3.QueryOrder`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueryOrderData {
    #[serde(default)]
    pub(crate) transaction_info: Option<TransactionInfo>,
}

/// `data.transaction_info` of `v3.QueryOrder` (the fields this crate reads).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TransactionInfo {
    #[serde(default)]
    pub(crate) trade_id: Option<Value>,
    #[serde(default)]
    pub(crate) order_id: Option<Value>,
    #[serde(default)]
    pub(crate) amount: Option<Value>,
    #[serde(default)]
    pub(crate) currency: Option<Value>,
    #[serde(default)]
    pub(crate) state: Option<Value>,
    /// Unix seconds as a string (`"1555496062"`).
    #[serde(default)]
    pub(crate) created_at: Option<Value>,
}

/// `data` of `v3.CreateRefund` and `v3.QueryRefundOrder`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RefundData {
    #[serde(default)]
    pub(crate) refund_id: Option<Value>,
    #[serde(default)]
    pub(crate) m_refund_id: Option<Value>,
    #[serde(default)]
    pub(crate) trade_id: Option<Value>,
    #[serde(default)]
    pub(crate) state: Option<Value>,
    #[serde(default)]
    pub(crate) refund_amount: Option<Value>,
    #[serde(default)]
    pub(crate) refund_currency: Option<Value>,
}

/// A notification body: `{"sign":"…","data":{…}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct NotifyBody {
    #[serde(default)]
    pub(crate) sign: Option<Value>,
    #[serde(default)]
    pub(crate) data: Option<Value>,
}

/// A string field: a JSON string, or an integer rendered in decimal (ids are sometimes
/// numbers in PHP APIs). `null`, empty strings and other types are `None`.
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// A decimal amount field: only a JSON string or an integer (never a float, which could not
/// say the amount exactly).
pub(crate) fn amount_text(v: Option<&Value>) -> Option<Result<String, ()>> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(Ok(s.trim().to_owned())),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(Ok(n.to_string())),
        _ => Some(Err(())),
    }
}
