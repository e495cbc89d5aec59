//! Property tests (proptest) of every response parser and of the notification verifier:
//! arbitrary bytes, and valid bodies mutated (bytes flipped, truncated, fields removed or
//! renamed, values of another type). Never a panic, always a typed error, and:
//!
//! - an answer to a mutating call that does not explicitly say `status: false` is never
//!   read as "did not happen" (`Rejected`, `NotFound`, `Unauthenticated`): it is a success or
//!   an unknown outcome;
//! - a notification never verifies under a wrong key, and a mutated delivery that still
//!   verifies means exactly what the original meant.

use preauth_core::transport::HttpResponse;
use preauth_core::{
    AuthorizeRequest, CancelRequest, CaptureRequest, CardDetails, DecrementRequest, Error, HoldRef,
    Notification, PaymentMethod, RefundRequest, WebhookRejection, WebhookRequest,
};
use preauth_yabandpay::{sign, webhook};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::*;

const T0: i64 = 1_767_225_600;
const TRADE: &str = "00000001-5eed-4000-8000-000000000001";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Valid bodies, as the simulator and the docs answer
// ---------------------------------------------------------------------------------------

fn ok(data: Value) -> Value {
    json!({"status": true, "code": "200", "data": data, "message": "", "response_id": "17672256000000000001"})
}

fn refusal(code: &str, message: &str) -> Value {
    json!({"status": false, "code": code, "data": [], "message": message, "response_id": "17672256000000000002"})
}

fn payment(state: &str, amount: &str) -> Value {
    json!({"order_id": "key-1", "trade_id": TRADE, "amount": amount, "currency": "EUR", "state": state})
}

/// Which parser a body is fed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Authorize,
    Capture,
    Decrement,
    Cancel,
    Retrieve,
    Refund,
    RetrieveRefund,
}

impl Op {
    const ALL: [Op; 7] = [
        Op::Authorize,
        Op::Capture,
        Op::Decrement,
        Op::Cancel,
        Op::Retrieve,
        Op::Refund,
        Op::RetrieveRefund,
    ];

    fn mutating(self) -> bool {
        !matches!(self, Op::Retrieve | Op::RetrieveRefund)
    }

    /// Valid answers: the success and the refusals.
    fn bodies(self) -> Vec<Value> {
        let mut out = match self {
            Op::Authorize => vec![
                ok(payment("authorized", "100")),
                ok({
                    let mut p = payment("pending", "100");
                    p["url"] = json!(format!("http://127.0.0.1:1/threeds/{TRADE}"));
                    p
                }),
                ok(payment("declined", "100")),
            ],
            Op::Capture => vec![ok(payment("paid", "60"))],
            Op::Decrement => vec![ok(payment("authorized", "70"))],
            Op::Cancel => vec![ok(json!({
                "type": "payment", "user": "016683", "amount": "100", "currency": "EUR",
                "settlement_amount": "100", "settlement_currency": "EUR", "exchange_rate": "1",
                "trade_id": TRADE, "description": "d", "order_id": "key-1",
                "createDate": "1767225600", "demo": "", "transaction_id": "", "state": "cancelled"
            }))],
            Op::Retrieve => vec![ok(json!({"transaction_info": {
                "trade_id": TRADE, "merchant_name": "m", "pay_method": "online",
                "sub_pay_method": "Card", "order_id": "key-1", "amount": "100", "currency": "EUR",
                "created_at": "1767225600", "state": "authorized", "time_out": "1440"
            }}))],
            Op::Refund => vec![ok(json!({
                "refund_id": "r-1", "m_refund_id": "key-9", "trade_id": TRADE,
                "refund_amount": "10", "refund_currency": "EUR"
            }))],
            Op::RetrieveRefund => vec![ok(json!({
                "refund_id": "r-1", "m_refund_id": "key-9", "refund_time": "1767225600",
                "state": "refunded", "refund_amount": "10", "refund_currency": "EUR"
            }))],
        };
        out.push(refusal("-4024", "The original trade ID is incorrect"));
        out.push(refusal("-1000", "Internal error"));
        out.push(refusal(
            "-4000",
            "Only one capture is allowed per authorization",
        ));
        out
    }

    /// Feeds `body` (with `status`) to this operation's parser.
    fn parse(self, status: u16, body: &[u8]) -> Result<(), Error> {
        let c = client(T0);
        let resp = HttpResponse::new(status, body.to_vec());
        let held = authorized(TRADE, "100.00", at(T0 - 3600));
        let done = captured(TRADE, "60.00", at(T0 - 3600));
        match self {
            Op::Authorize => {
                let card =
                    CardDetails::new("4111111111111111", 12, 2030, "123", "Ana Silva").unwrap();
                let req = AuthorizeRequest::new(eur("100.00"), PaymentMethod::Card(card))
                    .with_idempotency_key(key("key-1-000000000000000000"));
                let prepared = c.build_authorize(&req).unwrap();
                c.parse_authorize(&req, &prepared, &resp).map(drop)
            }
            Op::Capture => c
                .parse_capture(&CaptureRequest::new(held).with_amount(eur("60.00")), &resp)
                .map(drop),
            Op::Decrement => c
                .parse_decrement(&DecrementRequest::new(held, eur("30.00")), &resp)
                .map(drop),
            Op::Cancel => c.parse_cancel(&CancelRequest::new(held), &resp).map(drop),
            Op::Retrieve => c.parse_retrieve(&HoldRef::provider(TRADE), &resp).map(drop),
            Op::Refund => {
                let req = RefundRequest::new(done).with_amount(eur("10.00"));
                let prepared = c.build_refund(&req).unwrap();
                c.parse_refund(&req, &prepared, &resp).map(drop)
            }
            Op::RetrieveRefund => c.parse_retrieve_refund("r-1", &resp).map(drop),
        }
    }
}

/// Whether the body explicitly says the provider refused (`status: false`).
fn says_refused(body: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<Value>(body),
        Ok(Value::Object(m)) if m.get("status") == Some(&Value::Bool(false))
    )
}

/// The properties every parse result must have.
fn check(op: Op, status: u16, body: &[u8], r: Result<(), Error>) -> Result<(), TestCaseError> {
    let Err(e) = r else { return Ok(()) };
    let text = e.to_string();
    prop_assert!(!text.contains("Ana Silva") && !text.contains("4111111111111111"));
    let did_not_happen = matches!(
        e,
        Error::Rejected { .. } | Error::NotFound { .. } | Error::Unauthenticated { .. }
    );
    if op.mutating() {
        prop_assert!(
            matches!(
                e,
                Error::OutcomeUnknown { .. }
                    | Error::Declined { .. }
                    | Error::Rejected { .. }
                    | Error::NotFound { .. }
                    | Error::Unauthenticated { .. }
            ),
            "{op:?}: {e:?}"
        );
        if did_not_happen && !(400..500).contains(&status) {
            prop_assert!(
                says_refused(body),
                "{op:?}: an answer that does not say status:false read as not done: {e:?}"
            );
        }
        if matches!(e, Error::Declined { .. }) {
            prop_assert_eq!(op, Op::Authorize);
        }
    } else {
        prop_assert!(
            matches!(
                e,
                Error::Protocol { .. }
                    | Error::Rejected { .. }
                    | Error::NotFound { .. }
                    | Error::Unauthenticated { .. }
                    | Error::Unavailable { .. }
            ),
            "{op:?}: {e:?}"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

/// Every path to a field: top-level keys, and the keys of objects below them.
fn paths(v: &Value) -> Vec<Vec<String>> {
    fn walk(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Value::Object(m) = v {
            for (k, child) in m {
                prefix.push(k.clone());
                out.push(prefix.clone());
                walk(child, prefix, out);
                prefix.pop();
            }
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn parent_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Map<String, Value>> {
    let (_, parents) = path.split_last()?;
    let mut cur = v;
    for p in parents {
        cur = cur.get_mut(p)?;
    }
    cur.as_object_mut()
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR bytes at (position seed, mask).
    Flip(Vec<(usize, u8)>),
    /// Keep the first `n` (seed) bytes.
    Truncate(usize),
    /// Remove the field at path index (seed).
    Remove(usize),
    /// Rename the field.
    Rename(usize, String),
    /// Give the field a value of another type or an odd value.
    Retype(usize, Value),
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            "1e308",
            "-0.0",
            "0.5",
            "1.005",
            "123456789012345678901234567890",
            "-1",
        ])
        .prop_map(|s| serde_json::from_str::<Value>(s).unwrap()),
        prop::sample::select(vec![
            "",
            " ",
            "0",
            "-1",
            "1e5",
            "1.0.0",
            "NaN",
            "99999999999999999999999999999",
            "0.001",
            "10,00",
            "EUR",
            "eur",
            "XXX",
            "paid",
            "PAID",
            "authorized",
            "declined",
            "cancelled",
            "canceled",
            "refunded",
            "expired",
            "pending",
            "09",
            "refund pending",
            "javascript:alert(1)",
            "http://",
            "ftp://x/y",
            "https://x.example/3ds",
            "\u{0}",
            "é",
            "🙂",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(json!([])),
        Just(json!(["a", 1])),
        Just(json!({})),
        Just(json!({"state": "paid", "amount": "1"})),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop::collection::vec((any::<usize>(), 1u8..=255), 1..4).prop_map(Mutation::Flip),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::Remove),
        (
            any::<usize>(),
            prop::sample::select(vec![
                "Status", "code ", "DATA", "trade-id", "tradeId", "state_", "amount", "currency",
                "x", "",
            ])
        )
            .prop_map(|(i, n)| Mutation::Rename(i, n.to_owned())),
        (any::<usize>(), odd_value()).prop_map(|(i, v)| Mutation::Retype(i, v)),
    ]
}

/// Applies a byte-level `m` to `bytes` (others leave them as they are).
fn mutate_bytes(mut b: Vec<u8>, m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::Flip(flips) if !b.is_empty() => {
            for (pos, mask) in flips {
                let n = b.len();
                b[pos % n] ^= mask;
            }
            b
        }
        Mutation::Truncate(n) => {
            let n = n % b.len().max(1);
            b.truncate(n);
            b
        }
        _ => b,
    }
}

/// Applies `m` to `v`, giving the JSON text.
fn mutate(v: &Value, m: &Mutation) -> Vec<u8> {
    let mut v = v.clone();
    let ps = paths(&v);
    let pick = |i: usize| ps.get(i % ps.len().max(1)).cloned();
    match m {
        Mutation::Flip(_) | Mutation::Truncate(_) => {
            return mutate_bytes(serde_json::to_vec(&v).unwrap(), m);
        }
        Mutation::Remove(i) => {
            if let Some(p) = pick(*i)
                && let Some(parent) = parent_mut(&mut v, &p)
            {
                parent.remove(p.last().unwrap());
            }
        }
        Mutation::Rename(i, name) => {
            if let Some(p) = pick(*i)
                && let Some(parent) = parent_mut(&mut v, &p)
                && let Some(old) = parent.remove(p.last().unwrap())
            {
                parent.insert(name.clone(), old);
            }
        }
        Mutation::Retype(i, value) => {
            if let Some(p) = pick(*i)
                && let Some(parent) = parent_mut(&mut v, &p)
            {
                parent.insert(p.last().unwrap().clone(), value.clone());
            }
        }
    }
    serde_json::to_vec(&v).unwrap()
}

fn op() -> impl Strategy<Value = Op> {
    prop::sample::select(Op::ALL.to_vec())
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        8 => Just(200u16),
        1 => prop::sample::select(vec![201u16, 202, 204, 301, 400, 401, 403, 404, 409, 422]),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn response_parsers_survive_arbitrary_bytes(
        op in op(),
        status in status(),
        body in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let r = op.parse(status, &body);
        // Random bytes are never a valid success.
        prop_assert!(r.is_err());
        check(op, status, &body, r)?;
    }

    #[test]
    fn response_parsers_survive_arbitrary_json(
        op in op(),
        status in status(),
        body in prop_oneof![
            Just("null".to_owned()),
            Just("{}".to_owned()),
            Just("[]".to_owned()),
            Just("{\"status\":true}".to_owned()),
            Just("{\"status\":true,\"data\":{}}".to_owned()),
            Just("{\"status\":\"true\",\"data\":{\"trade_id\":\"t\"}}".to_owned()),
            Just("{\"status\":1,\"code\":\"200\"}".to_owned()),
            Just("{\"status\":false}".to_owned()),
            Just("{\"status\":null,\"code\":\"-4024\"}".to_owned()),
            "\\{\"status\":(true|false|null|0|\"\"),\"code\":\"-?[0-9]{1,4}\",\"data\":\\{\\}\\}",
        ],
    ) {
        let r = op.parse(status, body.as_bytes());
        check(op, status, body.as_bytes(), r)?;
    }

    #[test]
    fn response_parsers_survive_mutated_valid_bodies(
        op in op(),
        status in status(),
        which in any::<usize>(),
        m in mutation(),
    ) {
        let bodies = op.bodies();
        let valid = &bodies[which % bodies.len()];
        // The valid body itself parses as its kind says.
        let original = op.parse(200, &serde_json::to_vec(valid).unwrap());
        if valid["status"] == json!(true) {
            let declined = valid["data"]["state"] == json!("declined");
            prop_assert_eq!(original.is_ok(), !declined, "{:?}: {:?}", op, original);
        } else {
            prop_assert!(original.is_err());
        }
        let body = mutate(valid, &m);
        let r = op.parse(status, &body);
        check(op, status, &body, r)?;
    }
}

// ---------------------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------------------

const NOTIFY_KEY: &[u8] = SECRET.as_bytes();

fn notify_data(which: usize) -> Value {
    match which % 3 {
        0 => json!({
            "type": "payment", "user": "016683", "order_id": "key-1", "trade_id": TRADE,
            "transaction_id": "sim1", "amount": "100", "currency": "EUR",
            "settlement_amount": "100", "settlement_currency": "EUR", "exchange_rate": "1",
            "description": "Hotel stay deposit", "createDate": "1767225600",
            "state": "authorized", "demo": "", "pay_method": "online", "sub_pay_method": "Card"
        }),
        1 => json!({
            "type": "payment", "order_id": "key-1", "trade_id": TRADE, "amount": "60.00",
            "currency": "EUR", "state": "paid", "3ds_status": "Y", "3ds_version": "2.2.0"
        }),
        _ => json!({
            "type": "refund", "order_id": "key-1", "trade_id": TRADE, "refund_id": "r-1",
            "m_refund_id": "key-9", "refund_amount": "10", "refund_currency": "EUR",
            "amount": "60", "currency": "EUR", "state": "refunded", "demo": ""
        }),
    }
}

/// `{"sign","data"}` with `data` signed under `key`.
fn signed_body(data: &Value, key: &[u8]) -> Value {
    let string = sign::notify_candidates(data.as_object().unwrap()).remove(0);
    json!({"sign": sign::sign(key, &string), "data": data})
}

fn as_form(json: &[u8]) -> Vec<u8> {
    serde_urlencoded::to_string([(webhook::FORM_FIELD, String::from_utf8_lossy(json))])
        .unwrap()
        .into_bytes()
}

fn verify(body: &[u8]) -> Result<Notification, Error> {
    webhook::verify(NOTIFY_KEY, &WebhookRequest::new(&[], body))
}

fn typed_webhook_error(e: &Error) -> bool {
    matches!(e, Error::InvalidWebhook { .. } | Error::Protocol { .. })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn verifier_survives_arbitrary_bytes(
        body in prop::collection::vec(any::<u8>(), 0..256),
        form in any::<bool>(),
    ) {
        let body = if form { as_form(&body) } else { body };
        let e = verify(&body).unwrap_err();
        prop_assert!(matches!(e, Error::InvalidWebhook { .. }), "{e:?}");
    }

    /// Mutated deliveries (not re-signed): refused, or exactly the original's meaning.
    #[test]
    fn mutated_deliveries_are_refused_or_mean_the_same(
        which in any::<usize>(),
        form in any::<bool>(),
        m in mutation(),
    ) {
        let envelope = signed_body(&notify_data(which), NOTIFY_KEY);
        let json = serde_json::to_vec(&envelope).unwrap();
        let original = verify(&json).unwrap();
        // Byte-level mutations go to the bytes delivered (the form body when a form).
        let body = match (&m, form) {
            (Mutation::Flip(_) | Mutation::Truncate(_), true) => mutate_bytes(as_form(&json), &m),
            _ => {
                let mutated = mutate(&envelope, &m);
                if form { as_form(&mutated) } else { mutated }
            }
        };
        match verify(&body) {
            Ok(n) => prop_assert_eq!(n, original),
            Err(e) => prop_assert!(typed_webhook_error(&e), "{e:?}"),
        }
    }

    /// Mutated, then signed with the right key (a genuine but odd notification): parsed or
    /// a typed error, never a panic.
    #[test]
    fn odd_but_signed_notifications_are_parsed_or_typed_errors(
        which in any::<usize>(),
        form in any::<bool>(),
        m in mutation(),
    ) {
        let data = notify_data(which);
        let mutated = match m {
            Mutation::Flip(_) | Mutation::Truncate(_) => data,
            other => {
                let bytes = mutate(&json!({"data": data}), &other);
                serde_json::from_slice::<Value>(&bytes).unwrap()["data"].clone()
            }
        };
        let Value::Object(_) = &mutated else { return Ok(()) };
        let json = serde_json::to_vec(&signed_body(&mutated, NOTIFY_KEY)).unwrap();
        let body = if form { as_form(&json) } else { json };
        if let Err(e) = verify(&body) {
            prop_assert!(typed_webhook_error(&e), "{e:?}");
            prop_assert!(
                !matches!(e, Error::InvalidWebhook { reason: WebhookRejection::BadSignature, .. }),
                "a genuine signature is not a bad one: {e:?}"
            );
        }
    }

    /// Signed with any other key: never accepted.
    #[test]
    fn a_wrong_key_never_verifies(
        which in any::<usize>(),
        form in any::<bool>(),
        key in prop::collection::vec(any::<u8>(), 0..48),
    ) {
        prop_assume!(key != NOTIFY_KEY);
        let json = serde_json::to_vec(&signed_body(&notify_data(which), &key)).unwrap();
        let body = if form { as_form(&json) } else { json };
        let e = verify(&body).unwrap_err();
        prop_assert!(
            matches!(e, Error::InvalidWebhook { reason: WebhookRejection::BadSignature, .. }),
            "{e:?}"
        );
    }
}
