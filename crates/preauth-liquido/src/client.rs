//! The Liquido client: builds requests (pure), obtains and caches the OAuth2 token, sends
//! through the shared [`Transport`], maps answers; and the [`PreauthProvider`] glue.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use preauth_core::state::{check_cancel, check_capture, check_refund};
use preauth_core::transport::{HttpRequest, HttpResponse, Method, Replay};
use preauth_core::{
    AuthorizeRequest, CancelRequest, Capabilities, CaptureRequest, Clock, Error, ExposeSecret,
    Hold, HoldRef, IdempotencyKey, KeyGenerator, Money, Notification, Operation, PreauthProvider,
    RandomKeys, Refund, RefundRequest, Result, SecretString, SystemClock, Transport, WebhookAck,
    WebhookRequest,
};
use time::OffsetDateTime;

use crate::PROVIDER;
use crate::config::LiquidoConfig;
use crate::convert::{self, HoldContext, RefundFacts};
use crate::webhook;
use crate::wire::{self, WireError};

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// How long before `expires_in` runs out a token is replaced (at most half its lifetime).
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The Liquido client. Cheap to clone; clones share the token cache.
///
/// Every operation first runs the core pre-flight checks (capabilities, the hold state
/// machine, the assumed validity), so a refused operation sends nothing, not even a token
/// request. API calls carry `Authorization: Bearer <token>` and `x-api-key` (both marked
/// secret). The token comes from the OAuth2 client-credentials grant, is cached, is replaced
/// 60 s before it expires by the injected clock, and is fetched by **one** request however many
/// operations need it at once. A 401 on an API call replaces the token and retries once.
#[derive(Clone)]
pub struct Liquido {
    config: Arc<LiquidoConfig>,
    transport: Transport,
    clock: Arc<dyn Clock>,
    keys: Arc<dyn KeyGenerator>,
    tokens: Arc<TokenCache>,
}

/// The cached token. An API call reads it under a `std` lock held only to copy a pointer, never
/// across an `await`; the async mutex is taken only to replace it, so that concurrent callers
/// that all find it missing or due wait for one request instead of each sending their own.
struct TokenCache {
    current: RwLock<Option<Arc<CachedToken>>>,
    refresh: tokio::sync::Mutex<()>,
    generation: AtomicU64,
}

/// Not `Debug`: it holds the token.
struct CachedToken {
    /// `Bearer <access token>`, the `Authorization` value, formatted once per token.
    authorization: SecretString,
    refresh_at: OffsetDateTime,
    generation: u64,
}

impl TokenCache {
    /// The cached token if it is not due for replacement at `now`.
    fn valid(&self, now: OffsetDateTime) -> Option<Arc<CachedToken>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|t| now < t.refresh_at)
            .cloned()
    }

    fn store(&self, token: Option<Arc<CachedToken>>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// Drops the cached token if it is still the one of `generation` (another task may have
    /// replaced it already).
    fn invalidate(&self, generation: u64) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|t| t.generation == generation) {
            *current = None;
        }
    }
}

impl fmt::Debug for Liquido {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Liquido")
            .field("config", &self.config)
            .field("transport", &self.transport)
            .field("clock", &self.clock)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// A reference used in a URL path: 1–128 characters of `A–Z a–z 0–9 - _ . ~`, not `.`/`..`.
fn path_key(reference: &str) -> Result<&str> {
    let ok = !reference.is_empty()
        && reference.len() <= 128
        && reference != "."
        && reference != ".."
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if ok {
        Ok(reference)
    } else {
        Err(Error::invalid_request(
            "reference is not a Liquido idempotencyKey (1 to 128 of A-Z a-z 0-9 - _ . ~)",
        ))
    }
}

impl Liquido {
    /// A client for `config` with the default [`Transport`], the system clock and random keys.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is invalid or the HTTP client cannot be built.
    pub fn new(config: LiquidoConfig) -> Result<Self> {
        config.validate()?;
        Ok(Liquido {
            config: Arc::new(config),
            transport: Transport::shared()?.for_provider(PROVIDER),
            clock: Arc::new(SystemClock),
            keys: Arc::new(RandomKeys),
            tokens: Arc::new(TokenCache {
                current: RwLock::new(None),
                refresh: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
            }),
        })
    }

    /// Uses `transport` (share one between providers to share its connection pool).
    #[must_use]
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport.for_provider(PROVIDER);
        self
    }

    /// Uses `clock` for token expiry, hold expiry and webhook freshness.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `keys` to make idempotency keys the caller did not give.
    #[must_use]
    pub fn with_keys(mut self, keys: Arc<dyn KeyGenerator>) -> Self {
        self.keys = keys;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &LiquidoConfig {
        &self.config
    }

    /// The API base URL followed by `path`, formatted once.
    fn api(&self, path: fmt::Arguments<'_>) -> String {
        format!("{}{path}", self.config.environment.api_url())
    }

    fn ctx(&self, fallback_created: Option<OffsetDateTime>) -> HoldContext {
        HoldContext {
            validity: self.config.hold_validity(),
            fallback_created,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Token
    // -----------------------------------------------------------------------------------------

    /// The OAuth2 token request: `POST {auth_url}` with the form `client_id`, `client_secret`,
    /// `grant_type=client_credentials` (in that order, as the official SDK sends it).
    ///
    /// # Errors
    /// [`Error::Config`] if the form cannot be encoded (it always can).
    pub fn build_token_request(&self) -> Result<HttpRequest> {
        let form = serde_urlencoded::to_string([
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose_secret()),
            ("grant_type", "client_credentials"),
        ])
        .map_err(|_| Error::config("the token request cannot be encoded"))?;
        Ok(HttpRequest::new(
            Method::Post,
            self.config.environment.auth_url(),
            Operation::Authenticate,
            "oauth2-token",
        )
        .header("accept", JSON)
        .body(FORM, form))
    }

    fn parse_token(resp: &HttpResponse) -> Result<wire::TokenAnswer<'_>> {
        let op = Operation::Authenticate;
        match resp.status {
            200..=299 => {
                wire::token_answer(&resp.body).map_err(|e| convert::protocol(op, &e, resp))
            }
            400..=403 => {
                let (code, message) = wire::lenient_details(&resp.body);
                Err(Error::Unauthenticated {
                    provider: PROVIDER,
                    details: Box::new(resp.details(code, message)),
                })
            }
            s => Err(Error::Protocol {
                provider: PROVIDER,
                operation: op,
                message: format!("unexpected http status {s} from the token endpoint"),
                details: Box::new(resp.details(None, None)),
            }),
        }
    }

    /// Reads an answer of the token endpoint without keeping the token: its lifetime, or the
    /// error [`Liquido::authenticate`] would give. For tests and fuzzing.
    ///
    /// # Errors
    /// As [`Liquido::authenticate`] for that answer.
    #[doc(hidden)]
    pub fn parse_token_answer(resp: &HttpResponse) -> Result<Duration> {
        Self::parse_token(resp).map(|t| Duration::from_secs(t.expires_in))
    }

    /// Makes sure a valid access token is cached, fetching one if needed (for example to warm
    /// the client up at start).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] when the credentials are refused; transport errors.
    pub async fn authenticate(&self) -> Result<()> {
        self.token().await.map(|_| ())
    }

    /// The cached token, or a new one. The fast path takes no async lock; holding the async
    /// mutex while fetching makes every concurrent caller wait for the one request in flight
    /// instead of sending its own (each checks the cache again once it has the mutex).
    async fn token(&self) -> Result<Arc<CachedToken>> {
        if let Some(t) = self.tokens.valid(self.clock.now()) {
            return Ok(t);
        }
        let _refreshing = self.tokens.refresh.lock().await;
        let now = self.clock.now();
        if let Some(t) = self.tokens.valid(now) {
            return Ok(t);
        }
        let resp = self.transport.send(&self.build_token_request()?).await?;
        let answer = Self::parse_token(&resp)?;
        let lifetime = Duration::from_secs(answer.expires_in);
        let margin = TOKEN_REFRESH_MARGIN.min(lifetime / 2);
        let generation = self.tokens.generation.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(
            provider = PROVIDER,
            expires_in = answer.expires_in,
            "access token obtained"
        );
        let token = Arc::new(CachedToken {
            authorization: SecretString::from(format!("Bearer {}", answer.access_token)),
            refresh_at: now + lifetime.saturating_sub(margin),
            generation,
        });
        self.tokens.store(Some(Arc::clone(&token)));
        Ok(token)
    }

    /// Adds the `Authorization` and `x-api-key` headers to a request just built (no copy).
    fn with_auth(&self, req: HttpRequest, token: &CachedToken) -> HttpRequest {
        req.secret_header("authorization", token.authorization.expose_secret())
            .secret_header("x-api-key", self.config.api_key.expose_secret())
    }

    /// Builds an API request with `build` (before anything is sent, so a request that cannot
    /// be built sends nothing, not even a token request), sends it with the token; on 401
    /// replaces the token and sends it once more, built again (a 401 means the gateway refused
    /// it before Liquido acted, so re-sending is safe; the builders are pure, so the second
    /// request is the first's with the new token).
    async fn send_api(&self, build: impl Fn() -> Result<HttpRequest>) -> Result<HttpResponse> {
        let req = build()?;
        let token = self.token().await?;
        let req = self.with_auth(req, &token);
        let resp = self.transport.send(&req).await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        tracing::info!(provider = PROVIDER, operation = %req.operation(), "access token refused; refreshing once");
        drop(req);
        self.tokens.invalidate(token.generation);
        let token = self.token().await?;
        self.transport.send(&self.with_auth(build()?, &token)).await
    }

    // -----------------------------------------------------------------------------------------
    // Pure builders and parsers
    // -----------------------------------------------------------------------------------------

    /// `POST /v1/payments/charges/card` with `capture: false` under `key`, without the
    /// `Authorization` and `x-api-key` headers (added when sent). Marked
    /// [`Replay::Safe`]: Liquido identifies a charge by its `idempotencyKey`, so a re-sent
    /// authorization with the same key finds the same charge.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] (no country, a payer name Liquido refuses, 3-D Secure without
    /// a return URL, an amount that is not whole minor units); [`Error::Unsupported`] for a
    /// payment method other than a card.
    pub fn build_authorize(
        &self,
        req: &AuthorizeRequest,
        key: &IdempotencyKey,
    ) -> Result<HttpRequest> {
        let body = convert::charge_body(req, key)?;
        Ok(HttpRequest::new(
            Method::Post,
            self.api(format_args!("/v1/payments/charges/card")),
            Operation::Authorize,
            key.as_str(),
        )
        .header("accept", JSON)
        .body(JSON, body)
        .replay(Replay::Safe))
    }

    /// `POST /v1/payments/charges/card/capture/{idempotencyKey}`: no body for a full capture,
    /// `{"amount": minor}` for a given amount.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a hold reference that cannot be a key or an amount that
    /// is not whole minor units.
    pub fn build_capture(&self, hold: &Hold, amount: Option<&Money>) -> Result<HttpRequest> {
        let key = path_key(&hold.provider_reference)?;
        let req = HttpRequest::new(
            Method::Post,
            self.api(format_args!("/v1/payments/charges/card/capture/{key}")),
            Operation::Capture,
            key,
        )
        .header("accept", JSON);
        Ok(match convert::capture_body(amount)? {
            Some(body) => req.body(JSON, body),
            None => req.header("content-type", JSON),
        })
    }

    /// `POST /v1/payments/charges/cancel/{idempotencyKey}` (no body).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a reference that cannot be a key.
    pub fn build_cancel(&self, key: &str) -> Result<HttpRequest> {
        let key = path_key(key)?;
        Ok(HttpRequest::new(
            Method::Post,
            self.api(format_args!("/v1/payments/charges/cancel/{key}")),
            Operation::Cancel,
            key,
        )
        .header("accept", JSON)
        .header("content-type", JSON))
    }

    /// `GET /v1/payments/charges/{idempotencyKey}`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a reference that cannot be a key.
    pub fn build_retrieve(&self, key: &str) -> Result<HttpRequest> {
        let key = path_key(key)?;
        Ok(HttpRequest::new(
            Method::Get,
            self.api(format_args!("/v1/payments/charges/{key}")),
            Operation::Retrieve,
            key,
        )
        .header("accept", JSON)
        .header("content-type", JSON))
    }

    /// `POST /v1/payments/charges/refund` of `amount` under the new key `key`, for the charge
    /// `hold`, in `country` (the charge's), notifying `callback_url`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a bad reference, country or amount.
    pub fn build_refund(
        &self,
        hold: &Hold,
        key: &IdempotencyKey,
        amount: &Money,
        description: Option<&str>,
        country: &str,
        callback_url: Option<&str>,
    ) -> Result<HttpRequest> {
        let facts = RefundFacts {
            charge_key: path_key(&hold.provider_reference)?,
            country,
            callback_url,
        };
        let body = convert::refund_body(key, amount, description, &facts)?;
        Ok(HttpRequest::new(
            Method::Post,
            self.api(format_args!("/v1/payments/charges/refund")),
            Operation::Refund,
            key.as_str(),
        )
        .header("accept", JSON)
        .body(JSON, body))
    }

    /// `GET /v1/payments/charges/refund/{idempotencyKey}`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a reference that cannot be a key.
    pub fn build_retrieve_refund(&self, key: &str) -> Result<HttpRequest> {
        let key = path_key(key)?;
        Ok(HttpRequest::new(
            Method::Get,
            self.api(format_args!("/v1/payments/charges/refund/{key}")),
            Operation::RetrieveRefund,
            key,
        )
        .header("accept", JSON)
        .header("content-type", JSON))
    }

    /// Maps the answer to an authorize sent under `key`. `expires_at` is the charge's
    /// `createTime` (or now, by the injected clock, when it has none) plus the configured
    /// hold validity.
    ///
    /// # Errors
    /// [`Error::Declined`] with the declined hold (`transferStatusCode` ≠ 200 or `FAILED`);
    /// [`Error::Rejected`], [`Error::Unauthenticated`], [`Error::NotFound`];
    /// [`Error::Protocol`] for an answer that cannot be read (never quoting it).
    pub fn parse_authorize(&self, resp: &HttpResponse, key: &str) -> Result<Hold> {
        convert::authorize_result(resp, key, &self.ctx(Some(self.clock.now())))
    }

    /// Maps the answer to a capture (`op` = [`Operation::Capture`]) or cancel
    /// ([`Operation::Cancel`]) of `hold`.
    ///
    /// # Errors
    /// [`Error::Rejected`] when `transferStatusCode` ≠ 200 or the body is a refusal;
    /// [`Error::Protocol`] for an answer that cannot be read.
    pub fn parse_follow_up(&self, op: Operation, resp: &HttpResponse, hold: &Hold) -> Result<Hold> {
        convert::follow_up_result(
            op,
            resp,
            &hold.provider_reference,
            &self.ctx(hold.created_at),
        )
    }

    /// Maps the answer to a query of the charge `key`. A failed charge is a declined hold.
    ///
    /// # Errors
    /// [`Error::NotFound`] (404); [`Error::Protocol`] for an answer that cannot be read.
    pub fn parse_retrieve(&self, resp: &HttpResponse, key: &str) -> Result<Hold> {
        convert::retrieve_result(resp, key, &self.ctx(None))
    }

    /// Maps the answer to a refund (`op` = [`Operation::Refund`]) or a refund query
    /// ([`Operation::RetrieveRefund`]) of `refund_key`, for the charge `charge_key` if known.
    ///
    /// # Errors
    /// [`Error::Rejected`] for a refused refund; [`Error::Protocol`] for an answer that
    /// cannot be read.
    pub fn parse_refund(
        &self,
        op: Operation,
        resp: &HttpResponse,
        refund_key: &str,
        charge_key: Option<&str>,
    ) -> Result<Refund> {
        convert::refund_result(op, resp, refund_key, charge_key)
    }

    // -----------------------------------------------------------------------------------------
    // Operations beyond the trait
    // -----------------------------------------------------------------------------------------

    /// Cancels any charge by its `idempotencyKey`, without a local state check: a card hold
    /// in `AUTHORIZED`, or a `PIX_DYNAMIC_QR`, `BOLETO` or `PIC_PAY` payment still
    /// `IN_PROGRESS` (Liquido decides; seed 003).
    ///
    /// # Errors
    /// [`Error::Rejected`] when Liquido refuses; [`Error::NotFound`];
    /// [`Error::OutcomeUnknown`] when the answer is lost or unreadable.
    pub async fn cancel_charge(&self, idempotency_key: &str) -> Result<Hold> {
        let op = Operation::Cancel;
        let resp = self.send_api(|| self.build_cancel(idempotency_key)).await?;
        convert::follow_up_result(op, &resp, idempotency_key, &self.ctx(None))
            .map_err(|e| outcome_unknown_if_unreadable(op, idempotency_key, e))
    }

    /// Reads a refund by its `idempotencyKey`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Protocol`] for an answer that cannot be read.
    pub async fn retrieve_refund(&self, idempotency_key: &str) -> Result<Refund> {
        let resp = self
            .send_api(|| self.build_retrieve_refund(idempotency_key))
            .await?;
        self.parse_refund(Operation::RetrieveRefund, &resp, idempotency_key, None)
    }

    /// Verifies and parses a notification at the injected clock's now.
    ///
    /// # Errors
    /// [`Error::InvalidWebhook`] naming the [`WebhookRejection`](preauth_core::WebhookRejection).
    pub fn verify_notification(&self, req: &WebhookRequest<'_>) -> Result<Notification> {
        webhook::verify(&self.config, req, self.clock.now())
    }
}

/// A mutating call whose answer arrived but cannot be read may still have taken effect:
/// report it as [`Error::OutcomeUnknown`] (reconcile with `retrieve`), keeping the protocol
/// error as the source. Errors of other steps (the token) are left alone.
fn outcome_unknown_if_unreadable(op: Operation, reference: &str, e: Error) -> Error {
    match e {
        Error::Protocol {
            operation,
            ref message,
            ..
        } if operation == op && op.is_mutating() => {
            let reason = format!("unreadable answer: {message}");
            Error::OutcomeUnknown {
                provider: PROVIDER,
                operation: op,
                reference: reference.to_owned(),
                reason,
                source: Some(Box::new(e)),
            }
        }
        e => e,
    }
}

fn refundable_or_requested(req: &RefundRequest) -> Result<Money> {
    match &req.amount {
        Some(a) => Ok(*a),
        None => req
            .hold
            .refundable()
            .map_err(|e| Error::invalid_request(e.to_string())),
    }
}

#[preauth_core::async_trait]
impl PreauthProvider for Liquido {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    /// Partial capture (one capture per hold), cancel of pending payments, full and partial
    /// refunds, lookup by the merchant's key (it is Liquido's key), idempotent authorize,
    /// signed webhooks, 3-D Secure; no decrement. `hold_validity` is the configured
    /// assumption (Liquido documents none).
    fn capabilities(&self) -> Capabilities {
        Capabilities::none()
            .with_partial_capture(true)
            .with_multiple_captures(false)
            .with_decrement(false)
            .with_cancel_pending(true)
            .with_refund(true)
            .with_partial_refund(true)
            .with_lookup_by_merchant_reference(true)
            .with_authorize_idempotent(true)
            .with_webhook_verification(true)
            .with_three_ds(true)
            .with_hold_validity(Some(self.config.hold_validity()))
    }

    async fn authorize(&self, req: AuthorizeRequest) -> Result<Hold> {
        let op = Operation::Authorize;
        let key = req
            .idempotency_key
            .clone()
            .unwrap_or_else(|| self.keys.next_key());
        let resp = self.send_api(|| self.build_authorize(&req, &key)).await?;
        self.parse_authorize(&resp, key.as_str())
            .map_err(|e| outcome_unknown_if_unreadable(op, key.as_str(), e))
    }

    /// The capture's own idempotency key is not used: Liquido keys a capture by the charge's
    /// `idempotencyKey` in the path.
    async fn capture(&self, req: CaptureRequest) -> Result<Hold> {
        let op = Operation::Capture;
        check_capture(
            PROVIDER,
            &self.capabilities(),
            &req.hold,
            req.amount.as_ref(),
            self.clock.now(),
        )?;
        let resp = self
            .send_api(|| self.build_capture(&req.hold, req.amount.as_ref()))
            .await?;
        self.parse_follow_up(op, &resp, &req.hold)
            .map_err(|e| outcome_unknown_if_unreadable(op, &req.hold.provider_reference, e))
    }

    async fn cancel(&self, req: CancelRequest) -> Result<Hold> {
        let op = Operation::Cancel;
        check_cancel(&self.capabilities(), &req.hold, self.clock.now())?;
        let resp = self
            .send_api(|| self.build_cancel(&req.hold.provider_reference))
            .await?;
        self.parse_follow_up(op, &resp, &req.hold)
            .map_err(|e| outcome_unknown_if_unreadable(op, &req.hold.provider_reference, e))
    }

    /// Either reference works: the merchant's key is Liquido's key.
    async fn retrieve(&self, hold: &HoldRef) -> Result<Hold> {
        let key = hold
            .provider_reference
            .as_deref()
            .or(hold.merchant_reference.as_deref())
            .ok_or_else(|| Error::invalid_request("the hold reference is empty"))?;
        let resp = self.send_api(|| self.build_retrieve(key)).await?;
        self.parse_retrieve(&resp, key)
    }

    /// Liquido's refund needs the payment's `country`, which a core hold does not carry: the
    /// charge is read first (a safe GET), and its `country` and `callbackUrl` are reused.
    async fn refund(&self, req: RefundRequest) -> Result<Refund> {
        let op = Operation::Refund;
        check_refund(
            PROVIDER,
            &self.capabilities(),
            &req.hold,
            req.amount.as_ref(),
        )?;
        let amount = refundable_or_requested(&req)?;
        let key = req
            .idempotency_key
            .clone()
            .unwrap_or_else(|| self.keys.next_key());
        let charge_key = path_key(&req.hold.provider_reference)?;
        let read = self.send_api(|| self.build_retrieve(charge_key)).await?;
        let charge = convert::charge_result(&read, charge_key)?;
        let country = charge.country.as_deref().ok_or_else(|| {
            convert::protocol(Operation::Retrieve, &WireError::Missing("country"), &read)
        })?;
        let resp = self
            .send_api(|| {
                self.build_refund(
                    &req.hold,
                    &key,
                    &amount,
                    req.description.as_deref(),
                    country,
                    charge.callback_url.as_deref(),
                )
            })
            .await?;
        self.parse_refund(op, &resp, key.as_str(), Some(charge_key))
            .map_err(|e| outcome_unknown_if_unreadable(op, key.as_str(), e))
    }

    fn verify_webhook(&self, req: &WebhookRequest<'_>) -> Result<Notification> {
        self.verify_notification(req)
    }

    fn webhook_ack(&self, _notification: &Notification) -> WebhookAck {
        webhook::ack()
    }
}
