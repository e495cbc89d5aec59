//! Operation requests: structs with `new(required…)` and `with_*` for the rest, so fields can
//! be added without breaking anyone. Card numbers and CVCs are [`SecretString`]s: their
//! `Debug` prints `[REDACTED]`, and they are exposed only where a wire body is built.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::hold::Hold;
use crate::ids::IdempotencyKey;
use crate::money::Money;

/// A card entered by the payer. `Debug` shows only the last four digits.
#[derive(Clone)]
pub struct CardDetails {
    number: SecretString,
    cvc: SecretString,
    exp_month: u8,
    exp_year: u16,
    holder_name: String,
}

impl CardDetails {
    /// Validates a card: 12–19 digits passing the Luhn check (spaces and dashes are removed),
    /// a CVC of 3 or 4 digits, month 1–12, a four-digit year.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`], naming the field but never echoing its value.
    pub fn new(
        number: &str,
        exp_month: u8,
        exp_year: u16,
        cvc: &str,
        holder_name: impl Into<String>,
    ) -> Result<Self> {
        let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid_request(
                "card number must be 12 to 19 digits",
            ));
        }
        if !luhn(&digits) {
            return Err(Error::invalid_request("card number fails the Luhn check"));
        }
        if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid_request("card CVC must be 3 or 4 digits"));
        }
        if !(1..=12).contains(&exp_month) {
            return Err(Error::invalid_request("card expiry month must be 1 to 12"));
        }
        if !(2000..=2099).contains(&exp_year) {
            return Err(Error::invalid_request(
                "card expiry year must have four digits (2000-2099)",
            ));
        }
        Ok(CardDetails {
            number: SecretString::from(digits),
            cvc: SecretString::from(cvc.to_owned()),
            exp_month,
            exp_year,
            holder_name: holder_name.into(),
        })
    }

    /// The card number. Call only where the wire body is built.
    pub fn number(&self) -> &SecretString {
        &self.number
    }

    /// The CVC. Call only where the wire body is built.
    pub fn cvc(&self) -> &SecretString {
        &self.cvc
    }

    /// Expiry month, 1–12.
    pub fn exp_month(&self) -> u8 {
        self.exp_month
    }

    /// Expiry year, four digits.
    pub fn exp_year(&self) -> u16 {
        self.exp_year
    }

    /// The name on the card.
    pub fn holder_name(&self) -> &str {
        &self.holder_name
    }

    /// The last four digits.
    pub fn last4(&self) -> &str {
        let n = self.number.expose_secret();
        &n[n.len().saturating_sub(4)..]
    }
}

impl fmt::Debug for CardDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardDetails")
            .field("number", &format_args!("[REDACTED ••••{}]", self.last4()))
            .field("cvc", &format_args!("[REDACTED]"))
            .field("exp_month", &self.exp_month)
            .field("exp_year", &self.exp_year)
            .field("holder_name", &self.holder_name)
            .finish()
    }
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// How the payer pays.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PaymentMethod {
    /// A card entered now.
    Card(CardDetails),
    /// A card saved at the provider (Liquido `cardId`, a YabandPay payment token).
    SavedCard {
        /// The provider's id of the saved card.
        id: String,
    },
}

/// An identity document (Liquido `document`: CPF in Brazil, RUT in Chile, …).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Document {
    /// The document's number.
    pub id: String,
    /// Its kind as the provider names it (`CPF`, `CNPJ`, `RUT`, `DNI`, `CC`, …).
    pub kind: String,
}

impl Document {
    /// A document.
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            kind: kind.into(),
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Address {
    /// Street name.
    pub street: Option<String>,
    /// House number.
    pub number: Option<String>,
    /// Apartment, suite, … (Liquido `complement`).
    pub complement: Option<String>,
    /// District or neighbourhood.
    pub district: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or province code.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

impl Address {
    /// An address in `country` (ISO 3166-1 alpha-2); fill the rest with the `with_*` methods.
    pub fn new(country: impl Into<String>) -> Self {
        Address {
            country: country.into(),
            ..Address::default()
        }
    }
    /// Sets the street and house number.
    #[must_use]
    pub fn with_street(mut self, street: impl Into<String>, number: impl Into<String>) -> Self {
        self.street = Some(street.into());
        self.number = Some(number.into());
        self
    }
    /// Sets the complement.
    #[must_use]
    pub fn with_complement(mut self, v: impl Into<String>) -> Self {
        self.complement = Some(v.into());
        self
    }
    /// Sets the district.
    #[must_use]
    pub fn with_district(mut self, v: impl Into<String>) -> Self {
        self.district = Some(v.into());
        self
    }
    /// Sets the city.
    #[must_use]
    pub fn with_city(mut self, v: impl Into<String>) -> Self {
        self.city = Some(v.into());
        self
    }
    /// Sets the state.
    #[must_use]
    pub fn with_state(mut self, v: impl Into<String>) -> Self {
        self.state = Some(v.into());
        self
    }
    /// Sets the postal code.
    #[must_use]
    pub fn with_postal_code(mut self, v: impl Into<String>) -> Self {
        self.postal_code = Some(v.into());
        self
    }
}

/// The payer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Payer {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone, international format.
    pub phone: Option<String>,
    /// Identity document.
    pub document: Option<Document>,
    /// Billing address.
    pub billing_address: Option<Address>,
}

impl Payer {
    /// A payer by name.
    pub fn new(first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        Payer {
            first_name: first_name.into(),
            last_name: last_name.into(),
            ..Payer::default()
        }
    }
    /// "First Last".
    pub fn full_name(&self) -> String {
        match (self.first_name.is_empty(), self.last_name.is_empty()) {
            (false, false) => format!("{} {}", self.first_name, self.last_name),
            (false, true) => self.first_name.clone(),
            _ => self.last_name.clone(),
        }
    }
    /// Sets the e-mail.
    #[must_use]
    pub fn with_email(mut self, v: impl Into<String>) -> Self {
        self.email = Some(v.into());
        self
    }
    /// Sets the phone.
    #[must_use]
    pub fn with_phone(mut self, v: impl Into<String>) -> Self {
        self.phone = Some(v.into());
        self
    }
    /// Sets the identity document.
    #[must_use]
    pub fn with_document(mut self, v: Document) -> Self {
        self.document = Some(v);
        self
    }
    /// Sets the billing address.
    #[must_use]
    pub fn with_billing_address(mut self, v: Address) -> Self {
        self.billing_address = Some(v);
        self
    }
}

/// What a line item is (Onerway `products[].type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LineItemKind {
    /// Goods or a service.
    #[default]
    Product,
    /// Shipping fee.
    ShippingFee,
    /// Discount; its unit price is subtracted.
    Discount,
}

/// One line of the order. The total of all lines must equal the amount held where a provider
/// sends them (Onerway checks it; so does [`AuthorizeRequest::check_line_items`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LineItem {
    /// Name.
    pub name: String,
    /// Price of one unit (for a discount, the amount taken off), in the hold's currency.
    pub unit_price: Money,
    /// Units.
    pub quantity: u32,
    /// Kind.
    pub kind: LineItemKind,
}

impl LineItem {
    /// A product line.
    pub fn new(name: impl Into<String>, unit_price: Money, quantity: u32) -> Self {
        LineItem {
            name: name.into(),
            unit_price,
            quantity,
            kind: LineItemKind::Product,
        }
    }
    /// Sets the kind.
    #[must_use]
    pub fn with_kind(mut self, kind: LineItemKind) -> Self {
        self.kind = kind;
        self
    }
}

/// The payer's browser, which 3-D Secure needs (Onerway `txnOrderMsg` fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrowserInfo {
    /// `Accept` header.
    pub accept: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// Language (`en-US`).
    pub language: Option<String>,
    /// Colour depth in bits.
    pub color_depth: Option<u8>,
    /// Screen height in pixels.
    pub screen_height: Option<u32>,
    /// Screen width in pixels.
    pub screen_width: Option<u32>,
    /// Minutes from UTC, as browsers report it (`-480` for UTC+8).
    pub time_zone_offset: Option<i32>,
    /// Whether Java is enabled.
    pub java_enabled: Option<bool>,
}

/// Whether to run 3-D Secure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ThreeDs {
    /// Let the provider decide (the default).
    #[default]
    Auto,
    /// Ask for 3-D Secure.
    Required,
}

/// Place a hold.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthorizeRequest {
    /// The amount to hold.
    pub amount: Money,
    /// How the payer pays.
    pub payment_method: PaymentMethod,
    /// The merchant's reference and idempotency key; generated when `None`.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Country of the payment, ISO 3166-1 alpha-2 (Liquido requires it).
    pub country: Option<String>,
    /// The payer.
    pub payer: Option<Payer>,
    /// Shipping address.
    pub shipping_address: Option<Address>,
    /// Order lines.
    pub line_items: Vec<LineItem>,
    /// Description shown to the payer.
    pub description: Option<String>,
    /// Where the payer returns after 3-D Secure.
    pub return_url: Option<String>,
    /// Where the provider sends notifications.
    pub notify_url: Option<String>,
    /// 3-D Secure preference.
    pub three_ds: ThreeDs,
    /// The payer's browser (3-D Secure).
    pub browser: Option<BrowserInfo>,
    /// The payer's IP address.
    pub customer_ip: Option<String>,
    /// Sub-merchant id, for PSP and marketplace merchants (Liquido `subMerchantId`).
    pub sub_merchant_id: Option<String>,
}

impl AuthorizeRequest {
    /// Hold `amount` on a card.
    pub fn new(amount: Money, payment_method: PaymentMethod) -> Self {
        AuthorizeRequest {
            amount,
            payment_method,
            idempotency_key: None,
            country: None,
            payer: None,
            shipping_address: None,
            line_items: Vec::new(),
            description: None,
            return_url: None,
            notify_url: None,
            three_ds: ThreeDs::Auto,
            browser: None,
            customer_ip: None,
            sub_merchant_id: None,
        }
    }
    /// Sets the idempotency key (the merchant's reference for the hold).
    #[must_use]
    pub fn with_idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
    /// Sets the country.
    #[must_use]
    pub fn with_country(mut self, v: impl Into<String>) -> Self {
        self.country = Some(v.into());
        self
    }
    /// Sets the payer.
    #[must_use]
    pub fn with_payer(mut self, v: Payer) -> Self {
        self.payer = Some(v);
        self
    }
    /// Sets the shipping address.
    #[must_use]
    pub fn with_shipping_address(mut self, v: Address) -> Self {
        self.shipping_address = Some(v);
        self
    }
    /// Adds an order line.
    #[must_use]
    pub fn with_line_item(mut self, v: LineItem) -> Self {
        self.line_items.push(v);
        self
    }
    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, v: impl Into<String>) -> Self {
        self.description = Some(v.into());
        self
    }
    /// Sets the return URL.
    #[must_use]
    pub fn with_return_url(mut self, v: impl Into<String>) -> Self {
        self.return_url = Some(v.into());
        self
    }
    /// Sets the notification URL.
    #[must_use]
    pub fn with_notify_url(mut self, v: impl Into<String>) -> Self {
        self.notify_url = Some(v.into());
        self
    }
    /// Sets the 3-D Secure preference.
    #[must_use]
    pub fn with_three_ds(mut self, v: ThreeDs) -> Self {
        self.three_ds = v;
        self
    }
    /// Sets the browser information.
    #[must_use]
    pub fn with_browser(mut self, v: BrowserInfo) -> Self {
        self.browser = Some(v);
        self
    }
    /// Sets the payer's IP address.
    #[must_use]
    pub fn with_customer_ip(mut self, v: impl Into<String>) -> Self {
        self.customer_ip = Some(v.into());
        self
    }
    /// Sets the sub-merchant id.
    #[must_use]
    pub fn with_sub_merchant_id(mut self, v: impl Into<String>) -> Self {
        self.sub_merchant_id = Some(v.into());
        self
    }

    /// Checks that the amount is positive and that the line items, when given, are in the
    /// hold's currency and add up to the amount (discounts subtracted).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`].
    pub fn check_line_items(&self) -> Result<()> {
        if self.amount.is_zero() {
            return Err(Error::invalid_request(
                "amount to hold must be greater than zero",
            ));
        }
        if self.line_items.is_empty() {
            return Ok(());
        }
        let cur = self.amount.currency();
        let mut total = rust_decimal::Decimal::ZERO;
        for item in &self.line_items {
            if item.unit_price.currency() != cur {
                return Err(Error::invalid_request(format!(
                    "line item {:?} is in {} but the hold is in {cur}",
                    item.name,
                    item.unit_price.currency()
                )));
            }
            let line = item
                .unit_price
                .amount()
                .checked_mul(rust_decimal::Decimal::from(item.quantity))
                .ok_or_else(|| Error::invalid_request("line item total overflows"))?;
            total = match item.kind {
                LineItemKind::Discount => total.checked_sub(line),
                _ => total.checked_add(line),
            }
            .ok_or_else(|| Error::invalid_request("line item total overflows"))?;
        }
        if total != self.amount.amount() {
            return Err(Error::invalid_request(format!(
                "line items add up to {total} {cur} but the amount is {}",
                self.amount
            )));
        }
        Ok(())
    }
}

/// Capture all or part of a hold.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CaptureRequest {
    /// The hold as last known; checked against the transition table before sending.
    pub hold: Hold,
    /// How much; `None` = everything that remains.
    pub amount: Option<Money>,
    /// Key of this capture, for providers that key follow-ups; generated when `None`.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Description.
    pub description: Option<String>,
}

impl CaptureRequest {
    /// Capture everything that remains of `hold`.
    pub fn new(hold: Hold) -> Self {
        CaptureRequest {
            hold,
            amount: None,
            idempotency_key: None,
            description: None,
        }
    }
    /// Capture only `amount`.
    #[must_use]
    pub fn with_amount(mut self, amount: Money) -> Self {
        self.amount = Some(amount);
        self
    }
    /// Sets the idempotency key.
    #[must_use]
    pub fn with_idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, v: impl Into<String>) -> Self {
        self.description = Some(v.into());
        self
    }
}

/// Release a hold.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CancelRequest {
    /// The hold as last known.
    pub hold: Hold,
    /// Key of this cancel, for providers that key follow-ups; generated when `None`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl CancelRequest {
    /// Release `hold`.
    pub fn new(hold: Hold) -> Self {
        CancelRequest {
            hold,
            idempotency_key: None,
        }
    }
    /// Sets the idempotency key.
    #[must_use]
    pub fn with_idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
}

/// Reduce a hold by an amount.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecrementRequest {
    /// The hold as last known.
    pub hold: Hold,
    /// How much to take off what is held (a reduction, not a new total).
    pub by: Money,
    /// Key of this decrement; generated when `None`.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Description.
    pub description: Option<String>,
}

impl DecrementRequest {
    /// Reduce `hold` by `by`.
    pub fn new(hold: Hold, by: Money) -> Self {
        DecrementRequest {
            hold,
            by,
            idempotency_key: None,
            description: None,
        }
    }
    /// Sets the idempotency key.
    #[must_use]
    pub fn with_idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, v: impl Into<String>) -> Self {
        self.description = Some(v.into());
        self
    }
}

/// Give back captured money.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefundRequest {
    /// The captured hold as last known.
    pub hold: Hold,
    /// How much; `None` = everything captured and not yet refunded.
    pub amount: Option<Money>,
    /// Key of this refund; generated when `None`.
    pub idempotency_key: Option<IdempotencyKey>,
    /// Reason or description.
    pub description: Option<String>,
}

impl RefundRequest {
    /// Refund everything refundable of `hold`.
    pub fn new(hold: Hold) -> Self {
        RefundRequest {
            hold,
            amount: None,
            idempotency_key: None,
            description: None,
        }
    }
    /// Refund only `amount`.
    #[must_use]
    pub fn with_amount(mut self, amount: Money) -> Self {
        self.amount = Some(amount);
        self
    }
    /// Sets the idempotency key.
    #[must_use]
    pub fn with_idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, v: impl Into<String>) -> Self {
        self.description = Some(v.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn card_validation_never_echoes_the_number() {
        let c = CardDetails::new("4111 1111 1111 1111", 12, 2030, "123", "Ana Silva").unwrap();
        assert_eq!(c.last4(), "1111");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("4111111111111111"), "{dbg}");
        assert!(!dbg.contains("123"), "{dbg}");
        let e = CardDetails::new("4111111111111112", 12, 2030, "123", "x").unwrap_err();
        assert!(!e.to_string().contains("4111111111111112"));
        assert!(CardDetails::new("4111111111111111", 13, 2030, "123", "x").is_err());
        assert!(CardDetails::new("4111111111111111", 12, 30, "123", "x").is_err());
        assert!(CardDetails::new("4111111111111111", 12, 2030, "12", "x").is_err());
        assert!(CardDetails::new("41111111111a1111", 12, 2030, "123", "x").is_err());
    }

    #[test]
    fn line_items_must_add_up() {
        let usd = |s: &str| Money::parse_major(s, Currency::USD).unwrap();
        let card = PaymentMethod::SavedCard { id: "c".into() };
        // Seed 001: 2 × 50.00 + 100 + shipping 10 − discount 10 = 200.
        let req = AuthorizeRequest::new(usd("200"), card)
            .with_line_item(LineItem::new("Pro1", usd("50.00"), 2))
            .with_line_item(LineItem::new("Pro2", usd("100"), 1))
            .with_line_item(
                LineItem::new("shipping fee", usd("10"), 1).with_kind(LineItemKind::ShippingFee),
            )
            .with_line_item(
                LineItem::new("discount", usd("10"), 1).with_kind(LineItemKind::Discount),
            );
        assert!(req.check_line_items().is_ok());
        let bad = req
            .clone()
            .with_line_item(LineItem::new("x", usd("0.01"), 1));
        assert!(matches!(
            bad.check_line_items(),
            Err(Error::InvalidRequest { .. })
        ));
    }
}
