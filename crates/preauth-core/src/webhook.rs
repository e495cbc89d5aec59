//! The webhook model: a raw delivery ([`WebhookRequest`]) goes in, a verified
//! [`Notification`] comes out, and [`WebhookAck`] is the exact answer the provider expects.
//! Verification is constant-time; parsing happens only after it succeeded.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::hold::{HoldRef, HoldStatus};
use crate::money::Money;

/// A delivery as received: headers and the **raw** body bytes (verification is over the exact
/// bytes; re-serialized JSON would not verify).
#[derive(Clone, Copy)]
pub struct WebhookRequest<'a> {
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

impl<'a> WebhookRequest<'a> {
    /// A delivery from its headers (name, value) and raw body.
    pub fn new(headers: &'a [(&'a str, &'a str)], body: &'a [u8]) -> Self {
        WebhookRequest { headers, body }
    }

    /// The first header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The raw body.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

impl fmt::Debug for WebhookRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies can carry masked card data and payer details: print sizes only.
        f.debug_struct("WebhookRequest")
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// A payment or hold changed state.
    Payment,
    /// A refund changed state.
    Refund,
    /// A chargeback or dispute.
    Dispute,
    /// Something else (the raw event name is in [`Notification::raw_event`]).
    Other,
}

/// A verified notification, in the common model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notification {
    /// The provider's name.
    pub provider: std::borrow::Cow<'static, str>,
    /// What it is about.
    pub kind: NotificationKind,
    /// The hold it concerns.
    pub hold: HoldRef,
    /// The hold's new status, decided from the provider's status field (never from the
    /// event name alone), when the notification carries one.
    pub status: Option<HoldStatus>,
    /// The amount the notification reports, when it carries one.
    pub amount: Option<Money>,
    /// For refunds: the refund's reference.
    pub refund_reference: Option<String>,
    /// For refunds: where the refund is.
    pub refund_status: Option<crate::hold::RefundStatus>,
    /// The provider's event name (`CHARGE_SUCCEEDED`, `TXN`, `payment`).
    pub raw_event: String,
    /// The provider's status exactly as received.
    pub raw_status: Option<String>,
    /// A key that is the same for every delivery of this notification and different for
    /// another one: use it to drop duplicates (providers retry deliveries).
    pub dedup_key: String,
    /// When the provider says it happened or signed it, when known.
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
}

impl Notification {
    /// A notification about `hold`.
    pub fn new(
        provider: impl Into<std::borrow::Cow<'static, str>>,
        kind: NotificationKind,
        hold: HoldRef,
        raw_event: impl Into<String>,
        dedup_key: impl Into<String>,
    ) -> Self {
        Notification {
            provider: provider.into(),
            kind,
            hold,
            status: None,
            amount: None,
            refund_reference: None,
            refund_status: None,
            raw_event: raw_event.into(),
            raw_status: None,
            dedup_key: dedup_key.into(),
            occurred_at: None,
        }
    }
}

/// The exact answer a provider expects for an accepted notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookAck {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` of the body.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

impl WebhookAck {
    /// An acknowledgement.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Self {
        WebhookAck {
            status,
            content_type,
            body: body.into(),
        }
    }
}

/// Remembers the last `capacity` [`Notification::dedup_key`]s, so a replayed or retried
/// delivery is recognised as a duplicate. In-memory and bounded; a multi-instance deployment
/// keeps the keys in its database instead.
#[derive(Debug)]
pub struct ReplayGuard {
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
    capacity: usize,
}

impl ReplayGuard {
    /// A guard remembering up to `capacity` keys (at least 1).
    pub fn new(capacity: usize) -> Self {
        ReplayGuard {
            inner: Mutex::new((HashSet::new(), VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    /// `true` the first time a key is seen, `false` for a duplicate.
    pub fn first_delivery(&self, n: &Notification) -> bool {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (set, order) = &mut *g;
        if set.contains(&n.dedup_key) {
            return false;
        }
        if order.len() == self.capacity
            && let Some(old) = order.pop_front()
        {
            set.remove(&old);
        }
        set.insert(n.dedup_key.clone());
        order.push_back(n.dedup_key.clone());
        true
    }
}

/// Lower-case hex HMAC-SHA256 of `message` under `key` (Liquido webhooks, YabandPay).
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Lower-case hex HMAC-SHA256 of the concatenation of `parts` under `key`, without building
/// the concatenated message (Liquido signs `payload=` + body + `,timestamp=` + timestamp).
pub fn hmac_sha256_hex_parts(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// Lower-case hex SHA-256 of `message` (Onerway).
pub fn sha256_hex(message: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(message))
}

/// Compares a received hex signature with the expected (lower-case) one in constant time,
/// ignoring ASCII case of the received hex and surrounding whitespace; allocates nothing.
pub fn signature_matches(expected_hex: &str, received_hex: &str) -> bool {
    let received = received_hex.trim().as_bytes();
    let expected = expected_hex.as_bytes();
    if expected.len() != received.len() {
        return false;
    }
    let mut same = subtle::Choice::from(1u8);
    for (e, r) in expected.iter().zip(received) {
        same &= e.ct_eq(&r.to_ascii_lowercase());
    }
    bool::from(same)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn hmac_rfc4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// RFC 4231 test case 6: a key longer than the block size.
    #[test]
    fn hmac_rfc4231_case_6() {
        assert_eq!(
            hmac_sha256_hex(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn hmac_of_parts_is_hmac_of_the_concatenation() {
        assert_eq!(
            hmac_sha256_hex_parts(b"Jefe", &[b"what do ya ", b"", b"want for nothing?"]),
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?")
        );
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn signature_compare() {
        assert!(signature_matches("ab12", "AB12"));
        assert!(!signature_matches("ab12", "ab13"));
        assert!(!signature_matches("ab12", "ab1"));
        assert!(!signature_matches("ab12", ""));
    }

    #[test]
    fn replay_guard_is_bounded() {
        let g = ReplayGuard::new(2);
        let n = |k: &str| {
            Notification::new(
                "p",
                NotificationKind::Payment,
                HoldRef::provider("h"),
                "e",
                k,
            )
        };
        assert!(g.first_delivery(&n("a")));
        assert!(!g.first_delivery(&n("a")));
        assert!(g.first_delivery(&n("b")));
        assert!(g.first_delivery(&n("c")));
        assert!(g.first_delivery(&n("a")), "evicted after capacity");
    }

    #[test]
    fn headers_case_insensitive_and_debug_hides_body() {
        let h = [("Liquido-Signature", "x")];
        let r = WebhookRequest::new(&h, b"{\"cardNumber\":\"4111111111111111\"}");
        assert_eq!(r.header("liquido-signature"), Some("x"));
        assert!(!format!("{r:?}").contains("4111"));
    }
}
