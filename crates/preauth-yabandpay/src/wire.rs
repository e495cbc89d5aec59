//! The wire format, named as in YabandPay's docs.
//!
//! Requests: `{"user","sign","method","time","data":{…}}`, every `data` value a string (the
//! nested `cardinfo` is sent as its JSON text). Responses:
//! `{"status":bool,"code":"200"|"-xxxx","data":{…},"message":"","response_id":"…"}`.
//! Response types accept unknown fields and `null`s; which fields are required is decided in
//! [`crate::convert`], so that a missing one is a typed error naming it.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

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
/// values are never added, so they are neither sent nor signed. Values the caller already
/// holds are borrowed. Not `Debug`: it can hold the card number (`cardinfo`).
#[derive(Default)]
pub(crate) struct Fields<'a>(Vec<(&'static str, Cow<'a, str>)>);

impl<'a> Fields<'a> {
    /// Room for `n` fields.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Fields(Vec::with_capacity(n))
    }

    /// Adds `key` unless `value` is empty.
    pub(crate) fn push(&mut self, key: &'static str, value: impl Into<Cow<'a, str>>) {
        let value = value.into();
        if !value.is_empty() {
            self.0.push((key, value));
        }
    }

    /// The fields in order, as `(key, value)`.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        self.0.iter().map(|(k, v)| (*k, v.as_ref()))
    }

    /// How many fields there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The total length of the keys and values (to size the body).
    pub(crate) fn text_len(&self) -> usize {
        self.0.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

impl Serialize for Fields<'_> {
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
    pub(crate) data: &'a Fields<'a>,
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

/// A response field read leniently, borrowed from the body where it can be: the JSON type
/// is kept so that [`crate::convert`] decides what to accept (a missing or odd field is a
/// typed error naming it). Nested objects and arrays are read (and so checked) in full but
/// kept only as [`Lenient::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lenient<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A string, unescaped.
    Str(Cow<'a, str>),
    /// An integer (every JSON integer that fits in `i64` or `u64`).
    Int(i128),
    /// Any other number.
    Float,
    /// An object or an array.
    Other,
}

impl<'a> Lenient<'a> {
    /// The view of a [`Value`] (notifications signed over merged objects are read as values).
    pub(crate) fn of_value(v: &'a Value) -> Self {
        match v {
            Value::Null => Lenient::Null,
            Value::Bool(b) => Lenient::Bool(*b),
            Value::String(s) => Lenient::Str(Cow::Borrowed(s)),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Lenient::Int(i128::from(i)),
                (None, Some(u)) => Lenient::Int(i128::from(u)),
                (None, None) => Lenient::Float,
            },
            Value::Object(_) | Value::Array(_) => Lenient::Other,
        }
    }

    /// A string field: a non-blank string, or an integer rendered in decimal (ids are
    /// sometimes numbers in PHP APIs). `null`, blank strings and other types are `None`.
    pub(crate) fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Lenient::Str(s) if !is_blank(&s) => Some(s),
            Lenient::Int(n) => Some(Cow::Owned(n.to_string())),
            _ => None,
        }
    }

    /// [`into_text`](Self::into_text), borrowed.
    pub(crate) fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Lenient::Str(s) if !is_blank(s) => Some(Cow::Borrowed(s)),
            Lenient::Int(n) => Some(Cow::Owned(n.to_string())),
            _ => None,
        }
    }

    /// A decimal amount field: only a string (trimmed) or an integer (never a float, which
    /// could not say the amount exactly); `null` and blank strings are `None`.
    pub(crate) fn amount_text(&self) -> Option<Result<Cow<'_, str>, ()>> {
        match self {
            Lenient::Null => None,
            Lenient::Str(s) if is_blank(s) => None,
            Lenient::Str(s) => Some(Ok(Cow::Borrowed(s.trim()))),
            Lenient::Int(n) => Some(Ok(Cow::Owned(n.to_string()))),
            _ => Some(Err(())),
        }
    }
}

/// Whether `s` is empty or only whitespace (`s.trim().is_empty()`, stopping at the first
/// other character).
pub(crate) fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// Byte order of two keys (the order the signature sorts them in), deciding on the first
/// byte where it differs without a call to `memcmp`.
pub(crate) fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.as_bytes().cmp(b.as_bytes()),
    }
}

/// A string field of a response: see [`Lenient::text`].
pub(crate) fn text<'v>(v: Option<&'v Lenient<'_>>) -> Option<Cow<'v, str>> {
    v?.text()
}

/// An amount field of a response: see [`Lenient::amount_text`].
pub(crate) fn amount_text<'v>(v: Option<&'v Lenient<'_>>) -> Option<Result<Cow<'v, str>, ()>> {
    v?.amount_text()
}

impl<'de: 'a, 'a> Deserialize<'de> for Lenient<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Lenient<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Lenient::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Lenient::Int(i128::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Lenient::Int(i128::from(v)))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Lenient::Float)
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Owned(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                Lenient::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                // Read in full, as a `Value` would be (rare: no answer field this crate reads
                // is an object).
                Value::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Lenient::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq))?;
                Ok(Lenient::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The response envelope, loosely typed: `status` must be a bool and `code` a string (a
/// number is tolerated), checked in [`crate::convert`]. `data` is kept as its JSON text and
/// read once into the operation's type.
#[derive(Debug, Deserialize)]
pub(crate) struct ResponseEnvelope<'a> {
    #[serde(borrow, default)]
    pub(crate) status: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) code: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) message: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) response_id: Option<Lenient<'a>>,
}

/// `data` of `v3.CreateCardPayments`. The docs' example response is cut off; by analogy with
/// `v3.CreatePayments` it carries `trade_id` and `url` (the payment / 3-D Secure page), and
/// possibly `state`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PaymentData<'a> {
    #[serde(borrow, default)]
    pub(crate) trade_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) url: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) state: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) amount: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) currency: Option<Lenient<'a>>,
}

/// `data` of `v3.QueryOrder`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueryOrderData<'a> {
    #[serde(borrow, default)]
    pub(crate) transaction_info: Option<TransactionInfo<'a>>,
}

/// `data.transaction_info` of `v3.QueryOrder` (the fields this crate reads).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TransactionInfo<'a> {
    #[serde(borrow, default)]
    pub(crate) trade_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) order_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) amount: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) currency: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) state: Option<Lenient<'a>>,
    /// Unix seconds as a string (`"1555496062"`).
    #[serde(borrow, default)]
    pub(crate) created_at: Option<Lenient<'a>>,
}

/// `data` of `v3.CreateRefund` and `v3.QueryRefundOrder`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RefundData<'a> {
    #[serde(borrow, default)]
    pub(crate) refund_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) m_refund_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) trade_id: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) state: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) refund_amount: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) refund_currency: Option<Lenient<'a>>,
}

/// A notification body: `{"sign":"…","data":{…}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct NotifyBody<'a> {
    #[serde(borrow, default)]
    pub(crate) sign: Option<Lenient<'a>>,
    #[serde(borrow, default)]
    pub(crate) data: Option<NotifyData<'a>>,
}

/// A notification's `data` object, borrowed from the body: its entries sorted by key (byte
/// order, as the signature sorts them), the last value of a repeated key winning (as a JSON
/// object read into a map).
#[derive(Debug, Default)]
pub(crate) struct NotifyData<'a>(pub(crate) Vec<(Cow<'a, str>, NotifyValue<'a>)>);

/// A value of a notification's `data`: a string (borrowed when it has no escapes), or any
/// other JSON value exactly as a [`Value`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NotifyValue<'a> {
    /// A string, unescaped.
    Str(Cow<'a, str>),
    /// Anything else.
    Other(Value),
}

impl NotifyValue<'_> {
    /// The value as a [`Value`].
    pub(crate) fn into_value(self) -> Value {
        match self {
            NotifyValue::Str(s) => Value::String(s.into_owned()),
            NotifyValue::Other(v) => v,
        }
    }

    /// The lenient view of the value.
    pub(crate) fn view(&self) -> Lenient<'_> {
        match self {
            NotifyValue::Str(s) => Lenient::Str(Cow::Borrowed(s)),
            NotifyValue::Other(v) => Lenient::of_value(v),
        }
    }
}

impl<'a> NotifyData<'a> {
    /// The value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&NotifyValue<'a>> {
        self.0
            .binary_search_by(|(k, _)| key_order(k, key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// The object as a [`Map`](serde_json::Map).
    pub(crate) fn into_map(self) -> serde_json::Map<String, Value> {
        self.0
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_value()))
            .collect()
    }
}

/// A string borrowed from the input when it has no escapes.
struct CowStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = CowStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for NotifyValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = NotifyValue<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(NotifyValue::Other(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(NotifyValue::Other(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(NotifyValue::Other(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                // A number with a fraction went through a float: its text is not the sender's,
                // so it can be neither signed nor read as money.
                Err(E::custom(
                    "a JSON number with a fraction in notification data",
                ))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(NotifyValue::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(NotifyValue::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(NotifyValue::Str(Cow::Owned(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(NotifyValue::Other(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(NotifyValue::Other(Value::Null))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                NotifyValue::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(NotifyValue::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq)).map(NotifyValue::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for NotifyData<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = NotifyData<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(Cow<'a, str>, NotifyValue<'a>)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some((CowStr(k), v)) = map.next_entry::<CowStr<'a>, NotifyValue<'a>>()? {
                    entries.push((k, v));
                }
                // Stable: of equal keys the later entry comes after; moving it into the kept
                // (earlier) slot makes the last value win, as in a map.
                entries.sort_by(|a, b| key_order(&a.0, &b.0));
                entries.dedup_by(|later, kept| {
                    if later.0 == kept.0 {
                        std::mem::swap(later, kept);
                        true
                    } else {
                        false
                    }
                });
                Ok(NotifyData(entries))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn key_order_is_byte_order(a in "[a-c\u{e9} ]{0,3}", b in "[a-c\u{e9} ]{0,3}") {
            proptest::prop_assert_eq!(key_order(&a, &b), a.as_bytes().cmp(b.as_bytes()));
        }

        #[test]
        fn blank_is_trimmed_empty(s in "[ \t\n\u{a0}\u{3000}x]{0,4}") {
            proptest::prop_assert_eq!(is_blank(&s), s.trim().is_empty());
        }
    }

    #[test]
    fn notify_data_sorts_and_keeps_the_last_of_a_repeated_key() {
        let d: NotifyData<'_> =
            serde_json::from_str(r#"{"b":"1","a":"x\u00e9","b":2,"\u0063":null,"a":"y"}"#).unwrap();
        let keys: Vec<&str> = d.0.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(d.get("a"), Some(&NotifyValue::Str(Cow::Borrowed("y"))));
        assert_eq!(d.get("b"), Some(&NotifyValue::Other(Value::from(2))));
        assert_eq!(d.get("c"), Some(&NotifyValue::Other(Value::Null)));
        assert_eq!(d.get("d"), None);
        assert!(serde_json::from_str::<NotifyData<'_>>("[1]").is_err());
    }
}
