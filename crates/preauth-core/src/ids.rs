//! Idempotency keys and the injected clock: the two sources of nondeterminism, so that bodies
//! and signatures are byte-for-byte reproducible in tests.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// A validated idempotency key: 1 to 64 characters of `A–Z a–z 0–9 - _ .`.
///
/// The limits are the strictest of the providers': Onerway `merchantTxnId` holds 64
/// characters, Liquido puts the key in a URL path. The same key is reused on every retry of
/// one operation (Liquido `idempotencyKey`, Onerway `merchantTxnId`, YabandPay `request_id`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest key accepted.
    pub const MAX_LEN: usize = 64;

    /// Validates a key given by the caller.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when it is empty, longer than 64 characters, or has a
    /// character outside `A–Z a–z 0–9 - _ .`.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        if key.is_empty() || key.len() > Self::MAX_LEN {
            return Err(Error::invalid_request(format!(
                "idempotency key must be 1 to {} characters, got {}",
                Self::MAX_LEN,
                key.len()
            )));
        }
        if let Some(c) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(Error::invalid_request(format!(
                "idempotency key has a character outside A-Z a-z 0-9 - _ . ({c:?})"
            )));
        }
        Ok(IdempotencyKey(key))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key derived from this one for a follow-up operation (`{key}-{suffix}`), validated.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the result is not a valid key.
    pub fn derive(&self, suffix: &str) -> Result<Self> {
        IdempotencyKey::new(format!("{}-{suffix}", self.0))
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        IdempotencyKey::new(s)
    }
}

impl<'de> Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IdempotencyKey::new(s).map_err(serde::de::Error::custom)
    }
}

/// Makes idempotency keys when the caller gives none.
pub trait KeyGenerator: fmt::Debug + Send + Sync {
    /// A fresh key.
    fn next_key(&self) -> IdempotencyKey;
}

/// Random keys: 32 lower-case hex characters (a UUID v4 without dashes), which also meets
/// YabandPay's advice of 24+ letters and digits.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomKeys;

impl KeyGenerator for RandomKeys {
    fn next_key(&self) -> IdempotencyKey {
        IdempotencyKey(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// Deterministic keys for tests: `{prefix}{n:06}` with n counting from 1.
#[derive(Debug)]
pub struct SequentialKeys {
    prefix: String,
    next: AtomicU64,
}

impl SequentialKeys {
    /// Keys `{prefix}000001`, `{prefix}000002`, …; the prefix is cut to keep keys valid.
    pub fn new(prefix: &str) -> Self {
        let prefix: String = prefix
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(40)
            .collect();
        SequentialKeys {
            prefix,
            next: AtomicU64::new(1),
        }
    }
}

impl KeyGenerator for SequentialKeys {
    fn next_key(&self) -> IdempotencyKey {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        IdempotencyKey(format!("{}{n:06}", self.prefix))
    }
}

/// The source of "now". Inject [`ManualClock`] in tests.
pub trait Clock: fmt::Debug + Send + Sync {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock (UTC).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the system time
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told: fixed times for snapshots, advancing for expiry tests.
/// Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *t += by;
    }

    /// Sets the clock.
    pub fn set(&self, at: OffsetDateTime) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        assert!(IdempotencyKey::new("1ec983fa-1a37-679b-809b-067861d87ab0").is_ok());
        assert!(IdempotencyKey::new("skc5vtsovtetqe09us0jdrqm1vjdeaki").is_ok());
        assert!(IdempotencyKey::new("a".repeat(64)).is_ok());
        for bad in ["", "a b", "a/b", "é", "a?b", "a\nb"] {
            assert!(IdempotencyKey::new(bad).is_err(), "{bad:?}");
        }
        assert!(IdempotencyKey::new("a".repeat(65)).is_err());
        assert!(serde_json::from_str::<IdempotencyKey>("\"a/b\"").is_err());
    }

    #[test]
    fn generators() {
        let k = RandomKeys.next_key();
        assert_eq!(k.as_str().len(), 32);
        assert_ne!(RandomKeys.next_key(), k);
        let s = SequentialKeys::new("hold-");
        assert_eq!(s.next_key().as_str(), "hold-000001");
        assert_eq!(s.next_key().as_str(), "hold-000002");
        assert_eq!(
            s.next_key().derive("capture").unwrap().as_str(),
            "hold-000003-capture"
        );
    }

    #[test]
    fn manual_clock_is_shared_by_clones() {
        let c = ManualClock::new(time::macros::datetime!(2026-01-01 00:00 UTC));
        let d = c.clone();
        c.advance(Duration::from_secs(3600));
        assert_eq!(d.now(), time::macros::datetime!(2026-01-01 01:00 UTC));
    }
}
