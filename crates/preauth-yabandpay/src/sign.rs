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

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use preauth_core::webhook::{hmac_sha256_hex, signature_matches};
use serde_json::Value;
use sha2::Sha256;

use crate::wire::key_order;

/// Sorts `params` by key: byte order, stable.
fn sort_by_key(params: &mut [(&str, &str)]) {
    params.sort_by(|a, b| key_order(a.0, b.0));
}

/// Feeds `pairs` (in the order given) to `sink` as `key=value` joined with `&`.
fn join_into<'p>(pairs: impl Iterator<Item = (&'p str, &'p str)>, mut sink: impl FnMut(&str)) {
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            sink("&");
        }
        sink(k);
        sink("=");
        sink(v);
    }
}

/// `pairs` (in the order given) joined as `key=value&…`.
fn joined<'p>(pairs: impl Iterator<Item = (&'p str, &'p str)> + Clone) -> String {
    let len = pairs.clone().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(len);
    join_into(pairs, |s| out.push_str(s));
    out
}

/// Lower-case hex HMAC-SHA256 under `secret_key` of `pairs` (in the order given) joined as
/// `key=value&…`, fed to the MAC without building the string: the same as [`sign`] of the
/// joined string.
fn sign_pairs<'p>(secret_key: &[u8], pairs: impl Iterator<Item = (&'p str, &'p str)>) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret_key) else {
        return String::new();
    };
    join_into(pairs, |s| mac.update(s.as_bytes()));
    hex::encode(mac.finalize().into_bytes())
}

/// Joins `params` as the string to sign: sorted by key (byte order, stable), `key=value`
/// joined with `&`, values raw. Every pair given is included, an empty value as `key=` (as
/// the SDK does); request builders never pass empty values.
pub fn string_to_sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut params: Vec<(&str, &str)> = params.into_iter().collect();
    sort_by_key(&mut params);
    joined(params.iter().copied())
}

/// `time` in decimal, written into `buf`.
fn decimal(time: i64, buf: &mut [u8; 20]) -> &str {
    let mut n = time.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        // `n % 10` is a single digit.
        buf[at] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if time < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    std::str::from_utf8(&buf[at..]).unwrap_or("")
}

/// The parameters a request signs, sorted: `user`, `method`, `time` and the `data` fields.
/// When `data` repeats a top-level key, `data`'s value wins (PHP `array_merge`).
fn request_params<'a>(
    user: &'a str,
    method: &'a str,
    time: &'a str,
    data: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Vec<(&'a str, &'a str)> {
    let mut params: Vec<(&str, &str)> = Vec::with_capacity(data.size_hint().0 + 3);
    for (k, v) in [("user", user), ("method", method), ("time", time)] {
        if !data.clone().any(|(dk, _)| dk == k) {
            params.push((k, v));
        }
    }
    params.extend(data);
    sort_by_key(&mut params);
    params
}

/// The string to sign of a request: `user`, `method`, `time` and the `data` fields. When
/// `data` repeats a top-level key, `data`'s value wins (PHP `array_merge`).
pub fn request_string_to_sign(
    user: &str,
    method: &str,
    time: i64,
    data: &[(&str, &str)],
) -> String {
    let mut buf = [0u8; 20];
    let time = decimal(time, &mut buf);
    joined(
        request_params(user, method, time, data.iter().copied())
            .iter()
            .copied(),
    )
}

/// The signature of a request: [`sign`] of its [`request_string_to_sign`], with the sorted
/// pairs fed to the MAC directly.
pub(crate) fn sign_request<'a>(
    secret_key: &[u8],
    user: &'a str,
    method: &'a str,
    time: i64,
    data: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> String {
    let mut buf = [0u8; 20];
    let time = decimal(time, &mut buf);
    // `time` lives shorter than the data: shorten the items' lifetime to it.
    let data = data.map(|(k, v)| -> (&str, &str) { (k, v) });
    sign_pairs(
        secret_key,
        request_params(user, method, time, data).iter().copied(),
    )
}

/// Lower-case hex HMAC-SHA256 of `string_to_sign` under the secret key.
pub fn sign(secret_key: &[u8], string_to_sign: &str) -> String {
    hmac_sha256_hex(secret_key, string_to_sign.as_bytes())
}

/// A JSON value as PHP's string concatenation renders it, which is what the SDK signs after
/// `json_decode`: strings raw, numbers as written (`1.0` as `1`), `true` as `1`, `false` and
/// `null` as the empty string; objects and arrays as their JSON text.
pub fn value_to_sign_string(v: &Value) -> String {
    sign_text(v).into_owned()
}

/// [`value_to_sign_string`], borrowing strings.
pub(crate) fn sign_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Number(n) => {
            let s = n.to_string();
            match s.strip_suffix(".0") {
                Some(int) => Cow::Owned(int.to_owned()),
                None => Cow::Owned(s),
            }
        }
        Value::Bool(true) => Cow::Borrowed("1"),
        Value::Bool(false) | Value::Null => Cow::Borrowed(""),
        Value::Object(_) | Value::Array(_) => Cow::Owned(v.to_string()),
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
    let as_is: Vec<(&str, Cow<'_, str>)> = data
        .iter()
        .map(|(k, v)| (k.as_str(), sign_text(v)))
        .collect();
    let mut out = with_and_without_empty(&as_is);
    if let Some(merged) = merged_pairs(data) {
        out.extend(with_and_without_empty(&merged));
    }
    out.dedup();
    out
}

/// The pairs of `data` with its nested objects merged into the top level, rendered and
/// sorted by key (stable); `None` when nothing is nested.
fn merged_pairs(data: &serde_json::Map<String, Value>) -> Option<Vec<(String, String)>> {
    if !data.values().any(Value::is_object) {
        return None;
    }
    let mut merged: Vec<(String, String)> = merge_nested(data)
        .into_iter()
        .map(|(k, v)| {
            let v = value_to_sign_string(&v);
            (k, v)
        })
        .collect();
    merged.sort_by(|a, b| key_order(&a.0, &b.0));
    Some(merged)
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

/// The two strings over `pairs` (sorted by key): every pair, and the non-empty ones (only
/// when they differ).
fn with_and_without_empty<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<String> {
    let all = joined(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
    if !pairs.iter().any(|(_, v)| v.as_ref().is_empty()) {
        return vec![all];
    }
    let non_empty = joined(
        pairs
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .filter(|(_, v)| !v.is_empty()),
    );
    vec![all, non_empty]
}

/// Whether `received` signs `pairs` (sorted by key) in one of the two forms of
/// [`notify_candidates`]: every pair, empty values as `key=` (the SDK's form, tried first),
/// then, only when some value is empty, the non-empty pairs. Each comparison is in constant
/// time; which form matched is not secret, so the first match ends the search.
pub(crate) fn pairs_match<K: AsRef<str>, V: AsRef<str>>(
    secret_key: &[u8],
    pairs: &[(K, V)],
    received: &str,
) -> bool {
    let all = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
    if signature_matches(&sign_pairs(secret_key, all.clone()), received) {
        return true;
    }
    // Dropping a pair always shortens the string, so the second form differs from the first
    // exactly when some value is empty.
    pairs.iter().any(|(_, v)| v.as_ref().is_empty())
        && signature_matches(
            &sign_pairs(secret_key, all.filter(|(_, v)| !v.is_empty())),
            received,
        )
}

/// Whether `received` signs `data` with its nested objects merged in (false when nothing is
/// nested).
pub(crate) fn merged_match(
    secret_key: &[u8],
    data: &serde_json::Map<String, Value>,
    received: &str,
) -> bool {
    merged_pairs(data).is_some_and(|merged| pairs_match(secret_key, &merged, received))
}

/// Whether `received` is the signature of `data` under the secret key, trying the
/// candidates of [`notify_candidates`] in constant time each.
pub fn verify_notify(
    secret_key: &[u8],
    data: &serde_json::Map<String, Value>,
    received: &str,
) -> bool {
    notify_form(secret_key, data, received).is_some()
}

/// Which form of `data` `received` signs under the secret key, if any ([`NotifyForm::AsIs`]
/// when both do). The candidates are compared in constant time each, the forms of `data` as
/// it is first; the search stops at the first match (which form matched is not secret).
pub fn notify_form(
    secret_key: &[u8],
    data: &serde_json::Map<String, Value>,
    received: &str,
) -> Option<NotifyForm> {
    let as_is: Vec<(&str, Cow<'_, str>)> = data
        .iter()
        .map(|(k, v)| (k.as_str(), sign_text(v)))
        .collect();
    if pairs_match(secret_key, &as_is, received) {
        Some(NotifyForm::AsIs)
    } else if merged_match(secret_key, data, received) {
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
    fn streamed_request_signature_is_the_signature_of_the_string() {
        let key = b"secret";
        for (time, data) in [
            (1_774_246_236, vec![("trade_id", "t"), ("amount", "0.1")]),
            (0, vec![]),
            (
                -5,
                vec![("time", "2"), ("user", "x"), ("b", ""), ("a", "é")],
            ),
            (i64::MIN, vec![("method", "m2")]),
            (i64::MAX, vec![("3ds_initiate", "01"), ("B", "b")]),
        ] {
            assert_eq!(
                sign_request(key, "016683", "v3.Capture", time, data.iter().copied()),
                sign(
                    key,
                    &request_string_to_sign("016683", "v3.Capture", time, &data)
                ),
                "{time} {data:?}"
            );
        }
        let mut buf = [0u8; 20];
        for n in [0, 7, -7, 10, 1_774_246_236, i64::MIN, i64::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string());
        }
    }

    #[test]
    fn notify_forms_stop_at_the_first_match_with_the_same_answer() {
        let key = b"k";
        let data: Value = serde_json::json!({"state":"paid","demo":"","trade_id":"t1","n":1.0});
        let data = data.as_object().unwrap();
        for candidate in notify_candidates(data) {
            let sig = sign(key, &candidate);
            assert_eq!(notify_form(key, data, &sig), Some(NotifyForm::AsIs));
            assert_eq!(
                notify_form(key, data, &sig.to_ascii_uppercase()),
                Some(NotifyForm::AsIs)
            );
            assert_eq!(notify_form(b"other", data, &sig), None);
        }
        assert_eq!(notify_form(key, data, ""), None);
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
