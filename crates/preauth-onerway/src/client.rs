//! The Onerway client: builds and signs requests, sends them through the shared
//! [`Transport`], and maps the answers. The `build_*` and `parse_*` methods are pure (no
//! I/O), so tests and benchmarks can call them without a network.

use std::fmt;
use std::sync::Arc;

use preauth_core::transport::{HttpRequest, HttpResponse, Method};
use preauth_core::webhook::{Notification, WebhookAck, WebhookRequest};
use preauth_core::{
    AuthorizeRequest, CancelRequest, Capabilities, CaptureRequest, Clock, Error, Hold, HoldRef,
    IdempotencyKey, KeyGenerator, Money, Operation, PreauthProvider, ProviderDetails, RandomKeys,
    Refund, RefundRequest, RefundStatus, Result, SystemClock, Transport, async_trait, state,
};

use crate::PROVIDER;
use crate::config::OnerwayConfig;
use crate::convert::{
    self, CAPTURE_SUFFIX, FollowUp, HOLD_VALIDITY, ListBy, PATH_AUTH_PAYMENT, PATH_LIST,
    PATH_REFUND, PATH_TRANSACTION, Params, TxnKind, TxnStatus, VOID_SUFFIX,
};
use crate::webhook;
use crate::wire::TxnInfo;

/// What Onerway can do, truthfully:
///
/// - capture: **full amount only**, once, within 3 days;
/// - cancel (void) an authorized hold, not a pending one;
/// - no decrement;
/// - refunds, partial ones too (they go through Onerway's audit: pending at first);
/// - holds can be found by the merchant's reference (`/v1/txn/list` by `merchantTxnIds`);
/// - a re-sent `merchantTxnId` is refused, not deduplicated: authorize is not idempotent;
/// - signed notifications; 3-D Secure by redirect.
pub const CAPABILITIES: Capabilities = Capabilities::none()
    .with_partial_capture(false)
    .with_multiple_captures(false)
    .with_decrement(false)
    .with_cancel_pending(false)
    .with_refund(true)
    .with_partial_refund(true)
    .with_lookup_by_merchant_reference(true)
    .with_authorize_idempotent(false)
    .with_webhook_verification(true)
    .with_three_ds(true)
    .with_hold_validity(Some(HOLD_VALIDITY));

/// An Onerway merchant account. Cheap to clone; share one [`Transport`] between providers.
#[derive(Clone)]
pub struct Onerway {
    config: Arc<OnerwayConfig>,
    transport: Transport,
    clock: Arc<dyn Clock>,
    keys: Arc<dyn KeyGenerator>,
}

impl fmt::Debug for Onerway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Onerway")
            .field("config", &self.config)
            .field("transport", &self.transport)
            .field("clock", &self.clock)
            .field("keys", &self.keys)
            .finish()
    }
}

impl Onerway {
    /// A client for `config` (validated), with a default [`Transport`], the system clock and
    /// random keys.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid or the HTTP client cannot be built.
    pub fn new(config: OnerwayConfig) -> Result<Self> {
        config.validate()?;
        Ok(Onerway {
            config: Arc::new(config),
            transport: Transport::shared()?.for_provider(PROVIDER),
            clock: Arc::new(SystemClock),
            keys: Arc::new(RandomKeys),
        })
    }

    /// Uses `transport` (its connection pool and timeouts).
    #[must_use]
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport.for_provider(PROVIDER);
        self
    }

    /// Uses `clock` for `merchantTxnTime`, pre-flight expiry checks and derived expiry.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `keys` for the `merchantTxnId`s the caller does not give.
    #[must_use]
    pub fn with_keys(mut self, keys: Arc<dyn KeyGenerator>) -> Self {
        self.keys = keys;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &OnerwayConfig {
        &self.config
    }

    fn request(
        &self,
        op: Operation,
        path: &str,
        reference: &str,
        params: Params<'_>,
    ) -> Result<HttpRequest> {
        let body = convert::signed_body(params, &self.config.secret_key)?;
        let base = self.config.base_url();
        let mut url = String::with_capacity(base.len() + path.len());
        url.push_str(base);
        url.push_str(path);
        // Exactly `application/json`: the docs call `; charset=UTF-8` wrong.
        Ok(HttpRequest::new(Method::Post, url, op, reference).body("application/json", body))
    }

    /// The key an authorization uses: the request's, or a fresh one.
    pub fn authorize_key(&self, req: &AuthorizeRequest) -> IdempotencyKey {
        req.idempotency_key
            .clone()
            .unwrap_or_else(|| self.keys.next_key())
    }

    /// The signed `POST /v1/txn/doTransaction` (`txnType: AUTH`) for `req`, with
    /// `merchantTxnId = key` and `merchantTxnTime` from the clock. Not replayed automatically:
    /// Onerway refuses a re-sent `merchantTxnId` instead of deduplicating it.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] or [`Error::Unsupported`]; nothing is sent.
    pub fn build_authorize(
        &self,
        req: &AuthorizeRequest,
        key: &IdempotencyKey,
    ) -> Result<HttpRequest> {
        let params = convert::authorize_params(&self.config, req, key.as_str(), self.clock.now())?;
        self.request(Operation::Authorize, PATH_TRANSACTION, key.as_str(), params)
    }

    /// Maps the answer to [`build_authorize`](Self::build_authorize).
    ///
    /// # Errors
    /// [`Error::Declined`] with the declined hold; [`Error::Rejected`] when Onerway refused the
    /// request; [`Error::OutcomeUnknown`] (reference: the key) when the answer cannot be read.
    pub fn parse_authorize(
        &self,
        req: &AuthorizeRequest,
        key: &IdempotencyKey,
        resp: &HttpResponse,
    ) -> Result<Hold> {
        convert::authorize_outcome(&self.config, req, key.as_str(), resp, self.clock.now())
            .map_err(|e| convert::unknown_if_unreadable(e, resp, key.as_str()))
    }

    fn follow_up_key(
        &self,
        given: Option<&IdempotencyKey>,
        hold: &Hold,
        suffix: &str,
    ) -> Result<String> {
        if let Some(k) = given {
            return Ok(k.as_str().to_owned());
        }
        convert::derived_key(&hold.merchant_reference, suffix).ok_or_else(|| {
            Error::invalid_request(format!(
                "cannot derive a merchantTxnId from the hold's merchant reference; \
                 give the {suffix} an idempotency key"
            ))
        })
    }

    fn check_reference(op: Operation, hold: &Hold) -> Result<()> {
        if hold.provider_reference.is_empty() {
            return Err(Error::InvalidState {
                operation: op,
                status: hold.status,
                message: "the hold has no Onerway transactionId".into(),
            });
        }
        Ok(())
    }

    /// The pre-flight checks and the signed `POST /v1/txn/authPayment` (`txnType: CAPTURE`)
    /// for `req`. The `merchantTxnId` is the request's key, or `{hold key}-capture` so that
    /// [`retrieve`](PreauthProvider::retrieve) can find the capture.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a partial capture, [`Error::InvalidState`] per the state
    /// table; nothing is sent.
    pub fn build_capture(&self, req: &CaptureRequest) -> Result<HttpRequest> {
        state::check_capture(
            PROVIDER,
            &CAPABILITIES,
            &req.hold,
            req.amount.as_ref(),
            self.clock.now(),
        )?;
        Self::check_reference(Operation::Capture, &req.hold)?;
        let key = self.follow_up_key(req.idempotency_key.as_ref(), &req.hold, CAPTURE_SUFFIX)?;
        let params = convert::auth_payment_params(
            &self.config,
            "CAPTURE",
            &key,
            &req.hold.provider_reference,
        );
        self.request(
            Operation::Capture,
            PATH_AUTH_PAYMENT,
            &req.hold.provider_reference,
            params,
        )
    }

    /// Maps the answer to [`build_capture`](Self::build_capture).
    ///
    /// # Errors
    /// [`Error::Rejected`] when Onerway refused or failed the capture;
    /// [`Error::OutcomeUnknown`] when the answer cannot be read or the capture is not final.
    pub fn parse_capture(&self, hold: &Hold, resp: &HttpResponse) -> Result<Hold> {
        convert::auth_payment_outcome(Operation::Capture, hold, resp)
            .map_err(|e| convert::unknown_if_unreadable(e, resp, &hold.provider_reference))
    }

    /// The pre-flight checks and the signed `POST /v1/txn/authPayment` (`txnType: VOID`).
    /// The `merchantTxnId` is the request's key, or `{hold key}-void`.
    ///
    /// # Errors
    /// [`Error::InvalidState`] per the state table; nothing is sent.
    pub fn build_cancel(&self, req: &CancelRequest) -> Result<HttpRequest> {
        state::check_cancel(&CAPABILITIES, &req.hold, self.clock.now())?;
        Self::check_reference(Operation::Cancel, &req.hold)?;
        let key = self.follow_up_key(req.idempotency_key.as_ref(), &req.hold, VOID_SUFFIX)?;
        let params =
            convert::auth_payment_params(&self.config, "VOID", &key, &req.hold.provider_reference);
        self.request(
            Operation::Cancel,
            PATH_AUTH_PAYMENT,
            &req.hold.provider_reference,
            params,
        )
    }

    /// Maps the answer to [`build_cancel`](Self::build_cancel).
    ///
    /// # Errors
    /// As [`parse_capture`](Self::parse_capture).
    pub fn parse_cancel(&self, hold: &Hold, resp: &HttpResponse) -> Result<Hold> {
        convert::auth_payment_outcome(Operation::Cancel, hold, resp)
            .map_err(|e| convert::unknown_if_unreadable(e, resp, &hold.provider_reference))
    }

    /// The amount a refund request refunds: the given one, or all that is refundable.
    fn refund_amount(req: &RefundRequest) -> Result<Money> {
        match req.amount {
            Some(a) => Ok(a),
            None => req
                .hold
                .refundable()
                .map_err(|e| Error::invalid_request(e.to_string())),
        }
    }

    /// The pre-flight checks and the signed `POST /v1/txn/onlineRefund` (`refundType: "0"`)
    /// against the capture's transaction (`hold.capture_reference`), with
    /// `merchantTxnId = key`.
    ///
    /// # Errors
    /// [`Error::InvalidState`] or [`Error::InvalidRequest`] (no capture reference); nothing is
    /// sent.
    pub fn build_refund(&self, req: &RefundRequest, key: &IdempotencyKey) -> Result<HttpRequest> {
        state::check_refund(PROVIDER, &CAPABILITIES, &req.hold, req.amount.as_ref())?;
        let origin = req.hold.capture_reference.as_deref().ok_or_else(|| {
            Error::invalid_request(
                "the hold has no capture_reference (the capture's transactionId); retrieve it first",
            )
        })?;
        let amount = Self::refund_amount(req)?;
        let params = convert::refund_params(&self.config, key.as_str(), origin, &amount);
        self.request(
            Operation::Refund,
            PATH_REFUND,
            &req.hold.provider_reference,
            params,
        )
    }

    /// Maps the answer to [`build_refund`](Self::build_refund): Onerway audits every refund,
    /// so an accepted one is [`RefundStatus::Pending`].
    ///
    /// # Errors
    /// [`Error::Rejected`] when Onerway refused it; [`Error::OutcomeUnknown`] when the answer
    /// cannot be read.
    pub fn parse_refund(
        &self,
        req: &RefundRequest,
        key: &IdempotencyKey,
        resp: &HttpResponse,
    ) -> Result<Refund> {
        let id = convert::refund_outcome(resp)
            .map_err(|e| convert::unknown_if_unreadable(e, resp, &req.hold.provider_reference))?;
        Ok(Refund::new(
            PROVIDER,
            id,
            key.as_str(),
            req.hold.reference(),
            Self::refund_amount(req)?,
            RefundStatus::Pending,
            convert::SUCCESS,
        ))
    }

    /// A refused refund whose `merchantTxnId` a transaction has: that refund, when it is one
    /// against this hold's capture.
    fn refund_found(
        &self,
        req: &RefundRequest,
        key: &IdempotencyKey,
        txn: TxnInfo<'static>,
        refused: Error,
    ) -> Result<Refund> {
        let op = Operation::Refund;
        let kind = TxnKind::parse(txn.txn_type.as_deref());
        let same_capture = match (&txn.origin_transaction_id, &req.hold.capture_reference) {
            (Some(o), Some(c)) => o == c,
            (None, _) => true,
            (Some(_), None) => false,
        };
        let status = txn.status.as_deref().and_then(TxnStatus::parse);
        let (Some(id), Some(status), true, true) = (
            txn.transaction_id.clone(),
            status,
            matches!(kind, TxnKind::Refund | TxnKind::Other),
            same_capture,
        ) else {
            return Err(refused);
        };
        let refund_status = match convert::meaning(status).1 {
            FollowUp::Done => RefundStatus::Succeeded,
            FollowUp::InFlight => RefundStatus::Pending,
            FollowUp::Failed => return Err(refused),
        };
        let amount = match (&txn.order_amount, &txn.order_currency) {
            (Some(a), Some(c)) => convert::parse_money(op, Some(a), Some(c))?,
            _ => Self::refund_amount(req)?,
        };
        tracing::info!(
            operation = op.as_str(),
            "onerway refused a re-sent merchantTxnId whose first request took effect"
        );
        Ok(Refund::new(
            PROVIDER,
            id,
            key.as_str(),
            req.hold.reference(),
            amount,
            refund_status,
            txn.status.unwrap_or_default(),
        ))
    }

    /// The signed `POST /v1/txn/list` that finds a hold: by `merchantTxnIds` (the key and the
    /// derived capture and void keys) when the merchant reference is known, else by
    /// `transactionIds`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a reference with neither id.
    pub fn build_retrieve(&self, hold: &HoldRef) -> Result<HttpRequest> {
        let by = match (&hold.merchant_reference, &hold.provider_reference) {
            (Some(m), _) => ListBy::MerchantTxnIds(Self::family(m)),
            (None, Some(p)) => ListBy::TransactionIds(vec![p.clone()]),
            (None, None) => {
                return Err(Error::invalid_request(
                    "a hold reference needs a provider or a merchant reference",
                ));
            }
        };
        self.list_request(hold, &by)
    }

    fn list_request(&self, hold: &HoldRef, by: &ListBy) -> Result<HttpRequest> {
        self.request(
            Operation::Retrieve,
            PATH_LIST,
            hold.display_reference(),
            convert::list_params(&self.config, by),
        )
    }

    /// The signed `POST /v1/txn/list` that finds the transaction whose `merchantTxnId` is
    /// `key` (what a refused mutating request is checked against).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the body cannot be serialized (never for a key).
    pub fn build_lookup(&self, key: &str) -> Result<HttpRequest> {
        self.request(
            Operation::Retrieve,
            PATH_LIST,
            key,
            convert::list_params(&self.config, &ListBy::MerchantTxnIds(vec![key.to_owned()])),
        )
    }

    /// The transaction whose `merchantTxnId` is `key`, if Onerway has one.
    async fn lookup(&self, key: &str) -> Result<Option<TxnInfo<'static>>> {
        let resp = self.send(&self.build_lookup(key)?).await?;
        Ok(convert::list_outcome(&resp)?
            .into_iter()
            .find(|t| t.merchant_txn_id.as_deref() == Some(key))
            .map(TxnInfo::into_owned))
    }

    /// Onerway refused a mutating request whose `merchantTxnId` is `key`. It refuses a
    /// `merchantTxnId` that was used before instead of deduplicating it, so the refusal may be
    /// of a re-sent request whose first copy **did** take effect (it was still in flight when
    /// the caller reconciled, or its answer was lost). Looks the key up once:
    ///
    /// - no transaction has it: the refusal stands ([`Error::Rejected`]: nothing happened);
    /// - one has it: `found` decides (the operation took effect, or is reported as unknown);
    /// - the lookup itself fails: [`Error::OutcomeUnknown`] naming `reference`, never a
    ///   refusal that might be wrong; a lookup refused too (credentials, signature) leaves
    ///   the refusal as it is.
    async fn after_refusal<T>(
        &self,
        op: Operation,
        reference: &str,
        key: &str,
        refused: Error,
        found: impl FnOnce(TxnInfo<'static>, Error) -> Result<T>,
    ) -> Result<T> {
        match self.lookup(key).await {
            Ok(Some(txn)) => found(txn, refused),
            Ok(None) | Err(Error::Rejected { .. } | Error::Unauthenticated { .. }) => Err(refused),
            Err(e) => Err(Error::OutcomeUnknown {
                provider: PROVIDER,
                operation: op,
                reference: reference.to_owned(),
                reason: format!(
                    "onerway refused the {op} ({}), and whether an earlier request with \
                     merchantTxnId {key} took effect could not be checked ({e})",
                    refusal_details(&refused)
                ),
                source: Some(Box::new(refused)),
            }),
        }
    }

    /// A refused CAPTURE or VOID: the transaction found with its `merchantTxnId` is the
    /// operation, when it belongs to this hold.
    async fn follow_up_after_refusal(
        &self,
        op: Operation,
        hold: &Hold,
        key: &str,
        refused: Error,
    ) -> Result<Hold> {
        self.after_refusal(
            op,
            &hold.provider_reference,
            key,
            refused,
            |txn, refused| {
                let kind = TxnKind::parse(txn.txn_type.as_deref());
                let expected = if op == Operation::Capture {
                    TxnKind::Capture
                } else {
                    TxnKind::Void
                };
                let ours = matches!(kind, TxnKind::Other) || kind == expected;
                let same_hold = txn
                    .origin_transaction_id
                    .as_deref()
                    .is_none_or(|o| o == hold.provider_reference);
                if !(ours && same_hold) {
                    // The key names another transaction: the refusal is about this request.
                    return Err(refused);
                }
                match convert::follow_up_outcome(op, hold, txn, |_| ProviderDetails::default()) {
                    // It failed then, and this copy was refused: nothing took effect.
                    Err(Error::Rejected { .. }) => Err(refused),
                    Ok(next) => {
                        tracing::info!(
                            operation = op.as_str(),
                            "onerway refused a re-sent merchantTxnId whose first request took effect"
                        );
                        Ok(next)
                    }
                    other => other,
                }
            },
        )
        .await
    }

    /// The authorization key and the follow-up keys derived from it.
    fn family(key: &str) -> Vec<String> {
        std::iter::once(key.to_owned())
            .chain(convert::derived_key(key, CAPTURE_SUFFIX))
            .chain(convert::derived_key(key, VOID_SUFFIX))
            .collect()
    }

    /// Maps query answers (one or more pages of transactions) to the hold `hold` refers to.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no transaction is the hold; [`Error::Protocol`] when an answer
    /// cannot be read.
    pub fn parse_retrieve(&self, hold: &HoldRef, resps: &[HttpResponse]) -> Result<Hold> {
        let mut txns = Vec::new();
        for r in resps {
            txns.extend(convert::list_outcome(r)?);
        }
        convert::hold_from_transactions(&self.config, hold, &txns, self.clock.now())
    }

    async fn send(&self, req: &HttpRequest) -> Result<HttpResponse> {
        self.transport.send(req).await
    }
}

/// What Onerway said when it refused a request, for messages.
fn refusal_details(e: &Error) -> String {
    match e {
        Error::Rejected { details, .. } => details.to_string(),
        other => other.to_string(),
    }
}

#[async_trait]
impl PreauthProvider for Onerway {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    async fn authorize(&self, req: AuthorizeRequest) -> Result<Hold> {
        let key = self.authorize_key(&req);
        let http = self.build_authorize(&req, &key)?;
        let resp = self.send(&http).await?;
        match self.parse_authorize(&req, &key, &resp) {
            Err(refused @ Error::Rejected { .. }) => {
                let k = key.as_str();
                self.after_refusal(Operation::Authorize, k, k, refused, |_, refused| {
                    // Not deduplicated, so not answered with the hold: the caller reconciles.
                    Err(Error::OutcomeUnknown {
                        provider: PROVIDER,
                        operation: Operation::Authorize,
                        reference: k.to_owned(),
                        reason: format!(
                            "onerway refused the merchantTxnId {k} ({}) because a transaction \
                             already has it: an earlier authorization with this key took \
                             effect; retrieve it by this merchant reference",
                            refusal_details(&refused)
                        ),
                        source: Some(Box::new(refused)),
                    })
                })
                .await
            }
            other => other,
        }
    }

    async fn capture(&self, req: CaptureRequest) -> Result<Hold> {
        let http = self.build_capture(&req)?;
        let resp = self.send(&http).await?;
        match self.parse_capture(&req.hold, &resp) {
            Err(refused @ Error::Rejected { .. }) => {
                let key =
                    self.follow_up_key(req.idempotency_key.as_ref(), &req.hold, CAPTURE_SUFFIX)?;
                self.follow_up_after_refusal(Operation::Capture, &req.hold, &key, refused)
                    .await
            }
            other => other,
        }
    }

    async fn cancel(&self, req: CancelRequest) -> Result<Hold> {
        let http = self.build_cancel(&req)?;
        let resp = self.send(&http).await?;
        match self.parse_cancel(&req.hold, &resp) {
            Err(refused @ Error::Rejected { .. }) => {
                let key =
                    self.follow_up_key(req.idempotency_key.as_ref(), &req.hold, VOID_SUFFIX)?;
                self.follow_up_after_refusal(Operation::Cancel, &req.hold, &key, refused)
                    .await
            }
            other => other,
        }
    }

    async fn retrieve(&self, hold: &HoldRef) -> Result<Hold> {
        let first = self.build_retrieve(hold)?;
        let resp = self.send(&first).await?;
        if hold.merchant_reference.is_some() {
            return self.parse_retrieve(hold, &[resp]);
        }
        // Only the transactionId is known: find the AUTH, then its capture and void by the
        // keys derived from its merchantTxnId.
        let txns = convert::list_outcome(&resp)?;
        let key = txns
            .iter()
            .find(|t| t.transaction_id.as_deref() == hold.provider_reference.as_deref())
            .and_then(|t| t.merchant_txn_id.as_deref().map(str::to_owned));
        let Some(key) = key else {
            return convert::hold_from_transactions(&self.config, hold, &txns, self.clock.now());
        };
        let followups: Vec<String> = Self::family(&key).into_iter().skip(1).collect();
        let second = self.list_request(hold, &ListBy::MerchantTxnIds(followups))?;
        let resp2 = self.send(&second).await?;
        let mut all = txns;
        all.extend(convert::list_outcome(&resp2)?);
        convert::hold_from_transactions(&self.config, hold, &all, self.clock.now())
    }

    async fn refund(&self, req: RefundRequest) -> Result<Refund> {
        let key = req
            .idempotency_key
            .clone()
            .unwrap_or_else(|| self.keys.next_key());
        let http = self.build_refund(&req, &key)?;
        let resp = self.send(&http).await?;
        match self.parse_refund(&req, &key, &resp) {
            Err(refused @ Error::Rejected { .. }) => {
                let reference = req.hold.provider_reference.as_str();
                self.after_refusal(
                    Operation::Refund,
                    reference,
                    key.as_str(),
                    refused,
                    |txn, refused| self.refund_found(&req, &key, txn, refused),
                )
                .await
            }
            other => other,
        }
    }

    fn verify_webhook(&self, req: &WebhookRequest<'_>) -> Result<Notification> {
        webhook::verify(req.body(), &self.config.secret_key, self.config.time_zone)
    }

    fn webhook_ack(&self, notification: &Notification) -> WebhookAck {
        webhook::ack(notification)
    }
}
