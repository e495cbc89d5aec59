//! End-to-end flows against the simulator over loopback HTTP: the rules the simulator
//! enforces the way Onerway does, and what the client makes of them.

use std::time::Duration;

use preauth_core::transport::{HttpRequest, Method};
use preauth_core::{
    CaptureRequest, Currency, Error, HoldRef, HoldStatus, IdempotencyKey, Money, NotificationKind,
    Operation, PreauthProvider, RefundRequest, RefundStatus, WebhookRequest,
};
use preauth_onerway::simulator::codes;
use preauth_testkit::cards;
use preauth_testkit::harness::Harness;
use serde_json::Value;

use crate::common::OnerwayHarness;

fn eur(s: &str) -> Money {
    Money::parse_major(s, Currency::EUR).unwrap()
}

#[track_caller]
fn rejected_with(e: &Error, code: &str) {
    match e {
        Error::Rejected { details, .. } => assert_eq!(details.code.as_deref(), Some(code), "{e}"),
        other => panic!("expected Rejected {code}, got {other}"),
    }
}

#[tokio::test]
async fn a_wrong_secret_key_is_refused_like_onerway_does() {
    let h = OnerwayHarness::start().await;
    let wrong = h.client_with(|mut c| {
        c.secret_key = "not-the-merchants-key".to_owned().into();
        c
    });
    let e = wrong
        .authorize(h.authorize_request(eur("10.00"), cards::APPROVE))
        .await
        .unwrap_err();
    rejected_with(&e, codes::SIGN_INVALID);
    let e = wrong
        .retrieve(&HoldRef::merchant("anything"))
        .await
        .unwrap_err();
    rejected_with(&e, codes::SIGN_INVALID);
    assert!(h.sim.holds().is_empty(), "nothing was created");
    let other_merchant = h.client_with(|mut c| {
        c.merchant_no = "800001".into();
        c
    });
    let e = other_merchant
        .retrieve(&HoldRef::merchant("anything"))
        .await
        .unwrap_err();
    rejected_with(&e, codes::INVALID_MERCHANT);
}

#[tokio::test]
async fn content_type_must_be_exactly_application_json() {
    let h = OnerwayHarness::start().await;
    let good = h.client.build_retrieve(&HoldRef::merchant("k")).unwrap();
    let body = good.body_bytes().clone();
    let t = preauth_testkit::test_transport();
    for (ct, code) in [
        ("application/json; charset=UTF-8", codes::CONTENT_TYPE),
        ("application/json", codes::SUCCESS),
    ] {
        let req = HttpRequest::new(
            Method::Post,
            format!("{}/v1/txn/list", h.base_url()),
            Operation::Retrieve,
            "k",
        )
        .body(ct, body.clone());
        let resp = t.send(&req).await.unwrap();
        let v: Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(v["respCode"], code, "{ct}");
    }
}

/// Onerway refuses a `merchantTxnId` used before instead of deduplicating it. The client
/// looks the refused key up once: a refusal of a re-sent request whose first copy took effect
/// is never reported as "did not happen".
#[tokio::test]
async fn a_merchant_txn_id_is_used_once() {
    let h = OnerwayHarness::start().await;
    let key = IdempotencyKey::new("order-42").unwrap();
    let req = h
        .authorize_request(eur("10.00"), cards::APPROVE)
        .with_idempotency_key(key);
    let hold = h.client.authorize(req.clone()).await.unwrap();
    assert_eq!(hold.merchant_reference, "order-42");
    // The same key again: refused by Onerway (no second hold), and since a transaction has
    // the key, the outcome of "authorize order-42" is not "nothing happened": reconcile.
    let before = h.sim.control().requests();
    let e = h.client.authorize(req).await.unwrap_err();
    assert_eq!(
        h.sim.control().requests() - before,
        2,
        "the AUTH, one lookup"
    );
    match &e {
        Error::OutcomeUnknown {
            reference,
            reason,
            source,
            ..
        } => {
            assert_eq!(reference, "order-42");
            assert!(reason.contains("already has it"), "{reason}");
            let source = source.as_ref().unwrap().to_string();
            assert!(
                source.contains(codes::DUPLICATE_MERCHANT_TXN_ID),
                "{source}"
            );
        }
        other => panic!("expected OutcomeUnknown, got {other}"),
    }
    let found = preauth_core::reconcile::reconcile_authorize(&h.client, "order-42")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.provider_reference, hold.provider_reference);
    // The derived capture key is used once too: a capture re-sent with it (a stale copy of
    // the hold) cannot capture twice; the client answers with the capture that took effect.
    let captured = h
        .client
        .capture(CaptureRequest::new(hold.clone()))
        .await
        .unwrap();
    assert!(captured.capture_reference.is_some());
    let mut stale = hold.clone();
    stale.expires_at = None;
    let again = h.client.capture(CaptureRequest::new(stale)).await.unwrap();
    assert_eq!(again.status, HoldStatus::Captured);
    assert_eq!(again.capture_reference, captured.capture_reference);
    // Another key is another capture: refused (already captured), and no transaction has
    // that key, so the refusal stands.
    let other = h
        .client
        .capture(
            CaptureRequest::new(hold)
                .with_idempotency_key(IdempotencyKey::new("another-capture").unwrap()),
        )
        .await
        .unwrap_err();
    rejected_with(&other, codes::INVALID_STATE);
    let holds = h.sim.holds();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].captures, 1);
}

/// A refusal that has nothing to do with the key (a card Onerway does not accept) stays a
/// refusal after the lookup; a refusal whose lookup cannot be made is never "did not happen".
#[tokio::test]
async fn a_plain_refusal_stays_a_refusal() {
    use preauth_core::sim::Fault;
    let h = OnerwayHarness::start().await;
    let mut req = h.authorize_request(eur("10.00"), cards::APPROVE);
    if let preauth_core::PaymentMethod::Card(c) = &mut req.payment_method {
        // Valid for the client (Luhn), expired for Onerway's clock.
        *c = preauth_core::CardDetails::new(cards::APPROVE, 1, 2025, "123", "Ana Silva").unwrap();
    }
    let e = h.client.authorize(req.clone()).await.unwrap_err();
    rejected_with(&e, codes::CARD_EXPIRED);
    // The refusal, then a lookup that fails: outcome unknown, with the refusal as the source.
    h.sim
        .control()
        .faults
        .once_on("/v1/txn/list", Fault::StatusBeforeEffect(500));
    h.sim
        .control()
        .faults
        .once_on("/v1/txn/list", Fault::StatusBeforeEffect(500));
    h.sim
        .control()
        .faults
        .once_on("/v1/txn/list", Fault::StatusBeforeEffect(500));
    let e = h.client.authorize(req).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert!(e.to_string().contains(codes::CARD_EXPIRED), "{e}");
    assert!(h.sim.holds().is_empty());
}

#[tokio::test]
async fn products_must_add_up_and_app_id_must_match() {
    let h = OnerwayHarness::start().await;
    let wrong_app = h.client_with(|mut c| {
        c.app_id = "1".into();
        c
    });
    let e = wrong_app
        .authorize(h.authorize_request(eur("10.00"), cards::APPROVE))
        .await
        .unwrap_err();
    rejected_with(&e, codes::INVALID_APP_ID);
    // Line items that do not add up never leave the client.
    let mut req = h.authorize_request(eur("10.00"), cards::APPROVE);
    req.line_items[0].unit_price = eur("9.99");
    let before = h.sim.control().requests();
    let e = h.client.authorize(req).await.unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
    assert_eq!(h.sim.control().requests(), before);
}

#[tokio::test]
async fn retrieve_by_transaction_id_alone_finds_the_capture() {
    let h = OnerwayHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(eur("50.00"), cards::APPROVE))
        .await
        .unwrap();
    let captured = h
        .client
        .capture(CaptureRequest::new(hold.clone()))
        .await
        .unwrap();
    let before = h.sim.control().requests();
    let seen = h
        .client
        .retrieve(&HoldRef::provider(hold.provider_reference.clone()))
        .await
        .unwrap();
    assert_eq!(
        h.sim.control().requests() - before,
        2,
        "the AUTH, then its follow-ups"
    );
    assert_eq!(seen.status, HoldStatus::Captured);
    assert_eq!(seen.merchant_reference, hold.merchant_reference);
    assert_eq!(seen.capture_reference, captured.capture_reference);
    assert_eq!(seen.card.unwrap().last4.as_deref(), Some("1111"));
    let missing = h.client.retrieve(&HoldRef::provider("1")).await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn expiry_is_enforced_by_the_simulator_too() {
    let h = OnerwayHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(eur("60.00"), cards::APPROVE))
        .await
        .unwrap();
    h.sim
        .control()
        .clock
        .advance(Duration::from_secs(3 * 24 * 3600 + 1));
    // A client that does not know the expiry sends the capture: Onerway refuses it.
    let mut unaware = hold.clone();
    unaware.expires_at = None;
    let e = h
        .client
        .capture(CaptureRequest::new(unaware))
        .await
        .unwrap_err();
    rejected_with(&e, codes::INVALID_STATE);
    let seen = h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Expired);
    assert_eq!(seen.raw_status, "N");
}

#[tokio::test]
async fn refunds_wait_in_audit_and_notify() {
    let h = OnerwayHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(eur("100.00"), cards::APPROVE))
        .await
        .unwrap();
    let captured = h.client.capture(CaptureRequest::new(hold)).await.unwrap();
    let refund = h
        .client
        .refund(RefundRequest::new(captured.clone()).with_amount(eur("40.00")))
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Pending);
    // More than remains of the capture (100 - 40 in audit) is refused by Onerway even when
    // the client's copy of the hold does not know about the first refund.
    let e = h
        .client
        .refund(RefundRequest::new(captured.clone()).with_amount(eur("60.01")))
        .await
        .unwrap_err();
    rejected_with(&e, codes::INVALID_STATE);
    assert!(h.sim.audit_refund(&refund.provider_reference, true));
    let (headers, body) = h.sim.notification_for(&refund.provider_reference).unwrap();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let n = h
        .client
        .verify_webhook(&WebhookRequest::new(&headers, &body))
        .unwrap();
    assert_eq!(n.kind, NotificationKind::Refund);
    assert_eq!(
        n.refund_reference.as_deref(),
        Some(refund.provider_reference.as_str())
    );
    assert_eq!(n.raw_status.as_deref(), Some("S"));
    assert_eq!(n.refund_status, Some(RefundStatus::Succeeded));
    assert_eq!(
        n.hold.provider_reference, captured.capture_reference,
        "the refunded capture"
    );
    assert_eq!(n.amount, Some(eur("40.00")));
    assert_eq!(h.client.webhook_ack(&n).body, refund.provider_reference);
}

#[tokio::test]
async fn three_ds_notifications_follow_the_hold() {
    let h = OnerwayHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(eur("120.00"), cards::THREE_DS))
        .await
        .unwrap();
    let d = h.notification_for(&hold).unwrap();
    let n = h
        .client
        .verify_webhook(&WebhookRequest::new(&d.header_refs(), &d.body))
        .unwrap();
    assert_eq!(n.status, Some(HoldStatus::RequiresAction));
    assert_eq!(
        n.hold.provider_reference.as_deref(),
        Some(hold.provider_reference.as_str())
    );
    h.complete_three_ds(&hold).await;
    let d = h.notification_for(&hold).unwrap();
    let n = h
        .client
        .verify_webhook(&WebhookRequest::new(&d.header_refs(), &d.body))
        .unwrap();
    assert_eq!(n.status, Some(HoldStatus::Authorized));
    assert_eq!(h.client.webhook_ack(&n).body, hold.provider_reference);
    // A cancel is notified as a VOID about the hold.
    let cancelled = h
        .client
        .cancel(preauth_core::CancelRequest::new(
            h.client.retrieve(&hold.reference()).await.unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(cancelled.status, HoldStatus::Cancelled);
    let d = h.notification_for(&hold).unwrap();
    let n = h
        .client
        .verify_webhook(&WebhookRequest::new(&d.header_refs(), &d.body))
        .unwrap();
    assert_eq!(n.status, Some(HoldStatus::Cancelled));
    assert_eq!(
        n.hold.provider_reference.as_deref(),
        Some(hold.provider_reference.as_str())
    );
    assert_eq!(
        n.hold.merchant_reference.as_deref(),
        Some(hold.merchant_reference.as_str())
    );
    assert_ne!(
        h.client.webhook_ack(&n).body,
        hold.provider_reference,
        "the VOID's own id"
    );
}

#[tokio::test]
async fn the_declined_hold_is_recorded_and_found() {
    let h = OnerwayHarness::start().await;
    let e = h
        .client
        .authorize(h.authorize_request(eur("10.00"), cards::DECLINE))
        .await
        .unwrap_err();
    let Error::Declined {
        hold: Some(hold),
        details,
        ..
    } = e
    else {
        panic!("declined")
    };
    assert_eq!(details.code.as_deref(), Some(codes::DO_NOT_HONOR));
    let seen = h
        .client
        .retrieve(&HoldRef::merchant(hold.merchant_reference.clone()))
        .await
        .unwrap();
    assert_eq!(seen.status, HoldStatus::Declined);
    assert_eq!(
        seen.decline.unwrap().message.as_deref(),
        Some("Do Not Honor")
    );
}
