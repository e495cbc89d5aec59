//! Onerway notifications: verify, then parse into a core [`Notification`].
//!
//! Verification (docs `notify.md`): every non-empty top-level field except
//! [`NOTIFICATION_EXCLUDED`], known or not, sorted by
//! name, values concatenated, the secret key appended, SHA-256, lower-case hex; compared with
//! `sign` in constant time. A value is read by its JSON text when it is not a string (`5`,
//! `true`), and `null` counts as empty.
//!
//! Acknowledge an accepted notification with HTTP 200 and a body that is only its
//! `transactionId` ([`ack`]). Onerway retries deliveries, so use
//! [`Notification::dedup_key`] (`{transactionId}:{status}:{notifyType}`) to drop duplicates.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use preauth_core::webhook::signature_matches;
use preauth_core::{
    Error, HoldRef, HoldStatus, Notification, NotificationKind, Operation, RefundStatus, Result,
    WebhookAck, WebhookRejection,
};
use secrecy::SecretString;
use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use time::UtcOffset;

use crate::PROVIDER;
use crate::convert::{self, FollowUp, TxnKind, TxnStatus, meaning};
#[cfg(test)]
use crate::sign::canonical_values;
use crate::sign::{NOTIFICATION_EXCLUDED, sign_values};
use crate::wire::raw_str;

fn rejected(reason: WebhookRejection) -> Error {
    Error::webhook(PROVIDER, reason)
}

/// The top-level fields of a notification body as text: strings unescaped, other values by
/// their exact JSON text, `null` as `None`.
///
/// # Errors
/// [`WebhookRejection::Malformed`] when the body is not a JSON object.
pub fn fields(body: &[u8]) -> Result<BTreeMap<String, Option<String>>> {
    Ok(borrowed_fields(body)?
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v.map(Cow::into_owned)))
        .collect())
}

/// [`fields`], borrowing every name and value from the body that has no escapes.
type Fields<'a> = BTreeMap<Cow<'a, str>, Option<Cow<'a, str>>>;

/// What [`fields`] reads, borrowed from `body` (a name or string given twice keeps its last
/// value, as a JSON object would).
fn borrowed_fields(body: &[u8]) -> Result<Fields<'_>> {
    struct FieldsVisitor;
    impl<'de> Visitor<'de> for FieldsVisitor {
        type Value = Fields<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Fields<'de>, A::Error> {
            let mut fields = Fields::new();
            while let Some(Name(k)) = map.next_key::<Name<'de>>()? {
                let raw: &'de RawValue = map.next_value()?;
                let text = raw.get();
                let value = if text == "null" {
                    None
                } else if text.starts_with('"') {
                    // A string RawValue is a valid JSON string: unescaping it cannot fail.
                    Some(raw_str(raw).ok_or_else(|| A::Error::custom("malformed string"))?)
                } else {
                    Some(Cow::Borrowed(text))
                };
                fields.insert(k, value);
            }
            Ok(fields)
        }
    }
    /// A field name, borrowed unless it has escapes.
    struct Name<'a>(Cow<'a, str>);
    impl<'de> Deserialize<'de> for Name<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Name<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a field name")
                }
                fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Name<'de>, E> {
                    Ok(Name(Cow::Borrowed(s)))
                }
                fn visit_str<E>(self, s: &str) -> std::result::Result<Name<'de>, E> {
                    Ok(Name(Cow::Owned(s.to_owned())))
                }
                fn visit_string<E>(self, s: String) -> std::result::Result<Name<'de>, E> {
                    Ok(Name(Cow::Owned(s)))
                }
            }
            d.deserialize_str(V)
        }
    }
    // Validated as UTF-8 once, not string by string (a body that is not UTF-8 is not JSON).
    let body = std::str::from_utf8(body).map_err(|_| rejected(WebhookRejection::Malformed))?;
    let mut de = serde_json::Deserializer::from_str(body);
    de.deserialize_map(FieldsVisitor)
        .and_then(|fields| de.end().map(|()| fields))
        .map_err(|_| rejected(WebhookRejection::Malformed))
}

/// The signature Onerway puts in `sign` for these notification fields.
pub fn notification_sign(
    fields: &BTreeMap<String, Option<String>>,
    secret: &SecretString,
) -> String {
    fields_sign(fields, secret)
}

/// [`notification_sign`] of any map of names to values: the values of the signed fields,
/// in name order, hashed one by one with no string built.
fn fields_sign<K, V>(fields: &BTreeMap<K, Option<V>>, secret: &SecretString) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    sign_values(
        fields
            .iter()
            .filter(|(k, _)| !NOTIFICATION_EXCLUDED.contains(&k.as_ref()))
            .filter_map(|(_, v)| v.as_ref().map(AsRef::as_ref))
            .filter(|v| !v.is_empty()),
        secret,
    )
}

/// Verifies a notification body with the merchant's secret key and parses it. Times without
/// a `txnTimeZone` are read in `time_zone`.
///
/// # Errors
/// [`Error::InvalidWebhook`] (missing or wrong signature, not a JSON object, no
/// `transactionId`); [`Error::Protocol`] for a verified notification with a status this crate
/// does not know (do not acknowledge it, so Onerway delivers it again).
pub fn verify(body: &[u8], secret: &SecretString, time_zone: UtcOffset) -> Result<Notification> {
    let fields = borrowed_fields(body)?;
    let received = fields
        .get("sign")
        .and_then(|s| s.as_deref())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| rejected(WebhookRejection::MissingSignature))?;
    let expected = fields_sign(&fields, secret);
    if !signature_matches(&expected, received) {
        return Err(rejected(WebhookRejection::BadSignature));
    }
    parse(&fields, time_zone)
}

fn parse(fields: &Fields<'_>, time_zone: UtcOffset) -> Result<Notification> {
    let get = |k: &str| {
        fields
            .get(k)
            .and_then(|v| v.as_deref())
            .filter(|v| !v.is_empty())
    };
    let transaction_id =
        get("transactionId").ok_or_else(|| rejected(WebhookRejection::Malformed))?;
    let notify_type = get("notifyType").unwrap_or("TXN");
    let txn_type = TxnKind::parse(get("txnType"));
    let raw_status = get("status");
    let status = match raw_status {
        Some(s) => Some(TxnStatus::parse(s).ok_or_else(|| {
            Error::protocol(
                PROVIDER,
                Operation::VerifyWebhook,
                format!(
                    "unknown transaction status {:?}",
                    s.chars().take(8).collect::<String>()
                ),
            )
        })?),
        None => None,
    };

    let kind = match notify_type {
        "CHARGEBACK" => NotificationKind::Dispute,
        "REFUND_AUDIT" => NotificationKind::Refund,
        "TXN" | "CANCEL" if txn_type == TxnKind::Refund => NotificationKind::Refund,
        "TXN" | "CANCEL" => NotificationKind::Payment,
        _ => NotificationKind::Other,
    };
    // A follow-up (capture, void, refund, chargeback) names the transaction it is about in
    // originTransactionId; an AUTH or SALE is the hold itself. For a refund that is the
    // refunded transaction, which is the capture of a pre-authorization.
    let origin = get("originTransactionId");
    let hold = match (txn_type, kind) {
        (TxnKind::Capture | TxnKind::Void | TxnKind::Refund, _)
        | (_, NotificationKind::Dispute)
            if origin.is_some() =>
        {
            hold_ref(origin, get("originMerchantTxnId"))
        }
        _ => hold_ref(Some(transaction_id), get("merchantTxnId")),
    };
    let hold_status = match (kind, txn_type, status) {
        (NotificationKind::Dispute, _, _) => Some(HoldStatus::Disputed),
        (NotificationKind::Refund | NotificationKind::Other, _, _) | (_, _, None) => None,
        (_, TxnKind::Auth | TxnKind::Other, Some(s)) => Some(meaning(s).0),
        (_, TxnKind::Sale, Some(s)) => Some(match meaning(s).0 {
            HoldStatus::Authorized => HoldStatus::Captured,
            other => other,
        }),
        (_, TxnKind::Capture, Some(s)) => match meaning(s).1 {
            FollowUp::Done => Some(HoldStatus::Captured),
            FollowUp::Failed => Some(HoldStatus::Authorized),
            FollowUp::InFlight => None,
        },
        (_, TxnKind::Void, Some(s)) => match meaning(s).1 {
            FollowUp::Done => Some(HoldStatus::Cancelled),
            FollowUp::Failed => Some(HoldStatus::Authorized),
            FollowUp::InFlight => None,
        },
        (_, TxnKind::Refund, Some(_)) => None,
    };

    // `{transactionId}:{status}:{notifyType}[:{chargebackStatus}]`
    let chargeback = get("chargebackStatus");
    let raw_status_text = raw_status.unwrap_or("");
    let mut dedup_key = String::with_capacity(
        transaction_id.len()
            + raw_status_text.len()
            + notify_type.len()
            + chargeback.map_or(0, |c| c.len() + 1)
            + 2,
    );
    for (i, part) in [transaction_id, raw_status_text, notify_type]
        .into_iter()
        .chain(chargeback)
        .enumerate()
    {
        if i > 0 {
            dedup_key.push(':');
        }
        dedup_key.push_str(part);
    }
    let mut n = Notification::new(PROVIDER, kind, hold, notify_type, dedup_key);
    n.status = hold_status;
    n.raw_status = raw_status.map(str::to_owned);
    if kind == NotificationKind::Refund {
        n.refund_reference = Some(transaction_id.to_owned());
        // REFUND_AUDIT is sent only when the audit refuses the refund.
        n.refund_status = match (notify_type, status.map(|s| meaning(s).1)) {
            ("REFUND_AUDIT", _) | (_, Some(FollowUp::Failed)) => Some(RefundStatus::Failed),
            (_, Some(FollowUp::Done)) => Some(RefundStatus::Succeeded),
            (_, Some(FollowUp::InFlight)) => Some(RefundStatus::Pending),
            (_, None) => None,
        };
    }
    let amount = match kind {
        NotificationKind::Dispute if get("chargebackAmount").is_some() => {
            (get("chargebackAmount"), get("chargebackCurrency"))
        }
        _ => (get("orderAmount"), get("orderCurrency")),
    };
    if let (Some(a), Some(c)) = amount {
        n.amount = Some(
            convert::parse_money(Operation::VerifyWebhook, Some(a), Some(c))
                .map_err(|_| rejected(WebhookRejection::Malformed))?,
        );
    }
    n.occurred_at = convert::parse_time(
        get("responseTime").or(get("txnTime")),
        get("txnTimeZone"),
        time_zone,
    );
    Ok(n)
}

fn hold_ref(provider: Option<&str>, merchant: Option<&str>) -> HoldRef {
    let mut r = HoldRef::default();
    r.provider_reference = provider.map(str::to_owned);
    r.merchant_reference = merchant.map(str::to_owned);
    r
}

/// The acknowledgement Onerway expects: HTTP 200, the bare `transactionId` as the body.
pub fn ack(notification: &Notification) -> WebhookAck {
    // The dedup key starts with the transactionId (Onerway ids are digits, never `:`).
    let id = notification.dedup_key.split(':').next().unwrap_or_default();
    WebhookAck::new(200, "text/plain", id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: &str = r#"{"reason":"{\"respCode\":\"20000\",\"respMsg\":\"Success\"}","txnTimeZone":"+08:00","orderCurrency":"EUR","responseTime":"2024-05-21 09:52:03","sign":"fa58c37f1d7fd1e249c6bcc427aa335aa2d7335389908488e8a7f96f54c59485","merchantTxnId":"7517512835003047","txnType":"SALE","transactionId":"1792734932368752640","notifyType":"TXN","orderAmount":"500.00","paymentMethod":"VISA","txnTime":"2024-05-21 09:51:45","txnAmount":"","merchantNo":"800277","status":"S","eci":"5"}"#;

    fn key() -> SecretString {
        SecretString::from("de45ae6504ca46cb94ebd734bb650345")
    }

    #[test]
    fn published_vector_concatenation() {
        let f = fields(VECTOR.as_bytes()).unwrap();
        let values = canonical_values(
            f.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
            NOTIFICATION_EXCLUDED,
        );
        assert_eq!(
            values,
            r#"58002777517512835003047TXN500.00EUR{"respCode":"20000","respMsg":"Success"}2024-05-21 09:52:03S17927349323687526402024-05-21 09:51:45+08:00SALE"#
        );
        assert_eq!(
            notification_sign(&f, &key()),
            "fa58c37f1d7fd1e249c6bcc427aa335aa2d7335389908488e8a7f96f54c59485"
        );
    }

    /// Signs `fields` with `k` and serializes them as Onerway would deliver them.
    fn delivery(mut fields: serde_json::Value) -> Vec<u8> {
        let f = super::fields(&serde_json::to_vec(&fields).unwrap()).unwrap();
        fields["sign"] = notification_sign(&f, &SecretString::from("k")).into();
        serde_json::to_vec(&fields).unwrap()
    }

    fn parse_signed(fields: serde_json::Value) -> Notification {
        verify(&delivery(fields), &SecretString::from("k"), UtcOffset::UTC).unwrap()
    }

    #[test]
    fn follow_ups_name_the_original_transaction() {
        let base = serde_json::json!({
            "notifyType": "TXN", "transactionId": "200", "merchantTxnId": "k1-capture",
            "originTransactionId": "100", "originMerchantTxnId": "k1", "txnType": "CAPTURE",
            "status": "S", "orderAmount": "10.00", "orderCurrency": "USD",
        });
        let n = parse_signed(base.clone());
        assert_eq!(n.kind, NotificationKind::Payment);
        assert_eq!(n.status, Some(HoldStatus::Captured));
        assert_eq!(n.hold.provider_reference.as_deref(), Some("100"));
        assert_eq!(n.hold.merchant_reference.as_deref(), Some("k1"));
        assert_eq!(ack(&n).body, "200");
        let expected = [
            ("CAPTURE", "F", Some(HoldStatus::Authorized)),
            ("CAPTURE", "P", None),
            ("VOID", "S", Some(HoldStatus::Cancelled)),
            ("VOID", "N", Some(HoldStatus::Authorized)),
            ("AUTH", "R", Some(HoldStatus::RequiresAction)),
            ("AUTH", "F", Some(HoldStatus::Declined)),
            ("AUTH", "N", Some(HoldStatus::Cancelled)),
            ("AUTH", "U", Some(HoldStatus::RequiresAction)),
            ("SALE", "S", Some(HoldStatus::Captured)),
        ];
        for (txn_type, status, hold_status) in expected {
            let mut f = base.clone();
            f["txnType"] = txn_type.into();
            f["status"] = status.into();
            assert_eq!(parse_signed(f).status, hold_status, "{txn_type} {status}");
        }
        let mut f = base.clone();
        f["status"] = "Q".into();
        assert!(matches!(
            verify(&delivery(f), &SecretString::from("k"), UtcOffset::UTC),
            Err(Error::Protocol { .. })
        ));
    }

    #[test]
    fn refunds_and_chargebacks() {
        let refund = serde_json::json!({
            "notifyType": "TXN", "transactionId": "300", "txnType": "REFUND",
            "originTransactionId": "200", "status": "S", "orderAmount": "4.00",
            "orderCurrency": "USD",
        });
        let n = parse_signed(refund.clone());
        assert_eq!(n.kind, NotificationKind::Refund);
        assert_eq!(n.refund_reference.as_deref(), Some("300"));
        assert_eq!(n.refund_status, Some(RefundStatus::Succeeded));
        assert_eq!(
            n.status, None,
            "a refund alone does not say whether all was refunded"
        );
        assert_eq!(n.hold.provider_reference.as_deref(), Some("200"));
        let mut audit = refund.clone();
        audit["notifyType"] = "REFUND_AUDIT".into();
        audit["status"] = "F".into();
        let n = parse_signed(audit);
        assert_eq!(n.kind, NotificationKind::Refund);
        assert_eq!(n.refund_status, Some(RefundStatus::Failed));
        let n = parse_signed(serde_json::json!({
            "notifyType": "CHARGEBACK", "transactionId": "400", "txnType": "SALE",
            "originTransactionId": "200", "status": "S", "chargebackStatus": "NEW",
            "chargebackAmount": "10.00", "chargebackCurrency": "USD",
            "orderAmount": "10.00", "orderCurrency": "USD",
        }));
        assert_eq!(n.kind, NotificationKind::Dispute);
        assert_eq!(n.status, Some(HoldStatus::Disputed));
        assert_eq!(n.hold.provider_reference.as_deref(), Some("200"));
        assert_eq!(n.dedup_key, "400:S:CHARGEBACK:NEW");
        assert_eq!(
            n.amount.map(|m| m.to_string()).as_deref(),
            Some("10.00 USD")
        );
        let n =
            parse_signed(serde_json::json!({"notifyType": "SOMETHING_NEW", "transactionId": "5"}));
        assert_eq!((n.kind, n.status), (NotificationKind::Other, None));
        let e = verify(
            &delivery(serde_json::json!({"status": "S"})),
            &SecretString::from("k"),
            UtcOffset::UTC,
        );
        assert!(matches!(
            e,
            Err(Error::InvalidWebhook {
                reason: WebhookRejection::Malformed,
                ..
            })
        ));
    }

    #[test]
    fn numbers_and_nulls_by_their_json_text() {
        let f = fields(br#"{"a":5,"b":null,"c":true,"d":"x\"y","e":1.50}"#).unwrap();
        assert_eq!(f["a"].as_deref(), Some("5"));
        assert_eq!(f["b"], None);
        assert_eq!(f["c"].as_deref(), Some("true"));
        assert_eq!(f["d"].as_deref(), Some("x\"y"));
        assert_eq!(f["e"].as_deref(), Some("1.50"));
        assert!(fields(b"[1,2]").is_err());
        assert!(fields(b"").is_err());
    }
}
