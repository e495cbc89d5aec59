//! No secret — client secret, API key, access token, card number, CVC — in any `Debug`,
//! `Display`, error or log line produced by the flows.

use preauth_core::{
    AuthorizeRequest, CaptureRequest, CardDetails, Currency, IdempotencyKey, Money, PaymentMethod,
    RefundRequest, WebhookRequest,
};
use preauth_liquido::simulator::{API_KEY, CLIENT_SECRET, cards};
use preauth_testkit::harness::Harness;
use preauth_testkit::logs;

use crate::harness::LiquidoHarness;
use crate::snapshots;

const CVC: &str = "8642";

fn brl(s: &str) -> Money {
    Money::parse_major(s, Currency::BRL).unwrap()
}

fn card_request(number: &str) -> AuthorizeRequest {
    AuthorizeRequest::new(
        brl("10.00"),
        PaymentMethod::Card(CardDetails::new(number, 12, 2030, CVC, "Ana Silva").unwrap()),
    )
    .with_country("BR")
    .with_return_url("https://merchant.example/return")
}

#[test]
fn debug_of_config_client_requests_and_errors_hides_secrets() {
    let c = snapshots::client();
    let secrets = [
        snapshots::CLIENT_SECRET,
        snapshots::API_KEY,
        cards::APPROVE,
        CVC,
    ];
    let req = card_request(cards::APPROVE);
    let key = IdempotencyKey::new("k-1").unwrap();
    let texts = [
        format!("{:?}", c.config()),
        format!("{c:?}"),
        format!("{req:?}"),
        format!("{:?}", c.build_authorize(&req, &key).unwrap()),
        format!("{:?}", c.build_token_request().unwrap()),
    ];
    for t in &texts {
        logs::assert_no_secrets("Debug output", t, &secrets);
    }
    // The client secret does appear in the token request's body, only there.
    let token_req = c.build_token_request().unwrap();
    assert!(
        std::str::from_utf8(token_req.body_bytes())
            .unwrap()
            .contains(snapshots::CLIENT_SECRET)
    );
}

/// Every flow of this binary logs into one buffer; after a flow with declines, 3-D Secure,
/// a refreshed token, refunds, faults and webhooks, no secret is in it, nor in any error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_leak_no_secret_into_logs_or_errors() {
    let buffer = logs::capture();
    let h = LiquidoHarness::start().await;
    let p = h.provider();
    let mut outputs = Vec::new();

    let hold = p.authorize(card_request(cards::APPROVE)).await.unwrap();
    outputs.push(format!("{hold:?}"));
    let declined = p.authorize(card_request(cards::DECLINE)).await.unwrap_err();
    outputs.push(format!("{declined} {declined:?}"));
    let three_ds = p.authorize(card_request(cards::THREE_DS)).await.unwrap();
    outputs.push(format!("{three_ds:?}"));
    let mut tokens = h.sim.issued_tokens();
    h.sim.revoke_tokens();
    let captured = p.capture(CaptureRequest::new(hold)).await.unwrap();
    let refund = p
        .refund(RefundRequest::new(captured.clone()).with_amount(brl("1.00")))
        .await
        .unwrap();
    outputs.push(format!("{refund:?}"));
    h.control().faults.once(preauth_core::sim::Fault::HtmlBody);
    let e = p.retrieve(&captured.reference()).await.unwrap_err();
    outputs.push(format!("{e} {e:?}"));
    let (headers, body) = h
        .sim
        .notification_for(&captured.provider_reference)
        .unwrap();
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let n = p
        .verify_webhook(&WebhookRequest::new(&refs, &body))
        .unwrap();
    outputs.push(format!("{n:?}"));
    let tampered = p
        .verify_webhook(&WebhookRequest::new(&refs, b"{}"))
        .unwrap_err();
    outputs.push(format!("{tampered} {tampered:?}"));
    outputs.push(format!("{:?}", h.client));
    outputs.push(format!("{:?}", h.sim));

    tokens.extend(h.sim.issued_tokens());
    assert_eq!(
        tokens.len(),
        2,
        "the first token and the one after the revocation"
    );
    let mut secrets: Vec<&str> = vec![
        CLIENT_SECRET,
        API_KEY,
        cards::APPROVE,
        cards::DECLINE,
        cards::THREE_DS,
    ];
    secrets.extend(tokens.iter().map(String::as_str));
    for o in &outputs {
        // The simulator's Debug holds the tokens it issued (it is the issuer), not the rest.
        let checked: Vec<&str> = if o.starts_with("Simulator") {
            vec![CLIENT_SECRET, API_KEY, cards::APPROVE]
        } else {
            secrets.clone()
        };
        logs::assert_no_secrets("an output", o, &checked);
        assert!(!o.contains(CVC), "{o}");
    }
    let logged = buffer.contents();
    assert!(logged.contains("preauth.http"), "the flows were logged");
    logs::assert_no_secrets("the logs", &logged, &secrets);
}
