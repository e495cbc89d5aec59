//! Faults over real HTTP against the simulator: what is retried (429 and 503 with
//! `Retry-After`, reads), what is never re-sent (every mutating call that may have taken
//! effect), and how the true state is learned afterwards with `v3.QueryOrder`. Every mutating
//! request is counted at the simulator: sent exactly once.

use std::time::{Duration, Instant};

use preauth_core::reconcile::{reconcile_authorize, reconcile_hold};
use preauth_core::sim::Fault;
use preauth_core::{
    CancelRequest, CaptureRequest, DecrementRequest, Error, Hold, HoldStatus, IdempotencyKey,
    Operation, PreauthProvider,
};
use preauth_testkit::cards;
use preauth_testkit::harness::Harness;

use crate::common::eur;
use crate::conformance::{YabandPayHarness, harness_with};
use crate::soak::soak_transport;

/// Longer than the attempt timeout of [`soak_transport`] (200 ms).
const LONG: Duration = Duration::from_millis(400);

/// Every fault after which a mutating call may have taken effect.
fn after_effect_faults() -> Vec<Fault> {
    preauth_testkit::soak::after_effect_faults(LONG)
}

async fn setup() -> YabandPayHarness {
    harness_with(soak_transport()).await
}

async fn hold(h: &YabandPayHarness, amount: &str) -> Hold {
    h.client
        .authorize(h.authorize_request(eur(amount), cards::APPROVE))
        .await
        .unwrap()
}

/// Lets a handler held up by `fault` finish on the simulator before the next step.
async fn settle(fault: &Fault) {
    if matches!(fault, Fault::DelayBeforeEffect(_)) {
        tokio::time::sleep(LONG + Duration::from_millis(50)).await;
    }
}

fn assert_unknown(e: &Error, op: Operation, reference: &str) {
    match e {
        Error::OutcomeUnknown {
            operation,
            reference: r,
            ..
        } => {
            assert_eq!(*operation, op, "{e}");
            assert_eq!(r, reference, "{e}");
            assert!(e.to_string().contains(reference), "{e}");
        }
        other => panic!("expected outcome unknown, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limited_429_with_retry_after_is_retried_after_the_delay() {
    let h = setup().await;
    let held = hold(&h, "50.00").await;
    h.control().faults.once(Fault::RateLimited {
        retry_after_secs: 1,
    });
    let before = h.control().requests();
    let t0 = Instant::now();
    let captured = h
        .client
        .capture(CaptureRequest::new(held.clone()))
        .await
        .unwrap();
    assert!(
        t0.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(captured.status, HoldStatus::Captured);
    assert_eq!(
        h.control().requests() - before,
        2,
        "refused once, sent again"
    );
    assert_eq!(h.sim.ledger()[0].captures, 1);
}

#[tokio::test]
async fn unavailable_503_with_retry_after_is_retried_after_the_delay() {
    let h = setup().await;
    h.control().faults.once(Fault::Unavailable {
        retry_after_secs: 1,
    });
    let before = h.control().requests();
    let t0 = Instant::now();
    let held = hold(&h, "50.00").await;
    assert!(
        t0.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(held.status, HoldStatus::Authorized);
    assert_eq!(h.control().requests() - before, 2);
    assert_eq!(h.sim.ledger().len(), 1, "one hold, not two");
}

#[tokio::test]
async fn rate_limits_that_last_are_reported_retryable_and_nothing_took_effect() {
    let h = setup().await;
    let held = hold(&h, "50.00").await;
    h.control().faults.times(
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        3,
    );
    let e = h
        .client
        .capture(CaptureRequest::new(held.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e}");
    assert!(e.is_retryable());
    assert_eq!(h.sim.state_of(&held.provider_reference), Some("authorized"));
}

#[tokio::test]
async fn server_error_on_capture_is_outcome_unknown_and_not_re_sent() {
    for fault in [
        Fault::StatusBeforeEffect(500),
        Fault::StatusBeforeEffect(502),
        Fault::StatusBeforeEffect(503),
        Fault::StatusAfterEffect(500),
    ] {
        let h = setup().await;
        let held = hold(&h, "50.00").await;
        h.control().faults.once(fault.clone());
        let before = h.control().requests();
        let e = h
            .client
            .capture(CaptureRequest::new(held.clone()))
            .await
            .unwrap_err();
        assert_unknown(&e, Operation::Capture, &held.provider_reference);
        assert_eq!(
            h.control().requests() - before,
            1,
            "{fault:?}: the capture is sent exactly once"
        );
        // Reconcile: the query tells whether it took effect.
        let now = reconcile_hold(&h.client, &held).await.unwrap();
        let want = if fault.takes_effect() {
            HoldStatus::Captured
        } else {
            HoldStatus::Authorized
        };
        assert_eq!(now.status, want, "{fault:?}");
        assert_eq!(h.control().requests() - before, 2, "one query");
        if !fault.takes_effect() {
            // It did not happen: now (and only now) capture again.
            let c = h.client.capture(CaptureRequest::new(now)).await.unwrap();
            assert_eq!(c.status, HoldStatus::Captured);
        }
        assert_eq!(h.sim.ledger()[0].captures, 1, "{fault:?}");
    }
}

#[tokio::test]
async fn capture_outcome_unknown_then_reconcile_finds_it_captured() {
    for fault in after_effect_faults() {
        let h = setup().await;
        let held = hold(&h, "80.00").await;
        h.control().faults.once(fault.clone());
        let before = h.control().requests();
        let e = h
            .client
            .capture(CaptureRequest::new(held.clone()).with_amount(eur("70.00")))
            .await
            .unwrap_err();
        assert_unknown(&e, Operation::Capture, &held.provider_reference);
        assert_eq!(h.control().requests() - before, 1, "{fault:?}: sent once");
        settle(&fault).await;
        let now = reconcile_hold(&h.client, &held).await.unwrap();
        assert_eq!(now.status, HoldStatus::Captured, "{fault:?}");
        assert_eq!(now.captured, eur("70.00"), "{fault:?}");
        assert_eq!(h.control().requests() - before, 2, "{fault:?}: one query");
        // The reconciled hold refuses a second capture locally: nothing is sent.
        let e = h
            .client
            .capture(CaptureRequest::new(now))
            .await
            .unwrap_err();
        assert!(e.is_local(), "{e}");
        assert_eq!(h.control().requests() - before, 2);
        assert_eq!(h.sim.ledger()[0].captures, 1, "{fault:?}");
    }
}

/// The answer times out after the capture took effect; the query learns it.
#[tokio::test]
async fn timeout_after_the_effect_is_outcome_unknown_then_reconciled() {
    let h = setup().await;
    let held = hold(&h, "30.00").await;
    h.control().faults.once(Fault::DelayAfterEffect(LONG));
    let before = h.control().requests();
    let t0 = Instant::now();
    let e = h
        .client
        .capture(CaptureRequest::new(held.clone()))
        .await
        .unwrap_err();
    assert!(
        t0.elapsed() < LONG,
        "the client gave up at its attempt timeout"
    );
    assert_unknown(&e, Operation::Capture, &held.provider_reference);
    assert!(e.to_string().contains("no complete answer"), "{e}");
    assert_eq!(h.sim.state_of(&held.provider_reference), Some("paid"));
    let now = reconcile_hold(&h.client, &held).await.unwrap();
    assert_eq!(now.status, HoldStatus::Captured);
    assert_eq!(h.control().requests() - before, 2);
}

/// The request is held up before it takes effect: the first query may still see the hold
/// authorized; once the late request lands, the query sees it captured. Never two captures.
#[tokio::test]
async fn delay_before_the_effect_is_outcome_unknown_and_lands_late() {
    let h = setup().await;
    let held = hold(&h, "30.00").await;
    h.control().faults.once(Fault::DelayBeforeEffect(LONG));
    let e = h
        .client
        .capture(CaptureRequest::new(held.clone()))
        .await
        .unwrap_err();
    assert_unknown(&e, Operation::Capture, &held.provider_reference);
    assert_eq!(h.sim.state_of(&held.provider_reference), Some("authorized"));
    settle(&Fault::DelayBeforeEffect(LONG)).await;
    let now = reconcile_hold(&h.client, &held).await.unwrap();
    assert_eq!(now.status, HoldStatus::Captured);
    assert_eq!(h.sim.ledger()[0].captures, 1);
}

#[tokio::test]
async fn cancel_outcome_unknown_then_reconcile() {
    let mut faults = after_effect_faults();
    faults.push(Fault::StatusBeforeEffect(500));
    for fault in faults {
        let h = setup().await;
        let held = hold(&h, "25.00").await;
        h.control().faults.once(fault.clone());
        let before = h.control().requests();
        let e = h
            .client
            .cancel(CancelRequest::new(held.clone()))
            .await
            .unwrap_err();
        assert_unknown(&e, Operation::Cancel, &held.provider_reference);
        assert_eq!(h.control().requests() - before, 1, "{fault:?}: sent once");
        settle(&fault).await;
        let now = reconcile_hold(&h.client, &held).await.unwrap();
        let want = if fault.takes_effect() {
            HoldStatus::Cancelled
        } else {
            HoldStatus::Authorized
        };
        assert_eq!(now.status, want, "{fault:?}");
        assert_eq!(h.control().requests() - before, 2, "{fault:?}");
    }
}

/// A decrement is real money: sent once, and the query tells what is held now.
#[tokio::test]
async fn decrement_outcome_unknown_then_reconcile_learns_the_held_amount() {
    let mut faults = after_effect_faults();
    faults.push(Fault::StatusBeforeEffect(503));
    for fault in faults {
        let h = setup().await;
        let held = hold(&h, "100.00").await;
        h.control().faults.once(fault.clone());
        let before = h.control().requests();
        let e = h
            .client
            .decrement(DecrementRequest::new(held.clone(), eur("30.00")))
            .await
            .unwrap_err();
        assert_unknown(&e, Operation::Decrement, &held.provider_reference);
        assert_eq!(h.control().requests() - before, 1, "{fault:?}: sent once");
        settle(&fault).await;
        let now = reconcile_hold(&h.client, &held).await.unwrap();
        assert_eq!(now.status, HoldStatus::Authorized, "{fault:?}");
        let want = if fault.takes_effect() {
            eur("70.00")
        } else {
            eur("100.00")
        };
        assert_eq!(now.authorized, want, "{fault:?}");
        assert_eq!(h.sim.held(&held.provider_reference), Some(want));
        assert_eq!(h.control().requests() - before, 2, "{fault:?}");
        // Capture what is really held.
        let c = h.client.capture(CaptureRequest::new(now)).await.unwrap();
        assert_eq!(c.captured, want, "{fault:?}");
    }
}

/// YabandPay cannot look an order up by `order_id`: after an authorization whose outcome is
/// unknown, the error and the reconcile attempt name the reference, nothing else is sent, and
/// the simulator's ledger shows the hold under that reference (only a notification or the
/// dashboard could tell the merchant).
#[tokio::test]
async fn authorize_outcome_unknown_is_reported_with_its_reference() {
    let mut faults = after_effect_faults();
    faults.push(Fault::DelayBeforeEffect(LONG));
    for (i, fault) in faults.into_iter().enumerate() {
        let h = setup().await;
        let key = IdempotencyKey::new(format!("unknown-authorize-{i:04}")).unwrap();
        let req = h
            .authorize_request(eur("60.00"), cards::APPROVE)
            .with_idempotency_key(key.clone());
        h.control().faults.once(fault.clone());
        let before = h.control().requests();
        let e = h.client.authorize(req).await.unwrap_err();
        assert_unknown(&e, Operation::Authorize, key.as_str());
        assert_eq!(h.control().requests() - before, 1, "{fault:?}: sent once");
        let r = reconcile_authorize(&h.client, key.as_str())
            .await
            .unwrap_err();
        assert!(matches!(r, Error::Unsupported { .. }), "{r}");
        assert!(r.to_string().contains(key.as_str()), "{r}");
        assert_eq!(h.control().requests() - before, 1, "nothing more was sent");
        settle(&fault).await;
        let ledger = h.sim.ledger();
        assert_eq!(ledger.len(), 1, "{fault:?}");
        assert_eq!(ledger[0].order_id, key.as_str());
        assert_eq!(ledger[0].status, HoldStatus::Authorized);
    }
}

/// Faults that say nothing took effect leave no hold; the same key may be sent again.
#[tokio::test]
async fn authorize_refused_before_the_effect_leaves_nothing_and_can_be_resent() {
    let h = setup().await;
    let key = IdempotencyKey::new("resend-after-503-000000001").unwrap();
    let req = h
        .authorize_request(eur("60.00"), cards::APPROVE)
        .with_idempotency_key(key.clone());
    h.control().faults.times(
        Fault::Unavailable {
            retry_after_secs: 0,
        },
        3,
    );
    let e = h.client.authorize(req.clone()).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    assert!(h.sim.ledger().is_empty());
    let held = h.client.authorize(req).await.unwrap();
    assert_eq!(held.merchant_reference, key.as_str());
    assert_eq!(h.sim.ledger().len(), 1);
}

/// Reads are safe to repeat: a 5xx, a reset or a timeout on a query is retried.
#[tokio::test]
async fn queries_are_retried_after_transient_faults() {
    for fault in [
        Fault::StatusBeforeEffect(500),
        Fault::StatusAfterEffect(502),
        Fault::ResetAfterEffect,
        Fault::DelayBeforeEffect(LONG),
        Fault::DelayAfterEffect(LONG),
    ] {
        let h = setup().await;
        let held = hold(&h, "10.00").await;
        h.control().faults.once(fault.clone());
        let before = h.control().requests();
        let seen = h.client.retrieve(&held.reference()).await.unwrap();
        assert_eq!(seen.status, HoldStatus::Authorized, "{fault:?}");
        assert_eq!(h.control().requests() - before, 2, "{fault:?}");
    }
}

/// Odd bodies are typed errors: for a query a protocol error naming the problem (never the
/// body); for a mutating call an unknown outcome (it may have happened).
#[tokio::test]
async fn html_empty_truncated_and_malformed_bodies_are_typed_errors() {
    for (fault, problem) in [
        (Fault::HtmlBody, "HTML"),
        (Fault::EmptyBody, "empty body"),
        (Fault::TruncatedBody, "truncated or malformed"),
        (Fault::MalformedBody, "truncated or malformed"),
    ] {
        let h = setup().await;
        let held = hold(&h, "10.00").await;
        h.control().faults.once(fault.clone());
        let e = h.client.retrieve(&held.reference()).await.unwrap_err();
        match &e {
            Error::Protocol {
                operation, message, ..
            } => {
                assert_eq!(*operation, Operation::Retrieve);
                assert!(message.contains(problem), "{fault:?}: {message}");
                assert!(!message.contains("<html"), "{message}");
            }
            other => panic!("{fault:?}: {other:?}"),
        }
        h.control().faults.once(fault.clone());
        let e = h
            .client
            .decrement(DecrementRequest::new(held.clone(), eur("1.00")))
            .await
            .unwrap_err();
        assert_unknown(&e, Operation::Decrement, &held.provider_reference);
        assert!(e.to_string().contains(problem), "{fault:?}: {e}");
    }
}

/// Connections are pooled: a run of operations reuses one connection.
#[tokio::test]
async fn connections_are_reused() {
    let h = setup().await;
    let before = h.control().connections();
    for _ in 0..10 {
        let held = hold(&h, "10.00").await;
        h.client.retrieve(&held.reference()).await.unwrap();
        h.client.capture(CaptureRequest::new(held)).await.unwrap();
    }
    assert!(
        h.control().connections() - before <= 2,
        "{} connections for 30 requests",
        h.control().connections() - before
    );
}
