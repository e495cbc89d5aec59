//! YabandPay notifications: verify the HMAC over `data`, then parse into a core
//! [`Notification`].
//!
//! A delivery is `{"sign":"…","data":{…}}` (notify.html). The SDK's `Notify::input` also
//! accepts a form body `resultData=<URL-encoded JSON>`; both are accepted here. The signature
//! is HMAC-SHA256 under the secret key over `data`'s keys only, sorted and joined as
//! `key=value&…` (see [`crate::sign::notify_candidates`] for the variants tried). YabandPay
//! retries until it gets a success answer, so duplicates are normal: use
//! [`Notification::dedup_key`] (`{trade_id}:{state}:{type}`, plus the refund id for refunds).
//! The acknowledgement is a plain-text `ok` ([`ACK_BODY`]), as the official SDK and plugins
//! answer.

use preauth_core::{
    Currency, Error, HoldRef, Money, Notification, NotificationKind, Operation, ProviderDetails,
    Result, WebhookAck, WebhookRejection, WebhookRequest,
};
use serde_json::{Map, Value};

use crate::PROVIDER;
use crate::convert::{PaymentState, RefundState};
use crate::sign;
use crate::wire::{self, NotifyBody};

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

/// The JSON text of a delivery: the body itself, or the `resultData` field of a form body.
fn json_text(body: &[u8]) -> Result<Vec<u8>> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        return Ok(trimmed.to_vec());
    }
    let fields: Vec<(String, String)> =
        serde_urlencoded::from_bytes(trimmed).map_err(|_| malformed())?;
    fields
        .into_iter()
        .find(|(k, _)| k == FORM_FIELD)
        .map(|(_, v)| v.into_bytes())
        .ok_or_else(malformed)
}

/// Splits a delivery into its signature and its `data` object.
///
/// # Errors
/// [`Error::InvalidWebhook`] ([`WebhookRejection::Malformed`] or
/// [`WebhookRejection::MissingSignature`]).
pub fn split(body: &[u8]) -> Result<(String, Map<String, Value>)> {
    let json = json_text(body)?;
    let parsed: NotifyBody = serde_json::from_slice(&json).map_err(|_| malformed())?;
    let data = match parsed.data {
        Some(Value::Object(m)) if !m.is_empty() => m,
        _ => return Err(malformed()),
    };
    let sign = match parsed.sign {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err(Error::webhook(PROVIDER, WebhookRejection::MissingSignature));
        }
        Some(_) => return Err(malformed()),
    };
    Ok((sign, data))
}

/// Verifies a delivery with `secret_key` and parses it. Nothing of the body is read before
/// the signature matched.
///
/// # Errors
/// [`Error::InvalidWebhook`] when the body is malformed, the signature is missing or does not
/// match; [`Error::Protocol`] for a verified notification with an unknown state.
pub fn verify(secret_key: &[u8], req: &WebhookRequest<'_>) -> Result<Notification> {
    let (received, data) = split(req.body())?;
    if !sign::verify_notify(secret_key, &data, &received) {
        return Err(Error::webhook(PROVIDER, WebhookRejection::BadSignature));
    }
    parse(&data)
}

fn protocol(message: &str) -> Error {
    Error::Protocol {
        provider: PROVIDER,
        operation: Operation::VerifyWebhook,
        message: message.to_owned(),
        details: Box::new(ProviderDetails::default()),
    }
}

fn money(data: &Map<String, Value>, amount: &str, currency: &str) -> Result<Option<Money>> {
    let Some(text) = wire::amount_text(data.get(amount)) else {
        return Ok(None);
    };
    let text = text.map_err(|()| malformed())?;
    let code = wire::text(data.get(currency)).ok_or_else(malformed)?;
    let currency = Currency::from_code(code.trim()).map_err(|_| malformed())?;
    Money::parse_major(&text, currency)
        .map(Some)
        .map_err(|_| malformed())
}

/// Parses a verified `data` object.
fn parse(data: &Map<String, Value>) -> Result<Notification> {
    let trade_id = wire::text(data.get("trade_id")).ok_or_else(malformed)?;
    let raw_type = wire::text(data.get("type")).unwrap_or_else(|| "payment".to_owned());
    let kind = match raw_type.trim().to_ascii_lowercase().as_str() {
        "payment" => NotificationKind::Payment,
        "refund" => NotificationKind::Refund,
        _ => NotificationKind::Other,
    };
    let raw_state = wire::text(data.get("state"));
    let hold = match wire::text(data.get("order_id")) {
        Some(order) => HoldRef::both(trade_id.clone(), order),
        None => HoldRef::provider(trade_id.clone()),
    };
    let mut status = None;
    let mut refund_reference = None;
    let amount = match kind {
        NotificationKind::Refund => {
            if let Some(s) = &raw_state
                && RefundState::parse(s).is_none()
                && PaymentState::parse(s).is_none()
            {
                return Err(protocol("unknown refund state in notification"));
            }
            refund_reference =
                wire::text(data.get("refund_id")).or_else(|| wire::text(data.get("m_refund_id")));
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
    let mut dedup_key = format!(
        "{trade_id}:{}:{}",
        raw_state.as_deref().unwrap_or(""),
        raw_type
    );
    if let Some(r) = &refund_reference {
        dedup_key.push(':');
        dedup_key.push_str(r);
    }
    let mut n = Notification::new(PROVIDER, kind, hold, raw_type, dedup_key);
    n.status = status;
    n.amount = amount;
    n.refund_reference = refund_reference;
    n.raw_status = raw_state;
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
            "8a8aa7c7-66d7-e2cc-e2a6-fff7c77aaefd:authorized:payment"
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
        assert_eq!(n.dedup_key, "t-1:refunded:refund:r-key-1");
    }
}
