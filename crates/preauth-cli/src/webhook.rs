//! `preauth webhook verify`: checks a notification's signature with the provider's key and
//! prints the parsed `Notification`, or the reason it was rejected (exit code 5).

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use preauth::{Error, Result, WebhookRequest};

use crate::Target;

/// `preauth webhook …`.
#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Verify a notification: headers from --header, the raw body from --body-file or stdin.
    Verify {
        #[command(flatten)]
        target: Target,
        /// A header, `Name: value` (repeatable).
        #[arg(long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// The raw body; standard input when absent.
        #[arg(long)]
        body_file: Option<PathBuf>,
    },
}

pub(crate) async fn run(cmd: WebhookCommand) -> Result<()> {
    let WebhookCommand::Verify {
        target,
        headers,
        body_file,
    } = cmd;
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| Error::invalid_request(format!("header {h:?} is not `Name: value`")))
        })
        .collect::<Result<_>>()?;
    let body = match body_file {
        Some(p) => std::fs::read(&p)
            .map_err(|e| Error::config(format!("cannot read {}: {e}", p.display())))?,
        None => {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .map_err(|e| Error::config(format!("cannot read standard input: {e}")))?;
            b
        }
    };
    let (provider, _sim) = crate::ops::connect(&target).await?;
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let n = provider.verify_webhook(&WebhookRequest::new(&refs, &body))?;
    let ack = provider.webhook_ack(&n);
    if target.json {
        let s = serde_json::to_string_pretty(&n).map_err(|e| Error::config(e.to_string()))?;
        say!("{s}");
    } else {
        say!("verified {} notification", n.provider);
        say!("  event:   {} ({:?})", n.raw_event, n.kind);
        say!("  hold:    {}", n.hold);
        if let Some(s) = n.status {
            say!("  status:  {s} ({})", n.raw_status.as_deref().unwrap_or(""));
        }
        if let Some(a) = n.amount {
            say!("  amount:  {a}");
        }
        say!("  dedup:   {}", n.dedup_key);
    }
    eprintln!(
        "answer the provider with HTTP {} {:?}",
        ack.status, ack.body
    );
    Ok(())
}
