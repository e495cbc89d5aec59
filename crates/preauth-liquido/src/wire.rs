//! Liquido's wire format, named as in its docs: the request bodies (serde `Serialize`, field
//! order as in the docs' examples) and a lenient, total reader of the "charge" object that
//! every charge, capture, cancel, query and refund answer shares.
//!
//! Answers are read in one pass straight from the body's bytes (no `serde_json::Value` tree,
//! strings borrowed from the body): every field is first taken whatever its JSON type, then
//! checked, so that a problem is reported by field name only: serde's own messages can quote
//! values, and values can be card data. Only answers of unknown shape (failures) are read
//! into a `Value`, leniently.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use preauth_core::json::{Skip, skip_map, skip_seq};
use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// `POST /v1/payments/charges/card`. Holds borrowed card data; never `Debug`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChargeRequest<'a> {
    pub(crate) idempotency_key: &'a str,
    pub(crate) amount: i64,
    pub(crate) currency: &'a str,
    pub(crate) country: &'a str,
    pub(crate) payment_method: &'static str,
    pub(crate) payment_flow: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) payer: Option<Payer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card: Option<Card<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card_id: Option<&'a str>,
    pub(crate) capture: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card3ds_info: Option<Card3dsInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) callback_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sub_merchant_id: Option<&'a str>,
}

/// `payer`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payer<'a> {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) document: Option<PayerDocument<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) billing_address: Option<BillingAddress<'a>>,
}

/// `payer.document`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PayerDocument<'a> {
    pub(crate) document_id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
}

/// `payer.billingAddress`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BillingAddress<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) zip_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) district: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) street: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) complement: Option<&'a str>,
    pub(crate) country: &'a str,
}

/// `card`: the secrets are borrowed from the exposed `SecretString`s only while the body is
/// serialized.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Card<'a> {
    pub(crate) card_holder_name: &'a str,
    pub(crate) card_number: &'a str,
    pub(crate) expiration_month: Digits,
    pub(crate) expiration_year: Digits,
    pub(crate) cvc: &'a str,
}

/// A number sent as a string of at least `width` digits (`"05"`, `"2030"`), written straight
/// into the body.
pub(crate) struct Digits {
    pub(crate) value: u16,
    pub(crate) width: usize,
}

impl Serialize for Digits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:0w$}", self.value, w = self.width))
    }
}

/// `card3dsInfo` (docs: payin/three_domain_secure).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Card3dsInfo<'a> {
    pub(crate) use3ds: bool,
    #[serde(rename = "merchantSite3ds")]
    pub(crate) merchant_site_3ds: &'a str,
}

/// The optional body of `POST /v1/payments/charges/card/capture/{idempotencyKey}`.
#[derive(Serialize)]
pub(crate) struct CaptureBody {
    pub(crate) amount: i64,
}

/// `POST /v1/payments/charges/refund`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefundBody<'a> {
    pub(crate) idempotency_key: &'a str,
    pub(crate) reference_id: &'a str,
    pub(crate) amount: i64,
    pub(crate) currency: &'a str,
    pub(crate) country: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) callback_url: Option<&'a str>,
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// Why an answer could not be read. Names a field or a shape, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireError {
    Empty,
    Html,
    NotJson,
    Truncated,
    NotAnObject,
    Missing(&'static str),
    BadType(&'static str, &'static str),
}

impl WireError {
    pub(crate) fn message(&self) -> String {
        match self {
            WireError::Empty => "empty answer".into(),
            WireError::Html => "answer is an HTML page, not JSON".into(),
            WireError::NotJson => "answer is not JSON".into(),
            WireError::Truncated => "answer is truncated JSON".into(),
            WireError::NotAnObject => "answer is not a JSON object".into(),
            WireError::Missing(f) => format!("field {f} is missing"),
            WireError::BadType(f, want) => format!("field {f} is not {want}"),
        }
    }
}

/// Parses a body into a JSON object, classifying failures without quoting the body. Only for
/// answers of unknown shape ([`lenient_details`], read on failure paths); the known answers
/// are read in one typed pass ([`Charge::parse`], [`event`], [`token_answer`]).
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, WireError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err(WireError::Empty);
    }
    if trimmed.first() == Some(&b'<') {
        return Err(WireError::Html);
    }
    match serde_json::from_slice::<Value>(trimmed) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(WireError::NotAnObject),
        Err(e) if e.is_eof() => Err(WireError::Truncated),
        Err(_) => Err(WireError::NotJson),
    }
}

/// Reads a body as the JSON object `T` in one pass straight from the bytes, classifying
/// failures exactly as [`json_object`] does (same trimming, same checks, same syntax errors:
/// every value is read through `deserialize_any`, as a `Value` would be).
///
/// A body that is valid UTF-8 as a whole (any readable answer) is read as text, so that its
/// strings are not checked again one by one; any other is read as bytes, which gives the
/// error a `Value` would (truncated in the middle of a character, or not JSON).
fn read_object<'a, T: Fields<'a>>(body: &'a [u8]) -> Result<T, WireError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err(WireError::Empty);
    }
    if trimmed.first() == Some(&b'<') {
        return Err(WireError::Html);
    }
    let read = match std::str::from_utf8(trimmed) {
        Ok(text) => serde_json::from_str::<Nested<T>>(text),
        Err(_) => serde_json::from_slice::<Nested<T>>(trimmed),
    };
    match read {
        Ok(Nested::Obj(t)) => Ok(t),
        Ok(Nested::Absent | Nested::Other) => Err(WireError::NotAnObject),
        Err(e) if e.is_eof() => Err(WireError::Truncated),
        Err(_) => Err(WireError::NotJson),
    }
}

// The readers below never fail on a value's type: a field of an unexpected type is recorded as
// such ([`Scalar::Other`], [`Nested::Other`]) and reported afterwards, by field name only, in
// the order the checks have always run. The only errors during the pass are JSON syntax errors.

/// An object read field by field: a known key's value goes to its slot (of repeated keys the
/// last wins, as in a map), any other value is validated and dropped ([`Skip`]).
trait Fields<'de>: Default {
    /// Reads the value of `key` into its slot, or skips it.
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;
}

/// Declares a [`Fields`] struct: each field with its slot type and its JSON key.
macro_rules! fields {
    ($(#[$m:meta])* struct $name:ident<$lt:lifetime> { $($field:ident: $ty:ty = $key:literal,)+ }) => {
        $(#[$m])*
        #[derive(Default)]
        struct $name<$lt> {
            $($field: $ty,)+
        }

        impl<$lt> Fields<$lt> for $name<$lt> {
            fn field<A: MapAccess<$lt>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
                match key {
                    $($key => self.$field = map.next_value()?,)+
                    _ => {
                        map.next_value::<Skip>()?;
                    }
                }
                Ok(())
            }
        }
    };
}

/// A map key, borrowed from the body unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A leaf field as read, before its check. `null` counts as absent.
#[derive(Default)]
enum Scalar<'a> {
    #[default]
    Absent,
    /// A string, borrowed from the body unless it has escapes.
    Str(Cow<'a, str>),
    /// A JSON integer that fits an `i64`.
    Int(i64),
    /// Anything else: another number, a boolean, an array, an object.
    Other,
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Int(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Scalar<'de>, E> {
                Ok(i64::try_from(n).map_or(Scalar::Other, Scalar::Int))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Absent)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
                skip_seq(seq).map(|()| Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
                skip_map(map).map(|()| Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'a> Scalar<'a> {
    fn opt_str(self, f: &'static str) -> Result<Option<Cow<'a, str>>, WireError> {
        match self {
            Scalar::Absent => Ok(None),
            Scalar::Str(s) => Ok(Some(s)),
            Scalar::Int(_) | Scalar::Other => Err(WireError::BadType(f, "a string")),
        }
    }

    fn req_str(self, f: &'static str) -> Result<Cow<'a, str>, WireError> {
        self.opt_str(f)?
            .filter(|s| !s.is_empty())
            .ok_or(WireError::Missing(f))
    }

    /// An integer, as a JSON integer or a string of digits (one docs example sends `"300"`).
    fn opt_int(&self, f: &'static str) -> Result<Option<i64>, WireError> {
        match self {
            Scalar::Absent => Ok(None),
            Scalar::Int(n) => Ok(Some(*n)),
            Scalar::Str(s)
                if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                s.parse::<i64>()
                    .map(Some)
                    .map_err(|_| WireError::BadType(f, "an integer"))
            }
            Scalar::Str(_) | Scalar::Other => Err(WireError::BadType(f, "an integer")),
        }
    }
}

/// An object field as read, before its check. `null` counts as absent.
#[derive(Default)]
enum Nested<T> {
    #[default]
    Absent,
    Obj(T),
    /// Not an object.
    Other,
}

impl<'de, T: Fields<'de>> Deserialize<'de> for Nested<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Fields<'de>> Visitor<'de> for V<T> {
            type Value = Nested<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Nested<T>, E> {
                Ok(Nested::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Nested<T>, E> {
                Ok(Nested::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Nested<T>, E> {
                Ok(Nested::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Nested<T>, E> {
                Ok(Nested::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Nested<T>, E> {
                Ok(Nested::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Nested<T>, E> {
                Ok(Nested::Absent)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Nested<T>, A::Error> {
                skip_seq(seq).map(|()| Nested::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Nested<T>, A::Error> {
                let mut t = T::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    t.field(&key, &mut map)?;
                }
                Ok(Nested::Obj(t))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<T> Nested<T> {
    fn opt(self, f: &'static str) -> Result<Option<T>, WireError> {
        match self {
            Nested::Absent => Ok(None),
            Nested::Obj(t) => Ok(Some(t)),
            Nested::Other => Err(WireError::BadType(f, "an object")),
        }
    }
}

fields! {
    /// The charge object's fields, as read.
    struct ChargeFields<'a> {
        transfer_status_code: Scalar<'a> = "transferStatusCode",
        transfer_error_msg: Scalar<'a> = "transferErrorMsg",
        idempotency_key: Scalar<'a> = "idempotencyKey",
        reference_id: Scalar<'a> = "referenceId",
        payment_method: Scalar<'a> = "paymentMethod",
        amount: Scalar<'a> = "amount",
        currency: Scalar<'a> = "currency",
        final_amount: Scalar<'a> = "finalAmount",
        final_currency: Scalar<'a> = "finalCurrency",
        country: Scalar<'a> = "country",
        create_time: Scalar<'a> = "createTime",
        final_status_time: Scalar<'a> = "finalStatusTime",
        transfer_status: Scalar<'a> = "transferStatus",
        callback_url: Scalar<'a> = "callbackUrl",
        transfer_details: Nested<TransferDetailsFields<'a>> = "transferDetails",
    }
}

fields! {
    /// `transferDetails`.
    struct TransferDetailsFields<'a> {
        card: Nested<CardFields<'a>> = "card",
    }
}

fields! {
    /// `transferDetails.card`.
    struct CardFields<'a> {
        card_info: Nested<CardInfoFields<'a>> = "cardInfo",
        card3ds_info: Nested<Card3dsFields<'a>> = "card3dsInfo",
    }
}

fields! {
    /// `transferDetails.card.cardInfo`.
    struct CardInfoFields<'a> {
        brand: Scalar<'a> = "brand",
        last4: Scalar<'a> = "last4",
        expiration_month: Scalar<'a> = "expirationMonth",
        expiration_year: Scalar<'a> = "expirationYear",
    }
}

fields! {
    /// `transferDetails.card.card3dsInfo`.
    struct Card3dsFields<'a> {
        three_ds_redirect_url: Scalar<'a> = "threeDsRedirectUrl",
    }
}

/// The charge object (docs: "common response fields"), also used for refunds. Its strings are
/// borrowed from the answer's body (owned only when they had JSON escapes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Charge<'a> {
    pub(crate) transfer_status_code: Option<i64>,
    pub(crate) transfer_error_msg: Option<Cow<'a, str>>,
    pub(crate) idempotency_key: Cow<'a, str>,
    pub(crate) reference_id: Option<Cow<'a, str>>,
    pub(crate) payment_method: Option<Cow<'a, str>>,
    pub(crate) amount: i64,
    pub(crate) currency: Cow<'a, str>,
    pub(crate) final_amount: Option<i64>,
    pub(crate) final_currency: Option<Cow<'a, str>>,
    pub(crate) country: Option<Cow<'a, str>>,
    pub(crate) create_time: Option<Cow<'a, str>>,
    pub(crate) final_status_time: Option<Cow<'a, str>>,
    pub(crate) transfer_status: Cow<'a, str>,
    pub(crate) callback_url: Option<Cow<'a, str>>,
    pub(crate) card_info: Option<CardInfo<'a>>,
    pub(crate) three_ds_redirect_url: Option<Cow<'a, str>>,
}

/// `transferDetails.card.cardInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct CardInfo<'a> {
    pub(crate) brand: Option<Cow<'a, str>>,
    pub(crate) last4: Option<Cow<'a, str>>,
    pub(crate) expiration_month: Option<i64>,
    pub(crate) expiration_year: Option<i64>,
}

impl<'a> Charge<'a> {
    /// Reads an answer whose body is a charge object, in one pass. Unknown fields are
    /// ignored; `null` counts as absent.
    pub(crate) fn parse(body: &'a [u8]) -> Result<Charge<'a>, WireError> {
        read_object::<ChargeFields<'a>>(body).and_then(Charge::from_fields)
    }

    /// Checks the fields as read, in a fixed order (the first problem is the one reported).
    fn from_fields(o: ChargeFields<'a>) -> Result<Charge<'a>, WireError> {
        let amount = o
            .amount
            .opt_int("amount")?
            .ok_or(WireError::Missing("amount"))?;
        if amount < 0 {
            return Err(WireError::BadType("amount", "a non-negative integer"));
        }
        let final_amount = o.final_amount.opt_int("finalAmount")?;
        if final_amount.is_some_and(|a| a < 0) {
            return Err(WireError::BadType("finalAmount", "a non-negative integer"));
        }
        let mut card_info = None;
        let mut three_ds_redirect_url = None;
        if let Some(card) = o
            .transfer_details
            .opt("transferDetails")?
            .map(|d| d.card.opt("card"))
            .transpose()?
            .flatten()
        {
            if let Some(ci) = card.card_info.opt("cardInfo")? {
                card_info = Some(CardInfo {
                    brand: ci.brand.opt_str("brand")?,
                    last4: ci.last4.opt_str("last4")?,
                    expiration_month: ci.expiration_month.opt_int("expirationMonth")?,
                    expiration_year: ci.expiration_year.opt_int("expirationYear")?,
                });
            }
            if let Some(tds) = card.card3ds_info.opt("card3dsInfo")? {
                three_ds_redirect_url = tds
                    .three_ds_redirect_url
                    .opt_str("threeDsRedirectUrl")?
                    .filter(|u| !u.is_empty());
            }
        }
        Ok(Charge {
            transfer_status_code: o.transfer_status_code.opt_int("transferStatusCode")?,
            transfer_error_msg: o.transfer_error_msg.opt_str("transferErrorMsg")?,
            idempotency_key: o.idempotency_key.req_str("idempotencyKey")?,
            reference_id: o.reference_id.opt_str("referenceId")?,
            payment_method: o.payment_method.opt_str("paymentMethod")?,
            amount,
            currency: o.currency.req_str("currency")?,
            final_amount,
            final_currency: o.final_currency.opt_str("finalCurrency")?,
            country: o.country.opt_str("country")?,
            create_time: o.create_time.opt_str("createTime")?,
            final_status_time: o.final_status_time.opt_str("finalStatusTime")?,
            transfer_status: o.transfer_status.req_str("transferStatus")?,
            callback_url: o.callback_url.opt_str("callbackUrl")?,
            card_info,
            three_ds_redirect_url,
        })
    }

    /// Whether the request behind this answer failed (`transferStatusCode` other than 200).
    pub(crate) fn failed(&self) -> bool {
        self.transfer_status_code.is_some_and(|c| c != 200)
    }
}

fields! {
    /// A notification: `{"eventType": …, "data": {"chargeDetails": {…charge…}}}`.
    struct EventFields<'a> {
        event_type: Scalar<'a> = "eventType",
        data: Nested<EventDataFields<'a>> = "data",
    }
}

fields! {
    /// A notification's `data`.
    struct EventDataFields<'a> {
        charge_details: Nested<ChargeFields<'a>> = "chargeDetails",
    }
}

/// A notification's body: its `eventType` and `data.chargeDetails`.
#[derive(Debug)]
pub(crate) struct Event<'a> {
    pub(crate) event_type: Cow<'a, str>,
    pub(crate) charge: Charge<'a>,
}

/// Reads a notification's body in one pass.
pub(crate) fn event(body: &[u8]) -> Result<Event<'_>, WireError> {
    let root = read_object::<EventFields<'_>>(body)?;
    let event_type = root.event_type.req_str("eventType")?;
    let details = root
        .data
        .opt("data")?
        .ok_or(WireError::Missing("data"))?
        .charge_details
        .opt("chargeDetails")?
        .ok_or(WireError::Missing("chargeDetails"))?;
    Ok(Event {
        event_type,
        charge: Charge::from_fields(details)?,
    })
}

/// The failure fields of an answer of unknown shape: `transferStatusCode`/`transferErrorMsg`
/// (charge API), `code`/`message` and `data.errorMessage` (payment-link API), `error` /
/// `error_description` (OAuth2). `None` for a field that is absent or of another type.
pub(crate) fn lenient_details(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(m) = json_object(body) else {
        return (None, None);
    };
    let text = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let pick = |keys: &[&str]| keys.iter().find_map(|k| m.get(*k).and_then(text));
    let code = pick(&["transferStatusCode", "code", "error", "errorCode"]);
    let message = pick(&[
        "transferErrorMsg",
        "message",
        "error_description",
        "errorMessage",
    ])
    .or_else(|| {
        m.get("data")
            .and_then(|d| d.get("errorMessage"))
            .and_then(text)
    });
    (code, message.map(|s| truncate(&s, 200)))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

fields! {
    /// The token endpoint's answer, as read.
    struct TokenFields<'a> {
        access_token: Scalar<'a> = "access_token",
        expires_in: Scalar<'a> = "expires_in",
        token_type: Scalar<'a> = "token_type",
    }
}

/// The token endpoint's answer: `{access_token, expires_in, token_type}`. Its `Debug` never
/// shows the token.
pub(crate) struct TokenAnswer<'a> {
    pub(crate) access_token: Cow<'a, str>,
    pub(crate) expires_in: u64,
}

impl fmt::Debug for TokenAnswer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"[REDACTED]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Reads `{access_token, expires_in, token_type}`.
pub(crate) fn token_answer(body: &[u8]) -> Result<TokenAnswer<'_>, WireError> {
    let o = read_object::<TokenFields<'_>>(body)?;
    let access_token = o.access_token.req_str("access_token")?;
    let expires_in = o
        .expires_in
        .opt_int("expires_in")?
        .ok_or(WireError::Missing("expires_in"))?;
    let expires_in =
        u64::try_from(expires_in)
            .ok()
            .filter(|s| *s > 0)
            .ok_or(WireError::BadType(
                "expires_in",
                "a positive number of seconds",
            ))?;
    if let Some(t) = o.token_type.opt_str("token_type")?
        && !t.eq_ignore_ascii_case("bearer")
    {
        return Err(WireError::BadType("token_type", "Bearer"));
    }
    Ok(TokenAnswer {
        access_token,
        expires_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    /// The reader of today's answers before the typed pass: a `Value` tree, read field by
    /// field with the same checks. The differential tests below compare the two.
    #[derive(Clone, Copy)]
    struct Obj<'a>(&'a Map<String, Value>);

    impl<'a> Obj<'a> {
        fn get(&self, f: &str) -> Scalar<'a> {
            match self.0.get(f) {
                None | Some(Value::Null) => Scalar::Absent,
                Some(Value::String(s)) => Scalar::Str(Cow::Borrowed(s)),
                Some(Value::Number(n)) => n.as_i64().map_or(Scalar::Other, Scalar::Int),
                Some(_) => Scalar::Other,
            }
        }

        fn opt_str(&self, f: &'static str) -> Result<Option<Cow<'a, str>>, WireError> {
            self.get(f).opt_str(f)
        }

        fn req_str(&self, f: &'static str) -> Result<Cow<'a, str>, WireError> {
            self.get(f).req_str(f)
        }

        fn opt_int(&self, f: &'static str) -> Result<Option<i64>, WireError> {
            self.get(f).opt_int(f)
        }

        fn opt_obj(&self, f: &'static str) -> Result<Option<Obj<'a>>, WireError> {
            match self.0.get(f) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(m)) => Ok(Some(Obj(m))),
                Some(_) => Err(WireError::BadType(f, "an object")),
            }
        }
    }

    fn owned(s: Cow<'_, str>) -> Cow<'static, str> {
        Cow::Owned(s.into_owned())
    }

    /// `Charge::from_obj` as it was.
    fn old_from_obj(o: Obj<'_>) -> Result<Charge<'static>, WireError> {
        let s = |f: &'static str| o.opt_str(f).map(|v| v.map(owned));
        let amount = o.opt_int("amount")?.ok_or(WireError::Missing("amount"))?;
        if amount < 0 {
            return Err(WireError::BadType("amount", "a non-negative integer"));
        }
        let final_amount = o.opt_int("finalAmount")?;
        if final_amount.is_some_and(|a| a < 0) {
            return Err(WireError::BadType("finalAmount", "a non-negative integer"));
        }
        let mut card_info = None;
        let mut three_ds_redirect_url = None;
        if let Some(card) = o
            .opt_obj("transferDetails")?
            .map(|d| d.opt_obj("card"))
            .transpose()?
            .flatten()
        {
            if let Some(ci) = card.opt_obj("cardInfo")? {
                card_info = Some(CardInfo {
                    brand: ci.opt_str("brand")?.map(owned),
                    last4: ci.opt_str("last4")?.map(owned),
                    expiration_month: ci.opt_int("expirationMonth")?,
                    expiration_year: ci.opt_int("expirationYear")?,
                });
            }
            if let Some(tds) = card.opt_obj("card3dsInfo")? {
                three_ds_redirect_url = tds
                    .opt_str("threeDsRedirectUrl")?
                    .filter(|u| !u.is_empty())
                    .map(owned);
            }
        }
        Ok(Charge {
            transfer_status_code: o.opt_int("transferStatusCode")?,
            transfer_error_msg: s("transferErrorMsg")?,
            idempotency_key: owned(o.req_str("idempotencyKey")?),
            reference_id: s("referenceId")?,
            payment_method: s("paymentMethod")?,
            amount,
            currency: owned(o.req_str("currency")?),
            final_amount,
            final_currency: s("finalCurrency")?,
            country: s("country")?,
            create_time: s("createTime")?,
            final_status_time: s("finalStatusTime")?,
            transfer_status: owned(o.req_str("transferStatus")?),
            callback_url: s("callbackUrl")?,
            card_info,
            three_ds_redirect_url,
        })
    }

    fn old_charge(body: &[u8]) -> Result<Charge<'static>, WireError> {
        let m = json_object(body)?;
        old_from_obj(Obj(&m))
    }

    /// The webhook's reading as it was (any error is a malformed notification).
    fn old_event(body: &[u8]) -> Option<(String, Charge<'static>)> {
        let m = json_object(body).ok()?;
        let root = Obj(&m);
        let event = root.req_str("eventType").ok()?.into_owned();
        let details = root
            .opt_obj("data")
            .ok()??
            .opt_obj("chargeDetails")
            .ok()??;
        Some((event, old_from_obj(details).ok()?))
    }

    fn old_token(body: &[u8]) -> Result<(String, u64), WireError> {
        let m = json_object(body)?;
        let o = Obj(&m);
        let access_token = o.req_str("access_token")?.into_owned();
        let expires_in = o
            .opt_int("expires_in")?
            .ok_or(WireError::Missing("expires_in"))?;
        let expires_in =
            u64::try_from(expires_in)
                .ok()
                .filter(|s| *s > 0)
                .ok_or(WireError::BadType(
                    "expires_in",
                    "a positive number of seconds",
                ))?;
        if let Some(t) = o.opt_str("token_type")?
            && !t.eq_ignore_ascii_case("bearer")
        {
            return Err(WireError::BadType("token_type", "Bearer"));
        }
        Ok((access_token, expires_in))
    }

    const KEYS: &[&str] = &[
        "transferStatusCode",
        "transferErrorMsg",
        "idempotencyKey",
        "referenceId",
        "paymentMethod",
        "amount",
        "currency",
        "finalAmount",
        "finalCurrency",
        "country",
        "createTime",
        "finalStatusTime",
        "transferStatus",
        "callbackUrl",
        "transferDetails",
        "card",
        "cardInfo",
        "card3dsInfo",
        "brand",
        "last4",
        "expirationMonth",
        "expirationYear",
        "threeDsRedirectUrl",
        "eventType",
        "data",
        "chargeDetails",
        "access_token",
        "expires_in",
        "token_type",
        "amo\\u0075nt",
        "curr\\u0065ncy",
        "x",
        "",
    ];

    const LEAVES: &[&str] = &[
        "null",
        "true",
        "false",
        "0",
        "-0",
        "-1",
        "300",
        "15000",
        "1.5",
        "3e2",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "-9223372036854775808",
        "\"\"",
        "\"300\"",
        "\"-1\"",
        "\"0300\"",
        "\"3.0\"",
        "\"9999999999999999999\"",
        "\"123456789012345678\"",
        "\"BRL\"",
        "\"USD\"",
        "\"AUTHORIZED\"",
        "\"SETTLED\"",
        "\"IN_PROGRESS\"",
        "\"k-1\"",
        "\"k-\\u0031\"",
        "\"a\\u00e9\\n\\\"\"",
        "\"café ✓ ação\"",
        "\"\\ud83d\\ude00\"",
        "\"https://x.example/3ds\"",
        "\"Bearer\"",
        "\"mac\"",
        "\"VISA\"",
        "\"1111\"",
        "\"12\"",
        "\"2022-03-01 17:53:18 GMT-08:00\"",
        "[]",
        "{}",
    ];

    /// Not JSON, though close: a number out of range, a lone surrogate, a bad escape.
    const BAD_LEAVES: &[&str] = &["1e400", "-1e400", "\"\\ud800\"", "\"\\x\"", "01", "tru"];

    fn leaf() -> impl Strategy<Value = String> {
        prop_oneof![
            100 => prop::sample::select(LEAVES),
            10 => Just("null"),
            1 => prop::sample::select(BAD_LEAVES),
        ]
        .prop_map(str::to_owned)
    }

    /// `transferDetails`, each of its parts kept or replaced.
    fn transfer_details() -> impl Strategy<Value = String> {
        fn v(base: String) -> impl Strategy<Value = String> {
            prop_oneof![8 => Just(base), 1 => value()]
        }
        let info = (
            v("\"VISA\"".into()),
            v("\"1111\"".into()),
            v("12".into()),
            v("\"2030\"".into()),
        )
            .prop_flat_map(|(brand, last4, month, year)| {
                v(format!(
                    r#"{{"brand":{brand},"last4":{last4},"expirationMonth":{month},"expirationYear":{year}}}"#
                ))
            });
        let tds = v("\"https://x.example/3ds\"".into())
            .prop_flat_map(|url| v(format!(r#"{{"threeDsRedirectUrl":{url}}}"#)));
        (info, tds, prop::option::weighted(0.2, key()))
            .prop_flat_map(|(info, tds, extra)| {
                let extra = extra.map(|k| format!(",{k}:null")).unwrap_or_default();
                v(format!(
                    r#"{{"cardInfo":{info},"card3dsInfo":{tds}{extra}}}"#
                ))
            })
            .prop_flat_map(|card| v(format!(r#"{{"card":{card}}}"#)))
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(KEYS).prop_map(|k| format!("\"{k}\""))
    }

    fn entries(es: &[(String, String)]) -> String {
        es.iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn value() -> impl Strategy<Value = String> {
        leaf().prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec((key(), inner.clone()), 0..6)
                    .prop_map(|es| format!("{{{}}}", entries(&es))),
                prop::collection::vec(inner, 0..4).prop_map(|vs| format!("[{}]", vs.join(","))),
            ]
        })
    }

    const BASE: &[(&str, &str)] = &[
        ("\"idempotencyKey\"", "\"k-1\""),
        ("\"amount\"", "30000"),
        ("\"currency\"", "\"BRL\""),
        ("\"transferStatus\"", "\"AUTHORIZED\""),
        ("\"transferStatusCode\"", "200"),
        // Its value comes from `transfer_details()`.
        ("\"transferDetails\"", "{}"),
        ("\"access_token\"", "\"eyJ\""),
        ("\"expires_in\"", "3600"),
        ("\"token_type\"", "\"Bearer\""),
    ];

    /// A body near a charge (or token) object: the base fields, some replaced or dropped,
    /// random fields before and after (repeated keys included), maybe cut short or wrapped in
    /// whitespace, maybe not an object at all.
    fn body() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(prop::option::weighted(0.9, Just(())), BASE.len()),
            prop::collection::vec(prop::option::weighted(0.1, value()), BASE.len()),
            transfer_details(),
            prop::collection::vec((key(), value()), 0..4),
            prop::collection::vec((key(), value()), 0..4),
            prop::option::weighted(0.15, any::<prop::sample::Index>()),
            prop::option::weighted(0.1, value()),
            any::<bool>(),
        )
            .prop_map(|(keep, replace, details, before, after, cut, whole, ws)| {
                let mut es = before;
                for (i, (k, v)) in BASE.iter().enumerate() {
                    if keep[i].is_some() {
                        let v = match (&replace[i], *k) {
                            (Some(r), _) => r.clone(),
                            (None, "\"transferDetails\"") => details.clone(),
                            (None, _) => (*v).to_owned(),
                        };
                        es.push(((*k).to_owned(), v));
                    }
                }
                es.extend(after);
                let mut text = whole.unwrap_or_else(|| format!("{{{}}}", entries(&es)));
                if let Some(cut) = cut {
                    let mut at = cut.index(text.len() + 1);
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    text.truncate(at);
                }
                if ws {
                    text = format!(" \n{text}\t ");
                }
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2048,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// The one-pass readers give exactly what the `Value` readers gave: the same values,
        /// the same error (field and kind) for every body.
        #[test]
        fn typed_readers_match_the_value_readers(text in body(), cut in any::<prop::sample::Index>()) {
            let b = text.as_bytes();
            prop_assert_eq!(Charge::parse(b), old_charge(b), "{}", text);
            // Cut anywhere, in the middle of a character too.
            let part = &b[..cut.index(b.len() + 1)];
            prop_assert_eq!(Charge::parse(part), old_charge(part), "{:?}", part);
            prop_assert_eq!(
                token_answer(b).map(|t| (t.access_token.into_owned(), t.expires_in)),
                old_token(b),
                "{}",
                text
            );
            for wrapped in [
                format!(r#"{{"eventType":"CHARGE_SUCCEEDED","data":{{"chargeDetails":{text}}}}}"#),
                format!(r#"{{"data":{{"chargeDetails":{text},"x":1}},"eventType":"CHARGE_REFUND_SUCCEEDED"}}"#),
                format!(r#"{{"eventType":{text},"data":{text}}}"#),
                text.clone(),
            ] {
                let w = wrapped.as_bytes();
                prop_assert_eq!(
                    event(w).ok().map(|e| (e.event_type.into_owned(), e.charge)),
                    old_event(w),
                    "{}",
                    wrapped
                );
            }
        }
    }

    #[test]
    fn typed_reader_classifies_like_json_object() {
        for body in [
            &b""[..],
            b"  \n",
            b"<html>",
            b"{\"a\": tru",
            b"{\"a\": 1",
            b"nope",
            b"[1]",
            b"null",
            b"\"x\"",
            b"{} x",
            b"[1, tru",
            b"{\"a\": 1e400}",
            b"{\"a\": \"\\ud800\"}",
            b"{\"a\": \"\xff\"}",
            b"{\"a\": \"\xc3",
            b"{\"a\": \"\xc3\xa9",
            b"{\"a\": \xc3\xa9",
            b"{\"a\": 1, \xff",
            b"{\"a\xff\": 1}",
            b"{\"a\": 1,}",
        ] {
            let old = old_charge(body).map(|_| ());
            assert_eq!(Charge::parse(body).map(|_| ()), old, "{body:?}");
            assert!(old.is_err());
        }
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let c = Charge::parse(
            br#"{"idempotencyKey":"k-1","amount":"300","currency":"BRL","transferStatus":"SETTLED","country":"B\u0052"}"#,
        )
        .unwrap();
        assert!(matches!(c.idempotency_key, Cow::Borrowed("k-1")));
        assert_eq!(c.amount, 300);
        assert!(matches!(c.country.as_deref(), Some("BR")));
        assert!(matches!(c.country, Some(Cow::Owned(_))));
        let e = Charge::parse(
            br#"{"idempotencyKey":"k-1","amount":300,"amount":"4111111111111111111","currency":"BRL","transferStatus":"SETTLED"}"#,
        )
        .unwrap_err();
        assert_eq!(e, WireError::BadType("amount", "an integer"));
        assert!(!e.message().contains("4111"));
    }

    #[test]
    fn token_answer_debug_redacts() {
        let t = token_answer(br#"{"access_token":"eyJsecret","expires_in":3600}"#).unwrap();
        assert!(!format!("{t:?}").contains("eyJsecret"));
    }

    #[test]
    fn json_object_classifies_without_quoting() {
        assert_eq!(json_object(b"").unwrap_err(), WireError::Empty);
        assert_eq!(json_object(b"  \n").unwrap_err(), WireError::Empty);
        assert_eq!(json_object(b"<html>").unwrap_err(), WireError::Html);
        assert_eq!(
            json_object(b"{\"a\": tru").unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(json_object(b"{\"a\": 1").unwrap_err(), WireError::Truncated);
        assert_eq!(json_object(b"nope").unwrap_err(), WireError::NotJson);
        assert_eq!(json_object(b"[1]").unwrap_err(), WireError::NotAnObject);
        assert!(json_object(b"{}").is_ok());
    }

    #[test]
    fn ints_accept_digit_strings_only() {
        let m: Map<String, Value> =
            serde_json::from_str(r#"{"a":1,"b":"300","c":1.5,"d":"-1","e":true,"f":null}"#)
                .unwrap();
        let o = Obj(&m);
        assert_eq!(o.opt_int("a").unwrap(), Some(1));
        assert_eq!(o.opt_int("b").unwrap(), Some(300));
        assert!(o.opt_int("c").is_err());
        assert!(o.opt_int("d").is_err());
        assert!(o.opt_int("e").is_err());
        assert_eq!(o.opt_int("f").unwrap(), None);
        assert_eq!(o.opt_int("g").unwrap(), None);
    }

    #[test]
    fn lenient_details_shapes() {
        assert_eq!(
            lenient_details(br#"{"transferStatusCode":2001,"transferErrorMsg":"declined"}"#),
            (Some("2001".into()), Some("declined".into()))
        );
        assert_eq!(
            lenient_details(br#"{"code":400,"message":"bad","data":{"errorMessage":"x"}}"#),
            (Some("400".into()), Some("bad".into()))
        );
        assert_eq!(
            lenient_details(br#"{"code":400,"data":{"errorMessage":"x"}}"#),
            (Some("400".into()), Some("x".into()))
        );
        assert_eq!(
            lenient_details(br#"{"error":"invalid_client"}"#),
            (Some("invalid_client".into()), None)
        );
        assert_eq!(lenient_details(b"<html>"), (None, None));
        assert_eq!(
            lenient_details(br#"{"message":{"nested":1}}"#),
            (None, None)
        );
    }

    #[test]
    fn token_answers() {
        let t = token_answer(br#"{"access_token":"eyJ","expires_in":3600,"token_type":"Bearer"}"#)
            .unwrap();
        assert_eq!(t.expires_in, 3600);
        assert!(token_answer(br#"{"access_token":"eyJ","expires_in":0}"#).is_err());
        assert!(token_answer(br#"{"access_token":"","expires_in":10}"#).is_err());
        assert!(token_answer(br#"{"expires_in":10}"#).is_err());
        assert!(
            token_answer(br#"{"access_token":"a","expires_in":10,"token_type":"mac"}"#).is_err()
        );
    }
}
