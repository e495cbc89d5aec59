//! YabandPay signatures, as pure functions.
//!
//! **Requests** ([docs `sign.html`], SDK `Request::completion`): take the top-level `user`,
//! `method` and `time` plus every key of `data` flattened to one level (`sign` and the `data`
//! key itself excluded), sort the keys by byte order (PHP `ksort`), join them as `key=value`
//! with `&` — values raw, **not** URL-encoded (`notify_url=https://…`) — and sign that string
//! with HMAC-SHA256 under the secret key, lower-case hex. A nested value such as `cardinfo` is
//! sent as a JSON string and signed as that string.
//!
//! **Notifications** (SDK `Cryptography::verify`): the same join over the keys of `data` only
//! (no `user`/`method`/`time` unless `data` carries them), compared with the body's `sign`.
//!
//! Test vectors: YabandPay never publishes a secret key, so the signatures in its docs cannot
//! be reproduced (and the capture page even shows two different signatures for the same
//! string). The known-answer tests therefore pin the **strings to sign** exactly as the docs
//! print them, and the HMAC itself against RFC 4231.
//!
//! [docs `sign.html`]: https://docs.yabandpay.com/api/en/sign.html

use preauth_core::webhook::{hmac_sha256_hex, signature_matches};
use serde_json::Value;

/// Joins `params` as the string to sign: sorted by key (byte order, stable), `key=value`
/// joined with `&`, values raw. Every pair given is included, an empty value as `key=` (as
/// the SDK does); request builders never pass empty values.
pub fn string_to_sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut params: Vec<(&str, &str)> = params.into_iter().collect();
    params.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The string to sign of a request: `user`, `method`, `time` and the `data` fields. When
/// `data` repeats a top-level key, `data`'s value wins (PHP `array_merge`).
pub fn request_string_to_sign(
    user: &str,
    method: &str,
    time: i64,
    data: &[(&str, &str)],
) -> String {
    let time = time.to_string();
    let mut params: Vec<(&str, &str)> = Vec::with_capacity(data.len() + 3);
    for (k, v) in [("user", user), ("method", method), ("time", time.as_str())] {
        if !data.iter().any(|(dk, _)| *dk == k) {
            params.push((k, v));
        }
    }
    params.extend_from_slice(data);
    string_to_sign(params)
}

/// Lower-case hex HMAC-SHA256 of `string_to_sign` under the secret key.
pub fn sign(secret_key: &[u8], string_to_sign: &str) -> String {
    hmac_sha256_hex(secret_key, string_to_sign.as_bytes())
}

/// A JSON value as PHP's string concatenation renders it, which is what the SDK signs after
/// `json_decode`: strings raw, numbers as written (`1.0` as `1`), `true` as `1`, `false` and
/// `null` as the empty string; objects and arrays as their JSON text.
pub fn value_to_sign_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            let s = n.to_string();
            match s.strip_suffix(".0") {
                Some(int) => int.to_owned(),
                None => s,
            }
        }
        Value::Bool(true) => "1".to_owned(),
        Value::Bool(false) | Value::Null => String::new(),
        Value::Object(_) | Value::Array(_) => v.to_string(),
    }
}

/// The strings a notification's `data` may have been signed over, most likely first:
///
/// 1. every key of `data`, empty values as `key=` (the official SDK's `verify`);
/// 2. the same without empty values (a third-party integration drops them);
///
/// and when `data` holds a nested object (the cn notify page lists the 3-D Secure fields
/// flat, third-party code merges a nested object into the flat map), the same two with
/// the nested object's keys merged into the top level.
pub fn notify_candidates(data: &serde_json::Map<String, Value>) -> Vec<String> {
    let (mut out, merged) = candidates_by_form(data);
    out.extend(merged);
    out.dedup();
    out
}

/// The candidates of [`notify_candidates`], split: those over `data` as it is, and those over
/// `data` with its nested objects merged into the top level (empty when nothing is nested).
fn candidates_by_form(data: &serde_json::Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let flat: Vec<(String, String)> = data
        .iter()
        .map(|(k, v)| (k.clone(), value_to_sign_string(v)))
        .collect();
    let as_is = with_and_without_empty(&flat);
    if !data.values().any(Value::is_object) {
        return (as_is, Vec::new());
    }
    let merged: Vec<(String, String)> = merge_nested(data)
        .into_iter()
        .map(|(k, v)| (k, value_to_sign_string(&v)))
        .collect();
    (as_is, with_and_without_empty(&merged))
}

/// `data` with the entries of each nested object in place of the object (what third-party
/// code signs when the 3-D Secure fields arrive as an object), in order.
pub fn merge_nested(data: &serde_json::Map<String, Value>) -> Vec<(String, Value)> {
    let mut merged: Vec<(String, Value)> = Vec::new();
    for (k, v) in data {
        match v {
            Value::Object(inner) => {
                for (ik, iv) in inner {
                    merged.push((ik.clone(), iv.clone()));
                }
            }
            other => merged.push((k.clone(), other.clone())),
        }
    }
    merged
}

/// Which form of a notification's `data` its signature is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyForm {
    /// `data` as it is (the official SDK's form).
    AsIs,
    /// `data` with its nested objects merged into the top level: read it that way too
    /// ([`merge_nested`]).
    Merged,
}

fn with_and_without_empty(pairs: &[(String, String)]) -> Vec<String> {
    let all = string_to_sign(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let non_empty = string_to_sign(
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    if all == non_empty {
        vec![all]
    } else {
        vec![all, non_empty]
    }
}

/// Whether `received` is the signature of `data` under the secret key, trying every
/// candidate of [`notify_candidates`] in constant time each.
pub fn verify_notify(
    secret_key: &[u8],
    data: &serde_json::Map<String, Value>,
    received: &str,
) -> bool {
    notify_form(secret_key, data, received).is_some()
}

/// Which form of `data` `received` signs under the secret key, if any ([`NotifyForm::AsIs`]
/// when both do). Every candidate is compared, in constant time each, with no early exit.
pub fn notify_form(
    secret_key: &[u8],
    data: &serde_json::Map<String, Value>,
    received: &str,
) -> Option<NotifyForm> {
    let (as_is, merged) = candidates_by_form(data);
    let matches = |candidates: &[String]| {
        let mut ok = false;
        for candidate in candidates {
            ok |= signature_matches(&sign(secret_key, candidate), received);
        }
        ok
    };
    let (a, m) = (matches(&as_is), matches(&merged));
    if a {
        Some(NotifyForm::AsIs)
    } else if m {
        Some(NotifyForm::Merged)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 002 / preauthdecrement.html: the string to sign of the example request, with the
    /// `&curren;` / `&not;` damage of the seed repaired (`¤cy` is `&currency`, `¬ify_url` is
    /// `&notify_url`).
    #[test]
    fn decrement_example_string_from_the_docs() {
        let data = [
            ("description", "test"),
            ("trade_id", "9222e0e1-6ef5-639f-3692-90f1e2a33e68"),
            ("amount", "0.1"),
            ("currency", "EUR"),
            ("notify_url", "https://www.yabandpay.com/notify"),
            ("request_id", "skc5vtsovtetqe09us0jdrqm1vjdeaki"),
        ];
        assert_eq!(
            request_string_to_sign("016683", "v3.PreauthDecrement", 1_774_246_236, &data),
            "amount=0.1&currency=EUR&description=test&method=v3.PreauthDecrement&notify_url=https://www.yabandpay.com/notify&request_id=skc5vtsovtetqe09us0jdrqm1vjdeaki&time=1774246236&trade_id=9222e0e1-6ef5-639f-3692-90f1e2a33e68&user=016683"
        );
    }

    /// others/cancel.html.
    #[test]
    fn cancel_example_string_from_the_docs() {
        assert_eq!(
            request_string_to_sign(
                "016683",
                "v3.CancelPayment",
                1_546_588_959,
                &[("trade_id", "4a49ffb3-a30f-ba92-9422-1969afb6f121")]
            ),
            "method=v3.CancelPayment&time=1546588959&trade_id=4a49ffb3-a30f-ba92-9422-1969afb6f121&user=016683"
        );
    }

    /// RFC 4231 test case 2, through the function requests are signed with.
    #[test]
    fn hmac_rfc4231_case_2() {
        assert_eq!(
            sign(b"Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sorting_is_by_bytes_and_values_are_raw() {
        // Digits sort before letters, upper case before lower case; spaces and slashes stay.
        assert_eq!(
            string_to_sign([
                ("b", "x y"),
                ("3ds_initiate", "01"),
                ("B", "https://a/b?c=d")
            ]),
            "3ds_initiate=01&B=https://a/b?c=d&b=x y"
        );
        // data overrides a top-level key, as array_merge does.
        assert_eq!(
            request_string_to_sign("u", "m", 1, &[("time", "2")]),
            "method=m&time=2&user=u"
        );
    }

    #[test]
    fn php_rendering_of_json_values() {
        let v: Value = serde_json::json!({"s":"a b","i":1_708_484_735,"f":1.0,"g":0.1,"t":true,"n":null,"x":false});
        let r = |k: &str| value_to_sign_string(&v[k]);
        assert_eq!(r("s"), "a b");
        assert_eq!(r("i"), "1708484735");
        assert_eq!(r("f"), "1");
        assert_eq!(r("g"), "0.1");
        assert_eq!(r("t"), "1");
        assert_eq!(r("n"), "");
        assert_eq!(r("x"), "");
    }

    #[test]
    fn notify_candidates_cover_empty_and_nested_forms() {
        let data: Value = serde_json::json!({"state":"paid","demo":"","trade_id":"t1"});
        let c = notify_candidates(data.as_object().unwrap());
        assert_eq!(
            c,
            vec!["demo=&state=paid&trade_id=t1", "state=paid&trade_id=t1"]
        );
        let nested: Value = serde_json::json!({"state":"paid","3ds":{"3ds_status":"Y"}});
        let c = notify_candidates(nested.as_object().unwrap());
        assert!(
            c.contains(&"3ds={\"3ds_status\":\"Y\"}&state=paid".to_owned()),
            "{c:?}"
        );
        assert!(c.contains(&"3ds_status=Y&state=paid".to_owned()), "{c:?}");
        let key = b"k";
        let sig = sign(key, "3ds_status=Y&state=paid");
        assert!(verify_notify(key, nested.as_object().unwrap(), &sig));
        assert_eq!(
            notify_form(key, nested.as_object().unwrap(), &sig),
            Some(NotifyForm::Merged)
        );
        let as_is = sign(key, "3ds={\"3ds_status\":\"Y\"}&state=paid");
        assert_eq!(
            notify_form(key, nested.as_object().unwrap(), &as_is),
            Some(NotifyForm::AsIs)
        );
        assert!(!verify_notify(b"other", nested.as_object().unwrap(), &sig));
    }
}
