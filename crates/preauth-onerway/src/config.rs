//! Configuration: merchant number, app id, secret key, environment and the merchant's time
//! zone.

use std::fmt;

use preauth_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use time::UtcOffset;
use time::format_description::FormatItem;
use time::macros::format_description;

/// The sandbox acquiring API.
pub const SANDBOX_URL: &str = "https://sandbox-acq.onerway.com";
/// The production acquiring API.
pub const PRODUCTION_URL: &str = "https://acq.onerway.com";

/// `PREAUTH_ONERWAY_MERCHANT_NO`: the merchant number (`merchantNo`).
pub const ENV_MERCHANT_NO: &str = "PREAUTH_ONERWAY_MERCHANT_NO";
/// `PREAUTH_ONERWAY_APP_ID`: the website's app id (`txnOrderMsg.appId`).
pub const ENV_APP_ID: &str = "PREAUTH_ONERWAY_APP_ID";
/// `PREAUTH_ONERWAY_SECRET_KEY`: the signing secret from the merchant portal.
pub const ENV_SECRET_KEY: &str = "PREAUTH_ONERWAY_SECRET_KEY";
/// `PREAUTH_ONERWAY_ENVIRONMENT`: `sandbox` (default), `production` or `custom`.
pub const ENV_ENVIRONMENT: &str = "PREAUTH_ONERWAY_ENVIRONMENT";
/// `PREAUTH_ONERWAY_BASE_URL`: the base URL of a `custom` environment (a simulator).
pub const ENV_BASE_URL: &str = "PREAUTH_ONERWAY_BASE_URL";
/// `PREAUTH_ONERWAY_TIME_ZONE`: the merchant's UTC offset, `+08:00` form (default `+00:00`).
pub const ENV_TIME_ZONE: &str = "PREAUTH_ONERWAY_TIME_ZONE";

/// `+08:00`, `-05:30`, `+00:00`: the form of `merchantTxnTimeZone` and `txnTimeZone`.
pub(crate) const OFFSET_FORMAT: &[FormatItem<'static>] =
    format_description!("[offset_hour sign:mandatory]:[offset_minute]");

/// Parses a `+08:00`-form UTC offset.
pub(crate) fn parse_offset(s: &str) -> Option<UtcOffset> {
    UtcOffset::parse(s.trim(), OFFSET_FORMAT).ok()
}

/// Formats a UTC offset in the `+08:00` form.
pub(crate) fn format_offset(offset: UtcOffset) -> String {
    // What `offset.format(OFFSET_FORMAT)` writes, without its formatting machinery: the sign,
    // then the whole hours and the minutes past the hour, two digits each (seconds dropped).
    let (hours, minutes) = (
        offset.whole_hours().unsigned_abs(),
        offset.minutes_past_hour().unsigned_abs(),
    );
    let mut s = String::with_capacity(6);
    s.push(if offset.is_negative() { '-' } else { '+' });
    push_two_digits(&mut s, hours);
    s.push(':');
    push_two_digits(&mut s, minutes);
    s
}

/// Appends `n` (below 100) as two decimal digits.
pub(crate) fn push_two_digits(s: &mut String, n: u8) {
    s.push(char::from(b'0' + (n / 10) % 10));
    s.push(char::from(b'0' + n % 10));
}

/// Which Onerway API to talk to.
///
/// In TOML: `environment = "sandbox"`, `environment = "production"`, or
/// `environment = { custom = { base_url = "http://127.0.0.1:8080" } }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum OnerwayEnvironment {
    /// [`SANDBOX_URL`]; the default, so a configuration that forgets the environment moves
    /// no real money.
    #[default]
    Sandbox,
    /// [`PRODUCTION_URL`].
    Production,
    /// Another base URL: a simulator, a proxy, Onerway's former `pacypay.com` hosts.
    Custom {
        /// Scheme, host and optional port (and path prefix), without a trailing slash.
        base_url: String,
    },
}

impl OnerwayEnvironment {
    /// The base URL the endpoints are appended to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            OnerwayEnvironment::Sandbox => SANDBOX_URL,
            OnerwayEnvironment::Production => PRODUCTION_URL,
            OnerwayEnvironment::Custom { base_url } => base_url.trim_end_matches('/'),
        }
    }
}

/// Credentials and settings of one Onerway merchant.
///
/// Build it with [`OnerwayConfig::new`] and the `with_*` methods, from the environment with
/// [`OnerwayConfig::from_env`], or deserialize it (serde, unknown fields refused):
///
/// ```toml
/// merchant_no = "800209"
/// app_id = "1739545982264549376"
/// secret_key = "..."
/// environment = "sandbox"      # or "production", or { custom = { base_url = "..." } }
/// time_zone = "+08:00"         # merchantTxnTimeZone; default "+00:00"
/// ```
///
/// `Debug` never shows the secret key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OnerwayConfig {
    /// The merchant number Onerway assigned (`merchantNo`, up to 20 characters).
    pub merchant_no: String,
    /// The app id of the merchant's website (`txnOrderMsg.appId`).
    pub app_id: String,
    /// The secret key from the merchant portal, appended to every signed string.
    pub secret_key: SecretString,
    /// Which API to call.
    #[serde(default)]
    pub environment: OnerwayEnvironment,
    /// The merchant's UTC offset: `merchantTxnTime` is written in it and `merchantTxnTimeZone`
    /// names it. Transaction times that Onerway reports without a zone (the query's
    /// `txnTime`) are read in it too. Default `+00:00` (UTC).
    #[serde(default = "utc", deserialize_with = "deserialize_offset")]
    pub time_zone: UtcOffset,
}

fn utc() -> UtcOffset {
    UtcOffset::UTC
}

fn deserialize_offset<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<UtcOffset, D::Error> {
    let s = String::deserialize(d)?;
    parse_offset(&s).ok_or_else(|| {
        serde::de::Error::custom("time_zone must be a UTC offset such as \"+08:00\"")
    })
}

impl OnerwayConfig {
    /// A sandbox configuration in UTC.
    pub fn new(
        merchant_no: impl Into<String>,
        app_id: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        OnerwayConfig {
            merchant_no: merchant_no.into(),
            app_id: app_id.into(),
            secret_key: SecretString::from(secret_key.into()),
            environment: OnerwayEnvironment::Sandbox,
            time_zone: UtcOffset::UTC,
        }
    }

    /// Sets the environment.
    #[must_use]
    pub fn with_environment(mut self, environment: OnerwayEnvironment) -> Self {
        self.environment = environment;
        self
    }

    /// Sets the merchant's UTC offset (`merchantTxnTimeZone`).
    #[must_use]
    pub fn with_time_zone(mut self, offset: UtcOffset) -> Self {
        self.time_zone = offset;
        self
    }

    /// Reads the configuration from the process environment: [`ENV_MERCHANT_NO`],
    /// [`ENV_APP_ID`], [`ENV_SECRET_KEY`] (required), [`ENV_ENVIRONMENT`], [`ENV_BASE_URL`],
    /// [`ENV_TIME_ZONE`] (optional), then validates it.
    ///
    /// # Errors
    /// [`Error::Config`] naming the missing or invalid variable (never its value).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests and
    /// for configuration sources other than the process environment).
    ///
    /// # Errors
    /// [`Error::Config`] naming the missing or invalid variable (never its value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let required = |k: &str| get(k).ok_or_else(|| Error::config(format!("{k} is not set")));
        let merchant_no = required(ENV_MERCHANT_NO)?;
        let app_id = required(ENV_APP_ID)?;
        let secret_key = required(ENV_SECRET_KEY)?;
        let base_url = get(ENV_BASE_URL);
        let environment = match (get(ENV_ENVIRONMENT).as_deref().map(str::trim), base_url) {
            (None | Some("custom"), Some(base_url)) => OnerwayEnvironment::Custom { base_url },
            (Some("custom"), None) => {
                return Err(Error::config(format!(
                    "{ENV_ENVIRONMENT}=custom needs {ENV_BASE_URL}"
                )));
            }
            (None | Some("sandbox"), None) => OnerwayEnvironment::Sandbox,
            (Some("production"), None) => OnerwayEnvironment::Production,
            (Some("sandbox" | "production"), Some(_)) => {
                return Err(Error::config(format!(
                    "{ENV_BASE_URL} is only used with {ENV_ENVIRONMENT}=custom"
                )));
            }
            (Some(_), _) => {
                return Err(Error::config(format!(
                    "{ENV_ENVIRONMENT} must be sandbox, production or custom"
                )));
            }
        };
        let time_zone = match get(ENV_TIME_ZONE) {
            None => UtcOffset::UTC,
            Some(tz) => parse_offset(&tz).ok_or_else(|| {
                Error::config(format!(
                    "{ENV_TIME_ZONE} must be a UTC offset such as +08:00"
                ))
            })?,
        };
        let config = OnerwayConfig::new(merchant_no.trim(), app_id.trim(), secret_key)
            .with_environment(environment)
            .with_time_zone(time_zone);
        config.validate()?;
        Ok(config)
    }

    /// Checks that every field is usable: merchant number of 1–20 visible characters, an app
    /// id, a secret key, an `http(s)` base URL without query or fragment (`https` for the
    /// built-in environments).
    ///
    /// # Errors
    /// [`Error::Config`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let visible = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic());
        if !visible(&self.merchant_no) || self.merchant_no.len() > 20 {
            return Err(Error::config(
                "onerway merchant_no must be 1 to 20 visible ASCII characters",
            ));
        }
        if !visible(&self.app_id) {
            return Err(Error::config(
                "onerway app_id must be visible ASCII characters",
            ));
        }
        if self.secret_key.expose_secret().trim().is_empty() {
            return Err(Error::config("onerway secret_key is empty"));
        }
        let base = self.environment.base_url();
        let url = url::Url::parse(base)
            .map_err(|_| Error::config("onerway base_url is not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Error::config(
                "onerway base_url must be an http or https URL with a host",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::config(
                "onerway base_url must not have a query or fragment",
            ));
        }
        Ok(())
    }

    /// The base URL requests go to (no trailing slash).
    pub fn base_url(&self) -> &str {
        self.environment.base_url()
    }
}

impl fmt::Debug for OnerwayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnerwayConfig")
            .field("merchant_no", &self.merchant_no)
            .field("app_id", &self.app_id)
            .field("secret_key", &"[REDACTED]")
            .field("environment", &self.environment)
            .field("time_zone", &format_offset(self.time_zone))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    const BASE: [(&str, &str); 3] = [
        (ENV_MERCHANT_NO, "800209"),
        (ENV_APP_ID, "1739545982264549376"),
        (ENV_SECRET_KEY, "s3cr3t-key-value"),
    ];

    #[test]
    fn offsets_format_as_the_format_description_does() {
        for seconds in (-(25 * 3600 + 59 * 60 + 59)..=25 * 3600 + 59 * 60 + 59).step_by(7) {
            let offset = UtcOffset::from_whole_seconds(seconds).unwrap();
            assert_eq!(
                format_offset(offset),
                offset.format(OFFSET_FORMAT).unwrap(),
                "{seconds}"
            );
        }
    }

    #[test]
    fn from_lookup_defaults_to_sandbox_in_utc() {
        let c = OnerwayConfig::from_lookup(vars(&BASE)).unwrap();
        assert_eq!(c.environment, OnerwayEnvironment::Sandbox);
        assert_eq!(c.base_url(), SANDBOX_URL);
        assert_eq!(c.time_zone, UtcOffset::UTC);
        assert_eq!(c.secret_key.expose_secret(), "s3cr3t-key-value");
    }

    #[test]
    fn from_lookup_environments_and_time_zone() {
        let mut v = BASE.to_vec();
        v.push((ENV_ENVIRONMENT, "production"));
        v.push((ENV_TIME_ZONE, "+08:00"));
        let c = OnerwayConfig::from_lookup(vars(&v)).unwrap();
        assert_eq!(c.base_url(), PRODUCTION_URL);
        assert_eq!(format_offset(c.time_zone), "+08:00");

        let mut v = BASE.to_vec();
        v.push((ENV_BASE_URL, "http://127.0.0.1:9999/"));
        let c = OnerwayConfig::from_lookup(vars(&v)).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9999");

        for bad in [
            vec![(ENV_ENVIRONMENT, "custom")],
            vec![(ENV_ENVIRONMENT, "live")],
            vec![(ENV_ENVIRONMENT, "sandbox"), (ENV_BASE_URL, "http://x")],
            vec![(ENV_TIME_ZONE, "Asia/Shanghai")],
            vec![(ENV_BASE_URL, "ftp://x")],
        ] {
            let mut v = BASE.to_vec();
            v.extend(bad.iter().copied());
            let e = OnerwayConfig::from_lookup(vars(&v)).unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{bad:?}: {e}");
            assert!(!e.to_string().contains("s3cr3t"), "{e}");
        }
        let e = OnerwayConfig::from_lookup(vars(&BASE[..2])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid configuration: PREAUTH_ONERWAY_SECRET_KEY is not set"
        );
    }

    #[test]
    fn validate_refuses_unusable_fields() {
        let ok = OnerwayConfig::new("800209", "app", "key");
        assert!(ok.validate().is_ok());
        assert!(OnerwayConfig::new("", "app", "key").validate().is_err());
        assert!(
            OnerwayConfig::new("8".repeat(21), "app", "key")
                .validate()
                .is_err()
        );
        assert!(
            OnerwayConfig::new("800209", "a p", "key")
                .validate()
                .is_err()
        );
        assert!(OnerwayConfig::new("800209", "app", " ").validate().is_err());
        let custom = |u: &str| {
            ok.clone().with_environment(OnerwayEnvironment::Custom {
                base_url: u.to_owned(),
            })
        };
        assert!(custom("http://127.0.0.1:1").validate().is_ok());
        assert!(custom("https://v3-acq.pacypay.com").validate().is_ok());
        assert!(custom("not a url").validate().is_err());
        assert!(custom("https://x/?a=b").validate().is_err());
    }

    #[test]
    fn deserializes_with_unknown_fields_refused_and_debug_redacts() {
        let c: OnerwayConfig = serde_json::from_str(
            r#"{"merchant_no":"800209","app_id":"app","secret_key":"k-very-secret",
                "environment":{"custom":{"base_url":"http://127.0.0.1:1"}},"time_zone":"-05:30"}"#,
        )
        .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:1");
        assert_eq!(format_offset(c.time_zone), "-05:30");
        let d = format!("{c:?}");
        assert!(!d.contains("k-very-secret"), "{d}");
        assert!(d.contains("[REDACTED]"), "{d}");
        let prod: OnerwayConfig = serde_json::from_str(
            r#"{"merchant_no":"1","app_id":"a","secret_key":"k","environment":"production"}"#,
        )
        .unwrap();
        assert_eq!(prod.base_url(), PRODUCTION_URL);
        assert!(
            serde_json::from_str::<OnerwayConfig>(
                r#"{"merchant_no":"1","app_id":"a","secret_key":"k","extra":1}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<OnerwayConfig>(
                r#"{"merchant_no":"1","app_id":"a","secret_key":"k","time_zone":"CST"}"#
            )
            .is_err()
        );
    }
}
