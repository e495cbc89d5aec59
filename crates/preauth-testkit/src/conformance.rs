//! The conformance suite: one async function per behaviour, gated by
//! [`Capabilities`](preauth_core::Capabilities). What a provider claims must work; what it
//! does not claim must be refused with [`Error::Unsupported`] **before any request is sent**.
//!
//! Run all of it against a [`Harness`] with [`conformance_tests!`](crate::conformance_tests),
//! which makes one `#[tokio::test]` per scenario. Every scenario drives the provider through
//! `Arc<dyn PreauthProvider>`, exactly as a merchant holds it.
//!
//! The scenarios panic with a message naming the broken behaviour: they are test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use preauth_core::reconcile::{reconcile_authorize, reconcile_hold};
use preauth_core::sim::Fault;
use preauth_core::{
    CancelRequest, CaptureRequest, DecrementRequest, Error, Hold, HoldRef, HoldStatus,
    IdempotencyKey, Money, NextAction, RefundRequest, ReplayGuard, WebhookRequest,
};

use crate::harness::{Harness, cards};

/// Every scenario's name, in the order [`conformance_tests!`](crate::conformance_tests) runs them.
pub const SCENARIOS: &[&str] = &[
    "hold_then_full_capture",
    "hold_then_partial_capture",
    "hold_then_cancel",
    "hold_then_decrement_then_capture",
    "decrement_to_zero_or_below_is_refused_locally",
    "over_capture_is_refused_locally",
    "double_capture_is_refused",
    "cancel_after_capture_is_refused_locally",
    "decline_is_reported_as_declined",
    "three_ds_gives_the_redirect",
    "retrieve_reflects_each_step",
    "refund_after_capture",
    "hold_expires_after_its_validity",
    "lookup_by_merchant_reference",
    "authorize_is_deduplicated_by_key",
    "capture_outcome_unknown_is_reconciled",
    "webhook_round_trip",
];

fn money(h: &dyn Harness, major: &str) -> Money {
    Money::parse_major(major, h.currency()).expect("test amount")
}

/// Authorizes `major` on the approving card and checks the hold is authorized.
pub async fn authorized_hold(h: &dyn Harness, major: &str) -> Hold {
    let p = h.provider();
    let amount = money(h, major);
    let hold = p
        .authorize(h.authorize_request(amount, cards::APPROVE))
        .await
        .unwrap_or_else(|e| panic!("authorize on the approving card failed: {e}"));
    assert_eq!(
        hold.status,
        HoldStatus::Authorized,
        "approving card gives an authorized hold"
    );
    assert_eq!(hold.authorized, amount, "the hold is for the amount asked");
    assert!(hold.captured.is_zero(), "nothing captured yet");
    assert_eq!(hold.provider, p.name());
    assert!(
        !hold.provider_reference.is_empty(),
        "the hold has a provider reference"
    );
    assert!(
        !hold.merchant_reference.is_empty(),
        "the hold has a merchant reference"
    );
    hold
}

/// Runs `f` and asserts that it was refused locally: a local error and no request received.
async fn refused_locally<F, T>(h: &dyn Harness, what: &str, f: F) -> Error
where
    F: std::future::Future<Output = preauth_core::Result<T>>,
    T: std::fmt::Debug,
{
    let before = h.control().requests();
    let r = f.await;
    let after = h.control().requests();
    let e = match r {
        Ok(v) => panic!("{what}: expected a local refusal, got {v:?}"),
        Err(e) => e,
    };
    assert!(e.is_local(), "{what}: expected a local error, got {e}");
    assert_eq!(
        after,
        before,
        "{what}: nothing may be sent, but {} request(s) were",
        after - before
    );
    e
}

/// Hold 100, capture everything: captured 100, status captured.
pub async fn hold_then_full_capture(h: &dyn Harness) {
    let hold = authorized_hold(h, "100.00").await;
    let captured = h
        .provider()
        .capture(CaptureRequest::new(hold.clone()))
        .await
        .expect("full capture");
    assert_eq!(captured.status, HoldStatus::Captured);
    assert_eq!(
        captured.captured, hold.authorized,
        "full capture takes everything held"
    );
    assert_eq!(captured.provider_reference, hold.provider_reference);
}

/// Hold 100, capture 60: captured 60 where partial capture is claimed; refused with
/// `Unsupported` and nothing sent otherwise.
pub async fn hold_then_partial_capture(h: &dyn Harness) {
    let p = h.provider();
    let hold = authorized_hold(h, "100.00").await;
    let req = CaptureRequest::new(hold.clone()).with_amount(money(h, "60.00"));
    if p.capabilities().partial_capture {
        let captured = p.capture(req).await.expect("partial capture");
        assert_eq!(captured.status, HoldStatus::Captured);
        assert_eq!(captured.captured, money(h, "60.00"));
    } else {
        let e = refused_locally(h, "partial capture without the capability", p.capture(req)).await;
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    }
}

/// Hold, then cancel: status cancelled, nothing captured.
pub async fn hold_then_cancel(h: &dyn Harness) {
    let hold = authorized_hold(h, "80.00").await;
    let cancelled = h
        .provider()
        .cancel(CancelRequest::new(hold))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, HoldStatus::Cancelled);
    assert!(cancelled.captured.is_zero());
}

/// Hold 100, decrement by 30, capture the rest (70) where decrement is claimed; refused with
/// `Unsupported` and nothing sent otherwise.
pub async fn hold_then_decrement_then_capture(h: &dyn Harness) {
    let p = h.provider();
    let hold = authorized_hold(h, "100.00").await;
    let req = DecrementRequest::new(hold.clone(), money(h, "30.00"));
    if !p.capabilities().decrement {
        let e = refused_locally(h, "decrement without the capability", p.decrement(req)).await;
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        return;
    }
    let reduced = p.decrement(req).await.expect("decrement");
    assert_eq!(
        reduced.status,
        HoldStatus::Authorized,
        "a reduced hold stays authorized"
    );
    assert_eq!(
        reduced.authorized,
        money(h, "70.00"),
        "100 reduced by 30 holds 70"
    );
    let seen = p
        .retrieve(&reduced.reference())
        .await
        .expect("retrieve after decrement");
    assert_eq!(
        seen.authorized,
        money(h, "70.00"),
        "retrieve shows the reduced hold"
    );
    // More than what is held now is refused locally.
    let over = CaptureRequest::new(reduced.clone()).with_amount(money(h, "70.01"));
    refused_locally(h, "capture above the reduced hold", p.capture(over)).await;
    let captured = p
        .capture(CaptureRequest::new(reduced))
        .await
        .expect("capture after decrement");
    assert_eq!(captured.status, HoldStatus::Captured);
    assert_eq!(captured.captured, money(h, "70.00"));
}

/// Decrementing by the whole hold or more is refused before sending.
pub async fn decrement_to_zero_or_below_is_refused_locally(h: &dyn Harness) {
    let p = h.provider();
    let hold = authorized_hold(h, "50.00").await;
    for by in ["50.00", "50.01", "1000.00"] {
        let e = refused_locally(
            h,
            "decrement to zero or below",
            p.decrement(DecrementRequest::new(hold.clone(), money(h, by))),
        )
        .await;
        if p.capabilities().decrement {
            assert!(matches!(e, Error::InvalidState { .. }), "{by}: {e}");
        } else {
            assert!(matches!(e, Error::Unsupported { .. }), "{by}: {e}");
        }
    }
}

/// Capturing more than is held is refused before sending.
pub async fn over_capture_is_refused_locally(h: &dyn Harness) {
    let hold = authorized_hold(h, "100.00").await;
    let req = CaptureRequest::new(hold).with_amount(money(h, "100.01"));
    let e = refused_locally(h, "over-capture", h.provider().capture(req)).await;
    assert!(matches!(e, Error::InvalidState { .. }), "{e}");
}

/// After a capture, a second one is refused before sending where the provider allows one
/// capture; where it allows several, a second capture of what remains works.
pub async fn double_capture_is_refused(h: &dyn Harness) {
    let p = h.provider();
    let caps = p.capabilities();
    let hold = authorized_hold(h, "100.00").await;
    let first = if caps.partial_capture {
        CaptureRequest::new(hold).with_amount(money(h, "40.00"))
    } else {
        CaptureRequest::new(hold)
    };
    let captured = p.capture(first).await.expect("first capture");
    if caps.multiple_captures && caps.partial_capture {
        let again = p
            .capture(CaptureRequest::new(captured))
            .await
            .expect("second capture");
        assert_eq!(again.captured, money(h, "100.00"));
        assert_eq!(again.capture_count, 2);
    } else {
        let e = refused_locally(
            h,
            "second capture",
            p.capture(CaptureRequest::new(captured)),
        )
        .await;
        assert!(matches!(e, Error::InvalidState { .. }), "{e}");
    }
}

/// A captured hold cannot be cancelled; refused before sending.
pub async fn cancel_after_capture_is_refused_locally(h: &dyn Harness) {
    let p = h.provider();
    let hold = authorized_hold(h, "30.00").await;
    let captured = p.capture(CaptureRequest::new(hold)).await.expect("capture");
    let e = refused_locally(
        h,
        "cancel after capture",
        p.cancel(CancelRequest::new(captured)),
    )
    .await;
    assert!(matches!(e, Error::InvalidState { .. }), "{e}");
}

/// The declining card gives `Error::Declined`, with the declined hold where the provider made
/// one; nothing is held.
pub async fn decline_is_reported_as_declined(h: &dyn Harness) {
    let p = h.provider();
    let e = p
        .authorize(h.authorize_request(money(h, "10.00"), cards::DECLINE))
        .await
        .expect_err("the declining card must not give a hold");
    match e {
        Error::Declined { hold, .. } => {
            if let Some(hold) = hold {
                assert_eq!(hold.status, HoldStatus::Declined);
                let e = refused_locally(
                    h,
                    "capture a declined hold",
                    p.capture(CaptureRequest::new(*hold)),
                )
                .await;
                assert!(matches!(e, Error::InvalidState { .. }), "{e}");
            }
        }
        e => panic!("expected Error::Declined, got {e}"),
    }
}

/// The 3-D Secure card gives a hold that requires action with a redirect URL; it cannot be
/// captured until the payer completes the challenge; after that it is authorized.
pub async fn three_ds_gives_the_redirect(h: &dyn Harness) {
    let p = h.provider();
    if !p.capabilities().three_ds {
        return;
    }
    let hold = p
        .authorize(h.authorize_request(money(h, "120.00"), cards::THREE_DS))
        .await
        .expect("authorize with 3-D Secure");
    assert_eq!(hold.status, HoldStatus::RequiresAction);
    match &hold.next_action {
        Some(NextAction::Redirect { url }) => {
            assert!(url.starts_with("http"), "redirect URL {url:?}")
        }
        other => panic!("expected a redirect, got {other:?}"),
    }
    let e = refused_locally(
        h,
        "capture before 3-D Secure",
        p.capture(CaptureRequest::new(hold.clone())),
    )
    .await;
    assert!(matches!(e, Error::InvalidState { .. }), "{e}");
    h.complete_three_ds(&hold).await;
    let after = p
        .retrieve(&hold.reference())
        .await
        .expect("retrieve after 3-D Secure");
    assert_eq!(
        after.status,
        HoldStatus::Authorized,
        "authorized once the payer passed 3-D Secure"
    );
    let captured = p
        .capture(CaptureRequest::new(after))
        .await
        .expect("capture after 3-D Secure");
    assert_eq!(captured.status, HoldStatus::Captured);
}

/// `retrieve` shows what each step did: authorized, captured (with the amount), cancelled.
pub async fn retrieve_reflects_each_step(h: &dyn Harness) {
    let p = h.provider();
    let hold = authorized_hold(h, "90.00").await;
    let seen = p
        .retrieve(&hold.reference())
        .await
        .expect("retrieve authorized");
    assert_eq!(seen.status, HoldStatus::Authorized);
    assert_eq!(seen.authorized, hold.authorized);
    assert_eq!(seen.provider_reference, hold.provider_reference);
    let captured = p.capture(CaptureRequest::new(seen)).await.expect("capture");
    let seen = p
        .retrieve(&captured.reference())
        .await
        .expect("retrieve captured");
    assert_eq!(seen.status, HoldStatus::Captured);
    assert_eq!(seen.captured, money(h, "90.00"));

    let other = authorized_hold(h, "15.00").await;
    p.cancel(CancelRequest::new(other.clone()))
        .await
        .expect("cancel");
    let seen = p
        .retrieve(&other.reference())
        .await
        .expect("retrieve cancelled");
    assert_eq!(seen.status, HoldStatus::Cancelled);
}

/// After a capture: a refund works where claimed (partial where claimed), refunding more
/// than was captured is refused locally; without refunds, `Unsupported` and nothing sent.
pub async fn refund_after_capture(h: &dyn Harness) {
    let p = h.provider();
    let caps = p.capabilities();
    let hold = authorized_hold(h, "100.00").await;
    let captured = p.capture(CaptureRequest::new(hold)).await.expect("capture");
    if !caps.refund {
        let e = refused_locally(
            h,
            "refund without the capability",
            p.refund(RefundRequest::new(captured)),
        )
        .await;
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        return;
    }
    let over = RefundRequest::new(captured.clone()).with_amount(money(h, "100.01"));
    let e = refused_locally(h, "refund above the capture", p.refund(over)).await;
    assert!(matches!(e, Error::InvalidState { .. }), "{e}");
    let amount = if caps.partial_refund {
        "30.00"
    } else {
        "100.00"
    };
    let refund = p
        .refund(RefundRequest::new(captured.clone()).with_amount(money(h, amount)))
        .await
        .expect("refund");
    assert_eq!(refund.amount, money(h, amount));
    assert!(
        !refund.provider_reference.is_empty(),
        "the refund has a provider reference"
    );
    assert_ne!(refund.status, preauth_core::RefundStatus::Failed);
}

/// Past the documented validity, the hold reads as expired and capture is refused.
pub async fn hold_expires_after_its_validity(h: &dyn Harness) {
    let p = h.provider();
    let Some(validity) = p.capabilities().hold_validity else {
        return;
    };
    let hold = authorized_hold(h, "60.00").await;
    assert!(
        hold.expires_at.is_some(),
        "a provider with a documented validity sets expires_at"
    );
    h.control()
        .clock
        .advance(validity + Duration::from_secs(3600));
    // The merchant's stale copy still says authorized: refused locally by its expiry.
    let e = refused_locally(
        h,
        "capture after expiry",
        p.capture(CaptureRequest::new(hold.clone())),
    )
    .await;
    assert!(
        matches!(
            e,
            Error::InvalidState {
                status: HoldStatus::Expired,
                ..
            }
        ),
        "{e}"
    );
    let seen = p
        .retrieve(&hold.reference())
        .await
        .expect("retrieve expired");
    assert_eq!(
        seen.status,
        HoldStatus::Expired,
        "the provider reports the hold expired"
    );
    let e = refused_locally(
        h,
        "capture an expired hold",
        p.capture(CaptureRequest::new(seen)),
    )
    .await;
    assert!(matches!(e, Error::InvalidState { .. }), "{e}");
}

/// A hold is found by the merchant's reference where claimed (and an unknown one is
/// `NotFound`); otherwise the lookup is `Unsupported`, names the reference, and sends nothing.
pub async fn lookup_by_merchant_reference(h: &dyn Harness) {
    let p = h.provider();
    let hold = authorized_hold(h, "25.00").await;
    let by_merchant = HoldRef::merchant(hold.merchant_reference.clone());
    if p.capabilities().lookup_by_merchant_reference {
        let seen = p
            .retrieve(&by_merchant)
            .await
            .expect("retrieve by merchant reference");
        assert_eq!(seen.provider_reference, hold.provider_reference);
        let found = reconcile_authorize(p.as_ref(), &hold.merchant_reference)
            .await
            .expect("reconcile");
        assert_eq!(
            found.map(|h| h.provider_reference),
            Some(hold.provider_reference.clone())
        );
        let missing = reconcile_authorize(p.as_ref(), "never-sent-key-0001")
            .await
            .expect("reconcile unknown");
        assert!(
            missing.is_none(),
            "an authorization that never arrived reconciles to None"
        );
    } else {
        let e = refused_locally(h, "lookup by merchant reference", p.retrieve(&by_merchant)).await;
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        let e = reconcile_authorize(p.as_ref(), &hold.merchant_reference)
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains(&hold.merchant_reference),
            "the error names the reference: {e}"
        );
    }
}

/// Where the provider deduplicates authorizations, the same key twice gives the same hold.
pub async fn authorize_is_deduplicated_by_key(h: &dyn Harness) {
    let p = h.provider();
    if !p.capabilities().authorize_idempotent {
        return;
    }
    let key = IdempotencyKey::new(format!("dedupe-{}", h.control().requests())).unwrap();
    let req = h
        .authorize_request(money(h, "10.00"), cards::APPROVE)
        .with_idempotency_key(key.clone());
    let a = p.authorize(req.clone()).await.expect("first authorize");
    let b = p.authorize(req).await.expect("same key again");
    assert_eq!(
        a.provider_reference, b.provider_reference,
        "the same key names the same hold"
    );
    assert_eq!(a.merchant_reference, key.as_str());
}

/// A capture whose answer is lost after it took effect gives `OutcomeUnknown`, is not re-sent,
/// and reconciling shows it captured.
pub async fn capture_outcome_unknown_is_reconciled(h: &dyn Harness) {
    let p = h.provider();
    let hold = authorized_hold(h, "70.00").await;
    h.control().faults.once(Fault::ResetAfterEffect);
    let before = h.control().requests();
    let e = p
        .capture(CaptureRequest::new(hold.clone()))
        .await
        .expect_err("the answer was lost");
    assert!(
        e.is_outcome_unknown(),
        "a lost answer to a capture is outcome unknown, got {e}"
    );
    assert_eq!(
        h.control().requests() - before,
        1,
        "the capture was not re-sent blindly"
    );
    let truth = reconcile_hold(p.as_ref(), &hold).await.expect("reconcile");
    assert_eq!(
        truth.status,
        HoldStatus::Captured,
        "the capture took effect"
    );
    assert_eq!(truth.captured, hold.authorized);
}

/// A signed notification verifies and parses to the hold's reference and status; a tampered
/// body or a wrong signature is rejected; a replayed delivery is recognised as a duplicate.
pub async fn webhook_round_trip(h: &dyn Harness) {
    let p = h.provider();
    if !p.capabilities().webhook_verification {
        let e = p
            .verify_webhook(&WebhookRequest::new(&[], b"{}"))
            .unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        return;
    }
    let hold = authorized_hold(h, "45.00").await;
    let captured = p.capture(CaptureRequest::new(hold)).await.expect("capture");
    let d = h
        .notification_for(&captured)
        .expect("a notification for a captured hold");
    let headers = d.header_refs();
    let n = p
        .verify_webhook(&WebhookRequest::new(&headers, &d.body))
        .expect("a genuine notification verifies");
    let same_hold = n.hold.provider_reference.as_deref()
        == Some(captured.provider_reference.as_str())
        || n.hold.merchant_reference.as_deref() == Some(captured.merchant_reference.as_str());
    assert!(same_hold, "the notification names the hold: {:?}", n.hold);
    assert_eq!(n.status, Some(HoldStatus::Captured));
    let ack = p.webhook_ack(&n);
    assert!((200..300).contains(&ack.status));

    let guard = ReplayGuard::new(100);
    assert!(guard.first_delivery(&n));
    let again = p
        .verify_webhook(&WebhookRequest::new(&headers, &d.body))
        .expect("a retried delivery still verifies");
    assert!(
        !guard.first_delivery(&again),
        "a replayed delivery is a duplicate"
    );

    let mut tampered = d.body.clone();
    if let Some(i) = tampered.iter().position(|b| b.is_ascii_digit()) {
        tampered[i] = if tampered[i] == b'9' {
            b'1'
        } else {
            tampered[i] + 1
        };
    }
    let e = p
        .verify_webhook(&WebhookRequest::new(&headers, &tampered))
        .expect_err("a tampered body");
    assert!(matches!(e, Error::InvalidWebhook { .. }), "{e}");

    h.control().faults.once(Fault::BadSignature);
    let bad = h.notification_for(&captured).expect("a notification");
    let bad_headers = bad.header_refs();
    let e = p
        .verify_webhook(&WebhookRequest::new(&bad_headers, &bad.body))
        .expect_err("a wrong key");
    assert!(matches!(e, Error::InvalidWebhook { .. }), "{e}");
}

/// One `#[tokio::test]` per conformance scenario, against the harness that `$make` (an async
/// fn returning an `impl Harness`) builds fresh for each test. The calling crate needs `tokio`
/// (with `macros` and `rt-multi-thread`) as a dev-dependency.
///
/// ```text
/// async fn my_harness() -> MyHarness { MyHarness::start().await }
/// preauth_testkit::conformance_tests!(my_harness);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@each $make;
            hold_then_full_capture,
            hold_then_partial_capture,
            hold_then_cancel,
            hold_then_decrement_then_capture,
            decrement_to_zero_or_below_is_refused_locally,
            over_capture_is_refused_locally,
            double_capture_is_refused,
            cancel_after_capture_is_refused_locally,
            decline_is_reported_as_declined,
            three_ds_gives_the_redirect,
            retrieve_reflects_each_step,
            refund_after_capture,
            hold_expires_after_its_validity,
            lookup_by_merchant_reference,
            authorize_is_deduplicated_by_key,
            capture_outcome_unknown_is_reconciled,
            webhook_round_trip
        );
    };
    (@each $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let h = $make().await;
                $crate::conformance::$name(&h).await;
            }
        )*
    };
}
