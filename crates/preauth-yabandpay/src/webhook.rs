//! YabandPay notifications: verify the HMAC over `data`, then parse into a core
//! [`Notification`].
//!
//! A delivery is `{"sign":"…","data":{…}}` (notify.html). The SDK's `Notify::input` also
//! accepts a form body `resultData=<URL-encoded JSON>`; both are accepted here. The signature
//! is HMAC-SHA256 under the secret key over `data`'s keys only, sorted and joined as
//! `key=value&…` (see [`crate::sign::notify_candidates`] for the variants tried). YabandPay
//! retries until it gets a success answer, so duplicates are normal: use
//! [`Notification::dedup_key`] (`{trade_id}:{state}:{type}:{amount}`, plus the refund id for
//! refunds; the amount tells a decrement's `authorized` from the authorization's).
//! The acknowledgement is a plain-text `ok` ([`ACK_BODY`]), as the official SDK and plugins
//! answer.

use std::borrow::Cow;

use preauth_core::{
    Currency, Error, HoldRef, Money, Notification, NotificationKind, Operation, ProviderDetails,
    Result, WebhookAck, WebhookRejection, WebhookRequest,
};
use serde_json::{Map, Value};

use crate::PROVIDER;
use crate::convert::{PaymentState, RefundState};
use crate::sign::{self, sign_text};
use crate::wire::{Lenient, NotifyBody, NotifyData};

/// The acknowledgement body YabandPay expects (`text/plain`).
pub const ACK_BODY: &str = "ok";

/// The form field of the `resultData=` body.
pub const FORM_FIELD: &str = "resultData";

/// The answer to an accepted notification: `200`, `text/plain`, `ok`.
pub fn ack(notification: &Notification) -> WebhookAck {
    let _ = notification;
    WebhookAck::new(200, "text/plain", ACK_BODY)
}

fn malformed() -> Error {
    Error::webhook(PROVIDER, WebhookRejection::Malformed)
}

/// The JSON text of a delivery: the body itself (borrowed), or the `resultData` field of a
/// form body.
fn json_text(body: &[u8]) -> Result<Cow<'_, [u8]>> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        return Ok(Cow::Borrowed(trimmed));
    }
    let fields: Vec<(String, String)> =
        serde_urlencoded::from_bytes(trimmed).map_err(|_| malformed())?;
    fields
        .into_iter()
        .find(|(k, _)| k == FORM_FIELD)
        .map(|(_, v)| Cow::Owned(v.into_bytes()))
        .ok_or_else(malformed)
}

/// A delivery's signature and its `data` object, borrowed from `json`.
fn split_borrowed(json: &[u8]) -> Result<(Cow<'_, str>, NotifyData<'_>)> {
    let parsed: NotifyBody<'_> = serde_json::from_slice(json).map_err(|_| malformed())?;
    let data = match parsed.data {
        Some(d) if !d.0.is_empty() => d,
        _ => return Err(malformed()),
    };
    let sign = match parsed.sign {
        Some(Lenient::Str(s)) if !crate::wire::is_blank(&s) => s,
        None | Some(Lenient::Null | Lenient::Str(_)) => {
            return Err(Error::webhook(PROVIDER, WebhookRejection::MissingSignature));
        }
        Some(_) => return Err(malformed()),
    };
    Ok((sign, data))
}

/// Splits a delivery into its signature and its `data` object.
///
/// # Errors
/// [`Error::InvalidWebhook`] ([`WebhookRejection::Malformed`] or
/// [`WebhookRejection::MissingSignature`]).
pub fn split(body: &[u8]) -> Result<(String, Map<String, Value>)> {
    let json = json_text(body)?;
    let (sign, data) = split_borrowed(&json)?;
    Ok((sign.into_owned(), data.into_map()))
}

/// Verifies a delivery with `secret_key` and parses it. Nothing of the body is read before
/// the signature matched.
///
/// # Errors
/// [`Error::InvalidWebhook`] when the body is malformed, the signature is missing or does not
/// match; [`Error::Protocol`] for a verified notification with an unknown state.
pub fn verify(secret_key: &[u8], req: &WebhookRequest<'_>) -> Result<Notification> {
    let json = json_text(req.body())?;
    let (received, data) = split_borrowed(&json)?;
    // The forms of `data` as it is first (`sign::notify_form`), borrowing its strings.
    let as_is: Vec<(&str, Cow<'_, str>)> = data
        .0
        .iter()
        .map(|(k, v)| {
            let text = match v {
                crate::wire::NotifyValue::Str(s) => Cow::Borrowed(s.as_ref()),
                crate::wire::NotifyValue::Other(v) => sign_text(v),
            };
            (k.as_ref(), text)
        })
        .collect();
    if sign::pairs_match(secret_key, &as_is, &received) {
        return parse(&data);
    }
    drop(as_is);
    // Signed over the nested objects merged in: read the fields the same way.
    let map = data.into_map();
    if sign::merged_match(secret_key, &map, &received) {
        return parse(&sign::merge_nested(&map).into_iter().collect::<Map<_, _>>());
    }
    Err(Error::webhook(PROVIDER, WebhookRejection::BadSignature))
}

/// The fields of a notification's `data`, each seen leniently.
trait Fields {
    fn field(&self, key: &str) -> Option<Lenient<'_>>;
}

impl Fields for NotifyData<'_> {
    fn field(&self, key: &str) -> Option<Lenient<'_>> {
        self.get(key).map(crate::wire::NotifyValue::view)
    }
}

impl Fields for Map<String, Value> {
    fn field(&self, key: &str) -> Option<Lenient<'_>> {
        self.get(key).map(Lenient::of_value)
    }
}

fn protocol(message: &str) -> Error {
    Error::Protocol {
        provider: PROVIDER,
        operation: Operation::VerifyWebhook,
        message: message.to_owned(),
        details: Box::new(ProviderDetails::default()),
    }
}

fn money(data: &impl Fields, amount: &str, currency: &str) -> Result<Option<Money>> {
    let amount = data.field(amount);
    let Some(text) = amount.as_ref().and_then(Lenient::amount_text) else {
        return Ok(None);
    };
    let text = text.map_err(|()| malformed())?;
    let code = data
        .field(currency)
        .and_then(Lenient::into_text)
        .ok_or_else(malformed)?;
    let currency = Currency::from_code(code.trim()).map_err(|_| malformed())?;
    Money::parse_major(&text, currency)
        .map(Some)
        .map_err(|_| malformed())
}

/// A text field of a verified notification: absent, `null` or empty is `None`; a string or an
/// integer is its text; any other type is a protocol error (never silently ignored).
fn field<'d>(data: &'d impl Fields, key: &str) -> Result<Option<Cow<'d, str>>> {
    match data.field(key) {
        None | Some(Lenient::Null) => Ok(None),
        Some(v @ (Lenient::Str(_) | Lenient::Int(_))) => Ok(v.into_text()),
        Some(Lenient::Float) => Err(protocol(&format!(
            "{key} in notification is not an integer"
        ))),
        Some(Lenient::Bool(_) | Lenient::Other) => {
            Err(protocol(&format!("{key} in notification is not a string")))
        }
    }
}

/// Parses a verified `data` object.
fn parse(data: &impl Fields) -> Result<Notification> {
    let trade_id = field(data, "trade_id")?.ok_or_else(malformed)?;
    let raw_type = field(data, "type")?.unwrap_or(Cow::Borrowed("payment"));
    let kind = if raw_type.trim().eq_ignore_ascii_case("payment") {
        NotificationKind::Payment
    } else if raw_type.trim().eq_ignore_ascii_case("refund") {
        NotificationKind::Refund
    } else {
        NotificationKind::Other
    };
    let raw_state = field(data, "state")?;
    let hold = match field(data, "order_id")? {
        Some(order) => HoldRef::both(trade_id.as_ref(), order.into_owned()),
        None => HoldRef::provider(trade_id.as_ref()),
    };
    let mut status = None;
    let mut refund_reference = None;
    let mut refund_status = None;
    let amount = match kind {
        NotificationKind::Refund => {
            if let Some(s) = &raw_state {
                refund_status = match (RefundState::parse(s), PaymentState::parse(s)) {
                    (Some(r), _) => Some(r.refund_status()),
                    // A payment state on a refund notification (`paid`, `failed`…) says
                    // nothing certain about the refund itself.
                    (None, Some(_)) => None,
                    (None, None) => {
                        return Err(protocol("unknown refund state in notification"));
                    }
                };
            }
            refund_reference = match field(data, "refund_id")? {
                Some(r) => Some(r),
                None => field(data, "m_refund_id")?,
            };
            match money(data, "refund_amount", "refund_currency")? {
                Some(m) => Some(m),
                None => money(data, "amount", "currency")?,
            }
        }
        _ => {
            if let Some(s) = &raw_state {
                let state = PaymentState::parse(s)
                    .ok_or_else(|| protocol("unknown state in notification"))?;
                status = Some(state.hold_status());
            }
            money(data, "amount", "currency")?
        }
    };
    // The amount is part of the key: a decrement is notified as `authorized` again, with
    // what is held now, and must not pass for a duplicate of the authorization's delivery.
    let mut dedup_key = format!(
        "{trade_id}:{}:{}:{}",
        raw_state.as_deref().unwrap_or(""),
        raw_type,
        amount
            .map(|m| m.to_major_string_trimmed())
            .unwrap_or_default()
    );
    if let Some(r) = &refund_reference {
        dedup_key.push(':');
        dedup_key.push_str(r);
    }
    let mut n = Notification::new(PROVIDER, kind, hold, raw_type.into_owned(), dedup_key);
    n.status = status;
    n.amount = amount;
    n.refund_reference = refund_reference.map(Cow::into_owned);
    n.refund_status = refund_status;
    n.raw_status = raw_state.map(Cow::into_owned);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use preauth_core::HoldStatus;

    const KEY: &[u8] = b"notify-secret";

    fn signed(data: Value) -> Vec<u8> {
        let m = data.as_object().unwrap();
        let string = sign::notify_candidates(m).remove(0);
        let sig = sign::sign(KEY, &string);
        serde_json::to_vec(&serde_json::json!({"sign": sig, "data": data})).unwrap()
    }

    fn docs_example() -> Value {
        // notify.html example fields (values from the docs, state from the state table).
        serde_json::json!({
            "type": "payment",
            "user": "016683",
            "order_id": "190510140815",
            "trade_id": "8a8aa7c7-66d7-e2cc-e2a6-fff7c77aaefd",
            "transaction_id": "4200000298201905227377147799",
            "acquirer_id": "4200000298201905227377147799",
            "amount": "1.00",
            "currency": "EUR",
            "settlement_amount": "1.00",
            "settlement_currency": "EUR",
            "exchange_rate": "1",
            "description": "YabandPay test",
            "demo": "",
            "state": "authorized"
        })
    }

    #[test]
    fn json_and_form_bodies_verify_and_parse() {
        let body = signed(docs_example());
        let n = verify(KEY, &WebhookRequest::new(&[], &body)).unwrap();
        assert_eq!(n.kind, NotificationKind::Payment);
        assert_eq!(
            n.hold,
            HoldRef::both("8a8aa7c7-66d7-e2cc-e2a6-fff7c77aaefd", "190510140815")
        );
        assert_eq!(n.status, Some(HoldStatus::Authorized));
        assert_eq!(
            n.amount,
            Some(Money::parse_major("1.00", Currency::EUR).unwrap())
        );
        assert_eq!(
            n.dedup_key,
            "8a8aa7c7-66d7-e2cc-e2a6-fff7c77aaefd:authorized:payment:1"
        );
        assert_eq!(ack(&n), WebhookAck::new(200, "text/plain", "ok"));

        let form =
            serde_urlencoded::to_string([(FORM_FIELD, String::from_utf8(body).unwrap())]).unwrap();
        let m = verify(KEY, &WebhookRequest::new(&[], form.as_bytes())).unwrap();
        assert_eq!(m, n);
    }

    #[test]
    fn bad_missing_and_malformed_are_rejected() {
        let body = signed(docs_example());
        let e = verify(b"wrong", &WebhookRequest::new(&[], &body)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidWebhook {
                    reason: WebhookRejection::BadSignature,
                    ..
                }
            ),
            "{e}"
        );
        let unsigned = serde_json::to_vec(&serde_json::json!({"data": docs_example()})).unwrap();
        assert!(matches!(
            verify(KEY, &WebhookRequest::new(&[], &unsigned)),
            Err(Error::InvalidWebhook {
                reason: WebhookRejection::MissingSignature,
                ..
            })
        ));
        for bad in [
            &b""[..],
            b"<html></html>",
            b"{\"sign\":\"ab\",\"data\":",
            b"{\"sign\":\"ab\",\"data\":[]}",
            b"{\"sign\":\"ab\",\"data\":{}}",
            b"resultData=%7B",
            b"other=1",
        ] {
            assert!(
                matches!(
                    verify(KEY, &WebhookRequest::new(&[], bad)),
                    Err(Error::InvalidWebhook { .. })
                ),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn unknown_state_after_verification_is_a_protocol_error() {
        let mut data = docs_example();
        data["state"] = Value::from("teleported");
        let e = verify(KEY, &WebhookRequest::new(&[], &signed(data))).unwrap_err();
        assert!(matches!(e, Error::Protocol { .. }), "{e}");
    }

    #[test]
    fn nested_objects_signed_merged_are_read_merged() {
        let data = serde_json::json!({
            "trade_id": "t-2",
            "amount": "5.00",
            "currency": "EUR",
            "3ds": {"3ds_status": "Y", "state": "authorized"}
        });
        let merged = "3ds_status=Y&amount=5.00&currency=EUR&state=authorized&trade_id=t-2";
        let body = serde_json::to_vec(&serde_json::json!({
            "sign": sign::sign(KEY, merged),
            "data": data
        }))
        .unwrap();
        let n = verify(KEY, &WebhookRequest::new(&[], &body)).unwrap();
        assert_eq!(n.status, Some(HoldStatus::Authorized));
        assert_eq!(n.raw_status.as_deref(), Some("authorized"));
    }

    #[test]
    fn verified_fields_of_the_wrong_type_are_protocol_errors() {
        for (key, value) in [
            ("state", serde_json::json!(true)),
            ("state", serde_json::json!(["paid"])),
            ("type", serde_json::json!({"x": 1})),
        ] {
            let mut data = docs_example();
            data[key] = value;
            let e = verify(KEY, &WebhookRequest::new(&[], &signed(data))).unwrap_err();
            assert!(matches!(e, Error::Protocol { .. }), "{key}: {e}");
        }
        // A number with a fraction reached us through a float: its text is not the sender's,
        // so the delivery cannot be verified at all.
        let mut data = docs_example();
        data["order_id"] = serde_json::json!(1.5);
        let e = verify(KEY, &WebhookRequest::new(&[], &signed(data))).unwrap_err();
        assert!(matches!(e, Error::InvalidWebhook { .. }), "{e}");
    }

    #[test]
    fn refund_notifications_carry_the_refund() {
        let data = serde_json::json!({
            "type": "refund",
            "trade_id": "t-1",
            "m_refund_id": "r-key-1",
            "refund_amount": "0.10",
            "refund_currency": "EUR",
            "state": "refunded"
        });
        let n = verify(KEY, &WebhookRequest::new(&[], &signed(data))).unwrap();
        assert_eq!(n.kind, NotificationKind::Refund);
        assert_eq!(n.status, None);
        assert_eq!(n.refund_reference.as_deref(), Some("r-key-1"));
        assert_eq!(n.raw_status.as_deref(), Some("refunded"));
        assert_eq!(n.refund_status, Some(preauth_core::RefundStatus::Succeeded));
        assert_eq!(
            n.amount,
            Some(Money::parse_major("0.10", Currency::EUR).unwrap())
        );
        assert_eq!(n.dedup_key, "t-1:refunded:refund:0.1:r-key-1");
    }
}
