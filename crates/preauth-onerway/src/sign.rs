//! Onerway signatures, as pure functions.
//!
//! **Requests** (docs `sign.md`): take every top-level parameter except `sign`, drop those
//! whose value is `null` or `""` (keep `"0"`), sort the names in ASCII order, concatenate the
//! **values** with no separator, append the merchant's secret key, and send
//! `sign = lower-hex(SHA-256(that))`. Plain SHA-256, not HMAC.
//!
//! **Notifications** (docs `notify.md`): the same over **every** non-empty top-level field
//! except [`NOTIFICATION_EXCLUDED`], so fields Onerway adds later are signed by default.
//!
//! Nested objects (`txnOrderMsg`, `cardInfo`, `billingInformation`, …) travel as JSON
//! *strings*, and the signature covers that exact string; the client serializes each nested
//! object once, signs the strings and sends the same strings ([`wire_value`] does it for
//! arbitrary JSON, the way Onerway's own showcase does).
//!
//! ```
//! use preauth_onerway::sign::{canonical_values, sign, REQUEST_EXCLUDED};
//! use secrecy::SecretString;
//!
//! // The docs' example (`test2` is a Signed=No parameter of the example table).
//! let params = [
//!     ("test3", Some("test3value")),
//!     ("test2", Some("test2value")),
//!     ("test1", Some("0")),
//!     ("test5", Some("")),
//!     ("test4", Some("test4value")),
//!     ("test6", None),
//! ];
//! let values = canonical_values(params, &["test2", "sign"]);
//! assert_eq!(values, "0test3valuetest4value");
//! let secret = SecretString::from("3b5e10b65bff4172a5b9ca2d2ec00a6e");
//! assert_eq!(
//!     sign(&values, &secret),
//!     "836831ae68fce5e61d4a64363bb72c636efe6e94b62ecaa8d1c95fc58cc9cbed"
//! );
//! # let _ = REQUEST_EXCLUDED;
//! ```

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Request parameters that are not signed: only `sign` itself, in every request table of
/// the docs (doTransaction, authPayment CAPTURE/VOID, onlineRefund, list).
pub const REQUEST_EXCLUDED: &[&str] = &["sign"];

/// Notification fields left out of the notification signature (docs `notify.md`); every
/// other non-empty field is signed, known or not.
pub const NOTIFICATION_EXCLUDED: &[&str] = &[
    "originTransactionId",
    "originMerchantTxnId",
    "customsDeclarationAmount",
    "customsDeclarationCurrency",
    "paymentMethod",
    "walletTypeName",
    "periodValue",
    "tokenExpireTime",
    "sign",
];

/// The values of `params`, sorted by name in ASCII (byte) order, concatenated with no
/// separator; `None` and `""` values and the names in `excluded` are left out. This is the
/// string that is hashed, without the secret.
///
/// A name given twice keeps its last value (as a JSON object would).
pub fn canonical_values<'a>(
    params: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    excluded: &[&str],
) -> String {
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(k, _)| !excluded.contains(k))
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
    sorted.into_values().collect()
}

/// `lower-hex(SHA-256(canonical ‖ secret))`. The secret is fed to the hash directly, never
/// copied into a new string.
pub fn sign(canonical: &str, secret: &SecretString) -> String {
    sign_values([canonical], secret)
}

/// [`sign`] of the concatenation of `values`, hashed one by one: the same signature, without
/// building the concatenated string. The caller gives the values already sorted and filtered
/// as [`canonical_values`] would.
pub(crate) fn sign_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
    secret: &SecretString,
) -> String {
    let mut h = Sha256::new();
    for v in values {
        h.update(v.as_bytes());
    }
    h.update(secret.expose_secret().as_bytes());
    hex::encode(h.finalize())
}

/// The `sign` of a request whose top-level parameters are `params` (already in wire form:
/// nested objects as their JSON strings).
pub fn sign_request(params: &BTreeMap<&str, String>, secret: &SecretString) -> String {
    // The map is already sorted: its values are hashed as they are, with no second map or
    // concatenated string.
    sign_values(
        params
            .iter()
            .filter(|(k, _)| !REQUEST_EXCLUDED.contains(k))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty()),
        secret,
    )
}

/// The wire (and signed) form of one top-level JSON value, as Onerway's showcase builds it:
/// `null` and `""` are absent (`None`); strings are themselves; numbers and booleans are their
/// JSON text; an object or array becomes its JSON text after every object or array nested in
/// it has itself been turned into a JSON string ("innermost first", so `txnOrderMsg.products`
/// ends up as a string inside a string).
///
/// Object keys come out in the order `serde_json` keeps them (sorted); the order does not
/// matter to Onerway, which hashes the string it receives, as long as the string signed is
/// the string sent.
pub fn wire_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(_) | Value::Array(_) => Some(json_text(&normalize_nested(value))),
    }
}

fn normalize_nested(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(normalize_nested).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, child)| {
                    let child = if child.is_object() || child.is_array() {
                        Value::String(json_text(&normalize_nested(child)))
                    } else {
                        child.clone()
                    };
                    (k.clone(), child)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn json_text(value: &Value) -> String {
    // Serializing a `Value` cannot fail: its keys are strings.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_a_from_sign_md() {
        let params = [
            ("test3", Some("test3value")),
            ("test2", Some("test2value")),
            ("test1", Some("0")),
            ("test5", Some("")),
            ("test4", Some("test4value")),
            ("test6", None),
        ];
        let values = canonical_values(params, &["test2", "sign"]);
        assert_eq!(values, "0test3valuetest4value");
        let secret = SecretString::from("3b5e10b65bff4172a5b9ca2d2ec00a6e");
        assert_eq!(
            sign(&values, &secret),
            "836831ae68fce5e61d4a64363bb72c636efe6e94b62ecaa8d1c95fc58cc9cbed"
        );
    }

    #[test]
    fn vector_b_from_the_showcase_with_a_nested_json_string() {
        let payload = serde_json::json!({
            "z": "last",
            "a": "first",
            "nested": {"appId": "app", "products": [{"currency": "USD", "price": "5.00"}]},
            "empty": "",
            "nil": null,
            "sign": "ignored",
        });
        let Value::Object(map) = &payload else {
            panic!("an object")
        };
        let wire: BTreeMap<&str, Option<String>> = map
            .iter()
            .map(|(k, v)| (k.as_str(), wire_value(v)))
            .collect();
        assert_eq!(
            wire["nested"].as_deref(),
            Some(r#"{"appId":"app","products":"[{\"currency\":\"USD\",\"price\":\"5.00\"}]"}"#)
        );
        let values = canonical_values(
            wire.iter().map(|(k, v)| (*k, v.as_deref())),
            REQUEST_EXCLUDED,
        );
        assert_eq!(
            values,
            format!("first{}last", wire["nested"].as_deref().unwrap_or_default())
        );
        assert_eq!(
            sign(&values, &SecretString::from("secret")),
            "7037dfbd20a6e54890f8e0a1f947ef6568dc17a80e67ef6aed5142259e700ff0"
        );
    }

    #[test]
    fn order_is_by_bytes_and_zero_is_kept() {
        // Upper case sorts before lower case in ASCII.
        let v = canonical_values([("b", Some("2")), ("B", Some("1")), ("a", Some("0"))], &[]);
        assert_eq!(v, "102"); // B < a < b
        assert_eq!(wire_value(&serde_json::json!(0)).as_deref(), Some("0"));
        assert_eq!(
            wire_value(&serde_json::json!(false)).as_deref(),
            Some("false")
        );
        assert_eq!(wire_value(&serde_json::json!("")), None);
    }
}
