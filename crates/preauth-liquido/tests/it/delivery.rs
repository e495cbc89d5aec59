//! Webhooks end to end: the simulator POSTs a signed notification to the request's
//! `callbackUrl` after each transition (through `preauth_core::sim::deliver_notification`), a
//! local receiver (axum on 127.0.0.1:0) collects the headers and raw bodies, and the client's
//! `verify_webhook` turns each into the right `Notification`. A tampered body, a wrong key, a
//! stale timestamp and a replayed delivery are each caught.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::post;
use preauth_core::sim::Fault;
use preauth_core::transport::{HttpRequest, Method};
use preauth_core::{
    CancelRequest, CaptureRequest, Currency, Error, HoldStatus, Money, Notification,
    NotificationKind, Operation, PreauthProvider, RefundRequest, RefundStatus, ReplayGuard,
    WebhookRejection, WebhookRequest,
};
use preauth_testkit::harness::{Harness, cards};
use preauth_testkit::test_transport;

use crate::harness::LiquidoHarness;

/// One delivery as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn verify(&self, p: &dyn PreauthProvider) -> preauth_core::Result<Notification> {
        let refs: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        p.verify_webhook(&WebhookRequest::new(&refs, &self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A merchant's webhook endpoint on loopback that keeps everything it receives and answers
/// the acknowledgement Liquido's own plugin answers.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn collect(
    State(got): State<Arc<Mutex<Vec<Received>>>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let headers = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    got.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
    });
    let ack = preauth_liquido::webhook::ack();
    (
        [(axum::http::header::CONTENT_TYPE, ack.content_type)],
        ack.body,
    )
}

impl Receiver {
    async fn start() -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/liquido/notify", post(collect))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/liquido/notify", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, got, task }
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    /// Waits (up to 5 s) for delivery number `n` (0-based) and returns it.
    async fn nth(&self, n: usize) -> Received {
        for _ in 0..500 {
            if let Some(r) = self.got.lock().unwrap().get(n) {
                return r.clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("delivery {n} did not arrive; {} arrived", self.count());
    }
}

fn brl(s: &str) -> Money {
    Money::parse_major(s, Currency::BRL).unwrap()
}

fn rejection(r: preauth_core::Result<Notification>) -> WebhookRejection {
    match r {
        Err(Error::InvalidWebhook { reason, .. }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_transition_is_delivered_signed_to_the_callback_url() {
    let rx = Receiver::start().await;
    let h = LiquidoHarness::start().await;
    let p = h.provider();
    let guard = ReplayGuard::new(100);
    let request = |major: &str, card: &str| {
        h.authorize_request(brl(major), card)
            .with_notify_url(rx.url.as_str())
    };
    let mut n = 0;

    // Authorized: CHARGE_SUCCEEDED with transferStatus AUTHORIZED.
    let hold = p
        .authorize(request("100.00", cards::APPROVE))
        .await
        .unwrap();
    let d = rx.nth(n).await;
    n += 1;
    assert!(
        d.header("liquido-signature")
            .is_some_and(|s| s.starts_with("algorithm=HmacSHA256,timestamp=")),
        "{d:?}"
    );
    assert_eq!(d.header("content-type"), Some("application/json"));
    let note = d.verify(p.as_ref()).unwrap();
    assert_eq!(note.kind, NotificationKind::Payment);
    assert_eq!(note.raw_event, "CHARGE_SUCCEEDED");
    assert_eq!(
        note.hold.provider_reference.as_deref(),
        Some(hold.provider_reference.as_str())
    );
    assert_eq!(
        note.hold.merchant_reference.as_deref(),
        Some(hold.merchant_reference.as_str())
    );
    assert_eq!(note.status, Some(HoldStatus::Authorized));
    assert_eq!(note.raw_status.as_deref(), Some("AUTHORIZED"));
    assert_eq!(note.amount, Some(brl("100.00")));
    assert!(guard.first_delivery(&note));

    // Captured in part: SETTLED, the amount is what was captured.
    let captured = p
        .capture(CaptureRequest::new(hold.clone()).with_amount(brl("60.00")))
        .await
        .unwrap();
    let capture_delivery = rx.nth(n).await;
    n += 1;
    let note = capture_delivery.verify(p.as_ref()).unwrap();
    assert_eq!(note.status, Some(HoldStatus::Captured));
    assert_eq!(note.raw_status.as_deref(), Some("SETTLED"));
    assert_eq!(note.amount, Some(brl("60.00")));
    assert_eq!(
        note.hold.provider_reference.as_deref(),
        Some(hold.provider_reference.as_str())
    );
    assert!(guard.first_delivery(&note));

    // Refunded in part: CHARGE_REFUND_SUCCEEDED names the refund and the payment.
    let refund = p
        .refund(RefundRequest::new(captured).with_amount(brl("20.00")))
        .await
        .unwrap();
    let note = rx.nth(n).await.verify(p.as_ref()).unwrap();
    n += 1;
    assert_eq!(note.kind, NotificationKind::Refund);
    assert_eq!(note.raw_event, "CHARGE_REFUND_SUCCEEDED");
    assert_eq!(
        note.refund_reference.as_deref(),
        Some(refund.provider_reference.as_str())
    );
    assert_eq!(
        note.hold.provider_reference.as_deref(),
        Some(hold.provider_reference.as_str())
    );
    assert_eq!(note.amount, Some(brl("20.00")));
    assert_eq!(
        note.status, None,
        "a partial refund leaves the hold captured"
    );
    assert_eq!(note.raw_status.as_deref(), Some("SETTLED"));
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert!(guard.first_delivery(&note));

    // Cancelled: CHARGE_FAILED with transferStatus CANCELLED.
    let other = p.authorize(request("80.00", cards::APPROVE)).await.unwrap();
    let note = rx.nth(n).await.verify(p.as_ref()).unwrap();
    n += 1;
    assert_eq!(note.status, Some(HoldStatus::Authorized));
    assert!(guard.first_delivery(&note));
    p.cancel(CancelRequest::new(other.clone())).await.unwrap();
    let note = rx.nth(n).await.verify(p.as_ref()).unwrap();
    n += 1;
    assert_eq!(note.raw_event, "CHARGE_FAILED");
    assert_eq!(note.status, Some(HoldStatus::Cancelled));
    assert_eq!(note.amount, Some(brl("80.00")));
    assert_eq!(
        note.hold.provider_reference.as_deref(),
        Some(other.provider_reference.as_str())
    );
    assert!(guard.first_delivery(&note));

    // Declined: CHARGE_FAILED with transferStatus FAILED.
    let e = p
        .authorize(request("10.00", cards::DECLINE))
        .await
        .unwrap_err();
    let Error::Declined {
        hold: Some(declined),
        ..
    } = e
    else {
        panic!("expected a decline, got {e}")
    };
    let note = rx.nth(n).await.verify(p.as_ref()).unwrap();
    n += 1;
    assert_eq!(note.raw_event, "CHARGE_FAILED");
    assert_eq!(note.status, Some(HoldStatus::Declined));
    assert_eq!(
        note.hold.provider_reference.as_deref(),
        Some(declined.provider_reference.as_str())
    );
    assert!(guard.first_delivery(&note));

    // 3-D Secure: nothing while the payer is challenged; authorized once they pass.
    let tds = p
        .authorize(request("30.00", cards::THREE_DS))
        .await
        .unwrap();
    assert_eq!(tds.status, HoldStatus::RequiresAction);
    h.complete_three_ds(&tds).await;
    let note = rx.nth(n).await.verify(p.as_ref()).unwrap();
    n += 1;
    assert_eq!(note.status, Some(HoldStatus::Authorized));
    assert_eq!(
        note.hold.provider_reference.as_deref(),
        Some(tds.provider_reference.as_str())
    );
    assert!(guard.first_delivery(&note));

    // An authorize re-sent with its key changes nothing, so nothing is delivered for it.
    let again = p
        .authorize(request("80.00", cards::APPROVE).with_idempotency_key(
            preauth_core::IdempotencyKey::new(other.merchant_reference.clone()).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(again.status, HoldStatus::Cancelled);

    // A wrong key (the simulator signs the next notification with another secret).
    h.control().faults.once(Fault::BadSignature);
    let tds = p.retrieve(&tds.reference()).await.unwrap();
    p.capture(CaptureRequest::new(tds.clone())).await.unwrap();
    let bad = rx.nth(n).await;
    n += 1;
    assert_eq!(
        rejection(bad.verify(p.as_ref())),
        WebhookRejection::BadSignature
    );
    assert_eq!(h.control().faults.injected().get("bad_signature"), Some(&1));

    // A tampered body: the capture's delivery with another amount.
    let mut tampered = capture_delivery.clone();
    tampered.body = String::from_utf8(tampered.body)
        .unwrap()
        .replace("\"finalAmount\":6000", "\"finalAmount\":1")
        .into_bytes();
    assert_ne!(tampered.body, capture_delivery.body);
    assert_eq!(
        rejection(tampered.verify(p.as_ref())),
        WebhookRejection::BadSignature
    );

    // A replayed delivery: the capture's notification POSTed to the receiver once more,
    // byte for byte. It still verifies (it is genuine and fresh) and the guard knows it.
    let mut replay = HttpRequest::new(Method::Post, rx.url.as_str(), Operation::Notify, "replay")
        .body("application/json", capture_delivery.body.clone());
    replay = replay.header(
        "liquido-signature",
        capture_delivery.header("liquido-signature").unwrap(),
    );
    let resp = test_transport().send(&replay).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(&resp.body[..], br#"[{"status":200,"message":"received"}]"#);
    let replayed = rx.nth(n).await;
    n += 1;
    assert_eq!(replayed.body, capture_delivery.body);
    let note = replayed.verify(p.as_ref()).unwrap();
    assert!(
        !guard.first_delivery(&note),
        "the replayed delivery is a duplicate"
    );

    // Liquido delivering the same notification again (its retry): signed anew, the same
    // dedup key, a duplicate for the guard.
    assert!(h.sim.deliver_notification(&hold.provider_reference));
    let retried = rx.nth(n).await;
    n += 1;
    let note = retried.verify(p.as_ref()).unwrap();
    assert_eq!(note.status, Some(HoldStatus::Captured));
    assert!(
        !guard.first_delivery(&note),
        "a retried delivery is a duplicate"
    );

    // A stale timestamp: past the 300 s tolerance by the injected clock, the same genuine
    // delivery is refused.
    h.control().clock.advance(Duration::from_secs(301));
    assert_eq!(
        rejection(capture_delivery.verify(p.as_ref())),
        WebhookRejection::StaleTimestamp
    );
    // …while a notification signed now verifies.
    let (headers, body) = h.sim.notification_for(&other.provider_reference).unwrap();
    let fresh = Received { headers, body };
    assert_eq!(
        fresh.verify(p.as_ref()).unwrap().status,
        Some(HoldStatus::Cancelled)
    );

    // Every delivery the simulator started arrived, and no more.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rx.count(), n);
    assert_eq!(h.sim.deliveries() + 1, n as u64, "plus the test's replay");
}

#[tokio::test]
async fn nothing_is_sent_off_loopback_or_without_a_callback_url() {
    let h = LiquidoHarness::start().await;
    let p = h.provider();
    // The standard request notifies https://merchant.example/notify: never contacted.
    let hold = p
        .authorize(h.authorize_request(brl("10.00"), cards::APPROVE))
        .await
        .unwrap();
    p.capture(CaptureRequest::new(hold)).await.unwrap();
    let mut req = h.authorize_request(brl("10.00"), cards::APPROVE);
    req.notify_url = None;
    p.authorize(req).await.unwrap();
    assert_eq!(h.sim.deliveries(), 0);
    // A BadSignature fault is kept for a notification that is delivered or asked for.
    h.control().faults.once(Fault::BadSignature);
    let hold = p
        .authorize(h.authorize_request(brl("10.00"), cards::APPROVE))
        .await
        .unwrap();
    let (headers, body) = h.sim.notification_for(&hold.provider_reference).unwrap();
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        rejection(p.verify_webhook(&WebhookRequest::new(&refs, &body))),
        WebhookRejection::BadSignature
    );
}
