//! The soak scenario: many hold flows against a simulator that injects faults, every flow
//! driven to a known state the way a careful merchant would (reconcile after an unknown
//! outcome, never re-send a capture blindly), then checked against the simulator's own ledger.
//!
//! It asserts the three numbers that matter: double captures 0, lost holds 0, panics 0; and
//! reports how many faults of each kind were injected and survived.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use preauth_core::reconcile::{reconcile_authorize, reconcile_hold};
use preauth_core::sim::Fault;
use preauth_core::{
    CaptureRequest, Error, Hold, HoldStatus, IdempotencyKey, Money, PreauthProvider,
};

use crate::harness::{Harness, cards};

/// Settings of a soak run.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Hold flows to run.
    pub flows: usize,
    /// Flows in flight at once.
    pub concurrency: usize,
    /// Share of requests that get a fault, in percent.
    pub fault_percent: u8,
    /// Seed of the fault generator (runs are reproducible).
    pub seed: u64,
    /// A delay longer than the client's attempt timeout (for the delay faults).
    pub long_delay: Duration,
}

impl Default for SoakConfig {
    fn default() -> Self {
        SoakConfig {
            flows: 2000,
            concurrency: 16,
            fault_percent: 25,
            seed: 0x5eed,
            long_delay: Duration::from_millis(1200),
        }
    }
}

/// Every fault kind the layer can inject, with `long_delay` for the delay faults.
pub fn all_faults(long_delay: Duration) -> Vec<Fault> {
    vec![
        Fault::DelayBeforeEffect(long_delay),
        Fault::DelayAfterEffect(long_delay),
        Fault::StatusBeforeEffect(500),
        Fault::StatusBeforeEffect(502),
        Fault::StatusBeforeEffect(503),
        Fault::StatusAfterEffect(500),
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        Fault::Unavailable {
            retry_after_secs: 0,
        },
        Fault::ResetAfterEffect,
        Fault::MalformedBody,
        Fault::TruncatedBody,
        Fault::EmptyBody,
        Fault::HtmlBody,
    ]
}

/// Every fault after which a mutating call took effect but its answer is lost or unreadable
/// (`long_delay` for the delayed answer).
pub fn after_effect_faults(long_delay: Duration) -> Vec<Fault> {
    vec![
        Fault::StatusAfterEffect(500),
        Fault::StatusAfterEffect(502),
        Fault::ResetAfterEffect,
        Fault::DelayAfterEffect(long_delay),
        Fault::MalformedBody,
        Fault::TruncatedBody,
        Fault::EmptyBody,
        Fault::HtmlBody,
    ]
}

/// One hold as the simulator knows it, for checking the client's view against the truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The merchant's reference (the authorization's key).
    pub merchant_reference: String,
    /// The provider's reference.
    pub provider_reference: String,
    /// The simulator's status of the hold.
    pub status: HoldStatus,
    /// How many captures took effect on it.
    pub captures: u32,
}

/// How one flow ended, from the client's side.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Captured(String),
    Declined,
    /// The authorize's outcome could not be learned from the provider (no lookup by merchant
    /// reference); the reference is reported, never dropped.
    AuthorizeUnknown(String),
    /// The provider did not answer usefully within the flow's attempts; the reference is kept.
    Unresolved(String),
}

/// What a soak run saw.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// The provider.
    pub provider: String,
    /// Flows run.
    pub flows: usize,
    /// Flows that ended captured.
    pub captured: usize,
    /// Flows declined.
    pub declined: usize,
    /// Authorizations whose outcome the provider cannot tell by merchant reference, reported
    /// with their reference.
    pub authorize_unknown_reported: usize,
    /// Flows left unresolved after all attempts, reported with their reference.
    pub unresolved_reported: usize,
    /// Holds the simulator captured more than once.
    pub double_captures: usize,
    /// Holds the simulator authorized that the client neither knows nor reported.
    pub lost_holds: usize,
    /// Flows whose task panicked.
    pub panics: usize,
    /// Reconcile queries made after an unknown outcome.
    pub reconciles: usize,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// Requests the simulator received.
    pub requests: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "soak {}: {} flows in {:.1?}, {} requests",
            self.provider, self.flows, self.elapsed, self.requests
        )?;
        writeln!(
            f,
            "  captured {}, declined {}, authorize outcome reported unknown {}, unresolved reported {}, reconciles {}",
            self.captured,
            self.declined,
            self.authorize_unknown_reported,
            self.unresolved_reported,
            self.reconciles
        )?;
        writeln!(
            f,
            "  double captures {}, lost holds {}, panics {}",
            self.double_captures, self.lost_holds, self.panics
        )?;
        let total: u64 = self.faults.values().sum();
        write!(f, "  faults survived {total}:")?;
        for (k, v) in &self.faults {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

fn transient(e: &Error) -> bool {
    e.is_retryable() || matches!(e, Error::Protocol { .. })
}

/// Reads a hold until the provider answers (reads are safe to repeat).
async fn read_hold(
    p: &dyn PreauthProvider,
    hold: &Hold,
    reconciles: &mut usize,
) -> Result<Hold, Error> {
    let mut last = None;
    for _ in 0..8 {
        *reconciles += 1;
        match reconcile_hold(p, hold).await {
            Ok(h) => return Ok(h),
            Err(e) if transient(&e) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::invalid_request("no attempt")))
}

/// One flow: authorize, then capture in full, reconciling after every unknown outcome.
async fn flow(p: Arc<dyn PreauthProvider>, h: Arc<dyn Harness>, i: usize) -> (Outcome, usize) {
    let mut reconciles = 0;
    let amount = Money::parse_major("100.00", h.currency()).unwrap();
    let card = if i % 20 == 7 {
        cards::DECLINE
    } else {
        cards::APPROVE
    };
    let key = IdempotencyKey::new(format!("soak-{i:06}")).unwrap();
    let req = h
        .authorize_request(amount, card)
        .with_idempotency_key(key.clone());
    let caps = p.capabilities();

    // Authorize: retry what surely did not take effect; reconcile what may have.
    let mut hold = None;
    for _ in 0..6 {
        match p.authorize(req.clone()).await {
            Ok(hh) => {
                hold = Some(hh);
                break;
            }
            Err(Error::Declined { .. }) => return (Outcome::Declined, reconciles),
            Err(e) if e.is_outcome_unknown() || matches!(e, Error::Protocol { .. }) => {
                if !caps.lookup_by_merchant_reference {
                    return (
                        Outcome::AuthorizeUnknown(key.as_str().to_owned()),
                        reconciles,
                    );
                }
                let mut found = None;
                for _ in 0..8 {
                    reconciles += 1;
                    match reconcile_authorize(p.as_ref(), key.as_str()).await {
                        Ok(f) => {
                            found = Some(f);
                            break;
                        }
                        Err(e) if transient(&e) => {}
                        Err(_) => break,
                    }
                }
                match found {
                    Some(Some(hh)) if hh.status == HoldStatus::Declined => {
                        return (Outcome::Declined, reconciles);
                    }
                    Some(Some(hh)) => {
                        hold = Some(hh);
                        break;
                    }
                    // Never took effect: the same key may be sent again.
                    Some(None) => {}
                    None => return (Outcome::Unresolved(key.as_str().to_owned()), reconciles),
                }
            }
            Err(e) if e.is_retryable() => {}
            Err(e) => panic!("authorize {key}: unexpected {e}"),
        }
    }
    let Some(mut hold) = hold else {
        return (Outcome::Unresolved(key.as_str().to_owned()), reconciles);
    };

    // Capture: never re-sent before the provider says it did not happen. A capture whose
    // outcome was unknown may still land late, after the reconcile read: then the re-sent one
    // is refused (the provider allows one capture), and reading the hold again tells the truth.
    let mut uncertain = false;
    for _ in 0..6 {
        if hold.status == HoldStatus::Captured {
            return (Outcome::Captured(hold.provider_reference), reconciles);
        }
        match p.capture(CaptureRequest::new(hold.clone())).await {
            Ok(hh) => return (Outcome::Captured(hh.provider_reference), reconciles),
            Err(e) if e.is_outcome_unknown() || matches!(e, Error::Protocol { .. }) => {
                uncertain = true;
                match read_hold(p.as_ref(), &hold, &mut reconciles).await {
                    Ok(hh) => hold = hh,
                    Err(_) => return (Outcome::Unresolved(hold.provider_reference), reconciles),
                }
            }
            Err(e) if e.is_retryable() => {}
            Err(e @ (Error::Rejected { .. } | Error::InvalidState { .. })) if uncertain => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                match read_hold(p.as_ref(), &hold, &mut reconciles).await {
                    Ok(hh) if hh.status == HoldStatus::Captured => hold = hh,
                    _ => panic!(
                        "capture {}: refused after an unknown outcome: {e}",
                        hold.provider_reference
                    ),
                }
            }
            Err(e) => panic!("capture {}: unexpected {e}", hold.provider_reference),
        }
    }
    (Outcome::Unresolved(hold.provider_reference), reconciles)
}

/// Runs the soak against `h` and checks the invariants against the simulator's ledger
/// ([`Harness::ledger`]). Prints the report (it is the test's output) and returns it.
///
/// # Panics
/// When a hold was captured twice, a hold was lost, a flow panicked, the ledger is empty, or
/// a fault kind was never exercised.
pub async fn run(h: Arc<dyn Harness>, cfg: SoakConfig) -> SoakReport {
    let p = h.provider();
    let started = Instant::now();
    let requests_before = h.control().requests();
    h.control().faults.random(
        cfg.seed,
        cfg.fault_percent,
        all_faults(cfg.long_delay),
        None,
    );

    let mut report = SoakReport {
        provider: p.name().to_owned(),
        flows: cfg.flows,
        ..SoakReport::default()
    };
    let mut known: BTreeSet<String> = BTreeSet::new();
    let mut next = 0;
    let mut set = tokio::task::JoinSet::new();
    while next < cfg.flows || !set.is_empty() {
        while next < cfg.flows && set.len() < cfg.concurrency {
            set.spawn(flow(p.clone(), h.clone(), next));
            next += 1;
        }
        let Some(done) = set.join_next().await else {
            break;
        };
        match done {
            Ok((outcome, reconciles)) => {
                report.reconciles += reconciles;
                match outcome {
                    Outcome::Captured(r) => {
                        report.captured += 1;
                        known.insert(r);
                    }
                    Outcome::Declined => report.declined += 1,
                    Outcome::AuthorizeUnknown(k) => {
                        report.authorize_unknown_reported += 1;
                        known.insert(k);
                    }
                    Outcome::Unresolved(r) => {
                        report.unresolved_reported += 1;
                        known.insert(r);
                    }
                }
            }
            Err(e) if e.is_panic() => report.panics += 1,
            Err(_) => report.panics += 1,
        }
    }
    h.control().faults.clear();
    report.faults = h.control().faults.injected();
    report.requests = h.control().requests() - requests_before;
    let ledger = h.ledger();
    assert!(
        !ledger.is_empty() || report.captured == 0,
        "the harness must expose the simulator's ledger"
    );
    for entry in ledger {
        if entry.captures > 1 {
            report.double_captures += 1;
        }
        let authorized = !matches!(entry.status, HoldStatus::Declined);
        if authorized
            && !known.contains(&entry.provider_reference)
            && !known.contains(&entry.merchant_reference)
        {
            report.lost_holds += 1;
        }
    }
    report.elapsed = started.elapsed();
    #[allow(clippy::print_stdout)]
    {
        println!("{report}");
    }
    assert_eq!(report.panics, 0, "no flow may panic");
    assert_eq!(report.double_captures, 0, "no hold may be captured twice");
    assert_eq!(
        report.lost_holds, 0,
        "every authorized hold is known or reported with its reference"
    );
    if cfg.flows >= 500 && cfg.fault_percent >= 10 {
        for f in all_faults(cfg.long_delay) {
            assert!(
                report.faults.contains_key(f.name()),
                "fault {} was never exercised",
                f.name()
            );
        }
    }
    report
}
