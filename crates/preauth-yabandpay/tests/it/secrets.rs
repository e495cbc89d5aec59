//! No secret (secret key, card number, CVC) appears in any Debug or Display output or log
//! line produced by the flows, errors included.

use std::sync::Arc;

use preauth_core::sim::Fault;
use preauth_core::{
    AuthorizeRequest, CaptureRequest, CardDetails, DecrementRequest, Error, HoldRef, PaymentMethod,
    PreauthProvider, SequentialKeys, WebhookRequest,
};
use preauth_testkit::logs::{assert_no_secrets, capture};
use preauth_testkit::{cards, test_transport};
use preauth_yabandpay::simulator::{SIM_SECRET_KEY, SIM_USER};
use preauth_yabandpay::{YabandPay, YabandPayConfig};

use crate::common::{SECRET, eur};
use crate::conformance::harness;

const CVC: &str = "8642";

fn card(number: &str) -> PaymentMethod {
    PaymentMethod::Card(CardDetails::new(number, 12, 2030, CVC, "Ana Silva").unwrap())
}

#[tokio::test]
async fn no_secret_in_debug_display_or_logs() {
    let logs = capture();
    let h = harness().await;
    let client = h
        .client
        .clone()
        .with_keys(Arc::new(SequentialKeys::new("secrets")));
    let mut seen: Vec<String> = Vec::new();
    let mut record = |what: &dyn std::fmt::Debug| seen.push(format!("{what:?}"));
    let mut errors: Vec<Error> = Vec::new();

    record(client.config());
    record(&client);
    let req = |n: &str| {
        AuthorizeRequest::new(eur("40.00"), card(n))
            .with_return_url("https://merchant.example/return")
            .with_notify_url("https://merchant.example/notify")
    };
    record(&req(cards::APPROVE));
    record(&client.build_authorize(&req(cards::APPROVE)).unwrap());

    let hold = client.authorize(req(cards::APPROVE)).await.unwrap();
    record(&hold);
    match client.authorize(req(cards::DECLINE)).await {
        Err(e) => errors.push(e),
        Ok(h) => panic!("{h:?}"),
    }
    let pending = client.authorize(req(cards::THREE_DS)).await.unwrap();
    record(&pending);
    let reduced = client
        .decrement(DecrementRequest::new(hold.clone(), eur("5.00")))
        .await
        .unwrap();
    record(&reduced);
    // Outcome unknown, then a protocol error on a read.
    h.sim.control().faults.once(Fault::ResetAfterEffect);
    errors.push(
        client
            .capture(CaptureRequest::new(reduced.clone()))
            .await
            .unwrap_err(),
    );
    h.sim.control().faults.once(Fault::HtmlBody);
    errors.push(client.retrieve(&hold.reference()).await.unwrap_err());
    // Rejected (second capture forced with a stale copy) and not found.
    errors.push(
        client
            .capture(CaptureRequest::new(reduced.clone()))
            .await
            .unwrap_err(),
    );
    errors.push(
        client
            .retrieve(&HoldRef::provider("nope"))
            .await
            .unwrap_err(),
    );
    // Wrong key: unauthenticated.
    let wrong =
        YabandPay::new(YabandPayConfig::new(SIM_USER, SECRET).with_base_url(h.server.base_url()))
            .unwrap()
            .with_transport(test_transport());
    errors.push(wrong.retrieve(&hold.reference()).await.unwrap_err());
    // Webhooks: a good one and a bad one.
    let (_, body) = h.sim.notification_for(&hold.provider_reference).unwrap();
    record(
        &client
            .verify_webhook(&WebhookRequest::new(&[], &body))
            .unwrap(),
    );
    errors.push(
        wrong
            .verify_webhook(&WebhookRequest::new(&[], &body))
            .unwrap_err(),
    );
    // Local refusals.
    errors.push(
        client
            .capture(CaptureRequest::new(pending.clone()))
            .await
            .unwrap_err(),
    );
    errors.push(CardDetails::new("4111111111111112", 1, 2030, CVC, "x").unwrap_err());

    assert!(errors.len() >= 8);
    for e in &errors {
        seen.push(format!("{e:?}"));
        seen.push(e.to_string());
    }
    let secrets = [
        SIM_SECRET_KEY,
        SECRET,
        cards::APPROVE,
        cards::DECLINE,
        cards::THREE_DS,
        "4111111111111112",
    ];
    for s in &seen {
        assert_no_secrets("formatted output", s, &secrets);
        assert_no_secrets("formatted output", s, &[CVC]);
    }
    assert_no_secrets("the captured logs", &logs.contents(), &secrets);
}
