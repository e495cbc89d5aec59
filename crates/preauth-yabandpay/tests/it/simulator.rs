//! The simulator's rules, over loopback HTTP: signatures, users, required fields, request-id
//! uniqueness, unknown trades, one capture, decrement bounds, currency, validity, refunds.

use std::sync::Arc;
use std::time::Duration;

use preauth_core::transport::{HttpRequest, HttpResponse, Method};
use preauth_core::{
    CancelRequest, CaptureRequest, Currency, DecrementRequest, Error, Hold, HoldRef, HoldStatus,
    Money, NextAction, Operation, PreauthProvider, RefundRequest, RefundStatus, WebhookRequest,
};
use preauth_testkit::harness::Harness;
use preauth_testkit::{cards, test_transport};
use preauth_yabandpay::simulator::{RULE_CODE, SIM_SECRET_KEY, SIM_USER};
use preauth_yabandpay::{YabandPay, YabandPayConfig, sign, webhook};
use serde_json::{Value, json};

use crate::common::eur;
use crate::conformance::{YabandPayHarness, harness};

async fn hold(h: &YabandPayHarness, amount: &str) -> Hold {
    h.client
        .authorize(h.authorize_request(eur(amount), cards::APPROVE))
        .await
        .unwrap()
}

fn code(e: &Error) -> Option<&str> {
    e.provider_details().and_then(|d| d.code.as_deref())
}

/// Sends a hand-made envelope, signed with `secret` over exactly its fields.
async fn raw(h: &YabandPayHarness, user: &str, secret: &str, method: &str, data: Value) -> Value {
    let time = 1_767_225_600_i64;
    let fields: Vec<(String, String)> = data
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), sign::value_to_sign_string(v)))
        .collect();
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let signature = sign::sign(
        secret.as_bytes(),
        &sign::request_string_to_sign(user, method, time, &pairs),
    );
    let body =
        json!({"user": user, "sign": signature, "method": method, "time": time, "data": data});
    send_bytes(h, serde_json::to_vec(&body).unwrap()).await
}

async fn send_bytes(h: &YabandPayHarness, body: Vec<u8>) -> Value {
    let req = HttpRequest::new(
        Method::Post,
        format!("{}/Payments", h.server.base_url()),
        Operation::Retrieve,
        "raw",
    )
    .body("application/json", body);
    let resp: HttpResponse = test_transport().send(&req).await.unwrap();
    serde_json::from_slice(&resp.body).unwrap()
}

#[tokio::test]
async fn signature_user_and_required_fields_are_checked() {
    let h = harness().await;
    let held = hold(&h, "10.00").await;
    let q = json!({"trade_id": held.provider_reference});
    let ok = raw(&h, SIM_USER, SIM_SECRET_KEY, "v3.QueryOrder", q.clone()).await;
    assert_eq!(ok["status"], true, "{ok}");
    assert_eq!(ok["code"], "200");

    let bad = raw(&h, SIM_USER, "wrong-key", "v3.QueryOrder", q.clone()).await;
    assert_eq!(
        (bad["status"].clone(), bad["code"].clone()),
        (json!(false), json!("-403"))
    );
    assert_eq!(bad["message"], "The signature Error");

    let nobody = raw(&h, "999999", SIM_SECRET_KEY, "v3.QueryOrder", q.clone()).await;
    assert_eq!(nobody["code"], "-2001");

    let missing = raw(
        &h,
        SIM_USER,
        SIM_SECRET_KEY,
        "v3.QueryOrder",
        json!({"x": "1"}),
    )
    .await;
    assert_eq!(missing["code"], "-3001");
    let not_json = send_bytes(&h, b"{\"user\":".to_vec()).await;
    assert_eq!(not_json["code"], "-3001");

    let unknown = raw(
        &h,
        SIM_USER,
        SIM_SECRET_KEY,
        "v3.QueryOrder",
        json!({"trade_id": "nope"}),
    )
    .await;
    assert_eq!(unknown["code"], "-4024");

    // A tampered body (signed, then a value changed) is refused.
    let time = 1_767_225_600_i64;
    let tid = held.provider_reference.clone();
    let string =
        sign::request_string_to_sign(SIM_USER, "v3.QueryOrder", time, &[("trade_id", &tid)]);
    let signature = sign::sign(SIM_SECRET_KEY.as_bytes(), &string);
    let tampered = json!({"user": SIM_USER, "sign": signature, "method": "v3.QueryOrder", "time": time + 1, "data": {"trade_id": tid}});
    let r = send_bytes(&h, serde_json::to_vec(&tampered).unwrap()).await;
    assert_eq!(r["code"], "-403");
}

#[tokio::test]
async fn client_with_wrong_credentials_is_unauthenticated() {
    let h = harness().await;
    let base = h.server.base_url();
    for config in [
        YabandPayConfig::new(SIM_USER, "not-the-key"),
        YabandPayConfig::new("999999", SIM_SECRET_KEY),
    ] {
        let c = YabandPay::new(config.with_base_url(&base))
            .unwrap()
            .with_transport(test_transport());
        let e = c.retrieve(&HoldRef::provider("t")).await.unwrap_err();
        assert!(matches!(e, Error::Unauthenticated { .. }), "{e}");
    }
}

#[tokio::test]
async fn request_ids_are_unique() {
    let h = harness().await;
    let held = hold(&h, "100.00").await;
    let key = preauth_core::IdempotencyKey::new("decrement-key-0000000000000001").unwrap();
    let first = h
        .client
        .decrement(
            DecrementRequest::new(held.clone(), eur("10.00")).with_idempotency_key(key.clone()),
        )
        .await
        .unwrap();
    assert_eq!(first.authorized, eur("90.00"));
    let again = h
        .client
        .decrement(DecrementRequest::new(first.clone(), eur("10.00")).with_idempotency_key(key))
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Rejected { .. }), "{again}");
    assert_eq!(code(&again), Some("-4118"));
    assert_eq!(
        h.sim.held(&held.provider_reference),
        Some(eur("90.00")),
        "reduced once"
    );
    // The same authorize key twice: the second is refused, not deduplicated.
    let key = preauth_core::IdempotencyKey::new("auth-key-00000000000000000001").unwrap();
    let req = h
        .authorize_request(eur("5.00"), cards::APPROVE)
        .with_idempotency_key(key);
    h.client.authorize(req.clone()).await.unwrap();
    let e = h.client.authorize(req).await.unwrap_err();
    assert_eq!(code(&e), Some("-4118"), "{e}");
}

#[tokio::test]
async fn unknown_trade_is_not_found() {
    let h = harness().await;
    let e = h
        .client
        .retrieve(&HoldRef::provider("no-such-trade"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let mut ghost = hold(&h, "10.00").await;
    ghost.provider_reference = "no-such-trade".into();
    let e = h
        .client
        .capture(CaptureRequest::new(ghost))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
}

/// The simulator enforces the rules itself, for clients that skip the local checks (a stale
/// copy of the hold that claims more than is held, or the wrong currency).
#[tokio::test]
async fn rules_are_enforced_by_the_simulator_too() {
    let h = harness().await;
    let held = hold(&h, "50.00").await;
    let reduced = h
        .client
        .decrement(DecrementRequest::new(held.clone(), eur("20.00")))
        .await
        .unwrap();
    assert_eq!(reduced.authorized, eur("30.00"));
    // The stale copy still says 50 held: decrementing by 30 passes the local check, and the
    // simulator refuses it (it would reach below zero).
    let e = h
        .client
        .decrement(DecrementRequest::new(held.clone(), eur("30.00")))
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(RULE_CODE), "{e}");
    // Capturing 40 of the 30 held now.
    let e = h
        .client
        .capture(CaptureRequest::new(held.clone()).with_amount(eur("40.00")))
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(RULE_CODE), "{e}");
    // Another currency.
    let mut usd = reduced.clone();
    usd.authorized = Money::parse_major("30.00", Currency::USD).unwrap();
    usd.captured = Money::zero(Currency::USD);
    usd.refunded = Money::zero(Currency::USD);
    let e = h
        .client
        .capture(CaptureRequest::new(usd))
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(RULE_CODE), "{e}");
    // One capture; a stale copy trying a second one is refused by the simulator.
    let captured = h
        .client
        .capture(CaptureRequest::new(reduced.clone()))
        .await
        .unwrap();
    assert_eq!(captured.captured, eur("30.00"));
    let e = h
        .client
        .capture(CaptureRequest::new(reduced))
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(RULE_CODE), "{e}");
    assert!(e.to_string().contains("Only one capture"), "{e}");
    // Cancel after capture: refused locally; forced through a stale copy, the simulator
    // allows it only before any refund (YabandPay cancels paid orders until T+1).
    let e = h
        .client
        .cancel(CancelRequest::new(captured.clone()))
        .await
        .unwrap_err();
    assert!(e.is_local(), "{e}");
}

#[tokio::test]
async fn validity_is_thirty_days_on_the_simulator_clock() {
    let h = harness().await;
    let held = hold(&h, "20.00").await;
    assert_eq!(
        held.expires_at,
        held.created_at
            .map(|c| c + Duration::from_secs(30 * 24 * 3600))
    );
    h.control()
        .clock
        .advance(Duration::from_secs(30 * 24 * 3600 - 60));
    assert_eq!(h.sim.state_of(&held.provider_reference), Some("authorized"));
    h.control().clock.advance(Duration::from_secs(120));
    assert_eq!(h.sim.state_of(&held.provider_reference), Some("expired"));
    let seen = h.client.retrieve(&held.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Expired);
    // A copy without a known expiry passes the local check; the simulator refuses.
    let mut stale = held.clone();
    stale.expires_at = None;
    let e = h
        .client
        .capture(CaptureRequest::new(stale))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("expired"), "{e}");
}

#[tokio::test]
async fn three_ds_page_and_decline() {
    let h = harness().await;
    let pending = h
        .client
        .authorize(h.authorize_request(eur("12.00"), cards::THREE_DS))
        .await
        .unwrap();
    assert_eq!(pending.status, HoldStatus::RequiresAction);
    let Some(NextAction::Redirect { url }) = pending.next_action.clone() else {
        panic!("no redirect")
    };
    assert!(url.starts_with(&h.server.base_url()), "{url}");
    // The payer opens the page.
    let page = test_transport()
        .send(&HttpRequest::new(
            Method::Get,
            url,
            Operation::Retrieve,
            "3ds",
        ))
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("https://merchant.example/return"));
    let seen = h.client.retrieve(&pending.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Authorized);

    match h
        .client
        .authorize(h.authorize_request(eur("12.00"), cards::DECLINE))
        .await
    {
        Err(Error::Declined { hold: Some(d), .. }) => {
            assert_eq!(d.status, HoldStatus::Declined);
            assert_eq!(d.raw_status, "declined");
            assert_eq!(h.sim.state_of(&d.provider_reference), Some("declined"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn refunds_partial_then_full_and_retrieve_refund() {
    let h = harness().await;
    let held = hold(&h, "100.00").await;
    let captured = h
        .client
        .capture(CaptureRequest::new(held).with_amount(eur("80.00")))
        .await
        .unwrap();
    assert_eq!(captured.captured, eur("80.00"));
    let r1 = h
        .client
        .refund(RefundRequest::new(captured.clone()).with_amount(eur("30.00")))
        .await
        .unwrap();
    assert_eq!(
        r1.status,
        RefundStatus::Pending,
        "CreateRefund answers no state"
    );
    let seen = h
        .client
        .retrieve_refund(&r1.provider_reference)
        .await
        .unwrap();
    assert_eq!(seen.status, RefundStatus::Succeeded);
    assert_eq!(seen.amount, eur("30.00"));
    assert_eq!(
        seen.merchant_reference, r1.merchant_reference,
        "m_refund_id is the key"
    );
    let mut after = captured.clone();
    after.refunded = eur("30.00");
    h.client.refund(RefundRequest::new(after)).await.unwrap();
    let hold_now = h.client.retrieve(&captured.reference()).await.unwrap();
    assert_eq!(hold_now.status, HoldStatus::Refunded);
    let e = h
        .client
        .retrieve_refund("no-such-refund")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
}

#[tokio::test]
async fn notifications_verify_as_json_and_as_form_bodies() {
    let h = harness().await;
    let held = hold(&h, "45.00").await;
    let (headers, body) = h.sim.notification_for(&held.provider_reference).unwrap();
    assert_eq!(
        headers,
        vec![("content-type".to_owned(), "application/json".to_owned())]
    );
    let n = h
        .client
        .verify_webhook(&WebhookRequest::new(&[], &body))
        .unwrap();
    assert_eq!(n.status, Some(HoldStatus::Authorized));
    assert_eq!(n.amount, Some(eur("45.00")));
    assert_eq!(
        n.hold.provider_reference.as_deref(),
        Some(held.provider_reference.as_str())
    );
    assert_eq!(
        n.hold.merchant_reference.as_deref(),
        Some(held.merchant_reference.as_str())
    );
    assert_eq!(
        n.dedup_key,
        format!("{}:authorized:payment:45", held.provider_reference)
    );
    let form =
        serde_urlencoded::to_string([(webhook::FORM_FIELD, String::from_utf8(body).unwrap())])
            .unwrap();
    let m = h
        .client
        .verify_webhook(&WebhookRequest::new(&[], form.as_bytes()))
        .unwrap();
    assert_eq!(m, n);
    let ack = h.client.webhook_ack(&m);
    assert_eq!(
        (ack.status, ack.content_type, ack.body.as_str()),
        (200, "text/plain", "ok")
    );
    let cancelled = h
        .client
        .cancel(CancelRequest::new(held.clone()))
        .await
        .unwrap();
    let (_, body) = h
        .sim
        .notification_for(&cancelled.provider_reference)
        .unwrap();
    let n = h
        .client
        .verify_webhook(&WebhookRequest::new(&[], &body))
        .unwrap();
    assert_eq!(n.status, Some(HoldStatus::Cancelled));
}

#[tokio::test]
async fn merchant_reference_lookup_is_refused_locally_and_named() {
    let h = harness().await;
    let held = hold(&h, "25.00").await;
    let before = h.control().requests();
    let e = h
        .client
        .retrieve(&HoldRef::merchant(held.merchant_reference.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains(&held.merchant_reference), "{e}");
    assert_eq!(h.control().requests(), before, "nothing sent");
    let provider: Arc<dyn PreauthProvider> = Arc::new(h.client.clone());
    let e =
        preauth_core::reconcile::reconcile_authorize(provider.as_ref(), &held.merchant_reference)
            .await
            .unwrap_err();
    assert!(e.to_string().contains(&held.merchant_reference), "{e}");
}

#[tokio::test]
async fn capture_and_decrement_need_a_notify_url_and_send_nothing_without() {
    let h = harness().await;
    let held = hold(&h, "25.00").await;
    let bare = YabandPay::new(
        YabandPayConfig::new(SIM_USER, SIM_SECRET_KEY).with_base_url(h.server.base_url()),
    )
    .unwrap()
    .with_transport(test_transport())
    .with_clock(Arc::new(h.control().clock.clone()));
    let before = h.control().requests();
    let e = bare
        .capture(CaptureRequest::new(held.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
    let e = bare
        .decrement(DecrementRequest::new(held.clone(), eur("1.00")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
    assert!(e.to_string().contains("notify_url"), "{e}");
    assert_eq!(h.control().requests(), before);
}
