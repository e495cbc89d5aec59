//! Core requests to Onerway parameters, Onerway answers to core holds. Pure: no I/O, no
//! clock (the time is passed in).

use std::collections::BTreeMap;
use std::time::Duration;

use preauth_core::transport::HttpResponse;
use preauth_core::{
    Address, AuthorizeRequest, CardSummary, Currency, DeclineReason, Error, ExposeSecret, Hold,
    HoldRef, HoldStatus, LineItemKind, Money, NextAction, Operation, PaymentMethod,
    ProviderDetails, Result,
};
use secrecy::SecretString;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::PROVIDER;
use crate::config::{OnerwayConfig, format_offset, parse_offset};
use crate::sign;
use crate::wire::{CardInfo, Envelope, Information, Page, Product, Reason, TxnInfo, TxnOrderMsg};

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

/// Top-level request parameters in wire form, sorted by name (the signing order).
pub(crate) type Params = BTreeMap<&'static str, String>;

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
    local.format(TIME_FORMAT).unwrap_or_default()
}

/// Reads an Onerway time in `zone` (`+08:00`), or in `default` when no zone is given.
pub(crate) fn parse_time(
    at: Option<&str>,
    zone: Option<&str>,
    default: UtcOffset,
) -> Option<OffsetDateTime> {
    let t = PrimitiveDateTime::parse(at?.trim(), TIME_FORMAT).ok()?;
    let offset = match zone {
        Some(z) => parse_offset(z)?,
        None => default,
    };
    Some(t.assume_offset(offset))
}

/// Reads an amount and its currency.
pub(crate) fn parse_money(
    op: Operation,
    amount: Option<&str>,
    currency: Option<&str>,
) -> Result<Money> {
    let currency = currency.ok_or_else(|| protocol(op, "orderCurrency is missing"))?;
    let currency =
        Currency::from_code(currency).map_err(|_| protocol(op, "orderCurrency is not ISO 4217"))?;
    let amount = amount.ok_or_else(|| protocol(op, "orderAmount is missing"))?;
    Money::parse_major(amount.trim(), currency)
        .map_err(|_| protocol(op, "orderAmount is not a decimal amount in its currency"))
}

fn serialize<T: serde::Serialize>(what: &str, value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|_| Error::invalid_request(format!("cannot serialize {what}")))
}

/// The street line of an address: `street number`, complement and district, comma-separated.
fn address_line(a: &Address) -> Option<String> {
    let street = match (a.street.as_deref(), a.number.as_deref()) {
        (Some(s), Some(n)) if !n.is_empty() => Some(format!("{s} {n}")),
        (Some(s), _) => Some(s.to_owned()),
        (None, _) => None,
    };
    let parts: Vec<String> = [street, a.complement.clone(), a.district.clone()]
        .into_iter()
        .flatten()
        .filter(|p| !p.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The parameters of a direct card AUTH (`/v1/txn/doTransaction`), in wire form.
///
/// # Errors
/// [`Error::InvalidRequest`] for what Onerway would refuse (line items that do not add up,
/// no payer e-mail, no country, a key too long to derive follow-up keys from);
/// [`Error::Unsupported`] for a saved card.
pub(crate) fn authorize_params(
    config: &OnerwayConfig,
    req: &AuthorizeRequest,
    key: &str,
    now: OffsetDateTime,
) -> Result<Params> {
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

    let products: Vec<Product<'_>> = if req.line_items.is_empty() {
        // Onerway requires products; without line items the whole amount is one line.
        vec![Product {
            name: req.description.as_deref().unwrap_or("Order"),
            price: req.amount.to_major_string(),
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
                    LineItemKind::Discount => (format!("-{price}"), Some("discount")),
                    LineItemKind::ShippingFee => (price, Some("shipping_fee")),
                    _ => (price, None),
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

    let mut p = Params::new();
    p.insert("merchantNo", config.merchant_no.clone());
    p.insert("merchantTxnId", key.to_owned());
    p.insert("merchantTxnTime", format_time(now, config.time_zone));
    p.insert("merchantTxnTimeZone", format_offset(config.time_zone));
    p.insert("productType", "CARD".to_owned());
    p.insert("subProductType", "DIRECT".to_owned());
    p.insert("txnType", "AUTH".to_owned());
    p.insert("orderAmount", req.amount.to_major_string());
    p.insert("orderCurrency", currency.to_owned());
    p.insert("txnOrderMsg", serialize("txnOrderMsg", &order_msg)?);
    p.insert("cardInfo", serialize("cardInfo", &card_info)?);
    p.insert("billingInformation", info(billing_address)?);
    p.insert("shippingInformation", info(shipping_address)?);
    Ok(p)
}

/// CAPTURE or VOID of the AUTH `origin` (`/v1/txn/authPayment`). No amount: Onerway
/// captures the full amount only.
pub(crate) fn auth_payment_params(
    config: &OnerwayConfig,
    txn_type: &'static str,
    merchant_txn_id: &str,
    origin: &str,
) -> Params {
    let mut p = Params::new();
    p.insert("merchantNo", config.merchant_no.clone());
    p.insert("txnType", txn_type.to_owned());
    p.insert("merchantTxnId", merchant_txn_id.to_owned());
    // Signed, as the capture and void tables say (Signed = Yes).
    p.insert("originTransactionId", origin.to_owned());
    p
}

/// A refund application (`refundType: "0"`) of `amount` against the captured transaction.
pub(crate) fn refund_params(
    config: &OnerwayConfig,
    merchant_txn_id: &str,
    origin: &str,
    amount: &Money,
) -> Params {
    let mut p = Params::new();
    p.insert("merchantNo", config.merchant_no.clone());
    p.insert("refundType", "0".to_owned());
    p.insert("merchantTxnId", merchant_txn_id.to_owned());
    p.insert("originTransactionId", origin.to_owned());
    p.insert("refundAmount", amount.to_major_string());
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
pub(crate) fn list_params(config: &OnerwayConfig, by: &ListBy) -> Params {
    let mut p = Params::new();
    p.insert("merchantNo", config.merchant_no.clone());
    p.insert("current", "1".to_owned());
    match by {
        ListBy::MerchantTxnIds(ids) => p.insert("merchantTxnIds", ids.join(",")),
        ListBy::TransactionIds(ids) => p.insert("transactionIds", ids.join(",")),
    };
    p
}

/// Signs `params`, adds `sign`, and serializes the body once.
pub(crate) fn signed_body(mut params: Params, secret: &SecretString) -> Result<Vec<u8>> {
    // Empty values are neither signed nor sent.
    params.retain(|_, v| !v.is_empty());
    let sign = sign::sign_request(&params, secret);
    params.insert("sign", sign);
    serde_json::to_vec(&params).map_err(|_| Error::invalid_request("cannot serialize the request"))
}

/// Reads `{respCode, respMsg, data}` from an answer.
///
/// # Errors
/// [`Error::Unauthenticated`] for HTTP 401/403; [`Error::Protocol`] (naming the problem,
/// never quoting the body) for anything that is not such a JSON object.
pub(crate) fn read_envelope(op: Operation, resp: &HttpResponse) -> Result<Envelope> {
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
        match serde_json::from_slice::<serde_json::Value>(&resp.body) {
            Ok(v @ serde_json::Value::Object(_)) => match serde_json::from_value::<Envelope>(v) {
                Ok(env) => return Ok(env),
                Err(_) => "JSON that is not a {respCode, respMsg, data} object",
            },
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
pub(crate) fn details(resp: &HttpResponse, env: &Envelope) -> ProviderDetails {
    resp.details(env.resp_code.clone(), env.resp_msg.clone())
}

/// An envelope whose `respCode` is not `20000`: [`Error::Rejected`]; a missing `respCode`:
/// [`Error::Protocol`].
pub(crate) fn check_success(op: Operation, resp: &HttpResponse, env: &Envelope) -> Result<()> {
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

/// The `TxnInfo` in `data`.
pub(crate) fn txn_info(op: Operation, env: &Envelope) -> Result<TxnInfo> {
    if !env.data.is_object() {
        return Err(protocol(op, "data is not a transaction object"));
    }
    serde_json::from_value(env.data.clone())
        .map_err(|_| protocol(op, "data is not a transaction object"))
}

fn status_of(op: Operation, txn: &TxnInfo) -> Result<(TxnStatus, String)> {
    let raw = txn
        .status
        .clone()
        .ok_or_else(|| protocol(op, "data.status is missing"))?;
    let status = TxnStatus::parse(&raw).ok_or_else(|| {
        protocol(
            op,
            format!(
                "unknown transaction status {:?}",
                raw.chars().take(8).collect::<String>()
            ),
        )
    })?;
    Ok((status, raw))
}

fn decline_details(resp: &HttpResponse, env: &Envelope, reason: &Reason) -> ProviderDetails {
    if reason.resp_code.is_some() || reason.resp_msg.is_some() {
        resp.details(reason.resp_code.clone(), reason.resp_msg.clone())
    } else {
        details(resp, env)
    }
}

fn next_action(op: Operation, txn: &TxnInfo) -> Result<Option<NextAction>> {
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
    let env = read_envelope(op, resp)?;
    let ok = check_success(op, resp, &env);
    let txn = match ok {
        Ok(()) => txn_info(op, &env)?,
        Err(err @ Error::Rejected { .. }) => {
            // A business decline can come as status F inside a failure envelope.
            match txn_info(op, &env) {
                Ok(txn) if txn.status.as_deref() == Some("F") => txn,
                _ => return Err(err),
            }
        }
        Err(err) => return Err(err),
    };
    let (status, raw) = status_of(op, &txn)?;
    let (hold_status, _) = meaning(status);
    let id = match (&txn.transaction_id, hold_status) {
        (Some(id), _) => id.clone(),
        (None, HoldStatus::Declined) => String::new(),
        (None, _) => return Err(protocol(op, "data.transactionId is missing")),
    };
    let amount = if txn.order_amount.is_some() || txn.order_currency.is_some() {
        parse_money(
            op,
            txn.order_amount.as_deref(),
            txn.order_currency.as_deref(),
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
            let reason = Reason::parse(txn.reason.as_deref());
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
    let env = read_envelope(op, resp)?;
    check_success(op, resp, &env)?;
    let txn = txn_info(op, &env)?;
    follow_up_outcome(op, hold, txn, |reason| decline_details(resp, &env, reason))
}

/// The hold after the CAPTURE or VOID transaction `txn` of `hold` (from an answer, or found
/// by its `merchantTxnId`). `failed` gives the details of a transaction that failed.
pub(crate) fn follow_up_outcome(
    op: Operation,
    hold: &Hold,
    txn: TxnInfo,
    failed: impl FnOnce(&Reason) -> ProviderDetails,
) -> Result<Hold> {
    let (status, raw) = status_of(op, &txn)?;
    match meaning(status).1 {
        FollowUp::Done => {
            let mut next = hold.clone();
            next.raw_status = raw;
            if op == Operation::Capture {
                let captured = match (&txn.order_amount, &txn.order_currency) {
                    (Some(a), Some(c)) => parse_money(op, Some(a), Some(c))?,
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
                        .ok_or_else(|| protocol(op, "data.transactionId is missing"))?,
                );
            } else {
                next.status = HoldStatus::Cancelled;
            }
            next.next_action = None;
            Ok(next)
        }
        FollowUp::Failed => {
            let reason = Reason::parse(txn.reason.as_deref());
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
    let env = read_envelope(op, resp)?;
    check_success(op, resp, &env)?;
    match &env.data {
        serde_json::Value::String(id) if !id.is_empty() => Ok(id.clone()),
        serde_json::Value::Object(_) => txn_info(op, &env)?
            .transaction_id
            .ok_or_else(|| protocol(op, "data.transactionId is missing")),
        _ => Err(protocol(op, "data is not the refund's transaction id")),
    }
}

/// The transactions of a query answer.
pub(crate) fn list_outcome(resp: &HttpResponse) -> Result<Vec<TxnInfo>> {
    let op = Operation::Retrieve;
    let env = read_envelope(op, resp)?;
    check_success(op, resp, &env)?;
    if env.data.is_null() {
        return Ok(Vec::new());
    }
    let page: Page = serde_json::from_value(env.data)
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
    txns: &[TxnInfo],
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
            None => t.transaction_id == reference.provider_reference,
        })
        .ok_or_else(not_found)?;
    let auth_id = auth
        .transaction_id
        .clone()
        .ok_or_else(|| protocol(op, "transactionId is missing"))?;
    if let Some(p) = &reference.provider_reference
        && p != &auth_id
    {
        return Err(protocol(
            op,
            "the merchant reference belongs to another transaction than the provider reference",
        ));
    }
    let key = auth.merchant_txn_id.clone().unwrap_or_default();
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
    let kind_of = |t: &TxnInfo| -> TxnKind {
        match TxnKind::parse(t.txn_type.as_deref()) {
            TxnKind::Other | TxnKind::Auth | TxnKind::Sale => {
                if t.merchant_txn_id.is_some() && t.merchant_txn_id == capture_key {
                    TxnKind::Capture
                } else if t.merchant_txn_id.is_some() && t.merchant_txn_id == void_key {
                    TxnKind::Void
                } else {
                    TxnKind::Other
                }
            }
            k => k,
        }
    };
    let mut capture: Option<&TxnInfo> = None;
    let mut void: Option<&TxnInfo> = None;
    for t in txns {
        if t.transaction_id.as_deref() == Some(auth_id.as_str()) {
            continue;
        }
        let related = t.origin_transaction_id.as_deref() == Some(auth_id.as_str())
            || (t.merchant_txn_id.is_some()
                && (t.merchant_txn_id == capture_key || t.merchant_txn_id == void_key));
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
    let brand = auth.payment_method.clone();
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
                .clone()
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
            let reason = Reason::parse(auth.reason.as_deref());
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
