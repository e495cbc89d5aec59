//! Configuration: the cashier account, its secret key, and where the API lives.

use std::fmt;

use preauth_core::{Error, ExposeSecret, Result, SecretString};
use serde::Deserialize;

/// The production API host. YabandPay documents one endpoint, `POST {base}/Payments`.
pub const PRODUCTION_BASE_URL: &str = "https://mapi.yabandpay.com";

/// Environment variable with the cashier account UID.
pub const ENV_USER: &str = "PREAUTH_YABANDPAY_USER";
/// Environment variable with the secret key.
pub const ENV_SECRET_KEY: &str = "PREAUTH_YABANDPAY_SECRET_KEY";
/// Environment variable with a custom base URL (optional; default [`PRODUCTION_BASE_URL`]).
pub const ENV_BASE_URL: &str = "PREAUTH_YABANDPAY_BASE_URL";
/// Environment variable with the default `notify_url` (optional).
pub const ENV_NOTIFY_URL: &str = "PREAUTH_YABANDPAY_NOTIFY_URL";
/// Environment variable with the default `redirect_url` (optional).
pub const ENV_REDIRECT_URL: &str = "PREAUTH_YABANDPAY_REDIRECT_URL";

/// Where the API lives.
///
/// YabandPay publishes no separate sandbox host: test accounts use the production host, so
/// [`Environment::Sandbox`] points there too and exists only so configurations look alike
/// across providers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Environment {
    /// `https://mapi.yabandpay.com`.
    #[default]
    Production,
    /// The same host as production (YabandPay has no sandbox host; test accounts live there).
    Sandbox,
    /// Another base URL (a proxy, or the simulator on loopback). `http` is accepted for
    /// loopback hosts only.
    Custom {
        /// Base URL without the `/Payments` path, e.g. `http://127.0.0.1:8080`.
        base_url: String,
    },
}

impl Environment {
    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Environment::Production | Environment::Sandbox => PRODUCTION_BASE_URL,
            Environment::Custom { base_url } => base_url.trim_end_matches('/'),
        }
    }
}

/// YabandPay credentials and defaults.
///
/// | key | env var | required | meaning |
/// |---|---|---|---|
/// | `user` | `PREAUTH_YABANDPAY_USER` | yes | the cashier account UID (`user` in every request) |
/// | `secret_key` | `PREAUTH_YABANDPAY_SECRET_KEY` | yes | the HMAC-SHA256 key requests and notifications are signed with |
/// | `environment` | `PREAUTH_YABANDPAY_BASE_URL` (sets `Custom`) | no | default `production` |
/// | `notify_url` | `PREAUTH_YABANDPAY_NOTIFY_URL` | for capture and decrement | default `notify_url` of every request |
/// | `redirect_url` | `PREAUTH_YABANDPAY_REDIRECT_URL` | no | default `redirect_url` of an authorization |
///
/// `Debug` never shows the secret key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct YabandPayConfig {
    /// The cashier account UID.
    pub user: String,
    /// The secret key (HMAC-SHA256 key of the signatures).
    pub secret_key: SecretString,
    /// Where the API lives.
    #[serde(default)]
    pub environment: Environment,
    /// Default asynchronous notification URL. `v3.Capture` and `v3.PreauthDecrement` require
    /// one and their requests carry no URL of their own, so capture and decrement are refused
    /// locally without it; an authorization uses its own `notify_url` first.
    #[serde(default)]
    pub notify_url: Option<String>,
    /// Default `redirect_url` of an authorization (where the payer returns after 3-D Secure);
    /// an authorization uses its own `return_url` first.
    #[serde(default)]
    pub redirect_url: Option<String>,
}

impl YabandPayConfig {
    /// A configuration for the production host.
    pub fn new(user: impl Into<String>, secret_key: impl Into<String>) -> Self {
        YabandPayConfig {
            user: user.into(),
            secret_key: SecretString::from(secret_key.into()),
            environment: Environment::Production,
            notify_url: None,
            redirect_url: None,
        }
    }

    /// Sets the environment.
    #[must_use]
    pub fn with_environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Points the client at a custom base URL (a proxy, the simulator).
    #[must_use]
    pub fn with_base_url(self, base_url: impl Into<String>) -> Self {
        self.with_environment(Environment::Custom {
            base_url: base_url.into(),
        })
    }

    /// Sets the default `notify_url`.
    #[must_use]
    pub fn with_notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// Sets the default `redirect_url`.
    #[must_use]
    pub fn with_redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = Some(url.into());
        self
    }

    /// Reads `PREAUTH_YABANDPAY_USER`, `PREAUTH_YABANDPAY_SECRET_KEY` and, when set,
    /// `PREAUTH_YABANDPAY_BASE_URL`, `PREAUTH_YABANDPAY_NOTIFY_URL`,
    /// `PREAUTH_YABANDPAY_REDIRECT_URL`, then validates.
    ///
    /// # Errors
    /// [`Error::Config`] naming the missing or invalid variable (never its value).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup (for tests and other sources).
    ///
    /// # Errors
    /// [`Error::Config`] naming the missing or invalid key.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let user = get(ENV_USER).ok_or_else(|| Error::config(format!("{ENV_USER} is not set")))?;
        let secret = get(ENV_SECRET_KEY)
            .ok_or_else(|| Error::config(format!("{ENV_SECRET_KEY} is not set")))?;
        let mut config = YabandPayConfig::new(user, secret);
        if let Some(base) = get(ENV_BASE_URL) {
            config = config.with_base_url(base);
        }
        config.notify_url = get(ENV_NOTIFY_URL);
        config.redirect_url = get(ENV_REDIRECT_URL);
        config.validate()?;
        Ok(config)
    }

    /// The base URL in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.environment.base_url()
    }

    /// The one endpoint: `{base}/Payments`.
    pub fn endpoint(&self) -> String {
        format!("{}/Payments", self.base_url())
    }

    /// Checks the configuration: a non-empty user and secret key; an `https` base URL
    /// (`http` only for loopback hosts); absolute `http(s)` notify and redirect URLs.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field (never the secret).
    pub fn validate(&self) -> Result<()> {
        if self.user.trim().is_empty() {
            return Err(Error::config("yabandpay user (cashier UID) is empty"));
        }
        if self.user.chars().any(char::is_control) {
            return Err(Error::config(
                "yabandpay user (cashier UID) has control characters",
            ));
        }
        if self.secret_key.expose_secret().is_empty() {
            return Err(Error::config("yabandpay secret_key is empty"));
        }
        check_base_url(self.base_url())?;
        for (name, value) in [
            ("notify_url", &self.notify_url),
            ("redirect_url", &self.redirect_url),
        ] {
            if let Some(v) = value {
                check_web_url(name, v)?;
            }
        }
        Ok(())
    }
}

fn check_base_url(base: &str) -> Result<()> {
    let url = url::Url::parse(base)
        .map_err(|_| Error::config("yabandpay base URL is not an absolute URL"))?;
    let loopback = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(Error::config(
            "yabandpay base URL must use https (http is accepted for loopback hosts only)",
        )),
        _ => Err(Error::config("yabandpay base URL must be an https URL")),
    }
}

pub(crate) fn check_web_url(name: &str, value: &str) -> Result<()> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(Error::config(format!(
            "yabandpay {name} is not an absolute http(s) URL"
        ))),
    }
}

impl fmt::Debug for YabandPayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YabandPayConfig")
            .field("user", &self.user)
            .field("secret_key", &"[REDACTED]")
            .field("environment", &self.environment)
            .field("notify_url", &self.notify_url)
            .field("redirect_url", &self.redirect_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn from_lookup_reads_the_keys() {
        let c = YabandPayConfig::from_lookup(env(&[
            (ENV_USER, "016683"),
            (ENV_SECRET_KEY, "s3cr3t-key-value"),
        ]))
        .unwrap();
        assert_eq!(c.user, "016683");
        assert_eq!(c.endpoint(), "https://mapi.yabandpay.com/Payments");
        assert_eq!(c.notify_url, None);

        let c = YabandPayConfig::from_lookup(env(&[
            (ENV_USER, "016683"),
            (ENV_SECRET_KEY, "s3cr3t-key-value"),
            (ENV_BASE_URL, "http://127.0.0.1:9999/"),
            (ENV_NOTIFY_URL, "https://merchant.example/notify"),
        ]))
        .unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:9999/Payments");
        assert_eq!(
            c.notify_url.as_deref(),
            Some("https://merchant.example/notify")
        );
    }

    #[test]
    fn missing_and_invalid_values_are_config_errors_without_the_secret() {
        let e = YabandPayConfig::from_lookup(env(&[(ENV_USER, "016683")])).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e}");
        assert!(e.to_string().contains(ENV_SECRET_KEY), "{e}");
        let e = YabandPayConfig::from_lookup(env(&[(ENV_SECRET_KEY, "x")])).unwrap_err();
        assert!(e.to_string().contains(ENV_USER), "{e}");
        for base in ["http://mapi.example.com", "ftp://x", "not a url"] {
            let e = YabandPayConfig::new("u", "very-secret")
                .with_base_url(base)
                .validate()
                .unwrap_err();
            assert!(!e.to_string().contains("very-secret"), "{e}");
        }
        assert!(
            YabandPayConfig::new("u", "k")
                .with_notify_url("/relative")
                .validate()
                .is_err()
        );
        assert!(YabandPayConfig::new(" ", "k").validate().is_err());
        assert!(YabandPayConfig::new("u", "").validate().is_err());
    }

    #[test]
    fn deserializes_strictly_and_debug_redacts() {
        let c: YabandPayConfig = serde_json::from_str(
            r#"{"user":"016683","secret_key":"top-secret-1","environment":{"custom":{"base_url":"http://localhost:1"}}}"#,
        )
        .unwrap();
        assert_eq!(c.base_url(), "http://localhost:1");
        c.validate().unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("top-secret-1"), "{d}");
        assert!(d.contains("[REDACTED]"), "{d}");
        let sandbox: YabandPayConfig =
            serde_json::from_str(r#"{"user":"u","secret_key":"k","environment":"sandbox"}"#)
                .unwrap();
        assert_eq!(sandbox.base_url(), PRODUCTION_BASE_URL);
        assert!(
            serde_json::from_str::<YabandPayConfig>(r#"{"user":"u","secret_key":"k","extra":1}"#)
                .is_err()
        );
    }
}
