//! The client: builds and signs each request (pure), sends it through the core
//! [`Transport`], maps the answer (pure). [`PreauthProvider`] is glue over these.

use std::fmt;
use std::sync::Arc;

use preauth_core::state::{check_cancel, check_capture, check_decrement, check_refund};
use preauth_core::transport::{HttpRequest, HttpResponse, Method};
use preauth_core::{
    AuthorizeRequest, CancelRequest, Capabilities, CaptureRequest, Clock, DecrementRequest, Error,
    ExposeSecret, Hold, HoldRef, IdempotencyKey, KeyGenerator, Money, Notification, Operation,
    PreauthProvider, RandomKeys, Refund, RefundRequest, Result, SystemClock, Transport, WebhookAck,
    WebhookRequest, async_trait,
};
use time::OffsetDateTime;

use crate::PROVIDER;
use crate::config::YabandPayConfig;
use crate::convert::{self, Ctx, HOLD_VALIDITY};
use crate::sign;
use crate::wire::{Fields, RequestEnvelope, method};

/// The YabandPay client. Cheap to clone.
///
/// ```no_run
/// use preauth_yabandpay::{YabandPay, YabandPayConfig};
///
/// let client = YabandPay::new(YabandPayConfig::from_env()?)?;
/// # Ok::<(), preauth_core::Error>(())
/// ```
#[derive(Clone)]
pub struct YabandPay {
    config: Arc<YabandPayConfig>,
    /// `config.endpoint()`, worked out once.
    endpoint: Arc<str>,
    transport: Transport,
    clock: Arc<dyn Clock>,
    keys: Arc<dyn KeyGenerator>,
}

impl fmt::Debug for YabandPay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YabandPay")
            .field("config", &self.config)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

/// A request built and signed, ready to send, with what its answer is mapped against.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The signed request.
    pub request: HttpRequest,
    /// The key it carries (`request_id` / `m_refund_id`), when it has one.
    pub key: Option<IdempotencyKey>,
    /// The `time` it was signed at.
    pub now: OffsetDateTime,
}

impl YabandPay {
    /// A client for `config` (validated), with the default transport, the system clock and
    /// random keys.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration or when the HTTP client cannot start.
    pub fn new(config: YabandPayConfig) -> Result<Self> {
        config.validate()?;
        let transport = Transport::shared()?.for_provider(PROVIDER);
        Ok(YabandPay {
            endpoint: config.endpoint().into(),
            config: Arc::new(config),
            transport,
            clock: Arc::new(SystemClock),
            keys: Arc::new(RandomKeys),
        })
    }

    /// Uses `transport` (its pool and timeouts), labelled for this provider.
    #[must_use]
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport.for_provider(PROVIDER);
        self
    }

    /// Uses `clock` for request `time`s, expiry and pre-flight checks.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `keys` for idempotency keys the caller does not give.
    #[must_use]
    pub fn with_keys(mut self, keys: Arc<dyn KeyGenerator>) -> Self {
        self.keys = keys;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &YabandPayConfig {
        &self.config
    }

    /// What YabandPay offers: partial capture (one capture per hold), decrement, cancel of
    /// unpaid and authorized orders, partial refunds, 3-D Secure, signed notifications, and a
    /// 30-day hold. Authorization is not idempotent (a re-sent `request_id` is refused, not
    /// answered with the original) and holds cannot be looked up by the merchant's reference
    /// (`v3.QueryOrder` needs the `trade_id`).
    pub const CAPABILITIES: Capabilities = Capabilities::none()
        .with_partial_capture(true)
        .with_multiple_captures(false)
        .with_decrement(true)
        .with_cancel_pending(true)
        .with_refund(true)
        .with_partial_refund(true)
        .with_lookup_by_merchant_reference(false)
        .with_authorize_idempotent(false)
        .with_webhook_verification(true)
        .with_three_ds(true)
        .with_hold_validity(Some(HOLD_VALIDITY));

    fn key(&self, given: Option<&IdempotencyKey>) -> IdempotencyKey {
        given.cloned().unwrap_or_else(|| self.keys.next_key())
    }

    /// Signs `data` for `method` at `now` and wraps it into one POST to `{base}/Payments`;
    /// the body is serialized once and the signature is over exactly its values.
    fn envelope(
        &self,
        method: &str,
        data: &Fields<'_>,
        now: OffsetDateTime,
        op: Operation,
        reference: &str,
    ) -> Result<HttpRequest> {
        let time = now.unix_timestamp();
        let signature = sign::sign_request(
            self.config.secret_key.expose_secret().as_bytes(),
            &self.config.user,
            method,
            time,
            data.pairs(),
        );
        let env = RequestEnvelope {
            user: &self.config.user,
            sign: &signature,
            method,
            time,
            data,
        };
        // Room for the values, their keys and quotes, and the envelope around them (a value
        // with characters to escape makes it grow).
        let mut body = Vec::with_capacity(
            data.text_len() + 8 * data.len() + self.config.user.len() + method.len() + 128,
        );
        serde_json::to_writer(&mut body, &env)
            .map_err(|_| Error::invalid_request("the request body cannot be encoded"))?;
        Ok(
            HttpRequest::new(Method::Post, &*self.endpoint, op, reference)
                .body("application/json", body),
        )
    }

    async fn send(&self, prepared: &Prepared) -> Result<HttpResponse> {
        self.transport.send(&prepared.request).await
    }

    /// Builds the signed `v3.CreateCardPayments` request (operation 2) after the local checks.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] / [`Error::Unsupported`]; nothing is sent.
    #[doc(hidden)]
    pub fn build_authorize(&self, req: &AuthorizeRequest) -> Result<Prepared> {
        let key = self.key(req.idempotency_key.as_ref());
        let now = self.clock.now();
        let data = convert::authorize_fields(&self.config, req, &key)?;
        let request = self.envelope(
            method::CREATE_CARD_PAYMENTS,
            &data,
            now,
            Operation::Authorize,
            key.as_str(),
        )?;
        Ok(Prepared {
            request,
            key: Some(key),
            now,
        })
    }

    /// Maps the answer to [`build_authorize`](Self::build_authorize).
    ///
    /// # Errors
    /// [`Error::Declined`] with the declined hold; the provider's errors; an unreadable answer
    /// is [`Error::OutcomeUnknown`] naming the key.
    #[doc(hidden)]
    pub fn parse_authorize(
        &self,
        req: &AuthorizeRequest,
        prepared: &Prepared,
        resp: &HttpResponse,
    ) -> Result<Hold> {
        let key = prepared_key(prepared)?;
        let ctx = Ctx {
            op: Operation::Authorize,
            reference: key.as_str(),
        };
        let answer = convert::read_answer(ctx, resp)?;
        convert::parse_authorize(ctx, req, key, prepared.now, &answer)
    }

    /// The amount a capture takes: the request's, or everything that remains.
    fn capture_amount(req: &CaptureRequest) -> Result<Money> {
        match req.amount {
            Some(a) => Ok(a),
            None => Ok(req.hold.capturable()?),
        }
    }

    /// Builds the signed `v3.Capture` request after the pre-flight checks (one capture per
    /// hold, amount ≤ held, same currency, within 30 days).
    ///
    /// # Errors
    /// [`Error::InvalidState`], [`Error::InvalidRequest`]; nothing is sent.
    #[doc(hidden)]
    pub fn build_capture(&self, req: &CaptureRequest) -> Result<Prepared> {
        let now = self.clock.now();
        check_capture(
            PROVIDER,
            &Self::CAPABILITIES,
            &req.hold,
            req.amount.as_ref(),
            now,
        )?;
        let amount = Self::capture_amount(req)?;
        let notify_url = convert::config_notify_url(&self.config, Operation::Capture)?;
        let key = self.key(req.idempotency_key.as_ref());
        let data = convert::capture_fields(
            &req.hold,
            &amount,
            req.description.as_deref(),
            notify_url,
            &key,
        );
        let request = self.envelope(
            method::CAPTURE,
            &data,
            now,
            Operation::Capture,
            &req.hold.provider_reference,
        )?;
        Ok(Prepared {
            request,
            key: Some(key),
            now,
        })
    }

    /// Maps the answer to [`build_capture`](Self::build_capture).
    ///
    /// # Errors
    /// The provider's errors; an unreadable answer is [`Error::OutcomeUnknown`].
    #[doc(hidden)]
    pub fn parse_capture(&self, req: &CaptureRequest, resp: &HttpResponse) -> Result<Hold> {
        let ctx = Ctx {
            op: Operation::Capture,
            reference: &req.hold.provider_reference,
        };
        let amount = Self::capture_amount(req)?;
        let answer = convert::read_answer(ctx, resp)?;
        convert::parse_capture(ctx, &req.hold, &amount, &answer)
    }

    /// Builds the signed `v3.PreauthDecrement` request after the pre-flight checks (what
    /// remains held stays above zero). `amount` is the reduction.
    ///
    /// # Errors
    /// [`Error::InvalidState`], [`Error::InvalidRequest`]; nothing is sent.
    #[doc(hidden)]
    pub fn build_decrement(&self, req: &DecrementRequest) -> Result<Prepared> {
        let now = self.clock.now();
        check_decrement(PROVIDER, &Self::CAPABILITIES, &req.hold, &req.by, now)?;
        let notify_url = convert::config_notify_url(&self.config, Operation::Decrement)?;
        let key = self.key(req.idempotency_key.as_ref());
        let data = convert::decrement_fields(
            &req.hold,
            &req.by,
            req.description.as_deref(),
            notify_url,
            &key,
        );
        let request = self.envelope(
            method::PREAUTH_DECREMENT,
            &data,
            now,
            Operation::Decrement,
            &req.hold.provider_reference,
        )?;
        Ok(Prepared {
            request,
            key: Some(key),
            now,
        })
    }

    /// Maps the answer to [`build_decrement`](Self::build_decrement).
    ///
    /// # Errors
    /// The provider's errors; an unreadable answer is [`Error::OutcomeUnknown`].
    #[doc(hidden)]
    pub fn parse_decrement(&self, req: &DecrementRequest, resp: &HttpResponse) -> Result<Hold> {
        let ctx = Ctx {
            op: Operation::Decrement,
            reference: &req.hold.provider_reference,
        };
        let answer = convert::read_answer(ctx, resp)?;
        convert::parse_decrement(ctx, &req.hold, &req.by, &answer)
    }

    /// Builds the signed `v3.CancelPayment` request after the pre-flight checks.
    ///
    /// # Errors
    /// [`Error::InvalidState`]; nothing is sent.
    #[doc(hidden)]
    pub fn build_cancel(&self, req: &CancelRequest) -> Result<Prepared> {
        let now = self.clock.now();
        check_cancel(&Self::CAPABILITIES, &req.hold, now)?;
        let data = convert::trade_fields(&req.hold.provider_reference);
        let request = self.envelope(
            method::CANCEL_PAYMENT,
            &data,
            now,
            Operation::Cancel,
            &req.hold.provider_reference,
        )?;
        Ok(Prepared {
            request,
            key: None,
            now,
        })
    }

    /// Maps the answer to [`build_cancel`](Self::build_cancel).
    ///
    /// # Errors
    /// The provider's errors; an unreadable answer is [`Error::OutcomeUnknown`].
    #[doc(hidden)]
    pub fn parse_cancel(&self, req: &CancelRequest, resp: &HttpResponse) -> Result<Hold> {
        let ctx = Ctx {
            op: Operation::Cancel,
            reference: &req.hold.provider_reference,
        };
        let answer = convert::read_answer(ctx, resp)?;
        convert::parse_cancel(ctx, &req.hold, &answer)
    }

    /// Builds the signed `v3.QueryOrder` request. Needs the `trade_id`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a merchant-reference-only lookup; nothing is sent.
    #[doc(hidden)]
    pub fn build_retrieve(&self, hold: &HoldRef) -> Result<Prepared> {
        let trade_id = trade_id_of(hold)?;
        let now = self.clock.now();
        let data = convert::trade_fields(trade_id);
        let request = self.envelope(
            method::QUERY_ORDER,
            &data,
            now,
            Operation::Retrieve,
            trade_id,
        )?;
        Ok(Prepared {
            request,
            key: None,
            now,
        })
    }

    /// Maps the answer to [`build_retrieve`](Self::build_retrieve).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown `trade_id` (`-4024`); [`Error::Protocol`] for an
    /// unreadable answer.
    #[doc(hidden)]
    pub fn parse_retrieve(&self, hold: &HoldRef, resp: &HttpResponse) -> Result<Hold> {
        let ctx = Ctx {
            op: Operation::Retrieve,
            reference: hold.display_reference(),
        };
        let answer = convert::read_answer(ctx, resp)?;
        convert::parse_query(ctx, hold, &answer)
    }

    /// The amount a refund gives back: the request's, or everything refundable.
    fn refund_amount(req: &RefundRequest) -> Result<Money> {
        match req.amount {
            Some(a) => Ok(a),
            None => Ok(req.hold.refundable()?),
        }
    }

    /// Builds the signed `v3.CreateRefund` request after the pre-flight checks;
    /// `m_refund_id` is the refund's key.
    ///
    /// # Errors
    /// [`Error::InvalidState`], [`Error::InvalidRequest`]; nothing is sent.
    #[doc(hidden)]
    pub fn build_refund(&self, req: &RefundRequest) -> Result<Prepared> {
        check_refund(
            PROVIDER,
            &Self::CAPABILITIES,
            &req.hold,
            req.amount.as_ref(),
        )?;
        let amount = Self::refund_amount(req)?;
        let now = self.clock.now();
        let key = self.key(req.idempotency_key.as_ref());
        let data = convert::refund_fields(
            &req.hold,
            &amount,
            req.description.as_deref(),
            self.config.notify_url.as_deref(),
            &key,
        );
        let request = self.envelope(
            method::CREATE_REFUND,
            &data,
            now,
            Operation::Refund,
            &req.hold.provider_reference,
        )?;
        Ok(Prepared {
            request,
            key: Some(key),
            now,
        })
    }

    /// Maps the answer to [`build_refund`](Self::build_refund).
    ///
    /// # Errors
    /// The provider's errors; an unreadable answer is [`Error::OutcomeUnknown`].
    #[doc(hidden)]
    pub fn parse_refund(
        &self,
        req: &RefundRequest,
        prepared: &Prepared,
        resp: &HttpResponse,
    ) -> Result<Refund> {
        let ctx = Ctx {
            op: Operation::Refund,
            reference: &req.hold.provider_reference,
        };
        let amount = Self::refund_amount(req)?;
        let key = prepared_key(prepared)?;
        let answer = convert::read_answer(ctx, resp)?;
        convert::parse_refund(ctx, &req.hold, &amount, key, &answer)
    }

    /// Builds the signed `v3.QueryRefundOrder` request.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty refund id; nothing is sent.
    #[doc(hidden)]
    pub fn build_retrieve_refund(&self, refund_id: &str) -> Result<Prepared> {
        if refund_id.trim().is_empty() {
            return Err(Error::invalid_request("refund id is empty"));
        }
        let now = self.clock.now();
        let data = convert::refund_query_fields(refund_id);
        let request = self.envelope(
            method::QUERY_REFUND_ORDER,
            &data,
            now,
            Operation::RetrieveRefund,
            refund_id,
        )?;
        Ok(Prepared {
            request,
            key: None,
            now,
        })
    }

    /// Maps the answer to [`build_retrieve_refund`](Self::build_retrieve_refund).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Protocol`].
    #[doc(hidden)]
    pub fn parse_retrieve_refund(&self, refund_id: &str, resp: &HttpResponse) -> Result<Refund> {
        let ctx = Ctx {
            op: Operation::RetrieveRefund,
            reference: refund_id,
        };
        let answer = convert::read_answer(ctx, resp)?;
        convert::parse_refund_query(ctx, refund_id, &answer)
    }

    /// Reads a refund's state with `v3.QueryRefundOrder` (refund states 20–22 pending, 23
    /// succeeded, 24–25 failed). The answer carries no `trade_id` in the docs' example, so the
    /// returned refund's hold reference is filled only when YabandPay sends one.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown refund; [`Error::Protocol`] for an unreadable answer;
    /// transport errors.
    pub async fn retrieve_refund(&self, refund_id: &str) -> Result<Refund> {
        let prepared = self.build_retrieve_refund(refund_id)?;
        let resp = self.send(&prepared).await?;
        self.parse_retrieve_refund(refund_id, &resp)
    }
}

fn prepared_key(prepared: &Prepared) -> Result<&IdempotencyKey> {
    prepared
        .key
        .as_ref()
        .ok_or_else(|| Error::invalid_request("prepared request carries no key"))
}

fn trade_id_of(hold: &HoldRef) -> Result<&str> {
    match hold.provider_reference.as_deref() {
        Some(t) if !t.trim().is_empty() => Ok(t),
        _ => match &hold.merchant_reference {
            Some(m) => Err(Error::unsupported(
                PROVIDER,
                Operation::Retrieve,
                format!(
                    "v3.QueryOrder needs the trade_id; holds cannot be looked up by merchant reference {m}"
                ),
            )),
            None => Err(Error::invalid_request("the hold reference has no trade_id")),
        },
    }
}

#[async_trait]
impl PreauthProvider for YabandPay {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Self::CAPABILITIES
    }

    async fn authorize(&self, req: AuthorizeRequest) -> Result<Hold> {
        let prepared = self.build_authorize(&req)?;
        let resp = self.send(&prepared).await?;
        self.parse_authorize(&req, &prepared, &resp)
    }

    async fn capture(&self, req: CaptureRequest) -> Result<Hold> {
        let prepared = self.build_capture(&req)?;
        let resp = self.send(&prepared).await?;
        self.parse_capture(&req, &resp)
    }

    async fn cancel(&self, req: CancelRequest) -> Result<Hold> {
        let prepared = self.build_cancel(&req)?;
        let resp = self.send(&prepared).await?;
        self.parse_cancel(&req, &resp)
    }

    async fn decrement(&self, req: DecrementRequest) -> Result<Hold> {
        let prepared = self.build_decrement(&req)?;
        let resp = self.send(&prepared).await?;
        self.parse_decrement(&req, &resp)
    }

    async fn retrieve(&self, hold: &HoldRef) -> Result<Hold> {
        let prepared = self.build_retrieve(hold)?;
        let resp = self.send(&prepared).await?;
        self.parse_retrieve(hold, &resp)
    }

    async fn refund(&self, req: RefundRequest) -> Result<Refund> {
        let prepared = self.build_refund(&req)?;
        let resp = self.send(&prepared).await?;
        self.parse_refund(&req, &prepared, &resp)
    }

    fn verify_webhook(&self, req: &WebhookRequest<'_>) -> Result<Notification> {
        crate::webhook::verify(self.config.secret_key.expose_secret().as_bytes(), req)
    }

    fn webhook_ack(&self, notification: &Notification) -> WebhookAck {
        crate::webhook::ack(notification)
    }
}
