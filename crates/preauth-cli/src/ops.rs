//! One operation against a configured environment: a TOML file, `PREAUTH_*` environment
//! variables, a running `preauth sim`, or (by default) an embedded simulator started for this
//! one command. Human-readable output, or `--json`.

use std::sync::Arc;

use clap::Args;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use preauth::embedded::Embedded;
use preauth::{
    CancelRequest, CaptureRequest, Currency, DecrementRequest, Error, Hold, HoldRef,
    IdempotencyKey, Money, PreauthProvider, ProviderConfig, Refund, RefundRequest, Result, ThreeDs,
};

use crate::Target;

/// `preauth authorize`.
#[derive(Debug, Args)]
pub(crate) struct AuthorizeArgs {
    #[command(flatten)]
    target: Target,
    /// Amount in major units, e.g. 300.00.
    #[arg(long)]
    amount: String,
    /// ISO 4217 currency.
    #[arg(long, default_value = "EUR")]
    currency: String,
    /// Card number (default: the simulators' approving test card). Never printed.
    #[arg(long, default_value = "4111111111111111")]
    card: String,
    /// ISO 3166-1 alpha-2 country of the payment.
    #[arg(long, default_value = "BR")]
    country: String,
    /// Idempotency key (the merchant reference); generated when absent.
    #[arg(long)]
    key: Option<String>,
    /// Ask for 3-D Secure.
    #[arg(long)]
    three_ds: bool,
}

/// A hold by reference.
#[derive(Debug, Args)]
pub(crate) struct RefArgs {
    #[command(flatten)]
    target: Target,
    /// The provider's reference of the hold.
    #[arg(long)]
    reference: String,
}

/// `preauth capture`.
#[derive(Debug, Args)]
pub(crate) struct CaptureArgs {
    #[command(flatten)]
    hold: RefArgs,
    /// Amount in major units; everything that remains when absent.
    #[arg(long)]
    amount: Option<String>,
}

/// `preauth decrement`.
#[derive(Debug, Args)]
pub(crate) struct DecrementArgs {
    #[command(flatten)]
    hold: RefArgs,
    /// How much to take off the hold, in major units.
    #[arg(long)]
    by: String,
}

/// `preauth refund`.
#[derive(Debug, Args)]
pub(crate) struct RefundArgs {
    #[command(flatten)]
    hold: RefArgs,
    /// Amount in major units; everything refundable when absent.
    #[arg(long)]
    amount: Option<String>,
}

/// `preauth retrieve`.
#[derive(Debug, Args)]
pub(crate) struct RetrieveArgs {
    #[command(flatten)]
    target: Target,
    /// The provider's reference of the hold.
    #[arg(long, required_unless_present = "merchant_reference")]
    reference: Option<String>,
    /// The merchant's reference (the authorization's idempotency key).
    #[arg(long)]
    merchant_reference: Option<String>,
}

/// The provider, and the embedded simulator serving it when no environment was configured
/// (kept alive while the command runs).
pub(crate) async fn connect(t: &Target) -> Result<(Arc<dyn PreauthProvider>, Option<Embedded>)> {
    let config = if let Some(path) = &t.config {
        Some(ProviderConfig::from_toml_file(path)?)
    } else if t.env {
        Some(ProviderConfig::from_env_for(&t.provider)?)
    } else if let Some(url) = &t.sim_url {
        Some(preauth::embedded::config_for(&t.provider, url)?)
    } else {
        None
    };
    match config {
        Some(c) => {
            if !c.provider_name().eq_ignore_ascii_case(&t.provider) {
                return Err(Error::config(format!(
                    "the configuration is for {} but --provider says {}",
                    c.provider_name(),
                    t.provider
                )));
            }
            Ok((c.build()?, None))
        }
        None => {
            let sim = preauth::embedded::start(&t.provider, None).await?;
            eprintln!(
                "preauth: no --config/--env/--sim-url: using an embedded {} simulator for this command",
                sim.name
            );
            Ok((sim.provider()?, Some(sim)))
        }
    }
}

fn parse_money(s: &str, c: Currency) -> Result<Money> {
    Money::parse_major(s, c).map_err(|e| Error::invalid_request(e.to_string()))
}

async fn current(p: &dyn PreauthProvider, reference: &str) -> Result<Hold> {
    p.retrieve(&HoldRef::provider(reference)).await
}

pub(crate) async fn authorize(a: AuthorizeArgs) -> Result<()> {
    let (p, _sim) = connect(&a.target).await?;
    let currency =
        Currency::from_code(&a.currency).map_err(|e| Error::invalid_request(e.to_string()))?;
    let amount = parse_money(&a.amount, currency)?;
    let mut req = crate::demo::authorize_request(amount, &a.card, &a.country, "preauth CLI")?;
    if let Some(k) = a.key {
        req = req.with_idempotency_key(IdempotencyKey::new(k)?);
    }
    if a.three_ds {
        req = req.with_three_ds(ThreeDs::Required);
    }
    show_hold(&p.authorize(req).await?, a.target.json)
}

pub(crate) async fn capture(a: CaptureArgs) -> Result<()> {
    let (p, _sim) = connect(&a.hold.target).await?;
    let hold = current(p.as_ref(), &a.hold.reference).await?;
    let mut req = CaptureRequest::new(hold.clone());
    if let Some(amount) = &a.amount {
        req = req.with_amount(parse_money(amount, hold.authorized.currency())?);
    }
    show_hold(&p.capture(req).await?, a.hold.target.json)
}

pub(crate) async fn cancel(a: RefArgs) -> Result<()> {
    let (p, _sim) = connect(&a.target).await?;
    let hold = current(p.as_ref(), &a.reference).await?;
    show_hold(&p.cancel(CancelRequest::new(hold)).await?, a.target.json)
}

pub(crate) async fn decrement(a: DecrementArgs) -> Result<()> {
    let (p, _sim) = connect(&a.hold.target).await?;
    if !p.capabilities().decrement {
        // Decided before any request, as the library itself does.
        return Err(Error::unsupported(
            p.name(),
            preauth::Operation::Decrement,
            "holds cannot be reduced",
        ));
    }
    let hold = current(p.as_ref(), &a.hold.reference).await?;
    let by = parse_money(&a.by, hold.authorized.currency())?;
    show_hold(
        &p.decrement(DecrementRequest::new(hold, by)).await?,
        a.hold.target.json,
    )
}

pub(crate) async fn retrieve(a: RetrieveArgs) -> Result<()> {
    let (p, _sim) = connect(&a.target).await?;
    let r = match (a.reference, a.merchant_reference) {
        (Some(r), _) => HoldRef::provider(r),
        (None, Some(m)) => HoldRef::merchant(m),
        (None, None) => {
            return Err(Error::invalid_request(
                "give --reference or --merchant-reference",
            ));
        }
    };
    show_hold(&p.retrieve(&r).await?, a.target.json)
}

pub(crate) async fn refund(a: RefundArgs) -> Result<()> {
    let (p, _sim) = connect(&a.hold.target).await?;
    if !p.capabilities().refund {
        return Err(Error::unsupported(
            p.name(),
            preauth::Operation::Refund,
            "refunds are not offered",
        ));
    }
    let hold = current(p.as_ref(), &a.hold.reference).await?;
    let mut req = RefundRequest::new(hold.clone());
    if let Some(amount) = &a.amount {
        req = req.with_amount(parse_money(amount, hold.authorized.currency())?);
    }
    show_refund(&p.refund(req).await?, a.hold.target.json)
}

fn json<T: serde::Serialize>(v: &T) -> Result<()> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::config(format!("cannot print JSON: {e}")))?;
    say!("{s}");
    Ok(())
}

pub(crate) fn show_hold(h: &Hold, as_json: bool) -> Result<()> {
    if as_json {
        return json(h);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let card = h
        .card
        .as_ref()
        .map(|c| {
            format!(
                "{} ••••{}",
                c.brand.as_deref().unwrap_or("card"),
                c.last4.as_deref().unwrap_or("????")
            )
        })
        .unwrap_or_default();
    let rows: Vec<(&str, String)> = vec![
        ("provider", h.provider.to_string()),
        ("reference", h.provider_reference.clone()),
        ("merchant reference", h.merchant_reference.clone()),
        ("status", format!("{} ({})", h.status, h.raw_status)),
        ("held", h.authorized.to_string()),
        ("captured", h.captured.to_string()),
        ("refunded", h.refunded.to_string()),
        ("card", card),
        (
            "expires",
            h.expires_at.map(|e| e.to_string()).unwrap_or_default(),
        ),
        (
            "next action",
            match &h.next_action {
                Some(preauth::NextAction::Redirect { url }) => {
                    format!("redirect the payer to {url}")
                }
                Some(other) => format!("{other:?}"),
                None => String::new(),
            },
        ),
        (
            "declined",
            h.decline
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
    ];
    for (k, v) in rows {
        if !v.is_empty() {
            t.add_row([k, v.as_str()]);
        }
    }
    say!("{t}");
    Ok(())
}

fn show_refund(r: &Refund, as_json: bool) -> Result<()> {
    if as_json {
        return json(r);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.add_row(["provider", &r.provider]);
    t.add_row(["refund reference", &r.provider_reference]);
    t.add_row(["hold", &r.hold.to_string()]);
    t.add_row(["amount", &r.amount.to_string()]);
    t.add_row(["status", &format!("{} ({})", r.status, r.raw_status)]);
    say!("{t}");
    Ok(())
}
