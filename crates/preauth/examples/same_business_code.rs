//! The same business function, written once against `Arc<dyn PreauthProvider>`, run on each
//! provider's embedded simulator. Switching provider is a configuration change.
//!
//! Run: `cargo run -p preauth --example same_business_code --features simulator`

#![allow(clippy::print_stdout)] // an example prints

use std::sync::Arc;

use preauth::{
    AuthorizeRequest, CancelRequest, CaptureRequest, CardDetails, Currency, Error, LineItem, Money,
    Payer, PaymentMethod, PreauthProvider,
};

/// Check-in: hold the deposit. Check-out: capture what the stay cost (all of it where the
/// provider captures only in full).
async fn hotel_stay(
    provider: Arc<dyn PreauthProvider>,
    currency: Currency,
) -> Result<String, Error> {
    let deposit = Money::parse_major("300.00", currency)
        .map_err(|e| Error::invalid_request(e.to_string()))?;
    let stay = Money::parse_major("220.00", currency)
        .map_err(|e| Error::invalid_request(e.to_string()))?;
    let card = CardDetails::new("4111111111111111", 12, 2030, "123", "Ana Silva")?;
    let payer = Payer::new("Ana", "Silva").with_email("ana@example.com");
    let hold = provider
        .authorize(
            AuthorizeRequest::new(deposit, PaymentMethod::Card(card))
                .with_country("BR")
                .with_payer(payer)
                .with_line_item(LineItem::new("Deposit", deposit, 1))
                .with_return_url("https://hotel.example/return")
                .with_notify_url("https://hotel.example/notify"),
        )
        .await?;
    let captured = match provider
        .capture(CaptureRequest::new(hold.clone()).with_amount(stay))
        .await
    {
        Ok(h) => h,
        // Onerway captures in full only: the library says so before sending anything.
        Err(Error::Unsupported { .. }) => provider.capture(CaptureRequest::new(hold)).await?,
        Err(e) => return Err(e),
    };
    // A no-show on a second booking: release the hold.
    let card = CardDetails::new("4111111111111111", 12, 2030, "123", "Ana Silva")?;
    let no_show = provider
        .authorize(
            AuthorizeRequest::new(deposit, PaymentMethod::Card(card))
                .with_country("BR")
                .with_payer(Payer::new("Ana", "Silva").with_email("ana@example.com"))
                .with_line_item(LineItem::new("Deposit", deposit, 1)),
        )
        .await?;
    let released = provider.cancel(CancelRequest::new(no_show)).await?;
    Ok(format!(
        "captured {}, second hold {}",
        captured.captured, released.status
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    for (name, currency) in [
        ("liquido", Currency::BRL),
        ("onerway", Currency::USD),
        ("yabandpay", Currency::EUR),
    ] {
        let sim = preauth::embedded::start(name, None).await?;
        let outcome = hotel_stay(sim.provider()?, currency).await?;
        println!("{name:>10}: {outcome}");
    }
    Ok(())
}
