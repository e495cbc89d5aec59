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

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use preauth_core::json::{Skip, SkipVisitor};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// One line of `txnOrderMsg.products`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Product<'a> {
    pub(crate) name: &'a str,
    /// Major units; negative for a discount.
    pub(crate) price: Cow<'a, str>,
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

/// `{respCode, respMsg, data}`, the envelope of every answer, borrowed from the body.
///
/// Read in one pass straight from the bytes, `data` as what the call answers: a
/// [`TxnData`] (a transaction, or a refund's id), or its raw JSON text (`&RawValue`, read as a
/// [`Page`] once the envelope says the query succeeded). A field given twice keeps its last
/// value; unknown fields are skipped.
#[derive(Debug)]
pub(crate) struct Envelope<'a, D = TxnData<'a>> {
    pub(crate) resp_code: Option<Cow<'a, str>>,
    pub(crate) resp_msg: Option<Cow<'a, str>>,
    /// `None` when absent or `null`.
    pub(crate) data: Option<D>,
}

impl<'de, D: Deserialize<'de>> Deserialize<'de> for Envelope<'de, D> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        struct V<D>(PhantomData<D>);
        impl<'de, D: Deserialize<'de>> Visitor<'de> for V<D> {
            type Value = Envelope<'de, D>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a {respCode, respMsg, data} object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut env = Envelope {
                    resp_code: None,
                    resp_msg: None,
                    data: None,
                };
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.0.as_ref() {
                        "respCode" => env.resp_code = map.next_value::<Lenient<'de>>()?.0,
                        "respMsg" => env.resp_msg = map.next_value::<Lenient<'de>>()?.0,
                        "data" => env.data = map.next_value::<Option<D>>()?,
                        _ => {
                            map.next_value::<Skip>()?;
                        }
                    }
                }
                Ok(env)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// The `data` of doTransaction, authPayment and onlineRefund, by its JSON type.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "read once per answer and moved out at once; boxing would allocate"
)]
pub(crate) enum TxnData<'a> {
    /// An object, read as a transaction.
    Txn(TxnInfo<'a>),
    /// A string (a refund's transaction id), unescaped.
    Text(Cow<'a, str>),
    /// A number, a boolean or an array (read, not kept).
    Other,
}

impl<'de> Deserialize<'de> for TxnData<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TxnData<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                TxnInfo::deserialize(de::value::MapAccessDeserializer::new(map)).map(TxnData::Txn)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                SkipVisitor.visit_seq(seq).map(|Skip| TxnData::Other)
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(TxnData::Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(TxnData::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(TxnData::Text(Cow::Owned(s)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(TxnData::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(TxnData::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(TxnData::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(TxnData::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Declares a struct whose fields are all text, borrowed from the body where it can be, each
/// read by its reader ([`Lenient`] or [`RawJson`]), and its `Deserialize`: from an object (a
/// field given twice keeps its last value, unknown fields are skipped) or, as serde's derive
/// reads a struct, from an array of the fields in order (missing trailing ones absent).
macro_rules! lenient_struct {
    (
        $(#[$meta:meta])*
        $name:ident, $expecting:literal {
            $( $(#[$fmeta:meta])* $field:ident = $wire:literal => $reader:ident, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone)]
        pub(crate) struct $name<'a> {
            $( $(#[$fmeta])* pub(crate) $field: Option<Cow<'a, str>>, )*
        }

        impl $name<'_> {
            /// The same, owning its text.
            #[allow(dead_code)]
            pub(crate) fn into_owned(self) -> $name<'static> {
                $name { $( $field: self.$field.map(|v| Cow::Owned(v.into_owned())), )* }
            }
        }

        impl<'de> Deserialize<'de> for $name<'de> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                const FIELDS: &[&str] = &[$($wire),*];
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name<'de>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Self::Value, A::Error> {
                        let mut out = $name::default();
                        while let Some(key) = map.next_key::<Key<'de>>()? {
                            match key.0.as_ref() {
                                $( $wire => out.$field = map.next_value::<$reader<'de>>()?.0, )*
                                _ => {
                                    map.next_value::<Skip>()?;
                                }
                            }
                        }
                        Ok(out)
                    }
                    fn visit_seq<A: SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Self::Value, A::Error> {
                        let mut out = $name::default();
                        $(
                            match seq.next_element::<$reader<'de>>()? {
                                Some(v) => out.$field = v.0,
                                None => return Ok(out),
                            }
                        )*
                        Ok(out)
                    }
                }
                d.deserialize_struct(stringify!($name), FIELDS, V)
            }
        }
    };
}

lenient_struct! {
    /// `TxnInfo`: the `data` of doTransaction and authPayment, and each item of a query's
    /// `content`. Only the fields this crate reads; the rest are ignored.
    TxnInfo, "a transaction object" {
        transaction_id = "transactionId" => Lenient,
        merchant_txn_id = "merchantTxnId" => Lenient,
        origin_transaction_id = "originTransactionId" => Lenient,
        txn_type = "txnType" => Lenient,
        txn_time = "txnTime" => Lenient,
        txn_time_zone = "txnTimeZone" => Lenient,
        status = "status" => Lenient,
        /// `reason` as its JSON text, read only when a failure needs it: [`TxnInfo::reason`].
        reason_json = "reason" => RawJson,
        order_amount = "orderAmount" => Lenient,
        order_currency = "orderCurrency" => Lenient,
        redirect_url = "redirectUrl" => Lenient,
        action_type = "actionType" => Lenient,
        payment_method = "paymentMethod" => Lenient,
        card_number = "cardNumber" => Lenient,
    }
}

impl TxnInfo<'_> {
    /// `reason`, read as [`lenient`] text (a JSON string in a string: see [`Reason::parse`]).
    pub(crate) fn reason(&self) -> Option<Cow<'_, str>> {
        let raw = self.reason_json.as_deref()?;
        serde_json::from_str::<Lenient<'_>>(raw).ok()?.0
    }
}

/// A field kept as its JSON text, to be read as [`Lenient`] text later, when needed: a
/// string is not unescaped (nor copied) until then. Whatever would not read as [`Lenient`]
/// text is refused now, as if it were read now; `null` is absent.
pub(crate) struct RawJson<'a>(pub(crate) Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for RawJson<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(raw) = Option::<&'de RawValue>::deserialize(d)? else {
            return Ok(RawJson(None));
        };
        let text = raw.get();
        // A string whose only escapes are single characters (`\"`, `\n`, ...) is valid
        // JSON text as the raw value was read; a `\u` escape may be a lone surrogate, and
        // any other value may hold numbers out of range: those are read now.
        if !text.starts_with('"') || text.contains("\\u") {
            serde_json::from_str::<Lenient<'_>>(text).map_err(de::Error::custom)?;
        }
        Ok(RawJson(Some(Cow::Borrowed(text))))
    }
}

/// The `data` of a query: one page of transactions.
#[derive(Debug, Default)]
pub(crate) struct Page<'a> {
    pub(crate) content: Option<Vec<TxnInfo<'a>>>,
    pub(crate) total_pages: Option<Cow<'a, str>>,
}

impl<'de> Deserialize<'de> for Page<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Page<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a page of transactions")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut page = Page::default();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.0.as_ref() {
                        "content" => page.content = map.next_value()?,
                        "totalPages" => page.total_pages = map.next_value::<Lenient<'de>>()?.0,
                        _ => {
                            map.next_value::<Skip>()?;
                        }
                    }
                }
                Ok(page)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut page = Page::default();
                match seq.next_element()? {
                    Some(content) => page.content = content,
                    None => return Ok(page),
                }
                if let Some(total) = seq.next_element::<Lenient<'de>>()? {
                    page.total_pages = total.0;
                }
                Ok(page)
            }
        }
        d.deserialize_struct("Page", &["content", "totalPages"], V)
    }
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
    Ok(d.deserialize_any(LenientVisitor)?.map(Cow::into_owned))
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

/// A [`lenient`] field, borrowed from the body when it is a string without escapes.
pub(crate) struct Lenient<'a>(pub(crate) Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Lenient<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor).map(Lenient)
    }
}

/// Reads any JSON value as [`lenient`] text. Strings and booleans are not copied; numbers are
/// their `serde_json` text and objects and arrays their compact JSON text, exactly as a
/// `Value` would print them (that rare path does build one).
struct LenientVisitor;

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok((!s.is_empty()).then_some(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok((!s.is_empty()).then(|| Cow::Owned(s.to_owned())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok((!s.is_empty()).then_some(Cow::Owned(s)))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(if b { "true" } else { "false" })))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(text(&Value::from(n)).map(Cow::Owned))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(text(&Value::from(n)).map(Cow::Owned))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        // A number with a fraction or an exponent (or beyond u64) went through a float: its text
        // is not the provider's, and money must never be read from it.
        Err(E::custom(
            "a JSON number with a fraction or exponent where text is expected",
        ))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(text(&v).map(Cow::Owned))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(text(&v).map(Cow::Owned))
    }
}

/// An object key, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A JSON string's text, unescaped; borrowed from `raw` when it has no escapes. `None` when
/// `raw` is not a string.
pub(crate) fn raw_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    match unescape_simple(inner) {
        Some(s) => Some(Cow::Owned(s)),
        None => serde_json::from_str::<String>(text).ok().map(Cow::Owned),
    }
}

/// The text of a valid JSON string's contents whose escapes are all single characters
/// (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`), unescaped in one pass; `None` when it
/// has another escape (`\u`) for `serde_json` to read.
fn unescape_simple(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let c = match rest.as_bytes().get(i + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            _ => return None,
        };
        out.push(c);
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_text_is_what_a_value_prints() {
        for json in [
            r#""abc""#,
            r#""a\"b""#,
            r#""""#,
            "null",
            "true",
            "false",
            "0",
            "-12",
            "18446744073709551615",
            "[1, \"a\", null, {\"b\": 2}]",
            "[]",
            "{}",
            r#"{"z": 1, "a": [true, {"y": "x"}]}"#,
        ] {
            let v: Value = serde_json::from_str(json).unwrap();
            let Lenient(got) = serde_json::from_str(json).unwrap();
            assert_eq!(got.as_deref(), text(&v).as_deref(), "{json}");
        }
        // Numbers that serde_json can only read as a float are refused: money never goes
        // through a float.
        for json in ["1.50", "1e3", "-0.0", "123456789012345678901234567890"] {
            assert!(serde_json::from_str::<Lenient<'_>>(json).is_err(), "{json}");
        }
    }

    #[test]
    fn raw_strings_read_as_serde_reads_them() {
        for json in [
            r#""plain""#,
            r#""""#,
            r#""{\"respCode\":\"20000\",\"respMsg\":\"Success\"}""#,
            r#""a\\b\/c\bd\fe\nf\rg\th\"""#,
            r#""\\\\""#,
            r#""caf\u00e9 \ud83d\ude00 \n""#,
            r#""é😀""#,
        ] {
            let raw: &RawValue = serde_json::from_str(json).unwrap();
            let expected: String = serde_json::from_str(json).unwrap();
            assert_eq!(raw_str(raw).as_deref(), Some(expected.as_str()), "{json}");
        }
        let raw: &RawValue = serde_json::from_str("5").unwrap();
        assert_eq!(raw_str(raw), None);
    }

    #[test]
    fn txn_info_reads_like_serde_reads_a_value() {
        let json = r#"{"status":"F","status":"S","transactionId":12,"unknown":{"x":[1,2]},
            "merchantTxn\u0049d":"k","cardNumber":"","reason":{"respCode":"1"}}"#;
        let t: TxnInfo<'_> = serde_json::from_str(json).unwrap();
        assert_eq!(
            t.status.as_deref(),
            Some("S"),
            "the last of a field given twice"
        );
        assert_eq!(t.transaction_id.as_deref(), Some("12"));
        assert_eq!(t.merchant_txn_id.as_deref(), Some("k"));
        assert_eq!(t.card_number, None);
        assert_eq!(t.reason().as_deref(), Some(r#"{"respCode":"1"}"#));
        assert!(matches!(t.status, Some(Cow::Borrowed(_))));
        let t: TxnInfo<'_> =
            serde_json::from_str(r#"{"reason":"{\"respCode\":\"2\",\"respMsg\":\"a\\nb\"}"}"#)
                .unwrap();
        assert!(matches!(t.reason_json, Some(Cow::Borrowed(_))));
        assert_eq!(
            t.reason().as_deref(),
            Some("{\"respCode\":\"2\",\"respMsg\":\"a\\nb\"}")
        );
        for absent in [r#"{"reason":null}"#, r#"{"reason":""}"#, "{}"] {
            let t: TxnInfo<'_> = serde_json::from_str(absent).unwrap();
            assert_eq!(t.reason(), None, "{absent}");
        }
        for refused in [r#"{"reason":"\ud800"}"#, r#"{"reason":[1e400]}"#] {
            assert!(
                serde_json::from_str::<TxnInfo<'_>>(refused).is_err(),
                "{refused}"
            );
            assert!(serde_json::from_str::<Value>(refused).is_err(), "{refused}");
        }
        let t: TxnInfo<'_> = serde_json::from_str(r#"["1","k"]"#).unwrap();
        assert_eq!(t.merchant_txn_id.as_deref(), Some("k"));
        assert!(serde_json::from_str::<TxnInfo<'_>>(r#"{"x":1e400}"#).is_err());
        assert!(serde_json::from_str::<TxnInfo<'_>>(r#""S""#).is_err());
    }
}
