//! `preauth demo`: a hotel stay on each provider's embedded simulator, one table per provider.
//!
//! Check-in holds 300.00; a room downgrade reduces the hold by 50.00 where the provider can;
//! check-out captures the stay (220.00) or, where only full capture exists, everything and
//! refunds the difference; a refund corrects a minibar over-charge; a no-show's hold is released.

use std::sync::Arc;

use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use preauth::{
    Address, AuthorizeRequest, CancelRequest, CaptureRequest, CardDetails, Currency,
    DecrementRequest, Document, Error, Hold, LineItem, Money, Payer, PaymentMethod,
    PreauthProvider, RefundRequest, Result,
};

/// Who the demo runs on, in what currency and country.
const PROVIDERS: &[(&str, &str, &str)] = &[
    ("liquido", "BRL", "BR"),
    ("onerway", "USD", "US"),
    ("yabandpay", "EUR", "NL"),
];

pub(crate) async fn run() -> Result<()> {
    say!("A hotel stay on each provider's embedded simulator (no credentials, no network).\n");
    for (name, currency, country) in PROVIDERS {
        let sim = preauth::embedded::start(name, None).await?;
        let provider = sim.provider()?;
        let currency = Currency::from_code(currency).map_err(|e| Error::config(e.to_string()))?;
        let table = stay(provider.clone(), currency, country).await?;
        say!(
            "{} (simulator at {})",
            provider.name(),
            sim.server.base_url()
        );
        say!("{table}");
        let missing = unsupported(provider.as_ref());
        if !missing.is_empty() {
            say!(
                "not supported by {}: {}",
                provider.name(),
                missing.join("; ")
            );
        }
        say!();
    }
    Ok(())
}

fn money(major: &str, c: Currency) -> Result<Money> {
    Money::parse_major(major, c).map_err(|e| Error::invalid_request(e.to_string()))
}

/// A complete request: the payer, addresses and line items every provider asks for.
pub(crate) fn authorize_request(
    amount: Money,
    card_number: &str,
    country: &str,
    description: &str,
) -> Result<AuthorizeRequest> {
    let card = CardDetails::new(card_number, 12, 2030, "123", "Ana Silva")?;
    let address = Address::new(country)
        .with_street("Rua 9 de Setembro", "15")
        .with_city("Sao Paulo")
        .with_state("SP")
        .with_postal_code("04849333");
    let payer = Payer::new("Ana", "Silva")
        .with_email("ana@example.com")
        .with_phone("+55 81987654321")
        .with_document(Document::new("CPF", "00123456789"))
        .with_billing_address(address.clone());
    Ok(AuthorizeRequest::new(amount, PaymentMethod::Card(card))
        .with_country(country)
        .with_payer(payer)
        .with_shipping_address(address)
        .with_line_item(LineItem::new(description, amount, 1))
        .with_description(description)
        .with_return_url("https://hotel.example/return")
        .with_notify_url("https://hotel.example/notify")
        .with_customer_ip("127.0.0.1"))
}

struct Steps {
    table: Table,
}

impl Steps {
    fn new() -> Self {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header([
                "step",
                "operation",
                "result",
                "status",
                "held",
                "captured",
                "refunded",
            ]);
        Steps { table }
    }

    fn ok(&mut self, step: &str, op: &str, hold: &Hold) {
        self.table.add_row([
            Cell::new(step),
            Cell::new(op),
            Cell::new("ok"),
            Cell::new(hold.status),
            Cell::new(hold.authorized),
            Cell::new(hold.captured),
            Cell::new(hold.refunded),
        ]);
    }

    fn note(&mut self, step: &str, op: &str, result: String) {
        self.table.add_row([step, op, &result, "", "", "", ""]);
    }

    fn refused(&mut self, step: &str, op: &str, e: &Error) {
        let why = match e {
            Error::Unsupported { detail, .. } => detail.clone(),
            other => other.to_string(),
        };
        self.note(step, op, format!("refused before sending: {why}"));
    }
}

async fn stay(p: Arc<dyn PreauthProvider>, c: Currency, country: &str) -> Result<Table> {
    let mut t = Steps::new();
    let caps = p.capabilities();

    let hold = p
        .authorize(authorize_request(
            money("300.00", c)?,
            "4111111111111111",
            country,
            "Hotel deposit",
        )?)
        .await?;
    t.ok("check-in", "authorize 300.00", &hold);

    let hold = match p
        .decrement(DecrementRequest::new(hold.clone(), money("50.00", c)?))
        .await
    {
        Ok(h) => {
            t.ok("room downgrade", "decrement by 50.00", &h);
            h
        }
        Err(e @ Error::Unsupported { .. }) => {
            t.refused("room downgrade", "decrement by 50.00", &e);
            hold
        }
        Err(e) => return Err(e),
    };

    let stay_cost = money("220.00", c)?;
    let captured = match p
        .capture(CaptureRequest::new(hold.clone()).with_amount(stay_cost))
        .await
    {
        Ok(h) => {
            t.ok("check-out", "capture 220.00 (room + minibar)", &h);
            h
        }
        Err(e @ Error::Unsupported { .. }) => {
            t.refused("check-out", "capture 220.00", &e);
            let h = p.capture(CaptureRequest::new(hold)).await?;
            t.ok("check-out", "capture in full", &h);
            h
        }
        Err(e) => return Err(e),
    };

    // Refund what was taken beyond the stay, or a 20.00 minibar over-charge.
    let over = captured
        .captured
        .checked_sub(&stay_cost)
        .map_err(|e| Error::invalid_request(e.to_string()))?;
    let refund_amount = if over.is_zero() {
        money("20.00", c)?
    } else {
        over
    };
    if caps.refund {
        let refund = p
            .refund(RefundRequest::new(captured.clone()).with_amount(refund_amount))
            .await?;
        t.table.add_row([
            Cell::new("over-charge"),
            Cell::new(format!("refund {}", refund.amount.to_major_string())),
            Cell::new(format!("refund {}", refund.provider_reference)),
            Cell::new(refund.status),
            Cell::new(""),
            Cell::new(""),
            Cell::new(refund.amount),
        ]);
    }

    let no_show = p
        .authorize(authorize_request(
            money("150.00", c)?,
            "4111111111111111",
            country,
            "No-show deposit",
        )?)
        .await?;
    t.ok("no-show", "authorize 150.00", &no_show);
    let released = p.cancel(CancelRequest::new(no_show)).await?;
    t.ok("no-show", "cancel", &released);

    let seen = p.retrieve(&captured.reference()).await?;
    t.ok("afterwards", "retrieve the stay's hold", &seen);
    Ok(t.table)
}

/// What the provider does not offer, in words.
pub(crate) fn unsupported(p: &dyn PreauthProvider) -> Vec<String> {
    let c = p.capabilities();
    let mut out = Vec::new();
    for (has, what) in [
        (c.partial_capture, "partial capture"),
        (c.multiple_captures, "several captures per hold"),
        (c.decrement, "decrement"),
        (c.cancel_pending, "cancel of pending payments"),
        (c.refund, "refund"),
        (c.partial_refund, "partial refund"),
        (
            c.lookup_by_merchant_reference,
            "lookup by merchant reference",
        ),
        (c.webhook_verification, "webhook verification"),
        (c.three_ds, "3-D Secure"),
    ] {
        if !has {
            out.push(what.to_owned());
        }
    }
    out
}
