//! End to end against the simulator over loopback HTTP: what the conformance suite does not
//! cover — PIX cancel, refunds read back, unreadable answers to mutating calls, local refusals,
//! saved cards, and the simulator's own rules seen through raw HTTP.

use std::time::Duration;

use preauth_core::reconcile::reconcile_authorize;
use preauth_core::sim::Fault;
use preauth_core::transport::{HttpRequest, Method};
use preauth_core::{
    AuthorizeRequest, CancelRequest, CaptureRequest, CardDetails, Currency, Error, HoldRef,
    HoldStatus, IdempotencyKey, Money, NextAction, Operation, Payer, PaymentMethod,
    PreauthProvider, RefundRequest, RefundStatus, ThreeDs,
};
use preauth_liquido::simulator::{API_KEY, cards};
use preauth_testkit::harness::Harness;
use preauth_testkit::test_transport;
use serde_json::{Value, json};

use crate::harness::LiquidoHarness;

fn brl(s: &str) -> Money {
    Money::parse_major(s, Currency::BRL).unwrap()
}

#[tokio::test]
async fn pix_payment_in_progress_is_cancelled() {
    let h = LiquidoHarness::start().await;
    h.sim.create_pix_charge("20220602-001", 100);
    let pending = h
        .client
        .retrieve(&HoldRef::merchant("20220602-001"))
        .await
        .unwrap();
    assert_eq!(pending.status, HoldStatus::Pending);
    assert_eq!(pending.raw_status, "IN_PROGRESS");
    assert_eq!(pending.authorized, brl("1.00"));
    // The trait's cancel accepts a pending hold (cancel_pending).
    assert!(h.client.capabilities().cancel_pending);
    let cancelled = h.client.cancel(CancelRequest::new(pending)).await.unwrap();
    assert_eq!(cancelled.status, HoldStatus::Cancelled);
    // Cancelling again is refused by Liquido.
    let e = h.client.cancel_charge("20220602-001").await.unwrap_err();
    assert!(
        matches!(&e, Error::Rejected { operation: Operation::Cancel, details, .. } if details.http_status == Some(400)),
        "{e}"
    );
    // The crate's own cancel works on any charge by key.
    h.sim.create_pix_charge("20220602-002", 250);
    let hold = h.client.cancel_charge("20220602-002").await.unwrap();
    assert_eq!(hold.status, HoldStatus::Cancelled);
    let e = h.client.cancel_charge("no-such-charge").await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
}

#[tokio::test]
async fn a_card_awaiting_three_ds_is_not_cancellable_at_liquido() {
    // Seed 003 lists CREDIT_CARD as cancellable in AUTHORIZED only: the local check lets a
    // pending hold through (PIX needs it), Liquido refuses, nothing changes.
    let h = LiquidoHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(brl("20.00"), cards::THREE_DS))
        .await
        .unwrap();
    assert_eq!(hold.status, HoldStatus::RequiresAction);
    let Some(NextAction::Redirect { url }) = &hold.next_action else {
        panic!("a redirect")
    };
    assert!(url.contains("/sim/3ds/"), "{url}");
    let e = h
        .client
        .cancel(CancelRequest::new(hold.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }), "{e}");
    assert!(h.sim.complete_three_ds(&hold.provider_reference));
    assert!(
        !h.sim.complete_three_ds(&hold.provider_reference),
        "only once"
    );
    let seen = h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Authorized);
    assert!(seen.next_action.is_none());
    let cancelled = h.client.cancel(CancelRequest::new(seen)).await.unwrap();
    assert_eq!(cancelled.status, HoldStatus::Cancelled);
}

#[tokio::test]
async fn partial_then_full_refund_and_refunds_read_back() {
    let h = LiquidoHarness::start().await;
    let p = h.provider();
    let hold = p
        .authorize(h.authorize_request(brl("100.00"), cards::APPROVE))
        .await
        .unwrap();
    let captured = p
        .capture(CaptureRequest::new(hold).with_amount(brl("80.00")))
        .await
        .unwrap();
    assert_eq!(captured.captured, brl("80.00"));
    assert_eq!(captured.authorized, brl("100.00"));
    let key = IdempotencyKey::new("refund-0001").unwrap();
    let first = p
        .refund(
            RefundRequest::new(captured.clone())
                .with_amount(brl("30.00"))
                .with_idempotency_key(key.clone())
                .with_description("minibar"),
        )
        .await
        .unwrap();
    assert_eq!(first.status, RefundStatus::Succeeded);
    assert_eq!(first.provider_reference, "refund-0001");
    assert_eq!(
        first.hold.provider_reference.as_deref(),
        Some(captured.provider_reference.as_str())
    );
    let read = h.client.retrieve_refund("refund-0001").await.unwrap();
    assert_eq!(read, first);
    // A partially refunded charge is still SETTLED at Liquido.
    let seen = p.retrieve(&captured.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Captured);
    // Refund the rest (None = everything refundable of the hold as the merchant knows it).
    let mut known = seen;
    known.refunded = brl("30.00");
    let rest = p.refund(RefundRequest::new(known)).await.unwrap();
    assert_eq!(rest.amount, brl("50.00"));
    let seen = p.retrieve(&captured.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Refunded);
    assert_eq!(seen.refunded, brl("80.00"));
    let e = h
        .client
        .retrieve_refund("no-such-refund")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
}

#[tokio::test]
async fn a_declined_hold_reads_back_as_declined() {
    let h = LiquidoHarness::start().await;
    let e = h
        .client
        .authorize(h.authorize_request(brl("10.00"), cards::DECLINE))
        .await
        .unwrap_err();
    let Error::Declined { details, hold, .. } = e else {
        panic!("expected Declined, got {e}")
    };
    assert_eq!(details.code.as_deref(), Some("2001"));
    let hold = hold.unwrap();
    let seen = h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Declined);
    assert_eq!(seen.decline.unwrap().code.as_deref(), Some("2001"));
}

#[tokio::test]
async fn local_refusals_send_nothing() {
    let h = LiquidoHarness::start().await;
    let before = h.control().requests();
    let card = || CardDetails::new(cards::APPROVE, 12, 2030, "123", "Ana Silva").unwrap();
    let cases = [
        (
            "accented payer name",
            AuthorizeRequest::new(brl("10.00"), PaymentMethod::Card(card()))
                .with_country("BR")
                .with_payer(Payer::new("João", "Silva")),
        ),
        (
            "no country",
            AuthorizeRequest::new(brl("10.00"), PaymentMethod::Card(card())),
        ),
        (
            "lower-case country",
            AuthorizeRequest::new(brl("10.00"), PaymentMethod::Card(card())).with_country("br"),
        ),
        (
            "3-D Secure without a return URL",
            AuthorizeRequest::new(brl("10.00"), PaymentMethod::Card(card()))
                .with_country("BR")
                .with_three_ds(ThreeDs::Required),
        ),
        (
            "zero amount",
            AuthorizeRequest::new(brl("0"), PaymentMethod::Card(card())).with_country("BR"),
        ),
    ];
    for (what, req) in cases {
        let e = h.client.authorize(req).await.unwrap_err();
        assert!(matches!(e, Error::InvalidRequest { .. }), "{what}: {e}");
        assert!(!e.to_string().contains("João"), "{what}: {e}");
    }
    assert_eq!(
        h.control().requests(),
        before,
        "nothing sent, not even a token request"
    );
    let e = h
        .client
        .decrement(preauth_core::DecrementRequest::new(
            preauth_core::Hold::new(
                "liquido",
                "k",
                "k",
                HoldStatus::Authorized,
                "AUTHORIZED",
                brl("1.00"),
            ),
            brl("0.50"),
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert_eq!(h.control().requests(), before);
}

#[tokio::test]
async fn unreadable_answer_to_a_capture_is_outcome_unknown() {
    let h = LiquidoHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(brl("70.00"), cards::APPROVE))
        .await
        .unwrap();
    h.control().faults.once_on("/capture/", Fault::HtmlBody);
    let before = h.control().requests();
    let e = h
        .client
        .capture(CaptureRequest::new(hold.clone()))
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert!(
        e.to_string().contains(&hold.provider_reference),
        "names what to reconcile: {e}"
    );
    assert!(!e.to_string().contains("<html"), "{e}");
    assert_eq!(h.control().requests() - before, 1, "not re-sent");
    let truth = h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(truth.status, HoldStatus::Captured);
    assert_eq!(h.sim.ledger()[0].captures, 1);
}

#[tokio::test]
async fn unreadable_answer_to_a_cancel_is_outcome_unknown() {
    let h = LiquidoHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(brl("70.00"), cards::APPROVE))
        .await
        .unwrap();
    h.control().faults.once_on("/cancel/", Fault::MalformedBody);
    let e = h
        .client
        .cancel(CancelRequest::new(hold.clone()))
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    let truth = h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(truth.status, HoldStatus::Cancelled);
    // A read with an unreadable answer is a protocol error (nothing to reconcile).
    h.control()
        .faults
        .once_on("/v1/payments/charges/", Fault::EmptyBody);
    let e = h.client.retrieve(&hold.reference()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Protocol {
                operation: Operation::Retrieve,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_lost_authorize_answer_is_reconciled_by_the_key() {
    let h = LiquidoHarness::start().await;
    let key = IdempotencyKey::new("order-4711").unwrap();
    let req = h
        .authorize_request(brl("40.00"), cards::APPROVE)
        .with_idempotency_key(key.clone());
    h.control()
        .faults
        .once_on("/charges/card", Fault::TruncatedBody);
    let e = h.client.authorize(req.clone()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    let found = reconcile_authorize(&h.client, key.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.status, HoldStatus::Authorized);
    assert_eq!(found.provider_reference, "order-4711");
    // A 500 after the charge was made: the authorize is re-sent with the same key (Liquido
    // deduplicates it) and finds the same charge.
    let key2 = IdempotencyKey::new("order-4712").unwrap();
    h.control()
        .faults
        .once_on("/charges/card", Fault::StatusAfterEffect(500));
    let before = h.control().requests();
    let hold = h
        .client
        .authorize(req.with_idempotency_key(key2))
        .await
        .unwrap();
    assert_eq!(hold.provider_reference, "order-4712");
    assert_eq!(
        h.control().requests() - before,
        2,
        "sent twice with the same key"
    );
    assert_eq!(h.sim.ledger().len(), 2, "one charge per key");
}

#[tokio::test]
async fn a_hold_past_validity_is_expired_at_liquido() {
    let h = LiquidoHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(brl("60.00"), cards::APPROVE))
        .await
        .unwrap();
    assert_eq!(
        hold.expires_at.unwrap() - hold.created_at.unwrap(),
        time::Duration::days(7)
    );
    h.control().clock.advance(Duration::from_secs(7 * 86_400));
    // A stored copy without its expiry passes the local check; Liquido refuses.
    let mut stale = hold.clone();
    stale.expires_at = None;
    let e = h
        .client
        .capture(CaptureRequest::new(stale))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }), "{e}");
    let seen = h.client.retrieve(&hold.reference()).await.unwrap();
    assert_eq!(seen.status, HoldStatus::Expired);
}

#[tokio::test]
async fn saved_card_is_held_by_card_id() {
    let h = LiquidoHarness::start().await;
    let hold = h
        .client
        .authorize(h.authorize_request(brl("10.00"), cards::APPROVE))
        .await
        .unwrap();
    // The simulator returns the card's id in transferDetails.card.cardId, as Liquido does.
    let (_, body) = h.sim.notification_for(&hold.provider_reference).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    let card_id = v["data"]["chargeDetails"]["transferDetails"]["card"]["cardId"]
        .as_str()
        .unwrap()
        .to_owned();
    let saved = h
        .client
        .authorize(
            AuthorizeRequest::new(brl("12.00"), PaymentMethod::SavedCard { id: card_id })
                .with_country("BR"),
        )
        .await
        .unwrap();
    assert_eq!(saved.status, HoldStatus::Authorized);
    assert_eq!(saved.card.unwrap().last4.as_deref(), Some("1111"));
    let e = h
        .client
        .authorize(
            AuthorizeRequest::new(
                brl("12.00"),
                PaymentMethod::SavedCard {
                    id: "sim-card-nope".into(),
                },
            )
            .with_country("BR"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }), "{e}");
}

/// Sends a raw request to the simulator with a fresh token.
async fn raw(
    h: &LiquidoHarness,
    method: Method,
    path: &str,
    body: Option<Value>,
    auth: bool,
) -> (u16, Value) {
    let t = test_transport();
    let token_resp = t
        .send(&h.client.build_token_request().unwrap())
        .await
        .unwrap();
    let token: Value = serde_json::from_slice(&token_resp.body).unwrap();
    let mut req = HttpRequest::new(
        method,
        format!("{}{path}", h.server.base_url()),
        Operation::Retrieve,
        "raw",
    );
    if auth {
        req = req
            .secret_header(
                "authorization",
                format!("Bearer {}", token["access_token"].as_str().unwrap()),
            )
            .secret_header("x-api-key", API_KEY);
    }
    req = match body {
        Some(b) => req.body("application/json", b.to_string()),
        None => req.header("content-type", "application/json"),
    };
    let resp = t.send(&req).await.unwrap();
    let v = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    (resp.status, v)
}

fn charge_body(key: &str, month: &str) -> Value {
    json!({
        "idempotencyKey": key, "amount": 1000, "currency": "BRL", "country": "BR",
        "paymentMethod": "CREDIT_CARD", "paymentFlow": "DIRECT", "capture": false,
        "card": {"cardHolderName": "Ana", "cardNumber": cards::APPROVE,
                 "expirationMonth": month, "expirationYear": "2030", "cvc": "123"}
    })
}

#[tokio::test]
async fn simulator_enforces_liquidos_rules() {
    let h = LiquidoHarness::start().await;
    let post = Method::Post;
    // Credentials.
    assert_eq!(
        raw(&h, Method::Get, "/v1/payments/charges/x", None, false)
            .await
            .0,
        401
    );
    // Body validation.
    let (s, v) = raw(
        &h,
        post,
        "/v1/payments/charges/card",
        Some(charge_body("r-1", "9")),
        true,
    )
    .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("expirationMonth must be two digits, 01 to 12"))
    );
    let mut bad_name = charge_body("r-1", "09");
    bad_name["payer"] = json!({"name": "José"});
    assert_eq!(
        raw(&h, post, "/v1/payments/charges/card", Some(bad_name), true)
            .await
            .0,
        400
    );
    let mut no_country = charge_body("r-1", "09");
    no_country.as_object_mut().unwrap().remove("country");
    assert_eq!(
        raw(
            &h,
            post,
            "/v1/payments/charges/card",
            Some(no_country),
            true
        )
        .await
        .0,
        400
    );
    // A hold; the same key again is the same charge.
    let (s, v) = raw(
        &h,
        post,
        "/v1/payments/charges/card",
        Some(charge_body("r-1", "09")),
        true,
    )
    .await;
    assert_eq!((s, v["transferStatus"].as_str()), (200, Some("AUTHORIZED")));
    let mut again = charge_body("r-1", "09");
    again["amount"] = json!(5);
    let (_, v2) = raw(&h, post, "/v1/payments/charges/card", Some(again), true).await;
    assert_eq!(
        v2["amount"],
        json!(1000),
        "the existing charge, not a new one"
    );
    // Capture ≤ held, once.
    let capture = "/v1/payments/charges/card/capture/r-1";
    assert_eq!(
        raw(&h, post, capture, Some(json!({"amount": 1001})), true)
            .await
            .0,
        400
    );
    let (s, v) = raw(&h, post, capture, Some(json!({"amount": 400})), true).await;
    assert_eq!(
        (s, v["transferStatus"].as_str(), v["finalAmount"].as_i64()),
        (200, Some("SETTLED"), Some(400))
    );
    assert_eq!(
        raw(&h, post, capture, None, true).await.0,
        400,
        "a second capture"
    );
    assert_eq!(
        raw(&h, post, "/v1/payments/charges/cancel/r-1", None, true)
            .await
            .0,
        400,
        "cancel after capture"
    );
    // Refunds: in the payment's currency, up to what was captured.
    let refund = |key: &str, amount: i64, currency: &str| json!({"idempotencyKey": key, "referenceId": "r-1", "amount": amount, "currency": currency, "country": "BR"});
    assert_eq!(
        raw(
            &h,
            post,
            "/v1/payments/charges/refund",
            Some(refund("rf-1", 401, "BRL")),
            true
        )
        .await
        .0,
        400
    );
    assert_eq!(
        raw(
            &h,
            post,
            "/v1/payments/charges/refund",
            Some(refund("rf-1", 100, "USD")),
            true
        )
        .await
        .0,
        400
    );
    let (s, v) = raw(
        &h,
        post,
        "/v1/payments/charges/refund",
        Some(refund("rf-1", 400, "BRL")),
        true,
    )
    .await;
    assert_eq!((s, v["transferStatus"].as_str()), (200, Some("SETTLED")));
    let (_, v) = raw(&h, Method::Get, "/v1/payments/charges/r-1", None, true).await;
    assert_eq!(v["transferStatus"].as_str(), Some("REFUNDED"));
    // Unknown charges.
    assert_eq!(
        raw(&h, Method::Get, "/v1/payments/charges/nope", None, true)
            .await
            .0,
        404
    );
    assert_eq!(
        raw(
            &h,
            post,
            "/v1/payments/charges/card/capture/nope",
            None,
            true
        )
        .await
        .0,
        404
    );
}
