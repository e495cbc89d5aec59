//! `preauth sim`: one provider's simulator as a standalone, stateful server for a user's own
//! integration tests. It enforces the provider's rules and keeps state until stopped, and prints
//! the (simulator-only) credentials to use as environment variables.

use std::net::SocketAddr;

use preauth::{Error, ExposeSecret, ProviderConfig, Result};

pub(crate) async fn run(provider: &str, addr: SocketAddr) -> Result<()> {
    if !addr.ip().is_loopback() {
        return Err(Error::config(format!(
            "the simulator serves loopback addresses only, not {addr}"
        )));
    }
    let sim = preauth::embedded::start(provider, Some(addr)).await?;
    say!(
        "{} simulator listening on {}",
        sim.name,
        sim.server.base_url()
    );
    say!("Credentials it accepts (simulator only, not secrets), as environment variables:\n");
    for (k, v) in env_lines(&sim.config) {
        say!("export {k}='{v}'");
    }
    say!(
        "\nThen e.g.: preauth authorize --provider {} --env --amount 100.00 --currency EUR\n\
         Magic cards: 4111111111111111 approves, 4000000000000002 declines, 4000000000003220 asks for 3-D Secure.\n\
         Stop with Ctrl-C.",
        sim.name
    );
    tokio::select! {
        () = sim.server.wait() => Ok(()),
        r = tokio::signal::ctrl_c() => r.map_err(|e| Error::config(format!("cannot wait for Ctrl-C: {e}"))),
    }
}

/// The configuration as `PREAUTH_*` environment variables (exposes the simulator's keys).
pub(crate) fn env_lines(config: &ProviderConfig) -> Vec<(String, String)> {
    let kv = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let mut out = vec![kv("PREAUTH_PROVIDER", config.provider_name())];
    match config {
        ProviderConfig::Liquido(c) => {
            out.push(kv("PREAUTH_LIQUIDO_CLIENT_ID", &c.client_id));
            out.push(kv(
                "PREAUTH_LIQUIDO_CLIENT_SECRET",
                c.client_secret.expose_secret(),
            ));
            out.push(kv("PREAUTH_LIQUIDO_API_KEY", c.api_key.expose_secret()));
            out.push(kv("PREAUTH_LIQUIDO_ENVIRONMENT", "custom"));
            out.push(kv("PREAUTH_LIQUIDO_AUTH_URL", c.environment.auth_url()));
            out.push(kv("PREAUTH_LIQUIDO_API_URL", c.environment.api_url()));
        }
        ProviderConfig::Onerway(c) => {
            out.push(kv("PREAUTH_ONERWAY_MERCHANT_NO", &c.merchant_no));
            out.push(kv("PREAUTH_ONERWAY_APP_ID", &c.app_id));
            out.push(kv(
                "PREAUTH_ONERWAY_SECRET_KEY",
                c.secret_key.expose_secret(),
            ));
            out.push(kv("PREAUTH_ONERWAY_ENVIRONMENT", "custom"));
            out.push(kv("PREAUTH_ONERWAY_BASE_URL", c.environment.base_url()));
        }
        ProviderConfig::Yabandpay(c) => {
            out.push(kv("PREAUTH_YABANDPAY_USER", &c.user));
            out.push(kv(
                "PREAUTH_YABANDPAY_SECRET_KEY",
                c.secret_key.expose_secret(),
            ));
            out.push(kv("PREAUTH_YABANDPAY_BASE_URL", c.base_url()));
        }
        _ => {}
    }
    out
}
