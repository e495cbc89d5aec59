//! Known-answer tests: the three published vectors of the facts file, through the public API.

use std::collections::BTreeMap;

use preauth_core::{HoldStatus, NotificationKind, WebhookRejection};
use preauth_onerway::sign::{
    NOTIFICATION_EXCLUDED, REQUEST_EXCLUDED, canonical_values, sign, wire_value,
};
use preauth_onerway::webhook::{ack, fields, notification_sign, verify};
use secrecy::SecretString;
use serde_json::{Value, json};
use time::UtcOffset;
use time::macros::datetime;

/// (a) docs `sign.md`: `test2` is Signed=No, `test5` empty and `test6` null are dropped,
/// `test1 = "0"` is kept.
#[test]
fn request_vector_a_sign_md() {
    let params = [
        ("test3", Some("test3value")),
        ("test2", Some("test2value")),
        ("test1", Some("0")),
        ("test5", Some("")),
        ("test4", Some("test4value")),
        ("test6", None),
    ];
    let values = canonical_values(params, &["test2", "sign"]);
    assert_eq!(
        format!("{values}3b5e10b65bff4172a5b9ca2d2ec00a6e"),
        "0test3valuetest4value3b5e10b65bff4172a5b9ca2d2ec00a6e"
    );
    assert_eq!(
        sign(
            &values,
            &SecretString::from("3b5e10b65bff4172a5b9ca2d2ec00a6e")
        ),
        "836831ae68fce5e61d4a64363bb72c636efe6e94b62ecaa8d1c95fc58cc9cbed"
    );
}

/// (b) showcase `tests/gateway.test.ts`: a nested object travels as a JSON string whose
/// own array is a JSON string inside it.
#[test]
fn request_vector_b_showcase_nested_json_string() {
    let payload = json!({
        "z": "last",
        "a": "first",
        "nested": {"appId": "app", "products": [{"currency": "USD", "price": "5.00"}]},
        "empty": "",
        "nil": null,
        "sign": "ignored",
    });
    let Value::Object(map) = payload else {
        unreachable!()
    };
    let wire: BTreeMap<String, Option<String>> = map
        .iter()
        .map(|(k, v)| (k.clone(), wire_value(v)))
        .collect();
    let nested = r#"{"appId":"app","products":"[{\"currency\":\"USD\",\"price\":\"5.00\"}]"}"#;
    assert_eq!(wire["nested"].as_deref(), Some(nested));
    let values = canonical_values(
        wire.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
        REQUEST_EXCLUDED,
    );
    assert_eq!(values, format!("first{nested}last"));
    assert_eq!(
        sign(&values, &SecretString::from("secret")),
        "7037dfbd20a6e54890f8e0a1f947ef6568dc17a80e67ef6aed5142259e700ff0"
    );
}

const NOTIFICATION: &str = r#"{"reason":"{\"respCode\":\"20000\",\"respMsg\":\"Success\"}","txnTimeZone":"+08:00","orderCurrency":"EUR","responseTime":"2024-05-21 09:52:03","sign":"fa58c37f1d7fd1e249c6bcc427aa335aa2d7335389908488e8a7f96f54c59485","merchantTxnId":"7517512835003047","txnType":"SALE","transactionId":"1792734932368752640","notifyType":"TXN","orderAmount":"500.00","paymentMethod":"VISA","txnTime":"2024-05-21 09:51:45","txnAmount":"","merchantNo":"800277","status":"S","eci":"5"}"#;

fn docs_key() -> SecretString {
    SecretString::from("de45ae6504ca46cb94ebd734bb650345")
}

/// The notification vector of docs `notify.md` (Java example): concatenation and sign.
#[test]
fn notification_vector_notify_md() {
    let f = fields(NOTIFICATION.as_bytes()).unwrap();
    let values = canonical_values(
        f.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
        NOTIFICATION_EXCLUDED,
    );
    assert_eq!(
        values,
        r#"58002777517512835003047TXN500.00EUR{"respCode":"20000","respMsg":"Success"}2024-05-21 09:52:03S17927349323687526402024-05-21 09:51:45+08:00SALE"#
    );
    assert_eq!(
        notification_sign(&f, &docs_key()),
        "fa58c37f1d7fd1e249c6bcc427aa335aa2d7335389908488e8a7f96f54c59485"
    );
}

/// The published notification verifies and parses: a SALE that succeeded.
#[test]
fn notification_vector_verifies_and_parses() {
    let n = verify(NOTIFICATION.as_bytes(), &docs_key(), UtcOffset::UTC).unwrap();
    assert_eq!(n.kind, NotificationKind::Payment);
    assert_eq!(n.raw_event, "TXN");
    assert_eq!(n.raw_status.as_deref(), Some("S"));
    assert_eq!(n.status, Some(HoldStatus::Captured), "a successful SALE");
    assert_eq!(
        n.hold.provider_reference.as_deref(),
        Some("1792734932368752640")
    );
    assert_eq!(
        n.hold.merchant_reference.as_deref(),
        Some("7517512835003047")
    );
    assert_eq!(n.amount.unwrap().to_string(), "500.00 EUR");
    assert_eq!(n.dedup_key, "1792734932368752640:S:TXN");
    assert_eq!(n.occurred_at, Some(datetime!(2024-05-21 09:52:03 +08:00)));
    let a = ack(&n);
    assert_eq!(
        (a.status, a.content_type, a.body.as_str()),
        (200, "text/plain", "1792734932368752640")
    );
}

fn with(field: &str, value: Value) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(NOTIFICATION).unwrap();
    v[field] = value;
    serde_json::to_vec(&v).unwrap()
}

#[track_caller]
fn check_rejected(body: &[u8], reason: WebhookRejection) {
    match verify(body, &docs_key(), UtcOffset::UTC) {
        Err(preauth_core::Error::InvalidWebhook { reason: r, .. }) => assert_eq!(r, reason),
        other => panic!("expected {reason}, got {other:?}"),
    }
}

/// Excluded fields may change; every other field, known or new, is signed.
#[test]
fn exclusion_list_and_unknown_fields() {
    for (k, v) in [
        ("paymentMethod", json!("MASTERCARD")),
        ("walletTypeName", json!("ApplePay")),
        ("originTransactionId", json!("1")),
        ("periodValue", json!("3")),
        ("tokenExpireTime", json!("2030-01-01")),
        ("txnAmount", json!(null)),
        // A number is signed by its JSON text: 5 reads as "5", the value that was signed.
        ("eci", json!(5)),
    ] {
        assert!(
            verify(&with(k, v), &docs_key(), UtcOffset::UTC).is_ok(),
            "{k} is not signed (or empty)"
        );
    }
    for (k, v) in [
        ("paymentMethodDetails", json!("{\"brand\":\"VISA\"}")),
        ("status", json!("F")),
        ("orderAmount", json!("500.01")),
        ("eci", json!(6)),
    ] {
        check_rejected(&with(k, v), WebhookRejection::BadSignature);
    }
    check_rejected(
        &with("sign", json!(null)),
        WebhookRejection::MissingSignature,
    );
    check_rejected(&with("sign", json!("")), WebhookRejection::MissingSignature);
    check_rejected(b"<html>", WebhookRejection::Malformed);
    check_rejected(b"{\"sign\":", WebhookRejection::Malformed);
    // Upper-case hex from a sender is accepted (constant-time compare ignores case).
    let upper = with(
        "sign",
        json!("FA58C37F1D7FD1E249C6BCC427AA335AA2D7335389908488E8A7F96F54C59485"),
    );
    assert!(verify(&upper, &docs_key(), UtcOffset::UTC).is_ok());
}

/// A number where a string is expected is signed by its JSON text, exactly as sent.
#[test]
fn non_string_scalars_are_signed_by_their_json_text() {
    let secret = SecretString::from("k");
    let mut f = fields(NOTIFICATION.as_bytes()).unwrap();
    f.insert("eci".into(), Some("05".into()));
    f.insert("orderAmount".into(), Some("500.00".into()));
    let mut v: Value = serde_json::from_str(NOTIFICATION).unwrap();
    // `eci` as the JSON number 5 is the text "5", not "05".
    v["eci"] = json!(5);
    v["sign"] = json!(notification_sign(
        &fields(&serde_json::to_vec(&v).unwrap()).unwrap(),
        &secret
    ));
    let body = serde_json::to_vec(&v).unwrap();
    assert!(verify(&body, &secret, UtcOffset::UTC).is_ok());
    assert_ne!(
        notification_sign(&f, &secret),
        v["sign"].as_str().unwrap(),
        "\"05\" and 5 sign differently"
    );
}
