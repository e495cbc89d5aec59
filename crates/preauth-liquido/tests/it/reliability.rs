//! Reliability over loopback HTTP, one fault at a time: what is retried (and how often it is
//! sent), what becomes `OutcomeUnknown` (sent exactly once, never re-sent blindly), how the
//! true state is learned by querying, and what a fault on the OAuth2 token request does (the
//! charge is never sent on a token that was not obtained).
//!
//! Requests are counted at the simulator (`control.requests()`), after the token was obtained
//! (`authenticate`), so a count is the API calls alone.

use std::time::{Duration, Instant};

use preauth_core::reconcile::{reconcile_authorize, reconcile_hold};
use preauth_core::sim::Fault;
use preauth_core::{
    CancelRequest, CaptureRequest, Currency, Error, Hold, HoldRef, HoldStatus, IdempotencyKey,
    Money, Operation, PreauthProvider, RefundRequest, RefundStatus,
};
use preauth_testkit::harness::{Harness, cards};
use preauth_testkit::soak::all_faults;

use crate::harness::{LONG_DELAY, LiquidoHarness, fast_transport};

const CHARGE: &str = "/v1/payments/charges/card";
const CAPTURE: &str = "/capture/";
const CANCEL: &str = "/cancel/";
const TOKEN: &str = "/oauth2/token";

fn brl(s: &str) -> Money {
    Money::parse_major(s, Currency::BRL).unwrap()
}

/// A harness with the fast transport and a token already cached.
async fn warm() -> LiquidoHarness {
    let h = LiquidoHarness::start_with(fast_transport()).await;
    h.client.authenticate().await.unwrap();
    h
}

/// Requests the simulator received while `f` ran.
async fn counted<T>(h: &LiquidoHarness, f: impl std::future::Future<Output = T>) -> (T, u64) {
    let before = h.control().requests();
    let r = f.await;
    (r, h.control().requests() - before)
}

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::new(k).unwrap()
}

async fn hold(h: &LiquidoHarness, k: &str) -> Hold {
    h.client
        .authorize(
            h.authorize_request(brl("100.00"), cards::APPROVE)
                .with_idempotency_key(key(k)),
        )
        .await
        .unwrap()
}

fn captures_of(h: &LiquidoHarness, k: &str) -> u32 {
    h.sim
        .ledger()
        .into_iter()
        .find(|e| e.key == k)
        .map(|e| e.captures)
        .unwrap_or_else(|| panic!("no charge {k} at the simulator"))
}

fn charges_with(h: &LiquidoHarness, k: &str) -> usize {
    h.sim.ledger().iter().filter(|e| e.key == k).count()
}

// ---------------------------------------------------------------------------------------------
// Authorize: deduplicated by idempotencyKey, so a lost answer is re-sent with the same key.
// ---------------------------------------------------------------------------------------------

/// The charge was made but its answer was lost (late, reset, 500): the transport re-sends the
/// same bytes with the same `idempotencyKey` (authorize is `Replay::Safe` for Liquido), finds
/// the same charge, and the simulator holds exactly one charge for the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_authorize_answer_is_resent_with_the_same_key_and_makes_one_charge() {
    let h = warm().await;
    for (i, fault) in [
        Fault::DelayAfterEffect(LONG_DELAY),
        Fault::ResetAfterEffect,
        Fault::StatusAfterEffect(500),
        Fault::StatusAfterEffect(502),
        // Handled late: the re-sent request makes the charge, the late one finds it.
        Fault::DelayBeforeEffect(LONG_DELAY),
    ]
    .into_iter()
    .enumerate()
    {
        let k = format!("lost-answer-{i}");
        h.control().faults.once_on(CHARGE, fault.clone());
        let (r, sent) = counted(&h, hold_result(&h, &k)).await;
        let held = r.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(held.status, HoldStatus::Authorized, "{fault:?}");
        assert_eq!(held.merchant_reference, k);
        assert_eq!(sent, 2, "{fault:?}: sent twice, with the same key");
        tokio::time::sleep(LONG_DELAY).await;
        assert_eq!(charges_with(&h, &k), 1, "{fault:?}: exactly one charge");
    }
    assert_eq!(h.sim.ledger().len(), 5);
}

async fn hold_result(h: &LiquidoHarness, k: &str) -> preauth_core::Result<Hold> {
    h.client
        .authorize(
            h.authorize_request(brl("100.00"), cards::APPROVE)
                .with_idempotency_key(key(k)),
        )
        .await
}

/// Every attempt's answer lost: `OutcomeUnknown` naming the key. Reconcile by the merchant
/// reference finds the charge; the merchant re-sends with the SAME key and gets the same
/// charge; there is still exactly one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorize_whose_answers_are_all_lost_is_reconciled_then_resent_with_the_same_key() {
    let h = warm().await;
    let p = h.provider();
    h.control().faults.times(Fault::StatusAfterEffect(500), 3);
    let req = h
        .authorize_request(brl("75.00"), cards::APPROVE)
        .with_idempotency_key(key("order-9001"));
    let (r, sent) = counted(&h, p.authorize(req.clone())).await;
    let e = r.unwrap_err();
    assert!(
        matches!(&e, Error::OutcomeUnknown { operation: Operation::Authorize, reference, .. } if reference == "order-9001"),
        "{e}"
    );
    assert_eq!(
        sent, 3,
        "Liquido deduplicates by key, so every attempt was sent"
    );
    assert_eq!(charges_with(&h, "order-9001"), 1);

    // Reconcile by the merchant reference (the key).
    assert!(p.capabilities().lookup_by_merchant_reference);
    let (found, sent) = counted(&h, reconcile_authorize(p.as_ref(), "order-9001")).await;
    let found = found.unwrap().expect("the charge exists");
    assert_eq!(sent, 1, "one query");
    assert_eq!(found.status, HoldStatus::Authorized);
    assert_eq!(found.authorized, brl("75.00"));
    assert_eq!(found.provider_reference, "order-9001");

    // Re-sent with the same key: the same charge, not a second one.
    let (again, sent) = counted(&h, p.authorize(req)).await;
    let again = again.unwrap();
    assert_eq!(sent, 1);
    assert_eq!(again.provider_reference, found.provider_reference);
    assert_eq!(again.created_at, found.created_at);
    assert_eq!(charges_with(&h, "order-9001"), 1, "exactly one charge");
    assert_eq!(h.sim.ledger().len(), 1);

    // An unreadable answer is OutcomeUnknown at once (the answer arrived; re-sending is the
    // merchant's decision after reconciling), and the charge is there too.
    h.control().faults.once_on(CHARGE, Fault::TruncatedBody);
    let req = h
        .authorize_request(brl("5.00"), cards::APPROVE)
        .with_idempotency_key(key("order-9002"));
    let (r, sent) = counted(&h, p.authorize(req.clone())).await;
    let e = r.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert!(e.to_string().contains("order-9002"), "{e}");
    assert_eq!(sent, 1);
    let found = reconcile_authorize(p.as_ref(), "order-9002")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.status, HoldStatus::Authorized);
    assert_eq!(
        p.authorize(req).await.unwrap().provider_reference,
        "order-9002"
    );
    assert_eq!(charges_with(&h, "order-9002"), 1);
}

/// An authorize refused before it took effect (500 without effect on every attempt) leaves no
/// charge: reconcile says so (`None`), and the same key may then be sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorize_that_never_took_effect_reconciles_to_none() {
    let h = warm().await;
    let p = h.provider();
    h.control().faults.times(Fault::StatusBeforeEffect(503), 3);
    let req = h
        .authorize_request(brl("10.00"), cards::APPROVE)
        .with_idempotency_key(key("order-9100"));
    let e = p.authorize(req.clone()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert!(h.sim.ledger().is_empty());
    assert!(
        reconcile_authorize(p.as_ref(), "order-9100")
            .await
            .unwrap()
            .is_none(),
        "no such charge: it never took effect"
    );
    let held = p.authorize(req).await.unwrap();
    assert_eq!(held.provider_reference, "order-9100");
    assert_eq!(h.sim.ledger().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The token request
// ---------------------------------------------------------------------------------------------

/// Every fault kind on the token request: either the token is obtained after retries (the
/// token request is safe to repeat) and the charge is sent once, or the authorize fails with an
/// error about authentication (never `OutcomeUnknown`) and the charge is **not sent**.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_on_the_token_request_never_sends_the_charge() {
    for fault in all_faults(LONG_DELAY) {
        let h = LiquidoHarness::start_with(fast_transport()).await;
        h.control().faults.once_on(TOKEN, fault.clone());
        let r = hold_result(&h, "after-token").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Only an answer that arrived but cannot be read ends the attempt; the rest are retried.
        let unreadable = matches!(
            fault,
            Fault::MalformedBody | Fault::TruncatedBody | Fault::EmptyBody | Fault::HtmlBody
        );
        assert_eq!(r.is_err(), unreadable, "{fault:?}: {r:?}");
        match r {
            Ok(held) => {
                assert_eq!(held.status, HoldStatus::Authorized, "{fault:?}");
                assert_eq!(h.sim.ledger().len(), 1, "{fault:?}");
                assert_eq!(
                    h.control().requests(),
                    3,
                    "{fault:?}: the token request twice, the charge once"
                );
            }
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        Error::Protocol {
                            operation: Operation::Authenticate,
                            ..
                        }
                    ),
                    "{fault:?}: {e}"
                );
                assert!(!e.is_outcome_unknown(), "{fault:?}: {e}");
                assert_eq!(
                    h.control().requests(),
                    1,
                    "{fault:?}: only the token request"
                );
                assert!(h.sim.ledger().is_empty(), "{fault:?}: no charge sent");
                // The merchant may simply try again: a token, then one charge.
                let held = hold_result(&h, "after-token").await.unwrap();
                assert_eq!(held.status, HoldStatus::Authorized);
                assert_eq!(h.sim.ledger().len(), 1);
            }
        }
    }
}

/// The token endpoint down for every attempt: `Unavailable` (retryable), nothing else sent;
/// the same goes for a capture, which is then still capturable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_stays_down_is_unavailable_and_sends_nothing_else() {
    let h = LiquidoHarness::start_with(fast_transport()).await;
    h.control().faults.times(Fault::StatusBeforeEffect(503), 3);
    let e = hold_result(&h, "no-token").await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unavailable {
                operation: Operation::Authenticate,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.is_retryable());
    assert_eq!(h.control().requests(), 3, "three token attempts, no charge");
    assert!(h.sim.ledger().is_empty());

    // A capture whose token cannot be renewed is not sent either.
    let held = hold_result(&h, "no-token").await.unwrap();
    h.sim.revoke_tokens();
    h.control().clock.advance(Duration::from_secs(3600));
    h.control().faults.times(Fault::StatusBeforeEffect(500), 3);
    let e = h
        .client
        .capture(CaptureRequest::new(held.clone()))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(captures_of(&h, "no-token"), 0);
    let captured = h.client.capture(CaptureRequest::new(held)).await.unwrap();
    assert_eq!(captured.status, HoldStatus::Captured);
    assert_eq!(captures_of(&h, "no-token"), 1);
}

// ---------------------------------------------------------------------------------------------
// Rate limits and Retry-After
// ---------------------------------------------------------------------------------------------

/// 429 and 503 with `Retry-After` say "not processed": even a capture is retried, after the
/// delay the server asked for, and takes effect once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_on_429_and_503_is_honoured_even_for_a_capture() {
    let h = warm().await;
    for (i, fault) in [
        Fault::RateLimited {
            retry_after_secs: 1,
        },
        Fault::Unavailable {
            retry_after_secs: 1,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let k = format!("retry-after-{i}");
        let held = hold(&h, &k).await;
        h.control().faults.once_on(CAPTURE, fault.clone());
        let started = Instant::now();
        let (r, sent) = counted(&h, h.client.capture(CaptureRequest::new(held))).await;
        let captured = r.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{fault:?}: waited for Retry-After"
        );
        assert_eq!(captured.status, HoldStatus::Captured);
        assert_eq!(sent, 2, "{fault:?}");
        assert_eq!(captures_of(&h, &k), 1, "{fault:?}");
    }
}

/// 429 on every attempt: `RateLimited` with the server's delay, retryable, nothing captured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_on_every_attempt_is_rate_limited() {
    let h = warm().await;
    let held = hold(&h, "limited").await;
    h.control().faults.times(
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        3,
    );
    let (r, sent) = counted(&h, h.client.capture(CaptureRequest::new(held.clone()))).await;
    let e = r.unwrap_err();
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d.is_zero()),
        "{e}"
    );
    assert!(e.is_retryable());
    assert_eq!(sent, 3);
    assert_eq!(captures_of(&h, "limited"), 0);
    h.client.capture(CaptureRequest::new(held)).await.unwrap();
    assert_eq!(captures_of(&h, "limited"), 1);
}

// ---------------------------------------------------------------------------------------------
// Captures, cancels and refunds whose outcome is unknown
// ---------------------------------------------------------------------------------------------

/// A 5xx on a capture is `OutcomeUnknown`, sent exactly once; the query tells whether it took
/// effect (500 after the effect: captured; 500/502/503 before it: still authorized, so the
/// capture may be sent again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_on_a_capture_is_outcome_unknown_and_not_resent() {
    let h = warm().await;
    let p = h.provider();
    for (i, (fault, took_effect)) in [
        (Fault::StatusAfterEffect(500), true),
        (Fault::StatusBeforeEffect(500), false),
        (Fault::StatusBeforeEffect(502), false),
        (Fault::StatusBeforeEffect(503), false),
    ]
    .into_iter()
    .enumerate()
    {
        let k = format!("capture-5xx-{i}");
        let held = hold(&h, &k).await;
        h.control().faults.once_on(CAPTURE, fault.clone());
        let (r, sent) = counted(&h, p.capture(CaptureRequest::new(held.clone()))).await;
        let e = r.unwrap_err();
        assert!(
            matches!(&e, Error::OutcomeUnknown { operation: Operation::Capture, reference, .. } if *reference == k),
            "{fault:?}: {e}"
        );
        assert_eq!(sent, 1, "{fault:?}: a capture is never re-sent blindly");
        let (truth, sent) = counted(&h, reconcile_hold(p.as_ref(), &held)).await;
        let truth = truth.unwrap();
        assert_eq!(sent, 1);
        if took_effect {
            assert_eq!(truth.status, HoldStatus::Captured, "{fault:?}");
            assert_eq!(truth.captured, brl("100.00"));
        } else {
            assert_eq!(truth.status, HoldStatus::Authorized, "{fault:?}");
            // It did not happen: capturing now is safe.
            p.capture(CaptureRequest::new(truth)).await.unwrap();
        }
        assert_eq!(captures_of(&h, &k), 1, "{fault:?}: captured exactly once");
    }
}

/// A timeout after the capture took effect: `OutcomeUnknown`, then the query shows it
/// captured. A capture handled late (after the client gave up) shows authorized at first and
/// captured once it lands: the merchant who re-sent blindly would have been refused, the one
/// who reconciles later sees the truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_timeout_is_outcome_unknown_then_reconciled() {
    let h = warm().await;
    let p = h.provider();
    let held = hold(&h, "slow-answer").await;
    h.control()
        .faults
        .once_on(CAPTURE, Fault::DelayAfterEffect(LONG_DELAY));
    let (r, sent) = counted(&h, p.capture(CaptureRequest::new(held.clone()))).await;
    let e = r.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert_eq!(sent, 1);
    let truth = reconcile_hold(p.as_ref(), &held).await.unwrap();
    assert_eq!(truth.status, HoldStatus::Captured);
    assert_eq!(captures_of(&h, "slow-answer"), 1);

    let held = hold(&h, "slow-effect").await;
    // Lands a second after it was sent, long after the client gave up (250 ms).
    let late = Duration::from_secs(1);
    h.control()
        .faults
        .once_on(CAPTURE, Fault::DelayBeforeEffect(late));
    let (r, sent) = counted(&h, p.capture(CaptureRequest::new(held.clone()))).await;
    assert!(r.unwrap_err().is_outcome_unknown());
    assert_eq!(sent, 1);
    let now = reconcile_hold(p.as_ref(), &held).await.unwrap();
    assert_eq!(now.status, HoldStatus::Authorized, "not landed yet");
    tokio::time::sleep(late).await;
    let later = reconcile_hold(p.as_ref(), &held).await.unwrap();
    assert_eq!(later.status, HoldStatus::Captured, "landed");
    assert_eq!(captures_of(&h, "slow-effect"), 1);
}

/// A cancel whose connection breaks after it took effect, and a refund whose answer is a 500:
/// `OutcomeUnknown`, sent once; the query shows the truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_refund_outcome_unknown_are_reconciled() {
    let h = warm().await;
    let p = h.provider();
    let held = hold(&h, "cancel-reset").await;
    h.control().faults.once_on(CANCEL, Fault::ResetAfterEffect);
    let (r, sent) = counted(&h, p.cancel(CancelRequest::new(held.clone()))).await;
    let e = r.unwrap_err();
    assert!(
        matches!(
            e,
            Error::OutcomeUnknown {
                operation: Operation::Cancel,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(sent, 1);
    let truth = reconcile_hold(p.as_ref(), &held).await.unwrap();
    assert_eq!(truth.status, HoldStatus::Cancelled);

    let held = hold(&h, "money-back").await;
    let captured = p.capture(CaptureRequest::new(held)).await.unwrap();
    h.control()
        .faults
        .once_on("/charges/refund", Fault::StatusAfterEffect(500));
    let (r, sent) = counted(
        &h,
        p.refund(
            RefundRequest::new(captured.clone())
                .with_amount(brl("40.00"))
                .with_idempotency_key(key("refund-500-1")),
        ),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        matches!(&e, Error::OutcomeUnknown { operation: Operation::Refund, reference, .. } if reference == "refund-500-1"),
        "{e}"
    );
    assert_eq!(sent, 2, "the charge read, then the refund once");
    let refund = h.client.retrieve_refund("refund-500-1").await.unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount, brl("40.00"));
}

// ---------------------------------------------------------------------------------------------
// Odd bodies over HTTP
// ---------------------------------------------------------------------------------------------

/// HTML, empty, truncated and malformed answers: on a mutating call `OutcomeUnknown` naming
/// the reference (the call took effect: it must not look like "did not happen"), on a read a
/// `Protocol` error; never the body in the message, never a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_bodies_are_typed_errors_over_http() {
    let h = warm().await;
    let p = h.provider();
    for (i, fault) in [
        Fault::HtmlBody,
        Fault::EmptyBody,
        Fault::TruncatedBody,
        Fault::MalformedBody,
    ]
    .into_iter()
    .enumerate()
    {
        // Authorize.
        let k = format!("odd-{i}");
        h.control().faults.once_on(CHARGE, fault.clone());
        let e = hold_result(&h, &k).await.unwrap_err();
        assert!(
            matches!(&e, Error::OutcomeUnknown { operation: Operation::Authorize, reference, .. } if *reference == k),
            "{fault:?}: {e}"
        );
        assert!(std::error::Error::source(&e).is_some(), "keeps the cause");
        let held = p.retrieve(&HoldRef::merchant(&k)).await.unwrap();
        // Retrieve.
        h.control()
            .faults
            .once_on("/v1/payments/charges/odd", fault.clone());
        let e = p.retrieve(&held.reference()).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Protocol {
                    operation: Operation::Retrieve,
                    ..
                }
            ),
            "{fault:?}: {e}"
        );
        // Capture.
        h.control().faults.once_on(CAPTURE, fault.clone());
        let e = p
            .capture(CaptureRequest::new(held.clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::OutcomeUnknown {
                    operation: Operation::Capture,
                    ..
                }
            ),
            "{fault:?}: {e}"
        );
        for text in [e.to_string(), format!("{e:?}")] {
            for body_part in ["<html", "<!DOCTYPE", "Ana Silva", "411111", "AUTHORIZED"] {
                assert!(!text.contains(body_part), "{fault:?}: {text}");
            }
        }
        assert_eq!(captures_of(&h, &k), 1);
        // Cancel (of another hold).
        let k2 = format!("odd-cancel-{i}");
        let other = hold(&h, &k2).await;
        h.control().faults.once_on(CANCEL, fault.clone());
        let e = p
            .cancel(CancelRequest::new(other.clone()))
            .await
            .unwrap_err();
        assert!(e.is_outcome_unknown(), "{fault:?}: {e}");
        assert_eq!(
            p.retrieve(&other.reference()).await.unwrap().status,
            HoldStatus::Cancelled
        );
    }
}

/// The client keeps its connections: twenty calls in a row reuse the pooled connection (a
/// second one may open when a call starts before the pool got the first one back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_reused() {
    let h = warm().await;
    let held = hold(&h, "pooled").await;
    let before = h.control().connections();
    for _ in 0..20 {
        h.client.retrieve(&held.reference()).await.unwrap();
    }
    let opened = h.control().connections() - before;
    assert!(opened <= 2, "{opened} new connections for 20 calls");
    assert!(h.control().connections() <= 4);
}
