//! Onerway's wire types, named as in its docs.
//!
//! Requests: the nested objects (`txnOrderMsg`, `products`, `cardInfo`,
//! `billingInformation`/`shippingInformation`) are serialized to JSON strings one by one,
//! innermost first, in the field order of the docs' examples (seed 001); the top level is a
//! `BTreeMap` of those strings, signed and then serialized once.
//!
//! Responses are read leniently: every field may be absent or `null`, and a number or boolean
//! where a string is documented is taken by its JSON text, so an extra or odd field never
//! fails a whole answer; what a field *means* is checked where it is used.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One line of `txnOrderMsg.products`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Product<'a> {
    pub(crate) name: &'a str,
    /// Major units; negative for a discount.
    pub(crate) price: String,
    pub(crate) num: String,
    pub(crate) currency: &'a str,
    /// `shipping_fee` or `discount`; absent for goods.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<&'static str>,
}

/// `txnOrderMsg`, in the field order of seed 001, then the browser fields 3-D Secure needs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TxnOrderMsg<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) return_url: Option<&'a str>,
    pub(crate) app_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) notify_url: Option<&'a str>,
    /// The products array as a JSON string.
    pub(crate) products: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) transaction_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) java_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) color_depth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) screen_height: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) screen_width: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) time_zone_offset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) accept: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) language: Option<&'a str>,
}

/// `cardInfo`, in the field order of seed 001.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CardInfo<'a> {
    pub(crate) card_number: &'a str,
    pub(crate) cvv: &'a str,
    pub(crate) month: String,
    pub(crate) year: String,
    pub(crate) holder_name: &'a str,
}

/// `billingInformation` / `shippingInformation`, in the field order of seed 001 with the
/// other documented fields after.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Information<'a> {
    pub(crate) country: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) province: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) postal_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) street: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) identity_number: Option<&'a str>,
}

/// `{respCode, respMsg, data}`, the envelope of every answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) resp_code: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) resp_msg: Option<String>,
    #[serde(default)]
    pub(crate) data: Value,
}

/// `TxnInfo`: the `data` of doTransaction and authPayment, and each item of a query's
/// `content`. Only the fields this crate reads; the rest are ignored.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TxnInfo {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) transaction_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) merchant_txn_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) origin_transaction_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) txn_type: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) txn_time: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) txn_time_zone: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) reason: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) order_amount: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) order_currency: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) redirect_url: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) action_type: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) payment_method: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) card_number: Option<String>,
}

/// The `data` of a query: one page of transactions.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Page {
    #[serde(default)]
    pub(crate) content: Option<Vec<TxnInfo>>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) total_pages: Option<String>,
}

/// `reason`: itself a JSON string `{"respCode": "...", "respMsg": "..."}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reason {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) resp_code: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) resp_msg: Option<String>,
}

impl Reason {
    /// Reads a `reason` string: the JSON form when it is one, else the text as the message.
    pub(crate) fn parse(raw: Option<&str>) -> Reason {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return Reason::default();
        };
        match serde_json::from_str::<Reason>(raw) {
            Ok(r) => r,
            Err(_) => Reason {
                resp_code: None,
                resp_msg: Some(raw.chars().take(200).collect()),
            },
        }
    }
}

/// A string field that may arrive as a string, a number, a boolean, an object or `null`:
/// non-string values are kept as their JSON text, `null` and `""` as absent.
pub(crate) fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(text(&Value::deserialize(d)?))
}

/// The text of a JSON value as [`lenient`] reads it.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
