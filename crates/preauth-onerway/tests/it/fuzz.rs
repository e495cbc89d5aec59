//! Property tests of every response parser and of the notification verifier: arbitrary
//! bytes, and valid bodies mutated (bytes flipped, truncated, fields removed, renamed or
//! given another type). Never a panic; always a typed error of the kinds the caller is told
//! to expect; never `Ok` for a notification whose signed content changed.

use std::collections::BTreeMap;

use preauth_core::transport::HttpResponse;
use preauth_core::{Error, HoldRef, IdempotencyKey, RefundRequest, WebhookRejection};
use preauth_onerway::sign::{NOTIFICATION_EXCLUDED, canonical_values};
use preauth_onerway::webhook::{fields, notification_sign, verify};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{Value, json};
use time::UtcOffset;

use crate::common::seed_client;
use crate::snapshots::{seed_hold, seed_request};

const SEED_RESPONSE: &str = include_str!("fixtures/seed_001_response.json");
const LIST_RESPONSE: &str = include_str!("fixtures/list_response.json");
/// The docs' capture example answer (api-direct-auth-capture.md).
const CAPTURE_RESPONSE: &str = r#"{"respCode":"20000","respMsg":"Success","data":{"transactionId":"1813842908840075264","responseTime":"2024-07-18 15:47:05","txnTime":"2024-07-18 15:47:03","txnTimeZone":"+08:00","orderAmount":"20.00","orderCurrency":"USD","txnAmount":null,"txnCurrency":null,"status":"S","redirectUrl":null,"contractId":null,"tokenId":null,"eci":null,"periodValue":null,"codeForm":null,"presentContext":null,"actionType":null,"sign":"de8ef7a2b9ffcc274b9d40970f2217055d540452c93ee9f35f133751e285cfb8"}}"#;
const REFUND_RESPONSE: &str =
    r#"{"respCode":"20000","respMsg":"Success","data":"1813845678901234567"}"#;
/// The docs' notification (notify.md) and its key.
const NOTIFICATION: &str = r#"{"reason":"{\"respCode\":\"20000\",\"respMsg\":\"Success\"}","txnTimeZone":"+08:00","orderCurrency":"EUR","responseTime":"2024-05-21 09:52:03","sign":"fa58c37f1d7fd1e249c6bcc427aa335aa2d7335389908488e8a7f96f54c59485","merchantTxnId":"7517512835003047","txnType":"SALE","transactionId":"1792734932368752640","notifyType":"TXN","orderAmount":"500.00","paymentMethod":"VISA","txnTime":"2024-05-21 09:51:45","txnAmount":"","merchantNo":"800277","status":"S","eci":"5"}"#;
const DOCS_KEY: &str = "de45ae6504ca46cb94ebd734bb650345";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A list answer with an AUTH, its capture, void and refunds (the shapes retrieve reads).
fn rich_list() -> String {
    let txn = |id: &str, mid: &str, kind: &str, status: &str, origin: Value, amount: &str| {
        json!({"transactionId": id, "merchantTxnId": mid, "txnType": kind, "status": status,
               "originTransactionId": origin, "orderAmount": amount, "orderCurrency": "USD",
               "txnTime": "2024-07-24 13:33:23", "cardNumber": "222100******7736",
               "paymentMethod": "MASTERCARD", "reason": "{\"respCode\":\"20000\"}"})
    };
    json!({"respCode": "20000", "respMsg": "Success", "data": {"content": [
        txn("100", "k1", "AUTH", "S", Value::Null, "200.00"),
        txn("101", "k1-capture", "CAPTURE", "S", json!("100"), "200.00"),
        txn("102", "k1-void", "VOID", "F", json!("100"), "200.00"),
        txn("103", "r1", "REFUND", "S", json!("101"), "50.00"),
    ], "current": "1", "size": "10", "totalPages": "1", "totalElements": "4"}})
    .to_string()
}

/// A notification about a CAPTURE, signed with `key`.
fn signed(mut v: Value, key: &str) -> Vec<u8> {
    let f = fields(&serde_json::to_vec(&v).unwrap()).unwrap();
    v["sign"] = notification_sign(&f, &SecretString::from(key.to_owned())).into();
    serde_json::to_vec(&v).unwrap()
}

fn capture_notification() -> Vec<u8> {
    signed(
        json!({"notifyType": "TXN", "transactionId": "200", "merchantTxnId": "k1-capture",
               "originTransactionId": "100", "originMerchantTxnId": "k1", "txnType": "CAPTURE",
               "status": "S", "orderAmount": "10.00", "orderCurrency": "USD",
               "responseTime": "2024-07-24 13:33:23", "txnTimeZone": "+08:00",
               "reason": "{\"respCode\":\"20000\",\"respMsg\":\"Success\"}"}),
        DOCS_KEY,
    )
}

/// One change to a valid body.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte (position taken modulo the length).
    Flip(usize, u8),
    /// Keep the first bytes (position modulo the length).
    Truncate(usize),
    /// Remove one object field (index into all fields, modulo their number).
    Remove(usize),
    /// Rename one field.
    Rename(usize),
    /// Give one field another value (of another type, or an odd string).
    Retype(usize, Value),
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<bool>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(json!("")),
        Just(json!("S")),
        Just(json!("X")),
        Just(json!("200.001")),
        Just(json!("-1")),
        Just(json!("ZZZ")),
        Just(json!("9999-99-99 99:99:99")),
        Just(json!([])),
        Just(json!([1, "a", null])),
        Just(json!({})),
        Just(json!({"status": "S", "transactionId": 1})),
        Just(json!("{\"respCode\":")),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(a, x)| Mutation::Flip(a, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Rename),
        (any::<usize>(), odd_value()).prop_map(|(a, v)| Mutation::Retype(a, v)),
    ]
}

/// JSON pointers of every object field in `v`.
fn field_paths(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                field_paths(child, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                field_paths(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The parent object of the field at `pointer`, and the field's name.
fn parent<'a>(
    v: &'a mut Value,
    pointer: &str,
) -> Option<(&'a mut serde_json::Map<String, Value>, String)> {
    let (parent, key) = pointer.rsplit_once('/')?;
    let key = key.replace("~1", "/").replace("~0", "~");
    let obj = v.pointer_mut(parent)?.as_object_mut()?;
    Some((obj, key))
}

/// Applies the JSON-level mutations, serializes, then applies the byte-level ones.
fn mutate(body: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(body).unwrap();
    for m in mutations {
        let mut paths = Vec::new();
        field_paths(&v, "", &mut paths);
        if paths.is_empty() {
            break;
        }
        let pick = |i: &usize| paths[i % paths.len()].clone();
        match m {
            Mutation::Remove(i) => {
                if let Some((obj, k)) = parent(&mut v, &pick(i)) {
                    obj.remove(&k);
                }
            }
            Mutation::Rename(i) => {
                if let Some((obj, k)) = parent(&mut v, &pick(i))
                    && let Some(x) = obj.remove(&k)
                {
                    obj.insert(format!("{k}_"), x);
                }
            }
            Mutation::Retype(i, to) => {
                if let Some((obj, k)) = parent(&mut v, &pick(i)) {
                    obj.insert(k, to.clone());
                }
            }
            Mutation::Flip(..) | Mutation::Truncate(_) => {}
        }
    }
    let mut bytes = serde_json::to_vec(&v).unwrap();
    for m in mutations {
        match m {
            Mutation::Flip(at, x) if !bytes.is_empty() => {
                let n = bytes.len();
                bytes[at % n] ^= x;
            }
            Mutation::Truncate(at) if !bytes.is_empty() => {
                let n = bytes.len();
                bytes.truncate(at % n);
            }
            _ => {}
        }
    }
    bytes
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => Just(200u16),
        1 => prop::sample::select(vec![201u16, 301, 400, 401, 403, 404, 429, 500, 502, 503, 504]),
    ]
}

#[track_caller]
fn mutating_error(e: &Error, allowed_declined: bool) {
    let ok = matches!(
        e,
        Error::OutcomeUnknown { .. }
            | Error::Rejected { .. }
            | Error::Protocol { .. }
            | Error::Unauthenticated { .. }
    ) || (allowed_declined && matches!(e, Error::Declined { .. }));
    assert!(ok, "unexpected error kind: {e:?}");
}

fn authorize(status: u16, body: &[u8]) -> preauth_core::Result<preauth_core::Hold> {
    let (client, _) = seed_client();
    let req = seed_request();
    let key = req.idempotency_key.clone().unwrap();
    client.parse_authorize(&req, &key, &HttpResponse::new(status, body.to_vec()))
}

fn capture(status: u16, body: &[u8], cancel: bool) -> preauth_core::Result<preauth_core::Hold> {
    let (client, _) = seed_client();
    let hold = seed_hold();
    let resp = HttpResponse::new(status, body.to_vec());
    if cancel {
        client.parse_cancel(&hold, &resp)
    } else {
        client.parse_capture(&hold, &resp)
    }
}

fn refund(status: u16, body: &[u8]) -> preauth_core::Result<preauth_core::Refund> {
    let (client, _) = seed_client();
    let mut hold = seed_hold();
    hold.status = preauth_core::HoldStatus::Captured;
    hold.captured = hold.authorized;
    hold.capture_count = 1;
    hold.capture_reference = Some("1813842908840075264".into());
    let req = RefundRequest::new(hold);
    let key = IdempotencyKey::new("refund-1").unwrap();
    client.parse_refund(&req, &key, &HttpResponse::new(status, body.to_vec()))
}

fn retrieve(status: u16, body: &[u8], r: &HoldRef) -> preauth_core::Result<preauth_core::Hold> {
    let (client, _) = seed_client();
    client.parse_retrieve(r, &[HttpResponse::new(status, body.to_vec())])
}

#[track_caller]
fn read_error(e: &Error) {
    assert!(
        matches!(
            e,
            Error::Protocol { .. }
                | Error::Rejected { .. }
                | Error::NotFound { .. }
                | Error::Unauthenticated { .. }
        ),
        "unexpected error kind: {e:?}"
    );
}

/// Canonical string a notification's signature covers.
fn signed_content(body: &[u8]) -> Option<String> {
    let f = fields(body).ok()?;
    Some(canonical_values(
        f.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
        NOTIFICATION_EXCLUDED,
    ))
}

fn check_notification(original: &[u8], mutated: &[u8]) {
    let key = SecretString::from(DOCS_KEY);
    match verify(mutated, &key, UtcOffset::UTC) {
        Ok(_) => {
            // Only unsigned parts may have changed (an excluded field, formatting), and the
            // signature must still be the original one.
            assert_eq!(
                signed_content(mutated),
                signed_content(original),
                "a changed notification verified"
            );
            let sig = |b: &[u8]| {
                fields(b)
                    .ok()
                    .and_then(|f| f.get("sign").cloned().flatten())
                    .map(|s| s.to_ascii_lowercase())
            };
            assert_eq!(sig(mutated), sig(original));
        }
        Err(Error::InvalidWebhook { .. } | Error::Protocol { .. }) => {}
        Err(e) => panic!("unexpected error kind: {e:?}"),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn authorize_answers_never_panic(status in status(), body in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Err(e) = authorize(status, &body) {
            mutating_error(&e, true);
        }
    }

    #[test]
    fn mutated_authorize_answers_give_typed_errors(
        status in status(),
        base in prop::sample::select(vec!["S", "R", "F", "P"]),
        ms in prop::collection::vec(mutation(), 1..5),
    ) {
        let mut v: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
        v["data"]["status"] = json!(base);
        if base == "R" {
            v["data"]["actionType"] = json!("RedirectURL");
            v["data"]["redirectUrl"] = json!("https://acs.example/3ds");
        }
        let body = mutate(&serde_json::to_vec(&v).unwrap(), &ms);
        match authorize(status, &body) {
            Ok(hold) => prop_assert!(!hold.provider_reference.is_empty()),
            Err(e) => mutating_error(&e, true),
        }
    }

    #[test]
    fn capture_and_void_answers_never_panic(
        status in status(),
        cancel in any::<bool>(),
        body in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        if let Err(e) = capture(status, &body, cancel) {
            mutating_error(&e, false);
        }
    }

    #[test]
    fn mutated_capture_and_void_answers_give_typed_errors(
        status in status(),
        cancel in any::<bool>(),
        ms in prop::collection::vec(mutation(), 1..5),
    ) {
        let body = mutate(CAPTURE_RESPONSE.as_bytes(), &ms);
        match capture(status, &body, cancel) {
            Ok(hold) => {
                let expected = if cancel {
                    preauth_core::HoldStatus::Cancelled
                } else {
                    preauth_core::HoldStatus::Captured
                };
                prop_assert_eq!(hold.status, expected);
            }
            Err(e) => mutating_error(&e, false),
        }
    }

    #[test]
    fn refund_answers_never_panic(
        status in status(),
        body in prop::collection::vec(any::<u8>(), 0..200),
        ms in prop::collection::vec(mutation(), 1..4),
    ) {
        if let Err(e) = refund(status, &body) {
            mutating_error(&e, false);
        }
        let mutated = mutate(REFUND_RESPONSE.as_bytes(), &ms);
        match refund(status, &mutated) {
            Ok(r) => prop_assert!(!r.provider_reference.is_empty()),
            Err(e) => mutating_error(&e, false),
        }
    }

    #[test]
    fn query_answers_never_panic(
        status in status(),
        body in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        for r in [HoldRef::merchant("k1"), HoldRef::provider("100")] {
            if let Err(e) = retrieve(status, &body, &r) {
                read_error(&e);
            }
        }
    }

    #[test]
    fn mutated_query_answers_give_typed_errors(
        status in status(),
        rich in any::<bool>(),
        ms in prop::collection::vec(mutation(), 1..6),
    ) {
        let (base, r) = if rich {
            (rich_list(), HoldRef::merchant("k1"))
        } else {
            (LIST_RESPONSE.to_owned(), HoldRef::merchant("1640244407000"))
        };
        let body = mutate(base.as_bytes(), &ms);
        if let Err(e) = retrieve(status, &body, &r) {
            read_error(&e);
        }
    }

    #[test]
    fn arbitrary_bytes_never_verify(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let key = SecretString::from(DOCS_KEY);
        match verify(&body, &key, UtcOffset::UTC) {
            Err(Error::InvalidWebhook { .. }) => {}
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn mutated_notifications_never_verify_with_changed_content(
        capture in any::<bool>(),
        ms in prop::collection::vec(mutation(), 1..5),
    ) {
        let original = if capture {
            capture_notification()
        } else {
            NOTIFICATION.as_bytes().to_vec()
        };
        let mutated = mutate(&original, &ms);
        check_notification(&original, &mutated);
    }

    /// Whatever a correctly signed notification carries (odd amounts, currencies, times,
    /// statuses, types), reading it gives a notification or a typed error.
    #[test]
    fn correctly_signed_odd_notifications_parse_or_give_typed_errors(
        values in prop::collection::btree_map(
            prop::sample::select(vec![
                "notifyType", "transactionId", "txnType", "status", "orderAmount",
                "orderCurrency", "originTransactionId", "originMerchantTxnId", "merchantTxnId",
                "responseTime", "txnTime", "txnTimeZone", "chargebackStatus",
                "chargebackAmount", "chargebackCurrency", "reason", "eci",
            ]),
            odd_value(),
            0..12,
        ),
    ) {
        let v = Value::Object(values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        let body = signed(v, DOCS_KEY);
        match verify(&body, &SecretString::from(DOCS_KEY), UtcOffset::UTC) {
            Ok(n) => prop_assert!(!n.dedup_key.is_empty()),
            Err(Error::InvalidWebhook { reason, .. }) => {
                prop_assert!(
                    matches!(reason, WebhookRejection::Malformed),
                    "a correct signature is never refused as bad: {:?}",
                    reason
                );
            }
            Err(Error::Protocol { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error kind: {:?}", e),
        }
    }
}

/// Every truncation of a real answer: the outcome is unknown (the hold may exist), never a
/// refusal ("did not happen") and never a hold read from half an answer.
#[test]
fn a_truncated_authorize_answer_is_never_a_refusal() {
    let mut seen = BTreeMap::new();
    for at in 0..SEED_RESPONSE.trim_end().len() {
        let mut body = SEED_RESPONSE.as_bytes().to_vec();
        body.truncate(at);
        let kind = match authorize(200, &body) {
            Ok(_) => "ok",
            Err(Error::OutcomeUnknown { .. }) => "unknown",
            Err(e) => panic!("truncated at {at}: {e:?}"),
        };
        *seen.entry(kind).or_insert(0) += 1;
    }
    assert_eq!(seen.get("ok"), None, "{seen:?}");
    assert!(seen["unknown"] > 500, "{seen:?}");
}
