//! `preauth`: the command line of the preauth workspace.
//!
//! ```text
//! preauth demo                                   hotel stay on every provider's embedded simulator
//! preauth sim --provider NAME --addr 127.0.0.1:PORT
//! preauth authorize|capture|cancel|decrement|retrieve|refund --provider NAME …
//! preauth webhook verify --provider NAME --header 'Name: value' --body-file FILE
//! ```
//!
//! Exit codes: 0 success; 1 the provider or the library refused the operation (declined,
//! rejected, not found, invalid state, unsupported); 2 usage or configuration error;
//! 3 outcome unknown (reconcile with `retrieve` before retrying); 4 provider unavailable, rate
//! limited or answering nonsense; 5 webhook rejected.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI prints

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// `println!` that ends the program quietly when stdout is closed (`preauth demo | head`)
/// instead of panicking on the broken pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod demo;
mod ops;
mod sim;
mod webhook;

/// Card pre-authorization across payment providers: demo, simulators, operations, webhooks.
#[derive(Debug, Parser)]
#[command(name = "preauth", version, about, long_about = None)]
struct Cli {
    /// Log what the library does (tracing) to stderr; never secrets.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A hotel stay on each provider's embedded simulator: no credentials, no network.
    Demo,
    /// Run one provider's simulator as a standalone stateful server.
    Sim {
        /// liquido, onerway or yabandpay.
        #[arg(long)]
        provider: String,
        /// Address to listen on (loopback).
        #[arg(long, default_value = "127.0.0.1:12111")]
        addr: SocketAddr,
    },
    /// Place a hold.
    Authorize(ops::AuthorizeArgs),
    /// Capture all or part of a hold.
    Capture(ops::CaptureArgs),
    /// Release a hold.
    Cancel(ops::RefArgs),
    /// Reduce a hold.
    Decrement(ops::DecrementArgs),
    /// Read a hold's state.
    Retrieve(ops::RetrieveArgs),
    /// Refund a captured hold.
    Refund(ops::RefundArgs),
    /// Notifications.
    Webhook {
        #[command(subcommand)]
        command: webhook::WebhookCommand,
    },
}

/// Where the operation goes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Target {
    /// liquido, onerway or yabandpay.
    #[arg(long)]
    pub(crate) provider: String,
    /// A TOML provider configuration (`provider = "…"` and its keys).
    #[arg(long, conflicts_with_all = ["env", "sim_url"])]
    pub(crate) config: Option<PathBuf>,
    /// Read the configuration from the provider's PREAUTH_* environment variables.
    #[arg(long)]
    pub(crate) env: bool,
    /// The URL of a running `preauth sim` (its credentials are known).
    #[arg(long, conflicts_with = "env")]
    pub(crate) sim_url: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.verbose {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::DEBUG)
            .init();
    }
    let result = match cli.command {
        Command::Demo => demo::run().await,
        Command::Sim { provider, addr } => sim::run(&provider, addr).await,
        Command::Authorize(a) => ops::authorize(a).await,
        Command::Capture(a) => ops::capture(a).await,
        Command::Cancel(a) => ops::cancel(a).await,
        Command::Decrement(a) => ops::decrement(a).await,
        Command::Retrieve(a) => ops::retrieve(a).await,
        Command::Refund(a) => ops::refund(a).await,
        Command::Webhook { command } => webhook::run(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("preauth: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The documented exit code of an error.
pub(crate) fn exit_code(e: &preauth::Error) -> u8 {
    use preauth::Error as E;
    match e {
        E::Config { .. } => 2,
        E::OutcomeUnknown { .. } => 3,
        E::Unavailable { .. }
        | E::RateLimited { .. }
        | E::Protocol { .. }
        | E::Unauthenticated { .. } => 4,
        E::InvalidWebhook { .. } => 5,
        _ => 1,
    }
}
