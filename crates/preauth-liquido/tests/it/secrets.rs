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

/// Every kind of outcome a merchant can meet — approved, declined, 3-D Secure, rejected,
/// outcome unknown (a 500 after the effect, a timeout), protocol errors, refused credentials,
/// unavailable, webhooks delivered to a loopback receiver and refused — with the `Debug` and
/// `Display` of every request, hold, refund, notification, config, client and error: no card
/// number, CVC, client secret, API key or access token anywhere, nor in the logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_and_every_value_is_free_of_secrets() {
    use preauth_core::reconcile::{reconcile_authorize, reconcile_hold};
    use preauth_core::sim::Fault;
    use preauth_core::{CancelRequest, Error, PreauthProvider, SecretString};
    use preauth_liquido::Liquido;

    let buffer = logs::capture();
    let h = LiquidoHarness::start_with(crate::harness::fast_transport()).await;
    let p = h.provider();
    let mut out: Vec<String> = Vec::new();
    let push_err = |out: &mut Vec<String>, e: &Error| {
        out.push(format!("{e}"));
        out.push(format!("{e:?}"));
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            out.push(format!("{s} {s:?}"));
            src = s.source();
        }
    };
    let req = |number: &str, k: &str| {
        card_request(number)
            .with_idempotency_key(IdempotencyKey::new(k).unwrap())
            .with_payer(preauth_core::Payer::new("Ana", "Silva"))
    };

    // Approved, then captured after an unknown outcome (500 after the effect).
    let a = req(cards::APPROVE, "sec-approve");
    out.push(format!("{a:?}"));
    let hold = p.authorize(a).await.unwrap();
    out.push(format!("{hold:?} {} {}", hold.status, hold.authorized));
    let c = CaptureRequest::new(hold.clone()).with_amount(brl("6.00"));
    out.push(format!("{c:?}"));
    h.control()
        .faults
        .once_on("/capture/", Fault::StatusAfterEffect(500));
    let e = p.capture(c).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    push_err(&mut out, &e);
    let captured = reconcile_hold(p.as_ref(), &hold).await.unwrap();
    out.push(format!("{captured:?}"));

    // A refund, and its read-back.
    let r = RefundRequest::new(captured.clone()).with_amount(brl("1.00"));
    out.push(format!("{r:?}"));
    let refund = p.refund(r).await.unwrap();
    out.push(format!("{refund:?} {}", refund.status));

    // Declined.
    let e = p
        .authorize(req(cards::DECLINE, "sec-decline"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Declined { .. }), "{e}");
    push_err(&mut out, &e);

    // 3-D Secure: the redirect; a cancel Liquido rejects while the payer is challenged.
    let tds = p.authorize(req(cards::THREE_DS, "sec-3ds")).await.unwrap();
    out.push(format!("{tds:?}"));
    let cancel = CancelRequest::new(tds.clone());
    out.push(format!("{cancel:?}"));
    let e = p.cancel(cancel).await.unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }), "{e}");
    push_err(&mut out, &e);
    h.complete_three_ds(&tds).await;
    out.push(format!("{:?}", p.retrieve(&tds.reference()).await.unwrap()));

    // An authorize whose answer times out on every attempt, reconciled by the key.
    h.control()
        .faults
        .times(Fault::DelayAfterEffect(crate::harness::LONG_DELAY), 3);
    let e = p
        .authorize(req(cards::APPROVE, "sec-timeout"))
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    push_err(&mut out, &e);
    let found = reconcile_authorize(p.as_ref(), "sec-timeout")
        .await
        .unwrap();
    out.push(format!("{found:?}"));

    // Protocol errors: an HTML page on a read, a truncated answer on a cancel.
    h.control().faults.once(Fault::HtmlBody);
    let e = p.retrieve(&captured.reference()).await.unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e}");
    push_err(&mut out, &e);
    let other = p.authorize(req(cards::APPROVE, "sec-other")).await.unwrap();
    h.control().faults.once_on("/cancel/", Fault::TruncatedBody);
    let e = p.cancel(CancelRequest::new(other)).await.unwrap_err();
    push_err(&mut out, &e);

    // Unavailable, rate limited, invalid state (local).
    h.control().faults.times(Fault::StatusBeforeEffect(503), 3);
    let e = p.retrieve(&captured.reference()).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    push_err(&mut out, &e);
    h.control().faults.times(
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        3,
    );
    let e = p.retrieve(&captured.reference()).await.unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e}");
    push_err(&mut out, &e);
    let e = p
        .cancel(CancelRequest::new(captured.clone()))
        .await
        .unwrap_err();
    assert!(e.is_local(), "{e}");
    push_err(&mut out, &e);

    // Refused credentials, with a secret of their own.
    let mut wrong = h.sim.config(&h.server.base_url());
    wrong.client_secret = SecretString::from("wrong-secret-9b2f".to_owned());
    wrong.api_key = SecretString::from("wrong-api-key-71ce".to_owned());
    out.push(format!("{wrong:?}"));
    let refused = Liquido::new(wrong).unwrap();
    out.push(format!("{refused:?}"));
    let e = refused
        .authorize(req(cards::APPROVE, "sec-refused"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthenticated { .. }), "{e}");
    push_err(&mut out, &e);

    // Webhooks: verified, tampered, signed with a wrong key.
    let (headers, body) = h
        .sim
        .notification_for(&captured.provider_reference)
        .unwrap();
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let wr = WebhookRequest::new(&refs, &body);
    out.push(format!("{wr:?}"));
    let n = p.verify_webhook(&wr).unwrap();
    out.push(format!("{n:?} {:?}", p.webhook_ack(&n)));
    let e = p
        .verify_webhook(&WebhookRequest::new(&refs, b"{\"eventType\":1}"))
        .unwrap_err();
    push_err(&mut out, &e);
    h.control().faults.once(Fault::BadSignature);
    let (headers, body) = h
        .sim
        .notification_for(&captured.provider_reference)
        .unwrap();
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let e = p
        .verify_webhook(&WebhookRequest::new(&refs, &body))
        .unwrap_err();
    push_err(&mut out, &e);

    // The client, its config, a built request.
    out.push(format!("{:?} {:?}", h.client, h.client.config()));
    out.push(format!("{p:?} {:?}", p.capabilities()));
    let k = IdempotencyKey::new("sec-built").unwrap();
    out.push(format!(
        "{:?}",
        h.client
            .build_authorize(&req(cards::APPROVE, "sec-built"), &k)
            .unwrap()
    ));

    let tokens = h.sim.issued_tokens();
    assert!(!tokens.is_empty());
    let mut secrets: Vec<&str> = vec![
        CLIENT_SECRET,
        API_KEY,
        "wrong-secret-9b2f",
        "wrong-api-key-71ce",
        cards::APPROVE,
        cards::DECLINE,
        cards::THREE_DS,
    ];
    secrets.extend(tokens.iter().map(String::as_str));
    for o in &out {
        logs::assert_no_secrets("a formatted value", o, &secrets);
        // A 4-digit CVC could occur by chance in a port number or a time, so it is looked
        // for only in the formatted values, which carry neither.
        assert!(!o.contains(CVC), "{o}");
        assert!(!o.to_ascii_lowercase().contains("\"cvc\""), "{o}");
    }
    let logged = buffer.contents();
    assert!(logged.contains("sec-timeout"), "the flows were logged");
    logs::assert_no_secrets("the logs", &logged, &secrets);
    assert!(!logged.contains("\"cvc\""), "no card body in the logs");
    assert!(!logged.contains("cardNumber"), "no card body in the logs");
}
