//! Switching provider is a configuration change: TOML or environment to
//! `Arc<dyn PreauthProvider>`, with clear errors that never echo a secret.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use preauth::{Error, ProviderConfig};

#[cfg(all(feature = "liquido", feature = "onerway", feature = "yabandpay"))]
#[track_caller]
fn built(toml: &str, name: &str) {
    let c = ProviderConfig::from_toml_str(toml).unwrap();
    assert_eq!(c.provider_name(), name);
    let p = c.build().unwrap();
    assert_eq!(p.name(), name);
}

#[cfg(all(feature = "liquido", feature = "onerway", feature = "yabandpay"))]
#[test]
fn each_provider_from_toml() {
    built(
        r#"provider = "liquido"
client_id = "id"
client_secret = "liquido-client-secret-value"
api_key = "liquido-api-key-value"
"#,
        "liquido",
    );
    built(
        r#"provider = "onerway"
merchant_no = "800209"
app_id = "1739545982264549376"
secret_key = "onerway-secret-key-value"
"#,
        "onerway",
    );
    built(
        r#"provider = "yabandpay"
user = "016683"
secret_key = "yabandpay-secret-key-value"
"#,
        "yabandpay",
    );
}

#[test]
fn unknown_provider_and_bad_keys_are_config_errors_without_secrets() {
    let e = ProviderConfig::from_toml_str("provider = \"stripe\"\n").unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e}");
    let e = ProviderConfig::from_toml_str(
        "provider = \"yabandpay\"\nuser = \"1\"\nsecret_key = \"hunter2-secret\"\nsecrt = \"typo-secret-value\"\n",
    )
    .unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e}");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("hunter2-secret") && !shown.contains("typo-secret-value"),
        "{shown}"
    );
    let e = ProviderConfig::from_env_for("nope").unwrap_err();
    assert!(e.to_string().contains("unknown provider"), "{e}");
}

#[test]
fn debug_of_a_config_never_shows_the_secret() {
    let c = ProviderConfig::from_toml_str(
        "provider = \"yabandpay\"\nuser = \"016683\"\nsecret_key = \"yb-secret-123456\"\n",
    )
    .unwrap();
    assert!(!format!("{c:?}").contains("yb-secret-123456"));
}
