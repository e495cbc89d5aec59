//! Liquido's webhook signature, as pure functions (docs.liquido.com/signature):
//!
//! ```text
//! Liquido-Signature: algorithm=HmacSHA256,timestamp={unix_seconds},signature={hex}
//! content   = "payload=" + <raw request body> + ",timestamp=" + <timestamp>
//! signature = lower-case hex HmacSHA256(key = OAuth client_secret as UTF-8, content)
//! ```

use preauth_core::webhook::hmac_sha256_hex_parts;

/// The header Liquido signs notifications with.
pub const SIGNATURE_HEADER: &str = "Liquido-Signature";

/// The only algorithm Liquido documents.
pub const ALGORITHM: &str = "HmacSHA256";

/// The exact bytes that are signed: `payload=<raw body>,timestamp=<timestamp>`.
pub fn signed_content(body: &[u8], timestamp: &str) -> Vec<u8> {
    let mut content = Vec::with_capacity(body.len() + timestamp.len() + 19);
    content.extend_from_slice(b"payload=");
    content.extend_from_slice(body);
    content.extend_from_slice(b",timestamp=");
    content.extend_from_slice(timestamp.as_bytes());
    content
}

/// The lower-case hex signature of `body` at `timestamp` under the client secret.
pub fn signature(client_secret: &str, body: &[u8], timestamp: &str) -> String {
    // The same bytes as `signed_content`, fed to the HMAC without copying the body.
    hmac_sha256_hex_parts(
        client_secret.as_bytes(),
        &[b"payload=", body, b",timestamp=", timestamp.as_bytes()],
    )
}

/// The whole `Liquido-Signature` header value for `body` signed at `timestamp` (unix seconds).
pub fn signature_header(client_secret: &str, body: &[u8], timestamp: i64) -> String {
    let ts = timestamp.to_string();
    format!(
        "algorithm={ALGORITHM},timestamp={ts},signature={}",
        signature(client_secret, body, &ts)
    )
}

/// The parts of a `Liquido-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureHeader<'a> {
    pub(crate) timestamp: &'a str,
    pub(crate) signature: &'a str,
}

/// Parses `algorithm=HmacSHA256,timestamp=…,signature=…` (order-insensitive, spaces around
/// parts ignored). `None` when a part is missing, repeated, or the algorithm is another one.
pub(crate) fn parse_header(value: &str) -> Option<SignatureHeader<'_>> {
    let mut algorithm = None;
    let mut timestamp = None;
    let mut signature = None;
    for part in value.split(',') {
        let (k, v) = part.split_once('=')?;
        let slot = match k.trim() {
            "algorithm" => &mut algorithm,
            "timestamp" => &mut timestamp,
            "signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(v.trim()).is_some() {
            return None;
        }
    }
    if algorithm.is_some_and(|a: &str| !a.eq_ignore_ascii_case(ALGORITHM)) {
        return None;
    }
    let timestamp = timestamp.filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))?;
    let signature =
        signature.filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))?;
    Some(SignatureHeader {
        timestamp,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Liquido publishes no test vector. This one was computed independently with Python's
    /// standard library:
    ///
    /// ```text
    /// python3 -c 'import hmac,hashlib; print(hmac.new(b"test-client-secret",
    ///   b"payload={\"eventType\":\"CHARGE_SUCCEEDED\"},timestamp=1767225600",
    ///   hashlib.sha256).hexdigest())'
    /// ```
    #[test]
    fn known_answer_computed_with_python_hmac() {
        let body = br#"{"eventType":"CHARGE_SUCCEEDED"}"#;
        assert_eq!(
            signed_content(body, "1767225600"),
            br#"payload={"eventType":"CHARGE_SUCCEEDED"},timestamp=1767225600"#.to_vec()
        );
        assert_eq!(
            signature("test-client-secret", body, "1767225600"),
            PYTHON_VECTOR
        );
        assert_eq!(
            signature_header("test-client-secret", body, 1_767_225_600),
            format!("algorithm=HmacSHA256,timestamp=1767225600,signature={PYTHON_VECTOR}")
        );
    }

    const PYTHON_VECTOR: &str = "e823004915e3003b053759634ccc22f14bcc68491ca6980b843db9efad4d31cf";

    #[test]
    fn header_parsing() {
        let h = parse_header("algorithm=HmacSHA256,timestamp=1700000000,signature=ab12").unwrap();
        assert_eq!(h.timestamp, "1700000000");
        assert_eq!(h.signature, "ab12");
        let h = parse_header(" signature=AB12 , timestamp=1 ").unwrap();
        assert_eq!((h.timestamp, h.signature), ("1", "AB12"));
        for bad in [
            "",
            "algorithm=HmacSHA1,timestamp=1,signature=ab",
            "timestamp=1",
            "signature=ab",
            "timestamp=x1,signature=ab",
            "timestamp=1,signature=zz",
            "timestamp=1,timestamp=2,signature=ab",
            "timestamp=1,signature=ab,junk",
        ] {
            assert!(parse_header(bad).is_none(), "{bad:?}");
        }
    }
}
