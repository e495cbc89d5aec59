//! Liquido configuration: OAuth2 client credentials, the API key, the environment, the
//! webhook tolerance window and the hold validity this crate assumes.

use std::fmt;
use std::time::Duration;

use preauth_core::{Error, ExposeSecret, Result, SecretString};
use serde::Deserialize;

/// The OAuth2 token URL of Liquido's sandbox (from the official PHP SDK, `src/Util/Config.php`).
pub const SANDBOX_AUTH_URL: &str = "https://auth-dev.liquido.com/oauth2/token";
/// The API base URL of Liquido's sandbox.
pub const SANDBOX_API_URL: &str = "https://api-qa.liquido.com";
/// The OAuth2 token URL of Liquido's production environment.
pub const PRODUCTION_AUTH_URL: &str = "https://authsg.liquido.com/oauth2/token";
/// The API base URL of Liquido's production environment.
pub const PRODUCTION_API_URL: &str = "https://api.liquido.com";

/// Default [`LiquidoConfig::webhook_tolerance_secs`]: 5 minutes.
pub const DEFAULT_WEBHOOK_TOLERANCE_SECS: u64 = 300;

/// Default [`LiquidoConfig::hold_validity_secs`]: 7 days.
///
/// Liquido does not document how long a `capture: false` authorization stays capturable.
/// Card networks keep a customer-initiated authorization valid for about 7 days (Visa and
/// Mastercard's general rule for final/undefined authorizations), so this crate assumes 7 days
/// unless configured otherwise, sets [`Hold::expires_at`](preauth_core::Hold::expires_at) from
/// it and refuses to capture a hold past it locally.
pub const DEFAULT_HOLD_VALIDITY_SECS: u64 = 7 * 24 * 60 * 60;

/// The longest webhook tolerance window accepted (one day).
const MAX_WEBHOOK_TOLERANCE_SECS: u64 = 24 * 60 * 60;
/// The longest hold validity accepted (31 days; card authorizations never last longer).
const MAX_HOLD_VALIDITY_SECS: u64 = 31 * 24 * 60 * 60;

/// Where the client sends its requests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum LiquidoEnvironment {
    /// Token `https://auth-dev.liquido.com/oauth2/token`, API `https://api-qa.liquido.com`.
    #[default]
    Sandbox,
    /// Token `https://authsg.liquido.com/oauth2/token`, API `https://api.liquido.com`.
    Production,
    /// Any other deployment, e.g. the simulator.
    Custom {
        /// The full OAuth2 token URL (`…/oauth2/token`).
        auth_url: String,
        /// The API base URL, without a trailing `/v1/...` path.
        api_url: String,
    },
}

impl LiquidoEnvironment {
    /// The OAuth2 token URL.
    pub fn auth_url(&self) -> &str {
        match self {
            LiquidoEnvironment::Sandbox => SANDBOX_AUTH_URL,
            LiquidoEnvironment::Production => PRODUCTION_AUTH_URL,
            LiquidoEnvironment::Custom { auth_url, .. } => auth_url,
        }
    }

    /// The API base URL, without a trailing slash.
    pub fn api_url(&self) -> &str {
        match self {
            LiquidoEnvironment::Sandbox => SANDBOX_API_URL,
            LiquidoEnvironment::Production => PRODUCTION_API_URL,
            LiquidoEnvironment::Custom { api_url, .. } => api_url.trim_end_matches('/'),
        }
    }
}

/// Credentials and settings of a Liquido merchant account.
///
/// Deserializes from e.g. TOML (unknown keys are refused); `Debug` redacts the client secret
/// and the API key.
///
/// ```
/// use preauth_liquido::{LiquidoConfig, LiquidoEnvironment};
///
/// let config = LiquidoConfig::new("my-client-id", "my-client-secret", "my-api-key")
///     .with_environment(LiquidoEnvironment::Production);
/// config.validate()?;
/// assert!(!format!("{config:?}").contains("my-client-secret"));
/// # Ok::<(), preauth_core::Error>(())
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LiquidoConfig {
    /// OAuth2 client id (`client_id`).
    pub client_id: String,
    /// OAuth2 client secret (`client_secret`); also the key of the webhook HMAC.
    pub client_secret: SecretString,
    /// API key sent as `x-api-key` on every API call.
    pub api_key: SecretString,
    /// Sandbox (the default), production, or custom URLs.
    #[serde(default)]
    pub environment: LiquidoEnvironment,
    /// How far a webhook's signed timestamp may be from now, in seconds (default 300).
    #[serde(default = "default_tolerance")]
    pub webhook_tolerance_secs: u64,
    /// How long an authorization is assumed capturable, in seconds (default 7 days; see
    /// [`DEFAULT_HOLD_VALIDITY_SECS`] for why).
    #[serde(default = "default_validity")]
    pub hold_validity_secs: u64,
}

fn default_tolerance() -> u64 {
    DEFAULT_WEBHOOK_TOLERANCE_SECS
}

fn default_validity() -> u64 {
    DEFAULT_HOLD_VALIDITY_SECS
}

impl fmt::Debug for LiquidoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiquidoConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("api_key", &"[REDACTED]")
            .field("environment", &self.environment)
            .field("webhook_tolerance_secs", &self.webhook_tolerance_secs)
            .field("hold_validity_secs", &self.hold_validity_secs)
            .finish()
    }
}

/// The environment variables [`LiquidoConfig::from_env`] reads.
pub mod env_keys {
    /// OAuth2 client id (required).
    pub const CLIENT_ID: &str = "PREAUTH_LIQUIDO_CLIENT_ID";
    /// OAuth2 client secret (required).
    pub const CLIENT_SECRET: &str = "PREAUTH_LIQUIDO_CLIENT_SECRET";
    /// API key (required).
    pub const API_KEY: &str = "PREAUTH_LIQUIDO_API_KEY";
    /// `sandbox` (default), `production` or `custom`.
    pub const ENVIRONMENT: &str = "PREAUTH_LIQUIDO_ENVIRONMENT";
    /// Token URL; only with `custom` (required then).
    pub const AUTH_URL: &str = "PREAUTH_LIQUIDO_AUTH_URL";
    /// API base URL; only with `custom` (required then).
    pub const API_URL: &str = "PREAUTH_LIQUIDO_API_URL";
    /// Webhook tolerance window in seconds (default 300).
    pub const WEBHOOK_TOLERANCE_SECS: &str = "PREAUTH_LIQUIDO_WEBHOOK_TOLERANCE_SECS";
    /// Assumed hold validity in seconds (default 604800, 7 days).
    pub const HOLD_VALIDITY_SECS: &str = "PREAUTH_LIQUIDO_HOLD_VALIDITY_SECS";
}

impl LiquidoConfig {
    /// A sandbox configuration with the default tolerance and hold validity.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        LiquidoConfig {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            api_key: SecretString::from(api_key.into()),
            environment: LiquidoEnvironment::Sandbox,
            webhook_tolerance_secs: DEFAULT_WEBHOOK_TOLERANCE_SECS,
            hold_validity_secs: DEFAULT_HOLD_VALIDITY_SECS,
        }
    }

    /// Sets the environment.
    #[must_use]
    pub fn with_environment(mut self, environment: LiquidoEnvironment) -> Self {
        self.environment = environment;
        self
    }

    /// Sets the webhook tolerance window.
    #[must_use]
    pub fn with_webhook_tolerance(mut self, tolerance: Duration) -> Self {
        self.webhook_tolerance_secs = tolerance.as_secs();
        self
    }

    /// Sets the assumed hold validity.
    #[must_use]
    pub fn with_hold_validity(mut self, validity: Duration) -> Self {
        self.hold_validity_secs = validity.as_secs();
        self
    }

    /// The webhook tolerance window.
    pub fn webhook_tolerance(&self) -> Duration {
        Duration::from_secs(self.webhook_tolerance_secs)
    }

    /// The assumed hold validity.
    pub fn hold_validity(&self) -> Duration {
        Duration::from_secs(self.hold_validity_secs)
    }

    /// Reads the `PREAUTH_LIQUIDO_*` environment variables (see [`env_keys`]) and validates
    /// the result.
    ///
    /// # Errors
    /// [`Error::Config`] naming the missing or invalid variable (never its value).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests and
    /// other configuration sources).
    ///
    /// # Errors
    /// [`Error::Config`] naming the missing or invalid variable (never its value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let required = |k: &str| get(k).ok_or_else(|| Error::config(format!("{k} is not set")));
        let client_id = required(env_keys::CLIENT_ID)?;
        let client_secret = required(env_keys::CLIENT_SECRET)?;
        let api_key = required(env_keys::API_KEY)?;
        let auth_url = get(env_keys::AUTH_URL);
        let api_url = get(env_keys::API_URL);
        let env_name = get(env_keys::ENVIRONMENT).map(|s| s.trim().to_ascii_lowercase());
        let environment = match env_name.as_deref() {
            None | Some("sandbox") | Some("production")
                if auth_url.is_some() || api_url.is_some() =>
            {
                return Err(Error::config(format!(
                    "{} and {} are only used with {}=custom",
                    env_keys::AUTH_URL,
                    env_keys::API_URL,
                    env_keys::ENVIRONMENT
                )));
            }
            None | Some("sandbox") => LiquidoEnvironment::Sandbox,
            Some("production") => LiquidoEnvironment::Production,
            Some("custom") => LiquidoEnvironment::Custom {
                auth_url: auth_url.ok_or_else(|| {
                    Error::config(format!(
                        "{} is required with {}=custom",
                        env_keys::AUTH_URL,
                        env_keys::ENVIRONMENT
                    ))
                })?,
                api_url: api_url.ok_or_else(|| {
                    Error::config(format!(
                        "{} is required with {}=custom",
                        env_keys::API_URL,
                        env_keys::ENVIRONMENT
                    ))
                })?,
            },
            Some(_) => {
                return Err(Error::config(format!(
                    "{} must be sandbox, production or custom",
                    env_keys::ENVIRONMENT
                )));
            }
        };
        let secs = |k: &str, default: u64| -> Result<u64> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| Error::config(format!("{k} must be a whole number of seconds"))),
            }
        };
        let config = LiquidoConfig {
            client_id: client_id.trim().to_owned(),
            client_secret: SecretString::from(client_secret),
            api_key: SecretString::from(api_key),
            environment,
            webhook_tolerance_secs: secs(
                env_keys::WEBHOOK_TOLERANCE_SECS,
                DEFAULT_WEBHOOK_TOLERANCE_SECS,
            )?,
            hold_validity_secs: secs(env_keys::HOLD_VALIDITY_SECS, DEFAULT_HOLD_VALIDITY_SECS)?,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks that every credential is present and printable, that the URLs are absolute
    /// `https` URLs (plain `http` only towards a loopback host such as the simulator) without
    /// query or fragment, and that the durations are within bounds.
    ///
    /// # Errors
    /// [`Error::Config`] naming the problem (never a secret's value).
    pub fn validate(&self) -> Result<()> {
        check_credential("client_id", &self.client_id)?;
        check_credential("client_secret", self.client_secret.expose_secret())?;
        check_credential("api_key", self.api_key.expose_secret())?;
        if let LiquidoEnvironment::Custom { auth_url, api_url } = &self.environment {
            check_url("auth_url", auth_url)?;
            check_url("api_url", api_url)?;
        }
        if self.webhook_tolerance_secs == 0
            || self.webhook_tolerance_secs > MAX_WEBHOOK_TOLERANCE_SECS
        {
            return Err(Error::config(format!(
                "webhook_tolerance_secs must be between 1 and {MAX_WEBHOOK_TOLERANCE_SECS}"
            )));
        }
        if self.hold_validity_secs == 0 || self.hold_validity_secs > MAX_HOLD_VALIDITY_SECS {
            return Err(Error::config(format!(
                "hold_validity_secs must be between 1 and {MAX_HOLD_VALIDITY_SECS}"
            )));
        }
        Ok(())
    }
}

fn check_credential(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::config(format!("{name} is empty")));
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::config(format!(
            "{name} contains whitespace or control characters"
        )));
    }
    Ok(())
}

fn check_url(name: &str, value: &str) -> Result<()> {
    let url =
        url::Url::parse(value).map_err(|_| Error::config(format!("{name} is not a valid URL")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(format!(
                "{name} must use https (plain http is allowed only for a loopback host)"
            )));
        }
        _ => return Err(Error::config(format!("{name} must be an http(s) URL"))),
    }
    if url.host().is_none() {
        return Err(Error::config(format!("{name} has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "{name} must not have a query or a fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!("{name} must not carry credentials")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const BASE: [(&str, &str); 3] = [
        (env_keys::CLIENT_ID, "cid"),
        (env_keys::CLIENT_SECRET, "csecret-XYZ"),
        (env_keys::API_KEY, "apikey-XYZ"),
    ];

    #[test]
    fn from_env_defaults_to_sandbox() {
        let c = LiquidoConfig::from_lookup(lookup(&BASE)).unwrap();
        assert_eq!(c.environment, LiquidoEnvironment::Sandbox);
        assert_eq!(c.environment.auth_url(), SANDBOX_AUTH_URL);
        assert_eq!(c.environment.api_url(), SANDBOX_API_URL);
        assert_eq!(c.webhook_tolerance(), Duration::from_secs(300));
        assert_eq!(c.hold_validity(), Duration::from_secs(7 * 86400));
    }

    #[test]
    fn from_env_production_and_custom() {
        let mut p = BASE.to_vec();
        p.push((env_keys::ENVIRONMENT, "Production"));
        p.push((env_keys::WEBHOOK_TOLERANCE_SECS, "60"));
        let c = LiquidoConfig::from_lookup(lookup(&p)).unwrap();
        assert_eq!(c.environment.auth_url(), PRODUCTION_AUTH_URL);
        assert_eq!(c.environment.api_url(), PRODUCTION_API_URL);
        assert_eq!(c.webhook_tolerance_secs, 60);

        let mut p = BASE.to_vec();
        p.push((env_keys::ENVIRONMENT, "custom"));
        p.push((env_keys::AUTH_URL, "http://127.0.0.1:9/oauth2/token"));
        p.push((env_keys::API_URL, "http://127.0.0.1:9/"));
        let c = LiquidoConfig::from_lookup(lookup(&p)).unwrap();
        assert_eq!(c.environment.api_url(), "http://127.0.0.1:9");
    }

    #[track_caller]
    fn config_error(pairs: &[(&str, &str)], expect: &str) {
        let e = LiquidoConfig::from_lookup(lookup(pairs)).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains(expect), "{msg}");
        assert!(
            !msg.contains("csecret-XYZ") && !msg.contains("apikey-XYZ"),
            "{msg}"
        );
    }

    #[test]
    fn from_env_errors_are_clear() {
        config_error(&BASE[..2], "PREAUTH_LIQUIDO_API_KEY is not set");
        config_error(&[], "PREAUTH_LIQUIDO_CLIENT_ID is not set");
        let mut p = BASE.to_vec();
        p.push((env_keys::ENVIRONMENT, "staging"));
        config_error(&p, "must be sandbox, production or custom");
        let mut p = BASE.to_vec();
        p.push((env_keys::ENVIRONMENT, "custom"));
        p.push((env_keys::API_URL, "https://x.example"));
        config_error(&p, "PREAUTH_LIQUIDO_AUTH_URL is required");
        let mut p = BASE.to_vec();
        p.push((env_keys::AUTH_URL, "https://x.example/oauth2/token"));
        config_error(&p, "only used with PREAUTH_LIQUIDO_ENVIRONMENT=custom");
        let mut p = BASE.to_vec();
        p.push((env_keys::WEBHOOK_TOLERANCE_SECS, "5m"));
        config_error(&p, "WEBHOOK_TOLERANCE_SECS must be a whole number");
        let mut p = BASE.to_vec();
        p.push((env_keys::HOLD_VALIDITY_SECS, "0"));
        config_error(&p, "hold_validity_secs must be between");
    }

    #[test]
    fn validate_urls_and_credentials() {
        let custom = |a: &str, b: &str| {
            LiquidoConfig::new("id", "secret", "key").with_environment(LiquidoEnvironment::Custom {
                auth_url: a.into(),
                api_url: b.into(),
            })
        };
        assert!(
            custom("https://a.example/oauth2/token", "https://b.example")
                .validate()
                .is_ok()
        );
        assert!(
            custom("http://localhost:1/t", "http://[::1]:2")
                .validate()
                .is_ok()
        );
        for (a, b) in [
            ("http://a.example/t", "https://b.example"),
            ("https://a.example/t", "ftp://b.example"),
            ("not a url", "https://b.example"),
            ("https://a.example/t?x=1", "https://b.example"),
            ("https://user:pw@a.example/t", "https://b.example"),
        ] {
            let e = custom(a, b).validate().unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{a} {b}: {e}");
        }
        assert!(LiquidoConfig::new("", "s", "k").validate().is_err());
        assert!(LiquidoConfig::new("id", "s", " ").validate().is_err());
        assert!(LiquidoConfig::new("id", "s\n", "k").validate().is_err());
        assert!(
            LiquidoConfig::new("id", "s", "k")
                .with_webhook_tolerance(Duration::ZERO)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn deserializes_and_refuses_unknown_fields() {
        let c: LiquidoConfig = serde_json::from_str(
            r#"{"client_id":"a","client_secret":"b","api_key":"c",
                "environment":{"custom":{"auth_url":"https://x/t","api_url":"https://y"}}}"#,
        )
        .unwrap();
        assert_eq!(c.environment.auth_url(), "https://x/t");
        let c: LiquidoConfig = serde_json::from_str(
            r#"{"client_id":"a","client_secret":"b","api_key":"c","environment":"production"}"#,
        )
        .unwrap();
        assert_eq!(c.environment, LiquidoEnvironment::Production);
        assert!(
            serde_json::from_str::<LiquidoConfig>(
                r#"{"client_id":"a","client_secret":"b","api_key":"c","secret":"x"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = LiquidoConfig::new("id", "csecret-XYZ", "apikey-XYZ");
        let d = format!("{c:?}");
        assert!(
            !d.contains("csecret-XYZ") && !d.contains("apikey-XYZ"),
            "{d}"
        );
        assert!(d.contains("[REDACTED]"));
    }
}
