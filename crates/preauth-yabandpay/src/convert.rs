//! Core requests → YabandPay `data` fields; YabandPay answers → core [`Hold`] / [`Refund`];
//! the state mappings, each one total `match`; the error-code mapping.
//!
//! Amounts are sent as trimmed major-unit decimal strings ([`Money::to_major_string_trimmed`]:
//! `"0.1"`, `"1"`, `"24.99"`), exactly as every docs example writes them (the decrement seed
//! sends `"0.1"`, the capture example `"1"`), so a request rebuilt from the docs' values
//! reproduces their string to sign byte for byte.

use std::borrow::Cow;
use std::time::Duration;

use preauth_core::transport::HttpResponse;
use preauth_core::{
    AuthorizeRequest, CardSummary, Currency, DeclineReason, Error, ExposeSecret, Hold, HoldRef,
    HoldStatus, IdempotencyKey, Money, NextAction, Operation, PaymentMethod, ProviderDetails,
    Refund, RefundStatus, Result,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::PROVIDER;
use crate::config::YabandPayConfig;
use crate::wire::{
    self, CardInfo, Fields, Lenient, PaymentData, QueryOrderData, RefundData, ResponseEnvelope,
};

/// How long an authorization stays capturable: 30 days (cards.html, card.html, capture.html).
pub const HOLD_VALIDITY: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// `sub_pay_method` of a direct card payment. The cn card page and the card-direct token page
/// say `"Card"`; the en card page says `"Cards HPP"` (the hosted page's value, apparently
/// copied) and the older cards page `"Credit Card"`. This crate sends `"Card"`.
pub const SUB_PAY_METHOD_CARD: &str = "Card";

/// `operation` `"2"`: authorisation (`"1"` is a sale).
pub const OPERATION_AUTHORISATION: &str = "2";

/// `3ds_initiate` `"01"`: 3-D Secure enabled (`"02"` and `"03"` need YabandPay's approval).
pub const THREE_DS_ENABLED: &str = "01";

/// `timeout` in minutes for the payer to finish (3-D Secure). `"0"` means the default 1440;
/// this crate sends 1440 explicitly so no server-side "empty" check can drop the field.
pub const TIMEOUT_MINUTES: &str = "1440";

/// The description sent when a request has none (the field is required).
pub(crate) const DEFAULT_DESCRIPTION_AUTHORIZE: &str = "pre-authorization";
pub(crate) const DEFAULT_DESCRIPTION_CAPTURE: &str = "capture";
pub(crate) const DEFAULT_DESCRIPTION_DECREMENT: &str = "decrement";
pub(crate) const DEFAULT_DESCRIPTION_REFUND: &str = "refund";

// ---------------------------------------------------------------------------------------
// States
// ---------------------------------------------------------------------------------------

/// A payment `state` as YabandPay writes it (notify.html codes 00–08, plus the SDK's `new`,
/// `refunded`, `completed`). Parsed case-insensitively; `canceled` and `cancelled` both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    /// 00 `paid`: payment successful (after a capture).
    Paid,
    /// 01 `authorized`: the hold is placed.
    Authorized,
    /// 02 `pending`: payment initiated.
    Pending,
    /// 03 `processing`: waiting for the customer to pay.
    Processing,
    /// 04 `verify`: paid but held by risk review.
    Verify,
    /// 05 `declined`.
    Declined,
    /// 06 `failed`.
    Failed,
    /// 07 `expired`: not completed in time (or a hold past its 30 days).
    Expired,
    /// 08 `cancelled` / `canceled`.
    Cancelled,
    /// SDK `new`.
    New,
    /// SDK `refunded`.
    Refunded,
    /// SDK `completed`.
    Completed,
}

impl PaymentState {
    /// Parses a state name or its two-digit code; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut buf = [0u8; STATE_NAME_MAX];
        Some(match ascii_lowercase(raw.trim(), &mut buf)? {
            "paid" | "00" => PaymentState::Paid,
            "authorized" | "01" => PaymentState::Authorized,
            "pending" | "02" => PaymentState::Pending,
            "processing" | "03" => PaymentState::Processing,
            "verify" | "04" => PaymentState::Verify,
            "declined" | "05" => PaymentState::Declined,
            "failed" | "06" => PaymentState::Failed,
            "expired" | "07" => PaymentState::Expired,
            "cancelled" | "canceled" | "08" => PaymentState::Cancelled,
            "new" => PaymentState::New,
            "refunded" => PaymentState::Refunded,
            "completed" => PaymentState::Completed,
            _ => return None,
        })
    }

    /// The common status: the one total mapping of this crate.
    pub fn hold_status(self) -> HoldStatus {
        match self {
            PaymentState::Paid | PaymentState::Completed => HoldStatus::Captured,
            PaymentState::Authorized => HoldStatus::Authorized,
            // Not final yet: initiated, awaiting the payer, or in risk review.
            PaymentState::Pending
            | PaymentState::Processing
            | PaymentState::Verify
            | PaymentState::New => HoldStatus::Pending,
            PaymentState::Declined | PaymentState::Failed => HoldStatus::Declined,
            PaymentState::Expired => HoldStatus::Expired,
            PaymentState::Cancelled => HoldStatus::Cancelled,
            PaymentState::Refunded => HoldStatus::Refunded,
        }
    }
}

/// Longer than every state name (the longest, `refund processing`, has 17 bytes).
const STATE_NAME_MAX: usize = 24;

/// `raw` in ASCII lower case, written into `buf`; `None` when it does not fit (then it is no
/// state name).
fn ascii_lowercase<'b>(raw: &str, buf: &'b mut [u8; STATE_NAME_MAX]) -> Option<&'b str> {
    let out = buf.get_mut(..raw.len())?;
    out.copy_from_slice(raw.as_bytes());
    out.make_ascii_lowercase();
    std::str::from_utf8(out).ok()
}

/// A refund `state` (queryrefund.html codes 20–25).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    /// 20 `to-be-approval`: waiting for an admin.
    ToBeApproval,
    /// 21 `refund pending`: balance insufficient, submitted when it is.
    RefundPending,
    /// 22 `refund processing`: submitted.
    RefundProcessing,
    /// 23 `refunded`.
    Refunded,
    /// 24 `refund failed` (cn page; the en page is cut off).
    RefundFailed,
    /// 25 `refund error` (cn page).
    RefundError,
}

impl RefundState {
    /// Parses a refund state name or its code; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut buf = [0u8; STATE_NAME_MAX];
        Some(match ascii_lowercase(raw.trim(), &mut buf)? {
            "to-be-approval" | "20" => RefundState::ToBeApproval,
            "refund pending" | "21" => RefundState::RefundPending,
            "refund processing" | "22" => RefundState::RefundProcessing,
            "refunded" | "23" => RefundState::Refunded,
            "refund failed" | "24" => RefundState::RefundFailed,
            "refund error" | "25" => RefundState::RefundError,
            _ => return None,
        })
    }

    /// The common refund status.
    pub fn refund_status(self) -> RefundStatus {
        match self {
            RefundState::ToBeApproval
            | RefundState::RefundPending
            | RefundState::RefundProcessing => RefundStatus::Pending,
            RefundState::Refunded => RefundStatus::Succeeded,
            RefundState::RefundFailed | RefundState::RefundError => RefundStatus::Failed,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

fn amount_string(m: &Money) -> String {
    m.to_major_string_trimmed()
}

/// The request's own URL (checked) or else the config's, which
/// [`YabandPayConfig::validate`] checked when the client was built (a client is only built
/// from a valid configuration), so it is not parsed again on every call.
fn required_url<'a>(
    what: &str,
    own: Option<&'a String>,
    config: Option<&'a String>,
    hint: &str,
) -> Result<&'a str> {
    match (own, config) {
        (Some(url), _) => {
            if !is_web_url(url) {
                return Err(Error::invalid_request(format!(
                    "{what} is not an absolute http(s) URL"
                )));
            }
            Ok(url)
        }
        (None, Some(url)) => Ok(url),
        (None, None) => Err(Error::invalid_request(format!(
            "yabandpay requires a {what}: {hint}"
        ))),
    }
}

/// The `notify_url` of capture and decrement: the config's (their requests carry none),
/// checked when the client was built.
pub(crate) fn config_notify_url(config: &YabandPayConfig, op: Operation) -> Result<&str> {
    config.notify_url.as_deref().ok_or_else(|| {
        Error::invalid_request(format!(
            "yabandpay requires a notify_url: {op} requests carry none, so set notify_url in the config ({})",
            crate::config::ENV_NOTIFY_URL
        ))
    })
}

/// `data` of `v3.CreateCardPayments` with `operation` 2 (authorisation), in the order of the
/// card.html parameter table. `order_id` and `request_id` are both the idempotency key.
pub(crate) fn authorize_fields<'a>(
    config: &'a YabandPayConfig,
    req: &'a AuthorizeRequest,
    key: &'a IdempotencyKey,
) -> Result<Fields<'a>> {
    req.check_line_items()?;
    let redirect_url = required_url(
        "redirect_url",
        req.return_url.as_ref(),
        config.redirect_url.as_ref(),
        "set the request's return_url or redirect_url in the config",
    )?;
    let notify_url = required_url(
        "notify_url",
        req.notify_url.as_ref(),
        config.notify_url.as_ref(),
        "set the request's notify_url or notify_url in the config",
    )?;
    let mut f = Fields::with_capacity(13);
    f.push("pay_method", "online");
    f.push("sub_pay_method", SUB_PAY_METHOD_CARD);
    f.push("operation", OPERATION_AUTHORISATION);
    f.push("order_id", key.as_str());
    f.push("3ds_initiate", THREE_DS_ENABLED);
    match &req.payment_method {
        PaymentMethod::Card(card) => {
            let holder = card.holder_name().trim();
            let holder: Cow<'_, str> = if holder.is_empty() {
                Cow::Owned(
                    req.payer
                        .as_ref()
                        .map(|p| p.full_name())
                        .unwrap_or_default(),
                )
            } else {
                Cow::Borrowed(holder)
            };
            if holder.trim().is_empty() {
                return Err(Error::invalid_request(
                    "yabandpay requires the card holder's name (cardinfo.card_holder)",
                ));
            }
            let info = CardInfo {
                card_holder: &holder,
                card_number: card.number().expose_secret(),
                expiration_month: format!("{:02}", card.exp_month()),
                expiration_year: format!("{:04}", card.exp_year()),
                cvc: card.cvc().expose_secret(),
            };
            let json = serde_json::to_string(&info)
                .map_err(|_| Error::invalid_request("cardinfo cannot be encoded"))?;
            f.push("cardinfo", json);
        }
        PaymentMethod::SavedCard { id } => {
            if id.trim().is_empty() {
                return Err(Error::invalid_request(
                    "saved card token (payment_token_object) is empty",
                ));
            }
            f.push("payment_token_object", id.as_str());
        }
        _ => {
            return Err(Error::unsupported(
                PROVIDER,
                Operation::Authorize,
                "only cards and saved card tokens can be authorized",
            ));
        }
    }
    f.push("amount", amount_string(&req.amount));
    f.push("currency", req.amount.currency().code());
    f.push(
        "description",
        non_empty(req.description.as_deref()).unwrap_or(DEFAULT_DESCRIPTION_AUTHORIZE),
    );
    f.push("timeout", TIMEOUT_MINUTES);
    f.push("redirect_url", redirect_url);
    f.push("notify_url", notify_url);
    f.push("request_id", key.as_str());
    Ok(f)
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// `data` of `v3.Capture`, in the order of the docs' example request.
pub(crate) fn capture_fields<'a>(
    hold: &'a Hold,
    amount: &Money,
    description: Option<&'a str>,
    notify_url: &'a str,
    key: &'a IdempotencyKey,
) -> Fields<'a> {
    let mut f = Fields::with_capacity(6);
    f.push(
        "description",
        non_empty(description).unwrap_or(DEFAULT_DESCRIPTION_CAPTURE),
    );
    f.push("trade_id", hold.provider_reference.as_str());
    f.push("amount", amount_string(amount));
    f.push("currency", amount.currency().code());
    f.push("notify_url", notify_url);
    f.push("request_id", key.as_str());
    f
}

/// `data` of `v3.PreauthDecrement`, in the order of the seed's example request. `amount` is
/// the **reduction** (see the crate docs).
pub(crate) fn decrement_fields<'a>(
    hold: &'a Hold,
    by: &Money,
    description: Option<&'a str>,
    notify_url: &'a str,
    key: &'a IdempotencyKey,
) -> Fields<'a> {
    let mut f = Fields::with_capacity(6);
    f.push(
        "description",
        non_empty(description).unwrap_or(DEFAULT_DESCRIPTION_DECREMENT),
    );
    f.push("trade_id", hold.provider_reference.as_str());
    f.push("amount", amount_string(by));
    f.push("currency", by.currency().code());
    f.push("notify_url", notify_url);
    f.push("request_id", key.as_str());
    f
}

/// `data` of `v3.CancelPayment`, `v3.QueryOrder`: `{trade_id}`.
pub(crate) fn trade_fields(trade_id: &str) -> Fields<'_> {
    let mut f = Fields::with_capacity(1);
    f.push("trade_id", trade_id);
    f
}

/// `data` of `v3.CreateRefund`, in the order of the docs' parameter table.
pub(crate) fn refund_fields<'a>(
    hold: &'a Hold,
    amount: &Money,
    description: Option<&'a str>,
    notify_url: Option<&'a str>,
    key: &'a IdempotencyKey,
) -> Fields<'a> {
    let mut f = Fields::with_capacity(6);
    f.push("trade_id", hold.provider_reference.as_str());
    f.push("m_refund_id", key.as_str());
    f.push("refund_amount", amount_string(amount));
    f.push("refund_currency", amount.currency().code());
    f.push(
        "refund_description",
        non_empty(description).unwrap_or(DEFAULT_DESCRIPTION_REFUND),
    );
    if let Some(url) = notify_url {
        f.push("notify_url", url);
    }
    f
}

/// `data` of `v3.QueryRefundOrder`: `{refund_id}`.
pub(crate) fn refund_query_fields(refund_id: &str) -> Fields<'_> {
    let mut f = Fields::with_capacity(1);
    f.push("refund_id", refund_id);
    f
}

// ---------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------

/// What an operation needs to map an answer: which operation, and the reference an
/// outcome-unknown error names (the key for an authorization, the trade id otherwise).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) op: Operation,
    pub(crate) reference: &'a str,
}

/// A successful answer: `status` true and a non-empty `data` object, kept as its JSON text
/// (borrowed from the body) and read once into the operation's type.
#[derive(Debug)]
pub(crate) struct Answer<'a> {
    pub(crate) data: &'a RawValue,
    pub(crate) message: Option<Cow<'a, str>>,
    pub(crate) response_id: Option<Cow<'a, str>>,
    pub(crate) http_status: u16,
}

impl Answer<'_> {
    pub(crate) fn details(&self, code: Option<String>) -> ProviderDetails {
        ProviderDetails::new(code, self.message.as_deref().map(str::to_owned))
            .with_http_status(self.http_status)
            .with_request_id(self.response_id.as_deref().map(str::to_owned))
    }
}

/// An answer that cannot be understood. For a mutating call the operation may have happened,
/// so it is [`Error::OutcomeUnknown`] (reconcile with `retrieve`); for a read it is
/// [`Error::Protocol`]. `problem` names the field or the shape, never a value of the body.
pub(crate) fn odd(ctx: Ctx<'_>, resp_status: u16, problem: &str) -> Error {
    if ctx.op.is_mutating() {
        Error::OutcomeUnknown {
            provider: PROVIDER,
            operation: ctx.op,
            reference: ctx.reference.to_owned(),
            reason: format!("the answer cannot be understood: {problem}"),
            source: None,
        }
    } else {
        Error::Protocol {
            provider: PROVIDER,
            operation: ctx.op,
            message: problem.to_owned(),
            details: Box::new(ProviderDetails::default().with_http_status(resp_status)),
        }
    }
}

/// Reads the envelope: success → the `data` object; `status:false` → the typed error of its
/// `code`; anything else → [`odd`].
pub(crate) fn read_answer<'a>(ctx: Ctx<'_>, resp: &'a HttpResponse) -> Result<Answer<'a>> {
    // A body that parses as JSON is neither empty nor an HTML page (both start otherwise), so
    // what kind of body it is is only worked out when it does not parse.
    let parsed: Option<ResponseEnvelope<'a>> = serde_json::from_slice(&resp.body).ok();
    let Some(env) = parsed else {
        let problem = if resp.body.is_empty() {
            "empty body"
        } else if resp.is_html() {
            "an HTML page instead of JSON"
        } else {
            "the body is not a JSON object (truncated or malformed)"
        };
        return Err(http_failure(ctx, resp).unwrap_or_else(|| odd(ctx, resp.status, problem)));
    };
    let message = env.message.and_then(Lenient::into_text);
    let response_id = env
        .response_id
        .and_then(Lenient::into_text)
        .or_else(|| resp.request_id().map(Cow::Owned));
    match env.status {
        Some(Lenient::Bool(true)) => {
            let data = match env.data {
                Some(raw) if is_non_empty_object(raw) => raw,
                _ => return Err(odd(ctx, resp.status, "status is true but data is empty")),
            };
            Ok(Answer {
                data,
                message,
                response_id,
                http_status: resp.status,
            })
        }
        Some(Lenient::Bool(false)) => {
            let code = env.code.and_then(Lenient::into_text).map(Cow::into_owned);
            let details = ProviderDetails::new(code.clone(), message.map(Cow::into_owned))
                .with_http_status(resp.status)
                .with_request_id(response_id.map(Cow::into_owned));
            Err(provider_error(ctx, code.as_deref(), details))
        }
        _ => Err(http_failure(ctx, resp)
            .unwrap_or_else(|| odd(ctx, resp.status, "status is missing or not a boolean"))),
    }
}

/// Whether a JSON text (valid, as a [`RawValue`] is) is an object with at least one entry.
fn is_non_empty_object(raw: &RawValue) -> bool {
    match raw.get().as_bytes().split_first() {
        Some((b'{', rest)) => rest.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'}'),
        _ => false,
    }
}

/// An HTTP-level refusal without a readable envelope: 401/403 → unauthenticated, other 4xx →
/// rejected (the request was refused before it was processed).
fn http_failure(ctx: Ctx<'_>, resp: &HttpResponse) -> Option<Error> {
    let details = Box::new(resp.details(None, None));
    match resp.status {
        401 | 403 => Some(Error::Unauthenticated {
            provider: PROVIDER,
            details,
        }),
        400..=499 => Some(Error::Rejected {
            provider: PROVIDER,
            operation: ctx.op,
            details,
        }),
        _ => None,
    }
}

/// YabandPay error codes (the preauthdecrement.html table; no global table is published, so
/// the same family is assumed for every method):
///
/// | code | message | error |
/// |---|---|---|
/// | `-1000` | Internal error | [`Error::OutcomeUnknown`] for mutating calls, [`Error::Unavailable`] for reads |
/// | `-403` | The signature Error | [`Error::Unauthenticated`]: the secret key does not match the user (a configuration problem found by the server, not locally) |
/// | `-2001` | The user not exist | [`Error::Unauthenticated`] |
/// | `-3001` | Required field is missing | [`Error::Rejected`]: a bug in this crate, logged as an error |
/// | `-4118` | Incorrect request ID | [`Error::Rejected`] (a reused `request_id`: after an unknown outcome it means the first request arrived; reconcile) |
/// | `-4024` | The original trade ID is incorrect | [`Error::NotFound`] |
/// | anything else | | [`Error::Rejected`] |
pub(crate) fn provider_error(ctx: Ctx<'_>, code: Option<&str>, details: ProviderDetails) -> Error {
    let details = Box::new(details);
    match code {
        Some("-1000") if ctx.op.is_mutating() => Error::OutcomeUnknown {
            provider: PROVIDER,
            operation: ctx.op,
            reference: ctx.reference.to_owned(),
            reason: "YabandPay reported an internal error (-1000)".into(),
            source: None,
        },
        Some("-1000") => Error::Unavailable {
            provider: PROVIDER,
            operation: ctx.op,
            reason: "YabandPay reported an internal error (-1000)".into(),
            source: None,
        },
        Some("-403" | "-2001") => Error::Unauthenticated {
            provider: PROVIDER,
            details,
        },
        Some("-4024") => Error::NotFound {
            provider: PROVIDER,
            reference: ctx.reference.to_owned(),
            details,
        },
        Some("-3001") => {
            tracing::error!(
                operation = ctx.op.as_str(),
                "yabandpay says a required field is missing (-3001): a bug in preauth-yabandpay"
            );
            Error::Rejected {
                provider: PROVIDER,
                operation: ctx.op,
                details,
            }
        }
        _ => Error::Rejected {
            provider: PROVIDER,
            operation: ctx.op,
            details,
        },
    }
}

fn state_of(
    ctx: Ctx<'_>,
    http: u16,
    v: Option<&Lenient<'_>>,
) -> Result<Option<(PaymentState, String)>> {
    match v {
        None | Some(Lenient::Null) => Ok(None),
        Some(Lenient::Str(s)) if wire::is_blank(s) => Ok(None),
        Some(Lenient::Str(s)) => PaymentState::parse(s)
            .map(|st| Some((st, s.to_string())))
            .ok_or_else(|| odd(ctx, http, "unknown state")),
        Some(_) => Err(odd(ctx, http, "state is not a string")),
    }
}

/// An amount and currency of an answer, checked against the expected currency.
fn money_of(
    ctx: Ctx<'_>,
    http: u16,
    field: &str,
    amount: Option<&Lenient<'_>>,
    currency: Option<&Lenient<'_>>,
    expected: Currency,
) -> Result<Option<Money>> {
    let Some(text) = wire::amount_text(amount) else {
        return Ok(None);
    };
    let text = text.map_err(|()| odd(ctx, http, &format!("{field} is not a decimal string")))?;
    if let Some(code) = wire::text(currency)
        && !code.trim().eq_ignore_ascii_case(expected.code())
    {
        return Err(odd(
            ctx,
            http,
            &format!("the currency of {field} differs from the hold's"),
        ));
    }
    Money::parse_major(&text, expected)
        .map(Some)
        .map_err(|_| odd(ctx, http, &format!("{field} is not a valid amount")))
}

/// `data` read into `T`, in one pass over its text. A `data` object that repeats a key cannot
/// be read that way (the typed read refuses a repeated field); it is read as a map first, so
/// that the last value of a key wins as before, and then into `T` from that map's text, kept
/// in `spare`.
fn data_as<'s, T: Deserialize<'s>>(
    ctx: Ctx<'_>,
    answer: &Answer<'s>,
    spare: &'s mut Option<String>,
) -> Result<T> {
    let shape = || odd(ctx, answer.http_status, "data has an unexpected shape");
    let text = answer.data.get();
    if let Ok(t) = serde_json::from_str(text) {
        return Ok(t);
    }
    let map: Map<String, Value> = serde_json::from_str(text).map_err(|_| shape())?;
    let text = serde_json::to_string(&map).map_err(|_| shape())?;
    serde_json::from_str(spare.insert(text)).map_err(|_| shape())
}

/// The hold an authorization answered with (see the crate docs for the inferred shape).
pub(crate) fn parse_authorize(
    ctx: Ctx<'_>,
    req: &AuthorizeRequest,
    key: &IdempotencyKey,
    now: OffsetDateTime,
    answer: &Answer<'_>,
) -> Result<Hold> {
    let http = answer.http_status;
    let mut spare = None;
    let d: PaymentData<'_> = data_as(ctx, answer, &mut spare)?;
    let trade_id = wire::text(d.trade_id.as_ref())
        .ok_or_else(|| odd(ctx, http, "data.trade_id is missing"))?;
    let url = match wire::text(d.url.as_ref()) {
        Some(u) if is_web_url(&u) => Some(u),
        Some(_) => return Err(odd(ctx, http, "data.url is not an absolute http(s) URL")),
        None => None,
    };
    let state = state_of(ctx, http, d.state.as_ref())?;
    let amount = money_of(
        ctx,
        http,
        "data.amount",
        d.amount.as_ref(),
        d.currency.as_ref(),
        req.amount.currency(),
    )?
    .unwrap_or(req.amount);
    let (status, raw) = match state {
        Some((s, raw)) => (s.hold_status(), raw),
        None => (HoldStatus::Pending, String::new()),
    };
    let status = match (status, &url) {
        (HoldStatus::Pending, Some(_)) => HoldStatus::RequiresAction,
        (s, _) => s,
    };
    let mut hold =
        Hold::new(PROVIDER, trade_id, key.as_str(), status, raw, amount).with_created_at(now);
    if let PaymentMethod::Card(card) = &req.payment_method {
        let mut summary = CardSummary::new(None, Some(card.last4().to_owned()));
        summary.exp_month = Some(card.exp_month());
        summary.exp_year = Some(card.exp_year());
        hold = hold.with_card(summary);
    }
    match status {
        HoldStatus::Declined => {
            let raw = hold.raw_status.clone();
            let reason = DeclineReason::new(
                Some(raw.clone()),
                answer.message.as_deref().map(str::to_owned),
            );
            let hold = hold.with_decline(reason);
            return Err(Error::Declined {
                provider: PROVIDER,
                details: Box::new(answer.details(Some(raw))),
                hold: Some(Box::new(hold)),
            });
        }
        HoldStatus::RequiresAction => {
            if let Some(url) = url {
                hold = hold.with_next_action(NextAction::Redirect {
                    url: url.into_owned(),
                });
            }
        }
        HoldStatus::Captured => {
            hold.captured = hold.authorized;
            hold.capture_count = 1;
        }
        _ => {}
    }
    Ok(hold.with_expires_at(now + HOLD_VALIDITY))
}

/// The hold after `v3.Capture` of `amount`. The example response is cut off; the state is
/// inferred to become `paid`. An absent state is read as accepted (`status` was true).
pub(crate) fn parse_capture(
    ctx: Ctx<'_>,
    hold: &Hold,
    amount: &Money,
    answer: &Answer<'_>,
) -> Result<Hold> {
    let http = answer.http_status;
    let mut spare = None;
    let d: PaymentData<'_> = data_as(ctx, answer, &mut spare)?;
    note_other_trade(ctx, hold, d.trade_id.as_ref());
    let (status, raw) = match state_of(ctx, http, d.state.as_ref())? {
        Some((s, raw)) => (s.hold_status(), raw),
        None => (HoldStatus::Captured, String::new()),
    };
    if status != HoldStatus::Captured {
        return Err(unexpected_state(ctx, http, status));
    }
    let captured = hold
        .captured
        .checked_add(amount)
        .map_err(|_| odd(ctx, http, "captured total overflows"))?;
    let mut out = hold.clone().with_captured(captured);
    out.status = HoldStatus::Captured;
    out.raw_status = raw;
    out.capture_count = hold.capture_count.saturating_add(1);
    out.next_action = None;
    Ok(out)
}

/// The hold after `v3.PreauthDecrement` by `by`. The answer's `data.amount` is read as the
/// amount held **now** (seed 002: the example answer says `"1"` for a request reducing by
/// `"0.1"`, and the capture example then captures `"1"` on the same trade). Without it, or
/// when it is above what was held, the new amount is computed as held − `by`.
pub(crate) fn parse_decrement(
    ctx: Ctx<'_>,
    hold: &Hold,
    by: &Money,
    answer: &Answer<'_>,
) -> Result<Hold> {
    let http = answer.http_status;
    let mut spare = None;
    let d: PaymentData<'_> = data_as(ctx, answer, &mut spare)?;
    note_other_trade(ctx, hold, d.trade_id.as_ref());
    let (status, raw) = match state_of(ctx, http, d.state.as_ref())? {
        Some((s, raw)) => (s.hold_status(), raw),
        None => (HoldStatus::Authorized, String::new()),
    };
    if status != HoldStatus::Authorized {
        return Err(unexpected_state(ctx, http, status));
    }
    let currency = hold.authorized.currency();
    let computed = hold
        .authorized
        .checked_sub(by)
        .map_err(|_| odd(ctx, http, "the reduction exceeds the hold"))?;
    let reported = money_of(
        ctx,
        http,
        "data.amount",
        d.amount.as_ref(),
        d.currency.as_ref(),
        currency,
    )?;
    let now_held = match reported {
        Some(r) if r.amount() <= hold.authorized.amount() && !r.is_zero() => {
            if r != computed {
                tracing::warn!(
                    reference = ctx.reference,
                    "yabandpay decrement answer reports a held amount other than held minus the reduction; using the answer's"
                );
            }
            r
        }
        Some(_) => {
            tracing::warn!(
                reference = ctx.reference,
                "yabandpay decrement answer reports an amount above the hold; using held minus the reduction"
            );
            computed
        }
        None => computed,
    };
    let mut out = hold.clone();
    out.authorized = now_held;
    out.raw_status = raw;
    out.status = HoldStatus::Authorized;
    Ok(out)
}

/// The hold after `v3.CancelPayment` (the answer's `state` is `cancelled`).
pub(crate) fn parse_cancel(ctx: Ctx<'_>, hold: &Hold, answer: &Answer<'_>) -> Result<Hold> {
    let http = answer.http_status;
    let mut spare = None;
    let d: PaymentData<'_> = data_as(ctx, answer, &mut spare)?;
    note_other_trade(ctx, hold, d.trade_id.as_ref());
    let (status, raw) = match state_of(ctx, http, d.state.as_ref())? {
        Some((s, raw)) => (s.hold_status(), raw),
        None => (HoldStatus::Cancelled, String::new()),
    };
    if status != HoldStatus::Cancelled {
        return Err(unexpected_state(ctx, http, status));
    }
    let mut out = hold.clone();
    out.status = HoldStatus::Cancelled;
    out.raw_status = raw;
    out.next_action = None;
    Ok(out)
}

fn unexpected_state(ctx: Ctx<'_>, http: u16, status: HoldStatus) -> Error {
    odd(
        ctx,
        http,
        &format!(
            "the answer reports the hold {status}, not what {} leads to",
            ctx.op
        ),
    )
}

fn note_other_trade(ctx: Ctx<'_>, hold: &Hold, trade_id: Option<&Lenient<'_>>) {
    if let Some(t) = wire::text(trade_id)
        && t != hold.provider_reference
    {
        // The docs' own decrement example answers with another trade id than it asked about,
        // so this is logged, not refused; the hold keeps its reference.
        tracing::warn!(
            reference = ctx.reference,
            "yabandpay answer names another trade_id than the one asked about"
        );
    }
}

/// The hold `v3.QueryOrder` describes. `transaction_info.amount` is read as what is held
/// (after any decrement) while authorized, and as what was captured once `paid`.
pub(crate) fn parse_query(ctx: Ctx<'_>, reference: &HoldRef, answer: &Answer<'_>) -> Result<Hold> {
    let http = answer.http_status;
    let mut spare = None;
    let d: QueryOrderData<'_> = data_as(ctx, answer, &mut spare)?;
    let info = d
        .transaction_info
        .ok_or_else(|| odd(ctx, http, "data.transaction_info is missing"))?;
    let trade_id = wire::text(info.trade_id.as_ref())
        .map(Cow::into_owned)
        .or_else(|| reference.provider_reference.clone())
        .ok_or_else(|| odd(ctx, http, "transaction_info.trade_id is missing"))?;
    let (state, raw) = state_of(ctx, http, info.state.as_ref())?
        .ok_or_else(|| odd(ctx, http, "transaction_info.state is missing"))?;
    let code = wire::text(info.currency.as_ref())
        .ok_or_else(|| odd(ctx, http, "transaction_info.currency is missing"))?;
    let currency = Currency::from_code(code.trim()).map_err(|_| {
        odd(
            ctx,
            http,
            "transaction_info.currency is not an ISO 4217 code",
        )
    })?;
    let amount = money_of(
        ctx,
        http,
        "transaction_info.amount",
        info.amount.as_ref(),
        None,
        currency,
    )?
    .ok_or_else(|| odd(ctx, http, "transaction_info.amount is missing"))?;
    let merchant = wire::text(info.order_id.as_ref())
        .map(Cow::into_owned)
        .or_else(|| reference.merchant_reference.clone())
        .unwrap_or_default();
    let status = state.hold_status();
    let mut hold = Hold::new(PROVIDER, trade_id, merchant, status, raw, amount);
    match status {
        HoldStatus::Captured => {
            hold.captured = amount;
            hold.capture_count = 1;
        }
        HoldStatus::Refunded => {
            hold.captured = amount;
            hold.refunded = amount;
            hold.capture_count = 1;
        }
        _ => {}
    }
    match wire::text(info.created_at.as_ref()).map(|s| parse_created_at(&s)) {
        Some(Some(at)) => {
            hold = hold.with_created_at(at).with_expires_at(at + HOLD_VALIDITY);
        }
        Some(None) => {
            tracing::debug!(
                reference = ctx.reference,
                "transaction_info.created_at is not unix seconds; expiry unknown"
            );
        }
        None => {}
    }
    Ok(hold)
}

/// `created_at` as unix seconds (`"1555496062"`).
fn parse_created_at(s: &str) -> Option<OffsetDateTime> {
    let secs: i64 = s.trim().parse().ok()?;
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// The refund `v3.CreateRefund` answered with (`data.refund_id`; a `state`, when present).
pub(crate) fn parse_refund(
    ctx: Ctx<'_>,
    hold: &Hold,
    amount: &Money,
    key: &IdempotencyKey,
    answer: &Answer<'_>,
) -> Result<Refund> {
    let http = answer.http_status;
    let mut spare = None;
    let d: RefundData<'_> = data_as(ctx, answer, &mut spare)?;
    let refund_id = wire::text(d.refund_id.as_ref())
        .ok_or_else(|| odd(ctx, http, "data.refund_id is missing"))?;
    let (status, raw) = refund_state_of(ctx, http, d.state.as_ref())?
        .map_or((RefundStatus::Pending, String::new()), |(s, raw)| {
            (s.refund_status(), raw)
        });
    Ok(Refund::new(
        PROVIDER,
        refund_id,
        key.as_str(),
        hold.reference(),
        *amount,
        status,
        raw,
    ))
}

/// The refund `v3.QueryRefundOrder` describes. Its example carries no `trade_id`; the refund's
/// hold reference is filled only when the answer has one.
pub(crate) fn parse_refund_query(
    ctx: Ctx<'_>,
    refund_id: &str,
    answer: &Answer<'_>,
) -> Result<Refund> {
    let http = answer.http_status;
    let mut spare = None;
    let d: RefundData<'_> = data_as(ctx, answer, &mut spare)?;
    let (state, raw) = refund_state_of(ctx, http, d.state.as_ref())?
        .ok_or_else(|| odd(ctx, http, "data.state is missing"))?;
    let code = wire::text(d.refund_currency.as_ref())
        .ok_or_else(|| odd(ctx, http, "data.refund_currency is missing"))?;
    let currency = Currency::from_code(code.trim())
        .map_err(|_| odd(ctx, http, "data.refund_currency is not an ISO 4217 code"))?;
    let amount = money_of(
        ctx,
        http,
        "data.refund_amount",
        d.refund_amount.as_ref(),
        None,
        currency,
    )?
    .ok_or_else(|| odd(ctx, http, "data.refund_amount is missing"))?;
    let mut hold = HoldRef::default();
    hold.provider_reference = wire::text(d.trade_id.as_ref()).map(Cow::into_owned);
    let id = wire::text(d.refund_id.as_ref()).map_or_else(|| refund_id.to_owned(), Cow::into_owned);
    let merchant = wire::text(d.m_refund_id.as_ref())
        .map(Cow::into_owned)
        .unwrap_or_default();
    Ok(Refund::new(
        PROVIDER,
        id,
        merchant,
        hold,
        amount,
        state.refund_status(),
        raw,
    ))
}

fn refund_state_of(
    ctx: Ctx<'_>,
    http: u16,
    v: Option<&Lenient<'_>>,
) -> Result<Option<(RefundState, String)>> {
    match v {
        None | Some(Lenient::Null) => Ok(None),
        Some(Lenient::Str(s)) if wire::is_blank(s) => Ok(None),
        Some(Lenient::Str(s)) => RefundState::parse(s)
            .map(|st| Some((st, s.to_string())))
            .ok_or_else(|| odd(ctx, http, "unknown refund state")),
        Some(_) => Err(odd(ctx, http, "refund state is not a string")),
    }
}

/// Whether `s` is an absolute `http(s)` URL with a host, as `url::Url::parse` reads it. The
/// plain form `http(s)://name.example[/…]` (see [`plainly_web_url`]) is recognised without
/// parsing; anything else is parsed.
pub(crate) fn is_web_url(s: &str) -> bool {
    plainly_web_url(s)
        || matches!(url::Url::parse(s), Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// A sufficient (not necessary) condition for [`is_web_url`], checked without building a
/// URL: a lower-case `http://` or `https://`, a DNS name of non-empty dot-separated labels of
/// lower-case ASCII letters, digits and inner hyphens, none an IDNA `xn--` label, the last
/// starting with a letter (so not an IPv4 address), no port and no user info; then nothing,
/// or a path, query or fragment of printable ASCII other than a backslash. `url::Url::parse`
/// accepts every such string with that scheme and host (it never fails on the path, query or
/// fragment). Anything else is left to the parser.
fn plainly_web_url(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(end);
    let mut last = "";
    for label in host.split('.') {
        let plain = !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && !label.starts_with("xn--")
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !plain {
            return false;
        }
        last = label;
    }
    last.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && tail.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_state_maps() {
        use HoldStatus::*;
        for (raw, want) in [
            ("paid", Captured),
            ("00", Captured),
            ("Paid", Captured),
            ("authorized", Authorized),
            ("01", Authorized),
            ("AUTHORIZED", Authorized),
            ("pending", Pending),
            ("processing", Pending),
            ("Processing", Pending),
            ("verify", Pending),
            ("declined", Declined),
            ("failed", Declined),
            ("06", Declined),
            ("expired", Expired),
            ("07", Expired),
            ("cancelled", Cancelled),
            ("canceled", Cancelled),
            ("Cancelled", Cancelled),
            ("08", Cancelled),
            ("new", Pending),
            ("refunded", Refunded),
            ("completed", Captured),
        ] {
            assert_eq!(
                PaymentState::parse(raw).map(PaymentState::hold_status),
                Some(want),
                "{raw}"
            );
        }
        for unknown in ["", "09", "authorised", "paid!", "voided"] {
            assert_eq!(PaymentState::parse(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn plain_web_urls_are_what_the_parser_accepts() {
        let parsed = |s: &str| matches!(url::Url::parse(s), Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        for s in [
            "https://merchant.example/notify",
            "http://a",
            "https://a-b.c0.example?x=1#y",
            "https://shop.example/return?o=1&b=%zz|^`{}<>\"",
            "https://e.example#/..",
        ] {
            assert!(plainly_web_url(s), "{s}");
            assert!(parsed(s), "{s}");
        }
        for s in [
            "https://127.0.0.1/x",
            "https://1.2.3.999/",
            "http://0x7f/",
            "https://xn--zz/",
            "https://a..b/",
            "https://a./",
            "https://-a/",
            "https://A.example/",
            "https://user@a.example/",
            "https://a.example:8080/",
            "https://a.example/ b",
            "https://a.example/\\b",
            "HTTPS://a.example/",
            "https:a.example",
            "https:///a",
            "ftp://a.example/",
            "/relative",
        ] {
            assert!(!plainly_web_url(s), "{s}");
            assert_eq!(is_web_url(s), parsed(s), "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn plain_web_urls_always_parse(s in "(https?://)?[a-z0-9.\\-]{0,14}([/?#][ -~]{0,10})?") {
            if plainly_web_url(&s) {
                let parsed = url::Url::parse(&s);
                proptest::prop_assert!(
                    matches!(&parsed, Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some()),
                    "{s}: {parsed:?}"
                );
            }
        }
    }

    #[test]
    fn non_empty_objects() {
        let raw = |s: &str| serde_json::from_str::<Box<RawValue>>(s).unwrap();
        for (s, want) in [
            ("{\"a\":1}", true),
            ("{ \n\"a\":1}", true),
            ("{}", false),
            ("{ \t\r\n }", false),
            ("[1]", false),
            ("\"{x}\"", false),
            ("1", false),
        ] {
            assert_eq!(is_non_empty_object(&raw(s)), want, "{s}");
        }
    }

    #[test]
    fn a_repeated_data_key_keeps_its_last_value() {
        let resp = HttpResponse::new(
            200,
            r#"{"status":true,"code":"200","data":{"trade_id":"t-1","state":"pending","state":"authorized","trade_id":"t-2"}}"#,
        );
        let ctx = Ctx {
            op: Operation::Retrieve,
            reference: "t",
        };
        let answer = read_answer(ctx, &resp).unwrap();
        let mut spare = None;
        let d: PaymentData<'_> = data_as(ctx, &answer, &mut spare).unwrap();
        assert_eq!(wire::text(d.trade_id.as_ref()).as_deref(), Some("t-2"));
        assert_eq!(wire::text(d.state.as_ref()).as_deref(), Some("authorized"));
        assert!(spare.is_some());
    }

    #[test]
    fn every_documented_refund_state_maps() {
        use RefundStatus::*;
        for (raw, want) in [
            ("to-be-approval", Pending),
            ("20", Pending),
            ("refund pending", Pending),
            ("refund processing", Pending),
            ("refunded", Succeeded),
            ("23", Succeeded),
            ("refund failed", Failed),
            ("24", Failed),
            ("refund error", Failed),
        ] {
            assert_eq!(
                RefundState::parse(raw).map(RefundState::refund_status),
                Some(want),
                "{raw}"
            );
        }
        assert_eq!(RefundState::parse("26"), None);
    }
}
