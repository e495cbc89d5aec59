//! Core requests to Liquido bodies, Liquido answers to core holds and refunds. Pure functions:
//! no I/O, no clock (the caller passes what it needs).
//!
//! `transferStatus` maps to [`HoldStatus`] in one total `match` ([`TransferStatus::hold_status`]);
//! a status outside Liquido's documented enum is an [`Error::Protocol`], never a default.

use std::time::Duration;

use preauth_core::transport::HttpResponse;
use preauth_core::{
    AuthorizeRequest, CardSummary, Currency, DeclineReason, Error, ExposeSecret, Hold, HoldRef,
    HoldStatus, IdempotencyKey, Money, NextAction, Operation, PaymentMethod, ProviderDetails,
    Refund, RefundStatus, Result, ThreeDs,
};
use time::OffsetDateTime;

use crate::PROVIDER;
use crate::wire::{self, Charge, WireError};

/// Liquido's `transferStatus` enum: the SDK's `PayInStatus` plus `AUTHORIZED` from the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TransferStatus {
    InitialStatus,
    InProgress,
    Authorized,
    Settled,
    Failed,
    Cancelled,
    Expired,
    Refunding,
    Refunded,
    ChargedBack,
}

impl TransferStatus {
    pub(crate) const ALL: [TransferStatus; 10] = [
        TransferStatus::InitialStatus,
        TransferStatus::InProgress,
        TransferStatus::Authorized,
        TransferStatus::Settled,
        TransferStatus::Failed,
        TransferStatus::Cancelled,
        TransferStatus::Expired,
        TransferStatus::Refunding,
        TransferStatus::Refunded,
        TransferStatus::ChargedBack,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TransferStatus::InitialStatus => "INITIAL_STATUS",
            TransferStatus::InProgress => "IN_PROGRESS",
            TransferStatus::Authorized => "AUTHORIZED",
            TransferStatus::Settled => "SETTLED",
            TransferStatus::Failed => "FAILED",
            TransferStatus::Cancelled => "CANCELLED",
            TransferStatus::Expired => "EXPIRED",
            TransferStatus::Refunding => "REFUNDING",
            TransferStatus::Refunded => "REFUNDED",
            TransferStatus::ChargedBack => "CHARGED_BACK",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<TransferStatus> {
        TransferStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The one mapping of a charge's `transferStatus` to the common status.
    ///
    /// | `transferStatus` | hold | why |
    /// |---|---|---|
    /// | `INITIAL_STATUS` | pending | created, not processed yet |
    /// | `IN_PROGRESS` | requires action when a 3-D Secure redirect URL is present, else pending | 3DS challenge, or a PIX/BOLETO awaiting payment |
    /// | `AUTHORIZED` | authorized | `capture: false` succeeded |
    /// | `SETTLED` | captured | captured (or an immediate sale) |
    /// | `FAILED` | declined | with `transferStatusCode`/`transferErrorMsg` as the reason |
    /// | `CANCELLED` | cancelled | |
    /// | `EXPIRED` | expired | |
    /// | `REFUNDING` | captured | a refund is pending; the money is still captured |
    /// | `REFUNDED` | refunded | |
    /// | `CHARGED_BACK` | disputed | |
    pub(crate) fn hold_status(self, three_ds_redirect: bool) -> HoldStatus {
        match self {
            TransferStatus::InitialStatus => HoldStatus::Pending,
            TransferStatus::InProgress if three_ds_redirect => HoldStatus::RequiresAction,
            TransferStatus::InProgress => HoldStatus::Pending,
            TransferStatus::Authorized => HoldStatus::Authorized,
            TransferStatus::Settled | TransferStatus::Refunding => HoldStatus::Captured,
            TransferStatus::Failed => HoldStatus::Declined,
            TransferStatus::Cancelled => HoldStatus::Cancelled,
            TransferStatus::Expired => HoldStatus::Expired,
            TransferStatus::Refunded => HoldStatus::Refunded,
            TransferStatus::ChargedBack => HoldStatus::Disputed,
        }
    }

    /// The status of a refund record (docs: "refund status, SETTLED, IN_PROGRESS, FAILED").
    /// Statuses that only charges have are not refund statuses.
    pub(crate) fn refund_status(self) -> Option<RefundStatus> {
        match self {
            TransferStatus::InitialStatus | TransferStatus::InProgress => {
                Some(RefundStatus::Pending)
            }
            TransferStatus::Settled => Some(RefundStatus::Succeeded),
            TransferStatus::Failed | TransferStatus::Cancelled | TransferStatus::Expired => {
                Some(RefundStatus::Failed)
            }
            TransferStatus::Authorized
            | TransferStatus::Refunding
            | TransferStatus::Refunded
            | TransferStatus::ChargedBack => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// Liquido's payer name rule (seed 003): upper- and lower-case letters, digits and spaces
/// only; no Spanish or Portuguese letters, no other special characters.
pub(crate) fn check_payer_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid_request("payer name must not be empty"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') {
        return Err(Error::invalid_request(
            "payer name may contain only ASCII letters, digits and spaces (Liquido rejects accented letters and other characters)",
        ));
    }
    Ok(())
}

fn check_country(country: &str) -> Result<()> {
    if country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(Error::invalid_request(
            "country must be an ISO 3166-1 alpha-2 code in upper case (BR, MX, CO, …)",
        ))
    }
}

fn minor(m: &Money) -> Result<i64> {
    m.to_minor_units()
        .map_err(|e| Error::invalid_request(e.to_string()))
}

/// The body of `POST /v1/payments/charges/card` with `capture: false`, serialized once.
pub(crate) fn charge_body(req: &AuthorizeRequest, key: &IdempotencyKey) -> Result<Vec<u8>> {
    req.check_line_items()?;
    let country = req
        .country
        .as_deref()
        .ok_or_else(|| Error::invalid_request("country is required by Liquido"))?;
    check_country(country)?;
    let amount = minor(&req.amount)?;
    let payer = match &req.payer {
        None => None,
        Some(p) => {
            let name = p.full_name();
            check_payer_name(&name)?;
            Some(wire::Payer {
                name,
                email: p.email.as_deref(),
                phone: p.phone.as_deref(),
                document: p.document.as_ref().map(|d| wire::PayerDocument {
                    document_id: &d.id,
                    kind: &d.kind,
                }),
                billing_address: p.billing_address.as_ref().map(|a| wire::BillingAddress {
                    zip_code: a.postal_code.as_deref(),
                    state: a.state.as_deref(),
                    city: a.city.as_deref(),
                    district: a.district.as_deref(),
                    street: a.street.as_deref(),
                    number: a.number.as_deref(),
                    complement: a.complement.as_deref(),
                    country: &a.country,
                }),
            })
        }
    };
    let (card, card_id) = match &req.payment_method {
        PaymentMethod::Card(c) => (
            Some(wire::Card {
                card_holder_name: c.holder_name(),
                card_number: c.number().expose_secret(),
                expiration_month: wire::Digits {
                    value: c.exp_month().into(),
                    width: 2,
                },
                expiration_year: wire::Digits {
                    value: c.exp_year(),
                    width: 4,
                },
                cvc: c.cvc().expose_secret(),
            }),
            None,
        ),
        PaymentMethod::SavedCard { id } => {
            if id.trim().is_empty() {
                return Err(Error::invalid_request("saved card id is empty"));
            }
            (None, Some(id.as_str()))
        }
        _ => {
            return Err(Error::unsupported(
                PROVIDER,
                Operation::Authorize,
                "only cards and saved cards (cardId) can be held",
            ));
        }
    };
    let card3ds_info = match req.three_ds {
        ThreeDs::Required => Some(wire::Card3dsInfo {
            use3ds: true,
            merchant_site_3ds: req.return_url.as_deref().ok_or_else(|| {
                Error::invalid_request(
                    "3-D Secure needs a return_url (sent as card3dsInfo.merchantSite3ds)",
                )
            })?,
        }),
        _ => None,
    };
    let body = wire::ChargeRequest {
        idempotency_key: key.as_str(),
        amount,
        currency: req.amount.currency().code(),
        country,
        payment_method: "CREDIT_CARD",
        payment_flow: "DIRECT",
        payer,
        card,
        card_id,
        capture: false,
        card3ds_info,
        callback_url: req.notify_url.as_deref(),
        description: req.description.as_deref(),
        sub_merchant_id: req.sub_merchant_id.as_deref(),
    };
    serde_json::to_vec(&body)
        .map_err(|_| Error::invalid_request("the charge request cannot be serialized"))
}

/// The body of a partial capture, `{"amount": minor}`; `None` for a full capture (no body).
pub(crate) fn capture_body(amount: Option<&Money>) -> Result<Option<Vec<u8>>> {
    amount
        .map(|a| {
            let body = wire::CaptureBody { amount: minor(a)? };
            serde_json::to_vec(&body)
                .map_err(|_| Error::invalid_request("the capture request cannot be serialized"))
        })
        .transpose()
}

/// What a refund needs from the charge besides the core request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefundFacts<'a> {
    pub(crate) charge_key: &'a str,
    pub(crate) country: &'a str,
    pub(crate) callback_url: Option<&'a str>,
}

/// The body of `POST /v1/payments/charges/refund`.
pub(crate) fn refund_body(
    key: &IdempotencyKey,
    amount: &Money,
    description: Option<&str>,
    facts: &RefundFacts<'_>,
) -> Result<Vec<u8>> {
    check_country(facts.country)?;
    let body = wire::RefundBody {
        idempotency_key: key.as_str(),
        reference_id: facts.charge_key,
        amount: minor(amount)?,
        currency: amount.currency().code(),
        country: facts.country,
        description,
        callback_url: facts.callback_url,
    };
    serde_json::to_vec(&body)
        .map_err(|_| Error::invalid_request("the refund request cannot be serialized"))
}

// ---------------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------------

const DATE_TIME: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
const OFFSET: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");

/// Parses Liquido's times: `2022-03-01 17:53:18 GMT-08:00`, `2023-09-22 11:01:27 UTC`.
pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let (dt, zone) = s.split_at_checked(19)?;
    let dt = fast_date_time(dt).or_else(|| time::PrimitiveDateTime::parse(dt, DATE_TIME).ok())?;
    let zone = zone.trim();
    let offset = match zone {
        "" | "UTC" | "GMT" | "Z" => time::UtcOffset::UTC,
        z => {
            let z = z
                .strip_prefix("GMT")
                .or_else(|| z.strip_prefix("UTC"))
                .unwrap_or(z);
            time::UtcOffset::parse(z, OFFSET).ok()?
        }
    };
    Some(dt.assume_offset(offset))
}

/// `yyyy-MM-dd HH:mm:ss` read by position (the form of every Liquido example), without the
/// format-description parser; `None` sends the caller to the full parser.
fn fast_date_time(s: &str) -> Option<time::PrimitiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u16> {
        b[from..to].iter().try_fold(0u16, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u16::from(d - b'0'))
        })
    };
    let small = |from: usize| -> Option<u8> { u8::try_from(num(from, from + 2)?).ok() };
    let year = i32::from(num(0, 4)?);
    let month = time::Month::try_from(small(5)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, small(8)?).ok()?;
    let t = time::Time::from_hms(small(11)?, small(14)?, small(17)?).ok()?;
    Some(time::PrimitiveDateTime::new(date, t))
}

/// Formats a time the way Liquido's examples do: `2022-03-01 17:53:18 GMT-08:00`.
#[cfg(feature = "simulator")]
pub(crate) fn format_time(t: OffsetDateTime) -> String {
    let dt = t.format(DATE_TIME).unwrap_or_default();
    let off = t.offset().format(OFFSET).unwrap_or_default();
    format!("{dt} GMT{off}")
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// What the mapping needs besides the answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HoldContext {
    /// The assumed validity of an authorization.
    pub(crate) validity: Duration,
    /// The creation time to use when the answer has no readable `createTime` (the client's
    /// clock for a fresh authorize, the known hold's for later operations).
    pub(crate) fallback_created: Option<OffsetDateTime>,
}

fn currency_of(code: &str, field: &'static str) -> Result<Currency, WireError> {
    Currency::from_code(code).map_err(|_| WireError::BadType(field, "an ISO 4217 currency code"))
}

fn money(minor: i64, currency: Currency, field: &'static str) -> Result<Money, WireError> {
    Money::from_minor(minor, currency).map_err(|_| WireError::BadType(field, "a valid amount"))
}

/// A charge object as a core [`Hold`]. `transferStatusCode` is not looked at here.
pub(crate) fn hold_from_charge(c: &Charge<'_>, ctx: &HoldContext) -> Result<Hold, WireError> {
    let currency = currency_of(&c.currency, "currency")?;
    let authorized = money(c.amount, currency, "amount")?;
    let ts = TransferStatus::parse(&c.transfer_status).ok_or(WireError::BadType(
        "transferStatus",
        "a known Liquido status",
    ))?;
    let status = ts.hold_status(c.three_ds_redirect_url.is_some());
    let mut hold = Hold::new(
        PROVIDER,
        &*c.idempotency_key,
        &*c.idempotency_key,
        status,
        &*c.transfer_status,
        authorized,
    );
    if matches!(
        status,
        HoldStatus::Captured | HoldStatus::Refunded | HoldStatus::Disputed
    ) {
        // `finalAmount` is the captured amount (docs, Chile: amount 300, finalAmount 150 after a
        // partial capture), unless it is in another currency (an FX charge): then only the
        // full amount is known to be captured.
        let captured_minor = match (&c.final_amount, &c.final_currency) {
            (Some(f), None) => *f,
            (Some(f), Some(fc)) if fc == &c.currency => *f,
            _ => c.amount,
        };
        if captured_minor > c.amount {
            return Err(WireError::BadType(
                "finalAmount",
                "at most the authorized amount",
            ));
        }
        let captured = money(captured_minor, currency, "finalAmount")?;
        hold = hold.with_captured(captured);
        hold.capture_count = u32::from(captured_minor > 0);
        if status == HoldStatus::Refunded {
            hold = hold.with_refunded(captured);
        }
    }
    if let Some(ci) = &c.card_info {
        let mut card = CardSummary::new(owned(ci.brand.as_deref()), owned(ci.last4.as_deref()));
        card.exp_month = ci
            .expiration_month
            .and_then(|m| u8::try_from(m).ok())
            .filter(|m| (1..=12).contains(m));
        card.exp_year = ci
            .expiration_year
            .and_then(|y| u16::try_from(y).ok())
            .filter(|y| (2000..=2099).contains(y));
        hold = hold.with_card(card);
    }
    if status == HoldStatus::RequiresAction
        && let Some(url) = &c.three_ds_redirect_url
    {
        hold = hold.with_next_action(NextAction::Redirect {
            url: url.as_ref().to_owned(),
        });
    }
    if status == HoldStatus::Declined {
        hold = hold.with_decline(decline_reason(c));
    }
    let created = c
        .create_time
        .as_deref()
        .and_then(parse_time)
        .or(ctx.fallback_created);
    if let Some(created) = created {
        hold = hold.with_created_at(created);
        if matches!(
            status,
            HoldStatus::Pending | HoldStatus::RequiresAction | HoldStatus::Authorized
        ) {
            hold = hold.with_expires_at(created + ctx.validity);
        }
    }
    Ok(hold)
}

fn decline_reason(c: &Charge<'_>) -> DeclineReason {
    DeclineReason::new(
        c.transfer_status_code
            .filter(|code| *code != 200)
            .map(|code| code.to_string()),
        owned(c.transfer_error_msg.as_deref()),
    )
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fn charge_details(c: &Charge<'_>, resp: &HttpResponse) -> ProviderDetails {
    resp.details(
        c.transfer_status_code.map(|code| code.to_string()),
        owned(c.transfer_error_msg.as_deref()),
    )
}

pub(crate) fn protocol(op: Operation, e: &WireError, resp: &HttpResponse) -> Error {
    Error::Protocol {
        provider: PROVIDER,
        operation: op,
        message: e.message(),
        details: Box::new(resp.details(None, None)),
    }
}

/// A Liquido answer, classified. Returned once per answer and matched at once, so the charge
/// stays on the stack rather than in a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Answer<'a> {
    /// A charge (or refund) object, borrowing from the answer's body.
    Charge(Charge<'a>),
    /// A refusal whose body is not a charge object.
    Failure(ProviderDetails),
}

/// Classifies an answer by HTTP status and body.
///
/// - 2xx: a charge object; a body that is not one but carries `transferStatusCode` ≠ 200 is a
///   failure; anything else is a protocol error.
/// - 401, 403: unauthenticated (403 is what an API gateway answers for a bad `x-api-key`).
/// - 404: not found.
/// - other 4xx: a charge object when the body is one (a declined charge), else a failure with
///   whatever details the body has, read leniently.
/// - anything else: a protocol error.
pub(crate) fn classify<'a>(
    op: Operation,
    resp: &'a HttpResponse,
    reference: &str,
) -> Result<Answer<'a>> {
    let parsed = || Charge::parse(&resp.body);
    match resp.status {
        200..=299 => match parsed() {
            Ok(c) => Ok(Answer::Charge(c)),
            Err(e) => match wire::lenient_details(&resp.body) {
                (Some(code), message)
                    if code != "200" && code.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Ok(Answer::Failure(resp.details(Some(code), message)))
                }
                _ => Err(protocol(op, &e, resp)),
            },
        },
        401 | 403 => {
            let (code, message) = wire::lenient_details(&resp.body);
            Err(Error::Unauthenticated {
                provider: PROVIDER,
                details: Box::new(resp.details(code, message)),
            })
        }
        404 => {
            let (code, message) = wire::lenient_details(&resp.body);
            Err(Error::NotFound {
                provider: PROVIDER,
                reference: reference.to_owned(),
                details: Box::new(resp.details(code, message)),
            })
        }
        400..=499 => match parsed() {
            Ok(c) => Ok(Answer::Charge(c)),
            Err(_) => {
                let (code, message) = wire::lenient_details(&resp.body);
                Ok(Answer::Failure(resp.details(code, message)))
            }
        },
        s => Err(Error::Protocol {
            provider: PROVIDER,
            operation: op,
            message: format!("unexpected http status {s}"),
            details: Box::new(resp.details(None, None)),
        }),
    }
}

fn check_key(op: Operation, c: &Charge<'_>, expected: &str, resp: &HttpResponse) -> Result<()> {
    if c.idempotency_key == expected {
        Ok(())
    } else {
        Err(Error::Protocol {
            provider: PROVIDER,
            operation: op,
            message: "answer is about another charge (idempotencyKey differs from the request)"
                .into(),
            details: Box::new(resp.details(None, None)),
        })
    }
}

/// The answer to an authorize: the hold, or `Declined` carrying the declined hold.
pub(crate) fn authorize_result(resp: &HttpResponse, key: &str, ctx: &HoldContext) -> Result<Hold> {
    let op = Operation::Authorize;
    match classify(op, resp, key)? {
        Answer::Failure(d) => Err(Error::rejected(PROVIDER, op, d)),
        Answer::Charge(c) => {
            check_key(op, &c, key, resp)?;
            let mut hold = hold_from_charge(&c, ctx).map_err(|e| protocol(op, &e, resp))?;
            if c.failed() || hold.status == HoldStatus::Declined {
                hold.status = HoldStatus::Declined;
                hold.next_action = None;
                hold.expires_at = None;
                hold.decline = Some(decline_reason(&c));
                return Err(Error::Declined {
                    provider: PROVIDER,
                    details: Box::new(charge_details(&c, resp)),
                    hold: Some(Box::new(hold)),
                });
            }
            Ok(hold)
        }
    }
}

/// The answer to a capture or cancel of the charge `key`.
pub(crate) fn follow_up_result(
    op: Operation,
    resp: &HttpResponse,
    key: &str,
    ctx: &HoldContext,
) -> Result<Hold> {
    match classify(op, resp, key)? {
        Answer::Failure(d) => Err(Error::rejected(PROVIDER, op, d)),
        Answer::Charge(c) => {
            check_key(op, &c, key, resp)?;
            if c.failed() {
                return Err(Error::rejected(PROVIDER, op, charge_details(&c, resp)));
            }
            hold_from_charge(&c, ctx).map_err(|e| protocol(op, &e, resp))
        }
    }
}

/// The answer to `GET /v1/payments/charges/{key}`: a failed charge is a declined hold, not an
/// error (the read itself succeeded).
pub(crate) fn retrieve_result(resp: &HttpResponse, key: &str, ctx: &HoldContext) -> Result<Hold> {
    let op = Operation::Retrieve;
    match classify(op, resp, key)? {
        Answer::Failure(d) => Err(Error::rejected(PROVIDER, op, d)),
        Answer::Charge(c) => {
            check_key(op, &c, key, resp)?;
            hold_from_charge(&c, ctx).map_err(|e| protocol(op, &e, resp))
        }
    }
}

/// The charge itself (for the refund's country and callback URL).
pub(crate) fn charge_result<'a>(resp: &'a HttpResponse, key: &str) -> Result<Charge<'a>> {
    let op = Operation::Retrieve;
    match classify(op, resp, key)? {
        Answer::Failure(d) => Err(Error::rejected(PROVIDER, op, d)),
        Answer::Charge(c) => {
            check_key(op, &c, key, resp)?;
            Ok(c)
        }
    }
}

/// A refund object as a core [`Refund`]; `fallback_hold` when it lacks `referenceId`.
pub(crate) fn refund_from_charge(
    c: &Charge<'_>,
    fallback_hold: Option<&str>,
) -> Result<Refund, WireError> {
    let currency = currency_of(&c.currency, "currency")?;
    let amount = money(c.amount, currency, "amount")?;
    let ts = TransferStatus::parse(&c.transfer_status).ok_or(WireError::BadType(
        "transferStatus",
        "a known Liquido status",
    ))?;
    let status = ts.refund_status().ok_or(WireError::BadType(
        "transferStatus",
        "a refund status (SETTLED, IN_PROGRESS or FAILED)",
    ))?;
    let charge_key = c
        .reference_id
        .as_deref()
        .or(fallback_hold)
        .ok_or(WireError::Missing("referenceId"))?;
    Ok(Refund::new(
        PROVIDER,
        &*c.idempotency_key,
        &*c.idempotency_key,
        HoldRef::both(charge_key, charge_key),
        amount,
        status,
        &*c.transfer_status,
    ))
}

/// The answer to `POST /v1/payments/charges/refund` (`read = false`) or
/// `GET /v1/payments/charges/refund/{key}` (`read = true`, where a failed refund is a result,
/// not an error).
pub(crate) fn refund_result(
    op: Operation,
    resp: &HttpResponse,
    refund_key: &str,
    charge_key: Option<&str>,
) -> Result<Refund> {
    match classify(op, resp, refund_key)? {
        Answer::Failure(d) => Err(Error::rejected(PROVIDER, op, d)),
        Answer::Charge(c) => {
            check_key(op, &c, refund_key, resp)?;
            if op == Operation::Refund && c.failed() {
                return Err(Error::rejected(PROVIDER, op, charge_details(&c, resp)));
            }
            if let (Some(expected), Some(got)) = (charge_key, c.reference_id.as_deref())
                && expected != got
            {
                return Err(Error::Protocol {
                    provider: PROVIDER,
                    operation: op,
                    message: "refund answer refers to another charge (referenceId differs)".into(),
                    details: Box::new(resp.details(None, None)),
                });
            }
            refund_from_charge(&c, charge_key).map_err(|e| protocol(op, &e, resp))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The positional reader agrees with the format-description parser, and leaves everything
    /// it does not read to it.
    #[test]
    fn fast_date_time_agrees_with_the_full_parser() {
        for s in [
            "2022-03-01 17:53:18",
            "2024-02-29 00:00:00",
            "1999-12-31 23:59:59",
            "2023-02-29 10:00:00",
            "2022-13-01 10:00:00",
            "2022-03-01 24:00:00",
            "2022-03-01T17:53:18",
            "2022-3-01 17:53:18 ",
            "20x2-03-01 17:53:18",
            "2022-03-01 17:53:60",
        ] {
            let full = time::PrimitiveDateTime::parse(s, DATE_TIME).ok();
            if let Some(fast) = fast_date_time(s) {
                assert_eq!(Some(fast), full, "{s}");
            } else {
                assert!(
                    full.is_none() || s.len() != 19,
                    "{s}: the full parser reads it"
                );
            }
        }
        assert_eq!(
            parse_time("2022-03-01 17:53:18 GMT-08:00"),
            Some(time::macros::datetime!(2022-03-01 17:53:18 -08:00))
        );
    }

    #[test]
    fn every_status_round_trips_and_maps() {
        for t in TransferStatus::ALL {
            assert_eq!(TransferStatus::parse(t.as_str()), Some(t));
        }
        assert_eq!(TransferStatus::parse("authorized"), None);
        assert_eq!(TransferStatus::parse("PAID"), None);
        let expected = [
            (TransferStatus::InitialStatus, false, HoldStatus::Pending),
            (TransferStatus::InProgress, false, HoldStatus::Pending),
            (TransferStatus::InProgress, true, HoldStatus::RequiresAction),
            (TransferStatus::Authorized, false, HoldStatus::Authorized),
            (TransferStatus::Settled, false, HoldStatus::Captured),
            (TransferStatus::Failed, false, HoldStatus::Declined),
            (TransferStatus::Cancelled, false, HoldStatus::Cancelled),
            (TransferStatus::Expired, false, HoldStatus::Expired),
            (TransferStatus::Refunding, false, HoldStatus::Captured),
            (TransferStatus::Refunded, false, HoldStatus::Refunded),
            (TransferStatus::ChargedBack, false, HoldStatus::Disputed),
        ];
        for (t, tds, h) in expected {
            assert_eq!(t.hold_status(tds), h, "{t:?}");
        }
    }

    #[test]
    fn times() {
        use time::macros::datetime;
        assert_eq!(
            parse_time("2022-03-01 17:53:18 GMT-08:00"),
            Some(datetime!(2022-03-01 17:53:18 -08:00))
        );
        assert_eq!(
            parse_time("2022-06-02 11:45:44 GMT+08:00"),
            Some(datetime!(2022-06-02 11:45:44 +08:00))
        );
        assert_eq!(
            parse_time("2023-09-22 11:01:27 UTC"),
            Some(datetime!(2023-09-22 11:01:27 UTC))
        );
        assert_eq!(parse_time("2023-09-22"), None);
        assert_eq!(parse_time("2023-09-22 11:01:27 PST"), None);
        assert_eq!(parse_time("2023-13-22 11:01:27 UTC"), None);
        assert_eq!(parse_time("€€€€€€€€€€€€€€€€€€€€€€"), None);
    }

    #[test]
    fn payer_name_rule() {
        assert!(check_payer_name("Thiago Gabriel").is_ok());
        assert!(check_payer_name("Ana Silva 2").is_ok());
        for bad in [
            "João Silva",
            "Ana-Maria",
            "O'Brien",
            "Ana\tSilva",
            "",
            "   ",
        ] {
            let e = check_payer_name(bad).unwrap_err();
            assert!(matches!(e, Error::InvalidRequest { .. }), "{bad:?}");
            assert!(bad.trim().is_empty() || !e.to_string().contains(bad), "{e}");
        }
    }
}
