//! Property tests (proptest) of every answer parser and of the webhook verifier: arbitrary
//! bytes, and valid bodies mutated (bytes flipped, truncated, fields removed, renamed or given
//! another type), never panic and give typed errors; a body that is not the signed one never
//! verifies. cargo-fuzz needs nightly, so these stand in for fuzz targets.

use preauth_core::transport::HttpResponse;
use preauth_core::{
    Currency, Error, Hold, HoldStatus, Money, Operation, WebhookRejection, WebhookRequest,
};
use preauth_liquido::Liquido;
use proptest::prelude::*;
use serde_json::Value;

use crate::responses::{DOCS_BRAZIL_REFUND, KEY, SEED_000_AUTHORIZED, SEED_003_PIX_CANCELLED};
use crate::snapshots::{CLIENT_SECRET, client};

/// The snapshot client's clock: 2026-01-01 00:00:00 UTC.
const NOW: i64 = 1_767_225_600;

const TOKEN: &str =
    r#"{"access_token":"eyJraWQiOiJ4In0.e30.c2ln","expires_in":3600,"token_type":"Bearer"}"#;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn known_hold() -> Hold {
    Hold::new(
        "liquido",
        KEY,
        KEY,
        HoldStatus::Authorized,
        "AUTHORIZED",
        Money::parse_major("10.00", Currency::PEN).unwrap(),
    )
}

/// HTTP statuses worth trying: the usual ones and anything else.
fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(201),
        Just(400),
        Just(401),
        Just(402),
        Just(403),
        Just(404),
        Just(409),
        Just(422),
        Just(500),
        Just(503),
        100u16..600,
    ]
}

/// The errors an answer parser may give (anything else, or a panic, is a bug).
fn typed(e: &Error) -> bool {
    matches!(
        e,
        Error::Declined { .. }
            | Error::Rejected { .. }
            | Error::NotFound { .. }
            | Error::Unauthenticated { .. }
            | Error::Protocol { .. }
    )
}

/// Runs every answer parser on `resp`; checks each result is a typed error or a coherent value.
fn every_parser(c: &Liquido, resp: &HttpResponse) -> Result<(), TestCaseError> {
    let hold = known_hold();
    let holds = [
        ("authorize", c.parse_authorize(resp, KEY)),
        ("retrieve", c.parse_retrieve(resp, KEY)),
        (
            "capture",
            c.parse_follow_up(Operation::Capture, resp, &hold),
        ),
        ("cancel", c.parse_follow_up(Operation::Cancel, resp, &hold)),
    ];
    for (what, r) in holds {
        match r {
            Ok(h) => {
                prop_assert_eq!(&h.provider_reference, KEY, "{}", what);
                prop_assert_eq!(h.captured.currency(), h.authorized.currency(), "{}", what);
                let le = |a: &Money, b: &Money| a.amount() <= b.amount();
                prop_assert!(le(&h.captured, &h.authorized), "{}: {:?}", what, h);
                prop_assert!(le(&h.refunded, &h.captured), "{}: {:?}", what, h);
            }
            Err(e) => prop_assert!(typed(&e), "{}: {}", what, e),
        }
    }
    for (op, charge) in [
        (Operation::Refund, Some(KEY)),
        (Operation::RetrieveRefund, None),
    ] {
        match c.parse_refund(op, resp, "2022030214000007-1", charge) {
            Ok(r) => prop_assert_eq!(r.provider_reference, "2022030214000007-1"),
            Err(e) => prop_assert!(typed(&e), "{:?}: {}", op, e),
        }
    }
    match Liquido::parse_token_answer(resp) {
        Ok(lifetime) => prop_assert!(!lifetime.is_zero()),
        Err(e) => prop_assert!(
            matches!(
                e,
                Error::Protocol {
                    operation: Operation::Authenticate,
                    ..
                } | Error::Unauthenticated { .. }
            ),
            "token: {}",
            e
        ),
    }
    Ok(())
}

/// A mutation of a JSON document.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove the member at the chosen place.
    Remove,
    /// Rename the member at the chosen place.
    Rename,
    /// Give the value at the chosen place another value or type.
    Retype(Value),
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(serde_json::json!(1e30)),
        Just(serde_json::json!(u64::MAX)),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("AUTHORIZED".into())),
        Just(Value::String("SETTLED".into())),
        Just(Value::String("99999999999999999999".into())),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!([1, "a", null])),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Remove),
        Just(Mutation::Rename),
        odd_value().prop_map(Mutation::Retype),
    ]
}

/// Every place in `v` (object members and array elements), depth first.
fn places(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(k.clone());
                out.push(path.clone());
                places(child, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(i.to_string());
                out.push(path.clone());
                places(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Applies `m` at the `pick`-th place of `body` (which must be JSON).
fn mutate(body: &str, pick: usize, m: &Mutation) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(body).unwrap();
    let mut all = Vec::new();
    places(&v, &mut Vec::new(), &mut all);
    let path = &all[pick % all.len()];
    let (last, parents) = path.split_last().unwrap();
    let mut parent = &mut v;
    for p in parents {
        parent = match parent {
            Value::Object(o) => o.get_mut(p).unwrap(),
            Value::Array(a) => &mut a[p.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    match (parent, m) {
        (Value::Object(o), Mutation::Remove) => {
            o.remove(last);
        }
        (Value::Object(o), Mutation::Rename) => {
            if let Some(x) = o.remove(last) {
                o.insert(format!("{last}_renamed"), x);
            }
        }
        (Value::Object(o), Mutation::Retype(x)) => {
            o.insert(last.clone(), x.clone());
        }
        (Value::Array(a), Mutation::Remove | Mutation::Rename) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        (Value::Array(a), Mutation::Retype(x)) => {
            a[last.parse::<usize>().unwrap()] = x.clone();
        }
        _ => unreachable!(),
    }
    serde_json::to_vec(&v).unwrap()
}

/// The bodies mutated: a charge, a PIX charge, a refund, a token answer.
fn seed() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(SEED_000_AUTHORIZED),
        Just(SEED_003_PIX_CANCELLED),
        Just(DOCS_BRAZIL_REFUND),
        Just(TOKEN),
    ]
}

/// A notification as Liquido sends it.
fn notification(status: &str) -> String {
    let charge: Value = serde_json::from_str(SEED_000_AUTHORIZED).unwrap();
    let mut charge = charge;
    charge["transferStatus"] = Value::String(status.into());
    serde_json::json!({"eventType": "CHARGE_SUCCEEDED", "data": {"chargeDetails": charge}})
        .to_string()
}

fn verify(
    c: &Liquido,
    header: &str,
    body: &[u8],
) -> preauth_core::Result<preauth_core::Notification> {
    use preauth_core::PreauthProvider;
    let headers = [
        ("Content-Type", "application/json"),
        ("Liquido-Signature", header),
    ];
    c.verify_webhook(&WebhookRequest::new(&headers, body))
}

fn signed_header(body: &[u8]) -> String {
    preauth_liquido::sign::signature_header(CLIENT_SECRET, body, NOW)
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes under any status: typed errors, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic_any_parser(
        status in status(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        every_parser(&client(), &HttpResponse::new(status, body))?;
    }

    /// Arbitrary JSON-looking text (objects with the field names Liquido uses).
    #[test]
    fn arbitrary_json_objects_never_panic_any_parser(
        status in status(),
        fields in proptest::collection::btree_map(
            prop_oneof![
                Just("transferStatusCode".to_owned()), Just("transferErrorMsg".to_owned()),
                Just("idempotencyKey".to_owned()), Just("referenceId".to_owned()),
                Just("amount".to_owned()), Just("finalAmount".to_owned()),
                Just("currency".to_owned()), Just("finalCurrency".to_owned()),
                Just("transferStatus".to_owned()), Just("transferDetails".to_owned()),
                Just("createTime".to_owned()), Just("access_token".to_owned()),
                Just("expires_in".to_owned()), Just("code".to_owned()), Just("message".to_owned()),
                "[a-zA-Z]{1,10}",
            ],
            odd_value(),
            0..12,
        ),
    ) {
        let body = serde_json::to_vec(&fields).unwrap();
        every_parser(&client(), &HttpResponse::new(status, body))?;
    }

    /// Valid answers with one member removed, renamed or retyped.
    #[test]
    fn mutated_answers_are_typed_errors_or_coherent(
        status in status(),
        body in seed(),
        pick in any::<usize>(),
        m in mutation(),
    ) {
        every_parser(&client(), &HttpResponse::new(status, mutate(body, pick, &m)))?;
    }

    /// Valid answers with a byte flipped, or cut short.
    #[test]
    fn flipped_or_truncated_answers_never_panic(
        status in status(),
        body in seed(),
        at in any::<usize>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let mut b = body.as_bytes().to_vec();
        let i = at % b.len();
        if cut { b.truncate(i) } else { b[i] = byte }
        every_parser(&client(), &HttpResponse::new(status, b))?;
    }

    /// A required field removed or given another type is a protocol error, never a hold made
    /// up from defaults.
    #[test]
    fn a_required_field_broken_is_a_protocol_error(
        field in prop_oneof![
            Just("idempotencyKey"), Just("amount"), Just("currency"), Just("transferStatus"),
        ],
        replacement in prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            Just(Some(serde_json::json!({}))),
            Just(Some(serde_json::json!([]))),
            Just(Some(serde_json::json!(true))),
            Just(Some(serde_json::json!(1.5))),
        ],
    ) {
        let mut v: Value = serde_json::from_str(SEED_000_AUTHORIZED).unwrap();
        let o = v.as_object_mut().unwrap();
        match &replacement {
            None => { o.remove(field); }
            Some(x) => { o.insert(field.to_owned(), x.clone()); }
        }
        let resp = HttpResponse::new(200, serde_json::to_vec(&v).unwrap());
        let c = client();
        for r in [c.parse_authorize(&resp, KEY), c.parse_retrieve(&resp, KEY)] {
            prop_assert!(matches!(r, Err(Error::Protocol { .. })), "{} {:?}: {:?}", field, replacement, r);
        }
    }

    /// Arbitrary headers and bodies: never verified, never a panic.
    #[test]
    fn arbitrary_deliveries_never_verify(
        header in prop_oneof![
            ".{0,120}",
            "algorithm=HmacSHA256,timestamp=[0-9]{1,12},signature=[0-9a-fA-F]{0,70}",
            "(algorithm|timestamp|signature|x)=[^,]{0,20}(,(algorithm|timestamp|signature|x)=[^,]{0,20}){0,4}",
        ],
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let r = verify(&client(), &header, &body);
        prop_assert!(matches!(r, Err(Error::InvalidWebhook { .. })), "{:?}", r);
    }

    /// A genuine notification with its body mutated in any way keeps its signature and is
    /// refused as a bad signature.
    #[test]
    fn a_mutated_body_never_verifies(
        status in prop_oneof![Just("AUTHORIZED"), Just("SETTLED"), Just("CANCELLED")],
        at in any::<usize>(),
        byte in any::<u8>(),
        how in 0u8..3,
        pick in any::<usize>(),
        m in mutation(),
    ) {
        let body = notification(status);
        let header = signed_header(body.as_bytes());
        prop_assert!(verify(&client(), &header, body.as_bytes()).is_ok());
        let mut b = body.as_bytes().to_vec();
        let i = at % b.len();
        match how {
            0 => b[i] = byte,
            1 => b.truncate(i),
            _ => b = mutate(&body, pick, &m),
        }
        prop_assume!(b != body.as_bytes());
        let r = verify(&client(), &header, &b);
        prop_assert!(
            matches!(r, Err(Error::InvalidWebhook { reason: WebhookRejection::BadSignature, .. })),
            "{:?}",
            r
        );
    }

    /// A correctly signed body of any shape: a notification or `Malformed`, never a panic.
    #[test]
    fn signed_but_odd_bodies_are_malformed_or_notifications(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            (any::<usize>(), mutation()).prop_map(|(pick, m)| mutate(&notification("SETTLED"), pick, &m)),
        ],
    ) {
        let header = signed_header(&body);
        match verify(&client(), &header, &body) {
            Ok(n) => {
                prop_assert_eq!(n.provider, "liquido");
                prop_assert!(n.raw_status.is_some());
            }
            Err(Error::InvalidWebhook { reason: WebhookRejection::Malformed, .. }) => {}
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}
