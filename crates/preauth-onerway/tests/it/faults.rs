//! Faults over real HTTP, one at a time, and how the client comes out of each: what is
//! retried (429 and 503 with `Retry-After`, reads), what is reported as outcome unknown and
//! never re-sent (5xx, resets, timeouts, unreadable bodies on a mutating call), and how the
//! truth is learned afterwards from `/v1/txn/list` by `merchantTxnIds`.

use std::time::{Duration, Instant};

use preauth_core::reconcile::{reconcile_authorize, reconcile_hold};
use preauth_core::sim::Fault;
use preauth_core::{
    CancelRequest, CaptureRequest, Currency, Error, Hold, HoldStatus, IdempotencyKey, Money,
    Operation, PreauthProvider, RefundRequest, RefundStatus, RetryPolicy, Transport,
    TransportConfig,
};
use preauth_onerway::simulator::codes;
use preauth_testkit::cards;
use preauth_testkit::harness::Harness;

use crate::common::OnerwayHarness;

const AUTH: &str = "/v1/txn/doTransaction";
const AUTH_PAYMENT: &str = "/v1/txn/authPayment";
const LIST: &str = "/v1/txn/list";
const REFUND: &str = "/v1/txn/onlineRefund";

/// The client's attempt timeout here: short enough for quick tests, long enough that a
/// request without a fault never times out on a busy machine.
const ATTEMPT: Duration = Duration::from_millis(500);
/// A delay past [`ATTEMPT`], with room for a reconcile and a re-send before it ends.
const LONG: Duration = Duration::from_millis(900);

fn eur(s: &str) -> Money {
    Money::parse_major(s, Currency::EUR).unwrap()
}

/// Faults after which the request took effect but the answer is lost or unreadable.
fn after_effect() -> Vec<Fault> {
    preauth_testkit::soak::after_effect_faults(LONG)
}

async fn harness() -> OnerwayHarness {
    let transport = Transport::new(
        TransportConfig::default()
            .with_connect_timeout(Duration::from_millis(500))
            .with_attempt_timeout(ATTEMPT)
            .with_total_timeout(Duration::from_secs(5))
            .with_retry(
                RetryPolicy::default()
                    .with_max_attempts(3)
                    .with_backoff(Duration::from_millis(5), Duration::from_millis(25)),
            ),
    )
    .unwrap();
    OnerwayHarness::start_with(transport).await
}

fn requests(h: &OnerwayHarness) -> u64 {
    h.sim.control().requests()
}

async fn authorized(h: &OnerwayHarness, key: &str) -> Hold {
    h.client
        .authorize(
            h.authorize_request(eur("80.00"), cards::APPROVE)
                .with_idempotency_key(IdempotencyKey::new(key).unwrap()),
        )
        .await
        .unwrap()
}

#[track_caller]
fn unknown(e: &Error, op: Operation, reference: &str) {
    match e {
        Error::OutcomeUnknown {
            operation,
            reference: r,
            ..
        } => {
            assert_eq!(*operation, op, "{e}");
            assert_eq!(r, reference, "{e}");
        }
        other => panic!("expected OutcomeUnknown of {op}, got {other}"),
    }
}

/// The ledger's captures of the hold `provider_reference`.
fn captures(h: &OnerwayHarness, provider_reference: &str) -> u32 {
    h.sim
        .ledger()
        .into_iter()
        .find(|e| e.provider_reference == provider_reference)
        .map(|e| e.captures)
        .unwrap()
}

/// An authorization whose answer is lost after it took effect: outcome unknown naming the
/// key, sent exactly once, and the hold is found by `merchantTxnIds`.
#[tokio::test]
async fn an_authorize_outcome_unknown_is_reconciled_by_merchant_txn_id() {
    let h = harness().await;
    for (i, fault) in after_effect().into_iter().enumerate() {
        let key = format!("auth-unknown-{i}");
        h.sim.control().faults.once_on(AUTH, fault.clone());
        let before = requests(&h);
        let e = h
            .client
            .authorize(
                h.authorize_request(eur("25.00"), cards::APPROVE)
                    .with_idempotency_key(IdempotencyKey::new(&key).unwrap()),
            )
            .await
            .unwrap_err();
        unknown(&e, Operation::Authorize, &key);
        assert_eq!(requests(&h) - before, 1, "{fault:?}: sent exactly once");
        let found = reconcile_authorize(&h.client, &key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{fault:?}: the hold exists"));
        assert_eq!(requests(&h) - before, 2, "{fault:?}: then one lookup");
        assert_eq!(found.status, HoldStatus::Authorized, "{fault:?}");
        assert_eq!(found.merchant_reference, key);
        assert_eq!(found.authorized, eur("25.00"));
        // The reconciled hold is a normal hold: it captures.
        let captured = h.client.capture(CaptureRequest::new(found)).await.unwrap();
        assert_eq!(captured.status, HoldStatus::Captured);
    }
    assert_eq!(h.sim.ledger().len(), after_effect().len(), "one hold each");
}

/// An authorization refused at the door (a 5xx before Onerway handled it) is also outcome
/// unknown to the client; the lookup says it never took effect, so the same key may go again.
#[tokio::test]
async fn an_authorize_that_never_took_effect_is_sent_again_with_the_same_key() {
    let h = harness().await;
    let req = h
        .authorize_request(eur("25.00"), cards::APPROVE)
        .with_idempotency_key(IdempotencyKey::new("never-happened").unwrap());
    h.sim
        .control()
        .faults
        .once_on(AUTH, Fault::StatusBeforeEffect(502));
    let e = h.client.authorize(req.clone()).await.unwrap_err();
    unknown(&e, Operation::Authorize, "never-happened");
    assert_eq!(
        reconcile_authorize(&h.client, "never-happened")
            .await
            .unwrap(),
        None
    );
    let hold = h.client.authorize(req).await.unwrap();
    assert_eq!(hold.merchant_reference, "never-happened");
    assert_eq!(h.sim.ledger().len(), 1);
}

/// The race a lookup cannot close: the first authorization is delayed past the timeout,
/// the lookup finds nothing yet, the caller sends the key again. Whichever copy Onerway
/// handles second is refused, and the client never reports that refusal as "did not happen":
/// there is one hold, and the caller learns it.
#[tokio::test]
async fn a_delayed_authorize_and_its_resend_make_one_hold() {
    let h = harness().await;
    // The re-send arrives first: it makes the hold; the delayed original is refused later.
    let req = h
        .authorize_request(eur("25.00"), cards::APPROVE)
        .with_idempotency_key(IdempotencyKey::new("race-1").unwrap());
    h.sim
        .control()
        .faults
        .once_on(AUTH, Fault::DelayBeforeEffect(LONG));
    let e = h.client.authorize(req.clone()).await.unwrap_err();
    unknown(&e, Operation::Authorize, "race-1");
    assert_eq!(
        reconcile_authorize(&h.client, "race-1").await.unwrap(),
        None
    );
    let hold = h.client.authorize(req).await.unwrap();
    tokio::time::sleep(LONG).await;
    let truth = reconcile_authorize(&h.client, "race-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(truth.provider_reference, hold.provider_reference);

    // The delayed original lands first: the re-send is refused, and the client, finding the
    // key taken, reports the outcome as unknown (never "rejected"); the lookup finds the hold.
    let req = h
        .authorize_request(eur("25.00"), cards::APPROVE)
        .with_idempotency_key(IdempotencyKey::new("race-2").unwrap());
    h.sim
        .control()
        .faults
        .once_on(AUTH, Fault::DelayBeforeEffect(LONG));
    let e = h.client.authorize(req.clone()).await.unwrap_err();
    unknown(&e, Operation::Authorize, "race-2");
    assert_eq!(
        reconcile_authorize(&h.client, "race-2").await.unwrap(),
        None
    );
    tokio::time::sleep(LONG).await;
    let e = h.client.authorize(req).await.unwrap_err();
    unknown(&e, Operation::Authorize, "race-2");
    assert!(
        e.to_string().contains(codes::DUPLICATE_MERCHANT_TXN_ID),
        "{e}"
    );
    let truth = reconcile_authorize(&h.client, "race-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(truth.status, HoldStatus::Authorized);
    assert_eq!(h.sim.ledger().len(), 2, "one hold per key");
}

/// A capture whose answer is lost after it took effect: outcome unknown, sent once, never
/// re-sent; retrieve shows it captured (with the capture's transactionId), and a second
/// capture is then refused locally.
#[tokio::test]
async fn a_capture_outcome_unknown_is_reconciled_by_retrieve_and_never_resent() {
    let h = harness().await;
    for (i, fault) in after_effect().into_iter().enumerate() {
        let hold = authorized(&h, &format!("cap-unknown-{i}")).await;
        h.sim.control().faults.once_on(AUTH_PAYMENT, fault.clone());
        let before = requests(&h);
        let e = h
            .client
            .capture(CaptureRequest::new(hold.clone()))
            .await
            .unwrap_err();
        unknown(&e, Operation::Capture, &hold.provider_reference);
        assert_eq!(requests(&h) - before, 1, "{fault:?}: not re-sent");
        let truth = reconcile_hold(&h.client, &hold).await.unwrap();
        assert_eq!(truth.status, HoldStatus::Captured, "{fault:?}");
        assert_eq!(truth.captured, hold.authorized);
        assert!(truth.capture_reference.is_some());
        // The capture's merchantTxnId is `{key}-capture`: that is how retrieve found it.
        assert_eq!(captures(&h, &hold.provider_reference), 1, "{fault:?}");
        let before = requests(&h);
        let e = h
            .client
            .capture(CaptureRequest::new(truth))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidState { .. }), "{e}");
        assert_eq!(requests(&h), before, "refused locally");
    }
}

/// 500 on capture: outcome unknown, not re-sent. Here it never took effect: retrieve says
/// so, and only then is the capture sent again (same `{key}-capture`).
#[tokio::test]
async fn a_500_on_capture_is_outcome_unknown_then_reconciled_before_sending_again() {
    let h = harness().await;
    let hold = authorized(&h, "cap-500").await;
    h.sim
        .control()
        .faults
        .once_on(AUTH_PAYMENT, Fault::StatusBeforeEffect(500));
    let before = requests(&h);
    let e = h
        .client
        .capture(CaptureRequest::new(hold.clone()))
        .await
        .unwrap_err();
    unknown(&e, Operation::Capture, &hold.provider_reference);
    assert_eq!(requests(&h) - before, 1, "not re-sent");
    let truth = reconcile_hold(&h.client, &hold).await.unwrap();
    assert_eq!(truth.status, HoldStatus::Authorized, "it did not happen");
    let captured = h.client.capture(CaptureRequest::new(truth)).await.unwrap();
    assert_eq!(captured.status, HoldStatus::Captured);
    assert_eq!(captures(&h, &hold.provider_reference), 1);
}

/// A capture delayed past the timeout, reconciled before it lands, then sent again: the two
/// copies carry the same `{key}-capture`, so Onerway takes one; if the delayed one lands
/// first, the re-send's refusal is answered with the capture that took effect.
#[tokio::test]
async fn a_delayed_capture_and_its_resend_capture_once() {
    let h = harness().await;
    for resend_first in [true, false] {
        let hold = authorized(&h, &format!("cap-race-{resend_first}")).await;
        h.sim
            .control()
            .faults
            .once_on(AUTH_PAYMENT, Fault::DelayBeforeEffect(LONG));
        let e = h
            .client
            .capture(CaptureRequest::new(hold.clone()))
            .await
            .unwrap_err();
        unknown(&e, Operation::Capture, &hold.provider_reference);
        let truth = reconcile_hold(&h.client, &hold).await.unwrap();
        assert_eq!(truth.status, HoldStatus::Authorized, "not landed yet");
        if !resend_first {
            tokio::time::sleep(LONG).await;
        }
        let captured = h.client.capture(CaptureRequest::new(truth)).await.unwrap();
        assert_eq!(captured.status, HoldStatus::Captured);
        tokio::time::sleep(LONG).await;
        let truth = reconcile_hold(&h.client, &hold).await.unwrap();
        assert_eq!(truth.capture_reference, captured.capture_reference);
        assert_eq!(captures(&h, &hold.provider_reference), 1, "{resend_first}");
    }
}

/// A void whose answer is lost: outcome unknown, sent once; retrieve shows it cancelled.
#[tokio::test]
async fn a_void_outcome_unknown_is_reconciled_by_retrieve() {
    let h = harness().await;
    for (i, fault) in after_effect().into_iter().enumerate() {
        let hold = authorized(&h, &format!("void-unknown-{i}")).await;
        h.sim.control().faults.once_on(AUTH_PAYMENT, fault.clone());
        let before = requests(&h);
        let e = h
            .client
            .cancel(CancelRequest::new(hold.clone()))
            .await
            .unwrap_err();
        unknown(&e, Operation::Cancel, &hold.provider_reference);
        assert_eq!(requests(&h) - before, 1, "{fault:?}: not re-sent");
        let truth = reconcile_hold(&h.client, &hold).await.unwrap();
        assert_eq!(truth.status, HoldStatus::Cancelled, "{fault:?}");
        // Nothing more can happen to it, and nothing is sent to try.
        let before = requests(&h);
        assert!(matches!(
            h.client.capture(CaptureRequest::new(truth)).await,
            Err(Error::InvalidState { .. })
        ));
        assert_eq!(requests(&h), before);
    }
    assert!(
        h.sim
            .ledger()
            .iter()
            .all(|e| e.status == HoldStatus::Cancelled && e.captures == 0)
    );
}

/// A refund whose answer is lost: outcome unknown; the same key sent again is refused by
/// Onerway, and the client answers with the refund that took effect (found by its key).
#[tokio::test]
async fn a_refund_outcome_unknown_is_found_by_its_key() {
    let h = harness().await;
    let hold = authorized(&h, "refund-unknown").await;
    let captured = h.client.capture(CaptureRequest::new(hold)).await.unwrap();
    let req = RefundRequest::new(captured.clone())
        .with_amount(eur("30.00"))
        .with_idempotency_key(IdempotencyKey::new("refund-unknown-r1").unwrap());
    h.sim
        .control()
        .faults
        .once_on(REFUND, Fault::StatusAfterEffect(500));
    let before = requests(&h);
    let e = h.client.refund(req.clone()).await.unwrap_err();
    unknown(&e, Operation::Refund, &captured.provider_reference);
    assert_eq!(requests(&h) - before, 1);
    let refund = h.client.refund(req).await.unwrap();
    assert_eq!(requests(&h) - before, 3, "the refund, refused; one lookup");
    assert_eq!(refund.status, RefundStatus::Pending, "in audit");
    assert_eq!(refund.merchant_reference, "refund-unknown-r1");
    assert_eq!(refund.amount, eur("30.00"));
    // One refund of 30 in audit: 50 more fit, 50.01 do not.
    let e = h
        .client
        .refund(RefundRequest::new(captured).with_amount(eur("50.01")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }), "{e}");
}

/// 429 and 503 with `Retry-After` say "not processed": retried after the wait, on mutating
/// calls too, and the operation takes effect once.
#[tokio::test]
async fn rate_limited_and_unavailable_with_retry_after_are_retried() {
    let h = harness().await;
    h.sim.control().faults.once_on(
        AUTH,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    let before = requests(&h);
    let started = Instant::now();
    let hold = authorized(&h, "retry-after-1").await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(requests(&h) - before, 2, "once refused, once handled");
    h.sim.control().faults.once_on(
        AUTH_PAYMENT,
        Fault::Unavailable {
            retry_after_secs: 0,
        },
    );
    let before = requests(&h);
    let captured = h.client.capture(CaptureRequest::new(hold)).await.unwrap();
    assert_eq!(captured.status, HoldStatus::Captured);
    assert_eq!(requests(&h) - before, 2);
    h.sim.control().faults.once_on(
        LIST,
        Fault::RateLimited {
            retry_after_secs: 0,
        },
    );
    let seen = h.client.retrieve(&captured.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Captured);
    assert_eq!(h.sim.ledger().len(), 1);
    assert_eq!(captures(&h, &captured.provider_reference), 1);
    // A 429 that never ends: RateLimited, nothing took effect.
    h.sim.control().faults.times(
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        3,
    );
    let e = h
        .client
        .authorize(h.authorize_request(eur("5.00"), cards::APPROVE))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e}");
    assert!(e.is_retryable());
    assert_eq!(h.sim.ledger().len(), 1);
    // A 503 without Retry-After on a mutating call is ambiguous: outcome unknown.
    h.sim
        .control()
        .faults
        .once_on(AUTH, Fault::StatusBeforeEffect(503));
    let e = h
        .client
        .authorize(h.authorize_request(eur("5.00"), cards::APPROVE))
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
}

/// Reads are safe to repeat: a 5xx or a timeout on the query is retried; an answer that
/// cannot be read is a protocol error (a typed error, no panic, no guess).
#[tokio::test]
async fn reads_retry_transient_failures_and_type_unreadable_answers() {
    let h = harness().await;
    let hold = authorized(&h, "reads").await;
    for fault in [
        Fault::StatusBeforeEffect(500),
        Fault::StatusAfterEffect(502),
        Fault::ResetAfterEffect,
        Fault::DelayBeforeEffect(LONG),
        Fault::DelayAfterEffect(LONG),
    ] {
        h.sim.control().faults.once_on(LIST, fault.clone());
        let before = requests(&h);
        let seen = h.client.retrieve(&hold.reference()).await.unwrap();
        assert_eq!(seen.status, HoldStatus::Authorized, "{fault:?}");
        assert_eq!(requests(&h) - before, 2, "{fault:?}: retried once");
    }
    for fault in [
        Fault::HtmlBody,
        Fault::EmptyBody,
        Fault::TruncatedBody,
        Fault::MalformedBody,
    ] {
        h.sim.control().faults.once_on(LIST, fault.clone());
        let e = h.client.retrieve(&hold.reference()).await.unwrap_err();
        match &e {
            Error::Protocol { operation, .. } => assert_eq!(*operation, Operation::Retrieve),
            other => panic!("{fault:?}: expected Protocol, got {other}"),
        }
        // The message names the problem, never quotes the body.
        assert!(!e.to_string().contains("<html"), "{e}");
    }
    // And the same answers to a mutating call leave its outcome unknown (checked above for
    // authorize, capture and void): an odd body never means "did not happen".
}
