//! Core requests to Onerway parameters, Onerway answers to core holds. Pure: no I/O, no
//! clock (the time is passed in).

use std::borrow::Cow;
use std::time::Duration;

use preauth_core::transport::HttpResponse;
use preauth_core::{
    Address, AuthorizeRequest, CardSummary, Currency, DeclineReason, Error, ExposeSecret, Hold,
    HoldRef, HoldStatus, LineItemKind, Money, NextAction, Operation, PaymentMethod,
    ProviderDetails, Result,
};
use secrecy::SecretString;
use serde_json::value::RawValue;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::PROVIDER;
use crate::config::{OnerwayConfig, format_offset, parse_offset, push_two_digits};
use crate::sign;
use crate::wire::{
    CardInfo, Envelope, Information, Page, Product, Reason, TxnData, TxnInfo, TxnOrderMsg,
};

/// Create a transaction (direct card AUTH).
pub(crate) const PATH_TRANSACTION: &str = "/v1/txn/doTransaction";
/// Capture (`txnType: CAPTURE`) or void (`txnType: VOID`) an AUTH.
pub(crate) const PATH_AUTH_PAYMENT: &str = "/v1/txn/authPayment";
/// Apply for a refund.
pub(crate) const PATH_REFUND: &str = "/v1/txn/onlineRefund";
/// Query transactions.
pub(crate) const PATH_LIST: &str = "/v1/txn/list";

/// Capture within 3 days of a successful authorization (seed 001, `api-direct-auth-capture.md`).
pub(crate) const HOLD_VALIDITY: Duration = Duration::from_secs(3 * 24 * 60 * 60);

/// `respCode` of a successful call.
pub(crate) const SUCCESS: &str = "20000";

/// Suffix of the `merchantTxnId` of a capture made without an explicit key.
pub(crate) const CAPTURE_SUFFIX: &str = "capture";
/// Suffix of the `merchantTxnId` of a void made without an explicit key.
pub(crate) const VOID_SUFFIX: &str = "void";

/// The longest authorization key: `{key}-capture` must still fit `merchantTxnId` (64).
pub(crate) const MAX_AUTH_KEY_LEN: usize = 64 - 1 - CAPTURE_SUFFIX.len();

/// `yyyy-MM-dd HH:mm:ss`, the form of every Onerway time.
pub(crate) const TIME_FORMAT: &[time::format_description::FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// Top-level request parameters in wire form, sorted by name in ASCII (byte) order: the
/// signing order and the order they are sent in, as a `BTreeMap` keeps them. Constants,
/// configuration and the caller's keys are borrowed; only what is built here is owned.
///
/// A sorted vector: a request has a dozen parameters, set in (or near) their sorted order.
#[derive(Debug, Default)]
pub(crate) struct Params<'a>(Vec<(&'static str, Cow<'a, str>)>);

impl<'a> Params<'a> {
    pub(crate) fn new() -> Self {
        Params(Vec::with_capacity(16))
    }

    /// Sets `name` to `value`; a name set twice keeps its last value.
    pub(crate) fn insert(&mut self, name: &'static str, value: Cow<'a, str>) {
        match self.0.last() {
            None => self.0.push((name, value)),
            Some((last, _)) if *last < name => self.0.push((name, value)),
            Some(_) => match self.0.binary_search_by(|(k, _)| k.cmp(&name)) {
                Ok(i) => self.0[i].1 = value,
                Err(i) => self.0.insert(i, (name, value)),
            },
        }
    }

    /// Keeps the parameters for which `keep` is true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.0.retain(|(k, v)| keep(k, v));
    }

    /// The parameters, sorted by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (*k, v.as_ref()))
    }
}

impl serde::Serialize for Params<'_> {
    /// A JSON object of the parameters in name order, as a `BTreeMap` would be written.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// `TxnStatusEnum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxnStatus {
    /// `S` success.
    Success,
    /// `F` failed, or refused in review.
    Failed,
    /// `P` processing, outcome unknown.
    Processing,
    /// `R` the payer must be redirected (3-D Secure, a payment page).
    Redirect,
    /// `N` cancelled (or, for an AUTH, closed uncaptured).
    Cancelled,
    /// `I` in review (refund audit, cancel pending).
    InReview,
    /// `U` awaiting the payer's payment (checkout, SDK).
    AwaitingPayment,
}

impl TxnStatus {
    /// Parses a status letter; `None` for anything else.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "S" => TxnStatus::Success,
            "F" => TxnStatus::Failed,
            "P" => TxnStatus::Processing,
            "R" => TxnStatus::Redirect,
            "N" => TxnStatus::Cancelled,
            "I" => TxnStatus::InReview,
            "U" => TxnStatus::AwaitingPayment,
            _ => return None,
        })
    }
}

/// How a follow-up transaction (CAPTURE, VOID, REFUND) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FollowUp {
    /// It took effect.
    Done,
    /// It did not take effect and will not.
    Failed,
    /// Not final yet.
    InFlight,
}

/// Every Onerway status, in one total `match`: what it means for an AUTH transaction (the
/// hold's own status) and for a follow-up transaction (CAPTURE, VOID, REFUND) against it.
pub(crate) fn meaning(status: TxnStatus) -> (HoldStatus, FollowUp) {
    match status {
        TxnStatus::Success => (HoldStatus::Authorized, FollowUp::Done),
        TxnStatus::Failed => (HoldStatus::Declined, FollowUp::Failed),
        TxnStatus::Processing => (HoldStatus::Pending, FollowUp::InFlight),
        TxnStatus::Redirect => (HoldStatus::RequiresAction, FollowUp::InFlight),
        // An AUTH that is N was released (voided, or closed uncaptured: see
        // `hold_from_transactions`); a follow-up that is N was withdrawn.
        TxnStatus::Cancelled => (HoldStatus::Cancelled, FollowUp::Failed),
        TxnStatus::InReview => (HoldStatus::Pending, FollowUp::InFlight),
        TxnStatus::AwaitingPayment => (HoldStatus::RequiresAction, FollowUp::InFlight),
    }
}

/// `TxnTypeEnum`, as far as a hold is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxnKind {
    /// `AUTH` or `PRE_AUTH`.
    Auth,
    /// `CAPTURE`.
    Capture,
    /// `VOID`.
    Void,
    /// `REFUND`.
    Refund,
    /// `SALE`.
    Sale,
    /// Anything else (`BIND_CARD`, numeric codes of older docs).
    Other,
}

impl TxnKind {
    pub(crate) fn parse(s: Option<&str>) -> Self {
        match s {
            Some("AUTH" | "PRE_AUTH") => TxnKind::Auth,
            Some("CAPTURE") => TxnKind::Capture,
            Some("VOID") => TxnKind::Void,
            Some("REFUND") => TxnKind::Refund,
            Some("SALE") => TxnKind::Sale,
            _ => TxnKind::Other,
        }
    }
}

/// An [`Error::Protocol`] from Onerway.
pub(crate) fn protocol(op: Operation, message: impl Into<String>) -> Error {
    Error::protocol(PROVIDER, op, message)
}

/// For a mutating call, an answer that cannot be understood leaves the outcome unknown: the
/// operation may have taken effect. Not for an HTTP 4xx answer (a proxy or gateway refusing
/// the request before Onerway handled it), which stays a protocol error. Other errors pass
/// through.
pub(crate) fn unknown_if_unreadable(err: Error, resp: &HttpResponse, reference: &str) -> Error {
    match err {
        Error::Protocol {
            operation, message, ..
        } if operation.is_mutating() && !(400..500).contains(&resp.status) => {
            Error::OutcomeUnknown {
                provider: PROVIDER,
                operation,
                reference: reference.to_owned(),
                reason: format!("unreadable answer: {message}"),
                source: Some(Box::new(Error::protocol(PROVIDER, operation, message))),
            }
        }
        other => other,
    }
}

/// The `merchantTxnId` of a follow-up made without an explicit key: `{auth key}-{suffix}`.
/// Deterministic, so a retrieve can find the capture or void by it.
pub(crate) fn derived_key(auth_key: &str, suffix: &str) -> Option<String> {
    preauth_core::IdempotencyKey::new(auth_key)
        .and_then(|k| k.derive(suffix))
        .ok()
        .map(|k| k.as_str().to_owned())
}

/// `yyyy-MM-dd HH:mm:ss` of `at` in `offset`.
pub(crate) fn format_time(at: OffsetDateTime, offset: UtcOffset) -> String {
    let local = at.checked_to_offset(offset).unwrap_or(at);
    let Ok(year) = u16::try_from(local.year()) else {
        return local.format(TIME_FORMAT).unwrap_or_default();
    };
    if year > 9999 {
        return local.format(TIME_FORMAT).unwrap_or_default();
    }
    // What `TIME_FORMAT` writes for a four-digit year, without the formatting machinery.
    let mut s = String::with_capacity(19);
    // `year` < 10000: both halves are below 100.
    push_two_digits(&mut s, u8::try_from(year / 100).unwrap_or_default());
    push_two_digits(&mut s, u8::try_from(year % 100).unwrap_or_default());
    s.push('-');
    push_two_digits(&mut s, u8::from(local.month()));
    s.push('-');
    push_two_digits(&mut s, local.day());
    s.push(' ');
    push_two_digits(&mut s, local.hour());
    s.push(':');
    push_two_digits(&mut s, local.minute());
    s.push(':');
    push_two_digits(&mut s, local.second());
    s
}

/// Reads an Onerway time in `zone` (`+08:00`), or in `default` when no zone is given.
pub(crate) fn parse_time(
    at: Option<&str>,
    zone: Option<&str>,
    default: UtcOffset,
) -> Option<OffsetDateTime> {
    let at = at?.trim();
    let t = match quick_time(at) {
        Some(t) => t,
        None => PrimitiveDateTime::parse(at, TIME_FORMAT).ok()?,
    };
    let offset = match zone {
        Some(z) => parse_offset(z)?,
        None => default,
    };
    Some(t.assume_offset(offset))
}

/// `yyyy-MM-dd HH:mm:ss` read without the format machinery, when it is exactly that and a
/// valid date and time (what `TIME_FORMAT` reads it as); `None` otherwise, for the full parser
/// to decide.
fn quick_time(s: &str) -> Option<PrimitiveDateTime> {
    let b: &[u8; 19] = s.as_bytes().try_into().ok()?;
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u16> {
        b[from..to].iter().try_fold(0u16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
        })
    };
    let small = |from: usize| num(from, from + 2).and_then(|n| u8::try_from(n).ok());
    let year = i32::from(num(0, 4)?);
    let month = time::Month::try_from(small(5)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, small(8)?).ok()?;
    let time = time::Time::from_hms(small(11)?, small(14)?, small(17)?).ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

/// Reads an amount and its currency.
pub(crate) fn parse_money(
    op: Operation,
    amount: Option<&str>,
    currency: Option<&str>,
) -> Result<Money> {
    parse_money_likely_in(op, amount, currency, None)
}

/// [`parse_money`], when the currency is most likely `likely` (the hold's): its code is then
/// not looked up again.
pub(crate) fn parse_money_likely_in(
    op: Operation,
    amount: Option<&str>,
    currency: Option<&str>,
    likely: Option<Currency>,
) -> Result<Money> {
    let currency = currency.ok_or_else(|| protocol(op, "orderCurrency is missing"))?;
    let currency = match likely {
        Some(c) if c.code() == currency => c,
        _ => Currency::from_code(currency)
            .map_err(|_| protocol(op, "orderCurrency is not ISO 4217"))?,
    };
    let amount = amount.ok_or_else(|| protocol(op, "orderAmount is missing"))?;
    Money::parse_major(amount.trim(), currency)
        .map_err(|_| protocol(op, "orderAmount is not a decimal amount in its currency"))
}

fn serialize<T: serde::Serialize>(what: &str, value: &T) -> Result<String> {
    // Room for a nested object of the usual size, so that it is not grown on the way.
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(&mut out, value)
        .map_err(|_| Error::invalid_request(format!("cannot serialize {what}")))?;
    // serde_json writes valid UTF-8.
    String::from_utf8(out).map_err(|_| Error::invalid_request(format!("cannot serialize {what}")))
}

/// The street line of an address: `street number`, complement and district, comma-separated.
fn address_line(a: &Address) -> Option<String> {
    let blank = |s: &str| s.trim().is_empty();
    let mut line = String::new();
    let mut part = |pieces: &[&str]| {
        // A part that is only whitespace is left out.
        if pieces.iter().all(|p| blank(p)) {
            return;
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        for (i, p) in pieces.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(p);
        }
    };
    match (a.street.as_deref(), a.number.as_deref()) {
        (Some(s), Some(n)) if !n.is_empty() => part(&[s, n]),
        (Some(s), _) => part(&[s]),
        (None, _) => {}
    }
    if let Some(c) = a.complement.as_deref() {
        part(&[c]);
    }
    if let Some(d) = a.district.as_deref() {
        part(&[d]);
    }
    (!line.is_empty()).then_some(line)
}

/// The parameters of a direct card AUTH (`/v1/txn/doTransaction`), in wire form.
///
/// # Errors
/// [`Error::InvalidRequest`] for what Onerway would refuse (line items that do not add up,
/// no payer e-mail, no country, a key too long to derive follow-up keys from);
/// [`Error::Unsupported`] for a saved card.
pub(crate) fn authorize_params<'a>(
    config: &'a OnerwayConfig,
    req: &AuthorizeRequest,
    key: &'a str,
    now: OffsetDateTime,
) -> Result<Params<'a>> {
    req.check_line_items()?;
    if key.len() > MAX_AUTH_KEY_LEN {
        return Err(Error::invalid_request(format!(
            "onerway authorization keys are at most {MAX_AUTH_KEY_LEN} characters, so that \
             `{{key}}-{CAPTURE_SUFFIX}` fits merchantTxnId (64)"
        )));
    }
    let card = match &req.payment_method {
        PaymentMethod::Card(card) => card,
        PaymentMethod::SavedCard { .. } => {
            return Err(Error::unsupported(
                PROVIDER,
                Operation::Authorize,
                "saved cards (Onerway tokenInfo) are not implemented; pass the card",
            ));
        }
        _ => {
            return Err(Error::unsupported(
                PROVIDER,
                Operation::Authorize,
                "this payment method",
            ));
        }
    };
    let payer = req
        .payer
        .as_ref()
        .ok_or_else(|| Error::invalid_request("onerway requires the payer (billingInformation)"))?;
    let email = payer
        .email
        .as_deref()
        .ok_or_else(|| Error::invalid_request("onerway requires the payer's e-mail"))?;
    let currency = req.amount.currency().code();
    let amount = req.amount.to_major_string();

    let products: Vec<Product<'_>> = if req.line_items.is_empty() {
        // Onerway requires products; without line items the whole amount is one line.
        vec![Product {
            name: req.description.as_deref().unwrap_or("Order"),
            price: Cow::Borrowed(&amount),
            num: "1".to_owned(),
            currency,
            kind: None,
        }]
    } else {
        req.line_items
            .iter()
            .map(|item| {
                let price = item.unit_price.to_major_string();
                let (price, kind) = match item.kind {
                    LineItemKind::Discount => (Cow::Owned(format!("-{price}")), Some("discount")),
                    LineItemKind::ShippingFee => (Cow::Owned(price), Some("shipping_fee")),
                    _ => (Cow::Owned(price), None),
                };
                Product {
                    name: &item.name,
                    price,
                    num: item.quantity.to_string(),
                    currency,
                    kind,
                }
            })
            .collect()
    };
    let browser = req.browser.as_ref();
    let order_msg = TxnOrderMsg {
        return_url: req.return_url.as_deref(),
        app_id: &config.app_id,
        notify_url: req.notify_url.as_deref(),
        products: serialize("products", &products)?,
        transaction_ip: req.customer_ip.as_deref(),
        java_enabled: browser.and_then(|b| b.java_enabled),
        color_depth: browser.and_then(|b| b.color_depth).map(|v| v.to_string()),
        screen_height: browser.and_then(|b| b.screen_height).map(|v| v.to_string()),
        screen_width: browser.and_then(|b| b.screen_width).map(|v| v.to_string()),
        time_zone_offset: browser
            .and_then(|b| b.time_zone_offset)
            .map(|v| v.to_string()),
        accept: browser.and_then(|b| b.accept.as_deref()),
        user_agent: browser.and_then(|b| b.user_agent.as_deref()),
        language: browser.and_then(|b| b.language.as_deref()),
    };

    let billing_address = payer
        .billing_address
        .as_ref()
        .or(req.shipping_address.as_ref());
    let shipping_address = req.shipping_address.as_ref().or(billing_address);
    let info = |address: Option<&Address>| -> Result<String> {
        let country = address
            .map(|a| a.country.as_str())
            .or(req.country.as_deref())
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::invalid_request("onerway requires the payer's country"))?;
        let info = Information {
            country,
            email: Some(email),
            first_name: Some(payer.first_name.as_str()).filter(|s| !s.is_empty()),
            last_name: Some(payer.last_name.as_str()).filter(|s| !s.is_empty()),
            phone: payer.phone.as_deref(),
            address: address.and_then(address_line),
            city: address.and_then(|a| a.city.as_deref()),
            province: address.and_then(|a| a.state.as_deref()),
            postal_code: address.and_then(|a| a.postal_code.as_deref()),
            street: address.and_then(|a| a.street.as_deref()),
            number: address.and_then(|a| a.number.as_deref()),
            identity_number: payer.document.as_ref().map(|d| d.id.as_str()),
        };
        serialize("billing or shipping information", &info)
    };
    let card_info = CardInfo {
        card_number: card.number().expose_secret(),
        cvv: card.cvc().expose_secret(),
        month: format!("{:02}", card.exp_month()),
        year: card.exp_year().to_string(),
        holder_name: card.holder_name(),
    };

    let billing = info(billing_address)?;
    // The same address gives the same string: serialize it once.
    let shipping = if shipping_address == billing_address {
        billing.clone()
    } else {
        info(shipping_address)?
    };
    let order_msg = serialize("txnOrderMsg", &order_msg)?;
    let card_info = serialize("cardInfo", &card_info)?;

    // In name order, so that each one is appended.
    let mut p = Params::new();
    p.insert("billingInformation", Cow::Owned(billing));
    p.insert("cardInfo", Cow::Owned(card_info));
    p.insert("merchantNo", Cow::Borrowed(&config.merchant_no));
    p.insert("merchantTxnId", Cow::Borrowed(key));
    p.insert(
        "merchantTxnTime",
        Cow::Owned(format_time(now, config.time_zone)),
    );
    p.insert(
        "merchantTxnTimeZone",
        Cow::Owned(format_offset(config.time_zone)),
    );
    p.insert("orderAmount", Cow::Owned(amount));
    p.insert("orderCurrency", Cow::Borrowed(currency));
    p.insert("productType", Cow::Borrowed("CARD"));
    p.insert("shippingInformation", Cow::Owned(shipping));
    p.insert("subProductType", Cow::Borrowed("DIRECT"));
    p.insert("txnOrderMsg", Cow::Owned(order_msg));
    p.insert("txnType", Cow::Borrowed("AUTH"));
    Ok(p)
}

/// CAPTURE or VOID of the AUTH `origin` (`/v1/txn/authPayment`). No amount: Onerway
/// captures the full amount only.
pub(crate) fn auth_payment_params<'a>(
    config: &'a OnerwayConfig,
    txn_type: &'static str,
    merchant_txn_id: &'a str,
    origin: &'a str,
) -> Params<'a> {
    let mut p = Params::new();
    p.insert("merchantNo", Cow::Borrowed(&config.merchant_no));
    p.insert("merchantTxnId", Cow::Borrowed(merchant_txn_id));
    // Signed, as the capture and void tables say (Signed = Yes).
    p.insert("originTransactionId", Cow::Borrowed(origin));
    p.insert("txnType", Cow::Borrowed(txn_type));
    p
}

/// A refund application (`refundType: "0"`) of `amount` against the captured transaction.
pub(crate) fn refund_params<'a>(
    config: &'a OnerwayConfig,
    merchant_txn_id: &'a str,
    origin: &'a str,
    amount: &Money,
) -> Params<'a> {
    let mut p = Params::new();
    p.insert("merchantNo", Cow::Borrowed(&config.merchant_no));
    p.insert("refundType", Cow::Borrowed("0"));
    p.insert("merchantTxnId", Cow::Borrowed(merchant_txn_id));
    p.insert("originTransactionId", Cow::Borrowed(origin));
    p.insert("refundAmount", Cow::Owned(amount.to_major_string()));
    p
}

/// What to look transactions up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListBy {
    /// `merchantTxnIds`, comma-separated.
    MerchantTxnIds(Vec<String>),
    /// `transactionIds`, comma-separated.
    TransactionIds(Vec<String>),
}

/// A query of the first page (`current: "1"`).
pub(crate) fn list_params<'a>(config: &'a OnerwayConfig, by: &ListBy) -> Params<'a> {
    let mut p = Params::new();
    p.insert("current", Cow::Borrowed("1"));
    p.insert("merchantNo", Cow::Borrowed(&config.merchant_no));
    match by {
        ListBy::MerchantTxnIds(ids) => p.insert("merchantTxnIds", Cow::Owned(ids.join(","))),
        ListBy::TransactionIds(ids) => p.insert("transactionIds", Cow::Owned(ids.join(","))),
    };
    p
}

/// Signs `params`, adds `sign`, and serializes the body once.
pub(crate) fn signed_body(mut params: Params<'_>, secret: &SecretString) -> Result<Vec<u8>> {
    // Empty values are neither signed nor sent.
    params.retain(|_, v| !v.is_empty());
    // The sorted parameters are hashed as they are: no second map, no concatenated string.
    let sign = sign::sign_values(
        params
            .iter()
            .filter(|(k, _)| !sign::REQUEST_EXCLUDED.contains(k))
            .map(|(_, v)| v),
        secret,
    );
    params.insert("sign", Cow::Owned(sign));
    // The body's size, with room for the quotes escaped in the nested JSON strings.
    let size: usize = params.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
    let mut body = Vec::with_capacity(size + size / 4 + 16);
    serde_json::to_writer(&mut body, &params)
        .map_err(|_| Error::invalid_request("cannot serialize the request"))?;
    Ok(body)
}

/// Reads `{respCode, respMsg, data}` from an answer.
///
/// # Errors
/// [`Error::Unauthenticated`] for HTTP 401/403; [`Error::Protocol`] (naming the problem,
/// never quoting the body) for anything that is not such a JSON object.
pub(crate) fn read_envelope<'a, D: serde::Deserialize<'a>>(
    op: Operation,
    resp: &'a HttpResponse,
) -> Result<Envelope<'a, D>> {
    if matches!(resp.status, 401 | 403) {
        return Err(Error::Unauthenticated {
            provider: PROVIDER,
            details: Box::new(resp.details(None, None)),
        });
    }
    let what = if resp.body.is_empty() {
        "an empty body"
    } else if resp.is_html() {
        "an HTML page"
    } else {
        // One pass over the bytes; the body is diagnosed only when it cannot be read.
        if let Ok(env) = std::str::from_utf8(&resp.body)
            .map_err(|_| ())
            .and_then(|text| serde_json::from_str::<Envelope<'_, D>>(text).map_err(|_| ()))
        {
            return Ok(env);
        }
        match serde_json::from_slice::<serde_json::Value>(&resp.body) {
            Ok(serde_json::Value::Object(_)) => {
                "JSON that is not a {respCode, respMsg, data} object"
            }
            Ok(_) => "JSON that is not an object",
            Err(e) if e.is_eof() => "truncated JSON",
            Err(_) => "a body that is not JSON",
        }
    };
    Err(Error::Protocol {
        provider: PROVIDER,
        operation: op,
        message: format!("expected a JSON answer, got {what} (http {})", resp.status),
        details: Box::new(resp.details(None, None)),
    })
}

/// The envelope's details.
pub(crate) fn details<D>(resp: &HttpResponse, env: &Envelope<'_, D>) -> ProviderDetails {
    resp.details(
        env.resp_code.as_deref().map(str::to_owned),
        env.resp_msg.as_deref().map(str::to_owned),
    )
}

/// An envelope whose `respCode` is not `20000`: [`Error::Rejected`]; a missing `respCode`:
/// [`Error::Protocol`].
pub(crate) fn check_success<D>(
    op: Operation,
    resp: &HttpResponse,
    env: &Envelope<'_, D>,
) -> Result<()> {
    match env.resp_code.as_deref() {
        Some(SUCCESS) => Ok(()),
        Some(_) => Err(Error::rejected(PROVIDER, op, details(resp, env))),
        None => Err(Error::Protocol {
            provider: PROVIDER,
            operation: op,
            message: "respCode is missing".into(),
            details: Box::new(details(resp, env)),
        }),
    }
}

/// The `TxnInfo` in `data`, borrowed from the answer (taken out of the envelope).
pub(crate) fn txn_info<'a>(op: Operation, env: &mut Envelope<'a>) -> Result<TxnInfo<'a>> {
    match env.data.take() {
        Some(TxnData::Txn(txn)) => Ok(txn),
        _ => Err(protocol(op, "data is not a transaction object")),
    }
}

fn status_of(op: Operation, txn: &TxnInfo<'_>) -> Result<(TxnStatus, String)> {
    let raw = txn
        .status
        .as_deref()
        .ok_or_else(|| protocol(op, "data.status is missing"))?;
    let status = TxnStatus::parse(raw).ok_or_else(|| {
        protocol(
            op,
            format!(
                "unknown transaction status {:?}",
                raw.chars().take(8).collect::<String>()
            ),
        )
    })?;
    Ok((status, raw.to_owned()))
}

fn decline_details(resp: &HttpResponse, env: &Envelope<'_>, reason: &Reason) -> ProviderDetails {
    if reason.resp_code.is_some() || reason.resp_msg.is_some() {
        resp.details(reason.resp_code.clone(), reason.resp_msg.clone())
    } else {
        details(resp, env)
    }
}

fn next_action(op: Operation, txn: &TxnInfo<'_>) -> Result<Option<NextAction>> {
    match (txn.action_type.as_deref(), txn.redirect_url.as_deref()) {
        (Some("RedirectURL") | None, Some(url)) => Ok(Some(NextAction::Redirect {
            url: url.to_owned(),
        })),
        (Some("RedirectURL"), None) => Err(protocol(
            op,
            "actionType is RedirectURL but redirectUrl is missing",
        )),
        (Some(kind), _) => Ok(Some(NextAction::Other {
            kind: kind.to_owned(),
        })),
        (None, None) => Ok(None),
    }
}

fn last4(masked: Option<&str>) -> Option<String> {
    let digits: String = masked?.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 4).then(|| digits[digits.len() - 4..].to_owned())
}

/// The hold an authorization answer describes. A decline is `Err(Declined)` carrying the
/// declined hold; a refused request `Err(Rejected)`; an unreadable answer `Err(Protocol)`
/// (the client turns it into `OutcomeUnknown`).
pub(crate) fn authorize_outcome(
    config: &OnerwayConfig,
    req: &AuthorizeRequest,
    key: &str,
    resp: &HttpResponse,
    now: OffsetDateTime,
) -> Result<Hold> {
    let op = Operation::Authorize;
    let mut env: Envelope<'_> = read_envelope(op, resp)?;
    let ok = check_success(op, resp, &env);
    let txn = match ok {
        Ok(()) => txn_info(op, &mut env)?,
        Err(err @ Error::Rejected { .. }) => {
            // A business decline can come as status F inside a failure envelope.
            match txn_info(op, &mut env) {
                Ok(txn) if txn.status.as_deref() == Some("F") => txn,
                _ => return Err(err),
            }
        }
        Err(err) => return Err(err),
    };
    let (status, raw) = status_of(op, &txn)?;
    let (hold_status, _) = meaning(status);
    let id = match (&txn.transaction_id, hold_status) {
        (Some(id), _) => id.as_ref().to_owned(),
        (None, HoldStatus::Declined) => String::new(),
        (None, _) => return Err(protocol(op, "data.transactionId is missing")),
    };
    let amount = if txn.order_amount.is_some() || txn.order_currency.is_some() {
        parse_money_likely_in(
            op,
            txn.order_amount.as_deref(),
            txn.order_currency.as_deref(),
            Some(req.amount.currency()),
        )?
    } else {
        req.amount
    };
    let created = parse_time(
        txn.txn_time.as_deref(),
        txn.txn_time_zone.as_deref(),
        config.time_zone,
    )
    .unwrap_or(now);
    let card = match &req.payment_method {
        PaymentMethod::Card(c) => Some(CardSummary::new(None, Some(c.last4().to_owned()))),
        _ => None,
    };
    let mut hold = Hold::new(PROVIDER, id, key, hold_status, raw, amount).with_created_at(created);
    hold.card = card;
    match hold_status {
        HoldStatus::Declined => {
            let reason = Reason::parse(txn.reason().as_deref());
            let details = decline_details(resp, &env, &reason);
            let hold = hold.with_decline(DeclineReason::new(
                details.code.clone(),
                details.message.clone(),
            ));
            Err(Error::Declined {
                provider: PROVIDER,
                details: Box::new(details),
                hold: Some(Box::new(hold)),
            })
        }
        HoldStatus::RequiresAction => {
            hold.next_action = next_action(op, &txn)?;
            Ok(hold.with_expires_at(created + HOLD_VALIDITY))
        }
        _ => Ok(hold.with_expires_at(created + HOLD_VALIDITY)),
    }
}

/// The hold after a CAPTURE or VOID answer. `op` is `Capture` or `Cancel`.
pub(crate) fn auth_payment_outcome(
    op: Operation,
    hold: &Hold,
    resp: &HttpResponse,
) -> Result<Hold> {
    let mut env: Envelope<'_> = read_envelope(op, resp)?;
    check_success(op, resp, &env)?;
    let txn = txn_info(op, &mut env)?;
    follow_up_outcome(op, hold, txn, |reason| decline_details(resp, &env, reason))
}

/// The hold after the CAPTURE or VOID transaction `txn` of `hold` (from an answer, or found
/// by its `merchantTxnId`). `failed` gives the details of a transaction that failed.
pub(crate) fn follow_up_outcome(
    op: Operation,
    hold: &Hold,
    txn: TxnInfo<'_>,
    failed: impl FnOnce(&Reason) -> ProviderDetails,
) -> Result<Hold> {
    let (status, raw) = status_of(op, &txn)?;
    match meaning(status).1 {
        FollowUp::Done => {
            let mut next = hold.clone();
            next.raw_status = raw;
            if op == Operation::Capture {
                let captured = match (&txn.order_amount, &txn.order_currency) {
                    (Some(a), Some(c)) => parse_money_likely_in(
                        op,
                        Some(a),
                        Some(c),
                        Some(hold.authorized.currency()),
                    )?,
                    _ => hold.authorized,
                };
                if captured.currency() != hold.authorized.currency() {
                    return Err(protocol(op, "the capture is in another currency"));
                }
                next.status = HoldStatus::Captured;
                next.captured = captured;
                next.capture_count = hold.capture_count.saturating_add(1);
                next.capture_reference = Some(
                    txn.transaction_id
                        .ok_or_else(|| protocol(op, "data.transactionId is missing"))?
                        .into_owned(),
                );
            } else {
                next.status = HoldStatus::Cancelled;
            }
            next.next_action = None;
            Ok(next)
        }
        FollowUp::Failed => {
            let reason = Reason::parse(txn.reason().as_deref());
            Err(Error::rejected(PROVIDER, op, failed(&reason)))
        }
        FollowUp::InFlight => Err(Error::OutcomeUnknown {
            provider: PROVIDER,
            operation: op,
            reference: hold.provider_reference.clone(),
            reason: format!("onerway reports the {op} as not final yet (status {raw})"),
            source: None,
        }),
    }
}

/// The refund transaction id from a refund answer (`data` is a plain string).
pub(crate) fn refund_outcome(resp: &HttpResponse) -> Result<String> {
    let op = Operation::Refund;
    let env: Envelope<'_> = read_envelope(op, resp)?;
    check_success(op, resp, &env)?;
    match env.data {
        Some(TxnData::Text(id)) if !id.is_empty() => Ok(id.into_owned()),
        Some(TxnData::Txn(txn)) => txn
            .transaction_id
            .map(Cow::into_owned)
            .ok_or_else(|| protocol(op, "data.transactionId is missing")),
        _ => Err(protocol(op, "data is not the refund's transaction id")),
    }
}

/// The transactions of a query answer.
pub(crate) fn list_outcome(resp: &HttpResponse) -> Result<Vec<TxnInfo<'_>>> {
    let op = Operation::Retrieve;
    // `data` is read once the envelope says the query succeeded.
    let env: Envelope<'_, &RawValue> = read_envelope(op, resp)?;
    check_success(op, resp, &env)?;
    let Some(data) = env.data else {
        return Ok(Vec::new());
    };
    let page: Page<'_> = serde_json::from_str(data.get())
        .map_err(|_| protocol(op, "data is not a page of transactions"))?;
    if page
        .total_pages
        .as_deref()
        .is_some_and(|p| p != "0" && p != "1")
    {
        tracing::debug!("onerway query has more than one page; reading the first");
    }
    Ok(page.content.unwrap_or_default())
}

/// Builds the hold from the AUTH transaction and its follow-ups.
///
/// The AUTH is the transaction whose `merchantTxnId` is the merchant reference (or whose
/// `transactionId` is the provider reference). Follow-ups are the transactions whose
/// `originTransactionId` is the AUTH, or whose `merchantTxnId` is the derived
/// `{key}-capture` / `{key}-void`. Then:
///
/// - a successful CAPTURE makes the hold `Captured` (its `transactionId` becomes
///   `capture_reference`), and successful REFUNDs against the capture add up in `refunded`
///   (`Refunded` once everything is refunded);
/// - else a successful VOID makes it `Cancelled`;
/// - else an AUTH that is `S`, or `N` with no void, and is past its 3-day validity at `now`
///   is `Expired` (Onerway closes uncaptured authorizations; it has no status of its own
///   for that);
/// - else the AUTH's own status decides ([`meaning`]).
pub(crate) fn hold_from_transactions(
    config: &OnerwayConfig,
    reference: &HoldRef,
    txns: &[TxnInfo<'_>],
    now: OffsetDateTime,
) -> Result<Hold> {
    let op = Operation::Retrieve;
    let not_found = || Error::NotFound {
        provider: PROVIDER,
        reference: reference.display_reference().to_owned(),
        details: Box::default(),
    };
    let auth = txns
        .iter()
        .find(|t| match &reference.merchant_reference {
            Some(m) => t.merchant_txn_id.as_deref() == Some(m.as_str()),
            None => t.transaction_id.as_deref() == reference.provider_reference.as_deref(),
        })
        .ok_or_else(not_found)?;
    let auth_id = auth
        .transaction_id
        .as_deref()
        .map(str::to_owned)
        .ok_or_else(|| protocol(op, "transactionId is missing"))?;
    if let Some(p) = &reference.provider_reference
        && p != &auth_id
    {
        return Err(protocol(
            op,
            "the merchant reference belongs to another transaction than the provider reference",
        ));
    }
    let key = auth
        .merchant_txn_id
        .as_deref()
        .map(str::to_owned)
        .unwrap_or_default();
    if !matches!(
        TxnKind::parse(auth.txn_type.as_deref()),
        TxnKind::Auth | TxnKind::Other
    ) {
        return Err(protocol(
            op,
            "the transaction found is not an authorization",
        ));
    }
    let (status, raw) = status_of(op, auth)?;
    let amount = parse_money(
        op,
        auth.order_amount.as_deref(),
        auth.order_currency.as_deref(),
    )?;
    let created = parse_time(
        auth.txn_time.as_deref(),
        auth.txn_time_zone.as_deref(),
        config.time_zone,
    );

    let capture_key = derived_key(&key, CAPTURE_SUFFIX);
    let void_key = derived_key(&key, VOID_SUFFIX);
    let (capture_key, void_key) = (capture_key.as_deref(), void_key.as_deref());
    let kind_of = |t: &TxnInfo<'_>| -> TxnKind {
        let merchant_txn_id = t.merchant_txn_id.as_deref();
        match TxnKind::parse(t.txn_type.as_deref()) {
            TxnKind::Other | TxnKind::Auth | TxnKind::Sale => {
                if merchant_txn_id.is_some() && merchant_txn_id == capture_key {
                    TxnKind::Capture
                } else if merchant_txn_id.is_some() && merchant_txn_id == void_key {
                    TxnKind::Void
                } else {
                    TxnKind::Other
                }
            }
            k => k,
        }
    };
    let mut capture: Option<&TxnInfo<'_>> = None;
    let mut void: Option<&TxnInfo<'_>> = None;
    for t in txns {
        if t.transaction_id.as_deref() == Some(auth_id.as_str()) {
            continue;
        }
        let merchant_txn_id = t.merchant_txn_id.as_deref();
        let related = t.origin_transaction_id.as_deref() == Some(auth_id.as_str())
            || (merchant_txn_id.is_some()
                && (merchant_txn_id == capture_key || merchant_txn_id == void_key));
        if !related {
            continue;
        }
        let Some(s) = t.status.as_deref().and_then(TxnStatus::parse) else {
            continue;
        };
        if meaning(s).1 != FollowUp::Done {
            continue;
        }
        match kind_of(t) {
            TxnKind::Capture => capture = capture.or(Some(t)),
            TxnKind::Void => void = void.or(Some(t)),
            _ => {}
        }
    }

    let mut hold = Hold::new(PROVIDER, auth_id, key, meaning(status).0, raw, amount);
    if let Some(created) = created {
        hold = hold
            .with_created_at(created)
            .with_expires_at(created + HOLD_VALIDITY);
    }
    let brand = auth.payment_method.as_deref().map(str::to_owned);
    let last4 = last4(auth.card_number.as_deref());
    if brand.is_some() || last4.is_some() {
        hold.card = Some(CardSummary::new(brand, last4));
    }
    match (hold.status, capture, void) {
        (HoldStatus::Authorized | HoldStatus::Cancelled, Some(c), _) => {
            let captured = match (&c.order_amount, &c.order_currency) {
                (Some(a), Some(cur)) => parse_money(op, Some(a), Some(cur))?,
                _ => hold.authorized,
            };
            let capture_id = c
                .transaction_id
                .as_deref()
                .map(str::to_owned)
                .ok_or_else(|| protocol(op, "the capture's transactionId is missing"))?;
            let mut refunded = Money::zero(amount.currency());
            for r in txns.iter().filter(|r| {
                r.origin_transaction_id.as_deref() == Some(capture_id.as_str())
                    && TxnKind::parse(r.txn_type.as_deref()) == TxnKind::Refund
                    && r.status.as_deref().and_then(TxnStatus::parse) == Some(TxnStatus::Success)
            }) {
                let m = parse_money(op, r.order_amount.as_deref(), r.order_currency.as_deref())?;
                refunded = refunded
                    .checked_add(&m)
                    .map_err(|_| protocol(op, "refund amounts do not add up"))?;
            }
            hold.status = HoldStatus::Captured;
            hold.captured = captured;
            hold.capture_count = 1;
            hold.capture_reference = Some(capture_id);
            if !refunded.is_zero() {
                hold.refunded = refunded;
                if refunded.checked_cmp(&captured) != Ok(std::cmp::Ordering::Less) {
                    hold.status = HoldStatus::Refunded;
                }
            }
        }
        (HoldStatus::Authorized | HoldStatus::Cancelled, None, Some(_)) => {
            hold.status = HoldStatus::Cancelled;
        }
        (HoldStatus::Authorized | HoldStatus::Cancelled, None, None) if hold.is_expired_at(now) => {
            hold.status = HoldStatus::Expired;
        }
        (HoldStatus::Declined, _, _) => {
            let reason = Reason::parse(auth.reason().as_deref());
            hold.decline = Some(DeclineReason::new(reason.resp_code, reason.resp_msg));
            hold.expires_at = None;
        }
        _ => {}
    }
    Ok(hold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_letter_parses_and_nothing_else() {
        for s in ["S", "F", "P", "R", "N", "I", "U"] {
            assert!(TxnStatus::parse(s).is_some(), "{s}");
        }
        for s in ["", "s", "SUCCESS", "A", "O", " S"] {
            assert!(TxnStatus::parse(s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn times_round_trip_in_the_merchant_zone() {
        let tz = parse_offset("+08:00").unwrap();
        let at = time::macros::datetime!(2024-07-24 05:33:23 UTC);
        assert_eq!(format_time(at, tz), "2024-07-24 13:33:23");
        assert_eq!(
            parse_time(Some("2024-07-24 13:33:23"), Some("+08:00"), UtcOffset::UTC),
            Some(at)
        );
        assert_eq!(parse_time(Some("2024-07-24T13:33:23"), None, tz), None);
    }

    #[test]
    fn times_format_as_the_format_description_does() {
        let tz = parse_offset("-05:30").unwrap();
        for at in [
            time::macros::datetime!(2024-07-24 05:33:23 UTC),
            time::macros::datetime!(2024-01-01 00:00:00 UTC),
            time::macros::datetime!(0000-01-01 23:59:59 UTC),
            time::macros::datetime!(0001-03-09 12:07:09 UTC),
            time::macros::datetime!(9999-12-31 23:59:59 UTC),
            time::macros::datetime!(1999-12-31 20:00:00 UTC),
        ] {
            for offset in [UtcOffset::UTC, tz, parse_offset("+14:00").unwrap()] {
                let local = at.checked_to_offset(offset).unwrap_or(at);
                assert_eq!(
                    format_time(at, offset),
                    local.format(TIME_FORMAT).unwrap(),
                    "{at} {offset}"
                );
            }
        }
    }

    #[test]
    fn quick_times_read_as_the_format_description_does() {
        for s in [
            "2024-07-24 13:33:23",
            "0000-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "2024-02-29 12:00:00",
            "2023-02-29 12:00:00",
            "2024-13-01 00:00:00",
            "2024-00-10 00:00:00",
            "2024-04-31 00:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 23:60:00",
            "2024-01-01 23:59:60",
            "2024-1-01 23:59:59x",
            "2024-01-01T23:59:59",
            "+024-01-01 23:59:59",
            "2024-01-01 23:59:5a",
        ] {
            let full = PrimitiveDateTime::parse(s, TIME_FORMAT).ok();
            if let Some(quick) = quick_time(s) {
                assert_eq!(Some(quick), full, "{s}");
            }
            assert_eq!(
                parse_time(Some(s), None, UtcOffset::UTC),
                full.map(|t| t.assume_utc()),
                "{s}"
            );
        }
        assert!(quick_time("2024-07-24 13:33:23").is_some());
    }

    #[test]
    fn params_are_a_sorted_map() {
        let mut p = Params::new();
        let mut m = std::collections::BTreeMap::new();
        for (k, v) in [
            ("merchantNo", "1"),
            ("b", "2"),
            ("B", "3"),
            ("sign", "4"),
            ("a", ""),
            ("b", "5"),
            ("zz", "6"),
            ("merchantNo", "7"),
        ] {
            p.insert(k, Cow::Borrowed(v));
            m.insert(k, v);
        }
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            serde_json::to_string(&m).unwrap()
        );
        p.retain(|_, v| !v.is_empty());
        m.retain(|_, v| !v.is_empty());
        assert!(p.iter().eq(m.iter().map(|(k, v)| (*k, *v))));
    }

    #[test]
    fn derived_keys() {
        assert_eq!(
            derived_key("hold-1", CAPTURE_SUFFIX).as_deref(),
            Some("hold-1-capture")
        );
        assert_eq!(
            derived_key(&"k".repeat(MAX_AUTH_KEY_LEN), CAPTURE_SUFFIX).map(|k| k.len()),
            Some(64)
        );
        assert_eq!(derived_key(&"k".repeat(60), CAPTURE_SUFFIX), None);
    }

    #[test]
    fn address_lines() {
        let a = Address::new("BR")
            .with_street("Rua 9 de Setembro", "15")
            .with_complement("casa");
        assert_eq!(
            address_line(&a).as_deref(),
            Some("Rua 9 de Setembro 15, casa")
        );
        assert_eq!(
            address_line(&Address::new("US").with_complement("Apt. 870")).as_deref(),
            Some("Apt. 870")
        );
        assert_eq!(address_line(&Address::new("US")), None);
    }
}
