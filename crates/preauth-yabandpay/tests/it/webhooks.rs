//! Notifications end to end: the simulator signs and sends one for every transition (authorized,
//! declined, decrement, paid, cancelled, refunded, and authorized after 3-D Secure) to the
//! request's notify URL, as JSON `{sign,data}` or as a `resultData=` form body; a receiver on
//! loopback collects them raw, and the client verifies and parses each one. Tampered bodies and
//! a wrong key are refused; a replayed delivery is recognised as a duplicate.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use preauth_core::sim::Fault;
use preauth_core::{
    CancelRequest, CaptureRequest, DecrementRequest, Error, HoldStatus, Money, Notification,
    NotificationKind, PreauthProvider, RefundRequest, RefundStatus, ReplayGuard, WebhookRejection,
    WebhookRequest,
};
use preauth_testkit::harness::Harness;
use preauth_testkit::{cards, test_transport};
use preauth_yabandpay::simulator::{NotifyFormat, SIM_USER};
use preauth_yabandpay::webhook::FORM_FIELD;
use preauth_yabandpay::{YabandPay, YabandPayConfig};

use crate::common::eur;
use crate::conformance::{YabandPayHarness, harness};

/// One delivery as received: headers (lower-case names) and the raw body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn content_type(&self) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map_or("", |(_, v)| v.as_str())
    }

    fn verify(&self, client: &YabandPay) -> preauth_core::Result<Notification> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        client.verify_webhook(&WebhookRequest::new(&headers, &self.body))
    }
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// A merchant's notify endpoint on `127.0.0.1:0`, answering `ok` as YabandPay expects.
struct Receiver {
    url: String,
    inbox: Inbox,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Receiver {
        async fn collect(
            State(inbox): State<Inbox>,
            headers: HeaderMap,
            body: Bytes,
        ) -> &'static str {
            let headers = headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            inbox.lock().unwrap().push(Received {
                headers,
                body: body.to_vec(),
            });
            preauth_yabandpay::webhook::ACK_BODY
        }
        let inbox: Inbox = Arc::default();
        let app = axum::Router::new()
            .route("/yabandpay/notify", post(collect))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/yabandpay/notify", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, inbox, task }
    }

    /// Waits until `n` deliveries arrived in all (5 s at most) and returns them.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.inbox.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {n} deliveries, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A client whose default notify URL (used by capture, decrement, refund) is the receiver.
fn client_for(h: &YabandPayHarness, notify_url: &str) -> YabandPay {
    YabandPay::new(
        h.sim
            .config(&h.server.base_url())
            .with_notify_url(notify_url),
    )
    .unwrap()
    .with_transport(test_transport())
    .with_clock(Arc::new(h.control().clock.clone()))
}

fn is_bad_signature(r: &preauth_core::Result<Notification>) -> bool {
    matches!(
        r,
        Err(Error::InvalidWebhook {
            reason: WebhookRejection::BadSignature,
            ..
        })
    )
}

#[tokio::test]
async fn every_transition_is_delivered_signed_and_verifies() {
    let h = harness().await;
    let rx = Receiver::start().await;
    let client = client_for(&h, &rx.url);
    let request = |amount: &str, card: &str| {
        h.authorize_request(eur(amount), card)
            .with_notify_url(rx.url.clone())
    };

    // 1. authorized (JSON).
    let held = client
        .authorize(request("100.00", cards::APPROVE))
        .await
        .unwrap();
    rx.wait_for(1).await;
    // 2. decrement: authorized again with what is held now (JSON).
    let reduced = client
        .decrement(DecrementRequest::new(held.clone(), eur("25.00")))
        .await
        .unwrap();
    rx.wait_for(2).await;
    // 3. paid, as a form body from here on.
    h.sim.set_notify_format(NotifyFormat::Form);
    let captured = client
        .capture(CaptureRequest::new(reduced.clone()).with_amount(eur("60.00")))
        .await
        .unwrap();
    rx.wait_for(3).await;
    // 4. refunded (form).
    let refund = client
        .refund(RefundRequest::new(captured.clone()).with_amount(eur("10.00")))
        .await
        .unwrap();
    rx.wait_for(4).await;
    // 5. cancelled (JSON again).
    h.sim.set_notify_format(NotifyFormat::Json);
    let other = client
        .authorize(request("30.00", cards::APPROVE))
        .await
        .unwrap();
    rx.wait_for(5).await;
    client
        .cancel(CancelRequest::new(other.clone()))
        .await
        .unwrap();
    rx.wait_for(6).await;
    // 6. declined.
    let declined = match client.authorize(request("20.00", cards::DECLINE)).await {
        Err(Error::Declined { hold: Some(d), .. }) => *d,
        other => panic!("{other:?}"),
    };
    rx.wait_for(7).await;
    // 7. 3-D Secure: nothing while pending, authorized once the payer passed.
    let pending = client
        .authorize(request("15.00", cards::THREE_DS))
        .await
        .unwrap();
    assert_eq!(pending.status, HoldStatus::RequiresAction);
    h.complete_three_ds(&pending).await;
    let all = rx.wait_for(8).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        rx.inbox.lock().unwrap().len(),
        8,
        "one delivery per transition"
    );

    // Both encodings were delivered.
    let json = all
        .iter()
        .filter(|d| d.content_type() == "application/json")
        .count();
    let form = all
        .iter()
        .filter(|d| d.content_type() == "application/x-www-form-urlencoded")
        .count();
    assert_eq!((json, form), (6, 2), "{all:?}");
    assert!(
        all.iter()
            .filter(|d| d.content_type().starts_with("application/x-www"))
            .all(|d| d.body.starts_with(format!("{FORM_FIELD}=").as_bytes()))
    );

    // Each verifies and parses into the notification of its transition.
    let notes: Vec<Notification> = all.iter().map(|d| d.verify(&client).unwrap()).collect();
    let find = |trade: &str, state: &str, amount: &str| -> Notification {
        notes
            .iter()
            .find(|n| {
                n.hold.provider_reference.as_deref() == Some(trade)
                    && n.raw_status.as_deref() == Some(state)
                    && n.amount == Some(eur(amount))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no {state} {amount} for {trade} in {notes:#?}"))
    };
    let trade = held.provider_reference.as_str();
    let n = find(trade, "authorized", "100");
    assert_eq!(n.kind, NotificationKind::Payment);
    assert_eq!(n.status, Some(HoldStatus::Authorized));
    assert_eq!(
        n.hold.merchant_reference.as_deref(),
        Some(held.merchant_reference.as_str())
    );
    let d = find(trade, "authorized", "75");
    assert_eq!(d.status, Some(HoldStatus::Authorized));
    assert_ne!(d.dedup_key, n.dedup_key, "a decrement is not a duplicate");
    let p = find(trade, "paid", "60");
    assert_eq!(p.status, Some(HoldStatus::Captured));
    let r = find(trade, "refunded", "10");
    assert_eq!(r.kind, NotificationKind::Refund);
    assert_eq!(r.refund_status, Some(RefundStatus::Succeeded));
    assert_eq!(
        r.refund_reference.as_deref(),
        Some(refund.provider_reference.as_str())
    );
    let c = find(&other.provider_reference, "cancelled", "30");
    assert_eq!(c.status, Some(HoldStatus::Cancelled));
    let x = find(&declined.provider_reference, "declined", "20");
    assert_eq!(x.status, Some(HoldStatus::Declined));
    let t = find(&pending.provider_reference, "authorized", "15");
    assert_eq!(t.status, Some(HoldStatus::Authorized));
    for n in &notes {
        let ack = client.webhook_ack(n);
        assert_eq!((ack.status, ack.body.as_str()), (200, "ok"));
    }

    // Replays: every delivery is new once, and a duplicate after that, whatever its encoding.
    let guard = ReplayGuard::new(64);
    for n in &notes {
        assert!(guard.first_delivery(n), "{}", n.dedup_key);
    }
    for d in &all {
        assert!(!guard.first_delivery(&d.verify(&client).unwrap()));
    }
    let as_form = serde_urlencoded::to_string([(
        FORM_FIELD,
        String::from_utf8(all[0].body.clone()).unwrap(),
    )])
    .unwrap();
    let again = client
        .verify_webhook(&WebhookRequest::new(&[], as_form.as_bytes()))
        .unwrap();
    assert!(
        !guard.first_delivery(&again),
        "the same notification as a form body is a duplicate"
    );
}

#[tokio::test]
async fn tampered_bodies_and_wrong_keys_are_refused() {
    let h = harness().await;
    let rx = Receiver::start().await;
    let client = client_for(&h, &rx.url);
    let held = client
        .authorize(
            h.authorize_request(eur("40.00"), cards::APPROVE)
                .with_notify_url(rx.url.clone()),
        )
        .await
        .unwrap();
    let good = rx.wait_for(1).await.remove(0);
    assert!(good.verify(&client).is_ok());

    // A tampered JSON body: the amount raised.
    let text = String::from_utf8(good.body.clone()).unwrap();
    assert!(text.contains("\"amount\":\"40\""), "{text}");
    let tampered = Received {
        headers: good.headers.clone(),
        body: text
            .replacen("\"amount\":\"40\"", "\"amount\":\"4000\"", 1)
            .into_bytes(),
    };
    assert!(is_bad_signature(&tampered.verify(&client)));
    // A tampered state.
    let tampered = Received {
        headers: good.headers.clone(),
        body: text.replacen("authorized", "paid", 1).into_bytes(),
    };
    assert!(is_bad_signature(&tampered.verify(&client)));

    // The simulator signs the next notification with a wrong key: a form body this time.
    h.sim.set_notify_format(NotifyFormat::Form);
    h.control().faults.once(Fault::BadSignature);
    client
        .capture(CaptureRequest::new(held.clone()))
        .await
        .unwrap();
    let forged = rx.wait_for(2).await.remove(1);
    assert_eq!(forged.content_type(), "application/x-www-form-urlencoded");
    assert!(is_bad_signature(&forged.verify(&client)));
    assert_eq!(h.control().faults.injected().get("bad_signature"), Some(&1));
    // A tampered form body (the state inside the URL-encoded JSON).
    let form = String::from_utf8(forged.body.clone()).unwrap();
    assert!(form.contains("paid"));
    // A client with another secret refuses a genuine delivery.
    let stranger = YabandPay::new(
        YabandPayConfig::new(SIM_USER, "another-secret-key").with_base_url(h.server.base_url()),
    )
    .unwrap();
    assert!(is_bad_signature(&good.verify(&stranger)));

    // The next one is signed right again.
    client
        .refund(RefundRequest::new({
            let mut c = held.clone();
            c.status = HoldStatus::Captured;
            c.captured = held.authorized;
            c.capture_count = 1;
            c
        }))
        .await
        .unwrap();
    let genuine = rx.wait_for(3).await.remove(2);
    let n = genuine.verify(&client).unwrap();
    assert_eq!(n.kind, NotificationKind::Refund);
    assert_eq!(
        n.amount,
        Some(Money::parse_major("40", eur("1").currency()).unwrap())
    );
    // Tampering with the form body's refund amount breaks it.
    let body = String::from_utf8(genuine.body.clone()).unwrap();
    let needle = "refund_amount%22%3A%2240%22";
    assert!(body.contains(needle), "{body}");
    let tampered = Received {
        headers: genuine.headers.clone(),
        body: body
            .replacen(needle, "refund_amount%22%3A%2241%22", 1)
            .into_bytes(),
    };
    assert!(is_bad_signature(&tampered.verify(&client)));
}
