//! No secret (the secret key, a card number, a CVC) appears in any Debug or Display output or
//! log line produced by the flows: approvals, a decline, 3-D Secure, decrement, capture,
//! refund, every fault kind on the request that carries the card, outcome-unknown, rejected,
//! protocol, unauthenticated and local errors, and notifications (good, forged, as JSON and as
//! form bodies).

use std::fmt::{Debug, Display};
use std::sync::Arc;
use std::time::Duration;

use preauth_core::sim::Fault;
use preauth_core::{
    AuthorizeRequest, CancelRequest, CaptureRequest, CardDetails, DecrementRequest, Error, HoldRef,
    IdempotencyKey, PaymentMethod, PreauthProvider, RefundRequest, SequentialKeys, WebhookRequest,
};
use preauth_testkit::harness::Harness;
use preauth_testkit::logs::{assert_no_secrets, capture};
use preauth_testkit::soak::all_faults;
use preauth_testkit::{cards, test_transport};
use preauth_yabandpay::simulator::{SIM_SECRET_KEY, SIM_USER};
use preauth_yabandpay::webhook::FORM_FIELD;
use preauth_yabandpay::{YabandPay, YabandPayConfig};

use crate::common::{SECRET, eur};
use crate::conformance::harness_with;
use crate::soak::soak_transport;

const CVC: &str = "8642";
const BAD_NUMBER: &str = "4111111111111112";

fn card(number: &str) -> PaymentMethod {
    PaymentMethod::Card(CardDetails::new(number, 12, 2030, CVC, "Ana Silva").unwrap())
}

/// Everything formatted during the flows.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn debug(&mut self, v: &dyn Debug) {
        self.0.push(format!("{v:?}"));
        self.0.push(format!("{v:#?}"));
    }
    fn both(&mut self, v: &(impl Debug + Display)) {
        self.debug(v);
        self.0.push(v.to_string());
    }
    fn error(&mut self, e: &Error) {
        self.both(e);
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            self.0.push(format!("{s} {s:?}"));
            source = s.source();
        }
    }
}

#[tokio::test]
async fn no_secret_in_debug_display_or_logs() {
    let logs = capture();
    let h = harness_with(soak_transport()).await;
    let client = h
        .client
        .clone()
        .with_keys(Arc::new(SequentialKeys::new("secrets")));
    let mut seen = Seen::default();
    let mut errors: Vec<Error> = Vec::new();
    let req = |n: &str| {
        AuthorizeRequest::new(eur("40.00"), card(n))
            .with_return_url("https://merchant.example/return")
            .with_notify_url("https://merchant.example/notify")
    };

    seen.debug(client.config());
    seen.debug(&client);
    seen.debug(&YabandPayConfig::new(SIM_USER, SIM_SECRET_KEY));
    seen.debug(&card(cards::APPROVE));
    seen.debug(&h.authorize_request(eur("40.00"), cards::APPROVE));
    let prepared = client.build_authorize(&req(cards::APPROVE)).unwrap();
    seen.debug(&prepared);
    seen.debug(&prepared.request);

    // Approve, decrement, partial capture, refund.
    let hold = client.authorize(req(cards::APPROVE)).await.unwrap();
    seen.debug(&hold);
    seen.both(&hold.reference());
    let dec = DecrementRequest::new(hold.clone(), eur("5.00"));
    seen.debug(&dec);
    let reduced = client.decrement(dec).await.unwrap();
    seen.debug(&reduced);
    seen.both(&reduced.authorized);
    let cap = CaptureRequest::new(reduced.clone()).with_amount(eur("20.00"));
    seen.debug(&cap);
    let captured = client.capture(cap).await.unwrap();
    seen.debug(&captured);
    let refund_req = RefundRequest::new(captured.clone()).with_amount(eur("5.00"));
    seen.debug(&refund_req);
    let refund = client.refund(refund_req).await.unwrap();
    seen.debug(&refund);
    seen.both(&refund.status);
    seen.debug(
        &client
            .retrieve_refund(&refund.provider_reference)
            .await
            .unwrap(),
    );

    // Decline, and 3-D Secure through to capture and cancel.
    match client.authorize(req(cards::DECLINE)).await {
        Err(e) => errors.push(e),
        Ok(h) => panic!("{h:?}"),
    }
    let pending = client.authorize(req(cards::THREE_DS)).await.unwrap();
    seen.debug(&pending);
    seen.debug(&pending.next_action);
    errors.push(
        client
            .capture(CaptureRequest::new(pending.clone()))
            .await
            .unwrap_err(),
    );
    h.complete_three_ds(&pending).await;
    let passed = client.retrieve(&pending.reference()).await.unwrap();
    seen.debug(&passed);
    let cancel = CancelRequest::new(passed.clone());
    seen.debug(&cancel);
    seen.debug(&client.cancel(cancel).await.unwrap());

    // Every fault kind on the request that carries the card, then on capture and query.
    for fault in all_faults(Duration::from_millis(400)) {
        h.control().faults.once(fault.clone());
        match client.authorize(req(cards::APPROVE)).await {
            Ok(h) => seen.debug(&h),
            Err(e) => errors.push(e),
        }
        let held = client.authorize(req(cards::APPROVE)).await.unwrap();
        h.control().faults.once(fault.clone());
        match client.capture(CaptureRequest::new(held.clone())).await {
            Ok(h) => seen.debug(&h),
            Err(e) => errors.push(e),
        }
        h.control().faults.once(fault);
        match client.retrieve(&held.reference()).await {
            Ok(h) => seen.debug(&h),
            Err(e) => errors.push(e),
        }
    }
    tokio::time::sleep(Duration::from_millis(450)).await;

    // Rejected: the same authorization key twice (-4118); a second capture from a stale copy.
    let key = IdempotencyKey::new("secrets-duplicate-key-00000001").unwrap();
    client
        .authorize(req(cards::APPROVE).with_idempotency_key(key.clone()))
        .await
        .unwrap();
    errors.push(
        client
            .authorize(req(cards::APPROVE).with_idempotency_key(key))
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .capture(CaptureRequest::new(reduced.clone()))
            .await
            .unwrap_err(),
    );
    // Not found, unsupported, unauthenticated.
    errors.push(
        client
            .retrieve(&HoldRef::provider("nope"))
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .retrieve(&HoldRef::merchant("merchant-ref-only"))
            .await
            .unwrap_err(),
    );
    let wrong = YabandPay::new(
        YabandPayConfig::new(SIM_USER, SECRET)
            .with_base_url(h.server.base_url())
            .with_notify_url("https://merchant.example/notify")
            .with_redirect_url("https://merchant.example/return"),
    )
    .unwrap()
    .with_transport(test_transport());
    seen.debug(&wrong);
    errors.push(wrong.retrieve(&hold.reference()).await.unwrap_err());
    errors.push(wrong.authorize(req(cards::APPROVE)).await.unwrap_err());

    // Notifications: JSON and form bodies, good and forged.
    let (_, body) = h.sim.notification_for(&hold.provider_reference).unwrap();
    let n = client
        .verify_webhook(&WebhookRequest::new(&[], &body))
        .unwrap();
    seen.debug(&n);
    seen.debug(&client.webhook_ack(&n));
    let form =
        serde_urlencoded::to_string([(FORM_FIELD, String::from_utf8(body.clone()).unwrap())])
            .unwrap();
    seen.debug(&WebhookRequest::new(&[], form.as_bytes()));
    seen.debug(
        &client
            .verify_webhook(&WebhookRequest::new(&[], form.as_bytes()))
            .unwrap(),
    );
    errors.push(
        wrong
            .verify_webhook(&WebhookRequest::new(&[], &body))
            .unwrap_err(),
    );
    h.control().faults.once(Fault::BadSignature);
    let (_, forged) = h.sim.notification_for(&hold.provider_reference).unwrap();
    errors.push(
        client
            .verify_webhook(&WebhookRequest::new(&[], &forged))
            .unwrap_err(),
    );
    errors.push(
        client
            .verify_webhook(&WebhookRequest::new(&[], b"<html>oops</html>"))
            .unwrap_err(),
    );

    // Local refusals.
    errors.push(
        client
            .capture(CaptureRequest::new(captured.clone()))
            .await
            .unwrap_err(),
    );
    errors.push(CardDetails::new(BAD_NUMBER, 1, 2030, CVC, "x").unwrap_err());
    errors.push(
        YabandPay::new(YabandPayConfig::new(SIM_USER, "").with_base_url("http://x.example"))
            .unwrap_err(),
    );

    // Every kind of error was produced.
    let kinds = |f: fn(&Error) -> bool| errors.iter().any(f);
    assert!(kinds(|e| matches!(e, Error::Declined { .. })));
    assert!(kinds(|e| matches!(e, Error::OutcomeUnknown { .. })));
    assert!(kinds(|e| matches!(e, Error::Rejected { .. })));
    assert!(kinds(|e| matches!(e, Error::Protocol { .. })));
    assert!(kinds(|e| matches!(e, Error::Unauthenticated { .. })));
    assert!(kinds(|e| matches!(e, Error::NotFound { .. })));
    assert!(kinds(|e| matches!(e, Error::Unsupported { .. })));
    assert!(kinds(|e| matches!(e, Error::InvalidWebhook { .. })));
    assert!(kinds(|e| matches!(e, Error::InvalidState { .. })));
    assert!(kinds(|e| matches!(e, Error::InvalidRequest { .. })));
    assert!(kinds(|e| matches!(e, Error::Config { .. })));
    for e in &errors {
        seen.error(e);
    }

    let secrets = [
        SIM_SECRET_KEY,
        SECRET,
        cards::APPROVE,
        cards::DECLINE,
        cards::THREE_DS,
        BAD_NUMBER,
    ];
    for s in &seen.0 {
        assert_no_secrets("formatted output", s, &secrets);
        assert_no_secrets("formatted output", s, &[CVC]);
    }
    let logged = logs.contents();
    assert!(
        logged.contains("preauth.http"),
        "the transport's spans were captured"
    );
    assert_no_secrets("the captured logs", &logged, &secrets);
    // A CVC is four digits, which ports and ids can contain: look for it as a value.
    assert_no_secrets(
        "the captured logs",
        &logged,
        &["\"8642\"", "=8642", ": 8642", "cvc"],
    );
}
