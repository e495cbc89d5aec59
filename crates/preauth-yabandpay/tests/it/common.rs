//! Shared test helpers.

use std::sync::Arc;

use preauth_core::transport::HttpRequest;
use preauth_core::{
    Currency, Hold, HoldStatus, IdempotencyKey, ManualClock, Money, SequentialKeys,
};
use preauth_yabandpay::convert::HOLD_VALIDITY;
use preauth_yabandpay::sign;
use preauth_yabandpay::{YabandPay, YabandPayConfig};
use serde_json::Value;
use time::OffsetDateTime;

/// The docs' cashier UID.
pub(crate) const USER: &str = "016683";
/// A test secret key (the docs publish none).
pub(crate) const SECRET: &str = "test-secret-key-not-published";
/// The docs' notify URL.
pub(crate) const NOTIFY: &str = "https://www.yabandpay.com/notify";

pub(crate) fn eur(s: &str) -> Money {
    Money::parse_major(s, Currency::EUR).unwrap()
}

pub(crate) fn at(ts: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ts).unwrap()
}

pub(crate) fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::new(s).unwrap()
}

/// A client with the docs' user, a fixed clock at `ts` and sequential keys.
pub(crate) fn client_with(ts: i64, config: YabandPayConfig) -> YabandPay {
    YabandPay::new(config)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(at(ts))))
        .with_keys(Arc::new(SequentialKeys::new("key")))
}

pub(crate) fn client(ts: i64) -> YabandPay {
    client_with(
        ts,
        YabandPayConfig::new(USER, SECRET)
            .with_notify_url(NOTIFY)
            .with_redirect_url("https://www.yabandpay.com/redirect_url"),
    )
}

/// An authorized hold on `trade_id` created at `created`.
pub(crate) fn authorized(trade_id: &str, amount: &str, created: OffsetDateTime) -> Hold {
    Hold::new(
        "yabandpay",
        trade_id,
        "merchant-ref-1",
        HoldStatus::Authorized,
        "authorized",
        eur(amount),
    )
    .with_created_at(created)
    .with_expires_at(created + HOLD_VALIDITY)
}

/// A captured hold.
pub(crate) fn captured(trade_id: &str, amount: &str, created: OffsetDateTime) -> Hold {
    let mut h = authorized(trade_id, amount, created);
    h.status = HoldStatus::Captured;
    h.raw_status = "paid".into();
    h.captured = eur(amount);
    h.capture_count = 1;
    h
}

pub(crate) fn body_json(req: &HttpRequest) -> Value {
    serde_json::from_slice(req.body_bytes()).unwrap()
}

/// The string to sign recomputed from the body as sent: `user`, `method`, `time` and every
/// `data` field.
pub(crate) fn string_to_sign(req: &HttpRequest) -> String {
    let body = body_json(req);
    let data: Vec<(String, String)> = body["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), sign::value_to_sign_string(v)))
        .collect();
    let pairs: Vec<(&str, &str)> = data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    sign::request_string_to_sign(
        body["user"].as_str().unwrap(),
        body["method"].as_str().unwrap(),
        body["time"].as_i64().unwrap(),
        &pairs,
    )
}

/// Asserts the body's `sign` is the HMAC of its string to sign under [`SECRET`].
pub(crate) fn assert_signed(req: &HttpRequest) {
    let body = body_json(req);
    assert_eq!(
        body["sign"].as_str().unwrap(),
        sign::sign(SECRET.as_bytes(), &string_to_sign(req)),
        "the signature is over exactly the bytes sent"
    );
}

/// Pretty-prints compact JSON keeping the key order of the bytes sent.
pub(crate) fn pretty(body: &[u8]) -> String {
    let text = std::str::from_utf8(body).unwrap();
    let mut out = String::new();
    let mut indent = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, indent: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(indent));
    };
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                indent += 1;
                newline(&mut out, indent);
            }
            '}' | ']' => {
                indent -= 1;
                newline(&mut out, indent);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, indent);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    out
}

/// The snapshot text of a request: URL, string to sign, body in the order sent.
pub(crate) fn render(req: &HttpRequest) -> String {
    assert_signed(req);
    format!(
        "POST {}\n\nstring to sign:\n{}\n\nbody:\n{}\n",
        req.url(),
        string_to_sign(req),
        pretty(req.body_bytes())
    )
}
