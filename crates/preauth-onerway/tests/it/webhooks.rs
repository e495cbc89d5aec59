//! Notifications end to end: the simulator delivers a signed notification for each result
//! (AUTH, CAPTURE, VOID, REFUND, `REFUND_AUDIT`) to the request's `txnOrderMsg.notifyUrl`; a
//! local receiver (axum on loopback) verifies each with the client's `verify_webhook` and
//! answers Onerway's acknowledgement (the bare `transactionId`). A tampered body and a wrong
//! key are refused; a replayed delivery is recognised by `ReplayGuard`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use preauth_core::sim::Fault;
use preauth_core::{
    CancelRequest, CaptureRequest, Currency, Error, Hold, HoldStatus, Money, Notification,
    NotificationKind, PreauthProvider, RefundRequest, RefundStatus, ReplayGuard, WebhookRejection,
    WebhookRequest,
};
use preauth_onerway::Onerway;
use preauth_testkit::cards;
use preauth_testkit::harness::Harness;
use serde_json::Value;

use crate::common::OnerwayHarness;

/// One delivery as the merchant's endpoint received it, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    answer_status: u16,
    answer_body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn transaction_id(&self) -> String {
        self.json()["transactionId"].as_str().unwrap().to_owned()
    }

    fn verify(&self, client: &Onerway) -> preauth_core::Result<Notification> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        client.verify_webhook(&WebhookRequest::new(&headers, &self.body))
    }
}

#[derive(Clone)]
struct Receiver {
    client: Onerway,
    got: Arc<Mutex<Vec<Received>>>,
}

/// The merchant's endpoint: verify, then acknowledge the way Onerway expects (HTTP 200, the
/// bare `transactionId`); a delivery that does not verify gets a 401 and is not acted on.
async fn notify(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, answer) = match r.client.verify_webhook(&WebhookRequest::new(&refs, &body)) {
        Ok(n) => {
            let ack = r.client.webhook_ack(&n);
            (ack.status, ack.body)
        }
        Err(_) => (401, "signature does not verify".to_owned()),
    };
    r.got.lock().unwrap().push(Received {
        headers: headers.clone(),
        body: body.to_vec(),
        answer_status: status,
        answer_body: answer.clone(),
    });
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "text/plain")],
        answer,
    )
        .into_response()
}

struct Endpoint {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    async fn start(client: Onerway) -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/onerway/notify", post(notify))
            .with_state(Receiver {
                client,
                got: got.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/onerway/notify", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Endpoint { url, got, task }
    }

    /// Waits until `n` deliveries arrived in all (5 s at most), then returns them all.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} deliveries, got {}: {:?}",
                got.len(),
                got.iter()
                    .map(|r| String::from_utf8_lossy(&r.body).into_owned())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The delivery about transaction `id` (waiting for `n` deliveries first).
    async fn about(&self, n: usize, id: &str) -> Received {
        let got = self.wait_for(n).await;
        got.into_iter()
            .find(|r| r.transaction_id() == id)
            .unwrap_or_else(|| panic!("no delivery about {id}"))
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn eur(s: &str) -> Money {
    Money::parse_major(s, Currency::EUR).unwrap()
}

async fn hold(h: &OnerwayHarness, url: &str, amount: &str, card: &str) -> Hold {
    h.client
        .authorize(
            h.authorize_request(eur(amount), card)
                .with_notify_url(url.to_owned()),
        )
        .await
        .unwrap()
}

#[track_caller]
fn acknowledged(r: &Received) {
    assert_eq!(r.answer_status, 200, "{}", r.answer_body);
    assert_eq!(
        r.answer_body,
        r.transaction_id(),
        "Onerway's acknowledgement is the bare transactionId"
    );
}

#[tokio::test]
async fn every_result_is_delivered_signed_and_verified() {
    let h = OnerwayHarness::start().await;
    let ep = Endpoint::start(h.client.clone()).await;
    let guard = ReplayGuard::new(100);
    let mut seen = 0;

    // Hold → its AUTH notification.
    let a = hold(&h, &ep.url, "100.00", cards::APPROVE).await;
    seen += 1;
    let d = ep.about(seen, &a.provider_reference).await;
    acknowledged(&d);
    assert_eq!(d.json()["txnType"], "AUTH");
    assert!(
        d.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/json")
    );
    let n = d.verify(&h.client).unwrap();
    assert_eq!(n.kind, NotificationKind::Payment);
    assert_eq!(n.status, Some(HoldStatus::Authorized));
    assert_eq!(n.raw_status.as_deref(), Some("S"));
    assert_eq!(
        n.hold.provider_reference,
        Some(a.provider_reference.clone())
    );
    assert_eq!(
        n.hold.merchant_reference,
        Some(a.merchant_reference.clone())
    );
    assert_eq!(n.amount, Some(eur("100.00")));
    assert!(guard.first_delivery(&n));

    // Capture → a CAPTURE notification about the hold (originTransactionId), with its own id.
    let captured = h
        .client
        .capture(CaptureRequest::new(a.clone()))
        .await
        .unwrap();
    let capture_id = captured.capture_reference.clone().unwrap();
    seen += 1;
    let d = ep.about(seen, &capture_id).await;
    acknowledged(&d);
    assert_eq!(d.json()["txnType"], "CAPTURE");
    let n = d.verify(&h.client).unwrap();
    assert_eq!(n.status, Some(HoldStatus::Captured));
    assert_eq!(
        n.hold.provider_reference,
        Some(a.provider_reference.clone())
    );
    assert_eq!(
        n.hold.merchant_reference,
        Some(a.merchant_reference.clone())
    );
    assert_eq!(n.amount, Some(eur("100.00")));
    assert!(guard.first_delivery(&n));

    // A refund waits in audit (no notification), then is approved: a REFUND notification.
    let refund = h
        .client
        .refund(RefundRequest::new(captured.clone()).with_amount(eur("40.00")))
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Pending);
    assert!(h.sim.audit_refund(&refund.provider_reference, true));
    seen += 1;
    let d = ep.about(seen, &refund.provider_reference).await;
    acknowledged(&d);
    assert_eq!(d.json()["txnType"], "REFUND");
    let n = d.verify(&h.client).unwrap();
    assert_eq!(n.kind, NotificationKind::Refund);
    assert_eq!(n.raw_event, "TXN");
    assert_eq!(n.refund_status, Some(RefundStatus::Succeeded));
    assert_eq!(
        n.refund_reference.as_deref(),
        Some(refund.provider_reference.as_str())
    );
    assert_eq!(n.hold.provider_reference, Some(capture_id.clone()));
    assert_eq!(n.amount, Some(eur("40.00")));
    assert!(guard.first_delivery(&n));

    // A refund the audit refuses: REFUND_AUDIT, failed.
    let refused = h
        .client
        .refund(RefundRequest::new(captured).with_amount(eur("10.00")))
        .await
        .unwrap();
    assert!(h.sim.audit_refund(&refused.provider_reference, false));
    seen += 1;
    let d = ep.about(seen, &refused.provider_reference).await;
    acknowledged(&d);
    let n = d.verify(&h.client).unwrap();
    assert_eq!(n.raw_event, "REFUND_AUDIT");
    assert_eq!(n.refund_status, Some(RefundStatus::Failed));
    assert_eq!(n.amount, Some(eur("10.00")));
    assert!(guard.first_delivery(&n));

    // Another hold, cancelled: AUTH, then VOID about the hold.
    let b = hold(&h, &ep.url, "30.00", cards::APPROVE).await;
    seen += 1;
    ep.about(seen, &b.provider_reference).await;
    let cancelled = h
        .client
        .cancel(CancelRequest::new(b.clone()))
        .await
        .unwrap();
    assert_eq!(cancelled.status, HoldStatus::Cancelled);
    seen += 1;
    let got = ep.wait_for(seen).await;
    let d = got
        .iter()
        .find(|r| r.json()["txnType"] == "VOID")
        .expect("a VOID notification");
    acknowledged(d);
    let n = d.verify(&h.client).unwrap();
    assert_eq!(n.status, Some(HoldStatus::Cancelled));
    assert_eq!(
        n.hold.provider_reference,
        Some(b.provider_reference.clone())
    );
    assert_eq!(
        n.hold.merchant_reference,
        Some(b.merchant_reference.clone())
    );
    assert_eq!(n.amount, Some(eur("30.00")));
    assert!(guard.first_delivery(&n));

    // A declined hold is notified as failed.
    let e = h
        .client
        .authorize(
            h.authorize_request(eur("10.00"), cards::DECLINE)
                .with_notify_url(ep.url.clone()),
        )
        .await
        .unwrap_err();
    let Error::Declined {
        hold: Some(declined),
        ..
    } = e
    else {
        panic!("declined: {e}")
    };
    seen += 1;
    let d = ep.about(seen, &declined.provider_reference).await;
    let n = d.verify(&h.client).unwrap();
    assert_eq!(n.status, Some(HoldStatus::Declined));
    assert_eq!(n.raw_status.as_deref(), Some("F"));

    // 3-D Secure: nothing while the payer is challenged, the AUTH once they pass.
    let c = hold(&h, &ep.url, "120.00", cards::THREE_DS).await;
    assert_eq!(c.status, HoldStatus::RequiresAction);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(ep.wait_for(seen).await.len(), seen, "no notification at R");
    h.complete_three_ds(&c).await;
    seen += 1;
    let d = ep.about(seen, &c.provider_reference).await;
    let n = d.verify(&h.client).unwrap();
    assert_eq!(n.status, Some(HoldStatus::Authorized));
    assert_eq!(n.amount, Some(eur("120.00")));

    // Every delivery was acknowledged, each once: no notification was sent twice.
    let all = ep.wait_for(seen).await;
    assert_eq!(all.len(), seen);
    assert!(all.iter().all(|r| r.answer_status == 200));
}

#[tokio::test]
async fn a_wrong_key_a_tampered_body_and_a_replay_are_refused() {
    let h = OnerwayHarness::start().await;
    let ep = Endpoint::start(h.client.clone()).await;
    let guard = ReplayGuard::new(100);

    let good_hold = hold(&h, &ep.url, "50.00", cards::APPROVE).await;
    let good = ep.about(1, &good_hold.provider_reference).await;
    acknowledged(&good);
    let n = good.verify(&h.client).unwrap();
    assert!(guard.first_delivery(&n));

    // The next notification is signed with a wrong key: the endpoint refuses it.
    h.sim.control().faults.once(Fault::BadSignature);
    let bad_hold = hold(&h, &ep.url, "60.00", cards::APPROVE).await;
    let bad = ep.about(2, &bad_hold.provider_reference).await;
    assert_eq!(bad.answer_status, 401, "not acknowledged");
    match bad.verify(&h.client) {
        Err(Error::InvalidWebhook { reason, .. }) => {
            assert_eq!(reason, WebhookRejection::BadSignature);
        }
        other => panic!("expected a bad signature, got {other:?}"),
    }
    assert_eq!(
        h.sim.control().faults.injected().get("bad_signature"),
        Some(&1)
    );

    // A good delivery with one signed field changed: refused.
    for (field, value) in [
        ("orderAmount", Value::from("5000.00")),
        ("status", Value::from("F")),
        ("transactionId", Value::from("1")),
        ("notifyType", Value::from("CANCEL")),
    ] {
        let mut v = good.json();
        v[field] = value;
        let mut tampered = good.clone();
        tampered.body = serde_json::to_vec(&v).unwrap();
        match tampered.verify(&h.client) {
            Err(Error::InvalidWebhook { reason, .. }) => {
                assert_eq!(reason, WebhookRejection::BadSignature, "{field}");
            }
            other => panic!("{field}: expected a bad signature, got {other:?}"),
        }
    }
    // Raw bytes changed inside a value: refused too.
    let text = String::from_utf8(good.body.clone()).unwrap();
    let mut flipped = good.clone();
    flipped.body = text.replacen("50.00", "59.00", 1).into_bytes();
    assert!(flipped.verify(&h.client).is_err());

    // The same delivery again (Onerway retries; an attacker replays): it verifies, and the
    // guard says it was seen.
    let replay = good.verify(&h.client).unwrap();
    assert_eq!(replay.dedup_key, n.dedup_key);
    assert!(!guard.first_delivery(&replay), "a replay is a duplicate");
    // A later notification about the same hold (its capture) is not a duplicate.
    h.client
        .capture(CaptureRequest::new(good_hold.clone()))
        .await
        .unwrap();
    let got = ep.wait_for(3).await;
    let capture = got
        .iter()
        .find(|r| r.json()["txnType"] == "CAPTURE")
        .unwrap();
    let c = capture.verify(&h.client).unwrap();
    assert_eq!(
        c.hold.provider_reference,
        Some(good_hold.provider_reference)
    );
    assert!(guard.first_delivery(&c));
    assert!(!guard.first_delivery(&c));
}

/// Notifications go to loopback only, and only where the request asked for them: the
/// standard request's `https://merchant.example/notify` gets nothing (and no signature fault
/// is consumed for it).
#[tokio::test]
async fn no_notification_leaves_the_machine() {
    let h = OnerwayHarness::start().await;
    h.sim.control().faults.once(Fault::BadSignature);
    let hold = h
        .client
        .authorize(h.authorize_request(eur("10.00"), cards::APPROVE))
        .await
        .unwrap();
    assert_eq!(hold.status, HoldStatus::Authorized);
    assert_eq!(h.sim.control().faults.injected().get("bad_signature"), None);
    // The fault is still there for the next signature the simulator makes.
    let d = h.notification_for(&hold).unwrap();
    assert!(
        h.client
            .verify_webhook(&WebhookRequest::new(&d.header_refs(), &d.body))
            .is_err()
    );
}
