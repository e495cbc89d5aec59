//! No `Debug` or `Display` of the config, the client, a request or an error carries the
//! secret key, the card number or the CVC.

use preauth_core::transport::HttpResponse;
use preauth_core::{Currency, Money, PreauthProvider};
use preauth_testkit::cards;
use preauth_testkit::harness::Harness;

use crate::common::{OnerwayHarness, TEST_SECRET, seed_client};
use crate::snapshots::seed_request;

const CARD: &str = "2221008123677736";
const CVC: &str = "789";

#[track_caller]
fn clean(what: &str, text: &str) {
    for secret in [TEST_SECRET, CARD, "sim0nerwaysecretkey", cards::APPROVE] {
        assert!(!text.contains(secret), "{what} leaks a secret: {text}");
    }
    assert!(
        !text.contains(&format!("\"{CVC}\"")),
        "{what} leaks the CVC: {text}"
    );
}

#[test]
fn offline_debug_outputs() {
    let (client, _) = seed_client();
    clean("client", &format!("{client:?}"));
    clean("config", &format!("{:?}", client.config()));
    let req = seed_request();
    clean("request", &format!("{req:?}"));
    let key = client.authorize_key(&req);
    let http = client.build_authorize(&req, &key).unwrap();
    clean("http request", &format!("{http:?}"));
    for body in [
        "",
        "<html>",
        "{\"respCode\":\"13002\",\"respMsg\":\"invalid card number\"}",
    ] {
        let e = client
            .parse_authorize(&req, &key, &HttpResponse::new(200, body))
            .unwrap_err();
        clean("error", &format!("{e:?} {e}"));
    }
}

#[tokio::test]
async fn errors_and_logs_of_whole_flows() {
    let logs = preauth_testkit::logs::capture();
    let h = OnerwayHarness::start().await;
    let wrong = h.client_with(|mut c| {
        c.secret_key = TEST_SECRET.to_owned().into();
        c
    });
    let amount = Money::parse_major("10.00", Currency::EUR).unwrap();
    for card in [cards::APPROVE, cards::DECLINE] {
        let e = wrong
            .authorize(h.authorize_request(amount, card))
            .await
            .unwrap_err();
        clean("sign error", &format!("{e:?} {e}"));
        let e = h
            .client
            .authorize(h.authorize_request(amount, cards::DECLINE))
            .await
            .unwrap_err();
        clean("decline", &format!("{e:?} {e}"));
    }
    let hold = h
        .client
        .authorize(h.authorize_request(amount, cards::APPROVE))
        .await
        .unwrap();
    h.client
        .capture(preauth_core::CaptureRequest::new(hold))
        .await
        .unwrap();
    clean("simulator", &format!("{:?}", h.sim));
    clean("client", &format!("{:?}", h.client));
    let logged = logs.contents();
    assert!(logged.contains("onerway"), "the flows were logged");
    preauth_testkit::logs::assert_no_secrets(
        "logs",
        &logged,
        &[
            TEST_SECRET,
            CARD,
            "sim0nerwaysecretkey",
            cards::APPROVE,
            cards::DECLINE,
        ],
    );
}

/// The CVC of these flows. Four digits can turn up anywhere in a log (a port, a latency), so
/// it is looked for the way it would leak: as a value (quoted, `= `, `: `).
const DISTINCT_CVC: &str = "9731";
const CVC_AS_VALUE: [&str; 4] = ["\"9731\"", "=9731", ": 9731", "cvv"];

/// Every flow the client has (hold, 3-D Secure, capture, void, refund, retrieve, webhooks)
/// and every kind of failure (decline, refusal, outcome unknown, protocol error, bad
/// signature), over HTTP with the tracing log captured: neither the log nor the `Debug` and
/// `Display` of any request, hold, config, client, notification or error carries a card
/// number, the CVC or a secret key.
#[tokio::test]
async fn every_flow_fault_and_error_is_free_of_secrets() {
    use preauth_core::sim::Fault;
    use preauth_core::{
        CancelRequest, CaptureRequest, CardDetails, PaymentMethod, RefundRequest, WebhookRequest,
    };
    use preauth_onerway::simulator::SIM_SECRET_KEY;

    let logs = preauth_testkit::logs::capture();
    let h = OnerwayHarness::start().await;
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, debug: String| texts.push((what.to_owned(), debug));
    let amount = Money::parse_major("10.00", Currency::EUR).unwrap();
    let request = |number: &str| {
        let mut req = h.authorize_request(amount, number);
        req.payment_method = PaymentMethod::Card(
            CardDetails::new(number, 12, 2030, DISTINCT_CVC, "Ana Silva").unwrap(),
        );
        req
    };

    keep("config", format!("{:?}", h.client.config()));
    keep("client", format!("{:?}", h.client));
    keep("simulator", format!("{:?}", h.sim));
    for card in [cards::APPROVE, cards::DECLINE, cards::THREE_DS, CARD] {
        let req = request(card);
        keep("request", format!("{req:?}"));
        let key = h.client.authorize_key(&req);
        let http = h.client.build_authorize(&req, &key).unwrap();
        keep("http request", format!("{http:?}"));
        match h.client.authorize(req).await {
            Ok(hold) => keep("hold", format!("{hold:?} {}", hold.reference())),
            Err(e) => keep("error", format!("{e:?} {e}")),
        }
    }
    // 3-D Secure through to the authorized hold.
    let challenged = h.client.authorize(request(cards::THREE_DS)).await.unwrap();
    keep("3ds hold", format!("{challenged:?}"));
    h.complete_three_ds(&challenged).await;
    let passed = h.client.retrieve(&challenged.reference()).await.unwrap();
    keep("3ds passed", format!("{passed:?}"));
    // Capture, refund, void, each with a fault on the way.
    let hold = h.client.authorize(request(cards::APPROVE)).await.unwrap();
    h.sim.control().faults.once(Fault::ResetAfterEffect);
    let e = h
        .client
        .capture(CaptureRequest::new(hold.clone()))
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown());
    keep("outcome unknown", format!("{e:?} {e}"));
    let captured = h.client.retrieve(&hold.reference()).await.unwrap();
    keep("captured", format!("{captured:?}"));
    let refund_req = RefundRequest::new(captured.clone());
    keep("refund request", format!("{refund_req:?}"));
    let refund = h.client.refund(refund_req).await.unwrap();
    keep("refund", format!("{refund:?}"));
    let other = h.client.authorize(request(cards::APPROVE)).await.unwrap();
    h.sim.control().faults.once(Fault::HtmlBody);
    let e = h
        .client
        .cancel(CancelRequest::new(other.clone()))
        .await
        .unwrap_err();
    keep("void unknown", format!("{e:?} {e}"));
    // A read that cannot be understood, a refusal, wrong credentials.
    h.sim.control().faults.once(Fault::TruncatedBody);
    let e = h.client.retrieve(&other.reference()).await.unwrap_err();
    assert!(matches!(e, preauth_core::Error::Protocol { .. }), "{e}");
    keep("protocol", format!("{e:?} {e}"));
    h.sim.control().faults.once(Fault::StatusAfterEffect(500));
    let e = h.client.authorize(request(CARD)).await.unwrap_err();
    keep("authorize unknown", format!("{e:?} {e}"));
    let e = h
        .client
        .capture(CaptureRequest::new(captured))
        .await
        .unwrap_err();
    keep("invalid state", format!("{e:?} {e}"));
    let wrong = h.client_with(|mut c| {
        c.secret_key = TEST_SECRET.to_owned().into();
        c
    });
    keep("wrong client", format!("{wrong:?}"));
    let e = wrong.authorize(request(CARD)).await.unwrap_err();
    keep("rejected", format!("{e:?} {e}"));
    // Notifications: a good one, a badly signed one.
    let d = h.notification_for(&hold).unwrap();
    let n = h
        .client
        .verify_webhook(&WebhookRequest::new(&d.header_refs(), &d.body))
        .unwrap();
    keep(
        "notification",
        format!("{n:?} {:?}", h.client.webhook_ack(&n)),
    );
    h.sim.control().faults.once(Fault::BadSignature);
    let d = h.notification_for(&hold).unwrap();
    let e = h
        .client
        .verify_webhook(&WebhookRequest::new(&d.header_refs(), &d.body))
        .unwrap_err();
    keep("bad signature", format!("{e:?} {e}"));

    let secrets = [
        TEST_SECRET,
        SIM_SECRET_KEY,
        CARD,
        cards::APPROVE,
        cards::DECLINE,
        cards::THREE_DS,
        CVC_AS_VALUE[0],
        CVC_AS_VALUE[1],
        CVC_AS_VALUE[2],
        CVC_AS_VALUE[3],
    ];
    for (what, text) in &texts {
        preauth_testkit::logs::assert_no_secrets(what, text, &secrets);
    }
    let logged = logs.contents();
    assert!(logged.contains("outcome_unknown"), "the faults were logged");
    preauth_testkit::logs::assert_no_secrets("logs", &logged, &secrets);
}
