//! End-to-end hold → capture flows against a provider's simulator on loopback, with N
//! concurrent tasks: the library through its provider client (`Arc<dyn PreauthProvider>` from
//! the facade's embedded simulator), the baseline through a plain `reqwest::Client` sending
//! its hand-written requests. Each measurement starts a fresh simulator and a fresh client,
//! runs a warm-up (connections opened, Liquido's token fetched), then the measured flows, and
//! reads the simulator's request and connection counters around them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use preauth::transport::{HttpRequest, Method};
use preauth::{
    AuthorizeRequest, CaptureRequest, Clock, HoldStatus, IdempotencyKey, Operation,
    PreauthProvider, SystemClock, Transport, TransportConfig,
};

use crate::baseline::liquido::LiquidoWire;
use crate::baseline::onerway::OnerwayWire;
use crate::baseline::yabandpay::YabandPayWire;
use crate::baseline::{FORM, JSON, Status, WireRequest, http_client, send};
use crate::fixture::{Order, Provider};
use crate::mem::cpu_ticks;

/// One flow's future.
pub type FlowFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A flow: hold → capture of order number `i` (keys `f{i}`, `f{i}-capture`).
pub type Flow = Arc<dyn Fn(usize) -> FlowFuture + Send + Sync>;

/// Who runs the flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The library's provider client.
    Library,
    /// The hand-written baseline (Liquido: the token fetched once and reused).
    Baseline,
    /// Liquido only: the baseline fetching a new token before every API call, as Liquido's
    /// official PHP SDK does.
    BaselineTokenPerCall,
    /// A diagnostic: the baseline's requests and parsing, sent through the library's
    /// [`Transport`] instead of a plain `reqwest::Client` (isolates the transport's share).
    BaselineOverTransport,
}

impl Side {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            Side::Library => "library",
            Side::Baseline => "baseline",
            Side::BaselineTokenPerCall => "baseline, token per call (PHP SDK)",
            Side::BaselineOverTransport => "baseline over the library's Transport",
        }
    }
}

/// The outcome of running some flows.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Flows attempted.
    pub flows: usize,
    /// Wall time, ns.
    pub elapsed_ns: u128,
    /// Latency of each successful flow, ns, sorted.
    pub latencies_ns: Vec<u64>,
    /// Failed flows.
    pub errors: usize,
    /// The first failure.
    pub first_error: Option<String>,
    /// Process CPU time used meanwhile (every thread: clients and simulator), in 10 ms ticks.
    pub cpu_ticks: u64,
}

impl Run {
    /// The `p`-th percentile latency (0–100), ns.
    pub fn percentile(&self, p: usize) -> u64 {
        if self.latencies_ns.is_empty() {
            return 0;
        }
        let i = (self.latencies_ns.len() * p / 100).min(self.latencies_ns.len() - 1);
        self.latencies_ns[i]
    }
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Runs flows `first..first + count` on `concurrency` tasks.
pub async fn run(flow: &Flow, first: usize, count: usize, concurrency: usize) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let cpu0 = cpu_ticks();
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.clamp(1, count.max(1)) {
        let (flow, next) = (flow.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(count / concurrency.max(1) + 1);
            let (mut errors, mut first_error) = (0, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let s = Instant::now();
                match flow(first + i).await {
                    Ok(()) => lat.push(nanos(s.elapsed())),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    let mut out = Run {
        flows: count,
        ..Run::default()
    };
    for t in tasks {
        match t.await {
            Ok((lat, errors, first_error)) => {
                out.latencies_ns.extend(lat);
                out.errors += errors;
                if out.first_error.is_none() {
                    out.first_error = first_error;
                }
            }
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(format!("task failed: {e}"));
            }
        }
    }
    out.elapsed_ns = t0.elapsed().as_nanos();
    out.cpu_ticks = cpu_ticks().saturating_sub(cpu0);
    out.latencies_ns.sort_unstable();
    out
}

fn key(i: usize) -> String {
    format!("f{i}")
}

/// The library's flow: `authorize` then a full `capture`, through the trait object.
pub fn library_flow(provider: Arc<dyn PreauthProvider>, template: AuthorizeRequest) -> Flow {
    Arc::new(move |i| {
        let (p, t) = (provider.clone(), template.clone());
        Box::pin(async move {
            let e = |e: preauth::Error| e.to_string();
            let k = key(i);
            let req = t.with_idempotency_key(IdempotencyKey::new(k.as_str()).map_err(e)?);
            let hold = p.authorize(req).await.map_err(e)?;
            let capture = CaptureRequest::new(hold)
                .with_idempotency_key(IdempotencyKey::new(format!("{k}-capture")).map_err(e)?);
            let hold = p.capture(capture).await.map_err(e)?;
            if hold.status == HoldStatus::Captured {
                Ok(())
            } else {
                Err(format!("library: hold ended {}", hold.status))
            }
        })
    })
}

/// How the baseline sends: a plain `reqwest::Client`, or the library's [`Transport`].
#[derive(Clone)]
pub enum Sender {
    /// A plain client.
    Plain(reqwest::Client),
    /// The library's transport (timeouts, retry policy, tracing span).
    Library(Transport),
}

impl Sender {
    /// Sends `req` for `op` and reads the answer.
    ///
    /// # Errors
    /// The transport error, as text.
    pub async fn send(
        &self,
        req: WireRequest,
        op: Operation,
        reference: &str,
    ) -> Result<(u16, Bytes), String> {
        match self {
            Sender::Plain(c) => send(c, req).await,
            Sender::Library(t) => {
                let mut http = HttpRequest::new(Method::Post, req.url, op, reference);
                let mut content_type = None;
                for (name, value) in req.headers {
                    if name == "content-type" && !req.body.is_empty() {
                        content_type = Some(value);
                    } else {
                        http = http.header(name, value);
                    }
                }
                if let Some(ct) = content_type {
                    // The baseline's content types are all static strings.
                    let ct = if ct == FORM { FORM } else { JSON };
                    http = http.body(ct, req.body);
                }
                let resp = t.send(&http).await.map_err(|e| e.to_string())?;
                Ok((resp.status, resp.body))
            }
        }
    }
}

fn captured(s: Status) -> Result<(), String> {
    if s == Status::Captured {
        Ok(())
    } else {
        Err(format!("baseline: hold ended {}", s.as_str()))
    }
}

/// The cached token, or a new one from the token endpoint.
async fn liquido_token(
    c: &Sender,
    w: &LiquidoWire,
    cached: Option<&Arc<str>>,
) -> Result<Arc<str>, String> {
    match cached {
        Some(t) => Ok(t.clone()),
        None => {
            let (s, b) = c
                .send(w.token_request()?, Operation::Authenticate, "token")
                .await?;
            Ok(Arc::from(w.parse_token(s, &b)?))
        }
    }
}

/// The baseline's Liquido flow; `token` is the cached token, or `None` to fetch one before
/// every API call.
pub fn liquido_flow(client: Sender, wire: Arc<LiquidoWire>, token: Option<Arc<str>>) -> Flow {
    Arc::new(move |i| {
        let (c, w, cached) = (client.clone(), wire.clone(), token.clone());
        Box::pin(async move {
            let o = Order::new(Provider::Liquido, &key(i));
            let t = liquido_token(&c, &w, cached.as_ref()).await?;
            let (s, b) = c
                .send(w.authorize(&o, &t)?, Operation::Authorize, &o.key)
                .await?;
            w.parse_authorize(s, &b, &o.key, o.currency)?;
            let t = liquido_token(&c, &w, cached.as_ref()).await?;
            let (s, b) = c
                .send(w.capture(&o.key, &t), Operation::Capture, &o.key)
                .await?;
            captured(w.parse_capture(s, &b, &o.key, o.currency)?.status)
        })
    })
}

/// The baseline's Onerway flow.
pub fn onerway_flow(client: Sender, wire: Arc<OnerwayWire>) -> Flow {
    Arc::new(move |i| {
        let (c, w) = (client.clone(), wire.clone());
        Box::pin(async move {
            let o = Order::new(Provider::Onerway, &key(i));
            let req = w.authorize(&o, SystemClock.now())?;
            let (s, b) = c.send(req, Operation::Authorize, &o.key).await?;
            let hold = w.parse_authorize(s, &b, &o)?;
            let req = w.capture(&o.capture_key, &hold.reference)?;
            let (s, b) = c.send(req, Operation::Capture, &hold.reference).await?;
            captured(w.parse_capture(s, &b, &hold)?.status)
        })
    })
}

/// The baseline's YabandPay flow.
pub fn yabandpay_flow(client: Sender, wire: Arc<YabandPayWire>) -> Flow {
    Arc::new(move |i| {
        let (c, w) = (client.clone(), wire.clone());
        Box::pin(async move {
            let o = Order::new(Provider::YabandPay, &key(i));
            let req = w.authorize(&o, SystemClock.now())?;
            let (s, b) = c.send(req, Operation::Authorize, &o.key).await?;
            let hold = w.parse_authorize(s, &b, &o)?;
            let req = w.capture(&hold, o.currency, &o.capture_key, SystemClock.now())?;
            let (s, b) = c.send(req, Operation::Capture, &hold.reference).await?;
            captured(w.parse_capture(s, &b, &hold)?.status)
        })
    })
}

/// One measurement: a fresh simulator and client, a warm-up, the measured flows, and the
/// simulator's counters.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Provider.
    pub provider: Provider,
    /// Who ran the flows.
    pub side: Side,
    /// Concurrent tasks.
    pub concurrency: usize,
    /// Warm-up flows.
    pub warmup_flows: usize,
    /// The measured flows.
    pub run: Run,
    /// Requests the simulator received during the measured flows.
    pub requests: u64,
    /// TCP connections it accepted during the measured flows.
    pub new_connections: u64,
    /// Requests it received in all (warm-up and token included).
    pub total_requests: u64,
    /// TCP connections it accepted in all.
    pub total_connections: u64,
}

impl Measurement {
    /// API operations (authorize, capture) in all: two per flow.
    pub fn total_operations(&self) -> u64 {
        2 * u64::try_from(self.warmup_flows + self.run.flows).unwrap_or(u64::MAX)
    }

    /// Requests that were not operations (Liquido token requests).
    pub fn token_requests(&self) -> u64 {
        self.total_requests.saturating_sub(self.total_operations())
    }
}

/// Measures `count` flows of `side` against a fresh simulator of `provider`.
///
/// # Errors
/// When the simulator cannot start, a client cannot be built, or the warm-up fails.
pub async fn measure(
    provider: Provider,
    side: Side,
    concurrency: usize,
    count: usize,
) -> Result<Measurement, String> {
    let emb = preauth::embedded::start(provider.name(), None)
        .await
        .map_err(|e| e.to_string())?;
    let control = emb.server.control().clone();
    let base = emb.server.base_url();
    let flow: Flow = match (side, provider) {
        (Side::Library, _) => {
            let template = Order::new(provider, "template")
                .authorize_request()
                .map_err(|e| e.to_string())?;
            library_flow(emb.provider().map_err(|e| e.to_string())?, template)
        }
        (Side::BaselineTokenPerCall, p) if p != Provider::Liquido => {
            return Err("token per call is a Liquido variant".into());
        }
        (_, _) => {
            let sender = if side == Side::BaselineOverTransport {
                let t = Transport::new(TransportConfig::default()).map_err(|e| e.to_string())?;
                Sender::Library(t.for_provider("baseline"))
            } else {
                Sender::Plain(http_client()?)
            };
            match provider {
                Provider::Liquido => {
                    let wire = Arc::new(LiquidoWire::for_simulator(&base));
                    let token = if side == Side::BaselineTokenPerCall {
                        None
                    } else {
                        Some(liquido_token(&sender, &wire, None).await?)
                    };
                    liquido_flow(sender, wire, token)
                }
                Provider::Onerway => {
                    onerway_flow(sender, Arc::new(OnerwayWire::for_simulator(&base)))
                }
                Provider::YabandPay => {
                    yabandpay_flow(sender, Arc::new(YabandPayWire::for_simulator(&base)))
                }
            }
        }
    };
    let warmup_flows = (concurrency * 2).max(50);
    let warm = run(&flow, 0, warmup_flows, concurrency).await;
    if let Some(e) = warm.first_error {
        return Err(format!(
            "{} {}: warm-up failed: {e}",
            provider.name(),
            side.label()
        ));
    }
    let (r0, c0) = (control.requests(), control.connections());
    let measured = run(&flow, warmup_flows, count, concurrency).await;
    let (r1, c1) = (control.requests(), control.connections());
    drop(flow);
    drop(emb);
    Ok(Measurement {
        provider,
        side,
        concurrency,
        warmup_flows,
        run: measured,
        requests: r1 - r0,
        new_connections: c1 - c0,
        total_requests: r1,
        total_connections: c1,
    })
}
