//! # preauth
//!
//! Card pre-authorization across payment providers behind one trait,
//! [`PreauthProvider`]. This facade re-exports [`preauth_core`] (the trait, money, hold model,
//! errors) and, per feature, the provider crates, and builds an `Arc<dyn PreauthProvider>` from
//! a [`ProviderConfig`], so switching provider is a configuration change.
//!
//! | feature | crate | |
//! |---|---|---|
//! | `liquido` (default) | [`liquido`] | LatAm; OAuth2 + API key; minor units |
//! | `onerway` (default) | [`onerway`] | SHA-256 signed; full capture only |
//! | `yabandpay` (default) | [`yabandpay`] | HMAC-SHA256 signed; decrement |
//! | `simulator` | | the providers' in-process simulators |
//!
//! ```no_run
//! use preauth::{AuthorizeRequest, CaptureRequest, CardDetails, Currency, Money, PaymentMethod, ProviderConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // provider = "onerway" plus its keys, in a file or PREAUTH_* environment variables.
//! let provider = ProviderConfig::from_env()?.build()?;
//!
//! let card = CardDetails::new("4111111111111111", 12, 2030, "123", "Ana Silva")?;
//! let amount = Money::parse_major("300.00", Currency::USD)?;
//! let hold = provider.authorize(AuthorizeRequest::new(amount, PaymentMethod::Card(card))).await?;
//!
//! // At check-out: capture what the stay cost, release the rest.
//! let stay = Money::parse_major("220.00", Currency::USD)?;
//! let hold = provider.capture(CaptureRequest::new(hold).with_amount(stay)).await?;
//! println!("{} captured {}", hold.provider, hold.captured);
//! # Ok(()) }
//! ```

use std::sync::Arc;

pub use preauth_core;
pub use preauth_core::*;
#[cfg(feature = "liquido")]
pub use preauth_liquido as liquido;
#[cfg(feature = "onerway")]
pub use preauth_onerway as onerway;
#[cfg(feature = "yabandpay")]
pub use preauth_yabandpay as yabandpay;

/// Which provider to use and its settings: the one thing to change to switch provider.
///
/// In TOML, the `provider` key names it and the provider's own keys sit beside it:
///
/// ```toml
/// provider = "yabandpay"
/// user = "016683"
/// secret_key = "…"
/// ```
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProviderConfig {
    /// Liquido.
    #[cfg(feature = "liquido")]
    Liquido(preauth_liquido::LiquidoConfig),
    /// Onerway.
    #[cfg(feature = "onerway")]
    Onerway(preauth_onerway::OnerwayConfig),
    /// YabandPay.
    #[cfg(feature = "yabandpay")]
    Yabandpay(preauth_yabandpay::YabandPayConfig),
}

/// The providers compiled in, by the names [`ProviderConfig`] and `PREAUTH_PROVIDER` accept.
pub const PROVIDERS: &[&str] = &[
    #[cfg(feature = "liquido")]
    "liquido",
    #[cfg(feature = "onerway")]
    "onerway",
    #[cfg(feature = "yabandpay")]
    "yabandpay",
];

impl ProviderConfig {
    /// Parses a TOML document.
    ///
    /// # Errors
    /// [`Error::Config`] naming the problem (never echoing a secret).
    pub fn from_toml_str(s: &str) -> Result<Self> {
        toml::from_str(s)
            .map_err(|e| Error::config(format!("provider configuration: {}", e.message())))
    }

    /// Reads and parses a TOML file.
    ///
    /// # Errors
    /// [`Error::Config`] when the file cannot be read or parsed.
    pub fn from_toml_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let s = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml_str(&s)
    }

    /// From the environment: `PREAUTH_PROVIDER` names the provider, whose own `from_env` reads
    /// its `PREAUTH_<PROVIDER>_*` keys.
    ///
    /// # Errors
    /// [`Error::Config`] when `PREAUTH_PROVIDER` is missing or unknown, or the provider's keys are.
    pub fn from_env() -> Result<Self> {
        let name = std::env::var("PREAUTH_PROVIDER").map_err(|_| {
            Error::config(format!(
                "PREAUTH_PROVIDER is not set (one of: {})",
                PROVIDERS.join(", ")
            ))
        })?;
        Self::from_env_for(&name)
    }

    /// From the environment keys of the provider `name`.
    ///
    /// # Errors
    /// [`Error::Config`] when the provider is unknown or its keys are missing.
    pub fn from_env_for(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            #[cfg(feature = "liquido")]
            "liquido" => Ok(ProviderConfig::Liquido(
                preauth_liquido::LiquidoConfig::from_env()?,
            )),
            #[cfg(feature = "onerway")]
            "onerway" => Ok(ProviderConfig::Onerway(
                preauth_onerway::OnerwayConfig::from_env()?,
            )),
            #[cfg(feature = "yabandpay")]
            "yabandpay" => Ok(ProviderConfig::Yabandpay(
                preauth_yabandpay::YabandPayConfig::from_env()?,
            )),
            other => Err(unknown_provider(other)),
        }
    }

    /// The provider's name.
    pub fn provider_name(&self) -> &'static str {
        match self {
            #[cfg(feature = "liquido")]
            ProviderConfig::Liquido(_) => preauth_liquido::PROVIDER,
            #[cfg(feature = "onerway")]
            ProviderConfig::Onerway(_) => preauth_onerway::PROVIDER,
            #[cfg(feature = "yabandpay")]
            ProviderConfig::Yabandpay(_) => preauth_yabandpay::PROVIDER,
        }
    }

    /// Builds the provider with its own connection pool.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid.
    pub fn build(self) -> Result<Arc<dyn PreauthProvider>> {
        self.build_with(Transport::shared()?)
    }

    /// Builds the provider on a shared [`Transport`] (one connection pool for several providers).
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid.
    pub fn build_with(self, transport: Transport) -> Result<Arc<dyn PreauthProvider>> {
        let _ = &transport;
        match self {
            #[cfg(feature = "liquido")]
            ProviderConfig::Liquido(c) => Ok(Arc::new(
                preauth_liquido::Liquido::new(c)?.with_transport(transport),
            )),
            #[cfg(feature = "onerway")]
            ProviderConfig::Onerway(c) => Ok(Arc::new(
                preauth_onerway::Onerway::new(c)?.with_transport(transport),
            )),
            #[cfg(feature = "yabandpay")]
            ProviderConfig::Yabandpay(c) => Ok(Arc::new(
                preauth_yabandpay::YabandPay::new(c)?.with_transport(transport),
            )),
        }
    }
}

/// The root README's code blocks, compiled and run as doctests.
#[cfg(all(doctest, feature = "simulator", feature = "yabandpay"))]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

fn unknown_provider(name: &str) -> Error {
    let shown: String = name.chars().take(32).collect();
    Error::config(format!(
        "unknown provider {shown:?} (compiled in: {})",
        PROVIDERS.join(", ")
    ))
}

/// The providers' simulators, embedded: start one on loopback and get a provider pointed at it
/// (feature `simulator`). For demos, offline development and integration tests.
#[cfg(feature = "simulator")]
pub mod embedded {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use preauth_core::sim::{SimControl, SimServer};
    use preauth_core::{Clock, Error, PreauthProvider, Result, SystemClock, Transport};

    use crate::ProviderConfig;

    /// A running simulator and the configuration that reaches it.
    #[derive(Debug)]
    pub struct Embedded {
        /// The provider's name.
        pub name: &'static str,
        /// The server; dropping it stops the simulator.
        pub server: SimServer,
        /// A configuration with the simulator's credentials, pointed at it.
        pub config: ProviderConfig,
    }

    impl Embedded {
        /// A provider client for this simulator.
        ///
        /// # Errors
        /// [`Error::Config`] when the configuration is invalid (a bug).
        pub fn provider(&self) -> Result<Arc<dyn PreauthProvider>> {
            self.config.clone().build()
        }

        /// A provider client for this simulator on a shared transport.
        ///
        /// # Errors
        /// [`Error::Config`] when the configuration is invalid (a bug).
        pub fn provider_with(&self, transport: Transport) -> Result<Arc<dyn PreauthProvider>> {
            self.config.clone().build_with(transport)
        }
    }

    /// The configuration that reaches a simulator of provider `name` already running at
    /// `base_url` (for example a `preauth sim` in another process): its fixed test credentials.
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown provider.
    pub fn config_for(name: &str, base_url: &str) -> Result<ProviderConfig> {
        let control = SimControl::default();
        match name.to_ascii_lowercase().as_str() {
            #[cfg(feature = "liquido")]
            "liquido" => Ok(ProviderConfig::Liquido(
                preauth_liquido::simulator::Simulator::new(control).config(base_url),
            )),
            #[cfg(feature = "onerway")]
            "onerway" => Ok(ProviderConfig::Onerway(
                preauth_onerway::simulator::Simulator::new(control).config(base_url),
            )),
            #[cfg(feature = "yabandpay")]
            "yabandpay" => Ok(ProviderConfig::Yabandpay(
                preauth_yabandpay::simulator::Simulator::new(control).config(base_url),
            )),
            other => Err(crate::unknown_provider(other)),
        }
    }

    /// Starts the simulator of provider `name` on `addr` (default: a free loopback port), its
    /// clock at the current time.
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown provider or an address that cannot be bound.
    pub async fn start(name: &str, addr: Option<SocketAddr>) -> Result<Embedded> {
        let control = SimControl::new(SystemClock.now());
        let bind = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let io =
            |e: std::io::Error| Error::config(format!("cannot serve the simulator on {bind}: {e}"));
        match name.to_ascii_lowercase().as_str() {
            #[cfg(feature = "liquido")]
            "liquido" => {
                let sim = preauth_liquido::simulator::Simulator::new(control.clone());
                let server = SimServer::spawn_on(bind, sim.router(), control)
                    .await
                    .map_err(io)?;
                let config = ProviderConfig::Liquido(sim.config(&server.base_url()));
                Ok(Embedded {
                    name: preauth_liquido::PROVIDER,
                    server,
                    config,
                })
            }
            #[cfg(feature = "onerway")]
            "onerway" => {
                let sim = preauth_onerway::simulator::Simulator::new(control.clone());
                let server = SimServer::spawn_on(bind, sim.router(), control)
                    .await
                    .map_err(io)?;
                let config = ProviderConfig::Onerway(sim.config(&server.base_url()));
                Ok(Embedded {
                    name: preauth_onerway::PROVIDER,
                    server,
                    config,
                })
            }
            #[cfg(feature = "yabandpay")]
            "yabandpay" => {
                let sim = preauth_yabandpay::simulator::Simulator::new(control.clone());
                let server = SimServer::spawn_on(bind, sim.router(), control)
                    .await
                    .map_err(io)?;
                let config = ProviderConfig::Yabandpay(sim.config(&server.base_url()));
                Ok(Embedded {
                    name: preauth_yabandpay::PROVIDER,
                    server,
                    config,
                })
            }
            other => Err(crate::unknown_provider(other)),
        }
    }
}
