//! The one HTTP layer of the workspace: a shared `reqwest` client (rustls only, pooled
//! connections), connect / per-attempt / total timeouts, and a retry policy that retries only
//! when it is safe and then re-sends **the same bytes with the same key**.
//!
//! Provider crates build an [`HttpRequest`] (already signed), call [`Transport::send`], and map
//! the [`HttpResponse`]. Nothing else in the workspace does I/O.
//!
//! | what happened | [`Replay::Safe`] (reads; keys the provider deduplicates) | [`Replay::Unsafe`] (other mutating calls) |
//! |---|---|---|
//! | connection refused / connect timeout (nothing left) | retried | retried |
//! | 429, or 503 with `Retry-After` (the server says: not processed) | retried after the delay | retried after the delay |
//! | timeout or reset after the request was sent, 500/502/503/504 | retried | **no retry**: [`Error::OutcomeUnknown`] |
//! | any other status (2xx, 4xx) | returned to the provider crate to map | returned |
//!
//! When retries run out, a failure that may have reached the provider on a mutating call is
//! [`Error::OutcomeUnknown`]; otherwise [`Error::Unavailable`] or [`Error::RateLimited`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::Instrument;

use crate::capabilities::Operation;
use crate::error::{Error, ProviderDetails, Result};

/// Timeouts and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one attempt, from sending to the last body byte.
    pub attempt_timeout: Duration,
    /// Timeout of the whole operation, retries and waits included.
    pub total_timeout: Duration,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
}

impl Default for TransportConfig {
    /// Connect 10 s, attempt 30 s, total 60 s (as Prism and stripe-node do, shorter total so
    /// a hung provider does not hold a checkout for minutes), 3 attempts.
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            pool_idle_timeout: Duration::from_secs(90),
        }
    }
}

impl TransportConfig {
    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn with_attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = d;
        self
    }
    /// Sets the total timeout.
    #[must_use]
    pub fn with_total_timeout(mut self, d: Duration) -> Self {
        self.total_timeout = d;
        self
    }
    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }
}

/// Exponential backoff with jitter: attempt n waits `initial × 2^(n-1)`, capped at `max`,
/// scaled by a random factor in [0.5, 1.0] (stripe-node's policy), or the server's
/// `Retry-After` when it gives one (up to `max_retry_after`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// First backoff.
    pub initial_backoff: Duration,
    /// Backoff cap.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
    /// Sets the attempts in all.
    #[must_use]
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
    /// Sets the first backoff and the cap.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// The wait before attempt `next` (2 = the first retry), with jitter.
    pub fn backoff(&self, next: u32) -> Duration {
        let exp = next.saturating_sub(2).min(20);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let millis = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(millis.saturating_mul(fastrand::u64(50..=100)) / 100)
    }
}

/// Whether a request may be re-sent after it may have reached the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// A read, or a write the provider deduplicates by its key: re-sending the same bytes
    /// cannot act twice.
    Safe,
    /// A write the provider may act on twice: re-sent only when it surely did not arrive.
    Unsafe,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
}

#[derive(Clone)]
struct Header {
    name: &'static str,
    /// Built once, when the header is added; `None` when the value cannot be sent (control
    /// characters), which `Transport::send` reports before any attempt.
    value: Option<reqwest::header::HeaderValue>,
    sensitive: bool,
}

impl Header {
    fn new(name: &'static str, value: &str, sensitive: bool) -> Self {
        let value = reqwest::header::HeaderValue::from_str(value)
            .ok()
            .map(|mut v| {
                v.set_sensitive(sensitive);
                v
            });
        Header {
            name,
            value,
            sensitive,
        }
    }

    fn shown(&self) -> &str {
        match (&self.value, self.sensitive) {
            (_, true) => "[REDACTED]",
            (Some(v), false) => v.to_str().unwrap_or("[not text]"),
            (None, false) => "[invalid]",
        }
    }
}

/// A request ready to send: signed, serialized once. Its `Debug` never shows sensitive header
/// values or the body (which can hold a card number).
#[derive(Clone)]
pub struct HttpRequest {
    method: Method,
    url: String,
    headers: Vec<Header>,
    body: Bytes,
    replay: Replay,
    operation: Operation,
    reference: String,
}

impl HttpRequest {
    /// A request for `operation`; `reference` (an idempotency key or provider id, never a
    /// secret) is what tracing spans and errors name.
    pub fn new(
        method: Method,
        url: impl Into<String>,
        operation: Operation,
        reference: impl Into<String>,
    ) -> Self {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Bytes::new(),
            replay: if operation.is_mutating() {
                Replay::Unsafe
            } else {
                Replay::Safe
            },
            operation,
            reference: reference.into(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl AsRef<str>) -> Self {
        self.headers.push(Header::new(name, value.as_ref(), false));
        self
    }

    /// Adds a header whose value is a secret (a token, an API key): redacted in `Debug` and
    /// marked sensitive for the HTTP stack.
    #[must_use]
    pub fn secret_header(mut self, name: &'static str, value: impl AsRef<str>) -> Self {
        self.headers.push(Header::new(name, value.as_ref(), true));
        self
    }

    /// Sets the body and its content type.
    #[must_use]
    pub fn body(self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        let mut s = self.header("content-type", content_type);
        s.body = body.into();
        s
    }

    /// Sets the replay safety (default: [`Replay::Unsafe`] for mutating operations,
    /// [`Replay::Safe`] otherwise).
    #[must_use]
    pub fn replay(mut self, replay: Replay) -> Self {
        self.replay = replay;
        self
    }

    /// The body bytes (for tests and snapshots).
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The replay safety.
    pub fn replay_safety(&self) -> Replay {
        self.replay
    }

    /// Header names and values, in the order they are sent, with secret values shown as
    /// `[REDACTED]` (for snapshots and tests).
    pub fn headers_redacted(&self) -> Vec<(&'static str, &str)> {
        self.headers.iter().map(|h| (h.name, h.shown())).collect()
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|h| (h.name, h.shown())).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .field("replay", &self.replay)
            .field("operation", &self.operation)
            .field("reference", &self.reference)
            .finish()
    }
}

/// Response headers that name the provider's request id.
const REQUEST_ID_HEADERS: [&str; 5] = [
    "x-request-id",
    "x-amzn-requestid",
    "x-amz-apigw-id",
    "request-id",
    "x-correlation-id",
];

/// The response headers [`Transport::send`] keeps in [`HttpResponse::headers`].
const KEPT_HEADERS: [&str; 8] = [
    "retry-after",
    "content-type",
    "www-authenticate",
    "x-request-id",
    "x-amzn-requestid",
    "x-amz-apigw-id",
    "request-id",
    "x-correlation-id",
];

/// A response with its whole body read.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// The headers the library reads (`retry-after`, `content-type`, `www-authenticate` and
    /// request ids), names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
    /// Attempts it took.
    pub attempts: u32,
}

impl HttpResponse {
    /// A response (for simulators and tests).
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
            attempts: 1,
        }
    }

    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The provider's request id from the usual headers, when present.
    pub fn request_id(&self) -> Option<String> {
        REQUEST_ID_HEADERS
            .iter()
            .find_map(|h| self.header(h))
            .map(str::to_owned)
    }

    /// [`ProviderDetails`] with this response's status and request id.
    pub fn details(&self, code: Option<String>, message: Option<String>) -> ProviderDetails {
        ProviderDetails::new(code, message)
            .with_http_status(self.status)
            .with_request_id(self.request_id())
    }

    /// Whether the body looks like an HTML page (an error page from a proxy): its first
    /// non-blank byte is `<`. Allocates nothing.
    pub fn is_html(&self) -> bool {
        self.body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'<')
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// The shared HTTP client. Cheap to clone (an `Arc` inside): give one to every provider so they
/// share one connection pool.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    config: TransportConfig,
    provider: &'static str,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("provider", &self.inner.provider)
            .field("config", &self.inner.config)
            .finish()
    }
}

enum Attempt {
    Done(HttpResponse),
    /// Retry if attempts remain; `maybe_sent` says whether it may have taken effect.
    Retry {
        reason: String,
        maybe_sent: bool,
        wait: Option<Duration>,
        source: Option<crate::error::BoxError>,
        rate_limited: Option<HttpResponse>,
    },
    /// Stop now: the outcome is unknown.
    Unknown {
        reason: String,
        source: Option<crate::error::BoxError>,
    },
}

impl Transport {
    /// A transport with its own connection pool.
    ///
    /// # Errors
    /// [`Error::Config`] when the TLS stack cannot be initialised.
    #[allow(clippy::disallowed_methods)] // the one place a reqwest client is built
    pub fn new(config: TransportConfig) -> Result<Self> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(config.pool_idle_timeout)
            .tcp_nodelay(true)
            .user_agent(concat!("preauth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::config(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        Ok(Transport {
            inner: Arc::new(Inner {
                client,
                config,
                provider: "",
            }),
        })
    }

    /// The process-wide transport with the default configuration, built on first use: every
    /// provider client made without an explicit transport shares its one connection pool.
    ///
    /// # Errors
    /// [`Error::Config`] when the TLS stack cannot be initialised.
    pub fn shared() -> Result<Self> {
        static SHARED: std::sync::OnceLock<Transport> = std::sync::OnceLock::new();
        if let Some(t) = SHARED.get() {
            return Ok(t.clone());
        }
        let t = Transport::new(TransportConfig::default())?;
        Ok(SHARED.get_or_init(|| t).clone())
    }

    /// The same pool and config, labelled with a provider name for spans and errors.
    #[must_use]
    pub fn for_provider(&self, provider: &'static str) -> Self {
        Transport {
            inner: Arc::new(Inner {
                client: self.inner.client.clone(),
                config: self.inner.config.clone(),
                provider,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// Sends `req`, retrying per the policy, and returns the response of the last attempt
    /// (any status the policy does not retry). A `tracing` span `preauth.http` records provider,
    /// operation, reference, attempts, status, latency and outcome; never a header value or a
    /// body.
    ///
    /// # Errors
    /// [`Error::OutcomeUnknown`], [`Error::Unavailable`] or [`Error::RateLimited`], per the table
    /// in the [module docs](self).
    pub async fn send(&self, req: &HttpRequest) -> Result<HttpResponse> {
        let span = tracing::info_span!(
            "preauth.http",
            provider = self.inner.provider,
            operation = req.operation.as_str(),
            reference = %req.reference,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        self.send_inner(req).instrument(span).await
    }

    async fn send_inner(&self, req: &HttpRequest) -> Result<HttpResponse> {
        if let Some(h) = req.headers.iter().find(|h| h.value.is_none()) {
            return Err(Error::invalid_request(format!(
                "header {} has a value that cannot be sent (control characters)",
                h.name
            )));
        }
        let url = reqwest::Url::parse(&req.url)
            .map_err(|_| Error::invalid_request(format!("{} is not a valid URL", req.url)))?;
        let mut headers = reqwest::header::HeaderMap::with_capacity(req.headers.len());
        for h in &req.headers {
            if let Some(v) = &h.value {
                headers.append(h.name, v.clone());
            }
        }
        let span = tracing::Span::current();
        let cfg = &self.inner.config;
        let start = Instant::now();
        let deadline = start + cfg.total_timeout;
        let mut maybe_sent = false;
        let mut last_reason = String::from("no attempt made");
        let mut last_source = None;
        let mut last_rate_limited: Option<HttpResponse> = None;
        let mut attempt = 0u32;
        while attempt < cfg.retry.max_attempts {
            attempt += 1;
            span.record("attempt", attempt);
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                last_reason = "total timeout reached".into();
                break;
            }
            let per_attempt = cfg.attempt_timeout.min(remaining);
            let t0 = Instant::now();
            let outcome = self.attempt(req, &url, &headers, per_attempt).await;
            span.record(
                "latency_ms",
                u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
            );
            match outcome {
                Attempt::Done(mut resp) => {
                    resp.attempts = attempt;
                    span.record("status", resp.status);
                    span.record("outcome", "response");
                    tracing::debug!(status = resp.status, attempts = attempt, "response");
                    return Ok(resp);
                }
                Attempt::Unknown { reason, source } => {
                    span.record("outcome", "outcome_unknown");
                    tracing::warn!(%reason, "outcome unknown, not retried");
                    return Err(self.unknown(req, reason, source));
                }
                Attempt::Retry {
                    reason,
                    maybe_sent: sent,
                    wait,
                    source,
                    rate_limited,
                } => {
                    maybe_sent |= sent;
                    tracing::info!(%reason, attempt, "attempt failed");
                    last_reason = reason;
                    last_source = source;
                    last_rate_limited = rate_limited;
                    if attempt >= cfg.retry.max_attempts {
                        break;
                    }
                    let wait = match wait {
                        Some(w) if w > cfg.retry.max_retry_after => break,
                        Some(w) => w,
                        None => cfg.retry.backoff(attempt + 1),
                    };
                    if Instant::now() + wait >= deadline {
                        break;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
        if maybe_sent && req.operation.is_mutating() {
            span.record("outcome", "outcome_unknown");
            return Err(self.unknown(req, last_reason, last_source));
        }
        if let Some(resp) = last_rate_limited {
            span.record("outcome", "rate_limited");
            return Err(Error::RateLimited {
                provider: self.inner.provider,
                retry_after: retry_after(&resp),
                details: Box::new(resp.details(None, None)),
            });
        }
        span.record("outcome", "unavailable");
        Err(Error::Unavailable {
            provider: self.inner.provider,
            operation: req.operation,
            reason: last_reason,
            source: last_source,
        })
    }

    fn unknown(
        &self,
        req: &HttpRequest,
        reason: String,
        source: Option<crate::error::BoxError>,
    ) -> Error {
        Error::OutcomeUnknown {
            provider: self.inner.provider,
            operation: req.operation,
            reference: req.reference.clone(),
            reason,
            source,
        }
    }

    async fn attempt(
        &self,
        req: &HttpRequest,
        url: &reqwest::Url,
        headers: &reqwest::header::HeaderMap,
        timeout: Duration,
    ) -> Attempt {
        let safe = req.replay == Replay::Safe;
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut rb = self
            .inner
            .client
            .request(method, url.clone())
            .headers(headers.clone());
        if req.method == Method::Post {
            rb = rb.body(req.body.clone());
        }
        let fut = async {
            let resp = rb.send().await?;
            let status = resp.status().as_u16();
            // Only the headers anything reads are kept (retry-after, content-type, request ids).
            let headers = resp
                .headers()
                .iter()
                .filter(|(k, _)| KEPT_HEADERS.contains(&k.as_str()))
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>(HttpResponse {
                status,
                headers,
                body,
                attempts: 1,
            })
        };
        match tokio::time::timeout(timeout, fut).await {
            Err(_) => {
                let reason = format!("no complete answer within {} ms", timeout.as_millis());
                if safe {
                    Attempt::Retry {
                        reason,
                        maybe_sent: true,
                        wait: None,
                        source: None,
                        rate_limited: None,
                    }
                } else {
                    Attempt::Unknown {
                        reason,
                        source: None,
                    }
                }
            }
            Ok(Err(e)) => {
                let e = e.without_url();
                if e.is_connect() {
                    Attempt::Retry {
                        reason: "could not connect".into(),
                        maybe_sent: false,
                        wait: None,
                        source: Some(Box::new(e)),
                        rate_limited: None,
                    }
                } else {
                    let reason = if e.is_timeout() {
                        "timed out after sending".to_owned()
                    } else {
                        "connection failed after sending".to_owned()
                    };
                    if safe {
                        Attempt::Retry {
                            reason,
                            maybe_sent: true,
                            wait: None,
                            source: Some(Box::new(e)),
                            rate_limited: None,
                        }
                    } else {
                        Attempt::Unknown {
                            reason,
                            source: Some(Box::new(e)),
                        }
                    }
                }
            }
            Ok(Ok(resp)) => classify_status(resp, safe),
        }
    }
}

fn retry_after(resp: &HttpResponse) -> Option<Duration> {
    resp.header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn classify_status(resp: HttpResponse, safe: bool) -> Attempt {
    match resp.status {
        429 => Attempt::Retry {
            reason: "rate limited (429)".into(),
            maybe_sent: false,
            wait: retry_after(&resp),
            source: None,
            rate_limited: Some(resp),
        },
        503 if resp.header("retry-after").is_some() => Attempt::Retry {
            reason: "unavailable (503 with Retry-After)".into(),
            maybe_sent: false,
            wait: retry_after(&resp),
            source: None,
            rate_limited: None,
        },
        500 | 502 | 503 | 504 => {
            let reason = format!("server error ({})", resp.status);
            if safe {
                Attempt::Retry {
                    reason,
                    maybe_sent: true,
                    wait: None,
                    source: None,
                    rate_limited: None,
                }
            } else {
                Attempt::Unknown {
                    reason,
                    source: None,
                }
            }
        }
        _ => Attempt::Done(resp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy::default()
            .with_backoff(Duration::from_millis(100), Duration::from_millis(1000));
        for _ in 0..100 {
            let b2 = p.backoff(2);
            assert!(
                b2 >= Duration::from_millis(50) && b2 <= Duration::from_millis(100),
                "{b2:?}"
            );
            let b3 = p.backoff(3);
            assert!(
                b3 >= Duration::from_millis(100) && b3 <= Duration::from_millis(200),
                "{b3:?}"
            );
            let b10 = p.backoff(10);
            assert!(b10 <= Duration::from_millis(1000), "{b10:?}");
        }
    }

    #[test]
    fn request_debug_redacts_secret_headers_and_body() {
        let r = HttpRequest::new(Method::Post, "http://x/", Operation::Authorize, "k1")
            .secret_header("authorization", "Bearer tok_live_SECRET")
            .header("x-plain", "visible")
            .body("application/json", r#"{"cardNumber":"4111111111111111"}"#);
        let d = format!("{r:?}");
        assert!(!d.contains("tok_live_SECRET"), "{d}");
        assert!(!d.contains("4111"), "{d}");
        assert!(d.contains("visible"), "{d}");
    }

    #[test]
    fn html_detection() {
        assert!(HttpResponse::new(502, "<!DOCTYPE html><html>").is_html());
        assert!(HttpResponse::new(502, "  <html>").is_html());
        assert!(!HttpResponse::new(200, "{}").is_html());
    }
}
