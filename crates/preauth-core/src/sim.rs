//! Support for the providers' in-process simulators (feature `sim`): a loopback HTTP server,
//! a request counter, a manual clock, and fault injection driven from the test harness.
//!
//! A provider crate builds an `axum::Router` that fakes its provider's API with the
//! provider's rules, then calls [`SimServer::spawn`]. Every request passes through the fault
//! layer first, which counts it and applies the next matching [`Fault`]. The handler itself
//! always runs in its own task, so an operation that "took effect" completes even when the
//! client has given up: exactly what makes outcome-unknown errors real.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use crate::ids::ManualClock;

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait, then handle the request: it takes effect late (past the client's timeout when the
    /// delay is longer).
    DelayBeforeEffect(Duration),
    /// Handle the request, then wait before answering.
    DelayAfterEffect(Duration),
    /// Answer this status (500, 502, 503) without handling the request.
    StatusBeforeEffect(u16),
    /// Handle the request, then answer this status instead of the real answer.
    StatusAfterEffect(u16),
    /// Answer 429 with `Retry-After` without handling the request.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Answer 503 with `Retry-After` without handling the request.
    Unavailable {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Handle the request, then break the connection in the middle of the answer.
    ResetAfterEffect,
    /// Handle the request, then answer a body that is not JSON.
    MalformedBody,
    /// Handle the request, then answer the first half of the real body.
    TruncatedBody,
    /// Handle the request, then answer an empty body.
    EmptyBody,
    /// Handle the request, then answer an HTML error page with status 200.
    HtmlBody,
    /// Sign the next notification (or signed response) with a wrong key. Applied by the
    /// simulator's signing code through [`FaultPlan::take_bad_signature`], not by the layer.
    BadSignature,
}

impl Fault {
    /// A short stable name, for tallies.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::DelayBeforeEffect(_) => "delay_before_effect",
            Fault::DelayAfterEffect(_) => "delay_after_effect",
            Fault::StatusBeforeEffect(_) => "status_before_effect",
            Fault::StatusAfterEffect(_) => "status_after_effect",
            Fault::RateLimited { .. } => "rate_limited",
            Fault::Unavailable { .. } => "unavailable",
            Fault::ResetAfterEffect => "reset_after_effect",
            Fault::MalformedBody => "malformed_body",
            Fault::TruncatedBody => "truncated_body",
            Fault::EmptyBody => "empty_body",
            Fault::HtmlBody => "html_body",
            Fault::BadSignature => "bad_signature",
        }
    }

    /// Whether the request took effect at the simulator under this fault.
    pub fn takes_effect(&self) -> bool {
        !matches!(
            self,
            Fault::StatusBeforeEffect(_) | Fault::RateLimited { .. } | Fault::Unavailable { .. }
        )
    }
}

#[derive(Debug)]
struct Rule {
    fault: Fault,
    path_contains: Option<String>,
    times: u32,
}

#[derive(Debug, Default)]
struct PlanState {
    rules: VecDeque<Rule>,
    random: Option<RandomFaults>,
    bad_signatures: u32,
    injected: BTreeMap<&'static str, u64>,
}

#[derive(Debug)]
struct RandomFaults {
    rng: fastrand::Rng,
    percent: u8,
    menu: Vec<Fault>,
    path_contains: Option<String>,
}

/// The faults to inject, shared between the harness and the simulator. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan(Arc<Mutex<PlanState>>);

impl FaultPlan {
    /// No faults.
    pub fn new() -> Self {
        FaultPlan::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PlanState> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Inject `fault` on the next request.
    pub fn once(&self, fault: Fault) {
        self.times(fault, 1);
    }

    /// Inject `fault` on the next `n` requests.
    pub fn times(&self, fault: Fault, n: u32) {
        self.push(fault, None, n);
    }

    /// Inject `fault` on the next request whose path contains `path`.
    pub fn once_on(&self, path: &str, fault: Fault) {
        self.push(fault, Some(path.to_owned()), 1);
    }

    fn push(&self, fault: Fault, path_contains: Option<String>, times: u32) {
        let mut g = self.lock();
        if fault == Fault::BadSignature {
            g.bad_signatures += times;
            return;
        }
        g.rules.push_back(Rule {
            fault,
            path_contains,
            times,
        });
    }

    /// Inject a fault drawn from `menu` on `percent`% of requests (whose path contains
    /// `path_contains`, when given), from a seeded generator so runs are reproducible.
    pub fn random(&self, seed: u64, percent: u8, menu: Vec<Fault>, path_contains: Option<&str>) {
        self.lock().random = Some(RandomFaults {
            rng: fastrand::Rng::with_seed(seed),
            percent: percent.min(100),
            menu,
            path_contains: path_contains.map(str::to_owned),
        });
    }

    /// Stop injecting anything.
    pub fn clear(&self) {
        let mut g = self.lock();
        g.rules.clear();
        g.random = None;
        g.bad_signatures = 0;
    }

    /// The fault for a request to `path`, if any (scripted rules first, then random).
    pub fn take(&self, path: &str) -> Option<Fault> {
        let mut g = self.lock();
        let pos = g
            .rules
            .iter()
            .position(|r| r.path_contains.as_deref().is_none_or(|p| path.contains(p)));
        let fault = if let Some(pos) = pos {
            let rule = &mut g.rules[pos];
            let fault = rule.fault.clone();
            rule.times -= 1;
            if rule.times == 0 {
                g.rules.remove(pos);
            }
            Some(fault)
        } else if let Some(r) = g.random.as_mut() {
            let applies = r.path_contains.as_deref().is_none_or(|p| path.contains(p));
            if applies && !r.menu.is_empty() && r.rng.u8(0..100) < r.percent {
                let i = r.rng.usize(0..r.menu.len());
                Some(r.menu[i].clone())
            } else {
                None
            }
        } else {
            None
        };
        if let Some(f) = &fault {
            *g.injected.entry(f.name()).or_default() += 1;
        }
        fault
    }

    /// Whether the next signature the simulator makes must be wrong (consumes one).
    pub fn take_bad_signature(&self) -> bool {
        let mut g = self.lock();
        if g.bad_signatures > 0 {
            g.bad_signatures -= 1;
            *g.injected.entry("bad_signature").or_default() += 1;
            true
        } else {
            false
        }
    }

    /// How many faults of each kind were injected so far.
    pub fn injected(&self) -> BTreeMap<&'static str, u64> {
        self.lock().injected.clone()
    }
}

/// What every simulator shares with its harness: clock, faults, request count.
#[derive(Debug, Clone)]
pub struct SimControl {
    /// The simulator's clock (advance it to expire holds).
    pub clock: ManualClock,
    /// Faults to inject.
    pub faults: FaultPlan,
    requests: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
}

impl SimControl {
    /// Control with the clock at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        SimControl {
            clock: ManualClock::new(start),
            faults: FaultPlan::new(),
            requests: Arc::new(AtomicU64::new(0)),
            connections: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts one request (the fault layer does this for HTTP simulators; in-memory fakes call
    /// it themselves).
    pub fn record_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// TCP connections accepted so far (to show that clients reuse connections).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Requests received so far (every request, faulted or not).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Default for SimControl {
    /// Clock at 2026-01-01 00:00 UTC.
    fn default() -> Self {
        SimControl::new(time::macros::datetime!(2026-01-01 00:00 UTC))
    }
}

/// A simulator serving on a loopback port. Dropping it stops the server.
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    control: SimControl,
    task: tokio::task::JoinHandle<()>,
}

impl SimServer {
    /// Serves `router` on `127.0.0.1` at a free port, behind the fault layer.
    ///
    /// # Errors
    /// The I/O error when the port cannot be bound.
    pub async fn spawn(router: axum::Router, control: SimControl) -> std::io::Result<Self> {
        SimServer::spawn_on(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            router,
            control,
        )
        .await
    }

    /// Serves `router` on `addr` (a loopback address), behind the fault layer.
    ///
    /// # Errors
    /// The I/O error when the address cannot be bound.
    pub async fn spawn_on(
        addr: SocketAddr,
        router: axum::Router,
        control: SimControl,
    ) -> std::io::Result<Self> {
        use axum::serve::ListenerExt;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let connections = control.connections.clone();
        let listener = listener.tap_io(move |_| {
            connections.fetch_add(1, Ordering::Relaxed);
        });
        let app = router.layer(axum::middleware::from_fn_with_state(
            control.clone(),
            fault_layer,
        ));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "simulator server stopped");
            }
        });
        Ok(SimServer {
            addr,
            control,
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The control shared with the simulator.
    pub fn control(&self) -> &SimControl {
        &self.control
    }

    /// Runs until the server stops (for a standalone simulator process).
    pub async fn wait(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn fault_layer(State(control): State<SimControl>, req: Request, next: Next) -> Response {
    control.record_request();
    let fault = control.faults.take(req.uri().path());
    // The handler runs in its own task: once started it completes even if the client leaves.
    let run = |req: Request, delay: Option<Duration>| {
        tokio::spawn(async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            next.run(req).await
        })
    };
    let Some(fault) = fault else {
        return match run(req, None).await {
            Ok(r) => r,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
    };
    tracing::debug!(fault = fault.name(), "injecting fault");
    match fault {
        Fault::StatusBeforeEffect(code) => status_page(code),
        Fault::RateLimited { retry_after_secs } => {
            retry_after(StatusCode::TOO_MANY_REQUESTS, retry_after_secs)
        }
        Fault::Unavailable { retry_after_secs } => {
            retry_after(StatusCode::SERVICE_UNAVAILABLE, retry_after_secs)
        }
        Fault::DelayBeforeEffect(d) => run(req, Some(d)).await.unwrap_or_else(|_| status_page(500)),
        other => {
            let Ok(resp) = run(req, None).await else {
                return status_page(500);
            };
            after_effect(other, resp).await
        }
    }
}

/// Sends a simulator's signed notification to the merchant's URL in the background (the
/// provider's delivery), through the workspace transport. Only loopback URLs are contacted:
/// a simulator never sends traffic off the machine.
pub fn deliver_notification(
    url: &str,
    headers: Vec<(&'static str, String)>,
    content_type: &'static str,
    body: Vec<u8>,
) {
    use crate::capabilities::Operation;
    use crate::transport::{HttpRequest, Method, RetryPolicy, Transport, TransportConfig};

    let loopback = url::Url::parse(url).ok().is_some_and(|u| {
        matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            || u.host_str() == Some("localhost")
    });
    if !loopback {
        tracing::debug!("simulator notification not sent: the URL is not on loopback");
        return;
    }
    static TRANSPORT: std::sync::OnceLock<Option<Transport>> = std::sync::OnceLock::new();
    let Some(t) = TRANSPORT
        .get_or_init(|| {
            Transport::new(
                TransportConfig::default()
                    .with_attempt_timeout(Duration::from_secs(2))
                    .with_total_timeout(Duration::from_secs(5))
                    .with_retry(RetryPolicy::default().with_max_attempts(2)),
            )
            .ok()
            .map(|t| t.for_provider("simulator"))
        })
        .clone()
    else {
        return;
    };
    let mut req = HttpRequest::new(Method::Post, url, Operation::Notify, "notification")
        .body(content_type, body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    tokio::spawn(async move {
        if let Err(e) = t.send(&req).await {
            tracing::debug!(error = %e, "simulator notification not delivered");
        }
    });
}

fn status_page(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = format!(
        "<html><head><title>{code}</title></head><body><center><h1>{code} {}</h1></center></body></html>",
        status.canonical_reason().unwrap_or("Error")
    );
    (status, [(header::CONTENT_TYPE, "text/html")], body).into_response()
}

fn retry_after(status: StatusCode, secs: u64) -> Response {
    let mut r = status_page(status.as_u16());
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

async fn after_effect(fault: Fault, resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = match fault {
        Fault::DelayAfterEffect(d) => {
            tokio::time::sleep(d).await;
            Body::from(bytes)
        }
        Fault::StatusAfterEffect(code) => return status_page(code),
        Fault::ResetAfterEffect => {
            let half = bytes.slice(..bytes.len() / 2);
            let stream = futures_util::stream::iter(vec![
                Ok::<_, std::io::Error>(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected reset",
                )),
            ]);
            Body::from_stream(stream)
        }
        Fault::MalformedBody => Body::from("{\"status\": tru"),
        Fault::TruncatedBody => Body::from(bytes.slice(..bytes.len() / 2)),
        Fault::EmptyBody => Body::empty(),
        Fault::HtmlBody => {
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            parts.status = StatusCode::OK;
            Body::from(
                "<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>",
            )
        }
        _ => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_rules_then_random_are_reproducible() {
        let p = FaultPlan::new();
        p.once_on("/capture", Fault::EmptyBody);
        p.once(Fault::HtmlBody);
        assert_eq!(p.take("/authorize"), Some(Fault::HtmlBody));
        assert_eq!(p.take("/capture/1"), Some(Fault::EmptyBody));
        assert_eq!(p.take("/capture/1"), None);
        let draw = |seed| {
            let q = FaultPlan::new();
            q.random(seed, 30, vec![Fault::EmptyBody, Fault::MalformedBody], None);
            (0..100).map(|_| q.take("/x")).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        let hits = draw(7).iter().filter(|f| f.is_some()).count();
        assert!((15..=45).contains(&hits), "{hits}");
        p.once(Fault::BadSignature);
        assert!(p.take_bad_signature());
        assert!(!p.take_bad_signature());
        assert_eq!(p.injected().get("bad_signature"), Some(&1));
    }
}
